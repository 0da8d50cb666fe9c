//! What a full pass leaves for the passes over changes that follow it: the planner it
//! decided with (which a newcomer is added to), its plans and the estate it rendered.

use std::collections::HashSet;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;

use super::changes::Planned;
use super::hold::Held;
use crate::api::DepartmentService;
use crate::plan::{Plan, Planner, ServiceKey, Snapshot};

/// What a full pass leaves for the passes over changes that follow it.
pub(crate) struct Kept {
    pub planner: Planner,
    /// The plan before held templates were merged in (what renders).
    pub base: Arc<Plan>,
    /// The plan the statuses were written from (`base` itself when nothing is held).
    pub merged: Arc<Plan>,
    pub held: Vec<Held>,
    /// What was rendered from: the last full pass's estate, with every newcomer since.
    pub snapshot: Snapshot,
    pub known: HashSet<ServiceKey>,
    pub last: Option<(Option<Time>, ServiceKey)>,
}

impl Kept {
    pub fn new(
        planner: Planner,
        base: Arc<Plan>,
        merged: Arc<Plan>,
        held: Vec<Held>,
        snapshot: Snapshot,
    ) -> Self {
        let known = merged
            .services
            .iter()
            .map(|s| ServiceKey {
                namespace: s.namespace.clone(),
                name: s.name.clone(),
            })
            .collect();
        let last = snapshot
            .services
            .iter()
            .map(|s| (s.metadata.creation_timestamp.clone(), key_of(s)))
            .max_by(|(ca, ka), (cb, kb)| (ca.is_none(), ca, ka).cmp(&(cb.is_none(), cb, kb)));
        Self {
            planner,
            base,
            merged,
            held,
            snapshot,
            known,
            last,
        }
    }
}

impl Kept {
    /// Whether the workload `key` (a service's, or a shared instance's in the shared
    /// namespace) is moving between pools: its rollout's end frees the source pool.
    pub fn moving(&self, key: &ServiceKey) -> bool {
        let plan = &self.merged;
        if key.namespace == self.snapshot.settings.shared_namespace {
            return plan
                .offerings
                .iter()
                .flat_map(|o| &o.instances)
                .any(|i| i.name == key.name && i.moved_from.is_some());
        }
        plan.services
            .binary_search_by(|p| (p.namespace.as_str(), p.name.as_str()).cmp(&(&key.namespace, &key.name)))
            .is_ok_and(|i| plan.services[i].moved_from.is_some())
    }
}

impl Planned for Kept {
    fn knows(&self, key: &ServiceKey) -> bool {
        self.known.contains(key)
    }

    fn last_arrival(&self) -> Option<(Option<&Time>, &ServiceKey)> {
        self.last.as_ref().map(|(t, k)| (t.as_ref(), k))
    }
}

pub(crate) fn key_of(s: &DepartmentService) -> ServiceKey {
    ServiceKey {
        namespace: s.namespace().unwrap_or_default(),
        name: s.name_any(),
    }
}
