//! Desired status of a ResourcePool from its PoolPlan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::amounts;
use super::conditions::{
    ConditionStatus, DesiredCondition, deletion_blocked, merge_conditions, reasons, types, valid,
};
use super::used::{Measured, shown_used};
use crate::api::{ResourcePool, ResourcePoolStatus, Utilisation};
use crate::plan::PoolPlan;

/// What placement does with the pool: an invalid, deleted or cordoned pool takes
/// nothing new.
fn schedulable(plan: &PoolPlan) -> DesiredCondition {
    let (status, reason, message) = match (plan.reasons.first(), plan.cordoned) {
        (None, _) if plan.deletion.is_some() => (
            ConditionStatus::False,
            reasons::DELETING,
            "being deleted: no new placements; its services move to pools with room".to_string(),
        ),
        (Some(first), _) => (
            ConditionStatus::False,
            first.code.as_str(),
            "not used for placement while its spec is invalid (see Valid)".to_string(),
        ),
        (None, true) => (
            ConditionStatus::False,
            reasons::CORDONED,
            "spec.cordoned: no new placements; existing services move away in maintenance".to_string(),
        ),
        (None, false) => (
            ConditionStatus::True,
            reasons::SCHEDULABLE,
            format!(
                "accepting placements of level {} and below, filled to {} before emptier pools",
                plan.security_level, plan.target_utilisation
            ),
        ),
    };
    DesiredCondition::new(types::SCHEDULABLE, status, reason, message)
}

/// The status `pool` should have under `plan`, with `used` from `measured` (see
/// [`super::used`]: kept unless it moved).
pub fn pool_status(
    pool: &ResourcePool,
    plan: &PoolPlan,
    measured: Measured,
    now: &Time,
) -> ResourcePoolStatus {
    let generation = pool.metadata.generation;
    let current = pool.status.as_ref();
    let mut desired = vec![
        valid(
            &[&plan.reasons[..], &plan.maintenance.problems[..]].concat(),
            "spec is valid",
        ),
        schedulable(plan),
    ];
    desired.extend(deletion_blocked(
        plan.deletion.as_ref(),
        "deletion waits for the DepartmentServices placed on this pool to move to pools with room",
    ));
    let (used, used_at) = shown_used(
        current.and_then(|s| s.used.as_ref()),
        current.and_then(|s| s.used_at.as_ref()),
        measured,
    );
    ResourcePoolStatus {
        capacity: Some(amounts(plan.capacity)),
        allocated: Some(amounts(plan.allocated)),
        used,
        used_at,
        utilisation: Some(Utilisation {
            cpu: plan.utilisation.cpu,
            memory: plan.utilisation.memory,
        }),
        services: plan.services,
        departments: plan.departments,
        shared_instances: plan.shared_instances,
        conditions: merge_conditions(
            current.map_or(&[][..], |s| &s.conditions[..]),
            desired,
            generation,
            now,
        ),
        observed_generation: generation,
    }
}
