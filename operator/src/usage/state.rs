//! The last good reading and the health of the source, shared between the collector
//! (which writes it) and the planner loop, metrics or reports (which read it).
//!
//! Reading never waits on the source: a failed or slow attempt leaves the last good
//! sample in place with its time, so usage shown while the source is down is the last
//! measured value, and its age says how stale it is.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::{Reading, Sample, Skipped, Usage, UsageError, aggregate};
use crate::plan::{Plan, Settings};

/// A cloneable handle on the collected usage; every clone sees the same state.
#[derive(Clone, Debug, Default)]
pub struct UsageState {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    source: Option<String>,
    sample: Option<Arc<Sample>>,
    skipped: Skipped,
    usage: Option<Arc<Usage>>,
    attempted_at: Option<Timestamp>,
    up: Option<bool>,
    last_error: Option<Arc<UsageError>>,
    consecutive_failures: u64,
}

/// The health of the source and the age of what it last gave.
#[derive(Clone, Debug, Default)]
pub struct Health {
    /// The source's name (`prometheus <url>`, `metrics.k8s.io/v1beta1`), once a collector runs.
    pub source: Option<String>,
    /// When the last good sample was measured.
    pub sampled_at: Option<Timestamp>,
    /// Pods in the last good sample.
    pub pods: usize,
    /// What the last good reading skipped.
    pub skipped: Skipped,
    /// When the source was last asked.
    pub attempted_at: Option<Timestamp>,
    /// Whether the last attempt succeeded; `None` before the first one.
    pub up: Option<bool>,
    /// The error of the last failed attempt (kept after a recovery, for the record).
    pub last_error: Option<Arc<UsageError>>,
    /// Failed attempts since the last good one.
    pub consecutive_failures: u64,
}

impl Health {
    /// How old the last good sample is at `now` (zero for a sample from the future).
    pub fn age(&self, now: Timestamp) -> Option<Duration> {
        let at = self.sampled_at?;
        Some(Duration::try_from(now.duration_since(at)).unwrap_or(Duration::ZERO))
    }
}

/// What recording an attempt changed, for the collector's logging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The first attempt succeeded.
    Up,
    /// Succeeded, as the one before.
    StillUp,
    /// Succeeded after `after` failures.
    Recovered { after: u64 },
    /// Failed after a success, or as the first attempt.
    Down,
    /// Failed again; `same_error` when with the message of the previous failure.
    StillDown { same_error: bool },
}

impl UsageState {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves consistent data (every write
        // is a plain assignment): keep going rather than spread the panic.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Names the source, for [`Health::source`].
    pub fn set_source(&self, name: String) {
        self.lock().source = Some(name);
    }

    /// Records an attempt made at `attempted_at`: a good reading replaces the sample, a
    /// failure keeps the previous one.
    pub fn record(&self, attempted_at: Timestamp, outcome: Result<Reading, UsageError>) -> Transition {
        let mut s = self.lock();
        s.attempted_at = Some(attempted_at);
        let was_up = s.up;
        match outcome {
            Ok(reading) => {
                s.sample = Some(Arc::new(reading.sample));
                s.skipped = reading.skipped;
                s.up = Some(true);
                let failures = std::mem::take(&mut s.consecutive_failures);
                match was_up {
                    None => Transition::Up,
                    Some(true) => Transition::StillUp,
                    Some(false) => Transition::Recovered { after: failures },
                }
            }
            Err(e) => {
                let same_error = s
                    .last_error
                    .as_ref()
                    .is_some_and(|last| last.to_string() == e.to_string());
                s.last_error = Some(Arc::new(e));
                s.up = Some(false);
                s.consecutive_failures += 1;
                match was_up {
                    Some(false) => Transition::StillDown { same_error },
                    _ => Transition::Down,
                }
            }
        }
    }

    /// The last good sample, however old.
    pub fn sample(&self) -> Option<Arc<Sample>> {
        self.lock().sample.clone()
    }

    /// The last good sample attributed by `plan` (the planner's latest), kept as
    /// [`Self::usage`] for other readers. `None` before the first good sample. The
    /// attribution runs outside the lock, so the collector is never held up by it.
    pub fn aggregate(&self, plan: &Plan, settings: &Settings) -> Option<Arc<Usage>> {
        let sample = self.sample()?;
        let usage = Arc::new(aggregate(plan, settings, &sample));
        let mut s = self.lock();
        // A newer sample may have come in meanwhile; it gets its turn on the next pass.
        let newer = s.usage.as_ref().is_some_and(|u| u.at > usage.at);
        if !newer {
            s.usage = Some(usage.clone());
        }
        Some(usage)
    }

    /// The last usage [`Self::aggregate`] made, if any.
    pub fn usage(&self) -> Option<Arc<Usage>> {
        self.lock().usage.clone()
    }

    pub fn health(&self) -> Health {
        let s = self.lock();
        Health {
            source: s.source.clone(),
            sampled_at: s.sample.as_ref().map(|x| x.at),
            pods: s.sample.as_ref().map_or(0, |x| x.pods.len()),
            skipped: s.skipped.clone(),
            attempted_at: s.attempted_at,
            up: s.up,
            last_error: s.last_error.clone(),
            consecutive_failures: s.consecutive_failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Assignments, Snapshot, plan};
    use crate::quantity::Res;
    use crate::synthetic::{department, pool, workload};
    use crate::usage::PodUsage;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).unwrap()
    }

    fn reading(at: i64, cpu: i64) -> Reading {
        Reading {
            sample: Sample {
                at: t(at),
                pods: vec![PodUsage {
                    namespace: "dept-fin".into(),
                    pod: "ledger-5f6d7c8b9-aaaaa".into(),
                    used: Res::new(cpu, 1 << 20),
                }],
            },
            skipped: Skipped::default(),
        }
    }

    fn down() -> UsageError {
        UsageError::Request {
            url: "http://prom:9090".into(),
            query: "up".into(),
            reason: "connection refused".into(),
        }
    }

    #[test]
    fn a_failure_keeps_the_last_good_sample_with_its_age() {
        let state = UsageState::new();
        let s = Snapshot {
            pools: vec![pool("p", 3, "100", "400Gi")],
            departments: vec![department("fin", 3, "50", "200Gi", 10)],
            services: vec![workload("dept-fin", "ledger", 2, 2, "1", "1Gi")],
            ..Default::default()
        };
        let p = plan(&s, &Assignments::default());
        assert!(
            state.aggregate(&p, &s.settings).is_none(),
            "nothing before the first sample"
        );
        assert_eq!(state.health().up, None);

        assert_eq!(state.record(t(100), Ok(reading(100, 300))), Transition::Up);
        assert_eq!(state.record(t(160), Ok(reading(160, 400))), Transition::StillUp);
        assert_eq!(state.record(t(220), Err(down())), Transition::Down);
        assert_eq!(
            state.record(t(280), Err(down())),
            Transition::StillDown { same_error: true }
        );
        let h = state.health();
        assert_eq!(h.up, Some(false));
        assert_eq!(h.consecutive_failures, 2);
        assert_eq!(h.sampled_at, Some(t(160)));
        assert_eq!(h.attempted_at, Some(t(280)));
        assert_eq!(h.age(t(300)), Some(Duration::from_secs(140)));
        assert_eq!(h.age(t(100)), Some(Duration::ZERO));
        assert!(h.last_error.unwrap().to_string().contains("connection refused"));

        let u = state.aggregate(&p, &s.settings).expect("the last good sample");
        assert_eq!(u.at, Some(t(160)));
        assert_eq!(u.services["dept-fin/ledger"], Res::new(400, 1 << 20));
        assert_eq!(state.usage().unwrap().at, Some(t(160)));

        assert_eq!(
            state.record(t(340), Ok(reading(340, 500))),
            Transition::Recovered { after: 2 }
        );
        assert_eq!(state.health().consecutive_failures, 0);
        assert_eq!(state.health().up, Some(true));
    }
}
