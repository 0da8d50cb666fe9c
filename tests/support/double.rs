//! The HTTP Kubernetes API double (`tests/kmock/apiserver.py`) for the tests that run
//! the real binary: starting it, a minimal client, the sample estate as a platform team
//! leaves it before starting the operator, and the checks that the operator converged it.
//!
//! Included by each test crate with `#[path = "support/double.rs"] mod double;` next to
//! `mod support;`, so that only the crates that run the double compile it.

// Each test crate uses a different subset.
#![allow(dead_code)]

use crate::support::process::Process;
use crate::support::{repo_root, yaml_files};

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const INSTALL_HINT: &str = "install the API double's packages with \
    `python3 -m pip install -r tests/kmock/requirements.txt` (or run `.ci/run`, which does)";

/// How long the double may take to start and the operator to stop.
pub const START_STOP: Duration = Duration::from_secs(20);
/// Interval between two looks at the double while waiting for a condition.
pub const POLL: Duration = Duration::from_millis(200);

/// The double's audit log in its directory: one JSON line per object API request.
pub const AUDIT_LOG: &str = "apiserver-audit.jsonl";

/// Starts the API double on a free loopback port and returns it with the port; it logs
/// every request to [`AUDIT_LOG`] in `dir`.
pub fn start_double(dir: &Path) -> (Process, u16) {
    let script = repo_root().join("tests/kmock/apiserver.py");
    let log = dir.join("apiserver.log");
    let stderr = std::fs::File::create(&log).expect("creating the double's log");
    let child = match Command::new("python3")
        .arg(&script)
        .arg("0")
        .arg("--audit")
        .arg(dir.join(AUDIT_LOG))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!(
                "python3 is not on PATH: it runs the Kubernetes API double; install Python 3.11+, then {INSTALL_HINT}"
            )
        }
        Err(e) => panic!("could not start {}: {e}", script.display()),
    };
    let mut process = Process {
        name: "apiserver.py",
        child,
        log,
    };
    // The first line of stdout is the port; read it on a thread so that a double that
    // hangs cannot hang the test.
    let stdout = process.child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(START_STOP).unwrap_or_default();
    match line.trim().parse::<u16>() {
        Ok(port) if port > 0 => (process, port),
        _ => {
            let exited = process.wait_for_exit(Duration::from_secs(2));
            let log = process.log();
            let hint = if log.contains("ModuleNotFoundError") || log.contains("ImportError") {
                format!("a Python package is missing: {INSTALL_HINT}")
            } else {
                format!("if a package is missing, {INSTALL_HINT}")
            };
            panic!(
                "the API double did not report its port (first line {line:?}, exit {exited:?}); {hint}\n{log}"
            )
        }
    }
}

/// A kubeconfig in `dir` that points at the double on `port`.
pub fn kubeconfig(dir: &Path, port: u16) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: double\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\n\
             contexts:\n- name: double\n  context: {{cluster: double, user: u}}\ncurrent-context: double\n\
             users:\n- name: u\n  user: {{}}\n"
        ),
    )
    .unwrap();
    path
}

/// A minimal blocking HTTP/1.1 client for the double: one request per connection.
#[derive(Clone, Copy, Debug)]
pub struct Api {
    pub port: u16,
}

impl Api {
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let body = body
            .map(|b| serde_json::to_vec(b).expect("JSON"))
            .unwrap_or_default();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("connecting to the API double on port {}: {e}", self.port));
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUser-Agent: govcloud-tests\r\nAccept: application/json\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .unwrap_or_else(|e| panic!("{method} {path}: reading the response: {e}"));
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| {
            panic!(
                "{method} {path}: no HTTP header in {:?}",
                String::from_utf8_lossy(&raw)
            )
        });
        let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{method} {path}: bad status line in {head:?}"));
        let mut payload = raw[split + 4..].to_vec();
        if head.contains("transfer-encoding: chunked") {
            payload = dechunk(&payload);
        }
        let value = if payload.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&payload).unwrap_or_else(|e| {
                panic!(
                    "{method} {path}: the body is not JSON ({e}): {}",
                    String::from_utf8_lossy(&payload)
                )
            })
        };
        (status, value)
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        match self.request("GET", path, "application/json", None) {
            (200, v) => Some(v),
            (404, _) => None,
            (code, v) => panic!("GET {path}: {code} {v}"),
        }
    }

    pub fn create(&self, path: &str, object: &Value) {
        let (code, v) = self.request("POST", path, "application/json", Some(object));
        assert_eq!(code, 201, "POST {path} {}: {v}", object["metadata"]["name"]);
    }

    pub fn delete(&self, path: &str) {
        let (code, v) = self.request("DELETE", path, "application/json", Some(&json!({})));
        assert_eq!(code, 200, "DELETE {path}: {v}");
    }

    pub fn merge_patch(&self, path: &str, patch: &Value) {
        let (code, v) = self.request("PATCH", path, "application/merge-patch+json", Some(patch));
        assert_eq!(code, 200, "PATCH {path}: {v}");
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || data.len() < eol + 2 + size {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[(eol + 4 + size).min(data.len())..];
    }
}

/// The collection path of an object, from its apiVersion, kind and namespace.
pub fn collection(object: &Value) -> String {
    let api_version = object["apiVersion"].as_str().expect("apiVersion");
    let kind = object["kind"].as_str().expect("kind");
    let plural = match kind {
        "CustomResourceDefinition" => "customresourcedefinitions".to_string(),
        "PlatformPolicy" => "platformpolicies".to_string(),
        "Namespace" => "namespaces".to_string(),
        other => format!("{}s", other.to_ascii_lowercase()),
    };
    let prefix = if api_version == "v1" {
        "/api/v1".to_string()
    } else {
        format!("/apis/{api_version}")
    };
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{prefix}/namespaces/{ns}/{plural}"),
        None => format!("{prefix}/{plural}"),
    }
}

/// Every document of the `*.yaml` files in `dir`, in file order.
pub fn documents(dir: &Path) -> Vec<Value> {
    yaml_files(dir)
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
                .unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
            docs.into_iter().filter(|d| !d.is_null())
        })
        .collect()
}

/// Creates a Namespace.
pub fn create_namespace(api: &Api, name: &str) {
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    api.create("/api/v1/namespaces", &namespace);
}

/// Installs the govcloud CRDs.
pub fn install_crds(api: &Api) {
    for crd in documents(&repo_root().join("crds")) {
        api.create(&collection(&crd), &crd);
    }
}

/// The cluster as a platform team leaves it before starting the operator: the CRDs, the
/// department namespaces the services are filed in, and the sample estate.
pub fn install_sample_estate(api: &Api) {
    let root = repo_root();
    install_crds(api);
    let mut estate = documents(&root.join("config/samples"));
    let mut namespaces: Vec<String> = estate
        .iter()
        .filter_map(|o| o["metadata"]["namespace"].as_str().map(str::to_string))
        .collect();
    namespaces.sort();
    namespaces.dedup();
    for ns in &namespaces {
        create_namespace(api, ns);
    }
    // The planner admits first come, first served: creation time, then namespace/name.
    // Creating the services in namespace/name order makes that the order the golden plan
    // (planned from files, without creation times) used, whatever the clock does.
    estate.sort_by_key(|o| {
        let is_service = o["kind"] == "DepartmentService";
        let key = |f: &str| o["metadata"][f].as_str().unwrap_or_default().to_string();
        (
            is_service,
            if is_service {
                key("namespace")
            } else {
                String::new()
            },
            if is_service { key("name") } else { String::new() },
        )
    });
    for object in &estate {
        api.create(&collection(object), object);
    }
}

/// The CRDs and a synthetic estate (`govcloud::synthetic::estate`) with the namespaces
/// its services are filed in; returns the estate.
pub fn install_synthetic_estate(
    api: &Api,
    seed: u64,
    shape: govcloud::synthetic::EstateShape,
) -> govcloud::plan::Snapshot {
    install_crds(api);
    let estate = govcloud::synthetic::estate(seed, shape);
    let mut namespaces: Vec<&str> = estate
        .services
        .iter()
        .filter_map(|s| s.metadata.namespace.as_deref())
        .collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    for ns in namespaces {
        create_namespace(api, ns);
    }
    let objects = (estate.pools.iter().map(to_json))
        .chain(estate.departments.iter().map(to_json))
        .chain(estate.offerings.iter().map(to_json))
        .chain(estate.services.iter().map(to_json));
    for object in objects {
        api.create(&collection(&object), &object);
    }
    estate
}

fn to_json(object: &impl serde::Serialize) -> Value {
    serde_json::to_value(object).expect("an object serialises")
}

/// The services of the golden plan of the sample estate.
pub fn golden_services() -> Vec<Value> {
    let path = repo_root().join("tests/golden/sample-plan.json");
    let golden: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    golden["services"].as_array().expect("golden services").clone()
}

/// `Ok` when every DepartmentService's status says what the golden plan says.
pub fn statuses_match(api: &Api, golden_services: &[Value]) -> Result<(), String> {
    for want in golden_services {
        let (ns, name) = (
            want["namespace"].as_str().unwrap(),
            want["name"].as_str().unwrap(),
        );
        let path = format!("/apis/govcloud.io/v1alpha1/namespaces/{ns}/departmentservices/{name}");
        let live = api.get(&path).ok_or_else(|| format!("{ns}/{name} is gone"))?;
        let status = &live["status"];
        for (field, golden_field) in [
            ("phase", "phase"),
            ("pool", "pool"),
            ("sharedInstance", "sharedInstance"),
        ] {
            if status[field] != want[golden_field] {
                return Err(format!(
                    "{ns}/{name}: status.{field} is {}, the golden plan says {}",
                    status[field], want[golden_field]
                ));
            }
        }
    }
    Ok(())
}

/// `(namespace, name)` of the golden plan's placed services that have a workload.
pub fn placed_workloads(golden_services: &[Value]) -> Vec<(String, String)> {
    golden_services
        .iter()
        .filter(|s| s["phase"] == "Placed" && !s["workload"].is_null())
        .map(|s| {
            (
                s["namespace"].as_str().unwrap().to_string(),
                s["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The shared instances of the golden plan, sorted and once each.
pub fn shared_instances(golden_services: &[Value]) -> Vec<&str> {
    let mut instances: Vec<&str> = golden_services
        .iter()
        .filter_map(|s| s["sharedInstance"].as_str())
        .collect();
    instances.sort_unstable();
    instances.dedup();
    instances
}

/// `Ok` when every placed workload and shared instance has a managed Deployment and Service.
pub fn workload_objects_exist(
    api: &Api,
    placed_workloads: &[(String, String)],
    shared_instances: &[&str],
) -> Result<(), String> {
    let workloads = placed_workloads
        .iter()
        .map(|(ns, name)| (ns.as_str(), name.as_str()));
    let instances = shared_instances.iter().map(|name| ("govcloud-shared", *name));
    for (ns, name) in workloads.chain(instances) {
        for path in [
            format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
            format!("/api/v1/namespaces/{ns}/services/{name}"),
        ] {
            let live = api.get(&path).ok_or_else(|| format!("{path} does not exist"))?;
            if live["metadata"]["labels"]["app.kubernetes.io/managed-by"] != "govcloud" {
                return Err(format!("{path} lacks the managed-by label: {}", live["metadata"]));
            }
        }
    }
    Ok(())
}

/// The objects the operator makes for a placed service `ns/name`.
pub fn owned_objects(ns: &str, name: &str) -> [String; 4] {
    [
        format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
        format!("/api/v1/namespaces/{ns}/services/{name}"),
        format!("/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{name}"),
        format!("/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/{name}-ingress"),
    ]
}

/// Polls `check` until it returns `Ok`, failing with its last complaint after `limit`,
/// or at once if one of `operators` exits meanwhile.
pub fn wait_until(
    what: &str,
    limit: Duration,
    operators: &mut [&mut Process],
    double: &Process,
    mut check: impl FnMut() -> Result<(), String>,
) {
    let deadline = Instant::now() + limit;
    loop {
        for operator in operators.iter_mut() {
            if let Some(status) = operator.child.try_wait().expect("polling govcloud run") {
                panic!(
                    "{what}: {} exited early ({status})\n{}\n{}",
                    operator.name,
                    operator.log(),
                    double.log()
                );
            }
        }
        let complaint = match check() {
            Ok(()) => return,
            Err(complaint) => complaint,
        };
        if Instant::now() >= deadline {
            let logs: Vec<String> = operators.iter().map(|o| o.log()).collect();
            panic!(
                "{what}: not so after {limit:?}: {complaint}\n{}\n{}",
                logs.join("\n"),
                double.log()
            );
        }
        std::thread::sleep(POLL);
    }
}

/// Starts `govcloud run` against the double on `port` with `args` after `run`, logging
/// to `<dir>/govcloud.log`.
pub fn start_operator(dir: &Path, port: u16, args: &[&str]) -> Process {
    let kubeconfig = kubeconfig(dir, port);
    let log = dir.join("govcloud.log");
    let out = std::fs::File::create(&log).expect("creating the operator's log");
    let child = Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .arg("run")
        .args(args)
        .env("KUBECONFIG", &kubeconfig)
        .env("RUST_LOG", "info")
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log handle"))
        .stderr(out)
        .spawn()
        .expect("starting govcloud run");
    Process {
        name: "govcloud run",
        child,
        log,
    }
}

/// One request the double's audit log recorded, as RBAC authorises it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    pub verb: String,
    pub group: String,
    /// `plural` or `plural/subresource`, as RBAC rules name it.
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(f, "{} {group}/{}", self.verb, self.resource)?;
        if let Some(ns) = &self.namespace {
            write!(f, " in {ns}")?;
        }
        if let Some(name) = &self.name {
            write!(f, " named {name}")?;
        }
        Ok(())
    }
}

/// The requests `govcloud run` made of the double started in `dir` (told apart from the
/// test's own by its User-Agent), in order.
pub fn operator_requests(dir: &Path) -> Vec<Request> {
    let path = dir.join(AUDIT_LOG);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading the double's audit log {}: {e}", path.display()));
    let text_of = |v: &Value| v.as_str().map(str::to_string);
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("an audit line is JSON"))
        .filter(|e| {
            e["userAgent"]
                .as_str()
                .is_some_and(|ua| ua == govcloud::runtime::USER_AGENT)
        })
        .map(|e| Request {
            verb: text_of(&e["verb"]).unwrap_or_default(),
            group: text_of(&e["group"]).unwrap_or_default(),
            resource: match e["subresource"].as_str() {
                Some(sub) => format!("{}/{sub}", e["resource"].as_str().unwrap_or_default()),
                None => text_of(&e["resource"]).unwrap_or_default(),
            },
            namespace: text_of(&e["namespace"]),
            name: text_of(&e["name"]),
        })
        .collect()
}

/// Fails, listing them, when `govcloud run` made a request `access` does not allow
/// (Lease requests must also be in `lease_namespace`); returns the permissions used.
pub fn assert_within_access(
    dir: &Path,
    access: &govcloud::rbac::Access,
    lease_namespace: &str,
) -> std::collections::BTreeSet<govcloud::rbac::Permission> {
    let requests = operator_requests(dir);
    assert!(
        !requests.is_empty(),
        "the audit log shows no request of govcloud run"
    );
    let mut used = std::collections::BTreeSet::new();
    let mut beyond = std::collections::BTreeSet::new();
    for r in &requests {
        let in_lease_namespace = r.namespace.as_deref() == Some(lease_namespace);
        let grant = access
            .cluster
            .iter()
            .chain(access.lease_namespace.iter().filter(|_| in_lease_namespace))
            .find(|p| govcloud::rbac::allows(p, &r.group, &r.resource, &r.verb, r.name.as_deref()));
        match grant {
            Some(p) => {
                used.insert(p.clone());
            }
            None => {
                beyond.insert(r.to_string());
            }
        }
    }
    assert!(
        beyond.is_empty(),
        "govcloud run made requests its access (govcloud::rbac) does not grant:\n  {}",
        beyond.into_iter().collect::<Vec<_>>().join("\n  ")
    );
    used
}
