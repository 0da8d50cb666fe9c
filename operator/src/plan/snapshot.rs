//! The planner's input: everything it decides from, whether read from files or watch caches.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;

use crate::api::{ChangeKind, Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};

/// Installation-wide settings that shape names (operator config `namespacePrefix`, `sharedNamespace`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Department namespaces are `<namespacePrefix><department>`.
    pub namespace_prefix: String,
    /// Namespace of the shared offering instances.
    pub shared_namespace: String,
    /// Namespace the operator runs in; its pods may reach department workloads (probes, metrics).
    pub platform_namespace: String,
    /// Namespace of the ingress controller, admitted to `Public` services.
    pub ingress_namespace: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            namespace_prefix: "dept-".into(),
            shared_namespace: "govcloud-shared".into(),
            platform_namespace: "govcloud-system".into(),
            ingress_namespace: "ingress-nginx".into(),
        }
    }
}

/// The whole estate as the planner sees it.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub pools: Vec<ResourcePool>,
    pub departments: Vec<Department>,
    pub services: Vec<DepartmentService>,
    pub offerings: Vec<ServiceOffering>,
    pub policies: Vec<PlatformPolicy>,
    /// Nodes, for pools that leave `spec.capacity` out.
    pub nodes: Vec<Node>,
    pub settings: Settings,
    /// The moment maintenance windows are evaluated at: the operator's clock, or
    /// `govcloud plan --at`.
    pub now: jiff::Timestamp,
    /// Deployments still rolling out (not yet available with their latest pod template),
    /// keyed like services; a shared instance's by the shared namespace and its name.
    /// A move out of a pool stays in progress, and counts against the pool's
    /// `maxConcurrentMoves`, until its Deployment is off this list. Empty offline.
    pub rolling: BTreeSet<ServiceKey>,
}

/// `namespace/name` of a DepartmentService: how services are keyed everywhere.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKey {
    pub namespace: String,
    pub name: String,
}

impl ServiceKey {
    pub fn of(svc: &DepartmentService) -> Self {
        Self {
            namespace: svc.namespace().unwrap_or_default(),
            name: svc.name_any(),
        }
    }
}

impl std::fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A decision made before, which the planner keeps while it stays feasible.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    pub pool: Option<String>,
    pub shared_instance: Option<String>,
    /// The pool a move started from, while its Deployment rolls out (`status.movedFrom`).
    pub moved_from: Option<String>,
    /// Since when a move has been waiting, to keep `pendingChange.since` while it waits.
    pub move_pending_since: Option<jiff::Timestamp>,
    /// Where a waiting move goes (`pendingChange.to`): kept while it still fits, so that
    /// its reservation stays where it was made.
    pub move_pending_to: Option<String>,
}

/// The previous plan's decisions, keyed by service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignments {
    pub services: BTreeMap<ServiceKey, Assignment>,
}

impl Assignments {
    /// Reads `status.pool` and `status.sharedInstance` of every service, so that
    /// `kubectl get -o yaml` output (or the operator's cache) re-plans to the same decisions.
    pub fn from_status(snapshot: &Snapshot) -> Self {
        let services = snapshot
            .services
            .iter()
            .filter_map(|svc| {
                let status = svc.status.as_ref()?;
                let a = Assignment {
                    pool: status.pool.clone(),
                    shared_instance: status.shared_instance.clone(),
                    moved_from: status.moved_from.clone(),
                    move_pending_since: status
                        .pending_change
                        .as_ref()
                        .filter(|c| c.kind == ChangeKind::Move)
                        .map(|c| c.since.0),
                    move_pending_to: status
                        .pending_change
                        .as_ref()
                        .filter(|c| c.kind == ChangeKind::Move)
                        .map(|c| c.to.clone()),
                };
                (a.pool.is_some() || a.shared_instance.is_some()).then(|| (ServiceKey::of(svc), a))
            })
            .collect();
        Self { services }
    }

    /// The assignments a plan made, to feed into the next plan.
    pub fn from_plan(plan: &super::Plan) -> Self {
        let services = plan
            .services
            .iter()
            .filter(|s| s.pool.is_some() || s.shared_instance.is_some())
            .map(|s| {
                (
                    ServiceKey {
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                    },
                    Assignment {
                        pool: s.pool.clone(),
                        shared_instance: s.shared_instance.clone(),
                        moved_from: s.moved_from.clone(),
                        move_pending_since: s
                            .pending_change
                            .as_ref()
                            .filter(|c| c.change.kind == ChangeKind::Move)
                            .map(|c| c.change.since.0),
                        move_pending_to: s
                            .pending_change
                            .as_ref()
                            .filter(|c| c.change.kind == ChangeKind::Move)
                            .map(|c| c.change.to.clone()),
                    },
                )
            })
            .collect();
        Self { services }
    }
}
