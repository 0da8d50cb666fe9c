//! Rule 1, validate: each object on its own, every problem listed with its field.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;

use super::model::*;
use super::name_checks;
use super::{Reason, ReasonCode, ServiceKey, Settings};
use crate::api::{
    Availability, Department, DepartmentService, MaintenanceExclusion, MaintenanceWindow, OwnerKind,
    PlatformPolicy, Port, ResourcePool, ServiceOffering,
};
use crate::maintenance::Calendar;
use crate::quantity::{QuantityError, Res, format_cpu, format_memory, parse_cpu, parse_memory};

/// Compiles an object's windows and exclusions; their problems are kept apart from the
/// object's own, as a bad window only shuts maintenance.
fn maintenance(windows: &[MaintenanceWindow], exclusions: &[MaintenanceExclusion]) -> Maintenance {
    let (calendar, problems) = Calendar::new(windows, exclusions);
    Maintenance {
        calendar,
        problems: problems.into_iter().map(invalid).collect(),
    }
}

const WORKLOAD_HINT: &str = " (leave it out to take the PlatformPolicy default)";

fn invalid(message: String) -> Reason {
    Reason::new(ReasonCode::InvalidSpec, message)
}

/// Collects problems for one object, each as an `InvalidSpec` reason.
#[derive(Default)]
struct Problems(Vec<Reason>);

impl Problems {
    fn push(&mut self, message: String) {
        self.0.push(invalid(message));
    }

    fn push_all(&mut self, messages: Vec<String>) {
        self.0.extend(messages.into_iter().map(invalid));
    }

    fn cpu(&mut self, path: &str, s: &str) -> i64 {
        parse_cpu(s).unwrap_or_else(|e| {
            self.push(format!("{path}: {e}"));
            0
        })
    }

    fn memory(&mut self, path: &str, s: &str) -> i64 {
        parse_memory(s).unwrap_or_else(|e| {
            self.push(format!("{path}: {e}"));
            0
        })
    }

    /// Parses both and refuses zero, which no capacity or instance can be.
    fn positive(&mut self, path: &str, cpu: &str, memory: &str) -> Res {
        let res = Res::new(
            self.cpu(&format!("{path}.cpu"), cpu),
            self.memory(&format!("{path}.memory"), memory),
        );
        if parse_cpu(cpu) == Ok(0) {
            self.push(format!("{path}.cpu: must be greater than zero"));
        }
        if parse_memory(memory) == Ok(0) {
            self.push(format!("{path}.memory: must be greater than zero"));
        }
        res
    }

    /// `per × n` (`what` names `n`, e.g. "replicas"), refusing a dimension whose product
    /// is beyond i64 at `path.cpu` / `path.memory`, so that it never reaches a sum.
    fn product(&mut self, path: &str, per: Res, n: i64, what: &str) -> Res {
        per.checked_times(n).unwrap_or_else(|| {
            for (field, amount, shown) in [
                ("cpu", per.cpu_millis, format_cpu(per.cpu_millis)),
                ("memory", per.memory_bytes, format_memory(per.memory_bytes)),
            ] {
                if amount.checked_mul(n).is_none() {
                    self.push(format!(
                        "{path}.{field}: {shown} × {n} {what} is beyond the largest representable amount"
                    ));
                }
            }
            Res::ZERO
        })
    }

    /// A workload's request as given: zero is refused, since a rendered Deployment
    /// cannot request zero apart from leaving the request out, which the namespace's
    /// LimitRange then defaults: the pod would take capacity the quota never charged.
    fn request(
        &mut self,
        path: &str,
        s: &str,
        parse: fn(&str) -> Result<i64, QuantityError>,
        hint: &str,
    ) -> i64 {
        match parse(s) {
            Ok(0) => {
                self.push(format!(
                    "{path}: {s:?} is zero; a request must be greater than zero{hint}"
                ));
                0
            }
            Ok(v) => v,
            Err(e) => {
                self.push(format!("{path}: {e}"));
                0
            }
        }
    }

    fn level(&mut self, path: &str, level: u8) {
        if !(1..=4).contains(&level) {
            self.push(format!("{path}: {level} is not a security level (1–4)"));
        }
    }

    fn ports(&mut self, path: &str, ports: &[Port]) {
        let mut names = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        self.push_all(name_checks::ports(path, ports));
        for (i, p) in ports.iter().enumerate() {
            if !names.insert(&p.name) {
                self.push(format!(
                    "{path}[{i}].name: {:?} is used by an earlier port",
                    p.name
                ));
            }
            if !numbers.insert((p.port, p.protocol)) {
                self.push(format!("{path}[{i}].port: {} is used by an earlier port", p.port));
            }
            if !(1..=65535).contains(&p.port) {
                self.push(format!("{path}[{i}].port: {} is outside 1–65535", p.port));
            }
        }
    }
}

/// Sum of allocatable of the schedulable Nodes whose labels include every selector pair.
/// A Node whose allocatable does not parse, or a sum beyond i64, is a problem of the
/// pool: counting it as zero would quietly shrink the pool.
fn node_capacity(selector: &BTreeMap<String, String>, nodes: &[Node], p: &mut Problems) -> Option<Res> {
    let matched: Vec<&Node> = nodes
        .iter()
        .filter(|n| !n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false))
        .filter(|n| selector.iter().all(|(k, v)| n.labels().get(k) == Some(v)))
        .collect();
    if matched.is_empty() {
        return None;
    }
    let mut total = Some(Res::ZERO);
    for node in matched {
        let alloc = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
        let mut get = |k: &str, parse: fn(&str) -> Result<i64, crate::quantity::QuantityError>| {
            let q = alloc.and_then(|a| a.get(k)).map(|q| q.0.as_str())?;
            parse(q)
                .map_err(|e| {
                    p.push(format!(
                        "spec.nodeSelector: Node {:?} status.allocatable.{k}: {e}",
                        node.name_any()
                    ))
                })
                .ok()
        };
        let node_res = Res::new(
            get("cpu", parse_cpu).unwrap_or(0),
            get("memory", parse_memory).unwrap_or(0),
        );
        total = total.and_then(|t| t.checked_add(node_res));
    }
    if total.is_none() {
        p.push(
            "spec.nodeSelector: the allocatable of the matching Nodes sums beyond the largest representable amount"
                .into(),
        );
    }
    Some(total.unwrap_or(Res::ZERO))
}

pub fn pool(pool: &ResourcePool, nodes: &[Node]) -> PoolModel {
    let spec = &pool.spec;
    let mut p = Problems::default();
    p.push_all(name_checks::pool(pool));
    p.level("spec.securityLevel", spec.security_level);
    if spec.node_selector.is_empty() {
        p.push("spec.nodeSelector: must select the pool's Nodes by at least one label".into());
    }
    let capacity = match &spec.capacity {
        Some(c) => p.positive("spec.capacity", &c.cpu, &c.memory),
        None => node_capacity(&spec.node_selector, nodes, &mut p).unwrap_or_else(|| {
            p.push(format!(
                "spec.capacity: not set, and no schedulable Node matches spec.nodeSelector {:?}",
                spec.node_selector
            ));
            Res::ZERO
        }),
    };
    let oc = spec.overcommit.clone().unwrap_or_default();
    for (field, v) in [("cpu", oc.cpu), ("memory", oc.memory)] {
        if !(v >= 1.0 && v.is_finite()) {
            p.push(format!("spec.overcommit.{field}: {v} is below 1.0"));
        }
    }
    let target = spec.target_utilisation.unwrap_or(0.8);
    if !(target > 0.0 && target <= 1.0) {
        p.push(format!("spec.targetUtilisation: {target} is outside (0, 1]"));
    }
    let node_shape = spec
        .node_shape
        .as_ref()
        .map(|s| p.positive("spec.nodeShape", &s.cpu, &s.memory));
    let rates = spec.cost.as_ref().and_then(|c| {
        let problems = c.problems();
        for (field, problem) in &problems {
            p.push(format!("spec.cost.{field}: {problem}"));
        }
        // A refused rate prices nothing: 0 × inf would be NaN, and 1e308 × anything inf.
        problems
            .is_empty()
            .then_some((c.cpu_core_hour, c.memory_gib_hour))
    });
    let maintenance = maintenance(&spec.maintenance_windows, &spec.maintenance_exclusions);
    let effective = capacity.checked_scale_down(oc.cpu, oc.memory).unwrap_or_else(|| {
        p.push(format!(
            "spec.overcommit: capacity ({capacity}) × overcommit ({}, {}) is beyond the largest representable amount",
            oc.cpu, oc.memory
        ));
        Res::ZERO
    });
    PoolModel {
        name: pool.name_any(),
        level: spec.security_level,
        cordoned: spec.cordoned,
        deleting: pool.metadata.deletion_timestamp.is_some(),
        capacity,
        effective,
        overcommit: (oc.cpu, oc.memory),
        target,
        rates,
        node_shape,
        apply_now: crate::api::apply_now(&pool.metadata),
        max_moves: spec
            .disruption
            .clone()
            .unwrap_or_default()
            .max_concurrent_moves
            .max(1),
        maintenance,
        reasons: p.0,
    }
}

pub fn department(dept: &Department, settings: &Settings) -> DepartmentModel {
    let spec = &dept.spec;
    let mut p = Problems::default();
    let name = dept.name_any();
    let namespace = format!("{}{name}", settings.namespace_prefix);
    p.push_all(name_checks::department(dept, &namespace, settings));
    p.level("spec.securityClearance", spec.security_clearance);
    let quota = Res::new(
        p.cpu("spec.quota.cpu", &spec.quota.cpu),
        p.memory("spec.quota.memory", &spec.quota.memory),
    );
    for (i, o) in spec.owners.iter().enumerate() {
        if o.name.is_empty() {
            p.push(format!("spec.owners[{i}].name: must not be empty"));
        }
        if o.kind == OwnerKind::ServiceAccount && o.namespace.as_deref().unwrap_or("").is_empty() {
            p.push(format!(
                "spec.owners[{i}].namespace: a ServiceAccount owner needs its namespace"
            ));
        }
    }
    DepartmentModel {
        maintenance: maintenance(&spec.maintenance_windows, &spec.maintenance_exclusions),
        name,
        namespace,
        clearance: spec.security_clearance,
        quota,
        quota_services: spec.quota.services,
        pools: (!spec.pools.is_empty()).then(|| spec.pools.iter().cloned().collect()),
        deleting: dept.metadata.deletion_timestamp.is_some(),
        reasons: p.0,
    }
}

pub fn offering(offering: &ServiceOffering) -> OfferingModel {
    let spec = &offering.spec;
    let mut p = Problems::default();
    p.push_all(name_checks::offering(offering));
    p.level("spec.securityLevel", spec.security_level);
    if spec.image.trim().is_empty() {
        p.push("spec.image: must not be empty".into());
    }
    if spec.tenants_per_instance < 1 {
        p.push("spec.tenantsPerInstance: must be at least 1".into());
    }
    if spec.instance.replicas < 1 {
        p.push(format!(
            "spec.instance.replicas: {} is below 1",
            spec.instance.replicas
        ));
    }
    let r = &spec.instance.resources;
    let requests = p.positive("spec.instance.resources", &r.cpu, &r.memory);
    let replicas = spec.instance.replicas.max(1);
    let tenants = spec.tenants_per_instance.max(1);
    let instance = p.product("spec.instance.resources", requests, replicas.into(), "replicas");
    let share = instance.checked_div_ceil(tenants.into()).unwrap_or(Res::ZERO);
    p.ports("spec.instance.ports", &spec.instance.ports);
    OfferingModel {
        apply_now: crate::api::apply_now(&offering.metadata),
        move_pending: offering
            .status
            .iter()
            .flat_map(|s| &s.instance_details)
            .filter_map(|i| {
                let c = i
                    .pending_change
                    .as_ref()
                    .filter(|c| c.kind == crate::api::ChangeKind::Move)?;
                Some((i.name.clone(), (c.since.0, c.to.clone())))
            })
            .collect(),
        maintenance: maintenance(&spec.maintenance_windows, &spec.maintenance_exclusions),
        name: offering.name_any(),
        level: spec.security_level,
        tenants_per_instance: tenants,
        replicas,
        requests,
        instance,
        share,
        reasons: p.0,
    }
}

pub fn policy(policy: &PlatformPolicy) -> PolicyModel {
    let spec = &policy.spec;
    let mut p = Problems::default();
    for (i, r) in spec.allowed_registries.iter().enumerate() {
        if r.trim().is_empty() {
            p.push(format!("spec.allowedRegistries[{i}]: must not be empty"));
        }
    }
    if let Some(m) = spec.max_replicas
        && m < 1
    {
        p.push(format!("spec.maxReplicas: {m} is below 1"));
    }
    let max = spec.max_replica_resources.clone().unwrap_or_default();
    let def = spec.default_resources.clone().unwrap_or_default();
    let max_cpu = max
        .cpu
        .as_deref()
        .map(|s| p.cpu("spec.maxReplicaResources.cpu", s));
    let max_memory = max
        .memory
        .as_deref()
        .map(|s| p.memory("spec.maxReplicaResources.memory", s));
    let default_cpu = def
        .cpu
        .as_deref()
        .map(|s| p.request("spec.defaultResources.cpu", s, parse_cpu, ""));
    let default_memory = def
        .memory
        .as_deref()
        .map(|s| p.request("spec.defaultResources.memory", s, parse_memory, ""));
    let limit_ratio = spec.limit_ratio.as_ref().map(|r| {
        for (field, v) in [("cpu", r.cpu), ("memory", r.memory)] {
            if !(v >= 1.0 && v.is_finite()) {
                p.push(format!("spec.limitRatio.{field}: {v} is below 1.0"));
            }
        }
        (r.cpu, r.memory)
    });
    let steps = spec.resource_steps.clone().unwrap_or_default();
    let mut step = |path: &str, s: Option<&str>, parse: fn(&str) -> Result<i64, QuantityError>| {
        let v = match parse(s?) {
            Ok(v) => v,
            Err(e) => {
                p.push(format!("{path}: {e}"));
                return None;
            }
        };
        if v == 0 {
            p.push(format!(
                "{path}: {:?} is zero; a step must be greater than zero",
                s?
            ));
            return None;
        }
        Some(v)
    };
    let step_cpu = step("spec.resourceSteps.cpu", steps.cpu.as_deref(), parse_cpu);
    let step_memory = step("spec.resourceSteps.memory", steps.memory.as_deref(), parse_memory);
    PolicyModel {
        name: policy.name_any(),
        allowed_registries: spec.allowed_registries.clone(),
        forbid_latest_tag: spec.forbid_latest_tag,
        max_replicas: spec.max_replicas,
        max_cpu,
        max_memory,
        default_cpu,
        default_memory,
        limit_ratio,
        step_cpu,
        step_memory,
        freeze: maintenance(&[], &spec.maintenance_exclusions),
        reasons: p.0,
    }
}

/// Combines valid policies (sorted by name): a default is a convenience, so the first
/// policy that sets it wins; a ratio or a maximum is a constraint, so the most
/// restrictive wins. Refused policies constrain nothing here (they fail compliance).
pub fn effective_policy(policies: &[PolicyModel]) -> EffectivePolicy {
    let valid = || policies.iter().filter(|p| p.reasons.is_empty());
    let ratio = |f: fn(&(f64, f64)) -> f64| {
        valid()
            .filter_map(|p| p.limit_ratio.as_ref().map(f))
            .fold(f64::INFINITY, f64::min)
    };
    let finite = |v: f64| if v.is_finite() { v } else { 1.0 };
    EffectivePolicy {
        default_cpu: valid().find_map(|p| p.default_cpu.map(|v| (v, p.name.clone()))),
        default_memory: valid().find_map(|p| p.default_memory.map(|v| (v, p.name.clone()))),
        limit_ratio: (finite(ratio(|r| r.0)), finite(ratio(|r| r.1))),
        limit_ratio_set: valid().any(|p| p.limit_ratio.is_some()),
        max_cpu: valid().filter_map(|p| p.max_cpu).min(),
        max_memory: valid().filter_map(|p| p.max_memory).min(),
        step_cpu: valid().filter_map(|p| p.step_cpu).max(),
        step_memory: valid().filter_map(|p| p.step_memory).max(),
    }
}

pub fn service(
    svc: &DepartmentService,
    dept: Option<(usize, &DepartmentModel)>,
    effective: &EffectivePolicy,
) -> ServiceModel {
    let spec = &svc.spec;
    let key = ServiceKey::of(svc);
    let mut p = Problems::default();
    match dept.map(|(_, d)| d) {
        None => p.0.push(Reason::new(
            ReasonCode::DepartmentNotFound,
            format!(
                "metadata.namespace: no Department owns namespace {:?}",
                key.namespace
            ),
        )),
        Some(d) if !d.reasons.is_empty() => p.push(format!(
            "metadata.namespace: Department {:?} is invalid ({})",
            d.name,
            d.reasons
                .iter()
                .map(|r| r.message.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )),
        Some(_) => {}
    }
    p.push_all(name_checks::service(svc));
    p.level("spec.securityLevel", spec.security_level);
    let demand = match (&spec.workload, &spec.offering) {
        (Some(_), Some(_)) | (None, None) => {
            p.push("spec: exactly one of spec.workload or spec.offering must be set".into());
            None
        }
        (None, Some(o)) => {
            if o.name.is_empty() {
                p.push("spec.offering.name: must not be empty".into());
            }
            Some(Demand::Tenant {
                offering: o.name.clone(),
            })
        }
        (Some(w), None) => {
            if w.image.trim().is_empty() {
                p.push("spec.workload.image: must not be empty".into());
            }
            let high = spec.availability == Availability::High;
            let replicas = w.replicas.unwrap_or(if high { 2 } else { 1 });
            if replicas < 1 {
                p.push(format!("spec.workload.replicas: {replicas} is below 1"));
            } else if high && replicas < 2 {
                p.push(format!(
                    "spec.workload.replicas: {replicas}, but availability High needs at least 2"
                ));
            }
            let given = w.resources.clone().unwrap_or_default();
            let cpu = match (&given.cpu, &effective.default_cpu) {
                (Some(s), _) => p.request("spec.workload.resources.cpu", s, parse_cpu, WORKLOAD_HINT),
                (None, Some((v, _))) => *v,
                (None, None) => {
                    p.push("spec.workload.resources.cpu: not set, and no PlatformPolicy sets spec.defaultResources.cpu".into());
                    0
                }
            };
            let memory = match (&given.memory, &effective.default_memory) {
                (Some(s), _) => p.request("spec.workload.resources.memory", s, parse_memory, WORKLOAD_HINT),
                (None, Some((v, _))) => *v,
                (None, None) => {
                    p.push("spec.workload.resources.memory: not set, and no PlatformPolicy sets spec.defaultResources.memory".into());
                    0
                }
            };
            p.ports("spec.workload.ports", &w.ports);
            let mut env = BTreeSet::new();
            for (i, e) in w.env.iter().enumerate() {
                if !env.insert(&e.name) {
                    p.push(format!("spec.workload.env[{i}].name: {:?} is set twice", e.name));
                }
            }
            let requests = Res::new(cpu, memory);
            let replicas = replicas.max(1);
            let charge = p.product("spec.workload.resources", requests, replicas.into(), "replicas");
            let (rc, rm) = effective.limit_ratio;
            let limits = requests.checked_scale_up(rc, rm).unwrap_or_else(|| {
                for (field, shown, ratio, ok) in [
                    ("cpu", format_cpu(cpu), rc, requests.checked_scale_up(rc, 1.0).is_some()),
                    ("memory", format_memory(memory), rm, requests.checked_scale_up(1.0, rm).is_some()),
                ] {
                    if !ok {
                        p.push(format!(
                            "spec.workload.resources.{field}: {shown} × the PlatformPolicy limit ratio {ratio} is beyond the largest representable amount"
                        ));
                    }
                }
                Res::ZERO
            });
            Some(Demand::Workload {
                image: w.image.clone(),
                replicas,
                requests,
                limits,
                charge,
            })
        }
    };
    let reasons = p.0;
    ServiceModel {
        key,
        department: dept.map(|(_, d)| d.name.clone()),
        dept: dept.map(|(i, _)| i),
        level: spec.security_level,
        created: svc.metadata.creation_timestamp.as_ref().map(|t| t.0),
        availability: spec.availability,
        demand: if reasons.is_empty() { demand } else { None },
        apply_now: crate::api::apply_now(&svc.metadata),
        reasons,
    }
}
