//! Labels, metadata and selectors shared by every rendered object.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};

use crate::api::labels;
use crate::quantity::{Res, canonical_cpu, canonical_memory};

/// The label the API server puts on every Namespace; the only trustworthy way to select
/// a namespace by name, because no tenant can set it on another namespace.
pub(super) const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

pub(super) type Labels = BTreeMap<String, String>;

/// Labels that a set of standard keys builds up, starting with `managed-by`.
pub(super) fn managed() -> Labels {
    Labels::from([(labels::MANAGED_BY.into(), labels::MANAGED_BY_VALUE.into())])
}

/// `base` plus `key: value`.
pub(super) fn with(mut base: Labels, key: &str, value: impl Into<String>) -> Labels {
    base.insert(key.into(), value.into());
    base
}

pub(super) fn object_meta(name: &str, namespace: Option<&str>, labels: Labels) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(Into::into),
        labels: Some(labels),
        ..ObjectMeta::default()
    }
}

pub(super) fn match_labels(labels: Labels) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        ..LabelSelector::default()
    }
}

/// Selects everything (the `{}` selector).
pub(super) fn everything() -> LabelSelector {
    LabelSelector::default()
}

pub(super) fn namespace_named(name: &str) -> LabelSelector {
    match_labels(Labels::from([(NAMESPACE_NAME.into(), name.into())]))
}

pub(super) fn namespaces_in(names: Vec<String>) -> LabelSelector {
    label_in(NAMESPACE_NAME, names)
}

pub(super) fn label_in(key: &str, values: Vec<String>) -> LabelSelector {
    LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: key.into(),
            operator: "In".into(),
            values: Some(values),
        }]),
        ..LabelSelector::default()
    }
}

pub(super) fn label_exists(key: &str) -> LabelSelector {
    LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: key.into(),
            operator: "Exists".into(),
            values: None,
        }]),
        ..LabelSelector::default()
    }
}

/// `cpu`/`memory` quantities of an amount; a zero dimension is left out, since it means
/// "not set" and leaving it out lets the namespace's LimitRange default it.
pub(super) fn resource_map(res: Res) -> Option<BTreeMap<String, Quantity>> {
    let mut map = BTreeMap::new();
    if res.cpu_millis > 0 {
        map.insert("cpu".to_owned(), Quantity(canonical_cpu(res.cpu_millis)));
    }
    if res.memory_bytes > 0 {
        map.insert("memory".to_owned(), Quantity(canonical_memory(res.memory_bytes)));
    }
    (!map.is_empty()).then_some(map)
}
