//! When to retry a pass whose plan could not be rendered (no single object to back
//! off): soon at first, then less and less often, back to the normal resync as soon as
//! a pass renders. Failing writes back off per object (`controller::ObjectBackoff`).

use std::time::Duration;

/// The delay before the next pass: `None` (the resync interval) after a pass that
/// rendered; after one that did not, `initial`, then double the previous delay, capped at `max`.
pub fn next(previous: Option<Duration>, failed: bool, initial: Duration, max: Duration) -> Option<Duration> {
    if !failed {
        return None;
    }
    Some(match previous {
        None => initial.min(max),
        Some(d) => d.saturating_mul(2).min(max),
    })
}

#[cfg(test)]
mod tests {
    use super::next;
    use std::time::Duration;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn grows_while_failing_and_resets_on_success() {
        let (initial, max) = (S, 5 * S);
        let mut d = None;
        let mut seen = Vec::new();
        for _ in 0..5 {
            d = next(d, true, initial, max);
            seen.push(d.unwrap());
        }
        assert_eq!(seen, [S, 2 * S, 4 * S, 5 * S, 5 * S]);
        assert_eq!(
            next(d, false, initial, max),
            None,
            "a clean pass returns to the resync interval"
        );
        assert_eq!(
            next(None, true, initial, max),
            Some(S),
            "and the next failure starts small again"
        );
    }
}
