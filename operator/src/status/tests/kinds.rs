use serde_json::json;

use super::*;
use crate::api::{Department, PlatformPolicy, ResourceAmounts, ResourcePool, ServiceOffering};
use crate::plan::{
    Deletion, DepartmentPlan, InstancePlan, OfferingPlan, PolicyPlan, PoolPlan, QuotaPlan, Ratio,
};
use crate::status::Measured;
use crate::status::{
    EventType, department_status, needs_update, offering_status, policy_status, pool_or_department_events,
    pool_status, reasons, types,
};

fn object<T: DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("valid fixture")
}

fn pool(generation: i64) -> ResourcePool {
    object(json!({
        "apiVersion": "govcloud.io/v1alpha1", "kind": "ResourcePool",
        "metadata": {"name": "general-l2", "generation": generation},
        "spec": {"securityLevel": 2, "nodeSelector": {"pool": "general"}, "capacity": {"cpu": "64", "memory": "256Gi"}},
    }))
}

fn pool_plan(cordoned: bool, reasons: Vec<Reason>) -> PoolPlan {
    PoolPlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        name: "general-l2".into(),
        security_level: 2,
        cordoned,
        capacity: Res::new(64_000, 256 * GI),
        effective_capacity: Res::new(64_000, 256 * GI),
        target_utilisation: 0.8,
        allocated: Res::new(16_500, 64 * GI),
        utilisation: Ratio {
            cpu: 0.2578,
            memory: 0.25,
        },
        services: 5,
        departments: 2,
        shared_instances: 1,
        monthly_cost: 1234.5,
        reasons,
        deletion: None,
    }
}

#[test]
fn pool_status_reports_the_plan_in_quantities_and_keeps_measured_usage() {
    let first = pool_status(
        &pool(2),
        &pool_plan(false, Vec::new()),
        Measured::Unknown,
        &at(10),
    );
    assert_eq!(
        first.capacity,
        Some(ResourceAmounts {
            cpu: "64".into(),
            memory: "256Gi".into()
        })
    );
    assert_eq!(
        first.allocated,
        Some(ResourceAmounts {
            cpu: "16500m".into(),
            memory: "64Gi".into()
        })
    );
    assert_eq!(
        first.utilisation.as_ref().map(|u| (u.cpu, u.memory)),
        Some((0.2578, 0.25))
    );
    assert_eq!(
        (first.services, first.departments, first.shared_instances),
        (5, 2, 1)
    );
    assert_eq!(first.observed_generation, Some(2));
    assert_eq!(condition(&first.conditions, types::VALID).status, "True");
    assert_eq!(
        condition(&first.conditions, types::SCHEDULABLE).reason,
        reasons::SCHEDULABLE
    );

    let mut stored = round_trip(&first);
    stored.used = Some(ResourceAmounts {
        cpu: "3".into(),
        memory: "9Gi".into(),
    });
    let mut live = pool(2);
    live.status = Some(stored.clone());
    let again = pool_status(&live, &pool_plan(false, Vec::new()), Measured::Unknown, &at(99));
    assert_eq!(json(&again), json(&stored));
    assert!(!needs_update(Some(&stored), &again));

    let cordoned = pool_status(&live, &pool_plan(true, Vec::new()), Measured::Unknown, &at(99));
    let s = condition(&cordoned.conditions, types::SCHEDULABLE);
    assert_eq!(
        (s.status.as_str(), s.reason.as_str(), &s.last_transition_time),
        ("False", "Cordoned", &at(99))
    );
    assert_eq!(
        condition(&cordoned.conditions, types::VALID).last_transition_time,
        at(10)
    );
}

#[test]
fn an_invalid_pool_is_not_valid_and_not_schedulable() {
    let bad = vec![
        Reason::new(
            ReasonCode::InvalidSpec,
            "spec.capacity.cpu: \"lots\" is not a quantity",
        ),
        Reason::new(ReasonCode::InvalidSpec, "spec.overcommit.cpu: 0.5 is below 1"),
    ];
    let status = pool_status(&pool(1), &pool_plan(false, bad), Measured::Unknown, &at(1));
    let v = condition(&status.conditions, types::VALID);
    assert_eq!((v.status.as_str(), v.reason.as_str()), ("False", "InvalidSpec"));
    assert_eq!(
        v.message,
        "spec.capacity.cpu: \"lots\" is not a quantity; spec.overcommit.cpu: 0.5 is below 1"
    );
    assert_eq!(
        condition(&status.conditions, types::SCHEDULABLE).reason,
        "InvalidSpec"
    );
}

#[test]
fn department_status_from_its_plan() {
    let dept: Department = object(json!({
        "apiVersion": "govcloud.io/v1alpha1", "kind": "Department",
        "metadata": {"name": "finance", "generation": 7},
        "spec": {"securityClearance": 3, "quota": {"cpu": "20", "memory": "64Gi", "services": 10}},
    }));
    let plan = DepartmentPlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        name: "finance".into(),
        namespace: "dept-finance".into(),
        security_clearance: 3,
        quota: QuotaPlan {
            cpu: 20.0,
            memory: 64 * GI,
            services: 10,
        },
        allocated: Res::new(4_250, 6 * GI + GI / 2),
        services: 4,
        rejected_services: 1,
        shared_services: 2,
        monthly_cost: 321.25,
        reasons: Vec::new(),
        deletion: None,
    };
    let status = department_status(&dept, &plan, Measured::Unknown, &at(5));
    assert_eq!(status.namespace.as_deref(), Some("dept-finance"));
    assert_eq!(
        status.allocated,
        Some(ResourceAmounts {
            cpu: "4250m".into(),
            memory: "6656Mi".into()
        })
    );
    assert_eq!(
        (status.services, status.rejected_services, status.shared_services),
        (4, 1, 2)
    );
    assert_eq!(status.monthly_cost, Some(321.25));
    assert_eq!(status.observed_generation, Some(7));
    assert_eq!(
        condition(&status.conditions, types::VALID).observed_generation,
        Some(7)
    );
}

#[test]
fn offering_status_lists_its_instances() {
    let offering: ServiceOffering = object(json!({
        "apiVersion": "govcloud.io/v1alpha1", "kind": "ServiceOffering",
        "metadata": {"name": "postgres", "generation": 1},
        "spec": {"image": "registry.gov.example/postgres:16", "securityLevel": 3, "tenantsPerInstance": 4,
                 "instance": {"replicas": 2, "resources": {"cpu": "2", "memory": "8Gi"}}},
    }));
    let plan = OfferingPlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        name: "postgres".into(),
        tenants: 5,
        instances: vec![
            instance(
                "postgres-l2-1",
                2,
                Some("general-l2"),
                &["dept-a/db", "dept-b/db", "dept-c/db"],
            ),
            instance("postgres-l3-1", 3, None, &["dept-d/db", "dept-e/db"]),
        ],
        siloed_instances: 5,
        instances_saved: 3,
        reasons: Vec::new(),
    };
    let status = offering_status(&offering, &plan, &at(1));
    assert_eq!(
        (
            status.tenants,
            status.instances,
            status.siloed_instances,
            status.instances_saved
        ),
        (5, 2, 5, 3)
    );
    let l2 = &status.instance_details[0];
    assert_eq!(
        (l2.name.as_str(), l2.security_level, l2.pool.as_deref()),
        ("postgres-l2-1", 2, Some("general-l2"))
    );
    assert_eq!(l2.tenants, ["dept-a/db", "dept-b/db", "dept-c/db"]);
    assert_eq!(status.instance_details[1].pool, None);
}

pub(super) fn instance(name: &str, level: u8, pool: Option<&str>, tenants: &[&str]) -> InstancePlan {
    InstancePlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        applied_now: None,
        moved_from: None,
        pending_change: None,
        name: name.into(),
        security_level: level,
        pool: pool.map(Into::into),
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        replicas: 2,
        requests: Res::new(2_000, 8 * GI),
        limits: Res::new(4_000, 16 * GI),
    }
}

#[test]
fn policy_status_counts_violations_and_fails_validity_on_bad_specs() {
    let policy: PlatformPolicy = object(json!({
        "apiVersion": "govcloud.io/v1alpha1", "kind": "PlatformPolicy",
        "metadata": {"name": "standards", "generation": 2}, "spec": {"forbidLatestTag": true},
    }));
    let ok = PolicyPlan {
        exclusion_problems: Vec::new(),
        name: "standards".into(),
        violations: 3,
        reasons: Vec::new(),
    };
    let status = policy_status(&policy, &ok, &at(1));
    assert_eq!(status.violations, 3);
    assert_eq!(condition(&status.conditions, types::VALID).reason, reasons::VALID);
    let bad = PolicyPlan {
        reasons: vec![Reason::new(
            ReasonCode::InvalidSpec,
            "spec.limitRatio.cpu: 0.5 is below 1",
        )],
        ..ok
    };
    let mut live = policy;
    live.status = Some(round_trip(&status));
    let status = policy_status(&live, &bad, &at(2));
    let v = condition(&status.conditions, types::VALID);
    assert_eq!(
        (v.status.as_str(), v.reason.as_str(), &v.last_transition_time),
        ("False", "InvalidSpec", &at(2))
    );
    assert_eq!(v.message, "spec.limitRatio.cpu: 0.5 is below 1");
}

#[test]
fn a_pool_being_deleted_says_what_holds_it_and_announces_each_step() {
    let mut plan = pool_plan(false, Vec::new());
    plan.deletion = Some(Deletion {
        waiting_for: vec!["dept-a/web".into(), "dept-b/db".into()],
    });
    let live = pool(3);
    let held = pool_status(&live, &plan, Measured::Unknown, &at(5));
    let s = condition(&held.conditions, types::SCHEDULABLE);
    assert_eq!(
        (s.status.as_str(), s.reason.as_str()),
        ("False", reasons::DELETING)
    );
    let d = condition(&held.conditions, types::DELETION_BLOCKED);
    assert_eq!(
        (d.status.as_str(), d.reason.as_str(), d.observed_generation),
        ("True", reasons::SERVICES_REMAIN, Some(3))
    );
    assert_eq!(
        d.message,
        "deletion waits for the DepartmentServices placed on this pool to move to pools with room (2): dept-a/web, dept-b/db"
    );
    let events = pool_or_department_events(None, &held);
    assert_eq!(
        events.iter().map(|e| (e.type_, e.reason)).collect::<Vec<_>>(),
        [(EventType::Warning, reasons::SERVICES_REMAIN)]
    );
    assert_eq!(events[0].note, d.message);

    // Unchanged: no write, no event. One service left: the condition says so, and no
    // second Event (a real API server would fold it into the first, old note and all).
    let mut stored = live.clone();
    stored.status = Some(round_trip(&held));
    let again = pool_status(&stored, &plan, Measured::Unknown, &at(6));
    assert!(!needs_update(stored.status.as_ref(), &again));
    assert!(pool_or_department_events(stored.status.as_ref(), &again).is_empty());
    plan.deletion = Some(Deletion {
        waiting_for: vec!["dept-b/db".into()],
    });
    let fewer = pool_status(&stored, &plan, Measured::Unknown, &at(7));
    assert!(needs_update(stored.status.as_ref(), &fewer));
    assert!(
        condition(&fewer.conditions, types::DELETION_BLOCKED)
            .message
            .ends_with("(1): dept-b/db")
    );
    assert!(pool_or_department_events(stored.status.as_ref(), &fewer).is_empty());

    // Empty: released, once.
    plan.deletion = Some(Deletion::default());
    let released = pool_status(&stored, &plan, Measured::Unknown, &at(8));
    let d = condition(&released.conditions, types::DELETION_BLOCKED);
    assert_eq!(
        (d.status.as_str(), d.reason.as_str()),
        ("False", reasons::RELEASED)
    );
    let events = pool_or_department_events(stored.status.as_ref(), &released);
    assert_eq!(
        events.iter().map(|e| (e.type_, e.reason)).collect::<Vec<_>>(),
        [(EventType::Normal, reasons::RELEASED)]
    );
}

#[test]
fn a_department_being_deleted_names_its_namespace_and_remaining_services() {
    let dept: Department = object(json!({
        "apiVersion": "govcloud.io/v1alpha1", "kind": "Department",
        "metadata": {"name": "finance", "generation": 2},
        "spec": {"securityClearance": 3, "quota": {"cpu": "20", "memory": "64Gi", "services": 10}},
    }));
    let plan = DepartmentPlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        name: "finance".into(),
        namespace: "dept-finance".into(),
        security_clearance: 3,
        quota: QuotaPlan {
            cpu: 20.0,
            memory: 64 * GI,
            services: 10,
        },
        allocated: Res::ZERO,
        services: 1,
        rejected_services: 0,
        shared_services: 0,
        monthly_cost: 0.0,
        reasons: Vec::new(),
        deletion: Some(Deletion {
            waiting_for: vec!["dept-finance/ledger".into()],
        }),
    };
    let status = department_status(&dept, &plan, Measured::Unknown, &at(1));
    let d = condition(&status.conditions, types::DELETION_BLOCKED);
    assert_eq!(d.status, "True");
    assert_eq!(
        d.message,
        "deletion waits until the DepartmentServices in namespace dept-finance are deleted; govcloud then deletes the namespace (1): dept-finance/ledger"
    );
    let not_deleting = department_status(
        &dept,
        &DepartmentPlan {
            deletion: None,
            ..plan
        },
        Measured::Unknown,
        &at(1),
    );
    assert!(
        not_deleting
            .conditions
            .iter()
            .all(|c| c.type_ != types::DELETION_BLOCKED),
        "no deletion, no condition"
    );
}
