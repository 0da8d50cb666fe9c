//! `govcloud plan`: load, decide, print.

use std::io::{self, Write};

use super::args::{OutputFormat, PlanArgs};
use super::{EXIT_INPUT, EXIT_OK, EXIT_REFUSED, limits, table};
use crate::load::{Loaded, load_paths_with};
use crate::plan::{Assignments, Plan, plan};
use crate::render;

pub(super) fn run(args: &PlanArgs, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    let Loaded {
        mut snapshot,
        skipped,
    } = match load_paths_with(&args.paths, &limits(args.max_file_size)) {
        Ok(loaded) => loaded,
        Err(errors) => {
            writeln!(err, "{errors}")?;
            let n = errors.0.len();
            writeln!(
                err,
                "govcloud: {n} problem{} in the input; nothing was planned",
                plural(n)
            )?;
            return Ok(EXIT_INPUT);
        }
    };
    for s in &skipped {
        writeln!(err, "warning: {s}")?;
    }
    snapshot
        .settings
        .namespace_prefix
        .clone_from(&args.namespaces.namespace_prefix);
    snapshot
        .settings
        .shared_namespace
        .clone_from(&args.namespaces.shared_namespace);

    snapshot.now = args.at.unwrap_or_else(jiff::Timestamp::now);
    let plan = plan(&snapshot, &Assignments::from_status(&snapshot));

    if args.emit_manifests {
        match render::render(&snapshot, &plan) {
            Ok(manifests) => out.write_all(render::to_yaml(&manifests).as_bytes())?,
            Err(e) => {
                writeln!(err, "govcloud: cannot render the plan: {e}")?;
                return Ok(EXIT_INPUT);
            }
        }
    } else {
        // The estate is not needed to print its plan; a large one is not kept alongside.
        drop(snapshot);
        write_plan(&plan, args.output, out)?;
    }

    let refusals = plan.refusals().count();
    if args.fail_on_refusal && refusals > 0 {
        writeln!(
            err,
            "govcloud: {refusals} refusal{} (--fail-on-refusal)",
            plural(refusals)
        )?;
        return Ok(EXIT_REFUSED);
    }
    Ok(EXIT_OK)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Writes the plan as `--output` asks for it. JSON and YAML are streamed, so that the
/// plan of a large estate is never held a second time as text.
fn write_plan(plan: &Plan, output: OutputFormat, out: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, out);
    match output {
        OutputFormat::Table => out.write_all(table(plan).as_bytes())?,
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, plan)?;
            out.write_all(b"\n")?;
        }
        OutputFormat::Yaml => serde_saphyr::to_io_writer(&mut out, plan).map_err(|e| match e {
            serde_saphyr::ser::Error::IO { error } => error,
            other => io::Error::other(other),
        })?,
    }
    out.flush()
}
