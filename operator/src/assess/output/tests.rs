//! What a reader of each format sees, on assessments of small estates built here.

use crate::api::ResourceAmounts;
use crate::assess::inventory::State;
use crate::assess::mapping::NodeSettings;
use crate::assess::synthetic::{self, p95};
use crate::assess::{Assessment, Mapping, Server, assess};
use crate::plan::Snapshot;

use super::{html, markdown, sections, table};

const HOSTILE: &str = "<script>alert(1)</script> | `tick` \n# heading";

fn server(line: usize, name: &str, department: &str, system: Option<&str>) -> Server {
    Server {
        line,
        system: system.map(Into::into),
        cpu_utilisation: p95(0.10),
        memory_utilisation: p95(0.25),
        yearly_cost: Some(4000.0),
        power_watts: Some(250.0),
        ..synthetic::server(name, Some(department), 8, 32)
    }
}

/// Two departments each running a copy of payroll, a department's own portal, a server
/// with a hostile name, and a powered-off one.
fn estate() -> Vec<Server> {
    let mut off = server(5, "old-box", "finance", None);
    off.state = State::Off;
    vec![
        server(2, "fin-payroll", "finance", Some("payroll")),
        server(3, "hr-payroll", "human-resources", Some("payroll")),
        server(4, "health-portal", "health", None),
        off,
        server(6, HOSTILE, "health", None),
    ]
}

fn assessed(servers: &[Server], mapping: &Mapping, platform: &Snapshot) -> Assessment {
    match assess(servers, mapping, platform, 0.3) {
        Ok((a, _)) => a,
        Err(e) => panic!("the estate is assessed: {e:?}"),
    }
}

fn sized(servers: &[Server]) -> Assessment {
    assessed(servers, &Mapping::default(), &Snapshot::default())
}

/// Runs of whitespace as one space, so that grid rows compare whatever the widths.
fn squeezed(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_side_by_side_figures_read_the_same_in_every_format() {
    let a = sized(&estate());
    // Four placed servers of 8 cores and 32 GiB; right-sized, they fit one 16-core,
    // 64 GiB node at 80 %.
    assert_eq!((a.before.servers, a.after.nodes), (4, Some(1)));
    let md = markdown(&a, "CNY");
    for row in [
        "| servers → nodes | 4 | 1 | -3 (-75%) |",
        "| cores provisioned | 32 | 16 | -16 (-50%) |",
        "| memory provisioned | 128Gi | 64Gi | -64Gi (-50%) |",
        "| yearly cost (CNY) | 16,000.00 | not known | - |",
    ] {
        assert!(md.contains(row), "{row} in:\n{md}");
    }
    assert!(md.starts_with("# govcloud consolidation assessment\n"), "{md}");
    assert!(md.contains("× 1.3 (30% headroom)"), "{md}");
    assert!(md.contains("pools are sized here, per security level"), "{md}");

    let grid = squeezed(&table(&a, "CNY"));
    assert!(
        grid.contains("SIDE BY SIDE\nMEASURE TODAY ON THE PLATFORM CHANGE"),
        "{grid}"
    );
    assert!(grid.contains("servers → nodes 4 1 -3 (-75%)"), "{grid}");
    assert!(grid.contains("yearly cost (CNY) 16000.00 not known -"), "{grid}");

    let page = html(&a, "CNY");
    assert!(
        page.contains("<td>servers → nodes</td><td class=\"num\">4</td><td class=\"num\">1</td>"),
        "{page}"
    );
    assert!(page.contains("4 → 1"), "the nodes card: {page}");
}

#[test]
fn every_format_shows_every_section_in_order() {
    let a = sized(&estate());
    let titles: Vec<&str> = sections(&a, "CNY").iter().map(|s| s.title).collect();
    assert_eq!(
        titles,
        [
            "Side by side",
            "Shared systems",
            "Pools",
            "Servers",
            "Not assessed"
        ]
    );
    let (md, page, grid) = (markdown(&a, "CNY"), html(&a, "CNY"), table(&a, "CNY"));
    let at = |text: &str, needle: String| {
        text.find(&needle)
            .unwrap_or_else(|| panic!("{needle} in:\n{text}"))
    };
    for pair in titles.windows(2) {
        assert!(at(&md, format!("## {}\n", pair[0])) < at(&md, format!("## {}\n", pair[1])));
        assert!(at(&page, format!("<h2>{}</h2>", pair[0])) < at(&page, format!("<h2>{}</h2>", pair[1])));
        let upper = |t: &str| format!("\n{}", t.to_uppercase());
        assert!(at(&grid, upper(pair[0])) < at(&grid, upper(pair[1])));
    }
}

#[test]
fn a_shared_system_shows_the_instances_it_saves() {
    let a = sized(&estate());
    let md = markdown(&a, "CNY");
    // system, offering, departments, level, copies, instances, saved, tenants per
    // instance, and one instance sized from the largest copy (1.04 cores → 1.1; 10.4 GiB
    // → 10.5 on 128 MiB steps).
    let row = "| payroll | proposed | 2 | 2 | 2 | 1 | 1 | 5 | 1.1 | 10.5Gi |";
    assert!(md.contains(row), "{md}");
    assert!(md.contains("Sharing saves 1 instance in all."), "{md}");
    assert!(
        md.contains("- **Shared systems:** 1 shared (0 offered by the platform, 1 proposed)"),
        "{md}"
    );
    assert!(md.contains("| servers.csv:2 | fin-payroll | finance | 2 | payroll | tenant | 8 | 32Gi | seat on payroll | - | p95 |"), "{md}");
    let page = html(&a, "CNY");
    assert!(
        page.contains("2 copies") && page.contains("1 instance<"),
        "the chart: {page}"
    );
}

#[test]
fn a_powered_off_server_is_listed_as_left_out() {
    let a = sized(&estate());
    let md = markdown(&a, "CNY");
    let not_assessed = &md[md.find("## Not assessed").unwrap_or(0)..];
    assert!(
        not_assessed.contains("| servers.csv:5 | old-box | left out | powered off |"),
        "{md}"
    );
    assert!(
        md.contains("1 left out (powered off, suspended or templates)"),
        "{md}"
    );
    let grid = squeezed(&table(&a, "CNY"));
    assert!(
        grid.contains(
            "NOT ASSESSED (1)\nFILE:LINE SERVER OUTCOME WHY\nservers.csv:5 old-box left out powered off"
        ),
        "{grid}"
    );
}

#[test]
fn a_hostile_server_name_is_shown_not_obeyed() {
    let a = sized(&estate());
    let md = markdown(&a, "CNY");
    assert!(!md.contains("<script>"), "{md}");
    assert!(
        md.contains("| &lt;script&gt;alert(1)&lt;/script&gt; \\| \\`tick\\` ␊\\# heading |"),
        "{md}"
    );
    // The newline did not end a row: every line of the servers table is a row.
    let servers = &md[md.find("## Servers").unwrap_or(0)..md.find("## Not assessed").unwrap_or(md.len())];
    assert!(
        servers.lines().filter(|l| l.starts_with('|')).count() == 2 + 5,
        "{servers}"
    );

    let page = html(&a, "CNY");
    assert!(!page.contains("<script"), "{page}");
    assert!(
        page.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt; | `tick` \n# heading</td>"),
        "{page}"
    );

    let grid = table(&a, "CNY");
    assert!(
        grid.contains("<script>alert(1)</script> | `tick` ␊# heading"),
        "{grid}"
    );
}

#[test]
fn absent_figures_are_said_to_be_absent_not_zero() {
    let mut servers = estate();
    for s in &mut servers {
        s.yearly_cost = None;
    }
    servers[0].power_watts = None;
    let a = sized(&servers);
    let md = markdown(&a, "CNY");
    assert!(
        md.contains("| yearly cost (CNY) | not known | not known | - |"),
        "{md}"
    );
    assert!(
        md.contains("Yearly cost today is not known: no server the plan placed gives a yearly cost."),
        "{md}"
    );
    assert!(
        md.contains("no node price: set nodes.yearlyCost in the mapping"),
        "{md}"
    );
    // Three of the four placed servers give a draw: today's figure is theirs only.
    assert!(
        md.contains("| yearly energy (kWh) | 6570 | not known | - |"),
        "{md}"
    );
    assert!(md.contains("3 of 4 servers give a power draw"), "{md}");
    assert!(
        md.contains("no node power draw: set nodes.powerWatts in the mapping"),
        "{md}"
    );
    assert!(
        md.contains("- **Yearly cost (CNY):** not known → not known"),
        "{md}"
    );
    assert!(!md.contains("| 0.00 |"), "{md}");
}

#[test]
fn node_prices_and_draws_give_the_platforms_cost_and_energy() {
    let mapping = Mapping {
        nodes: Some(NodeSettings {
            shape: ResourceAmounts {
                cpu: "16".into(),
                memory: "64Gi".into(),
            },
            target_utilisation: 0.8,
            yearly_cost: Some(6000.0),
            power_watts: Some(400.0),
        }),
        ..Mapping::default()
    };
    let a = assessed(&estate(), &mapping, &Snapshot::default());
    let md = markdown(&a, "EUR");
    assert!(
        md.contains("| yearly cost (EUR) | 16,000.00 | 6,000.00 | -10,000.00 (-62%) |"),
        "{md}"
    );
    // 4 × 250 W and 1 × 400 W, all year: 8,760 and 3,504 kWh.
    assert!(
        md.contains("| yearly energy (kWh) | 8760 | 3504 | -5256 (-60%) |"),
        "{md}"
    );
    let page = html(&a, "EUR");
    assert!(
        page.contains("16,000.00 → 6,000.00 (-62%)"),
        "the cost card: {page}"
    );
    assert!(page.contains("8760 kWh"), "the chart has the energy: {page}");
}

#[test]
fn on_the_platforms_pools_without_node_shapes_nodes_are_not_known() {
    let platform = Snapshot {
        pools: vec![crate::synthetic::pool("general", 3, "64", "256Gi")],
        ..Snapshot::default()
    };
    let a = assessed(&estate(), &Mapping::default(), &platform);
    assert_eq!(a.after.nodes, None);
    let md = markdown(&a, "CNY");
    assert!(md.contains("| servers → nodes | 4 | not known | - |"), "{md}");
    assert!(
        md.contains("| mean CPU utilisation | 10% | not known | - |"),
        "{md}"
    );
    assert!(
        md.contains("a pool in use has no node shape (spec.nodeShape)"),
        "{md}"
    );
    assert!(md.contains("planned on the platform's own pools"), "{md}");
    let pools = &md[md.find("## Pools").unwrap_or(0)..md.find("## Servers").unwrap_or(md.len())];
    assert!(
        pools.contains("| pool | level | CPU allocated / capacity |"),
        "{pools}"
    );
    assert!(pools.contains("| general | 3 |"), "{pools}");
    let page = html(&a, "CNY");
    assert!(page.contains("Pools in use"), "{page}");
}

#[test]
fn the_page_is_self_contained_with_its_charts() {
    let a = sized(&estate());
    let page = html(&a, "CNY");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    for absent in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!page.contains(absent), "{absent} in the page");
    }
    assert_eq!(page.matches("<svg").count(), 4, "{page}");
    for caption in [
        "Provisioned today and on the platform",
        "Mean utilisation of what is provisioned",
        "Instances per shared system",
        "Nodes per security level",
    ] {
        assert!(page.contains(caption), "{caption}");
    }
    assert!(
        page.contains("<div class=\"n\">4 → 1</div><div class=\"t\">servers → nodes</div>"),
        "{page}"
    );
}
