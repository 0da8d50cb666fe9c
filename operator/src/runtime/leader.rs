//! Leader election on a `coordination.k8s.io` Lease (kube-leader-election's `LeaseLock`),
//! so that two or more replicas can run and only one of them writes.
//!
//! A task tries to acquire or renew the Lease every `retryPeriod`. The lock takes an
//! expired Lease with a merge patch that carries no resourceVersion precondition, so two
//! candidates racing for it can both be told they won; the last write is the one that
//! sticks. A fresh acquisition therefore counts as leading only after the next round
//! finds the Lease still ours. A leader gives up — for good, the process exits and
//! restarts as a candidate — when it sees another holder, or when no renewal has
//! succeeded within `renewDeadline`, which is shorter than `leaseDuration`, so it stops
//! before anyone else may take the Lease over.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::Client;
use kube_leader_election::{Error as LockError, LeaseLock, LeaseLockParams, LeaseLockResult};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::LeaderElectionConfig;

/// What one acquire-or-renew round found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Round {
    /// The Lease is ours: created, taken over after it expired, or renewed.
    Held,
    /// Another identity holds the Lease and it has not expired (`""`: released, expiring).
    HeldBy(String),
    /// The request failed or did not answer in time.
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
    /// Just took the Lease; leads if the next round finds it still ours.
    Taken,
    /// Leads; the last successful round started at `renewed`.
    Leading { renewed: Instant },
    /// Led, then stopped. Final: leadership is not regained in the same process.
    Lost(Loss),
}

/// A change worth acting on or logging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Took the Lease; not leading until confirmed.
    Took,
    /// Started leading.
    Leads,
    /// Took the Lease but another candidate's write replaced ours before we led.
    Overwritten(String),
    /// Stopped leading.
    Lost(Loss),
}

/// The election's state machine, without I/O or clocks of its own: the caller says when
/// a round started and ended, so the deadline logic is testable with made-up instants.
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
            (Phase::Candidate, Round::Held) => (Phase::Taken, Some(Transition::Took)),
            (Phase::Candidate, _) => return None,
            // The round start, not its end: the Lease's renewTime was written after it, so
            // the deadline never runs later than the Lease itself.
            (Phase::Taken, Round::Held) => (Phase::Leading { renewed: started }, Some(Transition::Leads)),
            (Phase::Taken, Round::HeldBy(holder)) => {
                (Phase::Candidate, Some(Transition::Overwritten(holder)))
            }
            (Phase::Taken, Round::Failed) => (Phase::Candidate, None),
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

fn shown(holder: &str) -> &str {
    if holder.is_empty() { "(nobody)" } else { holder }
}

fn holder_of(lease: &Lease) -> String {
    lease
        .spec
        .as_ref()
        .and_then(|spec| spec.holder_identity.clone())
        .unwrap_or_default()
}

/// A running election: started at once, stopped by [`Leadership::step_down`].
pub struct Leadership {
    identity: String,
    lease: String,
    phase: watch::Receiver<Phase>,
    lock: Arc<LeaseLock>,
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
        let lock = Arc::new(LeaseLock::new(
            client,
            namespace,
            LeaseLockParams {
                lease_name: config.lease_name.clone(),
                holder_id: identity.clone(),
                lease_ttl: config.lease_duration,
            },
        ));
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
    /// standby takes over after one second (the lock's released Lease lasts that long)
    /// and two rounds, rather than after `leaseDuration`.
    pub async fn step_down(self) {
        self.task.abort();
        let _ = self.task.await;
        // Asked whatever the phase: an acquisition cut short by the abort may have landed.
        // The lock reads the Lease first and writes only if it is ours.
        match tokio::time::timeout(self.request_timeout, self.lock.step_down()).await {
            Ok(Ok(())) => {
                tracing::info!(lease = %self.lease, identity = %self.identity, "released leadership")
            }
            Ok(Err(LockError::ReleaseLockWhenNotLeading { leader })) => {
                tracing::debug!(lease = %self.lease, holder = shown(&leader), "not the holder; nothing to release")
            }
            Ok(Err(LockError::GetLease(kube::Error::Api(status)))) if status.code == 404 => {
                tracing::debug!(lease = %self.lease, "no Lease; nothing to release")
            }
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
    lock: Arc<LeaseLock>,
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
        let limit = elector.deadline().unwrap_or(started + elector.renew_deadline);
        let round = match tokio::time::timeout_at(limit, lock.try_acquire_or_renew()).await {
            Ok(Ok(LeaseLockResult::Acquired(_))) => Round::Held,
            Ok(Ok(LeaseLockResult::NotAcquired(l))) => Round::HeldBy(holder_of(&l)),
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
            if holder.is_empty() {
                tracing::info!(%lease, "the Lease was released; taking it over once it expires");
            } else {
                tracing::info!(%lease, %holder, "leadership held elsewhere; standing by");
            }
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
        Some(Transition::Took) => {
            tracing::debug!(%lease, "took the Lease; leading once the next round confirms it")
        }
        Some(Transition::Leads) => tracing::info!(%lease, "acquired leadership"),
        Some(Transition::Overwritten(holder)) => {
            tracing::info!(%lease, holder = shown(holder), "another candidate took the Lease at the same moment; standing by")
        }
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

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    /// An elector that took the Lease at `base` and had it confirmed by a round at +100ms.
    fn leading(base: Instant) -> Elector {
        let mut e = Elector::new(1000 * MS);
        assert_eq!(e.observe(base, base, Round::Held), Some(Transition::Took));
        assert_eq!(
            e.observe(at(base, 100), at(base, 110), Round::Held),
            Some(Transition::Leads)
        );
        e
    }

    #[test]
    fn a_taken_lease_leads_only_once_the_next_round_finds_it_still_ours() {
        let t = Instant::now();
        let mut e = Elector::new(1000 * MS);
        assert_eq!(e.observe(t, t, Round::Held), Some(Transition::Took));
        assert_eq!(e.phase(), &Phase::Taken);
        assert_eq!(e.deadline(), None, "a taken Lease is not leadership yet");
        assert_eq!(
            e.observe(at(t, 100), at(t, 110), Round::Held),
            Some(Transition::Leads)
        );
        assert_eq!(
            e.deadline(),
            Some(at(t, 1100)),
            "counted from the round's start, not its answer"
        );
    }

    #[test]
    fn of_two_candidates_both_told_they_won_the_overwritten_one_stands_by() {
        let t = Instant::now();
        let mut e = Elector::new(1000 * MS);
        e.observe(t, t, Round::Held);
        assert_eq!(
            e.observe(at(t, 100), at(t, 110), Round::HeldBy("other".into())),
            Some(Transition::Overwritten("other".into()))
        );
        assert_eq!(e.phase(), &Phase::Candidate);
        // A failed confirming round is no leadership either.
        e.observe(at(t, 200), at(t, 210), Round::Held);
        assert_eq!(e.observe(at(t, 300), at(t, 310), Round::Failed), None);
        assert_eq!(e.phase(), &Phase::Candidate);
        for round in [Round::Failed, Round::HeldBy("other".into())] {
            assert_eq!(e.observe(at(t, 400), at(t, 410), round), None);
            assert_eq!(e.phase(), &Phase::Candidate);
        }
    }

    #[test]
    fn a_leader_that_cannot_renew_loses_at_the_deadline_and_not_before() {
        let t = Instant::now();
        let mut e = leading(t);
        assert_eq!(e.observe(at(t, 200), at(t, 700), Round::Failed), None);
        assert_eq!(e.observe(at(t, 800), at(t, 1000), Round::Failed), None);
        assert_eq!(e.expire(at(t, 1099)), None);
        assert!(matches!(e.phase(), Phase::Leading { .. }));
        let lost = Loss::NotRenewed(1000 * MS);
        assert_eq!(e.expire(at(t, 1100)), Some(Transition::Lost(lost.clone())));
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

    // The elector against kube-fake-client's API server. It takes the lock's merge
    // patches (with the fieldManager of PatchParams::apply) as RFC 7386 merges, as the
    // API server does. Real time: the lock reads the wall clock to decide expiry.

    const NS: &str = "govcloud-system";
    const LIMIT: Duration = Duration::from_secs(3);

    fn config() -> LeaderElectionConfig {
        LeaderElectionConfig {
            enabled: true,
            lease_name: "govcloud-leader".into(),
            lease_namespace: None,
            // The lock counts in whole seconds.
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
        holder_of(&lease)
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
