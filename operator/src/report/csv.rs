//! `--output csv`: one table, one row per DepartmentService, for spreadsheets.
//!
//! CSV holds a single table, so the department's figures (quota granted, allocated,
//! used, chargeback) are repeated as columns on each of its service rows, and a
//! department without services gets one row with the service columns empty. Amounts
//! are in machine units (cores, bytes, the currency) so that they sum; absent
//! measurements are empty cells. Estate-wide figures (savings, pools, shared instances,
//! refusals of pools, departments, offerings and policies) are in the other formats.

use std::borrow::Cow;

use super::model::*;
use super::table::{Cell, Table};
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

/// A cell in machine units: cores and bytes as numbers that sum, money to the cent,
/// statuses by their JSON names, absent and unmeasured as empty cells. Text is defused
/// (`defuse`); figures are written as they are.
fn field(c: &Cell) -> Cow<'_, str> {
    match c {
        Cell::Text(t) | Cell::Long(t) => defuse(t),
        Cell::Count(n) => n.to_string().into(),
        Cell::Cores(millis) => Res::new(*millis, 0).cores().to_string().into(),
        Cell::CoresF64(cores) => cores.to_string().into(),
        Cell::Memory(bytes) => bytes.to_string().into(),
        Cell::Money(m) => format!("{m:.2}").into(),
        Cell::Percent(r) => r.to_string().into(),
        Cell::Share(Some(s)) => s.to_string().into(),
        Cell::Level(Some(l)) => l.to_string().into(),
        Cell::Phase(p) => p.as_str().into(),
        Cell::Check(s) => level_check(*s).into(),
        Cell::Reasons(reasons) => {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            defuse(&codes.join(";")).into_owned().into()
        }
        Cell::OfWhole(amount, _) => field(amount),
        Cell::Fraction(part, _, _) => field(part),
        Cell::Share(None) | Cell::Level(None) | Cell::NotMeasured | Cell::Absent => "".into(),
    }
}

/// A text field a spreadsheet would evaluate as a formula (one starting with `=`, `+`,
/// `-`, `@`, TAB or CR, OWASP's list) prefixed with `'`, so that it shows instead:
/// messages quote names that users chose.
fn defuse(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

fn level_check(s: LevelStatus) -> &'static str {
    match s {
        LevelStatus::Ok => "ok",
        LevelStatus::BelowLevel => "belowLevel",
        LevelStatus::UnknownPool => "unknownPool",
        LevelStatus::NotPlaced => "notPlaced",
    }
}

fn text(value: Option<&str>) -> Cell {
    value.map_or(Cell::Absent, Cell::text)
}

fn department_cells(d: Option<&DepartmentReport>) -> Vec<Cell> {
    let Some(d) = d else {
        return vec![Cell::Absent; 13];
    };
    vec![
        Cell::text(&d.name),
        text(d.display_name.as_deref()),
        text(d.code.as_deref()),
        text(d.cost_centre.as_deref()),
        Cell::count(d.security_clearance),
        Cell::CoresF64(d.quota.cpu),
        Cell::Memory(d.quota.memory),
        Cell::count(d.quota.services),
        Cell::Cores(d.allocated.cpu_millis),
        Cell::Memory(d.allocated.memory_bytes),
        d.used.map_or(Cell::NotMeasured, |u| Cell::Cores(u.cpu_millis)),
        d.used.map_or(Cell::NotMeasured, |u| Cell::Memory(u.memory_bytes)),
        Cell::Money(d.monthly_cost),
    ]
}

fn service_cells(s: &ServiceReport) -> Vec<Cell> {
    let messages: Vec<&str> = s.reasons.iter().map(|r| r.message.as_str()).collect();
    vec![
        Cell::text(&s.namespace),
        Cell::text(&s.name),
        Cell::Level(Some(s.security_level)),
        Cell::Phase(s.phase),
        text(s.pool.as_deref()),
        Cell::Level(s.pool_security_level),
        Cell::Check(s.level_check),
        text(s.shared_instance.as_deref()),
        text(s.offering.as_deref()),
        Cell::Share(s.instance_share),
        Cell::Cores(s.allocated.cpu_millis),
        Cell::Memory(s.allocated.memory_bytes),
        s.used.map_or(Cell::NotMeasured, |u| Cell::Cores(u.cpu_millis)),
        s.used.map_or(Cell::NotMeasured, |u| Cell::Memory(u.memory_bytes)),
        Cell::Money(s.monthly_cost),
        Cell::Reasons(s.reasons.clone()),
        // Messages may hold anything, including the separator: each is a quoted field's
        // line, so a reader splits on line breaks, which no message contains.
        Cell::Long(messages.join("\n")),
    ]
}

/// The per-service table: a row per service with its department's figures, and a row
/// for each department without services.
pub fn table(r: &Report) -> Table {
    let mut t = Table::new(COLUMNS);
    for d in &r.departments {
        if d.services.is_empty() {
            let mut cells = department_cells(Some(d));
            cells.resize(COLUMNS.len(), Cell::Absent);
            t.row(cells);
        }
        for s in &d.services {
            let mut cells = department_cells(Some(d));
            cells.extend(service_cells(s));
            t.row(cells);
        }
    }
    for s in &r.unowned_services {
        let mut cells = department_cells(None);
        cells.extend(service_cells(s));
        t.row(cells);
    }
    t
}

/// A table as RFC 4180 CSV with a header row and CRLF line ends; the writer quotes a
/// field only when it holds a comma, quote, CR or LF.
pub fn write(t: &Table) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let written = w.write_record(&t.columns).and_then(|()| {
        t.rows
            .iter()
            .try_for_each(|row| w.write_record(row.iter().map(|c| field(c).into_owned())))
    });
    written.expect("writing to memory does not fail");
    let bytes = w.into_inner().expect("flushing to memory does not fail");
    String::from_utf8(bytes).expect("every field is a str")
}

/// The report's CSV.
pub fn render(r: &Report) -> String {
    write(&table(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One text field as the writer writes it, in a record of two (a record of one empty
    /// field is quoted so that the line is not blank).
    fn csv_field(text: &str) -> String {
        let mut t = Table::new(["a", "b"]);
        t.row(vec![Cell::text(text), Cell::text("z")]);
        let csv = write(&t);
        let line = csv.strip_prefix("a,b\r\n").expect("the header first");
        line.strip_suffix(",z\r\n").expect("one record").to_owned()
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed_and_formulas_are_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn csv_defuses_a_leading_tab_or_carriage_return() {
        assert_eq!(csv_field("\t=1+2"), "'\t=1+2");
        assert_eq!(csv_field("\r=1+2"), "\"'\r=1+2\"");
        assert_eq!(csv_field("a\t=1"), "a\t=1", "only a leading one starts a formula");
    }
}
