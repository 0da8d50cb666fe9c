//! govcloud's JSON usage file and the metrics API's `PodMetricsList`.

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::{BEYOND_CONTAINERS, UsageError, amount, error, sample, timestamp};
use crate::quantity::{Res, parse_cpu, parse_memory};
use crate::usage::{PodUsage, Sample};

/// `x` rounded, when an i64 holds it (`as` would clamp silently).
fn whole(x: f64) -> Option<i64> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let r = x.round();
    (r.is_finite() && (-LIMIT..LIMIT).contains(&r)).then_some(r as i64)
}

fn cpu_value(v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) => amount(s, parse_cpu),
        Value::Number(n) => n
            .as_f64()
            .filter(|c| c.is_finite() && *c >= 0.0)
            .ok_or_else(|| format!("{n} is not a non-negative number of cores"))
            .and_then(|c| whole(c * 1000.0).ok_or_else(|| format!("{n} cores is too large"))),
        other => Err(format!("expected a quantity or a number of cores, found {other}")),
    }
}

fn memory_value(v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) => amount(s, parse_memory),
        Value::Number(n) => n
            .as_f64()
            .filter(|b| b.is_finite() && *b >= 0.0)
            .ok_or_else(|| format!("{n} is not a non-negative number of bytes"))
            .and_then(|b| whole(b).ok_or_else(|| format!("{n} bytes is too large"))),
        other => Err(format!("expected a quantity or a number of bytes, found {other}")),
    }
}

pub(super) fn parse(text: &str) -> Result<Sample, Vec<UsageError>> {
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        vec![UsageError {
            line: Some(e.line()),
            field: None,
            message: format!("malformed JSON: {e}"),
        }]
    })?;
    if doc.get("kind").and_then(Value::as_str) == Some("PodMetricsList") {
        metrics_list(&doc)
    } else {
        govcloud_json(&doc)
    }
}

fn string_at<'a>(v: &'a Value, path: &str, errors: &mut Vec<UsageError>) -> Option<&'a str> {
    let s = v.as_str().filter(|s| !s.is_empty());
    if s.is_none() {
        errors.push(error(None, path, "a non-empty string is required"));
    }
    s
}

fn govcloud_json(doc: &Value) -> Result<Sample, Vec<UsageError>> {
    let mut errors = Vec::new();
    if let Some(map) = doc.as_object() {
        for k in map.keys().filter(|k| !matches!(k.as_str(), "at" | "pods")) {
            errors.push(error(
                None,
                k.clone(),
                "unknown field (expected `at` and `pods`, or a metrics API PodMetricsList)",
            ));
        }
    }
    let at = match doc.get("at").and_then(Value::as_str) {
        Some(s) => timestamp(s).map_err(|m| errors.push(error(None, "at", m))).ok(),
        None => {
            errors.push(error(
                None,
                "at",
                "required: when the sample was taken (RFC 3339)",
            ));
            None
        }
    };
    let mut pods = Vec::new();
    match doc.get("pods").and_then(Value::as_array) {
        Some(items) => {
            for (i, p) in items.iter().enumerate() {
                let path = |f: &str| format!("pods[{i}].{f}");
                let namespace = string_at(&p["namespace"], &path("namespace"), &mut errors);
                let pod = string_at(&p["pod"], &path("pod"), &mut errors);
                let cpu = cpu_value(&p["cpu"]).map_err(|m| errors.push(error(None, path("cpu"), m)));
                let memory =
                    memory_value(&p["memory"]).map_err(|m| errors.push(error(None, path("memory"), m)));
                if let (Some(namespace), Some(pod), Ok(cpu), Ok(memory)) = (namespace, pod, cpu, memory) {
                    pods.push(PodUsage {
                        namespace: namespace.to_owned(),
                        pod: pod.to_owned(),
                        used: Res::new(cpu, memory),
                    });
                }
            }
        }
        None => errors.push(error(None, "pods", "required: a list of per-pod usage")),
    }
    match at {
        Some(at) if errors.is_empty() => sample(at, pods),
        _ => Err(errors),
    }
}

fn metrics_list(doc: &Value) -> Result<Sample, Vec<UsageError>> {
    let mut errors = Vec::new();
    let mut latest: Option<Timestamp> = None;
    let mut pods = Vec::new();
    let Some(items) = doc.get("items").and_then(Value::as_array) else {
        return Err(vec![error(None, "items", "required: the PodMetrics of each pod")]);
    };
    for (i, item) in items.iter().enumerate() {
        let path = |f: &str| format!("items[{i}].{f}");
        let namespace = string_at(
            &item["metadata"]["namespace"],
            &path("metadata.namespace"),
            &mut errors,
        );
        let pod = string_at(&item["metadata"]["name"], &path("metadata.name"), &mut errors);
        match item["timestamp"].as_str().map(timestamp) {
            Some(Ok(t)) => latest = latest.max(Some(t)),
            Some(Err(m)) => errors.push(error(None, path("timestamp"), m)),
            None => errors.push(error(
                None,
                path("timestamp"),
                "required: when the pod was measured",
            )),
        }
        let mut used = Res::ZERO;
        for (j, c) in item["containers"].as_array().into_iter().flatten().enumerate() {
            let field = |f: &str| format!("items[{i}].containers[{j}].usage.{f}");
            match cpu_value(&c["usage"]["cpu"]).and_then(|v| {
                used.cpu_millis
                    .checked_add(v)
                    .ok_or_else(|| format!("the pod's containers' {BEYOND_CONTAINERS}"))
            }) {
                Ok(v) => used.cpu_millis = v,
                Err(m) => errors.push(error(None, field("cpu"), m)),
            }
            match memory_value(&c["usage"]["memory"]).and_then(|v| {
                used.memory_bytes
                    .checked_add(v)
                    .ok_or_else(|| format!("the pod's containers' {BEYOND_CONTAINERS}"))
            }) {
                Ok(v) => used.memory_bytes = v,
                Err(m) => errors.push(error(None, field("memory"), m)),
            }
        }
        if let (Some(namespace), Some(pod)) = (namespace, pod) {
            pods.push(PodUsage {
                namespace: namespace.to_owned(),
                pod: pod.to_owned(),
                used,
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match latest {
        Some(at) => sample(at, pods),
        None => Err(vec![error(
            None,
            "items",
            "empty: the metrics API reported no pod, so there is no sample",
        )]),
    }
}
