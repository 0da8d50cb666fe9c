//! govcloud's own inventory CSV (`docs/assess.md`): one row per server, with what a
//! department knows of it: its place (department, application, system, security
//! level), its size, its measured use, its cost and power.

use super::cells::{self, Decimals};
use super::header::{Row, Spec, server};
use super::{Format, Measured, Server, State, Statistic};

pub(super) const SPEC: Spec = Spec {
    format: Format::Govcloud,
    required: &["server", "cores", "memoryGiB"],
    optional: &[
        "department",
        "application",
        "system",
        "securityLevel",
        "cpuP95",
        "memoryP95",
        "cpuAverage",
        "memoryAverage",
        "yearlyCost",
        "powerWatts",
        "powerState",
        "folder",
        "annotation",
        "os",
    ],
    pairs: &[("cpuP95", "memoryP95"), ("cpuAverage", "memoryAverage")],
    row,
};

const CORES: &str = "a number of cores > 0, such as 2 or 0.5";
const MEMORY: &str = "memory in GiB > 0, such as 16 or 0.5";
const LEVEL: &str = "a security level: 1, 2, 3 or 4";
const COST: &str = "a yearly cost ≥ 0";
const WATTS: &str = "an average draw in watts ≥ 0";
const POWER: &str = "on, off or suspended (empty is on)";

fn row(row: &mut Row<'_>, name: String) -> Option<Server> {
    let d = row.decimals;
    let cpu = row.required("cores", CORES, |c| cells::amount(c, d, false, 1000, CORES));
    let memory = row.required("memoryGiB", MEMORY, |c| {
        cells::amount(c, d, false, 1 << 30, MEMORY)
    });
    let security_level = row.optional("securityLevel", security_level);
    let cpu_utilisation = utilisation(row, "cpuP95", "cpuAverage");
    let memory_utilisation = utilisation(row, "memoryP95", "memoryAverage");
    let yearly_cost = row.optional("yearlyCost", |c| cells::non_negative(c, d, COST));
    let power_watts = row.optional("powerWatts", |c| cells::non_negative(c, d, WATTS));
    let state = row.optional("powerState", power_state).unwrap_or(State::On);
    let (Some(cpu), Some(memory)) = (cpu, memory) else {
        return None;
    };
    if row.failed() {
        return None;
    }
    Some(Server {
        department: row.text("department"),
        application: row.text("application"),
        system: row.text("system"),
        security_level,
        cpu_utilisation,
        memory_utilisation,
        yearly_cost,
        power_watts,
        state,
        folder: row.text("folder"),
        annotation: row.text("annotation"),
        os: row.text("os"),
        ..server(row, Format::Govcloud, name, cpu, memory)
    })
}

/// The p95 where the row has one, else the average; both are checked, so that a bad
/// average is reported even beside a good p95.
fn utilisation(row: &mut Row<'_>, p95: &str, average: &str) -> Option<Measured> {
    let d: Decimals = row.decimals;
    let p95 = row.optional(p95, |c| cells::percentage(c, d));
    let average = row.optional(average, |c| cells::percentage(c, d));
    let measured = |statistic| move |ratio| Measured { ratio, statistic };
    p95.map(measured(Statistic::P95))
        .or_else(|| average.map(measured(Statistic::Average)))
}

fn security_level(cell: &str) -> Result<u8, String> {
    match cell {
        "1" => Ok(1),
        "2" => Ok(2),
        "3" => Ok(3),
        "4" => Ok(4),
        _ => Err(format!("{cell:?} is not a security level; expected {LEVEL}")),
    }
}

fn power_state(cell: &str) -> Result<State, String> {
    match cell.to_lowercase().as_str() {
        "on" => Ok(State::On),
        "off" => Ok(State::Off),
        "suspended" => Ok(State::Suspended),
        _ => Err(format!("{cell:?} is not a power state; expected {POWER}")),
    }
}
