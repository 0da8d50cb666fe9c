use super::kinds::instance;
use super::*;
use crate::api::{ServiceOfferingStatus, SharedInstanceStatus};
use crate::plan::{Reason, ReasonCode};
use crate::status::Measured;
use crate::status::{
    EVENT_REASONS, EventRecord, EventType, Readiness, offering_events, service_events, service_status,
    validity_events,
};

fn status_for(
    generation: i64,
    previous: Option<&DepartmentServiceStatus>,
    plan: &ServicePlan,
) -> DepartmentServiceStatus {
    service_status(
        &service(generation, previous.cloned()),
        plan,
        None,
        Measured::Unknown,
        &at(100),
    )
}

fn reasons_of(events: &[EventRecord]) -> Vec<(&'static str, &'static str)> {
    events.iter().map(|e| (e.type_.as_str(), e.reason)).collect()
}

#[test]
fn a_new_service_is_admitted_and_placed() {
    let desired = status_for(1, None, &placed_plan("general-l2"));
    let events = service_events(None, &desired);
    assert_eq!(
        reasons_of(&events),
        [("Normal", "Admitted"), ("Normal", "Placed")]
    );
    assert_eq!(events[1].action, "Place");
    assert!(events[1].note.contains("general-l2"), "{}", events[1].note);
}

#[test]
fn a_moved_service_names_both_pools() {
    let before = status_for(1, None, &placed_plan("general-l2"));
    let after = status_for(1, Some(&before), &placed_plan("general-l3"));
    let events = service_events(Some(&before), &after);
    assert_eq!(reasons_of(&events), [("Normal", "Moved")]);
    assert_eq!(events[0].action, "Move");
    assert!(events[0].note.contains("\"general-l2\"") && events[0].note.contains("\"general-l3\""));
}

#[test]
fn a_tenant_moved_between_instances_on_one_pool_is_told() {
    let tenant = |instance: &str| ServicePlan {
        shared_instance: Some(instance.into()),
        ..placed_plan("general-l2")
    };
    let before = status_for(1, None, &tenant("postgres-l2-1"));
    let after = status_for(1, Some(&before), &tenant("postgres-l2-2"));
    let events = service_events(Some(&before), &after);
    assert_eq!(reasons_of(&events), [("Normal", "Moved")]);
    assert!(events[0].note.contains("postgres-l2-1") && events[0].note.contains("postgres-l2-2"));
}

#[test]
fn refusals_are_warnings_with_the_code_as_reason() {
    let quota = refused_plan(vec![Reason::new(
        ReasonCode::QuotaExceeded,
        "spec.quota.cpu is 20",
    )]);
    let events = service_events(None, &status_for(1, None, &quota));
    assert_eq!(reasons_of(&events), [("Warning", "QuotaExceeded")]);
    assert_eq!(
        (events[0].action, events[0].note.as_str()),
        ("Admit", "spec.quota.cpu is 20")
    );

    let violation = refused_plan(vec![
        Reason::new(ReasonCode::PolicyViolation, "image: latest"),
        Reason::new(ReasonCode::PolicyViolation, "replicas: 9 > 4"),
    ]);
    let events = service_events(None, &status_for(1, None, &violation));
    assert_eq!(reasons_of(&events), [("Warning", "PolicyViolation")]);
    assert_eq!(events[0].note, "image: latest; replicas: 9 > 4");

    let capacity = refused_plan(vec![Reason::new(
        ReasonCode::InsufficientCapacity,
        "no pool has room",
    )]);
    let events = service_events(None, &status_for(1, None, &capacity));
    assert_eq!(
        reasons_of(&events),
        [("Normal", "Admitted"), ("Warning", "InsufficientCapacity")]
    );
}

#[test]
fn a_refusal_is_told_again_after_a_spec_change_but_not_for_a_new_message_alone() {
    let quota = |m: &str| refused_plan(vec![Reason::new(ReasonCode::QuotaExceeded, m)]);
    let before = status_for(1, None, &quota("earlier services reserve 10"));
    let reworded = status_for(1, Some(&before), &quota("earlier services reserve 12"));
    assert!(service_events(Some(&before), &reworded).is_empty());
    let edited = status_for(2, Some(&before), &quota("earlier services reserve 10"));
    assert_eq!(
        reasons_of(&service_events(Some(&before), &edited)),
        [("Warning", "QuotaExceeded")]
    );
}

#[test]
fn losing_and_regaining_capacity_and_readiness() {
    let placed = status_for(1, None, &placed_plan("a"));
    let ready = service_status(
        &service(1, Some(placed)),
        &placed_plan("a"),
        Some(Readiness { ready: 2, desired: 2 }),
        Measured::Unknown,
        &at(200),
    );
    let degraded = service_status(
        &service(1, Some(ready.clone())),
        &placed_plan("a"),
        Some(Readiness { ready: 1, desired: 2 }),
        Measured::Unknown,
        &at(300),
    );
    assert_eq!(
        reasons_of(&service_events(Some(&ready), &degraded)),
        [("Warning", "ReplicasUnavailable")]
    );
    let recovered = service_status(
        &service(1, Some(degraded.clone())),
        &placed_plan("a"),
        Some(Readiness { ready: 2, desired: 2 }),
        Measured::Unknown,
        &at(400),
    );
    assert_eq!(
        reasons_of(&service_events(Some(&degraded), &recovered)),
        [("Normal", "ReplicasReady")]
    );
}

fn offering_status_with(instances: &[(&str, Option<&str>)]) -> ServiceOfferingStatus {
    ServiceOfferingStatus {
        instance_details: instances
            .iter()
            .map(|(name, pool)| {
                let i = instance(name, 2, *pool, &["dept-a/db"]);
                SharedInstanceStatus {
                    name: i.name,
                    security_level: i.security_level,
                    pool: i.pool,
                    tenants: i.tenants,
                    pending_change: None,
                }
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn shared_instances_created_moved_and_retired() {
    let before = offering_status_with(&[("pg-l2-1", Some("a")), ("pg-l2-2", Some("a"))]);
    let after = offering_status_with(&[("pg-l2-1", Some("b")), ("pg-l2-3", None)]);
    let events = offering_events(Some(&before), &after);
    assert_eq!(
        reasons_of(&events),
        [
            ("Normal", "Moved"),
            ("Normal", "InstanceCreated"),
            ("Normal", "InstanceRetired")
        ]
    );
    assert!(events[1].note.contains("pg-l2-3") && events[1].note.contains("awaiting placement"));
    assert!(events[2].note.contains("pg-l2-2"));
    assert!(offering_events(Some(&after), &after).is_empty());
    let placed = offering_status_with(&[("pg-l2-1", Some("b")), ("pg-l2-3", Some("c"))]);
    assert_eq!(
        reasons_of(&offering_events(Some(&after), &placed)),
        [("Normal", "Placed")]
    );
}

#[test]
fn validity_warns_once_per_spec_and_tells_the_recovery() {
    use crate::status::{ConditionStatus, DesiredCondition, merge_conditions, types};
    let with = |status, reason, generation| ServiceOfferingStatus {
        conditions: merge_conditions(
            &[],
            vec![DesiredCondition::new(types::VALID, status, reason, "m")],
            Some(generation),
            &at(1),
        ),
        ..Default::default()
    };
    let bad = with(ConditionStatus::False, "InvalidSpec", 1);
    assert_eq!(
        reasons_of(&validity_events(None, &bad)),
        [("Warning", "InvalidSpec")]
    );
    assert!(validity_events(Some(&bad), &bad).is_empty());
    let still_bad = with(ConditionStatus::False, "InvalidSpec", 2);
    assert_eq!(
        reasons_of(&validity_events(Some(&bad), &still_bad)),
        [("Warning", "InvalidSpec")]
    );
    let good = with(ConditionStatus::True, "Valid", 3);
    assert_eq!(
        reasons_of(&validity_events(Some(&still_bad), &good)),
        [("Normal", "Valid")]
    );
    assert!(
        validity_events(None, &good).is_empty(),
        "a new valid object is no news"
    );
}

#[test]
fn every_emitted_reason_is_from_the_fixed_set() {
    let mut all = Vec::new();
    let placed = status_for(1, None, &placed_plan("a"));
    all.extend(service_events(None, &placed));
    for code in ReasonCode::ALL {
        let refused = status_for(1, Some(&placed), &refused_plan(vec![Reason::new(code, "m")]));
        let events = service_events(Some(&placed), &refused);
        assert!(!events.is_empty(), "{code} is told");
        assert!(
            events
                .iter()
                .any(|e| e.reason == code.as_str() && e.type_ == EventType::Warning),
            "{code}"
        );
        all.extend(events);
    }
    for e in &all {
        assert!(
            EVENT_REASONS.contains(&e.reason),
            "{} not in EVENT_REASONS",
            e.reason
        );
    }
}

#[test]
fn the_fixed_set_spells_every_refusal_code() {
    for code in ReasonCode::ALL {
        assert!(EVENT_REASONS.contains(&code.as_str()), "{code}");
    }
}
