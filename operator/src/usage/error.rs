//! Why a usage source could not be built or sampled. Every variant names what failed:
//! the configuration key, the URL and PromQL query, or the Kubernetes API.

use std::path::PathBuf;
use std::time::Duration;

/// A failure of the usage layer. Building a source fails only on configuration; sampling
/// fails only on transport or a malformed answer as a whole. Bad *series* (a value that is
/// not a finite non-negative number, a missing `namespace` or `pod` label, an unparsable
/// quantity) are not errors: they are skipped and counted (see [`super::Skipped`]).
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("usage.prometheus.url is required when usage.source is prometheus")]
    MissingUrl,
    #[error("usage.prometheus.url {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("usage.prometheus.{field} {path:?}: {reason}")]
    File {
        /// The configuration key naming the file (`bearerTokenFile`, `caFile`).
        field: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("building the HTTP client for {url}: {reason}")]
    Client { url: String, reason: String },
    #[error("query {query:?} to {url} timed out after {timeout:?}")]
    Timeout {
        url: String,
        query: String,
        timeout: Duration,
    },
    #[error("query {query:?} to {url} failed: {reason}")]
    Request {
        url: String,
        query: String,
        reason: String,
    },
    #[error("query {query:?} to {url}: HTTP {status}: {body}")]
    Status {
        url: String,
        query: String,
        status: u16,
        /// The start of the answer's body, for a non-Prometheus answer (a proxy's page).
        body: String,
    },
    #[error("query {query:?} to {url}: Prometheus refused it (HTTP {status}, {error_type}): {error}")]
    Prometheus {
        url: String,
        query: String,
        status: u16,
        error_type: String,
        error: String,
    },
    #[error("query {query:?} to {url}: unexpected answer: {reason}")]
    Malformed {
        url: String,
        query: String,
        reason: String,
    },
    #[error("listing metrics.k8s.io/v1beta1 PodMetrics: {0}")]
    MetricsApi(#[source] kube::Error),
    #[error("listing metrics.k8s.io/v1beta1 PodMetrics: unexpected answer: {0}")]
    MetricsApiMalformed(String),
    #[error("sampling {source_name} did not finish within {after:?}")]
    Deadline { source_name: String, after: Duration },
}

/// An error and its sources joined with `": "`: reqwest's own message ("error sending
/// request") says little without the cause (connection refused, certificate unknown).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
