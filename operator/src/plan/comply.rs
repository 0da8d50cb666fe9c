//! Rule 2, comply: each workload against every platform policy.

use super::model::{Demand, PolicyModel, ServiceModel};
use super::{Decision, Reason, ReasonCode};
use crate::quantity::{format_cpu, format_memory};

/// The tag of an image reference: `None` when untagged, `Some("@digest")`-style refs
/// count as pinned. The registry port (`host:5000/x`) is not a tag.
fn image_tag(image: &str) -> Option<&str> {
    if image.contains('@') {
        return Some("@digest");
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split_once(':').map(|(_, tag)| tag)
}

/// Checks a validated service against every policy, counting violations per policy.
pub(crate) fn check(
    svc: &ServiceModel,
    policies: &[PolicyModel],
    decision: &mut Decision,
    counts: &mut [u32],
) {
    if svc.demand.is_none() {
        return;
    }
    for (count, policy) in counts.iter_mut().zip(policies) {
        let found = violations(svc, policy);
        if !found.is_empty() {
            *count += 1;
            decision.reasons.extend(found);
        }
    }
    decision.compliant = decision.reasons.is_empty();
}

/// Every violation of `policy` by `svc`, each naming field, limit and value.
pub fn violations(svc: &ServiceModel, policy: &PolicyModel) -> Vec<Reason> {
    let Some(Demand::Workload {
        image,
        replicas,
        requests,
        ..
    }) = &svc.demand
    else {
        return Vec::new();
    };
    let name = &policy.name;
    let violation = |m: String| Reason::new(ReasonCode::PolicyViolation, m);
    if !policy.reasons.is_empty() {
        // Fail closed: an unreadable standard cannot certify anything.
        return vec![violation(format!(
            "PlatformPolicy {name:?} is invalid, so compliance cannot be established: {}",
            policy.reasons[0].message
        ))];
    }
    let mut out = Vec::new();
    if !policy.allowed_registries.is_empty()
        && !policy
            .allowed_registries
            .iter()
            .any(|r| image.starts_with(r.as_str()))
    {
        out.push(violation(format!(
            "spec.workload.image: {image:?} is not from a registry allowed by PlatformPolicy {name:?} (spec.allowedRegistries: {})",
            policy.allowed_registries.join(", ")
        )));
    }
    if policy.forbid_latest_tag {
        match image_tag(image) {
            None => out.push(violation(format!(
                "spec.workload.image: {image:?} has no tag; PlatformPolicy {name:?} forbids untagged and :latest images (spec.forbidLatestTag)"
            ))),
            Some("latest") => out.push(violation(format!(
                "spec.workload.image: {image:?} uses :latest, forbidden by PlatformPolicy {name:?} (spec.forbidLatestTag)"
            ))),
            Some(_) => {}
        }
    }
    if let Some(max) = policy.max_replicas
        && *replicas > max
    {
        out.push(violation(format!(
            "spec.workload.replicas: {replicas} exceeds {max}, the spec.maxReplicas of PlatformPolicy {name:?}"
        )));
    }
    if let Some(max) = policy.max_cpu
        && requests.cpu_millis > max
    {
        out.push(violation(format!(
            "spec.workload.resources.cpu: {} per replica exceeds {}, the spec.maxReplicaResources.cpu of PlatformPolicy {name:?}",
            format_cpu(requests.cpu_millis),
            format_cpu(max)
        )));
    }
    if let Some(max) = policy.max_memory
        && requests.memory_bytes > max
    {
        out.push(violation(format!(
            "spec.workload.resources.memory: {} per replica exceeds {}, the spec.maxReplicaResources.memory of PlatformPolicy {name:?}",
            format_memory(requests.memory_bytes),
            format_memory(max)
        )));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::image_tag;

    #[test]
    fn tags() {
        assert_eq!(image_tag("nginx"), None);
        assert_eq!(image_tag("nginx:latest"), Some("latest"));
        assert_eq!(image_tag("registry:5000/team/app"), None);
        assert_eq!(image_tag("registry:5000/team/app:1.2"), Some("1.2"));
        assert_eq!(image_tag("app@sha256:abc"), Some("@digest"));
    }
}
