//! `promtool`, Prometheus' own checker, run on what govcloud exports and ships: the
//! exposition (`check metrics`), the OpenMetrics grammar (by importing it with
//! `tsdb create-blocks-from openmetrics`), rule files and their unit tests.
//!
//! A missing promtool fails the test with the install command; a skipped check would
//! check nothing.

use std::io::{ErrorKind, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

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

/// Runs promtool and fails the test, showing what it printed, unless it exits 0.
#[track_caller]
pub fn run_ok(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let output = run(dir, args, stdin);
    assert!(
        output.status.success(),
        "`promtool {}` failed ({}):\n{}",
        args.join(" "),
        output.status,
        super::printed(&output)
    );
    output
}

/// One block import at a time in a test binary: promtool preallocates a whole chunk
/// segment (512 MiB) for each block it writes, so a test binary never needs more than
/// that at once. (A CI disk once ran out under it, with the build's files taking 11 GB.)
static BLOCK_IMPORT: Mutex<()> = Mutex::new(());

/// `promtool tsdb create-blocks-from openmetrics <input> <output>`, run from `dir`.
/// Fails the test with what promtool printed, and with the free space where it wrote
/// when that ran out.
#[track_caller]
pub fn create_blocks(dir: &Path, input: &Path, output: &Path) -> Output {
    let _one_at_a_time = BLOCK_IMPORT.lock().unwrap_or_else(|e| e.into_inner());
    let args = [
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        input.to_str().expect("a UTF-8 path"),
        output.to_str().expect("a UTF-8 path"),
    ];
    let result = run(dir, &args, "");
    if !result.status.success() {
        let said = super::printed(&result);
        let space = if said.contains("no space left on device") {
            format!(
                "\npromtool preallocates 512 MiB per block; free space where it wrote:\n{}",
                free_space(dir)
            )
        } else {
            String::new()
        };
        panic!(
            "`promtool {}` failed ({}):\n{said}{space}",
            args.join(" "),
            result.status
        );
    }
    result
}

/// What `df` says about the filesystem holding `dir`.
fn free_space(dir: &Path) -> String {
    match Command::new("df").arg("-h").arg(dir).output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
        Err(e) => format!("(df did not run: {e})"),
    }
}

/// `promtool check metrics`: the text exposition parses and passes Prometheus' lint
/// (HELP on every family, `_total` counters, base units, snake_case). Exit 0 only.
pub fn check_metrics(exposition: &str) {
    let output = run_ok(Path::new("."), &["check", "metrics"], exposition);
    let said = super::printed(&output);
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
    let output = create_blocks(dir.path(), Path::new("in.om"), Path::new("blocks"));
    // The table's last line is the block: ULID, min, max, duration, samples, chunks, series, size.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let block = stdout.lines().last().unwrap_or_default();
    let columns: Vec<&str> = block.split_whitespace().collect();
    columns.get(6).and_then(|n| n.parse().ok()).unwrap_or_else(|| {
        panic!(
            "no block table in promtool's output:\n{}",
            super::printed(&output)
        )
    })
}
