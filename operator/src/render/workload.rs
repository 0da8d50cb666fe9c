//! A department's own workload: Deployment on its pool, Service, disruption budget and
//! the ingress its exposure allows.

use super::meta;
use super::netpol;
use super::pod::{self, Budget, PodShape};
use super::{Ctx, Manifest, RenderError};
use crate::api::{Availability, Phase, labels};
use crate::plan::ServicePlan;
use crate::quantity::Res;

pub(super) fn render_all(ctx: &Ctx<'_>, out: &mut Vec<Manifest>) -> Result<(), RenderError> {
    for plan in ctx
        .plan
        .services
        .iter()
        .filter(|s| runs(s) && ctx.renders_namespace(&s.namespace))
    {
        render_one(ctx, plan, out)?;
    }
    Ok(())
}

/// A service runs when it was placed and it is not refused; `Ready` and `Degraded` are
/// placed services too, and dropping them from the render would delete running workloads.
fn runs(plan: &ServicePlan) -> bool {
    matches!(plan.phase, Phase::Placed | Phase::Ready | Phase::Degraded)
        && plan.pool.is_some()
        && plan.workload.is_some()
}

fn render_one(ctx: &Ctx<'_>, plan: &ServicePlan, out: &mut Vec<Manifest>) -> Result<(), RenderError> {
    let key = format!("{}/{}", plan.namespace, plan.name);
    let field = |f: &str| format!("plan.services[{key}].{f}");
    let (Some(pool_name), Some(shape)) = (&plan.pool, &plan.workload) else {
        return Ok(());
    };
    let svc = ctx.service(&plan.namespace, &plan.name, &field("name"))?;
    let pool = ctx.pool(pool_name, &field("pool"))?;
    let workload = svc.spec.workload.as_ref().ok_or_else(|| {
        RenderError::inconsistent(
            format!("DepartmentService {key}"),
            "spec.workload",
            "the plan sizes a workload but the service consumes an offering",
        )
    })?;

    requests_are_explicit(&key, shape.requests)?;

    // The namespace's department when the plan knows it, else the namespace itself, so
    // the selector is never empty of an owner.
    let department = plan.department.clone().unwrap_or_else(|| plan.namespace.clone());
    let selector = meta::with(
        meta::with(meta::managed(), labels::DEPARTMENT, department),
        labels::SERVICE,
        &plan.name,
    );
    let labels = meta::with(
        meta::with(selector.clone(), labels::POOL, pool_name),
        labels::LEVEL,
        plan.security_level.to_string(),
    );
    let availability = svc.spec.availability;
    let shape = PodShape {
        name: &plan.name,
        namespace: &plan.namespace,
        labels,
        selector: selector.clone(),
        image: workload.image.clone(),
        ports: &workload.ports,
        env: &workload.env,
        command: &workload.command,
        args: &workload.args,
        replicas: shape.replicas,
        requests: shape.requests,
        limits: shape.limits,
        pool,
        spread: availability == Availability::High,
        surge: surges(availability),
    };
    if let Some(service) = pod::service(&shape) {
        out.push(Manifest::Service(service));
    }
    if let Some(budget) = budget(availability, shape.replicas) {
        out.push(Manifest::PodDisruptionBudget(pod::disruption_budget(
            &shape, budget,
        )));
    }
    out.push(Manifest::NetworkPolicy(netpol::exposure_policy(
        ctx.settings(),
        &plan.namespace,
        &plan.name,
        svc.spec.exposure,
        selector.clone(),
        &workload.ports,
        selector,
    )));
    let mut deployment = pod::deployment(shape);
    if let Some(generation) = svc.metadata.generation {
        deployment
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(crate::api::SERVICE_GENERATION.into(), generation.to_string());
    }
    out.push(Manifest::Deployment(deployment));
    Ok(())
}

/// A zero request would be left out of the pod (`meta::resource_map`) and the
/// namespace's LimitRange would default it: the pod would take capacity its quota never
/// charged. The planner refuses zero requests; a plan that carries one is not rendered.
fn requests_are_explicit(key: &str, requests: Res) -> Result<(), RenderError> {
    if requests.cpu_millis > 0 && requests.memory_bytes > 0 {
        return Ok(());
    }
    Err(RenderError::inconsistent(
        format!("DepartmentService {key}"),
        "spec.workload.resources",
        format!(
            "the plan requests {requests}; a zero request would be defaulted by the LimitRange, uncharged"
        ),
    ))
}

/// Whether a rollout brings each new pod up before an old one goes. Basic accepts
/// downtime, so it keeps the Kubernetes default and needs no spare room on the pool.
pub(super) fn surges(availability: Availability) -> bool {
    match availability {
        Availability::Basic => false,
        Availability::Standard | Availability::High => true,
    }
}

/// Basic accepts downtime, so no budget blocks a drain; High keeps all but one replica up.
pub(super) fn budget(availability: Availability, replicas: i32) -> Option<Budget> {
    match availability {
        Availability::Basic => None,
        Availability::Standard => Some(Budget::MaxUnavailable(1)),
        Availability::High => Some(Budget::MinAvailable((replicas - 1).max(1))),
    }
}
