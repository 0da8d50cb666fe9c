//! The sample estate's JSON plan, through the real binary, against the committed
//! golden file `tests/golden/sample-plan.json`.
//!
//! A deliberate change to the planner or the samples is blessed with
//! `GOVCLOUD_BLESS=1 cargo test --test integration plan_golden::`; review the diff before committing.

use crate::support;

use std::fs;
use std::process::Command;

fn plan_json() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .args([
            "plan",
            "config/samples",
            "--output",
            "json",
            "--at",
            "2027-03-05T19:00:00Z",
        ])
        .current_dir(support::repo_root())
        .output()
        .expect("running govcloud");
    assert!(
        out.status.success(),
        "govcloud plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn sample_plan_matches_the_golden_file() {
    let path = support::repo_root().join("tests/golden/sample-plan.json");
    let got = plan_json();
    if std::env::var_os("GOVCLOUD_BLESS").is_some_and(|v| v == "1") {
        fs::write(&path, &got).expect("writing the golden file");
    }
    let want = fs::read_to_string(&path)
        .expect("tests/golden/sample-plan.json exists; bless it with GOVCLOUD_BLESS=1");
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "the sample plan changed (first difference at line {}):\n  got:  {}\n  want: {}\n\
             If the change is intended, run `GOVCLOUD_BLESS=1 cargo test --test integration plan_golden::` and review the diff.",
            line + 1,
            got.lines().nth(line).unwrap_or(""),
            want.lines().nth(line).unwrap_or("")
        );
    }
}

#[test]
fn the_plan_is_byte_identical_across_runs() {
    assert_eq!(plan_json(), plan_json());
}
