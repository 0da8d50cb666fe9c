//! Usage from a Prometheus server, through its HTTP API.
//!
//! Each reading makes two instant queries (`GET <url>/api/v1/query`), the configured CPU
//! and memory PromQL, evaluated at the same instant (the `time` parameter), which becomes
//! the sample's time. Each query must return an instant vector with one series per pod,
//! labelled `namespace` and `pod`: CPU in cores, memory in bytes.
//!
//! - Series of one query with the same `namespace` and `pod` are added (a query that
//!   forgot its `sum by (namespace, pod)` still gives usage per pod).
//! - A pod found by one query only counts 0 for the other (e.g. a pod too young for a
//!   `rate` over 5m).
//! - A series without a non-empty `namespace` or `pod` label, or whose value is not a
//!   finite, non-negative number (`NaN`, `+Inf`, `-1`, `"abc"`), is **skipped and
//!   counted** ([`Skipped`]), not an error: one bad series does not cost the others.
//! - The answer as a whole being unusable is an **error** ([`UsageError`]): transport
//!   failure or timeout, a non-2xx status, a Prometheus error (`status: "error"`), a body
//!   that is not JSON, or a result that is not an instant vector.
//!
//! `bearerTokenFile` is read again for every query (a rotated, projected token works);
//! `caFile` adds its PEM certificates to the system roots for an `https` URL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use reqwest::Url;
use serde_json::Value;

use super::UsageError;
use super::error::chain;
use super::reading::{PerPod, Reading, Skipped, sample_of};
use crate::config::{PrometheusConfig, PrometheusQueries};
use crate::quantity::Res;

/// A Prometheus server and the queries to ask it.
#[derive(Debug)]
pub struct Prometheus {
    /// The configured base URL, for messages.
    url: String,
    /// `<url>/api/v1/query`.
    endpoint: Url,
    client: reqwest::Client,
    timeout: Duration,
    token_file: Option<PathBuf>,
    queries: PrometheusQueries,
}

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

/// A series' labels as PromQL writes them, for a message.
fn labels(metric: Option<&Value>) -> String {
    let Some(Value::Object(map)) = metric else {
        return "{}".into();
    };
    let inner: Vec<String> = map
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s:?}"),
            other => format!("{k}={other}"),
        })
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Parses the answer to one instant query (HTTP status and body): amounts per pod, and
/// the series skipped (see the module docs for what is skipped and what is refused).
pub(crate) fn parse_answer(
    status: u16,
    body: &[u8],
    measure: Measure,
) -> Result<(Amounts, Skipped), Refusal> {
    let doc: Value = match serde_json::from_slice(body) {
        Ok(doc) => doc,
        Err(e) if is_success(status) => {
            return Err(Refusal::Malformed(format!(
                "the body is not JSON ({e}): {}",
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
    let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_string);
    if text("status").as_deref() == Some("error") || !is_success(status) {
        return Err(match (text("errorType"), text("error")) {
            (Some(error_type), Some(error)) => Refusal::Prometheus {
                status,
                error_type,
                error,
            },
            _ if is_success(status) => Refusal::Malformed(format!("status is error without an error: {doc}")),
            _ => Refusal::Status {
                status,
                body: excerpt(body),
            },
        });
    }
    if text("status").as_deref() != Some("success") {
        return Err(Refusal::Malformed(format!(
            "status is {:?}, not \"success\"",
            doc.get("status").unwrap_or(&Value::Null)
        )));
    }
    let data = doc
        .get("data")
        .ok_or_else(|| Refusal::Malformed("no data".into()))?;
    match data.get("resultType").and_then(Value::as_str) {
        Some("vector") => {}
        Some(other) => {
            return Err(Refusal::Malformed(format!(
                "resultType is {other}; the query must return an instant vector, one series per pod"
            )));
        }
        None => return Err(Refusal::Malformed("data has no resultType".into())),
    }
    let Some(result) = data.get("result").and_then(Value::as_array) else {
        return Err(Refusal::Malformed("data.result is not a list".into()));
    };

    let mut amounts = Amounts::new();
    let mut skipped = Skipped::default();
    for series in result {
        let metric = series.get("metric");
        let label = |name: &str| {
            metric
                .and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let skip =
            |why: String| move || format!("{} query: series {}: {why}", measure.name(), labels(metric));
        let (Some(namespace), Some(pod)) = (label("namespace"), label("pod")) else {
            let missing = if label("namespace").is_none() {
                "namespace"
            } else {
                "pod"
            };
            skipped.push(skip(format!("no {missing:?} label")));
            continue;
        };
        let raw = series
            .get("value")
            .and_then(Value::as_array)
            .filter(|pair| pair.len() == 2)
            .and_then(|pair| pair[1].as_str());
        let Some(raw) = raw else {
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
                *sum = sum.saturating_add(amount);
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

/// `time` as the API takes it: Unix seconds with milliseconds.
fn api_time(at: Timestamp) -> String {
    let ms = at.as_millisecond();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

impl Prometheus {
    /// A client for `config`. Fails on configuration only: a missing or malformed URL, an
    /// unreadable `caFile` or one without a certificate. The token file is read per query.
    pub fn new(config: &PrometheusConfig) -> Result<Self, UsageError> {
        let raw = config.url.as_deref().ok_or(UsageError::MissingUrl)?;
        let bad = |reason: &str| UsageError::BadUrl {
            url: raw.to_string(),
            reason: reason.to_string(),
        };
        let base = Url::parse(raw).map_err(|e| bad(&format!("not a URL: {e}")))?;
        let https = match base.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(bad("the scheme must be http or https")),
        };
        if base.query().is_some() || base.fragment().is_some() {
            return Err(bad(
                "give the base URL of the Prometheus HTTP API, without a query or fragment",
            ));
        }
        let mut endpoint = base.clone();
        endpoint
            .path_segments_mut()
            .map_err(|()| bad("cannot be a base URL"))?
            .pop_if_empty()
            .extend(["api", "v1", "query"]);

        // ring, the crate's one crypto provider; a no-op when one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("govcloud/", env!("CARGO_PKG_VERSION")));
        let mut extra_roots = Vec::new();
        if let Some(path) = &config.ca_file {
            extra_roots = read_ca(path)?;
        }
        builder = if https {
            builder.tls_certs_merge(extra_roots)
        } else {
            // Plain HTTP verifies nothing, so it needs no roots: an image without system
            // certificates still talks to an http:// Prometheus.
            builder.tls_certs_only(extra_roots)
        };
        let client = builder.build().map_err(|e| UsageError::Client {
            url: raw.to_string(),
            reason: match &config.ca_file {
                Some(ca) => format!("{} (with the certificates of caFile {ca:?})", chain(&e)),
                None => chain(&e),
            },
        })?;
        Ok(Self {
            url: raw.to_string(),
            endpoint,
            client,
            timeout: config.timeout,
            token_file: config.bearer_token_file.clone(),
            queries: config.queries.clone(),
        })
    }

    /// The configured base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// CPU and memory per pod, evaluated now.
    pub async fn read(&self) -> Result<Reading, UsageError> {
        self.read_at(Timestamp::now()).await
    }

    /// CPU and memory per pod, evaluated at `at` (to the millisecond, which is the
    /// sample's time).
    pub async fn read_at(&self, at: Timestamp) -> Result<Reading, UsageError> {
        let at = Timestamp::from_millisecond(at.as_millisecond()).unwrap_or(at);
        let (cpu, memory) = tokio::try_join!(
            self.query(&self.queries.cpu, at, Measure::Cpu),
            self.query(&self.queries.memory, at, Measure::Memory),
        )?;
        let (cpu, mut skipped) = cpu;
        let (memory, skipped_memory) = memory;
        skipped.merge(skipped_memory);
        Ok(Reading {
            sample: sample_of(at, merge(cpu, memory)),
            skipped,
        })
    }

    async fn query(
        &self,
        query: &str,
        at: Timestamp,
        measure: Measure,
    ) -> Result<(Amounts, Skipped), UsageError> {
        let mut url = self.endpoint.clone();
        url.query_pairs_mut()
            .append_pair("query", query)
            .append_pair("time", &api_time(at));
        let mut request = self.client.get(url);
        if let Some(path) = &self.token_file {
            request = request.bearer_auth(read_token(path).await?);
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                UsageError::Timeout {
                    url: self.url.clone(),
                    query: query.to_string(),
                    timeout: self.timeout,
                }
            } else {
                UsageError::Request {
                    url: self.url.clone(),
                    query: query.to_string(),
                    reason: chain(&e),
                }
            }
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?;
        parse_answer(status, &body, measure).map_err(|refusal| {
            let (url, query) = (self.url.clone(), query.to_string());
            match refusal {
                Refusal::Prometheus {
                    status,
                    error_type,
                    error,
                } => UsageError::Prometheus {
                    url,
                    query,
                    status,
                    error_type,
                    error,
                },
                Refusal::Status { status, body } => UsageError::Status {
                    url,
                    query,
                    status,
                    body,
                },
                Refusal::Malformed(reason) => UsageError::Malformed { url, query, reason },
            }
        })
    }
}

fn read_ca(path: &Path) -> Result<Vec<reqwest::Certificate>, UsageError> {
    let refuse = |reason: String| UsageError::File {
        field: "caFile",
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| refuse(e.to_string()))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| refuse(chain(&e)))?;
    if certs.is_empty() {
        return Err(refuse(
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(certs)
}

/// The token in `path`, trimmed; read for every query so that a rotated token is used.
async fn read_token(path: &Path) -> Result<String, UsageError> {
    let refuse = |reason: String| UsageError::File {
        field: "bearerTokenFile",
        path: path.to_path_buf(),
        reason,
    };
    // Off the async workers: the file may sit on a slow volume.
    let owned = path.to_path_buf();
    let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(owned))
        .await
        .map_err(|e| refuse(e.to_string()))?
        .map_err(|e| refuse(e.to_string()))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(refuse("is empty".into()));
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str, measure: Measure) -> (Amounts, Skipped) {
        parse_answer(200, body.as_bytes(), measure).expect("usable answer")
    }

    fn key(ns: &str, pod: &str) -> (String, String) {
        (ns.into(), pod.into())
    }

    #[test]
    fn a_vector_gives_amounts_per_pod() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"namespace":"dept-finance","pod":"ledger-5f6d7c8b9-aaaaa"},"value":[1800000000.5,"0.25"]},
            {"metric":{"namespace":"dept-finance","pod":"ledger-5f6d7c8b9-bbbbb"},"value":[1800000000.5,"1.2345"]},
            {"metric":{"namespace":"dept-finance","pod":"ledger-5f6d7c8b9-bbbbb"},"value":[1800000000.5,"0.5"]},
            {"metric":{"namespace":"dept-health","pod":"idle-5f6d7c8b9-ccccc"},"value":[1800000000.5,"0"]}
        ]},"warnings":["ignored"]}"#;
        let (cpu, skipped) = ok(body, Measure::Cpu);
        assert_eq!(skipped, Skipped::default());
        assert_eq!(cpu[&key("dept-finance", "ledger-5f6d7c8b9-aaaaa")], 250);
        assert_eq!(
            cpu[&key("dept-finance", "ledger-5f6d7c8b9-bbbbb")],
            1235 + 500,
            "series of one pod are added; cores rounded to millicores"
        );
        assert_eq!(cpu[&key("dept-health", "idle-5f6d7c8b9-ccccc")], 0);

        let (memory, _) = ok(body, Measure::Memory);
        assert_eq!(
            memory[&key("dept-finance", "ledger-5f6d7c8b9-aaaaa")],
            0,
            "0.25 B rounds to 0"
        );
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"namespace":"a","pod":"p-1-2"},"value":[1,"1.073741824e+09"]}]}}"#;
        assert_eq!(ok(body, Measure::Memory).0[&key("a", "p-1-2")], 1 << 30);
    }

    #[test]
    fn bad_series_are_skipped_and_counted_not_fatal() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"namespace":"a","pod":"good-1-2"},"value":[1,"2"]},
            {"metric":{"namespace":"a","pod":"nan-1-2"},"value":[1,"NaN"]},
            {"metric":{"namespace":"a","pod":"inf-1-2"},"value":[1,"+Inf"]},
            {"metric":{"namespace":"a","pod":"neg-1-2"},"value":[1,"-0.5"]},
            {"metric":{"namespace":"a","pod":"word-1-2"},"value":[1,"lots"]},
            {"metric":{"namespace":"a","pod":"huge-1-2"},"value":[1,"1e300"]},
            {"metric":{"namespace":"a","pod":"number-1-2"},"value":[1,2]},
            {"metric":{"namespace":"a","pod":"short-1-2"},"value":[1]},
            {"metric":{"pod":"homeless-1-2"},"value":[1,"1"]},
            {"metric":{"namespace":"a","pod":""},"value":[1,"1"]},
            {"metric":{"namespace":"a"},"value":[1,"1"]},
            {"value":[1,"1"]},
            "not even an object"
        ]}}"#;
        let (cpu, skipped) = ok(body, Measure::Cpu);
        assert_eq!(cpu.len(), 1, "{cpu:?}");
        assert_eq!(cpu[&key("a", "good-1-2")], 2000);
        assert_eq!(skipped.count, 12);
        assert_eq!(
            skipped.first.as_deref(),
            Some(r#"cpu query: series {namespace="a", pod="nan-1-2"}: value "NaN" is not a finite number"#)
        );
        let (_, skipped) = ok(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"x-1-2"},"value":[1,"1"]}]}}"#,
            Measure::Memory,
        );
        assert_eq!(
            skipped.first.as_deref(),
            Some(r#"memory query: series {pod="x-1-2"}: no "namespace" label"#)
        );
    }

    #[test]
    fn unusable_answers_are_refused_with_the_reason() {
        let refused = |status, body: &str| parse_answer(status, body.as_bytes(), Measure::Cpu).unwrap_err();
        assert_eq!(
            refused(
                400,
                r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}"#
            ),
            Refusal::Prometheus {
                status: 400,
                error_type: "bad_data".into(),
                error: "invalid parameter \"query\": 1:5: parse error".into()
            }
        );
        assert_eq!(
            refused(502, "<html>Bad Gateway</html>"),
            Refusal::Status {
                status: 502,
                body: "<html>Bad Gateway</html>".into()
            }
        );
        assert_eq!(
            refused(503, r#"{"message":"busy"}"#),
            Refusal::Status {
                status: 503,
                body: r#"{"message":"busy"}"#.into()
            }
        );
        let matrix = refused(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        );
        assert!(
            matches!(&matrix, Refusal::Malformed(m) if m.starts_with("resultType is matrix")),
            "{matrix:?}"
        );
        assert!(matches!(refused(200, "not json"), Refusal::Malformed(m) if m.contains("not JSON")));
        assert!(matches!(refused(200, r#"{"status":"success"}"#), Refusal::Malformed(m) if m == "no data"));
        assert!(matches!(
            refused(200, r#"{"status":"success","data":{"resultType":"vector","result":{}}}"#),
            Refusal::Malformed(m) if m.contains("not a list")
        ));
        assert!(matches!(
            refused(200, r#"{"status":"pending"}"#),
            Refusal::Malformed(_)
        ));
        let long = "x".repeat(1000);
        assert!(matches!(refused(500, &long), Refusal::Status { body, .. } if body.chars().count() == 201));
    }

    #[test]
    fn cpu_and_memory_merge_by_pod() {
        let cpu = Amounts::from([(key("a", "both-1-2"), 100), (key("a", "cpu-1-2"), 7)]);
        let memory = Amounts::from([(key("a", "both-1-2"), 5), (key("b", "mem-1-2"), 9)]);
        let pods = merge(cpu, memory);
        assert_eq!(
            pods,
            PerPod::from([
                (key("a", "both-1-2"), Res::new(100, 5)),
                (key("a", "cpu-1-2"), Res::new(7, 0)),
                (key("b", "mem-1-2"), Res::new(0, 9)),
            ])
        );
    }

    #[test]
    fn configuration_errors_name_the_key() {
        let config = |url: Option<&str>| PrometheusConfig {
            url: url.map(str::to_string),
            ..PrometheusConfig::default()
        };
        assert!(matches!(
            Prometheus::new(&config(None)),
            Err(UsageError::MissingUrl)
        ));
        for url in [
            "prometheus:9090",
            "ftp://prom:21",
            "http://prom:9090/?x=1",
            "not a url",
        ] {
            let e = Prometheus::new(&config(Some(url))).unwrap_err();
            assert!(
                matches!(&e, UsageError::BadUrl { url: u, .. } if u == url),
                "{url}: {e}"
            );
            assert!(e.to_string().starts_with("usage.prometheus.url"), "{e}");
        }
        let p = Prometheus::new(&config(Some("http://prom.monitoring:9090/prometheus/"))).unwrap();
        assert_eq!(
            p.endpoint.as_str(),
            "http://prom.monitoring:9090/prometheus/api/v1/query"
        );
        let p = Prometheus::new(&config(Some("http://prom.monitoring:9090"))).unwrap();
        assert_eq!(p.endpoint.as_str(), "http://prom.monitoring:9090/api/v1/query");

        let dir = tempfile::tempdir().unwrap();
        let no_cert = dir.path().join("ca.pem");
        std::fs::write(&no_cert, "not a certificate\n").unwrap();
        for (path, why) in [
            (no_cert, "holds no PEM certificate"),
            (dir.path().join("absent.pem"), "No such file"),
        ] {
            let c = PrometheusConfig {
                ca_file: Some(path.clone()),
                ..config(Some("https://prom:9090"))
            };
            let e = Prometheus::new(&c).unwrap_err();
            assert!(
                matches!(&e, UsageError::File { field: "caFile", path: p, reason } if *p == path && reason.contains(why)),
                "{e}"
            );
        }
    }

    #[test]
    fn api_time_has_milliseconds() {
        assert_eq!(
            api_time(Timestamp::from_millisecond(1_800_000_000_042).unwrap()),
            "1800000000.042"
        );
    }
}
