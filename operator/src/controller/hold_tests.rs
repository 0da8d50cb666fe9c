//! Which new pod templates wait for maintenance, and which go out at once.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

use super::*;
use crate::api::*;
use crate::plan::{Assignments, plan};
use crate::render::render;
use crate::synthetic::{department, policy, pool, workload};

fn at(hms: &str) -> jiff::Timestamp {
    format!("2027-03-06T{hms}Z").parse().expect("RFC 3339")
}

/// Saturdays 02:00–06:00 UTC on the department; `ledger` (generation 3) on pool `p`.
fn estate(now: &str) -> Snapshot {
    let mut fin = department("fin", 2, "8", "32Gi", 10);
    fin.spec.maintenance_windows = vec![MaintenanceWindow {
        schedule: "0 2 * * 6".into(),
        duration: "4h".into(),
        time_zone: None,
    }];
    let mut ledger = workload("dept-fin", "ledger", 2, 1, "1", "1Gi");
    ledger.metadata.generation = Some(3);
    ledger.status = Some(DepartmentServiceStatus {
        pool: Some("p".into()),
        ..Default::default()
    });
    Snapshot {
        pools: vec![pool("p", 2, "10", "40Gi")],
        departments: vec![fin],
        services: vec![ledger],
        now: at(now),
        ..Snapshot::default()
    }
}

/// The Deployment as it runs: rendered from generation `generation` with an older image,
/// plus what the API server adds.
fn live_of(s: &Snapshot, generation: &str) -> BTreeMap<(String, String), LiveTemplate> {
    let p = plan(s, &Assignments::from_status(s));
    let manifests = render(s, &p).expect("renders");
    let d = deployment(&manifests);
    let mut template = serde_json::to_value(&d.spec.as_ref().unwrap().template).unwrap();
    template["spec"]["containers"][0]["image"] = json!("registry.gov.example/fin/ledger:0.9");
    template["spec"]["dnsPolicy"] = json!("ClusterFirst");
    BTreeMap::from([(
        ("dept-fin".to_string(), "ledger".to_string()),
        LiveTemplate {
            template,
            service_generation: Some(generation.into()),
        },
    )])
}

fn deployment(manifests: &[Manifest]) -> &k8s_openapi::api::apps::v1::Deployment {
    manifests
        .iter()
        .find_map(|m| match m {
            Manifest::Deployment(d) => Some(d),
            _ => None,
        })
        .expect("a Deployment")
}

fn pod(manifests: &[Manifest]) -> &k8s_openapi::api::core::v1::PodSpec {
    let d = deployment(manifests);
    d.spec.as_ref().unwrap().template.spec.as_ref().unwrap()
}

fn image(manifests: &[Manifest]) -> String {
    pod(manifests).containers[0].image.clone().unwrap()
}

/// Plans, renders and holds `s` against `live`: the manifests and what was held.
fn pass(s: &Snapshot, live: &BTreeMap<(String, String), LiveTemplate>) -> (Vec<Manifest>, Vec<Held>, Plan) {
    let mut p = plan(s, &Assignments::from_status(s));
    let mut manifests = render(s, &p).expect("renders");
    let held = hold_templates(&mut manifests, &p, s, live);
    merge_into(&mut p, held.clone(), &s.settings.shared_namespace);
    (manifests, held, p)
}

#[test]
fn a_template_the_department_did_not_ask_for_waits_for_the_window() {
    let s = estate("01:00:00");
    let live = live_of(&s, "3");
    let (manifests, held, p) = pass(&s, &live);
    assert_eq!(
        image(&manifests),
        "registry.gov.example/fin/ledger:0.9",
        "the live template stays"
    );
    let d = deployment(&manifests);
    assert_eq!(
        d.metadata.annotations.as_ref().unwrap()[SERVICE_GENERATION],
        "3",
        "the rest of the Deployment is applied as rendered"
    );
    assert_eq!(held.len(), 1);
    let pending = &held[0].pending;
    assert_eq!(pending.reason, PendingReason::AwaitingWindow);
    assert_eq!(pending.change.kind, ChangeKind::Template);
    assert_ne!(pending.change.from, pending.change.to);
    assert_eq!(pending.change.next_window, Some(Time(at("02:00:00"))));
    assert_eq!(pending.change.since, Time(at("01:00:00")));
    assert!(
        pending.message.contains("Department \"fin\"") && pending.message.contains("ResourcePool \"p\""),
        "{}",
        pending.message
    );
    let ledger = &p.services[0];
    assert_eq!(
        ledger.pending_change.as_ref(),
        Some(pending),
        "shown on the service"
    );
    assert_eq!(
        p.wake_at,
        Some(at("02:00:00")),
        "the operator wakes when the window opens"
    );

    // Still waiting on the next pass: the fingerprints and the start are the same, so
    // the status is not rewritten.
    let mut again = s.clone();
    again.services[0].status.as_mut().unwrap().pending_change = Some(pending.change.clone());
    again.now = at("01:30:00");
    let (_, held_again, _) = pass(&again, &live);
    assert_eq!(held_again[0].pending.change, pending.change);
}

#[test]
fn in_the_window_the_new_template_goes_out() {
    let s = estate("02:30:00");
    let (manifests, held, _) = pass(&s, &live_of(&s, "3"));
    assert!(held.is_empty());
    assert_ne!(image(&manifests), "registry.gov.example/fin/ledger:0.9");
}

#[test]
fn the_departments_own_edit_goes_out_at_once() {
    let s = estate("01:00:00");
    // Rendered from generation 2; the service is at 3: the department changed it.
    let (manifests, held, _) = pass(&s, &live_of(&s, "2"));
    assert!(held.is_empty(), "{held:?}");
    assert_ne!(image(&manifests), "registry.gov.example/fin/ledger:0.9");
}

#[test]
fn break_glass_on_the_service_or_its_pool_lets_it_go() {
    for on_pool in [false, true] {
        let mut s = estate("01:00:00");
        let meta = if on_pool {
            &mut s.pools[0].metadata
        } else {
            &mut s.services[0].metadata
        };
        meta.annotations
            .get_or_insert_default()
            .insert(APPLY_NOW.into(), "CVE-2027-0001".into());
        let (_, held, _) = pass(&s, &live_of(&s, "3"));
        assert!(held.is_empty(), "apply-now on the pool: {on_pool}");
    }
}

#[test]
fn an_unchanged_template_or_a_new_deployment_holds_nothing() {
    let s = estate("01:00:00");
    let mut live = live_of(&s, "3");
    let (manifests, _, _) = pass(&s, &BTreeMap::new());
    let mut same = serde_json::to_value(&deployment(&manifests).spec.as_ref().unwrap().template).unwrap();
    same["spec"]["dnsPolicy"] = json!("ClusterFirst"); // the server's own additions
    live.get_mut(&("dept-fin".into(), "ledger".into()))
        .unwrap()
        .template = same;
    let (_, held, _) = pass(&s, &live);
    assert!(held.is_empty());
    let (_, held, _) = pass(&s, &BTreeMap::new());
    assert!(
        held.is_empty(),
        "a Deployment that does not exist yet restarts nothing"
    );
}

#[test]
fn an_estate_freeze_says_so() {
    let mut s = estate("02:30:00");
    s.policies.push(policy(
        "tax-deadline",
        PlatformPolicySpec {
            maintenance_exclusions: vec![MaintenanceExclusion {
                start: "2027-03-01T00:00:00Z".into(),
                end: "2027-04-01T00:00:00Z".into(),
                reason: "tax deadline".into(),
            }],
            ..Default::default()
        },
    ));
    let (_, held, _) = pass(&s, &live_of(&s, "3"));
    assert_eq!(held[0].pending.reason, PendingReason::Frozen);
    assert!(
        held[0].pending.message.contains("tax deadline"),
        "{}",
        held[0].pending.message
    );
}

#[test]
fn a_waiting_move_is_what_the_service_shows() {
    let mut s = estate("01:00:00");
    s.pools[0].spec.cordoned = true;
    s.pools.push(pool("q", 2, "10", "40Gi"));
    let (manifests, held, p) = pass(&s, &live_of(&s, "3"));
    assert_eq!(held.len(), 1, "the template waits with the move");
    assert_eq!(image(&manifests), "registry.gov.example/fin/ledger:0.9");
    let shown = p.services[0].pending_change.as_ref().expect("pending");
    assert_eq!(shown.change.kind, ChangeKind::Move);
    let _: Value = serde_json::to_value(shown).unwrap();
}

#[test]
fn a_move_the_plan_lets_go_is_not_held_back_by_its_template() {
    let mut s = estate("01:00:00");
    s.pools[0].spec.cordoned = true;
    s.pools.push(pool("q", 2, "10", "40Gi"));
    s.pools[0]
        .metadata
        .annotations
        .get_or_insert_default()
        .insert(APPLY_NOW.into(), "decommissioning".into());
    let (manifests, held, p) = pass(&s, &live_of(&s, "3"));
    assert_eq!(p.services[0].moved_from.as_deref(), Some("p"));
    assert!(held.is_empty(), "{held:?}");
    let selector = pod(&manifests).node_selector.clone();
    assert_eq!(
        selector.unwrap()["govcloud.io/pool"],
        "q",
        "the Deployment goes to its new pool"
    );
}
