//! What a failed write's category means for its next attempt: the one rule, pure, that
//! the per-object backoff applies, and how delays grow ([`Backoff`]).
//!
//! A conflict is someone else's write landing first: the next pass reads fresh state,
//! so it retries soon without growing. A throttled write waits as long as the server
//! asked. A server or transport failure is transient and backs off. A rejection (400,
//! 403, 404, 422, an admission denial) would be rejected again: it is parked until what
//! was written changes, and retried after the longest backoff only as a safety net,
//! since an admission policy can change without any of our objects changing.

use std::time::{Duration, Instant};

use super::error::Category;

/// `initial` after the first failure, doubling with each further one, never beyond `max`
/// (nor below `initial`). A zero `initial` retries at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
        }
    }

    /// The delay after `failures` consecutive failures, the first being 1.
    pub fn after(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1);
        self.initial
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max)
    }

    /// The longest delay: also how long a rejected write waits before it is tried
    /// again unchanged.
    pub fn max(&self) -> Duration {
        self.max
    }
}

/// When a failed write may be tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Not before this instant, unless the write is parked and what it writes changes.
    pub retry_at: Instant,
    /// Retrying the same write would fail the same way: wait for a change.
    pub parked: bool,
}

/// The next attempt after the `failures`-th consecutive failure (from 1) of `category`
/// at `now`. `retry_after` is the server's `Retry-After`, when it gave one; every delay
/// is bounded by the backoff's max.
pub fn decide(
    category: Category,
    failures: u32,
    retry_after: Option<Duration>,
    backoff: &Backoff,
    now: Instant,
) -> Decision {
    let (delay, parked) = match category {
        // The first step only: a conflict says nothing about the server's health.
        Category::Conflict => (backoff.after(1), false),
        Category::Throttled => (
            retry_after.map_or_else(|| backoff.after(failures), |d| d.min(backoff.max())),
            false,
        ),
        Category::Server => (backoff.after(failures), false),
        Category::Rejected => (backoff.max(), true),
    };
    Decision {
        retry_at: now.checked_add(delay).unwrap_or(now),
        parked,
    }
}

/// The server's `Retry-After`: kube hands the Status on, whose
/// `details.retryAfterSeconds` the API server fills in for a 429 (the HTTP header
/// itself is read only by kube's own retry layer, and not passed on). Zero means none.
pub fn retry_after(err: &kube::Error) -> Option<Duration> {
    match err {
        kube::Error::Api(status) => status
            .details
            .as_ref()
            .map(|d| d.retry_after_seconds)
            .filter(|s| *s > 0)
            .map(|s| Duration::from_secs(u64::from(s))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn backoff() -> Backoff {
        Backoff::new(S, 60 * S)
    }

    fn delay(category: Category, failures: u32, retry_after: Option<Duration>) -> (Duration, bool) {
        let now = Instant::now();
        let d = decide(category, failures, retry_after, &backoff(), now);
        (d.retry_at - now, d.parked)
    }

    #[test]
    fn server_failures_back_off_exponentially() {
        let delays: Vec<_> = (1..=8).map(|n| delay(Category::Server, n, None)).collect();
        let secs: Vec<u64> = delays.iter().map(|(d, _)| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert!(delays.iter().all(|(_, parked)| !parked));
    }

    #[test]
    fn a_conflict_retries_on_the_next_pass_however_often_it_happened() {
        assert_eq!(delay(Category::Conflict, 1, None), (S, false));
        assert_eq!(delay(Category::Conflict, 20, None), (S, false));
    }

    #[test]
    fn throttling_waits_for_retry_after_within_the_max_else_backs_off() {
        assert_eq!(delay(Category::Throttled, 1, Some(7 * S)), (7 * S, false));
        assert_eq!(
            delay(Category::Throttled, 1, Some(3600 * S)),
            (60 * S, false),
            "bounded by the max"
        );
        assert_eq!(delay(Category::Throttled, 3, None), (4 * S, false));
    }

    #[test]
    fn a_rejection_is_parked_until_the_safety_net_resync() {
        assert_eq!(delay(Category::Rejected, 1, None), (60 * S, true));
        assert_eq!(delay(Category::Rejected, 1, Some(5 * S)), (60 * S, true));
    }

    #[test]
    fn without_backoff_everything_but_the_parking_is_immediate() {
        let none = Backoff::new(Duration::ZERO, Duration::ZERO);
        let now = Instant::now();
        for category in [
            Category::Conflict,
            Category::Throttled,
            Category::Server,
            Category::Rejected,
        ] {
            let d = decide(category, 3, Some(S), &none, now);
            assert_eq!(d.retry_at, now, "{category}");
        }
    }

    #[test]
    fn retry_after_comes_from_the_status_details() {
        let status = |seconds: u32| {
            let s: kube::core::Status = serde_json::from_value(serde_json::json!({
                "code": 429, "reason": "TooManyRequests", "message": "slow down",
                "details": {"retryAfterSeconds": seconds},
            }))
            .unwrap();
            kube::Error::Api(s.boxed())
        };
        assert_eq!(retry_after(&status(3)), Some(3 * S));
        assert_eq!(retry_after(&status(0)), None);
    }
}
