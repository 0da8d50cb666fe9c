//! `--output markdown`: the report as a document, for review and for filing.

use std::fmt::Write;

use super::model::*;
use super::table::{Table, sections};
use super::text::{self, code_span, markdown as md, money};
use crate::units::{cores, memory};

/// A table as Markdown, then its notes; every cell is escaped here, so tables hold
/// plain text.
pub(crate) fn table(t: &Table, out: &mut String) {
    if let (true, Some(empty)) = (t.rows.is_empty(), t.empty) {
        let _ = writeln!(out, "{empty}\n");
        return;
    }
    let line = |cells: Vec<String>, out: &mut String| {
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    };
    line(t.columns.iter().map(|h| md(h)).collect(), out);
    let _ = writeln!(out, "|{}", "---|".repeat(t.columns.len()));
    for row in &t.rows {
        line(row.iter().map(|c| md(&text::cell(c))).collect(), out);
    }
    out.push('\n');
    for note in &t.notes {
        let _ = writeln!(out, "{}\n", md(note));
    }
}

/// The whole report as Markdown.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let c = &r.currency;
    out.push_str("# govcloud estate report\n\n");
    let source = match r.source {
        Source::Manifests => "manifests",
        Source::Cluster => "the live cluster",
    };
    let _ = writeln!(
        out,
        "Estate read from {source}. Money in {} per month (730 h). Usage: {}.\n",
        md(c),
        md(&text::usage_origin(r))
    );

    summary(r, &mut out);
    savings(r, &mut out);

    out.push_str("## Departments\n\n");
    let measured = r.measured();
    for d in &r.departments {
        department(d, c, measured, &mut out);
    }
    if !r.unowned_services.is_empty() {
        out.push_str("### Services of no department\n\n");
        services(&r.unowned_services, c, measured, &mut out);
    }

    pools(r, &mut out);
    instances(r, &mut out);
    refusals(r, &mut out);
    policies(r, &mut out);
    out
}

fn summary(r: &Report, out: &mut String) {
    let s = &r.summary;
    out.push_str("## Summary\n\n");
    let _ = writeln!(out, "- **Security levels:** {}.", md(&s.level_check.statement));
    let _ = writeln!(
        out,
        "- **Services:** {} in {} departments: {} placed, {} pending, {} rejected.",
        s.services, s.departments, s.placed, s.pending, s.rejected
    );
    let _ = writeln!(
        out,
        "- **Quota:** {} cores and {} granted; {} cores and {} allocated; used {}.",
        cores(s.quota.cpu_millis),
        memory(s.quota.memory_bytes),
        cores(s.allocated.cpu_millis),
        memory(s.allocated.memory_bytes),
        s.used.map_or_else(
            || "not measured".into(),
            |u| format!("{} cores and {}", cores(u.cpu_millis), memory(u.memory_bytes))
        )
    );
    let _ = writeln!(
        out,
        "- **Charged to departments:** {} {} a month: what is allocated, at the pools' rates \
         (the savings below price whole nodes instead).",
        money(s.monthly_cost_charged),
        md(&r.currency)
    );
    let _ = writeln!(out, "- **Refusals:** {} (below).", r.refusals.len());
    if let Some(n) = s.unattributed_pods {
        let _ = writeln!(
            out,
            "- **Unattributed pods** in department or shared namespaces: {n}."
        );
    }
    out.push('\n');
}

fn savings(r: &Report, out: &mut String) {
    out.push_str("## Savings against the siloed baseline\n\n");
    out.push_str(
        "The siloed baseline is every department running its own instance of every offering \
         it uses, on its own nodes; both estates are priced on whole nodes of each pool's \
         node shape.\n\n",
    );
    table(
        &sections::savings(&r.savings, r.shared_instances.len(), Some(&r.currency)),
        out,
    );
}

fn department(d: &DepartmentReport, currency: &str, measured: bool, out: &mut String) {
    let _ = write!(out, "### {}", md(&d.name));
    if let Some(name) = &d.display_name {
        let _ = write!(out, " — {}", md(name));
    }
    out.push_str("\n\n");
    let _ = writeln!(
        out,
        "Namespace {}, clearance level {}, code {}, cost centre {}. Charged {} {} a month.\n",
        code_span(&d.namespace),
        d.security_clearance,
        md(d.code.as_deref().unwrap_or("-")),
        md(d.cost_centre.as_deref().unwrap_or("-")),
        money(d.monthly_cost),
        md(currency)
    );
    table(&sections::department_figures(d), out);

    if d.services.is_empty() {
        out.push_str("No services.\n\n");
    } else {
        services(&d.services, currency, measured, out);
    }
    if let Some(t) = sections::tenancies(d, currency) {
        table(&t, out);
    }
    for r in &d.reasons {
        let _ = writeln!(out, "- Department refused: **{}** {}", r.code, md(&r.message));
    }
    let refused: Vec<&ServiceReport> = d.services.iter().filter(|s| !s.reasons.is_empty()).collect();
    if !refused.is_empty() {
        out.push_str("Refused:\n\n");
        for s in refused {
            for r in &s.reasons {
                let _ = writeln!(out, "- {}: **{}** {}", code_span(&s.name), r.code, md(&r.message));
            }
        }
        out.push('\n');
    }
}

fn services(list: &[ServiceReport], currency: &str, measured: bool, out: &mut String) {
    table(&sections::services(list, currency, measured), out);
}

fn pools(r: &Report, out: &mut String) {
    out.push_str("## Pools\n\n");
    table(&sections::pools(r), out);
}

fn instances(r: &Report, out: &mut String) {
    out.push_str("## Shared instances\n\n");
    table(&sections::instances(r), out);
    if let Some(t) = sections::tenants(r) {
        table(&t, out);
    }
}

fn refusals(r: &Report, out: &mut String) {
    out.push_str("## Refusals\n\n");
    table(&sections::refusals(r), out);
    out.push_str("## Pending changes\n\n");
    table(&sections::pending_changes(&r.pending_changes), out);
}

fn policies(r: &Report, out: &mut String) {
    out.push_str("## Policy violations\n\n");
    table(&sections::policies(r), out);
    if let Some(t) = sections::violations(r) {
        table(&t, out);
    }
}
