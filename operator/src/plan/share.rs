//! Rule 5, share: tenants of an offering grouped into shared instances.
//!
//! Instances never mix security levels; a tenant keeps its instance while that has room
//! and stays compatible; a new tenant joins the fullest instance with room that is not
//! on a cordoned pool or one being deleted, else a new instance is opened. Names are `<offering>-l<level>-<n>`, the lowest free `n`.

use std::collections::{BTreeMap, BTreeSet};

use super::model::{Demand, OfferingModel, PoolModel};
use super::{Assignment, Decision, Estate};

/// One tenant to seat, in first-come-first-served order.
#[derive(Clone, Debug)]
pub struct Tenant<'a> {
    /// Index of the service in the planner's service list.
    pub service: usize,
    pub offering: &'a OfferingModel,
    pub level: u8,
    /// The department's pool allow-list.
    pub allowed: Option<&'a BTreeSet<String>>,
    /// The instance it was bound to before, if any, and that instance's pool then.
    pub previous: Option<&'a str>,
    pub previous_pool: Option<&'a str>,
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub offering: String,
    pub level: u8,
    pub index: u32,
    pub name: String,
    /// Service indices, in the order they joined.
    pub tenants: Vec<usize>,
    /// Pools allowed for every tenant; `None` when no tenant restricts pools.
    pub allowed: Option<BTreeSet<String>>,
    /// The pool the instance is on (before this plan, or as placed by an open planner):
    /// a tenant whose allow-list excludes it must not join, or the instance would move.
    pub pool: Option<String>,
}

pub fn instance_name(offering: &str, level: u8, index: u32) -> String {
    format!("{offering}-l{level}-{index}")
}

fn parse_index(name: &str, offering: &str, level: u8) -> Option<u32> {
    let rest = name
        .strip_prefix(offering)?
        .strip_prefix(&format!("-l{level}-"))?;
    rest.parse().ok().filter(|i| *i >= 1)
}

fn intersect(a: Option<&BTreeSet<String>>, b: Option<&BTreeSet<String>>) -> Option<BTreeSet<String>> {
    match (a, b) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x.clone()),
        (Some(x), Some(y)) => Some(x.intersection(y).cloned().collect()),
    }
}

/// The estate's pools as seating reads them: each check of a tenant against an
/// instance asks whether any pool could take the pair, which a scan of every pool
/// would make O(pools) per check.
pub(crate) struct Pools<'a> {
    /// Sorted by name, as the estate's are.
    all: &'a [PoolModel],
    /// The highest level of a valid pool.
    highest: Option<u8>,
}

impl<'a> Pools<'a> {
    pub fn new(all: &'a [PoolModel]) -> Self {
        debug_assert!(all.is_sorted_by(|a, b| a.name <= b.name), "pools sorted by name");
        let highest = all.iter().filter(|p| p.usable()).map(|p| p.level).max();
        Self { all, highest }
    }

    fn named(&self, name: &str) -> &'a [PoolModel] {
        let all = self.all;
        &all[all.partition_point(|p| p.name.as_str() < name)
            ..all.partition_point(|p| p.name.as_str() <= name)]
    }

    /// The first pool named `name`, as a scan would find.
    fn first_named(&self, name: &str) -> Option<&'a PoolModel> {
        let at = self.all.partition_point(|p| p.name.as_str() < name);
        self.all.get(at).filter(|p| p.name == name)
    }
}

/// Whether some valid pool at or above `level` is in both allowed sets (`None` allows
/// every pool): the pools named in the smaller set, not every pool, are looked at.
fn placeable(a: Option<&BTreeSet<String>>, b: Option<&BTreeSet<String>>, level: u8, pools: &Pools) -> bool {
    let (names, other) = match (a, b) {
        (None, None) => return pools.highest.is_some_and(|h| h >= level),
        (Some(x), None) | (None, Some(x)) => (x, None),
        (Some(x), Some(y)) if x.len() <= y.len() => (x, Some(y)),
        (Some(x), Some(y)) => (y, Some(x)),
    };
    names
        .iter()
        .filter(|n| other.is_none_or(|o| o.contains(*n)))
        .any(|n| pools.named(n).iter().any(|p| p.usable() && p.level >= level))
}

fn joinable(inst: &Instance, t: &Tenant, pools: &Pools) -> bool {
    (inst.tenants.len() as u32) < t.offering.tenants_per_instance
        && inst
            .pool
            .as_ref()
            .is_none_or(|p| t.allowed.is_none_or(|a| a.contains(p)))
        && placeable(inst.allowed.as_ref(), t.allowed, t.level, pools)
}

pub(crate) fn join(inst: &mut Instance, t: &Tenant) {
    inst.allowed = if inst.tenants.is_empty() {
        t.allowed.cloned()
    } else {
        intersect(inst.allowed.as_ref(), t.allowed)
    };
    inst.tenants.push(t.service);
}

pub(crate) fn open(t: &Tenant, index: u32) -> Instance {
    Instance {
        offering: t.offering.name.clone(),
        level: t.level,
        index,
        name: instance_name(&t.offering.name, t.level, index),
        tenants: Vec::new(),
        allowed: t.allowed.cloned(),
        pool: None,
    }
}

/// Whether a tenant that is not keeping its seat may join `inst`: not while the instance
/// is on a cordoned pool or one being deleted, which take no new placements. The instance
/// itself may stay there (when no open pool has room for it), and its tenants with it;
/// a newcomer would arrive there.
fn takes_newcomers(inst: &Instance, pools: &Pools) -> bool {
    inst.pool
        .as_ref()
        .and_then(|name| pools.first_named(name))
        .is_none_or(|p| !p.cordoned && !p.deleting)
}

/// Among the instances of the tenant's offering and level that take newcomers, the
/// fullest with room (ties: lowest index).
pub(crate) fn fullest_joinable<'i>(
    group: impl Iterator<Item = &'i Instance>,
    t: &Tenant,
    pools: &Pools,
) -> Option<&'i Instance> {
    group
        .filter(|inst| {
            inst.offering == t.offering.name
                && inst.level == t.level
                && joinable(inst, t, pools)
                && takes_newcomers(inst, pools)
        })
        .max_by(|a, b| a.tenants.len().cmp(&b.tenants.len()).then(b.index.cmp(&a.index)))
}

pub(crate) fn lowest_free_index(used: impl Iterator<Item = u32>) -> u32 {
    let used: BTreeSet<u32> = used.collect();
    (1..).find(|i| !used.contains(i)).unwrap_or(1)
}

/// Seats every tenant; returns the instances (ordered by offering, level, index) and,
/// per tenant in input order, the index of its instance in that list.
pub fn seat(tenants: &[Tenant], pools: &[PoolModel]) -> (Vec<Instance>, Vec<usize>) {
    let pools = &Pools::new(pools);
    // Per (offering, level): instance index number → Instance.
    let mut groups: BTreeMap<(&str, u8), BTreeMap<u32, Instance>> = BTreeMap::new();
    let mut seat_of: Vec<Option<(u32, &str, u8)>> = vec![None; tenants.len()];

    // Pass 1: tenants keep their instance while it has room.
    for (ti, t) in tenants.iter().enumerate() {
        let key = (t.offering.name.as_str(), t.level);
        let Some(index) = t.previous.and_then(|p| parse_index(p, key.0, key.1)) else {
            continue;
        };
        let group = groups.entry(key).or_default();
        let inst = group.entry(index).or_insert_with(|| open(t, index));
        if joinable(inst, t, pools) {
            if inst.pool.is_none() {
                inst.pool = t.previous_pool.map(str::to_string);
            }
            join(inst, t);
            seat_of[ti] = Some((index, key.0, key.1));
        }
    }
    // Instances reserved in pass 1 that nobody kept are retired, not reused as-is.
    for group in groups.values_mut() {
        group.retain(|_, inst| !inst.tenants.is_empty());
    }
    // Pass 2: the rest join the fullest instance with room, else open a new one.
    // Instances only gain tenants here, so a full one never takes another and a used
    // index stays used: each group keeps the instances with room, and the lowest free
    // index only grows. Both keep the pass linear in tenants where scanning every
    // instance for each tenant made a large offering quadratic.
    let mut room: BTreeMap<(&str, u8), BTreeSet<u32>> = BTreeMap::new();
    let mut free: BTreeMap<(&str, u8), u32> = BTreeMap::new();
    for (ti, t) in tenants.iter().enumerate() {
        if seat_of[ti].is_some() {
            continue;
        }
        let key = (t.offering.name.as_str(), t.level);
        let seats = t.offering.tenants_per_instance;
        let group = groups.entry(key).or_default();
        let room = room.entry(key).or_insert_with(|| {
            group
                .values()
                .filter(|inst| (inst.tenants.len() as u32) < seats)
                .map(|inst| inst.index)
                .collect()
        });
        let best =
            fullest_joinable(room.iter().filter_map(|i| group.get(i)), t, pools).map(|inst| inst.index);
        let index = best.unwrap_or_else(|| {
            let next = free.entry(key).or_insert(1);
            while group.contains_key(next) {
                *next += 1;
            }
            *next
        });
        let inst = group.entry(index).or_insert_with(|| open(t, index));
        join(inst, t);
        if (inst.tenants.len() as u32) < seats {
            room.insert(index);
        } else {
            room.remove(&index);
        }
        seat_of[ti] = Some((index, key.0, key.1));
    }

    let mut position = BTreeMap::new();
    let mut instances = Vec::new();
    for ((offering, level), group) in groups {
        for (index, inst) in group {
            position.insert((offering, level, index), instances.len());
            instances.push(inst);
        }
    }
    let seats = seat_of
        .into_iter()
        .map(|s| {
            let (index, offering, level) = s.expect("every tenant is seated in pass 1 or 2");
            position[&(offering, level, index)]
        })
        .collect();
    (instances, seats)
}

/// Seats every admitted tenant, first come first served; returns the instances and
/// records each tenant's instance in its decision. `was[i]` is service `i`'s previous
/// assignment.
pub(crate) fn seat_tenants(
    estate: &Estate,
    order: &[usize],
    was: &[Option<&Assignment>],
    decisions: &mut [Decision],
) -> Vec<Instance> {
    let tenants: Vec<Tenant> = order
        .iter()
        .filter(|&&i| decisions[i].admitted)
        .filter_map(|&i| {
            let svc = &estate.services[i];
            let Some(Demand::Tenant { offering }) = &svc.demand else {
                return None;
            };
            let dept = estate.department_of(svc);
            Some(Tenant {
                service: i,
                offering: &estate.offerings[offering],
                level: svc.level,
                allowed: dept.and_then(|d| d.pools.as_ref()),
                previous: was[i].and_then(|a| a.shared_instance.as_deref()),
                previous_pool: was[i].and_then(|a| a.pool.as_deref()),
            })
        })
        .collect();
    let (instances, seats) = seat(&tenants, &estate.pools);
    for (t, seat) in tenants.iter().zip(seats) {
        decisions[t.service].instance = Some(seat);
    }
    instances
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantity::Res;

    fn offering(tpi: u32) -> OfferingModel {
        OfferingModel {
            move_pending: Default::default(),
            apply_now: None,
            maintenance: crate::plan::Maintenance::default(),
            name: "pg".into(),
            level: 3,
            tenants_per_instance: tpi,
            replicas: 1,
            requests: Res::new(1000, 1 << 30),
            instance: Res::new(1000, 1 << 30),
            share: Res::new(1000, 1 << 30).checked_div_ceil(i64::from(tpi)).unwrap(),
            reasons: vec![],
        }
    }

    fn pool(name: &str, level: u8) -> PoolModel {
        PoolModel {
            apply_now: None,
            maintenance: crate::plan::Maintenance::default(),
            max_moves: 1,
            name: name.into(),
            level,
            cordoned: false,
            deleting: false,
            capacity: Res::new(100_000, 1 << 40),
            effective: Res::new(100_000, 1 << 40),
            overcommit: (1.0, 1.0),
            target: 0.8,
            rates: None,
            node_shape: None,
            reasons: vec![],
        }
    }

    /// The second pass as it was before it kept the instances with room: every tenant
    /// scans its whole group. The reference the faster pass must agree with.
    fn seat_by_scan(tenants: &[Tenant], pools: &[PoolModel]) -> Vec<(String, Vec<usize>)> {
        let pools = &Pools::new(pools);
        let mut groups: BTreeMap<(&str, u8), BTreeMap<u32, Instance>> = BTreeMap::new();
        let mut seated = vec![false; tenants.len()];
        for (ti, t) in tenants.iter().enumerate() {
            let key = (t.offering.name.as_str(), t.level);
            let Some(index) = t.previous.and_then(|p| parse_index(p, key.0, key.1)) else {
                continue;
            };
            let inst = groups
                .entry(key)
                .or_default()
                .entry(index)
                .or_insert_with(|| open(t, index));
            if joinable(inst, t, pools) {
                if inst.pool.is_none() {
                    inst.pool = t.previous_pool.map(str::to_string);
                }
                join(inst, t);
                seated[ti] = true;
            }
        }
        for group in groups.values_mut() {
            group.retain(|_, inst| !inst.tenants.is_empty());
        }
        for (ti, t) in tenants.iter().enumerate() {
            if seated[ti] {
                continue;
            }
            let group = groups.entry((t.offering.name.as_str(), t.level)).or_default();
            let best = fullest_joinable(group.values(), t, pools).map(|inst| inst.index);
            let index = best.unwrap_or_else(|| lowest_free_index(group.keys().copied()));
            join(group.entry(index).or_insert_with(|| open(t, index)), t);
        }
        groups
            .into_values()
            .flat_map(BTreeMap::into_values)
            .map(|i| (i.name, i.tenants))
            .collect()
    }

    #[test]
    fn keeping_the_instances_with_room_seats_every_tenant_where_a_full_scan_would() {
        let offerings = [offering(1), offering(3), offering(7)];
        let mut offerings = offerings.to_vec();
        for (i, o) in offerings.iter_mut().enumerate() {
            o.name = format!("o{i}");
        }
        let pools = [pool("a", 3), pool("b", 3), pool("c", 4)];
        let lists: [BTreeSet<String>; 3] = [
            ["a".to_string()].into(),
            ["b".to_string(), "c".to_string()].into(),
            ["c".to_string()].into(),
        ];
        let previous: Vec<String> = (1..=6)
            .flat_map(|n| (0..3).map(move |o| instance_name(&format!("o{o}"), 3, n)))
            .collect();
        // SplitMix64: the same cases every run, different ones per seed.
        for seed in 0..200u64 {
            let mut state = seed;
            let mut next = |below: u64| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)) % below
            };
            let n = 1 + next(60) as usize;
            let tenants: Vec<Tenant> = (0..n)
                .map(|service| Tenant {
                    service,
                    offering: &offerings[next(3) as usize],
                    level: 2 + next(2) as u8,
                    allowed: match next(4) {
                        3 => None,
                        i => Some(&lists[i as usize]),
                    },
                    previous: (next(3) == 0).then(|| previous[next(previous.len() as u64) as usize].as_str()),
                    previous_pool: (next(2) == 0).then_some("a"),
                })
                .collect();
            let (instances, seats) = seat(&tenants, &pools);
            let fast: Vec<(String, Vec<usize>)> = instances
                .iter()
                .map(|i| (i.name.clone(), i.tenants.clone()))
                .collect();
            assert_eq!(fast, seat_by_scan(&tenants, &pools), "seed {seed}");
            for (t, s) in tenants.iter().zip(seats) {
                assert!(
                    instances[s].tenants.contains(&t.service),
                    "seed {seed}: seat of {}",
                    t.service
                );
            }
        }
    }

    #[test]
    fn levels_never_mix_and_instances_fill_to_capacity() {
        let o = offering(2);
        let pools = [pool("a", 3)];
        let levels = [2, 3, 2, 2, 3];
        let tenants: Vec<Tenant> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| Tenant {
                service: i,
                offering: &o,
                level: *l,
                allowed: None,
                previous: None,
                previous_pool: None,
            })
            .collect();
        let (instances, seats) = seat(&tenants, &pools);
        let names: Vec<_> = instances
            .iter()
            .map(|i| (i.name.as_str(), i.tenants.clone()))
            .collect();
        assert_eq!(
            names,
            [
                ("pg-l2-1", vec![0, 2]),
                ("pg-l2-2", vec![3]),
                ("pg-l3-1", vec![1, 4])
            ]
        );
        assert_eq!(seats, [0, 2, 0, 1, 2]);
    }

    #[test]
    fn tenants_keep_their_instance_and_newcomers_fill_the_fullest() {
        let o = offering(3);
        let pools = [pool("a", 3)];
        let t = |service, previous| Tenant {
            service,
            offering: &o,
            level: 2,
            allowed: None,
            previous,
            previous_pool: None,
        };
        let tenants = [
            t(0, Some("pg-l2-4")),
            t(1, Some("pg-l2-2")),
            t(2, Some("pg-l2-4")),
            t(3, None),
        ];
        let (instances, _) = seat(&tenants, &pools);
        let names: Vec<_> = instances
            .iter()
            .map(|i| (i.name.as_str(), i.tenants.clone()))
            .collect();
        assert_eq!(names, [("pg-l2-2", vec![1]), ("pg-l2-4", vec![0, 2, 3])]);
    }

    #[test]
    fn incompatible_allow_lists_get_separate_instances() {
        let o = offering(5);
        let pools = [pool("a", 3), pool("b", 3)];
        let only_a: BTreeSet<String> = ["a".to_string()].into();
        let only_b: BTreeSet<String> = ["b".to_string()].into();
        let tenants = [
            Tenant {
                service: 0,
                offering: &o,
                level: 3,
                allowed: Some(&only_a),
                previous: None,
                previous_pool: None,
            },
            Tenant {
                service: 1,
                offering: &o,
                level: 3,
                allowed: Some(&only_b),
                previous: None,
                previous_pool: None,
            },
            Tenant {
                service: 2,
                offering: &o,
                level: 3,
                allowed: None,
                previous: None,
                previous_pool: None,
            },
        ];
        let (instances, seats) = seat(&tenants, &pools);
        assert_eq!(instances.len(), 2);
        assert_eq!(seats, [0, 1, 0]);
        assert_eq!(instances[0].allowed, Some(only_a));
    }
}
