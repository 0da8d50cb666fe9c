//! RVTools' `vInfo` tab exported as CSV: one row per VM of a vCenter, as vSphere
//! configures it. No utilisation, no department: a mapping file places the VMs by
//! folder, annotation or name.

use super::cells;
use super::header::{Row, Spec, server};
use super::{Format, Server, State};

const OS_CONFIGURED: &str = "OS according to the configuration file";
const OS_TOOLS: &str = "OS according to the VMware Tools";

pub(super) const SPEC: Spec = Spec {
    format: Format::RvTools,
    required: &["VM", "Powerstate", "CPUs", "Memory"],
    optional: &["Template", "Folder", "Annotation", OS_CONFIGURED, OS_TOOLS],
    pairs: &[],
    row,
};

const CPUS: &str = "a whole number of virtual CPUs > 0";
const MEMORY: &str = "a whole number of MiB > 0";
const POWER: &str = "poweredOn, poweredOff or suspended";
const TEMPLATE: &str = "True or False";

fn row(row: &mut Row<'_>, name: String) -> Option<Server> {
    let d = row.decimals;
    let power = row.required("Powerstate", POWER, power_state);
    let template = row.optional("Template", template).unwrap_or(false);
    let cpu = row.required("CPUs", CPUS, |c| cells::amount(c, d, true, 1000, CPUS));
    let memory = row.required("Memory", MEMORY, |c| cells::amount(c, d, true, 1 << 20, MEMORY));
    let (Some(power), Some(cpu), Some(memory)) = (power, cpu, memory) else {
        return None;
    };
    if row.failed() {
        return None;
    }
    Some(Server {
        // A template cannot be powered on as such, whatever vSphere says of its power.
        state: if template { State::Template } else { power },
        folder: row.text("Folder"),
        annotation: row.text("Annotation"),
        // The Tools report what runs, but only while they run: the configured OS is
        // there for every VM.
        os: row.text(OS_CONFIGURED).or_else(|| row.text(OS_TOOLS)),
        ..server(row, Format::RvTools, name, cpu, memory)
    })
}

fn power_state(cell: &str) -> Result<State, String> {
    match cell.to_lowercase().as_str() {
        "poweredon" => Ok(State::On),
        "poweredoff" => Ok(State::Off),
        "suspended" => Ok(State::Suspended),
        _ => Err(format!("{cell:?} is not a power state; expected {POWER}")),
    }
}

fn template(cell: &str) -> Result<bool, String> {
    match cell.to_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{cell:?} is not {TEMPLATE}")),
    }
}
