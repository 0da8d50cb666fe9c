//! A department's namespace and guard rails, as its owners and the platform team see them.

use serde_json::json;

use super::*;

#[test]
fn refused_department_gets_nothing() {
    let ms = rendered();
    assert!(find(&ms, "Namespace", None, "dept-broken").is_none());
    assert!(ms.iter().all(|m| m.namespace() != Some("dept-broken")));
}

#[test]
fn department_namespace_enforces_restricted_pod_security() {
    let ns = find(&rendered(), "Namespace", None, "dept-finance").unwrap();
    let labels = &ns["metadata"]["labels"];
    for mode in ["enforce", "audit", "warn"] {
        assert_eq!(labels[format!("pod-security.kubernetes.io/{mode}")], "restricted");
    }
    assert_eq!(labels["govcloud.io/department"], "finance");
    assert_eq!(labels["app.kubernetes.io/managed-by"], "govcloud");
}

#[test]
fn quota_is_the_department_quota() {
    let ms = rendered();
    let hard = |ns| get(&ms, "ResourceQuota", ns, "govcloud-quota")["spec"]["hard"].clone();
    assert_eq!(
        hard("dept-finance"),
        json!({"requests.cpu": "20", "requests.memory": "64Gi", "count/departmentservices.govcloud.io": "10"})
    );
    assert_eq!(
        hard("dept-health"),
        json!({"requests.cpu": "8500m", "requests.memory": "16Gi", "count/departmentservices.govcloud.io": "4"})
    );
}

#[test]
fn limit_range_carries_the_merged_policy() {
    let lr = get(&rendered(), "LimitRange", "dept-health", "govcloud-limits");
    assert_eq!(
        lr["spec"]["limits"],
        json!([{
            "type": "Container",
            "defaultRequest": {"cpu": "250m", "memory": "256Mi"},
            "default": {"cpu": "375m", "memory": "384Mi"},
            "max": {"cpu": "6", "memory": "6Gi"},
        }])
    );
}

#[test]
fn owners_are_bound_to_the_department_admin_role() {
    let ms = rendered();
    let rb = get(&ms, "RoleBinding", "dept-finance", "govcloud-department-admins");
    assert_eq!(rb["roleRef"]["kind"], "ClusterRole");
    assert_eq!(rb["roleRef"]["name"], "govcloud-department-admin");
    let subjects: Vec<(String, String)> = rb["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().into(),
                s["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        subjects,
        [
            ("User", "alice@finance.gov.example"),
            ("Group", "finance-admins"),
            ("ServiceAccount", "deployer")
        ]
        .map(|(k, n)| (k.to_owned(), n.to_owned()))
    );
    assert_eq!(rb["subjects"][2]["namespace"], "ci");
    assert!(
        find(
            &ms,
            "RoleBinding",
            Some("dept-health"),
            "govcloud-department-admins"
        )
        .is_none(),
        "no owners"
    );
}

#[test]
fn department_namespace_denies_by_default_and_opens_named_paths() {
    let ms = rendered();
    let deny = get(&ms, "NetworkPolicy", "dept-finance", "govcloud-default-deny")["spec"].clone();
    assert_eq!(
        deny,
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    );
    let dns = get(&ms, "NetworkPolicy", "dept-finance", "govcloud-allow-dns")["spec"]["egress"][0].clone();
    assert_eq!(
        dns["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "kube-system"
    );
    assert_eq!(
        dns["ports"],
        json!([{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}])
    );
    let platform = get(&ms, "NetworkPolicy", "dept-finance", "govcloud-allow-platform")["spec"].clone();
    assert_eq!(
        platform["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "govcloud-system"
    );
    let shared = get(
        &ms,
        "NetworkPolicy",
        "dept-finance",
        "govcloud-allow-shared-services",
    )["spec"]
        .clone();
    let to = &shared["egress"][0]["to"][0];
    assert_eq!(
        to["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "govcloud-shared"
    );
    assert_eq!(
        to["podSelector"]["matchExpressions"][0]["values"],
        json!(["postgres-l2-1"]),
        "placed instances only"
    );
    get(
        &ms,
        "NetworkPolicy",
        "dept-finance",
        "govcloud-allow-same-namespace",
    );
}

#[test]
fn no_egress_to_shared_namespace_without_a_tenancy() {
    let mut p = plan();
    p.offerings.clear();
    let ms = render(&snapshot(), &p).unwrap();
    assert!(
        find(
            &ms,
            "NetworkPolicy",
            Some("dept-finance"),
            "govcloud-allow-shared-services"
        )
        .is_none()
    );
    assert!(ms.iter().all(|m| m.kind() != "ConfigMap"));
}
