//! The proposed estate: a DepartmentService per assessed server, a ServiceOffering per
//! system that several departments run and the platform does not offer, a Department per
//! department the platform does not know, and, when the platform has no pools, a pool
//! per security level sized in whole nodes.

use std::collections::{BTreeMap, BTreeSet};

use kube::ResourceExt;

use super::mapping::{Mapping, NodeSettings, node_shape};
use super::model::{Amount, OfferingSource, PoolSizing, SystemAssessment};
use super::resolve::Candidate;
use crate::api::*;
use crate::plan::Snapshot;
use crate::quantity::Res;

/// The node shape pools are sized in when the mapping gives none: a common two-socket
/// virtualisation host slice.
pub fn default_nodes() -> NodeSettings {
    NodeSettings {
        shape: ResourceAmounts {
            cpu: "16".into(),
            memory: "64Gi".into(),
        },
        target_utilisation: 0.8,
        yearly_cost: None,
        power_watts: None,
    }
}

/// The proposed objects, and for each candidate the offering it joins.
pub struct Proposal {
    pub departments: Vec<Department>,
    pub services: Vec<DepartmentService>,
    pub offerings: Vec<ServiceOffering>,
    pub pools: Vec<ResourcePool>,
    pub sizing: Vec<PoolSizing>,
    pub systems: Vec<SystemAssessment>,
    /// Per candidate (same order): the offering it is a tenant of.
    pub offering_of: Vec<Option<String>>,
}

/// What a proposed object's name and image are made of.
pub struct Naming<'a> {
    pub namespace_prefix: &'a str,
    pub images: &'a str,
}

pub fn propose(
    candidates: &[Candidate],
    platform: &Snapshot,
    mapping: &Mapping,
    naming: &Naming<'_>,
) -> Proposal {
    let existing: BTreeMap<String, &ServiceOffering> =
        platform.offerings.iter().map(|o| (o.name_any(), o)).collect();
    let mut by_system: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in candidates.iter().enumerate() {
        if let Some(s) = &c.system {
            by_system.entry(s.as_str()).or_default().push(i);
        }
    }
    let mut offering_of = vec![None; candidates.len()];
    let mut offerings = Vec::new();
    let mut systems = Vec::new();
    // Per level: one instance's requests × replicas and how many tenants it seats, for
    // each offering the proposal uses; to size pools.
    let mut instances: BTreeMap<(String, u8), (Res, u32, i64)> = BTreeMap::new();
    for (system, members) in &by_system {
        let departments: BTreeSet<&str> = members
            .iter()
            .map(|&i| candidates[i].department.as_str())
            .collect();
        // The largest copy: the largest CPU and the largest memory among them.
        let largest = members.iter().fold(Res::ZERO, |m, &i| {
            let r = candidates[i].sized.requests;
            Res::new(m.cpu_millis.max(r.cpu_millis), m.memory_bytes.max(r.memory_bytes))
        });
        let (source, tpi, instance) = match existing.get(*system) {
            Some(o) => (
                OfferingSource::Existing,
                o.spec.tenants_per_instance,
                o.spec
                    .instance
                    .resources
                    .parse()
                    .ok()
                    .and_then(|r| r.checked_times(i64::from(o.spec.instance.replicas.max(1)))),
            ),
            None if departments.len() >= 2 => {
                let level = members.iter().map(|&i| candidates[i].level).max().unwrap_or(1);
                let tpi = mapping.offerings.tenants_per_instance(system);
                offerings.push(offering(system, level, tpi, largest, naming.images));
                (OfferingSource::Proposed, tpi, Some(largest))
            }
            None => (OfferingSource::NotShared, 1, None),
        };
        if source != OfferingSource::NotShared {
            for &i in members {
                offering_of[i] = Some((*system).to_owned());
                if let Some(instance) = instance {
                    let e = instances
                        .entry(((*system).to_owned(), candidates[i].level))
                        .or_insert((instance, tpi.max(1), 0));
                    e.2 = e.2.saturating_add(1);
                }
            }
        }
        systems.push(SystemAssessment {
            name: (*system).to_owned(),
            offering: source,
            tenants_per_instance: tpi,
            departments: departments.len(),
            levels: Vec::new(),
            instance: Amount::from(instance.unwrap_or(largest)),
        });
    }

    let services: Vec<DepartmentService> = candidates
        .iter()
        .zip(&offering_of)
        .map(|(c, o)| service(c, o.as_deref(), naming))
        .collect();
    let departments = departments(candidates, &offering_of, &instances, platform);
    let (pools, sizing) = if platform.pools.is_empty() {
        size_pools(candidates, &offering_of, &instances, mapping)
    } else {
        (Vec::new(), Vec::new())
    };
    Proposal {
        departments,
        services,
        offerings,
        pools,
        sizing,
        systems,
        offering_of,
    }
}

fn offering(system: &str, level: u8, tpi: u32, instance: Res, images: &str) -> ServiceOffering {
    ServiceOffering::new(
        system,
        ServiceOfferingSpec {
            display_name: None,
            description: Some(format!(
                "Proposed by govcloud assess: {system}, run today by several departments, built once and shared."
            )),
            image: format!("{images}{system}:assessed"),
            version: None,
            security_level: level,
            tenants_per_instance: tpi,
            instance: OfferingInstance {
                replicas: 1,
                resources: amounts(instance),
                ports: Vec::new(),
            },
            maintenance_windows: Vec::new(),
            maintenance_exclusions: Vec::new(),
        },
    )
}

fn amounts(r: Res) -> ResourceAmounts {
    ResourceAmounts {
        cpu: r.cpu_quantity(),
        memory: r.memory_quantity(),
    }
}

fn service(c: &Candidate, offering: Option<&str>, naming: &Naming<'_>) -> DepartmentService {
    let (workload, offering) = match offering {
        Some(name) => (
            None,
            Some(OfferingRef {
                name: name.to_owned(),
            }),
        ),
        None => (
            Some(Workload {
                image: format!("{}{}:assessed", naming.images, c.name),
                replicas: None,
                resources: Some(ResourceRequest {
                    cpu: Some(c.sized.requests.cpu_quantity()),
                    memory: Some(c.sized.requests.memory_quantity()),
                }),
                ports: Vec::new(),
                env: Vec::new(),
                command: Vec::new(),
                args: Vec::new(),
            }),
            None,
        ),
    };
    let mut svc = DepartmentService::new(
        &c.name,
        DepartmentServiceSpec {
            security_level: c.level,
            workload,
            offering,
            availability: Availability::default(),
            exposure: Exposure::default(),
        },
    );
    svc.metadata.namespace = Some(format!("{}{}", naming.namespace_prefix, c.department));
    svc
}

/// The charge a candidate makes on its department's quota: its requests, or a whole
/// instance for a tenant (at least its share, so that the quota never refuses it).
fn charge(
    c: &Candidate,
    offering: Option<&String>,
    instances: &BTreeMap<(String, u8), (Res, u32, i64)>,
) -> Res {
    match offering {
        Some(o) => instances.get(&(o.clone(), c.level)).map_or(Res::ZERO, |e| e.0),
        None => c.sized.requests,
    }
}

fn departments(
    candidates: &[Candidate],
    offering_of: &[Option<String>],
    instances: &BTreeMap<(String, u8), (Res, u32, i64)>,
    platform: &Snapshot,
) -> Vec<Department> {
    let known: BTreeSet<String> = platform.departments.iter().map(ResourceExt::name_any).collect();
    let mut needs: BTreeMap<&str, (u8, Res, u32)> = BTreeMap::new();
    for (c, o) in candidates.iter().zip(offering_of) {
        if known.contains(&c.department) {
            continue;
        }
        let e = needs.entry(&c.department).or_insert((1, Res::ZERO, 0));
        e.0 = e.0.max(c.level);
        e.1 = e.1.checked_add(charge(c, o.as_ref(), instances)).unwrap_or(e.1);
        e.2 = e.2.saturating_add(1);
    }
    needs
        .into_iter()
        .map(|(name, (clearance, quota, services))| {
            Department::new(
                name,
                DepartmentSpec {
                    display_name: None,
                    code: None,
                    cost_centre: None,
                    owners: Vec::new(),
                    security_clearance: clearance,
                    quota: Quota {
                        cpu: quota.cpu_quantity(),
                        memory: quota.memory_quantity(),
                        services,
                    },
                    pools: Vec::new(),
                    maintenance_windows: Vec::new(),
                    maintenance_exclusions: Vec::new(),
                },
            )
        })
        .collect()
}

/// One pool per security level in use, of whole nodes at the target utilisation: what
/// the level's workloads and its shared instances (tenants ÷ seats, rounded up) request.
fn size_pools(
    candidates: &[Candidate],
    offering_of: &[Option<String>],
    instances: &BTreeMap<(String, u8), (Res, u32, i64)>,
    mapping: &Mapping,
) -> (Vec<ResourcePool>, Vec<PoolSizing>) {
    let nodes = mapping.nodes.clone().unwrap_or_else(default_nodes);
    let shape = node_shape(&nodes);
    let mut requested: BTreeMap<u8, Res> = BTreeMap::new();
    for (c, o) in candidates.iter().zip(offering_of) {
        if o.is_none() {
            let r = requested.entry(c.level).or_insert(Res::ZERO);
            *r = r.checked_add(c.sized.requests).unwrap_or(*r);
        }
    }
    for ((_, level), (instance, seats, tenants)) in instances {
        let seats = i64::from(*seats).max(1);
        let count = tenants / seats + i64::from(tenants % seats != 0);
        let r = requested.entry(*level).or_insert(Res::ZERO);
        *r = instance
            .checked_times(count)
            .and_then(|i| r.checked_add(i))
            .unwrap_or(*r);
    }
    let mut pools = Vec::new();
    let mut sizing = Vec::new();
    for (level, need) in requested {
        let per_node = |amount: i64, per: i64| {
            let usable = (per as f64 * nodes.target_utilisation).floor();
            if usable <= 0.0 {
                0.0
            } else {
                (amount as f64 / usable).ceil()
            }
        };
        let count = per_node(need.cpu_millis, shape.cpu_millis)
            .max(per_node(need.memory_bytes, shape.memory_bytes))
            .max(1.0);
        // Bounded by the checked sums above: at most i64::MAX / one millicore.
        let count = if count < 9.0e15 { count as i64 } else { i64::MAX };
        let capacity = shape.checked_times(count).unwrap_or(Res::new(i64::MAX, i64::MAX));
        let name = format!("assessed-level-{level}");
        pools.push(ResourcePool::new(
            &name,
            ResourcePoolSpec {
                display_name: Some(format!(
                    "Level {level} pool sized by govcloud assess: {count} nodes of {} cores and {}",
                    shape.cores(),
                    crate::units::memory(shape.memory_bytes)
                )),
                security_level: level,
                node_selector: BTreeMap::from([("govcloud.io/pool".to_owned(), name.clone())]),
                capacity: Some(amounts(capacity)),
                overcommit: None,
                target_utilisation: Some(nodes.target_utilisation),
                node_shape: Some(nodes.shape.clone()),
                cost: None,
                maintenance_windows: Vec::new(),
                maintenance_exclusions: Vec::new(),
                cordoned: false,
                disruption: None,
            },
        ));
        sizing.push(PoolSizing {
            name,
            security_level: level,
            nodes: count,
            requested: need.into(),
            capacity: capacity.into(),
        });
    }
    (pools, sizing)
}
