//! Network isolation: every department namespace denies by default, and each allowance
//! is a separate, named policy so that `kubectl get netpol` reads as the list of what is open.

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::Manifest;
use super::meta::{self, Labels};
use crate::api::{Exposure, Port, labels};
use crate::plan::Settings;

const DEFAULT_DENY: &str = "govcloud-default-deny";
const ALLOW_DNS: &str = "govcloud-allow-dns";
const ALLOW_SAME_NAMESPACE: &str = "govcloud-allow-same-namespace";
const ALLOW_SHARED: &str = "govcloud-allow-shared-services";
const ALLOW_PLATFORM: &str = "govcloud-allow-platform";
/// Per-service and per-instance policies end in this; no namespace-wide name does,
/// so a service can never collide with one of them.
const INGRESS_SUFFIX: &str = "-ingress";

const INGRESS: &str = "Ingress";
const EGRESS: &str = "Egress";

/// The namespace-wide policies of a department namespace. `instances` are the shared
/// instances its tenants are bound to; without any, no egress to the shared namespace is opened.
pub(super) fn department_policies(
    settings: &Settings,
    ns: &str,
    instances: &[String],
    labels: &Labels,
    out: &mut Vec<Manifest>,
) {
    let mut push = |name: &str, spec: NetworkPolicySpec| {
        out.push(Manifest::NetworkPolicy(NetworkPolicy {
            metadata: meta::object_meta(name, Some(ns), labels.clone()),
            spec: Some(spec),
        }))
    };
    push(
        DEFAULT_DENY,
        NetworkPolicySpec {
            pod_selector: Some(meta::everything()),
            policy_types: Some(vec![INGRESS.into(), EGRESS.into()]),
            ..NetworkPolicySpec::default()
        },
    );
    let dns_ports = ["UDP", "TCP"].map(|p| NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some(p.into()),
        end_port: None,
    });
    push(
        ALLOW_DNS,
        egress(vec![namespace_peer("kube-system")], Some(dns_ports.to_vec())),
    );
    let same_namespace = NetworkPolicyPeer {
        pod_selector: Some(meta::everything()),
        ..NetworkPolicyPeer::default()
    };
    push(
        ALLOW_SAME_NAMESPACE,
        NetworkPolicySpec {
            pod_selector: Some(meta::everything()),
            policy_types: Some(vec![INGRESS.into(), EGRESS.into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(vec![same_namespace.clone()]),
                ports: None,
            }]),
            egress: Some(vec![NetworkPolicyEgressRule {
                to: Some(vec![same_namespace]),
                ports: None,
            }]),
        },
    );
    if !instances.is_empty() {
        let to_instances = NetworkPolicyPeer {
            namespace_selector: Some(meta::namespace_named(&settings.shared_namespace)),
            pod_selector: Some(meta::label_in(labels::INSTANCE, instances.to_vec())),
            ip_block: None,
        };
        push(ALLOW_SHARED, egress(vec![to_instances], None));
    }
    push(
        ALLOW_PLATFORM,
        ingress(
            meta::everything(),
            vec![namespace_peer(&settings.platform_namespace)],
            None,
        ),
    );
}

/// Who may reach a department workload, by its exposure.
pub(super) fn exposure_policy(
    settings: &Settings,
    ns: &str,
    name: &str,
    exposure: Exposure,
    selector: Labels,
    ports: &[Port],
    labels: Labels,
) -> NetworkPolicy {
    let mut from = match exposure {
        Exposure::Department => vec![namespace_peer(ns)],
        Exposure::Internal | Exposure::Public => vec![NetworkPolicyPeer {
            namespace_selector: Some(meta::label_exists(labels::DEPARTMENT)),
            ..NetworkPolicyPeer::default()
        }],
    };
    if exposure == Exposure::Public {
        from.push(namespace_peer(&settings.ingress_namespace));
    }
    NetworkPolicy {
        metadata: meta::object_meta(&format!("{name}{INGRESS_SUFFIX}"), Some(ns), labels),
        spec: Some(ingress(meta::match_labels(selector), from, policy_ports(ports))),
    }
}

/// Admits exactly the tenants' namespaces to a shared instance.
pub(super) fn tenants_policy(
    shared_ns: &str,
    instance: &str,
    tenant_namespaces: Vec<String>,
    selector: Labels,
    ports: &[Port],
    labels: Labels,
) -> NetworkPolicy {
    // An `In` selector needs values; an instance without tenants simply admits nobody.
    let rules = (!tenant_namespaces.is_empty()).then(|| {
        vec![NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(meta::namespaces_in(tenant_namespaces)),
                ..NetworkPolicyPeer::default()
            }]),
            ports: policy_ports(ports),
        }]
    });
    NetworkPolicy {
        metadata: meta::object_meta(&format!("{instance}{INGRESS_SUFFIX}"), Some(shared_ns), labels),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(meta::match_labels(selector)),
            policy_types: Some(vec![INGRESS.into()]),
            ingress: rules,
            egress: None,
        }),
    }
}

fn ingress(
    pods: LabelSelector,
    from: Vec<NetworkPolicyPeer>,
    ports: Option<Vec<NetworkPolicyPort>>,
) -> NetworkPolicySpec {
    NetworkPolicySpec {
        pod_selector: Some(pods),
        policy_types: Some(vec![INGRESS.into()]),
        ingress: Some(vec![NetworkPolicyIngressRule {
            from: Some(from),
            ports,
        }]),
        egress: None,
    }
}

fn egress(to: Vec<NetworkPolicyPeer>, ports: Option<Vec<NetworkPolicyPort>>) -> NetworkPolicySpec {
    NetworkPolicySpec {
        pod_selector: Some(meta::everything()),
        policy_types: Some(vec![EGRESS.into()]),
        egress: Some(vec![NetworkPolicyEgressRule { to: Some(to), ports }]),
        ingress: None,
    }
}

fn namespace_peer(ns: &str) -> NetworkPolicyPeer {
    NetworkPolicyPeer {
        namespace_selector: Some(meta::namespace_named(ns)),
        ..NetworkPolicyPeer::default()
    }
}

/// No ports means every port: a workload without declared ports is still reachable
/// the way its exposure says, rather than silently cut off.
fn policy_ports(ports: &[Port]) -> Option<Vec<NetworkPolicyPort>> {
    (!ports.is_empty()).then(|| {
        ports
            .iter()
            .map(|p| NetworkPolicyPort {
                port: Some(IntOrString::Int(p.port)),
                protocol: Some(p.protocol.as_str().into()),
                end_port: None,
            })
            .collect()
    })
}
