use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use super::*;
use crate::api::Phase;
use crate::plan::{Reason, ReasonCode};
use crate::status::Measured;
use crate::status::{
    Readiness, needs_update, reasons, service_condition_of, service_events, service_status, types,
};

#[test]
fn unchanged_plan_gives_an_identical_status_and_no_events() {
    let plan = placed_plan("general-l2");
    let first = service_status(&service(3, None), &plan, None, Measured::Unknown, &at(1_000));
    let svc = service(3, Some(first.clone()));
    let again = service_status(&svc, &plan, None, Measured::Unknown, &at(9_000));
    let stored = svc.status.as_ref().expect("status");
    assert_eq!(json(&again), json(stored), "byte-equal after serde_json");
    assert!(!needs_update(Some(stored), &again));
    assert!(service_events(Some(stored), &again).is_empty());
    assert!(needs_update(None, &again));
}

#[test]
fn a_flip_moves_only_that_conditions_transition_time() {
    let plan = placed_plan("general-l2");
    let before = service_status(&service(3, None), &plan, None, Measured::Unknown, &at(1_000));
    let ready = Readiness { ready: 2, desired: 2 };
    let after = service_status(
        &service(3, Some(before.clone())),
        &plan,
        Some(ready),
        Measured::Unknown,
        &at(5_000),
    );
    for c in &after.conditions {
        let expected = if c.type_ == types::READY {
            at(5_000)
        } else {
            at(1_000)
        };
        assert_eq!(c.last_transition_time, expected, "{}", c.type_);
    }
    assert_eq!(after.phase, Some(Phase::Ready));
    assert_eq!(
        condition(&after.conditions, types::READY).reason,
        reasons::REPLICAS_READY
    );
}

#[test]
fn a_message_change_keeps_the_transition_time() {
    let before = service_status(
        &service(3, None),
        &placed_plan("a"),
        None,
        Measured::Unknown,
        &at(1_000),
    );
    let later = Readiness { ready: 1, desired: 2 };
    let one = service_status(
        &service(3, Some(before)),
        &placed_plan("a"),
        Some(later),
        Measured::Unknown,
        &at(2_000),
    );
    let fewer = Readiness { ready: 0, desired: 2 };
    let two = service_status(
        &service(3, Some(one.clone())),
        &placed_plan("a"),
        Some(fewer),
        Measured::Unknown,
        &at(3_000),
    );
    let (c1, c2) = (
        condition(&one.conditions, types::READY),
        condition(&two.conditions, types::READY),
    );
    assert_ne!(c1.message, c2.message);
    assert_eq!(c2.last_transition_time, at(2_000));
    assert_eq!(two.phase, Some(Phase::Degraded));
}

#[test]
fn observed_generation_is_carried_on_status_and_every_condition() {
    let plan = placed_plan("general-l2");
    let first = service_status(&service(3, None), &plan, None, Measured::Unknown, &at(1_000));
    let bumped = service_status(
        &service(4, Some(first)),
        &plan,
        None,
        Measured::Unknown,
        &at(2_000),
    );
    assert_eq!(bumped.observed_generation, Some(4));
    for c in &bumped.conditions {
        assert_eq!(c.observed_generation, Some(4), "{}", c.type_);
        assert_eq!(
            c.last_transition_time,
            at(1_000),
            "generation alone is no transition"
        );
    }
}

#[test]
fn now_is_stored_in_whole_seconds_like_the_api_server_returns_it() {
    let now = Time(Timestamp::from_second(1_000).expect("in range") + std::time::Duration::from_millis(700));
    let status = service_status(
        &service(1, None),
        &placed_plan("a"),
        None,
        Measured::Unknown,
        &now,
    );
    assert_eq!(round_trip(&status), status);
}

#[test]
fn every_reason_code_lands_on_its_documented_condition_with_the_plans_message() {
    let documented = |code| match code {
        ReasonCode::PolicyViolation => types::COMPLIANT,
        ReasonCode::InsufficientCapacity => types::PLACED,
        _ => types::ADMITTED,
    };
    for code in ReasonCode::ALL {
        assert_eq!(service_condition_of(code), documented(code), "{code}");
        let message = format!("spec.something: {code} because of a limit and a value");
        let plan = refused_plan(vec![Reason::new(code, &message)]);
        let status = service_status(&service(1, None), &plan, None, Measured::Unknown, &at(1_000));
        let c = condition(&status.conditions, documented(code));
        assert_eq!((c.status.as_str(), c.reason.as_str()), ("False", code.as_str()));
        assert_eq!(c.message, message);
        // No other condition repeats the refusal under the same code and message.
        for other in status.conditions.iter().filter(|o| o.type_ != c.type_) {
            assert!(other.message != message, "{code} leaked onto {}", other.type_);
        }
        let expected_phase = if code == ReasonCode::InsufficientCapacity {
            Phase::Pending
        } else {
            Phase::Rejected
        };
        assert_eq!(status.phase, Some(expected_phase), "{code}");
        assert_eq!(
            condition(&status.conditions, types::READY).reason,
            reasons::NOT_PLACED
        );
    }
}

#[test]
fn side_effects_of_refusals_on_the_other_conditions() {
    let get = |reasons: Vec<Reason>, type_| {
        let status = service_status(
            &service(1, None),
            &refused_plan(reasons),
            None,
            Measured::Unknown,
            &at(1),
        );
        let c: Condition = condition(&status.conditions, type_).clone();
        (c.status, c.reason)
    };
    let r = |code| vec![Reason::new(code, "m")];
    let pair = |s: &str, r: &str| (s.to_string(), r.to_string());
    assert_eq!(
        get(r(ReasonCode::InvalidSpec), types::COMPLIANT),
        pair("Unknown", "InvalidSpec")
    );
    assert_eq!(
        get(r(ReasonCode::DepartmentNotFound), types::COMPLIANT),
        pair("Unknown", "DepartmentNotFound")
    );
    assert_eq!(
        get(r(ReasonCode::PolicyViolation), types::ADMITTED),
        pair("False", reasons::NOT_COMPLIANT)
    );
    assert_eq!(
        get(r(ReasonCode::QuotaExceeded), types::PLACED),
        pair("False", reasons::NOT_ADMITTED)
    );
    assert_eq!(
        get(r(ReasonCode::QuotaExceeded), types::COMPLIANT),
        pair("True", reasons::COMPLIANT)
    );
    assert_eq!(
        get(r(ReasonCode::InsufficientCapacity), types::ADMITTED),
        pair("True", reasons::ADMITTED)
    );
    let both = vec![
        Reason::new(ReasonCode::InvalidSpec, "bad"),
        Reason::new(ReasonCode::PolicyViolation, "v"),
    ];
    assert_eq!(
        get(both.clone(), types::COMPLIANT),
        pair("False", "PolicyViolation")
    );
    assert_eq!(get(both, types::ADMITTED), pair("False", "InvalidSpec"));
}

#[test]
fn several_reasons_on_one_condition_join_in_plan_order_under_the_first_code() {
    let plan = refused_plan(vec![
        Reason::new(ReasonCode::LevelAboveOffering, "first"),
        Reason::new(ReasonCode::PoolNotAllowed, "second"),
        Reason::new(ReasonCode::QuotaExceeded, "third"),
    ]);
    let status = service_status(&service(1, None), &plan, None, Measured::Unknown, &at(1));
    let c = condition(&status.conditions, types::ADMITTED);
    assert_eq!(c.reason, "LevelAboveOffering");
    assert_eq!(c.message, "first; second; third");
    assert_eq!(status.allocated, None, "a refused request is charged nothing");
}

#[test]
fn placed_without_readiness_awaits_rollout() {
    let status = service_status(
        &service(1, None),
        &placed_plan("general-l2"),
        None,
        Measured::Unknown,
        &at(1),
    );
    let ready = condition(&status.conditions, types::READY);
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("Unknown", reasons::AWAITING_ROLLOUT)
    );
    assert_eq!(status.phase, Some(Phase::Placed));
    assert_eq!(status.pool.as_deref(), Some("general-l2"));
    let allocated = status.allocated.expect("charged");
    assert_eq!((allocated.cpu.as_str(), allocated.memory.as_str()), ("3", "4Gi"));
    let order: Vec<&str> = status.conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(
        order,
        ["Compliant", "Admitted", "Placed", "Ready", "MaintenancePending"]
    );
}

#[test]
fn conditions_of_other_writers_are_kept() {
    let mut current = service_status(
        &service(1, None),
        &placed_plan("a"),
        None,
        Measured::Unknown,
        &at(1),
    );
    let foreign = Condition {
        type_: "Deleting".into(),
        status: "True".into(),
        reason: "FinalizerHeld".into(),
        message: "waiting".into(),
        observed_generation: Some(1),
        last_transition_time: at(5),
    };
    current.conditions.push(foreign.clone());
    let next = service_status(
        &service(1, Some(current.clone())),
        &placed_plan("a"),
        None,
        Measured::Unknown,
        &at(9),
    );
    assert_eq!(next, current);
    assert_eq!(next.conditions.last(), Some(&foreign));
}
