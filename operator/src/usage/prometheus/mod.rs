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
//! The answers are decoded in [`answer`]; this module asks the queries.
//!
//! `bearerTokenFile` is read again for every query (a rotated, projected token works);
//! `caFile` adds its PEM certificates to the system roots for an `https` URL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use reqwest::Url;

use super::UsageError;
use super::error::chain;
use super::reading::{Reading, Skipped, sample_of};
use crate::config::{PrometheusConfig, PrometheusQueries};

mod answer;

use answer::{Amounts, Measure, Refusal, merge, parse_answer};

/// The largest answer read: a per-pod query over 100,000 pods is about 20 MB.
const MAX_ANSWER_BYTES: usize = 64 << 20;

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
        // Read in chunks up to a bound: a misconfigured URL or proxy must not make the
        // operator buffer an endless answer.
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len().saturating_add(chunk.len()) > MAX_ANSWER_BYTES {
                return Err(UsageError::Request {
                    url: self.url.clone(),
                    query: query.to_string(),
                    reason: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"),
                });
            }
            body.extend_from_slice(&chunk);
        }
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
