//! `govcloud assess`: read the inventories, the mapping and the platform, assess, write
//! the answer and (with `--emit-manifests`) the proposed estate.

use std::io::{self, Write};
use std::path::Path;

use super::args::{AssessArgs, AssessFormat};
use super::{EXIT_INPUT, limits, write_out};
use crate::assess::{self, Assessment, Mapping, Proposed, output};
use crate::load::{Loaded, load_paths_with};
use crate::plan::{Settings, Snapshot};

pub(super) fn run(args: &AssessArgs, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    // Every problem of the input at once: inventories, mapping and platform together.
    let mut problems: Vec<String> = Vec::new();
    let servers = match assess::inventory::read(&args.paths, args.max_file_size) {
        Ok(servers) => servers,
        Err(errors) => {
            problems.extend(errors.iter().map(ToString::to_string));
            Vec::new()
        }
    };
    let mapping = match &args.mapping {
        Some(path) => read_mapping(path, args.max_file_size, &mut problems),
        None => Mapping::default(),
    };
    let mut platform = Snapshot::default();
    if !args.platform.is_empty() {
        match load_paths_with(&args.platform, &limits(args.max_file_size)) {
            Ok(Loaded { snapshot, skipped }) => {
                for s in &skipped {
                    writeln!(err, "warning: {s}")?;
                }
                platform = snapshot;
            }
            Err(errors) => problems.extend(errors.0.iter().map(ToString::to_string)),
        }
    }
    if !problems.is_empty() {
        return refuse(&problems, err);
    }
    platform.settings = Settings {
        namespace_prefix: args.namespaces.namespace_prefix.clone(),
        shared_namespace: args.namespaces.shared_namespace.clone(),
        ..Settings::default()
    };
    platform.now = args.at.unwrap_or_else(jiff::Timestamp::now);

    let (assessment, proposed) = match assess::assess(&servers, &mapping, &platform, args.headroom) {
        Ok(done) => done,
        Err(errors) => {
            let problems: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return refuse(&problems, err);
        }
    };
    if let Some(dir) = &args.emit_manifests
        && let Err(e) = emit(dir, &proposed)
    {
        writeln!(
            err,
            "govcloud: writing the proposed manifests into {}: {e}",
            dir.display()
        )?;
        return Ok(EXIT_INPUT);
    }
    let text = render(&assessment, args.output, &args.currency);
    write_out(&text, args.out.as_deref(), out, err)
}

fn refuse(problems: &[String], err: &mut dyn Write) -> io::Result<u8> {
    super::refuse(problems, "nothing was assessed", err)
}

fn read_mapping(path: &Path, limit: u64, problems: &mut Vec<String>) -> Mapping {
    let shown = path.display();
    let text = match crate::load::read_text(path, limit) {
        Ok(text) => text,
        Err(e) => {
            problems.push(e.to_string());
            return Mapping::default();
        }
    };
    Mapping::parse(&text).unwrap_or_else(|errors| {
        problems.extend(errors.into_iter().map(|e| format!("{shown}: {e}")));
        Mapping::default()
    })
}

fn render(a: &Assessment, format: AssessFormat, currency: &str) -> String {
    match format {
        AssessFormat::Table => output::table(a, currency),
        AssessFormat::Markdown => output::markdown(a, currency),
        AssessFormat::Html => output::html(a, currency),
        AssessFormat::Json => output::json(a),
        AssessFormat::Yaml => output::yaml(a),
    }
}

/// The proposed objects, a file per kind named as `config/samples/` names them, so that
/// `govcloud plan PLATFORM DIR` reads them in the order a platform team applies them.
fn emit(dir: &Path, p: &Proposed) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let files: [(&str, Vec<serde_json::Value>); 4] = [
        ("10-pools.yaml", values(&p.pools)),
        ("20-offerings.yaml", values(&p.offerings)),
        ("30-departments.yaml", values(&p.departments)),
        ("40-services.yaml", values(&p.services)),
    ];
    for (name, objects) in files {
        let path = dir.join(name);
        if objects.is_empty() {
            // A file left from an earlier run would be planned with this one's.
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => continue,
            }
        }
        let yaml = serde_saphyr::to_string_multiple(&objects).map_err(io::Error::other)?;
        std::fs::write(&path, format!("# Proposed by govcloud assess.\n{yaml}"))?;
    }
    Ok(())
}

fn values<T: serde::Serialize>(objects: &[T]) -> Vec<serde_json::Value> {
    objects
        .iter()
        .map(|o| serde_json::to_value(o).expect("API objects serialise to JSON"))
        .collect()
}
