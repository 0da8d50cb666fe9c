//! `/healthz` (the process serves) and `/readyz` (the caches have synced and the first
//! pass has run), for the kubelet's probes; `/metrics` for Prometheus.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::shutdown::Shutdown;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;

use super::RunError;
use crate::config::MetricsConfig;
use crate::metrics::{Metrics, OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};

/// Shared readiness flag.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the routes share.
#[derive(Clone, Debug)]
pub struct HttpState {
    pub ready: Readiness,
    pub metrics: Arc<Metrics>,
}

/// Probes with an empty `/metrics`: for tests of the probes alone.
impl From<Readiness> for HttpState {
    fn from(ready: Readiness) -> Self {
        Self {
            ready,
            metrics: Arc::new(Metrics::new(&MetricsConfig::default())),
        }
    }
}

impl FromRef<HttpState> for Readiness {
    fn from_ref(state: &HttpState) -> Self {
        state.ready.clone()
    }
}

impl FromRef<HttpState> for Arc<Metrics> {
    fn from_ref(state: &HttpState) -> Self {
        state.metrics.clone()
    }
}

async fn readyz(State(ready): State<Readiness>) -> (StatusCode, &'static str) {
    if ready.get() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "caches not synced\n")
    }
}

/// OpenMetrics to a client that accepts it (Prometheus asks for it first), else the
/// classic text format: what `curl … | promtool check metrics` reads, and what a client
/// that named no OpenMetrics version can parse.
async fn metrics(
    State(metrics): State<Arc<Metrics>>,
    headers: HeaderMap,
) -> impl axum::response::IntoResponse {
    let openmetrics = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    if openmetrics {
        (
            [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
            metrics.encode(),
        )
    } else {
        ([(header::CONTENT_TYPE, TEXT_CONTENT_TYPE)], metrics.encode_text())
    }
}

pub fn router(state: impl Into<HttpState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state.into())
}

/// Serves until `shutdown` resolves.
pub async fn serve(address: SocketAddr, state: HttpState, shutdown: Shutdown) -> Result<(), RunError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| RunError::Bind(address, e))?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await
        .map_err(|e| RunError::Bind(address, e))
}
