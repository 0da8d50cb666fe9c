//! Measured usage: what department workloads actually consume, next to what the plan
//! allocated to them.
//!
//! A usage source (the Kubernetes metrics API, or a Prometheus server) yields a
//! [`Sample`]: CPU and memory per pod. [`aggregate`] attributes it, purely, to
//! DepartmentServices, departments and pools by the plan: a pod belongs to the
//! Deployment it was created by (its name less the ReplicaSet and pod suffixes), an own
//! workload's Deployment is named as its service in the service's namespace, and a
//! shared instance's Deployment is named as the instance in the shared namespace; an
//! instance's usage is split evenly among its tenants. Pods that belong to nothing the
//! plan placed are counted as unattributed, not dropped silently.
//!
//! Collection ([`Collector`]) samples the configured [`Source`] every `usage.interval`
//! into a [`UsageState`], which keeps the last good sample when the source fails; the
//! estate pass attributes that sample by its latest plan and writes it to statuses.

mod aggregate;
pub mod collector;
mod error;
mod lenient;
pub mod metrics_api;
pub mod prometheus;
mod reading;
mod source;
pub mod state;

pub use aggregate::{Usage, aggregate, deployment_of};
pub use collector::Collector;
pub use error::UsageError;
pub use metrics_api::MetricsApi;
pub use prometheus::Prometheus;
pub use reading::{Reading, Skipped};
pub use source::Source;
pub use state::{Health, Transition, UsageState};

use k8s_openapi::jiff::Timestamp;

use crate::quantity::Res;

/// Usage of one pod, as a source reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodUsage {
    pub namespace: String,
    pub pod: String,
    pub used: Res,
}

/// One reading of a usage source: every pod it reported, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub at: Timestamp,
    pub pods: Vec<PodUsage>,
}
