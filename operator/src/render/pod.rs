//! The one standard shape of every pod govcloud runs, department workload or shared
//! instance: pinned to its pool, Pod Security `restricted`, probed, and sized by the plan.

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar as K8sEnvVar, PodSecurityContext,
    PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecurityContext, Service,
    ServicePort, ServiceSpec, TCPSocketAction, Toleration, TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::ResourceExt;

use super::meta::{self, Labels};
use crate::api::{EnvVar, Port, Protocol, ResourcePool, labels};
use crate::quantity::Res;

/// The single container's name; one container per pod keeps `kubectl logs` argument-free.
const CONTAINER: &str = "app";
/// Writable scratch space, since the root filesystem is read-only.
const TMP_VOLUME: &str = "tmp";

/// Everything that differs between two govcloud pods.
pub(super) struct PodShape<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    /// Labels of the Deployment and its pods.
    pub labels: Labels,
    /// The stable subset of `labels` that selects the pods (never the pool: pods move).
    pub selector: Labels,
    pub image: String,
    pub ports: &'a [Port],
    pub env: &'a [EnvVar],
    pub command: &'a [String],
    pub args: &'a [String],
    pub replicas: i32,
    pub requests: Res,
    pub limits: Res,
    pub pool: &'a ResourcePool,
    /// Spread replicas across zones and nodes (High availability).
    pub spread: bool,
    /// Roll out by surging: each new pod is up before an old one goes (see [`surge`]).
    pub surge: bool,
}

pub(super) fn deployment(shape: PodShape<'_>) -> Deployment {
    let pod = PodSpec {
        containers: vec![container(&shape)],
        automount_service_account_token: Some(false),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            }),
            ..PodSecurityContext::default()
        }),
        node_selector: Some(shape.pool.spec.node_selector.clone()),
        tolerations: Some(vec![pool_toleration(&shape.pool.name_any())]),
        topology_spread_constraints: shape.spread.then(|| spread(&shape.selector)),
        volumes: Some(vec![Volume {
            name: TMP_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        }]),
        ..PodSpec::default()
    };
    Deployment {
        metadata: meta::object_meta(shape.name, Some(shape.namespace), shape.labels.clone()),
        spec: Some(DeploymentSpec {
            replicas: Some(shape.replicas),
            selector: meta::match_labels(shape.selector.clone()),
            strategy: shape.surge.then(surge),
            template: PodTemplateSpec {
                metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    labels: Some(shape.labels),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// One extra pod at a time and none taken down first. A move changes the pod template's
/// pool, so with Kubernetes' default (25 % unavailable) a small Deployment would lose its
/// only or last ready replica while the new pool's pod is still starting; surging keeps
/// the old pool's pods serving until their replacements are ready there. It costs one
/// pod's requests of headroom on the target pool during the rollout, which the planner
/// already holds on both pools while a move is in progress.
fn surge() -> DeploymentStrategy {
    DeploymentStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(IntOrString::Int(1)),
            max_unavailable: Some(IntOrString::Int(0)),
        }),
    }
}

/// Pools taint their nodes `govcloud.io/pool=<pool>:NoSchedule`, so that only pods
/// placed there by the planner land on them.
pub(super) fn pool_toleration(pool: &str) -> Toleration {
    Toleration {
        key: Some(labels::POOL.into()),
        operator: Some("Equal".into()),
        value: Some(pool.into()),
        effect: Some("NoSchedule".into()),
        toleration_seconds: None,
    }
}

fn container(shape: &PodShape<'_>) -> Container {
    let probe_port = shape.ports.iter().find(|p| p.protocol == Protocol::Tcp);
    let probe = |initial_delay: i32, period: i32| {
        probe_port.map(|p| Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::Int(p.port),
                host: None,
            }),
            initial_delay_seconds: Some(initial_delay),
            period_seconds: Some(period),
            ..Probe::default()
        })
    };
    Container {
        name: CONTAINER.into(),
        image: Some(shape.image.clone()),
        command: non_empty(shape.command),
        args: non_empty(shape.args),
        env: (!shape.env.is_empty()).then(|| {
            shape
                .env
                .iter()
                .map(|e| K8sEnvVar {
                    name: e.name.clone(),
                    value: Some(e.value.clone()),
                    value_from: None,
                })
                .collect()
        }),
        ports: (!shape.ports.is_empty()).then(|| {
            shape
                .ports
                .iter()
                .map(|p| ContainerPort {
                    name: Some(p.name.clone()),
                    container_port: p.port,
                    protocol: Some(p.protocol.as_str().into()),
                    ..ContainerPort::default()
                })
                .collect()
        }),
        resources: Some(ResourceRequirements {
            requests: meta::resource_map(shape.requests),
            limits: meta::resource_map(shape.limits),
            claims: None,
        }),
        readiness_probe: probe(5, 10),
        liveness_probe: probe(15, 20),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            read_only_root_filesystem: Some(true),
            ..SecurityContext::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: TMP_VOLUME.into(),
            mount_path: "/tmp".into(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    }
}

fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

/// Zones are preferred (a single-zone pool must still schedule), nodes are required
/// (two replicas on one node is no availability at all).
fn spread(selector: &Labels) -> Vec<TopologySpreadConstraint> {
    [
        ("topology.kubernetes.io/zone", "ScheduleAnyway"),
        ("kubernetes.io/hostname", "DoNotSchedule"),
    ]
    .map(|(key, when)| TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        when_unsatisfiable: when.into(),
        label_selector: Some(meta::match_labels(selector.clone())),
        ..TopologySpreadConstraint::default()
    })
    .to_vec()
}

/// A ClusterIP Service over the pods, or none when they listen on nothing.
pub(super) fn service(shape: &PodShape<'_>) -> Option<Service> {
    if shape.ports.is_empty() {
        return None;
    }
    let ports = shape
        .ports
        .iter()
        .map(|p| ServicePort {
            name: Some(p.name.clone()),
            port: p.port,
            target_port: Some(IntOrString::Int(p.port)),
            protocol: Some(p.protocol.as_str().into()),
            ..ServicePort::default()
        })
        .collect();
    Some(Service {
        metadata: meta::object_meta(shape.name, Some(shape.namespace), shape.selector.clone()),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(shape.selector.clone()),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    })
}

/// How many pods a voluntary disruption (a drain) may take down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Budget {
    MaxUnavailable(i32),
    MinAvailable(i32),
}

pub(super) fn disruption_budget(shape: &PodShape<'_>, budget: Budget) -> PodDisruptionBudget {
    let (max_unavailable, min_available) = match budget {
        Budget::MaxUnavailable(n) => (Some(IntOrString::Int(n)), None),
        Budget::MinAvailable(n) => (None, Some(IntOrString::Int(n))),
    };
    PodDisruptionBudget {
        metadata: meta::object_meta(shape.name, Some(shape.namespace), shape.selector.clone()),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable,
            min_available,
            selector: Some(meta::match_labels(shape.selector.clone())),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}
