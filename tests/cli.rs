//! The `govcloud` binary as a platform team's CI runs it: exit codes, messages, output.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const ESTATE: &str = "\
apiVersion: govcloud.io/v1alpha1
kind: ResourcePool
metadata: {name: general}
spec:
  securityLevel: 2
  nodeSelector: {govcloud.io/pool: general}
  capacity: {cpu: '32', memory: 128Gi}
  cost: {cpuCoreHour: 0.05, memoryGiBHour: 0.01}
---
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: finance}
spec:
  securityClearance: 2
  quota: {cpu: '8', memory: 32Gi, services: 5}
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: payroll, namespace: dept-finance}
spec:
  securityLevel: 2
  workload:
    image: registry.gov.example/payroll:1.4
    resources: {cpu: 500m, memory: 1Gi}
    ports: [{name: http, port: 8080}]
";

/// A service above its department's clearance: refused with `ClearanceInsufficient`.
const REFUSED: &str = "\
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: intelligence, namespace: dept-finance}
spec:
  securityLevel: 4
  workload:
    image: registry.gov.example/intel:2.0
    resources: {cpu: 500m, memory: 1Gi}
";

fn govcloud(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .args(args)
        .output()
        .expect("running govcloud")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

fn estate(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, text) in files {
        fs::write(dir.path().join(name), text).expect("writing a fixture");
    }
    dir
}

fn path(dir: &TempDir) -> &str {
    dir.path().to_str().expect("UTF-8 temporary path")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is in the workspace")
        .to_path_buf()
}

#[test]
fn help_describes_every_flag_with_an_example() {
    let top = govcloud(&["--help"]);
    assert_eq!(top.status.code(), Some(0));
    for word in ["plan", "crds", "Exit codes"] {
        assert!(
            stdout(&top).contains(word),
            "`govcloud --help` lacks {word}:\n{}",
            stdout(&top)
        );
    }
    let plan = govcloud(&["plan", "--help"]);
    assert_eq!(plan.status.code(), Some(0));
    let help = stdout(&plan);
    assert!(!help.contains('\x1b'), "no colour codes into a pipe:\n{help}");
    for word in [
        "DIR|FILE",
        "--output",
        "table",
        "json",
        "yaml",
        "--emit-manifests",
        "--fail-on-refusal",
        "--namespace-prefix",
        "[default: dept-]",
        "--shared-namespace",
        "[default: govcloud-shared]",
        "Examples:",
        "govcloud plan config/samples/",
        "Exit codes",
    ] {
        assert!(
            help.contains(word),
            "`govcloud plan --help` lacks {word}:\n{help}"
        );
    }
}

#[test]
fn bad_flags_exit_2_with_a_message() {
    let dir = estate(&[("estate.yaml", ESTATE)]);
    for args in [
        vec!["plan", path(&dir), "--output", "xml"],
        vec!["plan"],
        vec!["plan", path(&dir), "--emit-manifests", "--output", "json"],
        vec!["frobnicate"],
        vec![],
    ] {
        let out = govcloud(&args);
        assert_eq!(out.status.code(), Some(2), "govcloud {args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "govcloud {args:?} says nothing");
        assert!(
            stdout(&out).is_empty(),
            "govcloud {args:?} printed {}",
            stdout(&out)
        );
    }
}

#[test]
fn malformed_input_exits_2_listing_every_problem() {
    let dir = estate(&[
        ("a-syntax.yaml", "apiVersion: v1\nkind: [Node\n"),
        (
            "b-types.yaml",
            &ESTATE.replace("securityClearance: 2", "securityClearance: two"),
        ),
        (
            "c-unknown.yaml",
            &REFUSED.replace(
                "  securityLevel: 4\n",
                "  securityLevel: 4\n  exposure: Public\n  expose: Public\n",
            ),
        ),
    ]);
    let out = govcloud(&["plan", path(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "nothing is planned: {}", stdout(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(
        lines[0].contains("a-syntax.yaml:2:") && lines[0].contains("document 1: malformed YAML"),
        "{err}"
    );
    assert!(
        lines[1].contains(
            "b-types.yaml:14:22: document 2: Department finance: spec.securityClearance: invalid type"
        ),
        "{err}"
    );
    assert!(
        lines[2].contains("c-unknown.yaml:7:11: document 1: DepartmentService dept-finance/intelligence: spec.expose: unknown field"),
        "{err}"
    );
    assert_eq!(lines[3], "govcloud: 3 problems in the input; nothing was planned");
}

#[test]
fn a_missing_path_exits_2() {
    let out = govcloud(&["plan", "/nonexistent/estate.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/estate.yaml: cannot read:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn crds_prints_the_committed_crd_files() {
    let out = govcloud(&["crds"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), govcloud::crds::all_yaml());
    let committed: String = govcloud::crds::all()
        .iter()
        .map(|(file, _)| fs::read_to_string(repo_root().join("crds").join(file)).expect("reading crds/"))
        .collect();
    assert_eq!(
        stdout(&out),
        committed,
        "crds/ is out of date with `govcloud crds`"
    );
}

#[test]
fn json_output_is_the_plan_schema() {
    let dir = estate(&[("estate.yaml", ESTATE), ("refused.yaml", REFUSED)]);
    let out = govcloud(&["plan", path(&dir), "--output", "json"]);
    // Refusals alone do not fail the command without --fail-on-refusal.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.ends_with("}\n"));
    let plan: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    for key in ["services", "pools", "departments", "offerings", "savings"] {
        assert!(plan.get(key).is_some(), "no {key} in {plan}");
    }
    let services = plan["services"].as_array().expect("services[]");
    assert_eq!(services.len(), 2);
    assert_eq!(services[1]["name"], "payroll");
    assert_eq!(services[1]["pool"], "general");
    assert_eq!(services[0]["reasons"][0]["code"], "ClearanceInsufficient");
    for key in [
        "instancesSaved",
        "nodesSaved",
        "monthlyCostConsolidated",
        "monthlyCostSiloed",
        "monthlyCostSaved",
    ] {
        assert!(plan["savings"].get(key).is_some(), "no savings.{key}");
    }
}

#[test]
fn yaml_output_says_what_json_output_says() {
    let dir = estate(&[("estate.yaml", ESTATE), ("refused.yaml", REFUSED)]);
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&govcloud(&["plan", path(&dir), "-o", "json"]))).expect("valid JSON");
    let yaml: serde_json::Value =
        serde_saphyr::from_str(&stdout(&govcloud(&["plan", path(&dir), "-o", "yaml"]))).expect("valid YAML");
    assert_eq!(yaml, json);
}

#[test]
fn the_table_is_the_default_and_deterministic() {
    let dir = estate(&[("estate.yaml", ESTATE), ("refused.yaml", REFUSED)]);
    let first = govcloud(&["plan", path(&dir)]);
    assert_eq!(first.status.code(), Some(0));
    let text = stdout(&first);
    for section in [
        "SERVICES (2)",
        "POOLS (1)",
        "DEPARTMENTS (1)",
        "SHARED INSTANCES (0)",
        "REFUSALS (1)",
        "SAVINGS",
    ] {
        assert!(text.contains(section), "no {section} in\n{text}");
    }
    assert!(text.contains("dept-finance   intelligence"), "{text}");
    assert_eq!(stdout(&govcloud(&["plan", path(&dir)])), text);
}

#[test]
fn fail_on_refusal_exits_1_only_when_something_is_refused() {
    let clean = estate(&[("estate.yaml", ESTATE)]);
    let out = govcloud(&["plan", path(&clean), "--fail-on-refusal"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let refused = estate(&[("estate.yaml", ESTATE), ("refused.yaml", REFUSED)]);
    let out = govcloud(&["plan", path(&refused), "--fail-on-refusal", "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).is_ok(),
        "the plan is still printed"
    );
    assert!(
        stderr(&out).contains("1 refusal (--fail-on-refusal)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn emit_manifests_prints_yaml_documents_in_the_chosen_namespaces() {
    // Services live in their department's namespace, which the prefix names.
    let dir = estate(&[("estate.yaml", &ESTATE.replace("dept-finance", "agency-finance"))]);
    let out = govcloud(&[
        "plan",
        path(&dir),
        "--emit-manifests",
        "--namespace-prefix",
        "agency-",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&stdout(&out)).expect("YAML documents");
    assert!(docs.len() > 3, "{docs:?}");
    assert!(
        docs.iter()
            .all(|d| d["apiVersion"].is_string() && d["kind"].is_string())
    );
    let find = |kind: &str| {
        docs.iter()
            .find(|d| d["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    assert_eq!(find("Namespace")["metadata"]["name"], "agency-finance");
    assert_eq!(find("Deployment")["metadata"]["namespace"], "agency-finance");
}

#[test]
fn other_kinds_are_skipped_with_a_warning() {
    let configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n";
    let dir = estate(&[("estate.yaml", ESTATE), ("extra.yaml", configmap)]);
    let out = govcloud(&["plan", path(&dir), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("extra.yaml: document 1: skipped v1 ConfigMap settings"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn kubectl_list_output_with_status_replans_to_the_same_placement() {
    // What `kubectl get … -o yaml` prints once the operator has placed the service.
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}",
        ESTATE
            .split("---\n")
            .map(|doc| {
                let mut item = doc.replace('\n', "\n  ");
                item.truncate(item.trim_end().len());
                format!("- {item}\n")
            })
            .collect::<String>()
            + "  status: {phase: Placed, pool: general}\n"
    );
    let dir = estate(&[("list.yaml", &list)]);
    let out = govcloud(&["plan", path(&dir), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}\n{list}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("valid JSON");
    assert_eq!(plan["services"][0]["pool"], "general");
    assert_eq!(plan["services"][0]["movedFrom"], serde_json::Value::Null);
}

/// `govcloud ARGS` through the entry point `main` calls, in this process: exit code,
/// stdout, stderr.
fn run_in_process(args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = govcloud::cli::run_with(
        std::iter::once("govcloud").chain(args.iter().copied()),
        &mut out,
        &mut err,
    );
    let text = |b: Vec<u8>| String::from_utf8(b).expect("UTF-8 output");
    (code, text(out), text(err))
}

#[test]
fn namespace_and_currency_flags_follow_the_operator_config_rules() {
    let dir = estate(&[("estate.yaml", ESTATE)]);
    for (args, message) in [
        (
            vec!["plan", path(&dir), "--namespace-prefix", "Dept_"],
            r#"invalid value 'Dept_' for '--namespace-prefix <PREFIX>': "Dept_" is not a DNS label prefix"#,
        ),
        (
            vec!["plan", path(&dir), "--shared-namespace", "shared.ns"],
            r#"invalid value 'shared.ns' for '--shared-namespace <NAMESPACE>': "shared.ns" is not a DNS-1123 label"#,
        ),
        (
            vec!["report", path(&dir), "--namespace-prefix=-x"],
            r#"invalid value '-x' for '--namespace-prefix <PREFIX>'"#,
        ),
        (
            vec!["report", path(&dir), "--currency", "yuan"],
            r#"invalid value 'yuan' for '--currency <CODE>': "yuan" is not an ISO 4217 code"#,
        ),
    ] {
        let (code, out, err) = run_in_process(&args);
        assert_eq!(code, 2, "govcloud {args:?}: {err}");
        assert!(err.contains(message), "govcloud {args:?}: {err}");
        assert!(out.is_empty(), "govcloud {args:?} printed {out}");
    }
}

#[test]
fn with_an_empty_prefix_a_department_cannot_take_a_system_or_the_shared_namespace() {
    let reserved = "\
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: kube-system}
spec:
  securityClearance: 2
  quota: {cpu: '1', memory: 1Gi, services: 1}
---
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: govcloud-shared}
spec:
  securityClearance: 2
  quota: {cpu: '1', memory: 1Gi, services: 1}
";
    let dir = estate(&[
        ("estate.yaml", &ESTATE.replace("dept-finance", "finance")),
        ("reserved.yaml", reserved),
    ]);
    let (code, out, err) =
        run_in_process(&["plan", path(&dir), "--namespace-prefix", "", "--emit-manifests"]);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&out).expect("YAML documents");
    let in_namespace = |ns: &str| {
        docs.iter()
            .filter(|d| {
                d["metadata"]["namespace"] == ns || (d["kind"] == "Namespace" && d["metadata"]["name"] == ns)
            })
            .count()
    };
    assert_eq!(
        in_namespace("kube-system"),
        0,
        "nothing is rendered into kube-system: {out}"
    );
    assert_eq!(
        in_namespace("govcloud-shared"),
        1,
        "the shared namespace once, empty"
    );
    assert!(in_namespace("finance") > 1, "the valid department is rendered");

    let (_, out, _) = run_in_process(&["plan", path(&dir), "--namespace-prefix", "", "--output", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&out).expect("JSON plan");
    let reason = |name: &str| {
        plan["departments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .map(|d| d["reasons"][0]["message"].as_str().unwrap_or_default().to_owned())
            .unwrap()
    };
    assert!(
        reason("kube-system").contains("is a Kubernetes system namespace"),
        "{}",
        reason("kube-system")
    );
    assert!(
        reason("govcloud-shared").contains("sharedNamespace"),
        "{}",
        reason("govcloud-shared")
    );
}

// Reading careless and hostile input (issue 14, items 5 and 6): the binary must refuse
// with a message and exit 2, never hang or exhaust memory. Each run is bounded in time and
// address space, so that a regression fails here instead of hanging the test run or
// taking the machine's memory.

/// Runs govcloud under `ulimit -v` (1 GiB) and kills it after 30 s.
fn govcloud_bounded(args: &[&str]) -> Output {
    use std::time::{Duration, Instant};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_govcloud"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running govcloud");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("waiting for govcloud").is_none() {
        if Instant::now() > deadline {
            child.kill().expect("stopping govcloud");
            let out = child.wait_with_output().expect("collecting output");
            panic!("govcloud {args:?} did not finish in 30 s: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("collecting output")
}

#[test]
fn a_device_given_as_input_is_refused_not_read() {
    let out = govcloud_bounded(&["plan", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "/dev/zero: cannot read: a character device, not a regular file (only regular files \
         are read)\ngovcloud: 1 problem in the input; nothing was planned\n"
    );
}

#[test]
fn links_that_loop_and_fifos_in_a_directory_neither_hang_nor_repeat() {
    let dir = estate(&[("estate.yaml", ESTATE)]);
    std::os::unix::fs::symlink(".", dir.path().join("again")).expect("a link");
    std::os::unix::fs::symlink(".", dir.path().join("more")).expect("a link");
    let status = Command::new("mkfifo")
        .arg(dir.path().join("pipe.yaml"))
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let out = govcloud_bounded(&["plan", path(&dir)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 2, "only the FIFO, no duplicates: {err}");
    assert!(
        err.contains("pipe.yaml: cannot read: a FIFO, not a regular file"),
        "{err}"
    );

    fs::remove_file(dir.path().join("pipe.yaml")).expect("removing the FIFO");
    let out = govcloud_bounded(&["plan", path(&dir), "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn max_file_size_refuses_larger_files_and_takes_binary_suffixes() {
    // Over 1 KiB and under 2 KiB.
    let text = format!("{ESTATE}{}", "# padding\n".repeat(100));
    let dir = estate(&[("estate.yaml", &text)]);
    let file = dir.path().join("estate.yaml");
    let file = file.to_str().expect("UTF-8 path");
    let out = govcloud_bounded(&["plan", file, "--max-file-size", "1Ki"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).lines().next(),
        Some(
            format!(
                "{file}: cannot read: {} bytes, more than the limit of 1024 bytes (raise it \
                 with --max-file-size)",
                text.len()
            )
            .as_str()
        )
    );
    for ok in ["2Ki", &text.len().to_string(), "64Mi"] {
        let out = govcloud_bounded(&["plan", file, "--max-file-size", ok]);
        assert_eq!(out.status.code(), Some(0), "{ok}: {}", stderr(&out));
    }
    let out = govcloud_bounded(&["report", file, "--max-file-size", "1Ki"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("more than the limit of 1024 bytes"),
        "{}",
        stderr(&out)
    );
    for bad in ["0", "1Ti", "lots", "-1", "99999999999Gi"] {
        let out = govcloud(&["plan", file, &format!("--max-file-size={bad}")]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            stderr(&out).contains("--max-file-size"),
            "{bad}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn text_that_is_not_utf8_is_located() {
    let dir = estate(&[]);
    let file = dir.path().join("latin1.yaml");
    fs::write(&file, b"apiVersion: v1\nkind: Node\nmetadata: {name: caf\xe9}\n").expect("fixture");
    let out = govcloud_bounded(&["plan", file.to_str().expect("UTF-8 path")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(&format!("{}:3:21: not UTF-8 text: byte 0xe9", file.display())),
        "{}",
        stderr(&out)
    );
}
