//! A department's own workload: where it runs, how it is shaped, who may reach it.

use serde_json::json;

use super::*;

#[test]
fn workloads_are_pinned_to_their_pool() {
    let ms = rendered();
    let ledger = pod_spec(&ms, "dept-finance", "ledger");
    assert_eq!(
        ledger["nodeSelector"],
        json!({"govcloud.io/node-class": "secure"})
    );
    assert_eq!(
        ledger["tolerations"],
        json!([{"key": "govcloud.io/pool", "operator": "Equal", "value": "secure-l3", "effect": "NoSchedule"}])
    );
    let deployment = get(&ms, "Deployment", "dept-finance", "ledger");
    assert_eq!(deployment["metadata"]["labels"]["govcloud.io/pool"], "secure-l3");
    assert!(
        deployment["spec"]["selector"]["matchLabels"]
            .get("govcloud.io/pool")
            .is_none(),
        "selector survives a move"
    );
    let shared = pod_spec(&ms, "govcloud-shared", "postgres-l2-1");
    assert_eq!(shared["nodeSelector"]["govcloud.io/node-class"], "general");
    assert_eq!(shared["tolerations"][0]["value"], "general-l2");
}

#[test]
fn every_pod_runs_restricted() {
    let ms = rendered();
    let deployments: Vec<Value> = ms
        .iter()
        .filter(|m| m.kind() == "Deployment")
        .map(|m| m.to_json()["spec"]["template"]["spec"].clone())
        .collect();
    assert_eq!(deployments.len(), 4, "ledger, nightly, records, postgres-l2-1");
    for pod in deployments {
        assert_eq!(
            pod["securityContext"],
            json!({"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}})
        );
        assert_eq!(pod["automountServiceAccountToken"], false);
        let c = &pod["containers"][0]["securityContext"];
        assert_eq!(c["allowPrivilegeEscalation"], false);
        assert_eq!(c["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(c["readOnlyRootFilesystem"], true);
    }
}

#[test]
fn container_is_shaped_by_the_plan_and_the_request() {
    let ms = rendered();
    let deployment = get(&ms, "Deployment", "dept-finance", "ledger");
    assert_eq!(deployment["spec"]["replicas"], 3);
    let c = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "registry.gov.example/finance/ledger:1.4.2");
    assert_eq!(
        c["resources"],
        json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "750m", "memory": "1536Mi"}})
    );
    assert_eq!(c["env"], json!([{"name": "LOG_LEVEL", "value": "info"}]));
    assert_eq!(c["command"], json!(["/bin/ledger"]));
    assert_eq!(c["args"], json!(["--serve"]));
    assert_eq!(c["readinessProbe"]["tcpSocket"]["port"], 8080);
    assert_eq!(c["livenessProbe"]["tcpSocket"]["port"], 8080);
}

#[test]
fn probes_use_the_first_tcp_port_and_only_when_there_is_one() {
    let ms = rendered();
    let records = &pod_spec(&ms, "dept-health", "records")["containers"][0];
    assert_eq!(records["readinessProbe"]["tcpSocket"]["port"], 8443);
    let nightly = &pod_spec(&ms, "dept-finance", "nightly")["containers"][0];
    assert!(nightly.get("readinessProbe").is_none() && nightly.get("livenessProbe").is_none());
    assert!(
        find(&ms, "Service", Some("dept-finance"), "nightly").is_none(),
        "no ports, no Service"
    );
}

#[test]
fn disruption_budget_follows_availability() {
    let ms = rendered();
    let ledger = get(&ms, "PodDisruptionBudget", "dept-finance", "ledger");
    assert_eq!(ledger["spec"]["minAvailable"], 2, "High with 3 replicas keeps 2");
    assert!(ledger["spec"].get("maxUnavailable").is_none());
    let records = get(&ms, "PodDisruptionBudget", "dept-health", "records");
    assert_eq!(records["spec"]["maxUnavailable"], 1, "Standard");
    assert!(
        find(&ms, "PodDisruptionBudget", Some("dept-finance"), "nightly").is_none(),
        "Basic"
    );
}

#[test]
fn standard_and_high_availability_surge_and_basic_keeps_the_default_rollout() {
    let ms = rendered();
    let surge = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}});
    for (ns, name) in [("dept-finance", "ledger"), ("dept-health", "records")] {
        let deployment = get(&ms, "Deployment", ns, name);
        assert_eq!(deployment["spec"]["strategy"], surge, "{ns}/{name}");
    }
    let nightly = get(&ms, "Deployment", "dept-finance", "nightly");
    assert!(
        nightly["spec"].get("strategy").is_none(),
        "Basic leaves the strategy to Kubernetes: {}",
        nightly["spec"]
    );
}

#[test]
fn only_high_availability_spreads_across_zones_and_nodes() {
    let ms = rendered();
    let spread = pod_spec(&ms, "dept-finance", "ledger")["topologySpreadConstraints"].clone();
    let keys: Vec<(&str, &str, i64)> = spread
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["topologyKey"].as_str().unwrap(),
                c["whenUnsatisfiable"].as_str().unwrap(),
                c["maxSkew"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("topology.kubernetes.io/zone", "ScheduleAnyway", 1),
            ("kubernetes.io/hostname", "DoNotSchedule", 1)
        ]
    );
    assert!(
        pod_spec(&ms, "dept-health", "records")
            .get("topologySpreadConstraints")
            .is_none()
    );
}

#[test]
fn ingress_follows_exposure() {
    let ms = rendered();
    let from = |ns, name| get(&ms, "NetworkPolicy", ns, name)["spec"]["ingress"][0]["from"].clone();
    let own =
        json!([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dept-finance"}}}]);
    assert_eq!(from("dept-finance", "nightly-ingress"), own, "Department");
    let departments = json!({"namespaceSelector": {"matchExpressions": [{"key": "govcloud.io/department", "operator": "Exists"}]}});
    assert_eq!(
        from("dept-health", "records-ingress"),
        json!([departments.clone()]),
        "Internal"
    );
    let ingress =
        json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}});
    assert_eq!(
        from("dept-finance", "ledger-ingress"),
        json!([departments, ingress]),
        "Public"
    );
    let ledger = get(&ms, "NetworkPolicy", "dept-finance", "ledger-ingress");
    assert_eq!(
        ledger["spec"]["podSelector"]["matchLabels"]["govcloud.io/service"],
        "ledger"
    );
    assert_eq!(
        ledger["spec"]["ingress"][0]["ports"],
        json!([{"port": 8080, "protocol": "TCP"}, {"port": 9090, "protocol": "TCP"}])
    );
}
