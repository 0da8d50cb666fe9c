//! An in-process API server double (kube-fake-client) holding an estate, behind an
//! HTTP layer that counts every write request and can fail any one of them, or act as
//! one arrives and hold it there for a while.
//!
//! The faults are injected between `kube::Client` and the double, as HTTP answers or
//! transport errors, so they reach the operator as a real API server's would: kube
//! turns them into its own errors (`kube::Error::Api` carrying the Status, or
//! `kube::Error::Service` for a transport failure), and nothing above the layer can
//! tell that a fault was injected.
//!
//! A client built from a kubeconfig (`Client::try_default`, as the operator's) also
//! has kube's retry layer, which retries a 429, 503 or 504 up to 15 times, honouring
//! `Retry-After`. This client has none: what is injected here is what the operator
//! sees once those retries are spent, or at once for a 500, 409 or timeout.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use govcloud::api::DepartmentService;
use govcloud::controller::{ApplyError, managed_kinds, managed_selector};
use govcloud::load::load_paths;
use govcloud::object::Kind;
use govcloud::plan::Snapshot;
use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use kube::client::Body;
use kube_fake_client::ClientBuilder;
use tower::BoxError;

pub fn now() -> Time {
    Time(Timestamp::from_second(1_800_000_000).unwrap())
}

/// How an injected failure answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 500 Internal Server Error (reason InternalError); the write is not applied.
    Server,
    /// 409 Conflict (reason Conflict); the write is not applied.
    Conflict,
    /// 429 Too Many Requests (reason TooManyRequests) with `Retry-After: 1`; the write
    /// is not applied.
    Throttled,
    /// The client gives up before the request reaches the server, with the
    /// `io::ErrorKind::TimedOut` error a client-side timeout produces; not applied.
    Timeout,
    /// The server applies the write, but its answer is lost and the client times out
    /// as for `Timeout`: the caller cannot tell whether the write happened.
    LostResponse,
}

impl Fault {
    pub const ALL: [Fault; 5] = [
        Fault::Server,
        Fault::Conflict,
        Fault::Throttled,
        Fault::Timeout,
        Fault::LostResponse,
    ];

    /// The status code, reason and message of a fault the server answers; None for
    /// the timeouts, which get no answer.
    fn answer(self) -> Option<(StatusCode, &'static str, &'static str)> {
        match self {
            Fault::Server => Some((
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "Internal error occurred: injected failure",
            )),
            Fault::Conflict => Some((
                StatusCode::CONFLICT,
                "Conflict",
                "Operation cannot be fulfilled: injected conflict",
            )),
            Fault::Throttled => Some((
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests, please try again later.",
            )),
            Fault::Timeout | Fault::LostResponse => None,
        }
    }
}

/// Whether a request is a write: every POST, PUT, PATCH and DELETE, whatever its path
/// (creates, server-side applies, patches of the status subresource, deletes, and the
/// creates and patches of Events). Gets, lists and watches never are.
///
/// What the client sends is counted, including requests the double then refuses, so
/// "a resync makes no write" means that no write request left the client at all.
pub fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Something done as one write arrives: `act` runs as the write numbered `at` (from 0,
/// over the life of the double) arrives, and that write is then held for `hold` before
/// it goes on, so that it is still in flight for a while after `act`.
pub struct Interception {
    pub at: usize,
    pub act: Box<dyn FnOnce() + Send>,
    pub hold: Duration,
}

impl std::fmt::Debug for Interception {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interception")
            .field("at", &self.at)
            .field("hold", &self.hold)
            .finish_non_exhaustive()
    }
}

/// Counts write requests; fails the one numbered `fail_at` (from 0, over the life of
/// the double).
#[derive(Debug, Default)]
pub struct Writes {
    pub count: usize,
    pub fail_at: Option<(usize, Fault)>,
    /// How many writes were failed.
    pub failed: usize,
    /// Every write request in order, as `METHOD path` (`requests.len() == count`).
    pub requests: Vec<String>,
    /// Runs once, when its write arrives.
    pub intercept: Option<Interception>,
    /// Writes whose answer (or injected failure) reached the client: `count - answered`
    /// are in flight.
    pub answered: usize,
}

/// What to do with an arriving request.
#[derive(Default)]
struct Arrival {
    write: bool,
    fault: Option<Fault>,
    hold: Duration,
}

impl Writes {
    /// Records a request; returns the fault to inject into it, if any, and how long to
    /// hold it.
    fn on_request<B>(&mut self, request: &Request<B>) -> Arrival {
        if !is_write(request.method()) {
            return Arrival::default();
        }
        let n = self.count;
        self.count += 1;
        self.requests
            .push(format!("{} {}", request.method(), request.uri().path()));
        let mut hold = Duration::ZERO;
        if self.intercept.as_ref().is_some_and(|i| i.at == n) {
            let interception = self.intercept.take().expect("checked just above");
            (interception.act)();
            hold = interception.hold;
        }
        let fault = match self.fail_at {
            Some((at, fault)) if at == n => {
                self.failed += 1;
                Some(fault)
            }
            _ => None,
        };
        Arrival {
            write: true,
            fault,
            hold,
        }
    }
}

/// The error a client-side timeout hands to kube, which wraps it in
/// `kube::Error::Service`.
fn timed_out() -> BoxError {
    Box::new(io::Error::new(
        io::ErrorKind::TimedOut,
        "injected: request timed out",
    ))
}

/// A metav1 Status answer, as the API server sends for a refused request.
fn refusal(code: StatusCode, reason: &str, message: &str) -> Response<Body> {
    let mut status = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    let mut response = Response::builder()
        .status(code)
        .header(CONTENT_TYPE, "application/json");
    if code == StatusCode::TOO_MANY_REQUESTS {
        status["details"] = serde_json::json!({ "retryAfterSeconds": 1 });
        response = response.header(RETRY_AFTER, "1");
    }
    response
        .body(Body::from(serde_json::to_vec(&status).unwrap()))
        .unwrap()
}

/// A client whose requests go on to `inner`, with writes counted, held and failed per
/// `writes`.
fn faulty(inner: Client, writes: Arc<Mutex<Writes>>) -> Client {
    let service = tower::service_fn(move |request: Request<Body>| {
        let inner = inner.clone();
        let writes = writes.clone();
        let arrival = writes.lock().unwrap().on_request(&request);
        async move {
            if !arrival.hold.is_zero() {
                tokio::time::sleep(arrival.hold).await;
            }
            let answer = answer(inner, request, arrival.fault).await;
            if arrival.write {
                writes.lock().unwrap().answered += 1;
            }
            answer
        }
    });
    Client::new(service, "default")
}

/// The double's answer to `request`, or the injected `fault`.
async fn answer(
    inner: Client,
    request: Request<Body>,
    fault: Option<Fault>,
) -> Result<Response<Body>, BoxError> {
    let Some(fault) = fault else {
        return Ok(inner.send(request).await?);
    };
    if let Some((code, reason, message)) = fault.answer() {
        return Ok(refusal(code, reason, message));
    }
    if fault == Fault::LostResponse {
        // Whatever the server answered, the client never hears it.
        let _ = inner.send(request).await;
    }
    Err(timed_out())
}

/// An estate from manifests, with the statuses of its cluster-scoped objects settled.
///
/// kube-fake-client 0.3 registers every custom resource as namespaced (it cannot tell a
/// kind's scope) and refuses a cluster-scoped object without a namespace, so pools,
/// departments, offerings and policies cannot live in it. They stay in the test, as the
/// operator's caches would hold them, with the statuses a pass would write (computed by
/// the pure `status` functions, which are tested on their own); the DepartmentServices
/// live in the double and are written through it.
pub fn settled_estate(path: &Path) -> Snapshot {
    let mut s = load_paths(&[path.to_path_buf()]).expect("estate loads").snapshot;
    settle(&mut s);
    s
}

/// Gives the cluster-scoped objects of `s` what a converged operator would have written
/// to them: their statuses, and govcloud's finalizer on pools and departments.
pub fn settle(s: &mut Snapshot) {
    govcloud::synthetic::settle_cluster_scoped(s, &now());
}

/// The in-memory API server holding the estate's DepartmentServices, for the doubles
/// that wrap it with faults.
pub async fn services_double(estate: &Snapshot) -> Client {
    ClientBuilder::new()
        .with_resource::<DepartmentService>()
        .with_objects(estate.services.clone())
        .build()
        .await
        .expect("fake client")
}

/// A double holding the estate's DepartmentServices, counting (and failing) writes.
pub async fn cluster(estate: &Snapshot) -> (Client, Arc<Mutex<Writes>>) {
    let double = services_double(estate).await;
    let writes = Arc::new(Mutex::new(Writes::default()));
    (faulty(double, writes.clone()), writes)
}

/// What the operator's caches would hold: the services as the API now has them, and
/// the cluster-scoped objects (kept outside the double) settled for them.
pub async fn snapshot(client: &Client, estate: &Snapshot) -> Snapshot {
    let mut services = Api::<DepartmentService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    // The double lists in no fixed order; sorted, every run over the same estate makes
    // its writes in the same order, so that "the k-th write" names the same write in each.
    services.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    let mut s = Snapshot {
        services,
        ..estate.clone()
    };
    settle(&mut s);
    s
}

/// kube-fake-client 0.3 cannot address a Namespace by name (it parses
/// `/api/v1/namespaces/{name}` as the start of a namespaced path and answers "Invalid
/// path"); those reads fail there and only there. Returns the other errors.
pub fn beyond_namespace_limitation(errors: &[ApplyError]) -> Vec<&ApplyError> {
    errors
        .iter()
        .filter(|e| !(e.object.kind() == Kind::Namespace && e.source.to_string().contains("Invalid path")))
        .collect()
}

/// Everything a pass is responsible for: managed objects (with their data) and the
/// DepartmentServices' statuses.
pub async fn pass_state(client: &Client) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    let lp = ListParams::default().labels(&managed_selector());
    for kind in managed_kinds().into_iter().filter(|k| k.namespaced) {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.resource);
        for o in api.list(&lp).await.unwrap().items {
            let key = format!(
                "{} {}/{}",
                kind.resource.kind,
                o.metadata.namespace.clone().unwrap_or_default(),
                o.metadata.name.clone().unwrap_or_default()
            );
            assert!(
                out.insert(key.clone(), o.data.clone()).is_none(),
                "duplicated {key}"
            );
        }
    }
    for s in Api::<DepartmentService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
    {
        let key = format!(
            "status {}/{}",
            s.metadata.namespace.clone().unwrap(),
            s.metadata.name.clone().unwrap()
        );
        out.insert(key, serde_json::to_value(&s.status).unwrap());
    }
    out
}
