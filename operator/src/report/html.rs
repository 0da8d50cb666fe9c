//! `--output html`: one self-contained page (inline CSS and SVG charts, no script, no
//! external asset) that an auditor can open from a file share or attach to a finding.

use std::fmt::Write;

use super::model::*;
use super::svg::{Group, Series, bars};
use super::text::{self, html as esc, money, share};
use crate::quantity::Res;
use crate::units::{cores, cores_f64, memory, percent};

const QUOTA: Series = Series {
    name: "quota granted",
    colour: "#cbd5e1",
};
const ALLOCATED: Series = Series {
    name: "allocated",
    colour: "#2563eb",
};
const USED: Series = Series {
    name: "used",
    colour: "#f59e0b",
};

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;margin:0;background:#f8fafc;color:#0f172a;font-size:14px}
header{background:#1e3a8a;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;color:#cbd5e1}
main{padding:16px 32px 40px}
h2{font-size:19px;margin:28px 0 10px;border-bottom:2px solid #e2e8f0;padding-bottom:4px}
h3{font-size:16px;margin:22px 0 6px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0 16px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 16px;flex:1 1 140px}
.card .n{font-size:22px;font-weight:600}
.card .t{color:#475569;font-size:12px}
.evidence{border-radius:8px;padding:10px 16px;margin:8px 0;font-weight:600}
.evidence.ok{background:#dcfce7;border:1px solid #16a34a;color:#14532d}
.evidence.bad{background:#fee2e2;border:1px solid #dc2626;color:#7f1d1d}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
figure{margin:0;background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px}
figcaption{font-weight:600;margin-bottom:4px}
svg text{font-size:11px;fill:#0f172a}
svg text.label{font-size:12px}
svg text.muted{fill:#94a3b8;font-style:italic}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top;white-space:nowrap}
td.long{white-space:normal;min-width:320px}
th{background:#f1f5f9}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.ok{color:#15803d;font-weight:600}
td.bad{color:#b91c1c;font-weight:700;background:#fee2e2}
.muted{color:#64748b}
code{font-family:ui-monospace,monospace;font-size:12px}
";

/// A table row builder: cells are escaped here.
struct Table {
    out: String,
}

enum Cell {
    Text(String),
    /// Free text (messages) that may wrap; every other cell stays on one line.
    Long(String),
    Num(String),
    Check(LevelStatus),
}

impl Table {
    fn new(header: &[&str]) -> Self {
        let mut out = String::from("<table><thead><tr>");
        for h in header {
            let _ = write!(out, "<th>{}</th>", esc(h));
        }
        out.push_str("</tr></thead><tbody>");
        Self { out }
    }

    fn row(&mut self, cells: Vec<Cell>) {
        self.out.push_str("<tr>");
        for c in cells {
            let _ = match c {
                Cell::Text(t) => write!(self.out, "<td>{}</td>", esc(&t)),
                Cell::Long(t) => write!(self.out, "<td class=\"long\">{}</td>", esc(&t)),
                Cell::Num(t) => write!(self.out, "<td class=\"num\">{}</td>", esc(&t)),
                Cell::Check(s) => {
                    let class = match s {
                        LevelStatus::Ok => "ok",
                        LevelStatus::NotPlaced => "muted",
                        LevelStatus::BelowLevel | LevelStatus::UnknownPool => "bad",
                    };
                    let mark = if s == LevelStatus::Ok { "✓ ok" } else { s.mark() };
                    write!(self.out, "<td class=\"{class}\">{}</td>", esc(mark))
                }
            };
        }
        self.out.push_str("</tr>");
    }

    fn finish(mut self, out: &mut String) {
        self.out.push_str("</tbody></table>");
        out.push_str(&self.out);
    }
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn n(s: impl Into<String>) -> Cell {
    Cell::Num(s.into())
}

fn opt(v: Option<&str>) -> Cell {
    t(v.unwrap_or("-"))
}

fn used(r: Option<Res>, f: fn(Res) -> String) -> Cell {
    r.map_or_else(|| t("not measured"), |r| n(f(r)))
}

fn cpu_of(r: Res) -> String {
    cores(r.cpu_millis)
}

fn mem_of(r: Res) -> String {
    memory(r.memory_bytes)
}

fn gib(bytes: i64) -> f64 {
    bytes as f64 / f64::from(1u32 << 30)
}

/// The whole report as an HTML page.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let c = &r.currency;
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    out.push_str("<title>govcloud estate report</title><style>");
    out.push_str(STYLE);
    out.push_str("</style></head><body>");
    let source = match r.source {
        Source::Manifests => "manifests",
        Source::Cluster => "the live cluster",
    };
    let usage = format!("usage {}", text::usage_origin(r));
    let _ = write!(
        out,
        "<header><h1>govcloud estate report</h1><p>Estate read from {}; money in {} per month (730 h); {}.</p></header><main>",
        esc(source),
        esc(c),
        esc(&usage)
    );

    cards(r, &mut out);
    let class = if r.summary.level_check.holds { "ok" } else { "bad" };
    let _ = write!(
        out,
        "<div class=\"evidence {class}\" id=\"level-check\">Security levels: {}.</div>",
        esc(&r.summary.level_check.statement)
    );

    charts(r, &mut out);
    savings(r, &mut out);
    out.push_str("<h2>Departments</h2>");
    let measured = r.measured();
    for d in &r.departments {
        department(d, c, measured, &mut out);
    }
    if !r.unowned_services.is_empty() {
        out.push_str("<h3>Services of no department</h3>");
        services(&r.unowned_services, c, measured, &mut out);
    }
    pools(r, &mut out);
    instances(r, &mut out);
    refusals(r, &mut out);
    policies(r, &mut out);
    out.push_str("</main></body></html>\n");
    out
}

fn cards(r: &Report, out: &mut String) {
    let s = &r.summary;
    let saved = &r.savings;
    let share = if saved.monthly_cost_siloed > 0.0 {
        format!(
            " ({})",
            percent(saved.monthly_cost_saved / saved.monthly_cost_siloed)
        )
    } else {
        String::new()
    };
    let cards = [
        (
            format!("{} / {}", s.placed, s.services),
            "services placed".to_owned(),
        ),
        (r.refusals.len().to_string(), "refusals".to_owned()),
        (s.departments.to_string(), "departments".to_owned()),
        (
            format!("{}{share}", money(saved.monthly_cost_saved)),
            format!("{} saved a month vs siloed", r.currency),
        ),
        (
            format!("{} → {}", saved.nodes_siloed, saved.nodes_consolidated),
            "nodes, siloed → consolidated".to_owned(),
        ),
        (
            money(s.monthly_cost_charged),
            format!("{} charged a month", r.currency),
        ),
    ];
    out.push_str("<div class=\"cards\">");
    for (number, text) in cards {
        let _ = write!(
            out,
            "<div class=\"card\"><div class=\"n\">{}</div><div class=\"t\">{}</div></div>",
            esc(&number),
            esc(&text)
        );
    }
    out.push_str("</div>");
}

fn figure(caption: &str, svg: &str, out: &mut String) {
    let _ = write!(
        out,
        "<figure><figcaption>{}</figcaption>{svg}</figure>",
        esc(caption)
    );
}

fn charts(r: &Report, out: &mut String) {
    let measured = r.measured();
    let series: Vec<Series> = if measured {
        vec![QUOTA, ALLOCATED, USED]
    } else {
        vec![QUOTA, ALLOCATED]
    };
    let dept_groups = |cpu: bool| -> Vec<Group> {
        r.departments
            .iter()
            .map(|d| {
                let (quota, alloc, used) = if cpu {
                    (d.quota.cpu, d.allocated.cores(), d.used.map(Res::cores))
                } else {
                    (
                        gib(d.quota.memory),
                        gib(d.allocated.memory_bytes),
                        d.used.map(|u| gib(u.memory_bytes)),
                    )
                };
                let fmt = |v: f64| {
                    if cpu {
                        cores_f64(v)
                    } else {
                        memory((v * f64::from(1u32 << 30)).round() as i64)
                    }
                };
                let mut values = vec![Some(quota), Some(alloc)];
                let mut texts = vec![fmt(quota), fmt(alloc)];
                if measured {
                    values.push(used);
                    texts.push(used.map(fmt).unwrap_or_default());
                }
                Group {
                    label: d.name.clone(),
                    values,
                    texts,
                    marker: None,
                }
            })
            .collect()
    };
    out.push_str("<h2>Charts</h2><div class=\"charts\">");
    figure(
        "CPU per department (cores): quota, allocated, used",
        &bars("CPU per department", &series, &dept_groups(true), None),
        out,
    );
    figure(
        "Memory per department: quota, allocated, used",
        &bars("Memory per department", &series, &dept_groups(false), None),
        out,
    );

    let pool_series: Vec<Series> = {
        let mut s = vec![
            Series {
                name: "CPU allocated",
                colour: "#2563eb",
            },
            Series {
                name: "memory allocated",
                colour: "#7c3aed",
            },
        ];
        if measured {
            s.push(Series {
                name: "CPU used",
                colour: "#f59e0b",
            });
            s.push(Series {
                name: "memory used",
                colour: "#ea580c",
            });
        }
        s
    };
    let pool_groups: Vec<Group> = r
        .pools
        .iter()
        .map(|p| {
            let mut values = vec![Some(p.utilisation.cpu), Some(p.utilisation.memory)];
            if measured {
                values.push(p.used_utilisation.map(|u| u.cpu));
                values.push(p.used_utilisation.map(|u| u.memory));
            }
            let texts = values
                .iter()
                .map(|v| v.map(percent).unwrap_or_default())
                .collect();
            Group {
                label: if p.cordoned {
                    format!("{} (cordoned)", p.name)
                } else {
                    p.name.clone()
                },
                values,
                texts,
                marker: Some(p.target_utilisation),
            }
        })
        .collect();
    figure(
        "Pool utilisation of capacity × overcommit (dashed: target)",
        &bars("Pool utilisation", &pool_series, &pool_groups, Some(1.0)),
        out,
    );

    let s = &r.savings;
    let cost_groups = vec![
        Group {
            label: "consolidated".into(),
            values: vec![
                Some(s.monthly_cost_consolidated),
                Some(s.nodes_consolidated as f64),
            ],
            texts: vec![
                format!("{} {}", money(s.monthly_cost_consolidated), r.currency),
                format!("{} nodes", s.nodes_consolidated),
            ],
            marker: None,
        },
        Group {
            label: "siloed".into(),
            values: vec![Some(s.monthly_cost_siloed), Some(s.nodes_siloed as f64)],
            texts: vec![
                format!("{} {}", money(s.monthly_cost_siloed), r.currency),
                format!("{} nodes", s.nodes_siloed),
            ],
            marker: None,
        },
    ];
    // Cost and nodes share one chart as fractions of the siloed figure, so that both
    // bars of "siloed" are full length and the consolidated ones show the proportion.
    let normalised: Vec<Group> = cost_groups
        .into_iter()
        .map(|mut g| {
            let whole = [s.monthly_cost_siloed, s.nodes_siloed as f64];
            for (v, w) in g.values.iter_mut().zip(whole) {
                *v = v.map(|v| if w > 0.0 { v / w } else { 0.0 });
            }
            g
        })
        .collect();
    figure(
        &format!(
            "Consolidated vs siloed: monthly cost and nodes (saved {} {} a month)",
            money(s.monthly_cost_saved),
            r.currency
        ),
        &bars(
            "Consolidated vs siloed",
            &[
                Series {
                    name: "monthly cost",
                    colour: "#16a34a",
                },
                Series {
                    name: "nodes",
                    colour: "#0d9488",
                },
            ],
            &normalised,
            Some(1.0),
        ),
        out,
    );
    out.push_str("</div>");
}

fn savings(r: &Report, out: &mut String) {
    let s = &r.savings;
    out.push_str("<h2>Savings against the siloed baseline</h2>");
    out.push_str(
        "<p class=\"muted\">The siloed baseline is every department running its own instance of \
         every offering it uses, on its own nodes; both are priced on whole nodes of each \
         pool's node shape.</p>",
    );
    let instances = i64::try_from(r.shared_instances.len()).unwrap_or(i64::MAX);
    let mut tb = Table::new(&["measure", "consolidated", "siloed", "saved"]);
    tb.row(vec![
        t("shared offering instances"),
        n(instances.to_string()),
        n((instances + s.instances_saved).to_string()),
        n(s.instances_saved.to_string()),
    ]);
    tb.row(vec![
        t("nodes"),
        n(s.nodes_consolidated.to_string()),
        n(s.nodes_siloed.to_string()),
        n(s.nodes_saved.to_string()),
    ]);
    tb.row(vec![
        t(format!("cost per month ({})", r.currency)),
        n(money(s.monthly_cost_consolidated)),
        n(money(s.monthly_cost_siloed)),
        n(money(s.monthly_cost_saved)),
    ]);
    tb.row(vec![
        t("CPU utilisation"),
        n(percent(s.utilisation_consolidated.cpu)),
        n(percent(s.utilisation_siloed.cpu)),
        t("-"),
    ]);
    tb.row(vec![
        t("memory utilisation"),
        n(percent(s.utilisation_consolidated.memory)),
        n(percent(s.utilisation_siloed.memory)),
        t("-"),
    ]);
    tb.finish(out);
}

fn department(d: &DepartmentReport, currency: &str, measured: bool, out: &mut String) {
    let _ = write!(out, "<h3 id=\"dept-{}\">{}", esc(&d.name), esc(&d.name));
    if let Some(name) = &d.display_name {
        let _ = write!(out, " — {}", esc(name));
    }
    out.push_str("</h3>");
    let _ = write!(
        out,
        "<p>Namespace <code>{}</code>, clearance level {}, code {}, cost centre {}. Charged <b>{} {}</b> a month.</p>",
        esc(&d.namespace),
        d.security_clearance,
        esc(d.code.as_deref().unwrap_or("-")),
        esc(d.cost_centre.as_deref().unwrap_or("-")),
        esc(&money(d.monthly_cost)),
        esc(currency)
    );
    let mut tb = Table::new(&["", "CPU", "memory", "services"]);
    tb.row(vec![
        t("quota granted"),
        n(cores_f64(d.quota.cpu)),
        n(memory(d.quota.memory)),
        n(d.quota.services.to_string()),
    ]);
    tb.row(vec![
        t("allocated"),
        n(format!(
            "{} ({})",
            cores(d.allocated.cpu_millis),
            percent(d.allocated_of_quota.cpu)
        )),
        n(format!(
            "{} ({})",
            memory(d.allocated.memory_bytes),
            percent(d.allocated_of_quota.memory)
        )),
        n(format!(
            "{} admitted, {} rejected",
            d.admitted_services, d.rejected_services
        )),
    ]);
    match (d.used, d.used_of_quota) {
        (Some(u), Some(q)) => tb.row(vec![
            t("used"),
            n(format!("{} ({})", cores(u.cpu_millis), percent(q.cpu))),
            n(format!("{} ({})", memory(u.memory_bytes), percent(q.memory))),
            t("-"),
        ]),
        _ => tb.row(vec![t("used"), t("not measured"), t("not measured"), t("-")]),
    }
    tb.finish(out);
    if d.services.is_empty() {
        out.push_str("<p class=\"muted\">No services.</p>");
    } else {
        services(&d.services, currency, measured, out);
    }
    if !d.tenancies.is_empty() {
        let mut tb = Table::new(&[
            "tenant service",
            "shared instance",
            "offering",
            "share",
            &format!("instance cost/month ({currency})"),
            &format!("apportioned cost/month ({currency})"),
        ]);
        for s in &d.tenancies {
            tb.row(vec![
                t(s.service.clone()),
                t(s.instance.clone()),
                t(s.offering.clone()),
                n(share(s.share)),
                n(money(s.instance_monthly_cost)),
                n(money(s.monthly_cost)),
            ]);
        }
        tb.finish(out);
    }
    for r in &d.reasons {
        let _ = write!(
            out,
            "<p class=\"evidence bad\">Department refused: {} — {}</p>",
            esc(r.code.as_str()),
            esc(&r.message)
        );
    }
}

/// The services table; the used columns only when usage was measured (without it they
/// would say "not measured" on every row).
fn services(list: &[ServiceReport], currency: &str, measured: bool, out: &mut String) {
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
    header.extend([cost.as_str(), "refused"]);
    let mut tb = Table::new(&header);
    for s in list {
        let reasons: Vec<String> = s
            .reasons
            .iter()
            .map(|r| format!("{}: {}", r.code, r.message))
            .collect();
        let mut row = vec![
            t(s.name.clone()),
            n(s.security_level.to_string()),
            t(s.phase.as_str()),
            opt(s.pool.as_deref()),
            n(s.pool_security_level
                .map_or_else(|| "-".into(), |l| l.to_string())),
            Cell::Check(s.level_check),
            opt(s.shared_instance.as_deref()),
            n(s.instance_share.map_or_else(|| "-".into(), share)),
            n(cores(s.allocated.cpu_millis)),
            n(memory(s.allocated.memory_bytes)),
        ];
        if measured && s.pool.is_none() {
            // Nothing runs: there is nothing to measure.
            row.extend([t("-"), t("-")]);
        } else if measured {
            row.extend([used(s.used, cpu_of), used(s.used, mem_of)]);
        }
        row.extend([
            n(money(s.monthly_cost)),
            Cell::Long(if reasons.is_empty() {
                "-".into()
            } else {
                reasons.join("; ")
            }),
        ]);
        tb.row(row);
    }
    tb.finish(out);
}

fn pools(r: &Report, out: &mut String) {
    out.push_str("<h2>Pools</h2>");
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
    let mut tb = Table::new(&header);
    for p in &r.pools {
        let mut row = vec![
            t(p.name.clone()),
            n(p.security_level.to_string()),
            t(if p.cordoned { "yes" } else { "no" }),
            n(format!(
                "{} / {} ({})",
                cores(p.allocated.cpu_millis),
                cores(p.effective_capacity.cpu_millis),
                percent(p.utilisation.cpu)
            )),
            n(format!(
                "{} / {} ({})",
                memory(p.allocated.memory_bytes),
                memory(p.effective_capacity.memory_bytes),
                percent(p.utilisation.memory)
            )),
            n(p.services.to_string()),
            n(p.departments.to_string()),
            n(p.shared_instances.to_string()),
            n(money(p.monthly_cost)),
        ];
        if measured {
            row.splice(5..5, [used(p.used, cpu_of), used(p.used, mem_of)]);
        }
        tb.row(row);
    }
    tb.finish(out);
}

fn instances(r: &Report, out: &mut String) {
    out.push_str("<h2>Shared instances</h2>");
    if r.shared_instances.is_empty() {
        out.push_str("<p class=\"muted\">None.</p>");
        return;
    }
    let c = &r.currency;
    let mut tb = Table::new(&[
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
        "tenants",
    ]);
    for i in &r.shared_instances {
        let tenants: Vec<String> = i
            .tenants
            .iter()
            .map(|s| format!("{} ({})", s.service, money(s.monthly_cost)))
            .collect();
        tb.row(vec![
            t(i.name.clone()),
            t(i.offering.clone()),
            n(i.security_level.to_string()),
            opt(i.pool.as_deref()),
            n(i.pool_security_level
                .map_or_else(|| "-".into(), |l| l.to_string())),
            Cell::Check(i.level_check),
            n(format!("{} / {}", i.tenants.len(), i.seats)),
            n(money(i.monthly_cost)),
            n(money(i.charged_to_tenants)),
            n(money(i.vacant_monthly_cost)),
            Cell::Long(tenants.join(", ")),
        ]);
    }
    tb.finish(out);
    out.push_str(
        "<p class=\"muted\">Each tenant is charged 1/seats of its instance (rounded up), priced at \
         the pool's rates; seats nobody holds are borne by the platform.</p>",
    );
}

fn refusals(r: &Report, out: &mut String) {
    out.push_str("<h2>Refusals</h2>");
    if r.refusals.is_empty() {
        out.push_str("<p class=\"muted\">None.</p>");
        return;
    }
    let mut tb = Table::new(&["kind", "name", "department", "code", "message"]);
    for f in &r.refusals {
        tb.row(vec![
            t(f.kind),
            t(f.name.clone()),
            opt(f.department.as_deref()),
            t(f.code.as_str()),
            Cell::Long(f.message.clone()),
        ]);
    }
    tb.finish(out);
}

fn policies(r: &Report, out: &mut String) {
    out.push_str("<h2>Policy violations</h2>");
    let mut tb = Table::new(&["policy", "services refused", "problems with the policy"]);
    for p in &r.policies {
        let problems: Vec<String> = p
            .reasons
            .iter()
            .map(|r| format!("{}: {}", r.code, r.message))
            .collect();
        tb.row(vec![
            t(p.name.clone()),
            n(p.violations.to_string()),
            Cell::Long(if problems.is_empty() {
                "-".into()
            } else {
                problems.join("; ")
            }),
        ]);
    }
    tb.finish(out);
    let violations: Vec<&Refusal> = r
        .refusals
        .iter()
        .filter(|f| f.code == crate::plan::ReasonCode::PolicyViolation)
        .collect();
    if !violations.is_empty() {
        let mut tb = Table::new(&["service", "violation"]);
        for v in violations {
            tb.row(vec![t(v.name.clone()), Cell::Long(v.message.clone())]);
        }
        tb.finish(out);
    }
}
