//! One pass over the whole estate: plan, render, make the cluster hold the rendered
//! objects, and write each object's status and events — status only where it changed.
//!
//! The deciding happens in the pure calls (`plan`, `render`, `status`); this file only
//! moves their results to and from the API server.

use std::collections::BTreeMap;
use std::fmt::Debug;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::events::{Event, EventType as KubeEventType, Recorder};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::apply::{Applier, Summary, managed_selector};
use super::error::ApplyError;
use crate::api::DepartmentService;
use crate::plan::{Assignments, Plan, ServiceKey, Snapshot, plan};
use crate::render::{RenderError, render};
use crate::status::{self, EventRecord, EventType, Readiness};

/// What one pass did.
#[derive(Debug, Default)]
pub struct PassReport {
    pub summary: Summary,
    /// Status subresource writes (only where a status changed).
    pub status_writes: usize,
    pub events: usize,
    /// Failures, each naming its object; the rest of the pass went on.
    pub errors: Vec<ApplyError>,
}

/// Applies plans to a cluster.
#[derive(Clone)]
pub struct EstateReconciler {
    client: Client,
    applier: Applier,
    recorder: Option<Recorder>,
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
        Self {
            applier: Applier::new(client.clone()),
            client,
            recorder,
        }
    }

    /// Applies up to `n` objects at once.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.applier = self.applier.with_concurrency(n);
        self
    }

    /// Plans `snapshot` (decisions before it come from the statuses in it), applies the
    /// rendered objects, sweeps what is no longer rendered, and writes statuses and events.
    pub async fn pass(&self, snapshot: &Snapshot, now: &Time) -> Result<(Plan, PassReport), RenderError> {
        let plan = plan(snapshot, &Assignments::from_status(snapshot));
        let manifests = render(snapshot, &plan)?;
        let mut report = PassReport::default();
        let (summary, errors) = self.applier.converge(&manifests).await;
        report.summary = summary;
        report.errors = errors;
        let readiness = self.readiness(&mut report).await;
        self.write_statuses(snapshot, &plan, &readiness, now, &mut report)
            .await;
        Ok((plan, report))
    }

    /// Ready and desired replicas of every managed Deployment that has reported a status.
    async fn readiness(&self, report: &mut PassReport) -> BTreeMap<(String, String), Readiness> {
        let api: Api<Deployment> = Api::all(self.client.clone());
        match api.list(&ListParams::default().labels(&managed_selector())).await {
            Ok(list) => list
                .items
                .into_iter()
                .filter_map(|d| {
                    let status = d.status.as_ref()?;
                    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                    let ready = status.ready_replicas.unwrap_or(0);
                    Some((
                        (d.namespace().unwrap_or_default(), d.name_any()),
                        Readiness { ready, desired },
                    ))
                })
                .collect(),
            Err(e) => {
                report
                    .errors
                    .push(ApplyError::new("list", "Deployment (all namespaces)".into(), e));
                BTreeMap::new()
            }
        }
    }

    async fn write_statuses(
        &self,
        snapshot: &Snapshot,
        plan: &Plan,
        readiness: &BTreeMap<(String, String), Readiness>,
        now: &Time,
        report: &mut PassReport,
    ) {
        let services: BTreeMap<ServiceKey, &crate::plan::ServicePlan> = plan
            .services
            .iter()
            .map(|s| {
                (
                    ServiceKey {
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                    },
                    s,
                )
            })
            .collect();
        for svc in &snapshot.services {
            let key = ServiceKey::of(svc);
            let Some(planned) = services.get(&key) else {
                continue;
            };
            // A tenant's readiness is its shared instance's, in the shared namespace.
            let ready = match &planned.shared_instance {
                Some(instance) => {
                    readiness.get(&(snapshot.settings.shared_namespace.clone(), instance.clone()))
                }
                None => readiness.get(&(key.namespace.clone(), key.name.clone())),
            };
            let desired = status::service_status(svc, planned, ready.copied(), now);
            let events = status::service_events(svc.status.as_ref(), &desired);
            let api: Api<DepartmentService> = Api::namespaced(self.client.clone(), &key.namespace);
            self.write(&api, svc, svc.status.as_ref(), &desired, events, report)
                .await;
        }
        let by_name = |name: Option<&String>| name.cloned().unwrap_or_default();
        for pool in &snapshot.pools {
            if let Some(p) = plan
                .pools
                .iter()
                .find(|p| p.name == by_name(pool.metadata.name.as_ref()))
            {
                let desired = status::pool_status(pool, p, now);
                let events = status::validity_events(pool.status.as_ref(), &desired);
                self.write(
                    &Api::all(self.client.clone()),
                    pool,
                    pool.status.as_ref(),
                    &desired,
                    events,
                    report,
                )
                .await;
            }
        }
        for dept in &snapshot.departments {
            if let Some(p) = plan
                .departments
                .iter()
                .find(|p| p.name == by_name(dept.metadata.name.as_ref()))
            {
                let desired = status::department_status(dept, p, now);
                let events = status::validity_events(dept.status.as_ref(), &desired);
                self.write(
                    &Api::all(self.client.clone()),
                    dept,
                    dept.status.as_ref(),
                    &desired,
                    events,
                    report,
                )
                .await;
            }
        }
        for offering in &snapshot.offerings {
            if let Some(p) = plan
                .offerings
                .iter()
                .find(|p| p.name == by_name(offering.metadata.name.as_ref()))
            {
                let desired = status::offering_status(offering, p, now);
                let events = status::offering_events(offering.status.as_ref(), &desired);
                let api = Api::all(self.client.clone());
                self.write(&api, offering, offering.status.as_ref(), &desired, events, report)
                    .await;
            }
        }
        for policy in &snapshot.policies {
            if let Some(p) = plan
                .policies
                .iter()
                .find(|p| p.name == by_name(policy.metadata.name.as_ref()))
            {
                let desired = status::policy_status(policy, p, now);
                let events = status::validity_events(policy.status.as_ref(), &desired);
                self.write(
                    &Api::all(self.client.clone()),
                    policy,
                    policy.status.as_ref(),
                    &desired,
                    events,
                    report,
                )
                .await;
            }
        }
    }

    /// Writes `desired` through the status subresource when it differs from `current`,
    /// then publishes the events (after the write, so an event never announces a
    /// decision the status does not show).
    async fn write<K, S>(
        &self,
        api: &Api<K>,
        obj: &K,
        current: Option<&S>,
        desired: &S,
        events: Vec<EventRecord>,
        report: &mut PassReport,
    ) where
        K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
        S: Serialize + PartialEq,
    {
        if !status::needs_update(current, desired) {
            return;
        }
        let object = match obj.meta().namespace.as_deref() {
            Some(ns) => format!("{} {ns}/{}", K::kind(&()), obj.name_any()),
            None => format!("{} {}", K::kind(&()), obj.name_any()),
        };
        let current = current.map(|c| serde_json::to_value(c).expect("a status serialises"));
        let desired = serde_json::to_value(desired).expect("a status serialises");
        let patch = status_patch(current.as_ref(), &desired);
        if let Err(e) = api
            .patch_status(&obj.name_any(), &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            report.errors.push(ApplyError::new("patch status of", object, e));
            return;
        }
        report.status_writes += 1;
        let Some(recorder) = &self.recorder else { return };
        let reference = obj.object_ref(&());
        for e in events {
            let event = Event {
                type_: match e.type_ {
                    EventType::Normal => KubeEventType::Normal,
                    EventType::Warning => KubeEventType::Warning,
                },
                reason: e.reason.to_string(),
                note: Some(e.note),
                action: e.action.to_string(),
                secondary: None,
            };
            match recorder.publish(&event, &reference).await {
                Ok(()) => report.events += 1,
                Err(err) => report
                    .errors
                    .push(ApplyError::new("publish event for", object.clone(), err)),
            }
        }
    }
}
