//! `promtool`, Prometheus' own checker, run on what govcloud exports and ships: the
//! exposition (`check metrics`), the OpenMetrics grammar (by importing it with
//! `tsdb create-blocks-from openmetrics`), rule files and their unit tests.
//!
//! Included with `#[path = "monitoring/promtool.rs"] mod promtool;`. A missing promtool
//! fails the test with the install command; a skipped check would check nothing.

// Each test crate uses a different subset.
#![allow(dead_code)]

use std::io::{ErrorKind, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const INSTALL: &str = "apt-get install -y --no-install-recommends prometheus \
    (promtool comes with it; .ci/run installs it)";

/// Runs promtool from `dir` with `args`, feeding `stdin`; panics with the install
/// command when it is not on PATH.
pub fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = match Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("`promtool` is not on PATH; install it with `{INSTALL}`")
        }
        Err(e) => panic!("could not run promtool: {e}"),
    };
    let mut input = child.stdin.take().expect("piped stdin");
    let text = stdin.to_string();
    // Written on a thread: a large exposition must not deadlock against full pipes.
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let output = child.wait_with_output().expect("waiting for promtool");
    writer
        .join()
        .expect("stdin writer")
        .expect("writing promtool's stdin");
    output
}

pub fn printed(output: &Output) -> String {
    format!(
        "--- stdout ---\n{}--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs promtool and fails the test, showing what it printed, unless it exits 0.
pub fn run_ok(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let output = run(dir, args, stdin);
    assert!(
        output.status.success(),
        "`promtool {}` failed ({}):\n{}",
        args.join(" "),
        output.status,
        printed(&output)
    );
    output
}

/// `promtool check metrics`: the text exposition parses and passes Prometheus' lint
/// (HELP on every family, `_total` counters, base units, snake_case). Exit 0 only.
pub fn check_metrics(exposition: &str) {
    let output = run_ok(Path::new("."), &["check", "metrics"], exposition);
    let said = printed(&output);
    assert!(
        output.stdout.is_empty() && output.stderr.is_empty(),
        "promtool exited 0 but complained:\n{said}"
    );
}

/// Parses OpenMetrics text with Prometheus' OpenMetrics parser and returns the number
/// of series it read. The parser is reached through `tsdb create-blocks-from
/// openmetrics`, which wants a timestamp on every sample, so one is appended to each.
pub fn parse_openmetrics(exposition: &str) -> usize {
    assert!(
        exposition.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    let dir = tempfile::tempdir().unwrap();
    let stamped: String = exposition
        .lines()
        .map(|l| {
            if l.starts_with('#') {
                format!("{l}\n")
            } else {
                format!("{l} 1800000000\n")
            }
        })
        .collect();
    std::fs::write(dir.path().join("in.om"), stamped).unwrap();
    let output = run_ok(
        dir.path(),
        &["tsdb", "create-blocks-from", "openmetrics", "in.om", "blocks"],
        "",
    );
    // The table's last line is the block: ULID, min, max, duration, samples, chunks, series, size.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let block = stdout.lines().last().unwrap_or_default();
    let columns: Vec<&str> = block.split_whitespace().collect();
    columns
        .get(6)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no block table in promtool's output:\n{}", printed(&output)))
}
