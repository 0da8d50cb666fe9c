//! Desired status and events, derived from the plan: what the operator writes back.
//!
//! Pure like `plan` and `render`: no client, no I/O, no clock. The caller passes `now`,
//! which is used only for the `lastTransitionTime` of a condition whose status flips or
//! that is new; every other timestamp is carried over from the current status (or, for
//! `usedAt`, is the time of the measurement shown). So an unchanged plan and usage that
//! has not moved yield a status equal to the current one, [`needs_update`] is false,
//! nothing is written and no reconcile is retriggered.
//!
//! # Conditions
//!
//! `DepartmentService` carries `Compliant`, `Admitted`, `Placed` and `Ready`. Each refusal
//! of the plan lands on exactly one condition ([`service_condition_of`]), whose message
//! joins the plan's messages for that condition with `"; "` in plan order; when several
//! codes land on one condition, its reason is the first of them in plan order:
//!
//! | `ReasonCode` | condition | effect on the others |
//! |---|---|---|
//! | `InvalidSpec` | `Admitted=False` | `Compliant=Unknown` (reason `InvalidSpec`) unless a violation makes it False |
//! | `DepartmentNotFound` | `Admitted=False` | `Compliant=Unknown` (reason `DepartmentNotFound`) likewise |
//! | `PolicyViolation` | `Compliant=False` | `Admitted=False` with `NotCompliant` unless an admission code is present |
//! | `ClearanceInsufficient` | `Admitted=False` | |
//! | `QuotaExceeded` | `Admitted=False` | |
//! | `OfferingNotFound` | `Admitted=False` | |
//! | `LevelAboveOffering` | `Admitted=False` | |
//! | `PoolNotAllowed` | `Admitted=False` | |
//! | `InsufficientCapacity` | `Placed=False` | |
//!
//! Not being admitted makes `Placed=False` (`NotAdmitted`); not being placed makes
//! `Ready=False` (`NotPlaced`). The positive and neutral reasons are the constants in
//! [`reasons`]: `Compliant`, `Admitted`, `Placed`, `ReplicasReady`, `ReplicasUnavailable`,
//! `AwaitingRollout`, `NotCompliant`, `NotAdmitted`, `NotPlaced`, `Valid`, `Schedulable`,
//! `Cordoned`, `Deleting`, `ServicesRemain`, `Released`.
//!
//! `Ready` stays `Unknown` (`AwaitingRollout`) and the phase `Placed` until the caller
//! passes the workload's [`Readiness`]; then all replicas ready gives `Ready=True` and
//! phase `Ready`, fewer gives `Ready=False` (`ReplicasUnavailable`) and phase `Degraded`.
//!
//! `ResourcePool`, `Department`, `ServiceOffering` and `PlatformPolicy` carry `Valid`:
//! True (`Valid`), or False with the first reason code of the plan (`InvalidSpec`) and every
//! message joined. Pools also carry `Schedulable`: True (`Schedulable`), False (`Cordoned`)
//! or False (`InvalidSpec`), mirroring what placement will do with them.
//!
//! While a pool or department is being deleted, it carries `DeletionBlocked`: True
//! (`ServicesRemain`, naming every DepartmentService that holds it) or False (`Released`,
//! just before govcloud removes its finalizer); a deleted pool is `Schedulable=False`
//! (`Deleting`).
//!
//! `DepartmentService`, `Department` and `ServiceOffering` carry `Applied` once a write
//! for them was rejected by the API server: False (`Rejected`) while it is, True
//! (`Applied`) after (see [`show_rejections`]).
//!
//! `DepartmentService` and `ServiceOffering` carry `MaintenancePending`: True while a
//! platform-driven move waits (reason `AwaitingWindow`, `Frozen` or `MoveLimit`, the
//! planner's message), False otherwise (`NothingPending`, or `AppliedNow` when a
//! break-glass annotation carried it out); `status.pendingChange` holds the waiting
//! change and `status.movedFrom` the pool a move in progress left.
//!
//! Conditions of other types (written by other parts of the operator, e.g. a deletion
//! held by a finalizer) are kept as they are, after the ones decided here: the list is a
//! map keyed by type with several writers.
//!
//! # Measured usage
//!
//! `used` and `usedAt` of DepartmentServices, departments and pools come from measured
//! usage ([`Measured`]), not from the plan, and are rewritten only when the value moved
//! beyond a tolerance or grew an hour old; with no usage known they are carried over.
//! The rule is in [`used`] and [`USED_RULE`].
//!
//! # Events
//!
//! [`events`] compares a previous status with the desired one and names each decision a
//! department or auditor wants to see, with reasons from the fixed set [`EVENT_REASONS`]
//! (they become metric labels, so never an object name).

mod applied;
mod conditions;
mod department;
mod events;
mod finalizer;
mod maintenance;
mod offering;
mod policy;
mod pool;
mod record;
mod service;
pub mod used;

pub use applied::{APPLY_REJECTED, show_rejections};
pub use conditions::{ConditionStatus, DesiredCondition, merge_conditions, reasons, types};
pub use department::department_status;
pub use events::{
    EVENT_REASONS, offering_events, pool_or_department_events, service_events, validity_events,
};
pub use finalizer::{FinalizerAction, Held, finalizer_actions};
pub use offering::offering_status;
pub use policy::policy_status;
pub use pool::pool_status;
pub use record::{EventRecord, EventType, StatusConditions};
pub use service::{Readiness, service_condition_of, service_status, workload_of};
pub use used::{Measured, USED_RULE, UsedRule, rounded, shown_used, shown_used_by};

use crate::api::ResourceAmounts;
use crate::quantity::Res;

/// Whether the status subresource must be written: only when something changed, so that
/// a resync with nothing new makes no write.
pub fn needs_update<S: PartialEq>(current: Option<&S>, desired: &S) -> bool {
    current != Some(desired)
}

/// Canonical quantity strings, as every other writer of quantities produces them, so that
/// a status read back from the API server compares equal to the one computed.
pub(crate) fn amounts(res: Res) -> ResourceAmounts {
    ResourceAmounts {
        cpu: res.cpu_quantity(),
        memory: res.memory_quantity(),
    }
}

#[cfg(test)]
mod tests;
