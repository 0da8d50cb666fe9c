//! Building the report from the estate, its plan and (optionally) measured usage: pure.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::jiff::Timestamp;

use super::model::*;
use crate::api::{Department, Phase};
use crate::plan::{Plan, PoolPlan, Ratio, ServicePlan, Snapshot, round2};
use crate::quantity::{Res, Total};
use crate::usage::Usage;

/// Hours in an average month: the chargeback convention of the planner's account rule
/// (`plan::account`), restated here so that the report prices a share exactly as the
/// plan prices a department. `department_costs_equal_the_plans` ties the two together.
const HOURS_PER_MONTH: f64 = 730.0;

fn monthly(res: Res, rates: Option<&Rates>) -> f64 {
    rates.map_or(0.0, |r| {
        (res.cores() * r.cpu_core_hour + res.gib() * r.memory_gib_hour) * HOURS_PER_MONTH
    })
}

/// Measured usage as the report takes it: attributed, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeasuredUsage {
    /// Its `at` is when the usage was measured; from statuses, the oldest `usedAt`.
    pub usage: Usage,
    pub origin: UsageOrigin,
    /// The newest time of the usage (from statuses, the newest `usedAt`).
    pub until: Option<Timestamp>,
}

impl MeasuredUsage {
    /// A `--usage` file's sample, attributed by the report's plan.
    pub fn from_file(usage: Usage) -> Self {
        Self {
            until: usage.at,
            usage,
            origin: UsageOrigin::File,
        }
    }

    /// Pods the usage could not attribute: only a sample of pods knows them; statuses
    /// record what was attributed, not what was not.
    fn unattributed_pods(&self) -> Option<usize> {
        (self.origin == UsageOrigin::File).then_some(self.usage.unattributed_pods)
    }
}

/// What the report needs to know about each pool, by name.
struct Pools<'a> {
    plans: HashMap<&'a str, &'a PoolPlan>,
    rates: HashMap<String, Rates>,
}

impl Pools<'_> {
    fn level(&self, pool: Option<&str>) -> Option<u8> {
        pool.and_then(|p| self.plans.get(p)).map(|p| p.security_level)
    }

    fn rates(&self, pool: Option<&str>) -> Option<&Rates> {
        pool.and_then(|p| self.rates.get(p))
    }

    /// A level against the level of the pool it was placed on.
    fn check(&self, level: u8, pool: Option<&str>) -> LevelStatus {
        match (pool, self.level(pool)) {
            (None, _) => LevelStatus::NotPlaced,
            (Some(_), None) => LevelStatus::UnknownPool,
            (Some(_), Some(pool_level)) if pool_level >= level => LevelStatus::Ok,
            (Some(_), Some(_)) => LevelStatus::BelowLevel,
        }
    }
}

/// The report of `plan`, made from `snapshot` (for rates, seats per instance and
/// department details the plan does not carry) and `measured` usage when there is some.
pub fn build(snapshot: &Snapshot, plan: &Plan, measured: Option<&MeasuredUsage>) -> Report {
    let usage = measured.map(|m| &m.usage);
    let pools = Pools {
        plans: plan.pools.iter().map(|p| (p.name.as_str(), p)).collect(),
        rates: snapshot
            .pools
            .iter()
            .filter_map(|p| {
                // A refused rate (not a number, negative, absurd) prices nothing and is
                // not shown either: the plan's reasons on the pool say why.
                let c = p.spec.cost.as_ref().filter(|c| c.problems().is_empty())?;
                let name = p.metadata.name.clone().unwrap_or_default();
                Some((
                    name,
                    Rates {
                        cpu_core_hour: c.cpu_core_hour,
                        memory_gib_hour: c.memory_gib_hour,
                    },
                ))
            })
            .collect(),
    };
    // Seats per instance, from the offering; an offering the snapshot lacks (a plan made
    // elsewhere) counts its instances' tenants as the seats.
    let seats_of: HashMap<String, u32> = snapshot
        .offerings
        .iter()
        .map(|o| {
            (
                o.metadata.name.clone().unwrap_or_default(),
                o.spec.tenants_per_instance.max(1),
            )
        })
        .collect();
    let instance_seats: HashMap<&str, u32> = plan
        .offerings
        .iter()
        .flat_map(|o| {
            let seats = seats_of.get(&o.name).copied();
            o.instances.iter().map(move |i| {
                let n = u32::try_from(i.tenants.len()).unwrap_or(u32::MAX).max(1);
                (i.name.as_str(), seats.unwrap_or(n))
            })
        })
        .collect();
    let used_service = |key: &str| usage.and_then(|u| u.services.get(key).copied());

    let services: Vec<ServiceReport> = plan
        .services
        .iter()
        .map(|s| service(s, &pools, &instance_seats, used_service(&key(s))))
        .collect();

    let shared_instances = instances(plan, &pools, &instance_seats, &services, usage);
    let departments = departments(snapshot, plan, &services, &shared_instances, usage);
    let unowned_services: Vec<ServiceReport> = services
        .iter()
        .filter(|s| {
            s.department
                .as_ref()
                .is_none_or(|d| !departments.iter().any(|r| &r.name == d))
        })
        .cloned()
        .collect();
    let level_check = level_check(&services, &shared_instances);

    let summary = Summary {
        departments: count(departments.len()),
        services: count(services.len()),
        placed: count(services.iter().filter(|s| s.pool.is_some()).count()),
        pending: count(services.iter().filter(|s| s.phase == Phase::Pending).count()),
        rejected: count(services.iter().filter(|s| s.phase == Phase::Rejected).count()),
        quota: sum(departments
            .iter()
            .map(|d| Res::new((d.quota.cpu * 1000.0).round() as i64, d.quota.memory))),
        allocated: sum(departments.iter().map(|d| d.allocated)),
        used: usage.map(|u| sum(u.departments.values().copied())),
        monthly_cost_charged: round2(services.iter().map(|s| s.monthly_cost).sum()),
        level_check,
        unattributed_pods: measured.and_then(MeasuredUsage::unattributed_pods),
    };

    Report {
        schema: SCHEMA,
        source: Source::Manifests,
        currency: "CNY".into(),
        usage_origin: measured.map(|m| m.origin),
        usage_at: usage.and_then(|u| u.at).map(|t| t.to_string()),
        usage_until: measured.and_then(|m| m.until).map(|t| t.to_string()),
        summary,
        departments,
        unowned_services,
        pools: plan.pools.iter().map(|p| pool(p, &pools, usage)).collect(),
        shared_instances,
        refusals: refusals(plan),
        pending_changes: PendingChangeReport::all(plan),
        policies: plan.policies.clone(),
        savings: plan.savings.clone(),
    }
}

/// An estate-wide total. Each department's figures are representable, but any number
/// of them may not sum to an i64: such a total reads as the largest amount, the only
/// total the report's schema can hold (its departments show the exact figures).
fn sum(amounts: impl Iterator<Item = Res>) -> Res {
    let mut total = Total::default();
    amounts.for_each(|r| total.add(r));
    let clamp = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    Res::new(clamp(total.cpu_millis), clamp(total.memory_bytes))
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn key(s: &ServicePlan) -> String {
    format!("{}/{}", s.namespace, s.name)
}

fn service(
    s: &ServicePlan,
    pools: &Pools<'_>,
    seats: &HashMap<&str, u32>,
    used: Option<Res>,
) -> ServiceReport {
    let pool = s.pool.as_deref();
    ServiceReport {
        namespace: s.namespace.clone(),
        name: s.name.clone(),
        department: s.department.clone(),
        security_level: s.security_level,
        phase: s.phase,
        pool: s.pool.clone(),
        pool_security_level: pools.level(pool),
        level_check: pools.check(s.security_level, pool),
        shared_instance: s.shared_instance.clone(),
        offering: s.offering.clone(),
        instance_share: s
            .shared_instance
            .as_deref()
            .and_then(|i| seats.get(i))
            .map(|&n| 1.0 / f64::from(n)),
        allocated: s.allocated,
        used,
        // Only what is placed costs anything: a pending service reserves quota, no nodes.
        monthly_cost: if pool.is_some() {
            round2(monthly(s.allocated, pools.rates(pool)))
        } else {
            0.0
        },
        reasons: s.reasons.clone(),
    }
}

fn instances(
    plan: &Plan,
    pools: &Pools<'_>,
    seats: &HashMap<&str, u32>,
    services: &[ServiceReport],
    usage: Option<&Usage>,
) -> Vec<InstanceReport> {
    let by_key: HashMap<String, &ServiceReport> = services
        .iter()
        .map(|s| (format!("{}/{}", s.namespace, s.name), s))
        .collect();
    let mut out = Vec::new();
    for o in &plan.offerings {
        for i in &o.instances {
            let pool = i.pool.as_deref();
            let seats = seats.get(i.name.as_str()).copied().unwrap_or(1);
            // The planner refuses an offering whose instance is beyond i64; a plan made
            // elsewhere that carries one is priced at the largest amount, not wrapped.
            let requests = i
                .requests
                .checked_times(i64::from(i.replicas))
                .unwrap_or(Res::new(i64::MAX, i64::MAX));
            let monthly_cost = if pool.is_some() {
                monthly(requests, pools.rates(pool))
            } else {
                0.0
            };
            let tenants: Vec<TenantShare> = i
                .tenants
                .iter()
                .map(|t| {
                    let s = by_key.get(t.as_str());
                    TenantShare {
                        service: t.clone(),
                        department: s.and_then(|s| s.department.clone()),
                        share: 1.0 / f64::from(seats),
                        allocated: s.map_or(Res::ZERO, |s| s.allocated),
                        used: usage.and_then(|u| u.services.get(t).copied()),
                        monthly_cost: s.map_or(0.0, |s| s.monthly_cost),
                    }
                })
                .collect();
            let charged: f64 = tenants.iter().map(|t| t.monthly_cost).sum();
            out.push(InstanceReport {
                name: i.name.clone(),
                offering: o.name.clone(),
                security_level: i.security_level,
                pool: i.pool.clone(),
                pool_security_level: pools.level(pool),
                level_check: pools.check(i.security_level, pool),
                seats,
                requests,
                monthly_cost: round2(monthly_cost),
                vacant_seats: seats.saturating_sub(count(tenants.len())),
                charged_to_tenants: round2(charged),
                vacant_monthly_cost: round2(monthly_cost - charged),
                tenants,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn departments(
    snapshot: &Snapshot,
    plan: &Plan,
    services: &[ServiceReport],
    instances: &[InstanceReport],
    usage: Option<&Usage>,
) -> Vec<DepartmentReport> {
    let specs: HashMap<&str, &Department> = snapshot
        .departments
        .iter()
        .filter_map(|d| Some((d.metadata.name.as_deref()?, d)))
        .collect();
    let mut services_of: BTreeMap<&str, Vec<&ServiceReport>> = BTreeMap::new();
    for s in services {
        if let Some(d) = &s.department {
            services_of.entry(d.as_str()).or_default().push(s);
        }
    }
    let instance_of: HashMap<&str, &InstanceReport> =
        instances.iter().map(|i| (i.name.as_str(), i)).collect();

    plan.departments
        .iter()
        .map(|d| {
            let spec = specs.get(d.name.as_str()).map(|d| &d.spec);
            let mine = services_of.remove(d.name.as_str()).unwrap_or_default();
            let quota = Res::new((d.quota.cpu * 1000.0).round() as i64, d.quota.memory);
            let used = usage.and_then(|u| u.departments.get(&d.name).copied());
            let tenancies = mine
                .iter()
                .filter_map(|s| {
                    let name = s.shared_instance.as_deref()?;
                    let instance = instance_of.get(name);
                    Some(Tenancy {
                        service: format!("{}/{}", s.namespace, s.name),
                        instance: name.to_owned(),
                        offering: s
                            .offering
                            .clone()
                            .or_else(|| instance.map(|i| i.offering.clone()))
                            .unwrap_or_default(),
                        pool: s.pool.clone(),
                        share: s.instance_share.unwrap_or(0.0),
                        instance_monthly_cost: instance.map_or(0.0, |i| i.monthly_cost),
                        monthly_cost: s.monthly_cost,
                    })
                })
                .collect();
            DepartmentReport {
                name: d.name.clone(),
                display_name: spec.and_then(|s| s.display_name.clone()),
                code: spec.and_then(|s| s.code.clone()),
                cost_centre: spec.and_then(|s| s.cost_centre.clone()),
                namespace: d.namespace.clone(),
                security_clearance: d.security_clearance,
                quota: d.quota.clone(),
                allocated: d.allocated,
                admitted_services: d.services,
                rejected_services: d.rejected_services,
                allocated_of_quota: Ratio::of(d.allocated, quota),
                used,
                used_of_quota: used.map(|u| Ratio::of(u, quota)),
                monthly_cost: d.monthly_cost,
                services: mine.into_iter().cloned().collect(),
                tenancies,
                reasons: d.reasons.clone(),
            }
        })
        .collect()
}

fn pool(p: &PoolPlan, pools: &Pools<'_>, usage: Option<&Usage>) -> PoolReport {
    let used = usage.and_then(|u| u.pools.get(&p.name).copied());
    PoolReport {
        name: p.name.clone(),
        security_level: p.security_level,
        cordoned: p.cordoned,
        capacity: p.capacity,
        effective_capacity: p.effective_capacity,
        target_utilisation: p.target_utilisation,
        allocated: p.allocated,
        utilisation: p.utilisation,
        used,
        used_utilisation: used.map(|u| Ratio::of(u, p.effective_capacity)),
        rates: pools.rates.get(&p.name).cloned(),
        monthly_cost: p.monthly_cost,
        services: p.services,
        departments: p.departments,
        shared_instances: p.shared_instances,
        reasons: p.reasons.clone(),
    }
}

fn level_check(services: &[ServiceReport], instances: &[InstanceReport]) -> LevelCheck {
    let placed: Vec<&ServiceReport> = services.iter().filter(|s| s.pool.is_some()).collect();
    let failures: Vec<String> = placed
        .iter()
        .filter(|s| s.level_check.is_failure())
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .collect();
    let instance_failures: Vec<String> = instances
        .iter()
        .filter(|i| i.level_check.is_failure())
        .map(|i| i.name.clone())
        .collect();
    let placed_instances = instances.iter().filter(|i| i.pool.is_some()).count();
    let checked = count(placed.len());
    let passed = checked - count(failures.len());
    let holds = failures.is_empty() && instance_failures.is_empty();
    let statement = if holds && checked == 0 {
        "no service is placed, so none runs below its level".to_owned()
    } else if holds {
        format!(
            "every placed service runs on a pool of its level or above \
             ({passed} of {checked} placed services checked, and {placed_instances} shared instances)"
        )
    } else {
        let mut s = format!(
            "NOT every placed service runs on a pool of its level or above: {} of {checked} placed \
             services fail",
            failures.len()
        );
        if !failures.is_empty() {
            s.push_str(&format!(" ({})", failures.join(", ")));
        }
        if !instance_failures.is_empty() {
            s.push_str(&format!(
                ", and shared instances {} run below their level",
                instance_failures.join(", ")
            ));
        }
        s
    };
    LevelCheck {
        checked,
        passed,
        failures,
        instance_failures,
        holds,
        statement,
    }
}

fn refusals(plan: &Plan) -> Vec<Refusal> {
    plan.refusals()
        .map(|r| Refusal {
            kind: r.kind,
            name: r.name,
            department: r.department.map(str::to_owned),
            code: r.reason.code,
            message: r.reason.message.clone(),
        })
        .collect()
}
