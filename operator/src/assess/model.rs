//! The assessment as `--output json` prints it: a stable schema for tools, documented in
//! docs/assess.md. Resources as in the plan schema: `cpu` in cores, `memory` in bytes.

use serde::Serialize;

use super::inventory::{Format, State};
use super::size::Basis;
use crate::plan::{Plan, Reason};
use crate::quantity::Res;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Amount {
    /// Cores.
    pub cpu: f64,
    /// Bytes.
    pub memory: i64,
}

impl From<Res> for Amount {
    fn from(r: Res) -> Self {
        Self {
            cpu: r.cores(),
            memory: r.memory_bytes,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Ratios {
    pub cpu: f64,
    pub memory: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    pub headroom: f64,
    /// The grain the proposed requests are rounded up to.
    pub steps: Amount,
    /// Where the plan ran: the platform's own pools, or pools sized here.
    pub pools_from: PoolsFrom,
    /// The servers the inventories list, each with what became of it, in input order.
    pub servers: Vec<ServerAssessment>,
    /// Systems run on more than one server, with the instances sharing saves.
    pub systems: Vec<SystemAssessment>,
    /// The pools sized per security level, when the platform gave none.
    pub sized_pools: Vec<PoolSizing>,
    /// The servers the plan placed, as they run today …
    pub before: Before,
    /// … and on the shared platform.
    pub after: After,
    /// What could not be assessed and why, a row per server.
    pub not_assessed: Vec<NotAssessed>,
    /// The planner's decision on the proposed estate (the `govcloud plan` schema).
    pub plan: Plan,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PoolsFrom {
    Platform,
    Sized,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Proposed as the department's own workload.
    Workload,
    /// Proposed as a tenancy of a shared offering.
    Tenant,
    /// Powered off, suspended or a template: listed, not assessed.
    LeftOut,
    /// Running, but not proposed: see `why`.
    NotAssessed,
    /// Proposed, but the plan refused it: see the plan's reasons.
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Workload => "workload",
            Outcome::Tenant => "tenant",
            Outcome::LeftOut => "left out",
            Outcome::NotAssessed => "not assessed",
            Outcome::Refused => "refused by the plan",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerAssessment {
    pub file: String,
    pub line: usize,
    pub format: Format,
    pub server: String,
    pub state: State,
    pub department: Option<String>,
    pub security_level: Option<u8>,
    pub system: Option<String>,
    pub application: Option<String>,
    pub provisioned: Amount,
    pub outcome: Outcome,
    /// The proposed DepartmentService, `namespace/name`.
    pub service: Option<String>,
    /// The offering it becomes a tenant of.
    pub offering: Option<String>,
    /// Requests per replica.
    pub proposed: Option<Amount>,
    pub cpu_basis: Option<Basis>,
    pub memory_basis: Option<Basis>,
    /// The pool the plan put it (or its shared instance) on.
    pub pool: Option<String>,
    /// Why it is left out, not assessed or refused; or, for a proposed server, what the
    /// reader should know (a size kept for want of a measurement).
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemAssessment {
    pub name: String,
    /// Whether the platform offers it already, or it is proposed here.
    pub offering: OfferingSource,
    pub tenants_per_instance: u32,
    pub departments: usize,
    pub levels: Vec<LevelSaving>,
    /// Requests per replica of one instance.
    pub instance: Amount,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OfferingSource {
    Existing,
    Proposed,
    /// Run by one department only: its servers stay its own workloads.
    NotShared,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelSaving {
    pub security_level: u8,
    /// Servers running the system at this level today.
    pub copies: i64,
    /// Shared instances the plan seats them on.
    pub instances: i64,
    pub saved: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolSizing {
    pub name: String,
    pub security_level: u8,
    pub nodes: i64,
    /// What the level's workloads and shared instances request.
    pub requested: Amount,
    /// nodes × node shape.
    pub capacity: Amount,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Before {
    pub servers: i64,
    pub provisioned: Amount,
    /// Measured use over provisioned, weighted by size; unmeasured servers count as fully used.
    pub utilisation: Ratios,
    /// Yearly cost of the servers that give one, and how many do.
    pub yearly_cost: Option<f64>,
    pub servers_with_cost: i64,
    pub power_watts: Option<f64>,
    pub servers_with_power: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct After {
    /// Nodes of the pools' node shapes; absent when a pool has none.
    pub nodes: Option<i64>,
    /// What the placed services and shared instances request.
    pub requested: Amount,
    /// What the nodes provide; absent with the nodes.
    pub provisioned: Option<Amount>,
    /// The same use over what the nodes provide.
    pub utilisation: Option<Ratios>,
    pub yearly_cost: Option<f64>,
    pub power_watts: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotAssessed {
    pub file: String,
    pub line: usize,
    pub server: String,
    pub outcome: Outcome,
    pub why: String,
}
