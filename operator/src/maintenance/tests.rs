//! Hand cases: midnight and month ends, exclusions, joint calendars, invalid input and
//! transitions. DST cases are in `tests_dst.rs`, the property test in `tests_prop.rs`.

use super::*;

pub(super) fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

pub(super) fn window(schedule: &str, duration: &str, zone: Option<&str>) -> MaintenanceWindow {
    MaintenanceWindow {
        schedule: schedule.into(),
        duration: duration.into(),
        time_zone: zone.map(Into::into),
    }
}

pub(super) fn exclusion(start: &str, end: &str, reason: &str) -> MaintenanceExclusion {
    MaintenanceExclusion {
        start: start.into(),
        end: end.into(),
        reason: reason.into(),
    }
}

/// A valid calendar; panics with the problems otherwise.
pub(super) fn calendar(windows: &[MaintenanceWindow], exclusions: &[MaintenanceExclusion]) -> Calendar {
    let (c, problems) = Calendar::new(windows, exclusions);
    assert!(problems.is_empty(), "{problems:?}");
    c
}

pub(super) fn open(c: &Calendar, at: &str) -> bool {
    joint(&[c], ts(at)).open
}

#[test]
fn an_empty_calendar_is_always_open_and_never_closes() {
    let c = Calendar::always_open();
    assert!(c.is_always_open() && !c.invalid());
    let o = joint(&[&c], ts("2027-01-01T00:00:00Z"));
    assert_eq!(
        o,
        Openness {
            open: true,
            frozen: None,
            next_open: None,
            closes_at: None
        }
    );
    assert_eq!(next_transition(&[&c], ts("2027-01-01T00:00:00Z")), None);
    assert!(joint(&[], ts("2027-01-01T00:00:00Z")).open);
}

#[test]
fn a_window_opens_at_its_firing_and_closes_after_its_duration() {
    let c = calendar(&[window("0 2 * * SUN", "2h", None)], &[]);
    // 2027-01-03 is a Sunday.
    assert!(!open(&c, "2027-01-03T01:59:59Z"));
    assert!(open(&c, "2027-01-03T02:00:00Z"));
    assert!(open(&c, "2027-01-03T03:59:59.999Z"));
    assert!(!open(&c, "2027-01-03T04:00:00Z"));
    let o = joint(&[&c], ts("2027-01-03T03:00:00Z"));
    assert_eq!(o.closes_at, Some(ts("2027-01-03T04:00:00Z")));
    let o = joint(&[&c], ts("2027-01-03T04:00:00Z"));
    assert_eq!(o.next_open, Some(ts("2027-01-10T02:00:00Z")));
    assert_eq!(o.closes_at, None);
}

#[test]
fn a_window_runs_across_midnight_and_month_ends() {
    let c = calendar(&[window("0 23 * * *", "3h", None)], &[]);
    assert!(open(&c, "2027-05-02T01:30:00Z"));
    assert!(!open(&c, "2027-05-02T02:00:00Z"));
    let c = calendar(&[window("0 22 31 * *", "4h", None)], &[]);
    assert!(open(&c, "2027-02-01T01:00:00Z"), "from 22:00 on 31 January");
    // February has no 31st, so 1 March is shut; the next firing is 31 March.
    assert!(!open(&c, "2027-03-01T01:00:00Z"));
    let o = joint(&[&c], ts("2027-03-01T01:00:00Z"));
    assert_eq!(o.next_open, Some(ts("2027-03-31T22:00:00Z")));
    // April has 30 days: after 31 March the next is 31 May.
    let o = joint(&[&c], ts("2027-04-01T03:00:00Z"));
    assert_eq!(o.next_open, Some(ts("2027-05-31T22:00:00Z")));
}

#[test]
fn feb_29_fires_only_in_leap_years_and_within_the_horizon() {
    let c = calendar(&[window("0 0 29 2 *", "1h", None)], &[]);
    let o = joint(&[&c], ts("2027-06-01T00:00:00Z"));
    assert_eq!(o.next_open, Some(ts("2028-02-29T00:00:00Z")));
    // From March 2028 the next Feb 29 (2032) is beyond the horizon.
    let o = joint(&[&c], ts("2028-03-01T00:00:00Z"));
    assert_eq!(o.next_open, None);
    assert!(open(&c, "2028-02-29T00:30:00Z"));
}

#[test]
fn day_fields_or_when_both_restricted_and_and_when_one_is_a_star() {
    // 1st of the month or a Monday: 2027-03-01 is a Monday, 2027-03-08 a Monday,
    // 2027-04-01 a Thursday.
    let either = calendar(&[window("0 0 1 * MON", "1m", None)], &[]);
    assert!(open(&either, "2027-03-08T00:00:00Z"));
    assert!(open(&either, "2027-04-01T00:00:00Z"));
    assert!(!open(&either, "2027-03-09T00:00:00Z"));
    // `*/2` starts with a star, so CronJob requires both: odd days that are Mondays.
    let both = calendar(&[window("0 0 */2 * MON", "1m", None)], &[]);
    assert!(open(&both, "2027-03-01T00:00:00Z"));
    assert!(!open(&both, "2027-03-08T00:00:00Z"), "Monday but an even day");
    assert!(!open(&both, "2027-03-03T00:00:00Z"), "odd day but a Wednesday");
    // 7 is Sunday as well as 0; `?` is a star in a day field; names are case-free.
    let sunday = calendar(&[window("0 0 ? jan 7", "1m", None)], &[]);
    assert!(open(&sunday, "2027-01-03T00:00:00Z"));
    assert!(!open(&sunday, "2027-01-04T00:00:00Z"));
}

#[test]
fn macros_expand_as_cronjob_does() {
    let c = calendar(&[window("@weekly", "1h", None)], &[]);
    assert!(open(&c, "2027-01-03T00:30:00Z"), "Sunday midnight");
    let c = calendar(&[window("@midnight", "1h", None)], &[]);
    assert!(open(&c, "2027-01-05T00:30:00Z"));
    let c = calendar(&[window("@hourly", "10m", None)], &[]);
    assert!(open(&c, "2027-01-05T13:05:00Z"));
    assert!(!open(&c, "2027-01-05T13:15:00Z"));
    // `5/15` is 5 to the end of the range, every 15 minutes, as CronJob reads it.
    let c = calendar(&[window("5/15 * * * *", "1m", None)], &[]);
    assert!(open(&c, "2027-01-05T13:50:00Z"));
    assert!(!open(&c, "2027-01-05T13:00:00Z"));
}

#[test]
fn an_exclusion_shuts_the_window_and_says_why() {
    let c = calendar(
        &[window("0 0 * * *", "6h", None)],
        &[exclusion(
            "2027-04-01T02:00:00Z",
            "2027-04-01T04:00:00Z",
            "budget close",
        )],
    );
    let o = joint(&[&c], ts("2027-04-01T03:00:00Z"));
    assert!(!o.open);
    assert_eq!(o.frozen.as_deref(), Some("budget close"));
    assert_eq!(
        o.next_open,
        Some(ts("2027-04-01T04:00:00Z")),
        "the exclusion's end"
    );
    let o = joint(&[&c], ts("2027-04-01T01:00:00Z"));
    assert!(o.open);
    assert_eq!(
        o.closes_at,
        Some(ts("2027-04-01T02:00:00Z")),
        "the exclusion's start"
    );
    // After the window has closed, the end of the exclusion is not an opening.
    let late = calendar(
        &[window("0 0 * * *", "6h", None)],
        &[exclusion("2027-04-01T05:00:00Z", "2027-04-01T07:00:00Z", "x")],
    );
    let o = joint(&[&late], ts("2027-04-01T05:30:00Z"));
    assert_eq!(o.next_open, Some(ts("2027-04-02T00:00:00Z")));
}

#[test]
fn overlapping_exclusions_chain_and_the_first_by_start_is_named() {
    let c = calendar(
        &[],
        &[
            exclusion("2027-04-01T02:00:00Z", "2027-04-01T06:00:00Z", "second"),
            exclusion("2027-04-01T01:00:00Z", "2027-04-01T03:00:00Z", "first"),
            exclusion("2027-04-01T06:00:00Z", "2027-04-01T08:00:00Z", "third"),
        ],
    );
    let o = joint(&[&c], ts("2027-04-01T02:30:00Z"));
    assert_eq!(o.frozen.as_deref(), Some("first"));
    assert_eq!(o.next_open, Some(ts("2027-04-01T08:00:00Z")), "through all three");
    assert!(open(&c, "2027-04-01T08:00:00Z"), "end is exclusive");
    assert!(!open(&c, "2027-04-01T01:00:00Z"), "start is inclusive");
}

#[test]
fn an_exclusion_in_another_calendar_freezes_the_joint() {
    let dept = calendar(&[window("0 0 * * *", "6h", None)], &[]);
    let estate = calendar(
        &[],
        &[exclusion(
            "2027-04-01T00:00:00Z",
            "2027-04-02T00:00:00Z",
            "election",
        )],
    );
    let o = joint(&[&dept, &estate], ts("2027-04-01T01:00:00Z"));
    assert!(!o.open);
    assert_eq!(o.frozen.as_deref(), Some("election"));
    assert_eq!(o.next_open, Some(ts("2027-04-02T00:00:00Z")));
    assert!(joint(&[&dept], ts("2027-04-01T01:00:00Z")).open);
}

#[test]
fn joint_is_the_overlap_of_all_calendars() {
    // 2027-01-02 is a Saturday.
    let dept = calendar(&[window("0 2 * * SAT", "4h", None)], &[]);
    let pool = calendar(&[window("0 4 * * SAT", "4h", None)], &[]);
    let both = [&dept, &pool];
    let o = joint(&both, ts("2027-01-02T03:00:00Z"));
    assert!(!o.open);
    assert_eq!(o.next_open, Some(ts("2027-01-02T04:00:00Z")));
    let o = joint(&both, ts("2027-01-02T05:00:00Z"));
    assert!(o.open);
    assert_eq!(o.closes_at, Some(ts("2027-01-02T06:00:00Z")));
    let o = joint(&both, ts("2027-01-02T06:00:00Z"));
    assert_eq!(o.next_open, Some(ts("2027-01-09T04:00:00Z")));
}

#[test]
fn disjoint_calendars_never_open_together_and_say_so_quickly() {
    let sat = calendar(&[window("0 2 * * SAT", "4h", None)], &[]);
    let sun = calendar(&[window("0 2 * * SUN", "4h", None)], &[]);
    let started = std::time::Instant::now();
    let o = joint(&[&sat, &sun], ts("2027-01-01T00:00:00Z"));
    assert_eq!(
        o,
        Openness {
            open: false,
            frozen: None,
            next_open: None,
            closes_at: None
        }
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn overlapping_firings_keep_the_window_open_until_the_last_ends() {
    // Every hour for 90 minutes, 09:00-17:00: open from 09:00 to 18:30 without a gap.
    let c = calendar(&[window("0 9-17 * * *", "90m", None)], &[]);
    let o = joint(&[&c], ts("2027-01-05T10:15:00Z"));
    assert_eq!(o.closes_at, Some(ts("2027-01-05T18:30:00Z")));
    // Two windows of one calendar join into one run as well.
    let c = calendar(
        &[window("0 1 * * *", "2h", None), window("0 3 * * *", "1h", None)],
        &[],
    );
    assert_eq!(
        joint(&[&c], ts("2027-01-05T01:30:00Z")).closes_at,
        Some(ts("2027-01-05T04:00:00Z"))
    );
    // Always open: a firing every minute lasting two.
    let c = calendar(&[window("* * * * *", "2m", None)], &[]);
    let o = joint(&[&c], ts("2027-01-05T10:15:00Z"));
    assert!(o.open);
    assert_eq!(o.closes_at, None);
}

#[test]
fn next_transition_is_the_nearest_edge() {
    let c = calendar(
        &[window("0 2 * * *", "2h", None)],
        &[exclusion("2027-01-05T03:00:00Z", "2027-01-05T05:00:00Z", "x")],
    );
    let at = |s: &str| next_transition(&[&c], ts(s));
    assert_eq!(at("2027-01-05T00:00:00Z"), Some(ts("2027-01-05T02:00:00Z")));
    assert_eq!(
        at("2027-01-05T02:00:00Z"),
        Some(ts("2027-01-05T03:00:00Z")),
        "strictly after"
    );
    assert_eq!(at("2027-01-05T03:00:00Z"), Some(ts("2027-01-05T04:00:00Z")));
    assert_eq!(at("2027-01-05T04:00:00Z"), Some(ts("2027-01-05T05:00:00Z")));
    assert_eq!(at("2027-01-05T05:00:00Z"), Some(ts("2027-01-06T02:00:00Z")));
    let other = calendar(
        &[],
        &[exclusion("2027-01-05T00:30:00Z", "2027-01-06T00:00:00Z", "y")],
    );
    assert_eq!(
        next_transition(&[&c, &other], ts("2027-01-05T00:00:00Z")),
        Some(ts("2027-01-05T00:30:00Z"))
    );
}
