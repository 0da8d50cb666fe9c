//! `used` and `usedAt`: measured usage in a status, rewritten only when it has moved.
//!
//! Measured usage changes on every sample, by a little. Rewriting `used` each time would
//! cost a status write per DepartmentService, department and pool per sample (and wake
//! every watcher), for a figure no reader needs to the millicore. So:
//!
//! - **Shown value**: the measurement rounded to two significant digits: CPU in
//!   millicores (`37m`, `1200m`, `12`), memory in the largest binary unit of which it holds
//!   at least ten (`87Mi`, `3500Mi`, `120Gi`).
//! - **Rewrite** `used` and `usedAt` when CPU or memory moved, against the shown value, by
//!   at least 10 % of it and at least 10m CPU or 10 MiB memory ([`USED_RULE`]); or when the
//!   shown value was measured an hour or more before the new sample, so that `usedAt` is
//!   at most an hour (plus a sampling interval) old while the source works, and an older
//!   `usedAt` means the source has stopped answering. Comparing with the shown value (not
//!   its rounding) is a hysteresis: a value wavering across a rounding boundary writes
//!   nothing.
//! - `usedAt` is when the shown value was measured (the sample's time, to the second, as
//!   the API server keeps it). It never moves back: a sample older than the shown value
//!   changes nothing.
//! - With no usage known (no source configured, or no good sample since the operator
//!   started) the status keeps what it shows. When the source is down, the last good
//!   sample stands, with its old time: nothing is rewritten, and `usedAt` shows the age.
//! - A good sample that saw no pod of the object (not running, refused, an empty pool)
//!   removes `used` and `usedAt`: "nothing measured" is not "idle".

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::amounts;
use crate::api::ResourceAmounts;
use crate::quantity::Res;
use crate::usage::Usage;

/// What measured usage says about one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measured {
    /// Nothing is known: the status keeps what it shows.
    Unknown,
    /// The sample saw no pod of the object: `used` and `usedAt` go.
    Nothing,
    /// `used`, measured at `at`.
    Used { used: Res, at: Timestamp },
}

impl Measured {
    /// What `usage` (the last good sample, attributed by the plan) says about one entry.
    pub fn of(usage: Option<&Usage>, pick: impl FnOnce(&Usage) -> Option<Res>) -> Self {
        let Some(usage) = usage else {
            return Self::Unknown;
        };
        let Some(at) = usage.at else {
            return Self::Unknown;
        };
        match pick(usage) {
            Some(used) => Self::Used { used, at },
            None => Self::Nothing,
        }
    }

    pub fn service(usage: Option<&Usage>, namespace: &str, name: &str) -> Self {
        Self::of(usage, |u| u.services.get(&format!("{namespace}/{name}")).copied())
    }

    pub fn department(usage: Option<&Usage>, name: &str) -> Self {
        Self::of(usage, |u| u.departments.get(name).copied())
    }

    pub fn pool(usage: Option<&Usage>, name: &str) -> Self {
        Self::of(usage, |u| u.pools.get(name).copied())
    }
}

/// When a shown `used` is rewritten (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsedRule {
    /// A move by at least this share of the shown value, in percent…
    pub percent: i64,
    /// …and by at least this much CPU…
    pub cpu_millis: i64,
    /// …or this much memory.
    pub memory_bytes: i64,
    /// A shown value measured this long before the new sample is rewritten regardless.
    pub refresh: Duration,
}

pub const USED_RULE: UsedRule = UsedRule {
    percent: 10,
    cpu_millis: 10,
    memory_bytes: 10 << 20,
    refresh: Duration::from_secs(3600),
};

/// `n` rounded half up to a multiple of `step`.
fn round_to(n: i64, step: i64) -> i64 {
    let rest = n % step;
    let down = n - rest;
    if rest >= step - rest {
        down.saturating_add(step)
    } else {
        down
    }
}

/// The coarsest step, a power of ten times `unit`, that keeps two significant digits.
fn two_digits(n: i64, unit: i64) -> i64 {
    if n <= 0 {
        return n;
    }
    let mut step = unit;
    while n / step >= 100 {
        step *= 10;
    }
    round_to(n, step)
}

/// The shown value of a measurement: two significant digits (see the module docs).
pub fn rounded(used: Res) -> Res {
    let bytes = used.memory_bytes;
    let unit = [1i64 << 40, 1 << 30, 1 << 20, 1 << 10]
        .into_iter()
        .find(|&u| bytes / u >= 10)
        .unwrap_or(1);
    Res::new(two_digits(used.cpu_millis, 1), two_digits(bytes, unit))
}

/// Whether `new` moved from `shown` enough to be rewritten.
fn moved(shown: i64, new: i64, floor: i64, rule: &UsedRule) -> bool {
    let change = (i128::from(new) - i128::from(shown)).abs();
    change >= i128::from(floor) && change * 100 >= i128::from(shown) * i128::from(rule.percent)
}

/// The `used` and `usedAt` a status should have, given what it shows and what was
/// measured (see the module docs).
pub fn shown_used(
    current_used: Option<&ResourceAmounts>,
    current_at: Option<&Time>,
    measured: Measured,
) -> (Option<ResourceAmounts>, Option<Time>) {
    shown_used_by(current_used, current_at, measured, &USED_RULE)
}

/// [`shown_used`] under another rule.
pub fn shown_used_by(
    current_used: Option<&ResourceAmounts>,
    current_at: Option<&Time>,
    measured: Measured,
    rule: &UsedRule,
) -> (Option<ResourceAmounts>, Option<Time>) {
    let (used, at) = match measured {
        Measured::Unknown => return (current_used.cloned(), current_at.cloned()),
        Measured::Nothing => return (None, None),
        Measured::Used { used, at } => (used, at),
    };
    let shown = current_used.and_then(|a| a.parse().ok());
    if let (Some(shown), Some(shown_at)) = (shown, current_at) {
        let keep = || (current_used.cloned(), current_at.cloned());
        if at <= shown_at.0 {
            return keep();
        }
        let age = Duration::try_from(at.duration_since(shown_at.0)).unwrap_or(Duration::ZERO);
        let moved = moved(shown.cpu_millis, used.cpu_millis, rule.cpu_millis, rule)
            || moved(shown.memory_bytes, used.memory_bytes, rule.memory_bytes, rule);
        if !moved && age < rule.refresh {
            return keep();
        }
    }
    // Whole seconds, as the API server stores a Time: what is written reads back equal.
    let at = Timestamp::from_second(at.as_second()).unwrap_or(at);
    (Some(amounts(rounded(used))), Some(Time(at)))
}
