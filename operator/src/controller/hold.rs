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

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;

use super::drift::covers;
use crate::api::{ChangeKind, PendingChange, apply_now};
use crate::plan::{MaintenancePlan, PendingPlan, PendingReason, Plan, Snapshot};
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
        let Some(gate) = gate_of(plan, snapshot, &namespace, &name) else {
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

fn gate_of<'a>(plan: &'a Plan, snapshot: &Snapshot, namespace: &str, name: &str) -> Option<Gate<'a>> {
    let pool_apply_now = |pool: Option<&str>| {
        let pool = pool?;
        let p = snapshot
            .pools
            .iter()
            .find(|p| p.metadata.name.as_deref() == Some(pool))?;
        apply_now(&p.metadata)
    };
    if namespace == snapshot.settings.shared_namespace {
        let (offering, instance) = plan
            .offerings
            .iter()
            .find_map(|o| Some((o, o.instances.iter().find(|i| i.name == name)?)))?;
        if instance.moved_from.is_some() {
            return None; // the new template is the move the plan let go
        }
        let object = snapshot
            .offerings
            .iter()
            .find(|o| o.metadata.name.as_deref() == Some(&offering.name));
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
                .or_else(|| pool_apply_now(instance.pool.as_deref())),
            owner: format!("ServiceOffering {:?}", offering.name),
            pool: instance.pool.as_deref(),
            since,
        });
    }
    let service = plan
        .services
        .iter()
        .find(|s| s.namespace == namespace && s.name == name)?;
    if service.moved_from.is_some() {
        return None; // the new template is the move the plan let go
    }
    let object = snapshot.services.iter().find(|s| {
        s.metadata.namespace.as_deref() == Some(namespace) && s.metadata.name.as_deref() == Some(name)
    });
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
            .or_else(|| pool_apply_now(service.pool.as_deref())),
        owner: match &service.department {
            Some(d) => format!("Department {d:?}"),
            None => format!("namespace {namespace:?}"),
        },
        pool: service.pool.as_deref(),
        since,
    })
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
/// (which holds its template too). Returns when the earliest of them may go.
pub fn merge_into(plan: &mut Plan, held: Vec<Held>, shared_namespace: &str) {
    for h in held {
        let next = h.pending.change.next_window.as_ref().map(|t| t.0);
        let slot = if h.namespace == shared_namespace {
            plan.offerings
                .iter_mut()
                .flat_map(|o| o.instances.iter_mut())
                .find(|i| i.name == h.name)
                .map(|i| &mut i.pending_change)
        } else {
            plan.services
                .iter_mut()
                .find(|s| s.namespace == h.namespace && s.name == h.name)
                .map(|s| &mut s.pending_change)
        };
        if let Some(slot) = slot
            && slot.is_none()
        {
            *slot = Some(h.pending);
        }
        if let Some(t) = next {
            plan.wake_at = Some(plan.wake_at.map_or(t, |w| w.min(t)));
        }
    }
}

#[cfg(test)]
#[path = "hold_tests.rs"]
mod tests;
