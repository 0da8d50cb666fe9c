//! The committed CRDs in `crds/`: in step with the Rust API types, accepted by the
//! Kubernetes 1.33 schema, and carrying what `kubectl` users rely on.
//!
//! `crds/` is generated: after changing `operator/src/api`, regenerate it with
//! `GOVCLOUD_BLESS=1 cargo test --test integration crds::` and commit the result.

use crate::support;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::sync::OnceLock;

use govcloud::crds;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps,
};
use support::{CHECK_JSONSCHEMA, KUBERNETES_VALIDATE};

const REGENERATE: &str = "GOVCLOUD_BLESS=1 cargo test --test integration crds::";

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

/// Paths (`$.key`) that `check-jsonschema` refuses in `instance` under `schema`.
fn refused_paths(schema: &serde_json::Value, instance: &serde_json::Value) -> BTreeSet<String> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (schema_path, instance_path) = (dir.path().join("schema.json"), dir.path().join("instance.json"));
    fs::write(&schema_path, schema.to_string()).expect("writing the schema");
    fs::write(&instance_path, instance.to_string()).expect("writing the instance");
    let args = [
        OsStr::new("-o"),
        OsStr::new("json"),
        OsStr::new("--schemafile"),
        schema_path.as_os_str(),
        instance_path.as_os_str(),
    ];
    let output = CHECK_JSONSCHEMA.run(args);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "check-jsonschema's JSON report: {e}\n{}",
            support::printed(&output)
        )
    });
    assert!(
        report["parse_errors"].as_array().is_none_or(Vec::is_empty),
        "{}",
        support::printed(&output)
    );
    report["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["path"].as_str().expect("a path").to_owned())
        .collect()
}

#[test]
fn the_crds_name_patterns_refuse_exactly_what_the_planner_refuses() {
    use govcloud::names::{self, Rule};
    let long = |n: usize| "a".repeat(n);
    let samples: Vec<String> = [
        "",
        "a",
        "z9",
        "A",
        "Ab",
        "80",
        "1-2",
        "1-x",
        "9p",
        "http",
        "http-alt",
        "a--b",
        "-a",
        "a-",
        "1a",
        "a.b",
        "a..b",
        ".a",
        "a.",
        ".",
        "..",
        "..a",
        "._",
        "_x",
        "x_",
        "-",
        "my.env-name",
        "MY_ENV.NAME",
        "a b",
        "a/b",
        "é",
        "abcdefghijklmno",
        "abcdefghijklmnop",
    ]
    .into_iter()
    .map(String::from)
    .chain([
        long(49),
        long(50),
        long(63),
        long(64),
        format!("{}.{}", long(31), long(31)),
    ])
    .collect();
    let instance: serde_json::Map<String, serde_json::Value> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("s{i}"), s.clone().into()))
        .collect();
    // (rule, the pattern the CRDs carry, the length limit they carry with it)
    let cases = [
        (Rule::PortName, names::PORT_NAME_PATTERN, Some(15)),
        (Rule::EnvVarName, names::ENV_VAR_NAME_PATTERN, None),
        (Rule::Dns1123Label, names::DNS1123_LABEL_PATTERN, Some(63)),
        (Rule::Dns1035Label, names::DNS1035_LABEL_PATTERN, Some(63)),
        (
            Rule::Dns1035Label,
            names::DNS1035_LABEL_PATTERN,
            Some(govcloud::plan::OFFERING_NAME_MAX),
        ),
        (Rule::Dns1123Subdomain, names::DNS1123_SUBDOMAIN_PATTERN, Some(63)),
        (Rule::LabelValue, names::LABEL_VALUE_PATTERN, Some(63)),
    ];
    for (rule, pattern, max) in cases {
        let mut item = serde_json::json!({"type": "string", "pattern": pattern});
        if let Some(max) = max {
            item["maxLength"] = max.into();
        }
        let schema = serde_json::json!({"type": "object", "additionalProperties": item});
        let refused = refused_paths(&schema, &serde_json::Value::Object(instance.clone()));
        for (i, s) in samples.iter().enumerate() {
            let by_schema = refused.contains(&format!("$.s{i}"));
            let by_planner = rule.check_within(s, max.unwrap_or(usize::MAX)).is_err();
            assert_eq!(
                by_schema, by_planner,
                "{rule:?} / {pattern}: {s:?} refused by the CRD schema: {by_schema}, by the planner: {by_planner}"
            );
        }
    }
}

#[test]
fn the_crds_refuse_names_a_cluster_could_not_use() {
    let schema = |kind: &str| -> serde_json::Value {
        let (_, crd) = crds::all()
            .into_iter()
            .find(|(_, c)| c.spec.names.kind == kind)
            .expect("a CRD");
        let root = served_version(&crd)
            .schema
            .clone()
            .and_then(|s| s.open_api_v3_schema);
        let mut schema = serde_json::to_value(root).expect("a JSON schema");
        // OpenAPI 3.0 keywords (a boolean `exclusiveMinimum`) are draft 4's.
        schema["$schema"] = "http://json-schema.org/draft-04/schema#".into();
        schema
    };
    let offering = |name: &str, port: &str| {
        serde_json::json!({
            "metadata": {"name": name},
            "spec": {"image": "pg", "securityLevel": 2, "tenantsPerInstance": 4,
                     "instance": {"resources": {"cpu": "1", "memory": "1Gi"}, "ports": [{"name": port, "port": 5432}]}}
        })
    };
    let service = |name: &str, env: &str| {
        serde_json::json!({
            "metadata": {"name": name, "namespace": "dept-fin"},
            "spec": {"securityLevel": 2, "workload": {"image": "web", "env": [{"name": env, "value": "1"}]}}
        })
    };
    let pool = |name: &str, value: &str| {
        serde_json::json!({
            "metadata": {"name": name},
            "spec": {"securityLevel": 2, "nodeSelector": {"govcloud.io/pool": value}}
        })
    };
    let department = |name: &str, sa_namespace: &str| {
        serde_json::json!({
            "metadata": {"name": name},
            "spec": {"securityClearance": 2, "quota": {"cpu": "1", "memory": "1Gi", "services": 1},
                     "owners": [{"kind": "ServiceAccount", "name": "ci", "namespace": sa_namespace}]}
        })
    };
    let a49 = "a".repeat(49);
    let a50 = "a".repeat(50);
    let cases = [
        ("ServiceOffering", offering(&a49, "pg"), BTreeSet::new()),
        (
            "ServiceOffering",
            offering(&a50, "5432"),
            BTreeSet::from(["$.metadata.name", "$.spec.instance.ports[0].name"]),
        ),
        ("DepartmentService", service("web", "LOG_LEVEL"), BTreeSet::new()),
        (
            "DepartmentService",
            service("1st", "1A"),
            BTreeSet::from(["$.metadata.name", "$.spec.workload.env[0].name"]),
        ),
        ("ResourcePool", pool("gpu.a", "gpu.a"), BTreeSet::new()),
        (
            "ResourcePool",
            pool(&"p".repeat(64), "-x"),
            BTreeSet::from(["$.metadata.name", "$.spec.nodeSelector['govcloud.io/pool']"]),
        ),
        ("Department", department("fin", "ci"), BTreeSet::new()),
        (
            "Department",
            department("Payroll_DB", "CI"),
            BTreeSet::from(["$.metadata.name", "$.spec.owners[0].namespace"]),
        ),
    ];
    for (kind, object, expected) in cases {
        let refused = refused_paths(&schema(kind), &object);
        let expected: BTreeSet<String> = expected.into_iter().map(String::from).collect();
        assert_eq!(refused, expected, "{kind} {object}");
    }
}
