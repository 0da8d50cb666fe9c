//! Counters and histograms of the planner loop, and the health of the usage source.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::jiff::Timestamp;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use super::PassKind;
use super::family::{FloatGauge, IntGauge};
use super::labels::{FailureLabels, PassLabels, SourceLabels, source_name};
use crate::config::UsageSource;
use crate::controller::{PassReport, Why};
use crate::usage::Health;

/// A full pass takes milliseconds on a small estate and over a second on 10,000 services
/// (docs/performance.md); the buckets span both with room for a slow API server.
const PASS_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Planning alone is pure and much faster: ~25 ms for 10,000 services (release build).
const PLANNING_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug)]
pub struct ControllerFamilies {
    passes: Counter,
    passes_by_reason: Family<PassLabels, Counter>,
    render_failures: Counter,
    failures: Family<FailureLabels, Counter>,
    applied: Counter,
    deleted: Counter,
    deferred: Counter,
    status_writes: Counter,
    events: Counter,
    finalizer_writes: Counter,
    pass_duration: Histogram,
    planning_duration: Histogram,
    last_success: FloatGauge,
    source_up: Family<SourceLabels, IntGauge>,
    source_staleness: Family<SourceLabels, FloatGauge>,
    source_skipped: Family<SourceLabels, IntGauge>,
}

impl ControllerFamilies {
    pub fn register(r: &mut Registry) -> Self {
        let counter = |r: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            r.register(name, help, c.clone());
            c
        };
        let families = Self {
            passes: counter(
                r,
                "passes",
                "Estate passes (reconciles of the whole estate) started",
            ),
            render_failures: counter(
                r,
                "pass_render_failures",
                "Passes whose plan could not be rendered; the whole pass backs off",
            ),
            failures: Family::default(),
            passes_by_reason: Family::default(),
            applied: counter(
                r,
                "objects_applied",
                "Objects created or reverted by server-side apply",
            ),
            deleted: counter(
                r,
                "objects_deleted",
                "Managed objects swept because no longer rendered",
            ),
            deferred: counter(
                r,
                "writes_deferred",
                "Writes left for a later pass, their object in backoff",
            ),
            status_writes: counter(
                r,
                "status_writes",
                "Status subresource writes (only where a status changed)",
            ),
            events: counter(r, "events_published", "Kubernetes Events published for decisions"),
            finalizer_writes: counter(
                r,
                "finalizer_writes",
                "Finalizers added to, or released from, pools and departments",
            ),
            pass_duration: Histogram::new(PASS_BUCKETS),
            planning_duration: Histogram::new(PLANNING_BUCKETS),
            last_success: FloatGauge::default(),
            source_up: Family::default(),
            source_staleness: Family::default(),
            source_skipped: Family::default(),
        };
        r.register(
            "passes_by_reason",
            "Passes by what they covered (full: the whole estate; changes: new DepartmentServices and managed objects the cluster changed) and why (full: first, timer, usage, changed, overflow, out_of_order, several; changes: added, observed)",
            families.passes_by_reason.clone(),
        );
        // Every series from the start at zero: `rate()` and `increase()` see the first
        // pass of a reason instead of a series appearing out of nothing.
        let kinds = Why::ALL
            .into_iter()
            .map(PassKind::Full)
            .chain([PassKind::Added, PassKind::Observed]);
        for kind in kinds {
            let _ = families.passes_by_reason.get_or_create(&pass_labels(kind));
        }
        r.register(
            "pass_failures",
            "Failed API calls during passes, by object kind and category; the category decides the retry (conflict: next pass, throttled: Retry-After, server: backoff, rejected: parked until a change)",
            families.failures.clone(),
        );
        r.register_with_unit(
            "pass_duration",
            "Time of one estate pass: plan, render, apply, sweep, statuses, finalizers",
            Unit::Seconds,
            families.pass_duration.clone(),
        );
        r.register_with_unit(
            "planning_duration",
            "Time of the pure planning of the estate",
            Unit::Seconds,
            families.planning_duration.clone(),
        );
        r.register_with_unit(
            "last_successful_pass_timestamp",
            "Unix time at which the last pass without a failed call ended",
            Unit::Seconds,
            families.last_success.clone(),
        );
        r.register(
            "usage_source_up",
            "1 when the last sample of the usage source succeeded, else 0",
            families.source_up.clone(),
        );
        r.register_with_unit(
            "usage_source_staleness",
            "Seconds since the usage source's last successful sample (absent before the first)",
            Unit::Seconds,
            families.source_staleness.clone(),
        );
        r.register(
            "usage_source_skipped_series",
            "Series of the last good usage sample that could not be used (no pod label, not a finite number)",
            families.source_skipped.clone(),
        );
        families
    }

    pub fn pass(&self, report: &PassReport, duration: Duration) {
        self.passes.inc();
        self.pass_duration.observe(duration.as_secs_f64());
        for e in &report.errors {
            let labels = FailureLabels {
                kind: e.object.kind().as_str(),
                category: e.category.as_str(),
            };
            self.failures.get_or_create(&labels).inc();
        }
        let n = |x: usize| u64::try_from(x).unwrap_or(u64::MAX);
        self.applied.inc_by(n(report.summary.applied));
        self.deleted.inc_by(n(report.summary.deleted));
        self.deferred.inc_by(n(report.summary.deferred));
        self.status_writes.inc_by(n(report.status_writes));
        self.events.inc_by(n(report.events));
        self.finalizer_writes.inc_by(n(report.finalizer_writes));
        if report.errors.is_empty() {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            self.last_success.set(now.as_secs_f64());
        }
    }

    pub fn pass_kind(&self, kind: PassKind) {
        self.passes_by_reason.get_or_create(&pass_labels(kind)).inc();
    }

    pub fn render_failure(&self, duration: Duration) {
        self.passes.inc();
        self.render_failures.inc();
        self.pass_duration.observe(duration.as_secs_f64());
    }

    pub fn planning(&self, duration: Duration) {
        self.planning_duration.observe(duration.as_secs_f64());
    }

    pub fn usage_source(&self, source: UsageSource, health: &Health, now: Timestamp) {
        let labels = SourceLabels {
            source: source_name(source),
        };
        let up = health.up == Some(true);
        self.source_up.get_or_create(&labels).set(i64::from(up));
        let skipped = i64::try_from(health.skipped.count).unwrap_or(i64::MAX);
        self.source_skipped.get_or_create(&labels).set(skipped);
        match health.sampled_at {
            Some(at) => {
                let seconds = now.duration_since(at).as_secs_f64().max(0.0);
                self.source_staleness.get_or_create(&labels).set(seconds);
            }
            None => {
                self.source_staleness.remove(&labels);
            }
        }
    }
}

fn pass_labels(kind: PassKind) -> PassLabels {
    let (pass, reason) = match kind {
        PassKind::Full(why) => ("full", why.as_str()),
        PassKind::Added => ("changes", "added"),
        PassKind::Observed => ("changes", "observed"),
    };
    PassLabels { pass, reason }
}
