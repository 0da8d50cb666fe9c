//! The report's tables, each built once from the [`Report`] for every human format.

use super::{Cell, Table};
use crate::plan::{ReasonCode, Savings};
use crate::quantity::Res;
use crate::report::model::*;

/// Consolidated against siloed: instances, nodes, cost and utilisation. The one savings
/// table, of the plan (`govcloud plan --output table`) and of the report alike:
/// `instances` is the plan's shared instances, `currency` labels the cost when known.
pub fn savings(s: &Savings, instances: usize, currency: Option<&str>) -> Table {
    let instances = i64::try_from(instances).unwrap_or(i64::MAX);
    let mut t = Table::new(["measure", "consolidated", "siloed", "saved"]);
    t.row(vec![
        Cell::text("shared offering instances"),
        Cell::Count(instances),
        Cell::Count(instances.saturating_add(s.instances_saved)),
        Cell::Count(s.instances_saved),
    ]);
    t.row(vec![
        Cell::text("nodes"),
        Cell::Count(s.nodes_consolidated),
        Cell::Count(s.nodes_siloed),
        Cell::Count(s.nodes_saved),
    ]);
    t.row(vec![
        Cell::text(currency.map_or_else(|| "cost per month".into(), |c| format!("cost per month ({c})"))),
        Cell::Money(s.monthly_cost_consolidated),
        Cell::Money(s.monthly_cost_siloed),
        Cell::Money(s.monthly_cost_saved),
    ]);
    t.row(vec![
        Cell::text("CPU utilisation"),
        Cell::Percent(s.utilisation_consolidated.cpu),
        Cell::Percent(s.utilisation_siloed.cpu),
        Cell::Absent,
    ]);
    t.row(vec![
        Cell::text("memory utilisation"),
        Cell::Percent(s.utilisation_consolidated.memory),
        Cell::Percent(s.utilisation_siloed.memory),
        Cell::Absent,
    ]);
    t
}

/// A department's quota granted, allocated and used.
pub fn department_figures(d: &DepartmentReport) -> Table {
    let mut t = Table::new(["", "CPU", "memory", "services"]);
    t.row(vec![
        Cell::text("quota granted"),
        Cell::CoresF64(d.quota.cpu),
        Cell::Memory(d.quota.memory),
        Cell::count(d.quota.services),
    ]);
    t.row(vec![
        Cell::text("allocated"),
        Cell::of_whole(Cell::Cores(d.allocated.cpu_millis), d.allocated_of_quota.cpu),
        Cell::of_whole(
            Cell::Memory(d.allocated.memory_bytes),
            d.allocated_of_quota.memory,
        ),
        Cell::text(format!(
            "{} admitted, {} rejected",
            d.admitted_services, d.rejected_services
        )),
    ]);
    let (cpu, memory) = used_of(d.used, d.used_of_quota.map(|q| (q.cpu, q.memory)));
    t.row(vec![Cell::text("used"), cpu, memory, Cell::Absent]);
    t
}

/// Used CPU and memory with their ratios, or "not measured" for both.
fn used_of(used: Option<Res>, ratio: Option<(f64, f64)>) -> (Cell, Cell) {
    match (used, ratio) {
        (Some(u), Some((cpu, memory))) => (
            Cell::of_whole(Cell::Cores(u.cpu_millis), cpu),
            Cell::of_whole(Cell::Memory(u.memory_bytes), memory),
        ),
        _ => (Cell::NotMeasured, Cell::NotMeasured),
    }
}

/// Services with their pools and the level check; the used columns only when usage was
/// measured (without it they would say "not measured" on every row).
pub fn services(list: &[ServiceReport], currency: &str, measured: bool) -> Table {
    let mut header = vec![
        "service".to_owned(),
        "level".into(),
        "phase".into(),
        "pool".into(),
        "pool level".into(),
        "level check".into(),
        "shared instance".into(),
        "share".into(),
        "CPU".into(),
        "memory".into(),
    ];
    if measured {
        header.extend(["used CPU".into(), "used memory".into()]);
    }
    header.extend([format!("cost/month ({currency})"), "reasons".into()]);
    let mut t = Table::new(header);
    for s in list {
        let mut row = vec![
            Cell::text(&s.name),
            Cell::Level(Some(s.security_level)),
            Cell::Phase(s.phase),
            Cell::name(s.pool.as_deref()),
            Cell::Level(s.pool_security_level),
            Cell::Check(s.level_check),
            Cell::name(s.shared_instance.as_deref()),
            Cell::Share(s.instance_share),
            Cell::Cores(s.allocated.cpu_millis),
            Cell::Memory(s.allocated.memory_bytes),
        ];
        if measured && s.pool.is_none() {
            // Nothing runs: there is nothing to measure.
            row.extend([Cell::Absent, Cell::Absent]);
        } else if measured {
            row.extend(match s.used {
                Some(u) => [Cell::Cores(u.cpu_millis), Cell::Memory(u.memory_bytes)],
                None => [Cell::NotMeasured, Cell::NotMeasured],
            });
        }
        row.extend([Cell::Money(s.monthly_cost), Cell::Reasons(s.reasons.clone())]);
        t.row(row);
    }
    t
}

/// A department's seats in shared instances; `None` when it holds none.
pub fn tenancies(d: &DepartmentReport, currency: &str) -> Option<Table> {
    if d.tenancies.is_empty() {
        return None;
    }
    let mut t = Table::new([
        "tenant service".to_owned(),
        "shared instance".into(),
        "offering".into(),
        "share".into(),
        format!("instance cost/month ({currency})"),
        format!("apportioned cost/month ({currency})"),
    ]);
    for s in &d.tenancies {
        t.row(vec![
            Cell::text(&s.service),
            Cell::text(&s.instance),
            Cell::text(&s.offering),
            Cell::Share(Some(s.share)),
            Cell::Money(s.instance_monthly_cost),
            Cell::Money(s.monthly_cost),
        ]);
    }
    Some(t)
}

/// A pool's CPU and memory allocated of its capacity (× overcommit), with the ratios:
/// the two allocation cells of every table of pools.
pub fn allocated_of(allocated: Res, capacity: Res, utilisation: &crate::plan::Ratio) -> [Cell; 2] {
    [
        Cell::fraction(
            Cell::Cores(allocated.cpu_millis),
            Cell::Cores(capacity.cpu_millis),
            Some(utilisation.cpu),
        ),
        Cell::fraction(
            Cell::Memory(allocated.memory_bytes),
            Cell::Memory(capacity.memory_bytes),
            Some(utilisation.memory),
        ),
    ]
}

pub fn pools(r: &Report) -> Table {
    let measured = r.measured();
    let mut header = vec![
        "pool".to_owned(),
        "level".into(),
        "cordoned".into(),
        "CPU allocated / capacity".into(),
        "memory allocated / capacity".into(),
    ];
    if measured {
        // After the allocation columns, as in the services table.
        header.extend(["CPU used".into(), "memory used".into()]);
    }
    header.extend([
        "services".into(),
        "departments".into(),
        "instances".into(),
        format!("cost/month ({})", r.currency),
    ]);
    let mut t = Table::new(header);
    for p in &r.pools {
        let mut row = vec![
            Cell::text(&p.name),
            Cell::Level(Some(p.security_level)),
            Cell::text(if p.cordoned { "yes" } else { "no" }),
        ];
        row.extend(allocated_of(p.allocated, p.effective_capacity, &p.utilisation));
        if measured {
            let (cpu, memory) = used_of(p.used, p.used_utilisation.map(|q| (q.cpu, q.memory)));
            row.extend([cpu, memory]);
        }
        row.extend([
            Cell::count(p.services),
            Cell::count(p.departments),
            Cell::count(p.shared_instances),
            Cell::Money(p.monthly_cost),
        ]);
        t.row(row);
    }
    t.note("Capacity is after overcommit; cost is the chargeback of what is allocated.")
}

pub fn instances(r: &Report) -> Table {
    let c = &r.currency;
    let mut t = Table::new([
        "instance".to_owned(),
        "offering".into(),
        "level".into(),
        "pool".into(),
        "pool level".into(),
        "level check".into(),
        "tenants / seats".into(),
        format!("cost/month ({c})"),
        format!("charged to tenants ({c})"),
        format!("vacant seats ({c})"),
    ]);
    for i in &r.shared_instances {
        t.row(vec![
            Cell::text(&i.name),
            Cell::text(&i.offering),
            Cell::Level(Some(i.security_level)),
            Cell::name(i.pool.as_deref()),
            Cell::Level(i.pool_security_level),
            Cell::Check(i.level_check),
            Cell::fraction(Cell::count(i.tenants.len()), Cell::count(i.seats), None),
            Cell::Money(i.monthly_cost),
            Cell::Money(i.charged_to_tenants),
            Cell::Money(i.vacant_monthly_cost),
        ]);
    }
    t.or_else("None.").note(
        "Each tenant is charged 1/seats of its instance (rounded up), priced at the pool's \
         rates; seats nobody holds are borne by the platform.",
    )
}

/// Every tenant of every shared instance, with what it pays; `None` without instances.
pub fn tenants(r: &Report) -> Option<Table> {
    let mut t = Table::new([
        "instance".to_owned(),
        "tenant".into(),
        "department".into(),
        "share".into(),
        format!("cost/month ({})", r.currency),
    ]);
    for i in &r.shared_instances {
        for s in &i.tenants {
            t.row(vec![
                Cell::text(&i.name),
                Cell::text(&s.service),
                Cell::name(s.department.as_deref()),
                Cell::Share(Some(s.share)),
                Cell::Money(s.monthly_cost),
            ]);
        }
    }
    (!r.shared_instances.is_empty()).then_some(t)
}

pub fn refusals(r: &Report) -> Table {
    let mut t = Table::new(["kind", "name", "department", "code", "message"]);
    for f in &r.refusals {
        t.row(vec![
            Cell::text(f.kind),
            Cell::text(&f.name),
            Cell::name(f.department.as_deref()),
            Cell::text(f.code.as_str()),
            Cell::Long(f.message.clone()),
        ]);
    }
    t.or_else("None.")
}

pub fn policies(r: &Report) -> Table {
    let mut t = Table::new(["policy", "services refused", "problems with the policy"]);
    for p in &r.policies {
        let problems: Vec<String> = p
            .reasons
            .iter()
            .map(|r| format!("{}: {}", r.code, r.message))
            .collect();
        t.row(vec![
            Cell::text(&p.name),
            Cell::count(p.violations),
            Cell::Long(if problems.is_empty() {
                "-".into()
            } else {
                problems.join("; ")
            }),
        ]);
    }
    t
}

/// Each service a policy refused, with the violation; `None` when no policy refused any.
pub fn violations(r: &Report) -> Option<Table> {
    let mut t = Table::new(["service", "violation"]);
    for v in r
        .refusals
        .iter()
        .filter(|f| f.code == ReasonCode::PolicyViolation)
    {
        t.row(vec![Cell::text(&v.name), Cell::Long(v.message.clone())]);
    }
    (!t.rows.is_empty()).then_some(t)
}

/// Platform-driven changes that wait, with why and until when. The one table of the
/// plan (`PENDING CHANGES`) and of the report.
pub fn pending_changes(list: &[PendingChangeReport]) -> Table {
    let mut t = Table::new([
        "object",
        "change",
        "from",
        "to",
        "waiting for",
        "since",
        "next window",
    ]);
    for p in list {
        t.row(vec![
            Cell::text(format!("{} {}", p.kind, p.name)),
            Cell::text(format!("{:?}", p.change)),
            Cell::text(&p.from),
            Cell::text(&p.to),
            Cell::text(p.reason.as_str()),
            Cell::text(&p.since),
            Cell::name(p.next_window.as_deref()),
        ]);
    }
    t.or_else("No platform-driven change is waiting.")
        .note("A move waits on its current pool with capacity held on both; it goes ahead when the windows of its department (or offering) and both pools are open together, no exclusion covers the moment and the source pool has a free move slot. `govcloud.io/apply-now` carries it out at once.")
}
