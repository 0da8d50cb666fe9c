//! Stopping a pass part-way, as SIGTERM does to `govcloud run`: once the stop is given,
//! the pass starts no further write (server-side apply, delete, Event, status or
//! finalizer patch), and the writes already in flight finish. The pass says it was
//! interrupted and counts what it left undone as skipped: not as failures, and with no
//! backoff, so the next pass makes exactly those writes and the estate converges to the
//! state of a run that was never stopped.
//!
//! The stop is given from the API double's HTTP layer (`support::fake_cluster`) as a
//! chosen write arrives, and that write is held there for a while, so that it is still
//! in flight when the pass sees the stop. With one write at a time a pass's writes come
//! in a fixed order, so the writes of a stopped pass must be exactly those of a run
//! without a stop, up to the one in flight; with four at a time, only the writes that
//! had already started may arrive after the stop.
//!
//! Each run has the two phases of `controller_faults`: the estate created, then a
//! service refused (its workload swept, its status rewritten).
//!
//! Last, the chart (rendered by real Helm, see `tests/chart.rs`): it refuses a
//! `controller.shutdownTimeout` that the pod's grace period would cut short.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use govcloud::api::DepartmentService;
use govcloud::controller::{EstateReconciler, ObjectBackoff, PassReport};
use govcloud::plan::Snapshot;
use k8s_openapi::api::events::v1::Event;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::runtime::events::{Recorder, Reporter};
use support::chart;
use support::fake_cluster::{
    Interception, Writes, beyond_namespace_limitation, cluster, now, pass_state, settled_estate, snapshot,
};
use tokio_util::sync::CancellationToken;

/// How long the write that gives the stop is held: long enough that the pass sees the
/// stop while it is in flight.
const HOLD: Duration = Duration::from_millis(300);

fn estate() -> Snapshot {
    settled_estate(&support::repo_root().join("tests/fixtures/every-kind.yaml"))
}

fn reconciler(client: &Client, concurrency: usize, stop: CancellationToken) -> EstateReconciler {
    let reporter = Reporter {
        controller: "govcloud".into(),
        instance: Some("test".into()),
    };
    EstateReconciler::new(client.clone(), Some(Recorder::new(client.clone(), reporter)))
        .with_concurrency(concurrency)
        // Long enough that an object put in backoff would be deferred by the next pass,
        // and would show in the report's retry_at.
        .with_backoff(ObjectBackoff::new(
            Duration::from_secs(60),
            Duration::from_secs(60),
        ))
        .with_stop(stop)
}

/// The writes a pass made, counted as the pass counts them (a status write with the
/// Events it announces is one).
fn made(r: &PassReport) -> usize {
    r.summary.applied + r.summary.deleted + r.status_writes + r.finalizer_writes
}

/// Whether a write request is part of a status write that goes on after it: Events are
/// published first, then the status is patched, as one write.
fn announces(request: &str) -> bool {
    request.contains("/events")
}

/// The distinct Events published (a repeat folds into a series, so only which were
/// published counts).
async fn events(client: &Client) -> BTreeSet<String> {
    Api::<Event>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| {
            let regarding = e.regarding.unwrap_or_default();
            format!(
                "{} {} {}/{}: {}",
                e.reason.unwrap_or_default(),
                regarding.kind.unwrap_or_default(),
                regarding.namespace.unwrap_or_default(),
                regarding.name.unwrap_or_default(),
                e.note.unwrap_or_default()
            )
        })
        .collect()
}

/// The change between the phases: a service switches to an image the platform policy
/// refuses, so its workload must be swept and its status rewritten.
async fn refuse_one(client: &Client) {
    let api: Api<DepartmentService> = Api::namespaced(client.clone(), "dept-finance");
    let edit = serde_json::json!({"spec": {"workload": {"image": "docker.io/library/nginx:latest"}}});
    api.patch("ledger", &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
}

/// Where the stop is given: as write `at` of phase `phase` (counted from the phase's
/// first write) arrives.
#[derive(Clone, Copy, Debug)]
struct Stop {
    phase: usize,
    at: usize,
}

/// One phase of a run.
#[derive(Debug, Default)]
struct Phase {
    /// The write requests of its first pass, in order.
    writes: Vec<String>,
    /// What its first pass reported: (made, skipped, interrupted).
    first: (usize, usize, bool),
    /// Writes answered by the time the first pass returned, of those it sent.
    answered: usize,
    /// With a stop: the resumed operator's next pass: (made, deferred, interrupted).
    next: Option<(usize, usize, bool)>,
}

#[derive(Debug, Default)]
struct Run {
    phases: [Phase; 2],
    state: BTreeMap<String, serde_json::Value>,
    events: BTreeSet<String>,
    /// Failures, backoffs and resync writes, where there should be none.
    problems: Vec<String>,
}

fn check(report: &PassReport, what: &str, problems: &mut Vec<String>) {
    let errors = beyond_namespace_limitation(&report.errors);
    if !errors.is_empty() {
        problems.push(format!("{what}: failed writes {errors:?}"));
    }
    if report.retry_at.is_some() {
        problems.push(format!("{what}: an object was put in backoff"));
    }
}

async fn run(estate: &Snapshot, concurrency: usize, stop: Option<Stop>) -> Run {
    let (client, writes) = cluster(estate).await;
    let mut out = Run::default();
    for phase in 0..2 {
        if phase == 1 {
            refuse_one(&client).await;
        }
        let token = CancellationToken::new();
        let start = arm(&writes, stop.filter(|s| s.phase == phase), &token);
        let r = reconciler(&client, concurrency, token);
        let (_, report) = r
            .pass(&snapshot(&client, estate).await, &now())
            .await
            .expect("renders");
        check(&report, &format!("phase {phase}"), &mut out.problems);
        let out_phase = &mut out.phases[phase];
        {
            let w = writes.lock().unwrap();
            out_phase.writes = w.requests[start..].to_vec();
            out_phase.answered = w.answered - start;
            if w.intercept.is_some() {
                out.problems
                    .push(format!("phase {phase}: the stop was never given"));
            }
        }
        out_phase.first = (made(&report), report.skipped, report.interrupted);
        if stop.is_some_and(|s| s.phase == phase) {
            // The same operator, no longer stopped: its backoff and memory carry over.
            let resumed = r.clone().with_stop(CancellationToken::new());
            let (_, next) = resumed
                .pass(&snapshot(&client, estate).await, &now())
                .await
                .expect("renders");
            check(
                &next,
                &format!("phase {phase}, after the stop"),
                &mut out.problems,
            );
            out_phase.next = Some((made(&next), next.summary.deferred, next.interrupted));
        }
    }
    let before = writes.lock().unwrap().count;
    let (_, resync) = reconciler(&client, concurrency, CancellationToken::new())
        .pass(&snapshot(&client, estate).await, &now())
        .await
        .expect("renders");
    check(&resync, "resync", &mut out.problems);
    let late = writes.lock().unwrap().requests[before..].to_vec();
    if !late.is_empty() {
        out.problems
            .push(format!("not converged: the resync wrote {late:?}"));
    }
    out.state = pass_state(&client).await;
    out.events = events(&client).await;
    out
}

/// Arms the stop for this phase, if it has one; returns the number of the phase's first
/// write.
fn arm(writes: &Arc<Mutex<Writes>>, stop: Option<Stop>, token: &CancellationToken) -> usize {
    let mut w = writes.lock().unwrap();
    if let Some(stop) = stop {
        let token = token.clone();
        w.intercept = Some(Interception {
            at: w.count + stop.at,
            act: Box::new(move || token.cancel()),
            hold: HOLD,
        });
    }
    w.count
}

/// A run without a stop, one write at a time: the order and the state to compare with.
async fn reference(estate: &Snapshot) -> Run {
    let clean = run(estate, 1, None).await;
    assert!(clean.problems.is_empty(), "{:#?}", clean.problems);
    let [created, refused] = &clean.phases;
    let has = |p: &Phase, method: &str, part: &str| {
        p.writes.iter().any(|w| w.starts_with(method) && w.contains(part))
    };
    assert!(
        has(created, "PATCH", "/deployments/")
            && has(created, "POST", "/events")
            && has(created, "PATCH", "/status"),
        "applies, Events and status writes: {:#?}",
        created.writes
    );
    assert!(
        has(refused, "DELETE", "/deployments/") && has(refused, "PATCH", "/status"),
        "a sweep and a status write: {:#?}",
        refused.writes
    );
    for p in &clean.phases {
        assert_eq!((p.first.1, p.first.2), (0, false), "never stopped");
    }
    clean
}

/// Checks what every stopped run must do, whatever the concurrency.
fn stopped_run(stop: Stop, r: &Run, clean: &Run) -> Vec<String> {
    let what = format!("stop at write {} of phase {}", stop.at, stop.phase);
    let mut wrong: Vec<String> = r.problems.iter().map(|p| format!("{what}: {p}")).collect();
    let (phase, reference) = (&r.phases[stop.phase], &clean.phases[stop.phase]);
    let (made, skipped, interrupted) = phase.first;
    if !interrupted {
        wrong.push(format!("{what}: the pass did not say it was interrupted"));
    }
    if phase.answered != phase.writes.len() {
        wrong.push(format!(
            "{what}: {} of {} writes sent were still unanswered when the pass returned",
            phase.writes.len() - phase.answered,
            phase.writes.len()
        ));
    }
    let clean_made = reference.first.0;
    if made + skipped != clean_made {
        wrong.push(format!(
            "{what}: made {made} and skipped {skipped}, but a pass without a stop makes {clean_made}"
        ));
    }
    match phase.next {
        Some((next_made, deferred, next_interrupted)) => {
            if (next_made, deferred, next_interrupted) != (skipped, 0, false) {
                wrong.push(format!(
                    "{what}: the next pass made {next_made} writes ({deferred} deferred), not the {skipped} skipped"
                ));
            }
        }
        None => wrong.push(format!("{what}: no pass after the stop")),
    }
    if r.state != clean.state {
        wrong.push(format!(
            "{what}: did not converge to the state of a run without a stop"
        ));
    }
    if r.events != clean.events {
        wrong.push(format!(
            "{what}: Events differ: missing {:?}, unexpected {:?}",
            clean.events.difference(&r.events).collect::<Vec<_>>(),
            r.events.difference(&clean.events).collect::<Vec<_>>()
        ));
    }
    wrong
}

#[tokio::test]
async fn a_stopped_pass_starts_no_write_finishes_the_one_in_flight_and_the_next_pass_makes_the_rest() {
    let estate = estate();
    let clean = reference(&estate).await;
    let [created, refused] = &clean.phases;
    let first_of = |p: &Phase, method: &str, part: &str| {
        p.writes
            .iter()
            .position(|w| w.starts_with(method) && w.contains(part))
            .unwrap()
    };
    // The first write, an apply, an Event (the start of a status write), a status patch,
    // the last write of the creation; a sweep's delete and the last write after the refusal.
    let stops = [
        Stop { phase: 0, at: 0 },
        Stop {
            phase: 0,
            at: first_of(created, "PATCH", "/deployments/") + 1,
        },
        Stop {
            phase: 0,
            at: first_of(created, "POST", "/events"),
        },
        Stop {
            phase: 0,
            at: first_of(created, "PATCH", "/status"),
        },
        Stop {
            phase: 0,
            at: created.writes.len() - 1,
        },
        Stop {
            phase: 1,
            at: first_of(refused, "DELETE", "/"),
        },
        Stop {
            phase: 1,
            at: refused.writes.len() - 1,
        },
    ];
    let mut wrong = Vec::new();
    for stop in stops {
        let r = run(&estate, 1, Some(stop)).await;
        wrong.extend(stopped_run(stop, &r, &clean));
        // One write at a time comes in a fixed order: exactly the writes of a run without
        // a stop, up to the one in flight (a status write's Events with its patch).
        let reference = &clean.phases[stop.phase].writes;
        let end = (stop.at..reference.len())
            .find(|&i| !announces(&reference[i]))
            .expect("a status write ends with its patch");
        let sent = &r.phases[stop.phase].writes;
        if sent[..] != reference[..=end] {
            wrong.push(format!(
                "stop at write {} ({}) of phase {}: sent {} writes, not the first {} of a run \
                 without a stop; after the stop: {:#?}",
                stop.at,
                reference[stop.at],
                stop.phase,
                sent.len(),
                end + 1,
                sent.get(stop.at + 1..).unwrap_or_default()
            ));
        }
        let skipped = r.phases[stop.phase].first.1;
        if stop.at + 1 < reference.len() && skipped == 0 {
            wrong.push(format!("stop at write {}: nothing counted as skipped", stop.at));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn with_several_writes_in_flight_only_those_already_started_arrive_after_the_stop() {
    const CONCURRENCY: usize = 4;
    let estate = estate();
    let clean = reference(&estate).await;
    let stop = Stop { phase: 0, at: 6 };
    assert!(
        clean.phases[0].writes[..stop.at + CONCURRENCY]
            .iter()
            .all(|w| w.starts_with("PATCH") && !w.contains("/status")),
        "the stop comes among the applies: {:#?}",
        clean.phases[0].writes
    );
    let r = run(&estate, CONCURRENCY, Some(stop)).await;
    let mut wrong = stopped_run(stop, &r, &clean);
    let after: Vec<&String> = r.phases[0].writes.iter().skip(stop.at + 1).collect();
    // The applies started alongside the held one are all that may still arrive.
    if after.len() >= CONCURRENCY
        || after
            .iter()
            .any(|w| !w.starts_with("PATCH") || w.contains("/status"))
    {
        wrong.push(format!(
            "after the stop, writes other than the {} applies already started: {after:#?}",
            CONCURRENCY - 1
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The kubelet kills the pod `terminationGracePeriodSeconds` after SIGTERM, so a shutdown
/// timeout as long would have the writes it waits for cut off anyway.
#[test]
fn the_chart_refuses_a_shutdown_timeout_the_grace_period_would_cut_short() {
    for (values, timeout, grace) in [
        ("config:\n  controller:\n    shutdownTimeout: 30s\n", "30s", 30),
        ("terminationGracePeriodSeconds: 20\n", "20s", 20),
        (
            "terminationGracePeriodSeconds: 60\nconfig:\n  controller:\n    shutdownTimeout: 1m\n",
            "1m",
            60,
        ),
    ] {
        let refusal = chart::try_template_with(&[], values)
            .err()
            .unwrap_or_else(|| panic!("accepted: {values:?}"));
        let expected = format!(
            "config.controller.shutdownTimeout {timeout} must be shorter than terminationGracePeriodSeconds ({grace}s)"
        );
        assert!(
            refusal.stderr.contains(&expected),
            "{values:?}: {}",
            refusal.stderr
        );
    }
    // Just shorter is enough, and the two go up together.
    for (values, timeout, grace) in [
        (
            "config:\n  controller:\n    shutdownTimeout: 29s999ms\n",
            "29s999ms",
            30,
        ),
        (
            "terminationGracePeriodSeconds: 90\nconfig:\n  controller:\n    shutdownTimeout: 1m20s\n",
            "1m20s",
            90,
        ),
    ] {
        let objects =
            chart::try_template_with(&[], values).unwrap_or_else(|r| panic!("{values:?}: {}", r.stderr));
        let pod = &chart::find(&objects, "Deployment", chart::RELEASE)["spec"]["template"]["spec"];
        assert_eq!(pod["terminationGracePeriodSeconds"], grace, "{values:?}");
        let config = chart::find(&objects, "ConfigMap", &format!("{}-config", chart::RELEASE))["data"]["govcloud.yaml"]
            .as_str()
            .expect("the operator's config");
        assert!(
            config.contains(&format!("shutdownTimeout: {timeout}")),
            "{values:?}: {config}"
        );
    }
}
