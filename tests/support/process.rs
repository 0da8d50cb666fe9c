//! A child process the test owns: killed on every path out of the test (Drop), with
//! its log at hand for failure messages and SIGTERM through kill(1).

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// A child process that is killed (if still running) and reaped when dropped, so that
/// no path out of the test, a panic included, leaves it behind.
#[derive(Debug)]
pub struct Process {
    pub name: &'static str,
    pub child: Child,
    pub log: PathBuf,
}

impl Process {
    /// What the process wrote to its log so far, for failure messages.
    pub fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "--- {} log (last lines of {}) ---\n{}",
            self.name,
            self.log.display(),
            tail.join("\n")
        )
    }

    /// Sends SIGTERM through `kill(1)` (this crate forbids the unsafe code a direct
    /// `kill(2)` would take).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("running kill(1)");
        assert!(
            status.success(),
            "kill -TERM {} failed: {status}",
            self.child.id()
        );
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling the child") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
