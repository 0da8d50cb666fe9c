//! Which entries of a plan a change altered, and so which objects a pass over that
//! change re-renders and whose statuses it writes. Pure: plans and objects in, indices
//! out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::api::labels;
use crate::object::{Kind, ObjectId};
use crate::plan::{InstancePlan, Plan};
use crate::render::Scope;

/// Entries of the newer plan that differ from (or are missing in) the older, by index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Altered {
    pub services: Vec<usize>,
    pub pools: Vec<usize>,
    pub departments: Vec<usize>,
    pub offerings: Vec<usize>,
    pub policies: Vec<usize>,
    /// Shared instances, by name.
    pub instances: BTreeSet<String>,
}

/// Indices of `new` whose entry differs from the one of the same key in `old`, or that
/// `old` lacks. A plan lists every kind sorted by key, so the two lists are walked side
/// by side; should either not be sorted, entries are looked up by key instead.
fn altered<P: PartialEq>(old: &[P], new: &[P], key: impl Fn(&P) -> (&str, &str)) -> Vec<usize> {
    let sorted = |l: &[P]| l.windows(2).all(|w| key(&w[0]) < key(&w[1]));
    if !(sorted(old) && sorted(new)) {
        let by_key: HashMap<(&str, &str), &P> = old.iter().map(|o| (key(o), o)).collect();
        return (0..new.len())
            .filter(|&i| by_key.get(&key(&new[i])).is_none_or(|o| **o != new[i]))
            .collect();
    }
    let mut out = Vec::new();
    let mut o = 0;
    for (i, n) in new.iter().enumerate() {
        while o < old.len() && key(&old[o]) < key(n) {
            o += 1;
        }
        if !(o < old.len() && key(&old[o]) == key(n) && old[o] == *n) {
            out.push(i);
        }
    }
    out
}

fn instances(plan: &Plan) -> HashMap<&str, &InstancePlan> {
    plan.offerings
        .iter()
        .flat_map(|o| &o.instances)
        .map(|i| (i.name.as_str(), i))
        .collect()
}

/// What `new` changed from `old`. Entries only in `old` (removed) are not reported: a
/// change that removes takes a full pass, whose sweep deletes what is no longer rendered.
pub fn altered_between(old: &Plan, new: &Plan) -> Altered {
    let mut out = Altered {
        services: altered(&old.services, &new.services, |s| (&s.namespace, &s.name)),
        pools: altered(&old.pools, &new.pools, |p| ("", &p.name)),
        departments: altered(&old.departments, &new.departments, |d| ("", &d.name)),
        offerings: altered(&old.offerings, &new.offerings, |o| ("", &o.name)),
        policies: altered(&old.policies, &new.policies, |p| ("", &p.name)),
        instances: BTreeSet::new(),
    };
    if !out.offerings.is_empty() {
        let before = instances(old);
        for &k in &out.offerings {
            for i in &new.offerings[k].instances {
                if before.get(i.name.as_str()) != Some(&i) {
                    out.instances.insert(i.name.clone());
                }
            }
        }
    }
    out
}

/// The objects to re-render for `altered`: the namespaces of altered services and
/// departments (their workloads and guard rails, whose network policies name the
/// instances bound there), and the altered instances with their bindings.
pub fn scope_of(plan: &Plan, altered: &Altered) -> Scope {
    let services = altered
        .services
        .iter()
        .map(|&i| plan.services[i].namespace.clone());
    let departments = altered
        .departments
        .iter()
        .map(|&i| plan.departments[i].namespace.clone());
    Scope {
        namespaces: services.chain(departments).collect(),
        instances: altered.instances.clone(),
    }
}

/// A managed object the cluster changed, with the labels govcloud gave it.
#[derive(Clone, Debug)]
pub struct Seen<'a> {
    pub object: &'a ObjectId,
    pub labels: Option<&'a BTreeMap<String, String>>,
}

/// For managed objects the cluster changed: what to render again to revert them (a
/// shared instance's objects and bindings with the instance, anything else with its
/// namespace) and whose status may follow (the service a workload or binding belongs
/// to, every tenant of an instance, the department or offering that owns the rest).
pub fn seen_by(plan: &Plan, seen: &[Seen<'_>]) -> (Scope, Altered) {
    let mut scope = Scope::default();
    let mut owners = Altered::default();
    let label = |s: &Seen<'_>, key: &str| s.labels.and_then(|l| l.get(key)).cloned();
    let service_index = |ns: &str, name: &str| {
        plan.services
            .binary_search_by(|p| (p.namespace.as_str(), p.name.as_str()).cmp(&(ns, name)))
            .ok()
    };
    for s in seen {
        let namespace = match s.object.kind {
            Kind::Namespace => Some(s.object.name.clone()),
            _ => s.object.namespace.clone(),
        };
        if let Some(instance) = label(s, labels::INSTANCE) {
            for (k, o) in plan.offerings.iter().enumerate() {
                if let Some(i) = o.instances.iter().find(|i| i.name == instance) {
                    owners.offerings.push(k);
                    owners.services.extend(
                        i.tenants
                            .iter()
                            .filter_map(|t| t.split_once('/'))
                            .filter_map(|(ns, name)| service_index(ns, name)),
                    );
                }
            }
            scope.instances.insert(instance);
        } else if let Some(ns) = namespace {
            if let Some(service) = label(s, labels::SERVICE) {
                owners.services.extend(service_index(&ns, &service));
            }
            owners
                .departments
                .extend(plan.departments.iter().position(|d| d.namespace == ns));
            scope.namespaces.insert(ns);
        }
    }
    for list in [
        &mut owners.services,
        &mut owners.departments,
        &mut owners.offerings,
    ] {
        list.sort_unstable();
        list.dedup();
    }
    (scope, owners)
}

impl Altered {
    /// Everything in `self` or `other`, each list sorted without repeats.
    pub fn union(mut self, other: Altered) -> Altered {
        for (mine, theirs) in [
            (&mut self.services, other.services),
            (&mut self.pools, other.pools),
            (&mut self.departments, other.departments),
            (&mut self.offerings, other.offerings),
            (&mut self.policies, other.policies),
        ] {
            mine.extend(theirs);
            mine.sort_unstable();
            mine.dedup();
        }
        self.instances.extend(other.instances);
        self
    }
}

impl Scope {
    /// Everything in `self` or `other`.
    pub fn union(mut self, other: Scope) -> Scope {
        self.namespaces.extend(other.namespaces);
        self.instances.extend(other.instances);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DepartmentService;
    use crate::plan::{Assignments, Planner};
    use crate::synthetic::{EstateShape, created_at, estate, tenant, workload};

    fn small() -> crate::plan::Snapshot {
        estate(
            11,
            EstateShape {
                services: 300,
                departments: 15,
                pools: 5,
                offerings: 6,
                ..EstateShape::BENCHMARK
            },
        )
    }

    fn late(svc: DepartmentService) -> DepartmentService {
        created_at(svc, 2_000_000_000)
    }

    #[test]
    fn a_plan_compared_with_itself_altered_nothing() {
        let s = small();
        let p = Planner::new(&s, &Assignments::default()).plan();
        assert_eq!(altered_between(&p, &p.clone()), Altered::default());
        assert!(scope_of(&p, &Altered::default()).is_empty());
    }

    #[test]
    fn a_new_workload_alters_itself_its_department_and_its_pool_only() {
        let s = small();
        let mut planner = Planner::new(&s, &Assignments::default());
        let before = planner.plan();
        let ns = before.departments[0].namespace.clone();
        planner.add(&late(workload(&ns, "newcomer", 1, 1, "100m", "128Mi")));
        let after = planner.plan();
        let altered = altered_between(&before, &after);
        let names: Vec<&str> = altered
            .services
            .iter()
            .map(|&i| after.services[i].name.as_str())
            .collect();
        assert_eq!(names, ["newcomer"]);
        assert_eq!(altered.departments.len(), 1, "its department's use grew");
        assert_eq!(after.departments[altered.departments[0]].namespace, ns);
        assert_eq!(altered.pools.len(), 1, "the pool it went to");
        assert_eq!(
            after.pools[altered.pools[0]].name,
            after.services[altered.services[0]].pool.clone().expect("placed")
        );
        assert!(altered.instances.is_empty());
        assert_eq!(scope_of(&after, &altered).namespaces, BTreeSet::from([ns]));
    }

    #[test]
    fn a_new_tenant_alters_the_instance_it_joins_and_that_instances_tenants() {
        let s = small();
        let before = Planner::new(&s, &Assignments::default()).plan();
        let (offering, instance) = before
            .offerings
            .iter()
            .find_map(|o| o.instances.iter().find(|i| i.pool.is_some()).map(|i| (o, i)))
            .expect("a placed instance");
        // The first department that may seat it (clearance and quota allowing).
        let (ns, joined, after) = before
            .departments
            .iter()
            .find_map(|d| {
                let mut planner = Planner::new(&s, &Assignments::default());
                let svc = late(tenant(
                    &d.namespace,
                    "joiner",
                    instance.security_level,
                    &offering.name,
                ));
                let joined = planner.add(&svc).shared_instance?;
                Some((d.namespace.clone(), joined, planner.plan()))
            })
            .expect("some department seats a tenant");
        let altered = altered_between(&before, &after);
        assert!(altered.instances.contains(&joined), "{altered:?}");
        let scope = scope_of(&after, &altered);
        assert!(scope.namespaces.contains(&ns));
        assert!(scope.instances.contains(&joined));
    }

    #[test]
    fn a_seen_object_scopes_its_namespace_or_instance_and_names_its_owners() {
        let s = small();
        let p = Planner::new(&s, &Assignments::default()).plan();
        let svc = p
            .services
            .iter()
            .find(|x| x.workload.is_some() && x.pool.is_some())
            .expect("a workload");
        let deployment = ObjectId::new(Kind::Deployment, Some(&svc.namespace), &svc.name);
        let own = BTreeMap::from([(labels::SERVICE.to_string(), svc.name.clone())]);
        let instance = p
            .offerings
            .iter()
            .flat_map(|o| &o.instances)
            .find(|i| i.pool.is_some() && i.tenants.len() > 1)
            .expect("a shared instance");
        let shared = ObjectId::new(Kind::Deployment, Some("govcloud-shared"), &instance.name);
        let of_instance = BTreeMap::from([(labels::INSTANCE.to_string(), instance.name.clone())]);
        let namespace = ObjectId::new(Kind::Namespace, None, &p.departments[0].namespace);
        let (scope, owners) = seen_by(
            &p,
            &[
                Seen {
                    object: &deployment,
                    labels: Some(&own),
                },
                Seen {
                    object: &shared,
                    labels: Some(&of_instance),
                },
                Seen {
                    object: &namespace,
                    labels: None,
                },
            ],
        );
        assert_eq!(
            scope.namespaces,
            BTreeSet::from([svc.namespace.clone(), p.departments[0].namespace.clone()])
        );
        assert_eq!(scope.instances, BTreeSet::from([instance.name.clone()]));
        let names: BTreeSet<String> = owners
            .services
            .iter()
            .map(|&i| format!("{}/{}", p.services[i].namespace, p.services[i].name))
            .collect();
        let mut expected: BTreeSet<String> = instance.tenants.iter().cloned().collect();
        expected.insert(format!("{}/{}", svc.namespace, svc.name));
        assert_eq!(
            names, expected,
            "the workload's service and every tenant of the instance"
        );
        assert_eq!(owners.offerings.len(), 1);
        assert!(owners.departments.contains(&0));
    }
}
