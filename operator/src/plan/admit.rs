//! Rule 3, admit: first come, first served against clearance, offerings, allow-lists
//! and the department quota.

use super::model::{Demand, ServiceModel};
use super::{Decision, Estate, Reason, ReasonCode};
use crate::quantity::{Res, format_cpu, format_memory};

/// Admits one compliant service against what earlier services reserved, and reserves
/// its charge when admitted.
pub(crate) fn admit_one(
    estate: &Estate,
    svc: &ServiceModel,
    decision: &mut Decision,
    reserved: &mut [(Res, u32)],
) {
    let (Some(demand), true) = (&svc.demand, decision.compliant) else {
        return;
    };
    let Some(di) = svc.dept else {
        return;
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
        Demand::Workload { charge, .. } => Some(*charge),
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
                let (rc, rm) = estate.effective.limit_ratio;
                if o.requests.checked_scale_up(rc, rm).is_none() {
                    reasons.push(Reason::new(
                        ReasonCode::OfferingNotFound,
                        format!(
                            "spec.offering.name: ServiceOffering {offering:?} is not available: its spec.instance.resources ({}) × the PlatformPolicy limit ratio ({rc}, {rm}) is beyond the largest representable amount",
                            o.requests
                        ),
                    ));
                }
                Some(o.tenant_share())
            }
        },
    };
    if let Some(allowed) = &dept.pools
        && !estate
            .pools
            .iter()
            .any(|p| p.usable() && p.level >= svc.level && allowed.contains(&p.name))
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
    if count >= dept.quota_services {
        reasons.push(quota_exceeded(
            &dept.name,
            "services",
            &dept.quota_services.to_string(),
            &count.to_string(),
            "1",
        ));
    }
    if let Some(charge) = charge {
        let dimensions: [Dimension; 2] = [
            ("cpu", |r| r.cpu_millis, format_cpu),
            ("memory", |r| r.memory_bytes, format_memory),
        ];
        for (field, amount, format) in dimensions {
            // A sum beyond i64 is beyond any quota: refused, never wrapped.
            if amount(used)
                .checked_add(amount(charge))
                .is_none_or(|total| total > amount(dept.quota))
            {
                reasons.push(quota_exceeded(
                    &dept.name,
                    field,
                    &format(amount(dept.quota)),
                    &format(amount(used)),
                    &format(amount(charge)),
                ));
            }
        }
    }
    decision.charge = charge.unwrap_or_default();
    // Admitted only within the quota, so the reserved sum stays at most the quota.
    if let (true, Some(total)) = (reasons.is_empty(), used.checked_add(decision.charge)) {
        decision.admitted = true;
        reserved[di] = (total, count + 1);
    }
    decision.reasons.extend(reasons);
}

/// A quota dimension: its field name, its amount in a `Res`, and how to show it.
type Dimension = (&'static str, fn(Res) -> i64, fn(i64) -> String);

fn quota_exceeded(dept: &str, field: &str, limit: &str, reserved: &str, needs: &str) -> Reason {
    Reason::new(
        ReasonCode::QuotaExceeded,
        format!(
            "spec.quota.{field} of Department {dept:?} is {limit}; earlier services reserve {reserved} and this one needs {needs}"
        ),
    )
}
