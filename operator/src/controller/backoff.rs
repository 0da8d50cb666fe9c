//! How retries space out ([`Backoff`]), and per-object backoff: an object whose write
//! failed is retried when its failure's category says (see [`super::retry`]) — a
//! transient failure after a delay that doubles with each consecutive failure (up to a
//! cap), a rejection once what is written changes — and is forgotten on success, so
//! that one object the API server keeps refusing neither holds back the others nor is
//! hammered on every pass. The planner loop spaces out passes whose plan could not be
//! rendered by the same rule.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::{ApplyError, Category};
use super::rejection::Rejection;
use super::retry::{Backoff, decide, retry_after};
use crate::object::ObjectId;

/// A write that backs off on its own: what is done to which object. The same object's
/// apply and status write fail for different reasons, so each has its own backoff.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Write {
    pub action: Action,
    pub object: ObjectId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Apply,
    Delete,
    Status,
    Finalize,
}

impl Write {
    pub fn new(action: Action, object: ObjectId) -> Self {
        Self { action, object }
    }
}

/// How one write failed, as its backoff needs it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub category: Category,
    /// The server's `Retry-After`, if it gave one.
    pub retry_after: Option<Duration>,
    /// A digest of what was tried (see [`ObjectBackoff::due`]).
    pub attempt: u64,
    /// For a rejection: what to tell the owner of the object.
    pub rejection: Option<Rejection>,
}

impl Failure {
    /// `owner`: the custom resource the object belongs to, told of a rejection.
    pub fn of(err: &ApplyError, attempt: u64, owner: Option<ObjectId>) -> Self {
        Self {
            category: err.category,
            retry_after: retry_after(&err.source),
            attempt,
            rejection: Rejection::of(err, owner),
        }
    }
}

#[derive(Clone, Debug)]
struct Entry {
    failures: u32,
    retry_at: Instant,
    /// Set for a rejected write: the digest of what was rejected, and why.
    parked: Option<(u64, Option<Rejection>)>,
}

/// Failing writes, by what was written to which object.
#[derive(Debug)]
pub struct ObjectBackoff {
    backoff: Backoff,
    entries: Mutex<HashMap<Write, Entry>>,
}

impl ObjectBackoff {
    /// `initial` after the first failure, doubling up to `max`. A zero `initial`
    /// retries at once (no backoff).
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            backoff: Backoff::new(initial, max),
            entries: Mutex::default(),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Write, Entry>> {
        // A panic elsewhere while holding the lock leaves plain data behind: still usable.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `key` may be tried at `now`, writing what digests to `attempt`: a
    /// rejected write is tried again as soon as what it would write is different.
    pub fn due(&self, key: &Write, attempt: u64, now: Instant) -> bool {
        self.entries().get(key).is_none_or(|e| {
            now >= e.retry_at || e.parked.as_ref().is_some_and(|(tried, _)| *tried != attempt)
        })
    }

    /// Records a failure at `now`; returns how long until `key` is due again (unless,
    /// for a rejection, what it writes changes first).
    pub fn failed(&self, key: &Write, failure: Failure, now: Instant) -> Duration {
        let mut entries = self.entries();
        let failures = entries.get(key).map_or(1, |e| e.failures.saturating_add(1));
        let decision = decide(
            failure.category,
            failures,
            failure.retry_after,
            &self.backoff,
            now,
        );
        entries.insert(
            key.clone(),
            Entry {
                failures,
                retry_at: decision.retry_at,
                parked: decision.parked.then_some((failure.attempt, failure.rejection)),
            },
        );
        decision.retry_at.saturating_duration_since(now)
    }

    /// The rejections of the writes now parked, in no particular order.
    pub fn rejections(&self) -> Vec<Rejection> {
        self.entries()
            .values()
            .filter_map(|e| e.parked.as_ref().and_then(|(_, r)| r.clone()))
            .collect()
    }

    /// Forgets every write `keep` refuses: those of objects no longer rendered, whose
    /// rejection no longer concerns anyone.
    pub fn retain(&self, keep: impl Fn(&Write) -> bool) {
        self.entries().retain(|w, _| keep(w));
    }

    /// Forgets `key`: its next failure starts from `initial` again.
    pub fn succeeded(&self, key: &Write) {
        self.entries().remove(key);
    }

    /// When the earliest object in backoff is due, if any is.
    pub fn next_retry(&self) -> Option<Instant> {
        self.entries().values().map(|e| e.retry_at).min()
    }
}

impl Default for ObjectBackoff {
    /// No backoff: a failed object is retried on the very next pass.
    fn default() -> Self {
        Self::new(Duration::ZERO, Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Kind;

    const S: Duration = Duration::from_secs(1);

    fn server() -> Failure {
        Failure {
            category: Category::Server,
            retry_after: None,
            attempt: 0,
            rejection: None,
        }
    }

    fn apply(name: &str) -> Write {
        Write::new(
            Action::Apply,
            ObjectId::new(Kind::Deployment, Some("dept-a"), name),
        )
    }

    #[test]
    fn grows_per_object_while_failing_and_resets_on_success() {
        let backoff = ObjectBackoff::new(S, 5 * S);
        let (a, b) = (apply("a"), apply("b"));
        let t0 = Instant::now();
        let delays: Vec<Duration> = (0..5).map(|_| backoff.failed(&a, server(), t0)).collect();
        assert_eq!(delays, [S, 2 * S, 4 * S, 5 * S, 5 * S]);
        assert!(!backoff.due(&a, 0, t0 + 4 * S));
        assert!(backoff.due(&a, 0, t0 + 5 * S));
        assert!(backoff.due(&b, 0, t0), "other objects are not held back");
        assert_eq!(backoff.next_retry(), Some(t0 + 5 * S));

        backoff.succeeded(&a);
        assert!(backoff.due(&a, 0, t0));
        assert_eq!(backoff.next_retry(), None);
        assert_eq!(
            backoff.failed(&a, server(), t0),
            S,
            "the next failure starts small again"
        );
    }

    #[test]
    fn delays_double_from_initial_up_to_max() {
        let b = Backoff::new(S, 5 * S);
        let delays: Vec<Duration> = (1..=5).map(|n| b.after(n)).collect();
        assert_eq!(delays, [S, 2 * S, 4 * S, 5 * S, 5 * S]);
        assert_eq!(
            b.after(u32::MAX),
            5 * S,
            "many failures neither overflow nor exceed max"
        );
        assert_eq!(
            Backoff::new(2 * S, S).after(1),
            2 * S,
            "max is never below initial"
        );
    }

    #[test]
    fn without_backoff_a_failed_object_is_due_at_once() {
        let backoff = ObjectBackoff::default();
        let a = apply("a");
        let t0 = Instant::now();
        assert_eq!(backoff.failed(&a, server(), t0), Duration::ZERO);
        assert!(backoff.due(&a, 0, t0));
    }

    #[test]
    fn a_rejected_write_waits_for_a_change_or_the_max() {
        let backoff = ObjectBackoff::new(S, 60 * S);
        let a = apply("a");
        let t0 = Instant::now();
        let rejected = Failure {
            category: Category::Rejected,
            attempt: 7,
            ..server()
        };
        assert_eq!(backoff.failed(&a, rejected, t0), 60 * S);
        assert!(!backoff.due(&a, 7, t0 + 59 * S), "the same write waits");
        assert!(backoff.due(&a, 8, t0), "a different write goes at once");
        assert!(backoff.due(&a, 7, t0 + 60 * S), "the safety net");
        backoff.retain(|w| w != &a);
        assert!(backoff.due(&a, 7, t0), "forgotten");
    }
}
