//! `govcloud run`: the operator process.
//!
//! Watch caches feed one serialized planner loop: whenever anything changes (debounced)
//! or the resync interval passes, it snapshots the caches and makes one estate pass —
//! plan, render, apply, sweep, statuses and events. Decisions live in status, so a
//! restarted operator with nothing changed re-plans identically and writes nothing.
//!
//! With leader election, every replica watches and serves probes, but only the holder of
//! the Lease runs the planner loop. A replica that loses the Lease stops at once, mid-pass
//! if need be, and `run` fails so that the process exits and restarts as a standby.
//!
//! SIGTERM mid-pass: a pass over a large estate can outlast the pod's grace period, so
//! it is not finished. It starts no further write, the writes in flight get
//! `controller.shutdownTimeout` to finish (then they are dropped), the Lease is released
//! and the process exits 0. The next leader plans from the same statuses and makes the
//! writes left undone.

mod caches;
mod crds_check;
mod http;
mod leader;
mod shutdown;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use tokio::sync::Notify;

pub use http::{HttpState, Readiness, router};
pub use leader::Loss;

use crate::config::OperatorConfig;
use crate::controller::{
    Backoff, Category, EstateReconciler, Live, Needed, ObjectBackoff, PassReport, Present, Why,
};
use crate::metrics::{Metrics, PassKind};
use crate::plan::ServiceKey;
use crate::usage::{Collector, UsageError, UsageState};

/// Why the operator could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot reach the Kubernetes API (kubeconfig or in-cluster config): {0}")]
    Connect(#[source] kube::Error),
    #[error("Kubernetes API request failed: {0}")]
    Cluster(#[source] kube::Error),
    #[error(
        "the govcloud CRDs are not installed ({}); install them with `govcloud crds | kubectl apply --server-side -f -` (or `kubectl apply -f crds/`)",
        .0.join(", ")
    )]
    CrdsMissing(Vec<String>),
    #[error(
        "lost leadership of the Lease {lease} ({loss}); stopped writing, exiting to restart as a standby"
    )]
    LeadershipLost { lease: String, loss: leader::Loss },
    #[error("serving HTTP on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("a watch cache stopped before it synced")]
    CacheStopped,
    /// The usage source's configuration cannot be used (exit code 2, like a bad config).
    #[error("usage source: {0}")]
    Usage(#[source] UsageError),
}

/// Runs the operator until SIGTERM or Ctrl-C.
pub async fn run(config: OperatorConfig) -> Result<(), RunError> {
    // Already installed only when something in this process did it first: fine either way.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = connect().await?;
    // Before the first call to the cluster: a source the config cannot make (an
    // unreadable caFile) is a config error, whether or not the cluster answers.
    let usage = UsageState::new();
    let collector = Collector::from_config(&config.usage, &client, usage.clone()).map_err(RunError::Usage)?;
    let missing = crds_check::missing_crds(&client).await?;
    if !missing.is_empty() {
        return Err(RunError::CrdsMissing(missing));
    }

    let (trigger, stop) = shutdown::channel();
    let ready = Readiness::default();
    let metrics = Arc::new(Metrics::new(&config.metrics));
    let state = http::HttpState {
        ready: ready.clone(),
        metrics: metrics.clone(),
    };
    let server = tokio::spawn(http::serve(config.http.address, state, stop.clone()));
    tokio::spawn(async move {
        shutdown::on_signal().await;
        tracing::info!("shutting down");
        trigger.fire();
    });

    // Competing from the start, so that the Lease is won while the caches fill.
    let leadership = config.leader_election.enabled.then(|| {
        let namespace = config.lease_namespace();
        leader::Leadership::start(
            client.clone(),
            namespace,
            &config.leader_election,
            leader::identity(),
        )
    });
    let changes = caches::Changes {
        notify: Arc::new(Notify::new()),
        log: Arc::default(),
    };
    let usage_sampled = Arc::new(Notify::new());
    if let Some(collector) = collector {
        start_usage(collector, &config, &usage_sampled, &metrics, &stop);
    }
    let caches = caches::Caches::start(&client, changes.clone());
    tokio::select! {
        synced = caches.ready() => synced.map_err(|_| RunError::CacheStopped)?,
        () = stop.clone().wait() => return stand_down(leadership, server).await,
    }
    tracing::info!("caches synced");
    let shared = Shared {
        ready: &ready,
        metrics: &metrics,
        usage: &usage,
    };

    let Some(leadership) = leadership else {
        plan_loop(&config, client, &caches, changes, usage_sampled, shared, stop).await;
        return finish(server).await;
    };
    // A standby is ready once synced: it can take over at once, and a rollout of two
    // replicas waits for every replica to be ready.
    ready.set(true);
    tokio::select! {
        () = leadership.leading() => {},
        () = stop.clone().wait() => return stand_down(Some(leadership), server).await,
    }
    tracing::info!(identity = leadership.identity(), "leading: the planner starts");
    // Dropping the loop on a loss cancels a pass in flight: no write after the deadline.
    tokio::select! {
        () = plan_loop(&config, client, &caches, changes, usage_sampled, shared, stop) => {},
        loss = leadership.lost() => {
            return Err(RunError::LeadershipLost { lease: leadership.lease().to_string(), loss });
        }
    }
    stand_down(Some(leadership), server).await
}

/// What the planner loop shares with the HTTP server (readiness, metrics) and the usage
/// collector (the usage it attributes and writes).
#[derive(Clone, Copy)]
struct Shared<'a> {
    ready: &'a Readiness,
    metrics: &'a Metrics,
    usage: &'a UsageState,
}

/// The User-Agent of every request, so that the API server's audit log and its
/// per-client metrics name the operator rather than an anonymous client.
pub const USER_AGENT: &str = concat!("govcloud/", env!("CARGO_PKG_VERSION"));

/// A client for the current kubeconfig or the in-cluster config.
async fn connect() -> Result<Client, RunError> {
    let mut config = kube::Config::infer()
        .await
        .map_err(|e| RunError::Connect(kube::Error::InferConfig(e)))?;
    config.headers.push((
        reqwest::header::USER_AGENT,
        reqwest::header::HeaderValue::from_static(USER_AGENT),
    ));
    Client::try_from(config).map_err(RunError::Connect)
}

/// What woke the planner loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Woke {
    /// A watch saw a change (the changes are in the log).
    Change,
    /// A new usage sample: every status showing usage may change.
    Usage,
    /// The resync interval, a retry, or a maintenance window.
    Timer,
}

/// The serialized planner loop, until `stop`: a full pass first and on every timer, and
/// on each change the pass that change needs (see `controller::Needed`).
async fn plan_loop(
    config: &OperatorConfig,
    client: Client,
    caches: &caches::Caches,
    changes: caches::Changes,
    usage_sampled: Arc<Notify>,
    shared: Shared<'_>,
    stop: shutdown::Shutdown,
) {
    let Shared {
        ready,
        metrics,
        usage,
    } = shared;
    let reporter = Reporter {
        controller: "govcloud".into(),
        instance: std::env::var("POD_NAME").ok(),
    };
    let backoff_config = &config.controller.backoff;
    let reconciler = EstateReconciler::new(client.clone(), Some(Recorder::new(client, reporter)))
        .with_concurrency(config.controller.concurrency as usize)
        .with_live(Live::Cached(caches.managed()))
        .with_usage(usage.clone())
        .with_backoff(ObjectBackoff::new(backoff_config.initial, backoff_config.max))
        .with_stop(stop.token());
    let settings = config.settings();
    let (debounce, resync) = (config.controller.debounce, config.controller.resync);
    // Backoff of the whole pass, for a plan that cannot be rendered (no object to blame
    // a write on); failing writes back off per object inside the reconciler.
    let render_backoff = Backoff::new(backoff_config.initial, backoff_config.max);
    let mut render_failures = 0u32;
    let mut woke = Woke::Timer;
    let mut last_full = Instant::now();
    let (mut object_retry, mut wake_at) = (None, None);
    loop {
        // A change (or a sample) waits for the burst it may start to settle: services
        // created together are planned together (largest first, as `govcloud plan` does).
        if woke != Woke::Timer {
            tokio::select! {
                () = tokio::time::sleep(debounce) => {},
                () = stop.clone().wait() => break,
            }
        }
        let taken = changes.log.take();
        let needed = match woke {
            Woke::Timer => Needed::Full(Why::Timer, None),
            Woke::Usage => Needed::Full(Why::Usage, None),
            Woke::Change if render_failures > 0 => Needed::Full(Why::First, None),
            Woke::Change => {
                let present = |key: &ServiceKey| {
                    caches.service(key).map(|s| Present {
                        created: s.metadata.creation_timestamp,
                        deleting: s.metadata.deletion_timestamp.is_some(),
                    })
                };
                reconciler.needed(&taken, &present, Timestamp::now())
            }
        };
        let now = Time(Timestamp::now());
        let started = Instant::now();
        let outcome = match &needed {
            Needed::Nothing => None,
            Needed::Changes { added, observed } => {
                let pass = reconciler.pass_changes(added, observed, caches, &now);
                let in_flight = || reconciler.writes_in_flight();
                let Some(outcome) = drain(pass, &stop, config.controller.shutdown_timeout, in_flight).await
                else {
                    return;
                };
                // No plan to add to (a full pass failed since): a full pass instead.
                let kind = if added.is_empty() {
                    PassKind::Observed
                } else {
                    PassKind::Added
                };
                outcome.map(|o| (kind, o))
            }
            Needed::Full(..) => None,
        };
        let outcome = match (outcome, &needed) {
            (Some(o), _) => Some(o),
            (None, Needed::Nothing) => None,
            (None, _) => {
                last_full = Instant::now();
                let snapshot = caches.snapshot(settings.clone(), now.0);
                let pass = reconciler.pass(&snapshot, &now);
                let in_flight = || reconciler.writes_in_flight();
                let Some(outcome) = drain(pass, &stop, config.controller.shutdown_timeout, in_flight).await
                else {
                    return;
                };
                let why = match needed {
                    Needed::Full(why, _) => why,
                    // Added, with no plan kept to add to: as on the first pass.
                    _ => Why::First,
                };
                Some((
                    PassKind::Full(why),
                    outcome.map(|(plan, report)| (Arc::new(plan), report)),
                ))
            }
        };
        if let Some((kind, outcome)) = outcome {
            if let Needed::Full(why, Some(object)) = &needed {
                tracing::debug!(reason = why.as_str(), %object, "full pass");
            }
            match outcome {
                Ok((_, report)) if report.interrupted => {
                    // Not observed: its counts are a fragment, and it did not converge.
                    log_errors(&report);
                    tracing::info!(
                        skipped = report.skipped,
                        applied = report.summary.applied,
                        deleted = report.summary.deleted,
                        status_writes = report.status_writes,
                        errors = report.errors.len(),
                        "estate pass cut short by shutdown: {} writes skipped, left for the next run",
                        report.skipped
                    );
                    return;
                }
                Ok((plan, report)) => {
                    metrics.observe_pass(&report, started.elapsed());
                    metrics.observe_pass_kind(kind);
                    metrics.observe_planning(report.planning);
                    metrics.observe_plan(&plan, usage.usage().as_deref());
                    log_errors(&report);
                    tracing::info!(
                        pass = kind.as_str(),
                        took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                        applied = report.summary.applied,
                        unchanged = report.summary.unchanged,
                        deleted = report.summary.deleted,
                        deferred = report.summary.deferred,
                        status_writes = report.status_writes,
                        events = report.events,
                        finalizer_writes = report.finalizer_writes,
                        errors = report.errors.len(),
                        "estate pass"
                    );
                    ready.set(true);
                    render_failures = 0;
                    (object_retry, wake_at) = (report.retry_at, plan.wake_at);
                }
                Err(e) => {
                    metrics.observe_render_failure(started.elapsed());
                    tracing::error!(error = %e, "the plan could not be rendered");
                    render_failures = render_failures.saturating_add(1);
                    (object_retry, wake_at) = (None, None);
                }
            }
        }
        let render_retry = (render_failures > 0).then(|| render_backoff.after(render_failures));
        let until_object = object_retry.map(|at: Instant| at.saturating_duration_since(Instant::now()));
        // A waiting move's windows open or close then: plan again on time, not at the
        // next resync.
        let until_window = wake_at.map(|at| until(at, Timestamp::now()));
        // The resync counts from the last full pass: passes over changes do not put it off.
        let until_resync = (last_full + resync).saturating_duration_since(Instant::now());
        let wait = [Some(until_resync), render_retry, until_object, until_window]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(resync)
            .max(Duration::from_millis(100));
        // Wait for a change, a usage sample, a retry, or the resync interval.
        woke = tokio::select! {
            () = changes.notify.notified() => Woke::Change,
            () = usage_sampled.notified() => Woke::Usage,
            () = tokio::time::sleep(wait) => Woke::Timer,
            () = stop.clone().wait() => break,
        };
    }
}

fn log_errors(report: &PassReport) {
    for e in &report.errors {
        let next = match e.category {
            Category::Rejected => "rejected; not retried until the object or its owner changes",
            Category::Throttled => "throttled; retried after the server's Retry-After",
            Category::Conflict => "conflict; retried on the next pass",
            Category::Server => "write failed; retried after its backoff",
        };
        tracing::warn!(object = %e.object, category = %e.category, error = %e, "{next}");
    }
}

/// Runs `pass` to its end, unless the stop comes while it runs: then the pass starts no
/// further write (the reconciler holds the same signal) and gets `timeout` for the
/// writes in flight (`in_flight` counts them). `None`: they outlasted it and were
/// abandoned, unfinished, so that the process still exits before the kubelet's SIGKILL.
async fn drain<T>(
    pass: impl Future<Output = T>,
    stop: &shutdown::Shutdown,
    timeout: Duration,
    in_flight: impl Fn() -> usize,
) -> Option<T> {
    let mut pass = std::pin::pin!(pass);
    tokio::select! {
        outcome = &mut pass => return Some(outcome),
        () = stop.clone().wait() => {}
    }
    tracing::info!(
        in_flight = in_flight(),
        timeout = %crate::duration::format(timeout),
        "stopping mid-pass: no new writes; waiting for those in flight"
    );
    match tokio::time::timeout(timeout, pass).await {
        Ok(outcome) => Some(outcome),
        Err(_) => {
            let abandoned = in_flight();
            tracing::warn!(
                abandoned,
                "shutdown timeout: {abandoned} writes still in flight abandoned; the next run makes whichever did not land"
            );
            None
        }
    }
}

/// Starts sampling usage beside the planner. Every replica samples, so that a standby
/// that takes over has usage at once; a good sample wakes the planner, which writes it
/// to statuses and `/metrics`; the source's health goes to `/metrics` after each attempt.
fn start_usage(
    collector: Collector,
    config: &OperatorConfig,
    changed: &Arc<Notify>,
    metrics: &Arc<Metrics>,
    stop: &shutdown::Shutdown,
) {
    let (metrics, source) = (metrics.clone(), config.usage.source);
    let collector = collector.wake(changed.clone()).on_sample(move |health| {
        metrics.observe_usage_source(source, health, Timestamp::now());
    });
    tracing::info!(source = ?config.usage.source, interval = ?config.usage.interval, "sampling usage");
    tokio::spawn(collector.run(stop.clone().wait()));
}

/// Releases the Lease (after the last write) so that a standby takes over at once, then
/// lets the HTTP server drain.
async fn stand_down(
    leadership: Option<leader::Leadership>,
    server: tokio::task::JoinHandle<Result<(), RunError>>,
) -> Result<(), RunError> {
    if let Some(leadership) = leadership {
        leadership.step_down().await;
    }
    finish(server).await
}

async fn finish(server: tokio::task::JoinHandle<Result<(), RunError>>) -> Result<(), RunError> {
    match server.await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}

/// From `now` to `at` on the wall clock, zero when `at` has passed; a second late rather
/// than early, so that the window has surely opened when the pass looks.
fn until(at: Timestamp, now: Timestamp) -> Duration {
    let d = at.duration_since(now);
    if d.is_negative() {
        return Duration::ZERO;
    }
    Duration::try_from(d)
        .unwrap_or(Duration::MAX)
        .saturating_add(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{drain, shutdown, until};

    #[test]
    fn the_wait_for_a_window_ends_just_after_it_opens_and_never_before_now() {
        let now: jiff::Timestamp = "2027-03-06T01:00:00Z".parse().unwrap();
        let opens: jiff::Timestamp = "2027-03-06T02:00:00Z".parse().unwrap();
        assert_eq!(until(opens, now), Duration::from_secs(3_601));
        assert_eq!(until(now, opens), Duration::ZERO);
    }

    const LONG: Duration = Duration::from_secs(30);

    #[tokio::test]
    async fn a_pass_without_a_stop_runs_to_its_end() {
        let (_trigger, stop) = shutdown::channel();
        let pass = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            "done"
        };
        assert_eq!(
            drain(pass, &stop, Duration::from_millis(1), || 0).await,
            Some("done")
        );
    }

    #[tokio::test]
    async fn a_stopped_pass_gets_the_timeout_to_finish_its_writes() {
        let (trigger, stop) = shutdown::channel();
        let pass = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            "finished its writes"
        };
        let fire = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            trigger.fire();
        };
        let (outcome, ()) = tokio::join!(drain(pass, &stop, LONG, || 1), fire);
        assert_eq!(outcome, Some("finished its writes"));
    }

    #[tokio::test]
    async fn writes_that_outlast_the_timeout_are_abandoned_and_the_wait_ends_on_time() {
        let (trigger, stop) = shutdown::channel();
        trigger.fire();
        let timeout = Duration::from_millis(200);
        let started = Instant::now();
        let hung = std::future::pending::<()>();
        assert_eq!(drain(hung, &stop, timeout, || 3).await, None);
        let waited = started.elapsed();
        assert!(
            waited >= timeout && waited < LONG,
            "waited {waited:?} for a timeout of {timeout:?}"
        );
    }
}
