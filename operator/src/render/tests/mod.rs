//! What a platform team or a department notices in the rendered objects.

mod department;
mod owners;
mod scope;
mod shared;
mod workload;

use serde_json::Value;

use super::fixture::{plan, snapshot};
use super::{Manifest, RenderError, render, to_yaml};

fn rendered() -> Vec<Manifest> {
    render(&snapshot(), &plan()).expect("the fixture plan belongs to the fixture snapshot")
}

fn find(ms: &[Manifest], kind: &str, ns: Option<&str>, name: &str) -> Option<Value> {
    ms.iter()
        .find(|m| m.kind() == kind && m.namespace() == ns && m.name() == name)
        .map(Manifest::to_json)
}

fn get(ms: &[Manifest], kind: &str, ns: &str, name: &str) -> Value {
    find(ms, kind, Some(ns), name).unwrap_or_else(|| panic!("{kind} {ns}/{name} not rendered"))
}

fn pod_spec(ms: &[Manifest], ns: &str, name: &str) -> Value {
    get(ms, "Deployment", ns, name)["spec"]["template"]["spec"].clone()
}

#[test]
fn order_is_namespaces_first_then_apply_order_and_deterministic() {
    let ms = rendered();
    let cluster_scoped = ms.iter().take_while(|m| m.namespace().is_none()).count();
    assert!(ms[..cluster_scoped].iter().all(|m| m.kind() == "Namespace"));
    assert!(ms[cluster_scoped..].iter().all(|m| m.namespace().is_some()));
    let finance: Vec<&str> = ms
        .iter()
        .filter(|m| m.namespace() == Some("dept-finance"))
        .map(|m| m.kind().as_str())
        .collect();
    let quota = finance.iter().position(|k| *k == "ResourceQuota").unwrap();
    let deployment = finance.iter().position(|k| *k == "Deployment").unwrap();
    assert!(quota < deployment, "guard rails before workloads: {finance:?}");
    assert_eq!(to_yaml(&ms), to_yaml(&rendered()), "same input, same bytes");
}

#[test]
fn yaml_round_trips_with_strings_kept_strings() {
    let ms = rendered();
    let yaml = to_yaml(&ms);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    assert_eq!(docs.len(), ms.len());
    assert_eq!(docs, ms.iter().map(Manifest::to_json).collect::<Vec<_>>());
    assert!(yaml.contains("\n---\n"));
}

#[test]
fn a_plan_for_another_snapshot_is_refused_with_the_object_named() {
    let mut s = snapshot();
    s.services
        .retain(|svc| svc.metadata.name.as_deref() != Some("ledger"));
    let err = render(&s, &plan()).unwrap_err();
    assert_eq!(
        err,
        RenderError::Missing {
            object: "DepartmentService dept-finance/ledger".into(),
            field: "plan.services[dept-finance/ledger].name".into(),
        }
    );
    let mut s = snapshot();
    s.pools.clear();
    assert!(
        matches!(render(&s, &plan()), Err(RenderError::Missing { object, .. }) if object.starts_with("ResourcePool "))
    );
}
