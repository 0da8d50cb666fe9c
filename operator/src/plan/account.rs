//! Rule 6, account: utilisation, cost and the siloed baseline, as the plan output.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::Maintenance;
use super::model::{Demand, PoolModel};
use super::openings::Openings;
use super::output::*;
use super::place::InstancePlacement;
use super::share::Instance;
use super::{Decision, Estate};
use crate::api::Phase;
use crate::quantity::{Res, Total};

/// Hours in an average month, the chargeback convention.
pub const HOURS_PER_MONTH: f64 = 730.0;

fn monthly(res: Res, rates: Option<(f64, f64)>) -> f64 {
    monthly_total(res.into(), rates)
}

/// As `monthly`, for a total over many amounts (the same figure where both apply).
fn monthly_total(t: Total, rates: Option<(f64, f64)>) -> f64 {
    rates.map_or(0.0, |(cpu, mem)| {
        let cores = t.cpu_millis as f64 / 1000.0;
        let gib = t.memory_bytes as f64 / (1u64 << 30) as f64;
        (cores * cpu + gib * mem) * HOURS_PER_MONTH
    })
}

/// `Ratio::of` for totals over many amounts.
fn ratio_of(part: Total, whole: Total) -> Ratio {
    let r = |p: i128, w: i128| if w <= 0 { 0.0 } else { round4(p as f64 / w as f64) };
    Ratio {
        cpu: r(part.cpu_millis, whole.cpu_millis),
        memory: r(part.memory_bytes, whole.memory_bytes),
    }
}

/// Whole nodes of `shape` (overcommitted like the pool) needed to host `demand`.
fn nodes_for(demand: Total, pool: &PoolModel, shape: Res) -> i128 {
    let need = |d: i128, s: i64, oc: f64| {
        let per_node = (s as f64 * oc).floor();
        if d <= 0 || per_node <= 0.0 {
            0
        } else {
            (d as f64 / per_node).ceil() as i128
        }
    };
    need(demand.cpu_millis, shape.cpu_millis, pool.overcommit.0).max(need(
        demand.memory_bytes,
        shape.memory_bytes,
        pool.overcommit.1,
    ))
}

/// Cost and node figures of one estate (consolidated or siloed), pool by pool, summed
/// in i128: a siloed estate may need more than any one amount can hold.
#[derive(Default)]
struct Footprint {
    nodes: i128,
    cost: f64,
    /// Allocation and node capacity over pools with a node shape (for utilisation).
    demand_on_nodes: Total,
    node_capacity: Total,
}

impl Footprint {
    fn add(&mut self, pool: &PoolModel, demand: Total) {
        match pool.node_shape {
            Some(shape) => {
                let n = nodes_for(demand, pool, shape);
                let nodes = Total {
                    cpu_millis: i128::from(shape.cpu_millis) * n,
                    memory_bytes: i128::from(shape.memory_bytes) * n,
                };
                self.nodes += n;
                self.cost += monthly_total(nodes, pool.rates);
                self.demand_on_nodes.add_total(demand);
                self.node_capacity.add_total(Total {
                    cpu_millis: (nodes.cpu_millis as f64 * pool.overcommit.0).floor() as i128,
                    memory_bytes: (nodes.memory_bytes as f64 * pool.overcommit.1).floor() as i128,
                });
            }
            // Without a node shape nothing is rounded to whole nodes, which understates savings.
            None => self.cost += monthly_total(demand, pool.rates),
        }
    }
}

/// A node count in the i64 of the output schema. More than 9.2 × 10^18 nodes only
/// come from absurd node shapes; the figure then reads as i64::MAX.
fn node_count(n: i128) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The output for service `i`.
pub(crate) fn service_plan(
    estate: &Estate,
    openings: &mut Openings<'_>,
    d: &Decision,
    instances: &[Instance],
    i: usize,
) -> ServicePlan {
    let svc = &estate.services[i];
    ServicePlan {
        namespace: svc.key.namespace.clone(),
        name: svc.key.name.clone(),
        department: svc.department.clone(),
        security_level: svc.level,
        admitted: d.admitted,
        compliant: d.compliant,
        phase: match (d.admitted, &d.pool) {
            (false, _) => Phase::Rejected,
            (true, None) => Phase::Pending,
            (true, Some(_)) => Phase::Placed,
        },
        pool: d.pool.clone(),
        shared_instance: d.instance.map(|j| instances[j].name.clone()),
        allocated: if d.admitted { d.charge } else { Res::ZERO },
        reasons: d.reasons.clone(),
        offering: match &svc.demand {
            Some(Demand::Tenant { offering }) => Some(offering.clone()),
            _ => None,
        },
        workload: match &svc.demand {
            Some(Demand::Workload {
                replicas,
                requests,
                limits,
                ..
            }) => Some(WorkloadShape {
                replicas: *replicas,
                requests: *requests,
                limits: *limits,
            }),
            _ => None,
        },
        moved_from: d.moves.moved_from.clone(),
        pending_change: d.moves.pending.clone(),
        applied_now: d.moves.applied_now.clone(),
        maintenance: openings.service(svc.dept, d.pool.as_deref()),
    }
}

pub(crate) fn account(
    estate: &Estate,
    decisions: &[Decision],
    instances: &[Instance],
    placements: &[InstancePlacement],
    violations: &[u32],
) -> Plan {
    let pool_index: HashMap<&str, usize> = estate
        .pools
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let rates_of = |pool: &Option<String>| {
        pool.as_deref()
            .and_then(|p| pool_index.get(p))
            .and_then(|&i| estate.pools[i].rates)
    };

    let mut openings = Openings::new(estate);
    let mut services: Vec<ServicePlan> = (0..estate.services.len())
        .map(|i| service_plan(estate, &mut openings, &decisions[i], instances, i))
        .collect();
    // Services added to an open Planner come after the sorted ones.
    services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

    // Pools: what is placed on each.
    let mut pool_alloc = vec![Res::ZERO; estate.pools.len()];
    let mut pool_services = vec![0u32; estate.pools.len()];
    let mut pool_depts: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); estate.pools.len()];
    let mut pool_instances = vec![0u32; estate.pools.len()];
    for (svc, d) in estate.services.iter().zip(decisions) {
        let Some(&pi) = d.pool.as_deref().and_then(|p| pool_index.get(p)) else {
            continue;
        };
        pool_services[pi] += 1;
        if let Some(dept) = svc.dept {
            pool_depts[pi].insert(dept);
        }
        if d.instance.is_none() {
            pool_alloc[pi] = within_pool(pool_alloc[pi], d.charge);
            // A waiting move holds its destination too.
            if let Some(&hi) = d.moves.holds_destination().and_then(|p| pool_index.get(p)) {
                pool_alloc[hi] = within_pool(pool_alloc[hi], d.charge);
            }
        }
    }
    for (inst, placed) in instances.iter().zip(placements) {
        let Some(&pi) = placed.pool.as_deref().and_then(|p| pool_index.get(p)) else {
            continue;
        };
        let demand = estate.offerings[&inst.offering].instance_demand();
        pool_alloc[pi] = within_pool(pool_alloc[pi], demand);
        if let Some(&hi) = placed.moves.holds_destination().and_then(|p| pool_index.get(p)) {
            pool_alloc[hi] = within_pool(pool_alloc[hi], demand);
        }
        pool_instances[pi] += 1;
    }
    // A move under way holds its source pool too, where its old pods run until the
    // rollout ends, when the source has room beside what is placed there. Accounted
    // rather than placed: the same holds come out of a plan and of its re-plan (or an
    // open planner that took one more service), whatever order they placed in.
    let under_way = estate
        .services
        .iter()
        .zip(decisions)
        .filter(|(_, d)| d.instance.is_none())
        .map(|(_, d)| (&d.moves, d.charge))
        .chain(
            instances
                .iter()
                .zip(placements)
                .map(|(inst, p)| (&p.moves, estate.offerings[&inst.offering].instance_demand())),
        );
    for (moves, demand) in under_way {
        let Some(&pi) = moves
            .moved_from
            .as_deref()
            .filter(|_| moves.pending.is_none())
            .and_then(|p| pool_index.get(p))
        else {
            continue;
        };
        if let Some(after) = pool_alloc[pi].checked_add(demand)
            && after.fits_within(estate.pools[pi].effective)
        {
            pool_alloc[pi] = after;
        }
    }
    let maintenance = |m: &Maintenance| super::openings::own(estate, m);
    let pools: Vec<PoolPlan> = estate
        .pools
        .iter()
        .enumerate()
        .map(|(i, p)| PoolPlan {
            name: p.name.clone(),
            security_level: p.level,
            cordoned: p.cordoned,
            capacity: p.capacity,
            effective_capacity: p.effective,
            target_utilisation: p.target,
            allocated: pool_alloc[i],
            utilisation: Ratio::of(pool_alloc[i], p.effective),
            services: pool_services[i],
            departments: pool_depts[i].len() as u32,
            shared_instances: pool_instances[i],
            monthly_cost: round2(monthly(pool_alloc[i], p.rates)),
            reasons: p.reasons.clone(),
            deletion: None,
            maintenance: maintenance(&p.maintenance),
        })
        .collect();

    // Departments, in one pass over the services.
    let mut departments: Vec<DepartmentPlan> = estate
        .departments
        .iter()
        .map(|dept| DepartmentPlan {
            name: dept.name.clone(),
            namespace: dept.namespace.clone(),
            security_clearance: dept.clearance,
            quota: QuotaPlan {
                cpu: dept.quota.cores(),
                memory: dept.quota.memory_bytes,
                services: dept.quota_services,
            },
            allocated: Res::ZERO,
            services: 0,
            rejected_services: 0,
            shared_services: 0,
            monthly_cost: 0.0,
            reasons: dept.reasons.clone(),
            deletion: None,
            maintenance: maintenance(&dept.maintenance),
        })
        .collect();
    let mut costs = vec![0.0; departments.len()];
    for (svc, d) in estate.services.iter().zip(decisions) {
        let Some(di) = svc.dept else {
            continue;
        };
        let plan = &mut departments[di];
        if !d.admitted {
            plan.rejected_services += 1;
            continue;
        }
        plan.services += 1;
        plan.allocated = plan
            .allocated
            .checked_add(d.charge)
            .expect("admitted charges sum to at most the department's quota (admit::admit_one)");
        plan.shared_services += u32::from(d.instance.is_some());
        costs[di] += monthly(d.charge, rates_of(&d.pool));
    }
    for (plan, cost) in departments.iter_mut().zip(costs) {
        plan.monthly_cost = round2(cost);
    }

    // Offerings and the siloed baseline of each.
    let (ratio_cpu, ratio_mem) = estate.effective.limit_ratio;
    let mut offerings = Vec::new();
    let mut instances_saved = 0;
    let mut by_offering: HashMap<&str, Vec<(usize, &Instance)>> = HashMap::new();
    for (j, inst) in instances.iter().enumerate() {
        by_offering
            .entry(inst.offering.as_str())
            .or_default()
            .push((j, inst));
    }
    for o in estate.offerings.values() {
        let mut mine = by_offering.remove(o.name.as_str()).unwrap_or_default();
        mine.sort_by_key(|(_, i)| (i.level, i.index));
        let mut per_dept_level: BTreeMap<(Option<usize>, u8), u32> = BTreeMap::new();
        for (_, inst) in &mine {
            for &t in &inst.tenants {
                *per_dept_level
                    .entry((estate.services[t].dept, inst.level))
                    .or_default() += 1;
            }
        }
        let siloed: u32 = per_dept_level
            .values()
            .map(|n| n.div_ceil(o.tenants_per_instance))
            .sum();
        let saved = i64::from(siloed) - mine.len() as i64;
        instances_saved += saved;
        offerings.push(OfferingPlan {
            name: o.name.clone(),
            tenants: mine.iter().map(|(_, i)| i.tenants.len() as u32).sum(),
            instances: mine
                .iter()
                .map(|(j, inst)| {
                    let mut tenants: Vec<String> = inst
                        .tenants
                        .iter()
                        .map(|&t| estate.services[t].key.to_string())
                        .collect();
                    tenants.sort();
                    InstancePlan {
                        name: inst.name.clone(),
                        security_level: inst.level,
                        pool: placements[*j].pool.clone(),
                        tenants,
                        replicas: o.replicas,
                        requests: o.requests,
                        limits: o
                            .requests
                            .checked_scale_up(ratio_cpu, ratio_mem)
                            .expect("admission refuses tenants of an offering whose limits are beyond i64"),
                        moved_from: placements[*j].moves.moved_from.clone(),
                        pending_change: placements[*j].moves.pending.clone(),
                        applied_now: placements[*j].moves.applied_now.clone(),
                        maintenance: openings.instance(&inst.offering, placements[*j].pool.as_deref()),
                    }
                })
                .collect(),
            siloed_instances: siloed,
            instances_saved: saved,
            reasons: o.reasons.clone(),
            maintenance: maintenance(&o.maintenance),
        });
    }

    let policies = estate
        .policies
        .iter()
        .zip(violations)
        .map(|(p, &v)| PolicyPlan {
            name: p.name.clone(),
            violations: v,
            reasons: p.reasons.clone(),
            exclusion_problems: p.freeze.problems.clone(),
        })
        .collect();

    let savings = savings(
        estate,
        decisions,
        instances,
        placements,
        &pool_alloc,
        &pool_index,
        instances_saved,
    );
    let (mut pools, mut departments) = (pools, departments);
    super::deletion::hold(estate, &services, &mut pools, &mut departments);
    Plan {
        services,
        pools,
        departments,
        offerings,
        policies,
        savings,
        wake_at: None,
    }
}

/// A pool's allocation plus one more placement on it: the placer committed each only
/// within the pool's effective capacity, so the sum is representable.
fn within_pool(alloc: Res, more: Res) -> Res {
    alloc
        .checked_add(more)
        .expect("placements on a pool sum to at most its effective capacity (Placer::fits)")
}

/// The consolidated estate against the siloed baseline: every department on its own
/// nodes (per pool it uses, of that pool's `nodeShape`), running its own instance of
/// every offering it uses at each level.
fn savings(
    estate: &Estate,
    decisions: &[Decision],
    instances: &[Instance],
    placements: &[InstancePlacement],
    pool_alloc: &[Res],
    pool_index: &HashMap<&str, usize>,
    instances_saved: i64,
) -> Savings {
    let mut consolidated = Footprint::default();
    for (pool, alloc) in estate.pools.iter().zip(pool_alloc) {
        consolidated.add(pool, Total::from(*alloc));
    }

    // Siloed demand per (department, pool): own workloads where they run now, plus
    // ceil(tenants / tenantsPerInstance) whole instances per offering and level.
    let mut silo: BTreeMap<(usize, usize), Total> = BTreeMap::new();
    let mut tenancies: BTreeMap<(usize, &str, u8), (u32, usize)> = BTreeMap::new();
    for (svc, d) in estate.services.iter().zip(decisions) {
        let (Some(dept), Some(&pi)) = (svc.dept, d.pool.as_deref().and_then(|p| pool_index.get(p))) else {
            continue;
        };
        match d.instance {
            None => silo.entry((dept, pi)).or_default().add(d.charge),
            Some(j) => {
                let inst = &instances[j];
                let pool = placements[j]
                    .pool
                    .as_deref()
                    .and_then(|p| pool_index.get(p))
                    .copied()
                    .unwrap_or(pi);
                tenancies
                    .entry((dept, inst.offering.as_str(), inst.level))
                    .or_insert((0, pool))
                    .0 += 1;
            }
        }
    }
    for ((dept, offering, _), (n, pi)) in tenancies {
        let o = &estate.offerings[offering];
        silo.entry((dept, pi))
            .or_default()
            .add_times(o.instance_demand(), n.div_ceil(o.tenants_per_instance));
    }
    let mut siloed = Footprint::default();
    for ((_, pi), demand) in silo {
        siloed.add(&estate.pools[pi], demand);
    }

    Savings {
        instances_saved,
        nodes_consolidated: node_count(consolidated.nodes),
        nodes_siloed: node_count(siloed.nodes),
        nodes_saved: node_count(siloed.nodes - consolidated.nodes),
        monthly_cost_consolidated: round2(consolidated.cost),
        monthly_cost_siloed: round2(siloed.cost),
        monthly_cost_saved: round2(siloed.cost - consolidated.cost),
        utilisation_consolidated: ratio_of(consolidated.demand_on_nodes, consolidated.node_capacity),
        utilisation_siloed: ratio_of(siloed.demand_on_nodes, siloed.node_capacity),
    }
}
