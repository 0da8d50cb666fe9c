//! One pass over the whole estate: plan, render, make the cluster hold the rendered
//! objects, and write each object's status and events — status only where it changed.
//!
//! The deciding happens in the pure calls (`plan`, `render`, `status`); this file only
//! moves their results to and from the API server.
//!
//! A pass can be stopped ([`EstateReconciler::with_stop`]): from then on it starts no
//! write — no apply, delete, Event, status or finalizer patch — lets those in flight
//! finish, and counts what it left undone. Nothing it skips is lost: the next run plans
//! from the same statuses and finds the same writes still to make.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType as KubeEventType, Recorder};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::apply::{Applier, Attempt, Summary};
use super::backoff::{Action, ObjectBackoff, Write};
use super::changes::{self, Echoes, Needed, Present, Taken, Why};
use super::error::ApplyError;
use super::kept::Kept;
use super::live::Live;
use super::rejection::{self, Generations};
use crate::api::DepartmentService;
use crate::object::{Kind, Kinded, ObjectId};
use crate::plan::{Assignments, Plan, Planner, ServiceKey, ServicePlan, Snapshot};
use crate::render::{RenderError, render};
use crate::status::{self, EventRecord, EventType, Measured, Readiness};
use crate::usage::{Usage, UsageState};

/// What one pass did.
#[derive(Debug, Default)]
pub struct PassReport {
    pub summary: Summary,
    /// Status subresource writes (only where a status changed).
    pub status_writes: usize,
    pub events: usize,
    /// Finalizers added to, or released from, pools and departments.
    pub finalizer_writes: usize,
    /// Failures, each naming its object; the rest of the pass went on.
    pub errors: Vec<ApplyError>,
    /// When the earliest object in backoff is due again (the loop wakes then).
    pub retry_at: Option<Instant>,
    /// Time spent planning (the pure part of the pass).
    pub planning: Duration,
    /// Writes not started because the stop came first: applies, deletes, status writes
    /// (with their Events) and finalizer patches. Not failures (nothing was tried, and
    /// nothing backs off): the next pass finds them still to make.
    pub skipped: usize,
    /// The stop came before the pass ended: the writes from then on were not started
    /// (`skipped`), and the pass did not converge the estate.
    pub interrupted: bool,
}

/// Applies plans to a cluster.
#[derive(Clone)]
pub struct EstateReconciler {
    client: Client,
    pub(super) applier: Applier,
    recorder: Option<Recorder>,
    pub(super) backoff: Arc<ObjectBackoff>,
    pub(super) usage: Option<UsageState>,
    pub(super) stop: CancellationToken,
    /// The last full pass's planner and plan, which passes over new services add to.
    kept: Arc<Mutex<Option<Kept>>>,
    /// What govcloud's own writes returned, to tell their echoes from changes.
    echoes: Arc<Echoes>,
}

impl Debug for EstateReconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstateReconciler").finish_non_exhaustive()
    }
}

/// A JSON merge patch that sets `desired` as the status and removes what the current
/// status has and the desired one no longer does (a refused service loses its pool).
fn status_patch(current: Option<&Value>, desired: &Value) -> Value {
    let mut body = desired.clone();
    if let (Some(Value::Object(cur)), Value::Object(new)) = (current, &mut body) {
        for key in cur.keys() {
            new.entry(key.clone()).or_insert(Value::Null);
        }
    }
    serde_json::json!({ "status": body })
}

impl EstateReconciler {
    /// `recorder`: where decisions are published as Kubernetes Events (None: not at all).
    pub fn new(client: Client, recorder: Option<Recorder>) -> Self {
        let echoes: Arc<Echoes> = Arc::default();
        Self {
            applier: Applier::new(client.clone()).with_echoes(echoes.clone()),
            client,
            recorder,
            backoff: Arc::default(),
            usage: None,
            stop: CancellationToken::new(),
            kept: Arc::default(),
            echoes,
        }
    }

    pub(super) fn kept(&self) -> MutexGuard<'_, Option<Kept>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Which pass the changes the watches reported need (see [`super::changes`]), at `now`.
    /// `present` reads a DepartmentService from the watch cache.
    pub fn needed(
        &self,
        taken: &Taken,
        present: &dyn Fn(&ServiceKey) -> Option<Present>,
        now: jiff::Timestamp,
    ) -> Needed {
        let kept = self.kept();
        let Some(kept) = kept.as_ref() else {
            return Needed::Full(Why::First, None);
        };
        // A waiting move's windows opened or closed: the kept decisions are stale.
        if kept.merged.wake_at.is_some_and(|at| at <= now) {
            return Needed::Full(Why::Timer, None);
        }
        let needed = changes::needed(taken, &self.echoes, kept, present);
        let Needed::Changes { observed, .. } = &needed else {
            return needed;
        };
        // A managed object is passed over on its own only while it is there to compare
        // (a deleted one may belong to anything), while it is not the shared namespace
        // (which only a full render renders), and while it is not the Deployment of a
        // move: the planner holds a move's source pool, and the pool's move slot, until
        // the rollout ends. Any change to that Deployment counts, not only one that
        // flips it between rolling and rolled out: a rollout can start and end between
        // two passes, and govcloud's own apply that starts it is an echo.
        for o in observed {
            let shared = o.kind == Kind::Namespace && o.name == kept.snapshot.settings.shared_namespace;
            if shared || self.applier.cached_id(o).is_none() || moving_deployment(kept, o) {
                return Needed::Full(Why::Changed, Some(o.clone()));
            }
        }
        needed
    }

    /// Once `stop` is cancelled, a pass starts no further write, and lets those in
    /// flight finish (default: never stopped).
    pub fn with_stop(mut self, stop: CancellationToken) -> Self {
        self.applier = self.applier.with_stop(stop.clone());
        self.stop = stop;
        self
    }

    /// Writes started and not yet finished. A stopped pass ends once this is 0; a caller
    /// that cannot wait that long drops the pass and abandons these.
    pub fn writes_in_flight(&self) -> usize {
        self.applier.writes_in_flight()
    }

    /// Writes measured usage (`used`, `usedAt`) from `usage`: each pass attributes its
    /// last good sample by the pass's plan. Without it, `used` is left as it is.
    pub fn with_usage(mut self, usage: UsageState) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Reads live objects from the watch caches (see [`Live`]).
    pub fn with_live(mut self, live: Live) -> Self {
        self.applier = self.applier.with_live(live);
        self
    }

    /// Backs off each failing write on its own (default: retry on the next pass).
    pub fn with_backoff(mut self, backoff: ObjectBackoff) -> Self {
        self.backoff = Arc::new(backoff);
        self.applier = self.applier.with_backoff(self.backoff.clone());
        self
    }

    /// Applies up to `n` objects at once.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.applier = self.applier.with_concurrency(n);
        self
    }

    /// Plans `snapshot` (decisions before it come from the statuses in it), applies the
    /// rendered objects, sweeps what is no longer rendered, and writes statuses and events.
    pub async fn pass(&self, snapshot: &Snapshot, now: &Time) -> Result<(Plan, PassReport), RenderError> {
        let started = Instant::now();
        // Dropped first: should this pass fail, the next is full too.
        let _ = self.kept().take();
        let planner = Planner::new(snapshot, &Assignments::from_status(snapshot));
        let mut plan = planner.plan();
        let planning = started.elapsed();
        let mut manifests = render(snapshot, &plan)?;
        let mut report = PassReport {
            planning,
            ..PassReport::default()
        };
        // New pod templates the departments did not ask for wait for maintenance.
        let live = self.live_templates(&mut report).await;
        let held = super::hold::hold_templates(&mut manifests, &plan, snapshot, &live);
        let base = Arc::new(plan.clone());
        super::hold::merge_into(&mut plan, held.clone(), &snapshot.settings.shared_namespace);
        let generations = Generations::of(snapshot);
        let tally = self.applier.converge_tally(&manifests, &generations).await;
        report.summary = tally.summary;
        report.skipped = tally.skipped;
        report.errors = tally.errors;
        // Those of earlier passes too: a parked write is not tried, and still rejected.
        let rejected = rejection::by_owner(self.backoff.rejections());
        let readiness = self.readiness(&mut report).await;
        let usage = self
            .usage
            .as_ref()
            .and_then(|u| u.aggregate(&plan, &snapshot.settings));
        let observed = Observed {
            readiness: &readiness,
            rejected: &rejected,
            usage: usage.as_deref(),
        };
        self.write_statuses(snapshot, &plan, observed, now, &mut report)
            .await;
        // Last: a released object goes away, and its status (saying why it was held,
        // and that it no longer is) is written before that.
        for action in status::finalizer_actions(snapshot, &plan) {
            let (kind, name) = action.object();
            let write = super::finalizers::carry_out(&self.client, &action);
            let key = Write::new(Action::Finalize, ObjectId::new(kind.kind(), None, name));
            let attempt = rejection::digest(format!("{action:?}"));
            match self.applier.guarded(key, attempt, None, write).await {
                Attempt::Deferred => report.summary.deferred += 1,
                Attempt::Skipped => report.skipped += 1,
                Attempt::Made(Ok(())) => report.finalizer_writes += 1,
                Attempt::Made(Err(e)) => report.errors.push(e),
            }
        }
        report.retry_at = self.backoff.next_retry();
        report.interrupted = self.stop.is_cancelled();
        if !report.interrupted {
            let merged = if held.is_empty() {
                base.clone()
            } else {
                Arc::new(plan.clone())
            };
            *self.kept() = Some(Kept::new(planner, base, merged, held, snapshot.clone()));
        }
        Ok((plan, report))
    }

    /// The live template of every managed Deployment.
    async fn live_templates(
        &self,
        report: &mut PassReport,
    ) -> BTreeMap<(String, String), super::LiveTemplate> {
        match self.applier.deployments().await {
            Ok(deployments) => deployments
                .iter()
                .filter_map(|d| {
                    Some((
                        (d.namespace().unwrap_or_default(), d.name_any()),
                        d.live_template()?,
                    ))
                })
                .collect(),
            Err(e) => {
                report.errors.push(e);
                BTreeMap::new()
            }
        }
    }

    /// Ready and desired replicas of every managed Deployment that has reported a status.
    async fn readiness(&self, report: &mut PassReport) -> BTreeMap<(String, String), Readiness> {
        match self.applier.deployments().await {
            Ok(deployments) => deployments
                .iter()
                .filter_map(|d| {
                    let (desired, ready) = d.replicas?;
                    Some((
                        (d.namespace().unwrap_or_default(), d.name_any()),
                        Readiness { ready, desired },
                    ))
                })
                .collect(),
            Err(e) => {
                report.errors.push(e);
                BTreeMap::new()
            }
        }
    }

    pub(super) async fn write_statuses(
        &self,
        snapshot: &Snapshot,
        plan: &Plan,
        observed: Observed<'_>,
        now: &Time,
        report: &mut PassReport,
    ) {
        let Observed {
            readiness,
            rejected,
            usage,
        } = observed;
        // Rejected writes show on their owner's `Applied` condition.
        let applied = |kind: Kind, o: &kube::api::ObjectMeta, conditions: &mut Vec<Condition>| {
            let shown = match (&o.name, rejected.is_empty()) {
                (Some(name), false) => rejected.get(&ObjectId::new(kind, o.namespace.as_deref(), name)),
                _ => None,
            };
            status::show_rejections(
                conditions,
                shown.map_or(&[][..], Vec::as_slice),
                o.generation,
                now,
            );
        };
        let services: HashMap<(&str, &str), &ServicePlan> = plan
            .services
            .iter()
            .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
            .collect();
        let settings = &snapshot.settings;
        let namespaced =
            |o: &DepartmentService| Api::namespaced(self.client.clone(), &o.namespace().unwrap_or_default());
        self.write_each(
            &snapshot.services,
            |o| {
                services
                    .get(&(
                        o.metadata.namespace.as_deref().unwrap_or_default(),
                        o.metadata.name.as_deref()?,
                    ))
                    .copied()
            },
            namespaced,
            |o| o.status.as_ref(),
            |o, p| {
                let mut s = status::service_status(
                    o,
                    p,
                    readiness.get(&status::workload_of(p, settings)).copied(),
                    Measured::service(usage, &p.namespace, &p.name),
                    now,
                );
                applied(Kind::DepartmentService, &o.metadata, &mut s.conditions);
                s
            },
            status::service_events,
            report,
        )
        .await;
        let pools = by_name(&plan.pools, |p| &p.name);
        let departments = by_name(&plan.departments, |p| &p.name);
        let offerings = by_name(&plan.offerings, |p| &p.name);
        let policies = by_name(&plan.policies, |p| &p.name);
        self.write_each(
            &snapshot.pools,
            |o| lookup(&pools, o),
            |_| Api::all(self.client.clone()),
            |o| o.status.as_ref(),
            |o, p| status::pool_status(o, p, Measured::pool(usage, &p.name), now),
            status::pool_or_department_events,
            report,
        )
        .await;
        self.write_each(
            &snapshot.departments,
            |o| lookup(&departments, o),
            |_| Api::all(self.client.clone()),
            |o| o.status.as_ref(),
            |o, p| {
                let mut s = status::department_status(o, p, Measured::department(usage, &p.name), now);
                applied(Kind::Department, &o.metadata, &mut s.conditions);
                s
            },
            status::pool_or_department_events,
            report,
        )
        .await;
        self.write_each(
            &snapshot.offerings,
            |o| lookup(&offerings, o),
            |_| Api::all(self.client.clone()),
            |o| o.status.as_ref(),
            |o, p| {
                let mut s = status::offering_status(o, p, now);
                applied(Kind::ServiceOffering, &o.metadata, &mut s.conditions);
                s
            },
            status::offering_events,
            report,
        )
        .await;
        self.write_each(
            &snapshot.policies,
            |o| lookup(&policies, o),
            |_| Api::all(self.client.clone()),
            |o| o.status.as_ref(),
            |o, p| status::policy_status(o, p, now),
            status::validity_events,
            report,
        )
        .await;
    }

    /// For each object with a plan: its desired status, written where it changed, and
    /// the events that change announces.
    #[allow(clippy::too_many_arguments)]
    async fn write_each<'a, K, P: 'a, S>(
        &self,
        objects: &[K],
        plan_of: impl Fn(&K) -> Option<&'a P>,
        api_of: impl Fn(&K) -> Api<K>,
        current: impl Fn(&K) -> Option<&S>,
        desired: impl Fn(&K, &P) -> S,
        events: impl Fn(Option<&S>, &S) -> Vec<EventRecord>,
        report: &mut PassReport,
    ) where
        K: Resource<DynamicType = ()> + Kinded + Clone + DeserializeOwned + Debug,
        S: Serialize + PartialEq,
    {
        for obj in objects {
            let Some(planned) = plan_of(obj) else { continue };
            let desired = desired(obj, planned);
            let events = events(current(obj), &desired);
            self.write(&api_of(obj), obj, current(obj), &desired, events, report)
                .await;
        }
    }

    /// Publishes the events, then writes `desired` through the status subresource —
    /// only when it differs from `current`, and only once every event is out.
    ///
    /// Events are worked out from the difference between the stored and the desired
    /// status, so whatever makes the status stored makes its events final. Publishing
    /// them first makes them at least once: a failed event leaves the status unwritten,
    /// and the next pass works the same events out again and retries them. (The other
    /// order lost them for good when a status write succeeded but its answer was lost,
    /// or when an event write failed.) A retried pass may publish an event twice;
    /// the event recorder folds repeats into one Event's series.
    async fn write<K, S>(
        &self,
        api: &Api<K>,
        obj: &K,
        current: Option<&S>,
        desired: &S,
        events: Vec<EventRecord>,
        report: &mut PassReport,
    ) where
        K: Resource<DynamicType = ()> + Kinded + Clone + DeserializeOwned + Debug,
        S: Serialize + PartialEq,
    {
        if !status::needs_update(current, desired) {
            return;
        }
        let object = ObjectId::new(K::KIND, obj.meta().namespace.as_deref(), &obj.name_any());
        let current = current.map(|c| serde_json::to_value(c).expect("a status serialises"));
        let desired = serde_json::to_value(desired).expect("a status serialises");
        let patch = status_patch(current.as_ref(), &desired);
        let attempt = rejection::digest((patch.to_string(), obj.meta().generation));
        let published = std::cell::Cell::new(0);
        let announce_then_write = async {
            if let Some(recorder) = &self.recorder {
                let reference = obj.object_ref(&());
                for e in events {
                    recorder
                        .publish(&kube_event(e), &reference)
                        .await
                        .map_err(|err| ApplyError::new("publish event for", object.clone(), err))?;
                    published.set(published.get() + 1);
                }
            }
            let written = api
                .patch_status(&obj.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map_err(|e| ApplyError::new("patch status of", object.clone(), e))?;
            self.echoes
                .record(object.clone(), written.meta().resource_version.clone());
            Ok(())
        };
        let outcome = self
            .applier
            .guarded(
                Write::new(Action::Status, object.clone()),
                attempt,
                None,
                announce_then_write,
            )
            .await;
        report.events += published.get();
        match outcome {
            Attempt::Deferred => report.summary.deferred += 1,
            Attempt::Skipped => report.skipped += 1,
            Attempt::Made(Err(e)) => report.errors.push(e),
            Attempt::Made(Ok(_)) => report.status_writes += 1,
        }
    }
}

fn kube_event(e: EventRecord) -> Event {
    Event {
        type_: match e.type_ {
            EventType::Normal => KubeEventType::Normal,
            EventType::Warning => KubeEventType::Warning,
        },
        reason: e.reason.to_string(),
        note: Some(e.note),
        action: e.action.to_string(),
        secondary: None,
    }
}

/// What the pass observed beside the plan, for the statuses.
#[derive(Clone, Copy)]
pub(super) struct Observed<'a> {
    pub readiness: &'a BTreeMap<(String, String), Readiness>,
    /// Descriptions of the rejected writes, by the custom resource owning the object.
    pub rejected: &'a HashMap<ObjectId, Vec<String>>,
    pub usage: Option<&'a Usage>,
}

/// Plan entries by object name.
fn by_name<P>(plans: &[P], name: impl Fn(&P) -> &String) -> HashMap<&str, &P> {
    plans.iter().map(|p| (name(p).as_str(), p)).collect()
}

fn lookup<'a, K: Resource, P>(plans: &HashMap<&str, &'a P>, obj: &K) -> Option<&'a P> {
    plans.get(obj.meta().name.as_deref()?).copied()
}

fn moving_deployment(kept: &Kept, o: &ObjectId) -> bool {
    o.kind == Kind::Deployment
        && o.namespace.as_ref().is_some_and(|namespace| {
            kept.moving(&ServiceKey {
                namespace: namespace.clone(),
                name: o.name.clone(),
            })
        })
}
