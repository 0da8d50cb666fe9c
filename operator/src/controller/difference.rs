//! Which entries of a plan a change altered, and so which objects a pass over that
//! change re-renders and whose statuses it writes. Pure: two plans in, indices out.

use std::collections::{BTreeSet, HashMap};

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
}
