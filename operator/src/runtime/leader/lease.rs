//! The Lease itself: read, take, renew and release a `coordination.k8s.io/v1` Lease, the
//! way client-go's leader election does.
//!
//! Two properties the crates we tried lack (see `docs/operator.md`, "Leader election"):
//! - Every write carries the `resourceVersion` it was decided on, so the API server
//!   accepts at most one of two candidates racing for the same expired Lease; the other
//!   gets 409 and reads again. Nobody is told it won when it did not.
//! - Expiry is judged on this process's monotonic clock: another holder's Lease has
//!   expired once it has not changed for its `leaseDurationSeconds` since we first saw
//!   this version of it. Its `renewTime` (another machine's wall clock) is written for
//!   people and other tools, never compared with ours, so clock skew between nodes
//!   cannot make a live Lease look expired.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::elector::Round;
use crate::api::FIELD_MANAGER;

/// What to do with the Lease as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// It is ours: write a new renewTime.
    Renew,
    /// Released, or expired by our own clock: take it over.
    Take,
    /// Another identity holds it and it has not expired.
    Wait(String),
}

/// Decides from the holder and how long this version of the Lease has gone unchanged
/// (`seen`: when we first read it; `valid_for`: its `leaseDurationSeconds`).
pub fn step(holder: &str, me: &str, seen: Instant, valid_for: Duration, now: Instant) -> Step {
    if holder == me {
        Step::Renew
    } else if holder.is_empty() {
        Step::Take
    } else if now < seen + valid_for {
        Step::Wait(holder.to_string())
    } else {
        Step::Take
    }
}

/// The outcome of [`LeaseLock::release`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Release {
    Freed,
    /// Someone else holds it (`""`: nobody): left alone.
    NotHolder(String),
    NoLease,
}

/// One version of the Lease and when we first read it.
#[derive(Clone, Debug)]
struct Observed {
    version: String,
    at: Instant,
}

#[derive(Clone)]
pub struct LeaseLock {
    api: Api<Lease>,
    name: String,
    identity: String,
    /// `leaseDurationSeconds` we write; also how long a Lease without one is valid.
    seconds: i32,
    observed: Option<Observed>,
}

impl LeaseLock {
    pub fn new(api: Api<Lease>, name: &str, identity: &str, duration: Duration) -> Self {
        // Whole seconds, rounded up, at least one: the field's unit.
        let millis = duration.as_millis().max(1);
        let seconds = i32::try_from(millis.div_ceil(1000)).unwrap_or(i32::MAX);
        Self {
            api,
            name: name.to_string(),
            identity: identity.to_string(),
            seconds,
            observed: None,
        }
    }

    /// One acquire-or-renew round: read the Lease, then create, renew or take it.
    pub async fn round(&mut self, now: Instant) -> Result<Round, kube::Error> {
        match self.api.get_opt(&self.name).await? {
            None => self.create().await,
            Some(lease) => self.decide_and_write(lease, now).await,
        }
    }

    /// The write half of a round, on a Lease as read earlier (tests race two of these).
    pub(super) async fn decide_and_write(
        &mut self,
        lease: Lease,
        now: Instant,
    ) -> Result<Round, kube::Error> {
        let version = lease.metadata.resource_version.clone().unwrap_or_default();
        let seen = match &self.observed {
            Some(o) if o.version == version => o.at,
            _ => {
                self.observed = Some(Observed {
                    version: version.clone(),
                    at: now,
                });
                now
            }
        };
        let spec = lease.spec.unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let valid_for = Duration::from_secs(
            spec.lease_duration_seconds
                .filter(|s| *s > 0)
                .unwrap_or(self.seconds)
                .unsigned_abs()
                .into(),
        );
        let stamp = now_stamp();
        let body = match step(&holder, &self.identity, seen, valid_for, now) {
            Step::Wait(holder) => return Ok(Round::HeldBy(holder)),
            Step::Renew => json!({
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self.seconds,
                "renewTime": stamp,
            }),
            Step::Take => json!({
                "holderIdentity": self.identity,
                "leaseDurationSeconds": self.seconds,
                "acquireTime": stamp,
                "renewTime": stamp,
                "leaseTransitions": spec.lease_transitions.unwrap_or(0).saturating_add(1),
            }),
        };
        match self.patch(&version, body).await {
            Ok(written) => {
                self.observed = written
                    .metadata
                    .resource_version
                    .map(|version| Observed { version, at: now });
                Ok(Round::Held)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {
                tracing::debug!(lease = %self.name, "another write to the Lease came first; reading it again");
                Ok(Round::Failed)
            }
            Err(e) => Err(e),
        }
    }

    async fn create(&mut self) -> Result<Round, kube::Error> {
        let stamp = MicroTime(Timestamp::now());
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.identity.clone()),
                lease_duration_seconds: Some(self.seconds),
                acquire_time: Some(stamp.clone()),
                renew_time: Some(stamp),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PostParams::default()
        };
        match self.api.create(&params, &lease).await {
            Ok(_) => Ok(Round::Held),
            // Another candidate created it first; the next round reads who.
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(Round::Failed),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up if it is ours, so that a standby takes it at its next round
    /// instead of waiting out `leaseDuration`.
    pub async fn release(&self) -> Result<Release, kube::Error> {
        let Some(lease) = self.api.get_opt(&self.name).await? else {
            return Ok(Release::NoLease);
        };
        let holder = lease
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.clone())
            .unwrap_or_default();
        if holder != self.identity {
            return Ok(Release::NotHolder(holder));
        }
        let version = lease.metadata.resource_version.unwrap_or_default();
        let body = json!({"holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": now_stamp()});
        self.patch(&version, body).await.map(|_| Release::Freed)
    }

    /// A merge patch of `spec`, on condition that the Lease is still at `version`.
    async fn patch(&self, version: &str, spec: Value) -> Result<Lease, kube::Error> {
        let mut body = json!({ "spec": spec });
        if !version.is_empty() {
            body["metadata"] = json!({ "resourceVersion": version });
        }
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        self.api.patch(&self.name, &params, &Patch::Merge(body)).await
    }
}

fn now_stamp() -> Value {
    serde_json::to_value(MicroTime(Timestamp::now())).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    use kube_fake_client::ClientBuilder;

    const NS: &str = "govcloud-system";
    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn another_holders_lease_expires_by_our_clock_since_we_saw_it_change() {
        let seen = Instant::now();
        let later = |ms| seen + Duration::from_millis(ms);
        assert_eq!(step("a", "a", seen, SECOND, later(5000)), Step::Renew);
        assert_eq!(step("", "a", seen, SECOND, seen), Step::Take, "released");
        assert_eq!(step("b", "a", seen, SECOND, later(999)), Step::Wait("b".into()));
        assert_eq!(step("b", "a", seen, SECOND, later(1000)), Step::Take);
    }

    fn lease_with(holder: &str, renewed: Timestamp, seconds: i32) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some("govcloud-leader".into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.into()),
                renew_time: Some(MicroTime(renewed)),
                lease_duration_seconds: Some(seconds),
                ..LeaseSpec::default()
            }),
        }
    }

    async fn holder(api: &Api<Lease>) -> String {
        let lease = api.get("govcloud-leader").await.unwrap();
        lease.spec.and_then(|s| s.holder_identity).unwrap_or_default()
    }

    #[tokio::test]
    async fn a_renew_time_from_a_clock_far_behind_does_not_make_a_live_lease_look_expired() {
        let client = ClientBuilder::new().build().await.unwrap();
        let api = Api::<Lease>::namespaced(client, NS);
        // The holder's clock is an hour behind ours: its renewTime looks long expired.
        let behind = Timestamp::now() - std::time::Duration::from_secs(3600);
        api.create(&PostParams::default(), &lease_with("b", behind, 1))
            .await
            .unwrap();
        let mut a = LeaseLock::new(api.clone(), "govcloud-leader", "a", SECOND);
        let t = Instant::now();
        assert_eq!(a.round(t).await.unwrap(), Round::HeldBy("b".into()));
        assert_eq!(
            a.round(t + Duration::from_millis(900)).await.unwrap(),
            Round::HeldBy("b".into()),
            "unchanged for less than its leaseDurationSeconds on our clock"
        );
        assert_eq!(
            a.round(t + Duration::from_millis(1100)).await.unwrap(),
            Round::Held
        );
        let lease = api.get("govcloud-leader").await.unwrap();
        let spec = lease.spec.unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_transitions, Some(1));
    }

    #[tokio::test]
    async fn of_two_candidates_taking_the_same_expired_lease_the_api_server_accepts_one() {
        let client = ClientBuilder::new().build().await.unwrap();
        let api = Api::<Lease>::namespaced(client, NS);
        api.create(&PostParams::default(), &lease_with("gone", Timestamp::now(), 1))
            .await
            .unwrap();
        let mut a = LeaseLock::new(api.clone(), "govcloud-leader", "a", SECOND);
        let mut b = LeaseLock::new(api.clone(), "govcloud-leader", "b", SECOND);
        // Both read the same version, both judge it expired a second later, both write.
        let read = api.get("govcloud-leader").await.unwrap();
        let t = Instant::now();
        assert_eq!(
            a.decide_and_write(read.clone(), t).await.unwrap(),
            Round::HeldBy("gone".into())
        );
        assert_eq!(
            b.decide_and_write(read.clone(), t).await.unwrap(),
            Round::HeldBy("gone".into())
        );
        let expired = t + Duration::from_millis(1001);
        assert_eq!(
            a.decide_and_write(read.clone(), expired).await.unwrap(),
            Round::Held
        );
        assert_eq!(
            b.decide_and_write(read, expired).await.unwrap(),
            Round::Failed,
            "written against a version that is gone"
        );
        assert_eq!(holder(&api).await, "a");
        // b's next round reads a fresh Lease held by a, and waits.
        assert_eq!(b.round(expired).await.unwrap(), Round::HeldBy("a".into()));
    }

    #[tokio::test]
    async fn a_release_leaves_another_holders_lease_alone_and_frees_our_own() {
        let client = ClientBuilder::new().build().await.unwrap();
        let api = Api::<Lease>::namespaced(client, NS);
        let mut a = LeaseLock::new(api.clone(), "govcloud-leader", "a", SECOND);
        let b = LeaseLock::new(api.clone(), "govcloud-leader", "b", SECOND);
        assert_eq!(b.release().await.unwrap(), Release::NoLease);
        assert_eq!(a.round(Instant::now()).await.unwrap(), Round::Held, "created");
        assert_eq!(b.release().await.unwrap(), Release::NotHolder("a".into()));
        assert_eq!(holder(&api).await, "a");
        assert_eq!(a.release().await.unwrap(), Release::Freed);
        assert_eq!(holder(&api).await, "");
        // Released: the next candidate takes it without waiting for it to expire.
        let mut b = b;
        assert_eq!(b.round(Instant::now()).await.unwrap(), Round::Held);
        assert_eq!(holder(&api).await, "b");
    }
}
