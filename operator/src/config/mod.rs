//! The operator's own configuration: `config/govcloud.yaml`, read by `govcloud run`.
//!
//! Every key is optional and takes the default that `config/govcloud.yaml` documents, so a
//! file need hold only what differs. Loading fails with every problem at once: problems of
//! form (malformed YAML, a value of the wrong type, an unknown key) carry `file:line:column`
//! and the field path; problems of meaning (out of range, contradicting another key) carry
//! the field path, and are all listed rather than only the first.

mod address;
mod decode;
pub mod duration;
mod error;
mod overrides;
mod sections;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::plan::Settings;

pub use error::{ConfigError, ConfigErrors, Position, Source};
pub use overrides::ConfigOverrides;
pub use sections::{
    BackoffConfig, ControllerConfig, HttpConfig, LeaderElectionConfig, MetricsConfig, PrometheusConfig,
    PrometheusQueries, UsageConfig, UsageSource,
};
pub use validate::{check_currency, check_namespace, check_namespace_prefix};

/// Where `govcloud run` looks for its config when no `--config` is given.
pub const DEFAULT_PATH: &str = "config/govcloud.yaml";

/// Everything `govcloud run` is configured with, besides the cluster connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct OperatorConfig {
    /// Department namespaces are `<namespacePrefix><department>`.
    pub namespace_prefix: String,
    /// Namespace of the shared offering instances.
    pub shared_namespace: String,
    /// Namespace the operator runs in.
    pub platform_namespace: String,
    /// Namespace of the ingress controller, admitted to `Public` services.
    pub ingress_namespace: String,
    /// ISO 4217 code of the pools' cost rates; costs are shown in it, never converted.
    pub currency: String,
    pub controller: ControllerConfig,
    pub leader_election: LeaderElectionConfig,
    pub http: HttpConfig,
    pub usage: UsageConfig,
    pub metrics: MetricsConfig,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        // The planner's defaults are the single source for the names it derives.
        let Settings {
            namespace_prefix,
            shared_namespace,
            platform_namespace,
            ingress_namespace,
        } = Settings::default();
        Self {
            namespace_prefix,
            shared_namespace,
            platform_namespace,
            ingress_namespace,
            currency: "CNY".into(),
            controller: ControllerConfig::default(),
            leader_election: LeaderElectionConfig::default(),
            http: HttpConfig::default(),
            usage: UsageConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl OperatorConfig {
    /// Reads and validates the config file.
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        Self::from_str(&decode::read(path)?, path)
    }

    /// Parses and validates config text; `origin` names it in errors.
    pub fn from_str(text: &str, origin: &Path) -> Result<Self, ConfigErrors> {
        let config = decode::decode(text, origin)?;
        config.validate(&Source::File(origin.to_path_buf()))?;
        Ok(config)
    }

    /// Every problem of meaning, each attributed to `origin` (or to the flag that set it,
    /// in [`OperatorConfig::resolve`]).
    pub fn validate(&self, origin: &Source) -> Result<(), ConfigErrors> {
        let errors = validate::problems(self)
            .into_iter()
            .map(|(field, message)| ConfigError::Invalid {
                origin: origin.clone(),
                field,
                message,
            })
            .collect::<Vec<_>>();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// The names the planner and renderer derive namespaces from.
    pub fn settings(&self) -> Settings {
        Settings {
            namespace_prefix: self.namespace_prefix.clone(),
            shared_namespace: self.shared_namespace.clone(),
            platform_namespace: self.platform_namespace.clone(),
            ingress_namespace: self.ingress_namespace.clone(),
        }
    }

    /// Namespace of the leader-election Lease: the configured one, else the operator's own.
    pub fn lease_namespace(&self) -> &str {
        self.leader_election
            .lease_namespace
            .as_deref()
            .unwrap_or(&self.platform_namespace)
    }
}
