//! Everything the renderer emits passes the real `kubernetes-validate --strict` against
//! Kubernetes 1.33 — what a platform team's CI would run before `kubectl apply`.
//!
//! Two estates, both read by the real loader and planned by the real planner: a small
//! hand-written one in `tests/fixtures/every-kind.yaml` that is built to produce every
//! kind the renderer knows, and the sample estate in `config/samples/`.
//! A missing tool fails the test with the install command: a skipped check would let
//! `cargo test` pass on a machine that checked nothing.

use crate::support;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use govcloud::load::load_paths;
use govcloud::object::Kind;
use govcloud::plan::{Assignments, Snapshot, plan};
use govcloud::render::{Manifest, render, to_yaml};
use support::KUBERNETES_VALIDATE;

/// Every kind the applier manages: a fixture must make the renderer write each one.
fn every_kind() -> BTreeSet<&'static str> {
    Kind::MANAGED.iter().map(|k| k.as_str()).collect()
}

fn every_kind_fixture() -> PathBuf {
    support::repo_root().join("tests/fixtures/every-kind.yaml")
}

fn samples_dir() -> PathBuf {
    support::repo_root().join("config/samples")
}

/// Reads a file or directory with the loader the CLI uses, and requires that it held
/// only objects the planner reads: a document left out would go unrendered, unnoticed.
fn load(path: &Path) -> Snapshot {
    let loaded = load_paths(&[path.to_path_buf()])
        .unwrap_or_else(|e| panic!("{} does not load:\n{e}", path.display()));
    let skipped: Vec<String> = loaded.skipped.iter().map(ToString::to_string).collect();
    assert!(
        skipped.is_empty(),
        "{}: documents the planner does not read:\n{}",
        path.display(),
        skipped.join("\n")
    );
    loaded.snapshot
}

fn rendered(snapshot: &Snapshot) -> Vec<Manifest> {
    let plan = plan(snapshot, &Assignments::from_status(snapshot));
    render(snapshot, &plan).unwrap_or_else(|e| panic!("the planner's own plan must render: {e}"))
}

/// Runs `kubernetes-validate --strict -k 1.33.0` on the rendered YAML and fails with its
/// output unless it exits 0 with a "passed" verdict for every manifest.
fn validate(name: &str, manifests: &[Manifest]) {
    // Cargo's scratch directory for integration tests; one file per estate, so that
    // tests running in parallel never overwrite each other's input.
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("render-{name}.yaml"));
    std::fs::write(&file, to_yaml(manifests)).expect("writing the manifests");
    let args: [OsString; 4] = ["--strict".into(), "-k".into(), "1.33.0".into(), file.into()];
    let output = KUBERNETES_VALIDATE.run_ok(args);
    let printed = support::printed(&output);
    // Every document was checked against a schema, not merely parsed: one verdict per
    // manifest, for that manifest (verdicts name `kind/name`, without the namespace).
    let mut passed: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.split_once(" passed for resource "))
        .map(|(_, rest)| rest.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(passed.len(), manifests.len(), "documents validated:\n{printed}");
    let mut expected: Vec<String> = manifests
        .iter()
        .map(|m| format!("{}/{}", m.kind().as_str().to_lowercase(), m.name()))
        .collect();
    passed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(passed, expected, "a verdict for every manifest:\n{printed}");
}

fn kinds(manifests: &[Manifest]) -> BTreeSet<&'static str> {
    manifests.iter().map(|m| m.kind().as_str()).collect()
}

#[test]
fn hand_written_estate_renders_every_kind_and_validates() {
    let manifests = rendered(&load(&every_kind_fixture()));
    assert_eq!(kinds(&manifests), every_kind(), "every kind covered");
    validate("hand-written", &manifests);
}

#[test]
fn sample_estate_renders_every_kind_and_validates() {
    let snapshot = load(&samples_dir());
    let manifests = rendered(&snapshot);
    assert_eq!(kinds(&manifests), every_kind(), "every kind covered");
    validate("samples", &manifests);
    let yaml = to_yaml(&manifests);
    assert_eq!(yaml, to_yaml(&rendered(&snapshot)), "deterministic");
    assert_eq!(
        yaml,
        to_yaml(&rendered(&load(&samples_dir()))),
        "deterministic from a fresh load"
    );
}
