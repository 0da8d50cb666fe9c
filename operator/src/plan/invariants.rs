//! The planner's promises, checkable on any input and its plan: what the property
//! tests and the fuzz targets assert after every `plan`. Kept in the library so that
//! both check one definition, and a promise added here is checked everywhere at once.

use std::collections::BTreeMap;

use super::{Assignments, Plan, ServiceKey, Snapshot};
use crate::quantity::{Res, parse_cpu, parse_memory};

/// A broken promise, in words a failing test or fuzz run prints.
pub type Broken = String;

fn negative(r: Res) -> bool {
    r.cpu_millis < 0 || r.memory_bytes < 0
}

/// Checks every promise of `p`, the plan of `s` (with `s`'s own statuses as previous
/// decisions): capacity × overcommit and security levels of pools, cordons, department
/// quotas and allow-lists, tenants per instance and one level per instance, and no
/// negative amount anywhere.
pub fn check(s: &Snapshot, p: &Plan) -> Result<(), Broken> {
    let pools: BTreeMap<&str, _> = p.pools.iter().map(|x| (x.name.as_str(), x)).collect();
    for pool in &p.pools {
        for (what, r) in [
            ("capacity", pool.capacity),
            ("effective capacity", pool.effective_capacity),
            ("allocated", pool.allocated),
        ] {
            if negative(r) {
                return Err(format!("pool {}: negative {what} {r:?}", pool.name));
            }
        }
        if !pool.allocated.fits_within(pool.effective_capacity) {
            return Err(format!("pool {} above capacity × overcommit", pool.name));
        }
    }
    if p.savings.nodes_consolidated < 0 || p.savings.nodes_siloed < 0 {
        return Err(format!("negative node counts in savings {:?}", p.savings));
    }
    services(s, p, &pools)?;
    departments(s, p)?;
    offerings(s, p)
}

fn services(s: &Snapshot, p: &Plan, pools: &BTreeMap<&str, &super::PoolPlan>) -> Result<(), Broken> {
    let previous = Assignments::from_status(s);
    let allow: BTreeMap<&str, &Vec<String>> = s
        .departments
        .iter()
        .filter_map(|d| Some((d.metadata.name.as_deref()?, &d.spec.pools)))
        .collect();
    for svc in &p.services {
        let who = format!("{}/{}", svc.namespace, svc.name);
        if negative(svc.allocated) {
            return Err(format!("{who}: negative allocation {:?}", svc.allocated));
        }
        if let Some(w) = &svc.workload
            && (negative(w.requests) || negative(w.limits) || w.replicas < 1)
        {
            return Err(format!("{who}: negative or empty workload shape {w:?}"));
        }
        if !svc.admitted && svc.pool.is_some() {
            return Err(format!("{who}: placed without being admitted"));
        }
        let Some(pool) = svc.pool.as_deref() else { continue };
        let Some(pool_plan) = pools.get(pool) else {
            return Err(format!("{who}: placed on unknown pool {pool}"));
        };
        if pool_plan.security_level < svc.security_level {
            return Err(format!("{who}: on pool {pool} below its level"));
        }
        if let Some(list) = svc.department.as_deref().and_then(|d| allow.get(d))
            && !list.is_empty()
            && !list.iter().any(|a| a == pool)
        {
            return Err(format!(
                "{who}: on pool {pool}, outside its department's allow-list"
            ));
        }
        if pool_plan.cordoned {
            // Nothing arrives on a cordoned pool: what is on one was there before, by its
            // own record or, for a tenant that kept its instance, by that instance's.
            let was = previous.services.get(&ServiceKey {
                namespace: svc.namespace.clone(),
                name: svc.name.clone(),
            });
            let own = was.and_then(|a| a.pool.as_deref()) == Some(pool);
            let kept = svc.shared_instance.is_some()
                && was.and_then(|a| a.shared_instance.as_ref()) == svc.shared_instance.as_ref();
            let instance_was_there = kept
                && previous
                    .services
                    .values()
                    .any(|a| a.shared_instance == svc.shared_instance && a.pool.as_deref() == Some(pool));
            if !(own || instance_was_there) || svc.moved_from.is_some() {
                return Err(format!("{who}: arrived on cordoned pool {pool}"));
            }
        }
    }
    Ok(())
}

fn departments(s: &Snapshot, p: &Plan) -> Result<(), Broken> {
    let mut per_dept: BTreeMap<&str, (Res, u32)> = BTreeMap::new();
    for svc in p.services.iter().filter(|x| x.admitted) {
        let Some(d) = svc.department.as_deref() else {
            return Err(format!(
                "{}/{}: admitted without a department",
                svc.namespace, svc.name
            ));
        };
        let e = per_dept.entry(d).or_default();
        e.0 =
            e.0.checked_add(svc.allocated)
                .ok_or_else(|| format!("{d}: charges overflow"))?;
        e.1 += 1;
    }
    for d in &p.departments {
        let (used, n) = per_dept.get(d.name.as_str()).copied().unwrap_or_default();
        if used != d.allocated {
            return Err(format!(
                "{}: allocated {:?}, its services sum to {used:?}",
                d.name, d.allocated
            ));
        }
        // The quota as written, parsed exactly: the plan's own quota.cpu is in cores (f64)
        // and cannot compare exactly at the top of the range.
        let spec = s
            .departments
            .iter()
            .find(|x| x.metadata.name.as_deref() == Some(&d.name));
        if let Some(spec) = spec
            && d.reasons.is_empty()
        {
            let q = &spec.spec.quota;
            let (Ok(cpu), Ok(memory)) = (parse_cpu(&q.cpu), parse_memory(&q.memory)) else {
                return Err(format!("{}: quota does not parse, yet no reason says so", d.name));
            };
            if !used.fits_within(Res::new(cpu, memory)) {
                return Err(format!("{}: charges {used:?} above quota", d.name));
            }
            if n > q.services {
                return Err(format!(
                    "{}: {n} services above its quota of {}",
                    d.name, q.services
                ));
            }
        }
        if n > 0 && !d.reasons.is_empty() {
            return Err(format!("{}: services admitted to an invalid department", d.name));
        }
    }
    Ok(())
}

fn offerings(s: &Snapshot, p: &Plan) -> Result<(), Broken> {
    let levels: BTreeMap<String, u8> = p
        .services
        .iter()
        .map(|x| (format!("{}/{}", x.namespace, x.name), x.security_level))
        .collect();
    for o in &p.offerings {
        let Some(spec) = s
            .offerings
            .iter()
            .find(|x| x.metadata.name.as_deref() == Some(&o.name))
        else {
            return Err(format!("offering {} in the plan but not in the input", o.name));
        };
        let tpi = spec.spec.tenants_per_instance;
        for inst in &o.instances {
            if inst.tenants.len() as u64 > u64::from(tpi) {
                return Err(format!("{}: above tenantsPerInstance {tpi}", inst.name));
            }
            if !inst
                .tenants
                .iter()
                .all(|t| levels.get(t) == Some(&inst.security_level))
            {
                return Err(format!("{}: mixes security levels", inst.name));
            }
            if negative(inst.requests) || negative(inst.limits) {
                return Err(format!("{}: negative requests or limits", inst.name));
            }
        }
    }
    Ok(())
}

/// The plan as JSON with `movedFrom` cleared: what a re-plan from the plan's own
/// decisions must reproduce byte for byte, since `movedFrom` names where the first plan
/// moved a service from.
pub fn settled_json(p: &Plan) -> String {
    let mut p = p.clone();
    for svc in &mut p.services {
        svc.moved_from = None;
    }
    serde_json::to_string_pretty(&p).expect("a plan has string keys")
}

/// The Deployments `p` moves, as the operator sees them right after applying it: each
/// still rolling out, so each move still holds its source pool and move slot.
pub fn rolling_after(p: &Plan, settings: &super::Settings) -> std::collections::BTreeSet<ServiceKey> {
    let services = p
        .services
        .iter()
        .filter(|s| s.moved_from.is_some() && s.shared_instance.is_none())
        .map(|s| ServiceKey {
            namespace: s.namespace.clone(),
            name: s.name.clone(),
        });
    let instances = p
        .offerings
        .iter()
        .flat_map(|o| &o.instances)
        .filter(|i| i.moved_from.is_some())
        .map(|i| ServiceKey {
            namespace: settings.shared_namespace.clone(),
            name: i.name.clone(),
        });
    services.chain(instances).collect()
}

/// `s` as the operator leaves it right after applying `p`, beyond the services'
/// statuses (which `Assignments::from_plan` carries): the Deployments `p` moves still
/// rolling out, and each offering's status naming its instances' waiting moves.
pub fn after_applying(s: &Snapshot, p: &Plan) -> Snapshot {
    let mut next = s.clone();
    next.rolling = rolling_after(p, &s.settings);
    for o in &mut next.offerings {
        let Some(planned) = p
            .offerings
            .iter()
            .find(|x| Some(&x.name) == o.metadata.name.as_ref())
        else {
            continue;
        };
        let status = o.status.get_or_insert_default();
        status.instance_details = planned
            .instances
            .iter()
            .map(|i| crate::api::SharedInstanceStatus {
                name: i.name.clone(),
                security_level: i.security_level,
                pool: i.pool.clone(),
                tenants: i.tenants.clone(),
                pending_change: i.pending_change.as_ref().map(|c| c.change.clone()),
            })
            .collect();
    }
    next
}

/// Plans `s` twice, and once more with the first plan's decisions fed back, as the
/// operator does after writing them (its moves still rolling out): the first two must
/// serialise alike and the third must be the first, reasons included, or the operator
/// would write a status after convergence.
pub fn check_stable(s: &Snapshot) -> Result<Plan, Broken> {
    let first = super::plan(s, &Assignments::from_status(s));
    let again = super::plan(s, &Assignments::from_status(s));
    if serde_json::to_string(&first).ok() != serde_json::to_string(&again).ok() {
        return Err("the same input planned twice differs".into());
    }
    let next = after_applying(s, &first);
    let replanned = super::plan(&next, &Assignments::from_plan(&first));
    if settled_json(&first) != settled_json(&replanned) {
        return Err("re-planning with the plan's own decisions changes the plan".into());
    }
    Ok(first)
}
