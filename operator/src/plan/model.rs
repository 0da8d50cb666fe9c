//! The validated, normalised form of each object the planner decides from.
//!
//! Quantities are parsed once here; every later rule works on exact integers.

use std::collections::BTreeSet;

use k8s_openapi::jiff::Timestamp;

use super::{Reason, ServiceKey};
use crate::api::Availability;
use crate::maintenance::Calendar;
use crate::quantity::Res;

#[derive(Clone, Debug)]
pub struct PoolModel {
    pub name: String,
    pub level: u8,
    pub cordoned: bool,
    /// Marked for deletion: like cordoned, it takes nothing new and its services move
    /// away; govcloud's finalizer holds the object until none is left on it.
    pub deleting: bool,
    pub capacity: Res,
    /// capacity × overcommit: the hard limit.
    pub effective: Res,
    pub overcommit: (f64, f64),
    pub target: f64,
    /// (per core-hour, per GiB-hour).
    pub rates: Option<(f64, f64)>,
    pub node_shape: Option<Res>,
    /// Moves out of the pool that may be in progress at once.
    pub max_moves: u32,
    pub maintenance: Maintenance,
    /// `govcloud.io/apply-now`: moves out of the pool go at once, for this reason.
    pub apply_now: Option<String>,
    pub reasons: Vec<Reason>,
}

impl PoolModel {
    pub fn usable(&self) -> bool {
        self.reasons.is_empty()
    }
}

#[derive(Clone, Debug)]
pub struct DepartmentModel {
    pub name: String,
    pub namespace: String,
    pub clearance: u8,
    pub quota: Res,
    pub quota_services: u32,
    /// Allow-listed pool names; `None` means every pool.
    pub pools: Option<BTreeSet<String>>,
    /// Marked for deletion: held by govcloud's finalizer while services remain.
    pub deleting: bool,
    pub maintenance: Maintenance,
    pub reasons: Vec<Reason>,
}

/// When an object's platform-driven changes may happen: its windows and exclusions,
/// compiled. A problem with them shuts the calendar (fail closed) but takes nothing
/// else away: the object keeps its capacity, its services and their placements.
#[derive(Clone, Debug)]
pub struct Maintenance {
    pub calendar: Calendar,
    /// `InvalidSpec` problems naming the field, e.g. `spec.maintenanceWindows[0].timeZone`.
    pub problems: Vec<Reason>,
}

impl Default for Maintenance {
    fn default() -> Self {
        Self {
            calendar: Calendar::always_open(),
            problems: Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct OfferingModel {
    pub name: String,
    pub level: u8,
    pub tenants_per_instance: u32,
    pub replicas: i32,
    /// Per replica.
    pub requests: Res,
    /// Everything one instance requests (requests × replicas), and a tenant's charge:
    /// its share of one instance, rounded up. Computed once by validation, which refuses
    /// an offering where either is beyond i64 (then both are zero).
    pub instance: Res,
    pub share: Res,
    pub maintenance: Maintenance,
    /// `govcloud.io/apply-now`: its instances' moves go at once, for this reason.
    pub apply_now: Option<String>,
    /// Each instance's waiting move by the offering's status
    /// (`instanceDetails[].pendingChange`): since when, and to where.
    pub move_pending: std::collections::BTreeMap<String, (k8s_openapi::jiff::Timestamp, String)>,
    pub reasons: Vec<Reason>,
}

impl OfferingModel {
    pub fn instance_demand(&self) -> Res {
        self.instance
    }

    pub fn tenant_share(&self) -> Res {
        self.share
    }
}

/// The per-resource view of all policies together, for defaults and limits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EffectivePolicy {
    /// Requests for workloads that give none: the first policy by name that sets each.
    pub default_cpu: Option<(i64, String)>,
    pub default_memory: Option<(i64, String)>,
    /// Limits = requests × ratio: the most restrictive (smallest) ratio; 1 when none is set.
    pub limit_ratio: (f64, f64),
    /// Whether any policy sets a ratio (a LimitRange then states default limits).
    pub limit_ratio_set: bool,
    /// Largest requests per replica: the most restrictive `maxReplicaResources`.
    pub max_cpu: Option<i64>,
    pub max_memory: Option<i64>,
    /// The sizing grain: the coarsest `resourceSteps` of the valid policies, so that a
    /// size on it is on every policy's grain when the steps divide one another.
    pub step_cpu: Option<i64>,
    pub step_memory: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct PolicyModel {
    pub name: String,
    pub allowed_registries: Vec<String>,
    pub forbid_latest_tag: bool,
    pub max_replicas: Option<i32>,
    pub max_cpu: Option<i64>,
    pub max_memory: Option<i64>,
    pub default_cpu: Option<i64>,
    pub default_memory: Option<i64>,
    pub limit_ratio: Option<(f64, f64)>,
    /// `spec.resourceSteps`: the sizing grain, each > 0 when set.
    pub step_cpu: Option<i64>,
    pub step_memory: Option<i64>,
    /// Estate-wide freezes (`spec.maintenanceExclusions`).
    pub freeze: Maintenance,
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug)]
pub enum Demand {
    Workload {
        image: String,
        replicas: i32,
        requests: Res,
        limits: Res,
        /// requests × replicas, representable (validation refuses what is not).
        charge: Res,
    },
    Tenant {
        offering: String,
    },
}

#[derive(Clone, Debug)]
pub struct ServiceModel {
    pub key: ServiceKey,
    pub department: Option<String>,
    /// Index of that department in the estate, resolved once at validation.
    pub dept: Option<usize>,
    pub level: u8,
    pub created: Option<Timestamp>,
    pub availability: Availability,
    /// `None` when the spec is invalid (then `reasons` says why).
    pub demand: Option<Demand>,
    /// `govcloud.io/apply-now`: its moves go at once, for this reason.
    pub apply_now: Option<String>,
    pub reasons: Vec<Reason>,
}
