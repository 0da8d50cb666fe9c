//! Rule 4, place: best-fit onto pools, lowest accredited level first.
//!
//! The `Placer` holds each pool's running allocation so that one more service can be
//! placed into an existing plan in O(pools), which is what the operator does between
//! full re-plans and what the benchmark measures.

use std::collections::BTreeSet;

use super::model::{Demand, PoolModel};
use super::share::Instance;
use super::{Assignments, Decision, Estate, Reason, ReasonCode};
use crate::quantity::{format_cpu, format_memory, Res};

#[derive(Clone, Debug)]
struct Slot {
    name: String,
    level: u8,
    /// Valid and not cordoned: may take placements.
    open: bool,
    cordoned: bool,
    effective: Res,
    target: f64,
    allocated: Res,
}

/// What one service or shared instance asks of a pool.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub level: u8,
    pub demand: Res,
    /// Pools allowed by the department(s); `None` allows every pool.
    pub allowed: Option<&'a BTreeSet<String>>,
}

/// Pools and their running allocations, ordered by (level, name).
#[derive(Clone, Debug)]
pub struct Placer {
    slots: Vec<Slot>,
}

impl Placer {
    pub fn new(pools: &[PoolModel]) -> Self {
        let mut slots: Vec<Slot> = pools
            .iter()
            .map(|p| Slot {
                name: p.name.clone(),
                level: p.level,
                open: p.usable() && !p.cordoned,
                cordoned: p.cordoned,
                effective: p.effective,
                target: p.target,
                allocated: Res::ZERO,
            })
            .collect();
        slots.sort_by(|a, b| (a.level, &a.name).cmp(&(b.level, &b.name)));
        Self { slots }
    }

    pub fn index_of(&self, pool: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == pool)
    }

    pub fn name(&self, i: usize) -> &str {
        &self.slots[i].name
    }

    pub fn allocated(&self, pool: &str) -> Res {
        self.index_of(pool).map_or(Res::ZERO, |i| self.slots[i].allocated)
    }

    fn admissible(&self, i: usize, req: &Request) -> bool {
        let s = &self.slots[i];
        s.open && s.level >= req.level && req.allowed.is_none_or(|a| a.contains(&s.name))
    }

    /// Feasible: admissible and within capacity × overcommit after adding the demand.
    pub fn fits(&self, i: usize, req: &Request) -> bool {
        self.admissible(i, req) && (self.slots[i].allocated + req.demand).fits_within(self.slots[i].effective)
    }

    /// Dominant utilisation of slot `i` if `demand` were added.
    fn utilisation_after(&self, i: usize, demand: Res) -> f64 {
        let s = &self.slots[i];
        let after = s.allocated + demand;
        let ratio = |a: i64, c: i64| if c <= 0 { f64::INFINITY } else { a as f64 / c as f64 };
        ratio(after.cpu_millis, s.effective.cpu_millis).max(ratio(after.memory_bytes, s.effective.memory_bytes))
    }

    /// The pool a new placement goes to: the lowest level with a feasible pool; within
    /// it, the fullest pool that stays under its target, else the one with most room.
    pub fn choose(&self, req: &Request) -> Option<usize> {
        let mut level = None;
        let mut best_under: Option<(usize, f64)> = None;
        let mut best_over: Option<(usize, f64)> = None;
        for i in 0..self.slots.len() {
            if level.is_some_and(|l| self.slots[i].level > l) {
                break;
            }
            if !self.fits(i, req) {
                continue;
            }
            level = Some(self.slots[i].level);
            let u = self.utilisation_after(i, req.demand);
            if u <= self.slots[i].target + 1e-12 {
                if best_under.is_none_or(|(_, b)| u > b) {
                    best_under = Some((i, u));
                }
            } else if best_over.is_none_or(|(_, b)| u < b) {
                best_over = Some((i, u));
            }
        }
        best_under.or(best_over).map(|(i, _)| i)
    }

    pub fn commit(&mut self, i: usize, demand: Res) {
        self.slots[i].allocated += demand;
    }

    /// Chooses and commits; returns the pool's name.
    pub fn place(&mut self, req: &Request) -> Option<&str> {
        let i = self.choose(req)?;
        self.commit(i, req.demand);
        Some(&self.slots[i].name)
    }

    /// Why nothing fits, summarised for a department reading its service's status.
    pub fn explain_refusal(&self, req: &Request, department: &str) -> String {
        let (mut below, mut cordoned, mut invalid, mut not_allowed, mut full) = (0, 0, 0, 0, 0);
        let mut most_free: Option<(&str, Res)> = None;
        for s in &self.slots {
            if s.cordoned {
                cordoned += 1;
            } else if !s.open {
                invalid += 1;
            } else if s.level < req.level {
                below += 1;
            } else if req.allowed.is_some_and(|a| !a.contains(&s.name)) {
                not_allowed += 1;
            } else {
                full += 1;
                let free = s.effective - s.allocated;
                if most_free.is_none_or(|(_, f)| free.cpu_millis.min(free.memory_bytes >> 20) > f.cpu_millis.min(f.memory_bytes >> 20)) {
                    most_free = Some((&s.name, free));
                }
            }
        }
        let mut parts = Vec::new();
        for (n, what) in [
            (below, format!("below level {}", req.level)),
            (cordoned, "cordoned".to_string()),
            (invalid, "invalid".to_string()),
            (not_allowed, format!("not in the pool allow-list of Department {department:?}")),
            (full, "without room".to_string()),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        let mut msg = format!(
            "no pool can take cpu {}, memory {} at security level {} or above",
            format_cpu(req.demand.cpu_millis),
            format_memory(req.demand.memory_bytes),
            req.level
        );
        if parts.is_empty() {
            msg.push_str(": there are no pools");
        } else {
            msg.push_str(&format!(" (of {} pools: {})", self.slots.len(), parts.join(", ")));
        }
        if let Some((name, free)) = most_free {
            msg.push_str(&format!(
                "; most room is in pool {name:?}: cpu {}, memory {} free",
                format_cpu(free.cpu_millis.max(0)),
                format_memory(free.memory_bytes.max(0))
            ));
        }
        msg
    }
}

/// A service or a shared instance waiting for a pool.
struct Item<'a> {
    service: Option<usize>,
    instance: Option<usize>,
    request: Request<'a>,
    previous: Option<&'a str>,
    /// Position of its (first) service in arrival order.
    arrival: usize,
    department: &'a str,
}

/// Places admitted workloads and seated instances; returns each instance's pool and
/// records each service's pool (a tenant's is its instance's) in its decision.
pub(crate) fn place_all(
    estate: &Estate,
    order: &[usize],
    previous: &Assignments,
    instances: &[Instance],
    decisions: &mut [Decision],
) -> Vec<Option<String>> {
    let mut arrival = vec![usize::MAX; estate.services.len()];
    for (pos, &i) in order.iter().enumerate() {
        arrival[i] = pos;
    }
    let mut items = Vec::new();
    for (i, svc) in estate.services.iter().enumerate() {
        let (Some(Demand::Workload { replicas, requests, .. }), true) = (&svc.demand, decisions[i].admitted) else {
            continue;
        };
        let dept = svc.department.as_deref().and_then(|d| estate.department(d));
        items.push(Item {
            service: Some(i),
            instance: None,
            request: Request {
                level: svc.level,
                demand: requests.times(i64::from(*replicas)),
                allowed: dept.and_then(|d| d.pools.as_ref()),
            },
            previous: previous.services.get(&svc.key).and_then(|a| a.pool.as_deref()),
            arrival: arrival[i],
            department: svc.department.as_deref().unwrap_or(""),
        });
    }
    for (k, inst) in instances.iter().enumerate() {
        let first = inst.tenants.iter().copied().min_by_key(|&t| arrival[t]).expect("instances have tenants");
        // The instance's pool before: that of its earliest tenant that was bound to it.
        let mut bound: Vec<usize> = inst.tenants.clone();
        bound.sort_by_key(|&t| arrival[t]);
        let previous_pool = bound.iter().find_map(|&t| {
            let a = previous.services.get(&estate.services[t].key)?;
            (a.shared_instance.as_deref() == Some(inst.name.as_str())).then_some(a.pool.as_deref()).flatten()
        });
        items.push(Item {
            service: None,
            instance: Some(k),
            request: Request {
                level: inst.level,
                demand: estate.offerings[&inst.offering].instance_demand(),
                allowed: inst.allowed.as_ref(),
            },
            previous: previous_pool,
            arrival: arrival[first],
            department: estate.services[first].department.as_deref().unwrap_or(""),
        });
    }

    let mut placer = Placer::new(&estate.pools);
    let mut placed: Vec<Option<String>> = vec![None; items.len()];
    // Stability first: in arrival order, everything keeps a pool that is still feasible.
    let mut by_arrival: Vec<usize> = (0..items.len()).collect();
    by_arrival.sort_by_key(|&k| (items[k].arrival, items[k].instance));
    for &k in &by_arrival {
        let item = &items[k];
        if let Some(p) = item.previous.and_then(|p| placer.index_of(p))
            && placer.fits(p, &item.request)
        {
            placer.commit(p, item.request.demand);
            placed[k] = Some(placer.name(p).to_string());
        }
    }
    // Then the rest, largest first (dominant share of the whole estate's capacity).
    let total = estate.pools.iter().filter(|p| p.usable()).fold(crate::quantity::Res::ZERO, |a, p| a + p.effective);
    let size = |d: crate::quantity::Res| {
        let r = |a: i64, t: i64| if t <= 0 { 0.0 } else { a as f64 / t as f64 };
        r(d.cpu_millis, total.cpu_millis).max(r(d.memory_bytes, total.memory_bytes))
    };
    let mut rest: Vec<usize> = by_arrival.into_iter().filter(|&k| placed[k].is_none()).collect();
    rest.sort_by(|&a, &b| {
        size(items[b].request.demand)
            .total_cmp(&size(items[a].request.demand))
            .then(items[a].arrival.cmp(&items[b].arrival))
            .then(items[a].instance.cmp(&items[b].instance))
    });
    let mut refusals: Vec<Option<String>> = vec![None; items.len()];
    for k in rest {
        let item = &items[k];
        match placer.place(&item.request) {
            Some(pool) => placed[k] = Some(pool.to_string()),
            None => refusals[k] = Some(placer.explain_refusal(&item.request, item.department)),
        }
    }

    let mut instance_pools = vec![None; instances.len()];
    for (k, item) in items.iter().enumerate() {
        if let Some(i) = item.service {
            decisions[i].pool = placed[k].clone();
            if let Some(why) = &refusals[k] {
                decisions[i].reasons.push(Reason::new(ReasonCode::InsufficientCapacity, why.clone()));
            }
        }
        if let Some(j) = item.instance {
            instance_pools[j] = placed[k].clone();
            for &t in &instances[j].tenants {
                decisions[t].pool = placed[k].clone();
                if let Some(why) = &refusals[k] {
                    decisions[t].reasons.push(Reason::new(
                        ReasonCode::InsufficientCapacity,
                        format!("shared instance {:?} of ServiceOffering {:?}: {why}", instances[j].name, instances[j].offering),
                    ));
                }
            }
        }
    }
    instance_pools
}
