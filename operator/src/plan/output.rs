//! The plan: the documented, stable output schema of `govcloud plan --output json`.
//!
//! Amounts serialise as `{"cpu": cores, "memory": bytes}` and ratios as numbers in [0, 1];
//! vectors are sorted by name so that the same snapshot gives byte-identical output.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::{PendingChange, Phase};
use crate::quantity::Res;

/// The fixed vocabulary of refusal reasons (condition `reason`, `reasons[].code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReasonCode {
    InvalidSpec,
    DepartmentNotFound,
    PolicyViolation,
    ClearanceInsufficient,
    QuotaExceeded,
    OfferingNotFound,
    LevelAboveOffering,
    PoolNotAllowed,
    InsufficientCapacity,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 9] = [
        ReasonCode::InvalidSpec,
        ReasonCode::DepartmentNotFound,
        ReasonCode::PolicyViolation,
        ReasonCode::ClearanceInsufficient,
        ReasonCode::QuotaExceeded,
        ReasonCode::OfferingNotFound,
        ReasonCode::LevelAboveOffering,
        ReasonCode::PoolNotAllowed,
        ReasonCode::InsufficientCapacity,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ReasonCode::InvalidSpec => "InvalidSpec",
            ReasonCode::DepartmentNotFound => "DepartmentNotFound",
            ReasonCode::PolicyViolation => "PolicyViolation",
            ReasonCode::ClearanceInsufficient => "ClearanceInsufficient",
            ReasonCode::QuotaExceeded => "QuotaExceeded",
            ReasonCode::OfferingNotFound => "OfferingNotFound",
            ReasonCode::LevelAboveOffering => "LevelAboveOffering",
            ReasonCode::PoolNotAllowed => "PoolNotAllowed",
            ReasonCode::InsufficientCapacity => "InsufficientCapacity",
        }
    }
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One refusal: a code from the fixed vocabulary and a message naming field, limit and value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub message: String,
}

impl Reason {
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// `Res` in the output schema: CPU in cores, memory in bytes.
#[derive(Serialize, Deserialize)]
struct AmountRepr {
    cpu: f64,
    memory: i64,
}

impl Serialize for Res {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AmountRepr {
            cpu: self.cores(),
            memory: self.memory_bytes,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Res {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let a = AmountRepr::deserialize(d)?;
        Ok(Res::new((a.cpu * 1000.0).round() as i64, a.memory))
    }
}

/// Per-resource ratios in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub cpu: f64,
    pub memory: f64,
}

impl Ratio {
    /// `part / whole` per resource, rounded to 4 decimals; 0 where the whole is 0.
    pub fn of(part: Res, whole: Res) -> Self {
        let r = |p: i64, w: i64| if w <= 0 { 0.0 } else { round4(p as f64 / w as f64) };
        Self {
            cpu: r(part.cpu_millis, whole.cpu_millis),
            memory: r(part.memory_bytes, whole.memory_bytes),
        }
    }
}

pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub services: Vec<ServicePlan>,
    pub pools: Vec<PoolPlan>,
    pub departments: Vec<DepartmentPlan>,
    pub offerings: Vec<OfferingPlan>,
    pub policies: Vec<PolicyPlan>,
    pub savings: Savings,
    /// When a waiting move's windows next open or close: the operator plans again then
    /// (a timer, not polling). Not part of the output schema.
    #[serde(skip)]
    pub wake_at: Option<jiff::Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlan {
    pub namespace: String,
    pub name: String,
    /// The department owning the namespace, or null when none does.
    pub department: Option<String>,
    pub security_level: u8,
    pub admitted: bool,
    pub compliant: bool,
    pub phase: Phase,
    pub pool: Option<String>,
    pub shared_instance: Option<String>,
    /// What the service is charged against its department quota (its share, for a tenant).
    pub allocated: Res,
    pub reasons: Vec<Reason>,
    /// The offering consumed, for a tenant.
    pub offering: Option<String>,
    /// Effective replicas, per-replica requests and limits of an own workload
    /// (policy defaults and limit ratios applied).
    pub workload: Option<WorkloadShape>,
    /// The pool the service is moving away from: set from the plan that moves it until
    /// its Deployment is available on the new pool (capacity is held on both meanwhile).
    pub moved_from: Option<String>,
    /// A platform-driven move that waits (for a window, a freeze to end, or a move slot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_change: Option<PendingPlan>,
    /// The `govcloud.io/apply-now` reason a move went ahead for outside its windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_now: Option<String>,
    /// Whether its department's, its pool's and the estate's maintenance are open
    /// together now: when a new pod template the department did not ask for may roll out.
    #[serde(default)]
    pub maintenance: MaintenancePlan,
}

/// A change the plan defers, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingPlan {
    #[serde(flatten)]
    pub change: PendingChange,
    pub reason: PendingReason,
    /// What waits for what, naming the objects whose windows gate it.
    pub message: String,
}

/// Why a change waits: the `MaintenancePending` condition's reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PendingReason {
    /// The windows that gate it are not open together now (or one is invalid).
    AwaitingWindow,
    /// A `maintenanceExclusion` covers now.
    Frozen,
    /// The source pool already has `spec.disruption.maxConcurrentMoves` moves in progress.
    MoveLimit,
}

impl PendingReason {
    pub const ALL: [PendingReason; 3] = [
        PendingReason::AwaitingWindow,
        PendingReason::Frozen,
        PendingReason::MoveLimit,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PendingReason::AwaitingWindow => "AwaitingWindow",
            PendingReason::Frozen => "Frozen",
            PendingReason::MoveLimit => "MoveLimit",
        }
    }
}

/// An object's own maintenance calendar (with the estate's freezes) at the plan's moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaintenancePlan {
    pub open: bool,
    /// When shut: when it next opens (absent when not within the search horizon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_open: Option<jiff::Timestamp>,
    /// When open: when it closes (absent when it never does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<jiff::Timestamp>,
    /// The reason of the exclusion that freezes it now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen: Option<String>,
    /// Problems with its windows or exclusions, which keep it shut until fixed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Reason>,
}

impl MaintenancePlan {
    /// No windows, no freeze: always open, as an object without `maintenanceWindows` is.
    pub fn always_open() -> Self {
        Self {
            open: true,
            ..Self::default()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadShape {
    pub replicas: i32,
    pub requests: Res,
    pub limits: Res,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolPlan {
    pub name: String,
    pub security_level: u8,
    pub cordoned: bool,
    /// Capacity before overcommit (spec, or the sum of allocatable of matched Nodes).
    pub capacity: Res,
    /// Capacity × overcommit: the hard limit of placement.
    pub effective_capacity: Res,
    pub target_utilisation: f64,
    pub allocated: Res,
    /// allocated / effective capacity.
    pub utilisation: Ratio,
    pub services: u32,
    pub departments: u32,
    pub shared_instances: u32,
    pub monthly_cost: f64,
    /// Problems with the pool's spec; a pool with any is not used for placement.
    pub reasons: Vec<Reason>,
    /// Present while the pool is being deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion: Option<Deletion>,
    pub maintenance: MaintenancePlan,
}

/// An object being deleted, which govcloud's finalizer holds while anything still
/// depends on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deletion {
    /// `namespace/name` of each DepartmentService still placed on the pool, or still in
    /// the department's namespace, sorted. Empty: the deletion may go ahead.
    pub waiting_for: Vec<String>,
}

impl Deletion {
    /// Nothing holds the object any more: govcloud cleans up and lets it go.
    pub fn may_proceed(&self) -> bool {
        self.waiting_for.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaPlan {
    pub cpu: f64,
    pub memory: i64,
    pub services: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentPlan {
    pub name: String,
    pub namespace: String,
    pub security_clearance: u8,
    pub quota: QuotaPlan,
    /// Quota reserved by admitted services (own workloads and tenant shares).
    pub allocated: Res,
    /// Admitted services.
    pub services: u32,
    /// Services in phase Rejected.
    pub rejected_services: u32,
    /// Admitted tenancies of shared offerings.
    pub shared_services: u32,
    /// Placed allocations × pool rates × 730 h.
    pub monthly_cost: f64,
    pub reasons: Vec<Reason>,
    /// Present while the department is being deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion: Option<Deletion>,
    pub maintenance: MaintenancePlan,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferingPlan {
    pub name: String,
    pub tenants: u32,
    pub instances: Vec<InstancePlan>,
    /// Instances if every department ran its own per level: Σ ceil(tenants / tenantsPerInstance).
    pub siloed_instances: u32,
    pub instances_saved: i64,
    pub reasons: Vec<Reason>,
    pub maintenance: MaintenancePlan,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstancePlan {
    pub name: String,
    pub security_level: u8,
    pub pool: Option<String>,
    /// `namespace/name` of each tenant, sorted.
    pub tenants: Vec<String>,
    pub replicas: i32,
    pub requests: Res,
    pub limits: Res,
    /// The pool the instance is moving away from, while its Deployment rolls out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_change: Option<PendingPlan>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_now: Option<String>,
    /// Its offering's, its pool's and the estate's maintenance, together (see services).
    #[serde(default)]
    pub maintenance: MaintenancePlan,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyPlan {
    pub name: String,
    /// Services refused for violating this policy.
    pub violations: u32,
    pub reasons: Vec<Reason>,
    /// Problems with its `maintenanceExclusions`: the estate stays frozen until fixed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusion_problems: Vec<Reason>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Savings {
    pub instances_saved: i64,
    pub nodes_consolidated: i64,
    pub nodes_siloed: i64,
    pub nodes_saved: i64,
    pub monthly_cost_consolidated: f64,
    pub monthly_cost_siloed: f64,
    pub monthly_cost_saved: f64,
    pub utilisation_consolidated: Ratio,
    pub utilisation_siloed: Ratio,
}
