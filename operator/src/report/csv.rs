//! `--output csv`: one table, one row per DepartmentService, for spreadsheets.
//!
//! CSV holds a single table, so the department's figures (quota granted, allocated,
//! used, chargeback) are repeated as columns on each of its service rows, and a
//! department without services gets one row with the service columns empty. Amounts
//! are in machine units (cores, bytes, the currency) so that they sum; absent
//! measurements are empty cells. Estate-wide figures (savings, pools, shared instances,
//! refusals of pools, departments, offerings and policies) are in the other formats.

use std::fmt::Write;

use super::model::*;
use super::text::csv_field;
use crate::quantity::Res;

/// The columns, in order.
pub const COLUMNS: [&str; 30] = [
    "department",
    "department_display_name",
    "department_code",
    "cost_centre",
    "security_clearance",
    "quota_cpu_cores",
    "quota_memory_bytes",
    "quota_services",
    "department_allocated_cpu_cores",
    "department_allocated_memory_bytes",
    "department_used_cpu_cores",
    "department_used_memory_bytes",
    "department_monthly_cost",
    "namespace",
    "service",
    "security_level",
    "phase",
    "pool",
    "pool_security_level",
    "level_check",
    "shared_instance",
    "offering",
    "instance_share",
    "allocated_cpu_cores",
    "allocated_memory_bytes",
    "used_cpu_cores",
    "used_memory_bytes",
    "monthly_cost",
    "reason_codes",
    "reason_messages",
];

fn text(value: Option<&str>) -> String {
    value.map(csv_field).unwrap_or_default()
}

fn cpu(r: Option<Res>) -> String {
    r.map(|r| r.cores().to_string()).unwrap_or_default()
}

fn mem(r: Option<Res>) -> String {
    r.map(|r| r.memory_bytes.to_string()).unwrap_or_default()
}

fn level_check(s: LevelStatus) -> &'static str {
    match s {
        LevelStatus::Ok => "ok",
        LevelStatus::BelowLevel => "belowLevel",
        LevelStatus::UnknownPool => "unknownPool",
        LevelStatus::NotPlaced => "notPlaced",
    }
}

fn department_cells(d: Option<&DepartmentReport>) -> Vec<String> {
    let Some(d) = d else {
        return vec![String::new(); 13];
    };
    vec![
        csv_field(&d.name),
        text(d.display_name.as_deref()),
        text(d.code.as_deref()),
        text(d.cost_centre.as_deref()),
        d.security_clearance.to_string(),
        d.quota.cpu.to_string(),
        d.quota.memory.to_string(),
        d.quota.services.to_string(),
        cpu(Some(d.allocated)),
        mem(Some(d.allocated)),
        cpu(d.used),
        mem(d.used),
        format!("{:.2}", d.monthly_cost),
    ]
}

fn service_cells(s: &ServiceReport) -> Vec<String> {
    let codes: Vec<&str> = s.reasons.iter().map(|r| r.code.as_str()).collect();
    let messages: Vec<&str> = s.reasons.iter().map(|r| r.message.as_str()).collect();
    vec![
        csv_field(&s.namespace),
        csv_field(&s.name),
        s.security_level.to_string(),
        s.phase.as_str().into(),
        text(s.pool.as_deref()),
        s.pool_security_level.map(|l| l.to_string()).unwrap_or_default(),
        level_check(s.level_check).into(),
        text(s.shared_instance.as_deref()),
        text(s.offering.as_deref()),
        s.instance_share.map(|x| x.to_string()).unwrap_or_default(),
        cpu(Some(s.allocated)),
        mem(Some(s.allocated)),
        cpu(s.used),
        mem(s.used),
        format!("{:.2}", s.monthly_cost),
        csv_field(&codes.join(";")),
        // Messages may hold anything, including the separator: each is a quoted field's
        // line, so a reader splits on line breaks, which no message contains.
        csv_field(&messages.join("\n")),
    ]
}

/// The per-service table with a header row; CRLF line ends, as RFC 4180 says.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = write!(out, "{}\r\n", COLUMNS.join(","));
    let mut line = |cells: Vec<String>| {
        let _ = write!(out, "{}\r\n", cells.join(","));
    };
    for d in &r.departments {
        if d.services.is_empty() {
            let mut cells = department_cells(Some(d));
            cells.extend(std::iter::repeat_n(String::new(), COLUMNS.len() - cells.len()));
            line(cells);
        }
        for s in &d.services {
            let mut cells = department_cells(Some(d));
            cells.extend(service_cells(s));
            line(cells);
        }
    }
    for s in &r.unowned_services {
        let mut cells = department_cells(None);
        cells.extend(service_cells(s));
        line(cells);
    }
    out
}
