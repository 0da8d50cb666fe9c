use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Conditions, MaintenanceExclusion, ResourceFactors, ResourceRequest};

/// Unified platform standards; every policy applies (their conjunction).
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "govcloud.io",
    version = "v1alpha1",
    kind = "PlatformPolicy",
    plural = "platformpolicies",
    shortname = "ppol",
    category = "govcloud",
    status = "PlatformPolicyStatus",
    printcolumn = r#"{"name":"Max Replicas","type":"integer","jsonPath":".spec.maxReplicas"}"#,
    printcolumn = r#"{"name":"Violations","type":"integer","jsonPath":".status.violations"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct PlatformPolicySpec {
    /// Image prefixes workloads may pull from, e.g. `registry.gov.example/`; empty allows any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_registries: Vec<String>,
    /// Refuse `:latest` and untagged images.
    #[serde(default)]
    pub forbid_latest_tag: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_replicas: Option<i32>,
    /// Largest requests one replica may make.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replica_resources: Option<ResourceRequest>,
    /// Requests for workloads that give none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_resources: Option<ResourceRequest>,
    /// Limits = requests × ratio (≥ 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_ratio: Option<ResourceFactors>,
    /// The grain the platform sizes workloads in, e.g. `250m` and `256Mi`: `govcloud
    /// assess` rounds the requests it proposes up to multiples of it. Requests of other
    /// sizes are not refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_steps: Option<ResourceRequest>,
    /// Estate-wide freezes: while one covers the moment, no platform-driven restart
    /// happens anywhere, whatever the windows say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub maintenance_exclusions: Vec<MaintenanceExclusion>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformPolicyStatus {
    /// Number of services currently refused for violating this policy.
    #[serde(default)]
    pub violations: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::conditions_schema")]
    pub conditions: Conditions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
