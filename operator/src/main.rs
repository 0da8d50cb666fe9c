//! The `govcloud` binary: everything lives in the library, so that tests drive the same code.

fn main() -> std::process::ExitCode {
    govcloud::cli::run()
}
