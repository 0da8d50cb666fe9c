//! The govcloud API: group `govcloud.io`, version `v1alpha1`.
//!
//! Field names are the contract of `shared/DESIGN.md`; add fields, never rename them.
//! The types carry no behaviour beyond defaults: deciding lives in `plan`, and
//! semantic validation (quantities, cron schedules, cross-object references) in
//! `plan::validate`, so that the operator and the offline planner refuse the same
//! objects with the same messages.

mod common;
mod department;
mod offering;
mod policy;
mod pool;
mod service;

pub use common::*;
pub use department::*;
pub use offering::*;
pub use policy::*;
pub use pool::*;
pub use service::*;

/// API group of every govcloud kind.
pub const GROUP: &str = "govcloud.io";
/// The only served version.
pub const VERSION: &str = "v1alpha1";
/// Field manager for every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "govcloud";
/// Finalizer on objects whose children cannot carry owner references.
pub const FINALIZER: &str = "govcloud.io/cleanup";
/// Break-glass: on a DepartmentService, ServiceOffering or ResourcePool, its value (the
/// reason) carries out the object's waiting platform-driven changes at once.
pub const APPLY_NOW: &str = "govcloud.io/apply-now";
/// On a department's Deployment: the DepartmentService generation it was rendered from,
/// which tells the department's own edits from platform-driven template changes.
pub const SERVICE_GENERATION: &str = "govcloud.io/service-generation";

/// The break-glass reason on `meta`, when the annotation is there: its value trimmed and
/// cut to 256 characters (it is repeated in Events and status), or a placeholder when empty.
pub fn apply_now(meta: &kube::api::ObjectMeta) -> Option<String> {
    let value = meta.annotations.as_ref()?.get(APPLY_NOW)?.trim();
    Some(if value.is_empty() {
        "no reason given".to_string()
    } else {
        value.chars().take(256).collect()
    })
}

/// Standard labels on everything the operator writes.
pub mod labels {
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    pub const MANAGED_BY_VALUE: &str = "govcloud";
    pub const DEPARTMENT: &str = "govcloud.io/department";
    pub const SERVICE: &str = "govcloud.io/service";
    pub const POOL: &str = "govcloud.io/pool";
    pub const OFFERING: &str = "govcloud.io/offering";
    pub const INSTANCE: &str = "govcloud.io/instance";
    pub const LEVEL: &str = "govcloud.io/security-level";
}
