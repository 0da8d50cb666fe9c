//! Rule 4 and 5 for one more service into an open plan, as a full re-plan would decide
//! a service that arrived last.

use std::collections::{BTreeMap, HashMap};

use super::gate::MoveState;
use super::model::Demand;
use super::place::InstancePlacement;
use super::placer::{Placer, Request};
use super::share::{self, Instance, Tenant};
use super::{Decision, Estate, Reason, ReasonCode};

/// The instances of each offering and level: a tenant only ever joins one of its own
/// offering and level, so that is all it needs to look at, not every instance.
#[derive(Debug, Default)]
pub(crate) struct InstanceGroups {
    by_offering: HashMap<String, BTreeMap<u8, Vec<usize>>>,
}

impl InstanceGroups {
    pub fn new(instances: &[Instance]) -> Self {
        let mut groups = Self::default();
        for (j, inst) in instances.iter().enumerate() {
            groups.insert(j, inst);
        }
        groups
    }

    fn insert(&mut self, j: usize, inst: &Instance) {
        let levels = match self.by_offering.get_mut(&inst.offering) {
            Some(levels) => levels,
            None => self.by_offering.entry(inst.offering.clone()).or_default(),
        };
        levels.entry(inst.level).or_default().push(j);
    }

    fn of(&self, offering: &str, level: u8) -> &[usize] {
        self.by_offering
            .get(offering)
            .and_then(|levels| levels.get(&level))
            .map_or(&[], Vec::as_slice)
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
    groups: &mut InstanceGroups,
    placements: &mut Vec<InstancePlacement>,
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
            let group = groups.of(&o.name, svc.level);
            let pools = share::Pools::new(&estate.pools);
            let existing = share::fullest_joinable(group.iter().map(|&j| &instances[j]), &tenant, &pools)
                .and_then(|best| group.iter().copied().find(|&j| std::ptr::eq(&instances[j], best)));
            let j = match existing {
                Some(j) => j,
                None => {
                    let used = group.iter().map(|&j| instances[j].index);
                    let inst = share::open(&tenant, share::lowest_free_index(used));
                    groups.insert(instances.len(), &inst);
                    instances.push(inst);
                    placements.push(InstancePlacement {
                        pool: None,
                        moves: MoveState::default(),
                    });
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
                placements[j].pool = placer.place(&request).map(str::to_string);
                instances[j].pool = placements[j].pool.clone();
            }
            decisions[i].pool = placements[j].pool.clone();
            if decisions[i].pool.is_none() {
                let request = Request {
                    level: svc.level,
                    demand: o.instance_demand(),
                    allowed: instances[j].allowed.as_ref(),
                };
                // Named after the instance's first tenant to arrive, as a full re-plan
                // names it (`place_all`), whoever joined last.
                let first = instances[j]
                    .tenants
                    .iter()
                    .map(|&t| &estate.services[t])
                    .min_by(|a, b| {
                        (a.created.is_none(), a.created, &a.key).cmp(&(
                            b.created.is_none(),
                            b.created,
                            &b.key,
                        ))
                    });
                let department = first.and_then(|s| s.department.as_deref()).unwrap_or(department);
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
