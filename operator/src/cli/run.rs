//! `govcloud run`: resolve the config, start logging and the async runtime, run.

use std::io::Write;

use tracing_subscriber::EnvFilter;

use super::{EXIT_INPUT, EXIT_OK, EXIT_RUNTIME, RunArgs};
use crate::config::{ConfigOverrides, OperatorConfig};

pub fn run(args: &RunArgs, err: &mut dyn Write) -> u8 {
    let flags = ConfigOverrides {
        leader_elect: args.leader_elect.then_some(true),
        concurrency: args.concurrency,
        http_address: args.http_address,
        namespace_prefix: args.namespace_prefix.clone(),
    };
    let config = match OperatorConfig::resolve(args.config.as_deref(), &flags) {
        Ok(config) => config,
        Err(errors) => {
            let _ = writeln!(err, "{errors}");
            return EXIT_INPUT;
        }
    };
    // RUST_LOG refines the default, e.g. RUST_LOG=govcloud=debug,kube=info. The Lease
    // library logs every standby round ("held by ...") at info; govcloud logs changes of
    // holder itself.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,kube_leader_election=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if args.log_json {
        logs.json().try_init()
    } else {
        logs.try_init()
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "govcloud: starting the async runtime: {e}");
            return EXIT_RUNTIME;
        }
    };
    match runtime.block_on(crate::runtime::run(config)) {
        Ok(()) => EXIT_OK,
        Err(e @ crate::runtime::RunError::Usage(_)) => {
            let _ = writeln!(err, "govcloud: {e}");
            EXIT_INPUT
        }
        Err(e) => {
            let _ = writeln!(err, "govcloud: {e}");
            EXIT_RUNTIME
        }
    }
}
