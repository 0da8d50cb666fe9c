//! `govcloud report`: read the estate (files or the cluster) and its usage (a file, or
//! the cluster's statuses), plan, and write the auditors' report.

use std::fmt::Debug;
use std::io::{self, Write};
use std::path::Path;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use super::args::{ReportArgs, ReportFormat};
use super::{EXIT_RUNTIME, limits};
use crate::api::{Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};
use crate::load::{Loaded, load_paths_with};
use crate::plan::{Assignments, Settings, Snapshot, plan};
use crate::report::{self, Format, MeasuredUsage, Source};
use crate::usage::{Sample, aggregate};

/// Objects per list request: large estates are read in pages, as kubectl does, rather
/// than in one response the API server has to build in memory.
const PAGE: u32 = 500;

pub(super) fn run(args: &ReportArgs, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<u8> {
    let settings = Settings {
        namespace_prefix: args.namespaces.namespace_prefix.clone(),
        shared_namespace: args.namespaces.shared_namespace.clone(),
        ..Settings::default()
    };

    // Every problem of the input at once: the usage file's and the manifests' together,
    // and the usage file before the cluster is contacted.
    let mut problems: Vec<String> = Vec::new();
    let sample = args
        .usage
        .as_deref()
        .and_then(|path| read_usage(path, args.max_file_size, &mut problems));
    let estate = if args.cluster {
        None
    } else {
        match load_paths_with(&args.paths, &limits(args.max_file_size)) {
            Ok(Loaded { snapshot, skipped }) => {
                for s in &skipped {
                    writeln!(err, "warning: {s}")?;
                }
                Some(snapshot)
            }
            Err(errors) => {
                problems.extend(errors.0.iter().map(ToString::to_string));
                None
            }
        }
    };
    if !problems.is_empty() {
        return super::refuse(&problems, "nothing was reported", err);
    }

    let (mut snapshot, source) = match estate {
        Some(snapshot) => (snapshot, Source::Manifests),
        None => match from_cluster(err) {
            Ok(snapshot) => (snapshot, Source::Cluster),
            Err(message) => {
                writeln!(err, "govcloud: {message}")?;
                return Ok(EXIT_RUNTIME);
            }
        },
    };
    snapshot.settings = settings;
    snapshot.now = args.at.unwrap_or_else(jiff::Timestamp::now);

    // Previous decisions from status, as the operator plans: for the cluster that is
    // where services actually run; files without status plan afresh, like `govcloud plan`.
    let plan = plan(&snapshot, &Assignments::from_status(&snapshot));
    // A file given with --cluster wins: it was asked for, and it is one sample of every
    // pod, exact and with the pods it could not attribute; statuses are what the
    // operator last wrote, rounded, each object measured at its own time.
    let usage = match sample {
        Some(sample) => Some(MeasuredUsage::from_file(aggregate(
            &plan,
            &snapshot.settings,
            &sample,
        ))),
        None if source == Source::Cluster => {
            let (usage, warnings) = report::usage_from_statuses(&snapshot);
            for w in &warnings {
                writeln!(err, "warning: {w}")?;
            }
            usage
        }
        None => None,
    };
    let mut report = report::build(&snapshot, &plan, usage.as_ref());
    report.source = source;
    report.currency.clone_from(&args.currency);
    let text = report::render(&report, format(args.output));

    super::write_out(&text, args.out.as_deref(), out, err)
}

fn format(output: ReportFormat) -> Format {
    match output {
        ReportFormat::Markdown => Format::Markdown,
        ReportFormat::Csv => Format::Csv,
        ReportFormat::Json => Format::Json,
        ReportFormat::Html => Format::Html,
    }
}

/// The usage file as a sample, or its problems (each naming the file) into `problems`.
/// Read as manifests are: a regular file of at most `--max-file-size` bytes.
fn read_usage(path: &Path, limit: u64, problems: &mut Vec<String>) -> Option<Sample> {
    let text = match crate::load::read_text(path, limit) {
        Ok(text) => text,
        Err(e) => {
            problems.push(e.to_string());
            return None;
        }
    };
    match report::parse_usage(&text) {
        Ok(sample) => Some(sample),
        Err(errors) => {
            problems.extend(errors.iter().map(|e| match e.line {
                // `file:line: …` so that editors can jump to it, like the loader's messages.
                Some(_) => format!("{}:{e}", path.display()),
                None => format!("{}: {e}", path.display()),
            }));
            None
        }
    }
}

/// Reads the estate from the cluster, on a runtime of its own (the command is otherwise
/// synchronous).
fn from_cluster(err: &mut dyn Write) -> Result<Snapshot, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the async runtime: {e}"))?;
    let (snapshot, warnings) = runtime.block_on(list_estate())?;
    for w in warnings {
        let _ = writeln!(err, "warning: {w}");
    }
    Ok(snapshot)
}

async fn list_estate() -> Result<(Snapshot, Vec<String>), String> {
    // As `govcloud run` does: one explicit rustls provider (see Cargo.toml); installed
    // already only if something in this process did it first, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = Client::try_default()
        .await
        .map_err(|e| format!("cannot reach the Kubernetes API (kubeconfig or in-cluster config): {e}"))?;
    let (pools, departments, services, offerings, policies, nodes) = tokio::join!(
        list::<ResourcePool>(&client),
        list::<Department>(&client),
        list::<DepartmentService>(&client),
        list::<ServiceOffering>(&client),
        list::<PlatformPolicy>(&client),
        list::<Node>(&client),
    );
    let mut warnings = Vec::new();
    // Nodes only size pools without `spec.capacity`; an auditor's role may not list
    // them, and such pools are then refused in the report (InvalidSpec) rather than the
    // whole report failing.
    let nodes = match nodes {
        Ok(nodes) => nodes,
        Err(kube::Error::Api(status)) if status.code == 403 => {
            warnings.push(format!(
                "cannot list Nodes ({}); pools without spec.capacity cannot be sized",
                status.message
            ));
            Vec::new()
        }
        Err(e) => return Err(cluster_error("Node", e)),
    };
    let snapshot = Snapshot {
        pools: pools.map_err(|e| cluster_error("ResourcePool", e))?,
        departments: departments.map_err(|e| cluster_error("Department", e))?,
        services: services.map_err(|e| cluster_error("DepartmentService", e))?,
        offerings: offerings.map_err(|e| cluster_error("ServiceOffering", e))?,
        policies: policies.map_err(|e| cluster_error("PlatformPolicy", e))?,
        nodes,
        settings: Settings::default(),
        // Set by the caller, with `--at`.
        now: Default::default(),
        rolling: Default::default(),
    };
    Ok((snapshot, warnings))
}

/// Every object of kind `K` in the cluster, page by page.
async fn list<K>(client: &Client) -> Result<Vec<K>, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let api: Api<K> = Api::all(client.clone());
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page = api.list(&params).await?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

fn cluster_error(kind: &str, e: kube::Error) -> String {
    match e {
        kube::Error::Api(status) if status.code == 404 => format!(
            "the govcloud CRDs are not installed (listing {kind}s: {}); install them with \
             `govcloud crds | kubectl apply --server-side -f -`",
            status.message
        ),
        kube::Error::Api(status) if status.code == 401 || status.code == 403 => format!(
            "not allowed to list {kind}s ({}); the report needs list on the five govcloud kinds",
            status.message
        ),
        e => format!("cannot reach the Kubernetes API: listing {kind}s: {e}"),
    }
}
