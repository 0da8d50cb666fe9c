//! Deletions govcloud holds with its finalizer `govcloud.io/cleanup`.
//!
//! A pool being deleted takes nothing new and its services move away (as from a
//! cordoned pool); the pool object goes once nothing is placed on it, so that no
//! service's status ever names a pool that no longer exists. A department being deleted
//! goes once no DepartmentService is left in its namespace: deleting the namespace
//! under running services would delete them without their department asking.

use super::Estate;
use super::output::{Deletion, DepartmentPlan, PoolPlan, ServicePlan};

/// Fills in `deletion` of every pool and department marked for deletion.
pub(crate) fn hold(
    estate: &Estate,
    services: &[ServicePlan],
    pools: &mut [PoolPlan],
    departments: &mut [DepartmentPlan],
) {
    for (model, plan) in estate.pools.iter().zip(pools.iter_mut()) {
        if model.deleting {
            plan.deletion = Some(waiting_for(
                services
                    .iter()
                    .filter(|s| s.pool.as_deref() == Some(model.name.as_str())),
            ));
        }
    }
    for (model, plan) in estate.departments.iter().zip(departments.iter_mut()) {
        if model.deleting {
            plan.deletion = Some(waiting_for(
                services.iter().filter(|s| s.namespace == model.namespace),
            ));
        }
    }
}

fn waiting_for<'a>(services: impl Iterator<Item = &'a ServicePlan>) -> Deletion {
    // Services are sorted by namespace/name already; the order is the plan's.
    Deletion {
        waiting_for: services.map(|s| format!("{}/{}", s.namespace, s.name)).collect(),
    }
}
