use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Conditions, MaintenanceExclusion, MaintenanceWindow, ResourceAmounts, ResourceFactors, Utilisation,
};

/// A slice of shared infrastructure: the Nodes matched by `nodeSelector`.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "govcloud.io",
    version = "v1alpha1",
    kind = "ResourcePool",
    plural = "resourcepools",
    shortname = "pool",
    category = "govcloud",
    status = "ResourcePoolStatus",
    printcolumn = r#"{"name":"Level","type":"integer","jsonPath":".spec.securityLevel"}"#,
    printcolumn = r#"{"name":"Cordoned","type":"boolean","jsonPath":".spec.cordoned"}"#,
    printcolumn = r#"{"name":"CPU","type":"number","format":"float","jsonPath":".status.utilisation.cpu"}"#,
    printcolumn = r#"{"name":"Memory","type":"number","format":"float","jsonPath":".status.utilisation.memory"}"#,
    printcolumn = r#"{"name":"Services","type":"integer","jsonPath":".status.services"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePoolSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Highest MLPS level (1–4) the pool is accredited for; it hosts services of this level or lower.
    #[schemars(range(min = 1, max = 4))]
    pub security_level: u8,
    /// Labels of the pool's Nodes; workloads placed here are pinned with the same selector.
    #[schemars(schema_with = "node_selector_schema")]
    pub node_selector: BTreeMap<String, String>,
    /// Schedulable capacity; when absent, the sum of allocatable of the matched Nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<ResourceAmounts>,
    /// How far requests may exceed capacity (factors ≥ 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overcommit: Option<ResourceFactors>,
    /// Placement fills pools up to this fraction of capacity × overcommit before using emptier ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0), extend("exclusiveMinimum" = true))]
    pub target_utilisation: Option<f64>,
    /// Typical node size, to express capacity and savings in nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_shape: Option<ResourceAmounts>,
    /// Chargeback rates (currency from the operator config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance_windows: Vec<MaintenanceWindow>,
    /// One-off freezes: no platform-driven restart while one covers the moment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub maintenance_exclusions: Vec<MaintenanceExclusion>,
    /// No new placements; existing services move away in maintenance.
    #[serde(default)]
    pub cordoned: bool,
    /// How much platform-driven movement out of the pool may happen at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disruption: Option<Disruption>,
}

/// Limits on platform-driven moves out of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Disruption {
    /// Moves out of the pool in progress at once; the next starts when the moved
    /// Deployment is available again.
    #[serde(default = "one_move")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_concurrent_moves: u32,
}

fn one_move() -> u32 {
    1
}

impl Default for Disruption {
    fn default() -> Self {
        Self {
            max_concurrent_moves: one_move(),
        }
    }
}

/// At least one label; each value a label value (a pod's nodeSelector repeats them). Keys
/// are checked by the planner: a schema cannot constrain map keys.
fn node_selector_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {
            "type": "string",
            "maxLength": crate::names::LABEL_MAX,
            "pattern": crate::names::LABEL_VALUE_PATTERN,
        },
    })
}

/// The highest rate `spec.cost` takes, per core-hour or GiB-hour. A vCPU-hour costs
/// about 0.04 US dollars in public clouds: a million of any currency is twenty times that
/// even in the weakest currency in circulation (about a million to the dollar), yet keeps
/// every cost finite: the largest capacity a quantity can express (2^63 millicores) ×
/// 10^6 × 730 h is about 7 × 10^24.
pub const MAX_RATE: f64 = 1e6;

/// Hourly chargeback rates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    #[schemars(range(min = 0.0, max = MAX_RATE))]
    pub cpu_core_hour: f64,
    #[serde(rename = "memoryGiBHour")]
    #[schemars(range(min = 0.0, max = MAX_RATE))]
    pub memory_gib_hour: f64,
}

impl Cost {
    /// Each rate that is not a number, negative or above [`MAX_RATE`]: its field and why.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        [
            ("cpuCoreHour", self.cpu_core_hour),
            ("memoryGiBHour", self.memory_gib_hour),
        ]
        .into_iter()
        .filter_map(|(field, v)| {
            let why = if v.is_nan() {
                "is not a number".to_string()
            } else if v < 0.0 {
                "is negative".to_string()
            } else if v > MAX_RATE {
                format!("is above the maximum rate {MAX_RATE}")
            } else {
                return None;
            };
            Some((field, format!("{v:?} {why}")))
        })
        .collect()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourcePoolStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<ResourceAmounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated: Option<ResourceAmounts>,
    /// Measured usage of the services and shared instances running on it, rounded to two
    /// significant digits; rewritten only when it moves by 10 % (and 10m CPU or 10 MiB
    /// memory) or is an hour old. Absent when nothing on it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used: Option<ResourceAmounts>,
    /// When `used` was measured: its age shows how stale it is while the usage source is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilisation: Option<Utilisation>,
    #[serde(default)]
    pub services: u32,
    #[serde(default)]
    pub departments: u32,
    #[serde(default)]
    pub shared_instances: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::conditions_schema")]
    pub conditions: Conditions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
