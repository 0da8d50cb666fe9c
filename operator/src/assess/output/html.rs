//! `--output html`: one self-contained page, like the report's (its style, its table
//! renderer, inline SVG charts, no script, no external asset). maud escapes every value
//! it is given; the only markup not written by a template is the SVG `svg::bars` draws,
//! which escapes its own texts.

use maud::{Markup, html};

use super::charts::charts;
use super::sections::sections;
use super::summary::{self, Counts};
use crate::assess::Assessment;
use crate::report::html::{page, table};
use crate::units::percent;

/// What the report's style lacks: the cards' figures here are two, before and after.
const STYLE_MORE: &str = ".card .n{font-size:19px}\n.note{color:#475569;margin:4px 0 8px}\n";

pub fn html(a: &Assessment, currency: &str) -> String {
    let subtitle = html! {
        p { (summary::basis(a)) " Money in " (currency) " a year." }
    };
    let main = html! {
        (cards(a, currency))
        p { "Servers: " (Counts::of(a).sentence()) }
        p { "Shared systems: " (summary::sharing(a)) }
        (charts(a))
        @for s in sections(a, currency) {
            h2 { (s.title) }
            (table(&s.table))
            @for note in &s.notes { p class="note" { (note) } }
        }
    };
    page("govcloud consolidation assessment", STYLE_MORE, subtitle, main)
}

/// The headline figures, today → on the platform, one card each.
fn cards(a: &Assessment, currency: &str) -> Markup {
    let saving = match (a.before.yearly_cost, a.after.yearly_cost) {
        (Some(before), Some(after)) if before > 0.0 && a.before.servers_with_cost == a.before.servers => {
            format!(" ({})", percent((after - before) / before))
        }
        _ => String::new(),
    };
    let cards = [
        (summary::nodes(a), "servers → nodes".to_owned()),
        (summary::cores(a), "cores provisioned".to_owned()),
        (summary::memory_provisioned(a), "memory provisioned".to_owned()),
        (summary::cpu_utilisation(a), "mean CPU utilisation".to_owned()),
        (
            summary::memory_utilisation(a),
            "mean memory utilisation".to_owned(),
        ),
        (
            summary::instances_saved(a).to_string(),
            "instances saved by sharing".to_owned(),
        ),
        (
            format!("{}{saving}", summary::cost(a)),
            format!("yearly cost ({currency})"),
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
