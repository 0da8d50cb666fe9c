//! The command-line interface as clap sees it; the help texts are the user documentation.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{check_currency, check_namespace, check_namespace_prefix};
use crate::plan::Settings;

// The flags that stand for operator config keys are checked by the config's own rules, so
// that `plan` and `report` refuse the settings `govcloud run` would refuse.

fn namespace_prefix(s: &str) -> Result<String, String> {
    check_namespace_prefix(s).map(|()| s.to_owned())
}

fn namespace(s: &str) -> Result<String, String> {
    check_namespace(s).map(|()| s.to_owned())
}

fn currency(s: &str) -> Result<String, String> {
    check_currency(s).map(|()| s.to_owned())
}

#[derive(Debug, Parser)]
#[command(
    name = "govcloud",
    version,
    about = "Consolidates government departments onto shared Kubernetes infrastructure and proves the gain",
    long_about = "Consolidates government departments onto shared Kubernetes infrastructure and \
        proves the gain: which department service runs on which pool, which departments share \
        which instance of a common system, what each department is charged, and what the \
        consolidation saves against every department running its own silo.",
    after_help = "Exit codes: 0 success, 1 refusals with --fail-on-refusal, 2 input errors \
        (unreadable or malformed manifests, bad flags), 3 the cluster could not be used \
        (run, report --cluster)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Plan offline from manifests: placement, refusals with reasons, utilisation, shared
    /// instances and savings.
    #[command(
        long_about = "Plan offline from manifests, with no cluster: loads ResourcePools, \
            Departments, DepartmentServices, ServiceOfferings, PlatformPolicies and Nodes \
            from YAML or JSON files (multi-document, or the `kind: List` that `kubectl get -o \
            yaml` prints), and decides exactly what the operator would: placement, refusals \
            with reasons, pool and department utilisation and cost, shared instances, and the \
            savings against every department running its own silo.\n\n\
            Previous decisions are read from `status.pool` and `status.sharedInstance`, so \
            re-planning `kubectl get` output keeps services where they are.\n\n\
            Other kinds in the input are skipped with a warning on stderr. Malformed YAML, \
            fields of the wrong type and duplicate objects are reported all together, with \
            file, document, object and field, and exit code 2. Objects that are well formed \
            but invalid (a bad quantity, level 9) are refused in the plan as InvalidSpec.",
        after_help = "Examples:\n  \
            govcloud plan config/samples/\n  \
            govcloud plan config/samples/ --output json > plan.json\n  \
            kubectl get govcloud,nodes -A -o yaml > estate.yaml\n  \
            govcloud plan estate.yaml --fail-on-refusal\n  \
            govcloud plan config/samples/ --emit-manifests | kubectl apply --dry-run=server -f -\n\n\
            Exit codes: 0 success, 1 refusals with --fail-on-refusal, 2 input errors."
    )]
    Plan(PlanArgs),
    /// Print the CustomResourceDefinitions as multi-document YAML (the files in `crds/`).
    #[command(after_help = "Example:\n  govcloud crds | kubectl apply --server-side -f -")]
    Crds,
    /// Run the operator against the current kubeconfig or the in-cluster config.
    #[command(
        long_about = "Run the operator: watch the govcloud kinds and Nodes, re-plan the whole \
            estate whenever something changes (debounced) or the resync interval passes, apply \
            the rendered objects with server-side apply under the field manager `govcloud` \
            (reverting manual edits of managed fields), sweep objects no longer rendered, and \
            write statuses and events where they changed. Serves /healthz and /readyz.\n\n\
            Stops on SIGTERM or Ctrl-C. Refuses to start, with the fix in the message, when \
            the CRDs are not installed.",
        after_help = "Examples:\n  \
            govcloud crds | kubectl apply --server-side -f -\n  \
            govcloud run --config config/govcloud.yaml\n\n\
            Exit codes: 0 stopped by a signal, 2 invalid config or flags, 3 the operator could \
            not run (cluster unreachable, CRDs missing)."
    )]
    Run(RunArgs),
    /// The auditors' report: quota, allocation and use per department, security levels,
    /// shared-instance costs, refusals and savings, as Markdown, CSV, JSON or HTML.
    #[command(
        long_about = "The auditors' report of an estate, from manifests (as `govcloud plan` reads \
            them) or from the live cluster (--cluster): per department the quota granted, \
            allocated and used; each service's pool and security level next to the pool's, with \
            the check that no placed service runs below its level; its share of each shared \
            instance and the apportioned cost; refusals with their reason codes and messages; \
            policy violations; and the estate's savings against every department running its own \
            silo.\n\n\
            Use is read from --usage FILE, one sample of per-pod usage: govcloud's JSON \
            ({\"at\": RFC 3339, \"pods\": [{\"namespace\", \"pod\", \"cpu\", \"memory\"}]}), \
            the metrics API's PodMetricsList (`kubectl get --raw \
            /apis/metrics.k8s.io/v1beta1/pods`), or CSV with the columns at, namespace, pod, \
            cpu and memory. With --cluster and no file, use is what the running operator wrote \
            into the statuses (status.used, rounded to two significant digits, each object \
            measured at its own status.usedAt); a file given with --cluster wins. Otherwise use \
            is reported as not measured.\n\n\
            --output csv writes one table, a row per service with its department's figures as \
            columns; the estate-wide parts are in the other formats.",
        after_help = "Examples:\n  \
            govcloud report config/samples/\n  \
            govcloud report config/samples/ --output html --out report.html\n  \
            kubectl get --raw /apis/metrics.k8s.io/v1beta1/pods > usage.json\n  \
            govcloud report --cluster --usage usage.json --output csv --out report.csv\n\n\
            Exit codes: 0 success, 2 input errors (manifests, usage file, flags, --out), 3 the \
            cluster could not be reached or read (--cluster)."
    )]
    Report(ReportArgs),
    /// Before anything moves: departments' servers and VMs → right-sized proposed
    /// services, shared offerings, pools and the savings against today's servers.
    #[command(
        long_about = "Assess departments' server inventories before anything moves: each \
            running server becomes a proposed DepartmentService sized at its measured \
            utilisation × (1 + headroom), rounded up to the platform policy's \
            resourceSteps and within its maxReplicaResources (a server never measured keeps \
            its provisioned size and is flagged); servers running a system that matches a \
            ServiceOffering become its tenants, and a system two or more departments run \
            with no offering becomes a proposed ServiceOffering, sized from its largest copy. \
            The proposed estate is planned by the same planner as `govcloud plan`, on the \
            platform's pools (--platform), or on pools sized per security level in whole \
            nodes (the mapping's nodes.shape, 16 cores and 64 GiB when it has none).\n\n\
            Inventories are told apart by their header: govcloud's CSV (docs/assess.md), \
            the RVTools vInfo CSV export and the Azure Migrate CSV import template. A \
            mapping file assigns departments, security levels and systems by VM folder, \
            annotation or name pattern where an export has none. Powered-off machines, \
            suspended ones and templates are listed and left out. Every problem in the \
            input is reported with file, line and column, and nothing is assessed (exit 2).",
        after_help = "Examples:\n  \
            govcloud assess config/samples/inventory/ --mapping config/samples/inventory/mapping.yaml\n  \
            govcloud assess servers.csv --platform config/samples/ --output html --out assessment.html\n  \
            govcloud assess servers.csv --emit-manifests proposed/ && govcloud plan config/samples/ proposed/\n\n\
            Exit codes: 0 success, 2 input errors (inventory, mapping, platform manifests, flags, --out)."
    )]
    Assess(AssessArgs),
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// Inventory CSV files, or directories searched recursively for *.csv (in path order;
    /// hidden entries are ignored).
    #[arg(value_name = "INVENTORY", required = true)]
    pub paths: Vec<PathBuf>,

    /// The platform's manifests, as `govcloud plan` reads them: its PlatformPolicies
    /// (sizing steps, maxima, registries), ResourcePools, ServiceOfferings and any
    /// Departments and services already on it. Repeatable. Without pools, pools are sized.
    #[arg(long, value_name = "DIR|FILE")]
    pub platform: Vec<PathBuf>,

    /// Mapping file (YAML): rules assigning department, securityLevel, system and
    /// application by VM folder, annotation or name pattern, and the settings of what is
    /// proposed (tenants per instance, node shape, node cost and power, image prefix).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,

    /// Room above measured use a proposed size keeps, as a fraction (0.3 = 30 %), from 0 to 10.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.3, value_parser = parse_headroom)]
    pub headroom: f64,

    /// `table` for a terminal, `markdown` or `html` (with charts) for the budget office,
    /// `json` or `yaml` for tools (docs/assess.md has the schema).
    #[arg(short, long, value_enum, default_value_t = AssessFormat::Table)]
    pub output: AssessFormat,

    /// Write the assessment to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Also write the proposed Departments, DepartmentServices, ServiceOfferings (and sized
    /// ResourcePools) into DIR as YAML, which `govcloud plan` plans, with the platform's
    /// manifests, to the assessment's plan.
    #[arg(long, value_name = "DIR")]
    pub emit_manifests: Option<PathBuf>,

    /// Currency of the yearly costs in the inventory and of the pools' rates.
    #[arg(long, value_name = "CODE", value_parser = currency, default_value = "CNY")]
    pub currency: String,

    /// Largest file read (inventory, mapping, manifests), in bytes or with Ki, Mi or Gi.
    #[arg(long, value_name = "SIZE", default_value = "64Mi", value_parser = parse_size)]
    pub max_file_size: u64,

    /// The moment the platform's maintenance windows are evaluated at, RFC 3339; now when
    /// left out.
    #[arg(long, value_name = "TIME", value_parser = parse_at)]
    pub at: Option<jiff::Timestamp>,

    #[command(flatten)]
    pub namespaces: Namespaces,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AssessFormat {
    /// Aligned sections, like `kubectl get`.
    Table,
    /// A Markdown document.
    Markdown,
    /// A self-contained HTML page with inline SVG charts.
    Html,
    /// The assessment schema, pretty-printed.
    Json,
    /// The assessment schema as YAML.
    Yaml,
}

fn parse_headroom(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(h) if h.is_finite() && (0.0..=crate::assess::size::HEADROOM_MAX).contains(&h) => Ok(h),
        _ => Err(format!(
            "`{text}` is not a headroom: a fraction from 0 to {} (0.3 = 30 %)",
            crate::assess::size::HEADROOM_MAX
        )),
    }
}

/// Flags of `govcloud run`; each wins over the config file.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Operator config file (see config/govcloud.yaml); built-in defaults when absent
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Elect a leader through a coordination.k8s.io Lease (leaderElection.enabled)
    #[arg(long)]
    pub leader_elect: bool,
    /// Maximum concurrent reconciles (controller.concurrency)
    #[arg(long, value_name = "N")]
    pub concurrency: Option<u32>,
    /// Address of /healthz and /readyz (http.address), e.g. 0.0.0.0:8080
    #[arg(long, value_name = "ADDR")]
    pub http_address: Option<std::net::SocketAddr>,
    /// Prefix of department namespaces (namespacePrefix)
    #[arg(long, value_name = "PREFIX")]
    pub namespace_prefix: Option<String>,
    /// Log lines as JSON (for log collectors) instead of text
    #[arg(long)]
    pub log_json: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Manifest files, or directories searched recursively for *.yaml, *.yml and *.json
    /// (in path order; hidden entries are ignored).
    #[arg(value_name = "DIR|FILE", required = true)]
    pub paths: Vec<PathBuf>,

    /// How to print the plan: `table` for people (sections of services, pools,
    /// departments, shared instances, refusals and savings), `json` for the documented plan
    /// schema, `yaml` for the same as YAML.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// Print the Kubernetes objects the operator would apply (Namespaces, quotas, network
    /// policies, Deployments, Services, …) as multi-document YAML, instead of the plan.
    #[arg(long, conflicts_with = "output")]
    pub emit_manifests: bool,

    /// Exit with code 1 when the plan refuses anything: a service not admitted, not
    /// compliant or not placed, or an invalid pool, department, offering or policy (every
    /// row of the REFUSALS section). For CI.
    #[arg(long)]
    pub fail_on_refusal: bool,

    /// Largest manifest file read, in bytes or with a binary suffix (`Ki`, `Mi`, `Gi`); a
    /// larger file is refused, not read. Only regular files are read, each once however
    /// many links lead to it.
    #[arg(long, value_name = "SIZE", default_value = "64Mi", value_parser = parse_size)]
    pub max_file_size: u64,

    /// The moment maintenance windows are evaluated at, RFC 3339 (e.g.
    /// `2027-03-06T02:30:00Z`); now when left out. Decides which platform-driven moves
    /// go ahead and which wait.
    #[arg(long, value_name = "TIME", value_parser = parse_at)]
    pub at: Option<jiff::Timestamp>,

    #[command(flatten)]
    pub namespaces: Namespaces,
}

/// Where the operator's namespaces are, for the commands that plan as it does.
#[derive(Debug, Args)]
pub struct Namespaces {
    /// Prefix of department namespaces: department `finance` owns `<prefix>finance`
    /// (the operator config's `namespacePrefix`).
    #[arg(
        long,
        value_name = "PREFIX",
        value_parser = namespace_prefix,
        default_value_t = Settings::default().namespace_prefix
    )]
    pub namespace_prefix: String,

    /// Namespace of the shared offering instances (the operator config's `sharedNamespace`).
    #[arg(
        long,
        value_name = "NAMESPACE",
        value_parser = namespace,
        default_value_t = Settings::default().shared_namespace
    )]
    pub shared_namespace: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned sections, like `kubectl get`.
    Table,
    /// The plan schema, pretty-printed.
    Json,
    /// The plan schema as YAML.
    Yaml,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Manifest files, or directories searched recursively for *.yaml, *.yml and *.json,
    /// as for `govcloud plan`.
    #[arg(
        value_name = "DIR|FILE",
        required_unless_present = "cluster",
        conflicts_with = "cluster"
    )]
    pub paths: Vec<PathBuf>,

    /// Read the estate from the cluster of the current kubeconfig (or the in-cluster
    /// config) instead of files: the five govcloud kinds and Nodes, previous decisions
    /// from their status, as the operator does, and (without --usage) the usage the
    /// operator wrote into their status.
    #[arg(long)]
    pub cluster: bool,

    /// One sample of per-pod usage (JSON, a metrics API PodMetricsList, or CSV), attributed
    /// to services, departments and pools by the plan. With --cluster it wins over the
    /// usage in the statuses.
    #[arg(long, value_name = "FILE")]
    pub usage: Option<PathBuf>,

    /// `markdown` for reading and filing, `csv` for spreadsheets (a row per service),
    /// `json` for the documented report schema, `html` for a self-contained page with charts.
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub output: ReportFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Largest manifest file read, as for `govcloud plan`.
    #[arg(long, value_name = "SIZE", default_value = "64Mi", value_parser = parse_size)]
    pub max_file_size: u64,

    /// Currency of the pools' rates, printed next to every amount (the operator config's
    /// `currency`).
    #[arg(long, value_name = "CODE", value_parser = currency, default_value = "CNY")]
    pub currency: String,

    /// The moment maintenance windows are evaluated at, RFC 3339 (e.g.
    /// `2027-03-06T02:30:00Z`); now when left out. Decides which platform-driven moves
    /// go ahead and which wait.
    #[arg(long, value_name = "TIME", value_parser = parse_at)]
    pub at: Option<jiff::Timestamp>,

    #[command(flatten)]
    pub namespaces: Namespaces,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A Markdown document.
    Markdown,
    /// One CSV table, a row per DepartmentService.
    Csv,
    /// The report schema, pretty-printed.
    Json,
    /// A self-contained HTML page with inline SVG charts.
    Html,
}

/// `--max-file-size`: bytes, or a whole number of `Ki`, `Mi` or `Gi`.
fn parse_at(text: &str) -> Result<jiff::Timestamp, String> {
    text.parse()
        .map_err(|e| format!("{text:?} is not an RFC 3339 time like 2027-03-06T02:30:00Z ({e})"))
}

fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "Ki" => 10,
        "Mi" => 20,
        "Gi" => 30,
        _ => {
            return Err(format!(
                "`{text}` is not a size: use bytes, or a number with Ki, Mi or Gi"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size: use bytes, or a number with Ki, Mi or Gi"))?;
    n.checked_mul(1 << shift)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| format!("`{text}` is out of range: from 1 byte to 2^64 - 1 bytes"))
}
