//! Shared offering instances, built once in the shared namespace, and the binding each
//! tenant finds in its own namespace.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceSpec};

use super::department::restricted_namespace;
use super::meta;
use super::netpol;
use super::pod::{self, Budget, PodShape};
use super::workload;
use super::{Ctx, Manifest, RenderError};
use crate::api::{Availability, Port, ServiceOffering, labels};
use crate::plan::{InstancePlan, OfferingPlan};

/// The ConfigMap a tenant reads its endpoint from: `<service>-binding`.
const BINDING_SUFFIX: &str = "-binding";

pub(super) fn render_all(ctx: &Ctx<'_>, out: &mut Vec<Manifest>) -> Result<(), RenderError> {
    let shared_ns = &ctx.settings().shared_namespace;
    // Rendered even with no instances yet: the platform's namespace exists from day one.
    if ctx.scope.is_none() {
        out.push(Manifest::Namespace(restricted_namespace(
            shared_ns,
            meta::managed(),
        )));
    }
    for offering_plan in &ctx.plan.offerings {
        for instance in offering_plan
            .instances
            .iter()
            .filter(|i| ctx.renders_instance(&i.name))
        {
            render_instance(ctx, offering_plan, instance, out)?;
        }
    }
    Ok(())
}

fn render_instance(
    ctx: &Ctx<'_>,
    offering_plan: &OfferingPlan,
    instance: &InstancePlan,
    out: &mut Vec<Manifest>,
) -> Result<(), RenderError> {
    let field = |f: &str| {
        format!(
            "plan.offerings[{}].instances[{}].{f}",
            offering_plan.name, instance.name
        )
    };
    // An instance without a pool has nowhere to run yet; its tenants stay unbound.
    let Some(pool_name) = &instance.pool else {
        return Ok(());
    };
    let offering = ctx.offering(&offering_plan.name, &field("name"))?;
    let pool = ctx.pool(pool_name, &field("pool"))?;
    let shared_ns = ctx.settings().shared_namespace.as_str();
    let ports = &offering.spec.instance.ports;

    let selector = meta::with(
        meta::with(meta::managed(), labels::OFFERING, &offering_plan.name),
        labels::INSTANCE,
        &instance.name,
    );
    let labels = meta::with(
        meta::with(selector.clone(), labels::POOL, pool_name),
        labels::LEVEL,
        instance.security_level.to_string(),
    );
    let shape = PodShape {
        name: &instance.name,
        namespace: shared_ns,
        labels,
        selector: selector.clone(),
        image: image_of(offering),
        ports,
        env: &[],
        command: &[],
        args: &[],
        replicas: instance.replicas,
        requests: instance.requests,
        limits: instance.limits,
        pool,
        // One instance serves many departments: its replicas must not share a node's fate.
        spread: instance.replicas >= 2,
        // Offerings declare no availability; an instance many departments depend on is
        // treated as Standard (as its disruption budget below is), so it surges too.
        surge: workload::surges(Availability::Standard),
    };
    if let Some(service) = pod::service(&shape) {
        out.push(Manifest::Service(service));
    }
    // Many departments depend on one instance: a drain takes at most one replica at a time.
    out.push(Manifest::PodDisruptionBudget(pod::disruption_budget(
        &shape,
        Budget::MaxUnavailable(1),
    )));
    out.push(Manifest::Deployment(pod::deployment(shape)));

    let mut tenant_namespaces = BTreeSet::new();
    for tenant in &instance.tenants {
        let (ns, name) = tenant.split_once('/').ok_or_else(|| {
            RenderError::inconsistent(
                format!("ServiceOffering {}", offering_plan.name),
                field("tenants"),
                format!("tenant {tenant:?} is not namespace/name"),
            )
        })?;
        tenant_namespaces.insert(ns.to_owned());
        let (binding, alias) = binding(ctx, offering_plan, instance, ns, name, ports)?;
        out.push(Manifest::ConfigMap(binding));
        out.push(Manifest::Service(alias));
    }
    out.push(Manifest::NetworkPolicy(netpol::tenants_policy(
        shared_ns,
        &instance.name,
        tenant_namespaces.into_iter().collect(),
        selector.clone(),
        ports,
        selector,
    )));
    Ok(())
}

/// The offering's image at its version: an explicit tag or digest in `image` wins.
pub(super) fn image_of(offering: &ServiceOffering) -> String {
    let image = &offering.spec.image;
    // A ':' before the last '/' belongs to a registry port, not a tag.
    let last_segment = image.rsplit('/').next().unwrap_or(image);
    let pinned = image.contains('@') || last_segment.contains(':');
    match &offering.spec.version {
        Some(version) if !pinned => format!("{image}:{version}"),
        _ => image.clone(),
    }
}

/// Where a tenant finds its instance: a ConfigMap with host, ports, and which instance of
/// which offering; and an ExternalName Service named as the tenant's DepartmentService, so
/// that its workloads connect to `<service>` and never notice the instance moving.
fn binding(
    ctx: &Ctx<'_>,
    offering_plan: &OfferingPlan,
    instance: &InstancePlan,
    ns: &str,
    name: &str,
    ports: &[Port],
) -> Result<(ConfigMap, Service), RenderError> {
    let shared_ns = &ctx.settings().shared_namespace;
    let tenant = ctx.service_plan(ns, name).ok_or_else(|| {
        RenderError::missing(
            format!("DepartmentService {ns}/{name}"),
            format!(
                "plan.offerings[{}].instances[{}].tenants",
                offering_plan.name, instance.name
            ),
        )
    })?;
    let mut labels = meta::with(meta::managed(), labels::SERVICE, name);
    if let Some(department) = &tenant.department {
        labels = meta::with(labels, labels::DEPARTMENT, department);
    }
    let labels = meta::with(
        meta::with(labels, labels::OFFERING, &offering_plan.name),
        labels::INSTANCE,
        &instance.name,
    );
    let host = format!("{}.{shared_ns}.svc.cluster.local", instance.name);
    let mut data = BTreeMap::from([
        ("instance".to_owned(), instance.name.clone()),
        ("offering".to_owned(), offering_plan.name.clone()),
        ("host".to_owned(), host.clone()),
        (
            "ports".to_owned(),
            ports
                .iter()
                .map(|p| format!("{}={}", p.name, p.port))
                .collect::<Vec<_>>()
                .join(","),
        ),
    ]);
    if let Some(first) = ports.first() {
        data.insert("port".to_owned(), first.port.to_string());
    }
    let config_map = ConfigMap {
        metadata: meta::object_meta(&format!("{name}{BINDING_SUFFIX}"), Some(ns), labels.clone()),
        data: Some(data),
        ..ConfigMap::default()
    };
    let alias = Service {
        metadata: meta::object_meta(name, Some(ns), labels),
        spec: Some(ServiceSpec {
            type_: Some("ExternalName".into()),
            external_name: Some(host),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    };
    Ok((config_map, alias))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{OfferingInstance, ResourceAmounts, ServiceOfferingSpec};

    fn offering(image: &str, version: Option<&str>) -> ServiceOffering {
        ServiceOffering::new(
            "o",
            ServiceOfferingSpec {
                display_name: None,
                description: None,
                image: image.into(),
                version: version.map(Into::into),
                security_level: 2,
                tenants_per_instance: 1,
                instance: OfferingInstance {
                    replicas: 1,
                    resources: ResourceAmounts::default(),
                    ports: Vec::new(),
                },
                maintenance_windows: Vec::new(),
                maintenance_exclusions: Vec::new(),
            },
        )
    }

    #[test]
    fn version_is_appended_only_to_an_unpinned_image() {
        let cases = [
            ("reg.example/pg", Some("16"), "reg.example/pg:16"),
            ("reg.example:5000/pg", Some("16"), "reg.example:5000/pg:16"),
            ("reg.example/pg:15", Some("16"), "reg.example/pg:15"),
            (
                "reg.example/pg@sha256:abc",
                Some("16"),
                "reg.example/pg@sha256:abc",
            ),
            ("reg.example/pg", None, "reg.example/pg"),
        ];
        for (image, version, expected) in cases {
            assert_eq!(
                image_of(&offering(image, version)),
                expected,
                "{image} {version:?}"
            );
        }
    }
}
