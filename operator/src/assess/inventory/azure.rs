//! The Azure Migrate CSV import template: one row per server, with its size and, where
//! known, its average utilisation. Columns marked `*` are the template's required ones.
//! Addresses, disks and network columns are not read.

use super::cells;
use super::header::{Row, Spec, server};
use super::{Format, Measured, Server, Statistic};

pub(super) const SPEC: Spec = Spec {
    format: Format::AzureMigrate,
    required: &["*Server name", "*Cores", "*Memory (In MB)"],
    optional: &[
        "*OS name",
        "OS version",
        "CPU utilization percentage",
        "Memory utilization percentage",
    ],
    pairs: &[],
    row,
};

const CORES: &str = "a whole number of cores > 0";
const MEMORY: &str = "memory in MB > 0";

/// The template's "MB" read as Azure Migrate reads them, binary (1 MB = 1,048,576
/// bytes), so that a server is as large here as in Azure Migrate's assessment of the
/// same file; decimal MB would make every server 4.6% smaller.
const MB: i64 = 1 << 20;

fn row(row: &mut Row<'_>, name: String) -> Option<Server> {
    let d = row.decimals;
    let cpu = row.required("*Cores", CORES, |c| cells::amount(c, d, true, 1000, CORES));
    let memory = row.required("*Memory (In MB)", MEMORY, |c| {
        cells::amount(c, d, false, MB, MEMORY)
    });
    // The import takes one figure per resource, an average over the period measured.
    let average = |ratio| Measured {
        ratio,
        statistic: Statistic::Average,
    };
    let cpu_utilisation = row.optional("CPU utilization percentage", |c| cells::percentage(c, d));
    let memory_utilisation = row.optional("Memory utilization percentage", |c| cells::percentage(c, d));
    let (Some(cpu), Some(memory)) = (cpu, memory) else {
        return None;
    };
    if row.failed() {
        return None;
    }
    let os: Vec<String> = [row.text("*OS name"), row.text("OS version")]
        .into_iter()
        .flatten()
        .collect();
    Some(Server {
        cpu_utilisation: cpu_utilisation.map(average),
        memory_utilisation: memory_utilisation.map(average),
        os: (!os.is_empty()).then(|| os.join(" ")),
        ..server(row, Format::AzureMigrate, name, cpu, memory)
    })
}
