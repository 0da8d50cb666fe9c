//! Invalid input: every problem names the field and shows the value, and the calendar
//! fails closed.

use super::tests::{exclusion, ts, window};
use super::*;

fn problems(w: &[MaintenanceWindow], e: &[MaintenanceExclusion]) -> Vec<String> {
    let (c, problems) = Calendar::new(w, e);
    assert_eq!(c.invalid(), !problems.is_empty());
    if c.invalid() {
        assert!(!c.is_always_open());
        let o = joint(&[&c], ts("2027-01-05T02:30:00Z"));
        assert!(!o.open);
        assert_eq!(o.next_open, None);
        assert_eq!(o.closes_at, None);
        assert_eq!(next_transition(&[&c], ts("2027-01-05T02:30:00Z")), None);
        // An invalid calendar shuts a joint with an always-open one too.
        assert!(!joint(&[&Calendar::always_open(), &c], ts("2027-01-05T02:30:00Z")).open);
    }
    problems
}

fn one(schedule: &str, duration: &str, zone: Option<&str>) -> Vec<String> {
    problems(&[window(schedule, duration, zone)], &[])
}

#[test]
fn an_unknown_time_zone_is_refused() {
    let p = one("0 2 * * *", "2h", Some("Mars/Olympus"));
    assert_eq!(
        p,
        ["spec.maintenanceWindows[0].timeZone: \"Mars/Olympus\" is not a time zone in the IANA database"]
    );
    assert_eq!(one("0 2 * * *", "2h", Some("")).len(), 1);
    assert!(one("0 2 * * *", "2h", Some("Asia/Shanghai")).is_empty());
}

#[test]
fn bad_schedules_name_the_field_and_value() {
    let p = one("0 25 * * *", "2h", None);
    assert_eq!(p.len(), 1);
    assert!(
        p[0].starts_with(
            "spec.maintenanceWindows[0].schedule: \"0 25 * * *\" has an invalid hour field \"25\""
        ),
        "{p:?}"
    );
    for (schedule, field) in [
        ("60 0 * * *", "minute"),
        ("0 0 32 * *", "day-of-month"),
        ("0 0 0 * *", "day-of-month"),
        ("0 0 * 13 *", "month"),
        ("0 0 * * 8", "day-of-week"),
        ("0 0 * * XYZ", "day-of-week"),
        ("0 0 L * *", "day-of-month"),
        ("0 0 15W * *", "day-of-month"),
        ("0 0 * * 5#2", "day-of-week"),
        ("0 0 * * +5", "day-of-week"),
        ("*/0 0 * * *", "minute"),
        ("/5 0 * * *", "minute"),
        ("? 0 * * *", "minute"),
        ("0 5-2 * * *", "hour"),
        ("0 0,,1 * * *", "hour"),
    ] {
        let p = one(schedule, "1h", None);
        assert_eq!(p.len(), 1, "{schedule}: {p:?}");
        assert!(
            p[0].contains(&format!("{schedule:?}")) && (p[0].contains(field) || p[0].contains("L, W")),
            "{schedule}: {p:?}"
        );
    }
}

#[test]
fn five_fields_only_and_no_reboot_or_every() {
    assert!(one("0 0 2 * * *", "1h", None)[0].contains("has 6 fields"));
    assert!(one("0 2 * *", "1h", None)[0].contains("has 4 fields"));
    assert!(one("0 0 2 * * * 2027", "1h", None)[0].contains("has 7 fields"));
    assert!(one("", "1h", None)[0].contains("has 0 fields"));
    for bad in ["@reboot", "@every 1h", "@fortnightly"] {
        let p = one(bad, "1h", None);
        assert!(p[0].contains("only @yearly"), "{p:?}");
    }
}

#[test]
fn durations_are_positive_and_at_most_31_days() {
    for bad in ["0s", "0m", "2x", "", "500ms", "745h"] {
        let p = one("0 2 * * *", bad, None);
        assert_eq!(p.len(), 1, "{bad}: {p:?}");
        assert!(
            p[0].starts_with(&format!("spec.maintenanceWindows[0].duration: {bad:?}")),
            "{p:?}"
        );
    }
    assert!(one("0 2 * * *", "744h", None).is_empty());
    assert!(one("0 2 * * *", "1h30m", None).is_empty());
}

#[test]
fn every_problem_of_every_window_is_reported() {
    let p = problems(
        &[
            window("0 2 * * *", "1h", None),
            window("x", "0m", Some("Nowhere")),
        ],
        &[],
    );
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(
        p.iter().all(|p| p.starts_with("spec.maintenanceWindows[1].")),
        "{p:?}"
    );
}

#[test]
fn bad_exclusions_name_the_field() {
    let p = problems(&[], &[exclusion("2027-01-01T00:00:00Z", "2027-01-01", "x")]);
    assert_eq!(
        p,
        [
            "spec.maintenanceExclusions[0].end: \"2027-01-01\" is not an RFC 3339 time like 2027-04-01T00:00:00Z"
        ]
    );
    let p = problems(
        &[],
        &[
            exclusion("2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z", "ok"),
            exclusion("2027-01-02T00:00:00Z", "2027-01-01T00:00:00Z", "backwards"),
            exclusion("2027-01-02T00:00:00Z", "2027-01-02T00:00:00Z", "empty"),
            exclusion("tomorrow", "2027-01-02T00:00:00Z", "  "),
        ],
    );
    assert_eq!(p.len(), 4, "{p:?}");
    assert!(
        p[0].starts_with("spec.maintenanceExclusions[1].end: \"2027-01-01T00:00:00Z\" is not after start"),
        "{p:?}"
    );
    assert!(p[1].starts_with("spec.maintenanceExclusions[2].end:"), "{p:?}");
    assert!(
        p[2].starts_with("spec.maintenanceExclusions[3].start: \"tomorrow\""),
        "{p:?}"
    );
    assert!(p[3].starts_with("spec.maintenanceExclusions[3].reason:"), "{p:?}");
}

#[test]
fn an_offset_other_than_z_is_rfc_3339_too() {
    let (c, p) = Calendar::new(
        &[],
        &[exclusion(
            "2027-01-01T08:00:00+08:00",
            "2027-01-01T01:00:00Z",
            "x",
        )],
    );
    assert!(p.is_empty(), "{p:?}");
    assert!(!joint(&[&c], ts("2027-01-01T00:30:00Z")).open);
    assert!(joint(&[&c], ts("2027-01-01T01:00:00Z")).open);
}

#[test]
fn too_many_windows_are_refused_not_evaluated() {
    let many = vec![window("0 2 * * *", "1h", None); MAX_WINDOWS + 1];
    let p = problems(&many, &[]);
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("spec.maintenanceWindows: 65 windows"), "{p:?}");
}
