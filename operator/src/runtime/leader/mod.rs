//! Leader election on a `coordination.k8s.io` Lease, so that two or more replicas can run
//! and only one of them writes.
//!
//! A task tries to acquire or renew the Lease every `retryPeriod` ([`lease`]: writes
//! conditional on the version read, expiry judged on our own clock). A write the API
//! server accepted makes this replica the leader at once ([`elector`]). A leader gives
//! up — for good, the process exits and restarts as a candidate — when it sees another
//! holder, or when no renewal has succeeded within `renewDeadline`, which is shorter
//! than `leaseDuration`, so it stops writing before anyone else may take the Lease over.

mod elector;
mod lease;

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::LeaderElectionConfig;
pub use elector::Loss;
use elector::{Elector, Phase, Round, Transition, shown};
use lease::{LeaseLock, Release};

/// This replica's holder identity: the pod name when the Deployment passes it in
/// (`POD_NAME` from the downward API), else one unique to this process.
pub fn identity() -> String {
    let pod = std::env::var("POD_NAME").ok();
    identity_from(pod.as_deref(), &hostname(), std::process::id(), random_suffix())
}

/// The identity from its parts. Two processes on one host differ by pid, and a pid
/// reused in another container of the same host by the random suffix.
pub fn identity_from(pod: Option<&str>, host: &str, pid: u32, suffix: u32) -> String {
    match pod.map(str::trim) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => format!("{host}_{pid}_{suffix:08x}"),
    }
}

fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .chain(std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "govcloud".into())
}

/// Random enough to tell processes apart, without a dependency: std seeds every
/// `RandomState` from the OS's randomness.
fn random_suffix() -> u32 {
    let hash = RandomState::new().hash_one(std::time::SystemTime::now());
    (hash ^ (hash >> 32)) as u32
}

/// A running election: started at once, stopped by [`Leadership::step_down`].
pub struct Leadership {
    identity: String,
    lease: String,
    phase: watch::Receiver<Phase>,
    /// For the release at the end; the task has its own copy, which rounds update.
    lock: LeaseLock,
    task: JoinHandle<()>,
    request_timeout: Duration,
}

impl fmt::Debug for Leadership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leadership")
            .field("identity", &self.identity)
            .field("lease", &self.lease)
            .field("phase", &*self.phase.borrow())
            .finish_non_exhaustive()
    }
}

impl Leadership {
    /// Starts competing for the Lease `config.lease_name` in `namespace` as `identity`.
    pub fn start(client: Client, namespace: &str, config: &LeaderElectionConfig, identity: String) -> Self {
        let lease = format!("{namespace}/{}", config.lease_name);
        let lock = LeaseLock::new(
            Api::<Lease>::namespaced(client, namespace),
            &config.lease_name,
            &identity,
            config.lease_duration,
        );
        let (tx, phase) = watch::channel(Phase::Candidate);
        tracing::info!(%lease, %identity, "competing for leadership");
        let task = tokio::spawn(elect(
            lock.clone(),
            Elector::new(config.renew_deadline),
            config.retry_period,
            lease.clone(),
            tx,
        ));
        Self {
            identity,
            lease,
            phase,
            lock,
            task,
            request_timeout: config.renew_deadline,
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// `namespace/name` of the Lease.
    pub fn lease(&self) -> &str {
        &self.lease
    }

    /// Resolves once this replica leads, or has led and lost it already ([`Self::lost`]
    /// then resolves at once).
    pub async fn leading(&self) {
        let mut phase = self.phase.clone();
        let _ = phase
            .wait_for(|p| matches!(p, Phase::Leading { .. } | Phase::Lost(_)))
            .await;
    }

    /// Resolves when leadership is lost; never while it holds.
    pub async fn lost(&self) -> Loss {
        let mut phase = self.phase.clone();
        match phase.wait_for(|p| matches!(p, Phase::Lost(_))).await {
            Ok(p) => match &*p {
                Phase::Lost(loss) => loss.clone(),
                _ => Loss::ElectorStopped,
            },
            // The task is gone (it panicked): nothing renews, so leading must stop.
            Err(_) => Loss::ElectorStopped,
        }
    }

    /// Stops competing and, if this replica holds the Lease, releases it so that a
    /// standby takes over at its next round rather than after `leaseDuration`.
    pub async fn step_down(self) {
        self.task.abort();
        let _ = self.task.await;
        // Asked whatever the phase: an acquisition cut short by the abort may have landed.
        // The release reads the Lease first and writes only if it is ours.
        match tokio::time::timeout(self.request_timeout, self.lock.release()).await {
            Ok(Ok(Release::Freed)) => {
                tracing::info!(lease = %self.lease, identity = %self.identity, "released leadership")
            }
            Ok(Ok(Release::NotHolder(holder))) => {
                tracing::debug!(lease = %self.lease, holder = shown(&holder), "not the holder; nothing to release")
            }
            Ok(Ok(Release::NoLease)) => tracing::debug!(lease = %self.lease, "no Lease; nothing to release"),
            Ok(Err(e)) => {
                tracing::warn!(lease = %self.lease, error = %e, "releasing leadership failed; a standby takes over when the Lease expires")
            }
            Err(_) => tracing::warn!(
                lease = %self.lease,
                "releasing leadership timed out; a standby takes over when the Lease expires"
            ),
        }
    }
}

/// The election loop: one round every `retry`, ending when leadership is lost.
async fn elect(
    mut lock: LeaseLock,
    mut elector: Elector,
    retry: Duration,
    lease: String,
    tx: watch::Sender<Phase>,
) {
    let mut holder_seen: Option<String> = None;
    let mut failing = false;
    loop {
        let started = Instant::now();
        // A leader's round may not outlast its deadline; a candidate's is bounded too, so
        // that a request that never answers cannot stall the election.
        let limit = elector.deadline().unwrap_or(started + elector.renew_deadline());
        let round = match tokio::time::timeout_at(limit, lock.round(started)).await {
            Ok(Ok(round)) => round,
            Ok(Err(e)) => {
                // Every round of an outage would say the same: once is enough at warn.
                if failing {
                    tracing::debug!(%lease, error = %e, "Lease request failed");
                } else {
                    tracing::warn!(%lease, error = %e, "Lease request failed; retrying");
                }
                Round::Failed
            }
            Err(_) => {
                tracing::warn!(%lease, "Lease request did not answer in time; retrying");
                Round::Failed
            }
        };
        failing = round == Round::Failed;
        let held_by = match &round {
            Round::HeldBy(holder) => Some(holder.clone()),
            _ => None,
        };
        let transition = elector.observe(started, Instant::now(), round);
        // Once per holder, and only while standing by: a leader's loss is reported below.
        if let Some(holder) = held_by
            && *elector.phase() == Phase::Candidate
            && holder_seen.as_ref() != Some(&holder)
        {
            tracing::info!(%lease, %holder, "leadership held elsewhere; standing by");
            holder_seen = Some(holder);
        }
        if report(&lease, transition, &tx, &elector) {
            return;
        }
        // Wake at the deadline if it comes first, so a loss is acted on when it happens
        // rather than up to a retry period later.
        let next = Instant::now() + retry;
        tokio::time::sleep_until(elector.deadline().map_or(next, |d| d.min(next))).await;
        if report(&lease, elector.expire(Instant::now()), &tx, &elector) {
            return;
        }
    }
}

/// Logs `transition`, publishes the phase, and says whether the election is over.
fn report(lease: &str, transition: Option<Transition>, tx: &watch::Sender<Phase>, elector: &Elector) -> bool {
    match &transition {
        Some(Transition::Leads) => tracing::info!(%lease, "acquired leadership"),
        Some(Transition::Lost(loss)) => tracing::error!(%lease, %loss, "lost leadership"),
        None => {}
    }
    tx.send_if_modified(|phase| {
        // Renewals move `renewed` on every round: only a change of kind is news to waiters.
        let changed = std::mem::discriminant(phase) != std::mem::discriminant(elector.phase());
        *phase = elector.phase().clone();
        changed
    });
    matches!(elector.phase(), Phase::Lost(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::future::Future;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
    use k8s_openapi::jiff::Timestamp;
    use kube::api::{Api, Patch, PatchParams};
    use kube_fake_client::{ClientBuilder, interceptor};
    use serde_json::json;

    const MS: Duration = Duration::from_millis(1);

    impl Leadership {
        fn is_leading(&self) -> bool {
            matches!(*self.phase.borrow(), Phase::Leading { .. })
        }
    }

    #[test]
    fn the_identity_is_the_pod_name_or_else_differs_per_process() {
        assert_eq!(
            identity_from(Some("govcloud-5d8f-x2x9k"), "node1", 7, 1),
            "govcloud-5d8f-x2x9k"
        );
        assert_eq!(identity_from(Some(" "), "node1", 7, 0xab), "node1_7_000000ab");
        assert_eq!(identity_from(None, "node1", 7, 0xab), "node1_7_000000ab");
        assert_ne!(
            identity_from(None, "node1", 7, 1),
            identity_from(None, "node1", 8, 1),
            "two processes on one host"
        );
        assert_ne!(
            identity_from(None, "node1", 1, random_suffix()),
            identity_from(None, "node1", 1, random_suffix()),
            "pid 1 in two containers with one hostname"
        );
        assert!(!hostname().is_empty());
    }

    // The elector against kube-fake-client's API server, which takes the lock's merge
    // patches as RFC 7386 merges and refuses one whose resourceVersion is stale (409), as
    // the API server does. Real time: expiry is judged on the monotonic clock.

    const NS: &str = "govcloud-system";
    const LIMIT: Duration = Duration::from_secs(3);

    fn config() -> LeaderElectionConfig {
        LeaderElectionConfig {
            enabled: true,
            lease_name: "govcloud-leader".into(),
            lease_namespace: None,
            // leaseDurationSeconds counts whole seconds.
            lease_duration: Duration::from_secs(1),
            renew_deadline: 600 * MS,
            retry_period: 100 * MS,
        }
    }

    async fn within<F: Future>(what: &str, f: F) -> F::Output {
        tokio::time::timeout(LIMIT, f)
            .await
            .unwrap_or_else(|_| panic!("{what}: not within {LIMIT:?}"))
    }

    async fn holder(client: &Client) -> String {
        let lease = Api::<Lease>::namespaced(client.clone(), NS)
            .get("govcloud-leader")
            .await
            .unwrap();
        lease.spec.and_then(|s| s.holder_identity).unwrap_or_default()
    }

    #[tokio::test]
    async fn of_two_electors_exactly_one_leads_and_the_other_takes_over_when_it_steps_down() {
        let started = std::time::Instant::now();
        let client = ClientBuilder::new().build().await.unwrap();
        let a = Leadership::start(client.clone(), NS, &config(), "replica-a".into());
        let b = Leadership::start(client.clone(), NS, &config(), "replica-b".into());
        within("one of them leads", async {
            tokio::select! {
                () = a.leading() => {},
                () = b.leading() => {},
            }
        })
        .await;
        // Several rounds later it is still exactly one, and the Lease names it.
        tokio::time::sleep(5 * config().retry_period).await;
        assert!(a.is_leading() != b.is_leading(), "a: {a:?}, b: {b:?}");
        let (leader, standby) = if a.is_leading() { (a, b) } else { (b, a) };
        assert_eq!(holder(&client).await, leader.identity());

        let standby_id = standby.identity().to_string();
        let handover = std::time::Instant::now();
        leader.step_down().await;
        assert_eq!(holder(&client).await, "", "stepping down releases the Lease");
        within("the standby takes over", standby.leading()).await;
        assert!(standby.is_leading());
        assert_eq!(holder(&client).await, standby_id);
        eprintln!(
            "handover {:.2}s, test {:.2}s",
            handover.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        standby.step_down().await;
        assert_eq!(holder(&client).await, "");
    }

    #[tokio::test]
    async fn a_standby_stepping_down_leaves_the_leaders_lease_alone() {
        let client = ClientBuilder::new().build().await.unwrap();
        let a = Leadership::start(client.clone(), NS, &config(), "replica-a".into());
        within("a leads", a.leading()).await;
        let b = Leadership::start(client.clone(), NS, &config(), "replica-b".into());
        tokio::time::sleep(3 * config().retry_period).await;
        assert!(a.is_leading() && !b.is_leading());
        b.step_down().await;
        assert_eq!(holder(&client).await, "replica-a");
        tokio::time::sleep(3 * config().retry_period).await;
        assert!(a.is_leading(), "{a:?}");
    }

    #[tokio::test]
    async fn a_leader_whose_renewals_fail_reports_the_loss_at_the_renew_deadline() {
        let failing = Arc::new(AtomicBool::new(false));
        let fail = failing.clone();
        let funcs = interceptor::Funcs::new().patch(move |_| {
            if fail.load(Ordering::SeqCst) {
                Err(kube_fake_client::Error::Internal("injected failure".into()))
            } else {
                Ok(None)
            }
        });
        let client = ClientBuilder::new()
            .with_interceptor_funcs(funcs)
            .build()
            .await
            .unwrap();
        let a = Leadership::start(client.clone(), NS, &config(), "replica-a".into());
        within("a leads", a.leading()).await;
        failing.store(true, Ordering::SeqCst);
        let cut = std::time::Instant::now();
        let loss = within("the loss", a.lost()).await;
        let after = cut.elapsed();
        assert_eq!(loss, Loss::NotRenewed(config().renew_deadline));
        assert!(!a.is_leading());
        // The deadline runs from the start of the last good round, at most one retry
        // period before the cut.
        let (deadline, retry) = (config().renew_deadline, config().retry_period);
        assert!(
            after >= deadline - retry - 100 * MS && after <= deadline + 300 * MS,
            "lost {after:?} after renewals began to fail (deadline {deadline:?}, retry {retry:?})"
        );
        eprintln!("lost {:.2}s after the cut", after.as_secs_f64());
    }

    #[tokio::test]
    async fn a_leader_that_finds_another_holder_reports_the_loss_at_once() {
        let client = ClientBuilder::new().build().await.unwrap();
        let a = Leadership::start(client.clone(), NS, &config(), "replica-a".into());
        within("a leads", a.leading()).await;
        let renewed = serde_json::to_value(MicroTime(Timestamp::now())).unwrap();
        Api::<Lease>::namespaced(client.clone(), NS)
            .patch(
                "govcloud-leader",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"holderIdentity": "intruder", "renewTime": renewed}})),
            )
            .await
            .unwrap();
        let cut = std::time::Instant::now();
        let loss = within("the loss", a.lost()).await;
        assert_eq!(loss, Loss::TakenBy("intruder".into()));
        assert!(cut.elapsed() < 3 * config().retry_period, "{:?}", cut.elapsed());
        // A lost leader does not write the Lease back.
        tokio::time::sleep(3 * config().retry_period).await;
        assert_eq!(holder(&client).await, "intruder");
    }
}
