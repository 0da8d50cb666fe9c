//! govcloud on a real control plane (`tests/control-plane/up`) with a synthetic estate
//! of N services: the operator, run as the chart's ServiceAccount on an empty cluster,
//! converges the estate while the audit log records every request it makes.
//!
//! Per N: time from the first service created to a status on every service; the
//! operator's writes per object it manages (applies, statuses, events, finalizers,
//! deletes); peak RSS of the operator, the API server and etcd; CPU and API requests of
//! one resync pass once nothing changes (target: no request at all).
//!
//! `cargo bench --bench control_plane` measures N = 2,000 and 10,000
//! (`GOVCLOUD_BENCH_SERVICES=2000,10000` chooses), prints a table per N and writes
//! `target/control-plane-bench.json`. Under `cargo test` (no `--bench`) 20 services take
//! the same path once, and any failure fails the test.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;
use govcloud::api::{DepartmentService, ResourceAmounts};
use govcloud::controller::{managed_kinds, managed_selector};
use govcloud::plan::Snapshot;
use govcloud::synthetic::{EstateShape, estate};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use support::control_plane::{self as cp, ControlPlane, WRITE_VERBS};
use support::process::Process;

const SEED: u64 = 20_261_127;
/// Requests the benchmark itself keeps in flight while it creates objects.
const CLIENT_CONCURRENCY: usize = 8;

/// The planner benchmark's estate (`EstateShape::BENCHMARK`) scaled to `services`, with
/// at least one pool per security level.
fn shape(services: usize) -> EstateShape {
    EstateShape {
        services,
        departments: (services / 20).max(2),
        pools: (services / 200).max(3),
        offerings: (services / 50).max(2),
        ..EstateShape::BENCHMARK
    }
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let (sizes, resync) = if measuring {
        let list = std::env::var("GOVCLOUD_BENCH_SERVICES").unwrap_or_else(|_| "2000,10000".into());
        let sizes = list
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .unwrap_or_else(|e| panic!("GOVCLOUD_BENCH_SERVICES {list:?}: {e}"))
            })
            .collect();
        (sizes, Duration::from_secs(20))
    } else {
        (vec![20], Duration::from_secs(3))
    };
    let machine = Machine::read();
    println!("{}", machine.markdown());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut results = Vec::new();
    for n in sizes {
        let figures = rt.block_on(measure(n, resync, measuring));
        println!("{}", figures.markdown());
        results.push(figures);
        // After each size: a larger one that fails must not take the smaller one's figures.
        if measuring {
            let file = target_dir().join("control-plane-bench.json");
            let report = serde_json::json!({"machine": machine, "runs": results});
            std::fs::write(&file, serde_json::to_vec_pretty(&report).unwrap()).expect("writing the report");
            println!("written to {}", file.display());
        }
    }
    let problems: Vec<String> = results.iter().flat_map(|r| r.problems.clone()).collect();
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));
}

/// What one run measured.
#[derive(Debug, Serialize)]
struct Figures {
    services: usize,
    departments: usize,
    pools: usize,
    offerings: usize,
    /// Kwok Nodes registered for the pools (besides kwok's own system node).
    nodes: usize,
    /// Other kube-apiservers on the machine when the run started and when it ended.
    other_control_planes: (usize, usize),
    /// The machine's 1-minute load average when the run started and when it ended.
    load_average: (f64, f64),
    /// Objects labelled app.kubernetes.io/managed-by=govcloud, by kind.
    managed_objects: BTreeMap<String, usize>,
    /// govcloud custom resources the operator writes statuses to (all of the estate's).
    govcloud_resources: usize,
    /// Seconds from the first service created to every service's status at its generation.
    converge_s: f64,
    /// Seconds the benchmark took to create the services (part of `converge_s`).
    create_s: f64,
    /// Seconds from the first service created to the operator's last write (every pod
    /// Running and its readiness in the statuses; a resync interval without a write followed).
    settle_s: f64,
    /// Operator CPU seconds from its start until every service had a status.
    operator_cpu_converge_s: f64,
    /// The operator's writes from its start until settled.
    writes: Writes,
    pods: BTreeMap<&'static str, usize>,
    peak_rss_mib: BTreeMap<&'static str, f64>,
    resync: Resync,
    newcomer: Newcomer,
    problems: Vec<String>,
}

/// One new service in the settled estate, after the resync pass: from its creation to
/// its status, and the pass that covered it.
#[derive(Debug, Serialize)]
struct Newcomer {
    /// Seconds from the create call to a status with a phase (polled every 20 ms).
    to_status_s: f64,
    /// The operator's `controller.debounce`, which the pass waits out first.
    debounce_s: f64,
    /// Operator CPU seconds from the create call to the status.
    cpu_s: f64,
    /// The covering pass's own log line (its kind, duration and counts).
    pass: Value,
}

/// One resync pass with nothing changed.
#[derive(Debug, Serialize)]
struct Resync {
    interval_s: u64,
    /// Operator CPU seconds (utime + stime) from 1 s before the pass was due until its log line.
    cpu_s: f64,
    /// Wall seconds of that window.
    window_s: f64,
    /// The operator's CPU seconds per second while idle between passes (watch traffic).
    idle_cpu_per_s: f64,
    /// Every audit event of the operator in the window (distinct requests), by verb.
    requests: BTreeMap<String, usize>,
    /// The pass's own counts (its "estate pass" log line).
    report: Value,
}

impl Figures {
    fn markdown(&self) -> String {
        let managed: usize = self.managed_objects.values().sum();
        let per = |n: usize, of: usize| format!("{n} ({:.2} per object)", n as f64 / of.max(1) as f64);
        let w = |k: &str| self.writes.get(k);
        let total: usize = self.writes.by_category.values().sum();
        let list = |m: &BTreeMap<String, usize>| {
            if m.is_empty() {
                return "none".to_string();
            }
            m.iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let requests: usize = self.resync.requests.values().sum();
        let rows = [
            (
                "services / departments / pools / offerings",
                format!(
                    "{} / {} / {} / {}",
                    self.services, self.departments, self.pools, self.offerings
                ),
            ),
            ("kwok nodes for the pools", self.nodes.to_string()),
            (
                "pods (Running / Pending / other)",
                format!(
                    "{} / {} / {}",
                    self.pods["Running"], self.pods["Pending"], self.pods["other"]
                ),
            ),
            (
                "managed objects (labelled managed-by=govcloud)",
                format!("{managed}: {}", list(&self.managed_objects)),
            ),
            (
                "govcloud resources with a status",
                self.govcloud_resources.to_string(),
            ),
            (
                "time to converge (first service created → every status)",
                format!(
                    "{:.1} s (creating the services: {:.1} s)",
                    self.converge_s, self.create_s
                ),
            ),
            (
                "time to settle (→ the operator's last write, pods Running)",
                format!("{:.1} s", self.settle_s),
            ),
            (
                "operator CPU until converged",
                format!("{:.1} s", self.operator_cpu_converge_s),
            ),
            (
                "object applies / managed object",
                format!(
                    "{} (applied again: {})",
                    per(w("applies"), managed),
                    list(&self.writes.reapplied)
                ),
            ),
            (
                "status writes / govcloud resource",
                format!(
                    "{} ({:.2}; {}; {} after convergence)",
                    w("status"),
                    w("status") as f64 / self.govcloud_resources.max(1) as f64,
                    list(&self.writes.status_by_resource),
                    self.writes.status_after_converge
                ),
            ),
            (
                "events / finalizer writes / deletes",
                format!("{} / {} / {}", w("events"), w("finalizers"), w("deletes")),
            ),
            (
                "all writes / (managed objects + govcloud resources)",
                per(total, managed + self.govcloud_resources),
            ),
            ("writes refused (non-2xx)", self.writes.failed.to_string()),
            (
                "operator peak RSS (VmHWM)",
                format!("{:.0} MiB", self.peak_rss_mib["operator"]),
            ),
            (
                "kube-apiserver / etcd peak RSS",
                format!(
                    "{:.0} MiB / {:.0} MiB",
                    self.peak_rss_mib["kube-apiserver"], self.peak_rss_mib["etcd"]
                ),
            ),
            (
                "no-change resync: operator CPU",
                format!(
                    "{:.2} s in a {:.1} s window (idle: {:.3} s/s)",
                    self.resync.cpu_s, self.resync.window_s, self.resync.idle_cpu_per_s
                ),
            ),
            (
                "no-change resync: operator API requests",
                format!("{requests} {:?}", self.resync.requests),
            ),
            (
                "one new service: created → status (debounce included)",
                format!(
                    "{:.2} s (debounce {:.0} s); operator CPU {:.3} s",
                    self.newcomer.to_status_s, self.newcomer.debounce_s, self.newcomer.cpu_s
                ),
            ),
            (
                "one new service: its pass",
                format!(
                    "{} {} ms, {} applied, {} unchanged, {} status writes",
                    self.newcomer.pass["pass"],
                    self.newcomer.pass["took_ms"],
                    self.newcomer.pass["applied"],
                    self.newcomer.pass["unchanged"],
                    self.newcomer.pass["status_writes"]
                ),
            ),
            (
                "other control planes running; load average (start, end)",
                format!("{:?}; {:?}", self.other_control_planes, self.load_average),
            ),
        ];
        let mut out = format!(
            "\n### {} services\n\n| figure | value |\n|---|---|\n",
            self.services
        );
        for (k, v) in rows {
            out.push_str(&format!("| {k} | {v} |\n"));
        }
        out
    }
}

async fn measure(n: usize, resync: Duration, keep_log: bool) -> Figures {
    let (others_at_start, load_at_start) = (other_control_planes(), load_average());
    let mut estate = estate(SEED, shape(n));
    // Nodes to run the pods on: 64-core kwok nodes enough for each pool's capacity.
    for pool in &mut estate.pools {
        pool.spec.node_shape = Some(ResourceAmounts {
            cpu: "64".into(),
            memory: "256Gi".into(),
        });
    }
    let nodes = cp::pool_nodes(&estate);
    let limit = cp::CONVERGE.max(Duration::from_secs(n as u64 / 2));
    let began = Instant::now();
    let phase = |what: &str| {
        eprintln!(
            "control_plane bench, {n} services: {what} at {:.1} s",
            began.elapsed().as_secs_f64()
        )
    };
    let plane = ControlPlane::start(&nodes);
    phase("control plane up");
    let client = plane.admin().await;
    cp::install_chart(&client, "").await;
    let (ns, sa) = (support::chart::NAMESPACE, support::chart::RELEASE);
    let kubeconfig =
        cp::service_account_kubeconfig_valid_for(&plane, &client, ns, sa, Duration::from_secs(12 * 3600))
            .await;
    let config = cp::operator_config(&format!("{}s", resync.as_secs()), "");
    // From before the operator's first request.
    let mut audit = AuditTail::new(&plane, cp::operator_user());
    let operator = cp::start_operator(&plane, "operator", &kubeconfig, &config, &["--log-json"]);
    let pid = operator.child.id();

    phase("chart installed, operator started");
    apply_cluster_scoped(&client, &estate, limit).await;
    phase("department namespaces and quotas ready");
    let api = Api::<DepartmentService>::all(client.clone());
    let statuses = tokio::spawn(all_done(api, watcher::Config::default(), n, has_status, limit));
    let (first, first_at) = (Instant::now(), Timestamp::now());
    create_services(&client, &estate).await;
    let create_s = first.elapsed().as_secs_f64();
    let (converged, converged_at) = statuses.await.expect("the status watch");
    let operator_cpu_converge_s = cpu_seconds(pid);
    phase("every service has a status");

    // Settled: every Deployment's pods Running and Ready, then the operator quiet.
    let deployments = Api::<Deployment>::all(client.clone());
    let managed = ListParams::default().labels(&managed_selector());
    let count = deployments.list_metadata(&managed).await.unwrap().items.len();
    let selector = watcher::Config::default().labels(&managed_selector());
    all_done(deployments, selector, count, deployment_ready, limit).await;
    phase("every Deployment ready");
    let last_write = wait_for_quiet(&mut audit, resync, limit).await;
    let settle_s = last_write.duration_since(first_at).as_secs_f64();
    phase("the operator quiet");

    let writes = Writes::of(&audit, converged_at);
    let resync = no_change_pass(&operator, pid, &mut audit, resync).await;
    let newcomer = newcomer(&client, &estate, &operator, pid, debounce_of(&config)).await;
    let problems = problems(n, &audit, &resync);
    if keep_log {
        let kept = target_dir().join(format!("control-plane-bench-{n}-operator.log"));
        std::fs::copy(&operator.log, &kept).expect("keeping the operator's log");
    }
    let rss = |pid: Option<u32>| pid.map_or(f64::NAN, |p| peak_rss_kib(p) / 1024.0);
    let figures = Figures {
        services: n,
        departments: estate.departments.len(),
        pools: estate.pools.len(),
        offerings: estate.offerings.len(),
        nodes: nodes.len(),
        other_control_planes: (others_at_start, other_control_planes().saturating_sub(1)),
        load_average: (load_at_start, load_average()),
        managed_objects: managed_objects(&client).await,
        govcloud_resources: govcloud_resources(&estate),
        converge_s: converged.duration_since(first).as_secs_f64(),
        create_s,
        settle_s,
        operator_cpu_converge_s,
        writes,
        pods: pods(&client).await,
        peak_rss_mib: BTreeMap::from([
            ("operator", rss(Some(pid))),
            ("kube-apiserver", rss(plane.pid("kube-apiserver"))),
            ("etcd", rss(plane.pid("etcd"))),
        ]),
        resync,
        newcomer,
        problems,
    };
    drop(operator);
    figures
}

/// What must not happen: a request the chart's RBAC forbids, a write in a resync pass
/// with nothing changed.
fn problems(n: usize, audit: &AuditTail, resync: &Resync) -> Vec<String> {
    let mut problems = Vec::new();
    let forbidden = audit.events.iter().filter(|e| e["responseStatus"]["code"] == 403);
    let forbidden = forbidden.count();
    if forbidden > 0 {
        problems.push(format!(
            "{n} services: {forbidden} operator requests forbidden (403)"
        ));
    }
    let counts = [
        "applied",
        "deleted",
        "status_writes",
        "events",
        "finalizer_writes",
    ];
    let logged: u64 = counts
        .iter()
        .map(|k| resync.report[k].as_u64().unwrap_or(0))
        .sum();
    let audited: usize = resync
        .requests
        .iter()
        .filter(|(verb, _)| WRITE_VERBS.contains(&verb.as_str()))
        .map(|(_, n)| n)
        .sum();
    if logged > 0 || audited > 0 {
        problems.push(format!(
            "{n} services: the no-change resync wrote ({} in its log line, {audited} in the audit log)",
            resync.report
        ));
    }
    problems
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::repo_root().join("target"))
}

fn to_value<T: Serialize>(o: &T) -> Value {
    serde_json::to_value(o).expect("an object serializes")
}

/// The platform team's cluster-scoped objects, then the wait for what services need:
/// every department's namespace with its ResourceQuota counted by the quota controller
/// (until then the API server refuses every object the quota counts).
async fn apply_cluster_scoped(client: &Client, estate: &Snapshot, limit: Duration) {
    let mut shared: Vec<Value> = estate.policies.iter().map(to_value).collect();
    shared.extend(estate.pools.iter().map(to_value));
    shared.extend(estate.offerings.iter().map(to_value));
    apply_all(client, shared).await;
    apply_all(client, estate.departments.iter().map(to_value).collect()).await;
    let namespaces: Vec<String> = estate
        .departments
        .iter()
        .map(|d| format!("dept-{}", d.name_any()))
        .collect();
    cp::eventually_within("every department namespace with a counted quota", limit, || {
        cp::quotas_counted(client, &namespaces)
    })
    .await;
}

async fn apply_all(client: &Client, objects: Vec<Value>) {
    futures::stream::iter(objects)
        .for_each_concurrent(CLIENT_CONCURRENCY, |o| async move {
            cp::apply_value(client, &o, None, "platform-team").await
        })
        .await;
}

async fn create_services(client: &Client, estate: &Snapshot) {
    futures::stream::iter(&estate.services)
        .for_each_concurrent(CLIENT_CONCURRENCY, |s| async move {
            let api: Api<DepartmentService> = Api::namespaced(client.clone(), &s.namespace().unwrap());
            let mut s = s.clone();
            s.metadata.creation_timestamp = None;
            api.create(&PostParams::default(), &s)
                .await
                .unwrap_or_else(|e| panic!("creating DepartmentService {}: {e}", s.name_any()));
        })
        .await;
}

fn has_status(s: &DepartmentService) -> bool {
    let observed = s.status.as_ref().and_then(|st| st.observed_generation);
    observed.is_some() && observed == s.metadata.generation
}

fn deployment_ready(d: &Deployment) -> bool {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(status) = &d.status else { return false };
    status.observed_generation == d.metadata.generation
        && status.ready_replicas.unwrap_or(0) == want
        && status.updated_replicas.unwrap_or(0) == want
}

/// Watches `api` until it holds `expected` objects that are all `done`; returns when.
async fn all_done<K>(
    api: Api<K>,
    config: watcher::Config,
    expected: usize,
    done: fn(&K) -> bool,
    limit: Duration,
) -> (Instant, Timestamp)
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let mut stream = std::pin::pin!(watcher(api, config).default_backoff());
    let mut state: HashMap<String, bool> = HashMap::new();
    let mut finished = 0;
    let deadline = tokio::time::Instant::now() + limit;
    while state.len() < expected || finished < expected {
        let kind = K::kind(&());
        let event = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(event))) => event,
            Ok(Some(Err(e))) => {
                eprintln!("watching {kind}: {e}");
                continue;
            }
            Ok(None) => panic!("the watch of {kind} ended"),
            Err(_) => panic!("{finished} of {expected} {kind} done after {limit:?}"),
        };
        let mut update = |o: K, now: Option<bool>| {
            let key = format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any());
            let before = match now {
                Some(d) => state.insert(key, d),
                None => state.remove(&key),
            };
            finished -= usize::from(before == Some(true));
            finished += usize::from(now == Some(true));
        };
        match event {
            watcher::Event::Apply(o) | watcher::Event::InitApply(o) => {
                let d = done(&o);
                update(o, Some(d));
            }
            watcher::Event::Delete(o) => update(o, None),
            watcher::Event::Init => {
                state.clear();
                finished = 0;
            }
            watcher::Event::InitDone => {}
        }
    }
    (Instant::now(), Timestamp::now())
}

/// The operator's audit events, read incrementally from the audit log (which grows to
/// gigabytes with the cluster's own traffic), each cut down to what the counts read: the
/// whole events would hold hundreds of MiB at 10,000 services.
struct AuditTail {
    tail: cp::AuditTail,
    user: String,
    events: Vec<Value>,
}

impl AuditTail {
    fn new(plane: &ControlPlane, user: String) -> Self {
        Self {
            tail: plane.audit_tail(),
            user,
            events: Vec::new(),
        }
    }

    fn refresh(&mut self) {
        const KEEP: [&str; 5] = [
            "auditID",
            "verb",
            "objectRef",
            "responseStatus",
            "requestReceivedTimestamp",
        ];
        for event in self.tail.next_by(&self.user) {
            let kept = KEEP.map(|k| (k.to_string(), event[k].clone()));
            self.events.push(Value::Object(kept.into_iter().collect()));
        }
    }

    fn writes(&self) -> impl Iterator<Item = &Value> {
        self.events
            .iter()
            .filter(|e| WRITE_VERBS.contains(&e["verb"].as_str().unwrap_or_default()))
    }
}

/// Waits until a whole resync interval passes without an operator write; returns the
/// time of its last write.
async fn wait_for_quiet(audit: &mut AuditTail, resync: Duration, limit: Duration) -> Timestamp {
    let deadline = Instant::now() + limit;
    loop {
        let start = Timestamp::now();
        tokio::time::sleep(resync + Duration::from_secs(1)).await;
        audit.refresh();
        let writes = audit.writes().filter(|e| cp::received(e) >= start).count();
        if writes == 0 {
            return audit
                .writes()
                .map(cp::received)
                .max()
                .expect("the operator wrote");
        }
        assert!(
            Instant::now() < deadline,
            "the operator still wrote {writes} times a resync interval after {limit:?}"
        );
    }
}

/// The operator's writes, from the audit log.
#[derive(Debug, Default, Serialize)]
struct Writes {
    /// applies (objects it renders), status (subresource), events, finalizers (its only
    /// other writes to govcloud resources), deletes.
    by_category: BTreeMap<&'static str, usize>,
    /// Applies beyond the first, per resource: objects written again as the plan grew.
    reapplied: BTreeMap<String, usize>,
    /// Status writes per resource.
    status_by_resource: BTreeMap<String, usize>,
    /// Status writes after every service had a status (readiness flowing back).
    status_after_converge: usize,
    /// Writes the API server answered with something other than 2xx.
    failed: usize,
}

impl Writes {
    fn of(audit: &AuditTail, converged: Timestamp) -> Self {
        let mut w = Writes::default();
        for k in ["applies", "status", "events", "finalizers", "deletes"] {
            w.by_category.insert(k, 0);
        }
        let mut applied = HashSet::new();
        for e in audit.writes() {
            let object = &e["objectRef"];
            let resource = object["resource"].as_str().unwrap_or_default().to_string();
            let category = if resource == "events" {
                "events"
            } else if object["subresource"] == "status" {
                *w.status_by_resource.entry(resource.clone()).or_default() += 1;
                w.status_after_converge += usize::from(cp::received(e) > converged);
                "status"
            } else if e["verb"] == "delete" || e["verb"] == "deletecollection" {
                "deletes"
            } else if object["apiGroup"] == "govcloud.io" {
                "finalizers"
            } else {
                let key = format!("{resource} {}/{}", object["namespace"], object["name"]);
                if !applied.insert(key) {
                    *w.reapplied.entry(resource).or_default() += 1;
                }
                "applies"
            };
            *w.by_category.get_mut(category).unwrap() += 1;
            let code = e["responseStatus"]["code"].as_u64().unwrap_or(0);
            w.failed += usize::from(!(200..300).contains(&code));
        }
        w
    }

    fn get(&self, category: &str) -> usize {
        self.by_category.get(category).copied().unwrap_or(0)
    }
}

/// Creates one small service in the first department's namespace and waits for its
/// status; the pass that applied it is the first after the create with writes.
async fn newcomer(
    client: &Client,
    estate: &Snapshot,
    operator: &Process,
    pid: u32,
    debounce_s: f64,
) -> Newcomer {
    let ns = format!("dept-{}", estate.departments[0].name_any());
    let seen = passes(operator).len();
    let (cpu_before, started) = (cpu_seconds(pid), Instant::now());
    let api: Api<DepartmentService> = Api::namespaced(client.clone(), &ns);
    let svc = govcloud::synthetic::workload(&ns, "bench-newcomer", 1, 1, "10m", "16Mi");
    api.create(&PostParams::default(), &svc)
        .await
        .expect("creating the newcomer");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let got = api.get("bench-newcomer").await.expect("reading the newcomer");
        if got.status.as_ref().is_some_and(|s| s.phase.is_some()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no status in 120 s\n{}",
            operator.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (to_status_s, cpu_s) = (started.elapsed().as_secs_f64(), cpu_seconds(pid) - cpu_before);
    // The pass logs its line once its last status is written: wait for it.
    let applied = |p: &Value| p["applied"].as_u64().unwrap_or(0) > 0;
    let pass = loop {
        let found = passes(operator)
            .into_iter()
            .skip(seen)
            .map(|p| p["fields"].clone())
            .find(applied);
        if let Some(pass) = found {
            break pass;
        }
        assert!(
            Instant::now() < deadline,
            "no pass applied the newcomer\n{}",
            operator.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    Newcomer {
        to_status_s,
        debounce_s,
        cpu_s,
        pass,
    }
}

/// `controller.debounce` of an operator config (`debounce: 2s`), in seconds.
fn debounce_of(config: &str) -> f64 {
    config
        .lines()
        .find_map(|l| l.trim().strip_prefix("debounce:"))
        .and_then(|v| v.trim().strip_suffix('s')?.parse().ok())
        .expect("the operator config sets controller.debounce in seconds")
}

/// The "estate pass" log lines of the operator (JSON), oldest first.
fn passes(operator: &Process) -> Vec<Value> {
    std::fs::read_to_string(&operator.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("estate pass"))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "estate pass")
        .collect()
}

/// Waits until the operator logs more than `seen` passes; returns how many it has.
async fn wait_for_pass(operator: &Process, seen: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let n = passes(operator).len();
        if n > seen {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "no estate pass in 600 s\n{}",
            operator.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One resync pass of a settled estate: the operator's CPU from 1 s before the pass is
/// due (a resync interval after the previous pass's log line) until its own log line,
/// and every request the operator made meanwhile. A pass woken early by a change is
/// not a resync and is skipped.
async fn no_change_pass(operator: &Process, pid: u32, audit: &mut AuditTail, interval: Duration) -> Resync {
    let at = |i: Instant| tokio::time::sleep_until(tokio::time::Instant::from_std(i));
    for _ in 0..5 {
        let seen = wait_for_pass(operator, passes(operator).len()).await;
        let ended = Instant::now();
        let (idle_from, window_from) = (
            ended + Duration::from_millis(500),
            ended + interval - Duration::from_secs(1),
        );
        at(idle_from).await;
        let idle_cpu = cpu_seconds(pid);
        at(window_from).await;
        let (cpu_before, from) = (cpu_seconds(pid), Timestamp::now());
        if passes(operator).len() != seen {
            continue;
        }
        let next = wait_for_pass(operator, seen).await;
        let (cpu_after, to, window_s) = (
            cpu_seconds(pid),
            Timestamp::now(),
            window_from.elapsed().as_secs_f64(),
        );
        if next != seen + 1 {
            continue;
        }
        audit.refresh();
        let mut ids = HashSet::new();
        let mut requests = BTreeMap::new();
        for e in &audit.events {
            let received = cp::received(e);
            if received >= from && received <= to && ids.insert(e["auditID"].to_string()) {
                *requests
                    .entry(e["verb"].as_str().unwrap_or_default().to_string())
                    .or_default() += 1;
            }
        }
        return Resync {
            interval_s: interval.as_secs(),
            cpu_s: cpu_after - cpu_before,
            window_s,
            idle_cpu_per_s: (cpu_before - idle_cpu) / (window_from - idle_from).as_secs_f64(),
            requests,
            report: passes(operator).pop().expect("a pass")["fields"].clone(),
        };
    }
    panic!("every pass in 5 tries was woken by a change\n{}", operator.log());
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let ticks = *TICKS.get_or_init(|| {
        let out = std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .expect("getconf");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("CLK_TCK")
    });
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the operator's /proc stat");
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .expect("a stat line")
        .1
        .split(' ')
        .collect();
    // Fields 14 and 15 of proc(5), counted after the command name's parenthesis.
    let clock: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    clock / ticks
}

/// VmHWM of a process, in KiB.
fn peak_rss_kib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN)
}

/// kube-apiserver processes running on the machine.
fn other_control_planes() -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| {
            let argv0 = c.split(|b| *b == 0).next().unwrap_or_default();
            argv0.ends_with(b"/kube-apiserver")
        })
        .count()
}

fn load_average() -> f64 {
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    loadavg
        .split(' ')
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(f64::NAN)
}

async fn managed_objects(client: &Client) -> BTreeMap<String, usize> {
    let lp = ListParams::default().labels(&managed_selector());
    let mut counts = BTreeMap::new();
    for kind in managed_kinds() {
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.resource);
        let n = api
            .list_metadata(&lp)
            .await
            .expect("listing managed objects")
            .items
            .len();
        counts.insert(kind.resource.kind.clone(), n);
    }
    counts
}

fn govcloud_resources(s: &Snapshot) -> usize {
    s.pools.len() + s.departments.len() + s.offerings.len() + s.policies.len() + s.services.len()
}

async fn pods(client: &Client) -> BTreeMap<&'static str, usize> {
    let api = Api::<Pod>::all(client.clone());
    let count = |phase: Option<&str>| {
        let mut lp = ListParams::default().labels(&managed_selector());
        if let Some(phase) = phase {
            lp = lp.fields(&format!("status.phase={phase}"));
        }
        let api = api.clone();
        async move { api.list_metadata(&lp).await.expect("listing pods").items.len() }
    };
    let (all, running, pending) = (
        count(None).await,
        count(Some("Running")).await,
        count(Some("Pending")).await,
    );
    BTreeMap::from([
        ("Running", running),
        ("Pending", pending),
        ("other", all - running - pending),
    ])
}

#[derive(Debug, Serialize)]
struct Machine {
    cpus: usize,
    memory_gib: f64,
    cpu_model: String,
}

impl Machine {
    fn read() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(f64::NAN);
        Self {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_gib: kib / (1 << 20) as f64,
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
                .unwrap_or_default(),
        }
    }

    fn markdown(&self) -> String {
        format!(
            "machine: {} CPUs ({}), {:.1} GiB memory",
            self.cpus, self.cpu_model, self.memory_gib
        )
    }
}
