//! The committed CRDs in `crds/`: in step with the Rust API types, accepted by the
//! Kubernetes 1.33 schema, and carrying what `kubectl` users rely on.
//!
//! `crds/` is generated: after changing `operator/src/api`, regenerate it with
//! `GOVCLOUD_BLESS=1 cargo test --test crds` and commit the result.

mod support;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::sync::OnceLock;

use govcloud::crds;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps,
};
use support::KUBERNETES_VALIDATE;

const REGENERATE: &str = "GOVCLOUD_BLESS=1 cargo test --test crds";

fn crds_dir() -> std::path::PathBuf {
    support::repo_root().join("crds")
}

/// Compares `crds/` with the generated CRDs, once per test run, and under
/// `GOVCLOUD_BLESS=1` rewrites it first. Every test that reads `crds/` goes through
/// here, so that they all see the blessed files rather than racing the rewrite.
fn drift() -> &'static [String] {
    static DRIFT: OnceLock<Vec<String>> = OnceLock::new();
    DRIFT.get_or_init(|| {
        let dir = crds_dir();
        let bless = std::env::var_os("GOVCLOUD_BLESS").is_some_and(|v| v == "1");
        if bless {
            fs::create_dir_all(&dir).expect("creating crds/");
        }
        let mut drifted = Vec::new();
        let mut expected_names = BTreeSet::new();
        for (file, crd) in crds::all() {
            expected_names.insert(file.to_string());
            let path = dir.join(file);
            let want = crds::to_yaml(&crd);
            if fs::read_to_string(&path).ok().as_deref() == Some(want.as_str()) {
                continue;
            }
            if bless {
                fs::write(&path, want).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            } else {
                drifted.push(format!("crds/{file}"));
            }
        }
        // A kind that was renamed or removed must not leave its old CRD behind to be applied.
        for path in support::yaml_files(&dir) {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !expected_names.contains(&name) {
                if bless {
                    fs::remove_file(&path).expect("removing a stale CRD file");
                } else {
                    drifted.push(format!("crds/{name} (no longer generated)"));
                }
            }
        }
        drifted
    })
}

#[test]
fn crd_files_match_the_api_types() {
    let drifted = drift();
    assert!(
        drifted.is_empty(),
        "crds/ is out of date with the API types in operator/src/api: {}.\nRegenerate with `{REGENERATE}` and commit crds/.",
        drifted.join(", ")
    );
}

#[test]
fn committed_crds_concatenate_to_govcloud_crds_output() {
    // `govcloud crds` prints `all_yaml()`; applying `crds/` must install the same thing.
    drift();
    let committed: String = crds::all()
        .iter()
        .map(|(file, _)| fs::read_to_string(crds_dir().join(file)).unwrap_or_default())
        .collect();
    assert!(
        committed == crds::all_yaml(),
        "crds/ differs from `govcloud crds`; regenerate with `{REGENERATE}`"
    );
}

#[test]
fn crds_pass_kubernetes_validate_strict() {
    drift();
    let files: Vec<String> = crds::all()
        .iter()
        .map(|(file, _)| format!("crds/{file}"))
        .collect();
    let mut args = vec!["--strict".to_string(), "-k".into(), "1.33.0".into()];
    args.extend(files);
    let output = KUBERNETES_VALIDATE.run_ok(&args);
    // Exit 0 alone would also be what an empty file gives: require a verdict per CRD.
    let stdout = String::from_utf8_lossy(&output.stdout);
    for (_, crd) in crds::all() {
        let name = crd.metadata.name.expect("CRDs are named");
        let verdict = format!("passed for resource customresourcedefinition/{name}");
        assert!(
            stdout.contains(&verdict),
            "no verdict for {name}:\n{}",
            support::printed(&output)
        );
    }
}

#[test]
fn kubernetes_validate_rejects_a_misspelled_crd_field() {
    // Proves the check above can fail: strict mode refuses an unknown field.
    let (_, crd) = crds::all().remove(0);
    let broken = crds::to_yaml(&crd).replacen("  scope: Cluster", "  scope: Cluster\n  scpoe: Cluster", 1);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("broken.yaml");
    fs::write(&path, broken).expect("writing the broken CRD");
    let args = [
        OsStr::new("--strict"),
        OsStr::new("-k"),
        OsStr::new("1.33.0"),
        path.as_os_str(),
    ];
    let output = KUBERNETES_VALIDATE.run(args);
    assert!(
        !output.status.success(),
        "a misspelled field was accepted:\n{}",
        support::printed(&output)
    );
    assert!(
        support::printed(&output).contains("scpoe"),
        "{}",
        support::printed(&output)
    );
}

fn served_version(crd: &CustomResourceDefinition) -> &CustomResourceDefinitionVersion {
    let versions = &crd.spec.versions;
    assert_eq!(versions.len(), 1, "{}: one version", crd.spec.names.kind);
    let v = &versions[0];
    assert!(
        v.name == "v1alpha1" && v.served && v.storage,
        "{}: v1alpha1 served and stored",
        crd.spec.names.kind
    );
    v
}

fn spec_schema(version: &CustomResourceDefinitionVersion) -> &JSONSchemaProps {
    let root = version
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("a structural schema");
    root.properties
        .as_ref()
        .and_then(|p| p.get("spec"))
        .expect("a spec schema")
}

fn column_names(version: &CustomResourceDefinitionVersion) -> Vec<&str> {
    version
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect()
}

#[test]
fn crds_carry_what_a_platform_team_needs() {
    // kind → (short name, scope, printer columns `kubectl get` must show)
    let expected: [(&str, &str, &str, &[&str]); 5] = [
        (
            "ResourcePool",
            "pool",
            "Cluster",
            &["Level", "Cordoned", "CPU", "Memory", "Services"],
        ),
        (
            "Department",
            "dept",
            "Cluster",
            &["Code", "Clearance", "Services", "Rejected"],
        ),
        (
            "DepartmentService",
            "dsvc",
            "Namespaced",
            &["Level", "Phase", "Pool", "Instance"],
        ),
        (
            "ServiceOffering",
            "offering",
            "Cluster",
            &["Level", "Tenants", "Instances"],
        ),
        ("PlatformPolicy", "ppol", "Cluster", &["Violations"]),
    ];
    let all = crds::all();
    assert_eq!(all.len(), expected.len(), "one CRD per kind");
    for (kind, short, scope, columns) in expected {
        let (_, crd) = all
            .iter()
            .find(|(_, c)| c.spec.names.kind == kind)
            .unwrap_or_else(|| panic!("no CRD for {kind}"));
        assert_eq!(crd.spec.group, "govcloud.io");
        assert_eq!(crd.spec.scope, scope, "{kind} scope");
        assert_eq!(
            crd.spec.names.short_names.as_deref(),
            Some(&[short.to_string()][..]),
            "{kind} short name"
        );
        assert!(
            crd.spec
                .names
                .categories
                .iter()
                .flatten()
                .any(|c| c == "govcloud"),
            "{kind}: `kubectl get govcloud`"
        );
        let version = served_version(crd);
        assert!(
            version.subresources.as_ref().is_some_and(|s| s.status.is_some()),
            "{kind}: status subresource, so that users cannot overwrite the operator's status"
        );
        let shown = column_names(version);
        for column in columns {
            assert!(
                shown.contains(column),
                "{kind}: printer column {column} missing from {shown:?}"
            );
        }
        assert!(shown.contains(&"Age"), "{kind}: Age column");
    }
}

#[test]
fn department_service_requires_exactly_one_of_workload_and_offering() {
    let (_, crd) = crds::all()
        .into_iter()
        .find(|(_, c)| c.spec.names.kind == "DepartmentService")
        .unwrap();
    let spec = spec_schema(served_version(&crd));
    let rules: Vec<&str> = spec
        .x_kubernetes_validations
        .iter()
        .flatten()
        .map(|r| r.rule.as_str())
        .collect();
    assert_eq!(
        rules,
        ["has(self.workload) != has(self.offering)"],
        "the CEL rule the API server enforces"
    );
    let required = spec.required.as_deref().unwrap_or_default();
    assert!(
        required.iter().any(|r| r == "securityLevel"),
        "securityLevel is required: {required:?}"
    );
}
