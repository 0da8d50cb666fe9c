//! The configured usage source, and what one reading of it gives.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;

use super::metrics_api::MetricsApi;
use super::prometheus::Prometheus;
use super::{PodUsage, Sample, UsageError};
use crate::config::{UsageConfig, UsageSource};
use crate::quantity::Res;

/// Series (Prometheus) or pods (metrics API) a reading left out because they were
/// unusable: how many, and why the first one was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    pub count: usize,
    pub first: Option<String>,
}

impl Skipped {
    pub(crate) fn push(&mut self, why: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some(why());
        }
        self.count += 1;
    }

    pub(crate) fn merge(&mut self, other: Skipped) {
        if self.first.is_none() {
            self.first = other.first;
        }
        self.count += other.count;
    }
}

/// One reading of a source: the sample, and what it left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
    pub sample: Sample,
    pub skipped: Skipped,
}

/// Usage per pod, keyed by (namespace, pod), summed as series arrive.
pub(crate) type PerPod = BTreeMap<(String, String), Res>;

pub(crate) fn sample_of(at: Timestamp, pods: PerPod) -> Sample {
    Sample {
        at,
        pods: pods
            .into_iter()
            .map(|((namespace, pod), used)| PodUsage { namespace, pod, used })
            .collect(),
    }
}

/// Where usage is measured (`usage.source`).
#[derive(Debug)]
pub enum Source {
    Prometheus(Prometheus),
    MetricsApi(MetricsApi),
}

impl Source {
    /// The source `config` names, or `None` for `source: none`. `client` is used by the
    /// metrics API only. Fails on configuration (URL, token or CA file) only; nothing is
    /// contacted here.
    pub fn from_config(config: &UsageConfig, client: &kube::Client) -> Result<Option<Self>, UsageError> {
        Ok(match config.source {
            UsageSource::None => None,
            UsageSource::MetricsApi => Some(Self::MetricsApi(MetricsApi::new(client.clone()))),
            UsageSource::Prometheus => Some(Self::Prometheus(Prometheus::new(&config.prometheus)?)),
        })
    }

    /// What the source is, for logs: `prometheus <url>` or `metrics.k8s.io`.
    pub fn name(&self) -> String {
        match self {
            Self::Prometheus(p) => format!("prometheus {}", p.url()),
            Self::MetricsApi(_) => "metrics.k8s.io/v1beta1".to_string(),
        }
    }

    /// Reads usage per pod now.
    pub async fn read(&self) -> Result<Reading, UsageError> {
        match self {
            Self::Prometheus(p) => p.read().await,
            Self::MetricsApi(m) => m.read().await,
        }
    }

    /// Usage per pod now, without the count of what was skipped.
    pub async fn sample(&self) -> Result<Sample, UsageError> {
        self.read().await.map(|r| r.sample)
    }
}
