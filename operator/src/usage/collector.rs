//! The task that samples the source every `usage.interval` into a [`UsageState`].
//!
//! It runs on its own, beside the planner loop, and shares nothing with it but the state
//! (a mutex held for assignments only): a slow or dead source delays nobody. Each sample
//! has a deadline (the interval: one sample never overlaps the next); a Prometheus
//! source also has its per-request `usage.prometheus.timeout`.
//!
//! Logging follows changes, not attempts: the source coming up, going down (warning, with
//! the error and the age of the usage kept), failing with a different error, recovering,
//! and bad series appearing or going away. Repeats of the same state are at debug level.
//!
//! Wiring, in the runtime:
//!
//! ```ignore
//! let usage = UsageState::new();
//! if let Some(collector) = Collector::from_config(&config.usage, &client, usage.clone())? {
//!     // Optional: re-plan after each good sample, so that statuses show it promptly,
//!     // and report the source's health (e.g. to /metrics) after every attempt.
//!     let collector = collector
//!         .wake(changed.clone())
//!         .on_sample(move |h| metrics.observe_usage_source(source, h, Timestamp::now()));
//!     tokio::spawn(collector.run(stop.clone().wait()));
//! }
//! let reconciler = EstateReconciler::new(..).with_usage(usage.clone());
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::Client;
use tokio::sync::Notify;
use tokio::time::MissedTickBehavior;

use super::state::{Health, Transition, UsageState};
use super::{Reading, Source, UsageError};
use crate::config::UsageConfig;

/// The shortest interval the collector accepts (the configuration requires more).
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Called with the state's health after every attempt.
type Observer = Arc<dyn Fn(&Health) + Send + Sync>;

/// Samples a source into a state until stopped.
pub struct Collector {
    source: Source,
    interval: Duration,
    deadline: Duration,
    state: UsageState,
    wake: Option<Arc<Notify>>,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("source", &self.source)
            .field("interval", &self.interval)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Collector {
    /// Samples `source` every `interval`, each sample given `interval` to finish.
    pub fn new(source: Source, interval: Duration, state: UsageState) -> Self {
        let interval = interval.max(MIN_INTERVAL);
        state.set_source(source.name());
        Self {
            source,
            interval,
            deadline: interval,
            state,
            wake: None,
            observer: None,
        }
    }

    /// The collector `config` asks for, or `None` for `source: none`. `client` is the
    /// operator's, used by the metrics API source. Fails on configuration only.
    pub fn from_config(
        config: &UsageConfig,
        client: &Client,
        state: UsageState,
    ) -> Result<Option<Self>, UsageError> {
        Ok(Source::from_config(config, client)?.map(|source| Self::new(source, config.interval, state)))
    }

    /// Gives each sample `deadline` instead of the interval.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Notifies `wake` after each good sample (e.g. the planner's change signal).
    pub fn wake(mut self, wake: Arc<Notify>) -> Self {
        self.wake = Some(wake);
        self
    }

    /// Calls `observer` with the health of the source after every attempt, good or not
    /// (e.g. to export it as metrics). It runs on the collector's task: keep it quick.
    pub fn on_sample(mut self, observer: impl Fn(&Health) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    pub fn state(&self) -> &UsageState {
        &self.state
    }

    /// Samples until `stop` completes; a sample in flight is dropped then.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = ticker.tick() => {}
            }
            tokio::select! {
                () = &mut stop => break,
                _ = self.sample_once() => {}
            }
        }
    }

    /// Takes one sample into the state, logs what changed, and says what it was.
    pub async fn sample_once(&self) -> Transition {
        let attempted_at = Timestamp::now();
        let outcome = match tokio::time::timeout(self.deadline, self.source.read()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(UsageError::Deadline {
                source_name: self.source.name(),
                after: self.deadline,
            }),
        };
        let previous_skipped = self.state.health().skipped;
        let skipped = outcome.as_ref().ok().map(|r: &Reading| r.skipped.clone());
        let pods = outcome.as_ref().map_or(0, |r| r.sample.pods.len());
        let transition = self.state.record(attempted_at, outcome);
        self.log(transition, pods);
        if let Some(observer) = &self.observer {
            observer(&self.state.health());
        }
        if let Some(skipped) = skipped {
            log_skipped(&self.source.name(), &previous_skipped, &skipped);
            if let Some(wake) = &self.wake {
                wake.notify_one();
            }
        }
        transition
    }

    fn log(&self, transition: Transition, pods: usize) {
        let source = self.source.name();
        let health = self.state.health();
        let error = health.last_error.as_ref().map(|e| e.to_string());
        let age = health.age(Timestamp::now()).map(|d| format!("{}s", d.as_secs()));
        match transition {
            Transition::Up => tracing::info!(%source, pods, "usage source up"),
            Transition::StillUp => tracing::debug!(%source, pods, "usage sampled"),
            Transition::Recovered { after } => {
                tracing::info!(%source, pods, failed_attempts = after, "usage source recovered")
            }
            Transition::Down => tracing::warn!(
                %source,
                error = error.as_deref().unwrap_or_default(),
                kept_usage_age = age.as_deref().unwrap_or("none"),
                "usage source down; the last measured usage is kept"
            ),
            Transition::StillDown { same_error: false } => tracing::warn!(
                %source,
                error = error.as_deref().unwrap_or_default(),
                failed_attempts = health.consecutive_failures,
                kept_usage_age = age.as_deref().unwrap_or("none"),
                "usage source still down, with another error"
            ),
            Transition::StillDown { same_error: true } => tracing::debug!(
                %source,
                failed_attempts = health.consecutive_failures,
                "usage source still down"
            ),
        }
    }
}

/// Warns when bad series appear or change, says when they are gone.
fn log_skipped(source: &str, previous: &crate::usage::Skipped, now: &crate::usage::Skipped) {
    if now.count > 0 && (previous.count == 0 || previous.first != now.first) {
        tracing::warn!(
            %source,
            skipped = now.count,
            first = now.first.as_deref().unwrap_or_default(),
            "usage sample skipped unusable series"
        );
    } else if now.count == 0 && previous.count > 0 {
        tracing::info!(%source, "usage sample has no unusable series any more");
    }
}

/// Samples `source` every `interval` into `state` until `stop` completes.
pub async fn run(source: Source, interval: Duration, state: UsageState, stop: impl Future<Output = ()>) {
    Collector::new(source, interval, state).run(stop).await;
}
