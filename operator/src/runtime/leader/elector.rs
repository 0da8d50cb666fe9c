//! The election's state machine, without I/O or clocks of its own: the caller says when
//! a round started and ended, so the deadline logic is testable with made-up instants.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// What one acquire-or-renew round found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Round {
    /// The Lease is ours: created, taken over, or renewed, by a write the API server
    /// accepted against the version we had read (no other write came between).
    Held,
    /// Another identity holds the Lease and it has not expired.
    HeldBy(String),
    /// The request failed, did not answer in time, or lost a race with another write.
    Failed,
}

/// Why a leader stopped leading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Another identity holds the Lease.
    TakenBy(String),
    /// No renewal succeeded within the renew deadline.
    NotRenewed(Duration),
    /// The election task ended, so nothing renews the Lease any more.
    ElectorStopped,
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TakenBy(holder) => write!(f, "{} holds it now", shown(holder)),
            Self::NotRenewed(deadline) => write!(f, "no renewal succeeded within {deadline:?}"),
            Self::ElectorStopped => f.write_str("the election task stopped"),
        }
    }
}

/// Where an elector stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Does not hold the Lease.
    Candidate,
    /// Leads; the last successful round started at `renewed`.
    Leading { renewed: Instant },
    /// Led, then stopped. Final: leadership is not regained in the same process.
    Lost(Loss),
}

/// A change worth acting on or logging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Started leading.
    Leads,
    /// Stopped leading.
    Lost(Loss),
}

#[derive(Clone, Debug)]
pub struct Elector {
    phase: Phase,
    renew_deadline: Duration,
}

impl Elector {
    pub fn new(renew_deadline: Duration) -> Self {
        Self {
            phase: Phase::Candidate,
            renew_deadline,
        }
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    pub fn renew_deadline(&self) -> Duration {
        self.renew_deadline
    }

    /// When a leader must have renewed by; `None` unless leading.
    pub fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Leading { renewed } => Some(renewed + self.renew_deadline),
            _ => None,
        }
    }

    /// Takes in a round that started at `started` and finished at `now`.
    pub fn observe(&mut self, started: Instant, now: Instant, round: Round) -> Option<Transition> {
        // A late answer cannot extend leadership past the deadline already reached.
        if let Some(lost) = self.expire(now) {
            return Some(lost);
        }
        let (next, transition) = match (&self.phase, round) {
            (Phase::Lost(_), _) => return None,
            // The write was made against the version read, so no other candidate can
            // have been told it won as well: leading starts at once. The round start,
            // not its end: the Lease's renewTime was written after it, so the deadline
            // never runs later than the Lease itself.
            (Phase::Candidate, Round::Held) => (Phase::Leading { renewed: started }, Some(Transition::Leads)),
            (Phase::Candidate, _) => return None,
            (Phase::Leading { .. }, Round::Held) => (Phase::Leading { renewed: started }, None),
            (Phase::Leading { .. }, Round::HeldBy(holder)) => {
                let loss = Loss::TakenBy(holder);
                (Phase::Lost(loss.clone()), Some(Transition::Lost(loss)))
            }
            (Phase::Leading { .. }, Round::Failed) => return None,
        };
        self.phase = next;
        transition
    }

    /// Loses leadership if the renew deadline has passed at `now`.
    pub fn expire(&mut self, now: Instant) -> Option<Transition> {
        let deadline = self.deadline()?;
        if now < deadline {
            return None;
        }
        let loss = Loss::NotRenewed(self.renew_deadline);
        self.phase = Phase::Lost(loss.clone());
        Some(Transition::Lost(loss))
    }
}

pub fn shown(holder: &str) -> &str {
    if holder.is_empty() { "(nobody)" } else { holder }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    /// An elector that took the Lease in a round started at `base`.
    fn leading(base: Instant) -> Elector {
        let mut e = Elector::new(1000 * MS);
        assert_eq!(
            e.observe(base, at(base, 10), Round::Held),
            Some(Transition::Leads)
        );
        e
    }

    #[test]
    fn a_candidate_whose_write_was_accepted_leads_from_the_rounds_start() {
        let t = Instant::now();
        let mut e = Elector::new(1000 * MS);
        assert_eq!(e.deadline(), None, "a candidate has no deadline");
        assert_eq!(e.observe(t, at(t, 100), Round::Held), Some(Transition::Leads));
        assert_eq!(
            e.deadline(),
            Some(at(t, 1000)),
            "counted from the round's start, not its answer"
        );
    }

    #[test]
    fn a_candidate_that_fails_or_finds_another_holder_stays_a_candidate() {
        let t = Instant::now();
        let mut e = Elector::new(1000 * MS);
        for round in [Round::Failed, Round::HeldBy("other".into())] {
            assert_eq!(e.observe(t, at(t, 10), round), None);
            assert_eq!(e.phase(), &Phase::Candidate);
        }
    }

    #[test]
    fn a_leader_that_cannot_renew_loses_at_the_deadline_and_not_before() {
        let t = Instant::now();
        let mut e = leading(t);
        assert_eq!(e.observe(at(t, 200), at(t, 700), Round::Failed), None);
        assert_eq!(e.observe(at(t, 800), at(t, 990), Round::Failed), None);
        assert_eq!(e.expire(at(t, 999)), None);
        assert!(matches!(e.phase(), Phase::Leading { .. }));
        let lost = Loss::NotRenewed(1000 * MS);
        assert_eq!(e.expire(at(t, 1000)), Some(Transition::Lost(lost.clone())));
        assert_eq!(e.phase(), &Phase::Lost(lost.clone()));
        // Final: a later success does not bring leadership back.
        assert_eq!(e.observe(at(t, 1200), at(t, 1210), Round::Held), None);
        assert_eq!(e.phase(), &Phase::Lost(lost));
        assert_eq!(e.deadline(), None);
    }

    #[test]
    fn a_renewal_moves_the_deadline_but_a_late_answer_cannot() {
        let t = Instant::now();
        let mut e = leading(t);
        assert_eq!(e.observe(at(t, 900), at(t, 950), Round::Held), None);
        assert_eq!(e.deadline(), Some(at(t, 1900)));
        assert_eq!(e.expire(at(t, 1500)), None);
        // Started in time, answered after the deadline: the leader has already given up.
        assert_eq!(
            e.observe(at(t, 1800), at(t, 1950), Round::Held),
            Some(Transition::Lost(Loss::NotRenewed(1000 * MS)))
        );
    }

    #[test]
    fn a_leader_that_sees_another_holder_loses_at_once() {
        let t = Instant::now();
        let mut e = leading(t);
        let lost = Loss::TakenBy("replica-b".into());
        assert_eq!(
            e.observe(at(t, 200), at(t, 210), Round::HeldBy("replica-b".into())),
            Some(Transition::Lost(lost.clone()))
        );
        assert_eq!(e.phase(), &Phase::Lost(lost));
    }
}
