//! Label sets. Every value comes from a bounded set — the estate's pools, departments
//! and offerings, or a fixed vocabulary — so the number of series grows with the estate,
//! never with traffic, errors or time. The only object names of services appear in
//! [`ServiceLabels`], which are exported only when `metrics.perService` is on.

use prometheus_client::encoding::EncodeLabelSet;

use crate::api::ChangeKind;
use crate::config::UsageSource;

/// `resource` label values; CPU and memory amounts are separate families (one unit each),
/// ratios share one family by resource.
pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub pool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolResourceLabels {
    pub pool: String,
    pub resource: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DepartmentLabels {
    pub department: String,
}

/// A department's services not admitted, by the code of their first refusal reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DepartmentReasonLabels {
    pub department: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OfferingLabels {
    pub offering: String,
}

/// Shared instances by security level: levels are never mixed in one instance.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OfferingLevelLabels {
    pub offering: String,
    pub level: u8,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    pub phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    pub resource: &'static str,
}

/// One DepartmentService (opt-in). Not `namespace`/`service`: Prometheus' Kubernetes
/// discovery attaches those as target labels of the operator's own pod, and a clash
/// would rename ours to `exported_*`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    pub service_namespace: String,
    pub service_name: String,
    pub department: String,
}

/// A failed API call: the kind of its object (a [`crate::object::Kind`]) and its
/// [`crate::controller::Category`] — never the object's name or the error's text.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    pub kind: &'static str,
    pub category: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: &'static str,
}

/// The `source` label: the config's spelling of the usage source.
pub fn source_name(source: UsageSource) -> &'static str {
    match source {
        UsageSource::None => "none",
        UsageSource::MetricsApi => "metricsApi",
        UsageSource::Prometheus => "prometheus",
    }
}

/// A waiting change by what it changes: the [`ChangeKind`] vocabulary, never the object.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChangeKindLabels {
    pub kind: &'static str,
}

/// Every `kind` value, so that a count can export zeros for both.
pub const CHANGE_KINDS: [ChangeKind; 2] = [ChangeKind::Move, ChangeKind::Template];

/// The `kind` label: the API's spelling (`status.pendingChange.kind`).
pub fn change_kind_name(kind: ChangeKind) -> &'static str {
    // Exhaustive, so that a new kind cannot be exported without a name (and a place in
    // CHANGE_KINDS, which the metrics tests check against this match).
    match kind {
        ChangeKind::Move => "Move",
        ChangeKind::Template => "Template",
    }
}

/// Passes by what they covered (`full`, or `changes`: new services only) and why.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PassLabels {
    pub pass: &'static str,
    pub reason: &'static str,
}
