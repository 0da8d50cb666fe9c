//! One window: a schedule's firings as instants in its time zone, each opening the
//! window for its duration.
//!
//! Firings are found one UTC-offset period at a time (the stretch between two of the
//! zone's transitions). Inside a period civil time runs in step with absolute time, so a
//! civil-minute search maps straight onto instants; a civil minute that no period reaches
//! (skipped by spring-forward) never fires, and one that two periods reach (repeated by
//! fall-back) fires in both. That is CronJob's rule, not croner's (see `cron.rs`).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::cron::Cron;

/// Periods one search may cross. A year holds two transitions in zones with daylight
/// saving; this leaves room for zones that changed rules often, and still bounds the loop.
const MAX_PERIODS: usize = 64;

/// Steps when following a run of overlapping firings to its end. A run of firings that
/// overlap for longer than this (say `* * * * *` for `2m`) is reported as not closing
/// within the search; each step covers at least one duration.
const MAX_RUN_STEPS: usize = 4096;

#[derive(Clone, Debug)]
pub(crate) struct Window {
    pub(crate) cron: Cron,
    pub(crate) zone: TimeZone,
    pub(crate) duration: SignedDuration,
}

const NANO: SignedDuration = SignedDuration::from_nanos(1);
const MINUTE: SignedDuration = SignedDuration::from_mins(1);

impl Window {
    /// Whether a firing `s` has `s <= at < s + duration`.
    pub(crate) fn open_at(&self, at: Timestamp) -> bool {
        self.covering_firing(at).is_some()
    }

    /// The last firing that keeps the window open at `at`, if one does.
    fn covering_firing(&self, at: Timestamp) -> Option<Timestamp> {
        let earliest = at.checked_sub(self.duration).ok()?;
        self.prev_firing(at, earliest).filter(|s| *s > earliest)
    }

    /// When the window, open at `at`, next stops being open: the end of the run of
    /// overlapping firings. `None` when it does not close by `limit`.
    pub(crate) fn closes(&self, at: Timestamp, limit: Timestamp) -> Option<Timestamp> {
        let mut end = self.covering_firing(at)?.checked_add(self.duration).ok()?;
        for _ in 0..MAX_RUN_STEPS {
            if end > limit {
                return None;
            }
            // A firing in (end - duration, end] carries the run past `end`.
            match self.covering_firing(end) {
                Some(s) => end = s.checked_add(self.duration).ok()?,
                None => return Some(end),
            }
        }
        None
    }

    /// The first instant at or after `at`, up to `limit`, at which the window is open.
    pub(crate) fn next_open(&self, at: Timestamp, limit: Timestamp) -> Option<Timestamp> {
        if self.open_at(at) {
            return Some(at);
        }
        self.next_firing(at, limit)
    }

    /// The first opening or closing edge strictly after `at`, up to `limit`.
    pub(crate) fn next_edge(&self, at: Timestamp, limit: Timestamp) -> Option<Timestamp> {
        let opening = self.next_firing(at.checked_add(NANO).ok()?, limit);
        // The first firing whose end lies after `at` starts after `at - duration`.
        let closing = at
            .checked_sub(self.duration)
            .ok()
            .and_then(|from| from.checked_add(NANO).ok())
            .and_then(|from| self.next_firing(from, limit))
            .and_then(|s| s.checked_add(self.duration).ok())
            .filter(|end| *end <= limit);
        match (opening, closing) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The first firing at or after `from`, if one comes by `limit`.
    pub(crate) fn next_firing(&self, from: Timestamp, limit: Timestamp) -> Option<Timestamp> {
        let mut at = from;
        for _ in 0..MAX_PERIODS {
            if at > limit {
                return None;
            }
            let offset = self.zone.to_offset(at);
            let period_end = self
                .zone
                .following(at)
                .take(2)
                .map(|t| t.timestamp())
                .find(|t| *t > at);
            let search_end = period_end.map_or(limit, |end| end.min(limit));
            let civil = ceil_minute(offset.to_datetime(at))?;
            let last_date = offset.to_datetime(search_end).date();
            if let Some(found) = self.cron.next_civil(civil, last_date)
                && let Ok(s) = offset.to_timestamp(found)
                && period_end.is_none_or(|end| s < end)
            {
                return (s <= limit).then_some(s);
            }
            at = period_end?;
        }
        None
    }

    /// The last firing at or before `from`, if one comes at or after `floor`.
    pub(crate) fn prev_firing(&self, from: Timestamp, floor: Timestamp) -> Option<Timestamp> {
        let mut at = from;
        for _ in 0..MAX_PERIODS {
            if at < floor {
                return None;
            }
            let offset = self.zone.to_offset(at);
            // The transition that started this period: the last one at or before `at`.
            let after = at.checked_add(NANO).ok()?;
            let period_start = self
                .zone
                .preceding(after)
                .take(2)
                .map(|t| t.timestamp())
                .find(|t| *t <= at);
            let search_start = period_start.map_or(floor, |start| start.max(floor));
            let civil = floor_minute(offset.to_datetime(at))?;
            let first_date = offset.to_datetime(search_start).date();
            if let Some(found) = self.cron.prev_civil(civil, first_date)
                && let Ok(s) = offset.to_timestamp(found)
                && period_start.is_none_or(|start| s >= start)
            {
                return (s >= floor).then_some(s);
            }
            at = period_start?.checked_sub(NANO).ok()?;
        }
        None
    }
}

fn floor_minute(dt: DateTime) -> Option<DateTime> {
    dt.with().second(0).subsec_nanosecond(0).build().ok()
}

fn ceil_minute(dt: DateTime) -> Option<DateTime> {
    let floor = floor_minute(dt)?;
    if floor == dt {
        Some(dt)
    } else {
        floor.checked_add(MINUTE).ok()
    }
}
