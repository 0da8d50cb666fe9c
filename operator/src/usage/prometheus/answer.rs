//! The answers of the query API, decoded into types ([`Answer`], [`Series`]), and what one
//! query's answer gives: amounts per pod, and the series skipped.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use crate::quantity::Res;
use crate::usage::lenient::or_none;
use crate::usage::reading::{PerPod, Skipped};

/// Which query a series answers: how its value converts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Measure {
    /// Cores, to millicores.
    Cpu,
    /// Bytes.
    Memory,
}

impl Measure {
    fn name(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Memory => "memory",
        }
    }

    /// The integer amount of a value, or why there is none.
    fn convert(self, value: f64) -> Result<i64, String> {
        if !value.is_finite() {
            return Err("is not a finite number".into());
        }
        if value < 0.0 {
            return Err("is negative".into());
        }
        let scaled = match self {
            Self::Cpu => value * 1000.0,
            Self::Memory => value,
        }
        .round();
        // Below 2^63, so the cast is exact enough and cannot saturate.
        if scaled >= 9.0e18 {
            return Err("is out of range".into());
        }
        Ok(scaled as i64)
    }
}

/// Why an answer as a whole is unusable; made into a [`UsageError`] naming URL and query.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    Prometheus {
        status: u16,
        error_type: String,
        error: String,
    },
    Status {
        status: u16,
        body: String,
    },
    Malformed(String),
}

/// Amounts per (namespace, pod) from one query.
pub(crate) type Amounts = BTreeMap<(String, String), i64>;

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The start of a body, for a message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// `/api/v1/query`'s answer: `status`, and `errorType` and `error` when it is `error`, or
/// `data` when it is `success`. `warnings` are not read: they do not make the numbers
/// wrong.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    status: Option<String>,
    error_type: Option<String>,
    error: Option<String>,
    data: Option<Data>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: Option<String>,
    /// Kept as JSON here and decoded series by series ([`Series`]): one malformed series
    /// is skipped with its reason, and costs neither the answer nor the other series.
    #[serde(default, deserialize_with = "or_none")]
    result: Option<Vec<Value>>,
}

/// One series of an instant vector. One that is not even an object reads as the default:
/// no labels and no value, and is skipped for its missing labels.
#[derive(Debug, Default, Deserialize)]
struct Series {
    /// Label values stay JSON so that a series with a label that is not a string can still
    /// be named in its skip message.
    #[serde(default)]
    metric: BTreeMap<String, Value>,
    #[serde(default, deserialize_with = "or_none")]
    value: Option<Point>,
}

/// `[time, "value"]`. The time is the query's own `time` parameter, so it is not read; the
/// value is text because Prometheus writes `NaN` and `+Inf` too.
#[derive(Debug, Deserialize)]
struct Point(IgnoredAny, String);

impl Answer {
    /// The series of an answer that is an instant vector, or why it is unusable as a whole.
    fn into_vector(self, status: u16, body: &[u8]) -> Result<Vec<Value>, Refusal> {
        if self.status.as_deref() == Some("error") || !is_success(status) {
            return Err(match (self.error_type, self.error) {
                (Some(error_type), Some(error)) => Refusal::Prometheus {
                    status,
                    error_type,
                    error,
                },
                _ if is_success(status) => {
                    Refusal::Malformed(format!("status is error without an error: {}", excerpt(body)))
                }
                _ => Refusal::Status {
                    status,
                    body: excerpt(body),
                },
            });
        }
        match self.status.as_deref() {
            Some("success") => {}
            Some(other) => {
                return Err(Refusal::Malformed(format!(
                    "status is {other:?}, not \"success\""
                )));
            }
            None => {
                return Err(Refusal::Malformed(
                    "no status, where \"success\" was expected".into(),
                ));
            }
        }
        let data = self.data.ok_or_else(|| Refusal::Malformed("no data".into()))?;
        match data.result_type.as_deref() {
            Some("vector") => {}
            Some(other) => {
                return Err(Refusal::Malformed(format!(
                    "resultType is {other}; the query must return an instant vector, one series per pod"
                )));
            }
            None => return Err(Refusal::Malformed("data has no resultType".into())),
        }
        data.result
            .ok_or_else(|| Refusal::Malformed("data.result is not a list".into()))
    }
}

impl Series {
    /// A label's value, when it is a non-empty string.
    fn label(&self, name: &str) -> Option<&str> {
        self.metric
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The labels as PromQL writes them, for a message.
    fn labels(&self) -> String {
        let inner: Vec<String> = self
            .metric
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s:?}"),
                other => format!("{k}={other}"),
            })
            .collect();
        format!("{{{}}}", inner.join(", "))
    }
}

/// Parses the answer to one instant query (HTTP status and body): amounts per pod, and
/// the series skipped (see the module docs for what is skipped and what is refused).
pub(crate) fn parse_answer(
    status: u16,
    body: &[u8],
    measure: Measure,
) -> Result<(Amounts, Skipped), Refusal> {
    let answer: Answer = match serde_json::from_slice(body) {
        Ok(answer) => answer,
        Err(e) if is_success(status) => {
            let what = if e.is_data() {
                "JSON, but not an answer of the query API"
            } else {
                "not JSON"
            };
            return Err(Refusal::Malformed(format!(
                "the body is {what} ({e}): {}",
                excerpt(body)
            )));
        }
        Err(_) => {
            return Err(Refusal::Status {
                status,
                body: excerpt(body),
            });
        }
    };
    let result = answer.into_vector(status, body)?;

    let mut amounts = Amounts::new();
    let mut skipped = Skipped::default();
    for element in &result {
        let series = &Series::deserialize(element).unwrap_or_default();
        let skip =
            |why: String| move || format!("{} query: series {}: {why}", measure.name(), series.labels());
        let (Some(namespace), Some(pod)) = (series.label("namespace"), series.label("pod")) else {
            let missing = if series.label("namespace").is_none() {
                "namespace"
            } else {
                "pod"
            };
            skipped.push(skip(format!("no {missing:?} label")));
            continue;
        };
        let Some(Point(_, raw)) = &series.value else {
            skipped.push(skip("value is not a [time, \"number\"] pair".into()));
            continue;
        };
        let amount = raw
            .parse::<f64>()
            .map_err(|_| "is not a number".to_string())
            .and_then(|v| measure.convert(v));
        match amount {
            Ok(amount) => {
                let sum = amounts
                    .entry((namespace.to_string(), pod.to_string()))
                    .or_default();
                // Two series of one pod past i64: neither is dropped silently.
                match sum.checked_add(amount) {
                    Some(total) => *sum = total,
                    None => skipped.push(skip(format!(
                        "value {raw:?} takes the pod's total past the largest representable amount"
                    ))),
                }
            }
            Err(why) => skipped.push(skip(format!("value {raw:?} {why}"))),
        }
    }
    Ok((amounts, skipped))
}

/// CPU and memory per pod; a pod in one map only counts 0 for the other.
pub(crate) fn merge(cpu: Amounts, memory: Amounts) -> PerPod {
    let mut pods = PerPod::new();
    for (key, millis) in cpu {
        pods.entry(key).or_default().cpu_millis = millis;
    }
    for (key, bytes) in memory {
        pods.entry(key).or_insert(Res::ZERO).memory_bytes = bytes;
    }
    pods
}

#[cfg(test)]
mod tests;
