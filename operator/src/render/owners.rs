//! Owner references, so that the API server's garbage collector removes what a deleted
//! DepartmentService, ServiceOffering or Department owned even while the operator is
//! down (the operator's own sweep does the same while it runs).
//!
//! An owner is referenced only when the snapshot knows its uid, i.e. when it came from
//! a cluster; offline manifests have none and get no references. Namespaces are never
//! owned: deleting a Department must not silently delete everything in its namespace.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::{Resource, ResourceExt};

use super::{Ctx, Manifest};
use crate::api::labels;

fn reference<K: Resource<DynamicType = ()>>(owner: &K) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: owner.name_any(),
        uid: owner.meta().uid.clone()?,
        controller: Some(true),
        block_owner_deletion: Some(true),
    })
}

/// The owner of one rendered object, read from the labels the renderer gave it: a
/// service's objects (and a tenant's bindings) belong to the DepartmentService, a shared
/// instance's to its ServiceOffering, a department's guard rails to the Department.
fn owner_of(ctx: &Ctx<'_>, m: &Manifest) -> Option<OwnerReference> {
    if matches!(m, Manifest::Namespace(_)) {
        return None;
    }
    let labels = m.metadata().labels.as_ref()?;
    let ns = m.namespace()?;
    if let Some(service) = labels.get(labels::SERVICE) {
        return reference(ctx.service(ns, service, "").ok()?);
    }
    if let Some(offering) = labels.get(labels::OFFERING) {
        return reference(ctx.offering(offering, "").ok()?);
    }
    reference(ctx.department(labels.get(labels::DEPARTMENT)?, "").ok()?)
}

pub(super) fn attach(ctx: &Ctx<'_>, manifests: &mut [Manifest]) {
    for m in manifests.iter_mut() {
        if let Some(owner) = owner_of(ctx, m) {
            m.metadata_mut().owner_references = Some(vec![owner]);
        }
    }
}
