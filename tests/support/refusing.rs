//! A double (kube-fake-client) whose API server refuses chosen writes for as long as a
//! rule says so, as an admission policy or a throttling server would, and counts every
//! write request by method and path: how often the operator tried each.
//!
//! The refusals are HTTP answers below `kube::Client` (a metav1 Status, with
//! `details.retryAfterSeconds` and the `Retry-After` header for a 429), so they reach
//! the operator as a real API server's would. Like `fake_cluster`, the client has no
//! retry layer of kube's own.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use govcloud::plan::Snapshot;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;

use super::fake_cluster::{is_write, services_double};

/// Writes whose path ends with `path_suffix` are answered with `code`.
#[derive(Clone, Debug)]
pub struct Rule {
    pub path_suffix: String,
    pub code: StatusCode,
    pub reason: &'static str,
    pub message: String,
    /// Sent as `details.retryAfterSeconds` and as the `Retry-After` header.
    pub retry_after: Option<u32>,
}

/// The rules in force, and the write requests seen.
#[derive(Debug, Default)]
pub struct Refusals {
    pub rules: Vec<Rule>,
    /// `METHOD path` → how many such requests were sent.
    pub attempts: BTreeMap<String, usize>,
}

impl Refusals {
    /// Write requests whose path ends with `suffix`.
    pub fn attempts_at(&self, suffix: &str) -> usize {
        self.attempts
            .iter()
            .filter(|(k, _)| k.ends_with(suffix))
            .map(|(_, n)| n)
            .sum()
    }
}

fn answer(rule: &Rule) -> Response<Body> {
    let mut status = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": rule.message,
        "reason": rule.reason,
        "code": rule.code.as_u16(),
    });
    let mut response = Response::builder()
        .status(rule.code)
        .header(CONTENT_TYPE, "application/json");
    if let Some(seconds) = rule.retry_after {
        status["details"] = serde_json::json!({ "retryAfterSeconds": seconds });
        response = response.header(RETRY_AFTER, seconds.to_string());
    }
    response
        .body(Body::from(serde_json::to_vec(&status).unwrap()))
        .unwrap()
}

/// A double holding the estate's DepartmentServices, refusing writes per the rules.
pub async fn refusing_cluster(estate: &Snapshot) -> (Client, Arc<Mutex<Refusals>>) {
    let double = services_double(estate).await;
    let refusals = Arc::new(Mutex::new(Refusals::default()));
    let shared = refusals.clone();
    let service = tower::service_fn(move |request: Request<Body>| {
        let inner = double.clone();
        let refused = {
            let mut r = shared.lock().unwrap();
            let path = request.uri().path().to_string();
            if is_write(request.method()) {
                *r.attempts
                    .entry(format!("{} {path}", request.method()))
                    .or_default() += 1;
                r.rules
                    .iter()
                    .find(|rule| path.ends_with(&rule.path_suffix))
                    .map(answer)
            } else {
                None
            }
        };
        async move {
            match refused {
                Some(response) => Ok::<_, tower::BoxError>(response),
                None => Ok(inner.send(request).await?),
            }
        }
    });
    (Client::new(service, "default"), refusals)
}
