//! A department's namespace and its guard rails: quota, container limits, owners' access
//! and network isolation.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    LimitRange, LimitRangeItem, LimitRangeSpec, Namespace, ResourceQuota, ResourceQuotaSpec,
};
use k8s_openapi::api::rbac::v1::{RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::meta::{self, Labels};
use super::netpol;
use super::{ContainerLimits, Ctx, Limit, Manifest, RenderError, container_limits};
use crate::api::{Department, OwnerKind, labels};
use crate::plan::{DepartmentPlan, effective_policy};
use crate::quantity::{canonical_cpu, canonical_memory, decimal_si};

/// The RoleBinding, in each department namespace, of the owners to that role.
const ADMIN_BINDING: &str = "govcloud-department-admins";
/// The ClusterRole department owners are bound to; the Helm chart ships it by this name.
pub const DEPARTMENT_ADMIN_ROLE: &str = "govcloud-department-admin";
const QUOTA_NAME: &str = "govcloud-quota";
const LIMIT_RANGE_NAME: &str = "govcloud-limits";
/// The quota key that counts DepartmentServices in a namespace.
const SERVICE_COUNT: &str = "count/departmentservices.govcloud.io";

pub(super) fn render_all(ctx: &Ctx<'_>, out: &mut Vec<Manifest>) -> Result<(), RenderError> {
    let limits = container_limits(&effective_policy(&ctx.snapshot.policies));
    // A department released for deletion renders nothing: its namespace is deleted
    // next, and re-applying its contents would race that deletion.
    let rendered =
        |d: &&DepartmentPlan| d.reasons.is_empty() && !d.deletion.as_ref().is_some_and(|x| x.may_proceed());
    for plan in ctx
        .plan
        .departments
        .iter()
        .filter(rendered)
        .filter(|d| ctx.renders_namespace(&d.namespace))
    {
        let field = format!("plan.departments[{}]", plan.name);
        let dept = ctx.department(&plan.name, &field)?;
        render_one(ctx, plan, dept, &limits, out);
    }
    Ok(())
}

fn render_one(
    ctx: &Ctx<'_>,
    plan: &DepartmentPlan,
    dept: &Department,
    limits: &ContainerLimits,
    out: &mut Vec<Manifest>,
) {
    let ns = plan.namespace.as_str();
    let labels = meta::with(meta::managed(), labels::DEPARTMENT, &plan.name);
    out.push(Manifest::Namespace(restricted_namespace(ns, labels.clone())));
    out.push(Manifest::ResourceQuota(quota(ns, plan, labels.clone())));
    if !limits.is_empty() {
        out.push(Manifest::LimitRange(limit_range(ns, limits, labels.clone())));
    }
    if !dept.spec.owners.is_empty() {
        out.push(Manifest::RoleBinding(owners_binding(ns, dept, labels.clone())));
    }
    let instances = bound_instances(ctx, ns);
    netpol::department_policies(ctx.settings(), ns, &instances, &labels, out);
}

/// A Namespace that only admits pods meeting the Pod Security `restricted` standard.
pub(super) fn restricted_namespace(name: &str, labels: Labels) -> Namespace {
    let mut labels = labels;
    for mode in ["enforce", "audit", "warn"] {
        labels.insert(format!("pod-security.kubernetes.io/{mode}"), "restricted".into());
    }
    Namespace {
        metadata: meta::object_meta(name, None, labels),
        ..Namespace::default()
    }
}

/// The department quota as a backstop the API server enforces, should anything bypass
/// the planner (a manual Deployment, a planner bug).
fn quota(ns: &str, plan: &DepartmentPlan, labels: Labels) -> ResourceQuota {
    let cpu_millis = (plan.quota.cpu * 1000.0).round() as i64;
    let hard = BTreeMap::from([
        ("requests.cpu".to_owned(), Quantity(canonical_cpu(cpu_millis))),
        (
            "requests.memory".to_owned(),
            Quantity(canonical_memory(plan.quota.memory)),
        ),
        (
            SERVICE_COUNT.to_owned(),
            Quantity(decimal_si(i64::from(plan.quota.services))),
        ),
    ]);
    ResourceQuota {
        metadata: meta::object_meta(QUOTA_NAME, Some(ns), labels),
        spec: Some(ResourceQuotaSpec {
            hard: Some(hard),
            ..ResourceQuotaSpec::default()
        }),
        ..ResourceQuota::default()
    }
}

fn limit_range(ns: &str, limits: &ContainerLimits, labels: Labels) -> LimitRange {
    let item = LimitRangeItem {
        type_: "Container".into(),
        default_request: quantities(limits.default_request),
        default: quantities(limits.default_limit),
        max: quantities(limits.max),
        ..LimitRangeItem::default()
    };
    LimitRange {
        metadata: meta::object_meta(LIMIT_RANGE_NAME, Some(ns), labels),
        spec: Some(LimitRangeSpec { limits: vec![item] }),
    }
}

fn quantities(limit: Limit) -> Option<BTreeMap<String, Quantity>> {
    let mut map = BTreeMap::new();
    if let Some(cpu) = limit.cpu_millis {
        map.insert("cpu".to_owned(), Quantity(canonical_cpu(cpu)));
    }
    if let Some(memory) = limit.memory_bytes {
        map.insert("memory".to_owned(), Quantity(canonical_memory(memory)));
    }
    (!map.is_empty()).then_some(map)
}

fn owners_binding(ns: &str, dept: &Department, labels: Labels) -> RoleBinding {
    let subjects = dept
        .spec
        .owners
        .iter()
        .map(|o| match o.kind {
            OwnerKind::ServiceAccount => Subject {
                kind: o.kind.as_str().into(),
                name: o.name.clone(),
                // The CRD requires a namespace; falling back keeps a hand-written object usable.
                namespace: Some(o.namespace.clone().unwrap_or_else(|| ns.to_owned())),
                api_group: None,
            },
            OwnerKind::User | OwnerKind::Group => Subject {
                kind: o.kind.as_str().into(),
                name: o.name.clone(),
                namespace: None,
                api_group: Some("rbac.authorization.k8s.io".into()),
            },
        })
        .collect();
    RoleBinding {
        metadata: meta::object_meta(ADMIN_BINDING, Some(ns), labels),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "ClusterRole".into(),
            name: DEPARTMENT_ADMIN_ROLE.into(),
        },
        subjects: Some(subjects),
    }
}

/// Placed shared instances that have a tenant in namespace `ns`, sorted.
fn bound_instances(ctx: &Ctx<'_>, ns: &str) -> Vec<String> {
    let prefix = format!("{ns}/");
    let names: BTreeSet<&str> = ctx
        .plan
        .offerings
        .iter()
        .flat_map(|o| &o.instances)
        .filter(|i| i.pool.is_some() && i.tenants.iter().any(|t| t.starts_with(&prefix)))
        .map(|i| i.name.as_str())
        .collect();
    names.into_iter().map(Into::into).collect()
}
