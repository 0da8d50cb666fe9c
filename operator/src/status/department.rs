//! Desired status of a Department from its DepartmentPlan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::amounts;
use super::conditions::{deletion_blocked, merge_conditions, valid};
use crate::api::{Department, DepartmentStatus};
use crate::plan::DepartmentPlan;

/// The status `dept` should have under `plan`. `used` comes from measured usage, not the
/// plan, so it is carried over.
pub fn department_status(dept: &Department, plan: &DepartmentPlan, now: &Time) -> DepartmentStatus {
    let generation = dept.metadata.generation;
    let current = dept.status.as_ref();
    let mut desired = vec![valid(&plan.reasons, "spec is valid")];
    desired.extend(deletion_blocked(
        plan.deletion.as_ref(),
        &format!(
            "deletion waits until the DepartmentServices in namespace {} are deleted; govcloud then deletes the namespace",
            plan.namespace
        ),
    ));
    DepartmentStatus {
        namespace: Some(plan.namespace.clone()),
        allocated: Some(amounts(plan.allocated)),
        used: current.and_then(|s| s.used.clone()),
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
