//! The page's charts, drawn by the report's `svg::bars`: today against the platform,
//! utilisation before and after, copies against shared instances, and the pools.

use std::collections::BTreeMap;

use maud::{Markup, PreEscaped, html};

use super::sections::kwh;
use super::summary::plural;
use crate::assess::{Assessment, OfferingSource, PoolsFrom};
use crate::quantity::Res;
use crate::report::svg::{Group, Series, bars};
use crate::report::text::money;
use crate::units::{cores_f64, memory, percent};

const TODAY: Series = Series {
    name: "today",
    colour: "#94a3b8",
};
const PLATFORM: Series = Series {
    name: "on the platform",
    colour: "#2563eb",
};

/// A chart with its caption. `bars` escapes every text it draws, so its SVG goes in as is.
fn figure(caption: &str, svg: String) -> Markup {
    html! { figure { figcaption { (caption) } (PreEscaped(svg)) } }
}

/// Today and the platform as fractions of the larger, so that measures of different
/// units share a chart; the texts keep the figures.
fn pair(label: &str, today: (f64, String), platform: Option<(f64, String)>) -> Group {
    let whole = platform.as_ref().map_or(today.0, |p| p.0.max(today.0));
    let part = |v: f64| if whole > 0.0 { v / whole } else { 0.0 };
    Group {
        label: label.into(),
        values: vec![Some(part(today.0)), platform.as_ref().map(|p| part(p.0))],
        texts: vec![today.1, platform.map_or_else(|| "not known".into(), |p| p.1)],
        marker: None,
    }
}

pub(super) fn charts(a: &Assessment) -> Markup {
    let (b, p) = (&a.before, &a.after);
    let mut groups = vec![
        pair(
            "cores",
            (b.provisioned.cpu, cores_f64(b.provisioned.cpu)),
            p.provisioned.map(|p| (p.cpu, cores_f64(p.cpu))),
        ),
        pair(
            "memory",
            (b.provisioned.memory as f64, memory(b.provisioned.memory)),
            p.provisioned.map(|p| (p.memory as f64, memory(p.memory))),
        ),
    ];
    // Cost and energy only when every placed server gives today's: a part of the
    // estate drawn against the whole would show a saving that is not there.
    if let (Some(before), Some(after), true) =
        (b.yearly_cost, p.yearly_cost, b.servers_with_cost == b.servers)
    {
        groups.push(pair(
            "yearly cost",
            (before, money(before)),
            Some((after, money(after))),
        ));
    }
    if let (Some(before), Some(after), true) =
        (b.power_watts, p.power_watts, b.servers_with_power == b.servers)
    {
        let text = |w: f64| format!("{} kWh", kwh(w));
        groups.push(pair(
            "yearly energy",
            (before, text(before)),
            Some((after, text(after))),
        ));
    }
    let mut figures = vec![figure(
        "Provisioned today and on the platform (bars as a share of the larger)",
        bars(
            "Today and on the platform",
            &[TODAY, PLATFORM],
            &groups,
            Some(1.0),
        ),
    )];

    let utilisation = [
        ("CPU", b.utilisation.cpu, p.utilisation.map(|u| u.cpu)),
        ("memory", b.utilisation.memory, p.utilisation.map(|u| u.memory)),
    ]
    .map(|(label, before, after)| Group {
        label: label.into(),
        values: vec![Some(before), after],
        texts: vec![percent(before), after.map_or_else(|| "not known".into(), percent)],
        marker: None,
    });
    figures.push(figure(
        "Mean utilisation of what is provisioned",
        bars("Mean utilisation", &[TODAY, PLATFORM], &utilisation, Some(1.0)),
    ));

    figures.push(systems(a));
    figures.push(pools(a));
    html! {
        h2 { "Charts" }
        div class="charts" { @for f in &figures { (f) } }
    }
}

/// Per shared system, the copies run today against the shared instances replacing them.
fn systems(a: &Assessment) -> Markup {
    let mut totals: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for s in a
        .systems
        .iter()
        .filter(|s| s.offering != OfferingSource::NotShared)
    {
        let t = totals.entry(s.name.as_str()).or_default();
        for l in &s.levels {
            t.0 += l.copies;
            t.1 += l.instances;
        }
    }
    if totals.is_empty() {
        return html! { figure { figcaption { "Instances per shared system" } p class="muted" { "No system is shared." } } };
    }
    let groups: Vec<Group> = totals
        .into_iter()
        .map(|(name, (copies, instances))| Group {
            label: name.into(),
            values: vec![Some(copies as f64), Some(instances as f64)],
            texts: vec![
                plural(copies, "copy", "copies"),
                plural(instances, "instance", "instances"),
            ],
            marker: None,
        })
        .collect();
    let series = [
        Series {
            name: "copies today",
            colour: "#94a3b8",
        },
        Series {
            name: "shared instances",
            colour: "#16a34a",
        },
    ];
    figure(
        "Instances per shared system: copies today against shared instances",
        bars("Instances per shared system", &series, &groups, None),
    )
}

/// The sized pools' nodes per level, or how full the plan leaves the platform's pools.
fn pools(a: &Assessment) -> Markup {
    match a.pools_from {
        PoolsFrom::Sized => {
            let groups: Vec<Group> = a
                .sized_pools
                .iter()
                .map(|p| Group {
                    label: format!("level {}", p.security_level),
                    values: vec![Some(p.nodes as f64)],
                    texts: vec![plural(p.nodes, "node", "nodes")],
                    marker: None,
                })
                .collect();
            let series = [Series {
                name: "nodes",
                colour: "#0d9488",
            }];
            figure(
                "Nodes per security level in the pools sized here",
                bars("Nodes per security level", &series, &groups, None),
            )
        }
        PoolsFrom::Platform => {
            let groups: Vec<Group> = a
                .plan
                .pools
                .iter()
                .filter(|p| p.allocated != Res::ZERO)
                .map(|p| Group {
                    label: p.name.clone(),
                    values: vec![Some(p.utilisation.cpu), Some(p.utilisation.memory)],
                    texts: vec![percent(p.utilisation.cpu), percent(p.utilisation.memory)],
                    marker: Some(p.target_utilisation),
                })
                .collect();
            let series = [
                Series {
                    name: "CPU allocated",
                    colour: "#2563eb",
                },
                Series {
                    name: "memory allocated",
                    colour: "#7c3aed",
                },
            ];
            figure(
                "The platform's pools in use: allocated of capacity × overcommit (dashed: target)",
                bars("Pools in use", &series, &groups, Some(1.0)),
            )
        }
    }
}
