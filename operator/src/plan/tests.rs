//! Each planner rule on a small estate, with reason codes and messages asserted.

use super::*;
use crate::api::*;
use crate::synthetic::{created_at, department, offering, policy, pool, tenant, workload};

fn estate() -> Snapshot {
    Snapshot {
        pools: vec![pool("l2-a", 2, "10", "40Gi"), pool("l3-a", 3, "10", "40Gi")],
        departments: vec![
            department("fin", 3, "8", "32Gi", 10),
            department("edu", 2, "4", "16Gi", 3),
        ],
        ..Snapshot::default()
    }
}

fn run(s: &Snapshot) -> Plan {
    plan(s, &Assignments::default())
}

fn svc<'a>(p: &'a Plan, ns: &str, name: &str) -> &'a ServicePlan {
    p.services
        .iter()
        .find(|s| s.namespace == ns && s.name == name)
        .expect("service in plan")
}

fn codes(s: &ServicePlan) -> Vec<ReasonCode> {
    s.reasons.iter().map(|r| r.code).collect()
}

#[test]
fn a_placed_workload_reports_pool_charge_and_phase() {
    let mut s = estate();
    s.services
        .push(workload("dept-fin", "ledger", 2, 2, "500m", "1Gi"));
    let p = run(&s);
    let ledger = svc(&p, "dept-fin", "ledger");
    assert_eq!(ledger.phase, Phase::Placed);
    assert_eq!(ledger.pool.as_deref(), Some("l2-a"));
    assert_eq!(ledger.allocated, crate::quantity::Res::new(1000, 2 << 30));
    assert!(ledger.admitted && ledger.compliant && ledger.reasons.is_empty());
    assert_eq!(ledger.department.as_deref(), Some("fin"));
}

#[test]
fn invalid_objects_list_every_problem_with_its_field() {
    let mut s = estate();
    let mut bad = pool("broken", 7, "lots", "0");
    bad.spec.target_utilisation = Some(1.5);
    s.pools.push(bad);
    let mut w = workload("dept-fin", "w", 2, 1, "1", "1Gi");
    w.spec.workload.as_mut().unwrap().image = String::new();
    w.spec.offering = Some(OfferingRef { name: "pg".into() });
    s.services.push(w);
    let p = run(&s);

    let broken = p.pools.iter().find(|x| x.name == "broken").unwrap();
    let messages: Vec<&str> = broken.reasons.iter().map(|r| r.message.as_str()).collect();
    assert!(broken.reasons.iter().all(|r| r.code == ReasonCode::InvalidSpec));
    assert!(
        messages.contains(&"spec.securityLevel: 7 is not a security level (1–4)"),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("spec.capacity.cpu: \"lots\" is not a Kubernetes quantity"))
    );
    assert!(messages.contains(&"spec.capacity.memory: must be greater than zero"));
    assert!(messages.contains(&"spec.targetUtilisation: 1.5 is outside (0, 1]"));

    let w = svc(&p, "dept-fin", "w");
    assert_eq!(w.phase, Phase::Rejected);
    assert_eq!(codes(w), [ReasonCode::InvalidSpec]);
    assert_eq!(
        w.reasons[0].message,
        "spec: exactly one of spec.workload or spec.offering must be set"
    );
}

#[test]
fn a_service_outside_any_department_namespace_is_refused() {
    let mut s = estate();
    s.services.push(workload("default", "stray", 1, 1, "1", "1Gi"));
    let p = run(&s);
    let stray = svc(&p, "default", "stray");
    assert_eq!(codes(stray), [ReasonCode::DepartmentNotFound]);
    assert_eq!(
        stray.reasons[0].message,
        "metadata.namespace: no Department owns namespace \"default\""
    );
    assert_eq!(stray.department, None);
}

#[test]
fn missing_requests_come_from_policy_defaults_or_are_refused() {
    let mut s = estate();
    let mut w = workload("dept-fin", "nodefaults", 2, 1, "1", "1Gi");
    w.spec.workload.as_mut().unwrap().resources = None;
    s.services.push(w.clone());
    let p = run(&s);
    let messages: Vec<_> = svc(&p, "dept-fin", "nodefaults")
        .reasons
        .iter()
        .map(|r| r.message.clone())
        .collect();
    assert_eq!(
        messages,
        [
            "spec.workload.resources.cpu: not set, and no PlatformPolicy sets spec.defaultResources.cpu",
            "spec.workload.resources.memory: not set, and no PlatformPolicy sets spec.defaultResources.memory"
        ]
    );

    s.policies.push(policy(
        "std",
        PlatformPolicySpec {
            default_resources: Some(ResourceRequest {
                cpu: Some("250m".into()),
                memory: Some("256Mi".into()),
            }),
            limit_ratio: Some(ResourceFactors {
                cpu: 2.0,
                memory: 1.5,
            }),
            ..Default::default()
        },
    ));
    let p = run(&s);
    let shape = svc(&p, "dept-fin", "nodefaults").workload.clone().unwrap();
    assert_eq!(shape.requests, crate::quantity::Res::new(250, 256 << 20));
    assert_eq!(shape.limits, crate::quantity::Res::new(500, 384 << 20));
}

#[test]
fn policy_violations_name_the_policy_limit_and_value() {
    let mut s = estate();
    s.policies.push(policy(
        "standards",
        PlatformPolicySpec {
            allowed_registries: vec!["registry.gov.example/".into()],
            forbid_latest_tag: true,
            max_replicas: Some(3),
            max_replica_resources: Some(ResourceRequest {
                cpu: Some("2".into()),
                memory: Some("4Gi".into()),
            }),
            ..Default::default()
        },
    ));
    let mut w = workload("dept-fin", "rogue", 2, 5, "3", "8Gi");
    w.spec.workload.as_mut().unwrap().image = "docker.io/library/nginx:latest".into();
    s.services.push(w);
    let p = run(&s);
    let rogue = svc(&p, "dept-fin", "rogue");
    assert!(!rogue.compliant && !rogue.admitted);
    assert_eq!(rogue.phase, Phase::Rejected);
    assert_eq!(codes(rogue), [ReasonCode::PolicyViolation; 5]);
    let m: Vec<_> = rogue.reasons.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        m[0],
        "spec.workload.image: \"docker.io/library/nginx:latest\" is not from a registry allowed by PlatformPolicy \"standards\" (spec.allowedRegistries: registry.gov.example/)"
    );
    assert_eq!(
        m[1],
        "spec.workload.image: \"docker.io/library/nginx:latest\" uses :latest, forbidden by PlatformPolicy \"standards\" (spec.forbidLatestTag)"
    );
    assert_eq!(
        m[2],
        "spec.workload.replicas: 5 exceeds 3, the spec.maxReplicas of PlatformPolicy \"standards\""
    );
    assert_eq!(
        m[3],
        "spec.workload.resources.cpu: 3 per replica exceeds 2, the spec.maxReplicaResources.cpu of PlatformPolicy \"standards\""
    );
    assert_eq!(
        m[4],
        "spec.workload.resources.memory: 8Gi per replica exceeds 4Gi, the spec.maxReplicaResources.memory of PlatformPolicy \"standards\""
    );
    assert_eq!(p.policies[0].violations, 1);
    assert_eq!(
        p.departments
            .iter()
            .find(|d| d.name == "fin")
            .unwrap()
            .rejected_services,
        1
    );
}

#[test]
fn an_invalid_policy_fails_closed() {
    let mut s = estate();
    s.policies.push(policy(
        "typo",
        PlatformPolicySpec {
            max_replica_resources: Some(ResourceRequest {
                cpu: Some("two".into()),
                memory: None,
            }),
            ..Default::default()
        },
    ));
    s.services.push(workload("dept-fin", "app", 2, 1, "1", "1Gi"));
    let p = run(&s);
    let app = svc(&p, "dept-fin", "app");
    assert_eq!(codes(app), [ReasonCode::PolicyViolation]);
    assert!(app.reasons[0].message.starts_with("PlatformPolicy \"typo\" is invalid, so compliance cannot be established: spec.maxReplicaResources.cpu:"));
}

#[test]
fn a_zero_or_malformed_sizing_step_makes_the_policy_invalid() {
    let mut s = estate();
    s.policies.push(policy(
        "grain",
        PlatformPolicySpec {
            resource_steps: Some(ResourceRequest {
                cpu: Some("0".into()),
                memory: Some("a lot".into()),
            }),
            ..Default::default()
        },
    ));
    let p = run(&s);
    let grain = p.policies.iter().find(|p| p.name == "grain").unwrap();
    let messages: Vec<&str> = grain.reasons.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("spec.resourceSteps.cpu: \"0\" is zero"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("spec.resourceSteps.memory:"),
        "{messages:?}"
    );
    let valid = crate::plan::effective_policy(&[policy(
        "grain",
        PlatformPolicySpec {
            resource_steps: Some(ResourceRequest {
                cpu: Some("250m".into()),
                memory: None,
            }),
            ..Default::default()
        },
    )]);
    assert_eq!((valid.step_cpu, valid.step_memory), (Some(250), None));
}

#[test]
fn admission_is_first_come_first_served_against_quota() {
    let mut s = estate();
    // edu has 4 cores; "zeta" was created first, so it wins over "alpha".
    s.services
        .push(created_at(workload("dept-edu", "zeta", 2, 1, "3", "1Gi"), 100));
    s.services
        .push(created_at(workload("dept-edu", "alpha", 2, 1, "2", "1Gi"), 200));
    let p = run(&s);
    assert!(svc(&p, "dept-edu", "zeta").admitted);
    let alpha = svc(&p, "dept-edu", "alpha");
    assert_eq!(codes(alpha), [ReasonCode::QuotaExceeded]);
    assert_eq!(
        alpha.reasons[0].message,
        "spec.quota.cpu of Department \"edu\" is 4; earlier services reserve 3 and this one needs 2"
    );
    assert_eq!(alpha.allocated, crate::quantity::Res::ZERO);
    let edu = p.departments.iter().find(|d| d.name == "edu").unwrap();
    assert_eq!((edu.services, edu.rejected_services), (1, 1));
    assert_eq!(edu.allocated.cpu_millis, 3000);
}

#[test]
fn the_service_count_is_part_of_the_quota() {
    let mut s = estate();
    for i in 0..4 {
        s.services
            .push(workload("dept-edu", &format!("s{i}"), 1, 1, "100m", "64Mi"));
    }
    let p = run(&s);
    let s3 = svc(&p, "dept-edu", "s3");
    assert_eq!(codes(s3), [ReasonCode::QuotaExceeded]);
    assert_eq!(
        s3.reasons[0].message,
        "spec.quota.services of Department \"edu\" is 3; earlier services reserve 3 and this one needs 1"
    );
}

#[test]
fn clearance_offering_and_allow_list_refusals() {
    let mut s = estate();
    s.offerings.push(offering("pg", 2, 4, 1, "1", "2Gi"));
    s.services.push(workload("dept-edu", "secret", 3, 1, "1", "1Gi"));
    s.services.push(tenant("dept-fin", "db", 3, "pg"));
    s.services.push(tenant("dept-fin", "nosuch", 2, "mysql"));
    s.departments[0].spec.pools = vec!["l2-a".into(), "gone".into()];
    s.services
        .push(workload("dept-fin", "classified", 3, 1, "1", "1Gi"));
    let p = run(&s);

    let secret = svc(&p, "dept-edu", "secret");
    assert_eq!(codes(secret), [ReasonCode::ClearanceInsufficient]);
    assert_eq!(
        secret.reasons[0].message,
        "spec.securityLevel: 3 is above the spec.securityClearance 2 of Department \"edu\""
    );

    let db = svc(&p, "dept-fin", "db");
    assert_eq!(
        codes(db),
        [ReasonCode::LevelAboveOffering, ReasonCode::PoolNotAllowed]
    );
    assert_eq!(
        db.reasons[0].message,
        "spec.securityLevel: 3 is above the spec.securityLevel 2 ServiceOffering \"pg\" is accredited for"
    );

    let nosuch = svc(&p, "dept-fin", "nosuch");
    assert_eq!(codes(nosuch), [ReasonCode::OfferingNotFound]);
    assert_eq!(
        nosuch.reasons[0].message,
        "spec.offering.name: ServiceOffering \"mysql\" does not exist"
    );

    let classified = svc(&p, "dept-fin", "classified");
    assert_eq!(codes(classified), [ReasonCode::PoolNotAllowed]);
    assert_eq!(
        classified.reasons[0].message,
        "Department \"fin\" allows only pools [gone, l2-a] (spec.pools), and none of them exists, is valid and is accredited for level 3"
    );
}

#[test]
fn placement_prefers_the_lowest_level_then_fills_to_target() {
    let mut s = estate();
    s.pools.push(pool("l2-b", 2, "10", "40Gi"));
    s.departments[0].spec.quota.cpu = "100".into();
    // Largest first: 7 cores goes to l2-a (under 0.8 target); 6 would push l2-a to 1.3 → l2-b.
    s.services.push(workload("dept-fin", "a", 1, 1, "7", "1Gi"));
    s.services.push(workload("dept-fin", "b", 1, 1, "6", "1Gi"));
    s.services.push(workload("dept-fin", "c", 1, 1, "1", "1Gi"));
    let p = run(&s);
    assert_eq!(svc(&p, "dept-fin", "a").pool.as_deref(), Some("l2-a"));
    assert_eq!(svc(&p, "dept-fin", "b").pool.as_deref(), Some("l2-b"));
    // 1 core: both stay under target; the fullest (l2-a at 0.8 after) wins.
    assert_eq!(svc(&p, "dept-fin", "c").pool.as_deref(), Some("l2-a"));
    let l3 = p.pools.iter().find(|x| x.name == "l3-a").unwrap();
    assert_eq!(
        l3.services, 0,
        "accredited capacity stays free while level 2 has room"
    );
}

#[test]
fn above_target_the_pool_with_most_room_is_used_before_a_higher_level() {
    let mut s = estate();
    s.pools.push(pool("l2-b", 2, "10", "40Gi"));
    s.departments[0].spec.quota.cpu = "100".into();
    for (n, cpu) in [("a", "8"), ("b", "7"), ("c", "2")] {
        s.services.push(workload("dept-fin", n, 1, 1, cpu, "1Gi"));
    }
    let p = run(&s);
    assert_eq!(
        svc(&p, "dept-fin", "c").pool.as_deref(),
        Some("l2-b"),
        "l2-b has most room (7 of 10 used)"
    );
}

#[test]
fn no_feasible_pool_leaves_the_service_pending_with_an_explanation() {
    let mut s = estate();
    s.pools[0].spec.cordoned = true;
    s.departments[0].spec.quota.cpu = "100".into();
    s.services.push(workload("dept-fin", "huge", 2, 1, "12", "1Gi"));
    let p = run(&s);
    let huge = svc(&p, "dept-fin", "huge");
    assert_eq!(huge.phase, Phase::Pending);
    assert!(huge.admitted);
    assert_eq!(codes(huge), [ReasonCode::InsufficientCapacity]);
    assert_eq!(
        huge.reasons[0].message,
        "no pool can take cpu 12, memory 1Gi at security level 2 or above (of 2 pools: 1 cordoned, 1 without room); most room is in pool \"l3-a\": cpu 10, memory 40Gi free"
    );
}

#[test]
fn a_service_keeps_its_pool_while_feasible_and_moves_off_a_cordoned_one() {
    let mut s = estate();
    let mut w = workload("dept-fin", "w", 2, 1, "1", "1Gi");
    w.status = Some(DepartmentServiceStatus {
        pool: Some("l3-a".into()),
        ..Default::default()
    });
    s.services.push(w);
    let kept = plan(&s, &Assignments::from_status(&s));
    let w = svc(&kept, "dept-fin", "w");
    assert_eq!(w.pool.as_deref(), Some("l3-a"), "stability beats the lower level");
    assert_eq!(w.moved_from, None);

    s.pools[1].spec.cordoned = true;
    let moved = plan(&s, &Assignments::from_status(&s));
    let w = svc(&moved, "dept-fin", "w");
    assert_eq!(w.pool.as_deref(), Some("l2-a"));
    assert_eq!(w.moved_from.as_deref(), Some("l3-a"));
}

/// A shared instance on a cordoned pool, with no room anywhere else: `l3-a` cordoned and
/// `l2-a` too small for another instance. Its tenants are `fin/a` (recorded on `l3-a`)
/// and `fin/b`, whose record names another pool (a status write that failed).
fn instance_stuck_on_a_cordoned_pool() -> Snapshot {
    let mut s = estate();
    s.pools[0] = pool("l2-a", 2, "1", "4Gi");
    s.pools[1].spec.cordoned = true;
    s.offerings.push(offering("pg", 2, 3, 1, "2", "2Gi"));
    for (at, name, pool) in [(1, "a", "l3-a"), (2, "b", "l2-a")] {
        let mut t = created_at(tenant("dept-fin", name, 2, "pg"), at);
        t.status = Some(DepartmentServiceStatus {
            pool: Some(pool.into()),
            shared_instance: Some("pg-l2-1".into()),
            ..Default::default()
        });
        s.services.push(t);
    }
    s
}

#[test]
fn tenants_stay_with_their_instance_on_a_cordoned_pool_and_are_not_reported_moved() {
    let s = instance_stuck_on_a_cordoned_pool();
    let p = plan(&s, &Assignments::from_status(&s));
    for name in ["a", "b"] {
        let t = svc(&p, "dept-fin", name);
        assert_eq!(t.shared_instance.as_deref(), Some("pg-l2-1"));
        assert_eq!(
            t.pool.as_deref(),
            Some("l3-a"),
            "the instance stays rather than going down"
        );
        assert_eq!(
            t.moved_from, None,
            "{name}: its instance did not move, whatever its own record said"
        );
    }
}

#[test]
fn a_newcomer_does_not_join_an_instance_on_a_cordoned_pool() {
    let mut s = instance_stuck_on_a_cordoned_pool();
    s.services.push(tenant("dept-fin", "c", 2, "pg"));
    let p = plan(&s, &Assignments::from_status(&s));
    let c = svc(&p, "dept-fin", "c");
    assert_ne!(
        c.shared_instance.as_deref(),
        Some("pg-l2-1"),
        "the instance has room, but is cordoned"
    );
    assert_eq!(
        c.phase,
        Phase::Pending,
        "no open pool has room for a new instance"
    );
    assert_eq!(codes(c), [ReasonCode::InsufficientCapacity]);

    // The same through an open planner, as a service arriving last.
    let mut s = instance_stuck_on_a_cordoned_pool();
    let mut planner = Planner::new(&s, &Assignments::from_status(&s));
    let added = planner.add(&tenant("dept-fin", "c", 2, "pg"));
    assert_eq!(added.pool, None);
    assert_ne!(added.shared_instance.as_deref(), Some("pg-l2-1"));

    // With room on an open pool, the newcomer's new instance goes there.
    s.pools[0] = pool("l2-a", 2, "10", "40Gi");
    s.services.push(tenant("dept-fin", "c", 2, "pg"));
    let p = plan(&s, &Assignments::from_status(&s));
    let c = svc(&p, "dept-fin", "c");
    assert_eq!(c.pool.as_deref(), Some("l2-a"));
}

fn deleted(meta: &mut kube::api::ObjectMeta) {
    let at = k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).expect("in range");
    meta.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(at));
}

#[test]
fn a_pool_being_deleted_sheds_its_services_and_is_held_until_it_is_empty() {
    let mut s = estate();
    for name in ["a", "b"] {
        let mut w = workload("dept-fin", name, 3, 1, "4", "1Gi");
        w.status = Some(DepartmentServiceStatus {
            pool: Some("l3-a".into()),
            ..Default::default()
        });
        s.services.push(w);
    }
    deleted(&mut s.pools[1].metadata);
    s.pools.push(pool("l3-b", 3, "5", "40Gi"));
    let p = plan(&s, &Assignments::from_status(&s));
    assert_eq!(svc(&p, "dept-fin", "a").pool.as_deref(), Some("l3-b"));
    assert_eq!(svc(&p, "dept-fin", "a").moved_from.as_deref(), Some("l3-a"));
    let b = svc(&p, "dept-fin", "b");
    assert_eq!(
        b.pool.as_deref(),
        Some("l3-a"),
        "no other level-3 pool has room for b: it stays rather than being taken down"
    );
    assert_eq!(b.phase, Phase::Placed);
    let deleting = p.pools.iter().find(|x| x.name == "l3-a").unwrap();
    assert_eq!(deleting.deletion.as_ref().unwrap().waiting_for, ["dept-fin/b"]);
    assert!(p.pools.iter().all(|x| x.name == "l3-a" || x.deletion.is_none()));

    // Room appears, but one move at a time leaves a pool (maxConcurrentMoves 1): while
    // a's move is unrecorded, b's waits for a slot, holding room on both pools.
    s.pools[2].spec.capacity.as_mut().unwrap().cpu = "10".into();
    let p = plan(&s, &Assignments::from_status(&s));
    let b = svc(&p, "dept-fin", "b");
    assert_eq!(b.pool.as_deref(), Some("l3-a"));
    let pending = b.pending_change.as_ref().expect("b's move waits");
    assert_eq!(pending.reason, crate::plan::PendingReason::MoveLimit);
    assert_eq!(
        (pending.change.from.as_str(), pending.change.to.as_str()),
        ("l3-a", "l3-b")
    );
    let l3b = p.pools.iter().find(|x| x.name == "l3-b").unwrap();
    assert_eq!(l3b.allocated.cpu_millis, 8_000, "a's 4 cores and b's reserved 4");

    // a's move is recorded and its Deployment has rolled out: b moves, and the deletion
    // may go ahead.
    s.services[0].status.as_mut().unwrap().pool = Some("l3-b".into());
    s.services[0].status.as_mut().unwrap().moved_from = Some("l3-a".into());
    let p = plan(&s, &Assignments::from_status(&s));
    assert_eq!(svc(&p, "dept-fin", "b").moved_from.as_deref(), Some("l3-a"));
    assert_eq!(svc(&p, "dept-fin", "b").pending_change, None);
    let deleting = p.pools.iter().find(|x| x.name == "l3-a").unwrap();
    assert_eq!(deleting.deletion, Some(Deletion::default()));

    // A newcomer is never placed on a pool being deleted.
    s.pools.pop();
    s.departments[0].spec.quota.cpu = "20".into();
    s.services.push(workload("dept-fin", "new", 3, 1, "1", "1Gi"));
    let p = plan(&s, &Assignments::from_status(&s));
    let new = svc(&p, "dept-fin", "new");
    assert_eq!(new.pool, None);
    assert!(
        new.reasons[0].message.contains("1 being deleted"),
        "{}",
        new.reasons[0].message
    );
}

#[test]
fn a_department_being_deleted_waits_for_every_service_in_its_namespace() {
    let mut s = estate();
    s.services.push(workload("dept-fin", "ok", 2, 1, "1", "1Gi"));
    s.services.push(workload("dept-fin", "refused", 9, 1, "1", "1Gi"));
    s.services.push(workload("dept-edu", "other", 2, 1, "1", "1Gi"));
    deleted(&mut s.departments[0].metadata);
    let p = run(&s);
    let fin = p.departments.iter().find(|d| d.name == "fin").unwrap();
    assert_eq!(
        fin.deletion.as_ref().unwrap().waiting_for,
        ["dept-fin/ok", "dept-fin/refused"],
        "a refused service still lives in the namespace"
    );
    assert_eq!(
        svc(&p, "dept-fin", "ok").phase,
        Phase::Placed,
        "running services are left alone"
    );
    let edu = p.departments.iter().find(|d| d.name == "edu").unwrap();
    assert_eq!(edu.deletion, None);

    s.services
        .retain(|x| x.metadata.namespace.as_deref() != Some("dept-fin"));
    let p = run(&s);
    let fin = p.departments.iter().find(|d| d.name == "fin").unwrap();
    assert_eq!(fin.deletion, Some(Deletion::default()));
}

#[test]
fn tenants_share_instances_by_level_and_pay_their_share() {
    let mut s = estate();
    s.offerings.push(offering("pg", 3, 4, 2, "1", "2Gi"));
    for (ns, name, level) in [
        ("dept-fin", "a", 3),
        ("dept-fin", "b", 2),
        ("dept-edu", "c", 2),
        ("dept-edu", "d", 2),
    ] {
        s.services.push(tenant(ns, name, level, "pg"));
    }
    let p = run(&s);
    let pg = &p.offerings[0];
    let inst: Vec<_> = pg
        .instances
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                i.security_level,
                i.pool.as_deref(),
                i.tenants.len(),
            )
        })
        .collect();
    assert_eq!(
        inst,
        [("pg-l2-1", 2, Some("l2-a"), 3), ("pg-l3-1", 3, Some("l3-a"), 1)]
    );
    assert_eq!(
        pg.instances[0].tenants,
        ["dept-edu/c", "dept-edu/d", "dept-fin/b"]
    );
    // Two replicas of 1 core / 2Gi shared by up to 4 tenants: 500m and 1Gi each.
    let c = svc(&p, "dept-edu", "c");
    assert_eq!(c.allocated, crate::quantity::Res::new(500, 1 << 30));
    assert_eq!(c.shared_instance.as_deref(), Some("pg-l2-1"));
    assert_eq!(c.pool.as_deref(), Some("l2-a"));
    // Silos: fin at level 2, fin at level 3, edu at level 2.
    assert_eq!((pg.tenants, pg.siloed_instances, pg.instances_saved), (4, 3, 1));
    let l2 = p.pools.iter().find(|x| x.name == "l2-a").unwrap();
    assert_eq!((l2.services, l2.departments, l2.shared_instances), (3, 2, 1));
    assert_eq!(
        l2.allocated,
        crate::quantity::Res::new(2000, 4 << 30),
        "the whole instance, not the shares"
    );
    assert_eq!(
        p.departments
            .iter()
            .find(|d| d.name == "edu")
            .unwrap()
            .shared_services,
        2
    );
}

#[test]
fn cost_and_savings_against_the_siloed_baseline() {
    let mut s = estate();
    s.pools.truncate(1);
    let p2 = &mut s.pools[0].spec;
    p2.cost = Some(Cost {
        cpu_core_hour: 0.05,
        memory_gib_hour: 0.01,
    });
    p2.node_shape = Some(ResourceAmounts {
        cpu: "4".into(),
        memory: "16Gi".into(),
    });
    s.offerings.push(offering("pg", 2, 10, 1, "2", "4Gi"));
    s.services.push(workload("dept-fin", "app", 2, 1, "1", "2Gi"));
    s.services.push(tenant("dept-fin", "db", 2, "pg"));
    s.services.push(tenant("dept-edu", "db", 2, "pg"));
    let p = run(&s);
    // Consolidated: 1 core/2Gi + one 2 core/4Gi instance = 3 cores, 6Gi → 1 node.
    // Siloed: fin 1+2 cores → 1 node; edu 2 cores → 1 node.
    let sv = &p.savings;
    assert_eq!(
        (sv.nodes_consolidated, sv.nodes_siloed, sv.nodes_saved),
        (1, 2, 1)
    );
    assert_eq!(sv.instances_saved, 1);
    let node_month = (4.0 * 0.05 + 16.0 * 0.01) * 730.0;
    assert_eq!(sv.monthly_cost_consolidated, output::round2(node_month));
    assert_eq!(sv.monthly_cost_siloed, output::round2(2.0 * node_month));
    assert_eq!(
        sv.utilisation_consolidated,
        Ratio {
            cpu: 0.75,
            memory: 0.375
        }
    );
    assert_eq!(
        sv.utilisation_siloed,
        Ratio {
            cpu: 0.625,
            memory: 0.3125
        }
    );
    // fin pays its workload and a tenth of the instance.
    let fin = p.departments.iter().find(|d| d.name == "fin").unwrap();
    let fin_cost = (1.2 * 0.05 + (2.0 + 0.4) * 0.01) * 730.0;
    assert!(
        (fin.monthly_cost - fin_cost).abs() < 0.01,
        "{} vs {fin_cost}",
        fin.monthly_cost
    );
}

#[test]
fn pool_capacity_comes_from_matching_schedulable_nodes() {
    use k8s_openapi::api::core::v1::{Node, NodeSpec, NodeStatus};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    let node = |name: &str, pool: &str, unschedulable: bool| {
        let mut n = Node::default();
        n.metadata.name = Some(name.into());
        n.metadata.labels = Some([("govcloud.io/pool".to_string(), pool.to_string())].into());
        n.spec = Some(NodeSpec {
            unschedulable: Some(unschedulable),
            ..Default::default()
        });
        n.status = Some(NodeStatus {
            allocatable: Some(
                [
                    ("cpu".into(), Quantity("3800m".into())),
                    ("memory".into(), Quantity("15Gi".into())),
                ]
                .into(),
            ),
            ..Default::default()
        });
        n
    };
    let mut s = estate();
    s.pools[0].spec.capacity = None;
    s.pools[1].spec.capacity = None;
    s.nodes = vec![
        node("n1", "l2-a", false),
        node("n2", "l2-a", false),
        node("n3", "l2-a", true),
    ];
    let p = run(&s);
    assert_eq!(p.pools[0].capacity, crate::quantity::Res::new(7600, 30 << 30));
    assert_eq!(p.pools[1].reasons[0].code, ReasonCode::InvalidSpec);
    assert!(
        p.pools[1].reasons[0]
            .message
            .starts_with("spec.capacity: not set, and no schedulable Node matches spec.nodeSelector")
    );
}

#[test]
fn the_plan_does_not_depend_on_input_order() {
    let mut s = crate::synthetic::estate(
        7,
        crate::synthetic::EstateShape {
            services: 300,
            departments: 12,
            pools: 6,
            offerings: 5,
            levels: 3,
            tenant_fraction: 0.3,
            headroom: 1.2,
        },
    );
    let a = serde_json::to_string(&run(&s)).unwrap();
    s.services.reverse();
    s.pools.reverse();
    s.departments.reverse();
    s.offerings.reverse();
    let b = serde_json::to_string(&run(&s)).unwrap();
    assert_eq!(a, b);
}
