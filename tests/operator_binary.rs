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
//! The double needs python3 with the packages of `tests/kmock/requirements.txt`; when
//! they are missing the test fails with the install command rather than skipping.

#[path = "support/double.rs"]
mod double;
mod support;

use double::{Api, START_STOP, start_double, wait_until};

use std::time::{Duration, Instant};

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
