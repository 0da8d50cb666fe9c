//! `MaintenancePending`: whether a platform-driven change of a DepartmentService or of a
//! ServiceOffering's shared instances waits for maintenance, and the Events that tell a
//! department when one is deferred and when it is carried out.

use super::conditions::{ConditionStatus, DesiredCondition, reasons, types};
use super::record::{EventRecord, EventType, StatusConditions};
use crate::plan::{InstancePlan, PendingPlan, ServicePlan};

pub const CHANGE_DEFERRED: &str = "ChangeDeferred";
pub const CHANGE_CARRIED_OUT: &str = "ChangeCarriedOut";

fn pending(plan: &PendingPlan) -> DesiredCondition {
    DesiredCondition::new(
        types::MAINTENANCE_PENDING,
        ConditionStatus::True,
        plan.reason.as_str(),
        &plan.message,
    )
}

fn nothing(applied_now: Option<&str>) -> DesiredCondition {
    match applied_now {
        Some(why) => DesiredCondition::new(
            types::MAINTENANCE_PENDING,
            ConditionStatus::False,
            reasons::APPLIED_NOW,
            format!("carried out at once, outside maintenance, by govcloud.io/apply-now: {why}"),
        ),
        None => DesiredCondition::new(
            types::MAINTENANCE_PENDING,
            ConditionStatus::False,
            reasons::NOTHING_PENDING,
            "no platform-driven change is waiting",
        ),
    }
}

/// A service's condition: True while its move waits, with why and until when.
pub fn service_condition(plan: &ServicePlan) -> DesiredCondition {
    match &plan.pending_change {
        Some(p) => pending(p),
        None => nothing(plan.applied_now.as_deref()),
    }
}

/// An offering's condition: True while any of its instances' changes waits; the
/// reason is the first waiting instance's (by name), the message names each.
pub fn offering_condition(instances: &[InstancePlan]) -> DesiredCondition {
    let waiting: Vec<(&str, &PendingPlan)> = instances
        .iter()
        .filter_map(|i| Some((i.name.as_str(), i.pending_change.as_ref()?)))
        .collect();
    match waiting.first() {
        Some((_, first)) => DesiredCondition::new(
            types::MAINTENANCE_PENDING,
            ConditionStatus::True,
            first.reason.as_str(),
            waiting
                .iter()
                .map(|(name, p)| format!("shared instance {name:?}: {}", p.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        None => nothing(instances.iter().find_map(|i| i.applied_now.as_deref())),
    }
}

/// Deferred (the condition turns True) and carried out (it turns False after being
/// True); a change of why it waits, or of the next window, is no news.
pub fn maintenance_events<S: StatusConditions>(previous: Option<&S>, desired: &S) -> Vec<EventRecord> {
    let find = |s: &S| {
        s.conditions()
            .iter()
            .find(|c| c.type_ == types::MAINTENANCE_PENDING)
            .cloned()
    };
    let (before, Some(now)) = (previous.and_then(find), find(desired)) else {
        return Vec::new();
    };
    let was_pending = before.as_ref().is_some_and(|b| b.status == "True");
    let record = |reason, note: &str| EventRecord {
        type_: EventType::Normal,
        reason,
        action: "Maintain",
        note: note.to_string(),
    };
    match (was_pending, now.status.as_str()) {
        (false, "True") => vec![record(CHANGE_DEFERRED, &now.message)],
        (true, "False") if now.reason == reasons::APPLIED_NOW => {
            vec![record(reasons::APPLIED_NOW, &now.message)]
        }
        (true, "False") => vec![record(
            CHANGE_CARRIED_OUT,
            "the change that waited for maintenance is being carried out",
        )],
        _ => Vec::new(),
    }
}
