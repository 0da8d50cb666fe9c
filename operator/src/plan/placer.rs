//! Pools and their running allocations: where one more placement may go and why not.
//!
//! The `Placer` holds each pool's running allocation so that one more service can be
//! placed into an existing plan in O(pools), which is what the operator does between
//! full re-plans and what the benchmark measures.

use std::collections::BTreeSet;

use super::model::PoolModel;
use crate::quantity::{Res, format_cpu, format_memory};

#[derive(Clone, Debug)]
struct Slot {
    name: String,
    level: u8,
    /// Valid, not cordoned and not being deleted: may take placements.
    open: bool,
    /// The spec is valid (placement may at least keep what is there).
    valid: bool,
    cordoned: bool,
    deleting: bool,
    effective: Res,
    target: f64,
    allocated: Res,
}

impl Slot {
    /// Whether `demand` fits beside what is allocated; a sum beyond i64 does not.
    fn room_for(&self, demand: Res) -> bool {
        self.allocated
            .checked_add(demand)
            .is_some_and(|after| after.fits_within(self.effective))
    }

    /// Effective capacity less the allocation: never negative, as `commit` keeps the
    /// allocation within the capacity.
    fn free(&self) -> Res {
        self.effective.checked_sub(self.allocated).unwrap_or(Res::ZERO)
    }
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
    by_name: std::collections::HashMap<String, usize>,
}

impl Placer {
    pub fn new(pools: &[PoolModel]) -> Self {
        let mut slots: Vec<Slot> = pools
            .iter()
            .map(|p| Slot {
                name: p.name.clone(),
                level: p.level,
                open: p.usable() && !p.cordoned && !p.deleting,
                valid: p.usable(),
                cordoned: p.cordoned,
                deleting: p.deleting,
                effective: p.effective,
                target: p.target,
                allocated: Res::ZERO,
            })
            .collect();
        slots.sort_by(|a, b| (a.level, &a.name).cmp(&(b.level, &b.name)));
        let by_name = slots
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect();
        Self { slots, by_name }
    }

    pub fn index_of(&self, pool: &str) -> Option<usize> {
        self.by_name.get(pool).copied()
    }

    pub fn name(&self, i: usize) -> &str {
        &self.slots[i].name
    }

    fn admissible(&self, i: usize, req: &Request) -> bool {
        let s = &self.slots[i];
        s.open && s.level >= req.level && req.allowed.is_none_or(|a| a.contains(&s.name))
    }

    /// Feasible: admissible and within capacity × overcommit after adding the demand.
    pub fn fits(&self, i: usize, req: &Request) -> bool {
        self.admissible(i, req) && self.slots[i].room_for(req.demand)
    }

    /// Whether what is on slot `i` may be held there while its move waits: staying
    /// breaks no rule of the service or its department (level, allow-list) and the
    /// pool has room for it. Cordoned, deleting or invalid pools may hold.
    pub fn may_hold(&self, i: usize, req: &Request) -> bool {
        let s = &self.slots[i];
        s.level >= req.level && req.allowed.is_none_or(|a| a.contains(&s.name)) && s.room_for(req.demand)
    }

    /// Whether what is on slot `i` may stay when no open pool takes it: a cordoned pool
    /// or one being deleted drains into free room elsewhere, but evicting a service to
    /// nowhere would take it down, so it stays until room appears.
    pub fn may_stay(&self, i: usize, req: &Request) -> bool {
        let s = &self.slots[i];
        s.valid && (s.cordoned || s.deleting) && self.may_hold(i, req)
    }

    /// Dominant utilisation of slot `i` if `demand` were added.
    fn utilisation_after(&self, i: usize, demand: Res) -> (f64, f64) {
        let s = &self.slots[i];
        // In f64, so that a demand no pool can take still has a (large) ratio.
        let ratio = |a: i64, d: i64, c: i64| {
            if c <= 0 {
                f64::INFINITY
            } else {
                (a as f64 + d as f64) / c as f64
            }
        };
        (
            ratio(s.allocated.cpu_millis, demand.cpu_millis, s.effective.cpu_millis),
            ratio(
                s.allocated.memory_bytes,
                demand.memory_bytes,
                s.effective.memory_bytes,
            ),
        )
    }

    /// Fullness of slot `i` now: the sum of its CPU and memory utilisation, so that a
    /// pool full in one resource only is not taken for a full pool.
    fn fullness(&self, i: usize) -> f64 {
        let (cpu, memory) = self.utilisation_after(i, Res::ZERO);
        cpu + memory
    }

    /// Feasible and, with the demand added, still within the pool's target utilisation.
    pub fn fits_under_target(&self, i: usize, req: &Request) -> bool {
        self.admissible(i, req) && self.room_under_target(i, req.demand)
    }

    /// Whether `demand` fits beside what is on slot `i` and stays within its target,
    /// whoever asks. False for every demand at or above a demand it is false for, in
    /// both resources (the batch fill skips whole ranges of items on that).
    pub(crate) fn room_under_target(&self, i: usize, demand: Res) -> bool {
        let (cpu, memory) = self.utilisation_after(i, demand);
        self.slots[i].room_for(demand) && cpu.max(memory) <= self.slots[i].target + 1e-12
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
            if self.fits_under_target(i, req) {
                let fullness = self.fullness(i);
                if best_under.is_none_or(|(_, b)| fullness > b) {
                    best_under = Some((i, fullness));
                }
            } else {
                let (cpu, memory) = self.utilisation_after(i, req.demand);
                let dominant = cpu.max(memory);
                if best_over.is_none_or(|(_, b)| dominant < b) {
                    best_over = Some((i, dominant));
                }
            }
        }
        best_under.or(best_over).map(|(i, _)| i)
    }

    /// Open pools of one level, fullest first (ties by name): the order in which a
    /// batch of new placements fills them.
    pub fn fill_order(&self, level: u8) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].open && self.slots[i].level == level)
            .collect();
        order.sort_by(|&a, &b| self.fullness(b).total_cmp(&self.fullness(a)).then(a.cmp(&b)));
        order
    }

    /// Levels that have open pools, ascending.
    pub fn levels(&self) -> Vec<u8> {
        let mut levels: Vec<u8> = self.slots.iter().filter(|s| s.open).map(|s| s.level).collect();
        levels.dedup();
        levels
    }

    /// Whether slot `i` has relatively more CPU than memory left before its target.
    pub fn short_of_memory(&self, i: usize) -> bool {
        let (cpu, memory) = self.utilisation_after(i, Res::ZERO);
        cpu <= memory
    }

    /// Adds a placement that `fits` (or `may_stay`) accepted, which keeps the
    /// allocation within the effective capacity, so the sum is representable.
    pub fn commit(&mut self, i: usize, demand: Res) {
        let s = &mut self.slots[i];
        s.allocated = s
            .allocated
            .checked_add(demand)
            .expect("a committed placement fits the pool's effective capacity");
    }

    /// Chooses and commits; returns the pool's name.
    pub fn place(&mut self, req: &Request) -> Option<&str> {
        let i = self.choose(req)?;
        self.commit(i, req.demand);
        Some(&self.slots[i].name)
    }

    /// Why nothing fits, summarised for a department reading its service's status.
    pub fn explain_refusal(&self, req: &Request, department: &str) -> String {
        let (mut below, mut cordoned, mut deleting, mut invalid, mut not_allowed, mut full) =
            (0, 0, 0, 0, 0, 0);
        let mut most_free: Option<(&str, Res)> = None;
        for s in &self.slots {
            if s.deleting {
                deleting += 1;
            } else if s.cordoned {
                cordoned += 1;
            } else if !s.open {
                invalid += 1;
            } else if s.level < req.level {
                below += 1;
            } else if req.allowed.is_some_and(|a| !a.contains(&s.name)) {
                not_allowed += 1;
            } else {
                full += 1;
                let free = s.free();
                if most_free.is_none_or(|(_, f)| {
                    free.cpu_millis.min(free.memory_bytes >> 20) > f.cpu_millis.min(f.memory_bytes >> 20)
                }) {
                    most_free = Some((&s.name, free));
                }
            }
        }
        let mut parts = Vec::new();
        for (n, what) in [
            (below, format!("below level {}", req.level)),
            (cordoned, "cordoned".to_string()),
            (deleting, "being deleted".to_string()),
            (invalid, "invalid".to_string()),
            (
                not_allowed,
                format!("not in the pool allow-list of Department {department:?}"),
            ),
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
