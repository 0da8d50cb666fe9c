//! Desired status of a PlatformPolicy from its PolicyPlan.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::conditions::{merge_conditions, valid};
use crate::api::{PlatformPolicy, PlatformPolicyStatus};
use crate::plan::PolicyPlan;

/// The status `policy` should have under `plan`. An invalid policy fails closed in the
/// planner (every workload is refused), so its `Valid=False` message says what to fix.
pub fn policy_status(policy: &PlatformPolicy, plan: &PolicyPlan, now: &Time) -> PlatformPolicyStatus {
    let generation = policy.metadata.generation;
    let desired = vec![valid(
        &[&plan.reasons[..], &plan.exclusion_problems[..]].concat(),
        "spec is valid",
    )];
    PlatformPolicyStatus {
        violations: plan.violations,
        conditions: merge_conditions(
            policy.status.as_ref().map_or(&[][..], |s| &s.conditions[..]),
            desired,
            generation,
            now,
        ),
        observed_generation: generation,
    }
}
