//! Daylight saving as a Kubernetes CronJob sees it: a skipped civil time never fires, a
//! repeated one fires in both halves, and durations are elapsed time.

use super::tests::{calendar, open, ts, window};
use super::*;

const NY: Option<&str> = Some("America/New_York");
const LONDON: Option<&str> = Some("Europe/London");

#[test]
fn new_york_spring_forward_skips_the_missing_half_hour() {
    // 2027-03-14: 02:00 EST becomes 03:00 EDT, so 02:30 does not happen that day.
    let c = calendar(&[window("30 2 * * *", "10m", NY)], &[]);
    assert!(open(&c, "2027-03-13T02:35:00-05:00"));
    let o = joint(&[&c], ts("2027-03-14T01:00:00-05:00"));
    assert_eq!(
        o.next_open,
        Some(ts("2027-03-15T02:30:00-04:00")),
        "not moved to 03:00"
    );
    assert!(!open(&c, "2027-03-14T03:05:00-04:00"));
}

#[test]
fn new_york_spring_forward_duration_is_elapsed_time() {
    // 01:00 EST plus two hours of elapsed time is 04:00 EDT on the wall clock.
    let c = calendar(&[window("0 1 * * *", "2h", NY)], &[]);
    assert!(open(&c, "2027-03-14T01:00:00-05:00"));
    assert!(open(&c, "2027-03-14T03:59:00-04:00"));
    assert!(!open(&c, "2027-03-14T04:00:00-04:00"));
    let o = joint(&[&c], ts("2027-03-14T01:30:00-05:00"));
    assert_eq!(o.closes_at, Some(ts("2027-03-14T04:00:00-04:00")));
}

#[test]
fn new_york_fall_back_fires_in_both_halves() {
    // 2027-11-07: 02:00 EDT becomes 01:00 EST, so 01:00-01:59 happens twice.
    let c = calendar(&[window("30 1 * * *", "10m", NY)], &[]);
    assert!(open(&c, "2027-11-07T01:35:00-04:00"));
    assert!(!open(&c, "2027-11-07T01:45:00-04:00"));
    assert!(open(&c, "2027-11-07T01:35:00-05:00"));
    let o = joint(&[&c], ts("2027-11-07T01:45:00-04:00"));
    assert_eq!(o.next_open, Some(ts("2027-11-07T01:30:00-05:00")));
    assert_eq!(
        next_transition(&[&c], ts("2027-11-07T01:40:00-04:00")),
        Some(ts("2027-11-07T01:30:00-05:00"))
    );
    // A window over the repeated hour lasts its elapsed duration from each firing.
    let c = calendar(&[window("0 1 * * *", "90m", NY)], &[]);
    let o = joint(&[&c], ts("2027-11-07T01:10:00-04:00"));
    assert_eq!(
        o.closes_at,
        Some(ts("2027-11-07T02:30:00-05:00")),
        "from 01:00 EST"
    );
}

#[test]
fn london_spring_forward_and_fall_back() {
    // 2027-03-28: 01:00 GMT becomes 02:00 BST; 2027-10-31: 02:00 BST becomes 01:00 GMT.
    let c = calendar(&[window("30 1 * * *", "10m", LONDON)], &[]);
    assert!(open(&c, "2027-03-27T01:35:00Z"));
    let o = joint(&[&c], ts("2027-03-28T00:00:00Z"));
    assert_eq!(o.next_open, Some(ts("2027-03-29T01:30:00+01:00")));
    assert!(open(&c, "2027-10-31T01:35:00+01:00"));
    assert!(open(&c, "2027-10-31T01:35:00+00:00"));
    assert!(!open(&c, "2027-10-31T01:45:00+01:00"));
    // In summer the window is at 01:30 BST, which is 00:30 UTC.
    assert!(open(&c, "2027-07-01T00:35:00Z"));
}

#[test]
fn lord_howe_moves_by_half_an_hour() {
    let lh = Some("Australia/Lord_Howe");
    // 2027-04-04: 02:00 +11 becomes 01:30 +10:30, so 01:30-01:59 repeats.
    let c = calendar(&[window("45 1 * * *", "5m", lh)], &[]);
    assert!(open(&c, "2027-04-04T01:46:00+11:00"));
    assert!(open(&c, "2027-04-04T01:46:00+10:30"));
    // 2027-10-03: 02:00 +10:30 becomes 02:30 +11, so 02:15 does not happen.
    let c = calendar(&[window("15 2 * * *", "5m", lh)], &[]);
    let o = joint(&[&c], ts("2027-10-03T00:00:00+10:30"));
    assert_eq!(o.next_open, Some(ts("2027-10-04T02:15:00+11:00")));
}

#[test]
fn shanghai_fires_every_24_hours_all_year() {
    let c = calendar(&[window("0 3 * * *", "1h", Some("Asia/Shanghai"))], &[]);
    let w = &c.windows[0];
    let end = ts("2028-01-01T00:00:00+08:00");
    let mut at = ts("2027-01-01T00:00:00+08:00");
    let mut last: Option<Timestamp> = None;
    let mut count = 0;
    while let Some(s) = w.next_firing(at, end) {
        if let Some(prev) = last {
            assert_eq!(s.duration_since(prev), SignedDuration::from_hours(24), "{s}");
        }
        assert_eq!(s.to_zoned(w.zone.clone()).hour(), 3);
        last = Some(s);
        at = s.checked_add(SignedDuration::from_secs(1)).unwrap();
        count += 1;
    }
    assert_eq!(count, 365);
}

#[test]
fn a_zone_is_taken_from_the_bundled_database() {
    // Same instant, different zones: Sunday 02:00 in Shanghai is Saturday 18:00 UTC.
    let c = calendar(&[window("0 2 * * SUN", "1h", Some("Asia/Shanghai"))], &[]);
    assert!(open(&c, "2027-01-02T18:30:00Z"));
    assert!(!open(&c, "2027-01-03T02:30:00Z"));
}
