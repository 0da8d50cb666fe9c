//! Syntax of maintenance windows: five-field cron schedules and `2h30m` durations.
//!
//! Only the syntax is checked here; when a window is open is the operator's concern.

use crate::api::MaintenanceWindow;
use crate::duration::window_seconds;

/// Problems with one window, each naming the field under `path`.
pub fn check(path: &str, w: &MaintenanceWindow) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = check_cron(&w.schedule) {
        problems.push(format!("{path}.schedule: {:?} {e}", w.schedule));
    }
    if window_seconds(&w.duration).is_none() {
        problems.push(format!(
            "{path}.duration: {:?} is not a duration like 2h, 90m or 1h30m",
            w.duration
        ));
    }
    if let Some(tz) = &w.time_zone
        && !valid_time_zone(tz)
    {
        problems.push(format!(
            "{path}.timeZone: {tz:?} is not an IANA time zone name like UTC or Asia/Shanghai"
        ));
    }
    problems
}

fn valid_time_zone(tz: &str) -> bool {
    !tz.is_empty()
        && tz.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
];
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn check_cron(expr: &str) -> Result<(), String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "has {} fields; a schedule has five: minute hour day-of-month month day-of-week",
            fields.len()
        ));
    }
    for (field, (name, lo, hi)) in fields.iter().zip(FIELDS) {
        for item in field.split(',') {
            check_item(item, name, lo, hi)?;
        }
    }
    Ok(())
}

fn check_item(item: &str, name: &str, lo: u32, hi: u32) -> Result<(), String> {
    let bad = || format!("has an invalid {name} field {item:?} (allowed {lo}-{hi})");
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => (r, Some(s.parse::<u32>().ok().filter(|s| *s > 0).ok_or_else(bad)?)),
        None => (item, None),
    };
    if range == "*" {
        return Ok(());
    }
    let value = |s: &str| -> Option<u32> {
        let names: &[&str] = match name {
            "month" => &MONTHS,
            "day-of-week" => &DAYS,
            _ => &[],
        };
        let offset = if name == "month" { 1 } else { 0 };
        s.parse::<u32>().ok().or_else(|| {
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(s))
                .map(|i| i as u32 + offset)
        })
    };
    let (a, b) = match range.split_once('-') {
        Some((a, b)) => (value(a).ok_or_else(bad)?, value(b).ok_or_else(bad)?),
        None => {
            let v = value(range).ok_or_else(bad)?;
            (v, if step.is_some() { hi } else { v })
        }
    };
    if a < lo || b > hi || a > b {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
