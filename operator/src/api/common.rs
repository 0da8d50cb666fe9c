use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::quantity::{QuantityError, Res, parse_cpu, parse_memory};

/// Kubernetes quantity syntax (`500m`, `2`, `1.5`, `2Gi`, `1e3`), checked by the API server
/// so that a typo is refused at `kubectl apply` rather than discovered by the planner.
pub const QUANTITY_PATTERN: &str =
    r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$";

/// A CPU and memory amount, both required (capacities, quotas, node shapes).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceAmounts {
    /// CPU as a Kubernetes quantity, e.g. `500m` or `16`.
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub cpu: String,
    /// Memory as a Kubernetes quantity, e.g. `512Mi` or `64Gi`.
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub memory: String,
}

impl ResourceAmounts {
    /// Both amounts as exact integers; otherwise every field that does not parse (`cpu`,
    /// `memory`), with why, so that a caller can name each one.
    pub fn parse(&self) -> Result<Res, Vec<(&'static str, QuantityError)>> {
        match (parse_cpu(&self.cpu), parse_memory(&self.memory)) {
            (Ok(cpu), Ok(memory)) => Ok(Res::new(cpu, memory)),
            (cpu, memory) => Err([("cpu", cpu.err()), ("memory", memory.err())]
                .into_iter()
                .filter_map(|(field, e)| Some((field, e?)))
                .collect()),
        }
    }
}

/// A CPU and memory amount where either may be left out (requests, defaults, limits).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub memory: Option<String>,
}

/// Per-resource factors: overcommit factors and limit ratios (both ≥ 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceFactors {
    #[serde(default = "one")]
    #[schemars(range(min = 1.0))]
    pub cpu: f64,
    #[serde(default = "one")]
    #[schemars(range(min = 1.0))]
    pub memory: f64,
}

impl Default for ResourceFactors {
    fn default() -> Self {
        Self {
            cpu: 1.0,
            memory: 1.0,
        }
    }
}

fn one() -> f64 {
    1.0
}

/// Resource ratios reported in status (allocated / effective capacity).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Utilisation {
    pub cpu: f64,
    pub memory: f64,
}

/// A recurring window in which platform-driven restarts are allowed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MaintenanceWindow {
    /// Start times as a five-field cron expression (`minute hour day-of-month month day-of-week`).
    #[schemars(length(min = 9))]
    pub schedule: String,
    /// How long the window stays open, e.g. `2h` or `90m`.
    #[schemars(regex(pattern = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"), length(min = 2))]
    pub duration: String,
    /// IANA time zone of the schedule, e.g. `Asia/Shanghai`; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// A one-off freeze: no platform-driven disruption from `start` until `end`, whatever
/// the windows say (elections, tax deadlines, a budget close).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MaintenanceExclusion {
    /// First instant of the freeze, RFC 3339 (e.g. `2027-04-01T00:00:00Z`).
    #[schemars(length(min = 1, max = 64))]
    pub start: String,
    /// First instant after the freeze, RFC 3339; after `start`.
    #[schemars(length(min = 1, max = 64))]
    pub end: String,
    /// Why the estate is frozen, shown in conditions and Events.
    #[schemars(length(min = 1, max = 256))]
    pub reason: String,
}

/// A platform-driven change that waits for a maintenance window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingChange {
    pub kind: ChangeKind,
    /// What runs now: the pool, for a move; the pod template's fingerprint, for a template change.
    pub from: String,
    /// What will run once a window opens.
    pub to: String,
    /// When the change was first deferred; kept while it waits.
    pub since: Time,
    /// When the windows that gate it next open together; absent when none opens
    /// within a year or a window is invalid (then it waits for a fix or `govcloud.io/apply-now`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_window: Option<Time>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum ChangeKind {
    /// To another pool (a cordoned or deleting pool is drained).
    Move,
    /// A new pod template the department did not ask for (policy, pool, offering or
    /// govcloud version).
    Template,
}

/// A container port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Port {
    /// IANA service name of the port: at most 15 lowercase letters, digits and '-', at
    /// least one letter, no '-' at either end and no '--'.
    #[schemars(
        length(min = 1, max = 15),
        regex(pattern = crate::names::PORT_NAME_PATTERN)
    )]
    pub name: String,
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    #[serde(default)]
    pub protocol: Protocol,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "SCTP")]
    Sctp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// Status conditions, keyed by `type` (`listType: map` lets several writers coexist).
pub type Conditions = Vec<Condition>;

/// The schema of a list of conditions, with the map list type the API conventions ask for.
pub fn conditions_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut schema = generator.subschema_for::<Vec<Condition>>();
    schema.insert("x-kubernetes-list-type".into(), "map".into());
    schema.insert("x-kubernetes-list-map-keys".into(), serde_json::json!(["type"]));
    schema
}
