//! The assessment's tables, each built once for every human format, as the report's
//! are (`report::table::sections`): the terminal grid, Markdown and HTML only render them.

use crate::assess::{Amount, Assessment, OfferingSource, Outcome, PoolsFrom, ServerAssessment};
use crate::report::table::sections::allocated_of;
use crate::report::table::{Cell, Table};

/// Kilowatt-hours a year per watt drawn all year: 8,760 h / 1,000.
pub const KWH_PER_WATT_YEAR: f64 = 8.76;

/// A titled table and what is said after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub title: &'static str,
    pub table: Table,
    /// Whether its rows are things to count (servers, pools), so that the terminal says
    /// how many; the side-by-side rows are measures.
    pub counted: bool,
    /// Plain-text sentences made from the assessment (the table's own notes are fixed
    /// text): why a figure is absent, what a figure covers. Each format escapes them.
    pub notes: Vec<String>,
}

/// Every table of the assessment, in reading order.
pub fn sections(a: &Assessment, currency: &str) -> Vec<Section> {
    vec![
        side_by_side(a, currency),
        shared_systems(a),
        pools(a),
        servers(a),
        not_assessed(a),
    ]
}

/// What a figure that the inputs do not give reads as: "-" would read as "nothing" and 0
/// as a saving.
fn unknown() -> Cell {
    Cell::text("not known")
}

/// After against before, with the change's ratio of today's figure when there is one.
fn change(before: f64, after: Option<f64>, cell: impl Fn(f64) -> Cell) -> Cell {
    match after {
        Some(after) if before > 0.0 => Cell::of_whole(cell(after - before), (after - before) / before),
        Some(after) => cell(after - before),
        None => Cell::Absent,
    }
}

fn points(before: f64, after: Option<f64>) -> Cell {
    after.map_or(Cell::Absent, |after| {
        // + 0.0 turns a rounded -0 into 0: "-0 points" would read as a fall.
        let change = ((after - before) * 100.0).round() + 0.0;
        let unit = if change.abs() == 1.0 { "point" } else { "points" };
        Cell::text(format!("{change:+.0} {unit}"))
    })
}

/// Yearly kilowatt-hours of a draw in watts (`as` saturates: no wrap on absurd input).
pub fn kwh(watts: f64) -> i64 {
    (watts * KWH_PER_WATT_YEAR).round() as i64
}

/// The headline: the placed servers as they run today against the nodes that would host
/// them.
fn side_by_side(a: &Assessment, currency: &str) -> Section {
    let (b, p) = (&a.before, &a.after);
    let mut t = Table::new(["measure", "today", "on the platform", "change"]);
    let nodes = p.nodes.map(|n| n as f64);
    t.row(vec![
        Cell::text("servers → nodes"),
        Cell::Count(b.servers),
        p.nodes.map_or_else(unknown, Cell::Count),
        change(b.servers as f64, nodes, |d| Cell::Count(d as i64)),
    ]);
    let cpu = p.provisioned.map(|p| p.cpu);
    t.row(vec![
        Cell::text("cores provisioned"),
        Cell::CoresF64(b.provisioned.cpu),
        cpu.map_or_else(unknown, Cell::CoresF64),
        change(b.provisioned.cpu, cpu, Cell::CoresF64),
    ]);
    let memory = p.provisioned.map(|p| p.memory);
    t.row(vec![
        Cell::text("memory provisioned"),
        Cell::Memory(b.provisioned.memory),
        memory.map_or_else(unknown, Cell::Memory),
        change(b.provisioned.memory as f64, memory.map(|m| m as f64), |d| {
            Cell::Memory(d as i64)
        }),
    ]);
    for (what, before, after) in [
        (
            "mean CPU utilisation",
            b.utilisation.cpu,
            p.utilisation.map(|u| u.cpu),
        ),
        (
            "mean memory utilisation",
            b.utilisation.memory,
            p.utilisation.map(|u| u.memory),
        ),
    ] {
        t.row(vec![
            Cell::text(what),
            Cell::Percent(before),
            after.map_or_else(unknown, Cell::Percent),
            points(before, after),
        ]);
    }
    // A change is worked out only when every placed server gives today's figure: a
    // part of the estate against the whole of it would show a saving that is not there.
    let complete = |with: i64| with == b.servers && b.servers > 0;
    let cost_complete = complete(b.servers_with_cost);
    t.row(vec![
        Cell::text(format!("yearly cost ({currency})")),
        b.yearly_cost.map_or_else(unknown, Cell::Money),
        p.yearly_cost.map_or_else(unknown, Cell::Money),
        match b.yearly_cost {
            Some(before) if cost_complete => change(before, p.yearly_cost, Cell::Money),
            _ => Cell::Absent,
        },
    ]);
    let power_complete = complete(b.servers_with_power);
    let (before_kwh, after_kwh) = (b.power_watts.map(kwh), p.power_watts.map(kwh));
    t.row(vec![
        Cell::text("yearly energy (kWh)"),
        before_kwh.map_or_else(unknown, Cell::Count),
        after_kwh.map_or_else(unknown, Cell::Count),
        match before_kwh {
            Some(before) if power_complete => change(before as f64, after_kwh.map(|k| k as f64), |d| {
                Cell::Count(d as i64)
            }),
            _ => Cell::Absent,
        },
    ]);
    let table = t.note(
        "Mean utilisation is measured use over what is provisioned, weighted by size; a \
         server never measured counts as fully used, as it is sized.",
    );
    Section {
        title: "Side by side",
        table,
        counted: false,
        notes: side_by_side_notes(a),
    }
}

/// What the side-by-side figures cover and why any is absent.
fn side_by_side_notes(a: &Assessment) -> Vec<String> {
    let (b, p) = (&a.before, &a.after);
    let mut notes = vec![format!(
        "Both sides are the {} servers the plan placed; servers left out, not assessed or \
         refused by the plan are on neither.",
        b.servers
    )];
    if p.nodes.is_none() {
        notes.push(
            "Nodes on the platform, what they provide and their utilisation are not known: a \
             pool in use has no node shape (spec.nodeShape) to count whole nodes of."
                .into(),
        );
    }
    let partial = |figure: &str, given: &str, with: i64| match with {
        0 => Some(format!(
            "{figure} today is not known: no server the plan placed gives {given}."
        )),
        n if n < b.servers => Some(format!(
            "{n} of {} servers give {given}: {} today is theirs only, so no change is \
             worked out.",
            b.servers,
            figure.to_lowercase()
        )),
        _ => None,
    };
    notes.extend(partial("Yearly cost", "a yearly cost", b.servers_with_cost));
    match (p.yearly_cost, a.pools_from) {
        (None, PoolsFrom::Sized) => notes.push(
            "Yearly cost on the platform is not known: no node price: set nodes.yearlyCost in \
             the mapping."
                .into(),
        ),
        (None, PoolsFrom::Platform) => notes.push(
            "Yearly cost on the platform is not known: no node price (nodes.yearlyCost in the \
             mapping, with node shapes on the pools) and the pools in use charge nothing \
             (spec.cost)."
                .into(),
        ),
        (Some(cost), PoolsFrom::Platform) if is_chargeback(a, cost) => notes.push(
            "Yearly cost on the platform is the pools' chargeback of what is allocated (12 × \
             the monthly cost), for want of a node price (nodes.yearlyCost in the mapping)."
                .into(),
        ),
        _ => {}
    }
    notes.extend(partial("Yearly energy", "a power draw", b.servers_with_power));
    if p.power_watts.is_none() && p.nodes.is_some() {
        notes.push(
            "Yearly energy on the platform is not known: no node power draw: set \
             nodes.powerWatts in the mapping."
                .into(),
        );
    }
    notes
}

/// Whether the platform's cost is the pools' chargeback rather than whole nodes priced.
fn is_chargeback(a: &Assessment, cost: f64) -> bool {
    let monthly: f64 = a
        .plan
        .pools
        .iter()
        .filter(|p| p.allocated != crate::quantity::Res::ZERO)
        .map(|p| p.monthly_cost)
        .sum();
    (monthly * 12.0 - cost).abs() <= 1e-6 * cost.abs().max(1.0)
}

fn offering(source: OfferingSource) -> &'static str {
    match source {
        OfferingSource::Existing => "existing",
        OfferingSource::Proposed => "proposed",
        OfferingSource::NotShared => "not shared",
    }
}

/// Per system and level, copies today against the shared instances that replace them.
fn shared_systems(a: &Assessment) -> Section {
    let mut t = Table::new([
        "system",
        "offering",
        "departments",
        "level",
        "copies today",
        "shared instances",
        "instances saved",
        "tenants per instance",
        "instance CPU",
        "instance memory",
    ]);
    for s in &a.systems {
        let shared = s.offering != OfferingSource::NotShared;
        let head = |level: Cell, copies: Cell, instances: Cell, saved: Cell| {
            vec![
                Cell::text(&s.name),
                Cell::text(offering(s.offering)),
                Cell::count(s.departments),
                level,
                copies,
                instances,
                saved,
                if shared {
                    Cell::count(s.tenants_per_instance)
                } else {
                    Cell::Absent
                },
                if shared {
                    Cell::CoresF64(s.instance.cpu)
                } else {
                    Cell::Absent
                },
                if shared {
                    Cell::Memory(s.instance.memory)
                } else {
                    Cell::Absent
                },
            ]
        };
        if s.levels.is_empty() {
            // Every copy was refused by the plan: nothing placed to count.
            t.row(head(
                Cell::Level(None),
                Cell::Count(0),
                Cell::Count(0),
                Cell::Count(0),
            ));
        }
        for l in &s.levels {
            t.row(head(
                Cell::Level(Some(l.security_level)),
                Cell::Count(l.copies),
                Cell::Count(l.instances),
                Cell::Count(l.saved),
            ));
        }
    }
    let table = t.or_else("No server names a system.").note(
        "A system two or more departments run is shared: the platform's offering of that \
         name, or one proposed here, sized from the largest copy. Copies count the servers \
         the plan placed; a system one department runs stays its own workloads.",
    );
    Section {
        title: "Shared systems",
        table,
        counted: true,
        notes: vec![format!(
            "Sharing saves {} in all.",
            super::summary::plural(super::summary::instances_saved(a), "instance", "instances")
        )],
    }
}

/// The pools sized here, or the platform's pools the plan used.
fn pools(a: &Assessment) -> Section {
    match a.pools_from {
        PoolsFrom::Sized => {
            let mut t = Table::new([
                "pool",
                "level",
                "nodes",
                "CPU requested / capacity",
                "memory requested / capacity",
            ]);
            for p in &a.sized_pools {
                t.row(vec![
                    Cell::text(&p.name),
                    Cell::Level(Some(p.security_level)),
                    Cell::Count(p.nodes),
                    fraction(p.requested, p.capacity, |a| Cell::CoresF64(a.cpu), |a| a.cpu),
                    fraction(
                        p.requested,
                        p.capacity,
                        |a| Cell::Memory(a.memory),
                        |a| a.memory as f64,
                    ),
                ]);
            }
            let table = t.or_else("Nothing was proposed: no pool is needed.").note(
                "Sized per security level, as the platform gave no pools: whole nodes of the \
                 mapping's node shape (nodes.shape) at its target utilisation.",
            );
            Section {
                title: "Pools",
                table,
                counted: true,
                notes: Vec::new(),
            }
        }
        PoolsFrom::Platform => {
            let mut t = Table::new([
                "pool",
                "level",
                "CPU allocated / capacity",
                "memory allocated / capacity",
                "services",
                "shared instances",
            ]);
            for p in a
                .plan
                .pools
                .iter()
                .filter(|p| p.allocated != crate::quantity::Res::ZERO)
            {
                let [cpu, memory] = allocated_of(p.allocated, p.effective_capacity, &p.utilisation);
                t.row(vec![
                    Cell::text(&p.name),
                    Cell::Level(Some(p.security_level)),
                    cpu,
                    memory,
                    Cell::count(p.services),
                    Cell::count(p.shared_instances),
                ]);
            }
            let table = t
                .or_else("The plan placed nothing on the platform's pools.")
                .note("The platform's own pools the plan used; capacity is after overcommit.");
            Section {
                title: "Pools",
                table,
                counted: true,
                notes: Vec::new(),
            }
        }
    }
}

fn fraction(
    part: Amount,
    whole: Amount,
    cell: impl Fn(Amount) -> Cell,
    value: impl Fn(Amount) -> f64,
) -> Cell {
    let ratio = (value(whole) > 0.0).then(|| value(part) / value(whole));
    Cell::fraction(cell(part), cell(whole), ratio)
}

/// Every server the inventories list, in input order, with what became of it.
fn servers(a: &Assessment) -> Section {
    let mut t = Table::new([
        "file:line",
        "server",
        "department",
        "level",
        "system",
        "outcome",
        "CPU",
        "memory",
        "proposed CPU",
        "proposed memory",
        "basis",
        "pool",
        "note",
    ]);
    for s in &a.servers {
        let (cpu, memory) = proposed(s);
        t.row(vec![
            Cell::text(format!("{}:{}", s.file, s.line)),
            Cell::text(&s.server),
            Cell::name(s.department.as_deref()),
            Cell::Level(s.security_level),
            Cell::name(s.system.as_deref()),
            Cell::text(s.outcome.as_str()),
            Cell::CoresF64(s.provisioned.cpu),
            Cell::Memory(s.provisioned.memory),
            cpu,
            memory,
            basis(s),
            Cell::name(s.pool.as_deref()),
            s.why.clone().map_or(Cell::Absent, Cell::Long),
        ]);
    }
    let table = t.or_else("The inventories list no server.").note(
        "CPU and memory are what each server was given; proposed is what it would request, \
         per replica. A tenant requests nothing of its own: it takes a seat on a shared \
         instance of its offering.",
    );
    Section {
        title: "Servers",
        table,
        counted: true,
        notes: Vec::new(),
    }
}

fn proposed(s: &ServerAssessment) -> (Cell, Cell) {
    match (s.outcome, &s.offering, s.proposed) {
        (Outcome::Tenant, Some(o), _) => (Cell::text(format!("seat on {o}")), Cell::Absent),
        (_, _, Some(p)) => (Cell::CoresF64(p.cpu), Cell::Memory(p.memory)),
        _ => (Cell::Absent, Cell::Absent),
    }
}

fn basis(s: &ServerAssessment) -> Cell {
    match (s.cpu_basis, s.memory_basis) {
        (Some(cpu), Some(memory)) if cpu == memory => Cell::text(cpu.as_str()),
        (Some(cpu), Some(memory)) => Cell::text(format!("CPU {}, memory {}", cpu.as_str(), memory.as_str())),
        _ => Cell::Absent,
    }
}

fn not_assessed(a: &Assessment) -> Section {
    let mut t = Table::new(["file:line", "server", "outcome", "why"]);
    for n in &a.not_assessed {
        t.row(vec![
            Cell::text(format!("{}:{}", n.file, n.line)),
            Cell::text(&n.server),
            Cell::text(n.outcome.as_str()),
            Cell::Long(n.why.clone()),
        ]);
    }
    Section {
        title: "Not assessed",
        table: t.or_else("Every server listed was assessed and placed."),
        counted: true,
        notes: Vec::new(),
    }
}
