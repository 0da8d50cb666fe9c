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
mod deletion;
mod fill;
mod gate;
pub mod invariants;
mod model;
mod name_checks;
mod newcomer;
mod openings;
mod output;
mod place;
mod placer;
mod refusals;
mod share;
mod snapshot;
mod validate;

pub use output::{MaintenancePlan, PendingPlan, PendingReason};

use std::collections::{BTreeMap, HashMap};

pub use model::{
    Demand, DepartmentModel, EffectivePolicy, Maintenance, OfferingModel, PolicyModel, PoolModel,
    ServiceModel,
};
pub use name_checks::OFFERING_NAME_MAX;
pub use output::*;
pub use placer::{Placer, Request};
pub use refusals::Refusal;
pub use share::instance_name;
pub use snapshot::*;

use crate::maintenance::Calendar;
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
    pub moves: gate::MoveState,
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
    /// Department index by namespace.
    pub by_namespace: HashMap<String, usize>,
    /// The moment windows are evaluated at.
    pub now: jiff::Timestamp,
    /// The estate-wide freezes of the PlatformPolicies that declare any.
    pub freeze: Vec<Calendar>,
    pub rolling: std::collections::BTreeSet<ServiceKey>,
    pub shared_namespace: String,
    /// The calendar of a service without a department: always open (it has no windows).
    pub no_windows: Calendar,
}

impl Estate {
    fn validate(snapshot: &Snapshot) -> Self {
        let mut pools: Vec<_> = snapshot
            .pools
            .iter()
            .map(|p| validate::pool(p, &snapshot.nodes))
            .collect();
        pools.sort_by(|a, b| a.name.cmp(&b.name));
        let mut departments: Vec<_> = snapshot
            .departments
            .iter()
            .map(|d| validate::department(d, &snapshot.settings))
            .collect();
        departments.sort_by(|a, b| a.name.cmp(&b.name));
        let offerings = snapshot
            .offerings
            .iter()
            .map(validate::offering)
            .map(|o| (o.name.clone(), o))
            .collect();
        let mut policies: Vec<_> = snapshot.policies.iter().map(validate::policy).collect();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        let effective = validate::effective_policy(&policies);
        let freeze = policies
            .iter()
            .map(|p| p.freeze.calendar.clone())
            .filter(|c| !c.is_always_open())
            .collect();
        let by_namespace: HashMap<String, usize> = departments
            .iter()
            .enumerate()
            .map(|(i, d)| (d.namespace.clone(), i))
            .collect();
        let mut estate = Self {
            pools,
            departments,
            offerings,
            policies,
            services: Vec::new(),
            effective,
            by_namespace,
            now: snapshot.now,
            freeze,
            rolling: snapshot.rolling.clone(),
            shared_namespace: snapshot.settings.shared_namespace.clone(),
            no_windows: Calendar::always_open(),
        };
        estate.services = snapshot
            .services
            .iter()
            .map(|s| estate.validate_service(s))
            .collect();
        estate.services.sort_by(|a, b| a.key.cmp(&b.key));
        estate
    }

    fn validate_service(&self, svc: &crate::api::DepartmentService) -> ServiceModel {
        let dept = svc
            .metadata
            .namespace
            .as_deref()
            .and_then(|ns| self.by_namespace.get(ns));
        validate::service(svc, dept.map(|&i| (i, &self.departments[i])), &self.effective)
    }

    /// `own` calendars with the estate's freezes: what a change needs open together.
    pub fn with_freeze<'a>(&'a self, own: impl IntoIterator<Item = &'a Calendar>) -> Vec<&'a Calendar> {
        own.into_iter().chain(self.freeze.iter()).collect()
    }

    /// The index of pool `name` (pools are sorted by name).
    pub fn pool_index(&self, name: &str) -> Option<usize> {
        self.pools.binary_search_by(|p| p.name.as_str().cmp(name)).ok()
    }

    /// Each service's assignment in `previous`, by service index: found once, by one
    /// walk of both in key order, instead of by a search on namespace and name per
    /// lookup.
    fn assignments<'p>(&self, previous: &'p Assignments) -> Vec<Option<&'p Assignment>> {
        let mut prev = previous.services.iter().peekable();
        self.services
            .iter()
            .map(|svc| {
                while prev.next_if(|(key, _)| *key < &svc.key).is_some() {}
                prev.peek().filter(|(key, _)| *key == &svc.key).map(|(_, a)| *a)
            })
            .collect()
    }

    /// The department of a service, when one owns its namespace.
    pub fn department_of(&self, svc: &ServiceModel) -> Option<&DepartmentModel> {
        svc.dept.map(|i| &self.departments[i])
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

/// All platform policies merged, as the planner applies them (defaults, limit ratio,
/// maxima): what a department's LimitRange restates.
pub fn effective_policy(policies: &[crate::api::PlatformPolicy]) -> EffectivePolicy {
    let mut models: Vec<PolicyModel> = policies.iter().map(validate::policy).collect();
    models.sort_by(|a, b| a.name.cmp(&b.name));
    validate::effective_policy(&models)
}

/// Decides the whole estate. The same inputs give the same plan, byte for byte.
pub fn plan(snapshot: &Snapshot, previous: &Assignments) -> Plan {
    Planner::new(snapshot, previous).plan()
}

/// A plan kept open: decided once for the whole estate (rules 1–5), then accounted
/// (rule 6) on demand, and able to take one more service in O(pools) exactly as a
/// full re-plan would place a service that arrived last.
pub struct Planner {
    estate: Estate,
    decisions: Vec<Decision>,
    instances: Vec<share::Instance>,
    instances_placed: Vec<place::InstancePlacement>,
    /// When a waiting move's windows next open or close.
    wake_at: Option<jiff::Timestamp>,
    placer: Placer,
    /// Instances by offering and level, built by the first `add` of a tenant.
    groups: Option<newcomer::InstanceGroups>,
    /// Quota reserved per department (resources, services).
    reserved: Vec<(Res, u32)>,
    violations: Vec<u32>,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("services", &self.estate.services.len())
            .finish_non_exhaustive()
    }
}

impl Planner {
    pub fn new(snapshot: &Snapshot, previous: &Assignments) -> Self {
        let estate = Estate::validate(snapshot);
        let order = estate.arrival_order();
        let mut decisions: Vec<Decision> = estate
            .services
            .iter()
            .map(|s| Decision {
                reasons: s.reasons.clone(),
                ..Decision::default()
            })
            .collect();
        let mut violations = vec![0u32; estate.policies.len()];
        for (svc, decision) in estate.services.iter().zip(&mut decisions) {
            comply::check(svc, &estate.policies, decision, &mut violations);
        }
        let mut reserved = vec![(Res::ZERO, 0u32); estate.departments.len()];
        for &i in &order {
            admit::admit_one(&estate, &estate.services[i], &mut decisions[i], &mut reserved);
        }
        let was = estate.assignments(previous);
        let instances = share::seat_tenants(&estate, &order, &was, &mut decisions);
        let (instances_placed, placer, wake_at) =
            place::place_all(&estate, &order, &was, &instances, &mut decisions);
        Self {
            estate,
            decisions,
            instances,
            instances_placed,
            placer,
            groups: None,
            wake_at,
            reserved,
            violations,
        }
    }

    /// Rule 6: the plan output for everything decided so far.
    pub fn plan(&self) -> Plan {
        let mut plan = account::account(
            &self.estate,
            &self.decisions,
            &self.instances,
            &self.instances_placed,
            &self.violations,
        );
        plan.wake_at = self.wake_at;
        plan
    }

    /// Moves the plan's clock to `now`: newcomers are decided, and the plan accounted
    /// (the maintenance it shows), at `now`, while every decision already made stands.
    /// That is what a full re-plan at `now` decides as long as no waiting move's windows
    /// opened or closed in between, i.e. while `now` is before the plan's `wake_at`.
    pub fn set_now(&mut self, now: jiff::Timestamp) {
        self.estate.now = now;
    }

    /// Decides one more service, arriving after every service already planned.
    pub fn add(&mut self, svc: &crate::api::DepartmentService) -> ServicePlan {
        let model = self.estate.validate_service(svc);
        let mut decision = Decision {
            reasons: model.reasons.clone(),
            ..Decision::default()
        };
        comply::check(&model, &self.estate.policies, &mut decision, &mut self.violations);
        admit::admit_one(&self.estate, &model, &mut decision, &mut self.reserved);
        let i = self.estate.services.len();
        self.estate.services.push(model);
        self.decisions.push(decision);
        if self.decisions[i].admitted {
            let groups = self
                .groups
                .get_or_insert_with(|| newcomer::InstanceGroups::new(&self.instances));
            newcomer::place_newcomer(
                &self.estate,
                i,
                &mut self.decisions,
                &mut self.instances,
                groups,
                &mut self.instances_placed,
                &mut self.placer,
            );
        }
        let mut openings = openings::Openings::new(&self.estate);
        account::service_plan(
            &self.estate,
            &mut openings,
            &self.decisions[i],
            &self.instances,
            i,
        )
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_maintenance;
#[cfg(test)]
mod tests_names;
