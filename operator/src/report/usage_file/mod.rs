//! The usage file of `govcloud report --usage FILE`: one sample of per-pod usage.
//!
//! Three shapes are read, told apart by content (not by file name):
//!
//! - govcloud's JSON: `{"at": RFC 3339, "pods": [{"namespace", "pod", "cpu", "memory"}]}`;
//! - the metrics API's `PodMetricsList`, as `kubectl get --raw
//!   /apis/metrics.k8s.io/v1beta1/pods` prints it: each pod's containers are summed, and
//!   the sample is as of the latest `timestamp`;
//! - CSV with a header naming the columns `at`, `namespace`, `pod`, `cpu` and `memory`,
//!   in any order (other columns are ignored): the sample is as of the latest `at`.
//!   Quoted fields are RFC 4180's, strictly: see [`table`].
//!
//! `cpu` and `memory` are Kubernetes quantities (`250m`, `512Mi`) or plain numbers,
//! cores and bytes as in the plan schema. Rows or entries for the same pod are summed:
//! exports often list a pod's containers separately, and a pod uses what they use.
//! Every problem is reported, each with its line (CSV) or JSON path, not just the first.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::jiff::Timestamp;

use crate::quantity::Res;
use crate::usage::{PodUsage, Sample};

mod json;
mod table;
#[cfg(test)]
mod tests;

#[cfg(test)]
pub(super) use table::csv_records;

/// One problem in a usage file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError {
    /// 1-based line, when known (CSV rows, JSON syntax errors).
    pub line: Option<usize>,
    /// Where in the document: a CSV column or a JSON path such as `pods[3].cpu`.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "{line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

fn error(line: Option<usize>, field: impl Into<String>, message: impl Into<String>) -> UsageError {
    UsageError {
        line,
        field: Some(field.into()),
        message: message.into(),
    }
}

/// Reads a usage file's text into a sample.
pub fn parse(text: &str) -> Result<Sample, Vec<UsageError>> {
    if text.trim_start().starts_with('{') {
        json::parse(text)
    } else {
        table::parse(text)
    }
}

/// Sums pods seen more than once and orders them, so that the sample is the same
/// whatever order the file lists them in.
/// A pod whose entries sum beyond i64 is refused, never wrapped into a negative `used`.
fn sample(at: Timestamp, pods: Vec<PodUsage>) -> Result<Sample, Vec<UsageError>> {
    let mut summed: BTreeMap<(String, String), Option<Res>> = BTreeMap::new();
    for p in pods {
        let sum = summed.entry((p.namespace, p.pod)).or_insert(Some(Res::ZERO));
        *sum = sum.and_then(|s| s.checked_add(p.used));
    }
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for ((namespace, pod), used) in summed {
        match used {
            Some(used) => out.push(PodUsage { namespace, pod, used }),
            None => errors.push(error(None, format!("pod {namespace}/{pod}"), BEYOND)),
        }
    }
    if errors.is_empty() {
        Ok(Sample { at, pods: out })
    } else {
        Err(errors)
    }
}

const BEYOND_CONTAINERS: &str = "usage sums beyond the largest representable amount";
const BEYOND: &str = "its usage sums beyond the largest representable amount";

/// An amount as a quantity string (a bare number is cores for CPU and bytes for memory,
/// as quantities are).
fn amount(text: &str, parse: fn(&str) -> Result<i64, crate::quantity::QuantityError>) -> Result<i64, String> {
    parse(text.trim()).map_err(|e| e.to_string())
}

fn timestamp(text: &str) -> Result<Timestamp, String> {
    text.trim()
        .parse::<Timestamp>()
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2025-06-30T12:00:00Z ({e})"))
}
