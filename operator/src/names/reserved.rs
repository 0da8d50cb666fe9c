//! Namespaces a department must not own, and RBAC subjects it must not hand its namespace to.

use crate::api::OwnerKind;
use crate::plan::Settings;

/// Namespaces of the cluster itself. Everything `kube-` is reserved, not only today's three,
/// because Kubernetes adds system namespaces under that prefix (`kube-node-lease` came in 1.14).
const SYSTEM: [&str; 1] = ["default"];
const SYSTEM_PREFIX: &str = "kube-";

/// Why `namespace` cannot be handed to a department, if it cannot: the operator would put
/// a default-deny NetworkPolicy, a ResourceQuota and a LimitRange into a namespace that
/// something else runs in, and a second copy of one it already renders.
pub fn reserved_namespace(namespace: &str, settings: &Settings) -> Option<String> {
    if SYSTEM.contains(&namespace) || namespace.starts_with(SYSTEM_PREFIX) {
        return Some("a Kubernetes system namespace (\"default\" and every \"kube-*\")".into());
    }
    [
        (
            &settings.shared_namespace,
            "the shared instances' namespace (sharedNamespace)",
        ),
        (
            &settings.platform_namespace,
            "the operator's own namespace (platformNamespace)",
        ),
        (
            &settings.ingress_namespace,
            "the ingress controller's namespace (ingressNamespace)",
        ),
    ]
    .into_iter()
    .find(|(ns, _)| ns.as_str() == namespace)
    .map(|(_, what)| what.to_owned())
}

/// Who a User or Group owner named like one of the API server's built-in identities would
/// really be: binding it would make every such caller an administrator of the namespace.
pub fn system_owner(kind: OwnerKind, name: &str) -> Option<String> {
    if kind == OwnerKind::ServiceAccount {
        return None;
    }
    match name {
        "system:anonymous" | "system:unauthenticated" => Some("every unauthenticated request".into()),
        "system:authenticated" => Some("every authenticated user and service account".into()),
        "system:serviceaccounts" => Some("every service account of the cluster".into()),
        _ => name
            .strip_prefix("system:serviceaccounts:")
            .map(|ns| format!("every service account of namespace {ns:?}")),
    }
}
