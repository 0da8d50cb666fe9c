//! Everything the renderer emits passes the real `kubernetes-validate --strict` against
//! Kubernetes 1.33 — what a platform team's CI would run before `kubectl apply`.
//!
//! Two estates, both planned by the real planner: a small hand-written one that is built
//! to produce every kind the renderer knows, and the sample estate in `config/samples/`.
//! A missing tool fails the test with the install command: a skipped check would let
//! `cargo test` pass on a machine that checked nothing.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use govcloud::plan::{Assignments, Snapshot, plan};
use govcloud::render::{Manifest, render, to_yaml};
use serde_json::Value;

const EVERY_KIND: [&str; 9] = [
    "ConfigMap",
    "Deployment",
    "LimitRange",
    "Namespace",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "ResourceQuota",
    "RoleBinding",
    "Service",
];

/// Owners, every availability and exposure, a UDP port, a port-less workload, and two
/// departments sharing one offering instance.
const ESTATE: &str = r#"
apiVersion: govcloud.io/v1alpha1
kind: PlatformPolicy
metadata: {name: baseline}
spec:
  allowedRegistries: [registry.gov.example/]
  forbidLatestTag: true
  defaultResources: {cpu: 250m, memory: 256Mi}
  limitRatio: {cpu: 2, memory: 1.5}
  maxReplicaResources: {cpu: "4", memory: 8Gi}
---
apiVersion: govcloud.io/v1alpha1
kind: ResourcePool
metadata: {name: general}
spec:
  securityLevel: 3
  nodeSelector: {govcloud.io/node-class: general}
  capacity: {cpu: "64", memory: 256Gi}
---
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: finance, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  securityClearance: 3
  quota: {cpu: "20", memory: 64Gi, services: 10}
  owners:
    - {kind: User, name: alice@finance.gov.example}
    - {kind: Group, name: finance-admins}
    - {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: health, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  securityClearance: 2
  quota: {cpu: 8500m, memory: 16Gi, services: 4}
---
apiVersion: govcloud.io/v1alpha1
kind: ServiceOffering
metadata: {name: postgres}
spec:
  image: registry.gov.example/shared/postgres
  version: "16.2"
  securityLevel: 3
  tenantsPerInstance: 10
  instance:
    replicas: 2
    resources: {cpu: "1", memory: 2Gi}
    ports: [{name: postgres, port: 5432}]
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: ledger, namespace: dept-finance, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  securityLevel: 3
  availability: High
  exposure: Public
  workload:
    image: registry.gov.example/finance/ledger:1.4.2
    replicas: 3
    resources: {cpu: 500m, memory: 1Gi}
    ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]
    env: [{name: LOG_LEVEL, value: "1"}]
    command: [/bin/ledger]
    args: [--serve]
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: nightly, namespace: dept-finance, creationTimestamp: "2024-02-02T00:00:00Z"}
spec:
  securityLevel: 2
  availability: Basic
  workload: {image: "registry.gov.example/finance/nightly:2"}
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: records, namespace: dept-health, creationTimestamp: "2024-02-03T00:00:00Z"}
spec:
  securityLevel: 2
  exposure: Internal
  workload:
    image: registry.gov.example/health/records:3.0
    replicas: 2
    ports: [{name: https, port: 8443}, {name: sync, port: 7000, protocol: UDP}]
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: db, namespace: dept-finance, creationTimestamp: "2024-02-04T00:00:00Z"}
spec:
  securityLevel: 2
  offering: {name: postgres}
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: db, namespace: dept-health, creationTimestamp: "2024-02-05T00:00:00Z"}
spec:
  securityLevel: 2
  offering: {name: postgres}
"#;

/// Adds every document of `yaml` to the snapshot by kind (this test must not depend on
/// the loader's error reporting, only on the planner and the renderer).
fn add_documents(snapshot: &mut Snapshot, yaml: &str, origin: &str) {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).unwrap_or_else(|e| panic!("{origin}: {e}"));
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let kind = doc["kind"].as_str().unwrap_or_default().to_owned();
        let at = format!("{origin}: {kind}");
        match kind.as_str() {
            "ResourcePool" => snapshot.pools.push(typed(doc, &at)),
            "Department" => snapshot.departments.push(typed(doc, &at)),
            "DepartmentService" => snapshot.services.push(typed(doc, &at)),
            "ServiceOffering" => snapshot.offerings.push(typed(doc, &at)),
            "PlatformPolicy" => snapshot.policies.push(typed(doc, &at)),
            "Node" => snapshot.nodes.push(typed(doc, &at)),
            other => panic!("{origin}: unexpected kind {other:?}"),
        }
    }
}

fn typed<T: serde::de::DeserializeOwned>(doc: Value, at: &str) -> T {
    serde_json::from_value(doc).unwrap_or_else(|e| panic!("{at}: {e}"))
}

fn rendered(snapshot: &Snapshot) -> Vec<Manifest> {
    let plan = plan(snapshot, &Assignments::from_status(snapshot));
    render(snapshot, &plan).unwrap_or_else(|e| panic!("the planner's own plan must render: {e}"))
}

/// Runs `kubernetes-validate --strict -k 1.33.0` on the YAML and fails with its output
/// unless every document passed.
fn validate(name: &str, manifests: &[Manifest]) {
    // Cargo's scratch directory for integration tests; one file per estate, so that
    // tests running in parallel never overwrite each other's input.
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("render-{name}.yaml"));
    std::fs::write(&file, to_yaml(manifests)).expect("writing the manifests");
    let output = match Command::new("kubernetes-validate")
        .args(["--strict", "-k", "1.33.0"])
        .arg(&file)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "`kubernetes-validate` is not on PATH; install it with `pip install kubernetes-validate` \
             (or run `.ci/run`, which installs every tool the tests need)"
        ),
        Err(e) => panic!("could not run kubernetes-validate: {e}"),
    };
    let printed = format!(
        "--- stdout ---\n{}--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "kubernetes-validate failed ({}):\n{printed}",
        output.status
    );
    // Every document was checked against a schema, not merely parsed.
    let passed = printed
        .lines()
        .filter(|l| l.contains(" passed for resource "))
        .count();
    assert_eq!(passed, manifests.len(), "documents validated:\n{printed}");
}

fn kinds(manifests: &[Manifest]) -> BTreeSet<&'static str> {
    manifests.iter().map(Manifest::kind).collect()
}

#[test]
fn hand_written_estate_renders_every_kind_and_validates() {
    let mut snapshot = Snapshot::default();
    add_documents(&mut snapshot, ESTATE, "ESTATE");
    let manifests = rendered(&snapshot);
    assert_eq!(
        kinds(&manifests),
        BTreeSet::from(EVERY_KIND),
        "every kind covered"
    );
    validate("hand-written", &manifests);
}

fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn sample_estate_renders_every_kind_and_validates() {
    let mut snapshot = Snapshot::default();
    for file in samples() {
        let text = std::fs::read_to_string(&file).expect("a readable sample");
        add_documents(&mut snapshot, &text, &file.display().to_string());
    }
    let manifests = rendered(&snapshot);
    assert_eq!(
        kinds(&manifests),
        BTreeSet::from(EVERY_KIND),
        "every kind covered"
    );
    validate("samples", &manifests);
    assert_eq!(
        to_yaml(&manifests),
        to_yaml(&rendered(&snapshot)),
        "deterministic"
    );
}
