//! The report: what `govcloud report --output json` prints, field for field.
//!
//! Units follow the plan schema: resources are `{"cpu": cores, "memory": bytes}`,
//! ratios numbers in [0, 1], money in the pool rates' currency per month (730 h),
//! rounded to cents. Absent measurements are `null`, never zero: "not measured" and
//! "idle" are different findings for an auditor.
//!
//! Where the report says no more than the plan (a department's quota, a policy, the
//! savings) it holds the plan's type, which serialises field for field the same. The
//! others add what only the report knows (usage, rates, level evidence, apportioned
//! costs) or name things differently (`admittedServices` for the plan's `services`), and
//! the schema is public: they stay types of their own.

use serde::Serialize;

use crate::api::Phase;
use crate::plan::{PendingReason, PolicyPlan, QuotaPlan, Ratio, Reason, ReasonCode, Savings};
use crate::quantity::Res;

/// Identifies this schema; bumped on any incompatible change.
pub const SCHEMA: &str = "govcloud.io/report/v1alpha1";

/// Where the estate was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// Manifest files, as `govcloud plan` reads them.
    Manifests,
    /// The live cluster's objects (previous decisions from their status).
    Cluster,
}

/// Where the usage figures came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UsageOrigin {
    /// `--usage FILE`: one sample of per-pod usage, attributed by the report's own plan.
    File,
    /// The running operator's `status.used` of each object: attributed by the operator's
    /// plan, rounded to two significant digits, each measured at its own `usedAt`.
    Statuses,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    pub source: Source,
    /// Label of every money figure (the operator config's `currency`).
    pub currency: String,
    /// Where the usage came from; null when usage was not measured.
    pub usage_origin: Option<UsageOrigin>,
    /// When the usage was measured (RFC 3339): the sample's time, or from statuses the
    /// oldest `usedAt`; null when not measured.
    pub usage_at: Option<String>,
    /// The newest time of the usage: the sample's time again, or the newest `usedAt`.
    /// Statuses are measured at different times (each is rewritten only when its usage
    /// moved), so with `usageAt` it bounds how old the figures are.
    pub usage_until: Option<String>,
    pub summary: Summary,
    /// Every department, by name, with its services.
    pub departments: Vec<DepartmentReport>,
    /// Services in namespaces no department owns (refused `DepartmentNotFound`).
    pub unowned_services: Vec<ServiceReport>,
    pub pools: Vec<PoolReport>,
    pub shared_instances: Vec<InstanceReport>,
    /// Every refusal in the plan, of any kind of object.
    pub refusals: Vec<Refusal>,
    /// Platform-driven changes waiting for a maintenance window, a freeze's end or a
    /// move slot: what an auditor checks disruption against.
    pub pending_changes: Vec<PendingChangeReport>,
    /// Each policy with the services it refused: the plan's, unchanged.
    pub policies: Vec<PolicyPlan>,
    /// The plan's `savings`, unchanged.
    pub savings: Savings,
}

impl Report {
    /// Whether usage was measured at all; the human formats show their used columns only
    /// then, rather than "not measured" on every row.
    pub fn measured(&self) -> bool {
        self.usage_origin.is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub departments: u32,
    pub services: u32,
    /// Services with a pool (phase Placed).
    pub placed: u32,
    /// Admitted but without a pool (no capacity).
    pub pending: u32,
    /// Not admitted (phase Rejected).
    pub rejected: u32,
    /// Sum of every department's quota, allocation and (when measured) use.
    pub quota: Res,
    pub allocated: Res,
    pub used: Option<Res>,
    /// Sum of the services' apportioned monthly costs (the chargeback).
    pub monthly_cost_charged: f64,
    pub level_check: LevelCheck,
    /// Pods in department or shared namespaces the usage sample could not attribute
    /// to anything placed; null without a usage file (statuses do not record them).
    pub unattributed_pods: Option<usize>,
}

/// The evidence that no service runs below its security level, computed from the plan's
/// placements and the pools' levels (not taken from the planner's word).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelCheck {
    /// Placed services checked.
    pub checked: u32,
    /// Of those, on a pool whose level is at least theirs.
    pub passed: u32,
    /// `namespace/name` of each placed service that is not.
    pub failures: Vec<String>,
    /// Shared instances on a pool below the instance's level.
    pub instance_failures: Vec<String>,
    /// True when there are no failures of either kind.
    pub holds: bool,
    /// The finding in one sentence, for the report's summary.
    pub statement: String,
}

/// The outcome of comparing one service's (or instance's) level with its pool's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LevelStatus {
    /// The pool's level is at least the service's.
    Ok,
    /// The pool's level is below the service's: a breach.
    BelowLevel,
    /// The plan names a pool it does not describe: cannot be shown to hold.
    UnknownPool,
    /// Not placed: nothing runs, nothing to check.
    NotPlaced,
}

impl LevelStatus {
    pub fn is_failure(self) -> bool {
        matches!(self, LevelStatus::BelowLevel | LevelStatus::UnknownPool)
    }

    /// The check column in tables.
    pub fn mark(self) -> &'static str {
        match self {
            LevelStatus::Ok => "ok",
            LevelStatus::BelowLevel => "BELOW LEVEL",
            LevelStatus::UnknownPool => "UNKNOWN POOL",
            LevelStatus::NotPlaced => "-",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentReport {
    pub name: String,
    pub display_name: Option<String>,
    pub code: Option<String>,
    pub cost_centre: Option<String>,
    pub namespace: String,
    pub security_clearance: u8,
    /// Granted.
    pub quota: QuotaPlan,
    /// Reserved by admitted services (own workloads and tenant shares).
    pub allocated: Res,
    /// Admitted services (counted against `quota.services`).
    pub admitted_services: u32,
    pub rejected_services: u32,
    /// allocated / quota.
    pub allocated_of_quota: Ratio,
    /// Measured use of its services (instance use split among tenants); null when not
    /// measured or when no pod of it was reported.
    pub used: Option<Res>,
    pub used_of_quota: Option<Ratio>,
    /// The plan's chargeback: placed allocations × pool rates.
    pub monthly_cost: f64,
    /// Its services, by namespace/name.
    pub services: Vec<ServiceReport>,
    /// Its shares of shared instances.
    pub tenancies: Vec<Tenancy>,
    /// Problems with the Department itself (an invalid one admits nothing).
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceReport {
    pub namespace: String,
    pub name: String,
    pub department: Option<String>,
    pub security_level: u8,
    pub phase: Phase,
    pub pool: Option<String>,
    /// The level the pool is accredited for, next to the service's own.
    pub pool_security_level: Option<u8>,
    pub level_check: LevelStatus,
    pub shared_instance: Option<String>,
    pub offering: Option<String>,
    /// A tenant's share of its instance: 1 / tenantsPerInstance.
    pub instance_share: Option<f64>,
    /// The quota charge (zero unless admitted).
    pub allocated: Res,
    pub used: Option<Res>,
    /// allocated × the pool's rates × 730 h; zero unless placed.
    pub monthly_cost: f64,
    pub reasons: Vec<Reason>,
}

/// A department's seat in a shared instance and what it pays for it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenancy {
    /// `namespace/name` of the tenant DepartmentService.
    pub service: String,
    pub instance: String,
    pub offering: String,
    pub pool: Option<String>,
    /// 1 / tenantsPerInstance.
    pub share: f64,
    pub instance_monthly_cost: f64,
    /// The tenant's charge × pool rates: its apportioned part of the instance's cost.
    pub monthly_cost: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rates {
    pub cpu_core_hour: f64,
    #[serde(rename = "memoryGiBHour")]
    pub memory_gib_hour: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolReport {
    pub name: String,
    pub security_level: u8,
    pub cordoned: bool,
    pub capacity: Res,
    /// capacity × overcommit.
    pub effective_capacity: Res,
    pub target_utilisation: f64,
    pub allocated: Res,
    /// allocated / effective capacity.
    pub utilisation: Ratio,
    pub used: Option<Res>,
    /// used / effective capacity.
    pub used_utilisation: Option<Ratio>,
    pub rates: Option<Rates>,
    pub monthly_cost: f64,
    pub services: u32,
    pub departments: u32,
    pub shared_instances: u32,
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceReport {
    pub name: String,
    pub offering: String,
    pub security_level: u8,
    pub pool: Option<String>,
    pub pool_security_level: Option<u8>,
    pub level_check: LevelStatus,
    /// tenantsPerInstance.
    pub seats: u32,
    /// Everything the instance requests (per-replica requests × replicas).
    pub requests: Res,
    /// requests × the pool's rates × 730 h; zero unless placed.
    pub monthly_cost: f64,
    pub tenants: Vec<TenantShare>,
    /// Sum of the tenants' apportioned costs.
    pub charged_to_tenants: f64,
    /// Seats nobody holds.
    pub vacant_seats: u32,
    /// The cost of the vacant seats, which no department is charged: monthlyCost −
    /// chargedToTenants.
    pub vacant_monthly_cost: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantShare {
    /// `namespace/name`.
    pub service: String,
    pub department: Option<String>,
    pub share: f64,
    pub allocated: Res,
    pub used: Option<Res>,
    pub monthly_cost: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refusal {
    /// `DepartmentService`, `ResourcePool`, `Department`, `ServiceOffering` or `PlatformPolicy`.
    pub kind: &'static str,
    /// `namespace/name` for services, the name otherwise.
    pub name: String,
    /// The department concerned, when there is one.
    pub department: Option<String>,
    pub code: ReasonCode,
    pub message: String,
}

/// One waiting change: a DepartmentService's or a shared instance's.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingChangeReport {
    /// `DepartmentService` or `SharedInstance`.
    pub kind: &'static str,
    /// `namespace/name` of a service, the name of a shared instance.
    pub name: String,
    pub change: crate::api::ChangeKind,
    pub from: String,
    pub to: String,
    pub reason: PendingReason,
    /// RFC 3339.
    pub since: String,
    /// RFC 3339; null when no window opens within the search horizon.
    pub next_window: Option<String>,
    pub message: String,
}

impl PendingChangeReport {
    /// Every waiting change of `plan`: services by namespace/name, then shared instances.
    pub fn all(plan: &crate::plan::Plan) -> Vec<Self> {
        let row = |kind, name: String, p: &crate::plan::PendingPlan| Self {
            kind,
            name,
            change: p.change.kind,
            from: p.change.from.clone(),
            to: p.change.to.clone(),
            reason: p.reason,
            since: p.change.since.0.to_string(),
            next_window: p.change.next_window.as_ref().map(|t| t.0.to_string()),
            message: p.message.clone(),
        };
        let services = plan.services.iter().filter_map(|s| {
            let p = s.pending_change.as_ref()?;
            Some(row("DepartmentService", format!("{}/{}", s.namespace, s.name), p))
        });
        let instances = plan
            .offerings
            .iter()
            .flat_map(|o| &o.instances)
            .filter_map(|i| Some(row("SharedInstance", i.name.clone(), i.pending_change.as_ref()?)));
        services.chain(instances).collect()
    }
}
