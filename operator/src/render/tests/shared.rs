//! Shared instances and the bindings their tenants read.

use serde_json::json;

use super::*;

#[test]
fn shared_instance_runs_in_the_shared_namespace_at_the_offering_version() {
    let ms = rendered();
    let ns = find(&ms, "Namespace", None, "govcloud-shared").expect("shared namespace");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert!(
        ns["metadata"]["labels"].get("govcloud.io/department").is_none(),
        "not a department"
    );
    let d = get(&ms, "Deployment", "govcloud-shared", "postgres-l2-1");
    assert_eq!(d["spec"]["replicas"], 2);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "registry.gov.example:5000/shared/postgres:16.2");
    assert_eq!(c["resources"]["limits"], json!({"cpu": "1500m", "memory": "3Gi"}));
    // A new instance pod is up on its pool before an old one goes, as for Standard.
    assert_eq!(
        d["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    );
    let svc = get(&ms, "Service", "govcloud-shared", "postgres-l2-1");
    assert_eq!(svc["spec"]["ports"][0]["port"], 5432);
    assert!(
        find(&ms, "Deployment", Some("govcloud-shared"), "postgres-l3-1").is_none(),
        "no pool, not rendered"
    );
}

#[test]
fn shared_instance_admits_exactly_its_tenants() {
    let ms = rendered();
    let np = get(&ms, "NetworkPolicy", "govcloud-shared", "postgres-l2-1-ingress");
    assert_eq!(
        np["spec"]["podSelector"]["matchLabels"]["govcloud.io/instance"],
        "postgres-l2-1"
    );
    assert_eq!(
        np["spec"]["ingress"][0]["from"],
        json!([{"namespaceSelector": {"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "In", "values": ["dept-finance", "dept-health"]
        }]}}])
    );
}

#[test]
fn each_tenant_finds_its_endpoint_in_a_binding() {
    let ms = rendered();
    let cm = get(&ms, "ConfigMap", "dept-health", "db-binding");
    assert_eq!(
        cm["data"],
        json!({
            "instance": "postgres-l2-1",
            "offering": "postgres",
            "host": "postgres-l2-1.govcloud-shared.svc.cluster.local",
            "port": "5432",
            "ports": "postgres=5432,metrics=9187",
        })
    );
    assert_eq!(cm["metadata"]["labels"]["govcloud.io/department"], "health");
    get(&ms, "ConfigMap", "dept-finance", "db-binding");
    assert!(
        find(&ms, "ConfigMap", Some("dept-finance"), "vault-binding").is_none(),
        "instance not placed"
    );
}

#[test]
fn tenant_workloads_reach_the_instance_by_the_tenant_service_name() {
    let ms = rendered();
    let alias = get(&ms, "Service", "dept-health", "db");
    assert_eq!(
        alias["spec"],
        json!({"type": "ExternalName", "externalName": "postgres-l2-1.govcloud-shared.svc.cluster.local"})
    );
    assert!(
        find(&ms, "Service", Some("dept-finance"), "vault").is_none(),
        "instance not placed"
    );
}

#[test]
fn shared_instance_replicas_spread_across_nodes() {
    let ms = rendered();
    let spread = pod_spec(&ms, "govcloud-shared", "postgres-l2-1")["topologySpreadConstraints"].clone();
    assert_eq!(spread.as_array().map(Vec::len), Some(2));
}
