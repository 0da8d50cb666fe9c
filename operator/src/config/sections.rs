//! The config's sections below the top level, each with the defaults `config/govcloud.yaml`
//! documents.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{address, duration};

/// How the controllers work through changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ControllerConfig {
    /// Reconciles running at once, across all kinds.
    pub concurrency: u32,
    /// Quiet time after a change before re-planning, so that a burst of `kubectl apply`
    /// makes one plan rather than hundreds.
    #[serde(with = "duration")]
    pub debounce: Duration,
    /// Every object is reconciled at least this often, even with no change seen.
    #[serde(with = "duration")]
    pub resync: Duration,
    /// How long a pass cut short by SIGTERM may take to finish the writes already in
    /// flight before they are abandoned. It must end before the kubelet's SIGKILL
    /// (the pod's terminationGracePeriodSeconds), with time left to release the Lease.
    #[serde(with = "duration")]
    pub shutdown_timeout: Duration,
    pub backoff: BackoffConfig,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            debounce: Duration::from_secs(2),
            resync: Duration::from_secs(600),
            shutdown_timeout: Duration::from_secs(20),
            backoff: BackoffConfig::default(),
        }
    }
}

/// Per-object retry delay after a failed reconcile: doubles from `initial` up to `max`,
/// and starts again from `initial` after a success.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BackoffConfig {
    #[serde(with = "duration")]
    pub initial: Duration,
    #[serde(with = "duration")]
    pub max: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

/// Leader election on a `coordination.k8s.io` Lease, so that two replicas can run and only
/// one of them writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct LeaderElectionConfig {
    pub enabled: bool,
    pub lease_name: String,
    /// `None`: the operator's own namespace (`platformNamespace`); see
    /// [`OperatorConfig::lease_namespace`](super::OperatorConfig::lease_namespace).
    pub lease_namespace: Option<String>,
    /// How long a lease holds without renewal before another replica may take it.
    #[serde(with = "duration")]
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leading.
    #[serde(with = "duration")]
    pub renew_deadline: Duration,
    /// How often candidates try to acquire, and the leader to renew.
    #[serde(with = "duration")]
    pub retry_period: Duration,
}

impl Default for LeaderElectionConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            lease_name: "govcloud-leader".into(),
            lease_namespace: None,
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// The HTTP endpoint for `/healthz`, `/readyz` and `/metrics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HttpConfig {
    #[serde(with = "address")]
    pub address: SocketAddr,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            address: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 8080)),
        }
    }
}

/// Where measured usage (as opposed to allocation) comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UsageSource {
    /// No measurement: `used` stays empty and utilisation is by allocation only.
    #[default]
    None,
    /// `metrics.k8s.io` (metrics-server): current usage per pod.
    MetricsApi,
    /// A Prometheus server, queried with `usage.prometheus.queries`.
    Prometheus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct UsageConfig {
    pub source: UsageSource,
    /// How often usage is sampled.
    #[serde(with = "duration")]
    pub interval: Duration,
    /// Read (and checked) only when `source` is `prometheus`.
    pub prometheus: PrometheusConfig,
}

impl Default for UsageConfig {
    fn default() -> Self {
        Self {
            source: UsageSource::None,
            interval: Duration::from_secs(60),
            prometheus: PrometheusConfig::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PrometheusConfig {
    /// Base URL of the Prometheus HTTP API; no default, as every installation differs.
    pub url: Option<String>,
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer …`, re-read on every query so that rotated tokens work.
    pub bearer_token_file: Option<PathBuf>,
    /// PEM bundle to trust for an `https` URL, in addition to the system roots.
    pub ca_file: Option<PathBuf>,
    pub queries: PrometheusQueries,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        Self {
            url: None,
            timeout: Duration::from_secs(10),
            bearer_token_file: None,
            ca_file: None,
            queries: PrometheusQueries::default(),
        }
    }
}

/// PromQL returning one series per pod, labelled `namespace` and `pod`; overridable because
/// recording rules and label names differ between installations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PrometheusQueries {
    /// CPU in cores.
    pub cpu: String,
    /// Memory in bytes.
    pub memory: String,
}

impl Default for PrometheusQueries {
    fn default() -> Self {
        Self {
            cpu: r#"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))"#
                .into(),
            memory: r#"sum by (namespace, pod) (container_memory_working_set_bytes{container!=""})"#.into(),
        }
    }
}

/// What `/metrics` exports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Also export per-DepartmentService series; off by default because with thousands of
    /// services it multiplies the series count of every scrape.
    pub per_service: bool,
}
