//! The applying layer against an in-process API server double (kube-fake-client):
//! the sample estate converges, a resync with nothing changed writes nothing, manual
//! drift is reverted, and what is no longer rendered is swept.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use govcloud::controller::{Applier, Summary};
use govcloud::load::load_paths;
use govcloud::plan::{Assignments, Snapshot, plan};
use govcloud::render::{Manifest, render};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube_fake_client::{ClientBuilder, interceptor};

fn samples() -> Snapshot {
    load_paths(&[support::repo_root().join("config/samples")])
        .expect("samples load")
        .snapshot
}

/// The rendered objects, less Namespaces: kube-fake-client 0.3 parses
/// `/api/v1/namespaces/{name}` as the start of a namespaced path and answers
/// "Invalid path", so a Namespace cannot be read back by name there. Namespaces take
/// the same generic code path as every other kind; the end-to-end suite covers them.
fn manifests(snapshot: &Snapshot) -> Vec<Manifest> {
    let mut all =
        render(snapshot, &plan(snapshot, &Assignments::from_status(snapshot))).expect("samples render");
    all.retain(|m| m.kind() != "Namespace");
    all
}

/// A fake API server that counts every write (create, patch, delete).
async fn counting_client() -> (kube::Client, Arc<AtomicUsize>) {
    let writes = Arc::new(AtomicUsize::new(0));
    let (p, c, d) = (writes.clone(), writes.clone(), writes.clone());
    let funcs = interceptor::Funcs::new()
        .patch(move |_| {
            p.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        })
        .create(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        })
        .delete(move |_| {
            d.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        });
    let client = ClientBuilder::new()
        .with_interceptor_funcs(funcs)
        .build()
        .await
        .expect("fake client");
    (client, writes)
}

async fn converge(applier: &Applier, manifests: &[Manifest]) -> Summary {
    let (summary, errors) = applier.converge(manifests).await;
    assert!(errors.is_empty(), "errors: {errors:#?}");
    summary
}

#[tokio::test]
async fn the_sample_estate_converges_and_a_resync_writes_nothing() {
    let desired = manifests(&samples());
    let (client, writes) = counting_client().await;
    let applier = Applier::new(client.clone());

    let first = converge(&applier, &desired).await;
    assert_eq!(
        first,
        Summary {
            applied: desired.len(),
            unchanged: 0,
            deleted: 0,
            deferred: 0,
        }
    );

    let deployments: Api<Deployment> = Api::all(client.clone());
    let names: Vec<String> = deployments
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|d| d.metadata.name.clone().unwrap())
        .collect();
    let expected = desired.iter().filter(|m| m.kind() == "Deployment").count();
    assert_eq!(
        names.len(),
        expected,
        "one Deployment per placed workload and shared instance"
    );

    let before = writes.load(Ordering::SeqCst);
    let second = converge(&applier, &desired).await;
    assert_eq!(
        second,
        Summary {
            applied: 0,
            unchanged: desired.len(),
            deleted: 0,
            deferred: 0,
        }
    );
    assert_eq!(
        writes.load(Ordering::SeqCst),
        before,
        "a resync with nothing changed makes no write"
    );
}

#[tokio::test]
async fn manual_drift_on_a_managed_field_is_reverted() {
    let desired = manifests(&samples());
    let (client, _) = counting_client().await;
    let applier = Applier::new(client.clone());
    converge(&applier, &desired).await;

    let api: Api<Deployment> = Api::namespaced(client.clone(), "dept-finance");
    let before = api.get("budget-planning").await.unwrap();
    let replicas = before.spec.as_ref().unwrap().replicas;
    let edit = serde_json::json!({"spec": {"replicas": 9}});
    api.patch("budget-planning", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();

    let summary = converge(&applier, &desired).await;
    assert_eq!(summary.applied, 1, "only the edited object is written");
    let after = api.get("budget-planning").await.unwrap();
    assert_eq!(
        after.spec.unwrap().replicas,
        replicas,
        "replicas restored to the rendered value"
    );
}

#[tokio::test]
async fn a_deleted_service_loses_its_objects_and_its_tenancy_binding() {
    let mut snapshot = samples();
    let (client, _) = counting_client().await;
    let applier = Applier::new(client.clone());
    converge(&applier, &manifests(&snapshot)).await;

    snapshot.services.retain(|s| {
        s.metadata.namespace.as_deref() != Some("dept-finance")
            || !matches!(s.metadata.name.as_deref(), Some("budget-planning" | "finance-hr"))
    });
    let summary = converge(&applier, &manifests(&snapshot)).await;
    assert!(
        summary.deleted >= 3,
        "Deployment, Service, PDB, NetworkPolicy and binding go: {summary:?}"
    );

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "dept-finance");
    assert!(deployments.get_opt("budget-planning").await.unwrap().is_none());
    let services: Api<Service> = Api::namespaced(client.clone(), "dept-finance");
    assert!(services.get_opt("budget-planning").await.unwrap().is_none());
    let bindings: Api<ConfigMap> = Api::namespaced(client.clone(), "dept-finance");
    assert!(
        bindings.get_opt("finance-hr-binding").await.unwrap().is_none(),
        "the tenancy binding is swept"
    );
    assert!(
        deployments.get_opt("treasury-payments").await.unwrap().is_some(),
        "other services stay"
    );
}
