//! Building a condition list from the conditions decided here and the current ones.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use crate::plan::{Deletion, Reason};

/// Condition types written by this module.
pub mod types {
    pub const COMPLIANT: &str = "Compliant";
    pub const ADMITTED: &str = "Admitted";
    pub const PLACED: &str = "Placed";
    pub const READY: &str = "Ready";
    pub const VALID: &str = "Valid";
    pub const SCHEDULABLE: &str = "Schedulable";
    pub const DELETION_BLOCKED: &str = "DeletionBlocked";
    pub const APPLIED: &str = "Applied";
    pub const MAINTENANCE_PENDING: &str = "MaintenancePending";
}

/// Condition reasons besides the refusal vocabulary (`ReasonCode::as_str`).
pub mod reasons {
    pub const COMPLIANT: &str = "Compliant";
    pub const NOT_COMPLIANT: &str = "NotCompliant";
    pub const ADMITTED: &str = "Admitted";
    pub const NOT_ADMITTED: &str = "NotAdmitted";
    pub const PLACED: &str = "Placed";
    pub const NOT_PLACED: &str = "NotPlaced";
    pub const AWAITING_ROLLOUT: &str = "AwaitingRollout";
    pub const REPLICAS_READY: &str = "ReplicasReady";
    pub const REPLICAS_UNAVAILABLE: &str = "ReplicasUnavailable";
    pub const VALID: &str = "Valid";
    pub const SCHEDULABLE: &str = "Schedulable";
    pub const CORDONED: &str = "Cordoned";
    pub const DELETING: &str = "Deleting";
    pub const SERVICES_REMAIN: &str = "ServicesRemain";
    pub const RELEASED: &str = "Released";
    pub const APPLIED: &str = "Applied";
    pub const REJECTED: &str = "Rejected";
    pub const AWAITING_WINDOW: &str = "AwaitingWindow";
    pub const FROZEN: &str = "Frozen";
    pub const MOVE_LIMIT: &str = "MoveLimit";
    pub const NOTHING_PENDING: &str = "NothingPending";
    pub const APPLIED_NOW: &str = "AppliedNow";

    /// Every reason above, for mapping a stored reason back to a `'static` label.
    pub const ALL: [&str; 22] = [
        COMPLIANT,
        NOT_COMPLIANT,
        ADMITTED,
        NOT_ADMITTED,
        PLACED,
        NOT_PLACED,
        AWAITING_ROLLOUT,
        REPLICAS_READY,
        REPLICAS_UNAVAILABLE,
        VALID,
        SCHEDULABLE,
        CORDONED,
        DELETING,
        SERVICES_REMAIN,
        RELEASED,
        APPLIED,
        REJECTED,
        AWAITING_WINDOW,
        FROZEN,
        MOVE_LIMIT,
        NOTHING_PENDING,
        APPLIED_NOW,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

/// A condition as decided, before timestamps and generations are attached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredCondition {
    pub type_: &'static str,
    pub status: ConditionStatus,
    /// A fixed-vocabulary reason, never an object name.
    pub reason: &'static str,
    pub message: String,
}

impl DesiredCondition {
    pub fn new(
        type_: &'static str,
        status: ConditionStatus,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status,
            reason,
            message: message.into(),
        }
    }
}

/// The messages of `reasons`, in plan order, joined for one condition message.
pub(crate) fn join_messages<'a>(reasons: impl IntoIterator<Item = &'a Reason>) -> String {
    reasons
        .into_iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `Valid` from an object's refusal reasons: True, or False with the first code.
pub(crate) fn valid(reasons: &[Reason], valid_message: &str) -> DesiredCondition {
    match reasons.first() {
        None => DesiredCondition::new(types::VALID, ConditionStatus::True, reasons::VALID, valid_message),
        Some(first) => DesiredCondition::new(
            types::VALID,
            ConditionStatus::False,
            first.code.as_str(),
            join_messages(reasons),
        ),
    }
}

/// `DeletionBlocked` of an object being deleted: True while DepartmentServices hold
/// it (`what_holds` says why they do), False once the deletion may go ahead; `None`
/// for an object not being deleted.
pub(crate) fn deletion_blocked(deletion: Option<&Deletion>, what_holds: &str) -> Option<DesiredCondition> {
    let d = deletion?;
    Some(if d.waiting_for.is_empty() {
        DesiredCondition::new(
            types::DELETION_BLOCKED,
            ConditionStatus::False,
            reasons::RELEASED,
            "nothing depends on it any more; govcloud releases its finalizer",
        )
    } else {
        DesiredCondition::new(
            types::DELETION_BLOCKED,
            ConditionStatus::True,
            reasons::SERVICES_REMAIN,
            format!(
                "{what_holds} ({}): {}",
                d.waiting_for.len(),
                d.waiting_for.join(", ")
            ),
        )
    })
}

/// `now` in whole seconds: `Time` serialises without fractions, so a finer timestamp
/// would never compare equal to the one read back from the API server.
fn whole_seconds(now: &Time) -> Time {
    Time(Timestamp::from_second(now.0.as_second()).unwrap_or(now.0))
}

/// The condition list to write: the `desired` conditions in their given order, each
/// keeping the `lastTransitionTime` of the current condition of its type when its status
/// is unchanged (`now` otherwise), then every current condition of another type as is.
pub fn merge_conditions(
    current: &[Condition],
    desired: Vec<DesiredCondition>,
    generation: Option<i64>,
    now: &Time,
) -> Vec<Condition> {
    let mut out: Vec<Condition> = desired
        .iter()
        .map(|d| {
            let before = current.iter().find(|c| c.type_ == d.type_);
            let last_transition_time = match before {
                Some(c) if c.status == d.status.as_str() => c.last_transition_time.clone(),
                _ => whole_seconds(now),
            };
            Condition {
                last_transition_time,
                message: d.message.clone(),
                observed_generation: generation,
                reason: d.reason.to_string(),
                status: d.status.as_str().to_string(),
                type_: d.type_.to_string(),
            }
        })
        .collect();
    out.extend(
        current
            .iter()
            .filter(|c| !desired.iter().any(|d| d.type_ == c.type_))
            .cloned(),
    );
    out
}
