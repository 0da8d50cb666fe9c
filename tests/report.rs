//! `govcloud report` as auditors run it: the binary on the sample estate in every format,
//! with a usage file, from a cluster (the HTTP API double), its input errors and exit
//! codes, and the HTML page as a real browser draws it.
//!
//! The browser is Debian's `chromium` (headless, flags from shared/TOOLING.md); when it
//! is missing the test fails with the install command rather than skipping. The cluster
//! test needs the API double's Python packages (tests/kmock/requirements.txt), likewise.
//!
//! `GOVCLOUD_BLESS=1 cargo test --test integration report::` regenerates docs/report.png, the README's
//! screenshot, from the sample estate and docs/sample-usage.csv.

use crate::double;
use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::process::Process;
use support::repo_root;
use support::screenshot::{drawn, pixels};

fn govcloud(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(repo_root())
        .output()
        .expect("running govcloud")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

/// Runs `govcloud report` and insists on exit code 0.
fn report(args: &[&str]) -> String {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    let out = govcloud(&all, &[]);
    assert_eq!(out.status.code(), Some(0), "govcloud {all:?}:\n{}", stderr(&out));
    stdout(&out)
}

const SAMPLES: &str = "config/samples/";
const SAMPLE_USAGE: &str = "docs/sample-usage.csv";

#[test]
fn markdown_is_the_default_and_says_what_auditors_need() {
    let md = report(&[SAMPLES]);
    assert_eq!(md, report(&[SAMPLES, "--output", "markdown"]));
    for needle in [
        "# govcloud estate report",
        "**Security levels:** every placed service runs on a pool of its level or above (37 of 37",
        "## Savings against the siloed baseline",
        "| cost per month (CNY) | 28,686.08 | 54,896.00 | 26,209.92 |",
        "### finance — Provincial Department of Finance",
        "| quota granted | 24 | 96Gi | 12 |",
        "| treasury-payments | 3 | Placed | classified-east | 3 | ok |",
        "| dept-finance/finance-db | shared-postgresql-l3-1 | shared-postgresql | 1/4 | 2,102.40 | 525.60 |",
        "ClearanceInsufficient",
        "QuotaExceeded",
        "PolicyViolation",
        "## Policy violations",
        "| provincial-baseline | 1 | - |",
    ] {
        assert!(md.contains(needle), "the Markdown report lacks {needle:?}:\n{md}");
    }
}

#[test]
fn csv_is_a_row_per_service() {
    let csv = report(&[SAMPLES, "--output", "csv"]);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], govcloud::report::CSV_COLUMNS.join(","));
    assert_eq!(lines.len(), 41, "header and 40 services:\n{csv}");
    assert!(
        csv.contains(
            "finance,Provincial Department of Finance,FIN,CC-1100-FIN,3,24,103079215104,12,14,36507222016,,,3709.86,\
             dept-finance,treasury-payments,3,Placed,classified-east,3,ok,,,,6,12884901888,,,1752.00,,"
        ),
        "{csv}"
    );
    assert!(csv.contains(",video-analytics,2,Rejected,,,notPlaced,"), "{csv}");
}

#[test]
fn json_is_the_report_schema_with_the_plans_savings() {
    let v: Value = serde_json::from_str(&report(&[SAMPLES, "-o", "json"])).expect("JSON");
    assert_eq!(v["schema"], "govcloud.io/report/v1alpha1");
    assert_eq!(v["source"], "manifests");
    assert_eq!(v["currency"], "CNY");
    assert_eq!(v["summary"]["placed"], 37);
    assert_eq!(v["summary"]["levelCheck"]["holds"], true);
    let golden: Value =
        serde_json::from_str(&fs::read_to_string(repo_root().join("tests/golden/sample-plan.json")).unwrap())
            .unwrap();
    assert_eq!(v["savings"], golden["savings"], "the savings are the plan's");
    let codes: Vec<&str> = v["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "PolicyViolation",
            "PolicyViolation",
            "ClearanceInsufficient",
            "QuotaExceeded"
        ]
    );
    let eur = report(&[SAMPLES, "-o", "json", "--currency", "EUR"]);
    assert!(eur.contains("\"currency\": \"EUR\""));
}

#[test]
fn html_is_one_self_contained_page_written_with_out() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    let out = govcloud(
        &["report", SAMPLES, "-o", "html", "--out", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "--out leaves stdout alone");
    let page = fs::read_to_string(&file).unwrap();
    assert_eq!(page, report(&[SAMPLES, "-o", "html"]), "same page either way");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 4);
    assert!(!page.contains("<script") && !page.contains("<link") && !page.contains("src="));
}

#[test]
fn a_usage_file_fills_in_what_was_used() {
    let v: Value = serde_json::from_str(&report(&[SAMPLES, "--usage", SAMPLE_USAGE, "-o", "json"])).unwrap();
    assert_eq!(v["usageAt"], "2025-06-30T10:00:00Z");
    assert_eq!(
        v["summary"]["unattributedPods"], 1,
        "the stray pod in dept-education"
    );
    for d in v["departments"].as_array().unwrap() {
        assert!(
            d["used"]["cpu"].as_f64().unwrap() > 0.0,
            "{}: {}",
            d["name"],
            d["used"]
        );
    }
    let civil = &v["departments"][0];
    assert_eq!(civil["name"], "civil-affairs");
    // disaster-relief's two pods in docs/sample-usage.csv: 113m + 74m, 393Mi + 299Mi.
    let relief = civil["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "disaster-relief")
        .unwrap();
    assert_eq!(relief["used"]["cpu"], 0.187);
    assert_eq!(relief["used"]["memory"], (393 + 299) << 20);

    // The same sample as govcloud's JSON format reads the same.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("usage.json");
    fs::write(
        &json,
        r#"{"at": "2025-06-30T10:00:00Z", "pods": [
            {"namespace": "dept-civil-affairs", "pod": "disaster-relief-677761e9f-5tz2f", "cpu": "113m", "memory": "393Mi"},
            {"namespace": "dept-civil-affairs", "pod": "disaster-relief-677761e9f-br9fc", "cpu": 0.074, "memory": 313524224}
        ]}"#,
    )
    .unwrap();
    let v: Value = serde_json::from_str(&report(&[
        SAMPLES,
        "--usage",
        json.to_str().unwrap(),
        "-o",
        "json",
    ]))
    .unwrap();
    let relief = v["departments"][0]["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "disaster-relief")
        .unwrap();
    assert_eq!(relief["used"]["cpu"], 0.187);
    assert_eq!(relief["used"]["memory"], (393 + 299) << 20);
}

#[test]
fn bad_manifests_exit_2_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("estate.yaml"),
        "apiVersion: govcloud.io/v1alpha1\nkind: Department\nmetadata: {name: finance}\nspec:\n  \
         securityClearance: two\n  quota: {cpu: '8', memory: 32Gi, services: 5}\n",
    )
    .unwrap();
    let out = govcloud(&["report", dir.path().to_str().unwrap(), "-o", "html"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "nothing is reported: {}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "estate.yaml:5:22: document 1: Department finance: spec.securityClearance: invalid type"
        ),
        "{err}"
    );
    assert!(
        err.ends_with("govcloud: 1 problem in the input; nothing was reported\n"),
        "{err}"
    );

    let out = govcloud(&["report", "/nonexistent/estate.yaml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/estate.yaml: cannot read:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_usage_file_exits_2_with_every_problem_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let usage = dir.path().join("usage.csv");
    fs::write(
        &usage,
        "at,namespace,pod,cpu,memory\n2025-06-30T10:00:00Z,dept-a,a-1-2,1,1Gi\n\
         2025-06-30T10:00:00Z,dept-a,a-1-3,lots,1Gi\nnoon,dept-a,a-1-4,1,1Gi\n",
    )
    .unwrap();
    let out = govcloud(&["report", SAMPLES, "--usage", usage.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    let name = usage.display().to_string();
    assert!(lines[0].starts_with(&format!("{name}:3: cpu: \"lots\"")), "{err}");
    assert!(lines[1].starts_with(&format!("{name}:4: at: \"noon\"")), "{err}");
    assert_eq!(
        lines[2],
        "govcloud: 2 problems in the input; nothing was reported"
    );

    // Checked before a cluster is contacted: exit 2, not 3, with no cluster at all.
    let out = govcloud(
        &["report", "--cluster", "--usage", usage.to_str().unwrap()],
        &[("KUBECONFIG", "/nonexistent/kubeconfig")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_usage_file_is_read_with_the_loaders_guards() {
    // A device never ends and a FIFO never answers: both are refused before reading.
    let out = govcloud(&["report", SAMPLES, "--usage", "/dev/zero"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("/dev/zero: cannot read: a character device, not a regular file"),
        "{}",
        stderr(&out)
    );
    // Larger than --max-file-size: refused with the size, as manifests are.
    let dir = tempfile::tempdir().unwrap();
    let usage = dir.path().join("usage.csv");
    let mut text = String::from("at,namespace,pod,cpu,memory\n");
    while text.len() <= 2048 {
        text.push_str("2025-06-30T10:00:00Z,dept-a,a-1-2,1,1Gi\n");
    }
    fs::write(&usage, &text).unwrap();
    let path = usage.to_str().unwrap();
    let out = govcloud(
        &["report", SAMPLES, "--usage", path, "--max-file-size", "2048"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{path}: cannot read: {} bytes, more than the limit of 2048 bytes",
            text.len()
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        vec!["report"],
        vec!["report", SAMPLES, "--cluster"],
        vec!["report", SAMPLES, "--output", "pdf"],
    ] {
        let out = govcloud(&args, &[]);
        assert_eq!(out.status.code(), Some(2), "govcloud {args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).is_empty() && stdout(&out).is_empty(),
            "govcloud {args:?}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let unwritable = dir.path().join("missing-dir/report.md");
    let out = govcloud(&["report", SAMPLES, "--out", unwritable.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("govcloud: writing "), "{}", stderr(&out));

    let help = stdout(&govcloud(&["report", "--help"], &[]));
    for word in [
        "--cluster",
        "--usage",
        "--output",
        "markdown",
        "csv",
        "json",
        "html",
        "--out",
        "Exit codes",
    ] {
        assert!(
            help.contains(word),
            "`govcloud report --help` lacks {word}:\n{help}"
        );
    }
}

#[test]
fn an_unreachable_cluster_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\n\
         contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n",
    )
    .unwrap();
    let out = govcloud(
        &["report", "--cluster"],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("govcloud: cannot reach the Kubernetes API"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

/// The API double, started in `dir` with the sample estate installed (as a platform
/// team leaves it, no status written yet), its client and a kubeconfig for it.
fn sample_cluster(dir: &Path) -> (Process, double::Api, PathBuf) {
    let (double, port) = double::start_double(dir);
    let api = double::Api { port };
    double::install_sample_estate(&api);
    (double, api, double::kubeconfig(dir, port))
}

#[test]
fn the_cluster_source_reports_what_the_manifests_do() {
    let dir = tempfile::tempdir().unwrap();
    let (_double, _, kubeconfig) = sample_cluster(dir.path());

    let out = govcloud(
        &["report", "--cluster", "--usage", SAMPLE_USAGE, "-o", "json"],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut live: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(live["source"], "cluster");
    let mut files: Value =
        serde_json::from_str(&report(&[SAMPLES, "--usage", SAMPLE_USAGE, "-o", "json"])).unwrap();
    live["source"] = Value::Null;
    files["source"] = Value::Null;
    assert!(
        live == files,
        "the same estate, read from the cluster, gives the same report"
    );
}

#[test]
fn the_cluster_reports_the_usage_the_operator_wrote_into_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let (_double, api, kubeconfig) = sample_cluster(dir.path());
    let env = [("KUBECONFIG", kubeconfig.to_str().unwrap())];

    // As the running operator leaves them: some objects measured, each at its own time,
    // rounded; the rest without `used`. One quantity the API server accepts (it matches
    // the CRD's pattern) but that does not fit in bytes.
    const GROUP: &str = "/apis/govcloud.io/v1alpha1";
    for (path, cpu, memory, at) in [
        (
            "namespaces/dept-finance/departmentservices/treasury-payments",
            "1200m",
            "3500Mi",
            "2025-06-30T10:00:00Z",
        ),
        ("departments/finance", "2500m", "6Gi", "2025-06-30T09:30:00Z"),
        ("resourcepools/general-east", "2", "8Gi", "2025-06-30T10:15:00Z"),
        (
            "namespaces/dept-health/departmentservices/health-db",
            "300m",
            "9Ei",
            "2025-06-30T08:00:00Z",
        ),
    ] {
        api.merge_patch(
            &format!("{GROUP}/{path}/status"),
            &serde_json::json!({"status": {"used": {"cpu": cpu, "memory": memory}, "usedAt": at}}),
        );
    }

    let out = govcloud(&["report", "--cluster", "-o", "json"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "warning: DepartmentService dept-health/health-db: status.used.memory: \"9Ei\" is too \
         large; its usage is left out of the report\n"
    );
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["usageOrigin"], "statuses");
    assert_eq!(v["usageAt"], "2025-06-30T09:30:00Z", "the oldest usedAt taken");
    assert_eq!(v["usageUntil"], "2025-06-30T10:15:00Z", "the newest");
    assert_eq!(
        v["summary"]["unattributedPods"],
        Value::Null,
        "statuses cannot know them: null, not 0"
    );
    // Every object's `used`: the status's for the one measured, null for the others.
    let name = |o: &Value| o["name"].as_str().unwrap().to_owned();
    let services: Vec<(String, Value)> = v["departments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["services"].as_array().unwrap())
        .map(|s| {
            (
                format!("{}/{}", s["namespace"].as_str().unwrap(), name(s)),
                s.clone(),
            )
        })
        .collect();
    assert_eq!(services.len(), 40);
    let named = |list: &Value| -> Vec<(String, Value)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|o| (name(o), o.clone()))
            .collect()
    };
    for (objects, measured, (cpu, memory)) in [
        (services, "dept-finance/treasury-payments", (1.2, 3500_i64 << 20)),
        (named(&v["departments"]), "finance", (2.5, 6 << 30)),
        (named(&v["pools"]), "general-east", (2.0, 8 << 30)),
    ] {
        for (name, o) in objects {
            let want = if name == measured {
                serde_json::json!({"cpu": cpu, "memory": memory})
            } else {
                Value::Null
            };
            assert_eq!(o["used"], want, "{name}");
        }
    }

    let md = stdout(&govcloud(&["report", "--cluster"], &env));
    assert!(
        md.contains(
            "Usage: from the operator's statuses, measured between 2025-06-30T09:30:00Z and \
             2025-06-30T10:15:00Z (rounded to two significant digits, as statuses show it)."
        ),
        "{md}"
    );

    // A usage file wins over the statuses: the report is the one from the file.
    let out = govcloud(
        &["report", "--cluster", "--usage", SAMPLE_USAGE, "-o", "json"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "statuses are not read: {}", stderr(&out));
    let mut live: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(live["usageOrigin"], "file");
    assert_eq!(live["summary"]["unattributedPods"], 1);
    let mut files: Value =
        serde_json::from_str(&report(&[SAMPLES, "--usage", SAMPLE_USAGE, "-o", "json"])).unwrap();
    live["source"] = Value::Null;
    files["source"] = Value::Null;
    assert!(live == files, "the file's usage, not the statuses'");
}

#[test]
fn chromium_draws_the_html_report() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let out = govcloud(
        &[
            "report",
            SAMPLES,
            "--usage",
            SAMPLE_USAGE,
            "-o",
            "html",
            "--out",
            page.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let png = dir.path().join("report.png");
    // The page is not blank: its header, cards, charts and text cover much of it …
    let rgb = drawn(&page, &png, 15);
    let count = |colour: [u8; 3]| rgb.iter().filter(|&&p| p == colour).count();
    // … and the charts were drawn: bars in the exact fills of their series, and the
    // level evidence in its green box.
    let allocated = count([0x25, 0x63, 0xeb]);
    let used = count([0xf5, 0x9e, 0x0b]);
    let evidence = count([0xdc, 0xfc, 0xe7]);
    let header = count([0x1e, 0x3a, 0x8a]);
    assert!(allocated > 5_000, "allocated bars: {allocated} pixels");
    assert!(used > 3_000, "used bars: {used} pixels");
    assert!(evidence > 10_000, "level evidence box: {evidence} pixels");
    assert!(header > 50_000, "header: {header} pixels");

    // The README's screenshot: regenerated on request, and always a small, drawn PNG.
    let committed = repo_root().join("docs/report.png");
    if std::env::var_os("GOVCLOUD_BLESS").is_some() {
        fs::copy(&png, &committed).unwrap();
    }
    let size = fs::metadata(&committed)
        .unwrap_or_else(|e| panic!("{}: {e}; GOVCLOUD_BLESS=1 regenerates it", committed.display()))
        .len();
    assert!(size < 300_000, "docs/report.png is {size} bytes");
    let (_, _, docs) = pixels(&committed);
    assert!(docs.iter().filter(|&&p| p == [0x25, 0x63, 0xeb]).count() > 5_000);
}
