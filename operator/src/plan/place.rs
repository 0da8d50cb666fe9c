//! Rule 4, place: stability first, then new placements largest first onto the lowest
//! accredited level, filling the fullest pools up to their target.

use super::fill::fill_levels;
use super::gate::{Gate, Move, MoveState, Owner};
use super::model::Demand;
use super::placer::{Placer, Request};
use super::share::Instance;
use super::{Assignment, Decision, Estate, Reason, ReasonCode};
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
    /// Whose windows gate its moves besides the pools'.
    owner: Owner<'a>,
    /// A move out of this pool is still rolling out.
    in_progress_from: Option<&'a str>,
    /// Since when its move has been waiting, and where to, by the previous plan.
    waiting_since: Option<jiff::Timestamp>,
    waiting_to: Option<&'a str>,
}

/// Where each shared instance is placed, and its moves.
pub(crate) struct InstancePlacement {
    pub pool: Option<String>,
    pub moves: MoveState,
}

/// Places admitted workloads and seated instances; returns each instance's placement
/// and records each service's pool (a tenant's is its instance's) in its decision.
/// `was[i]` is service `i`'s previous assignment. Pools are slot indices until the
/// decisions are written: a name per placement would be copied and freed for each.
pub(crate) fn place_all(
    estate: &Estate,
    order: &[usize],
    was: &[Option<&Assignment>],
    instances: &[Instance],
    decisions: &mut [Decision],
) -> (Vec<InstancePlacement>, Placer, Option<jiff::Timestamp>) {
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
        let was = was[i];
        let owner = match dept {
            Some(d) => Owner {
                kind: "Department",
                name: &d.name,
                calendar: &d.maintenance.calendar,
            },
            None => Owner {
                kind: "Department",
                name: "",
                calendar: &estate.no_windows,
            },
        };
        items.push(Item {
            owner,
            in_progress_from: was
                .and_then(|a| a.moved_from.as_deref())
                .filter(|_| estate.rolling.contains(&svc.key)),
            waiting_since: was.and_then(|a| a.move_pending_since),
            waiting_to: was.and_then(|a| a.move_pending_to.as_deref()),
            service: Some(i),
            instance: None,
            request: Request {
                level: svc.level,
                demand: *charge,
                allowed: dept.and_then(|d| d.pools.as_ref()),
            },
            previous: was.and_then(|a| a.pool.as_deref()),
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
        let offering = &estate.offerings[&inst.offering];
        // The instance's record lives in its tenants' statuses (one that kept it).
        let kept = || {
            inst.tenants
                .iter()
                .filter_map(|&t| was[t].filter(|a| a.shared_instance.as_deref() == Some(inst.name.as_str())))
        };
        // Nothing rolls out offline: no key to build for each instance then.
        let rolling = !estate.rolling.is_empty()
            && estate.rolling.contains(&super::ServiceKey {
                namespace: estate.shared_namespace.clone(),
                name: inst.name.clone(),
            });
        items.push(Item {
            owner: Owner {
                kind: "ServiceOffering",
                name: &offering.name,
                calendar: &offering.maintenance.calendar,
            },
            in_progress_from: kept().find_map(|a| a.moved_from.as_deref()).filter(|_| rolling),
            waiting_since: offering.move_pending.get(&inst.name).map(|(since, _)| *since),
            waiting_to: offering.move_pending.get(&inst.name).map(|(_, to)| to.as_str()),
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
    let mut placed: Vec<Option<usize>> = vec![None; items.len()];
    let mut moves: Vec<MoveState> = vec![MoveState::default(); items.len()];
    let mut gate = Gate::new(estate);
    let mut by_arrival: Vec<usize> = (0..items.len()).collect();
    by_arrival.sort_by_key(|&k| (items[k].arrival, items[k].instance));
    // Moves still rolling out hold their source pools and move slots first.
    for &k in &by_arrival {
        let item = &items[k];
        if let Some(from) = item.in_progress_from
            && item.previous != Some(from)
        {
            moves[k] = gate.in_progress(from);
        }
    }
    // Stability first: in arrival order, everything keeps a pool that is still feasible,
    // and a waiting move the destination it holds.
    for &k in &by_arrival {
        let item = &items[k];
        let keep = [item.previous, item.waiting_to.filter(|_| item.previous.is_some())];
        if let Some(p) = keep
            .into_iter()
            .flatten()
            .filter_map(|p| placer.index_of(p))
            .find(|&p| placer.fits(p, &item.request))
        {
            placer.commit(p, item.request.demand);
            placed[k] = Some(p);
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
    let mut rest: Vec<usize> = by_arrival
        .iter()
        .copied()
        .filter(|&k| placed[k].is_none())
        .collect();
    rest.sort_by(|&a, &b| {
        let (sa, sb) = (shares(items[a].request.demand), shares(items[b].request.demand));
        sb.0.max(sb.1)
            .total_cmp(&sa.0.max(sa.1))
            .then(items[a].arrival.cmp(&items[b].arrival))
            .then(items[a].instance.cmp(&items[b].instance))
    });
    let requests: Vec<Request> = items.iter().map(|item| item.request).collect();
    fill_levels(&mut placer, &requests, &rest, &shares, &mut placed);
    let mut refused = Vec::new();
    for &k in &rest {
        if placed[k].is_some() {
            continue;
        }
        let item = &items[k];
        if let Some(p) = placer.choose(&item.request) {
            placer.commit(p, item.request.demand);
            placed[k] = Some(p);
        } else if let Some(p) = item.previous.and_then(|p| placer.index_of(p))
            && placer.may_stay(p, &item.request)
        {
            placer.commit(p, item.request.demand);
            placed[k] = Some(p);
        } else {
            refused.push(k);
        }
    }
    // A platform-driven move goes now only inside its windows and move slots; else it
    // waits on its source pool.
    for &k in &by_arrival {
        let item = &items[k];
        let (Some(from), Some(to)) = (item.previous, placed[k]) else {
            continue;
        };
        if from == placer.name(to) || placer.index_of(from).is_none() {
            continue;
        }
        let to = placer.name(to).to_string();
        let mv = Move {
            owner: item.owner,
            from,
            to,
            request: item.request,
            waiting_since: item.waiting_since,
            apply_now: match (item.service, item.instance) {
                (Some(i), _) => estate.services[i].apply_now.as_deref(),
                (None, Some(j)) => estate.offerings[&instances[j].offering].apply_now.as_deref(),
                (None, None) => None,
            },
        };
        let (pool, state) = gate.decide(&mut placer, mv);
        placed[k] = placer.index_of(&pool);
        moves[k] = state;
    }
    // Explained only once everything is placed: the room seen when an item was passed
    // over is not the plan's (smaller items still went in after it), and a re-plan from
    // this plan's own decisions, which places those first, must say the same thing.
    let mut refusals: Vec<Option<String>> = vec![None; items.len()];
    for k in refused {
        refusals[k] = Some(placer.explain_refusal(&items[k].request, items[k].department));
    }

    let mut placements: Vec<InstancePlacement> = instances
        .iter()
        .map(|_| InstancePlacement {
            pool: None,
            moves: MoveState::default(),
        })
        .collect();
    for (k, item) in items.iter().enumerate() {
        let pool = placed[k].map(|p| placer.name(p));
        if let Some(i) = item.service {
            decisions[i].pool = pool.map(str::to_string);
            decisions[i].moves = moves[k].clone();
            if let Some(why) = &refusals[k] {
                decisions[i]
                    .reasons
                    .push(Reason::new(ReasonCode::InsufficientCapacity, why.clone()));
            }
        }
        if let Some(j) = item.instance {
            placements[j] = InstancePlacement {
                pool: pool.map(str::to_string),
                moves: moves[k].clone(),
            };
            for &t in &instances[j].tenants {
                decisions[t].pool = pool.map(str::to_string);
                // Tenants carry the instance's move record (their statuses keep it);
                // the capacity is the instance's, held once.
                decisions[t].moves.moved_from = moves[k].moved_from.clone();
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
    let wake_at = gate.wake_at();
    (placements, placer, wake_at)
}
