//! `--output html`: one self-contained page (inline CSS and SVG charts, no script, no
//! external asset) that an auditor can open from a file share or attach to a finding.
//!
//! Written as maud templates, which escape every value they are given: no text reaches
//! the page unescaped but the SVG the report draws itself (`charts`).

mod charts;

use maud::{DOCTYPE, Markup, html};

use super::model::*;
use super::table::{Cell, Table, sections};
use super::text::{self, money};
use crate::units::percent;

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

/// A table, or what is said when it has no rows, then its notes.
pub(crate) fn table(t: &Table) -> Markup {
    html! {
        @if let (true, Some(empty)) = (t.rows.is_empty(), t.empty) {
            p class="muted" { (empty) }
        } @else {
            table {
                thead { tr { @for h in &t.columns { th { (h) } } } }
                tbody { @for row in &t.rows { tr { @for c in row { (cell(c)) } } } }
            }
            @for note in &t.notes { p class="muted" { (note) } }
        }
    }
}

/// A cell as the page shows it: figures right-aligned, free text wrapping, the level
/// check coloured, reasons with their messages (the page has no list of them below).
fn cell(c: &Cell) -> Markup {
    match c {
        Cell::Check(s) => {
            let class = match s {
                LevelStatus::Ok => "ok",
                LevelStatus::NotPlaced => "muted",
                LevelStatus::BelowLevel | LevelStatus::UnknownPool => "bad",
            };
            let mark = if *s == LevelStatus::Ok { "✓ ok" } else { s.mark() };
            html! { td class=(class) { (mark) } }
        }
        Cell::Reasons(reasons) => {
            let all: Vec<String> = reasons
                .iter()
                .map(|r| format!("{}: {}", r.code, r.message))
                .collect();
            let shown = if all.is_empty() {
                "-".to_owned()
            } else {
                all.join("; ")
            };
            html! { td class="long" { (shown) } }
        }
        Cell::Long(t) => html! { td class="long" { (t) } },
        c if c.is_figure() => html! { td class="num" { (text::cell(c)) } },
        c => html! { td { (text::cell(c)) } },
    }
}

/// A self-contained page in the report's style: `title` in the head and the header,
/// `subtitle` under it, `main` below, `extra_style` after the shared style.
pub(crate) fn page(title: &str, extra_style: &str, subtitle: Markup, main: Markup) -> String {
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (STYLE) (extra_style) }
            }
            body {
                header {
                    h1 { (title) }
                    (subtitle)
                }
                main { (main) }
            }
        }
    };
    page.into_string() + "\n"
}

/// The whole report as an HTML page.
pub fn render(r: &Report) -> String {
    let c = &r.currency;
    let source = match r.source {
        Source::Manifests => "manifests",
        Source::Cluster => "the live cluster",
    };
    let level_check = &r.summary.level_check;
    let evidence = if level_check.holds {
        "evidence ok"
    } else {
        "evidence bad"
    };
    let measured = r.measured();
    let subtitle = html! {
                    p {
                        "Estate read from " (source) "; money in " (c)
                        " per month (730 h); usage " (text::usage_origin(r)) "."
                    }
    };
    let main = html! {
                    (cards(r))
                    div class=(evidence) id="level-check" {
                        "Security levels: " (level_check.statement) "."
                    }
                    (charts::charts(r))
                    h2 { "Savings against the siloed baseline" }
                    p class="muted" {
                        "The siloed baseline is every department running its own instance of \
                         every offering it uses, on its own nodes; both are priced on whole \
                         nodes of each pool's node shape."
                    }
                    (table(&sections::savings(&r.savings, r.shared_instances.len(), Some(&r.currency))))
                    h2 { "Departments" }
                    @for d in &r.departments { (department(d, c, measured)) }
                    @if !r.unowned_services.is_empty() {
                        h3 { "Services of no department" }
                        (table(&sections::services(&r.unowned_services, c, measured)))
                    }
                    h2 { "Pools" }
                    (table(&sections::pools(r)))
                    h2 { "Shared instances" }
                    (table(&sections::instances(r)))
                    @if let Some(t) = sections::tenants(r) { (table(&t)) }
                    h2 { "Refusals" }
                    (table(&sections::refusals(r)))
                    h2 { "Pending changes" }
                    (table(&sections::pending_changes(&r.pending_changes)))
                    h2 { "Policy violations" }
                    (table(&sections::policies(r)))
                    @if let Some(t) = sections::violations(r) { (table(&t)) }
    };
    page("govcloud estate report", "", subtitle, main)
}

/// The headline figures, one card each.
fn cards(r: &Report) -> Markup {
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
    html! {
        div class="cards" {
            @for (number, text) in &cards {
                div class="card" { div class="n" { (number) } div class="t" { (text) } }
            }
        }
    }
}

fn department(d: &DepartmentReport, currency: &str, measured: bool) -> Markup {
    html! {
        h3 id={ "dept-" (d.name) } {
            (d.name)
            @if let Some(name) = &d.display_name { " — " (name) }
        }
        p {
            "Namespace " code { (d.namespace) } ", clearance level " (d.security_clearance)
            ", code " (d.code.as_deref().unwrap_or("-"))
            ", cost centre " (d.cost_centre.as_deref().unwrap_or("-"))
            ". Charged " b { (money(d.monthly_cost)) " " (currency) } " a month."
        }
        (table(&sections::department_figures(d)))
        @if d.services.is_empty() {
            p class="muted" { "No services." }
        } @else {
            (table(&sections::services(&d.services, currency, measured)))
        }
        @if let Some(t) = sections::tenancies(d, currency) { (table(&t)) }
        @for r in &d.reasons {
            p class="evidence bad" { "Department refused: " (r.code.as_str()) " — " (r.message) }
        }
    }
}
