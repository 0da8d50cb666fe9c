//! When maintenance windows are open: the pure evaluation behind platform-driven
//! disruption (moves between pools, pod-template changes the department did not ask for).
//!
//! # The contract
//!
//! - A window is open at `now` when a firing `s` of its five-field cron schedule,
//!   evaluated in its `timeZone` (UTC when absent), has `s <= now < s + duration`; the
//!   duration is elapsed time. A calendar with several windows is open when any window
//!   is; an empty window list is always open.
//! - An exclusion covers `[start, end)` and shuts the calendar it belongs to. Estate-wide
//!   exclusions (PlatformPolicy) come in as a calendar of their own:
//!   `Calendar::new(&[], &policy.maintenance_exclusions)`.
//! - A calendar with any problem is shut for good (fail closed): never open, no next
//!   opening, so a change waits for a fix or the break-glass annotation.
//! - Daylight saving follows Kubernetes CronJob (robfig/cron v3): a firing is an instant
//!   whose local civil time matches the five fields. A civil time skipped by
//!   spring-forward never fires (it is not moved after the gap); a civil time repeated by
//!   fall-back fires in both halves. robfig's own tests say so: `30 2 11 Mar ?` from
//!   2012-03-11 00:00 EST next fires on 2013-03-11, and `30 1 04 Nov ?` from 01:45 EDT
//!   fires at 01:30 EST the same night (spec_test.go, TestNext). croner 4 differs on both
//!   (a fixed-time job is run just after the gap, and once only in a repeated hour), so
//!   croner only parses here and the search is ours (`window.rs`).
//! - Syntax is CronJob's: numbers, ranges, steps, lists, `*`, month and weekday names,
//!   weekday 7 = Sunday, `?` for `*` in the day fields, and @yearly @annually @monthly
//!   @weekly @daily @midnight @hourly. When both day fields are restricted a day matches
//!   if either does; when either starts with `*` or `?` both must (robfig's rule, so
//!   `*/2` counts as a star). Seconds, years, @reboot, @every, and croner's L W # + are
//!   refused.
//! - Time zones come from the database bundled into the binary, not the host's.
//!
//! # Bounds
//!
//! Every search stops at [`HORIZON_DAYS`] past `now` and after a fixed number of steps;
//! an answer beyond either is reported as none ("not within the horizon"), which fails
//! closed for `next_open` and is only informational for `closes_at`.

mod compile;
mod cron;
mod window;

use jiff::{SignedDuration, Timestamp};

use compile::Exclusion;
pub use compile::{MAX_EXCLUSIONS, MAX_WINDOW_DAYS, MAX_WINDOWS};
use window::Window;

use crate::api::{MaintenanceExclusion, MaintenanceWindow};

/// How far searches look. A year reaches every firing of any schedule short of one that
/// fires only on Feb 29, and `status.pendingChange` promises "within a year"; a Feb 29
/// window is found once its day is less than a year away.
pub const HORIZON_DAYS: i64 = 366;

/// Rounds of the joint search (each moves to the next opening of a shut calendar).
/// Weekly windows that never meet take about two rounds a week, ~110 in a year.
const MAX_JOINT_ROUNDS: usize = 1024;

/// One object's windows and exclusions, compiled once (or the estate's: exclusions only).
#[derive(Clone, Debug)]
pub struct Calendar {
    windows: Vec<Window>,
    exclusions: Vec<Exclusion>,
    invalid: bool,
}

impl Calendar {
    /// Always open: no windows, no exclusions (today's behaviour for an empty list).
    pub fn always_open() -> Self {
        Calendar {
            windows: Vec::new(),
            exclusions: Vec::new(),
            invalid: false,
        }
    }

    /// Compiles windows and exclusions; problems name the field, e.g.
    /// `spec.maintenanceWindows[0].timeZone: "Mars/Olympus" is not a time zone in the IANA
    /// database`. A calendar with any problem is invalid and never open.
    pub fn new(windows: &[MaintenanceWindow], exclusions: &[MaintenanceExclusion]) -> (Self, Vec<String>) {
        let mut problems = Vec::new();
        let windows = compile::windows(windows, &mut problems);
        let exclusions = compile::exclusions(exclusions, &mut problems);
        let invalid = !problems.is_empty();
        (
            Calendar {
                windows,
                exclusions,
                invalid,
            },
            problems,
        )
    }

    pub fn invalid(&self) -> bool {
        self.invalid
    }

    pub fn is_always_open(&self) -> bool {
        !self.invalid && self.windows.is_empty() && self.exclusions.is_empty()
    }

    /// The first exclusion by start that covers `at`.
    fn freeze(&self, at: Timestamp) -> Option<&Exclusion> {
        self.exclusions
            .iter()
            .take_while(|e| e.start <= at)
            .find(|e| at < e.end)
    }

    fn windows_open(&self, at: Timestamp) -> bool {
        self.windows.is_empty() || self.windows.iter().any(|w| w.open_at(at))
    }

    fn open(&self, at: Timestamp) -> bool {
        !self.invalid && self.freeze(at).is_none() && self.windows_open(at)
    }

    /// Given the calendar open at `at`: when it next stops being open, by `limit`.
    fn closes(&self, at: Timestamp, limit: Timestamp) -> Option<Timestamp> {
        let frozen = self.exclusions.iter().map(|e| e.start).find(|s| *s > at);
        let shut = if self.windows.is_empty() {
            None
        } else {
            self.windows_close(at, limit)
        };
        earliest(frozen.filter(|s| *s <= limit), shut)
    }

    /// Given some window open at `at`: the end of the run in which one or another is.
    fn windows_close(&self, at: Timestamp, limit: Timestamp) -> Option<Timestamp> {
        let mut at = at;
        for _ in 0..MAX_JOINT_ROUNDS {
            let mut end = None;
            for w in self.windows.iter().filter(|w| w.open_at(at)) {
                // One window open past the limit keeps the whole calendar open past it.
                end = Some(end.unwrap_or(at).max(w.closes(at, limit)?));
            }
            match end {
                None => return Some(at),
                Some(end) => at = end,
            }
        }
        None
    }

    /// The first instant at or after `at`, by `limit`, at which the calendar is open.
    fn next_open(&self, at: Timestamp, limit: Timestamp) -> Option<Timestamp> {
        if self.invalid {
            return None;
        }
        let mut at = at;
        for _ in 0..MAX_JOINT_ROUNDS {
            if at > limit {
                return None;
            }
            if let Some(e) = self.freeze(at) {
                at = e.end;
            } else if self.windows_open(at) {
                return Some(at);
            } else {
                at = self.windows.iter().filter_map(|w| w.next_open(at, limit)).min()?;
            }
        }
        None
    }

    /// The nearest window or exclusion edge strictly after `at`, by `limit`.
    fn next_edge(&self, at: Timestamp, limit: Timestamp) -> Option<Timestamp> {
        if self.invalid {
            return None;
        }
        let exclusion = self
            .exclusions
            .iter()
            .flat_map(|e| [e.start, e.end])
            .filter(|t| *t > at && *t <= limit)
            .min();
        let window = self.windows.iter().filter_map(|w| w.next_edge(at, limit)).min();
        earliest(exclusion, window)
    }
}

/// Problems with one window, each naming its field under `path` (what `Calendar::new`
/// reports for it), for validators that check objects one field at a time.
pub fn window_problems(path: &str, w: &MaintenanceWindow) -> Vec<String> {
    let mut problems = Vec::new();
    compile::window(path, w, &mut problems);
    problems
}

/// Problems with one exclusion, each naming its field under `path`.
pub fn exclusion_problems(path: &str, e: &MaintenanceExclusion) -> Vec<String> {
    let mut problems = Vec::new();
    compile::exclusion(path, e, &mut problems);
    problems
}

/// Whether calendars are open together at one instant, and when that changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Openness {
    /// Every calendar is open at `now` (and none is invalid) and no exclusion covers `now`.
    pub open: bool,
    /// The reason of an exclusion covering `now` (the first by start), when one does.
    pub frozen: Option<String>,
    /// When not open: the first instant >= now at which all calendars are open together,
    /// if any within the horizon. When open: None.
    pub next_open: Option<Timestamp>,
    /// When open: the first instant after now at which they stop being open together
    /// (None = not within the horizon, e.g. all always open and no exclusion ahead).
    /// When shut: None.
    pub closes_at: Option<Timestamp>,
}

/// Whether all `calendars` are open together at `now` (a workload move needs its
/// department's, both pools' and the estate's).
pub fn joint(calendars: &[&Calendar], now: Timestamp) -> Openness {
    let frozen = calendars
        .iter()
        .filter_map(|c| c.freeze(now))
        .min_by_key(|e| e.start)
        .map(|e| e.reason.clone());
    let limit = horizon(now);
    if calendars.iter().all(|c| c.open(now)) {
        let closes_at = calendars.iter().filter_map(|c| c.closes(now, limit)).min();
        return Openness {
            open: true,
            frozen,
            next_open: None,
            closes_at,
        };
    }
    Openness {
        open: false,
        frozen,
        next_open: joint_next_open(calendars, now, limit),
        closes_at: None,
    }
}

/// Moves `at` to each shut calendar's next opening until all are open at once.
fn joint_next_open(calendars: &[&Calendar], now: Timestamp, limit: Timestamp) -> Option<Timestamp> {
    let mut at = now;
    for _ in 0..MAX_JOINT_ROUNDS {
        let mut moved = false;
        for c in calendars {
            let next = c.next_open(at, limit)?;
            moved |= next > at;
            at = next;
        }
        if !moved {
            return Some(at);
        }
    }
    None
}

/// The earliest instant strictly after `now` at which any of these calendars opens or
/// closes (window start, window end, exclusion start or end): when the operator's timer
/// should wake. None when nothing changes within the horizon.
pub fn next_transition(calendars: &[&Calendar], now: Timestamp) -> Option<Timestamp> {
    let limit = horizon(now);
    calendars.iter().filter_map(|c| c.next_edge(now, limit)).min()
}

fn horizon(now: Timestamp) -> Timestamp {
    now.checked_add(SignedDuration::from_hours(HORIZON_DAYS * 24))
        .unwrap_or(Timestamp::MAX)
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_dst;
#[cfg(test)]
mod tests_invalid;
#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_syntax;
