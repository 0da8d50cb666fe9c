//! Merging every platform policy into the one LimitRange a department namespace gets.
//!
//! All policies apply at once, so where they disagree the merge must pick one value:
//! a default is a convenience, so the first policy by name that sets it wins (stable
//! and predictable); a ratio or a maximum is a constraint, so the most restrictive wins
//! (no policy is ever loosened by another).

use kube::ResourceExt;

use super::RenderError;
use crate::api::PlatformPolicy;
use crate::quantity::{QuantityError, parse_cpu, parse_memory};

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

/// Merges the policies (in any order; they are taken by name) into one set of limits.
///
/// Defaults are clamped to the maximum so that the LimitRange stays acceptable to the API
/// server (it refuses a default above the max) even when two policies disagree.
pub fn container_limits<'a>(
    policies: impl IntoIterator<Item = &'a PlatformPolicy>,
) -> Result<ContainerLimits, RenderError> {
    let mut policies: Vec<&PlatformPolicy> = policies.into_iter().collect();
    policies.sort_by_key(|p| p.name_any());

    let mut default_request = Limit::default();
    let mut max_request = Limit::default();
    let mut ratio: Option<(f64, f64)> = None;
    for p in &policies {
        let spec = &p.spec;
        if let Some(d) = &spec.default_resources {
            let field = "spec.defaultResources";
            if default_request.cpu_millis.is_none() {
                default_request.cpu_millis = parse(p, field, "cpu", d.cpu.as_deref(), parse_cpu)?;
            }
            if default_request.memory_bytes.is_none() {
                default_request.memory_bytes = parse(p, field, "memory", d.memory.as_deref(), parse_memory)?;
            }
        }
        if let Some(m) = &spec.max_replica_resources {
            let field = "spec.maxReplicaResources";
            let cpu = parse(p, field, "cpu", m.cpu.as_deref(), parse_cpu)?;
            let memory = parse(p, field, "memory", m.memory.as_deref(), parse_memory)?;
            max_request.cpu_millis = min_some(max_request.cpu_millis, cpu);
            max_request.memory_bytes = min_some(max_request.memory_bytes, memory);
        }
        if let Some(r) = &spec.limit_ratio {
            ratio = Some(match ratio {
                Some((cpu, memory)) => (cpu.min(r.cpu), memory.min(r.memory)),
                None => (r.cpu, r.memory),
            });
        }
    }

    // Without a ratio, limits equal requests: the tightest reading of "limits = requests × ratio".
    let (cpu_ratio, memory_ratio) = ratio.unwrap_or((1.0, 1.0));
    let max = Limit {
        cpu_millis: max_request.cpu_millis.map(|v| scale(v, cpu_ratio)),
        memory_bytes: max_request.memory_bytes.map(|v| scale(v, memory_ratio)),
    };
    let clamp = |v: Option<i64>, cap: Option<i64>| match (v, cap) {
        (Some(v), Some(cap)) => Some(v.min(cap)),
        (v, _) => v,
    };
    // A default limit is only stated when a policy states a ratio; otherwise the API server
    // derives it from the max, which is the same number.
    let default_limit = match ratio {
        Some(_) => Limit {
            cpu_millis: clamp(
                default_request.cpu_millis.map(|v| scale(v, cpu_ratio)),
                max.cpu_millis,
            ),
            memory_bytes: clamp(
                default_request.memory_bytes.map(|v| scale(v, memory_ratio)),
                max.memory_bytes,
            ),
        },
        None => Limit::default(),
    };
    let default_request = Limit {
        cpu_millis: clamp(default_request.cpu_millis, max.cpu_millis),
        memory_bytes: clamp(default_request.memory_bytes, max.memory_bytes),
    };
    Ok(ContainerLimits {
        default_request,
        default_limit,
        max,
    })
}

fn parse(
    policy: &PlatformPolicy,
    field: &str,
    dimension: &str,
    value: Option<&str>,
    parse: fn(&str) -> Result<i64, QuantityError>,
) -> Result<Option<i64>, RenderError> {
    value
        .map(parse)
        .transpose()
        .map_err(|source| RenderError::Quantity {
            object: format!("PlatformPolicy {}", policy.name_any()),
            field: format!("{field}.{dimension}"),
            source,
        })
}

fn min_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
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

    fn policy(name: &str, yaml: &str) -> PlatformPolicy {
        let spec = serde_saphyr::from_str(yaml).expect("policy spec");
        PlatformPolicy::new(name, spec)
    }

    #[test]
    fn defaults_come_from_the_first_policy_by_name_that_sets_them() {
        let b = policy("b", "defaultResources: {cpu: 100m, memory: 128Mi}");
        let a = policy("a", "defaultResources: {memory: 64Mi}");
        let l = container_limits([&b, &a]).unwrap();
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
        let l = container_limits([&a, &b, &c]).unwrap();
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
        let l = container_limits([&a, &b]).unwrap();
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
        let l = container_limits([&a]).unwrap();
        assert_eq!(
            l.max.cpu_millis,
            Some(500),
            "333m × 1.5 = 499.5m, limit of a 333m request"
        );
    }

    #[test]
    fn no_policies_means_no_limits() {
        assert!(container_limits([]).unwrap().is_empty());
    }

    #[test]
    fn a_bad_quantity_names_policy_and_field() {
        let a = policy("a", "defaultResources: {cpu: lots}");
        let err = container_limits([&a]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PlatformPolicy a: spec.defaultResources.cpu: \"lots\" is not a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)"
        );
    }
}
