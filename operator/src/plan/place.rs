//! Rule 4, place: stability first, then new placements largest first onto the lowest
//! accredited level, filling the fullest pools up to their target.

use super::model::Demand;
use super::placer::{Placer, Request};
use super::share::{self, Instance, Tenant};
use super::{Assignments, Decision, Estate, Reason, ReasonCode};
use crate::quantity::{Res, Total};

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
) -> (Vec<Option<String>>, Placer) {
    let mut arrival = vec![usize::MAX; estate.services.len()];
    for (pos, &i) in order.iter().enumerate() {
        arrival[i] = pos;
    }
    let mut items = Vec::new();
    for (i, svc) in estate.services.iter().enumerate() {
        let (Some(Demand::Workload { charge, .. }), true) = (&svc.demand, decisions[i].admitted) else {
            continue;
        };
        let dept = estate.department_of(svc);
        items.push(Item {
            service: Some(i),
            instance: None,
            request: Request {
                level: svc.level,
                demand: *charge,
                allowed: dept.and_then(|d| d.pools.as_ref()),
            },
            previous: previous.services.get(&svc.key).and_then(|a| a.pool.as_deref()),
            arrival: arrival[i],
            department: svc.department.as_deref().unwrap_or(""),
        });
    }
    for (k, inst) in instances.iter().enumerate() {
        let first = inst
            .tenants
            .iter()
            .copied()
            .min_by_key(|&t| arrival[t])
            .expect("instances have tenants");
        items.push(Item {
            service: None,
            instance: Some(k),
            request: Request {
                level: inst.level,
                demand: estate.offerings[&inst.offering].instance_demand(),
                allowed: inst.allowed.as_ref(),
            },
            previous: inst.pool.as_deref(),
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
    let mut total = Total::default();
    for p in estate.pools.iter().filter(|p| p.usable()) {
        total.add(p.effective);
    }
    let share = |a: i64, t: i128| if t <= 0 { 0.0 } else { a as f64 / t as f64 };
    let shares = |d: Res| {
        (
            share(d.cpu_millis, total.cpu_millis),
            share(d.memory_bytes, total.memory_bytes),
        )
    };
    let mut rest: Vec<usize> = by_arrival.into_iter().filter(|&k| placed[k].is_none()).collect();
    rest.sort_by(|&a, &b| {
        let (sa, sb) = (shares(items[a].request.demand), shares(items[b].request.demand));
        sb.0.max(sb.1)
            .total_cmp(&sa.0.max(sa.1))
            .then(items[a].arrival.cmp(&items[b].arrival))
            .then(items[a].instance.cmp(&items[b].instance))
    });
    fill_levels(&mut placer, &items, &rest, &shares, &mut placed);
    let mut refused = Vec::new();
    for k in rest {
        if placed[k].is_some() {
            continue;
        }
        let item = &items[k];
        if let Some(pool) = placer.place(&item.request) {
            placed[k] = Some(pool.to_string());
        } else if let Some(p) = item.previous.and_then(|p| placer.index_of(p))
            && placer.may_stay(p, &item.request)
        {
            placer.commit(p, item.request.demand);
            placed[k] = Some(placer.name(p).to_string());
        } else {
            refused.push(k);
        }
    }
    // Explained only once everything is placed: the room seen when an item was passed
    // over is not the plan's (smaller items still went in after it), and a re-plan from
    // this plan's own decisions, which places those first, must say the same thing.
    let mut refusals: Vec<Option<String>> = vec![None; items.len()];
    for k in refused {
        refusals[k] = Some(placer.explain_refusal(&items[k].request, items[k].department));
    }

    let mut instance_pools = vec![None; instances.len()];
    for (k, item) in items.iter().enumerate() {
        if let Some(i) = item.service {
            decisions[i].pool = placed[k].clone();
            if let Some(why) = &refusals[k] {
                decisions[i]
                    .reasons
                    .push(Reason::new(ReasonCode::InsufficientCapacity, why.clone()));
            }
        }
        if let Some(j) = item.instance {
            instance_pools[j] = placed[k].clone();
            for &t in &instances[j].tenants {
                decisions[t].pool = placed[k].clone();
                if let Some(why) = &refusals[k] {
                    decisions[t].reasons.push(Reason::new(
                        ReasonCode::InsufficientCapacity,
                        format!(
                            "shared instance {:?} of ServiceOffering {:?}: {why}",
                            instances[j].name, instances[j].offering
                        ),
                    ));
                }
            }
        }
    }
    (instance_pools, placer)
}

/// Fills each level's pools, fullest first, up to their target with that level's new
/// items, largest first; from the two size-ordered queues of CPU-heavy and
/// memory-heavy items it takes from the one the pool is shorter of, so that pools
/// fill evenly in both resources instead of closing on one with the other half used.
/// What does not fit under a target is left for the item-by-item pass.
fn fill_levels(
    placer: &mut Placer,
    items: &[Item],
    ordered: &[usize],
    shares: &dyn Fn(Res) -> (f64, f64),
    placed: &mut [Option<String>],
) {
    for level in placer.levels() {
        // Two queues of this level's items, each largest first.
        let (mut cpu_heavy, mut memory_heavy) = (Vec::new(), Vec::new());
        for &k in ordered.iter().filter(|&&k| items[k].request.level == level) {
            let (cpu, memory) = shares(items[k].request.demand);
            if cpu >= memory {
                cpu_heavy.push(k)
            } else {
                memory_heavy.push(k)
            }
        }
        let mut taken = vec![false; items.len()];
        for pool in placer.fill_order(level) {
            // Within one pool the room only shrinks, so an item passed over stays passed over.
            let mut cursors = [0usize, 0usize];
            loop {
                let first = if placer.short_of_memory(pool) { 0 } else { 1 };
                let mut took = false;
                for q in [first, 1 - first] {
                    let queue = if q == 0 { &cpu_heavy } else { &memory_heavy };
                    while let Some(&k) = queue.get(cursors[q]) {
                        cursors[q] += 1;
                        if taken[k] || !placer.fits_under_target(pool, &items[k].request) {
                            continue;
                        }
                        placer.commit(pool, items[k].request.demand);
                        placed[k] = Some(placer.name(pool).to_string());
                        taken[k] = true;
                        took = true;
                        break;
                    }
                    if took {
                        break;
                    }
                }
                if !took {
                    break;
                }
            }
        }
    }
}

/// Places service `i`, admitted after everything else, as a full re-plan would: a
/// workload goes to the best pool; a tenant joins the fullest instance with room of
/// its offering and level, else opens one that is placed like a workload.
pub(crate) fn place_newcomer(
    estate: &Estate,
    i: usize,
    decisions: &mut [Decision],
    instances: &mut Vec<Instance>,
    instance_pools: &mut Vec<Option<String>>,
    placer: &mut Placer,
) {
    let svc = &estate.services[i];
    let department = svc.department.as_deref().unwrap_or("");
    let allowed = estate.department_of(svc).and_then(|d| d.pools.as_ref());
    match &svc.demand {
        Some(Demand::Workload { charge, .. }) => {
            let request = Request {
                level: svc.level,
                demand: *charge,
                allowed,
            };
            match placer.place(&request) {
                Some(pool) => decisions[i].pool = Some(pool.to_string()),
                None => decisions[i].reasons.push(Reason::new(
                    ReasonCode::InsufficientCapacity,
                    placer.explain_refusal(&request, department),
                )),
            }
        }
        Some(Demand::Tenant { offering }) => {
            let o = &estate.offerings[offering];
            let tenant = Tenant {
                service: i,
                offering: o,
                level: svc.level,
                allowed,
                previous: None,
                previous_pool: None,
            };
            let existing = share::fullest_joinable(instances.iter(), &tenant, &estate.pools)
                .and_then(|best| instances.iter().position(|x| std::ptr::eq(x, best)));
            let j = match existing {
                Some(j) => j,
                None => {
                    let used = instances
                        .iter()
                        .filter(|x| x.offering == o.name && x.level == svc.level)
                        .map(|x| x.index);
                    let inst = share::open(&tenant, share::lowest_free_index(used));
                    instances.push(inst);
                    instance_pools.push(None);
                    instances.len() - 1
                }
            };
            share::join(&mut instances[j], &tenant);
            decisions[i].instance = Some(j);
            if existing.is_none() {
                let request = Request {
                    level: svc.level,
                    demand: o.instance_demand(),
                    allowed: instances[j].allowed.as_ref(),
                };
                instance_pools[j] = placer.place(&request).map(str::to_string);
                instances[j].pool = instance_pools[j].clone();
            }
            decisions[i].pool = instance_pools[j].clone();
            if decisions[i].pool.is_none() {
                let request = Request {
                    level: svc.level,
                    demand: o.instance_demand(),
                    allowed: instances[j].allowed.as_ref(),
                };
                let why = placer.explain_refusal(&request, department);
                decisions[i].reasons.push(Reason::new(
                    ReasonCode::InsufficientCapacity,
                    format!(
                        "shared instance {:?} of ServiceOffering {:?}: {why}",
                        instances[j].name, o.name
                    ),
                ));
            }
        }
        None => {}
    }
}
