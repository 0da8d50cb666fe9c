//! Moves through maintenance windows: waiting, holding capacity on both pools, move
//! slots, freezes, and the moves no window may hold back.

use super::*;
use crate::api::*;
use crate::synthetic::{department, offering, policy, pool, tenant, workload};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Saturday 2027-03-06, 01:00 UTC: an hour before the windows below open.
fn at(hms: &str) -> jiff::Timestamp {
    format!("2027-03-06T{hms}Z").parse().expect("RFC 3339")
}

/// Saturdays 02:00–06:00 UTC.
fn saturday_night() -> Vec<MaintenanceWindow> {
    vec![MaintenanceWindow {
        schedule: "0 2 * * 6".into(),
        duration: "4h".into(),
        time_zone: None,
    }]
}

fn on(mut svc: DepartmentService, pool: &str) -> DepartmentService {
    svc.status = Some(DepartmentServiceStatus {
        pool: Some(pool.into()),
        ..Default::default()
    });
    svc
}

/// `old` (cordoned) and `new`, both level 2; fin with the Saturday window and two
/// 1-core services on `old`.
fn draining(now: &str) -> Snapshot {
    let mut old = pool("old", 2, "10", "40Gi");
    old.spec.cordoned = true;
    let mut fin = department("fin", 2, "8", "32Gi", 10);
    fin.spec.maintenance_windows = saturday_night();
    Snapshot {
        pools: vec![old, pool("new", 2, "10", "40Gi")],
        departments: vec![fin],
        services: vec![
            on(workload("dept-fin", "a", 2, 1, "1", "1Gi"), "old"),
            on(workload("dept-fin", "b", 2, 1, "1", "1Gi"), "old"),
        ],
        now: at(now),
        ..Snapshot::default()
    }
}

/// Offering `db`, with a window every night at 01:00–01:30 UTC.
fn nightly_db() -> ServiceOffering {
    let mut db = offering("db", 2, 4, 1, "1", "1Gi");
    db.spec.maintenance_windows = vec![MaintenanceWindow {
        schedule: "0 1 * * *".into(),
        duration: "30m".into(),
        time_zone: None,
    }];
    db
}

/// fin's tenant of `db`, seated on its instance on pool `old`.
fn db_tenant_on_old() -> DepartmentService {
    let mut t = tenant("dept-fin", "ledger-db", 2, "db");
    t.status = Some(DepartmentServiceStatus {
        pool: Some("old".into()),
        shared_instance: Some(instance_name("db", 2, 1)),
        ..Default::default()
    });
    t
}

fn replan(s: &Snapshot) -> Plan {
    plan(s, &Assignments::from_status(s))
}

fn svc<'a>(p: &'a Plan, name: &str) -> &'a ServicePlan {
    p.services
        .iter()
        .find(|s| s.name == name)
        .expect("service in plan")
}

fn allocated_cpu(p: &Plan, pool: &str) -> i64 {
    p.pools
        .iter()
        .find(|x| x.name == pool)
        .expect("pool")
        .allocated
        .cpu_millis
}

#[test]
fn a_cordoned_pool_drains_only_when_the_window_opens() {
    let p = replan(&draining("01:00:00"));
    for name in ["a", "b"] {
        let s = svc(&p, name);
        assert_eq!(s.pool.as_deref(), Some("old"), "{name} stays until the window");
        assert_eq!(s.moved_from, None);
        let pending = s.pending_change.as_ref().expect("a waiting move");
        assert_eq!(pending.reason, PendingReason::AwaitingWindow);
        assert_eq!(pending.change.kind, ChangeKind::Move);
        assert_eq!(
            (pending.change.from.as_str(), pending.change.to.as_str()),
            ("old", "new")
        );
        assert_eq!(pending.change.since, Time(at("01:00:00")));
        assert_eq!(pending.change.next_window, Some(Time(at("02:00:00"))));
        assert!(
            pending.message.contains("Department \"fin\"") && pending.message.contains("is cordoned"),
            "{}",
            pending.message
        );
    }
    // Both pools hold both services meanwhile: the destination is still there when the
    // window opens.
    assert_eq!(
        (allocated_cpu(&p, "old"), allocated_cpu(&p, "new")),
        (2_000, 2_000)
    );
    assert_eq!(p.departments[0].maintenance.next_open, Some(at("02:00:00")));
    assert_eq!(
        p.wake_at,
        Some(at("02:00:00")),
        "the operator plans again when the window opens"
    );
    assert!(!p.departments[0].maintenance.open);

    // In the window, one move leaves the pool at a time (maxConcurrentMoves 1).
    let p = replan(&draining("02:30:00"));
    let (a, b) = (svc(&p, "a"), svc(&p, "b"));
    assert_eq!(
        (a.pool.as_deref(), a.moved_from.as_deref()),
        (Some("new"), Some("old"))
    );
    assert_eq!(a.pending_change, None);
    assert_eq!(b.pool.as_deref(), Some("old"));
    let pending = b.pending_change.as_ref().expect("b waits for a move slot");
    assert_eq!(pending.reason, PendingReason::MoveLimit);
    assert_eq!(pending.change.next_window, None);
    assert!(
        pending.message.contains("maxConcurrentMoves (1)"),
        "{}",
        pending.message
    );
    assert!(p.departments[0].maintenance.open);
    assert_eq!(p.departments[0].maintenance.closes_at, Some(at("06:00:00")));
}

#[test]
fn a_move_rolling_out_holds_its_slot_and_both_pools_until_its_deployment_is_available() {
    let mut s = draining("02:30:00");
    let status = s.services[0].status.as_mut().unwrap();
    status.pool = Some("new".into());
    status.moved_from = Some("old".into());
    s.rolling.insert(ServiceKey {
        namespace: "dept-fin".into(),
        name: "a".into(),
    });
    let p = replan(&s);
    assert_eq!(svc(&p, "a").moved_from.as_deref(), Some("old"));
    assert_eq!(
        svc(&p, "b").pending_change.as_ref().map(|c| c.reason),
        Some(PendingReason::MoveLimit)
    );
    assert_eq!(
        (allocated_cpu(&p, "old"), allocated_cpu(&p, "new")),
        (2_000, 2_000)
    );

    // Rolled out: a settles, b starts.
    s.rolling.clear();
    let p = replan(&s);
    assert_eq!(svc(&p, "a").moved_from, None);
    assert_eq!(svc(&p, "b").moved_from.as_deref(), Some("old"));
    assert_eq!(svc(&p, "b").pool.as_deref(), Some("new"));
}

#[test]
fn more_move_slots_let_moves_run_together() {
    let mut s = draining("02:30:00");
    s.pools[0].spec.disruption = Some(Disruption {
        max_concurrent_moves: 2,
    });
    let p = replan(&s);
    assert!(
        ["a", "b"]
            .iter()
            .all(|n| svc(&p, n).pool.as_deref() == Some("new") && svc(&p, n).pending_change.is_none())
    );
}

#[test]
fn the_pools_windows_must_be_open_too_and_the_wait_keeps_its_start() {
    let mut s = draining("02:30:00");
    // The destination's window is Sundays only.
    s.pools[1].spec.maintenance_windows = vec![MaintenanceWindow {
        schedule: "0 2 * * 0".into(),
        duration: "4h".into(),
        time_zone: None,
    }];
    let since = Time(at("00:10:00"));
    s.services[0].status.as_mut().unwrap().pending_change = Some(PendingChange {
        kind: ChangeKind::Move,
        from: "old".into(),
        to: "new".into(),
        since: since.clone(),
        next_window: None,
    });
    let p = replan(&s);
    let a = svc(&p, "a")
        .pending_change
        .as_ref()
        .expect("waits for the pool's window");
    assert_eq!(a.reason, PendingReason::AwaitingWindow);
    assert_eq!(a.change.since, since, "the wait keeps its first moment");
    // Both open together the next Saturday? No: the department's window is Saturdays and
    // the pool's Sundays, so they never meet.
    assert_eq!(a.change.next_window, None);
    assert!(a.message.contains("not open together"), "{}", a.message);
}

#[test]
fn an_estate_freeze_holds_every_move_and_names_its_reason() {
    let mut s = draining("02:30:00");
    s.policies.push(policy(
        "elections",
        PlatformPolicySpec {
            maintenance_exclusions: vec![MaintenanceExclusion {
                start: "2027-03-01T00:00:00Z".into(),
                end: "2027-03-10T00:00:00Z".into(),
                reason: "general election".into(),
            }],
            ..Default::default()
        },
    ));
    let p = replan(&s);
    for name in ["a", "b"] {
        let pending = svc(&p, name).pending_change.as_ref().expect("frozen");
        assert_eq!(pending.reason, PendingReason::Frozen);
        assert!(
            pending.message.contains("general election"),
            "{}",
            pending.message
        );
    }
    let pool = &p.pools[0].maintenance;
    assert_eq!(pool.frozen.as_deref(), Some("general election"));
    assert!(!pool.open);
}

#[test]
fn a_bad_window_shuts_maintenance_but_takes_nothing_else_away() {
    let mut s = draining("02:30:00");
    s.departments[0].spec.maintenance_windows[0].time_zone = Some("Mars/Olympus_Mons".into());
    s.services.push(workload("dept-fin", "c", 2, 1, "1", "1Gi"));
    let p = replan(&s);
    let fin = &p.departments[0];
    assert!(
        fin.reasons.is_empty(),
        "the department itself is fine: {:?}",
        fin.reasons
    );
    assert_eq!(
        fin.maintenance.problems.len(),
        1,
        "{:?}",
        fin.maintenance.problems
    );
    assert!(
        fin.maintenance.problems[0]
            .message
            .starts_with("spec.maintenanceWindows[0].timeZone"),
        "{:?}",
        fin.maintenance.problems
    );
    assert_eq!(
        svc(&p, "c").pool.as_deref(),
        Some("new"),
        "new services are placed"
    );
    for name in ["a", "b"] {
        assert_eq!(
            svc(&p, name).pool.as_deref(),
            Some("old"),
            "fail closed: {name} stays"
        );
    }
}

#[test]
fn a_move_the_service_asks_for_is_not_held_back() {
    let mut s = draining("01:00:00");
    s.pools.push(pool("high", 3, "10", "40Gi"));
    s.departments[0].spec.security_clearance = 3;
    // The department raised a's level above both level-2 pools: it must move now.
    s.services[0].spec.security_level = 3;
    let p = replan(&s);
    let a = svc(&p, "a");
    assert_eq!(a.pool.as_deref(), Some("high"));
    assert_eq!(a.pending_change, None);
    assert_eq!(svc(&p, "b").pool.as_deref(), Some("old"));
}

#[test]
fn a_shared_instance_moves_in_its_offerings_and_pools_windows() {
    let mut s = draining("01:00:00");
    s.services.clear();
    let db = nightly_db();
    s.offerings.push(db);
    s.services.push(db_tenant_on_old());
    // The offering's window is open (01:00–01:30), the department's is not: an
    // instance's move does not wait for its tenants' departments.
    let p = replan(&s);
    let inst = &p.offerings[0].instances[0];
    assert_eq!(
        (inst.pool.as_deref(), inst.moved_from.as_deref()),
        (Some("new"), Some("old"))
    );
    assert_eq!(svc(&p, "ledger-db").moved_from.as_deref(), Some("old"));

    s.now = at("01:45:00");
    let p = replan(&s);
    let inst = &p.offerings[0].instances[0];
    assert_eq!(inst.pool.as_deref(), Some("old"));
    let pending = inst
        .pending_change
        .as_ref()
        .expect("waits for the offering's window");
    assert!(
        pending.message.contains("ServiceOffering \"db\""),
        "{}",
        pending.message
    );
    assert_eq!(
        pending.change.next_window,
        Some(Time("2027-03-07T01:00:00Z".parse().unwrap()))
    );
}

#[test]
fn apply_now_carries_out_a_waiting_move_at_once_and_says_why() {
    let mut s = draining("01:00:00");
    s.services[0].metadata.annotations.get_or_insert_default().insert(
        APPLY_NOW.into(),
        "  incident INC-42: old pool's power feed  ".into(),
    );
    let p = replan(&s);
    let a = svc(&p, "a");
    assert_eq!(
        (a.pool.as_deref(), a.moved_from.as_deref()),
        (Some("new"), Some("old"))
    );
    assert_eq!(
        a.applied_now.as_deref(),
        Some("incident INC-42: old pool's power feed")
    );
    assert!(
        svc(&p, "b").pending_change.is_some(),
        "b has no break-glass of its own"
    );

    // On the pool: everything leaves it at once, move slots notwithstanding.
    let mut s = draining("01:00:00");
    s.pools[0]
        .metadata
        .annotations
        .get_or_insert_default()
        .insert(APPLY_NOW.into(), String::new());
    let p = replan(&s);
    for name in ["a", "b"] {
        assert_eq!(svc(&p, name).pool.as_deref(), Some("new"));
        assert_eq!(svc(&p, name).applied_now.as_deref(), Some("no reason given"));
    }
}

#[test]
fn a_waiting_instance_move_keeps_its_start_from_the_offerings_status() {
    let mut s = draining("01:45:00");
    s.services.clear();
    let mut db = nightly_db();
    let since = Time(at("00:05:00"));
    db.status = Some(ServiceOfferingStatus {
        instance_details: vec![SharedInstanceStatus {
            name: instance_name("db", 2, 1),
            security_level: 2,
            pool: Some("old".into()),
            tenants: vec!["dept-fin/ledger-db".into()],
            pending_change: Some(PendingChange {
                kind: ChangeKind::Move,
                from: "old".into(),
                to: "new".into(),
                since: since.clone(),
                next_window: None,
            }),
        }],
        ..Default::default()
    });
    s.offerings.push(db);
    s.services.push(db_tenant_on_old());
    let p = replan(&s);
    let pending = p.offerings[0].instances[0]
        .pending_change
        .as_ref()
        .expect("still waiting");
    assert_eq!(
        pending.change.since, since,
        "an unchanged wait writes no new status"
    );
}
