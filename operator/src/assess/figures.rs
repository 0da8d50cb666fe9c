//! Before and after, side by side: the servers the plan placed as they run today, and
//! the nodes that would host them; and, per shared system, the instances it saves.

use std::collections::{BTreeMap, HashSet};

use kube::ResourceExt;

use super::inventory::Server;
use super::mapping::Mapping;
use super::model::*;
use super::propose::default_nodes;
use super::resolve::Candidate;
use super::size::in_use;
use crate::plan::{Plan, Snapshot};
use crate::quantity::Res;

/// The servers whose proposals the plan placed: the figures compare like with like.
pub type Placed<'a> = &'a Server;

pub fn before(placed: &[Placed<'_>]) -> Before {
    let mut b = Before::default();
    let (mut cpu, mut memory) = (0.0_f64, 0.0_f64);
    let (mut used_cpu, mut used_memory) = (0.0_f64, 0.0_f64);
    let (mut cost, mut power) = (0.0_f64, 0.0_f64);
    for p in placed {
        let s = *p;
        b.servers += 1;
        cpu += s.cpu_millis as f64;
        memory += s.memory_bytes as f64;
        let (c, m) = in_use(s);
        used_cpu += c;
        used_memory += m;
        if let Some(y) = s.yearly_cost {
            cost += y;
            b.servers_with_cost += 1;
        }
        if let Some(w) = s.power_watts {
            power += w;
            b.servers_with_power += 1;
        }
    }
    b.provisioned = Amount {
        cpu: cpu / 1000.0,
        memory: bytes(memory),
    };
    b.utilisation = Ratios {
        cpu: ratio(used_cpu, cpu),
        memory: ratio(used_memory, memory),
    };
    b.yearly_cost = (b.servers_with_cost > 0).then_some(cost);
    b.power_watts = (b.servers_with_power > 0).then_some(power);
    b
}

/// The nodes the planned estate needs: per pool in use, whole nodes of its node shape
/// (overcommitted as the pool is) at its target utilisation, as pools are sized.
pub fn after(
    placed: &[Placed<'_>],
    plan: &Plan,
    snapshot: &Snapshot,
    mapping: &Mapping,
    sized: bool,
) -> After {
    let shapes: BTreeMap<String, Option<Res>> = snapshot
        .pools
        .iter()
        .map(|p| {
            (
                p.name_any(),
                p.spec.node_shape.as_ref().and_then(|s| s.parse().ok()),
            )
        })
        .collect();
    let mut nodes: Option<i64> = Some(0);
    let (mut cap_cpu, mut cap_memory) = (0.0_f64, 0.0_f64);
    let mut requested = Res::ZERO;
    let mut monthly = 0.0;
    for pool in plan.pools.iter().filter(|p| p.allocated != Res::ZERO) {
        requested = requested.checked_add(pool.allocated).unwrap_or(requested);
        monthly += pool.monthly_cost;
        let Some(Some(shape)) = shapes.get(&pool.name) else {
            nodes = None;
            continue;
        };
        let over = |eff: i64, cap: i64| if cap > 0 { eff as f64 / cap as f64 } else { 1.0 };
        let oc = (
            over(pool.effective_capacity.cpu_millis, pool.capacity.cpu_millis),
            over(pool.effective_capacity.memory_bytes, pool.capacity.memory_bytes),
        );
        let need = |amount: i64, per: i64, oc: f64| {
            let usable = (per as f64 * oc * pool.target_utilisation).floor();
            if usable <= 0.0 {
                0.0
            } else {
                (amount as f64 / usable).ceil()
            }
        };
        let n = need(pool.allocated.cpu_millis, shape.cpu_millis, oc.0).max(need(
            pool.allocated.memory_bytes,
            shape.memory_bytes,
            oc.1,
        ));
        let n = if n < 9.0e15 { n as i64 } else { i64::MAX };
        nodes = nodes.map(|t| t.saturating_add(n));
        cap_cpu += n as f64 * shape.cpu_millis as f64;
        cap_memory += n as f64 * shape.memory_bytes as f64;
    }
    let (mut used_cpu, mut used_memory) = (0.0, 0.0);
    for p in placed {
        let (c, m) = in_use(p);
        used_cpu += c;
        used_memory += m;
    }
    let node = mapping.nodes.clone().unwrap_or_else(default_nodes);
    let provisioned = nodes.map(|_| Amount {
        cpu: cap_cpu / 1000.0,
        memory: bytes(cap_memory),
    });
    let yearly_cost = match (nodes, node.yearly_cost) {
        (Some(n), Some(per)) => Some(n as f64 * per),
        // Without a node price, the pools' chargeback rates price what is allocated.
        _ if !sized && monthly > 0.0 => Some(monthly * 12.0),
        _ => None,
    };
    After {
        nodes,
        requested: requested.into(),
        provisioned,
        utilisation: nodes.map(|_| Ratios {
            cpu: ratio(used_cpu, cap_cpu),
            memory: ratio(used_memory, cap_memory),
        }),
        yearly_cost,
        power_watts: nodes.zip(node.power_watts).map(|(n, w)| n as f64 * w),
    }
}

/// Per level, the placed servers running a system today against the shared instances
/// the plan seats them on. A system only one department runs saves nothing: its
/// servers stay its own workloads.
pub fn levels(
    system: &SystemAssessment,
    members: &[(&Candidate, bool)],
    plan: &Plan,
    prefix: &str,
) -> Vec<LevelSaving> {
    let mut copies: BTreeMap<u8, i64> = BTreeMap::new();
    let mut tenants: HashSet<String> = HashSet::new();
    for (c, _) in members.iter().filter(|(_, placed)| *placed) {
        *copies.entry(c.level).or_default() += 1;
        tenants.insert(format!("{prefix}{}/{}", c.department, c.name));
    }
    let offering = plan.offerings.iter().find(|o| o.name == system.name);
    copies
        .into_iter()
        .map(|(level, copies)| {
            let instances = match (system.offering, offering) {
                (OfferingSource::NotShared, _) | (_, None) => copies,
                (_, Some(o)) => o
                    .instances
                    .iter()
                    .filter(|i| i.security_level == level && i.tenants.iter().any(|t| tenants.contains(t)))
                    .count() as i64,
            };
            LevelSaving {
                security_level: level,
                copies,
                instances,
                saved: copies - instances,
            }
        })
        .collect()
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        (part / whole).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn bytes(b: f64) -> i64 {
    if b < 9.0e18 { b as i64 } else { i64::MAX }
}
