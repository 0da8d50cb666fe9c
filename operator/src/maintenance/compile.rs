//! Reading windows and exclusions from the API, with problems that name the field.

use std::sync::LazyLock;

use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{SignedDuration, Timestamp};

use super::cron::Cron;
use super::window::Window;
use crate::api::{MaintenanceExclusion, MaintenanceWindow};
use crate::duration::window_seconds;

/// The longest window. A longer "window" is a standing permission rather than a window,
/// and the bound keeps the backward search for a firing that covers an instant short.
pub const MAX_WINDOW_DAYS: u64 = 31;

/// Windows and exclusions one calendar reads. The CRD bounds exclusions at 64 and windows
/// by the object size; these bounds keep the work per evaluation small whatever arrives.
pub const MAX_WINDOWS: usize = 64;
pub const MAX_EXCLUSIONS: usize = 256;

/// The bundled database, read once: results never depend on the host's zoneinfo, and a
/// zone the bundle lacks is unknown everywhere alike.
static ZONES: LazyLock<TimeZoneDatabase> = LazyLock::new(TimeZoneDatabase::bundled);

/// A freeze `[start, end)` with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exclusion {
    pub(crate) start: Timestamp,
    pub(crate) end: Timestamp,
    pub(crate) reason: String,
}

pub(crate) fn windows(list: &[MaintenanceWindow], problems: &mut Vec<String>) -> Vec<Window> {
    if list.len() > MAX_WINDOWS {
        problems.push(format!(
            "spec.maintenanceWindows: {} windows; at most {MAX_WINDOWS} are allowed",
            list.len()
        ));
        return Vec::new();
    }
    list.iter()
        .enumerate()
        .filter_map(|(i, w)| window(&format!("spec.maintenanceWindows[{i}]"), w, problems))
        .collect()
}

/// One window, or `None` with its problems pushed, each under `path`.
pub(crate) fn window(path: &str, w: &MaintenanceWindow, problems: &mut Vec<String>) -> Option<Window> {
    let before = problems.len();
    let cron = Cron::parse(&w.schedule)
        .map_err(|e| problems.push(format!("{path}.schedule: {:?} {e}", w.schedule)))
        .ok();
    let duration = duration(&w.duration)
        .map_err(|e| problems.push(format!("{path}.duration: {:?} {e}", w.duration)))
        .ok();
    let zone = match &w.time_zone {
        None => Some(TimeZone::UTC),
        Some(name) => ZONES
            .get(name)
            .map_err(|_| {
                problems.push(format!(
                    "{path}.timeZone: {name:?} is not a time zone in the IANA database"
                ))
            })
            .ok(),
    };
    match (cron, duration, zone) {
        (Some(cron), Some(duration), Some(zone)) if problems.len() == before => {
            Some(Window { cron, zone, duration })
        }
        _ => None,
    }
}

fn duration(text: &str) -> Result<SignedDuration, String> {
    let seconds = window_seconds(text)
        .ok_or_else(|| "is not a duration like 2h, 90m or 1h30m (and not zero)".to_string())?;
    if seconds > MAX_WINDOW_DAYS * 86_400 {
        return Err(format!("is longer than {MAX_WINDOW_DAYS} days"));
    }
    // Bounded above, so the conversion cannot fail; stay checked all the same.
    i64::try_from(seconds)
        .map(SignedDuration::from_secs)
        .map_err(|_| format!("is longer than {MAX_WINDOW_DAYS} days"))
}

pub(crate) fn exclusions(list: &[MaintenanceExclusion], problems: &mut Vec<String>) -> Vec<Exclusion> {
    if list.len() > MAX_EXCLUSIONS {
        problems.push(format!(
            "spec.maintenanceExclusions: {} exclusions; at most {MAX_EXCLUSIONS} are allowed",
            list.len()
        ));
        return Vec::new();
    }
    let mut out: Vec<Exclusion> = list
        .iter()
        .enumerate()
        .filter_map(|(i, e)| exclusion(&format!("spec.maintenanceExclusions[{i}]"), e, problems))
        .collect();
    // By start, so that "the first covering exclusion" is the first found.
    out.sort_by_key(|e| (e.start, e.end));
    out
}

pub(crate) fn exclusion(
    path: &str,
    e: &MaintenanceExclusion,
    problems: &mut Vec<String>,
) -> Option<Exclusion> {
    let time = |field: &str, text: &str, problems: &mut Vec<String>| {
        text.parse::<Timestamp>()
            .map_err(|_| {
                problems.push(format!(
                    "{path}.{field}: {text:?} is not an RFC 3339 time like 2027-04-01T00:00:00Z"
                ))
            })
            .ok()
    };
    let start = time("start", &e.start, problems);
    let end = time("end", &e.end, problems);
    let reason = e.reason.trim();
    if reason.is_empty() {
        problems.push(format!("{path}.reason: is empty; say why the estate is frozen"));
    }
    let (start, end) = (start?, end?);
    if end <= start {
        problems.push(format!(
            "{path}.end: {:?} is not after start {:?}",
            e.end, e.start
        ));
        return None;
    }
    (!reason.is_empty()).then(|| Exclusion {
        start,
        end,
        reason: reason.to_string(),
    })
}
