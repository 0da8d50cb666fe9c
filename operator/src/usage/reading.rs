//! What one reading of a usage source gives, whichever source it is.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;

use super::{PodUsage, Sample};
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
