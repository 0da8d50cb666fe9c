//! Command-line flags of `govcloud run` that win over the config file.

use std::net::SocketAddr;
use std::path::Path;

use super::validate::path;
use super::{ConfigError, ConfigErrors, OperatorConfig, Source, decode};
use crate::load::FieldPath;

/// The flags that can override a config key; `None` leaves the file's value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigOverrides {
    /// `--leader-elect` → `leaderElection.enabled`
    pub leader_elect: Option<bool>,
    /// `--concurrency` → `controller.concurrency`
    pub concurrency: Option<u32>,
    /// `--http-address` → `http.address`
    pub http_address: Option<SocketAddr>,
    /// `--namespace-prefix` → `namespacePrefix`
    pub namespace_prefix: Option<String>,
}

impl ConfigOverrides {
    /// The flags given, with the field each sets, so that a bad value is blamed on the flag.
    fn given(&self) -> Vec<(&'static str, FieldPath)> {
        [
            (
                self.leader_elect.is_some(),
                "--leader-elect",
                path(&["leaderElection", "enabled"]),
            ),
            (
                self.concurrency.is_some(),
                "--concurrency",
                path(&["controller", "concurrency"]),
            ),
            (
                self.http_address.is_some(),
                "--http-address",
                path(&["http", "address"]),
            ),
            (
                self.namespace_prefix.is_some(),
                "--namespace-prefix",
                path(&["namespacePrefix"]),
            ),
        ]
        .into_iter()
        .filter_map(|(given, flag, field)| given.then_some((flag, field)))
        .collect()
    }
}

impl OperatorConfig {
    /// This config with every flag given replacing the key it stands for.
    pub fn overrides(mut self, flags: &ConfigOverrides) -> Self {
        if let Some(enabled) = flags.leader_elect {
            self.leader_election.enabled = enabled;
        }
        if let Some(concurrency) = flags.concurrency {
            self.controller.concurrency = concurrency;
        }
        if let Some(address) = flags.http_address {
            self.http.address = address;
        }
        if let Some(prefix) = &flags.namespace_prefix {
            self.namespace_prefix.clone_from(prefix);
        }
        self
    }

    /// What `govcloud run` starts with: the file (or the defaults without one), then the
    /// flags, validated together so that a flag may repair a file value and a bad flag is
    /// reported as the flag's.
    pub fn resolve(file: Option<&Path>, flags: &ConfigOverrides) -> Result<Self, ConfigErrors> {
        let (config, origin) = match file {
            Some(file) => {
                let config = decode::decode(&decode::read(file)?, file)?;
                (config, Source::File(file.to_path_buf()))
            }
            None => (Self::default(), Source::Defaults),
        };
        let config = config.overrides(flags);
        let given = flags.given();
        config.validate(&origin).map_err(|ConfigErrors(errors)| {
            ConfigErrors(
                errors
                    .into_iter()
                    .map(|mut error| {
                        if let ConfigError::Invalid { origin, field, .. } = &mut error
                            && let Some((flag, _)) = given.iter().find(|(_, f)| f == field)
                        {
                            *origin = Source::Flag(flag);
                        }
                        error
                    })
                    .collect(),
            )
        })?;
        Ok(config)
    }
}
