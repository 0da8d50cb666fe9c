//! `--output markdown`: the report as a document, for review and for filing.

use std::fmt::Write;

use super::model::*;
use super::text::{self, code_span, markdown as md, money};
use crate::quantity::Res;
use crate::units::{cores, cores_f64, memory, percent};

/// A Markdown table; every cell is escaped here, so callers pass plain text.
struct Table {
    out: String,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        let mut out = String::new();
        let cells: Vec<String> = header.iter().map(|h| md(h)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
        Self { out }
    }

    fn row(&mut self, cells: &[String]) {
        let cells: Vec<String> = cells.iter().map(|c| md(c)).collect();
        let _ = writeln!(self.out, "| {} |", cells.join(" | "));
    }

    fn finish(self, out: &mut String) {
        out.push_str(&self.out);
        out.push('\n');
    }
}

fn opt(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

fn used_cpu(r: Option<Res>) -> String {
    r.map_or_else(|| "not measured".into(), |r| cores(r.cpu_millis))
}

fn used_memory(r: Option<Res>) -> String {
    r.map_or_else(|| "not measured".into(), |r| memory(r.memory_bytes))
}

fn level(l: Option<u8>) -> String {
    l.map_or_else(|| "-".into(), |l| l.to_string())
}

fn share(s: Option<f64>) -> String {
    s.map_or_else(|| "-".into(), text::share)
}

fn codes(s: &ServiceReport) -> String {
    if s.reasons.is_empty() {
        return "-".into();
    }
    let codes: Vec<&str> = s.reasons.iter().map(|r| r.code.as_str()).collect();
    codes.join(", ")
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
    let s = &r.savings;
    out.push_str("## Savings against the siloed baseline\n\n");
    out.push_str(
        "The siloed baseline is every department running its own instance of every offering \
         it uses, on its own nodes; both estates are priced on whole nodes of each pool's \
         node shape.\n\n",
    );
    let mut t = Table::new(&["measure", "consolidated", "siloed", "saved"]);
    let instances = i64::try_from(r.shared_instances.len()).unwrap_or(i64::MAX);
    t.row(&[
        "shared offering instances".into(),
        instances.to_string(),
        (instances + s.instances_saved).to_string(),
        s.instances_saved.to_string(),
    ]);
    t.row(&[
        "nodes".into(),
        s.nodes_consolidated.to_string(),
        s.nodes_siloed.to_string(),
        s.nodes_saved.to_string(),
    ]);
    t.row(&[
        format!("cost per month ({})", r.currency),
        money(s.monthly_cost_consolidated),
        money(s.monthly_cost_siloed),
        money(s.monthly_cost_saved),
    ]);
    t.row(&[
        "CPU utilisation".into(),
        percent(s.utilisation_consolidated.cpu),
        percent(s.utilisation_siloed.cpu),
        "-".into(),
    ]);
    t.row(&[
        "memory utilisation".into(),
        percent(s.utilisation_consolidated.memory),
        percent(s.utilisation_siloed.memory),
        "-".into(),
    ]);
    t.finish(out);
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
    let mut t = Table::new(&["", "CPU", "memory", "services"]);
    t.row(&[
        "quota granted".into(),
        cores_f64(d.quota.cpu),
        memory(d.quota.memory),
        d.quota.services.to_string(),
    ]);
    t.row(&[
        "allocated".into(),
        format!(
            "{} ({})",
            cores(d.allocated.cpu_millis),
            percent(d.allocated_of_quota.cpu)
        ),
        format!(
            "{} ({})",
            memory(d.allocated.memory_bytes),
            percent(d.allocated_of_quota.memory)
        ),
        format!(
            "{} admitted, {} rejected",
            d.admitted_services, d.rejected_services
        ),
    ]);
    t.row(&[
        "used".into(),
        match (d.used, d.used_of_quota) {
            (Some(u), Some(q)) => format!("{} ({})", cores(u.cpu_millis), percent(q.cpu)),
            _ => "not measured".into(),
        },
        match (d.used, d.used_of_quota) {
            (Some(u), Some(q)) => format!("{} ({})", memory(u.memory_bytes), percent(q.memory)),
            _ => "not measured".into(),
        },
        "-".into(),
    ]);
    t.finish(out);

    if d.services.is_empty() {
        out.push_str("No services.\n\n");
    } else {
        services(&d.services, currency, measured, out);
    }
    if !d.tenancies.is_empty() {
        let mut t = Table::new(&[
            "tenant service",
            "shared instance",
            "offering",
            "share",
            &format!("instance cost/month ({currency})"),
            &format!("apportioned cost/month ({currency})"),
        ]);
        for s in &d.tenancies {
            t.row(&[
                s.service.clone(),
                s.instance.clone(),
                s.offering.clone(),
                share(Some(s.share)),
                money(s.instance_monthly_cost),
                money(s.monthly_cost),
            ]);
        }
        t.finish(out);
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

/// The services table; the used columns only when usage was measured (without it they
/// would say "not measured" on every row).
fn services(services: &[ServiceReport], currency: &str, measured: bool, out: &mut String) {
    let cost = format!("cost/month ({currency})");
    let mut header = vec![
        "service",
        "level",
        "phase",
        "pool",
        "pool level",
        "level check",
        "shared instance",
        "share",
        "CPU",
        "memory",
    ];
    if measured {
        header.extend(["used CPU", "used memory"]);
    }
    header.extend([cost.as_str(), "reasons"]);
    let mut t = Table::new(&header);
    for s in services {
        let mut row = vec![
            s.name.clone(),
            s.security_level.to_string(),
            s.phase.as_str().into(),
            opt(s.pool.as_deref()),
            level(s.pool_security_level),
            s.level_check.mark().into(),
            opt(s.shared_instance.as_deref()),
            share(s.instance_share),
            cores(s.allocated.cpu_millis),
            memory(s.allocated.memory_bytes),
        ];
        if measured && s.pool.is_none() {
            // Nothing runs: there is nothing to measure.
            row.extend(["-".into(), "-".into()]);
        } else if measured {
            row.extend([used_cpu(s.used), used_memory(s.used)]);
        }
        row.extend([money(s.monthly_cost), codes(s)]);
        t.row(&row);
    }
    t.finish(out);
}

fn pools(r: &Report, out: &mut String) {
    out.push_str("## Pools\n\n");
    let measured = r.measured();
    let cost = format!("cost/month ({})", r.currency);
    let mut header = vec![
        "pool",
        "level",
        "cordoned",
        "CPU allocated / capacity",
        "memory allocated / capacity",
        "services",
        "departments",
        "instances",
        cost.as_str(),
    ];
    if measured {
        // After the allocation columns, as in the services table.
        header.splice(5..5, ["CPU used", "memory used"]);
    }
    let mut t = Table::new(&header);
    for p in &r.pools {
        let mut row = vec![
            p.name.clone(),
            p.security_level.to_string(),
            if p.cordoned { "yes" } else { "no" }.into(),
            format!(
                "{} / {} ({})",
                cores(p.allocated.cpu_millis),
                cores(p.effective_capacity.cpu_millis),
                percent(p.utilisation.cpu)
            ),
            format!(
                "{} / {} ({})",
                memory(p.allocated.memory_bytes),
                memory(p.effective_capacity.memory_bytes),
                percent(p.utilisation.memory)
            ),
            p.services.to_string(),
            p.departments.to_string(),
            p.shared_instances.to_string(),
            money(p.monthly_cost),
        ];
        if measured {
            let (cpu, mem) = match (p.used, p.used_utilisation) {
                (Some(u), Some(q)) => (
                    format!("{} ({})", cores(u.cpu_millis), percent(q.cpu)),
                    format!("{} ({})", memory(u.memory_bytes), percent(q.memory)),
                ),
                _ => ("not measured".into(), "not measured".into()),
            };
            row.splice(5..5, [cpu, mem]);
        }
        t.row(&row);
    }
    t.finish(out);
    out.push_str("Capacity is after overcommit; cost is the chargeback of what is allocated.\n\n");
}

fn instances(r: &Report, out: &mut String) {
    out.push_str("## Shared instances\n\n");
    if r.shared_instances.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    let c = &r.currency;
    let mut t = Table::new(&[
        "instance",
        "offering",
        "level",
        "pool",
        "pool level",
        "level check",
        "tenants / seats",
        &format!("cost/month ({c})"),
        &format!("charged to tenants ({c})"),
        &format!("vacant seats ({c})"),
    ]);
    for i in &r.shared_instances {
        t.row(&[
            i.name.clone(),
            i.offering.clone(),
            i.security_level.to_string(),
            opt(i.pool.as_deref()),
            level(i.pool_security_level),
            i.level_check.mark().into(),
            format!("{} / {}", i.tenants.len(), i.seats),
            money(i.monthly_cost),
            money(i.charged_to_tenants),
            money(i.vacant_monthly_cost),
        ]);
    }
    t.finish(out);
    out.push_str(
        "Each tenant is charged 1/seats of its instance (rounded up), priced at the pool's \
         rates; seats nobody holds are borne by the platform.\n\n",
    );
    let mut t = Table::new(&[
        "instance",
        "tenant",
        "department",
        "share",
        &format!("cost/month ({c})"),
    ]);
    for i in &r.shared_instances {
        for s in &i.tenants {
            t.row(&[
                i.name.clone(),
                s.service.clone(),
                opt(s.department.as_deref()),
                share(Some(s.share)),
                money(s.monthly_cost),
            ]);
        }
    }
    t.finish(out);
}

fn refusals(r: &Report, out: &mut String) {
    out.push_str("## Refusals\n\n");
    if r.refusals.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    let mut t = Table::new(&["kind", "name", "department", "code", "message"]);
    for f in &r.refusals {
        t.row(&[
            f.kind.into(),
            f.name.clone(),
            opt(f.department.as_deref()),
            f.code.as_str().into(),
            f.message.clone(),
        ]);
    }
    t.finish(out);
}

fn policies(r: &Report, out: &mut String) {
    out.push_str("## Policy violations\n\n");
    let mut t = Table::new(&["policy", "services refused", "problems with the policy"]);
    for p in &r.policies {
        let problems: Vec<String> = p
            .reasons
            .iter()
            .map(|r| format!("{}: {}", r.code, r.message))
            .collect();
        t.row(&[
            p.name.clone(),
            p.violations.to_string(),
            if problems.is_empty() {
                "-".into()
            } else {
                problems.join("; ")
            },
        ]);
    }
    t.finish(out);
    let violations: Vec<&Refusal> = r
        .refusals
        .iter()
        .filter(|f| f.code == crate::plan::ReasonCode::PolicyViolation)
        .collect();
    if !violations.is_empty() {
        let mut t = Table::new(&["service", "violation"]);
        for v in violations {
            t.row(&[v.name.clone(), v.message.clone()]);
        }
        t.finish(out);
    }
}
