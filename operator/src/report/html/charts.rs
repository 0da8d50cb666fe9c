//! The report's charts: what each one plots, as inline SVG (`svg::bars`).

use maud::{Markup, PreEscaped, html};

use super::super::model::Report;
use super::super::svg::{Group, Series, bars};
use super::super::text::money;
use crate::quantity::Res;
use crate::units::{cores_f64, memory, percent};

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

fn gib(bytes: i64) -> f64 {
    bytes as f64 / f64::from(1u32 << 30)
}

/// A chart with its caption. The SVG is ours: `svg::bars` escapes every text it draws.
fn figure(caption: &str, svg: String) -> Markup {
    html! {
        figure { figcaption { (caption) } (PreEscaped(svg)) }
    }
}

/// The charts section: quota, allocation and use per department, pool utilisation, and
/// consolidated against siloed.
pub(super) fn charts(r: &Report) -> Markup {
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
    let mut figures = Vec::new();
    figures.push(figure(
        "CPU per department (cores): quota, allocated, used",
        bars("CPU per department", &series, &dept_groups(true), None),
    ));
    figures.push(figure(
        "Memory per department: quota, allocated, used",
        bars("Memory per department", &series, &dept_groups(false), None),
    ));

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
    figures.push(figure(
        "Pool utilisation of capacity × overcommit (dashed: target)",
        bars("Pool utilisation", &pool_series, &pool_groups, Some(1.0)),
    ));

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
    figures.push(figure(
        &format!(
            "Consolidated vs siloed: monthly cost and nodes (saved {} {} a month)",
            money(s.monthly_cost_saved),
            r.currency
        ),
        bars(
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
    ));
    html! {
        h2 { "Charts" }
        div class="charts" { @for f in &figures { (f) } }
    }
}
