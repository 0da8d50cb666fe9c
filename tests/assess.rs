//! `govcloud assess` as a platform team runs it: on the sample inventories (three
//! formats and a mapping), with and without the platform's pools; the proposed estate
//! it writes is valid against the CRDs and plans, with `govcloud plan`, to the
//! assessment's own plan; bad input is refused whole with its place.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support;

use crate::samples::{documents, schema};

const AT: &str = "2027-03-06T02:30:00Z";

fn run(args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = govcloud::cli::run_with(
        std::iter::once("govcloud").chain(args.iter().copied()),
        &mut out,
        &mut err,
    );
    (
        code,
        String::from_utf8(out).expect("UTF-8 output"),
        String::from_utf8(err).expect("UTF-8 errors"),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn inventory() -> PathBuf {
    support::repo_root().join("config/samples/inventory")
}

fn platform_args() -> Vec<String> {
    ["00-policies.yaml", "10-pools.yaml", "20-offerings.yaml"]
        .iter()
        .flat_map(|f| {
            [
                "--platform".to_owned(),
                support::repo_root()
                    .join("config/samples")
                    .join(f)
                    .display()
                    .to_string(),
            ]
        })
        .collect()
}

fn assess_json(extra: &[&str]) -> Value {
    let inv = inventory();
    let mapping = inv.join("mapping.yaml");
    let mut args = vec![
        "assess",
        path(&inv),
        "--mapping",
        path(&mapping),
        "--at",
        AT,
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("the assessment is JSON")
}

#[test]
fn the_sample_inventories_are_assessed_whole() {
    let a = assess_json(&[]);
    let servers = a["servers"].as_array().unwrap();
    let formats: std::collections::BTreeSet<&str> =
        servers.iter().map(|s| s["format"].as_str().unwrap()).collect();
    assert_eq!(formats.len(), 3, "all three formats are read: {formats:?}");
    assert!(servers.len() >= 300, "a few hundred machines: {}", servers.len());
    let outcome = |o: &str| servers.iter().filter(|s| s["outcome"] == o).count();
    assert!(
        outcome("leftOut") > 0,
        "powered-off machines and templates are listed"
    );
    assert!(outcome("tenant") > 0 && outcome("workload") > 0);
    // Every RVTools and Azure Migrate machine got its department from the mapping.
    for s in servers
        .iter()
        .filter(|s| s["format"] != "Govcloud" && s["outcome"] != "leftOut")
    {
        assert!(s["department"].is_string(), "unmapped: {s}");
    }
    let saved: i64 = a["systems"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["levels"].as_array().unwrap())
        .map(|l| l["saved"].as_i64().unwrap())
        .sum();
    assert!(saved > 0, "shared systems save instances");
    assert_eq!(a["poolsFrom"], "sized");
    let (before, after) = (&a["before"], &a["after"]);
    assert!(after["nodes"].as_i64().unwrap() < before["servers"].as_i64().unwrap());
    assert!(after["utilisation"]["cpu"].as_f64().unwrap() > before["utilisation"]["cpu"].as_f64().unwrap());
}

/// The emitted estate, planned by `govcloud plan` with the same platform, is the
/// assessment's plan; and every object is valid against its CRD, strictly.
fn round_trip(platform: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let platform: Vec<&str> = platform.iter().map(String::as_str).collect();
    let mut extra = vec!["--emit-manifests", path(dir.path())];
    extra.extend_from_slice(&platform);
    let assessed = assess_json(&extra);

    let mut args = vec!["plan", "--at", AT, "-o", "json"];
    args.extend(platform.iter().filter(|a| **a != "--platform"));
    args.push(path(dir.path()));
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let planned: Value = serde_json::from_str(&out).unwrap();
    assert!(err.is_empty(), "no warning on the emitted estate: {err}");
    assert_eq!(
        planned, assessed["plan"],
        "govcloud plan plans the emitted estate as assessed"
    );

    let mut docs = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let file = entry.unwrap().path();
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, doc) in text.split("\n---\n").enumerate() {
            let body: String = doc
                .lines()
                .filter(|l| !l.starts_with('#') && *l != "---")
                .collect::<Vec<_>>()
                .join("\n");
            let value: Value = serde_saphyr::from_str(&body).unwrap();
            docs.push(documents::Doc {
                origin: format!("{}#{}", file.file_name().unwrap().to_string_lossy(), i + 1),
                text: body + "\n",
                value,
            });
        }
    }
    assert!(docs.len() > 50, "{} documents", docs.len());
    for output in schema::check_against_schemas(&docs.iter().collect::<Vec<_>>()) {
        let printed = support::printed(&output);
        assert!(
            output.status.success(),
            "an emitted object violates its CRD:\n{printed}"
        );
    }
}

#[test]
fn the_proposed_estate_on_sized_pools_plans_to_the_assessment() {
    round_trip(&[]);
}

#[test]
fn the_proposed_estate_on_the_platforms_pools_plans_to_the_assessment() {
    round_trip(&platform_args());
}

#[test]
fn the_same_input_gives_the_same_answer_in_every_format() {
    let inv = inventory();
    let mapping = inv.join("mapping.yaml");
    for format in ["json", "yaml", "table", "markdown", "html"] {
        let args = [
            "assess",
            path(&inv),
            "--mapping",
            path(&mapping),
            "--at",
            AT,
            "-o",
            format,
        ];
        let (first, second) = (run(&args), run(&args));
        assert_eq!(first.0, 0, "{}", first.2);
        assert_eq!(first.1, second.1, "{format} differs between runs");
    }
}

#[test]
fn bad_input_is_refused_whole_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("servers.csv");
    std::fs::write(
        &csv,
        "department,server,system,securityLevel,cores,memoryGiB,cpuP95,memoryP95\n\
         finance,fin-1,,2,4,8,10,40\n\
         Finance Dept,fin-2,,2,4,8,10,40\n\
         health,hlt-1,,9,4,8,10,40\n\
         health,hlt-2,,2,four,8,10,40\n",
    )
    .unwrap();
    let mapping = dir.path().join("mapping.yaml");
    std::fs::write(
        &mapping,
        "rules:\n  - match: {name: \"x*\"}\n    securityLevel: 7\n",
    )
    .unwrap();
    let (code, out, err) = run(&["assess", path(&csv), "--mapping", path(&mapping)]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "nothing is assessed: {out}");
    let file = csv.display().to_string();
    for needle in [
        format!("{file}:4: column \"securityLevel\""),
        format!("{file}:5: column \"cores\""),
        format!("{}: rules[0].securityLevel: 7", mapping.display()),
        "nothing was assessed".to_owned(),
    ] {
        assert!(err.contains(&needle), "{needle:?} missing from:\n{err}");
    }

    // Names are checked once the file reads: a department that cannot be a namespace.
    std::fs::write(
        &csv,
        "department,server,securityLevel,cores,memoryGiB\nFinance Dept,fin-2,2,4,8\n",
    )
    .unwrap();
    let (code, _, err) = run(&["assess", path(&csv)]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{file}:2: column \"department\"")), "{err}");

    for headroom in ["--headroom=-1", "--headroom=11", "--headroom=NaN"] {
        let (code, _, err) = run(&["assess", path(&csv), headroom]);
        assert_eq!(code, 2, "{headroom}");
        assert!(err.contains("not a headroom"), "{headroom}: {err}");
    }
}

#[test]
fn govcloud_plan_passes_over_the_mapping_beside_the_sample_manifests() {
    let samples = support::repo_root().join("config/samples");
    let (code, _, err) = run(&["plan", path(&samples), "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.is_empty(),
        "the mapping says what it is, so it is no unknown kind: {err}"
    );
    // A mapping that does not say so is not passed over: it is not a manifest.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mapping.yaml"), "rules: []\n").unwrap();
    let (code, _, err) = run(&["plan", path(dir.path())]);
    assert_eq!(code, 2);
    assert!(err.contains("apiVersion"), "{err}");
}
