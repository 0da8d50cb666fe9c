//! Desired status of a ServiceOffering from its OfferingPlan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::conditions::{merge_conditions, valid};
use crate::api::{ServiceOffering, ServiceOfferingStatus, SharedInstanceStatus};
use crate::plan::OfferingPlan;

/// The status `offering` should have under `plan`, listing every shared instance.
pub fn offering_status(offering: &ServiceOffering, plan: &OfferingPlan, now: &Time) -> ServiceOfferingStatus {
    let generation = offering.metadata.generation;
    let desired = vec![
        valid(
            &[&plan.reasons[..], &plan.maintenance.problems[..]].concat(),
            "spec is valid",
        ),
        super::maintenance::offering_condition(&plan.instances),
    ];
    ServiceOfferingStatus {
        tenants: plan.tenants,
        instances: u32::try_from(plan.instances.len()).unwrap_or(u32::MAX),
        siloed_instances: plan.siloed_instances,
        instances_saved: plan.instances_saved,
        instance_details: plan
            .instances
            .iter()
            .map(|i| SharedInstanceStatus {
                name: i.name.clone(),
                security_level: i.security_level,
                pool: i.pool.clone(),
                tenants: i.tenants.clone(),
                pending_change: i.pending_change.as_ref().map(|p| p.change.clone()),
            })
            .collect(),
        conditions: merge_conditions(
            offering.status.as_ref().map_or(&[][..], |s| &s.conditions[..]),
            desired,
            generation,
            now,
        ),
        observed_generation: generation,
    }
}
