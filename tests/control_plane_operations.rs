//! Operating govcloud on a real control plane (`tests/control-plane/up`): what a
//! platform team lives through after the install, checked from the API server's side.
//!
//! - two replicas with leader election: one leads, the standby writes nothing but its
//!   Lease checks; SIGTERM to the leader hands the Lease over at once (released, not
//!   expired) and the new leader keeps the estate converged;
//! - the API server is SIGKILLed in the middle of a pass and restarted on the same etcd:
//!   the operator rides it out and converges to the offline plan, duplicating nothing,
//!   and then goes quiet;
//! - SIGTERM in the middle of a long first pass over 1,000 services: the operator lets
//!   its writes in flight finish, starts no other, exits 0 in time, and a new operator
//!   converges the rest.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use govcloud::api::{DepartmentService, ResourceAmounts};
use govcloud::plan::Snapshot;
use govcloud::synthetic::{self, EstateShape};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use support::chart::{self, NAMESPACE, RELEASE};
use support::control_plane::{
    self as cp, ControlPlane, describe, eventually, eventually_within, operator_config, operator_user,
    writes_by,
};
use support::estate::{
    RESYNC, apply_cluster_scoped, apply_samples, assert_matches_offline_plan, assert_quiet, converge_estate,
    wait_for_quiet,
};
use support::process::Process;

/// The Lease of `charts/govcloud/ci/ha-values.yaml`, and the operator's default one.
const LEASE: &str = "govcloud-leader";

/// `leaderElection.leaseDuration` (the default): how long a standby would wait for a
/// Lease its holder stopped renewing without releasing it.
const LEASE_DURATION: Duration = Duration::from_secs(15);

/// The second replica's ServiceAccount: bound to the chart's roles like the chart's own,
/// so that the audit log tells the replicas apart by user.
const STANDBY_ACCOUNT: &str = "govcloud-standby";

/// One operator replica of the leader-election test.
struct Replica {
    process: Process,
    /// Its `POD_NAME`: the holder identity it writes into the Lease.
    identity: &'static str,
    /// Its user in the audit log.
    user: String,
}

fn resync() -> String {
    format!("{}s", RESYNC.as_secs())
}

/// Who holds the Lease now (`None`: no Lease, or released).
async fn lease_holder(client: &Client) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);
    leases
        .get_opt(LEASE)
        .await
        .expect("reading the Lease")
        .and_then(|l| l.spec?.holder_identity)
        .filter(|h| !h.is_empty())
}

/// Creates the ServiceAccount `govcloud-standby` and binds it to every role the chart
/// binds its own ServiceAccount to (copies of the chart's RoleBindings and
/// ClusterRoleBindings with the standby as their subject). Returns the copies' names.
async fn bind_standby(client: &Client, rendered: &[Value]) -> Vec<String> {
    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": STANDBY_ACCOUNT, "namespace": NAMESPACE}});
    cp::apply_value(client, &account, None, "platform-team").await;
    let chart_account = json!({"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE});
    let mut copies = Vec::new();
    for binding in rendered
        .iter()
        .filter(|o| ["RoleBinding", "ClusterRoleBinding"].contains(&chart::kind(o)))
        .filter(|o| {
            o["subjects"]
                .as_array()
                .is_some_and(|s| s.contains(&chart_account))
        })
    {
        let mut copy = chart::strip(binding);
        let name = format!("{}-standby", chart::name(binding));
        copy["metadata"]["name"] = json!(name);
        copy["subjects"] =
            json!([{"kind": "ServiceAccount", "name": STANDBY_ACCOUNT, "namespace": NAMESPACE}]);
        cp::apply_value(client, &copy, None, "platform-team").await;
        copies.push(format!("{} {name}", chart::kind(binding)));
    }
    copies
}

#[tokio::test(flavor = "multi_thread")]
async fn one_of_two_replicas_leads_the_standby_only_reads_and_takes_over_at_once_on_sigterm() {
    let _turn = cp::turn().await;
    let estate = cp::sample_estate();
    let plane = ControlPlane::start(&cp::pool_nodes(&estate));
    let client = plane.admin().await;
    let ha_values =
        std::fs::read_to_string(support::repo_root().join(chart::CHART).join("ci/ha-values.yaml"))
            .expect("charts/govcloud/ci/ha-values.yaml");
    let rendered = cp::install_chart(&client, &ha_values).await;
    assert!(
        chart::of_kind(&rendered, "Role")
            .iter()
            .any(|r| r["metadata"]["namespace"] == NAMESPACE && r.to_string().contains(LEASE)),
        "the chart with ha-values.yaml rendered no Role for the Lease in {NAMESPACE}"
    );
    let replicas = start_replicas(&plane, &client, &rendered).await;
    apply_samples(&client, &estate).await;
    let expected = estate.services.len();
    eventually("a status on every DepartmentService", || {
        statuses_current(&client, expected)
    })
    .await;

    let (mut leader, mut standby) = leader_and_standby(&client, replicas).await;
    wait_for_quiet(&plane, &leader.user).await;
    assert_only_the_leader_wrote(&plane, &leader, &standby);

    // SIGTERM: the leader releases the Lease on its way out, so the standby need not wait
    // for it to expire.
    let signalled = Instant::now();
    leader.process.terminate();
    let deadline = signalled + LEASE_DURATION;
    let handover = loop {
        if lease_holder(&client).await.as_deref() == Some(standby.identity) {
            break signalled.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "the standby did not hold the Lease within the lease duration {LEASE_DURATION:?} of SIGTERM \
             to the leader\n{}\n{}",
            leader.process.log(),
            standby.process.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let status = leader
        .process
        .wait_for_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("the leader did not exit after SIGTERM\n{}", leader.process.log()));
    assert!(
        status.success() && leader.process.log().contains("released leadership"),
        "the leader exited {status}, releasing the Lease or not\n{}",
        leader.process.log()
    );
    println!("SIGTERM to the leader -> the standby holds the Lease: {handover:?}");

    scaling_reaches_the_deployment(&plane, &client, &standby).await;
    standby.process.terminate();
    let status = standby.process.wait_for_exit(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "the new leader on SIGTERM: {status:?}\n{}",
        standby.process.log()
    );
}

/// Two operators with `--leader-elect`: replica a as the chart's ServiceAccount, b as
/// `govcloud-standby`. Both replicas of a real install run as the chart's account and
/// send the same User-Agent (govcloud/VERSION), so nothing in the audit log would tell
/// them apart; b's account has exactly the chart's grants instead.
async fn start_replicas(plane: &ControlPlane, client: &Client, rendered: &[Value]) -> Vec<Replica> {
    let copies = bind_standby(client, rendered).await;
    assert!(
        copies.iter().any(|c| c.starts_with("ClusterRoleBinding"))
            && copies.iter().any(|c| c.starts_with("RoleBinding")),
        "the chart's ServiceAccount should have a ClusterRoleBinding and the Lease's RoleBinding: {copies:?}"
    );
    let config = operator_config(&resync(), "");
    let mut replicas = Vec::new();
    for (name, identity, account) in [
        ("replica-a", "govcloud-a", RELEASE),
        ("replica-b", "govcloud-b", STANDBY_ACCOUNT),
    ] {
        let kubeconfig = cp::service_account_kubeconfig(plane, client, NAMESPACE, account).await;
        let process = cp::start_operator_with_env(
            plane,
            name,
            &kubeconfig,
            &config,
            &["--leader-elect"],
            &[("POD_NAME", identity)],
        );
        replicas.push(Replica {
            process,
            identity,
            user: format!("system:serviceaccount:{NAMESPACE}:{account}"),
        });
    }
    replicas
}

/// Exactly one leads: it holds the Lease, and only its log says its planner started.
async fn leader_and_standby(client: &Client, mut replicas: Vec<Replica>) -> (Replica, Replica) {
    let logs = |replicas: &[Replica]| {
        replicas
            .iter()
            .map(|r| r.process.log())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let holder = lease_holder(client).await.unwrap_or_else(|| {
        panic!(
            "the estate converged, yet nobody holds the Lease\n{}",
            logs(&replicas)
        )
    });
    let leader_at = replicas
        .iter()
        .position(|r| r.identity == holder)
        .unwrap_or_else(|| panic!("the Lease is held by {holder:?}, neither replica"));
    let leader = replicas.remove(leader_at);
    let standby = replicas.remove(0);
    let leading = |r: &Replica| {
        std::fs::read_to_string(&r.process.log)
            .unwrap_or_default()
            .contains("leading: the planner starts")
    };
    assert!(
        leading(&leader),
        "the holder never started its planner\n{}",
        leader.process.log()
    );
    assert!(
        !leading(&standby),
        "the standby started a planner while {} held the Lease\n{}",
        leader.identity,
        standby.process.log()
    );
    (leader, standby)
}

/// The audit log so far: the standby checked the Lease and wrote nothing else (a
/// create of it, refused, when both started at once); the leader made the estate.
fn assert_only_the_leader_wrote(plane: &ControlPlane, leader: &Replica, standby: &Replica) {
    let events = plane.audit();
    let lease_write = |e: &&Value| {
        e["objectRef"]["resource"] == "leases"
            && e["objectRef"]["namespace"] == NAMESPACE
            && (e["objectRef"]["name"] == LEASE || e["verb"] == "create")
    };
    let standby_writes = writes_by(&events, &standby.user, None);
    let other: Vec<&Value> = standby_writes
        .iter()
        .copied()
        .filter(|e| !lease_write(e))
        .collect();
    assert!(
        other.is_empty(),
        "the standby wrote more than its Lease:\n{}",
        describe(&other)
    );
    let standby_checks = events
        .iter()
        .filter(|e| e["user"]["username"] == standby.user.as_str() && e["objectRef"]["resource"] == "leases")
        .count();
    let leader_writes = writes_by(&events, &leader.user, None);
    assert!(
        standby_checks > 0
            && leader_writes
                .iter()
                .any(|e| e["objectRef"]["resource"] == "deployments"),
        "the audit log should show the standby checking the Lease ({standby_checks} times) and the leader \
         making the Deployments ({} writes)",
        leader_writes.len()
    );
    println!(
        "{} leads: {} writes; the standby {}: {standby_checks} Lease requests, {} writes, all to the Lease",
        leader.identity,
        leader_writes.len(),
        standby.identity,
        standby_writes.len()
    );
}

/// The new leader keeps the estate converged: one replica fewer for a sample service
/// reaches its Deployment, written by the new leader's account.
async fn scaling_reaches_the_deployment(plane: &ControlPlane, client: &Client, new_leader: &Replica) {
    let changed = service_to_scale(client).await;
    let (ns, name) = (changed.namespace().unwrap(), changed.name_any());
    let replicas = changed
        .spec
        .workload
        .as_ref()
        .and_then(|w| w.replicas)
        .unwrap_or(1)
        - 1;
    let services: Api<DepartmentService> = Api::namespaced(client.clone(), &ns);
    let changed_at = Timestamp::now();
    services
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"workload": {"replicas": replicas}}})),
        )
        .await
        .expect("changing the service's replicas");
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    eventually(
        &format!("Deployment {ns}/{name} following its service to {replicas} replicas"),
        || async {
            let d = deployments.get(&name).await.map_err(|e| e.to_string())?;
            let got = d.spec.and_then(|s| s.replicas);
            if got == Some(replicas) {
                Ok(())
            } else {
                Err(format!("{got:?} replicas\n{}", new_leader.process.log()))
            }
        },
    )
    .await;
    let events = plane.audit();
    let scaled_by: BTreeSet<&str> = events
        .iter()
        .filter(|e| e["objectRef"]["resource"] == "deployments" && e["objectRef"]["name"] == name.as_str())
        .filter(|e| ["patch", "update"].contains(&e["verb"].as_str().unwrap_or_default()))
        .filter(|e| cp::received(e) >= changed_at)
        .filter_map(|e| e["user"]["username"].as_str())
        // The Deployment controller writes its revision and status; the replicas are ours.
        .filter(|u| u.starts_with(&format!("system:serviceaccount:{NAMESPACE}:")))
        .collect();
    assert_eq!(
        scaled_by,
        BTreeSet::from([new_leader.user.as_str()]),
        "which operator replica wrote Deployment {ns}/{name} after the change"
    );
}

/// `Ok` once `expected` services exist and each has a status for its current generation.
async fn statuses_current(client: &Client, expected: usize) -> Result<(), String> {
    let services = Api::<DepartmentService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| e.to_string())?
        .items;
    if services.len() != expected {
        return Err(format!("{} of {expected} services", services.len()));
    }
    let stale: Vec<String> = services
        .iter()
        .filter(|s| s.status.as_ref().and_then(|st| st.observed_generation) != s.metadata.generation)
        .map(|s| format!("{}/{}", s.namespace().unwrap_or_default(), s.name_any()))
        .collect();
    match stale.first() {
        None => Ok(()),
        Some(first) => Err(format!("{} without a current status, {first} first", stale.len())),
    }
}

/// A placed own workload of the samples with more than one replica: one fewer stays
/// within its quota and its pool.
async fn service_to_scale(client: &Client) -> DepartmentService {
    let mut services = Api::<DepartmentService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("listing DepartmentServices")
        .items;
    services.sort_by_key(|s| (s.namespace(), s.name_any()));
    services
        .into_iter()
        .find(|s| {
            s.status.as_ref().is_some_and(|st| st.pool.is_some())
                && s.spec.workload.as_ref().and_then(|w| w.replicas).unwrap_or(1) > 1
        })
        .expect("a placed sample workload with two or more replicas")
}

/// The department of the API-server-restart test, and its pool (with nodes of its own).
const BATCH: &str = "batch";
const BATCH_SERVICES: usize = 40;

/// The samples plus a department with room for a batch of small services, on a pool
/// of its own.
fn estate_with_batch_room() -> Snapshot {
    let mut estate = cp::sample_estate();
    // Sample services move onto the pool too (it costs nothing): it is large enough for
    // them and the whole batch. The plan fills a pool's capacity as a whole, so one node
    // as large as the pool leaves no fragment too small for a pod the plan counted in.
    let mut pool = synthetic::pool("batch-pool", 2, "48", "96Gi");
    pool.spec.node_shape = Some(ResourceAmounts {
        cpu: "48".into(),
        memory: "96Gi".into(),
    });
    let mut department = synthetic::department(BATCH, 2, "16", "32Gi", 50);
    department.spec.pools = vec!["batch-pool".into()];
    estate.pools.push(pool);
    estate.departments.push(department);
    estate
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_rides_out_an_api_server_restart_in_the_middle_of_a_pass() {
    let _turn = cp::turn().await;
    let mut estate = converge_estate(estate_with_batch_room()).await;
    let user = operator_user();
    let namespace = format!("dept-{BATCH}");
    let batch: Vec<DepartmentService> = (0..BATCH_SERVICES)
        .map(|i| synthetic::workload(&namespace, &format!("batch-{i:02}"), 2, 1, "100m", "128Mi"))
        .collect();

    let mut tail = estate.plane.audit_tail();
    let services: Api<DepartmentService> = Api::namespaced(estate.client.clone(), &namespace);
    for s in &batch {
        services
            .create(&PostParams::default(), s)
            .await
            .unwrap_or_else(|e| panic!("creating DepartmentService {}: {e}", s.name_any()));
    }
    estate.estate.services.extend(batch.iter().cloned());
    // The moment the operator starts writing the batch, the API server dies.
    let deadline = Instant::now() + cp::CONVERGE;
    let first = loop {
        let events = tail.next();
        let first = writes_by(&events, &user, None)
            .into_iter()
            .find(|e| e["objectRef"]["namespace"] == namespace.as_str())
            .cloned();
        if let Some(first) = first {
            break first;
        }
        assert!(
            Instant::now() < deadline,
            "the operator never wrote for the batch\n{}",
            estate.operator_log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    estate.plane.kill("kube-apiserver");
    let killed_at = Timestamp::now();
    let killed = Instant::now();
    // An outage of a few seconds: the operator's writes fail meanwhile, and it must not exit.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_running(&mut estate.operator);
    estate.plane.up();
    println!(
        "killed the API server at the batch's first write ({}); back after {:?}",
        describe(&[&first]),
        killed.elapsed()
    );

    estate.wait_for_statuses().await;
    estate.wait_until_ready().await;
    assert_running(&mut estate.operator);
    let log = std::fs::read_to_string(&estate.operator.log).unwrap_or_default();
    let failed = log.matches("write failed").count();
    assert!(
        failed > 0,
        "the operator's log shows no write failing while the API server was down: did the kill land \
         after its pass?\n{}",
        estate.operator_log()
    );

    // Each service once: one Deployment, never a second, and the kill landed mid-pass
    // (some of them were made only after the API server came back).
    let deployments = Api::<Deployment>::namespaced(estate.client.clone(), &namespace)
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=govcloud"))
        .await
        .expect("listing the batch's Deployments")
        .items;
    let mut per_service: BTreeMap<String, usize> = BTreeMap::new();
    for d in &deployments {
        let service = d.labels().get("govcloud.io/service").cloned().unwrap_or_default();
        *per_service.entry(service).or_default() += 1;
    }
    let wrong: Vec<String> = batch
        .iter()
        .map(|s| s.name_any())
        .filter(|name| per_service.get(name) != Some(&1))
        .map(|name| format!("{name}: {} Deployments", per_service.get(&name).unwrap_or(&0)))
        .collect();
    assert!(
        wrong.is_empty(),
        "not exactly one Deployment per service of the batch (all placed on their pool):\n{}\n{}",
        wrong.join("\n"),
        refused(&estate.services().await, &namespace).join("\n")
    );
    assert_eq!(deployments.len(), BATCH_SERVICES, "the batch's Deployments");
    let made_after = deployments
        .iter()
        .filter(|d| {
            d.metadata
                .creation_timestamp
                .as_ref()
                .is_some_and(|t| t.0 > killed_at)
        })
        .count();
    assert!(
        made_after > 0,
        "every Deployment of the batch was made before the API server was killed: not mid-pass"
    );
    println!(
        "{made_after} of {BATCH_SERVICES} Deployments made after the restart; {failed} failed writes logged"
    );

    // What the operator decided is what the offline plan of the same objects decides.
    assert_matches_offline_plan(&estate.client, &estate.operator_log()).await;
    // And converged means quiet: two resync intervals without a write.
    assert_quiet(&estate.plane, &user, 2, &estate.operator_log()).await;
    assert_running(&mut estate.operator);
}

/// Fails the test if `process` has exited (a quiet audit log says nothing of a dead one).
fn assert_running(process: &mut Process) {
    let exited = process.child.try_wait().expect("polling the operator");
    assert!(
        exited.is_none(),
        "the operator exited: {exited:?}\n{}",
        process.log()
    );
}

/// The services of `namespace` that have no pool, with the reason.
fn refused(services: &[DepartmentService], namespace: &str) -> Vec<String> {
    services
        .iter()
        .filter(|s| s.namespace().as_deref() == Some(namespace))
        .filter(|s| s.status.as_ref().is_none_or(|st| st.pool.is_none()))
        .map(|s| {
            let placed = support::estate::condition(s, "Placed").unwrap_or_default();
            format!("{} not placed: {}", s.name_any(), placed["message"])
        })
        .collect()
}

/// The estate of the mid-pass shutdown test: one pass over it makes thousands of writes
/// (every service's workload objects, its status and an Event), far more than the
/// seconds the test needs to send SIGTERM while the pass writes.
const LARGE: EstateShape = EstateShape {
    services: 1000,
    departments: 20,
    pools: 6,
    offerings: 4,
    levels: 3,
    tenant_fraction: 0.2,
    headroom: 1.3,
};

/// `controller.shutdownTimeout` of the shutdown test.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// What exiting may take beyond the shutdown timeout (the HTTP server's drain, the
/// process's teardown, a loaded machine).
const EXIT_MARGIN: Duration = Duration::from_secs(5);

/// How long a fresh operator may take to converge the large estate on this machine.
const CONVERGE_LARGE: Duration = Duration::from_secs(600);

/// The number in the operator's "estate pass cut short by shutdown: N writes skipped" line.
fn skipped_in(log: &str) -> Option<usize> {
    let (_, rest) = log.split_once("estate pass cut short by shutdown: ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Applies the large estate as the admin: the cluster-scoped objects, then the
/// department namespaces ahead of the operator, so that all the services exist before
/// it starts and its first pass is one long pass over all of them.
async fn apply_large(client: &Client, estate: &Snapshot) {
    apply_cluster_scoped(client, estate).await;
    let manager = "platform-team";
    for d in &estate.departments {
        let ns = format!("dept-{}", d.name_any());
        let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        cp::apply_value(client, &namespace, None, manager).await;
        // The pools have no nodes: thousands of pods would only wait unscheduled, load on
        // a small machine that this test does not look at. The operator's writes and
        // statuses do not depend on them.
        let no_pods = json!({"apiVersion": "v1", "kind": "ResourceQuota",
                             "metadata": {"name": "test-no-pods", "namespace": ns},
                             "spec": {"hard": {"pods": "0"}}});
        cp::apply_value(client, &no_pods, None, manager).await;
    }
    let created = futures::stream::iter(estate.services.iter().map(|s| async move {
        let api: Api<DepartmentService> = Api::namespaced(client.clone(), &s.namespace().unwrap());
        let mut s = s.clone();
        s.metadata.resource_version = None;
        s.metadata.creation_timestamp = None;
        api.create(&PostParams::default(), &s)
            .await
            .unwrap_or_else(|e| panic!("creating DepartmentService {}: {e}", s.name_any()));
    }))
    .buffer_unordered(8)
    .count()
    .await;
    assert_eq!(created, estate.services.len());
}

/// `Ok` when every service has a current status and every placed own workload its
/// Deployment.
async fn large_converged(client: &Client, services: usize) -> Result<(), String> {
    statuses_current(client, services).await?;
    let listed = Api::<DepartmentService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| e.to_string())?
        .items;
    let deployments: BTreeSet<(String, String)> = Api::<Deployment>::all(client.clone())
        .list(&ListParams::default().labels("app.kubernetes.io/managed-by=govcloud"))
        .await
        .map_err(|e| e.to_string())?
        .items
        .iter()
        .map(|d| (d.namespace().unwrap_or_default(), d.name_any()))
        .collect();
    let missing = listed
        .iter()
        .filter(|s| s.spec.workload.is_some() && s.status.as_ref().is_some_and(|st| st.pool.is_some()))
        .filter(|s| !deployments.contains(&(s.namespace().unwrap_or_default(), s.name_any())))
        .count();
    match missing {
        0 => Ok(()),
        n => Err(format!("{n} placed workloads without their Deployment")),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_in_a_long_pass_finishes_the_writes_in_flight_exits_0_and_a_new_operator_converges_the_rest()
{
    let _turn = cp::turn().await;
    let estate = synthetic::estate(7, LARGE);
    let plane = ControlPlane::start(&[]);
    let client = plane.admin().await;
    cp::install_chart(&client, "").await;
    let kubeconfig: PathBuf = cp::service_account_kubeconfig(&plane, &client, NAMESPACE, RELEASE).await;
    let applying = Instant::now();
    apply_large(&client, &estate).await;
    println!(
        "{} services applied in {:?}",
        estate.services.len(),
        applying.elapsed()
    );
    let user = operator_user();
    let config = operator_config(
        &resync(),
        &format!("  shutdownTimeout: {}s\n", SHUTDOWN_TIMEOUT.as_secs()),
    );

    let mut tail = plane.audit_tail();
    let mut operator = cp::start_operator(&plane, "operator", &kubeconfig, &config, &[]);
    let mut seen = 0;
    eventually("the operator writing its first pass", || {
        seen += writes_by(&tail.next(), &user, None).len();
        let result = if seen >= 20 {
            Ok(())
        } else {
            Err(format!("{seen} writes so far\n{}", operator.log()))
        };
        async move { result }
    })
    .await;
    let signalled_at = Timestamp::now();
    let signalled = Instant::now();
    operator.terminate();
    let status = operator.wait_for_exit(SHUTDOWN_TIMEOUT + EXIT_MARGIN);
    let exited_at = Timestamp::now();
    let took = signalled.elapsed();
    assert!(
        status.is_some_and(|s| s.success()),
        "govcloud run did not exit 0 within its shutdown timeout {SHUTDOWN_TIMEOUT:?} (+{EXIT_MARGIN:?}) of \
         SIGTERM: {status:?}\n{}",
        operator.log()
    );
    let log = std::fs::read_to_string(&operator.log).unwrap();
    let skipped = skipped_in(&log).unwrap_or_else(|| panic!("no \"cut short\" line:\n{}", operator.log()));
    assert!(
        skipped > LARGE.services,
        "SIGTERM came early in the first pass, yet only {skipped} writes were skipped\n{}",
        operator.log()
    );
    assert!(
        !log.contains("abandoned"),
        "writes in flight were abandoned rather than finished\n{}",
        operator.log()
    );

    // The server's side: nothing of the operator's arrived once it was gone, and what
    // arrived after SIGTERM is the handful in flight, each answered.
    let events = plane.audit();
    let after_exit = writes_by(&events, &user, Some(exited_at));
    assert!(
        after_exit.is_empty(),
        "writes of the operator received after it exited:\n{}",
        describe(&after_exit)
    );
    let after_signal = writes_by(&events, &user, Some(signalled_at));
    let unanswered: Vec<&Value> = after_signal
        .iter()
        .copied()
        .filter(|e| e["stage"] != "ResponseComplete")
        .collect();
    assert!(
        unanswered.is_empty(),
        "writes not completed:\n{}",
        describe(&unanswered)
    );
    assert!(
        after_signal.len() * 50 < skipped,
        "{} writes arrived after SIGTERM, which skipped {skipped}:\n{}",
        after_signal.len(),
        describe(&after_signal)
    );
    let before = writes_by(&events, &user, None).len() - after_signal.len();
    println!(
        "SIGTERM after {before} writes: exited 0 in {took:?}, {} writes received after it, {skipped} skipped",
        after_signal.len()
    );

    // A new operator finds the estate part-written and converges all of it.
    let restarted_at = Instant::now();
    let mut restarted = cp::start_operator(&plane, "operator-restarted", &kubeconfig, &config, &[]);
    eventually_within(
        "the restarted operator converging the large estate",
        CONVERGE_LARGE,
        || large_converged(&client, estate.services.len()),
    )
    .await;
    let log = std::fs::read_to_string(&restarted.log).unwrap_or_default();
    println!(
        "the restarted operator converged in {:?}: {} passes, {} failed writes logged",
        restarted_at.elapsed(),
        log.matches("estate pass").count(),
        log.matches("write failed").count()
    );
    assert_matches_offline_plan(&client, &restarted.log()).await;
    // Converged means quiet, on an estate this size too.
    assert_quiet(&plane, &user, 1, &restarted.log()).await;
    assert_running(&mut restarted);
}
