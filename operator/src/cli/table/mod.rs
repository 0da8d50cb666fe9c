//! `--output table`: the plan as a platform team reads it at a terminal.

mod grid;
#[cfg(test)]
mod tests;

use grid::Grid;

use crate::plan::{Plan, ServicePlan};
use crate::units::{cores, cores_f64, memory, percent};

/// Two decimals and no thousands separators, as the plan's JSON has the figure
/// (`3709.86`), so that the table and the JSON can be compared by eye or by diff; the
/// report, read rather than diffed, groups thousands (`report::text::money`).
fn money(amount: f64) -> String {
    format!("{amount:.2}")
}

/// The plan in sections: services, pools, departments, shared instances, refusals, savings.
pub fn table(plan: &Plan) -> String {
    let mut out = String::new();
    let sections = [
        ("SERVICES", services(plan), true),
        ("POOLS", pools(plan), true),
        ("DEPARTMENTS", departments(plan), true),
        ("SHARED INSTANCES", shared_instances(plan), true),
        ("REFUSALS", refusal_rows(plan), true),
        ("SAVINGS", savings(plan), false),
    ];
    for (i, (title, grid, counted)) in sections.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        grid.section(title, *counted, &mut out);
    }
    out
}

fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

/// The first reason's code, and how many more the REFUSALS section lists.
fn reason_summary(s: &ServicePlan) -> String {
    match s.reasons.as_slice() {
        [] => "-".into(),
        [only] => only.code.to_string(),
        [first, rest @ ..] => format!("{} (+{})", first.code, rest.len()),
    }
}

fn services(plan: &Plan) -> Grid {
    let mut g = Grid::new(&[
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
        g.row(vec![
            s.namespace.clone(),
            s.name.clone(),
            s.security_level.to_string(),
            s.phase.as_str().into(),
            or_dash(s.pool.as_deref()),
            or_dash(s.shared_instance.as_deref()),
            cores(s.allocated.cpu_millis),
            memory(s.allocated.memory_bytes),
            reason_summary(s),
        ]);
    }
    g
}

fn pools(plan: &Plan) -> Grid {
    let mut g = Grid::new(&[
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
        g.row(vec![
            p.name.clone(),
            p.security_level.to_string(),
            p.cordoned.to_string(),
            format!("{}/{}", cores(alloc.cpu_millis), cores(cap.cpu_millis)),
            format!("{}/{}", memory(alloc.memory_bytes), memory(cap.memory_bytes)),
            percent(p.utilisation.cpu),
            percent(p.utilisation.memory),
            p.services.to_string(),
            p.departments.to_string(),
            p.shared_instances.to_string(),
            money(p.monthly_cost),
        ]);
    }
    g
}

fn departments(plan: &Plan) -> Grid {
    let mut g = Grid::new(&[
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
        g.row(vec![
            d.name.clone(),
            d.namespace.clone(),
            d.security_clearance.to_string(),
            format!("{}/{}", cores(d.allocated.cpu_millis), cores_f64(d.quota.cpu)),
            format!("{}/{}", memory(d.allocated.memory_bytes), memory(d.quota.memory)),
            format!("{}/{}", d.services, d.quota.services),
            d.rejected_services.to_string(),
            money(d.monthly_cost),
        ]);
    }
    g
}

fn shared_instances(plan: &Plan) -> Grid {
    let mut g = Grid::new(&["OFFERING", "INSTANCE", "LEVEL", "POOL", "TENANTS"]);
    for o in &plan.offerings {
        for i in &o.instances {
            g.row(vec![
                o.name.clone(),
                i.name.clone(),
                i.security_level.to_string(),
                or_dash(i.pool.as_deref()),
                i.tenants.len().to_string(),
            ]);
        }
    }
    g
}

fn refusal_rows(plan: &Plan) -> Grid {
    let mut g = Grid::new(&["KIND", "NAME", "CODE", "MESSAGE"]);
    for r in plan.refusals() {
        g.row(vec![
            r.kind.into(),
            r.name,
            r.reason.code.to_string(),
            r.reason.message.clone(),
        ]);
    }
    g
}

fn savings(plan: &Plan) -> Grid {
    let s = &plan.savings;
    let instances: usize = plan.offerings.iter().map(|o| o.instances.len()).sum();
    let siloed: u32 = plan.offerings.iter().map(|o| o.siloed_instances).sum();
    let mut g = Grid::new(&["MEASURE", "CONSOLIDATED", "SILOED", "SAVED"]);
    let rows = [
        [
            "offering instances".into(),
            instances.to_string(),
            siloed.to_string(),
            s.instances_saved.to_string(),
        ],
        [
            "nodes".into(),
            s.nodes_consolidated.to_string(),
            s.nodes_siloed.to_string(),
            s.nodes_saved.to_string(),
        ],
        [
            "cost/month".into(),
            money(s.monthly_cost_consolidated),
            money(s.monthly_cost_siloed),
            money(s.monthly_cost_saved),
        ],
        [
            "cpu utilisation".into(),
            percent(s.utilisation_consolidated.cpu),
            percent(s.utilisation_siloed.cpu),
            "-".into(),
        ],
        [
            "memory utilisation".into(),
            percent(s.utilisation_consolidated.memory),
            percent(s.utilisation_siloed.memory),
            "-".into(),
        ],
    ];
    for row in rows {
        g.row(row.to_vec());
    }
    g
}
