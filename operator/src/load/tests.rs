use std::fs;
use std::path::PathBuf;

use kube::ResourceExt;
use tempfile::TempDir;

use super::*;

const POOL: &str = "\
apiVersion: govcloud.io/v1alpha1
kind: ResourcePool
metadata:
  name: gold
spec:
  securityLevel: 3
  nodeSelector: {govcloud.io/pool: gold}
  capacity: {cpu: '64', memory: 256Gi}
";

pub(super) const DEPARTMENT: &str = "\
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata:
  name: finance
spec:
  securityClearance: 3
  quota: {cpu: '16', memory: 64Gi, services: 10}
";

const SERVICE: &str = "\
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata:
  name: payroll
  namespace: dept-finance
spec:
  securityLevel: 2
  workload:
    image: registry.gov.example/payroll:1.4
    resources: {cpu: 500m, memory: 1Gi}
";

const OFFERING: &str = "\
apiVersion: govcloud.io/v1alpha1
kind: ServiceOffering
metadata:
  name: postgres
spec:
  image: registry.gov.example/postgres:16
  securityLevel: 3
  tenantsPerInstance: 5
  instance:
    resources: {cpu: '2', memory: 8Gi}
";

const POLICY: &str = "\
apiVersion: govcloud.io/v1alpha1
kind: PlatformPolicy
metadata:
  name: baseline
spec:
  forbidLatestTag: true
";

const NODE: &str = "\
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {govcloud.io/pool: gold}
status:
  allocatable: {cpu: 16, memory: 64Gi}
  somethingNewerThanOurTypes: true
";

fn write(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    path
}

fn docs(parts: &[&str]) -> String {
    parts.join("---\n")
}

fn load_one(text: &str) -> Result<Loaded, LoadErrors> {
    let dir = tempfile::tempdir().unwrap();
    load_paths(&[write(&dir, "input.yaml", text)])
}

fn errors_of(text: &str) -> Vec<LoadError> {
    load_one(text).expect_err("the input has problems").0
}

/// (document, item, line, kind/name, field, message) of a field error, for compact assertions.
fn field_error(e: &LoadError) -> (usize, Option<usize>, Option<u64>, String, String, String) {
    match e {
        LoadError::Field {
            at,
            object,
            field,
            message,
        } => (
            at.document,
            at.item,
            at.line,
            object.as_ref().map(ToString::to_string).unwrap_or_default(),
            field.to_string(),
            message.clone(),
        ),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[test]
fn a_multi_document_file_loads_every_kind() {
    let text = docs(&[
        POOL,
        DEPARTMENT,
        SERVICE,
        "# only a comment\n",
        OFFERING,
        POLICY,
        NODE,
    ]);
    let loaded = load_one(&text).unwrap();
    let s = &loaded.snapshot;
    assert_eq!(s.pools[0].name_any(), "gold");
    assert_eq!(s.pools[0].spec.security_level, 3);
    assert_eq!(s.departments[0].name_any(), "finance");
    assert_eq!(s.services[0].namespace().as_deref(), Some("dept-finance"));
    assert_eq!(s.offerings[0].spec.tenants_per_instance, 5);
    assert!(s.policies[0].spec.forbid_latest_tag);
    // A Node's unquoted quantities are fine: core quantities are int-or-string.
    let allocatable = s.nodes[0].status.as_ref().unwrap().allocatable.as_ref().unwrap();
    assert_eq!(allocatable["cpu"].0, "16");
    assert_eq!(s.settings, crate::plan::Settings::default());
    assert!(loaded.skipped.is_empty());
}

#[test]
fn a_kubectl_list_loads_its_items_with_their_status() {
    let text = "\
apiVersion: v1
kind: List
metadata: {resourceVersion: ''}
items:
- apiVersion: govcloud.io/v1alpha1
  kind: DepartmentService
  metadata: {name: payroll, namespace: dept-finance, uid: 1b2c, resourceVersion: '42',
             creationTimestamp: '2024-03-01T08:00:00Z'}
  spec:
    securityLevel: 2
    offering: {name: postgres}
  status: {phase: Placed, pool: gold, sharedInstance: postgres-l2-1}
- apiVersion: v1
  kind: Node
  metadata: {name: node-1}
";
    let loaded = load_one(text).unwrap();
    let s = &loaded.snapshot;
    assert_eq!(s.services.len(), 1);
    assert_eq!(s.nodes.len(), 1);
    let status = s.services[0].status.as_ref().unwrap();
    assert_eq!(status.shared_instance.as_deref(), Some("postgres-l2-1"));
}

#[test]
fn errors_in_list_items_name_the_item_and_its_line() {
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings}
- apiVersion: govcloud.io/v1alpha1
  kind: ResourcePool
  metadata: {name: gold}
  spec:
    securityLevel: three
    nodeSelector: {a: b}
";
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        field_error(&errors[0]),
        (
            1,
            Some(1),
            Some(11),
            "ResourcePool gold".into(),
            "spec.securityLevel".into(),
            "invalid type: string \"three\", expected u8".into()
        )
    );
    assert!(
        errors[0]
            .to_string()
            .contains("input.yaml:11:20: document 1, items[1]: ResourcePool gold")
    );
}

/// A List as kubectl prints it, `kind` after `items`, of the given items (each indented).
fn kubectl_list(items: &[&str]) -> String {
    let mut text = String::from("apiVersion: v1\nitems:\n");
    for item in items {
        for (i, line) in item.lines().enumerate() {
            text.push_str(if i == 0 { "- " } else { "  " });
            text.push_str(line);
            text.push('\n');
        }
    }
    text + "kind: List\nmetadata: {resourceVersion: ''}\n"
}

#[test]
fn a_lists_objects_take_their_place_among_the_other_documents() {
    let list = kubectl_list(&[
        &DEPARTMENT.replace("finance", "health"),
        POOL,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}",
        &DEPARTMENT.replace("finance", "audit"),
    ]);
    let text = docs(&[DEPARTMENT, &list, &DEPARTMENT.replace("finance", "zeta")]);
    let loaded = load_one(&text).unwrap();
    let names: Vec<_> = loaded.snapshot.departments.iter().map(|d| d.name_any()).collect();
    assert_eq!(names, ["finance", "health", "audit", "zeta"]);
    assert_eq!(loaded.snapshot.pools.len(), 1);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].origin.item, Some(2));
}

#[test]
fn a_duplicate_inside_a_list_is_refused_at_its_item() {
    let list = kubectl_list(&[POOL, &DEPARTMENT.replace("finance", "health"), DEPARTMENT]);
    let errors = load_one(&docs(&[DEPARTMENT, &list])).unwrap_err().0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let LoadError::Duplicate { at, object, first } = &errors[0] else {
        panic!("{errors:?}")
    };
    assert_eq!(object.to_string(), "Department finance");
    assert_eq!((at.document, at.item), (2, Some(2)));
    assert_eq!((first.document, first.item), (1, None));
}

#[test]
fn directories_are_walked_recursively_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let named = |name: &str| DEPARTMENT.replace("name: finance", &format!("name: {name}"));
    write(&dir, "b.yaml", &named("from-b"));
    write(&dir, "a/z.yml", &named("from-a-z"));
    write(
        &dir,
        "a/c.json",
        r#"{"apiVersion": "govcloud.io/v1alpha1", "kind": "Department",
        "metadata": {"name": "from-a-c"},
        "spec": {"securityClearance": 1, "quota": {"cpu": "1", "memory": "1Gi", "services": 1}}}"#,
    );
    write(&dir, "a.yaml", &named("from-a-yaml"));
    write(&dir, "notes.txt", "not: [yaml");
    write(&dir, ".git/config.yaml", "not: [yaml");
    let loaded = load_paths(&[dir.path().to_path_buf()]).unwrap();
    let names: Vec<_> = loaded.snapshot.departments.iter().map(|d| d.name_any()).collect();
    assert_eq!(names, ["from-a-c", "from-a-z", "from-a-yaml", "from-b"]);
}

#[test]
fn files_and_directories_can_be_mixed_and_a_named_file_needs_no_extension() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "pool.manifest", POOL);
    let sub = dir.path().join("more");
    write(&dir, "more/department.yaml", DEPARTMENT);
    let loaded = load_paths(&[file, sub]).unwrap();
    assert_eq!(
        (loaded.snapshot.pools.len(), loaded.snapshot.departments.len()),
        (1, 1)
    );
}

#[test]
fn documents_are_numbered_as_the_markers_show_counting_empty_ones() {
    let text = format!("# leading comment, not a document\n---\n---\n{POOL}---\nkind: [\n");
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1);
    let LoadError::Syntax { at, message } = &errors[0] else {
        panic!("{errors:?}")
    };
    assert_eq!((at.document, at.line), (3, Some(13)));
    assert!(message.contains("bracket"), "{message}");
}

#[test]
fn malformed_yaml_names_file_document_line_and_column() {
    let text = docs(&[POOL, "metadata:\n  name: x\n spec: : oops\n"]);
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1);
    let LoadError::Syntax { at, .. } = &errors[0] else {
        panic!("{errors:?}")
    };
    assert!(at.file.ends_with("input.yaml"));
    assert_eq!(at.document, 2);
    assert_eq!(at.line, Some(12));
    assert!(at.column.is_some());
    assert!(errors[0].to_string().contains("input.yaml:12:"), "{}", errors[0]);
}

#[test]
fn a_wrongly_typed_field_names_kind_name_field_and_line() {
    let text = DEPARTMENT.replace("quota: {cpu: '16'", "quota: {cpu: 16");
    let errors = errors_of(&text);
    assert_eq!(
        field_error(&errors[0]),
        (
            1,
            None,
            Some(7),
            "Department finance".into(),
            "spec.quota.cpu".into(),
            "invalid type: integer `16`, expected a string (quote it)".into()
        )
    );
}

#[test]
fn an_enum_typo_and_a_nested_sequence_field_are_located() {
    let text = "\
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: web, namespace: dept-finance}
spec:
  securityLevel: 2
  availability: Hihg
  workload:
    image: web:1
    ports:
    - {name: http, port: eighty}
";
    let errors = errors_of(text);
    // Both, although serde stops at the first error of an object (see decode::typed).
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let (_, _, line, object, field, message) = field_error(&errors[0]);
    assert_eq!(
        (line, object.as_str(), field.as_str()),
        (Some(6), "DepartmentService dept-finance/web", "spec.availability")
    );
    assert!(message.starts_with("unknown variant `Hihg`"), "{message}");
    let (_, _, line, _, field, _) = field_error(&errors[1]);
    assert_eq!((line, field.as_str()), (Some(10), "spec.workload.ports[0].port"));
}

#[test]
fn a_missing_required_field_is_named_in_full() {
    let errors = errors_of(&OFFERING.replace("  tenantsPerInstance: 5\n", ""));
    let (_, _, line, object, field, message) = field_error(&errors[0]);
    assert_eq!(object, "ServiceOffering postgres");
    assert_eq!(field, "spec.tenantsPerInstance");
    assert_eq!(message, "required field is missing");
    assert_eq!(line, Some(6), "reported where its parent mapping starts");
}

#[test]
fn unknown_fields_of_our_kinds_are_errors_but_not_in_status() {
    let text = POOL.replace(
        "  securityLevel: 3\n",
        "  securityLevel: 3\n  targetUtilization: 0.7\n",
    ) + "status:\n  somethingAnOperatorAddedLater: 1\n";
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (_, _, line, _, field, message) = field_error(&errors[0]);
    assert_eq!(
        (line, field.as_str(), message.as_str()),
        (Some(7), "spec.targetUtilization", "unknown field")
    );
}

#[test]
fn a_service_needs_a_namespace_and_every_object_a_name() {
    let text = docs(&[
        &SERVICE.replace("  namespace: dept-finance\n", ""),
        &POOL.replace("  name: gold\n", "  labels: {a: b}\n"),
    ]);
    let errors = errors_of(&text);
    let found: Vec<_> = errors
        .iter()
        .map(field_error)
        .map(|(doc, _, _, object, field, _)| (doc, object, field))
        .collect();
    assert_eq!(
        found,
        [
            (
                1,
                "DepartmentService payroll".to_string(),
                "metadata.namespace".to_string()
            ),
            (
                2,
                "ResourcePool (unnamed)".to_string(),
                "metadata.name".to_string()
            ),
        ]
    );
    assert!(
        errors[0]
            .to_string()
            .contains("lives in its department's namespace")
    );
}

#[test]
fn a_document_that_is_not_an_object_is_an_error() {
    let errors = errors_of(&docs(&["just a string\n", "- a\n- b\n", "metadata: {name: x}\n"]));
    let found: Vec<_> = errors
        .iter()
        .map(field_error)
        .map(|(doc, _, _, object, field, m)| (doc, object, field, m))
        .collect();
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found[0].3.contains("found a scalar"));
    assert!(found[1].3.contains("found a sequence"));
    assert_eq!((found[2].0, found[2].2.as_str()), (3, "apiVersion"));
    assert_eq!((found[3].0, found[3].2.as_str()), (3, "kind"));
}

#[test]
fn other_kinds_and_versions_are_skipped_not_refused() {
    let text = docs(&[
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n",
        &POOL.replace("v1alpha1", "v1beta1"),
        DEPARTMENT,
    ]);
    let loaded = load_one(&text).unwrap();
    let skipped: Vec<_> = loaded
        .skipped
        .iter()
        .map(|s| {
            (
                s.origin.document,
                s.api_version.as_str(),
                s.kind.as_str(),
                s.name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            (1, "v1", "ConfigMap", Some("settings")),
            (2, "govcloud.io/v1beta1", "ResourcePool", Some("gold"))
        ]
    );
    assert_eq!(loaded.snapshot.departments.len(), 1);
    assert!(
        loaded.skipped[0]
            .to_string()
            .contains("document 1: skipped v1 ConfigMap settings")
    );
}

#[test]
fn duplicates_name_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(&dir, "a.yaml", &docs(&[POOL, SERVICE]));
    let second = write(&dir, "b.yaml", &docs(&[DEPARTMENT, POOL]));
    // The same name in another namespace, or of another kind, is another object.
    let other_ns = write(
        &dir,
        "c.yaml",
        &docs(&[
            &SERVICE.replace("dept-finance", "dept-health"),
            &DEPARTMENT.replace("finance", "gold"),
        ]),
    );
    let errors = load_paths(&[first.clone(), second.clone(), other_ns])
        .unwrap_err()
        .0;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let LoadError::Duplicate {
        at,
        object,
        first: earlier,
    } = &errors[0]
    else {
        panic!("{errors:?}")
    };
    assert_eq!(
        (at.file.as_path(), at.document, at.line),
        (second.as_path(), 2, Some(12))
    );
    assert_eq!((earlier.file.as_path(), earlier.document), (first.as_path(), 1));
    assert_eq!(object.to_string(), "ResourcePool gold");
    let shown = errors[0].to_string();
    assert!(
        shown.contains("b.yaml:12:9: document 2: ResourcePool gold is defined twice; first at"),
        "{shown}"
    );
    assert!(shown.contains("a.yaml:4:9: document 1"), "{shown}");
}

#[test]
fn every_problem_in_every_file_is_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "1-syntax.yaml", &docs(&["a: [\n", POOL]));
    write(
        &dir,
        "2-types.yaml",
        &docs(&[
            &DEPARTMENT.replace("securityClearance: 3", "securityClearance: top"),
            &POLICY.replace("true", "'yes please'"),
        ]),
    );
    write(&dir, "3-dup.yaml", POOL);
    let missing = dir.path().join("missing.yaml");
    let errors = load_paths(&[dir.path().to_path_buf(), missing]).unwrap_err();
    let lines: Vec<_> = errors.to_string().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 5, "{lines:#?}");
    assert!(
        lines[0].starts_with("missing.yaml: cannot read:") || lines[0].contains("missing.yaml: cannot read:"),
        "{lines:#?}"
    );
    assert!(
        lines[1].contains("1-syntax.yaml:1:") && lines[1].contains("document 1: malformed YAML"),
        "{lines:#?}"
    );
    assert!(
        lines[2].contains(
            "2-types.yaml:6:22: document 1: Department finance: spec.securityClearance: invalid type"
        ),
        "{lines:#?}"
    );
    assert!(
        lines[3].contains("document 2: PlatformPolicy baseline: spec.forbidLatestTag: invalid type"),
        "{lines:#?}"
    );
    assert!(
        lines[4].contains("3-dup.yaml:4:9: document 1: ResourcePool gold is defined twice"),
        "{lines:#?}"
    );
}

#[test]
fn semantically_invalid_values_are_left_to_the_planner() {
    let text = docs(&[
        &POOL
            .replace("securityLevel: 3", "securityLevel: 9")
            .replace("cpu: '64'", "cpu: lots"),
        &DEPARTMENT.replace("services: 10", "services: 0"),
    ]);
    let loaded = load_one(&text).unwrap();
    assert_eq!(loaded.snapshot.pools[0].spec.security_level, 9);
    assert_eq!(
        loaded.snapshot.pools[0].spec.capacity.as_ref().unwrap().cpu,
        "lots"
    );
}

#[test]
fn field_paths_display_like_kubectl_explain() {
    let path = FieldPath::default().key("spec").key("ports");
    let path = FieldPath(vec![
        path.0[0].clone(),
        path.0[1].clone(),
        Segment::Index(2),
        Segment::Key("port".into()),
    ]);
    assert_eq!(path.to_string(), "spec.ports[2].port");
    assert_eq!(path.in_item(4).to_string(), "items[4].spec.ports[2].port");
}

/// A file large enough to be read on several threads reports what a small one does, in
/// file order: each problem at its document, and a duplicate found across the threads'
/// runs.
#[test]
fn a_large_file_read_on_every_core_reports_in_file_order() {
    let count = 2_000;
    let services = || -> Vec<String> {
        (0..count)
            .map(|i| SERVICE.replace("name: payroll", &format!("name: payroll-{i}")))
            .collect()
    };
    let mut parts = services();
    parts[10] = parts[10].replace("securityLevel: 2", "securityLevel: high");
    parts[1_000] = "a: [\n".into();
    parts[count - 1] = parts[0].clone();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let text = docs(&parts);
    assert!(text.len() > 256 * 1024, "{} bytes", text.len());
    let shown: Vec<String> = errors_of(&text).iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 3, "{shown:#?}");
    assert!(
        shown[0].contains("document 11: DepartmentService dept-finance/payroll-10: spec.securityLevel"),
        "{shown:#?}"
    );
    assert!(shown[1].contains("document 1001: malformed YAML"), "{shown:#?}");
    assert!(
        shown[2].contains("document 2000: DepartmentService dept-finance/payroll-0 is defined twice")
            && shown[2].contains("document 1"),
        "{shown:#?}"
    );

    let fine = services();
    let fine: Vec<&str> = fine.iter().map(String::as_str).collect();
    let names: Vec<String> = load_one(&docs(&fine))
        .unwrap()
        .snapshot
        .services
        .iter()
        .map(|s| s.name_any())
        .collect();
    let expected: Vec<String> = (0..count).map(|i| format!("payroll-{i}")).collect();
    assert_eq!(names, expected, "every service once, in file order");
}
