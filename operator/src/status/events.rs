//! Events: one per decision a department or auditor wants to see, found by comparing the
//! previous status with the desired one. Nothing changed → no event.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::applied::{APPLY_REJECTED, applied_events};
use super::conditions::{reasons, types};
use super::maintenance::{CHANGE_CARRIED_OUT, CHANGE_DEFERRED, maintenance_events};
use super::record::{EventRecord, EventType, StatusConditions};
use crate::api::{DepartmentServiceStatus, ServiceOfferingStatus, SharedInstanceStatus};
use crate::plan::ReasonCode;

const ADMITTED: &str = "Admitted";
const PLACED: &str = "Placed";
const MOVED: &str = "Moved";
/// A refusal whose stored reason is outside the known vocabulary (another writer's).
const REFUSED: &str = "Refused";
const INSTANCE_CREATED: &str = "InstanceCreated";
const INSTANCE_RETIRED: &str = "InstanceRetired";

/// Every event reason this module emits: fixed, so that they can label metrics. The
/// refusal codes are spelled out (a test checks them against `ReasonCode::as_str`).
pub const EVENT_REASONS: [&str; 26] = [
    ADMITTED,
    PLACED,
    MOVED,
    REFUSED,
    reasons::NOT_ADMITTED,
    reasons::REPLICAS_READY,
    reasons::REPLICAS_UNAVAILABLE,
    reasons::VALID,
    INSTANCE_CREATED,
    INSTANCE_RETIRED,
    reasons::SERVICES_REMAIN,
    reasons::RELEASED,
    "InvalidSpec",
    "DepartmentNotFound",
    "PolicyViolation",
    "ClearanceInsufficient",
    "QuotaExceeded",
    "OfferingNotFound",
    "LevelAboveOffering",
    "PoolNotAllowed",
    "InsufficientCapacity",
    APPLY_REJECTED,
    reasons::APPLIED,
    CHANGE_DEFERRED,
    CHANGE_CARRIED_OUT,
    reasons::APPLIED_NOW,
];

fn event(
    type_: EventType,
    reason: &'static str,
    action: &'static str,
    note: impl Into<String>,
) -> EventRecord {
    EventRecord {
        type_,
        reason,
        action,
        note: note.into(),
    }
}

/// A stored condition reason as a `'static` label from the fixed set.
fn label(reason: &str) -> &'static str {
    ReasonCode::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(reasons::ALL)
        .find(|known| *known == reason)
        .unwrap_or(REFUSED)
}

fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

fn is(c: Option<&Condition>, status: &str) -> bool {
    c.is_some_and(|c| c.status == status)
}

/// A new outcome: status or reason differ from before.
fn transitioned(before: Option<&Condition>, now: &Condition) -> bool {
    before.is_none_or(|b| b.status != now.status || b.reason != now.reason)
}

/// A refusal worth telling again: a new outcome, or the same one after the spec changed,
/// so that a department sees its edit did not help. Messages alone (e.g. other services'
/// reservations in a quota message) do not repeat the event.
fn refusal_news(before: Option<&Condition>, now: &Condition) -> bool {
    transitioned(before, now) || before.is_some_and(|b| b.observed_generation != now.observed_generation)
}

fn pair<'a, S: StatusConditions>(
    previous: Option<&'a S>,
    desired: &'a S,
    type_: &str,
) -> (Option<&'a Condition>, Option<&'a Condition>) {
    (
        previous.and_then(|p| find(p.conditions(), type_)),
        find(desired.conditions(), type_),
    )
}

fn placement_events(
    previous: Option<&DepartmentServiceStatus>,
    desired: &DepartmentServiceStatus,
) -> Vec<EventRecord> {
    let before_pool = previous.and_then(|p| p.pool.as_deref());
    let before_instance = previous.and_then(|p| p.shared_instance.as_deref());
    let Some(pool) = desired.pool.as_deref() else {
        return Vec::new();
    };
    let instance = desired.shared_instance.as_deref();
    let on = match instance {
        Some(i) => format!("pool {pool:?} as a tenant of shared instance {i:?}"),
        None => format!("pool {pool:?}"),
    };
    match (before_pool, before_instance) {
        (None, _) => vec![event(
            EventType::Normal,
            PLACED,
            "Place",
            format!("placed on {on}"),
        )],
        (Some(from), _) if from != pool => vec![event(
            EventType::Normal,
            MOVED,
            "Move",
            format!("moved from pool {from:?} to {on}"),
        )],
        (Some(_), Some(from)) if Some(from) != instance => vec![event(
            EventType::Normal,
            MOVED,
            "Move",
            format!("moved from shared instance {from:?} to {on}"),
        )],
        _ => Vec::new(),
    }
}

/// Events for a DepartmentService: policy violation, admitted or refused (with the code as
/// reason), placed, moved, refused for capacity, ready or degraded — in that order.
pub fn service_events(
    previous: Option<&DepartmentServiceStatus>,
    desired: &DepartmentServiceStatus,
) -> Vec<EventRecord> {
    let mut out = Vec::new();
    if let (before, Some(c)) = pair(previous, desired, types::COMPLIANT)
        && c.status == "False"
        && refusal_news(before, c)
    {
        out.push(event(EventType::Warning, label(&c.reason), "Comply", &c.message));
    }
    if let (before, Some(c)) = pair(previous, desired, types::ADMITTED) {
        if c.status == "True" && !is(before, "True") {
            out.push(event(EventType::Normal, ADMITTED, "Admit", &c.message));
        }
        // NotCompliant is told by the PolicyViolation event above.
        if c.status == "False" && c.reason != reasons::NOT_COMPLIANT && refusal_news(before, c) {
            out.push(event(EventType::Warning, label(&c.reason), "Admit", &c.message));
        }
    }
    out.extend(placement_events(previous, desired));
    if let (before, Some(c)) = pair(previous, desired, types::PLACED)
        && c.reason == ReasonCode::InsufficientCapacity.as_str()
        && refusal_news(before, c)
    {
        out.push(event(EventType::Warning, label(&c.reason), "Place", &c.message));
    }
    if let (before, Some(c)) = pair(previous, desired, types::READY)
        && transitioned(before, c)
    {
        if c.status == "True" {
            out.push(event(EventType::Normal, label(&c.reason), "Rollout", &c.message));
        } else if c.reason == reasons::REPLICAS_UNAVAILABLE {
            out.push(event(EventType::Warning, label(&c.reason), "Rollout", &c.message));
        }
    }
    out.extend(maintenance_events(previous, desired));
    out.extend(applied_events(previous, desired));
    out
}

/// Events for the `Valid` condition of any kind: invalid (told again after each spec
/// change), and valid again after being invalid.
pub fn validity_events<S: StatusConditions>(previous: Option<&S>, desired: &S) -> Vec<EventRecord> {
    let (before, Some(c)) = pair(previous, desired, types::VALID) else {
        return Vec::new();
    };
    if c.status == "False" && refusal_news(before, c) {
        vec![event(
            EventType::Warning,
            label(&c.reason),
            "Validate",
            &c.message,
        )]
    } else if c.status == "True" && is(before, "False") {
        vec![event(
            EventType::Normal,
            reasons::VALID,
            "Validate",
            "spec is valid again",
        )]
    } else {
        Vec::new()
    }
}

/// Events for `DeletionBlocked`: held, once, and released. What still holds it is the
/// condition's message, kept current; an Event per change of that list would not show
/// the drain on a real API server, whose event recorders (kube-runtime's, like
/// client-go's) fold Events of the same object, type, reason and action into the first
/// one's series, keeping its note: the Event would go on naming services long gone.
fn deletion_events<S: StatusConditions>(previous: Option<&S>, desired: &S) -> Vec<EventRecord> {
    let (before, Some(c)) = pair(previous, desired, types::DELETION_BLOCKED) else {
        return Vec::new();
    };
    if c.status == "True" && transitioned(before, c) {
        vec![event(
            EventType::Warning,
            reasons::SERVICES_REMAIN,
            "Delete",
            &c.message,
        )]
    } else if c.status == "False" && transitioned(before, c) {
        vec![event(EventType::Normal, reasons::RELEASED, "Delete", &c.message)]
    } else {
        Vec::new()
    }
}

/// Events of a ResourcePool or Department: validity, and a deletion held or released.
pub fn pool_or_department_events<S: StatusConditions>(previous: Option<&S>, desired: &S) -> Vec<EventRecord> {
    let mut out = validity_events(previous, desired);
    out.extend(deletion_events(previous, desired));
    out.extend(applied_events(previous, desired));
    out
}

fn describe(i: &SharedInstanceStatus) -> String {
    let pool = match &i.pool {
        Some(p) => format!("on pool {p:?}"),
        None => "awaiting placement".to_string(),
    };
    format!(
        "shared instance {:?} for level {} {pool}, {} tenant(s)",
        i.name,
        i.security_level,
        i.tenants.len()
    )
}

/// Events for a ServiceOffering: shared instances created, placed, moved or retired
/// (compared by name), then validity.
pub fn offering_events(
    previous: Option<&ServiceOfferingStatus>,
    desired: &ServiceOfferingStatus,
) -> Vec<EventRecord> {
    let before = previous.map_or(&[][..], |p| &p.instance_details[..]);
    let mut out = Vec::new();
    for i in &desired.instance_details {
        match before.iter().find(|b| b.name == i.name) {
            None => out.push(event(EventType::Normal, INSTANCE_CREATED, "Create", describe(i))),
            Some(b) => match (&b.pool, &i.pool) {
                (None, Some(_)) => out.push(event(EventType::Normal, PLACED, "Place", describe(i))),
                (Some(from), Some(to)) if from != to => out.push(event(
                    EventType::Normal,
                    MOVED,
                    "Move",
                    format!(
                        "shared instance {:?} moved from pool {from:?} to pool {to:?}",
                        i.name
                    ),
                )),
                _ => {}
            },
        }
    }
    for b in before {
        if !desired.instance_details.iter().any(|i| i.name == b.name) {
            out.push(event(
                EventType::Normal,
                INSTANCE_RETIRED,
                "Retire",
                format!(
                    "shared instance {:?} for level {} retired: no tenant is seated on it",
                    b.name, b.security_level
                ),
            ));
        }
    }
    out.extend(validity_events(previous, desired));
    out.extend(maintenance_events(previous, desired));
    out.extend(applied_events(previous, desired));
    out
}
