//! What an Event says, and which statuses carry conditions: shared by the modules that
//! compare statuses into Events (`events` and `applied`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::api::{
    DepartmentServiceStatus, DepartmentStatus, PlatformPolicyStatus, ResourcePoolStatus,
    ServiceOfferingStatus,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// An event to record on the object whose status was compared (`events.k8s.io/v1` terms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub type_: EventType,
    /// One of the fixed `EVENT_REASONS`.
    pub reason: &'static str,
    /// What the operator did or tried: `Comply`, `Admit`, `Place`, `Move`, `Rollout`,
    /// `Create`, `Retire`, `Validate`, `Delete`.
    pub action: &'static str,
    pub note: String,
}

/// Statuses with a condition list.
pub trait StatusConditions {
    fn conditions(&self) -> &[Condition];
}

macro_rules! status_conditions {
    ($($t:ty),*) => {$(
        impl StatusConditions for $t {
            fn conditions(&self) -> &[Condition] {
                &self.conditions
            }
        }
    )*};
}

status_conditions!(
    DepartmentServiceStatus,
    ResourcePoolStatus,
    DepartmentStatus,
    ServiceOfferingStatus,
    PlatformPolicyStatus
);
