//! Holding a new pod template the department did not ask for until maintenance.
//!
//! Pure: given the rendered objects, the plan and the live Deployments' templates, it
//! decides which Deployments keep their live template for now, and says why. The pass
//! then applies everything else of those Deployments (replicas, labels, strategy) as
//! rendered. A template changes when a PlatformPolicy default or limit ratio, a pool's
//! node selector, an offering's image or resources, or govcloud's own rendering
//! changes; a restart for such a reason waits until the service's department's (or
//! the offering's), its pool's and the estate's maintenance are open together.
//!
//! A move the plan lets go is not held either: its new template is the move.
//!
//! A department's own edit is never held: the Deployment records the DepartmentService
//! generation it was rendered from (`govcloud.io/service-generation`), and a template
//! rendered from a newer generation goes out at once, whatever else changed with it.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;

use super::drift::covers;
use crate::api::{ChangeKind, DepartmentService, PendingChange, ResourcePool, ServiceOffering, apply_now};
use crate::plan::{
    InstancePlan, MaintenancePlan, OfferingPlan, PendingPlan, PendingReason, Plan, ServicePlan, Snapshot,
};
use crate::render::Manifest;

/// A live Deployment, as far as holding its template goes.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveTemplate {
    /// `spec.template`, as the API server holds it.
    pub template: Value,
    /// `govcloud.io/service-generation` of the live object.
    pub service_generation: Option<String>,
}

/// A Deployment whose new template waits, by `namespace/name` of the Deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    pub namespace: String,
    pub name: String,
    pub pending: PendingPlan,
}

/// What owns a Deployment and gates its restarts.
struct Gate<'a> {
    maintenance: &'a MaintenancePlan,
    /// The DepartmentService's generation, for its own workload.
    generation: Option<String>,
    /// A break-glass reason on the service, offering or pool.
    apply_now: Option<String>,
    /// Who to name in the message: `Department "x"` or `ServiceOffering "y"`.
    owner: String,
    pool: Option<&'a str>,
    /// When the status says it has waited since.
    since: Option<Time>,
}

/// Keeps the live template of every rendered Deployment whose new template the
/// department did not ask for and whose maintenance is shut, and says which.
pub fn hold_templates(
    manifests: &mut [Manifest],
    plan: &Plan,
    snapshot: &Snapshot,
    live: &BTreeMap<(String, String), LiveTemplate>,
) -> Vec<Held> {
    let mut held = Vec::new();
    let mut owners: Option<Owners> = None;
    for m in manifests.iter_mut() {
        let Manifest::Deployment(d) = m else { continue };
        let namespace = d.metadata.namespace.clone().unwrap_or_default();
        let name = d.metadata.name.clone().unwrap_or_default();
        let Some(live) = live.get(&(namespace.clone(), name.clone())) else {
            continue; // a new Deployment restarts nothing
        };
        let Some(spec) = d.spec.as_mut() else { continue };
        let desired = serde_json::to_value(&spec.template).unwrap_or(Value::Null);
        if covers(&live.template, &desired) {
            continue;
        }
        let owners = owners.get_or_insert_with(|| Owners::new(plan, snapshot));
        let Some(gate) = owners.gate_of(&namespace, &name) else {
            continue;
        };
        let asked = gate.generation.is_some() && gate.generation != live.service_generation;
        if asked || gate.maintenance.open || gate.apply_now.is_some() {
            continue;
        }
        // What runs keeps running: the live template is the one to apply. One the API
        // server handed us always decodes; if it did not, holding would mean guessing.
        let Ok(kept) = serde_json::from_value::<PodTemplateSpec>(live.template.clone()) else {
            continue;
        };
        spec.template = kept;
        let reason = if gate.maintenance.frozen.is_some() {
            PendingReason::Frozen
        } else {
            PendingReason::AwaitingWindow
        };
        let when = match (&gate.maintenance.frozen, gate.maintenance.next_open) {
            (Some(why), _) => format!("maintenance is frozen ({why})"),
            (None, Some(t)) => format!("next open at {t}"),
            (None, None) => "not open within 366 days (or a window is invalid)".to_string(),
        };
        let pool = gate
            .pool
            .map_or(String::new(), |p| format!(" and ResourcePool {p:?}"));
        held.push(Held {
            pending: PendingPlan {
                change: PendingChange {
                    kind: ChangeKind::Template,
                    from: fingerprint(&live.template),
                    to: fingerprint(&desired),
                    since: gate.since.unwrap_or(Time(snapshot.now)),
                    next_window: gate.maintenance.next_open.map(Time),
                },
                reason,
                message: format!(
                    "a new pod template for Deployment {namespace}/{name} (from a PlatformPolicy, its pool, its offering or govcloud itself) waits for the maintenance windows of {}{pool}: {when}",
                    gate.owner
                ),
            },
            namespace,
            name,
        });
    }
    held
}

/// Who owns each Deployment, found once per pass and only when some template changed:
/// a policy change touches every Deployment, and a search per Deployment would be
/// quadratic in the estate.
struct Owners<'a> {
    services: HashMap<(&'a str, &'a str), &'a ServicePlan>,
    service_objects: HashMap<(&'a str, &'a str), &'a DepartmentService>,
    instances: HashMap<&'a str, (&'a OfferingPlan, &'a InstancePlan)>,
    offering_objects: HashMap<&'a str, &'a ServiceOffering>,
    pools: HashMap<&'a str, &'a ResourcePool>,
    shared_namespace: &'a str,
}

impl<'a> Owners<'a> {
    fn new(plan: &'a Plan, snapshot: &'a Snapshot) -> Self {
        let named = |m: &'a kube::api::ObjectMeta| m.name.as_deref().unwrap_or_default();
        Self {
            services: plan
                .services
                .iter()
                .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
                .collect(),
            service_objects: snapshot
                .services
                .iter()
                .map(|s| {
                    (
                        (
                            s.metadata.namespace.as_deref().unwrap_or_default(),
                            named(&s.metadata),
                        ),
                        s,
                    )
                })
                .collect(),
            instances: plan
                .offerings
                .iter()
                .flat_map(|o| o.instances.iter().map(move |i| (i.name.as_str(), (o, i))))
                .collect(),
            offering_objects: snapshot
                .offerings
                .iter()
                .map(|o| (named(&o.metadata), o))
                .collect(),
            pools: snapshot.pools.iter().map(|p| (named(&p.metadata), p)).collect(),
            shared_namespace: &snapshot.settings.shared_namespace,
        }
    }

    fn pool_apply_now(&self, pool: Option<&str>) -> Option<String> {
        apply_now(&self.pools.get(pool?)?.metadata)
    }

    /// What gates the restarts of Deployment `namespace/name`; `None` when nothing
    /// should hold it (not govcloud's, or its new template is a move the plan let go).
    fn gate_of(&self, namespace: &str, name: &str) -> Option<Gate<'a>> {
        if namespace == self.shared_namespace {
            let &(offering, instance) = self.instances.get(name)?;
            if instance.moved_from.is_some() {
                return None;
            }
            let object = self.offering_objects.get(offering.name.as_str()).copied();
            let since = object
                .and_then(|o| o.status.as_ref())
                .and_then(|s| s.instance_details.iter().find(|i| i.name == name))
                .and_then(|i| i.pending_change.as_ref())
                .filter(|c| c.kind == ChangeKind::Template)
                .map(|c| c.since.clone());
            return Some(Gate {
                maintenance: &instance.maintenance,
                generation: None,
                apply_now: object
                    .and_then(|o| apply_now(&o.metadata))
                    .or_else(|| self.pool_apply_now(instance.pool.as_deref())),
                owner: format!("ServiceOffering {:?}", offering.name),
                pool: instance.pool.as_deref(),
                since,
            });
        }
        let service = *self.services.get(&(namespace, name))?;
        if service.moved_from.is_some() {
            return None;
        }
        let object = self.service_objects.get(&(namespace, name)).copied();
        let since = object
            .and_then(|s| s.status.as_ref())
            .and_then(|s| s.pending_change.as_ref())
            .filter(|c| c.kind == ChangeKind::Template)
            .map(|c| c.since.clone());
        Some(Gate {
            maintenance: &service.maintenance,
            generation: object.and_then(|s| s.metadata.generation).map(|g| g.to_string()),
            apply_now: object
                .and_then(|s| apply_now(&s.metadata))
                .or_else(|| self.pool_apply_now(service.pool.as_deref())),
            owner: match &service.department {
                Some(d) => format!("Department {d:?}"),
                None => format!("namespace {namespace:?}"),
            },
            pool: service.pool.as_deref(),
            since,
        })
    }
}

/// A short name for a template, stable from pass to pass (it is shown in status, which
/// is only written when it changes).
fn fingerprint(template: &Value) -> String {
    let mut h = DefaultHasher::new();
    template.to_string().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Folds the held templates into the plan, as the statuses, Events and metrics show
/// them: a service's or an instance's waiting change, unless a move already waits
/// (which holds its template too). The plan wakes the operator when the earliest may go.
pub fn merge_into(plan: &mut Plan, held: Vec<Held>, shared_namespace: &str) {
    if held.is_empty() {
        return;
    }
    let services: HashMap<(String, String), usize> = plan
        .services
        .iter()
        .enumerate()
        .map(|(k, s)| ((s.namespace.clone(), s.name.clone()), k))
        .collect();
    let instances: HashMap<String, (usize, usize)> = plan
        .offerings
        .iter()
        .enumerate()
        .flat_map(|(o, offering)| {
            offering
                .instances
                .iter()
                .enumerate()
                .map(move |(i, x)| (x.name.clone(), (o, i)))
        })
        .collect();
    for h in held {
        if let Some(t) = h.pending.change.next_window.as_ref().map(|t| t.0) {
            plan.wake_at = Some(plan.wake_at.map_or(t, |w| w.min(t)));
        }
        let slot = if h.namespace == shared_namespace {
            instances
                .get(&h.name)
                .map(|&(o, i)| &mut plan.offerings[o].instances[i].pending_change)
        } else {
            services
                .get(&(h.namespace, h.name))
                .map(|&k| &mut plan.services[k].pending_change)
        };
        if let Some(slot) = slot
            && slot.is_none()
        {
            *slot = Some(h.pending);
        }
    }
}

#[cfg(test)]
#[path = "hold_tests.rs"]
mod tests;
