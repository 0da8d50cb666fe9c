//! The sample estate through the real planner: statuses written back and re-planned are
//! unchanged, and every refusal the planner makes is on its documented condition.

use crate::status::Measured;
use std::path::PathBuf;

use super::*;
use crate::load::load_paths;
use crate::plan::{Assignments, Plan, ServiceKey, Snapshot, plan};
use crate::status::{
    department_status, needs_update, offering_events, offering_status, policy_status, pool_status,
    service_condition_of, service_events, service_status, validity_events,
};

fn samples() -> Snapshot {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/samples");
    let mut snapshot = load_paths(&[dir]).expect("samples load").snapshot;
    for svc in &mut snapshot.services {
        svc.metadata.generation = Some(1);
    }
    snapshot
}

fn service_plan<'a>(plan: &'a Plan, svc: &DepartmentService) -> &'a ServicePlan {
    let key = ServiceKey::of(svc);
    plan.services
        .iter()
        .find(|p| p.namespace == key.namespace && p.name == key.name)
        .expect("every service is planned")
}

/// Writes every desired status into the snapshot as the API server would store it, and
/// returns how many objects needed a write.
fn write_back(snapshot: &mut Snapshot, plan: &Plan, now: &Time) -> usize {
    let mut writes = 0;
    for svc in &mut snapshot.services {
        let desired = service_status(svc, service_plan(plan, svc), None, Measured::Unknown, now);
        if needs_update(svc.status.as_ref(), &desired) {
            assert!(
                svc.status.is_none(),
                "only the first write changes anything: {}",
                json(&desired)
            );
            writes += 1;
        } else {
            assert!(service_events(svc.status.as_ref(), &desired).is_empty());
        }
        svc.status = Some(round_trip(&desired));
    }
    for pool in &mut snapshot.pools {
        let p = plan
            .pools
            .iter()
            .find(|p| Some(&p.name) == pool.metadata.name.as_ref())
            .expect("pool");
        let desired = pool_status(pool, p, Measured::Unknown, now);
        writes += usize::from(needs_update(pool.status.as_ref(), &desired));
        assert!(pool.status.is_none() || validity_events(pool.status.as_ref(), &desired).is_empty());
        pool.status = Some(round_trip(&desired));
    }
    for dept in &mut snapshot.departments {
        let d = plan
            .departments
            .iter()
            .find(|d| Some(&d.name) == dept.metadata.name.as_ref())
            .expect("dept");
        let desired = department_status(dept, d, Measured::Unknown, now);
        writes += usize::from(needs_update(dept.status.as_ref(), &desired));
        dept.status = Some(round_trip(&desired));
    }
    for offering in &mut snapshot.offerings {
        let o = plan
            .offerings
            .iter()
            .find(|o| Some(&o.name) == offering.metadata.name.as_ref())
            .expect("offering");
        let desired = offering_status(offering, o, now);
        writes += usize::from(needs_update(offering.status.as_ref(), &desired));
        if offering.status.is_some() {
            assert!(offering_events(offering.status.as_ref(), &desired).is_empty());
        }
        offering.status = Some(round_trip(&desired));
    }
    for policy in &mut snapshot.policies {
        let p = plan
            .policies
            .iter()
            .find(|p| Some(&p.name) == policy.metadata.name.as_ref())
            .expect("policy");
        let desired = policy_status(policy, p, now);
        writes += usize::from(needs_update(policy.status.as_ref(), &desired));
        policy.status = Some(round_trip(&desired));
    }
    writes
}

#[test]
fn the_sample_estate_written_back_and_replanned_needs_no_write() {
    let mut snapshot = samples();
    let first = plan(&snapshot, &Assignments::default());
    let objects = snapshot.services.len()
        + snapshot.pools.len()
        + snapshot.departments.len()
        + snapshot.offerings.len()
        + snapshot.policies.len();
    assert_eq!(write_back(&mut snapshot, &first, &at(1_000)), objects);
    let statuses = |s: &Snapshot| s.services.iter().map(|s| json(&s.status)).collect::<Vec<_>>();
    let before = statuses(&snapshot);

    let second = plan(&snapshot, &Assignments::from_status(&snapshot));
    assert_eq!(
        write_back(&mut snapshot, &second, &at(2_000)),
        0,
        "a resync writes nothing"
    );
    assert_eq!(statuses(&snapshot), before, "byte-equal after serde_json");
}

#[test]
fn every_refusal_in_the_samples_is_on_its_condition() {
    let snapshot = samples();
    let plan = plan(&snapshot, &Assignments::default());
    let mut refusals = 0;
    for svc in &snapshot.services {
        let p = service_plan(&plan, svc);
        let status = service_status(svc, p, None, Measured::Unknown, &at(1));
        for r in &p.reasons {
            let c = condition(&status.conditions, service_condition_of(r.code));
            assert_eq!(c.status, "False", "{}/{}", p.namespace, p.name);
            assert!(
                c.message.contains(&r.message),
                "{:?} not in {:?}",
                r.message,
                c.message
            );
            refusals += 1;
        }
    }
    assert!(refusals > 0, "the samples refuse something");
}
