use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Conditions, PendingChange, Port, ResourceAmounts, ResourceRequest};

/// A department's request for capacity: its own workload, or a tenancy of a shared offering.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "govcloud.io",
    version = "v1alpha1",
    kind = "DepartmentService",
    plural = "departmentservices",
    shortname = "dsvc",
    category = "govcloud",
    namespaced,
    status = "DepartmentServiceStatus",
    printcolumn = r#"{"name":"Level","type":"integer","jsonPath":".spec.securityLevel"}"#,
    printcolumn = r#"{"name":"Phase","type":"string","jsonPath":".status.phase"}"#,
    printcolumn = r#"{"name":"Pool","type":"string","jsonPath":".status.pool"}"#,
    printcolumn = r#"{"name":"Instance","type":"string","jsonPath":".status.sharedInstance"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","priority":1,"jsonPath":".status.conditions[?(@.status==\"False\")].reason"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "has(self.workload) != has(self.offering)",
    "message": "exactly one of spec.workload or spec.offering must be set"
}]))]
pub struct DepartmentServiceSpec {
    /// Classification (MLPS level 1–4) of the service's data.
    #[schemars(range(min = 1, max = 4))]
    pub security_level: u8,
    /// The department's own workload; exclusive with `offering`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Workload>,
    /// A tenancy of a shared ServiceOffering; exclusive with `workload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offering: Option<OfferingRef>,
    #[serde(default)]
    pub availability: Availability,
    #[serde(default)]
    pub exposure: Exposure,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Workload {
    #[schemars(length(min = 1))]
    pub image: String,
    /// Replicas; default 1, or 2 for `High` availability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub replicas: Option<i32>,
    /// Requests per replica; missing values come from the policies' `defaultResources`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnvVar {
    /// Letters, digits, '_', '-' and '.', not starting with a digit, and neither '.' nor
    /// starting with '..'.
    #[schemars(length(min = 1), regex(pattern = crate::names::ENV_VAR_NAME_PATTERN))]
    pub name: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OfferingRef {
    #[schemars(length(min = 1))]
    pub name: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum Availability {
    /// One replica is acceptable; no disruption budget.
    Basic,
    /// PodDisruptionBudget keeping one replica up.
    #[default]
    Standard,
    /// ≥ 2 replicas spread across zones and nodes, PodDisruptionBudget.
    High,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum Exposure {
    /// Reachable only from its own namespace.
    #[default]
    Department,
    /// Reachable from every department namespace.
    Internal,
    /// Also reachable from the ingress controller.
    Public,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum Phase {
    Pending,
    Rejected,
    Placed,
    Ready,
    Degraded,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Rejected => "Rejected",
            Phase::Placed => "Placed",
            Phase::Ready => "Ready",
            Phase::Degraded => "Degraded",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentServiceStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The pool the service (or its shared instance) runs on; kept while it stays feasible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// The shared instance this tenant is bound to; kept while it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_instance: Option<String>,
    /// What the service is charged against its department's quota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated: Option<ResourceAmounts>,
    /// Measured usage of its pods (for a tenant: its even share of its shared instance's),
    /// rounded to two significant digits; rewritten only when it moves by 10 % (and 10m CPU
    /// or 10 MiB memory) or is an hour old. Absent when nothing of it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used: Option<ResourceAmounts>,
    /// When `used` was measured: its age shows how stale it is while the usage source is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Time>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::conditions_schema")]
    pub conditions: Conditions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The pool the service is moving away from, while its Deployment rolls out there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// A platform-driven change waiting for a maintenance window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_change: Option<PendingChange>,
}
