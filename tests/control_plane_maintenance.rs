//! Maintenance windows on a real control plane (`tests/control-plane/up`), in wall-clock
//! time: a department's three services sit on pool `maint-old`; the platform team
//! cordons it and opens `maint-new`. The moves wait for the department's window (set to
//! open 90-150 s after the estate converged) with `MaintenancePending=True` and a
//! `ChangeDeferred` Event, one goes at once with `govcloud.io/apply-now`, the other two
//! go only once the window opens, one after the other (the pool's single move slot), and
//! then everything settles to `NothingPending`.
//!
//! The operator runs with a resync of ten minutes for the part that waits, so that the
//! moves can only start on time through its window timer and its Deployment watches.

use crate::support;

use std::collections::BTreeMap;
use std::time::Duration;

use govcloud::api::{DepartmentService, ResourceAmounts, ResourcePool};
use govcloud::plan::Snapshot;
use govcloud::synthetic;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use support::control_plane::{self as cp, eventually, eventually_within};
use support::estate::{RESYNC, assert_quiet, condition, converge_estate, wait_for_passes, wait_for_quiet};
use support::windows::{events_about, next_window_start, set_department_window};

const DEPARTMENT: &str = "maint";
const NAMESPACE: &str = "dept-maint";
const OLD: &str = "maint-old";
const NEW: &str = "maint-new";
/// Moved at once by break-glass.
const URGENT: &str = "maint-a";
/// Wait for the window.
const WAITING: [&str; 2] = ["maint-b", "maint-c"];
const REASON: &str = "INC-4711: rack power work";

/// The samples plus a department of three small services on two level-2 pools of its
/// own: `maint-old` open, `maint-new` cordoned, so that all three land on `maint-old`.
/// The allow-list keeps the department off the sample pools; the pools are small enough
/// that the samples (placed fullest-first) have no reason to come onto them.
fn estate() -> Snapshot {
    let mut estate = cp::sample_estate();
    for (name, cordoned) in [(OLD, false), (NEW, true)] {
        let mut pool = synthetic::pool(name, 2, "2", "4Gi");
        pool.spec.node_shape = Some(ResourceAmounts {
            cpu: "2".into(),
            memory: "4Gi".into(),
        });
        pool.spec.cordoned = cordoned;
        estate.pools.push(pool);
    }
    let mut department = synthetic::department(DEPARTMENT, 2, "4", "8Gi", 10);
    department.spec.pools = vec![OLD.into(), NEW.into()];
    estate.departments.push(department);
    for name in [URGENT, WAITING[0], WAITING[1]] {
        estate
            .services
            .push(synthetic::workload(NAMESPACE, name, 2, 1, "100m", "128Mi"));
    }
    estate
}

async fn service(client: &Client, name: &str) -> DepartmentService {
    Api::<DepartmentService>::namespaced(client.clone(), NAMESPACE)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("getting DepartmentService {name}: {e}"))
}

async fn deployment(client: &Client, name: &str) -> Deployment {
    Api::<Deployment>::namespaced(client.clone(), NAMESPACE)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("getting Deployment {name}: {e}"))
}

/// The pool a Deployment's pods are pinned to.
fn selected_pool(d: &Deployment) -> Option<String> {
    d.spec
        .as_ref()?
        .template
        .spec
        .as_ref()?
        .node_selector
        .as_ref()?
        .get("govcloud.io/pool")
        .cloned()
}

/// Rolled out as the Deployment controller reports it: its current generation seen,
/// every replica updated and available, and no pod of an older ReplicaSet counted.
/// (The operator may look closer, at the pods; this is never stricter than that, so a
/// "not rolled out" here is not rolled out for the operator either.)
fn rolled_out(d: &Deployment) -> bool {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(st) = d.status.as_ref() else {
        return false;
    };
    st.observed_generation >= d.metadata.generation
        && st.updated_replicas == Some(want)
        && st.available_replicas == Some(want)
        && st.replicas == Some(want)
}

/// The Events about service `name` with reason `reason`.
async fn events(client: &Client, name: &str, reason: &str) -> Vec<Event> {
    events_about(client, NAMESPACE, name, reason).await
}

fn pending_summary(s: &DepartmentService) -> String {
    let st = s.status.clone().unwrap_or_default();
    format!(
        "pool {:?}, movedFrom {:?}, pendingChange {:?}, MaintenancePending {:?}",
        st.pool,
        st.moved_from,
        st.pending_change,
        condition(s, "MaintenancePending")
    )
}

/// What the wait for the window saw of one waiting service.
#[derive(Debug, Default)]
struct Seen {
    /// First poll that found its Deployment selecting `maint-new`.
    switched: Option<Timestamp>,
    /// First poll that found it rolled out on `maint-new`.
    rolled_out: Option<Timestamp>,
    move_limit: bool,
}

#[tokio::test(flavor = "multi_thread")]
async fn moves_out_of_a_cordoned_pool_wait_for_the_window_one_at_a_time_unless_applied_now() {
    let _turn = cp::turn().await;
    let began = std::time::Instant::now();
    let mut converged = converge_estate(estate()).await;
    let client = converged.client.clone();
    eventually("the department's services placed on maint-old", || async {
        for name in [URGENT, WAITING[0], WAITING[1]] {
            let s = service(&client, name).await;
            let pool = s.status.as_ref().and_then(|st| st.pool.clone());
            if pool.as_deref() != Some(OLD)
                || selected_pool(&deployment(&client, name).await).as_deref() != Some(OLD)
            {
                return Err(format!("{name}: {}", pending_summary(&s)));
            }
        }
        Ok(())
    })
    .await;
    // Precondition: only this department's services are on its pools, so that no other
    // move out of maint-old takes its move slot.
    for s in converged.services().await {
        let pool = s.status.as_ref().and_then(|st| st.pool.clone());
        if s.metadata.namespace.as_deref() != Some(NAMESPACE) {
            assert!(
                pool.as_deref() != Some(OLD) && pool.as_deref() != Some(NEW),
                "a sample service landed on this test's pools: {:?} on {pool:?}",
                s.metadata.name
            );
        }
    }

    // From here on, a resync of ten minutes: a move that starts on time was started by
    // the window timer (or, for the second move, by the Deployment watch), not by a pass
    // that happened to come along. The first operator finishes what it was doing (Ready conditions of pods that came
    // up late) before it is stopped, so that the restarted one starts from a converged
    // estate and the requests it makes while the moves wait are about the moves.
    let user = cp::operator_user();
    wait_for_quiet(&converged.plane, &user).await;
    converged.operator.terminate();
    assert!(
        converged
            .operator
            .wait_for_exit(Duration::from_secs(30))
            .is_some(),
        "the operator did not stop on SIGTERM\n{}",
        converged.operator_log()
    );
    converged.operator = cp::start_operator(
        &converged.plane,
        "operator-long-resync",
        &converged.kubeconfig,
        &cp::operator_config("600s", ""),
        &[],
    );
    wait_for_passes(&converged.operator, 1).await;

    let start = next_window_start();
    set_department_window(&client, DEPARTMENT, start).await;

    // (1) The platform team swaps the pools: the moves wait for the window.
    let pools: Api<ResourcePool> = Api::all(client.clone());
    for (name, cordoned) in [(NEW, false), (OLD, true)] {
        pools
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"cordoned": cordoned}})),
            )
            .await
            .unwrap_or_else(|e| panic!("cordoning {name}: {e}"));
    }
    let cordoned = std::time::Instant::now();
    eventually_within(
        "every move deferred to the window",
        Duration::from_secs(20),
        || async {
            for name in [URGENT, WAITING[0], WAITING[1]] {
                let s = service(&client, name).await;
                let st = s.status.clone().unwrap_or_default();
                let c = condition(&s, "MaintenancePending").unwrap_or_default();
                let change = st.pending_change.as_ref();
                let deferred = c["status"] == "True"
                    && c["reason"] == "AwaitingWindow"
                    && st.pool.as_deref() == Some(OLD)
                    && change.is_some_and(|p| {
                        p.from == OLD && p.to == NEW && p.next_window.as_ref().map(|t| t.0) == Some(start)
                    });
                if !deferred {
                    return Err(format!("{name}: {}", pending_summary(&s)));
                }
                if events(&client, name, "ChangeDeferred").await.is_empty() {
                    return Err(format!("{name}: no ChangeDeferred Event yet"));
                }
            }
            Ok(())
        },
    )
    .await;
    println!("deferred {:?} after the cordon", cordoned.elapsed());
    // `since` is the moment each move started waiting; it must not move while it waits.
    let mut since = BTreeMap::new();
    for name in WAITING {
        let s = service(&client, name).await;
        since.insert(name, s.status.unwrap().pending_change.unwrap().since.0);
    }
    for name in [URGENT, WAITING[0], WAITING[1]] {
        let d = deployment(&client, name).await;
        assert_eq!(
            selected_pool(&d).as_deref(),
            Some(OLD),
            "{name}'s Deployment stays on the cordoned pool while its move waits"
        );
    }

    // (2) Break-glass: one service moves now, well before the window.
    Api::<DepartmentService>::namespaced(client.clone(), NAMESPACE)
        .patch(
            URGENT,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"govcloud.io/apply-now": REASON}}})),
        )
        .await
        .expect("annotating");
    eventually_within(
        "the annotated service moved at once",
        Duration::from_secs(30),
        || async {
            let s = service(&client, URGENT).await;
            let pool = selected_pool(&deployment(&client, URGENT).await);
            let applied = events(&client, URGENT, "AppliedNow").await;
            let said = applied
                .iter()
                .any(|e| e.note.as_deref().unwrap_or_default().contains(REASON));
            if pool.as_deref() == Some(NEW)
                && s.status.as_ref().and_then(|st| st.pool.as_deref()) == Some(NEW)
                && said
            {
                Ok(())
            } else {
                Err(format!(
                    "Deployment on {pool:?}, {}; AppliedNow Events {applied:?}",
                    pending_summary(&s)
                ))
            }
        },
    )
    .await;
    let moved = Timestamp::now();
    assert!(
        moved < start,
        "the break-glass move came only at {moved}, the window opened at {start}"
    );
    println!(
        "{URGENT} moved by apply-now at {moved}, {} before the window",
        start.duration_since(moved)
    );

    let mut waiting_tail = converged.plane.audit_tail();

    // (3) The window. Each poll reads both Deployments twice: which select maint-new
    // (first read), then which are rolled out there (second read). Rolled out stays
    // rolled out, so "not rolled out" in the second read held at the first read too.
    // That makes the check sound with any scheduling of the polls: once one service is
    // known to have moved first, the other selecting maint-new while the first is not
    // rolled out means two moves were in progress at once; when both are first seen
    // switched in the same poll, neither rolled out proves it.
    let mut seen: BTreeMap<&str, Seen> = WAITING.iter().map(|&n| (n, Seen::default())).collect();
    let mut first: Option<&str> = None;
    let deadline = start + k8s_openapi::jiff::SignedDuration::from_secs(120);
    loop {
        let mut switched = BTreeMap::new();
        for name in WAITING {
            switched.insert(
                name,
                selected_pool(&deployment(&client, name).await).as_deref() == Some(NEW),
            );
        }
        let read = Timestamp::now();
        let mut done = BTreeMap::new();
        for name in WAITING {
            let d = deployment(&client, name).await;
            done.insert(name, selected_pool(&d).as_deref() == Some(NEW) && rolled_out(&d));
        }
        let rolled_read = Timestamp::now();
        for name in WAITING {
            let s = service(&client, name).await;
            let c = condition(&s, "MaintenancePending").unwrap_or_default();
            let entry = seen.get_mut(name).unwrap();
            entry.move_limit |= c["reason"] == "MoveLimit";
            if let Some(p) = s.status.as_ref().and_then(|st| st.pending_change.as_ref()) {
                assert_eq!(
                    p.since.0,
                    since[name],
                    "{name}'s pendingChange.since changed while it waited: {}",
                    pending_summary(&s)
                );
            }
            if switched[name] && entry.switched.is_none() {
                entry.switched = Some(read);
                assert!(
                    read >= start,
                    "{name}'s Deployment selected {NEW} at {read}, before the window opened at {start}: {}",
                    pending_summary(&s)
                );
            }
            if done[name] && entry.rolled_out.is_none() {
                entry.rolled_out = Some(rolled_read);
            }
        }
        let [b, c] = WAITING;
        match first {
            None if switched[b] && switched[c] => assert!(
                done[b] || done[c],
                "both moves out of {OLD} started together (maxConcurrentMoves 1): {seen:#?}\n{}",
                converged.operator_log()
            ),
            None if switched[b] => first = Some(b),
            None if switched[c] => first = Some(c),
            Some(f) => {
                let other = if f == b { c } else { b };
                assert!(
                    !switched[other] || done[f],
                    "{other} started moving while {f}'s move was still rolling out \
                     (maxConcurrentMoves 1): {seen:#?}\n{}",
                    converged.operator_log()
                );
            }
            None => {}
        }
        if done.values().all(|&d| d) {
            break;
        }
        assert!(
            Timestamp::now() < deadline,
            "the waiting moves did not both roll out within 120 s of the window: {seen:#?}\n{}",
            converged.operator_log()
        );
        // The poll interval of `eventually`; this loop keeps state across polls.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!("window at {start}, first mover {first:?}: {seen:#?}");
    let earliest = seen.values().filter_map(|s| s.switched).min().unwrap();
    assert!(
        earliest.duration_since(start) < k8s_openapi::jiff::SignedDuration::from_secs(5),
        "the first move started {} after the window opened: not on the window timer",
        earliest.duration_since(start)
    );
    // What the operator asked of the API server while the moves waited: with a resync of
    // ten minutes and nothing changing, only its watches (a poll would show up here).
    let waited: Vec<serde_json::Value> = waiting_tail
        .next_by(&user)
        .into_iter()
        .filter(|e| cp::received(e) < start)
        .collect();
    println!(
        "operator requests between the break-glass move and the window:\n{}",
        cp::describe(&waited.iter().collect::<Vec<_>>())
    );

    // (4) Settled: nothing pending, no move in progress, and the operator goes quiet.
    eventually("every move settled", || async {
        for name in [URGENT, WAITING[0], WAITING[1]] {
            let s = service(&client, name).await;
            let st = s.status.clone().unwrap_or_default();
            let c = condition(&s, "MaintenancePending").unwrap_or_default();
            let settled = st.pool.as_deref() == Some(NEW)
                && st.moved_from.is_none()
                && st.pending_change.is_none()
                && c["status"] == "False"
                && c["reason"] == "NothingPending";
            if !settled {
                return Err(format!("{name}: {}", pending_summary(&s)));
            }
        }
        Ok(())
    })
    .await;
    // One Event of each kind per service: deferred once (a change of why it waits, as
    // AwaitingWindow -> MoveLimit, is no news), carried out once.
    let all = Api::<Event>::namespaced(client.clone(), NAMESPACE)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    for e in all.iter().filter(|e| {
        ["ChangeDeferred", "ChangeCarriedOut", "AppliedNow", "Moved"]
            .contains(&e.reason.as_deref().unwrap_or_default())
    }) {
        println!(
            "Event {:?} {:?} x{:?} {:?}: {:?}",
            e.regarding.as_ref().and_then(|r| r.name.clone()),
            e.reason,
            e.deprecated_count,
            e.event_time.as_ref().map(|t| t.0),
            e.note
        );
    }
    let count = |name: &str, reason: &str| {
        all.iter()
            .filter(|e| e.reason.as_deref() == Some(reason))
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .count()
    };
    for name in WAITING {
        assert_eq!(
            count(name, "ChangeDeferred"),
            1,
            "{name}: one ChangeDeferred Event"
        );
        assert_eq!(
            count(name, "ChangeCarriedOut"),
            1,
            "{name}: one ChangeCarriedOut Event"
        );
        assert_eq!(count(name, "AppliedNow"), 0, "{name} was not applied now");
    }
    assert_eq!(count(URGENT, "ChangeDeferred"), 1);
    assert_eq!(count(URGENT, "AppliedNow"), 1);
    assert_eq!(
        count(URGENT, "ChangeCarriedOut"),
        0,
        "the break-glass move is told as AppliedNow, not as a window's"
    );
    let passes: Vec<String> = std::fs::read_to_string(&converged.operator.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("estate pass") || l.contains("WARN") || l.contains("ERROR"))
        .map(str::to_string)
        .collect();
    println!("operator passes after the restart:\n{}", passes.join("\n"));
    let reads = assert_quiet(
        &converged.plane,
        &cp::operator_user(),
        2,
        &converged.operator_log(),
    )
    .await;
    println!(
        "quiet for {:?} ({} reads); test took {:?}",
        RESYNC * 2,
        reads.len(),
        began.elapsed()
    );
    drop(converged);
}
