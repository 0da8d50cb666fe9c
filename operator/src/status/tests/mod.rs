//! Fixtures shared by the status tests: a service, hand-built plans and fixed clocks.

mod events;
mod kinds;
mod maintenance;
mod samples;
mod service;
mod used;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::{DepartmentService, DepartmentServiceSpec, DepartmentServiceStatus, Phase, Workload};
use crate::plan::{Reason, ReasonCode, ServicePlan};
use crate::quantity::Res;

pub(super) const GI: i64 = 1 << 30;

/// A clock reading `secs` after the epoch.
pub(super) fn at(secs: i64) -> Time {
    Time(Timestamp::from_second(secs).expect("in range"))
}

/// What the API server hands back after a write: the value through JSON.
pub(super) fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    serde_json::from_value(serde_json::to_value(value).expect("serialises")).expect("deserialises")
}

pub(super) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serialises")
}

pub(super) fn service(generation: i64, status: Option<DepartmentServiceStatus>) -> DepartmentService {
    let mut svc = DepartmentService::new(
        "ledger",
        DepartmentServiceSpec {
            security_level: 2,
            workload: Some(Workload {
                image: "registry.gov.example/finance/ledger:1.4.2".into(),
                replicas: Some(2),
                resources: None,
                ports: Vec::new(),
                env: Vec::new(),
                command: Vec::new(),
                args: Vec::new(),
            }),
            offering: None,
            availability: Default::default(),
            exposure: Default::default(),
        },
    );
    svc.metadata.namespace = Some("dept-finance".into());
    svc.metadata.generation = Some(generation);
    svc.status = status.map(|s| round_trip(&s));
    svc
}

pub(super) fn placed_plan(pool: &str) -> ServicePlan {
    ServicePlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        applied_now: None,
        pending_change: None,
        namespace: "dept-finance".into(),
        name: "ledger".into(),
        department: Some("finance".into()),
        security_level: 2,
        admitted: true,
        compliant: true,
        phase: Phase::Placed,
        pool: Some(pool.into()),
        shared_instance: None,
        allocated: Res::new(3000, 4 * GI),
        reasons: Vec::new(),
        offering: None,
        workload: None,
        moved_from: None,
    }
}

/// The plan the planner makes for a service refused with `reasons`: not compliant when a
/// policy is violated or the request could not be checked, pending when only capacity lacks.
pub(super) fn refused_plan(reasons: Vec<Reason>) -> ServicePlan {
    use ReasonCode::*;
    let compliant = !reasons
        .iter()
        .any(|r| matches!(r.code, PolicyViolation | InvalidSpec | DepartmentNotFound));
    let admitted = reasons.iter().all(|r| r.code == InsufficientCapacity);
    ServicePlan {
        admitted,
        compliant,
        phase: if admitted { Phase::Pending } else { Phase::Rejected },
        pool: None,
        allocated: if admitted {
            Res::new(3000, 4 * GI)
        } else {
            Res::ZERO
        },
        reasons,
        ..placed_plan("unused")
    }
}

pub(super) fn condition<'a>(conditions: &'a [Condition], type_: &str) -> &'a Condition {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .unwrap_or_else(|| panic!("no {type_} condition in {conditions:?}"))
}
