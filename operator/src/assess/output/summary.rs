//! What is said before the tables, in plain text (each format escapes it): how servers
//! were sized and where the pools came from, and the headline figures that the
//! Markdown summary, the HTML cards and the terminal share.

use crate::assess::{Assessment, OfferingSource, Outcome, PoolsFrom};
use crate::report::text::money;
use crate::units::{cores_f64, memory, percent};

/// How the proposal was made: the sizing rule, its headroom and steps, and the pools.
pub fn basis(a: &Assessment) -> String {
    let pools = match a.pools_from {
        PoolsFrom::Sized => "The platform gave no pools: pools are sized here, per security level.",
        PoolsFrom::Platform => "The proposed estate is planned on the platform's own pools.",
    };
    format!(
        "Each running server is sized at its measured use (p95, else the average) × {} \
         ({} headroom), rounded up to steps of {} cores and {}; a server never measured \
         keeps what it was given. {pools}",
        // Two decimals at most, as cores read: 1.3, not 1.3000000000000003.
        cores_f64(1.0 + a.headroom),
        percent(a.headroom),
        cores_f64(a.steps.cpu),
        memory(a.steps.memory),
    )
}

/// How many servers came to each outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub listed: usize,
    pub workloads: usize,
    pub tenants: usize,
    pub refused: usize,
    pub not_assessed: usize,
    pub left_out: usize,
}

impl Counts {
    pub fn of(a: &Assessment) -> Self {
        let mut c = Counts {
            listed: a.servers.len(),
            ..Counts::default()
        };
        for s in &a.servers {
            match s.outcome {
                Outcome::Workload => c.workloads += 1,
                Outcome::Tenant => c.tenants += 1,
                Outcome::Refused => c.refused += 1,
                Outcome::NotAssessed => c.not_assessed += 1,
                Outcome::LeftOut => c.left_out += 1,
            }
        }
        c
    }

    pub fn sentence(&self) -> String {
        format!(
            "{} listed: {} proposed as their departments' own workloads, {} as tenants of \
             shared offerings, {} refused by the plan, {} not assessed and {} left out \
             (powered off, suspended or templates).",
            self.listed, self.workloads, self.tenants, self.refused, self.not_assessed, self.left_out
        )
    }
}

/// Systems shared (offered by the platform, proposed here) and the instances they save.
pub fn sharing(a: &Assessment) -> String {
    let count = |source| a.systems.iter().filter(|s| s.offering == source).count();
    let (existing, proposed) = (count(OfferingSource::Existing), count(OfferingSource::Proposed));
    format!(
        "{} shared ({existing} offered by the platform, {proposed} proposed); sharing saves \
         {}.",
        existing + proposed,
        plural(instances_saved(a), "instance", "instances")
    )
}

/// `1 instance`, `2 instances`.
pub fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

pub fn instances_saved(a: &Assessment) -> i64 {
    a.systems.iter().flat_map(|s| &s.levels).map(|l| l.saved).sum()
}

/// `before → after`, the after side "not known" when absent.
pub fn arrow(before: String, after: Option<String>) -> String {
    format!("{before} → {}", after.as_deref().unwrap_or("not known"))
}

/// Today's and the platform's yearly cost, `not known` where absent, today's marked
/// when only some servers give one.
pub fn cost(a: &Assessment) -> String {
    let b = &a.before;
    let mut before = b.yearly_cost.map_or_else(|| "not known".into(), money);
    if b.yearly_cost.is_some() && b.servers_with_cost < b.servers {
        before.push_str(&format!(" ({} of {} servers)", b.servers_with_cost, b.servers));
    }
    arrow(before, a.after.yearly_cost.map(money))
}

pub fn nodes(a: &Assessment) -> String {
    arrow(a.before.servers.to_string(), a.after.nodes.map(|n| n.to_string()))
}

pub fn cores(a: &Assessment) -> String {
    arrow(
        cores_f64(a.before.provisioned.cpu),
        a.after.provisioned.map(|p| cores_f64(p.cpu)),
    )
}

pub fn memory_provisioned(a: &Assessment) -> String {
    arrow(
        memory(a.before.provisioned.memory),
        a.after.provisioned.map(|p| memory(p.memory)),
    )
}

pub fn cpu_utilisation(a: &Assessment) -> String {
    arrow(
        percent(a.before.utilisation.cpu),
        a.after.utilisation.map(|u| percent(u.cpu)),
    )
}

pub fn memory_utilisation(a: &Assessment) -> String {
    arrow(
        percent(a.before.utilisation.memory),
        a.after.utilisation.map(|u| percent(u.memory)),
    )
}
