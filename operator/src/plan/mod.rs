//! The planner: one pure decision for the whole estate.
//!
//! `plan(snapshot, previous)` validates every object, checks services against the
//! platform policies, admits them first come first served against department quotas,
//! groups offering tenants into shared instances, places workloads and instances on
//! pools, and accounts utilisation, cost and savings against the siloed baseline.
//! It never touches a client: the operator feeds it watch caches, `govcloud plan` files.

mod account;
mod admit;
mod comply;
mod model;
mod output;
mod place;
mod share;
mod snapshot;
mod validate;
mod window;

use std::collections::BTreeMap;

pub use model::{Demand, DepartmentModel, OfferingModel, PolicyModel, PoolModel, ServiceModel};
pub use output::*;
pub use place::{Placer, Request};
pub use share::instance_name;
pub use snapshot::*;
pub use window::parse_duration_seconds;

use crate::quantity::Res;

/// Everything decided about one service, filled in rule by rule.
#[derive(Clone, Debug, Default)]
pub(crate) struct Decision {
    pub compliant: bool,
    pub admitted: bool,
    /// Quota charge: requests × replicas, or the tenant's share of an instance.
    pub charge: Res,
    /// Index into the instance list, for a seated tenant.
    pub instance: Option<usize>,
    pub pool: Option<String>,
    pub reasons: Vec<Reason>,
}

/// The validated estate, sorted by name, as every rule after validation sees it.
pub(crate) struct Estate {
    pub pools: Vec<PoolModel>,
    pub departments: Vec<DepartmentModel>,
    pub offerings: BTreeMap<String, OfferingModel>,
    pub policies: Vec<PolicyModel>,
    pub services: Vec<ServiceModel>,
    pub effective: model::EffectivePolicy,
}

impl Estate {
    fn validate(snapshot: &Snapshot) -> Self {
        let mut pools: Vec<_> = snapshot.pools.iter().map(|p| validate::pool(p, &snapshot.nodes)).collect();
        pools.sort_by(|a, b| a.name.cmp(&b.name));
        let mut departments: Vec<_> =
            snapshot.departments.iter().map(|d| validate::department(d, &snapshot.settings)).collect();
        departments.sort_by(|a, b| a.name.cmp(&b.name));
        let offerings = snapshot.offerings.iter().map(validate::offering).map(|o| (o.name.clone(), o)).collect();
        let mut policies: Vec<_> = snapshot.policies.iter().map(validate::policy).collect();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        let effective = validate::effective_policy(&policies);
        let by_namespace = departments.iter().map(|d| (d.namespace.as_str(), d)).collect();
        let mut services: Vec<_> =
            snapshot.services.iter().map(|s| validate::service(s, &by_namespace, &effective)).collect();
        services.sort_by(|a, b| a.key.cmp(&b.key));
        Self { pools, departments, offerings, policies, services, effective }
    }

    pub fn department(&self, name: &str) -> Option<&DepartmentModel> {
        self.departments.binary_search_by(|d| d.name.as_str().cmp(name)).ok().map(|i| &self.departments[i])
    }

    /// Service indices first come, first served: creation time (objects not yet
    /// created, as in offline files, come last), then namespace/name.
    fn arrival_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.services.len()).collect();
        order.sort_by(|&a, &b| {
            let (sa, sb) = (&self.services[a], &self.services[b]);
            (sa.created.is_none(), sa.created, &sa.key).cmp(&(sb.created.is_none(), sb.created, &sb.key))
        });
        order
    }
}

/// Decides the whole estate. The same inputs give the same plan, byte for byte.
pub fn plan(snapshot: &Snapshot, previous: &Assignments) -> Plan {
    let estate = Estate::validate(snapshot);
    let order = estate.arrival_order();
    let mut decisions: Vec<Decision> =
        estate.services.iter().map(|s| Decision { reasons: s.reasons.clone(), ..Decision::default() }).collect();

    // Rule 2: comply.
    let mut violations = vec![0u32; estate.policies.len()];
    for (svc, decision) in estate.services.iter().zip(&mut decisions) {
        if svc.demand.is_none() {
            continue;
        }
        for (count, policy) in violations.iter_mut().zip(&estate.policies) {
            let found = comply::violations(svc, policy);
            if !found.is_empty() {
                *count += 1;
                decision.reasons.extend(found);
            }
        }
        decision.compliant = decision.reasons.is_empty();
    }

    // Rules 3–5: admit, seat tenants, place.
    admit::admit(&estate, &order, &mut decisions);
    let instances = share::seat_tenants(&estate, &order, previous, &mut decisions);
    let instance_pools = place::place_all(&estate, &order, previous, &instances, &mut decisions);

    // Rule 6: account.
    account::account(&estate, previous, &decisions, &instances, &instance_pools, &violations)
}

#[cfg(test)]
mod tests;
