//! The sample estate in `config/samples/`: every document is valid against its CRD
//! (checked by the real `check-jsonschema`), the estate has the shape the samples
//! promise, and the planner treats it as the samples intend — everything placed within
//! target utilisation, offerings shared at two levels, and exactly three deliberate
//! refusals.

use crate::support;

#[path = "samples/documents.rs"]
pub mod documents;
#[path = "samples/schema.rs"]
pub mod schema;

use std::collections::{BTreeMap, BTreeSet};

use govcloud::api::{Availability, Phase};
use govcloud::crds;
use govcloud::plan::{Assignments, Plan, plan};
use kube::ResourceExt;
use serde_json::Value;

use documents::{Doc, load_samples, snapshot};
use schema::check_against_schemas;

#[test]
fn every_sample_validates_against_its_crd_schema() {
    let docs = load_samples();
    let kinds: BTreeSet<String> = crds::all()
        .into_iter()
        .map(|(_, crd)| crd.spec.names.kind)
        .collect();
    for doc in &docs {
        let kind = doc.kind();
        assert!(
            kinds.contains(kind),
            "{}: {kind:?} is not a govcloud kind",
            doc.origin
        );
    }
    let outputs = check_against_schemas(&docs.iter().collect::<Vec<_>>());
    assert_eq!(outputs.len(), kinds.len(), "samples of every kind");
    for output in outputs {
        let printed = support::printed(&output);
        assert!(
            output.status.success(),
            "a sample violates its CRD schema:\n{printed}"
        );
        assert!(printed.contains("ok -- validation done"), "{printed}");
    }
}

#[test]
fn schema_check_rejects_broken_samples() {
    // Proves the check above can fail: an out-of-range level, and a misspelled field
    // that only the strict schema catches.
    let broken = [
        (
            "level-5",
            "securityLevel: 5\n  offering:\n    name: shared-postgresql\n",
        ),
        (
            "typo",
            "securityLevel: 2\n  availabilty: High\n  offering:\n    name: pg\n",
        ),
    ];
    for (name, spec) in broken {
        let text = format!(
            "apiVersion: govcloud.io/v1alpha1\nkind: DepartmentService\n\
             metadata:\n  name: {name}\n  namespace: dept-x\nspec:\n  {spec}"
        );
        let value: Value = serde_saphyr::from_str(&text).unwrap();
        let doc = Doc {
            origin: name.into(),
            text,
            value,
        };
        let output = check_against_schemas(&[&doc]).remove(0);
        let printed = support::printed(&output);
        // A refusal of the document, not of the schema file (which also exits non-zero).
        let refused = printed.contains("Schema validation errors were encountered");
        assert!(
            !output.status.success() && refused,
            "{name} was not refused:\n{printed}"
        );
    }
}

#[test]
fn sample_estate_has_the_promised_shape() {
    let e = snapshot();

    assert!(e.pools.len() >= 4, "at least 4 pools, got {}", e.pools.len());
    let levels: BTreeSet<u8> = e.pools.iter().map(|p| p.spec.security_level).collect();
    assert!(
        levels.is_superset(&BTreeSet::from([2, 3])),
        "pools at levels 2 and 3: {levels:?}"
    );
    assert_eq!(
        e.pools.iter().filter(|p| p.spec.cordoned).count(),
        1,
        "one cordoned pool"
    );
    for p in &e.pools {
        let s = &p.spec;
        let complete = s.capacity.is_some()
            && s.overcommit.is_some()
            && s.target_utilisation.is_some()
            && s.node_shape.is_some()
            && s.cost.is_some()
            && !s.node_selector.is_empty()
            && !s.maintenance_windows.is_empty();
        assert!(
            complete,
            "pool {} leaves out a field the samples show",
            p.name_any()
        );
    }

    assert_eq!(e.departments.len(), 6, "six departments");
    for d in &e.departments {
        let s = &d.spec;
        let complete = s.code.is_some() && s.cost_centre.is_some() && !s.owners.is_empty();
        assert!(
            complete,
            "department {} needs code, costCentre and owners",
            d.name_any()
        );
    }
    assert!(
        e.departments.iter().any(|d| !d.spec.pools.is_empty()),
        "a pool allow-list"
    );
    let windows = e
        .departments
        .iter()
        .any(|d| !d.spec.maintenance_windows.is_empty());
    assert!(windows, "department maintenance windows");

    assert!(
        e.services.len() >= 30,
        "at least 30 services, got {}",
        e.services.len()
    );
    let namespaces: BTreeSet<String> = e
        .departments
        .iter()
        .map(|d| format!("dept-{}", d.name_any()))
        .collect();
    for s in &e.services {
        let ns = s.namespace().unwrap_or_default();
        assert!(
            namespaces.contains(&ns),
            "{} is in {ns:?}, no department's",
            s.name_any()
        );
    }
    for availability in [Availability::Basic, Availability::Standard, Availability::High] {
        let shown = e
            .services
            .iter()
            .any(|s| s.spec.workload.is_some() && s.spec.availability == availability);
        assert!(shown, "a workload with availability {availability:?}");
    }

    assert_eq!(e.offerings.len(), 2, "two offerings");
    assert_eq!(e.policies.len(), 1, "one platform policy");
    let p = &e.policies[0].spec;
    let complete = !p.allowed_registries.is_empty()
        && p.forbid_latest_tag
        && p.max_replicas.is_some()
        && p.max_replica_resources.is_some()
        && p.default_resources.is_some()
        && p.limit_ratio.is_some();
    assert!(complete, "the policy shows every standard");
}

fn sample_plan() -> Plan {
    plan(&snapshot(), &Assignments::default())
}

#[test]
fn sample_plan_refuses_exactly_the_deliberate_requests() {
    let plan = sample_plan();
    let refused: BTreeMap<String, BTreeSet<&str>> = plan
        .services
        .iter()
        .filter(|s| !s.reasons.is_empty())
        .map(|s| {
            let codes = s.reasons.iter().map(|r| r.code.as_str()).collect();
            (format!("{}/{}", s.namespace, s.name), codes)
        })
        .collect();
    let deliberate = BTreeMap::from([
        // `wordpress:latest` from Docker Hub: unapproved registry and `:latest` tag.
        (
            "dept-civil-affairs/community-news".to_string(),
            BTreeSet::from(["PolicyViolation"]),
        ),
        // Level 3 exam papers in a department cleared for level 2.
        (
            "dept-education/exam-question-bank".to_string(),
            BTreeSet::from(["ClearanceInsufficient"]),
        ),
        // 12 CPU of video analytics on top of 6.5 CPU already admitted, against a 12 CPU quota.
        (
            "dept-transport/video-analytics".to_string(),
            BTreeSet::from(["QuotaExceeded"]),
        ),
    ]);
    assert_eq!(
        refused, deliberate,
        "the samples refuse exactly the deliberate requests"
    );
    for s in plan.services.iter().filter(|s| s.reasons.is_empty()) {
        let placed = s.phase == Phase::Placed && s.pool.is_some();
        assert!(
            placed,
            "{}/{} is {:?} on {:?}",
            s.namespace, s.name, s.phase, s.pool
        );
    }
}

#[test]
fn sample_plan_stays_under_target_utilisation() {
    let plan = sample_plan();
    for p in &plan.pools {
        if p.cordoned {
            assert_eq!(
                p.services + p.shared_instances,
                0,
                "{} is cordoned yet used",
                p.name
            );
            continue;
        }
        let target = p
            .effective_capacity
            .checked_scale_down(p.target_utilisation, p.target_utilisation)
            .expect("a target of at most 1 keeps the capacity representable");
        let within = p.allocated.fits_within(target);
        assert!(
            within,
            "{}: allocated {} above target {}",
            p.name, p.allocated, target
        );
    }
}

#[test]
fn sample_offerings_are_shared_by_many_departments_at_two_levels() {
    let plan = sample_plan();
    assert_eq!(plan.offerings.len(), 2);
    for o in &plan.offerings {
        let levels: BTreeSet<u8> = o.instances.iter().map(|i| i.security_level).collect();
        assert_eq!(
            levels,
            BTreeSet::from([2, 3]),
            "{}: instances at levels 2 and 3",
            o.name
        );
        let departments: BTreeSet<&str> = o
            .instances
            .iter()
            .flat_map(|i| &i.tenants)
            .map(|t| t.split('/').next().unwrap())
            .collect();
        assert!(departments.len() >= 5, "{}: tenants from {departments:?}", o.name);
        assert!(o.instances_saved > 0, "{}: saves instances", o.name);
    }
    let savings = &plan.savings;
    assert!(
        savings.nodes_saved > 0 && savings.monthly_cost_saved > 0.0,
        "{savings:?}"
    );
}
