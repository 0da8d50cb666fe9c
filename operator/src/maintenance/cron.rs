//! A five-field schedule read by croner and matched on civil (wall clock) minutes.
//!
//! croner parses; its own search is not used, because its daylight-saving rules are not
//! CronJob's (a fixed-time job skipped by spring-forward runs after the gap, and runs
//! only once in a repeated hour). Here the schedule only answers "which civil minutes
//! match"; `zone.rs` turns civil minutes into instants under CronJob's rules.

use croner::parser::{CronParser, Seconds, Year};
use jiff::civil::{Date, DateTime};

/// The fields in order, with their names as messages use them and their ranges.
const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT"),
];

/// Macros CronJob understands, spelled out so that croner never sees an `@`.
const MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// The matching civil minutes of one schedule, as bit masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cron {
    minutes: u64,
    hours: u32,
    /// Bit `d` for day of month `d` (1-31).
    days: u32,
    /// Bit `m` for month `m` (1-12).
    months: u16,
    /// Bit `w` for weekday `w`, Sunday = 0.
    weekdays: u8,
    /// CronJob (robfig/cron) ANDs the day fields when either starts with `*` or `?`
    /// (so `*/2` counts as a star), and ORs them otherwise. croner only treats a bare `*`
    /// as a star, hence our own flag.
    days_and: bool,
}

impl Cron {
    /// Parses `text`, or says what is wrong with it (the caller adds field path and value).
    pub(crate) fn parse(text: &str) -> Result<Cron, String> {
        let trimmed = text.trim();
        let expanded = if trimmed.starts_with('@') {
            MACROS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(trimmed))
                .map(|(_, fields)| *fields)
                .ok_or_else(|| {
                    "is not a schedule: of the @ forms only @yearly, @annually, @monthly, \
                     @weekly, @daily, @midnight and @hourly are understood"
                        .to_string()
                })?
        } else {
            trimmed
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "has {} fields; a schedule has five: minute hour day-of-month month day-of-week",
                fields.len()
            ));
        }
        for (i, field) in fields.iter().enumerate() {
            check_field_form(i, field)?;
        }
        let parsed = parser().parse(expanded).map_err(|_| blame(&fields))?;
        let p = &parsed.pattern;
        if p.days.has_modifiers() || p.days_of_week.has_modifiers() || p.matches_dom_and_dow() {
            return Err("uses L, W, # or +, which Kubernetes CronJob schedules do not".into());
        }
        let star = |f: &str| f.starts_with('*') || f.starts_with('?');
        Ok(Cron {
            minutes: mask(&p.minutes.values()),
            // croner keeps each field within its range, so these never fall back; if one
            // did, the field would match nothing and the window fail closed.
            hours: u32::try_from(mask(&p.hours.values())).unwrap_or(0),
            days: u32::try_from(mask(&p.days.values())).unwrap_or(0),
            months: u16::try_from(mask(&p.months.values())).unwrap_or(0),
            weekdays: u8::try_from(mask(&p.days_of_week.values())).unwrap_or(0),
            days_and: star(fields[2]) || star(fields[4]),
        })
    }

    /// Whether a schedule fires at some minute of `date` (month and day fields only).
    fn day_matches(&self, date: Date) -> bool {
        if self.months & bit16(date.month()) == 0 {
            return false;
        }
        let dom = self.days & bit32(date.day()) != 0;
        let dow = self.weekdays & bit8(date.weekday().to_sunday_zero_offset()) != 0;
        if self.days_and { dom && dow } else { dom || dow }
    }

    /// The first matching minute of `date` at or after `hour:minute`.
    fn first_on_or_after(&self, hour: i8, minute: i8) -> Option<(i8, i8)> {
        let mut from = minute;
        for h in hour.max(0)..24 {
            if self.hours & bit32(h) != 0 {
                let later = self.minutes >> from.clamp(0, 63);
                if later != 0 {
                    return Some((h, from.saturating_add(later.trailing_zeros() as i8)));
                }
            }
            from = 0;
        }
        None
    }

    /// The last matching minute of `date` at or before `hour:minute`.
    fn last_on_or_before(&self, hour: i8, minute: i8) -> Option<(i8, i8)> {
        let mut upto = minute;
        for h in (0..=hour.min(23)).rev() {
            if self.hours & bit32(h) != 0 {
                // Keep minutes 0..=upto: shift the rest out of the top.
                let earlier = self.minutes << (63 - upto.clamp(0, 63));
                if earlier != 0 {
                    return Some((h, upto.saturating_sub(earlier.leading_zeros() as i8)));
                }
            }
            upto = 59;
        }
        None
    }

    /// The first matching civil minute at or after `from` (a whole minute), on or before
    /// the date `last`; one step per day, so the caller's `last` bounds the work.
    pub(crate) fn next_civil(&self, from: DateTime, last: Date) -> Option<DateTime> {
        let (mut date, mut hour, mut minute) = (from.date(), from.hour(), from.minute());
        while date <= last {
            if self.day_matches(date)
                && let Some((h, m)) = self.first_on_or_after(hour, minute)
            {
                return Some(date.at(h, m, 0, 0));
            }
            date = date.tomorrow().ok()?;
            (hour, minute) = (0, 0);
        }
        None
    }

    /// The last matching civil minute at or before `from`, on or after the date `first`.
    pub(crate) fn prev_civil(&self, from: DateTime, first: Date) -> Option<DateTime> {
        let (mut date, mut hour, mut minute) = (from.date(), from.hour(), from.minute());
        while date >= first {
            if self.day_matches(date)
                && let Some((h, m)) = self.last_on_or_before(hour, minute)
            {
                return Some(date.at(h, m, 0, 0));
            }
            date = date.yesterday().ok()?;
            (hour, minute) = (23, 59);
        }
        None
    }
}

fn parser() -> CronParser {
    // Sloppy ranges only for `5/15` (5 to the end, every 15), which CronJob accepts;
    // `/15` with no start, which CronJob refuses, is turned away by `check_field_form`.
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .sloppy_ranges(true)
        .build()
}

/// Refuses what croner would accept but CronJob would not, naming the field.
fn check_field_form(i: usize, field: &str) -> Result<(), String> {
    let day_field = i == 2 || i == 4;
    let bad_question = field.contains('?') && !(day_field && field == "?");
    let empty_part = field
        .split(',')
        .any(|item| item.is_empty() || item.starts_with('/') || item.starts_with('-'));
    if bad_question || empty_part || field.contains(['#', '+']) {
        return Err(invalid(i, field));
    }
    Ok(())
}

/// croner refused the whole schedule: find the first field it refuses on its own.
fn blame(fields: &[&str]) -> String {
    for (i, field) in fields.iter().enumerate() {
        let mut probe = ["*"; 5];
        probe[i] = field;
        if parser().parse(&probe.join(" ")).is_err() {
            return invalid(i, field);
        }
    }
    "is not a valid schedule".into()
}

fn invalid(i: usize, field: &str) -> String {
    let (name, allowed) = FIELDS[i.min(4)];
    format!("has an invalid {name} field {field:?} (allowed {allowed}, with * , - /)")
}

fn mask(values: &[u16]) -> u64 {
    values
        .iter()
        .filter_map(|v| 1u64.checked_shl(u32::from(*v)))
        .fold(0, |m, bit| m | bit)
}

fn bit8(n: i8) -> u8 {
    1u8.checked_shl(u32::try_from(n).unwrap_or(8)).unwrap_or(0)
}

fn bit16(n: i8) -> u16 {
    1u16.checked_shl(u32::try_from(n).unwrap_or(16)).unwrap_or(0)
}

fn bit32(n: i8) -> u32 {
    1u32.checked_shl(u32::try_from(n).unwrap_or(32)).unwrap_or(0)
}
