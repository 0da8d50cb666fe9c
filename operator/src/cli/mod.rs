//! The `govcloud` command line: argument parsing, and what each subcommand prints.
//!
//! Exit codes are part of the interface, because platform teams run `govcloud plan` in CI:
//! 0 success, 1 refusals under `--fail-on-refusal`, 2 input errors (unreadable or
//! malformed manifests, bad flags).

mod args;
mod assess;
mod plan;
mod report;
mod run;
pub(crate) mod table;

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

pub use args::{
    AssessArgs, AssessFormat, Cli, Command, OutputFormat, PlanArgs, ReportArgs, ReportFormat, RunArgs,
};
pub use table::table;

/// Everything went as asked.
pub const EXIT_OK: u8 = 0;
/// The plan refuses something and `--fail-on-refusal` was given.
pub const EXIT_REFUSED: u8 = 1;
/// The input could not be used: bad flags, unreadable or malformed manifests or config.
pub const EXIT_INPUT: u8 = 2;
/// `govcloud run` could not run, or `govcloud report --cluster` could not read the
/// cluster: it is unreachable or not prepared.
pub const EXIT_RUNTIME: u8 = 3;

/// The loader's limits with the `--max-file-size` given.
fn limits(max_file_size: u64) -> crate::load::Limits {
    crate::load::Limits {
        max_file_size,
        ..crate::load::Limits::default()
    }
}

/// Writes a command's text to `--out FILE`, or to `out` without one.
fn write_out(
    text: &str,
    path: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<u8> {
    match path {
        None => out.write_all(text.as_bytes())?,
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                writeln!(err, "govcloud: writing {}: {e}", path.display())?;
                return Ok(EXIT_INPUT);
            }
        }
    }
    Ok(EXIT_OK)
}

/// Prints every problem of the input, then what was not done for them.
fn refuse(problems: &[String], not_done: &str, err: &mut dyn Write) -> io::Result<u8> {
    for p in problems {
        writeln!(err, "{p}")?;
    }
    let n = problems.len();
    writeln!(
        err,
        "govcloud: {n} problem{} in the input; {not_done}",
        if n == 1 { "" } else { "s" }
    )?;
    Ok(EXIT_INPUT)
}

/// Runs the command line of this process.
pub fn run() -> ExitCode {
    // Unlocked handles: `govcloud run` logs to stderr from every worker thread, and a
    // lock held here by the main thread for the process's life would block them all
    // (including the SIGTERM handler's "shutting down").
    let code = run_with(std::env::args_os(), &mut io::stdout(), &mut io::stderr());
    ExitCode::from(code)
}

/// Runs a command line with the given output streams; returns the exit code.
pub fn run_with<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` are "errors" that go to stdout with code 0.
            // Plain text: the streams may be pipes or buffers, where colour codes are noise.
            let text = e.render().to_string();
            let stream: &mut dyn Write = if e.use_stderr() { err } else { out };
            let _ = stream.write_all(text.as_bytes());
            return if e.use_stderr() { EXIT_INPUT } else { EXIT_OK };
        }
    };
    let result = match cli.command {
        Command::Plan(args) => plan::run(&args, out, err),
        Command::Crds => out
            .write_all(crate::crds::all_yaml().as_bytes())
            .map(|()| EXIT_OK),
        Command::Run(args) => Ok(run::run(&args, err)),
        Command::Report(args) => report::run(&args, out, err),
        Command::Assess(args) => assess::run(&args, out, err),
    };
    match result {
        Ok(code) => code,
        // A reader that went away (`govcloud plan … | head`) is not a failure of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "govcloud: writing output: {e}");
            EXIT_INPUT
        }
    }
}
