//! Prometheus metrics of `govcloud run`, on `/metrics`.
//!
//! Names start `govcloud_`, carry base units (`_cpu_cores`, `_memory_bytes`, `_seconds`,
//! `_ratio`) and counters end `_total`. Labels come from bounded sets only — the
//! estate's pools, departments and offerings, and fixed vocabularies (resource, level,
//! phase, reason code, object kind, change kind, error category, usage source) — so a
//! scrape's size follows the estate, not traffic or errors. Service names appear only in
//! the opt-in per-service families (`metrics.perService`).
//!
//! The plan's gauges are replaced as a whole on every pass ([`Metrics::observe_plan`]),
//! so that a deleted pool disappears; a scrape waits for a replacement to finish rather
//! than seeing half of one.

mod controller;
mod family;
mod labels;
mod pending;
#[cfg(test)]
mod pending_tests;
mod plan;
#[cfg(test)]
mod tests;

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use prometheus_client::encoding::{prometheus_text, text};
use prometheus_client::registry::Registry;

use crate::config::{MetricsConfig, UsageSource};
use crate::controller::{PassReport, Why};

/// What a pass covered: the whole estate (and why), or only changes: new
/// DepartmentServices (with any managed objects the cluster changed meanwhile), or
/// managed objects alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassKind {
    Full(Why),
    Added,
    Observed,
}

impl PassKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PassKind::Full(_) => "full",
            PassKind::Added | PassKind::Observed => "changes",
        }
    }
}
use crate::plan::Plan;
use crate::usage::{Health, Usage};

/// What Prometheus asks for first, and what `/metrics` serves it.
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The classic text format (0.0.4), for clients that do not accept OpenMetrics —
/// among them `promtool check metrics`, which reads only this.
pub const TEXT_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Every metric of the operator, in one registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    plan: plan::PlanFamilies,
    pending: pending::PendingFamilies,
    controller: controller::ControllerFamilies,
    /// Write-held while the plan's series are replaced, read-held while encoding.
    replacing: RwLock<()>,
}

impl Metrics {
    pub fn new(config: &MetricsConfig) -> Self {
        let mut registry = Registry::with_prefix("govcloud");
        let plan = plan::PlanFamilies::register(&mut registry, config.per_service);
        let pending = pending::PendingFamilies::register(&mut registry);
        let controller = controller::ControllerFamilies::register(&mut registry);
        Self {
            registry,
            plan,
            pending,
            controller,
            replacing: RwLock::new(()),
        }
    }

    /// Sets every pool, department, offering, estate (and per-service) gauge and the
    /// deferred changes from `plan`, and measured use from `usage` when there is a sample;
    /// series of objects no longer in the plan go.
    pub fn observe_plan(&self, plan: &Plan, usage: Option<&Usage>) {
        let _exclusive = self.replacing.write().unwrap_or_else(PoisonError::into_inner);
        self.plan.replace(plan, usage);
        self.pending.replace(plan);
    }

    /// Counts a completed pass, its writes and its failures (by kind and category), and
    /// its duration; a pass without failures also moves the last-success timestamp.
    pub fn observe_pass(&self, report: &PassReport, duration: Duration) {
        self.controller.pass(report, duration);
    }

    /// Counts a pass by what it covered and why.
    pub fn observe_pass_kind(&self, kind: PassKind) {
        self.controller.pass_kind(kind);
    }

    /// Counts a pass whose plan could not be rendered.
    pub fn observe_render_failure(&self, duration: Duration) {
        self.controller.render_failure(duration);
    }

    /// Records the time of one planning of the estate.
    pub fn observe_planning(&self, duration: Duration) {
        self.controller.planning(duration);
    }

    /// Records the source's health after a sampling attempt: whether it succeeded, how
    /// stale the last good sample (if any) is at `now`, and the series it had to skip.
    pub fn observe_usage_source(&self, source: UsageSource, health: &Health, now: Timestamp) {
        self.controller.usage_source(source, health, now);
    }

    /// OpenMetrics text, ending `# EOF`.
    pub fn encode(&self) -> String {
        self.encode_with(text::encode)
    }

    /// The Prometheus text format 0.0.4.
    pub fn encode_text(&self) -> String {
        self.encode_with(prometheus_text::encode)
    }

    fn encode_with(&self, encode: fn(&mut String, &Registry) -> std::fmt::Result) -> String {
        let _shared = self.replacing.read().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
