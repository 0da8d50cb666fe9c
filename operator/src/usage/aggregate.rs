//! Attributing a sample to services, departments and pools (see the module docs).

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::jiff::Timestamp;

use super::Sample;
use crate::plan::{Plan, Settings};
use crate::quantity::Res;

/// A sample attributed by the plan. Keys: `namespace/name` for services, names for
/// departments and pools. Services, departments and pools the sample saw nothing of
/// are absent (not zero): "no pod reported" and "idle" differ.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub at: Option<Timestamp>,
    pub services: BTreeMap<String, Res>,
    pub departments: BTreeMap<String, Res>,
    pub pools: BTreeMap<String, Res>,
    /// Pods in department or shared namespaces that belong to nothing the plan placed.
    pub unattributed_pods: usize,
}

/// The Deployment a pod of that Deployment is named after: `<deployment>-<replicaset
/// hash>-<pod suffix>`. `None` for a name without both suffixes.
pub fn deployment_of(pod: &str) -> Option<&str> {
    let (rest, _pod_suffix) = pod.rsplit_once('-')?;
    let (deployment, _hash) = rest.rsplit_once('-')?;
    (!deployment.is_empty()).then_some(deployment)
}

/// Whom a Deployment's usage goes to.
struct Owner<'a> {
    /// `namespace/name` of each service it serves, and the share each gets.
    services: Vec<String>,
    department: Option<&'a str>,
    pool: Option<&'a str>,
}

/// Attributes `sample` by `plan`.
pub fn aggregate(plan: &Plan, settings: &Settings, sample: &Sample) -> Usage {
    let mut owners: HashMap<(&str, &str), Owner<'_>> = HashMap::new();
    for s in plan
        .services
        .iter()
        .filter(|s| s.shared_instance.is_none() && s.pool.is_some())
    {
        owners.insert(
            (s.namespace.as_str(), s.name.as_str()),
            Owner {
                services: vec![format!("{}/{}", s.namespace, s.name)],
                department: s.department.as_deref(),
                pool: s.pool.as_deref(),
            },
        );
    }
    let departments_of: HashMap<String, Option<&str>> = plan
        .services
        .iter()
        .map(|s| (format!("{}/{}", s.namespace, s.name), s.department.as_deref()))
        .collect();
    for o in &plan.offerings {
        for i in o.instances.iter().filter(|i| i.pool.is_some()) {
            owners.insert(
                (settings.shared_namespace.as_str(), i.name.as_str()),
                Owner {
                    services: i.tenants.clone(),
                    department: None,
                    pool: i.pool.as_deref(),
                },
            );
        }
    }

    let mut usage = Usage {
        at: Some(sample.at),
        ..Usage::default()
    };
    for pod in &sample.pods {
        let owner = deployment_of(&pod.pod).and_then(|d| owners.get(&(pod.namespace.as_str(), d)));
        let Some(owner) = owner else {
            let ours = pod.namespace == settings.shared_namespace
                || pod.namespace.starts_with(&settings.namespace_prefix);
            usage.unattributed_pods += usize::from(ours);
            continue;
        };
        let department_of = |service: &String| {
            owner
                .department
                .or_else(|| departments_of.get(service).copied().flatten())
        };
        if attribute(&mut usage, owner, pod.used, department_of).is_none() {
            // A total beyond i64 is not wrapped: the pod is left out of every total,
            // visibly, as the report shows unattributed pods.
            usage.unattributed_pods += 1;
        }
    }
    usage
}

/// Adds a pod's usage to its pool, services and departments, all or nothing: `None`
/// (and `usage` unchanged) when a total would be beyond i64.
fn attribute<'a>(
    usage: &mut Usage,
    owner: &Owner<'a>,
    used: Res,
    department_of: impl Fn(&String) -> Option<&'a str>,
) -> Option<()> {
    // An instance's usage is split evenly among its tenants (rounded up, like their
    // allocated share), each charged to its own department.
    let tenants = i64::try_from(owner.services.len().max(1)).ok()?;
    let share = used.checked_div_ceil(tenants)?;
    let pool = match owner.pool {
        Some(p) => Some((p, total(&usage.pools, p).checked_add(used)?)),
        None => None,
    };
    let mut services: BTreeMap<&str, Res> = BTreeMap::new();
    let mut departments: BTreeMap<&str, Res> = BTreeMap::new();
    for service in &owner.services {
        let s = services.get(service.as_str()).copied();
        let s = s.unwrap_or_else(|| total(&usage.services, service));
        services.insert(service, s.checked_add(share)?);
        if let Some(d) = department_of(service) {
            let t = departments
                .get(d)
                .copied()
                .unwrap_or_else(|| total(&usage.departments, d));
            departments.insert(d, t.checked_add(share)?);
        }
    }
    if let Some((p, t)) = pool {
        usage.pools.insert(p.to_string(), t);
    }
    for (s, t) in services {
        usage.services.insert(s.to_string(), t);
    }
    for (d, t) in departments {
        usage.departments.insert(d.to_string(), t);
    }
    Some(())
}

fn total(totals: &BTreeMap<String, Res>, key: &str) -> Res {
    totals.get(key).copied().unwrap_or(Res::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Assignments, plan};
    use crate::synthetic::{department, offering, pool, tenant, workload};
    use crate::usage::PodUsage;

    fn pod(namespace: &str, name: &str, cpu: i64, mem: i64) -> PodUsage {
        PodUsage {
            namespace: namespace.into(),
            pod: name.into(),
            used: Res::new(cpu, mem),
        }
    }

    #[test]
    fn a_pod_is_named_after_its_deployment() {
        assert_eq!(deployment_of("ledger-7d9f8b6c5d-x2k4q"), Some("ledger"));
        assert_eq!(deployment_of("pg-l2-1-5c6b7d8f9-abcde"), Some("pg-l2-1"));
        assert_eq!(deployment_of("standalone"), None);
        assert_eq!(deployment_of("one-dash"), None);
    }

    #[test]
    fn usage_goes_to_services_departments_and_pools_and_instances_split_evenly() {
        let s = crate::plan::Snapshot {
            pools: vec![pool("p", 3, "100", "400Gi")],
            departments: vec![
                department("fin", 3, "50", "200Gi", 10),
                department("edu", 3, "50", "200Gi", 10),
            ],
            offerings: vec![offering("pg", 3, 4, 1, "1", "1Gi")],
            services: vec![
                workload("dept-fin", "ledger", 2, 2, "1", "1Gi"),
                tenant("dept-fin", "db", 2, "pg"),
                tenant("dept-edu", "db", 2, "pg"),
            ],
            ..Default::default()
        };
        let p = plan(&s, &Assignments::default());
        let instance = p.offerings[0].instances[0].name.clone();
        let sample = Sample {
            at: Timestamp::from_second(1_800_000_000).unwrap(),
            pods: vec![
                pod("dept-fin", "ledger-5f6d7c8b9-aaaaa", 300, 100),
                pod("dept-fin", "ledger-5f6d7c8b9-bbbbb", 200, 100),
                pod(
                    "govcloud-shared",
                    &format!("{instance}-6c7d8e9f0-ccccc"),
                    1001,
                    400,
                ),
                pod("dept-fin", "leftover-6c7d8e9f0-ddddd", 5, 5),
                pod("kube-system", "coredns-6c7d8e9f0-eeeee", 5, 5),
            ],
        };
        let u = aggregate(&p, &s.settings, &sample);
        assert_eq!(u.services["dept-fin/ledger"], Res::new(500, 200));
        assert_eq!(u.services["dept-fin/db"], Res::new(501, 200), "half, rounded up");
        assert_eq!(u.services["dept-edu/db"], Res::new(501, 200));
        assert_eq!(u.departments["fin"], Res::new(1001, 400));
        assert_eq!(u.departments["edu"], Res::new(501, 200));
        assert_eq!(
            u.pools["p"],
            Res::new(1501, 600),
            "the pool counts what ran on it"
        );
        assert_eq!(
            u.unattributed_pods, 1,
            "a stray pod in a department namespace is counted; kube-system is not ours"
        );
    }
}
