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
//!
//! `cpu` and `memory` are Kubernetes quantities (`250m`, `512Mi`) or plain numbers,
//! cores and bytes as in the plan schema. Rows or entries for the same pod are summed:
//! exports often list a pod's containers separately, and a pod uses what they use.
//! Every problem is reported, each with its line (CSV) or JSON path, not just the first.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use crate::quantity::{Res, parse_cpu, parse_memory};
use crate::usage::{PodUsage, Sample};

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
        json(text)
    } else {
        csv(text)
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

/// `x` rounded, when an i64 holds it (`as` would clamp silently).
fn whole(x: f64) -> Option<i64> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let r = x.round();
    (r.is_finite() && (-LIMIT..LIMIT).contains(&r)).then_some(r as i64)
}

/// An amount as a quantity string (a bare number is cores for CPU and bytes for memory,
/// as quantities are).
fn amount(text: &str, parse: fn(&str) -> Result<i64, crate::quantity::QuantityError>) -> Result<i64, String> {
    parse(text.trim()).map_err(|e| e.to_string())
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

fn timestamp(text: &str) -> Result<Timestamp, String> {
    text.trim()
        .parse::<Timestamp>()
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2025-06-30T12:00:00Z ({e})"))
}

fn json(text: &str) -> Result<Sample, Vec<UsageError>> {
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

/// Splits CSV text (RFC 4180: quoted fields may hold commas, doubled quotes and line
/// breaks) into records, each with the line it starts on.
pub(super) fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, UsageError> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut line, mut start_line) = (1usize, 1usize);
    let (mut quoted, mut was_quoted) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            '"' => {
                return Err(UsageError {
                    line: Some(line),
                    field: None,
                    message: "a quote inside an unquoted field (quote the whole field and double the quote)"
                        .into(),
                });
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                was_quoted = false;
                if !(record.len() == 1 && record[0].trim().is_empty()) {
                    records.push((start_line, std::mem::take(&mut record)));
                }
                record.clear();
                line += 1;
                start_line = line;
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err(UsageError {
            line: Some(start_line),
            field: None,
            message: "a quoted field is never closed".into(),
        });
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((start_line, record));
    }
    Ok(records)
}

const CSV_COLUMNS: [&str; 5] = ["at", "namespace", "pod", "cpu", "memory"];

fn csv(text: &str) -> Result<Sample, Vec<UsageError>> {
    let records = csv_records(text).map_err(|e| vec![e])?;
    let Some(((header_line, header), rows)) = records.split_first() else {
        return Err(vec![UsageError {
            line: None,
            field: None,
            message: format!("empty: expected a CSV header naming {}", CSV_COLUMNS.join(", ")),
        }]);
    };
    let column = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let missing: Vec<&str> = CSV_COLUMNS.into_iter().filter(|c| column(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(vec![UsageError {
            line: Some(*header_line),
            field: None,
            message: format!(
                "the header lacks the column{} {} (expected {}; JSON starts with `{{`)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                CSV_COLUMNS.join(", ")
            ),
        }]);
    }
    let [at_i, ns_i, pod_i, cpu_i, mem_i] = CSV_COLUMNS.map(|c| column(c).unwrap_or_default());
    let mut errors = Vec::new();
    let mut latest: Option<Timestamp> = None;
    let mut pods = Vec::new();
    for (line, row) in rows {
        let line = Some(*line);
        if row.len() != header.len() {
            errors.push(UsageError {
                line,
                field: None,
                message: format!("{} fields where the header has {}", row.len(), header.len()),
            });
            continue;
        }
        let cell = |i: usize| row[i].trim();
        match timestamp(cell(at_i)) {
            Ok(t) => latest = latest.max(Some(t)),
            Err(m) => errors.push(error(line, "at", m)),
        }
        for (i, name) in [(ns_i, "namespace"), (pod_i, "pod")] {
            if cell(i).is_empty() {
                errors.push(error(line, name, "empty"));
            }
        }
        let cpu = amount(cell(cpu_i), parse_cpu).map_err(|m| errors.push(error(line, "cpu", m)));
        let memory = amount(cell(mem_i), parse_memory).map_err(|m| errors.push(error(line, "memory", m)));
        if let (Ok(cpu), Ok(memory)) = (cpu, memory) {
            pods.push(PodUsage {
                namespace: cell(ns_i).to_owned(),
                pod: cell(pod_i).to_owned(),
                used: Res::new(cpu, memory),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match latest {
        Some(at) => sample(at, pods),
        None => Err(vec![UsageError {
            line: Some(*header_line),
            field: None,
            message: "no rows after the header, so there is no sample".into(),
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn govcloud_json_takes_quantities_or_numbers_and_sums_a_pod_listed_twice() {
        let s = parse(
            r#"{"at": "2025-06-30T12:00:00Z", "pods": [
                {"namespace": "dept-finance", "pod": "ledger-5f6d7c8b9-aaaaa", "cpu": "250m", "memory": "512Mi"},
                {"namespace": "dept-finance", "pod": "ledger-5f6d7c8b9-aaaaa", "cpu": 0.05, "memory": 1048576},
                {"namespace": "dept-education", "pod": "portal-5f6d7c8b9-bbbbb", "cpu": "1", "memory": "1Gi"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(s.at, at("2025-06-30T12:00:00Z"));
        assert_eq!(s.pods.len(), 2, "{s:?}");
        assert_eq!(s.pods[0].namespace, "dept-education", "sorted");
        assert_eq!(s.pods[1].used, Res::new(300, 513 << 20));
    }

    #[test]
    fn govcloud_json_reports_every_problem_with_its_path() {
        let e = parse(
            r#"{"at": "yesterday", "pod": [], "pods": [
                {"namespace": "", "pod": "a-1-2", "cpu": "lots", "memory": -1}
            ]}"#,
        )
        .unwrap_err();
        let text: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 5, "{text:#?}");
        assert!(text[0].starts_with("pod: unknown field"), "{text:#?}");
        assert!(
            text[1].starts_with("at: \"yesterday\" is not an RFC 3339 time"),
            "{text:#?}"
        );
        assert_eq!(text[2], "pods[0].namespace: a non-empty string is required");
        assert!(
            text[3].starts_with("pods[0].cpu: \"lots\" is not a Kubernetes quantity"),
            "{text:#?}"
        );
        assert_eq!(
            text[4],
            "pods[0].memory: -1 is not a non-negative number of bytes"
        );
    }

    #[test]
    fn malformed_json_names_the_line() {
        let e = parse("{\"at\": \"2025-06-30T12:00:00Z\",\n \"pods\": [,]}").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].line, Some(2));
        assert!(e[0].message.starts_with("malformed JSON"), "{e:?}");
    }

    #[test]
    fn a_metrics_api_pod_list_sums_containers_and_takes_the_latest_time() {
        let s = parse(
            r#"{"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "items": [
              {"metadata": {"name": "ledger-5f6d7c8b9-aaaaa", "namespace": "dept-finance"},
               "timestamp": "2025-06-30T12:00:00Z", "window": "30s",
               "containers": [{"name": "app", "usage": {"cpu": "120m", "memory": "100Mi"}},
                              {"name": "sidecar", "usage": {"cpu": "5021n", "memory": "10Mi"}}]},
              {"metadata": {"name": "x-5f6d7c8b9-bbbbb", "namespace": "dept-health"},
               "timestamp": "2025-06-30T12:00:15Z", "containers": []}
            ]}"#,
        )
        .unwrap();
        assert_eq!(s.at, at("2025-06-30T12:00:15Z"));
        assert_eq!(s.pods[0].pod, "ledger-5f6d7c8b9-aaaaa");
        assert_eq!(
            s.pods[0].used,
            Res::new(121, 110 << 20),
            "nanocores round up to a millicore"
        );
        assert_eq!(s.pods[1].used, Res::ZERO);
    }

    #[test]
    fn csv_columns_in_any_order_quoted_fields_and_extra_columns() {
        let s = parse(
            "namespace,pod,container,cpu,memory,at\r\n\
             dept-finance,ledger-5f6d7c8b9-aaaaa,app,250m,512Mi,2025-06-30T12:00:00Z\r\n\
             \"dept-finance\",\"ledger-5f6d7c8b9-aaaaa\",\"side, car\",50m,0,2025-06-30T12:00:05Z\r\n\
             \n",
        )
        .unwrap();
        assert_eq!(s.at, at("2025-06-30T12:00:05Z"));
        assert_eq!(s.pods.len(), 1);
        assert_eq!(s.pods[0].used, Res::new(300, 512 << 20));
    }

    #[test]
    fn csv_problems_name_their_lines() {
        let e = parse(
            "at,namespace,pod,cpu,memory\n\
             2025-06-30T12:00:00Z,dept-a,p-1-2,1,1Gi\n\
             2025-06-30T12:00:00Z,dept-a,p-1-2,1\n\
             noon,dept-a,,x,1Gi\n",
        )
        .unwrap_err();
        let text: Vec<String> = e.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 4, "{text:#?}");
        assert_eq!(text[0], "3: 4 fields where the header has 5");
        assert!(
            text[1].starts_with("4: at: \"noon\" is not an RFC 3339 time"),
            "{text:#?}"
        );
        assert_eq!(text[2], "4: pod: empty");
        assert!(
            text[3].starts_with("4: cpu: \"x\" is not a Kubernetes quantity"),
            "{text:#?}"
        );

        let e = parse("namespace,pod,cpu\n").unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "1: the header lacks the columns at, memory (expected at, namespace, pod, cpu, memory; JSON starts with `{`)"
        );
        let e = parse("at,namespace,pod,cpu,memory\n\"unterminated,x\n").unwrap_err();
        assert_eq!(e[0].to_string(), "2: a quoted field is never closed");
    }
}
