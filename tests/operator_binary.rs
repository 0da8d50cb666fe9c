//! The real binary end to end: `govcloud run` against an HTTP Kubernetes API double
//! (`tests/kmock/apiserver.py`, kmock's emulator with resourceVersions, watches from a
//! resourceVersion, server-side apply as create-or-merge and the status subresource).
//!
//! The test installs the CRDs and the sample estate, starts the operator, and waits
//! (polling, with a deadline) until every DepartmentService's status says what the
//! golden plan says and the Deployments and Services of the placed services exist. It
//! then deletes one service and waits until its objects are gone, and stops the operator
//! with SIGTERM, which must end it with exit code 0.
//!
//! A second test stops the operator with SIGTERM in the middle of its first pass over a
//! large synthetic estate: it must stop writing at once, exit 0 within its
//! `controller.shutdownTimeout`, and an operator started afterwards must converge the
//! estate from what the first left behind.
//!
//! The double needs python3 with the packages of `tests/kmock/requirements.txt`; when
//! they are missing the test fails with the install command rather than skipping.

use crate::double;

use double::{Api, START_STOP, start_double, wait_until};

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use govcloud::synthetic::EstateShape;
use serde_json::Value;

/// How long the operator may take to converge the estate (or remove a service).
const CONVERGE: Duration = Duration::from_secs(60);

#[test]
fn the_operator_converges_the_sample_estate_follows_a_deletion_and_stops_on_sigterm() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut double, port) = start_double(dir.path());
    let api = Api { port };

    double::install_sample_estate(&api);

    // The operator, pointed at the double by a kubeconfig.
    let mut operator = double::start_operator(dir.path(), port, &["--http-address", "127.0.0.1:0"]);

    // Statuses as the golden plan decided them, and the objects of every placed workload.
    let golden_services = double::golden_services();
    assert_eq!(
        golden_services.len(),
        40,
        "the golden plan covers the 40 sample services"
    );
    wait_until(
        "every DepartmentService has the status of the golden plan",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || double::statuses_match(&api, &golden_services),
    );
    let placed_workloads = double::placed_workloads(&golden_services);
    let shared_instances = double::shared_instances(&golden_services);
    assert!(placed_workloads.len() >= 20 && !shared_instances.is_empty());
    wait_until(
        "the placed workloads and shared instances have a Deployment and a Service",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || double::workload_objects_exist(&api, &placed_workloads, &shared_instances),
    );
    // Refused services have no workload objects, and decisions were published as Events.
    for refused in golden_services.iter().filter(|s| s["phase"] == "Rejected") {
        let (ns, name) = (
            refused["namespace"].as_str().unwrap(),
            refused["name"].as_str().unwrap(),
        );
        assert!(
            api.get(&format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"))
                .is_none()
        );
    }
    let events = api
        .get("/apis/events.k8s.io/v1/namespaces/dept-finance/events")
        .unwrap();
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["regarding"]["kind"] == "DepartmentService"),
        "no Event about a DepartmentService in dept-finance: {events}"
    );

    // Deleting a service removes everything the operator made for it, and only that.
    let (ns, name) = ("dept-finance", "budget-planning");
    let owned = double::owned_objects(ns, name);
    for path in &owned {
        assert!(api.get(path).is_some(), "{path} should exist before the deletion");
    }
    api.delete(&format!(
        "/apis/govcloud.io/v1alpha1/namespaces/{ns}/departmentservices/{name}"
    ));
    wait_until(
        "the deleted service's objects are gone",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || match owned.iter().find(|path| api.get(path).is_some()) {
            Some(path) => Err(format!("{path} still exists")),
            None => Ok(()),
        },
    );
    for (other_ns, other) in placed_workloads
        .iter()
        .filter(|(n, s)| (n.as_str(), s.as_str()) != (ns, name))
    {
        let path = format!("/apis/apps/v1/namespaces/{other_ns}/deployments/{other}");
        assert!(
            api.get(&path).is_some(),
            "{path} was removed with {ns}/{name}\n{}",
            operator.log()
        );
    }

    // SIGTERM stops it cleanly.
    operator.terminate();
    let status = operator.wait_for_exit(START_STOP);
    assert!(
        status.is_some_and(|s| s.success()),
        "govcloud run did not exit 0 within {START_STOP:?} of SIGTERM: {status:?}\n{}",
        operator.log()
    );
    assert!(operator.log().contains("shutting down"), "{}", operator.log());
    // The double stops on SIGTERM too (Drop would kill it otherwise).
    double.terminate();
    let status = double.wait_for_exit(START_STOP);
    assert!(
        status.is_some_and(|s| s.success()),
        "the API double: {status:?}\n{}",
        double.log()
    );
    eprintln!("operator_binary: {:.1}s", started.elapsed().as_secs_f64());
}

/// The synthetic estate of the shutdown test: one pass over it makes thousands of writes
/// (every service's workload objects, status and Events), so the double takes far longer
/// than the moment the test needs to send SIGTERM while the pass is writing.
const SYNTHETIC: EstateShape = EstateShape {
    services: 1000,
    departments: 20,
    pools: 6,
    offerings: 4,
    levels: 3,
    tenant_fraction: 0.2,
    headroom: 1.3,
};

/// `controller.shutdownTimeout` of the shutdown test, and how long the operator may take
/// to exit after SIGTERM.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a fresh operator may take to converge the synthetic estate.
const CONVERGE_SYNTHETIC: Duration = Duration::from_secs(300);

/// Write requests `govcloud run` made of the double started in `dir`.
fn operator_writes(dir: &Path) -> usize {
    double::operator_requests(dir)
        .iter()
        .filter(|r| matches!(r.verb.as_str(), "create" | "update" | "patch" | "delete"))
        .count()
}

fn items(api: &Api, path: &str) -> Vec<Value> {
    let list = api.get(path).unwrap_or_else(|| panic!("GET {path}: not found"));
    list["items"].as_array().cloned().unwrap_or_default()
}

/// `Ok` when every service of the synthetic estate has a phase and every placed
/// workload its Deployment.
fn synthetic_converged(api: &Api, services: usize) -> Result<(), String> {
    let listed = items(api, "/apis/govcloud.io/v1alpha1/departmentservices");
    if listed.len() != services {
        return Err(format!(
            "{} of {services} DepartmentServices listed",
            listed.len()
        ));
    }
    let without: Vec<&Value> = listed.iter().filter(|s| s["status"]["phase"].is_null()).collect();
    if !without.is_empty() {
        return Err(format!("{} services have no phase yet", without.len()));
    }
    let deployments: BTreeSet<(String, String)> = items(api, "/apis/apps/v1/deployments")
        .iter()
        .map(|d| {
            let meta = &d["metadata"];
            (
                meta["namespace"].as_str().unwrap_or_default().to_string(),
                meta["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let missing = listed
        .iter()
        .filter(|s| s["status"]["phase"] == "Placed" && !s["spec"]["workload"].is_null())
        .map(|s| {
            let meta = &s["metadata"];
            (
                meta["namespace"].as_str().unwrap_or_default().to_string(),
                meta["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .filter(|key| !deployments.contains(key))
        .count();
    if missing > 0 {
        return Err(format!("{missing} placed workloads have no Deployment yet"));
    }
    Ok(())
}

/// The number in the operator's "estate pass cut short by shutdown: N writes skipped" line.
fn skipped_in(log: &str) -> Option<usize> {
    let (_, rest) = log.split_once("estate pass cut short by shutdown: ")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn sigterm_mid_pass_stops_writing_exits_0_within_the_shutdown_timeout_and_a_restart_converges() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut double, port) = start_double(dir.path());
    let api = Api { port };
    let estate = double::install_synthetic_estate(&api, 7, SYNTHETIC);
    let config = dir.path().join("govcloud.yaml");
    std::fs::write(
        &config,
        format!(
            "controller:\n  shutdownTimeout: {}s\n",
            SHUTDOWN_TIMEOUT.as_secs()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let args = ["--config", config, "--http-address", "127.0.0.1:0"];
    // Each operator logs in a directory of its own; the double's audit log stays shared.
    let (first_dir, second_dir) = (dir.path().join("first"), dir.path().join("second"));
    for d in [&first_dir, &second_dir] {
        std::fs::create_dir(d).unwrap();
    }

    let mut operator = double::start_operator(&first_dir, port, &args);
    wait_until(
        "the operator is writing its first pass",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || match operator_writes(dir.path()) {
            n if n >= 20 => Ok(()),
            n => Err(format!("{n} writes so far")),
        },
    );
    let before = operator_writes(dir.path());
    let signalled = Instant::now();
    operator.terminate();
    let status = operator.wait_for_exit(SHUTDOWN_TIMEOUT);
    let took = signalled.elapsed();
    assert!(
        status.is_some_and(|s| s.success()),
        "govcloud run did not exit 0 within its shutdown timeout {SHUTDOWN_TIMEOUT:?} of SIGTERM: {status:?}\n{}",
        operator.log()
    );
    let log = std::fs::read_to_string(&operator.log).unwrap();
    let skipped = skipped_in(&log).unwrap_or_else(|| panic!("no \"cut short\" line:\n{}", operator.log()));
    assert!(
        skipped > SYNTHETIC.services,
        "SIGTERM came early in the first pass, yet only {skipped} writes were skipped\n{}",
        operator.log()
    );
    // The writes in flight at SIGTERM (at most controller.concurrency, 4) may still
    // arrive, and so may those made between counting and the signal landing (a few
    // milliseconds of writing); a pass that went on writing would make a good part of
    // the thousands it skipped. (That no write starts after the stop at all is
    // tests/controller_shutdown.rs's to show, where the stop's moment is known.)
    let after = operator_writes(dir.path()) - before;
    assert!(
        after * 50 < skipped,
        "{after} writes arrived after SIGTERM, which skipped {skipped} (exited in {took:?})\n{}",
        operator.log()
    );

    // A new operator finds the estate half-written, and converges it.
    let mut restarted = double::start_operator(&second_dir, port, &args);
    wait_until(
        "the restarted operator converges the estate",
        CONVERGE_SYNTHETIC,
        &mut [&mut restarted],
        &double,
        || synthetic_converged(&api, estate.services.len()),
    );
    restarted.terminate();
    let status = restarted.wait_for_exit(START_STOP);
    assert!(
        status.is_some_and(|s| s.success()),
        "the restarted operator: {status:?}\n{}",
        restarted.log()
    );
    double.terminate();
    let status = double.wait_for_exit(START_STOP);
    assert!(
        status.is_some_and(|s| s.success()),
        "the API double: {status:?}\n{}",
        double.log()
    );
    eprintln!(
        "operator_binary shutdown: exited {took:?} after SIGTERM, {after} writes after it, {skipped} skipped; {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
}
