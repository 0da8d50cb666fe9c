//! Rule 3, admit: first come, first served against clearance, offerings, allow-lists
//! and the department quota.

use super::model::Demand;
use super::{Decision, Estate, Reason, ReasonCode};
use crate::quantity::{format_cpu, format_memory, Res};

pub(crate) fn admit(estate: &Estate, order: &[usize], decisions: &mut [Decision]) {
    // Quota reserved so far per department (resources, services), by department index.
    let mut reserved = vec![(Res::ZERO, 0u32); estate.departments.len()];
    for &i in order {
        let svc = &estate.services[i];
        let (Some(demand), true) = (&svc.demand, decisions[i].compliant) else {
            continue;
        };
        let Some(di) = svc.department.as_deref().and_then(|d| {
            estate.departments.binary_search_by(|x| x.name.as_str().cmp(d)).ok()
        }) else {
            continue;
        };
        let dept = &estate.departments[di];
        let mut reasons = Vec::new();
        if svc.level > dept.clearance {
            reasons.push(Reason::new(
                ReasonCode::ClearanceInsufficient,
                format!(
                    "spec.securityLevel: {} is above the spec.securityClearance {} of Department {:?}",
                    svc.level, dept.clearance, dept.name
                ),
            ));
        }
        let charge = match demand {
            Demand::Workload { replicas, requests, .. } => Some(requests.times(i64::from(*replicas))),
            Demand::Tenant { offering } => match estate.offerings.get(offering) {
                None => {
                    reasons.push(Reason::new(
                        ReasonCode::OfferingNotFound,
                        format!("spec.offering.name: ServiceOffering {offering:?} does not exist"),
                    ));
                    None
                }
                Some(o) if !o.reasons.is_empty() => {
                    reasons.push(Reason::new(
                        ReasonCode::OfferingNotFound,
                        format!(
                            "spec.offering.name: ServiceOffering {offering:?} is not available, its spec is invalid ({})",
                            o.reasons[0].message
                        ),
                    ));
                    None
                }
                Some(o) => {
                    if svc.level > o.level {
                        reasons.push(Reason::new(
                            ReasonCode::LevelAboveOffering,
                            format!(
                                "spec.securityLevel: {} is above the spec.securityLevel {} ServiceOffering {offering:?} is accredited for",
                                svc.level, o.level
                            ),
                        ));
                    }
                    Some(o.tenant_share())
                }
            },
        };
        if let Some(allowed) = &dept.pools
            && !estate.pools.iter().any(|p| p.usable() && p.level >= svc.level && allowed.contains(&p.name))
        {
            reasons.push(Reason::new(
                ReasonCode::PoolNotAllowed,
                format!(
                    "Department {:?} allows only pools [{}] (spec.pools), and none of them exists, is valid and is accredited for level {}",
                    dept.name,
                    allowed.iter().cloned().collect::<Vec<_>>().join(", "),
                    svc.level
                ),
            ));
        }
        let (used, count) = reserved[di];
        if count + 1 > dept.quota_services {
            reasons.push(quota_exceeded(&dept.name, "services", &dept.quota_services.to_string(), &count.to_string(), "1"));
        }
        if let Some(charge) = charge {
            if used.cpu_millis + charge.cpu_millis > dept.quota.cpu_millis {
                reasons.push(quota_exceeded(
                    &dept.name,
                    "cpu",
                    &format_cpu(dept.quota.cpu_millis),
                    &format_cpu(used.cpu_millis),
                    &format_cpu(charge.cpu_millis),
                ));
            }
            if used.memory_bytes + charge.memory_bytes > dept.quota.memory_bytes {
                reasons.push(quota_exceeded(
                    &dept.name,
                    "memory",
                    &format_memory(dept.quota.memory_bytes),
                    &format_memory(used.memory_bytes),
                    &format_memory(charge.memory_bytes),
                ));
            }
        }
        let decision = &mut decisions[i];
        decision.charge = charge.unwrap_or_default();
        if reasons.is_empty() {
            decision.admitted = true;
            reserved[di] = (used + decision.charge, count + 1);
        }
        decision.reasons.extend(reasons);
    }
}

fn quota_exceeded(dept: &str, field: &str, limit: &str, reserved: &str, needs: &str) -> Reason {
    Reason::new(
        ReasonCode::QuotaExceeded,
        format!(
            "spec.quota.{field} of Department {dept:?} is {limit}; earlier services reserve {reserved} and this one needs {needs}"
        ),
    )
}
