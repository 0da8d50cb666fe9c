use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Conditions, MaintenanceExclusion, MaintenanceWindow, QUANTITY_PATTERN, ResourceAmounts};

/// A tenant; the operator owns its namespace `<namespacePrefix><name>`.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "govcloud.io",
    version = "v1alpha1",
    kind = "Department",
    plural = "departments",
    shortname = "dept",
    category = "govcloud",
    status = "DepartmentStatus",
    printcolumn = r#"{"name":"Code","type":"string","jsonPath":".spec.code"}"#,
    printcolumn = r#"{"name":"Clearance","type":"integer","jsonPath":".spec.securityClearance"}"#,
    printcolumn = r#"{"name":"Namespace","type":"string","jsonPath":".status.namespace"}"#,
    printcolumn = r#"{"name":"Services","type":"integer","jsonPath":".status.services"}"#,
    printcolumn = r#"{"name":"Rejected","type":"integer","jsonPath":".status.rejectedServices"}"#,
    printcolumn = r#"{"name":"Cost/Month","type":"number","jsonPath":".status.monthlyCost"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Short organisational code, e.g. `FIN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_centre: Option<String>,
    /// Subjects bound to the department-admin role in the department namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// The highest security level (1–4) of service the department may run.
    #[schemars(range(min = 1, max = 4))]
    pub security_clearance: u8,
    /// Totals across all its services, shared-service shares included.
    pub quota: Quota,
    /// Optional allow-list of pools; empty means every pool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<String>,
    /// When platform-driven restarts of its services are allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance_windows: Vec<MaintenanceWindow>,
    /// One-off freezes: no platform-driven restart while one covers the moment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub maintenance_exclusions: Vec<MaintenanceExclusion>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Quota {
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub cpu: String,
    #[schemars(regex(pattern = QUANTITY_PATTERN))]
    pub memory: String,
    /// Maximum number of DepartmentServices admitted at once.
    pub services: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("x-kubernetes-validations" = [{
    "rule": "self.kind != 'ServiceAccount' || has(self.__namespace__)",
    "message": "a ServiceAccount owner needs a namespace"
}]))]
pub struct Owner {
    pub kind: OwnerKind,
    #[schemars(length(min = 1))]
    pub name: String,
    /// Namespace of a ServiceAccount owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63), regex(pattern = crate::names::DNS1123_LABEL_PATTERN))]
    pub namespace: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum OwnerKind {
    User,
    Group,
    ServiceAccount,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::User => "User",
            OwnerKind::Group => "Group",
            OwnerKind::ServiceAccount => "ServiceAccount",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated: Option<ResourceAmounts>,
    /// Measured usage of its services (shared shares included), rounded to two significant
    /// digits; rewritten only when it moves by 10 % (and 10m CPU or 10 MiB memory) or is an
    /// hour old. Absent when nothing of it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used: Option<ResourceAmounts>,
    /// When `used` was measured: its age shows how stale it is while the usage source is down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Time>,
    #[serde(default)]
    pub services: u32,
    #[serde(default)]
    pub rejected_services: u32,
    #[serde(default)]
    pub shared_services: u32,
    /// Allocated resources × pool rates × 730 h, in the configured currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::conditions_schema")]
    pub conditions: Conditions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}
