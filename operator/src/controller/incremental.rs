//! A pass over changes, exact by construction: the planner kept from the last full
//! pass decides a newcomer as a full re-plan would (`Planner::add`), the plan's entries
//! it altered say what to re-render and whose status to write, and a managed object the
//! cluster changed is re-rendered with its namespace or shared instance. Nothing else of
//! the estate is read or compared; whatever this pass cannot do exactly is left to a
//! full pass (see `changes`). A pass that fails leaves no kept plan: the next is full.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::difference::{Altered, Seen, altered_between, scope_of, seen_by};
use super::estate::{EstateReconciler, Observed, PassReport};
use super::hold::{self, Held, LiveTemplate};
use super::kept::key_of;
use super::rejection::{self, Generations};

use crate::api::{Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};
use crate::object::ObjectId;
use crate::plan::{Plan, ServiceKey, Snapshot};
use crate::render::{RenderError, render_scope};
use crate::status::{self, Readiness};

/// The watch caches, read object by object: a pass over new services reads the
/// newcomers and the objects whose status it writes, never the whole estate.
pub trait Cached {
    fn service(&self, key: &ServiceKey) -> Option<DepartmentService>;
    fn pool(&self, name: &str) -> Option<ResourcePool>;
    fn department(&self, name: &str) -> Option<Department>;
    fn offering(&self, name: &str) -> Option<ServiceOffering>;
    fn policy(&self, name: &str) -> Option<PlatformPolicy>;
}

impl EstateReconciler {
    /// Plans, renders, applies and writes the statuses of `added` (new DepartmentServices,
    /// in arrival order) and of whatever they altered in the plan; renders and applies
    /// again what `observed` (managed objects the cluster changed) belongs to, and writes
    /// their owners' statuses where they changed. `None` when no full pass has left a
    /// plan to add to (the caller makes a full pass instead).
    pub async fn pass_changes(
        &self,
        added: &[ServiceKey],
        observed: &[ObjectId],
        cached: &dyn Cached,
        now: &Time,
    ) -> Option<Result<(Arc<Plan>, PassReport), RenderError>> {
        let started = Instant::now();
        let mut kept = self.kept().take()?;
        let newcomers: Vec<DepartmentService> = added.iter().filter_map(|k| cached.service(k)).collect();
        let (base, altered) = if newcomers.is_empty() {
            (kept.base.clone(), Altered::default())
        } else {
            kept.planner.set_now(now.0);
            for svc in &newcomers {
                kept.planner.add(svc);
                kept.known.insert(key_of(svc));
                kept.last = Some((svc.metadata.creation_timestamp.clone(), key_of(svc)));
            }
            kept.snapshot.services.extend(newcomers.iter().cloned());
            kept.snapshot.now = now.0;
            let base = Arc::new(kept.planner.plan());
            let altered = altered_between(&kept.base, &base);
            (base, altered)
        };
        let planning = started.elapsed();
        let live_objects: Vec<_> = observed.iter().map(|o| self.applier.cached_id(o)).collect();
        let seen: Vec<Seen<'_>> = observed
            .iter()
            .zip(&live_objects)
            .map(|(object, live)| Seen {
                object,
                labels: live.as_ref().and_then(|l| l.metadata.labels.as_ref()),
            })
            .collect();
        let (observed_scope, owners) = seen_by(&base, &seen);
        let scope = scope_of(&base, &altered).union(observed_scope);
        let mut manifests = match render_scope(&kept.snapshot, &base, &scope) {
            Ok(m) => m,
            Err(e) => return Some(Err(e)),
        };
        let mut report = PassReport {
            planning,
            ..PassReport::default()
        };
        // Templates held by the last full pass stay held, unless re-rendered here.
        let live = self.live_templates_of(&manifests);
        let rendered: BTreeSet<(&str, &str)> = manifests
            .iter()
            .map(|m| (m.namespace().unwrap_or_default(), m.name()))
            .collect();
        let mut held: Vec<Held> = kept
            .held
            .iter()
            .filter(|h| !rendered.contains(&(h.namespace.as_str(), h.name.as_str())))
            .cloned()
            .collect();
        held.extend(hold::hold_templates(&mut manifests, &base, &kept.snapshot, &live));
        // Without held templates (the common case) the plan written is the plan rendered.
        let merged = if held.is_empty() {
            base.clone()
        } else {
            let mut merged = (*base).clone();
            hold::merge_into(
                &mut merged,
                held.clone(),
                &kept.snapshot.settings.shared_namespace,
            );
            Arc::new(merged)
        };
        let altered = if Arc::ptr_eq(&kept.merged, &merged) {
            Altered::default()
        } else {
            altered_between(&kept.merged, &merged)
        };
        let altered = altered.union(owners);
        let writes = statuses_to_write(&altered, &merged, &kept.snapshot, cached, now.0);
        let generations = Generations::of(&writes);
        let tally = self.applier.ensure_all_tally(&manifests, &generations).await;
        report.summary = tally.summary;
        report.skipped = tally.skipped;
        report.errors = tally.errors;
        let rejected = rejection::by_owner(self.backoff.rejections());
        let readiness = readiness_of(&self.applier, &altered.services, &merged, &kept.snapshot.settings);
        // The usage last attributed: a newcomer has none yet, and the rest's is as the
        // last full pass wrote it.
        let usage = self.usage.as_ref().and_then(|u| u.usage());
        let observed = Observed {
            readiness: &readiness,
            rejected: &rejected,
            usage: usage.as_deref(),
        };
        self.write_statuses(&writes, &merged, observed, now, &mut report)
            .await;
        report.retry_at = self.backoff.next_retry();
        report.interrupted = self.stop.is_cancelled();
        if !report.interrupted {
            kept.base = base;
            kept.merged = merged.clone();
            kept.held = held;
            *self.kept() = Some(kept);
        }
        Some(Ok((merged, report)))
    }

    /// The live templates of the rendered Deployments among `manifests`.
    fn live_templates_of(
        &self,
        manifests: &[crate::render::Manifest],
    ) -> BTreeMap<(String, String), LiveTemplate> {
        manifests
            .iter()
            .filter(|m| matches!(m, crate::render::Manifest::Deployment(_)))
            .filter_map(|m| {
                let live = self.applier.cached(m)?;
                Some((
                    (m.namespace().unwrap_or_default().to_owned(), m.name().to_owned()),
                    live.live_template()?,
                ))
            })
            .collect()
    }
}

/// Readiness of the workloads of the services at `indices` of `plan`.
fn readiness_of(
    applier: &super::Applier,
    indices: &[usize],
    plan: &Plan,
    settings: &crate::plan::Settings,
) -> BTreeMap<(String, String), Readiness> {
    let mut out = BTreeMap::new();
    for &i in indices {
        let (ns, name) = status::workload_of(&plan.services[i], settings);
        if let Some(d) = applier.cached_deployment(&ns, &name)
            && let Some((desired, ready)) = d.replicas
        {
            out.insert((ns, name), Readiness { ready, desired });
        }
    }
    out
}

/// The objects whose status a pass over changes writes, as the caches hold them now:
/// every service, pool, department, offering and policy whose plan entry `altered`.
fn statuses_to_write(
    altered: &super::difference::Altered,
    plan: &Plan,
    rendered: &Snapshot,
    cached: &dyn Cached,
    now: jiff::Timestamp,
) -> Snapshot {
    let services = altered.services.iter().map(|&i| &plan.services[i]);
    Snapshot {
        services: services
            .filter_map(|p| {
                cached.service(&ServiceKey {
                    namespace: p.namespace.clone(),
                    name: p.name.clone(),
                })
            })
            .collect(),
        pools: altered
            .pools
            .iter()
            .filter_map(|&i| cached.pool(&plan.pools[i].name))
            .collect(),
        departments: altered
            .departments
            .iter()
            .filter_map(|&i| cached.department(&plan.departments[i].name))
            .collect(),
        offerings: altered
            .offerings
            .iter()
            .filter_map(|&i| cached.offering(&plan.offerings[i].name))
            .collect(),
        policies: altered
            .policies
            .iter()
            .filter_map(|&i| cached.policy(&plan.policies[i].name))
            .collect(),
        nodes: Vec::new(),
        settings: rendered.settings.clone(),
        now,
        rolling: BTreeSet::new(),
    }
}
