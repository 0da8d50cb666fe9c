//! Schedule syntax, as validation reports it (moved from the planner's window checks).

use super::*;
use crate::api::MaintenanceWindow;

fn check(path: &str, w: &MaintenanceWindow) -> Vec<String> {
    window_problems(path, w)
}

fn window(schedule: &str, duration: &str) -> MaintenanceWindow {
    MaintenanceWindow {
        schedule: schedule.into(),
        duration: duration.into(),
        time_zone: None,
    }
}

#[test]
fn accepts_common_schedules() {
    for s in [
        "0 2 * * SUN",
        "30 1 1-7 * 6",
        "*/15 0-5 * JAN-MAR MON-FRI",
        "0 22 * * 1,3,5",
    ] {
        assert!(check("w", &window(s, "2h")).is_empty(), "{s}");
    }
}

#[test]
fn names_the_field_and_value() {
    let p = check("spec.maintenanceWindows[0]", &window("0 25 * * *", "2x"));
    assert_eq!(p.len(), 2);
    assert!(
        p[0].starts_with("spec.maintenanceWindows[0].schedule: \"0 25 * * *\""),
        "{p:?}"
    );
    assert!(p[0].contains("hour"), "{p:?}");
    assert!(
        p[1].starts_with("spec.maintenanceWindows[0].duration: \"2x\""),
        "{p:?}"
    );
    assert!(check("w", &window("0 2 * *", "1h"))[0].contains("has 4 fields"));
}

#[test]
fn a_zone_must_exist_not_just_look_like_one() {
    let mut w = window("0 2 * * *", "1h");
    w.time_zone = Some("Mars/Olympus".into());
    assert_eq!(
        check("spec.maintenanceWindows[3]", &w),
        ["spec.maintenanceWindows[3].timeZone: \"Mars/Olympus\" is not a time zone in the IANA database"]
    );
    w.time_zone = Some("Europe/London".into());
    assert!(check("w", &w).is_empty());
}
