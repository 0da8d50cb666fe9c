//! Careless and hostile input: links that loop, files that are not files, files that
//! never end, bytes that are not text, documents with many problems.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use super::*;

use super::tests::DEPARTMENT;

/// Runs `f` on a thread and fails the test if it does not finish in time, so that a
/// regression shows as a failure rather than a hung test run.
fn within<T: Send + 'static>(seconds: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(seconds))
        .unwrap_or_else(|_| panic!("did not finish within {seconds} s"))
}

fn load_within(paths: Vec<PathBuf>) -> Result<Loaded, LoadErrors> {
    within(20, move || load_paths(&paths))
}

fn estate_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a", "b", "c"] {
        let text = DEPARTMENT.replace("name: finance", &format!("name: {name}"));
        std::fs::write(dir.path().join(format!("{name}.yaml")), text).unwrap();
    }
    dir
}

fn messages(errors: &LoadErrors) -> Vec<String> {
    errors.0.iter().map(ToString::to_string).collect()
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

#[test]
fn a_link_to_its_own_directory_is_read_once() {
    let dir = estate_dir();
    symlink(".", dir.path().join("again")).unwrap();
    let loaded = load_within(vec![dir.path().to_path_buf()]).expect("no false duplicates");
    assert_eq!(loaded.snapshot.departments.len(), 3);
}

#[test]
fn two_links_to_their_own_directory_do_not_loop() {
    let dir = estate_dir();
    symlink(".", dir.path().join("x")).unwrap();
    symlink(".", dir.path().join("y")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    symlink("..", dir.path().join("sub/up")).unwrap();
    let loaded = load_within(vec![dir.path().to_path_buf()]).expect("loads");
    assert_eq!(loaded.snapshot.departments.len(), 3);
}

#[test]
fn a_file_reached_twice_is_read_once() {
    let dir = estate_dir();
    symlink("a.yaml", dir.path().join("z-link.yaml")).unwrap();
    let a = dir.path().join("a.yaml");
    let loaded = load_within(vec![a.clone(), dir.path().to_path_buf(), a]).expect("loads");
    assert_eq!(loaded.snapshot.departments.len(), 3);
}

#[test]
fn a_fifo_is_refused_by_name_without_being_opened() {
    let dir = estate_dir();
    let fifo = dir.path().join("pipe.yaml");
    mkfifo(&fifo);
    let errors = load_within(vec![dir.path().to_path_buf()]).unwrap_err();
    assert_eq!(
        messages(&errors),
        [format!(
            "{}: cannot read: a FIFO, not a regular file (only regular files are read)",
            fifo.display()
        )]
    );
    // Named on the command line, it is refused the same way.
    let errors = load_within(vec![fifo.clone()]).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
}

#[test]
fn a_fifo_without_a_manifest_extension_is_ignored_in_a_directory() {
    let dir = estate_dir();
    mkfifo(&dir.path().join("pipe"));
    let loaded = load_within(vec![dir.path().to_path_buf()]).expect("loads");
    assert_eq!(loaded.snapshot.departments.len(), 3);
}

#[test]
fn a_device_is_refused_without_being_read() {
    // /dev/null rather than /dev/zero: a regression must fail here, not eat the memory of the
    // test run (tests/cli.rs gives the binary /dev/zero under a memory limit).
    let errors = load_within(vec![PathBuf::from("/dev/null")]).unwrap_err();
    assert_eq!(
        messages(&errors),
        ["/dev/null: cannot read: a character device, not a regular file (only regular files are read)"]
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let dir = estate_dir();
    let limits = Limits {
        max_file_size: 100,
        ..Limits::default()
    };
    let errors = load_paths_with(&[dir.path().join("a.yaml")], &limits).unwrap_err();
    let size = DEPARTMENT.len() - "finance".len() + 1;
    assert_eq!(
        messages(&errors),
        [format!(
            "{}: cannot read: {size} bytes, more than the limit of 100 bytes \
             (raise it with --max-file-size)",
            dir.path().join("a.yaml").display()
        )]
    );
    let limits = Limits {
        max_file_size: size as u64,
        ..Limits::default()
    };
    assert!(load_paths_with(&[dir.path().join("a.yaml")], &limits).is_ok());
}

#[test]
fn the_size_limit_holds_for_a_file_that_grows_while_it_is_read() {
    // A file that lies about its size: /proc files report 0 and then produce text.
    let limits = Limits {
        max_file_size: 16,
        ..Limits::default()
    };
    let errors = load_paths_with(&[PathBuf::from("/proc/self/maps")], &limits).unwrap_err();
    assert_eq!(
        messages(&errors),
        ["/proc/self/maps: cannot read: more than the limit of 16 bytes \
          (raise it with --max-file-size)"]
    );
}

#[test]
fn deep_directories_and_many_files_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut deep = dir.path().to_path_buf();
    for _ in 0..5 {
        deep.push("d");
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("x.yaml"), DEPARTMENT).unwrap();
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let errors = load_paths_with(&[dir.path().to_path_buf()], &limits).unwrap_err();
    assert_eq!(
        messages(&errors),
        [format!(
            "{}: cannot read: directories nested more than 3 deep",
            dir.path().join("d/d/d/d").display()
        )]
    );

    let many = estate_dir();
    let limits = Limits {
        max_files: 2,
        ..Limits::default()
    };
    let errors = load_paths_with(&[many.path().to_path_buf()], &limits).unwrap_err();
    assert_eq!(
        messages(&errors),
        [format!(
            "{}: cannot read: more than 2 manifest files",
            many.path().join("c.yaml").display()
        )]
    );
}

#[test]
fn invalid_utf8_is_located_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.yaml");
    let mut bytes = DEPARTMENT.as_bytes().to_vec();
    // "name: caf\xe9" on line 4: Latin-1, not UTF-8.
    let at = DEPARTMENT.find("finance").unwrap();
    bytes.splice(at..at + "finance".len(), b"caf\xe9".iter().copied());
    std::fs::write(&path, bytes).unwrap();
    let errors = load_paths(std::slice::from_ref(&path)).unwrap_err();
    assert_eq!(
        messages(&errors),
        [format!(
            "{}:4:12: not UTF-8 text: byte 0xe9 cannot start or continue a character here",
            path.display()
        )]
    );
}

#[test]
fn binary_input_is_located_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("binary.yaml");
    std::fs::write(&path, b"\x7fELF\x02\x01\x01\0\0\0\n\xff\xfe").unwrap();
    let errors = load_paths(std::slice::from_ref(&path)).unwrap_err();
    assert_eq!(errors.0.len(), 1, "{errors}");
    let shown = errors.to_string();
    assert!(
        shown.starts_with(&format!("{}:2:1: not UTF-8 text: byte 0xff", path.display())),
        "{shown}"
    );
}

#[test]
fn every_type_error_of_a_document_is_reported() {
    let text = "\
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata:
  name: payroll
  namespace: dept-finance
  labels: [not, a, map]
spec:
  securityLevel: high
  availability: Sometimes
  exposure: 7
  workload:
    image: [registry.gov.example/payroll]
    replicas: two
    resources: {cpu: 1, memory: 1Gi}
    ports:
    - {name: http, port: eighty}
    env: {A: b}
";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.yaml");
    std::fs::write(&path, text).unwrap();
    let errors = load_paths(&[path]).unwrap_err();
    let fields: Vec<_> = errors
        .0
        .iter()
        .map(|e| match e {
            LoadError::Field { at, field, .. } => (at.line.unwrap(), field.to_string()),
            other => panic!("expected field errors, got {other}"),
        })
        .collect();
    assert_eq!(
        fields,
        [
            (6, "metadata.labels".to_owned()),
            (8, "spec.securityLevel".to_owned()),
            (9, "spec.availability".to_owned()),
            (10, "spec.exposure".to_owned()),
            (12, "spec.workload.image".to_owned()),
            (13, "spec.workload.replicas".to_owned()),
            (14, "spec.workload.resources.cpu".to_owned()),
            (16, "spec.workload.ports[0].port".to_owned()),
            (17, "spec.workload.env".to_owned()),
        ],
        "{errors}"
    );
}

#[test]
fn a_missing_required_field_is_not_reported_again_for_its_children() {
    let text = "\
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: finance}
spec:
  securityClearance: top
";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("department.yaml");
    std::fs::write(&path, text).unwrap();
    let errors = load_paths(&[path]).unwrap_err();
    let fields: Vec<_> = errors
        .0
        .iter()
        .map(|e| match e {
            LoadError::Field { field, message, .. } => format!("{field}: {message}"),
            other => panic!("expected field errors, got {other}"),
        })
        .collect();
    assert_eq!(fields.len(), 2, "{fields:#?}");
    assert!(
        fields.contains(&"spec.quota: required field is missing".to_owned()),
        "{fields:#?}"
    );
    assert!(
        fields
            .iter()
            .any(|f| f.starts_with("spec.securityClearance: invalid type")),
        "{fields:#?}"
    );
}

#[test]
fn a_list_larger_than_the_parser_default_budget_loads() {
    // 270,000 nodes in one document: the parser's default budget stops at 250,000, and a
    // `kubectl get -o yaml` export of a few thousand services is one such document.
    let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..30_000 {
        text.push_str(&format!(
            "- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c{i}}}}}\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.yaml");
    std::fs::write(&path, text).unwrap();
    let loaded = load_paths(&[path]).expect("loads");
    assert_eq!(loaded.skipped.len(), 30_000);
}

#[test]
fn what_nothing_reads_is_not_kept() {
    let text = DEPARTMENT.replace(
        "  name: finance\n",
        "  name: finance\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"a\": 1}'\n    \
         team: payroll\n  managedFields:\n  - {manager: kubectl, operation: Apply}\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("department.yaml");
    std::fs::write(&path, text).unwrap();
    let loaded = load_paths(&[path]).expect("loads");
    let metadata = &loaded.snapshot.departments[0].metadata;
    assert_eq!(metadata.managed_fields, None);
    let annotations = metadata.annotations.as_ref().unwrap();
    assert_eq!(annotations.keys().collect::<Vec<_>>(), ["team"]);
}
