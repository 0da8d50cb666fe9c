//! Merging every platform policy into the one LimitRange a department namespace gets.
//!
//! All policies apply at once, so where they disagree the merge must pick one value:
//! a default is a convenience, so the first policy by name that sets it wins (stable
//! and predictable); a ratio or a maximum is a constraint, so the most restrictive wins
//! (no policy is ever loosened by another).

use crate::plan::EffectivePolicy;

/// An amount where either dimension may be absent: CPU in millicores, memory in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limit {
    pub cpu_millis: Option<i64>,
    pub memory_bytes: Option<i64>,
}

impl Limit {
    pub fn is_empty(&self) -> bool {
        self.cpu_millis.is_none() && self.memory_bytes.is_none()
    }
}

/// What a department's LimitRange says about containers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContainerLimits {
    /// Requests for containers that state none (policies' `defaultResources`).
    pub default_request: Limit,
    /// Limits for containers that state none: default request × limit ratio.
    pub default_limit: Limit,
    /// Largest limit a container may have: `maxReplicaResources` × limit ratio.
    pub max: Limit,
}

impl ContainerLimits {
    pub fn is_empty(&self) -> bool {
        self.default_request.is_empty() && self.default_limit.is_empty() && self.max.is_empty()
    }
}

/// The limits a department namespace gets from the policies as the planner merged them.
///
/// Defaults are clamped to the maximum so that the LimitRange stays acceptable to the API
/// server (it refuses a default above the max) even when two policies disagree.
pub fn container_limits(policy: &EffectivePolicy) -> ContainerLimits {
    let (cpu_ratio, memory_ratio) = policy.limit_ratio;
    let max = Limit {
        cpu_millis: policy.max_cpu.map(|v| scale(v, cpu_ratio)),
        memory_bytes: policy.max_memory.map(|v| scale(v, memory_ratio)),
    };
    let clamp = |v: Option<i64>, cap: Option<i64>| match (v, cap) {
        (Some(v), Some(cap)) => Some(v.min(cap)),
        (v, _) => v,
    };
    let default_cpu = policy.default_cpu.as_ref().map(|(v, _)| *v);
    let default_memory = policy.default_memory.as_ref().map(|(v, _)| *v);
    // A default limit is only stated when a policy states a ratio; otherwise the API server
    // derives it from the max, which is the same number.
    let default_limit = if policy.limit_ratio_set {
        Limit {
            cpu_millis: clamp(default_cpu.map(|v| scale(v, cpu_ratio)), max.cpu_millis),
            memory_bytes: clamp(default_memory.map(|v| scale(v, memory_ratio)), max.memory_bytes),
        }
    } else {
        Limit::default()
    };
    ContainerLimits {
        default_request: Limit {
            cpu_millis: clamp(default_cpu, max.cpu_millis),
            memory_bytes: clamp(default_memory, max.memory_bytes),
        },
        default_limit,
        max,
    }
}

/// Rounded up, like the planner's limits (`plan::validate`), so that a workload requesting
/// exactly the policy maximum gets a limit the LimitRange still admits.
fn scale(v: i64, factor: f64) -> i64 {
    (v as f64 * factor).ceil() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::PlatformPolicy;

    fn limits_of<const N: usize>(policies: [&PlatformPolicy; N]) -> ContainerLimits {
        let owned: Vec<PlatformPolicy> = policies.into_iter().cloned().collect();
        container_limits(&crate::plan::effective_policy(&owned))
    }

    fn policy(name: &str, yaml: &str) -> PlatformPolicy {
        let spec = serde_saphyr::from_str(yaml).expect("policy spec");
        PlatformPolicy::new(name, spec)
    }

    #[test]
    fn defaults_come_from_the_first_policy_by_name_that_sets_them() {
        let b = policy("b", "defaultResources: {cpu: 100m, memory: 128Mi}");
        let a = policy("a", "defaultResources: {memory: 64Mi}");
        let l = limits_of([&b, &a]);
        assert_eq!(
            l.default_request,
            Limit {
                cpu_millis: Some(100),
                memory_bytes: Some(64 << 20)
            }
        );
        assert!(l.default_limit.is_empty(), "no ratio, no stated default limit");
        assert!(l.max.is_empty());
    }

    #[test]
    fn ratio_and_max_take_the_most_restrictive() {
        let a = policy(
            "a",
            "limitRatio: {cpu: 2, memory: 1.5}\nmaxReplicaResources: {cpu: '4', memory: 8Gi}",
        );
        let b = policy(
            "b",
            "limitRatio: {cpu: 1.5, memory: 2}\nmaxReplicaResources: {memory: 4Gi}",
        );
        let c = policy("c", "defaultResources: {cpu: 200m, memory: 1Gi}");
        let l = limits_of([&a, &b, &c]);
        assert_eq!(
            l.max,
            Limit {
                cpu_millis: Some(6000),
                memory_bytes: Some(6 << 30)
            }
        );
        assert_eq!(
            l.default_limit,
            Limit {
                cpu_millis: Some(300),
                memory_bytes: Some(3 << 29)
            }
        );
    }

    #[test]
    fn defaults_never_exceed_the_max() {
        let a = policy(
            "a",
            "defaultResources: {cpu: '2', memory: 2Gi}\nlimitRatio: {cpu: 2, memory: 1}",
        );
        let b = policy("b", "maxReplicaResources: {cpu: '1', memory: 1Gi}");
        let l = limits_of([&a, &b]);
        assert_eq!(
            l.max,
            Limit {
                cpu_millis: Some(2000),
                memory_bytes: Some(1 << 30)
            }
        );
        assert_eq!(
            l.default_request,
            Limit {
                cpu_millis: Some(2000),
                memory_bytes: Some(1 << 30)
            }
        );
        assert_eq!(
            l.default_limit,
            Limit {
                cpu_millis: Some(2000),
                memory_bytes: Some(1 << 30)
            }
        );
    }

    #[test]
    fn max_rounds_up_like_the_planners_limits() {
        let a = policy(
            "a",
            "limitRatio: {cpu: 1.5, memory: 1}\nmaxReplicaResources: {cpu: 333m}",
        );
        let l = limits_of([&a]);
        assert_eq!(
            l.max.cpu_millis,
            Some(500),
            "333m × 1.5 = 499.5m, limit of a 333m request"
        );
    }

    #[test]
    fn no_policies_means_no_limits() {
        assert!(limits_of([]).is_empty());
    }

    #[test]
    fn a_refused_policy_constrains_nothing_as_in_the_planner() {
        let bad = policy(
            "a",
            "defaultResources: {cpu: lots}\nlimitRatio: {cpu: 3, memory: 3}",
        );
        let good = policy("b", "defaultResources: {cpu: 100m}");
        let l = limits_of([&bad, &good]);
        assert_eq!(l.default_request.cpu_millis, Some(100));
        assert!(l.default_limit.is_empty());
    }
}
