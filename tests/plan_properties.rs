//! Properties of the planner over generated estates (proptest).

use govcloud::api::{DepartmentServiceStatus, ResourceFactors};
use govcloud::plan::invariants::{self, settled_json};
use govcloud::plan::{Assignments, Plan, Planner, Snapshot, plan};
use govcloud::synthetic::{created_at, department, offering, pool, tenant, workload};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct PoolP {
    level: u8,
    cpu: u32,
    mem_gi: u32,
    overcommit: f64,
    target: f64,
    cordoned: bool,
}

#[derive(Clone, Debug)]
struct DeptP {
    clearance: u8,
    cpu: u32,
    mem_gi: u32,
    services: u32,
    allow: Vec<usize>,
}

#[derive(Clone, Debug)]
struct SvcP {
    dept: usize,
    level: u8,
    /// `None`: own workload; `Some(o)`: tenant of offering `o`.
    offering: Option<usize>,
    replicas: i32,
    cpu_m: u32,
    mem_mi: u32,
    /// A previous assignment to start from (pool index, instance number).
    previous: Option<(usize, u32)>,
}

fn pool_p() -> impl Strategy<Value = PoolP> {
    (
        1u8..=3,
        2u32..40,
        4u32..128,
        prop_oneof![Just(1.0), Just(1.5), Just(2.0)],
        prop_oneof![Just(0.6), Just(0.8), Just(1.0)],
        prop::bool::weighted(0.15),
    )
        .prop_map(|(level, cpu, mem_gi, overcommit, target, cordoned)| PoolP {
            level,
            cpu,
            mem_gi,
            overcommit,
            target,
            cordoned,
        })
}

fn dept_p() -> impl Strategy<Value = DeptP> {
    (
        1u8..=3,
        1u32..40,
        1u32..128,
        1u32..12,
        prop::collection::vec(0usize..6, 0..3),
    )
        .prop_map(|(clearance, cpu, mem_gi, services, allow)| DeptP {
            clearance,
            cpu,
            mem_gi,
            services,
            allow,
        })
}

fn svc_p() -> impl Strategy<Value = SvcP> {
    (
        0usize..5,
        1u8..=3,
        prop::option::weighted(0.35, 0usize..3),
        1i32..4,
        50u32..4000,
        64u32..8192,
        prop::option::weighted(0.3, (0usize..6, 1u32..4)),
    )
        .prop_map(
            |(dept, level, offering, replicas, cpu_m, mem_mi, previous)| SvcP {
                dept,
                level,
                offering,
                replicas,
                cpu_m,
                mem_mi,
                previous,
            },
        )
}

fn estate() -> impl Strategy<Value = Snapshot> {
    (
        prop::collection::vec(pool_p(), 1..6),
        prop::collection::vec(dept_p(), 1..5),
        prop::collection::vec((1u8..=3, 1u32..4), 0..3),
        prop::collection::vec(svc_p(), 0..40),
    )
        .prop_map(|(pools, depts, offerings, services)| build(&pools, &depts, &offerings, &services))
}

fn build(pools: &[PoolP], depts: &[DeptP], offerings: &[(u8, u32)], services: &[SvcP]) -> Snapshot {
    let mut s = Snapshot::default();
    for (i, p) in pools.iter().enumerate() {
        let mut rp = pool(
            &format!("p{i}"),
            p.level,
            &p.cpu.to_string(),
            &format!("{}Gi", p.mem_gi),
        );
        rp.spec.overcommit = Some(ResourceFactors {
            cpu: p.overcommit,
            memory: 1.0,
        });
        rp.spec.target_utilisation = Some(p.target);
        rp.spec.cordoned = p.cordoned;
        s.pools.push(rp);
    }
    for (i, d) in depts.iter().enumerate() {
        let mut dep = department(
            &format!("d{i}"),
            d.clearance,
            &d.cpu.to_string(),
            &format!("{}Gi", d.mem_gi),
            d.services,
        );
        dep.spec.pools = d
            .allow
            .iter()
            .filter(|&&a| a < pools.len())
            .map(|a| format!("p{a}"))
            .collect();
        s.departments.push(dep);
    }
    for (i, (level, tpi)) in offerings.iter().enumerate() {
        s.offerings
            .push(offering(&format!("o{i}"), *level, *tpi, 1, "500m", "1Gi"));
    }
    for (i, p) in services.iter().enumerate() {
        let ns = format!("dept-d{}", p.dept % depts.len());
        let name = format!("s{i:02}");
        let mut svc = match p.offering {
            Some(o) if !offerings.is_empty() => {
                tenant(&ns, &name, p.level, &format!("o{}", o % offerings.len()))
            }
            _ => workload(
                &ns,
                &name,
                p.level,
                p.replicas,
                &format!("{}m", p.cpu_m),
                &format!("{}Mi", p.mem_mi),
            ),
        };
        if let Some((pool_i, inst)) = p.previous {
            let shared = svc
                .spec
                .offering
                .as_ref()
                .map(|o| format!("{}-l{}-{inst}", o.name, p.level));
            svc.status = Some(DepartmentServiceStatus {
                pool: Some(format!("p{}", pool_i % pools.len())),
                shared_instance: shared,
                ..Default::default()
            });
        }
        s.services.push(created_at(svc, 1_000 + i as i64));
    }
    s
}

fn check_invariants(s: &Snapshot, p: &Plan) -> Result<(), TestCaseError> {
    invariants::check(s, p).map_err(TestCaseError::fail)
}

/// The statuses the operator would write after applying `p`.
fn with_status(s: &Snapshot, p: &Plan) -> Snapshot {
    let mut next = s.clone();
    for svc in &mut next.services {
        let planned = p
            .services
            .iter()
            .find(|x| {
                Some(&x.name) == svc.metadata.name.as_ref()
                    && Some(&x.namespace) == svc.metadata.namespace.as_ref()
            })
            .unwrap();
        svc.status = Some(DepartmentServiceStatus {
            pool: planned.pool.clone(),
            shared_instance: planned.shared_instance.clone(),
            moved_from: planned.moved_from.clone(),
            pending_change: planned.pending_change.as_ref().map(|c| c.change.clone()),
            ..Default::default()
        });
    }
    // Right after the operator applied `p`: its moves rolling out, offerings' statuses written.
    invariants::after_applying(&next, p)
}

/// A refused service is told the room of the final plan, not the room it saw when it was
/// passed over: `s1` is placed under target first, `s0` is refused with cpu 5, memory
/// 20Gi free, and `s2` (over target) is placed after it, leaving cpu 3, memory 6Gi. A
/// message written mid-placement disagreed with the plan's own `pools[]` and changed
/// when the plan was re-planned from its own decisions.
#[test]
fn a_refusal_states_the_room_the_final_plan_leaves() {
    let mut s = Snapshot::default();
    let mut p = pool("p", 1, "6", "40Gi");
    p.spec.target_utilisation = Some(0.6);
    s.pools.push(p);
    s.departments.push(department("d", 1, "100", "1000Gi", 10));
    for (i, (cpu, memory)) in [("4", "30Gi"), ("1", "20Gi"), ("2", "14Gi")].iter().enumerate() {
        let svc = workload("dept-d", &format!("s{i}"), 1, 1, cpu, memory);
        s.services.push(created_at(svc, 1_000 + i as i64));
    }
    let first = plan(&s, &Assignments::default());
    let pools: Vec<_> = first.services.iter().map(|x| x.pool.as_deref()).collect();
    assert_eq!(pools, [None, Some("p"), Some("p")]);
    let pool = &first.pools[0];
    let (cap, used) = (pool.effective_capacity, pool.allocated);
    assert_eq!(cap.cpu_millis - used.cpu_millis, 3_000);
    assert_eq!(cap.memory_bytes - used.memory_bytes, 6 << 30);
    assert_eq!(
        first.services[0].reasons[0].message,
        "no pool can take cpu 4, memory 30Gi at security level 1 or above (of 1 pools: \
         1 without room); most room is in pool \"p\": cpu 3, memory 6Gi free"
    );
    let again = plan(&s, &Assignments::from_plan(&first));
    assert_eq!(settled_json(&first), settled_json(&again));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(s in estate()) {
        let p = plan(&s, &Assignments::from_status(&s));
        check_invariants(&s, &p)?;
    }

    #[test]
    fn the_same_input_gives_byte_identical_output(s in estate()) {
        let a = serde_json::to_vec(&plan(&s, &Assignments::from_status(&s))).unwrap();
        let b = serde_json::to_vec(&plan(&s.clone(), &Assignments::from_status(&s))).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn replanning_with_the_previous_assignments_changes_nothing(s in estate()) {
        let first = plan(&s, &Assignments::from_status(&s));
        // As the operator re-plans right after applying `first`: its moves still rolling.
        let rolling = invariants::after_applying(&s, &first);
        let again = plan(&rolling, &Assignments::from_plan(&first));
        // Byte for byte, reasons included: a message that changed would cost the operator
        // a status write after convergence.
        prop_assert_eq!(settled_json(&first), settled_json(&again));
        // Through status, as the operator persists it, as well.
        let s2 = with_status(&s, &first);
        let third = plan(&s2, &Assignments::from_status(&s2));
        prop_assert_eq!(serde_json::to_string_pretty(&again).unwrap(), serde_json::to_string_pretty(&third).unwrap());
    }

    #[test]
    fn adding_one_service_moves_no_existing_one(s in estate(), extra in svc_p()) {
        let first = plan(&s, &Assignments::from_status(&s));
        let mut grown = with_status(&s, &first);
        let depts = grown.departments.len();
        let ns = format!("dept-d{}", extra.dept % depts);
        let newcomer = match extra.offering {
            Some(o) if !grown.offerings.is_empty() => tenant(&ns, "zz-new", extra.level, &format!("o{}", o % grown.offerings.len())),
            _ => workload(&ns, "zz-new", extra.level, extra.replicas, &format!("{}m", extra.cpu_m), &format!("{}Mi", extra.mem_mi)),
        };
        grown.services.push(created_at(newcomer, 1_000_000));
        let second = plan(&grown, &Assignments::from_status(&grown));
        check_invariants(&grown, &second)?;
        for a in &first.services {
            let b = second.services.iter().find(|x| x.namespace == a.namespace && x.name == a.name).unwrap();
            if a.pool.is_some() {
                prop_assert_eq!(&a.pool, &b.pool, "{} moved when a service was added", a.name);
                prop_assert_eq!(&a.shared_instance, &b.shared_instance);
            }
            prop_assert_eq!(a.admitted, b.admitted, "{} admission changed", a.name);
        }
    }

    #[test]
    fn adding_to_an_open_planner_decides_as_a_full_replan(s in estate(), extra in svc_p()) {
        let first = plan(&s, &Assignments::from_status(&s));
        let settled = with_status(&s, &first);
        let ns = format!("dept-d{}", extra.dept % settled.departments.len());
        let newcomer = created_at(match extra.offering {
            Some(o) if !settled.offerings.is_empty() => tenant(&ns, "zz-new", extra.level, &format!("o{}", o % settled.offerings.len())),
            _ => workload(&ns, "zz-new", extra.level, extra.replicas, &format!("{}m", extra.cpu_m), &format!("{}Mi", extra.mem_mi)),
        }, 1_000_000);

        let mut open = Planner::new(&settled, &Assignments::from_status(&settled));
        let quick = open.add(&newcomer);
        let mut grown = settled.clone();
        grown.services.push(newcomer);
        let full = plan(&grown, &Assignments::from_status(&grown));
        let expected = full.services.iter().find(|x| x.name == "zz-new").unwrap();
        prop_assert_eq!(&quick.pool, &expected.pool);
        prop_assert_eq!(&quick.shared_instance, &expected.shared_instance);
        prop_assert_eq!(quick.phase, expected.phase);
        prop_assert_eq!(quick.allocated, expected.allocated);
        let codes = |x: &govcloud::plan::ServicePlan| x.reasons.iter().map(|r| r.code).collect::<Vec<_>>();
        prop_assert_eq!(codes(&quick), codes(expected));
        prop_assert_eq!(&quick.reasons, &expected.reasons);
        // The open planner's accounting now equals the full re-plan's.
        prop_assert_eq!(serde_json::to_string(&open.plan().pools).unwrap(), serde_json::to_string(&full.pools).unwrap());
    }
}
