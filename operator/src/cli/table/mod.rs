//! `--output table`: the plan as a platform team reads it at a terminal.

pub(crate) mod grid;
#[cfg(test)]
mod tests;

use grid::section;

use crate::plan::Plan;
use crate::report::table::{Cell, Table, sections};

/// The plan in sections: services, pools, departments, shared instances, refusals, savings.
pub fn table(plan: &Plan) -> String {
    let mut out = String::new();
    let sections = [
        ("SERVICES", services(plan), true),
        ("POOLS", pools(plan), true),
        ("DEPARTMENTS", departments(plan), true),
        ("SHARED INSTANCES", shared_instances(plan), true),
        ("REFUSALS", refusal_rows(plan), true),
        (
            "PENDING CHANGES",
            sections::pending_changes(&crate::report::PendingChangeReport::all(plan)),
            true,
        ),
        ("SAVINGS", savings(plan), false),
    ];
    for (i, (title, table, counted)) in sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        section(title, table, *counted, &mut out);
    }
    out
}

fn services(plan: &Plan) -> Table {
    let mut t = Table::new([
        "NAMESPACE",
        "NAME",
        "LEVEL",
        "PHASE",
        "POOL",
        "INSTANCE",
        "CPU",
        "MEMORY",
        "REASON",
    ]);
    for s in &plan.services {
        t.row(vec![
            Cell::text(&s.namespace),
            Cell::text(&s.name),
            Cell::Level(Some(s.security_level)),
            Cell::Phase(s.phase),
            Cell::name(s.pool.as_deref()),
            Cell::name(s.shared_instance.as_deref()),
            Cell::Cores(s.allocated.cpu_millis),
            Cell::Memory(s.allocated.memory_bytes),
            Cell::Reasons(s.reasons.clone()),
        ]);
    }
    t
}

fn pools(plan: &Plan) -> Table {
    let mut t = Table::new([
        "NAME",
        "LEVEL",
        "CORDONED",
        "CPU ALLOC/CAP",
        "MEM ALLOC/CAP",
        "CPU%",
        "MEM%",
        "SERVICES",
        "DEPARTMENTS",
        "INSTANCES",
        "COST/MONTH",
    ]);
    for p in &plan.pools {
        // Against capacity × overcommit, the limit placement fills to, so that the
        // percentages are these two numbers divided.
        let (alloc, cap) = (p.allocated, p.effective_capacity);
        t.row(vec![
            Cell::text(&p.name),
            Cell::Level(Some(p.security_level)),
            Cell::text(p.cordoned.to_string()),
            Cell::fraction(Cell::Cores(alloc.cpu_millis), Cell::Cores(cap.cpu_millis), None),
            Cell::fraction(
                Cell::Memory(alloc.memory_bytes),
                Cell::Memory(cap.memory_bytes),
                None,
            ),
            Cell::Percent(p.utilisation.cpu),
            Cell::Percent(p.utilisation.memory),
            Cell::count(p.services),
            Cell::count(p.departments),
            Cell::count(p.shared_instances),
            Cell::Money(p.monthly_cost),
        ]);
    }
    t
}

fn departments(plan: &Plan) -> Table {
    let mut t = Table::new([
        "NAME",
        "NAMESPACE",
        "CLEARANCE",
        "CPU USED/QUOTA",
        "MEM USED/QUOTA",
        "SERVICES",
        "REJECTED",
        "COST/MONTH",
    ]);
    for d in &plan.departments {
        t.row(vec![
            Cell::text(&d.name),
            Cell::text(&d.namespace),
            Cell::Level(Some(d.security_clearance)),
            Cell::fraction(
                Cell::Cores(d.allocated.cpu_millis),
                Cell::CoresF64(d.quota.cpu),
                None,
            ),
            Cell::fraction(
                Cell::Memory(d.allocated.memory_bytes),
                Cell::Memory(d.quota.memory),
                None,
            ),
            Cell::fraction(Cell::count(d.services), Cell::count(d.quota.services), None),
            Cell::count(d.rejected_services),
            Cell::Money(d.monthly_cost),
        ]);
    }
    t
}

fn shared_instances(plan: &Plan) -> Table {
    let mut t = Table::new(["OFFERING", "INSTANCE", "LEVEL", "POOL", "TENANTS"]);
    for o in &plan.offerings {
        for i in &o.instances {
            t.row(vec![
                Cell::text(&o.name),
                Cell::text(&i.name),
                Cell::Level(Some(i.security_level)),
                Cell::name(i.pool.as_deref()),
                Cell::count(i.tenants.len()),
            ]);
        }
    }
    t
}

fn refusal_rows(plan: &Plan) -> Table {
    let mut t = Table::new(["KIND", "NAME", "CODE", "MESSAGE"]);
    for r in plan.refusals() {
        t.row(vec![
            Cell::text(r.kind),
            Cell::text(r.name),
            Cell::text(r.reason.code.as_str()),
            Cell::Long(r.reason.message.clone()),
        ]);
    }
    t
}

/// The report's savings table: the plan has no currency of its own.
fn savings(plan: &Plan) -> Table {
    let instances = plan.offerings.iter().map(|o| o.instances.len()).sum();
    sections::savings(&plan.savings, instances, None)
}
