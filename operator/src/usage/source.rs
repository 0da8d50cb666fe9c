//! The configured usage source.

use super::metrics_api::MetricsApi;
use super::prometheus::Prometheus;
use super::{Reading, Sample, UsageError};
use crate::config::{UsageConfig, UsageSource};

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
