//! Desired status of a DepartmentService from its ServicePlan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::amounts;
use super::conditions::{ConditionStatus, DesiredCondition, join_messages, merge_conditions, reasons, types};
use super::used::{Measured, shown_used};
use crate::api::{DepartmentService, DepartmentServiceStatus, Phase};
use crate::plan::{Reason, ReasonCode, ServicePlan};

/// Replicas of the service's workload (or of its shared instance) that are ready, as the
/// operator observes them. Pass `None` while the first rollout is still in progress, so
/// that a fresh service reads `Placed` rather than `Degraded`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readiness {
    pub ready: i32,
    pub desired: i32,
}

/// The condition type each refusal code lands on (the table in the module docs).
/// The Deployment whose readiness is the service's, as (namespace, name): its own, or
/// for a tenant its shared instance's in the shared namespace.
pub fn workload_of(plan: &ServicePlan, settings: &crate::plan::Settings) -> (String, String) {
    match &plan.shared_instance {
        Some(instance) => (settings.shared_namespace.clone(), instance.clone()),
        None => (plan.namespace.clone(), plan.name.clone()),
    }
}

pub fn service_condition_of(code: ReasonCode) -> &'static str {
    match code {
        ReasonCode::PolicyViolation => types::COMPLIANT,
        ReasonCode::InsufficientCapacity => types::PLACED,
        ReasonCode::InvalidSpec
        | ReasonCode::DepartmentNotFound
        | ReasonCode::ClearanceInsufficient
        | ReasonCode::QuotaExceeded
        | ReasonCode::OfferingNotFound
        | ReasonCode::LevelAboveOffering
        | ReasonCode::PoolNotAllowed => types::ADMITTED,
    }
}

/// The plan's reasons that land on condition `type_`, in plan order.
fn on<'a>(plan: &'a ServicePlan, type_: &str) -> Vec<&'a Reason> {
    plan.reasons
        .iter()
        .filter(|r| service_condition_of(r.code) == type_)
        .collect()
}

/// False with the first code as reason and every message, when any reason lands here.
fn refused(type_: &'static str, found: &[&Reason]) -> Option<DesiredCondition> {
    let first = found.first()?;
    Some(DesiredCondition::new(
        type_,
        ConditionStatus::False,
        first.code.as_str(),
        join_messages(found.iter().copied()),
    ))
}

fn compliant(plan: &ServicePlan, admission: &[&Reason]) -> DesiredCondition {
    if plan.compliant {
        return DesiredCondition::new(
            types::COMPLIANT,
            ConditionStatus::True,
            reasons::COMPLIANT,
            "complies with every PlatformPolicy",
        );
    }
    if let Some(c) = refused(types::COMPLIANT, &on(plan, types::COMPLIANT)) {
        return c;
    }
    // Not compliant without a violation: the planner could not check an invalid or
    // homeless request, so compliance is unknown rather than refused.
    let reason = admission
        .first()
        .map_or(reasons::NOT_ADMITTED, |r| r.code.as_str());
    DesiredCondition::new(
        types::COMPLIANT,
        ConditionStatus::Unknown,
        reason,
        format!("compliance cannot be established while the request is refused as {reason}"),
    )
}

fn admitted(plan: &ServicePlan, admission: &[&Reason]) -> DesiredCondition {
    if plan.admitted {
        let message = match &plan.department {
            Some(d) => format!(
                "admitted against the quota of Department {d:?}, charged {}",
                plan.allocated
            ),
            None => format!("admitted, charged {}", plan.allocated),
        };
        return DesiredCondition::new(types::ADMITTED, ConditionStatus::True, reasons::ADMITTED, message);
    }
    if let Some(c) = refused(types::ADMITTED, admission) {
        return c;
    }
    let (reason, message) = if plan.compliant {
        (reasons::NOT_ADMITTED, "not admitted")
    } else {
        (
            reasons::NOT_COMPLIANT,
            "not admitted until the service complies with every PlatformPolicy (see Compliant)",
        )
    };
    DesiredCondition::new(types::ADMITTED, ConditionStatus::False, reason, message)
}

fn where_placed(plan: &ServicePlan, pool: &str) -> String {
    match &plan.shared_instance {
        Some(i) => format!("tenant of shared instance {i:?} on pool {pool:?}"),
        None => format!("runs on pool {pool:?}"),
    }
}

fn placed(plan: &ServicePlan) -> DesiredCondition {
    if let Some(pool) = &plan.pool {
        let message = where_placed(plan, pool);
        return DesiredCondition::new(types::PLACED, ConditionStatus::True, reasons::PLACED, message);
    }
    if let Some(c) = refused(types::PLACED, &on(plan, types::PLACED)) {
        return c;
    }
    let (reason, message) = if plan.admitted {
        (reasons::NOT_PLACED, "admitted, awaiting placement")
    } else {
        (
            reasons::NOT_ADMITTED,
            "not placed: the request is not admitted (see Admitted)",
        )
    };
    DesiredCondition::new(types::PLACED, ConditionStatus::False, reason, message)
}

fn ready(plan: &ServicePlan, readiness: Option<Readiness>) -> (DesiredCondition, Phase) {
    let ready =
        |status, reason, message: String| DesiredCondition::new(types::READY, status, reason, message);
    let Some(pool) = &plan.pool else {
        let c = ready(
            ConditionStatus::False,
            reasons::NOT_PLACED,
            "nothing runs until the service is placed (see Placed)".into(),
        );
        return (c, plan.phase);
    };
    match readiness {
        None => (
            ready(
                ConditionStatus::Unknown,
                reasons::AWAITING_ROLLOUT,
                format!(
                    "{}; readiness of its replicas is not known yet",
                    where_placed(plan, pool)
                ),
            ),
            Phase::Placed,
        ),
        Some(r) => {
            let message = format!("{} of {} replicas ready", r.ready, r.desired);
            if r.ready >= r.desired {
                (
                    ready(ConditionStatus::True, reasons::REPLICAS_READY, message),
                    Phase::Ready,
                )
            } else {
                (
                    ready(ConditionStatus::False, reasons::REPLICAS_UNAVAILABLE, message),
                    Phase::Degraded,
                )
            }
        }
    }
}

/// The status `svc` should have under `plan`; timestamps and conditions of other types are
/// carried over from `svc.status`, so an unchanged plan gives an equal status. `used` comes
/// from `measured` (see [`super::used`]: kept unless it moved).
pub fn service_status(
    svc: &DepartmentService,
    plan: &ServicePlan,
    readiness: Option<Readiness>,
    measured: Measured,
    now: &Time,
) -> DepartmentServiceStatus {
    let generation = svc.metadata.generation;
    let admission = on(plan, types::ADMITTED);
    let (ready, phase) = ready(plan, readiness);
    let desired = vec![
        compliant(plan, &admission),
        admitted(plan, &admission),
        placed(plan),
        ready,
        super::maintenance::service_condition(plan),
    ];
    let status = svc.status.as_ref();
    let current = status.map_or(&[][..], |s| &s.conditions[..]);
    let (used, used_at) = shown_used(
        status.and_then(|s| s.used.as_ref()),
        status.and_then(|s| s.used_at.as_ref()),
        measured,
    );
    DepartmentServiceStatus {
        phase: Some(phase),
        pool: plan.pool.clone(),
        shared_instance: plan.shared_instance.clone(),
        // Nothing is charged for a refused request; an empty amount would read as "0".
        allocated: plan.admitted.then(|| amounts(plan.allocated)),
        used,
        used_at,
        conditions: merge_conditions(current, desired, generation, now),
        observed_generation: generation,
        moved_from: plan.moved_from.clone(),
        pending_change: plan.pending_change.as_ref().map(|p| p.change.clone()),
    }
}
