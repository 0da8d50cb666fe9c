//! A real Kubernetes control plane for a test: etcd, kube-apiserver, controller-manager,
//! scheduler and kwok, built from the pinned Go modules and started by
//! `tests/control-plane/up` in a directory of the test's own, stopped by `down` when the
//! test ends (a panicking test keeps the directory and says where it is: logs and the
//! audit log are the evidence).
//!
//! Tests take turns (`turn()`): each control plane and operator wants most of a
//! 2-core machine, and timing-sensitive checks must not starve each other.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use govcloud::plan::Snapshot;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{Scope, pinned_kind};
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};

use super::process::Process;
use super::{chart, printed, repo_root};

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One control-plane test at a time in this process.
pub async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    TURN.lock().await
}

/// How long the tests wait for the cluster to do something (the scheduler, the garbage
/// collector and the namespace controller included).
pub const CONVERGE: Duration = Duration::from_secs(180);

/// The write verbs of the audit log.
pub const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// A running control plane and its directory.
#[derive(Debug)]
pub struct ControlPlane {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    /// The Nodes `up` registers besides its own system node.
    nodes: Option<PathBuf>,
}

fn script(name: &str) -> PathBuf {
    repo_root().join("tests/control-plane").join(name)
}

fn run_script(name: &str, args: &[&std::ffi::OsStr]) -> Output {
    let output = Command::new(script(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running tests/control-plane/{name}: {e}"));
    assert!(
        output.status.success(),
        "tests/control-plane/{name} failed ({}):\n{}",
        output.status,
        printed(&output)
    );
    output
}

impl ControlPlane {
    /// Builds (once; cached) and starts a control plane with `nodes` (Node objects)
    /// registered besides `up`'s own system node, all Ready.
    pub fn start(nodes: &[Value]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("govcloud-cp-")
            .tempdir()
            .expect("a directory for the control plane");
        let path = dir.path().to_path_buf();
        let node_file = (!nodes.is_empty()).then(|| {
            let file = path.join("nodes.json");
            let list = json!({"apiVersion": "v1", "kind": "List", "items": nodes});
            std::fs::write(&file, serde_json::to_vec_pretty(&list).unwrap()).unwrap();
            file
        });
        let plane = Self {
            dir: Some(dir),
            path,
            nodes: node_file,
        };
        plane.up();
        plane
    }

    /// `up` on this directory: starts what is not running (all of it the first time).
    pub fn up(&self) {
        let mut args = vec![self.path.as_os_str()];
        if let Some(nodes) = &self.nodes {
            args.extend(["--nodes".as_ref(), nodes.as_os_str()]);
        }
        run_script("up", &args);
    }

    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// The admin kubeconfig `up` wrote.
    pub fn kubeconfig(&self) -> PathBuf {
        self.path.join("kubeconfig")
    }

    /// The API server's address, `https://127.0.0.1:PORT`.
    pub fn server(&self) -> String {
        let ports = std::fs::read_to_string(self.path.join("ports")).expect("DIR/ports");
        let port = ports
            .lines()
            .find_map(|l| l.strip_prefix("APISERVER_PORT="))
            .expect("APISERVER_PORT in DIR/ports");
        format!("https://127.0.0.1:{port}")
    }

    /// An admin client (system:masters).
    pub async fn admin(&self) -> Client {
        client_for(&self.kubeconfig()).await
    }

    /// The pid `up` recorded for a component, while it runs.
    pub fn pid(&self, component: &str) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(self.path.join("pids").join(component))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Path::new(&format!("/proc/{pid}/cmdline")).exists().then_some(pid)
    }

    /// SIGKILLs a component (a crash, not a shutdown) and waits until it is gone.
    pub fn kill(&self, component: &str) {
        let pid = self
            .pid(component)
            .unwrap_or_else(|| panic!("{component} is not running"));
        let status = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("running kill(1)");
        assert!(status.success(), "kill -KILL {pid} ({component}): {status}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while running(pid) {
            assert!(
                Instant::now() < deadline,
                "{component} (pid {pid}) survived SIGKILL"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The API server's audit log so far: one JSON object per request (Metadata level).
    pub fn audit(&self) -> Vec<Value> {
        self.audit_tail_from(0).next()
    }

    /// The last lines of a component's log, for failure messages.
    pub fn log_tail(&self, component: &str) -> String {
        let text = std::fs::read_to_string(self.path.join("logs").join(format!("{component}.log")))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Whether a pid is a live process (not a zombie: nobody may reap a setsid child).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        let _ = Command::new(script("down"))
            .arg(&self.path)
            .stdin(Stdio::null())
            .output();
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            let kept = dir.keep();
            eprintln!(
                "control plane state kept for inspection: {} (logs/, audit.log)",
                kept.display()
            );
        }
    }
}

/// A client for a kubeconfig file.
pub async fn client_for(kubeconfig: &Path) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("reading the kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig");
    Client::try_from(config).expect("client")
}

/// Polls `check` every half second until it holds or `CONVERGE` passes.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    eventually_within(what, CONVERGE, check).await
}

pub async fn eventually_within<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match check().await {
            Ok(()) => return,
            Err(why) if Instant::now() >= deadline => {
                panic!("{what} did not happen within {limit:?}: {why}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Kwok Nodes for every pool of `estate`: `nodeShape`-sized nodes carrying the pool's
/// `nodeSelector` labels and the taint `govcloud.io/pool=<pool>:NoSchedule` that the
/// rendered pods tolerate, enough of them to hold the pool's capacity, spread over two
/// zones (High availability spreads across zones).
pub fn pool_nodes(estate: &Snapshot) -> Vec<Value> {
    let mut nodes = Vec::new();
    for pool in &estate.pools {
        let spec = serde_json::to_value(&pool.spec).unwrap();
        let name = pool.name_any();
        let shape = &spec["nodeShape"];
        let count = node_count(&spec["capacity"]["cpu"], &shape["cpu"]);
        for i in 0..count {
            let hostname = format!("{name}-{i}");
            let mut labels = spec["nodeSelector"].clone();
            let labels = labels.as_object_mut().expect("nodeSelector is a map");
            labels.insert("kubernetes.io/hostname".into(), json!(hostname));
            labels.insert("kubernetes.io/os".into(), json!("linux"));
            labels.insert(
                "topology.kubernetes.io/zone".into(),
                json!(format!("zone-{}", ["a", "b"][i % 2])),
            );
            labels.insert("type".into(), json!("kwok"));
            let resources = json!({"cpu": shape["cpu"], "memory": shape["memory"], "pods": "110"});
            nodes.push(json!({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": hostname,
                    "labels": labels,
                    "annotations": {"kwok.x-k8s.io/node": "fake"},
                },
                "spec": {"taints": [{"key": "govcloud.io/pool", "value": name, "effect": "NoSchedule"}]},
                "status": {"allocatable": resources, "capacity": resources},
            }));
        }
    }
    nodes
}

/// Nodes of `shape_cpu` cores needed for `capacity_cpu` cores (whole cores in the samples).
fn node_count(capacity: &Value, shape: &Value) -> usize {
    let cores = |v: &Value| -> f64 {
        let s = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        match s.strip_suffix('m') {
            Some(milli) => milli.parse::<f64>().expect("a cpu quantity") / 1000.0,
            None => s.parse().expect("a cpu quantity"),
        }
    };
    (cores(capacity) / cores(shape)).ceil().max(1.0) as usize
}

/// The sample estate (`config/samples`).
pub fn sample_estate() -> Snapshot {
    govcloud::load::load_paths(&[repo_root().join("config/samples")])
        .expect("samples")
        .snapshot
}

/// Server-side applies one object (any kind, found by discovery as kubectl does) under
/// `manager`, forcing ownership.
pub async fn apply_value(client: &Client, object: &Value, namespace: Option<&str>, manager: &str) {
    let object = chart::strip(object);
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, chart::kind(&object));
    let (resource, caps) = pinned_kind(client, &gvk)
        .await
        .unwrap_or_else(|e| panic!("discovering {gvk:?}: {e}"));
    let name = chart::name(&object).to_string();
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Namespaced => {
            let ns = object["metadata"]["namespace"]
                .as_str()
                .or(namespace)
                .expect("a namespace for a namespaced object");
            Api::namespaced_with(client.clone(), ns, &resource)
        }
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    api.patch(
        &name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(&object),
    )
    .await
    .unwrap_or_else(|e| panic!("applying {} {name}: {e}", gvk.kind));
}

/// `helm install govcloud charts/govcloud -n govcloud-system --create-namespace` with
/// the extra `values` YAML: the namespace, the CRDs and every rendered object, applied
/// to the server (the operator's Deployment runs as a kwok pod: nothing executes it,
/// but the API server admits it, security context and all).
pub async fn install_chart(client: &Client, values: &str) -> Vec<Value> {
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": chart::NAMESPACE}});
    apply_value(client, &namespace, None, "helm").await;
    install_crds(client).await;
    let objects = chart::try_template_with(&[], values)
        .unwrap_or_else(|r| panic!("helm template refused the values:\n{}", r.stderr));
    for object in &objects {
        apply_value(client, object, Some(chart::NAMESPACE), "helm").await;
    }
    objects
}

/// `govcloud crds`, applied and Established.
pub async fn install_crds(client: &Client) {
    let crds: Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = Api::all(client.clone());
    for (_, crd) in govcloud::crds::all() {
        let mut crd = crd.clone();
        crd.metadata.resource_version = None;
        crds.patch(
            &crd.name_any(),
            &PatchParams::apply("govcloud-test").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("the API server refused CRD {}: {e}", crd.name_any()));
    }
    eventually("the CRDs becoming Established", || async {
        for (_, crd) in govcloud::crds::all() {
            let live = crds.get(&crd.name_any()).await.map_err(|e| e.to_string())?;
            let established = live
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if !established {
                return Err(format!("{} not Established", crd.name_any()));
            }
        }
        Ok(())
    })
    .await;
}

/// A kubeconfig holding a fresh token of the ServiceAccount `namespace/name`, minted by
/// the TokenRequest API: the identity a pod of that ServiceAccount gets.
pub async fn service_account_kubeconfig(
    plane: &ControlPlane,
    client: &Client,
    namespace: &str,
    name: &str,
) -> PathBuf {
    service_account_kubeconfig_valid_for(plane, client, namespace, name, Duration::from_secs(3600)).await
}

/// [`service_account_kubeconfig`] with a token valid for `validity`: an operator that
/// runs longer than an hour (a benchmark of a large estate) must not lose its identity
/// halfway, since nothing refreshes the token in a kubeconfig.
pub async fn service_account_kubeconfig_valid_for(
    plane: &ControlPlane,
    client: &Client,
    namespace: &str,
    name: &str,
    validity: Duration,
) -> PathBuf {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            audiences: Some(vec!["https://kubernetes.default.svc.cluster.local".into()]),
            expiration_seconds: Some(validity.as_secs() as i64),
            bound_object_ref: None,
        }),
        ..Default::default()
    };
    let token = accounts
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap_or_else(|e| panic!("TokenRequest for {namespace}/{name}: {e}"))
        .status
        .expect("a TokenRequest status")
        .token;
    let path = plane.dir().join(format!("{namespace}-{name}.kubeconfig"));
    let kubeconfig = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cp", "cluster": {
            "server": plane.server(),
            "certificate-authority": plane.dir().join("pki/ca.crt"),
        }}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": "cp", "context": {"cluster": "cp", "user": name}}],
        "current-context": "cp",
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&kubeconfig).unwrap()).unwrap();
    path
}

/// The chart's operator identity in the audit log.
pub fn operator_user() -> String {
    format!("system:serviceaccount:{}:{}", chart::NAMESPACE, chart::RELEASE)
}

/// Operator config for the tests: the default debounce (a burst of applies makes one
/// plan, as an offline plan of the same objects does), a short resync so that idle
/// passes happen while a test watches, quick retries.
pub fn operator_config(resync: &str, extra: &str) -> String {
    format!(
        "controller:\n  debounce: 2s\n  resync: {resync}\n  backoff:\n    initial: 500ms\n    max: 10s\n{extra}"
    )
}

/// `govcloud run` of this build with `kubeconfig`, `config` (YAML) and extra flags; its
/// log goes to `DIR/<name>.log`.
pub fn start_operator(
    plane: &ControlPlane,
    name: &'static str,
    kubeconfig: &Path,
    config: &str,
    args: &[&str],
) -> Process {
    start_operator_with_env(plane, name, kubeconfig, config, args, &[])
}

/// [`start_operator`] with extra environment variables (a replica's `POD_NAME`, which
/// the Deployment passes in from the downward API).
pub fn start_operator_with_env(
    plane: &ControlPlane,
    name: &'static str,
    kubeconfig: &Path,
    config: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Process {
    let config_file = plane.dir().join(format!("{name}.yaml"));
    std::fs::write(&config_file, config).unwrap();
    let log = plane.dir().join(format!("{name}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .args(["run", "--http-address", "127.0.0.1:0", "--config"])
        .arg(&config_file)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("RUST_LOG", "info")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starting govcloud run");
    Process { name, child, log }
}

/// Audit events of `user` that wrote (create, update, patch, delete), optionally only
/// those received at or after `since`.
pub fn writes_by<'a>(events: &'a [Value], user: &str, since: Option<Timestamp>) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["user"]["username"] == user)
        .filter(|e| WRITE_VERBS.contains(&e["verb"].as_str().unwrap_or_default()))
        .filter(|e| since.is_none_or(|s| received(e) >= s))
        .collect()
}

/// When the API server received the request of an audit event.
pub fn received(event: &Value) -> Timestamp {
    let at = event["requestReceivedTimestamp"].as_str().unwrap_or_default();
    at.parse()
        .unwrap_or_else(|e| panic!("audit requestReceivedTimestamp {at:?}: {e}"))
}

/// One line per audit event, for failure messages.
pub fn describe(events: &[&Value]) -> String {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}/{} -> {}",
                e["requestReceivedTimestamp"].as_str().unwrap_or_default(),
                e["verb"].as_str().unwrap_or_default(),
                e["objectRef"]["resource"].as_str().unwrap_or_default(),
                e["objectRef"]["namespace"].as_str().unwrap_or_default(),
                e["objectRef"]["name"].as_str().unwrap_or_default(),
                e["responseStatus"]["code"],
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the ResourceQuotas of `namespaces` count every resource they limit. Until
/// the quota controller has counted a new namespace's quota (status.used), the API
/// server refuses every object the quota counts ("status unknown for quota"), so a
/// department's first DepartmentService waits for this, on any cluster.
pub async fn quotas_counted(client: &Client, namespaces: &[String]) -> Result<(), String> {
    // One list for the whole cluster: an estate of hundreds of departments is one request.
    let quotas = Api::<k8s_openapi::api::core::v1::ResourceQuota>::all(client.clone())
        .list(&kube::api::ListParams::default())
        .await
        .map_err(|e| e.to_string())?;
    let counted: std::collections::HashSet<String> = quotas
        .items
        .iter()
        .filter(|q| {
            let hard = q.spec.as_ref().and_then(|s| s.hard.clone()).unwrap_or_default();
            let used = q.status.as_ref().and_then(|s| s.used.clone()).unwrap_or_default();
            !hard.is_empty() && hard.keys().all(|k| used.contains_key(k))
        })
        .filter_map(|q| q.namespace())
        .collect();
    let missing: Vec<&String> = namespaces.iter().filter(|ns| !counted.contains(*ns)).collect();
    match missing.as_slice() {
        [] => Ok(()),
        [first, ..] => Err(format!(
            "{} of {} namespaces have no fully counted ResourceQuota yet, {first} among them",
            missing.len(),
            namespaces.len()
        )),
    }
}

/// Reads the audit log as it grows: each [`AuditTail::next`] returns the events appended
/// since the last call (whole lines only), so that polling a long log while a test waits
/// for a moment costs only what is new. A restarted API server appends to the same file.
#[derive(Debug)]
pub struct AuditTail {
    path: PathBuf,
    offset: u64,
}

impl ControlPlane {
    /// A reader of the audit log from its current end: only requests from now on.
    pub fn audit_tail(&self) -> AuditTail {
        let end = std::fs::metadata(self.path.join("audit.log")).map_or(0, |m| m.len());
        self.audit_tail_from(end)
    }

    fn audit_tail_from(&self, offset: u64) -> AuditTail {
        AuditTail {
            path: self.path.join("audit.log"),
            offset,
        }
    }
}

impl AuditTail {
    /// The events logged since the last call.
    pub fn next(&mut self) -> Vec<Value> {
        self.read(|_| true)
    }

    /// The events of `user` logged since the last call. Only lines naming the user are
    /// parsed: the log holds the whole cluster's traffic, gigabytes of it in a large run.
    pub fn next_by(&mut self, user: &str) -> Vec<Value> {
        let needle = format!("\"{user}\"");
        let mut events = self.read(|line| line.contains(&needle));
        events.retain(|e| e["user"]["username"] == user);
        events
    }

    fn read(&mut self, wanted: impl Fn(&str) -> bool) -> Vec<Value> {
        use std::io::{BufRead, BufReader, Seek, SeekFrom};
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        file.seek(SeekFrom::Start(self.offset))
            .unwrap_or_else(|e| panic!("seeking {}: {e}", self.path.display()));
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let (mut line, mut events) = (Vec::new(), Vec::new());
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .unwrap_or_else(|e| panic!("reading {}: {e}", self.path.display()));
            // A line still being written is read whole on the next call.
            if read == 0 || line.last() != Some(&b'\n') {
                return events;
            }
            self.offset += read as u64;
            let text = String::from_utf8_lossy(&line);
            if !text.trim().is_empty() && wanted(&text) {
                let event =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("audit line {text:?}: {e}"));
                events.push(event);
            }
        }
    }
}

/// An admin client that acts as `user`, member of `groups`, through the API server's
/// impersonation: every request is authorised by RBAC for that identity, as for a
/// real login of it (the admin of `up` may impersonate anyone).
pub async fn impersonating(plane: &ControlPlane, user: &str, groups: &[&str]) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kubeconfig = Kubeconfig::read_from(plane.kubeconfig()).expect("reading the kubeconfig");
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig");
    config.auth_info.impersonate = Some(user.to_string());
    config.auth_info.impersonate_groups =
        (!groups.is_empty()).then(|| groups.iter().map(|g| g.to_string()).collect());
    Client::try_from(config).expect("client")
}
