use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Conditions, MaintenanceExclusion, MaintenanceWindow, PendingChange, Port, ResourceAmounts};

/// A common system built once by the platform team and shared by departments.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "govcloud.io",
    version = "v1alpha1",
    kind = "ServiceOffering",
    plural = "serviceofferings",
    shortname = "offering",
    category = "govcloud",
    status = "ServiceOfferingStatus",
    printcolumn = r#"{"name":"Level","type":"integer","jsonPath":".spec.securityLevel"}"#,
    printcolumn = r#"{"name":"Version","type":"string","jsonPath":".spec.version"}"#,
    printcolumn = r#"{"name":"Tenants","type":"integer","jsonPath":".status.tenants"}"#,
    printcolumn = r#"{"name":"Instances","type":"integer","jsonPath":".status.instances"}"#,
    printcolumn = r#"{"name":"Saved","type":"integer","jsonPath":".status.instancesSaved"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ServiceOfferingSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[schemars(length(min = 1))]
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Highest level (1–4) of tenant data the offering is accredited for.
    #[schemars(range(min = 1, max = 4))]
    pub security_level: u8,
    /// How many tenants one instance serves (≥ 1).
    #[schemars(range(min = 1))]
    pub tenants_per_instance: u32,
    pub instance: OfferingInstance,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance_windows: Vec<MaintenanceWindow>,
    /// One-off freezes: no platform-driven restart while one covers the moment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub maintenance_exclusions: Vec<MaintenanceExclusion>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OfferingInstance {
    #[serde(default = "one")]
    #[schemars(range(min = 1))]
    pub replicas: i32,
    /// Requests per replica.
    pub resources: ResourceAmounts,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
}

fn one() -> i32 {
    1
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceOfferingStatus {
    #[serde(default)]
    pub tenants: u32,
    /// Number of shared instances running.
    #[serde(default)]
    pub instances: u32,
    /// Instances the departments would run if each built its own.
    #[serde(default)]
    pub siloed_instances: u32,
    #[serde(default)]
    pub instances_saved: i64,
    /// Each shared instance, its level, pool and tenants (`namespace/name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_details: Vec<SharedInstanceStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::conditions_schema")]
    pub conditions: Conditions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedInstanceStatus {
    pub name: String,
    pub security_level: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(default)]
    pub tenants: Vec<String>,
    /// A platform-driven change of this instance waiting for a maintenance window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_change: Option<PendingChange>,
}
