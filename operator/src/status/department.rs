//! Desired status of a Department from its DepartmentPlan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::amounts;
use super::conditions::{deletion_blocked, merge_conditions, valid};
use super::used::{Measured, shown_used};
use crate::api::{Department, DepartmentStatus};
use crate::plan::DepartmentPlan;

/// The status `dept` should have under `plan`, with `used` from `measured` (see
/// [`super::used`]: kept unless it moved).
pub fn department_status(
    dept: &Department,
    plan: &DepartmentPlan,
    measured: Measured,
    now: &Time,
) -> DepartmentStatus {
    let generation = dept.metadata.generation;
    let current = dept.status.as_ref();
    let mut desired = vec![valid(
        &[&plan.reasons[..], &plan.maintenance.problems[..]].concat(),
        "spec is valid",
    )];
    desired.extend(deletion_blocked(
        plan.deletion.as_ref(),
        &format!(
            "deletion waits until the DepartmentServices in namespace {} are deleted; govcloud then deletes the namespace",
            plan.namespace
        ),
    ));
    let (used, used_at) = shown_used(
        current.and_then(|s| s.used.as_ref()),
        current.and_then(|s| s.used_at.as_ref()),
        measured,
    );
    DepartmentStatus {
        namespace: Some(plan.namespace.clone()),
        allocated: Some(amounts(plan.allocated)),
        used,
        used_at,
        services: plan.services,
        rejected_services: plan.rejected_services,
        shared_services: plan.shared_services,
        monthly_cost: Some(plan.monthly_cost),
        conditions: merge_conditions(
            current.map_or(&[][..], |s| &s.conditions[..]),
            desired,
            generation,
            now,
        ),
        observed_generation: generation,
    }
}
