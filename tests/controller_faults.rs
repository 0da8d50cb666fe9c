//! Fault injection: for every write a pass makes — creating the estate, then sweeping
//! and re-stating a service that became refused — a run where that one write fails
//! (500, or 409 Conflict) followed by a normal pass. Each converges to exactly the state
//! of a run without faults: nothing leaked, duplicated or orphaned.
//!
//! 429 and client timeouts cannot be injected through kube-fake-client 0.3 (its error
//! type has no 429 and its interceptors are synchronous); the applier treats every
//! failure alike (retry on the next pass), so those are covered by the same path.

mod support;

use std::collections::BTreeMap;

use govcloud::api::DepartmentService;
use govcloud::controller::{EstateReconciler, managed_kinds, managed_selector};
use govcloud::plan::Snapshot;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, Patch, PatchParams};
use support::fake_cluster::{Fault, beyond_namespace_limitation, cluster, now, settled_estate, snapshot};

fn estate() -> Snapshot {
    settled_estate(&support::repo_root().join("tests/fixtures/every-kind.yaml"))
}

/// Everything a pass is responsible for: managed objects (with their data) and the
/// DepartmentServices' statuses.
async fn state(client: &Client) -> BTreeMap<String, serde_json::Value> {
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

async fn pass(client: &Client, estate: &Snapshot) -> usize {
    let r = EstateReconciler::new(client.clone(), None);
    let (_, report) = r
        .pass(&snapshot(client, estate).await, &now())
        .await
        .expect("renders");
    let errors = beyond_namespace_limitation(&report.errors);
    for e in &errors {
        eprintln!("pass error: {e}");
    }
    errors.len()
}

const REFUSED: (&str, &str) = ("dept-finance", "ledger");

/// The change between the two phases: a service switches to an image the platform
/// policy refuses, so the operator itself must sweep its workload (its owner still
/// exists, so the garbage collector would not) and rewrite its status.
async fn refuse_one(client: &kube::Client) {
    let api: Api<DepartmentService> = Api::namespaced(client.clone(), REFUSED.0);
    let edit = serde_json::json!({"spec": {"workload": {"image": "docker.io/library/nginx:latest"}}});
    api.patch(REFUSED.1, &PatchParams::default(), &Patch::Merge(&edit))
        .await
        .unwrap();
}

/// Runs the estate to convergence, has one service refused, and converges again.
async fn scenario(fail_in: Option<(u8, usize, Fault)>) -> (BTreeMap<String, serde_json::Value>, usize) {
    let estate = estate();
    let (client, writes) = cluster(&estate).await;
    let mut failed = 0;
    for phase in 0..2u8 {
        if phase == 1 {
            refuse_one(&client).await;
        }
        let armed = matches!(fail_in, Some((p, _, _)) if p == phase);
        if let Some((_, at, fault)) = fail_in.filter(|_| armed) {
            let mut w = writes.lock().unwrap();
            w.fail_at = Some((w.count + at, fault));
        }
        let errors = pass(&client, &estate).await;
        writes.lock().unwrap().fail_at = None;
        failed += errors;
        if armed {
            // The normal pass after the failure.
            assert_eq!(
                pass(&client, &estate).await,
                0,
                "the pass after a failure converges"
            );
        }
    }
    // And a resync finds nothing left to do.
    let before = writes.lock().unwrap().count;
    assert_eq!(pass(&client, &estate).await, 0);
    assert_eq!(
        writes.lock().unwrap().count,
        before,
        "converged: a resync writes nothing"
    );
    (state(&client).await, failed)
}

/// How many writes each phase of a clean run makes.
async fn writes_per_phase() -> [usize; 2] {
    let estate = estate();
    let (client, writes) = cluster(&estate).await;
    let mut counts = [0; 2];
    for (phase, count) in counts.iter_mut().enumerate() {
        if phase == 1 {
            refuse_one(&client).await;
        }
        let before = writes.lock().unwrap().count;
        assert_eq!(pass(&client, &estate).await, 0);
        *count = writes.lock().unwrap().count - before;
    }
    counts
}

#[tokio::test]
async fn every_failed_write_is_recovered_by_the_next_pass() {
    let (reference, _) = scenario(None).await;
    assert!(
        reference
            .keys()
            .any(|k| k.starts_with("Deployment dept-finance/")),
        "{reference:#?}"
    );
    assert!(
        !reference
            .keys()
            .any(|k| k.ends_with(&format!("/{}", REFUSED.1)) && !k.starts_with("status")),
        "swept"
    );

    let per_phase = writes_per_phase().await;
    assert!(per_phase[0] > 20 && per_phase[1] > 3, "{per_phase:?}");
    let mut scenarios = 0;
    for (phase, &count) in per_phase.iter().enumerate() {
        for at in 0..count {
            for fault in [Fault::Server, Fault::Conflict] {
                let (state, failed) = scenario(Some((phase as u8, at, fault))).await;
                assert!(
                    failed >= 1,
                    "phase {phase}, write {at}, {fault:?}: the failure was seen"
                );
                assert_eq!(
                    state, reference,
                    "phase {phase}, write {at}, {fault:?}: converged to the clean state"
                );
                scenarios += 1;
            }
        }
    }
    // Stated in the closing note of the operator issue.
    println!("fault-injection scenarios: {scenarios} (writes per phase {per_phase:?})");
    assert_eq!(scenarios, 2 * (per_phase[0] + per_phase[1]));
}
