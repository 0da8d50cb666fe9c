//! govcloud on a real control plane (kube-apiserver, etcd, controller-manager, scheduler,
//! kwok nodes; `tests/control-plane/up`), with the operator running as the Helm chart's
//! ServiceAccount: only the chart's RBAC, as in a cluster.
//!
//! - the CRDs are served, and the API server enforces their schemas and CEL rules;
//! - the sample estate converges: every DepartmentService status is `govcloud plan` of
//!   the same objects, and the cluster holds exactly `plan --emit-manifests`;
//! - the real scheduler puts every pod on a node of its service's pool, never below its
//!   security level, and readiness flows back into the services' status;
//! - once converged, the operator writes nothing (audit log), restarted or not.
//!
//! The control plane is built from Go modules on first use (minutes, once; see
//! docs/control-plane.md), so these tests are slow but never skipped.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use govcloud::api::ResourcePool;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject, GroupVersionKind, ListParams, PostParams};
use kube::discovery::{Scope, pinned_kind};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use support::control_plane::{self as cp, ControlPlane, describe, operator_config, operator_user, writes_by};
use support::estate::{
    RESYNC, assert_matches_offline_plan, assert_quiet, converge_samples, export_estate, govcloud,
    wait_for_passes,
};

#[tokio::test(flavor = "multi_thread")]
async fn the_api_server_serves_the_crds_and_enforces_their_rules() {
    let _turn = cp::turn().await;
    let plane = ControlPlane::start(&[]);
    let client = plane.admin().await;
    // Structural schemas and CEL rules within the cost limits, or the server refuses them.
    cp::install_crds(&client).await;

    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "dept-checks"}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let services: Api<DynamicObject> = dynamic(&client, "DepartmentService", Some("dept-checks")).await;
    let departments: Api<DynamicObject> = dynamic(&client, "Department", None).await;
    let offerings: Api<DynamicObject> = dynamic(&client, "ServiceOffering", None).await;
    let pools: Api<DynamicObject> = dynamic(&client, "ResourcePool", None).await;
    let workload =
        json!({"image": "registry.gov.example/app:1.0", "resources": {"cpu": "100m", "memory": "128Mi"}});
    let port_80 = json!({"image": "registry.gov.example/app:1.0", "resources": {"cpu": "100m", "memory": "128Mi"},
                         "ports": [{"name": "80", "port": 80}]});
    let long_offering = "o".repeat(50);
    let cases: Vec<(&Api<DynamicObject>, Value, &str)> = vec![
        (
            &services,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "DepartmentService", "metadata": {"name": "both"},
                   "spec": {"securityLevel": 2, "workload": workload, "offering": {"name": "shared-postgresql"}}}),
            "exactly one of spec.workload or spec.offering must be set",
        ),
        (
            &services,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "DepartmentService", "metadata": {"name": "neither"},
                   "spec": {"securityLevel": 2}}),
            "exactly one of spec.workload or spec.offering must be set",
        ),
        (
            &services,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "DepartmentService", "metadata": {"name": "unclassified"},
                   "spec": {"workload": workload}}),
            "spec.securityLevel: Required value",
        ),
        (
            &services,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "DepartmentService", "metadata": {"name": "top-secret"},
                   "spec": {"securityLevel": 5, "workload": workload}}),
            "spec.securityLevel",
        ),
        (
            &departments,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "Department", "metadata": {"name": "nameless-owner"},
                   "spec": {"securityClearance": 2, "quota": {"cpu": "4", "memory": "8Gi", "services": 5},
                            "owners": [{"kind": "ServiceAccount", "name": "ci"}]}}),
            "a ServiceAccount owner needs a namespace",
        ),
        // The name limits `govcloud plan` applies (docs/hostile-input.md) are the server's
        // too: a port name that is not an IANA service name, a Service-shaped name that
        // starts with a digit, an offering too long for its instances' names, an absurd rate.
        (
            &services,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "DepartmentService", "metadata": {"name": "numbered-port"},
                   "spec": {"securityLevel": 2, "workload": port_80}}),
            "spec.workload.ports[0].name",
        ),
        (
            &services,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "DepartmentService", "metadata": {"name": "1st"},
                   "spec": {"securityLevel": 2, "workload": workload}}),
            "metadata.name",
        ),
        (
            &offerings,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "ServiceOffering", "metadata": {"name": long_offering},
                   "spec": {"image": "registry.gov.example/shared/x", "securityLevel": 2, "tenantsPerInstance": 2,
                            "instance": {"replicas": 1, "resources": {"cpu": "1", "memory": "1Gi"}}}}),
            "metadata.name",
        ),
        (
            &pools,
            json!({"apiVersion": "govcloud.io/v1alpha1", "kind": "ResourcePool", "metadata": {"name": "gold-plated"},
                   "spec": {"securityLevel": 2, "nodeSelector": {"govcloud.io/pool": "gold-plated"},
                            "cost": {"cpuCoreHour": 1e308, "memoryGiBHour": 1}}}),
            "spec.cost.cpuCoreHour",
        ),
    ];
    for (api, object, message) in cases {
        let name = object["metadata"]["name"].as_str().unwrap().to_string();
        let object: DynamicObject = serde_json::from_value(object).unwrap();
        match api.create(&PostParams::default(), &object).await {
            Err(kube::Error::Api(status)) => {
                assert_eq!(status.code, 422, "{name}: {status:?}");
                assert!(
                    status.message.contains(message),
                    "{name}: the API server refused it, but not with {message:?}: {}",
                    status.message
                );
            }
            other => panic!("{name}: the API server accepted an invalid object: {other:?}"),
        }
    }
    // And the samples are all accepted as written.
    let estate = cp::sample_estate();
    for o in &estate.departments {
        cp::apply_value(&client, &serde_json::to_value(o).unwrap(), None, "platform-team").await;
    }
}

async fn dynamic(client: &Client, kind: &str, namespace: Option<&str>) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("govcloud.io", "v1alpha1", kind);
    let (resource, caps) = pinned_kind(client, &gvk).await.unwrap();
    match (caps.scope, namespace) {
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &resource),
        _ => Api::all_with(client.clone(), &resource),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sample_estate_converges_to_the_offline_plan() {
    let _turn = cp::turn().await;
    let estate = converge_samples().await;
    // Statuses: `govcloud plan` of the same objects, fresh (no previous decisions).
    assert_matches_offline_plan(&estate.client, &estate.operator_log()).await;
    let dir = tempfile::tempdir().unwrap();
    export_estate(&estate.client, dir.path()).await;

    // Objects: exactly `plan --emit-manifests`, by name, and each with the fields it sets.
    let emitted = govcloud(&[
        "plan".as_ref(),
        "--emit-manifests".as_ref(),
        dir.path().as_os_str(),
    ]);
    let emitted: Vec<Value> = serde_saphyr::from_multiple(&emitted).expect("emitted manifests parse");
    let mut want_names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for object in &emitted {
        let kind = object["kind"].as_str().unwrap().to_string();
        let ns = object["metadata"]["namespace"].as_str();
        let name = object["metadata"]["name"].as_str().unwrap();
        want_names
            .entry(kind.clone())
            .or_default()
            .insert(format!("{}/{name}", ns.unwrap_or("")));
        let api = api_for(&estate.client, object, ns).await;
        let live = api
            .get_opt(name)
            .await
            .unwrap()
            .map(|o| serde_json::to_value(o).unwrap());
        match live {
            None => mismatches.push(format!("{kind} {}/{name}: missing", ns.unwrap_or(""))),
            Some(live) => {
                let mut wanted = object.clone();
                wanted.as_object_mut().unwrap().remove("status");
                if let Some(path) = first_difference(&wanted, &live, String::new()) {
                    mismatches.push(format!("{kind} {}/{name}: {path}", ns.unwrap_or("")));
                }
            }
        }
    }
    // Everything labelled as ours was emitted: nothing stale, nothing extra.
    for (kind, names) in &want_names {
        let sample = emitted.iter().find(|o| o["kind"] == kind.as_str()).unwrap();
        let api = api_for(&estate.client, sample, None).await;
        let ours = api
            .list(&ListParams::default().labels("app.kubernetes.io/managed-by=govcloud"))
            .await
            .unwrap();
        let live: BTreeSet<String> = ours
            .items
            .iter()
            .map(|o| format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any()))
            .collect();
        for extra in live.difference(names) {
            mismatches.push(format!("{kind} {extra}: in the cluster, not emitted"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "the cluster differs from `govcloud plan --emit-manifests`:\n{}",
        mismatches.join("\n")
    );
}

/// An API for the object's kind, found by discovery; namespaced objects in `namespace`
/// (or across all namespaces when None).
async fn api_for(client: &Client, object: &Value, namespace: Option<&str>) -> Api<DynamicObject> {
    let api_version = object["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, object["kind"].as_str().unwrap());
    let (resource, caps) = pinned_kind(client, &gvk).await.unwrap();
    match (caps.scope, namespace) {
        (Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &resource),
        _ => Api::all_with(client.clone(), &resource),
    }
}

/// The first place where `want` is not contained in `live` (maps: every key of `want`;
/// lists: element by element, same length), as a JSON path with both values.
fn first_difference(want: &Value, live: &Value, path: String) -> Option<String> {
    match (want, live) {
        (Value::Object(w), Value::Object(l)) => w.iter().find_map(|(k, v)| match l.get(k) {
            Some(lv) => first_difference(v, lv, format!("{path}.{k}")),
            None if v.is_null() => None,
            None => Some(format!("{path}.{k}: wanted {v}, absent")),
        }),
        (Value::Array(w), Value::Array(l)) if w.len() == l.len() => w
            .iter()
            .zip(l)
            .enumerate()
            .find_map(|(i, (wv, lv))| first_difference(wv, lv, format!("{path}[{i}]"))),
        _ if want == live => None,
        _ => Some(format!("{path}: wanted {want}, live {live}")),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scheduler_places_every_pod_in_its_pool_and_readiness_flows_back() {
    let _turn = cp::turn().await;
    let estate = converge_samples().await;
    estate.wait_until_ready().await;

    let pools: BTreeMap<String, ResourcePool> = Api::<ResourcePool>::all(estate.client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.name_any(), p))
        .collect();
    let nodes: BTreeMap<String, Node> = Api::<Node>::all(estate.client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.name_any(), n))
        .collect();
    let node_pool = |node: &str| -> Option<&ResourcePool> {
        let labels = nodes.get(node)?.metadata.labels.clone().unwrap_or_default();
        pools
            .values()
            .find(|p| p.spec.node_selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
    };
    let pods = Api::<Pod>::all(estate.client.clone())
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=govcloud"))
        .await
        .unwrap();
    let deployments = Api::<Deployment>::all(estate.client.clone())
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=govcloud"))
        .await
        .unwrap();
    assert!(!deployments.items.is_empty(), "govcloud made no Deployment");
    let mut wrong = Vec::new();
    let mut placed = 0;
    for pod in &pods {
        let labels = pod.labels();
        let want_pool = labels.get("govcloud.io/pool").cloned().unwrap_or_default();
        let level = labels
            .get("govcloud.io/security-level")
            .and_then(|l| l.parse::<u8>().ok());
        let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
        let phase = pod.status.as_ref().and_then(|s| s.phase.clone());
        let Some(node) = node else {
            wrong.push(format!(
                "{}/{}: not scheduled",
                pod.namespace().unwrap(),
                pod.name_any()
            ));
            continue;
        };
        let Some(pool) = node_pool(&node) else {
            wrong.push(format!(
                "{}/{}: on {node}, a node of no pool",
                pod.namespace().unwrap(),
                pod.name_any()
            ));
            continue;
        };
        if pool.name_any() != want_pool {
            wrong.push(format!(
                "{}/{}: on {node} of pool {}, not of its pool {want_pool}",
                pod.namespace().unwrap(),
                pod.name_any(),
                pool.name_any()
            ));
        }
        if let Some(level) = level
            && pool.spec.security_level < level
        {
            wrong.push(format!(
                "{}/{}: level {level} on {node} of level {}",
                pod.namespace().unwrap(),
                pod.name_any(),
                pool.spec.security_level
            ));
        }
        if phase.as_deref() != Some("Running") {
            wrong.push(format!(
                "{}/{}: phase {phase:?}",
                pod.namespace().unwrap(),
                pod.name_any()
            ));
        }
        placed += 1;
    }
    assert!(wrong.is_empty(), "pods off their pools:\n{}", wrong.join("\n"));
    let replicas: i32 = deployments
        .iter()
        .map(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1))
        .sum();
    assert_eq!(
        placed, replicas as usize,
        "a running pod for every replica of every Deployment"
    );
    for d in &deployments {
        let status = d.status.clone().unwrap_or_default();
        assert_eq!(
            status.ready_replicas.unwrap_or(0),
            d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            "Deployment {}/{} is not Ready: {status:?}",
            d.namespace().unwrap(),
            d.name_any()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_converged_estate_costs_no_writes_on_resync_nor_after_a_restart() {
    let _turn = cp::turn().await;
    let mut estate = converge_samples().await;
    estate.wait_until_ready().await;
    let user = operator_user();

    // Converged: a pass with nothing to do. Then two resync intervals must write nothing.
    let reads = assert_quiet(&estate.plane, &user, 2, &estate.operator_log()).await;
    println!(
        "two resync intervals after convergence: 0 writes, {} other requests",
        reads.len()
    );

    // A restarted operator re-plans from the statuses and finds nothing to do.
    estate.operator.terminate();
    let status = estate
        .operator
        .wait_for_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no exit after SIGTERM\n{}", estate.operator_log()));
    assert!(status.success(), "exit {status}\n{}", estate.operator_log());
    let restarted_at = Timestamp::now();
    estate.operator = cp::start_operator(
        &estate.plane,
        "operator-restarted",
        &estate.kubeconfig,
        &operator_config(&format!("{}s", RESYNC.as_secs()), ""),
        &[],
    );
    wait_for_passes(&estate.operator, 3).await;
    let writes = writes_by(&estate.plane.audit(), &user, Some(restarted_at))
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    let writes: Vec<&Value> = writes.iter().collect();
    assert!(
        writes.is_empty(),
        "the restarted operator wrote to a converged estate:\n{}\n{}",
        describe(&writes),
        estate.operator_log()
    );
}
