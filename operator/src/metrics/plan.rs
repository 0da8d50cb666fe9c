//! Gauges of the plan: pools, departments, offerings, the estate's savings, and (opt-in)
//! services — allocation from the plan, use from the measured [`Usage`].
//!
//! Every pass replaces all of them: a deleted pool, department or offering, or a reason
//! no longer seen, must disappear from the scrape rather than linger at its last value.

use std::collections::HashSet;

use prometheus_client::metrics::family::Family;
use prometheus_client::registry::{Metric, Registry, Unit};

use super::family::{Amount, FloatGauge, IntGauge, Labels, ratio};
use super::labels::{
    CPU, DepartmentLabels, DepartmentReasonLabels, MEMORY, OfferingLabels, OfferingLevelLabels, PhaseLabels,
    PoolLabels, PoolResourceLabels, ResourceLabels, ServiceLabels,
};
use crate::api::Phase;
use crate::plan::{Plan, Ratio};
use crate::quantity::Res;
use crate::usage::Usage;

/// Registers a labelled gauge family and returns it.
fn gauges<L: Labels, G: Default>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
) -> Family<L, G>
where
    Family<L, G>: Metric,
{
    let family = Family::<L, G>::default();
    match unit {
        Some(unit) => registry.register_with_unit(name, help, unit, family.clone()),
        None => registry.register(name, help, family.clone()),
    }
    family
}

#[derive(Debug)]
pub struct PlanFamilies {
    pool_capacity: Amount<PoolLabels>,
    pool_effective_capacity: Amount<PoolLabels>,
    pool_allocated: Amount<PoolLabels>,
    pool_used: Amount<PoolLabels>,
    pool_utilisation: Family<PoolResourceLabels, FloatGauge>,
    pool_target: Family<PoolLabels, FloatGauge>,
    pool_level: Family<PoolLabels, IntGauge>,
    pool_services: Family<PoolLabels, IntGauge>,
    pool_departments: Family<PoolLabels, IntGauge>,
    pool_instances: Family<PoolLabels, IntGauge>,

    department_quota: Amount<DepartmentLabels>,
    department_quota_services: Family<DepartmentLabels, IntGauge>,
    department_allocated: Amount<DepartmentLabels>,
    department_used: Amount<DepartmentLabels>,
    department_services: Family<DepartmentLabels, IntGauge>,
    department_shared: Family<DepartmentLabels, IntGauge>,
    department_refused: Family<DepartmentReasonLabels, IntGauge>,
    department_cost: Family<DepartmentLabels, FloatGauge>,

    offering_tenants: Family<OfferingLabels, IntGauge>,
    offering_instances: Family<OfferingLevelLabels, IntGauge>,
    offering_siloed: Family<OfferingLabels, IntGauge>,
    offering_saved: Family<OfferingLabels, IntGauge>,

    services: Family<PhaseLabels, IntGauge>,
    instances_saved: IntGauge,
    nodes_consolidated: IntGauge,
    nodes_siloed: IntGauge,
    nodes_saved: IntGauge,
    cost_consolidated: FloatGauge,
    cost_siloed: FloatGauge,
    cost_saved: FloatGauge,
    utilisation_consolidated: Family<ResourceLabels, FloatGauge>,
    utilisation_siloed: Family<ResourceLabels, FloatGauge>,

    /// Only when `metrics.perService` is on: no empty families otherwise.
    services_each: Option<ServiceFamilies>,
}

/// Per-DepartmentService series (opt-in: thousands of services multiply every scrape).
#[derive(Debug)]
struct ServiceFamilies {
    allocated: Amount<ServiceLabels>,
    used: Amount<ServiceLabels>,
}

/// A whole count as a gauge value.
fn count(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

impl PlanFamilies {
    /// Registers every plan family; `per_service` adds the per-DepartmentService ones.
    pub fn register(r: &mut Registry, per_service: bool) -> Self {
        let as_ratio = || Some(ratio());
        let money = "in the currency of the pools' rates (config `currency`), per month of 730 h";
        let estate_gauge = |r: &mut Registry, name: &str, help: String| {
            let g = IntGauge::default();
            r.register(name, help, g.clone());
            g
        };
        let cost_gauge = |r: &mut Registry, name: &str, help: String| {
            let g = FloatGauge::default();
            r.register(name, help, g.clone());
            g
        };
        Self {
            pool_capacity: Amount::register(r, "pool_capacity", "Pool capacity before overcommit"),
            pool_effective_capacity: Amount::register(
                r,
                "pool_effective_capacity",
                "Pool capacity times overcommit, the hard limit of placement",
            ),
            pool_allocated: Amount::register(r, "pool_allocated", "Requests placed on the pool"),
            pool_used: Amount::register(
                r,
                "pool_used",
                "Measured use on the pool (absent without a usage sample)",
            ),
            pool_utilisation: gauges(
                r,
                "pool_utilisation",
                "Allocated over effective capacity, by resource",
                as_ratio(),
            ),
            pool_target: gauges(
                r,
                "pool_target_utilisation",
                "Utilisation up to which placement fills the pool before using emptier ones",
                as_ratio(),
            ),
            pool_level: gauges(
                r,
                "pool_security_level",
                "Highest security level (1-4) the pool is accredited for",
                None,
            ),
            pool_services: gauges(
                r,
                "pool_services",
                "Workloads and tenants whose pool this is",
                None,
            ),
            pool_departments: gauges(
                r,
                "pool_departments",
                "Departments with services on the pool",
                None,
            ),
            pool_instances: gauges(
                r,
                "pool_shared_instances",
                "Shared instances placed on the pool",
                None,
            ),

            department_quota: Amount::register(r, "department_quota", "Department quota"),
            department_quota_services: gauges(
                r,
                "department_quota_services",
                "Department quota: number of services",
                None,
            ),
            department_allocated: Amount::register(
                r,
                "department_allocated",
                "Quota reserved by the department's admitted services (tenant shares included)",
            ),
            department_used: Amount::register(
                r,
                "department_used",
                "Measured use of the department's services (absent without a usage sample)",
            ),
            department_services: gauges(
                r,
                "department_services",
                "Admitted services of the department",
                None,
            ),
            department_shared: gauges(
                r,
                "department_shared_services",
                "Admitted tenancies of shared offerings of the department",
                None,
            ),
            department_refused: gauges(
                r,
                "department_refused_services",
                "Services of the department the plan did not place, by the code of their first reason \
                 (InsufficientCapacity: admitted, waiting for capacity)",
                None,
            ),
            department_cost: gauges(
                r,
                "department_monthly_cost",
                &format!("Department chargeback: placed allocations times pool rates, {money}"),
                None,
            ),

            offering_tenants: gauges(r, "offering_tenants", "Admitted tenants of the offering", None),
            offering_instances: gauges(
                r,
                "offering_instances",
                "Shared instances of the offering, by security level",
                None,
            ),
            offering_siloed: gauges(
                r,
                "offering_siloed_instances",
                "Instances if every department ran its own, per level",
                None,
            ),
            offering_saved: gauges(
                r,
                "offering_instances_saved",
                "Siloed minus shared instances (negative when allow-lists split instances)",
                None,
            ),

            services: gauges(r, "services", "DepartmentServices by planned phase", None),
            instances_saved: estate_gauge(
                r,
                "estate_instances_saved",
                "Shared instances saved against every department running its own".into(),
            ),
            nodes_consolidated: estate_gauge(
                r,
                "estate_nodes_consolidated",
                "Nodes of the pools' nodeShape the consolidated estate needs".into(),
            ),
            nodes_siloed: estate_gauge(
                r,
                "estate_nodes_siloed",
                "Nodes the siloed baseline (every department on its own nodes) needs".into(),
            ),
            nodes_saved: estate_gauge(r, "estate_nodes_saved", "Siloed minus consolidated nodes".into()),
            cost_consolidated: cost_gauge(
                r,
                "estate_monthly_cost_consolidated",
                format!("Cost of the consolidated estate, {money}"),
            ),
            cost_siloed: cost_gauge(
                r,
                "estate_monthly_cost_siloed",
                format!("Cost of the siloed baseline, {money}"),
            ),
            cost_saved: cost_gauge(
                r,
                "estate_monthly_cost_saved",
                format!("Siloed minus consolidated cost, {money}"),
            ),
            utilisation_consolidated: gauges(
                r,
                "estate_utilisation_consolidated",
                "Utilisation of the consolidated estate's nodes, by resource",
                as_ratio(),
            ),
            utilisation_siloed: gauges(
                r,
                "estate_utilisation_siloed",
                "Utilisation of the siloed baseline's nodes, by resource",
                as_ratio(),
            ),

            services_each: per_service.then(|| ServiceFamilies {
                allocated: Amount::register(
                    r,
                    "service_allocated",
                    "What the DepartmentService is charged against its department quota (opt-in)",
                ),
                used: Amount::register(
                    r,
                    "service_used",
                    "Measured use of the DepartmentService, a tenant's share of its instance (opt-in)",
                ),
            }),
        }
    }

    /// Replaces every series with those of `plan` (and `usage`, when sampled).
    pub fn replace(&self, plan: &Plan, usage: Option<&Usage>) {
        self.clear();
        self.pools(plan, usage);
        self.departments(plan, usage);
        self.offerings(plan);
        self.estate(plan);
        if let Some(each) = &self.services_each {
            each.replace(plan, usage);
        }
    }

    fn clear(&self) {
        for amount in [
            &self.pool_capacity,
            &self.pool_effective_capacity,
            &self.pool_allocated,
            &self.pool_used,
        ] {
            amount.clear();
        }
        for family in [
            &self.pool_level,
            &self.pool_services,
            &self.pool_departments,
            &self.pool_instances,
        ] {
            family.clear();
        }
        self.pool_utilisation.clear();
        self.pool_target.clear();
        for amount in [
            &self.department_quota,
            &self.department_allocated,
            &self.department_used,
        ] {
            amount.clear();
        }
        for family in [
            &self.department_quota_services,
            &self.department_services,
            &self.department_shared,
        ] {
            family.clear();
        }
        self.department_refused.clear();
        self.department_cost.clear();
        for family in [
            &self.offering_tenants,
            &self.offering_siloed,
            &self.offering_saved,
        ] {
            family.clear();
        }
        self.offering_instances.clear();
    }

    fn pools(&self, plan: &Plan, usage: Option<&Usage>) {
        for p in &plan.pools {
            let l = PoolLabels { pool: p.name.clone() };
            self.pool_capacity.set(&l, p.capacity);
            self.pool_effective_capacity.set(&l, p.effective_capacity);
            self.pool_allocated.set(&l, p.allocated);
            if let Some(used) = usage.and_then(|u| u.pools.get(&p.name)) {
                self.pool_used.set(&l, *used);
            }
            set_ratio(&self.pool_utilisation, p.utilisation, |resource| {
                PoolResourceLabels {
                    pool: p.name.clone(),
                    resource,
                }
            });
            self.pool_target.get_or_create(&l).set(p.target_utilisation);
            self.pool_level.get_or_create(&l).set(i64::from(p.security_level));
            self.pool_services.get_or_create(&l).set(count(p.services));
            self.pool_departments.get_or_create(&l).set(count(p.departments));
            self.pool_instances
                .get_or_create(&l)
                .set(count(p.shared_instances));
        }
    }

    fn departments(&self, plan: &Plan, usage: Option<&Usage>) {
        for d in &plan.departments {
            let l = DepartmentLabels {
                department: d.name.clone(),
            };
            let quota = Res::new((d.quota.cpu * 1000.0).round() as i64, d.quota.memory);
            self.department_quota.set(&l, quota);
            self.department_quota_services
                .get_or_create(&l)
                .set(count(d.quota.services));
            self.department_allocated.set(&l, d.allocated);
            if let Some(used) = usage.and_then(|u| u.departments.get(&d.name)) {
                self.department_used.set(&l, *used);
            }
            self.department_services.get_or_create(&l).set(count(d.services));
            self.department_shared
                .get_or_create(&l)
                .set(count(d.shared_services));
            self.department_cost.get_or_create(&l).set(d.monthly_cost);
        }
        // Unplaced services by their first reason; a department the plan does not know
        // (a namespace without one) has no series to count them in.
        let known: HashSet<&str> = plan.departments.iter().map(|d| d.name.as_str()).collect();
        for s in plan.services.iter().filter(|s| s.phase != Phase::Placed) {
            let (Some(department), Some(reason)) = (&s.department, s.reasons.first()) else {
                continue;
            };
            if known.contains(department.as_str()) {
                let l = DepartmentReasonLabels {
                    department: department.clone(),
                    reason: reason.code.as_str(),
                };
                self.department_refused.get_or_create(&l).inc();
            }
        }
    }

    fn offerings(&self, plan: &Plan) {
        for o in &plan.offerings {
            let l = OfferingLabels {
                offering: o.name.clone(),
            };
            self.offering_tenants.get_or_create(&l).set(count(o.tenants));
            self.offering_siloed
                .get_or_create(&l)
                .set(count(o.siloed_instances));
            self.offering_saved.get_or_create(&l).set(o.instances_saved);
            for i in &o.instances {
                let l = OfferingLevelLabels {
                    offering: o.name.clone(),
                    level: i.security_level,
                };
                self.offering_instances.get_or_create(&l).inc();
            }
        }
    }

    fn estate(&self, plan: &Plan) {
        // Every planned phase, zeros included, so that `> 0` alerts have a series to see.
        for phase in [Phase::Pending, Phase::Rejected, Phase::Placed] {
            let n = plan.services.iter().filter(|s| s.phase == phase).count();
            self.services
                .get_or_create(&PhaseLabels {
                    phase: phase.as_str(),
                })
                .set(count(n));
        }
        let s = &plan.savings;
        self.instances_saved.set(s.instances_saved);
        self.nodes_consolidated.set(s.nodes_consolidated);
        self.nodes_siloed.set(s.nodes_siloed);
        self.nodes_saved.set(s.nodes_saved);
        self.cost_consolidated.set(s.monthly_cost_consolidated);
        self.cost_siloed.set(s.monthly_cost_siloed);
        self.cost_saved.set(s.monthly_cost_saved);
        set_ratio(
            &self.utilisation_consolidated,
            s.utilisation_consolidated,
            |resource| ResourceLabels { resource },
        );
        set_ratio(&self.utilisation_siloed, s.utilisation_siloed, |resource| {
            ResourceLabels { resource }
        });
    }
}

impl ServiceFamilies {
    fn replace(&self, plan: &Plan, usage: Option<&Usage>) {
        self.allocated.clear();
        self.used.clear();
        for s in plan.services.iter().filter(|s| s.admitted) {
            let l = ServiceLabels {
                service_namespace: s.namespace.clone(),
                service_name: s.name.clone(),
                department: s.department.clone().unwrap_or_default(),
            };
            self.allocated.set(&l, s.allocated);
            if let Some(used) = usage.and_then(|u| u.services.get(&format!("{}/{}", s.namespace, s.name))) {
                self.used.set(&l, *used);
            }
        }
    }
}

fn set_ratio<L: Labels>(family: &Family<L, FloatGauge>, ratio: Ratio, labels: impl Fn(&'static str) -> L) {
    family.get_or_create(&labels(CPU)).set(ratio.cpu);
    family.get_or_create(&labels(MEMORY)).set(ratio.memory);
}
