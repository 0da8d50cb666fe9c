//! Fault injection: for every write a pass makes — creating the estate, then sweeping
//! and re-stating a service that became refused — and for each of five faults, a run
//! where that one write fails, followed by a normal pass. Each converges to exactly the
//! state of a run without faults: nothing leaked, duplicated or orphaned.
//!
//! The faults are injected at the HTTP layer, below `kube::Client` (see
//! `support::fake_cluster`): a 500, a 409 Conflict, a 429 with `Retry-After: 1`, a
//! client timeout before the request reaches the server, and a timeout after the
//! server applied the write (the answer is lost). Each run also checks that kube hands
//! the operator the error a real server or transport would cause, and that the
//! operator files it under the right category (server, conflict, throttled).
//!
//! A write is any POST, PUT, PATCH or DELETE: server-side applies, deletes, patches of
//! the status subresource and Event creates. The passes publish Events through a
//! Recorder, as the operator's do, so failed Event writes are among the scenarios.
//! The state compared is the managed objects, the DepartmentServices' statuses, and the
//! Events published. Events are at least once: the operator publishes a status change's
//! Events before writing the status, and writes it only when all are out, so a failed
//! Event (or a status write whose answer was lost) is announced again by the next
//! pass, never lost. A repeat is allowed; a missing or unexpected Event is not.
//!
//! Scenarios run concurrently, each against its own double, since each is a few
//! sequential passes of mostly CPU work.
//!
//! Then the category of a failure steering its retry, against a double that keeps
//! refusing one Deployment (`support::refusing`): a rejection (422) shows on the
//! owning DepartmentService's `Applied` condition with one Warning Event and is not
//! tried again until the service changes; a 503 backs off; a 429 waits out the
//! server's `Retry-After`.

use crate::support;

use std::collections::BTreeMap;
use std::io;
use std::time::{Duration, Instant};

use futures::StreamExt;
use govcloud::api::DepartmentService;
use govcloud::controller::{ApplyError, Category, EstateReconciler, ObjectBackoff, PassReport};
use govcloud::plan::Snapshot;
use k8s_openapi::api::events::v1::Event;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::events::{Recorder, Reporter};
use support::fake_cluster::{
    Fault, beyond_namespace_limitation, cluster, now, pass_state, settled_estate, snapshot,
};
use support::refusing::{Refusals, Rule, refusing_cluster};

fn estate() -> Snapshot {
    settled_estate(&support::repo_root().join("tests/fixtures/every-kind.yaml"))
}

/// The Events published, one line each (names carry a timestamp, so they are left out).
async fn events(client: &Client) -> Vec<String> {
    let mut out: Vec<String> = Api::<Event>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| {
            let regarding = e.regarding.unwrap_or_default();
            format!(
                "{} {} {} {}/{}: {}",
                e.type_.unwrap_or_default(),
                e.reason.unwrap_or_default(),
                regarding.kind.unwrap_or_default(),
                regarding.namespace.unwrap_or_default(),
                regarding.name.unwrap_or_default(),
                e.note.unwrap_or_default()
            )
        })
        .collect();
    out.sort();
    out
}

/// A failure a pass reported: its category and the shape of kube's error.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Failure {
    category: Category,
    error: String,
}

/// What kube made of the answer: `Api <code> <reason> retry-after <s>` for a Status,
/// `Service <io kind>` for a transport error.
fn error_shape(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!(
            "Api {} {} retry-after {}",
            s.code,
            s.reason,
            s.details.as_ref().map_or(0, |d| d.retry_after_seconds)
        ),
        kube::Error::Service(inner) => match inner.downcast_ref::<io::Error>() {
            Some(io) => format!("Service {:?}", io.kind()),
            None => format!("Service {inner}"),
        },
        other => format!("{other:?}"),
    }
}

impl Failure {
    fn of(e: &ApplyError) -> Self {
        Self {
            category: e.category,
            error: error_shape(&e.source),
        }
    }

    /// The failure each fault must surface as.
    fn expected(fault: Fault) -> Self {
        let (category, error) = match fault {
            Fault::Server => (Category::Server, "Api 500 InternalError retry-after 0"),
            Fault::Conflict => (Category::Conflict, "Api 409 Conflict retry-after 0"),
            Fault::Throttled => (Category::Throttled, "Api 429 TooManyRequests retry-after 1"),
            Fault::Timeout | Fault::LostResponse => (Category::Server, "Service TimedOut"),
        };
        Self {
            category,
            error: error.into(),
        }
    }
}

/// One pass as the operator makes it (Events published through a Recorder); the
/// failures it reported.
async fn pass(client: &Client, estate: &Snapshot) -> Vec<Failure> {
    let reporter = Reporter {
        controller: "govcloud".into(),
        instance: Some("test".into()),
    };
    let r = EstateReconciler::new(client.clone(), Some(Recorder::new(client.clone(), reporter)));
    let (_, report) = r
        .pass(&snapshot(client, estate).await, &now())
        .await
        .expect("renders");
    beyond_namespace_limitation(&report.errors)
        .into_iter()
        .map(|e| {
            let f = Failure::of(e);
            eprintln!("pass error ({}): {e}", f.category);
            f
        })
        .collect()
}

const REFUSED: (&str, &str) = ("dept-finance", "ledger");

/// The change between the two phases: a service switches to an image the platform
/// policy refuses, so the operator itself must sweep its workload (its owner still
/// exists, so the garbage collector would not) and rewrite its status.
async fn refuse_one(client: &Client) {
    let api: Api<DepartmentService> = Api::namespaced(client.clone(), REFUSED.0);
    let edit = serde_json::json!({"spec": {"workload": {"image": "docker.io/library/nginx:latest"}}});
    api.patch(REFUSED.1, &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
}

/// Which write of which phase fails, and how.
#[derive(Clone, Copy, Debug)]
struct Injection {
    phase: usize,
    /// Counted from the first write of the phase's first pass.
    at: usize,
    fault: Fault,
}

/// One run: the estate to convergence, one service refused, convergence again, and a
/// resync.
#[derive(Debug, Default)]
struct Run {
    state: BTreeMap<String, serde_json::Value>,
    events: Vec<String>,
    /// The write requests of each phase's first pass.
    phase_writes: [Vec<String>; 2],
    /// The request that was failed, if the fault fired.
    failed_request: Option<String>,
    /// What the pass with the fault reported.
    faulted: Vec<Failure>,
    /// Failures where there should be none, and writes by the resync.
    problems: Vec<String>,
}

async fn run(estate: &Snapshot, injection: Option<Injection>) -> Run {
    let (client, writes) = cluster(estate).await;
    let mut out = Run::default();
    for phase in 0..2 {
        if phase == 1 {
            refuse_one(&client).await;
        }
        let armed = injection.filter(|i| i.phase == phase);
        let start = {
            let mut w = writes.lock().unwrap();
            w.fail_at = armed.map(|i| (w.count + i.at, i.fault));
            w.count
        };
        let failures = pass(&client, estate).await;
        {
            let mut w = writes.lock().unwrap();
            w.fail_at = None;
            out.phase_writes[phase] = w.requests[start..].to_vec();
            if let Some(i) = armed.filter(|_| w.failed == 1) {
                out.failed_request = Some(w.requests[start + i.at].clone());
            }
        }
        if armed.is_some() {
            out.faulted = failures;
            // The normal pass after the failure.
            let after = pass(&client, estate).await;
            if !after.is_empty() {
                out.problems
                    .push(format!("the pass after the failure failed: {after:?}"));
            }
        } else if !failures.is_empty() {
            out.problems
                .push(format!("phase {phase} failed without a fault: {failures:?}"));
        }
    }
    // And a resync finds nothing left to do.
    let before = writes.lock().unwrap().count;
    let resync = pass(&client, estate).await;
    if !resync.is_empty() {
        out.problems.push(format!("the resync failed: {resync:?}"));
    }
    let w = writes.lock().unwrap().requests[before..].to_vec();
    if !w.is_empty() {
        out.problems
            .push(format!("not converged: the resync wrote {w:?}"));
    }
    out.state = pass_state(&client).await;
    out.events = events(&client).await;
    out
}

/// Runs every injection, several at once, each on its own double; results in order.
async fn run_all(estate: &Snapshot, injections: Vec<Injection>) -> Vec<(Injection, Run)> {
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    futures::stream::iter(injections)
        .map(|i| {
            let estate = estate.clone();
            async move {
                // A pass's future is not `Send` as far as rustc can prove (the lifetimes in
                // the applier's buffered stream), so each run blocks a thread of its own
                // rather than being spawned as a task.
                let runtime = tokio::runtime::Handle::current();
                match tokio::task::spawn_blocking(move || runtime.block_on(run(&estate, Some(i)))).await {
                    Ok(r) => (i, r),
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                }
            }
        })
        .buffered(parallel)
        .collect()
        .await
}

/// Every write of each phase of a clean run, with each fault.
fn every_injection(clean: &Run) -> Vec<Injection> {
    let mut out = Vec::new();
    for (phase, writes) in clean.phase_writes.iter().enumerate() {
        for at in 0..writes.len() {
            for fault in Fault::ALL {
                out.push(Injection { phase, at, fault });
            }
        }
    }
    out
}

/// The clean run, checked to be a useful reference: it creates the workloads, sweeps
/// the refused one, and its passes make every kind of write.
async fn reference(estate: &Snapshot) -> Run {
    let clean = run(estate, None).await;
    assert!(clean.problems.is_empty(), "{:#?}", clean.problems);
    assert!(
        clean
            .state
            .keys()
            .any(|k| k.starts_with("Deployment dept-finance/")),
        "{:#?}",
        clean.state
    );
    assert!(
        !clean
            .state
            .keys()
            .any(|k| k.ends_with(&format!("/{}", REFUSED.1)) && !k.starts_with("status")),
        "swept"
    );
    let [created, refused] = &clean.phase_writes;
    let has = |writes: &[String], method: &str, suffix: &str| {
        writes.iter().any(|w| w.starts_with(method) && w.contains(suffix))
    };
    assert!(
        created.len() > 20
            && has(created, "PATCH", "/deployments/")
            && has(created, "PATCH", "/status")
            && has(created, "POST", "/events"),
        "applies, status writes and events: {created:#?}"
    );
    assert!(
        refused.len() > 3
            && has(refused, "DELETE", "/deployments/")
            && has(refused, "PATCH", "/status")
            && has(refused, "POST", "/events"),
        "sweeps, a status write and events: {refused:#?}"
    );
    clean
}

/// The write request the injection fails, as the clean run made it.
fn target<'a>(i: &Injection, clean: &'a Run) -> &'a str {
    &clean.phase_writes[i.phase][i.at]
}

fn describe(i: &Injection, clean: &Run) -> String {
    format!(
        "phase {}, write {} ({}), {:?}",
        i.phase,
        i.at,
        target(i, clean),
        i.fault
    )
}

fn distinct(events: &[String]) -> std::collections::BTreeSet<&String> {
    events.iter().collect()
}

/// The scenarios whose Events differ from the clean run's, each with what differs.
fn event_differences(runs: &[(Injection, Run)], clean: &Run) -> Vec<String> {
    let absent = |from: &[String], other: &[String]| -> Vec<String> {
        from.iter().filter(|e| !other.contains(e)).cloned().collect()
    };
    runs.iter()
        .filter(|(_, r)| distinct(&r.events) != distinct(&clean.events))
        .map(|(i, r)| {
            format!(
                "{}: {} Events instead of {}; missing {:#?}; unexpected {:#?}",
                describe(i, clean),
                r.events.len(),
                clean.events.len(),
                absent(&clean.events, &r.events),
                absent(&r.events, &clean.events),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failed_write_is_recovered_by_the_next_pass() {
    let started = std::time::Instant::now();
    let estate = estate();
    let clean = reference(&estate).await;
    let runs = run_all(&estate, every_injection(&clean)).await;

    let mut wrong = Vec::new();
    for (i, r) in &runs {
        let what = describe(i, &clean);
        if r.failed_request.as_deref() != Some(target(i, &clean)) {
            wrong.push(format!("{what}: failed {:?} instead", r.failed_request));
        }
        let expected = Failure::expected(i.fault);
        if r.faulted != [expected.clone()] {
            wrong.push(format!(
                "{what}: the pass reported {:?}, not {expected:?}",
                r.faulted
            ));
        }
        wrong.extend(r.problems.iter().map(|p| format!("{what}: {p}")));
        if r.state != clean.state {
            wrong.push(format!("{what}: did not converge to the clean state"));
        }
    }
    wrong.extend(event_differences(&runs, &clean));
    let repeated = runs
        .iter()
        .filter(|(_, r)| r.events.len() > clean.events.len())
        .count();
    assert!(wrong.is_empty(), "{} wrong:\n{}", wrong.len(), wrong.join("\n"));

    // Stated in the closing note of the operator issue.
    let per_phase = clean.phase_writes.each_ref().map(Vec::len);
    let scenarios = runs.len();
    eprintln!(
        "fault-injection scenarios: {scenarios} ({} faults x writes per phase {per_phase:?}), \
         Events compared in all ({repeated} announced an Event twice), in {:.1?}",
        Fault::ALL.len(),
        started.elapsed()
    );
    assert_eq!(scenarios, Fault::ALL.len() * (per_phase[0] + per_phase[1]));
}

/// The Deployment the refusing double turns down, of the DepartmentService `records`.
const BLOCKED: (&str, &str) = ("dept-health", "records");

fn blocked_path() -> String {
    format!("/namespaces/{}/deployments/{}", BLOCKED.0, BLOCKED.1)
}

fn rule(code: http::StatusCode, reason: &'static str, message: &str, retry_after: Option<u32>) -> Rule {
    Rule {
        path_suffix: blocked_path(),
        code,
        reason,
        message: message.into(),
        retry_after,
    }
}

/// An operator's reconciler, publishing Events, with `initial`/`max` backoff.
fn reconciler(client: &Client, initial: Duration, max: Duration) -> EstateReconciler {
    let reporter = Reporter {
        controller: "govcloud".into(),
        instance: Some("test".into()),
    };
    EstateReconciler::new(client.clone(), Some(Recorder::new(client.clone(), reporter)))
        .with_backoff(ObjectBackoff::new(initial, max))
}

/// One pass; its failures other than the double's namespace limitation.
async fn refused_pass(
    r: &EstateReconciler,
    client: &Client,
    estate: &Snapshot,
) -> (PassReport, Vec<Category>) {
    let (_, report) = r
        .pass(&snapshot(client, estate).await, &now())
        .await
        .expect("renders");
    let failures = beyond_namespace_limitation(&report.errors)
        .into_iter()
        .map(|e| {
            assert!(
                e.object
                    .to_string()
                    .ends_with(&format!("{}/{}", BLOCKED.0, BLOCKED.1)),
                "{e}"
            );
            e.category
        })
        .collect();
    (report, failures)
}

async fn blocked_service(client: &Client) -> DepartmentService {
    Api::<DepartmentService>::namespaced(client.clone(), BLOCKED.0)
        .get(BLOCKED.1)
        .await
        .unwrap()
}

/// The blocked service's `Applied` condition as (status, reason, message).
async fn applied(client: &Client) -> Option<(String, String, String)> {
    let s = blocked_service(client).await;
    s.status?
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Applied")
        .map(|c| (c.status, c.reason, c.message))
}

async fn edit_image(client: &Client, tag: &str) {
    let api: Api<DepartmentService> = Api::namespaced(client.clone(), BLOCKED.0);
    let edit = serde_json::json!({"spec": {"workload": {"image": format!("registry.gov.example/health/records:{tag}")}}});
    api.patch(BLOCKED.1, &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
}

fn attempts(refusals: &std::sync::Mutex<Refusals>) -> usize {
    refusals.lock().unwrap().attempts_at(&blocked_path())
}

#[tokio::test]
async fn a_rejected_deployment_shows_on_its_service_once_and_waits_for_a_change() {
    let estate = estate();
    let (client, refusals) = refusing_cluster(&estate).await;
    let denied = "admission webhook \"images.example\" denied the request: records may not run";
    refusals.lock().unwrap().rules.push(rule(
        http::StatusCode::UNPROCESSABLE_ENTITY,
        "Invalid",
        denied,
        None,
    ));
    let r = reconciler(&client, Duration::from_millis(10), Duration::from_secs(3600));

    let (_, failures) = refused_pass(&r, &client, &estate).await;
    assert_eq!(failures, [Category::Rejected]);
    assert_eq!(attempts(&refusals), 1);
    let (status, reason, message) = applied(&client).await.expect("the Applied condition");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "Rejected"));
    assert!(
        message.contains(&format!("Deployment {}/{}", BLOCKED.0, BLOCKED.1))
            && message.contains("(422)")
            && message.contains(denied),
        "{message}"
    );
    let rejected_events = |events: &[String]| {
        events
            .iter()
            .filter(|e| e.starts_with("Warning ApplyRejected DepartmentService dept-health/records"))
            .count()
    };
    assert_eq!(
        rejected_events(&events(&client).await),
        1,
        "{:#?}",
        events(&client).await
    );
    let others = pass_state(&client).await;
    assert!(
        others.keys().any(|k| k.starts_with("Deployment dept-finance/")),
        "the other services converge: {:#?}",
        others.keys()
    );

    // Nothing changed: not tried again, no new Event, no status write.
    for _ in 0..3 {
        let (report, failures) = refused_pass(&r, &client, &estate).await;
        assert_eq!(failures, []);
        assert_eq!(report.summary.deferred, 1);
        assert_eq!((report.status_writes, report.events), (0, 0));
    }
    assert_eq!(attempts(&refusals), 1, "a rejected write is not hammered");
    assert_eq!(rejected_events(&events(&client).await), 1);

    // Its desired content changes: tried again at once (and rejected again).
    edit_image(&client, "3.1").await;
    let (_, failures) = refused_pass(&r, &client, &estate).await;
    assert_eq!(failures, [Category::Rejected]);
    assert_eq!(attempts(&refusals), 2);

    // The policy goes away and the service changes again: applied, and it says so.
    refusals.lock().unwrap().rules.clear();
    edit_image(&client, "3.2").await;
    let (report, failures) = refused_pass(&r, &client, &estate).await;
    assert_eq!(failures, []);
    assert_eq!(report.summary.applied, 1);
    assert_eq!(attempts(&refusals), 3);
    let (status, reason, _) = applied(&client).await.expect("still shown, now True");
    assert_eq!((status.as_str(), reason.as_str()), ("True", "Applied"));
    assert!(
        events(&client)
            .await
            .iter()
            .any(|e| e.starts_with("Normal Applied DepartmentService dept-health/records")),
        "{:#?}",
        events(&client).await
    );
    assert!(
        pass_state(&client)
            .await
            .contains_key("Deployment dept-health/records")
    );
    let (report, _) = refused_pass(&r, &client, &estate).await;
    assert_eq!(report.status_writes, 0, "and then it is quiet");
}

#[tokio::test]
async fn a_server_error_backs_off_and_shows_no_rejection() {
    let estate = estate();
    let (client, refusals) = refusing_cluster(&estate).await;
    refusals.lock().unwrap().rules.push(rule(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "ServiceUnavailable",
        "the server is currently unable to handle the request",
        None,
    ));
    // Long enough that a pass on a loaded machine comes back before it is due.
    let initial = Duration::from_secs(2);
    let r = reconciler(&client, initial, Duration::from_secs(60));

    let started = Instant::now();
    let (first, failures) = refused_pass(&r, &client, &estate).await;
    assert_eq!(failures, [Category::Server]);
    let retry_at = first.retry_at.expect("told when to come back");
    assert!(
        retry_at >= started + initial && retry_at <= Instant::now() + initial,
        "the first delay is the initial one"
    );
    let (second, _) = refused_pass(&r, &client, &estate).await;
    assert_eq!(second.summary.deferred, 1, "in backoff");
    assert_eq!(attempts(&refusals), 1);

    tokio::time::sleep(initial).await;
    let retried = Instant::now();
    let (third, failures) = refused_pass(&r, &client, &estate).await;
    assert_eq!(failures, [Category::Server], "due: retried");
    assert_eq!(attempts(&refusals), 2);
    let due = third.retry_at.expect("backing off") - retried;
    assert!(due >= 2 * initial, "the delay doubled: {due:?}");
    assert_eq!(
        applied(&client).await,
        None,
        "a transient failure is no rejection"
    );
}

#[tokio::test]
async fn a_throttled_write_waits_for_retry_after() {
    let estate = estate();
    let (client, refusals) = refusing_cluster(&estate).await;
    refusals.lock().unwrap().rules.push(rule(
        http::StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "Too many requests, please try again later.",
        Some(2),
    ));
    // A backoff far shorter than what the server asks for.
    let r = reconciler(&client, Duration::from_millis(50), Duration::from_secs(60));

    let started = Instant::now();
    let (first, failures) = refused_pass(&r, &client, &estate).await;
    assert_eq!(failures, [Category::Throttled]);
    let due = first.retry_at.expect("told when to come back") - started;
    assert!(due >= Duration::from_secs(2), "Retry-After honoured: {due:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (second, _) = refused_pass(&r, &client, &estate).await;
    assert_eq!(second.summary.deferred, 1, "still waiting");
    assert_eq!(attempts(&refusals), 1);

    refusals.lock().unwrap().rules.clear();
    let retry_at = first.retry_at.expect("checked above");
    tokio::time::sleep(retry_at.saturating_duration_since(Instant::now())).await;
    let (third, failures) = refused_pass(&r, &client, &estate).await;
    assert_eq!(failures, []);
    assert_eq!((third.summary.applied, attempts(&refusals)), (1, 2));
    assert_eq!(applied(&client).await, None);
}
