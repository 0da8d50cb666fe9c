//! Helpers shared by the integration tests that run real upstream tools.
//!
//! The tools (`kubernetes-validate`, `check-jsonschema`) are what a platform team's own
//! CI would run against our files, so the tests call them rather than imitate them.
//! A missing tool fails the test with the install command: a skipped check would let
//! `cargo test` pass on a machine that checked nothing.

// Each test crate includes this module and uses a different subset of it.
#![allow(dead_code)]

pub mod chart;
pub mod control_plane;
pub mod docker;
pub mod estate;
pub mod fake_cluster;
pub mod process;
pub mod prometheus;
pub mod promtool;
pub mod refusing;
pub mod screenshot;
pub mod waiting;
pub mod windows;

use std::ffi::OsStr;
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// An external command-line tool and how to install it.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    pub program: &'static str,
    pub install: &'static str,
}

pub const KUBERNETES_VALIDATE: Tool = Tool {
    program: "kubernetes-validate",
    install: "pip install kubernetes-validate",
};

pub const CHECK_JSONSCHEMA: Tool = Tool {
    program: "check-jsonschema",
    install: "pip install check-jsonschema",
};

impl Tool {
    /// Runs the tool from the repository root and returns its output, whatever its exit code.
    /// Panics with the install command when the tool is not on PATH.
    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        match Command::new(self.program)
            .args(args)
            .current_dir(repo_root())
            .output()
        {
            Ok(output) => output,
            Err(e) if e.kind() == ErrorKind::NotFound => panic!(
                "`{}` is not on PATH; install it with `{}` (or run `.ci/run`, which installs \
                 every tool the tests need)",
                self.program, self.install
            ),
            Err(e) => panic!("could not run `{}`: {e}", self.program),
        }
    }

    /// Runs the tool and fails the test, showing everything it printed, unless it exits 0.
    pub fn run_ok<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "`{}` failed ({}):\n{}",
            self.program,
            output.status,
            printed(&output)
        );
        output
    }
}

/// Everything a tool printed, stdout then stderr, for assertion messages.
pub fn printed(output: &Output) -> String {
    format!(
        "--- stdout ---\n{}--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `python3 SCRIPT ARGS...` (a script under `tests/`) from the repository root and
/// returns its output, whatever its exit code. A missing python3, or a script that cannot
/// import its package (it exits saying `NAME needs ...`) or crashes, fails the test with
/// `install`: such a failure must never pass for a refusal a test expects.
pub fn run_python<S: AsRef<OsStr>>(script: &str, args: &[S], install: &str) -> Output {
    let output = match Command::new("python3")
        .arg(script)
        .args(args)
        .current_dir(repo_root())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("python3 is not on PATH: it runs {script}; {install}")
        }
        Err(e) => panic!("could not run {script}: {e}"),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let name = Path::new(script)
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    assert!(
        !stderr.contains(&format!("{name} needs")) && !stderr.contains("Traceback"),
        "{script} could not run; {install}\n{}",
        printed(&output)
    );
    output
}

/// The workspace root: tests live in `<root>/tests`, the crate in `<root>/operator`.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits inside the workspace")
        .to_path_buf()
}

/// The files in `dir` whose names end in `.yaml`, sorted by name.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

/// One GET over HTTP/1.1; returns the status line's code, the content type and the body.
pub fn http_get(port: u16, path: &str, accept: &str) -> Option<(u16, String, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let code = head.split(' ').nth(1)?.parse().ok()?;
    let content_type = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-type")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_default();
    Some((code, content_type, body.to_string()))
}

/// A free loopback port, for a server a test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding a loopback port")
        .port()
}
