//! Building estates in code: small builders for tests and a seeded generator of large
//! synthetic estates for property tests and benchmarks.
//!
//! The generator is deterministic for a seed (a SplitMix64 stream), so a benchmark or a
//! failing property can be reproduced from its seed alone.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::api::*;
use crate::plan::{Settings, Snapshot};

pub fn pool(name: &str, level: u8, cpu: &str, memory: &str) -> ResourcePool {
    ResourcePool::new(
        name,
        ResourcePoolSpec {
            display_name: None,
            security_level: level,
            node_selector: BTreeMap::from([("govcloud.io/pool".to_string(), name.to_string())]),
            capacity: Some(ResourceAmounts {
                cpu: cpu.into(),
                memory: memory.into(),
            }),
            overcommit: None,
            target_utilisation: None,
            node_shape: None,
            cost: None,
            maintenance_windows: vec![],
            maintenance_exclusions: vec![],
            cordoned: false,
            disruption: None,
        },
    )
}

pub fn department(name: &str, clearance: u8, cpu: &str, memory: &str, services: u32) -> Department {
    Department::new(
        name,
        DepartmentSpec {
            display_name: None,
            code: None,
            cost_centre: None,
            owners: vec![],
            security_clearance: clearance,
            quota: Quota {
                cpu: cpu.into(),
                memory: memory.into(),
                services,
            },
            pools: vec![],
            maintenance_windows: vec![],
            maintenance_exclusions: vec![],
        },
    )
}

fn service(namespace: &str, name: &str, spec: DepartmentServiceSpec) -> DepartmentService {
    let mut svc = DepartmentService::new(name, spec);
    svc.metadata.namespace = Some(namespace.into());
    svc
}

/// An own workload with explicit requests per replica.
pub fn workload(
    namespace: &str,
    name: &str,
    level: u8,
    replicas: i32,
    cpu: &str,
    memory: &str,
) -> DepartmentService {
    service(
        namespace,
        name,
        DepartmentServiceSpec {
            security_level: level,
            workload: Some(Workload {
                image: format!("registry.gov.example/{name}:1.0.0"),
                replicas: Some(replicas),
                resources: Some(ResourceRequest {
                    cpu: Some(cpu.into()),
                    memory: Some(memory.into()),
                }),
                ports: vec![Port {
                    name: "http".into(),
                    port: 8080,
                    protocol: Protocol::Tcp,
                }],
                env: vec![],
                command: vec![],
                args: vec![],
            }),
            offering: None,
            availability: Availability::Standard,
            exposure: Exposure::Department,
        },
    )
}

/// A tenancy of a shared offering.
pub fn tenant(namespace: &str, name: &str, level: u8, offering: &str) -> DepartmentService {
    service(
        namespace,
        name,
        DepartmentServiceSpec {
            security_level: level,
            workload: None,
            offering: Some(OfferingRef {
                name: offering.into(),
            }),
            availability: Availability::Standard,
            exposure: Exposure::Department,
        },
    )
}

pub fn offering(
    name: &str,
    level: u8,
    tenants_per_instance: u32,
    replicas: i32,
    cpu: &str,
    memory: &str,
) -> ServiceOffering {
    ServiceOffering::new(
        name,
        ServiceOfferingSpec {
            display_name: None,
            description: None,
            image: format!("registry.gov.example/shared/{name}"),
            version: Some("1.0.0".into()),
            security_level: level,
            tenants_per_instance,
            instance: OfferingInstance {
                replicas,
                resources: ResourceAmounts {
                    cpu: cpu.into(),
                    memory: memory.into(),
                },
                ports: vec![Port {
                    name: "tcp".into(),
                    port: 5432,
                    protocol: Protocol::Tcp,
                }],
            },
            maintenance_windows: vec![],
            maintenance_exclusions: vec![],
        },
    )
}

pub fn policy(name: &str, spec: PlatformPolicySpec) -> PlatformPolicy {
    PlatformPolicy::new(name, spec)
}

/// Sets `metadata.creationTimestamp` to `seconds` after the epoch (for arrival order).
pub fn created_at<K: kube::Resource>(mut obj: K, seconds: i64) -> K {
    let ts = Timestamp::from_second(seconds).expect("in range");
    obj.meta_mut().creation_timestamp = Some(Time(ts));
    obj
}

/// Shape of a generated estate.
#[derive(Clone, Copy, Debug)]
pub struct EstateShape {
    pub services: usize,
    pub departments: usize,
    pub pools: usize,
    pub offerings: usize,
    /// Levels used: 1..=levels.
    pub levels: u8,
    /// Fraction of services that are offering tenants.
    pub tenant_fraction: f64,
    /// Pool capacity relative to the estate's expected demand (> 1 leaves headroom).
    pub headroom: f64,
}

impl EstateShape {
    /// The benchmark estate of the planner issue: 10,000 services, 500 departments,
    /// 50 pools, 200 offerings, 3 levels.
    pub const BENCHMARK: EstateShape = EstateShape {
        services: 10_000,
        departments: 500,
        pools: 50,
        offerings: 200,
        levels: 3,
        tenant_fraction: 0.3,
        headroom: 1.5,
    };

    /// The benchmark estate's proportions at `services` services on `pools` pools:
    /// one department per 20 services, 200 offerings, 3 levels. The scaling series
    /// runs it with a fixed pool count and with one pool per 10 services.
    pub const fn scaled(services: usize, pools: usize) -> EstateShape {
        EstateShape {
            services,
            departments: if services >= 20 { services / 20 } else { 1 },
            pools,
            ..EstateShape::BENCHMARK
        }
    }

    /// An estate mostly of offering tenants (about 2,000 shared instances at 10,000
    /// services): what adding a tenant is measured on.
    pub const SHARED: EstateShape = EstateShape {
        tenant_fraction: 0.9,
        ..EstateShape::BENCHMARK
    };
}

/// SplitMix64: tiny, fast and good enough to shape test data reproducibly.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// A seeded synthetic estate: equal pools spread over the levels, departments with
/// quotas large enough that placement (not quota) is what is exercised, workloads of
/// 1–4 replicas × 100m–2 cores, and tenants of offerings at every level.
pub fn estate(seed: u64, shape: EstateShape) -> Snapshot {
    let mut rng = Rng::new(seed);
    let levels = shape.levels.max(1);
    let level_of = |i: usize, n: usize| 1 + (i * levels as usize / n.max(1)) as u8;

    let offerings: Vec<ServiceOffering> = (0..shape.offerings)
        .map(|i| {
            offering(
                &format!("offering-{i:03}"),
                levels,
                2 + (i % 7) as u32,
                2,
                "500m",
                "1Gi",
            )
        })
        .collect();

    let mut services = Vec::with_capacity(shape.services);
    let mut demand_millis: i64 = 0;
    let mut demand_bytes: i64 = 0;
    for i in 0..shape.services {
        let dept = rng.below(shape.departments as u64) as usize;
        let ns = format!("dept-d{dept:04}");
        let level = 1 + rng.below(u64::from(levels)) as u8;
        let svc = if !offerings.is_empty() && rng.chance(shape.tenant_fraction) {
            let o = rng.below(offerings.len() as u64) as usize;
            demand_millis += 500;
            demand_bytes += 1 << 30;
            tenant(&ns, &format!("svc-{i:05}"), level, &format!("offering-{o:03}"))
        } else {
            let replicas = 1 + rng.below(4) as i32;
            let cpu = 100 * (1 + rng.below(20)) as i64;
            let mem_mi = 128 * (1 + rng.below(16)) as i64;
            demand_millis += cpu * i64::from(replicas);
            demand_bytes += (mem_mi << 20) * i64::from(replicas);
            workload(
                &ns,
                &format!("svc-{i:05}"),
                level,
                replicas,
                &format!("{cpu}m"),
                &format!("{mem_mi}Mi"),
            )
        };
        services.push(created_at(svc, 1_700_000_000 + i as i64));
    }

    let per_pool_cpu = (demand_millis as f64 * shape.headroom / shape.pools.max(1) as f64).ceil() as i64;
    let per_pool_mem = (demand_bytes as f64 * shape.headroom / shape.pools.max(1) as f64).ceil() as i64;
    let pools = (0..shape.pools)
        .map(|i| {
            pool(
                &format!("pool-{i:02}"),
                level_of(i, shape.pools),
                &format!("{per_pool_cpu}m"),
                &format!("{}Mi", per_pool_mem >> 20),
            )
        })
        .collect();
    let departments = (0..shape.departments)
        .map(|i| department(&format!("d{i:04}"), levels, "100000", "1000Ti", 1_000_000))
        .collect();

    Snapshot {
        pools,
        departments,
        services,
        offerings,
        policies: vec![],
        nodes: vec![],
        settings: Settings::default(),
        ..Snapshot::default()
    }
}

/// How tightly a fresh placement packed an estate of equal pools.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Packing {
    pub pools_in_use: usize,
    /// max over CPU and memory of ceil(total demand / (pool capacity × target)).
    pub lower_bound: usize,
    /// Mean over pools in use of the dominant utilisation.
    pub mean_utilisation: f64,
}

/// Packing quality of `plan`, assuming its pools are equal (as `estate` makes them).
pub fn packing(plan: &crate::plan::Plan) -> Packing {
    let in_use: Vec<_> = plan
        .pools
        .iter()
        .filter(|p| p.allocated.cpu_millis > 0 || p.allocated.memory_bytes > 0)
        .collect();
    let total = plan
        .pools
        .iter()
        .try_fold(crate::quantity::Res::ZERO, |a, p| a.checked_add(p.allocated))
        .expect("synthetic estates are far below i64");
    let bound = plan.pools.first().map_or(0, |p| {
        let per = |d: i64, c: i64| (d as f64 / (c as f64 * p.target_utilisation)).ceil() as usize;
        per(total.cpu_millis, p.effective_capacity.cpu_millis)
            .max(per(total.memory_bytes, p.effective_capacity.memory_bytes))
    });
    let mean = if in_use.is_empty() {
        0.0
    } else {
        in_use
            .iter()
            .map(|p| p.utilisation.cpu.max(p.utilisation.memory))
            .sum::<f64>()
            / in_use.len() as f64
    };
    Packing {
        pools_in_use: in_use.len(),
        lower_bound: bound,
        mean_utilisation: mean,
    }
}

/// Gives the pools, departments, offerings and policies of `s` what a converged
/// operator would have written to them by `now`: statuses for the plan of `s`, and
/// govcloud's finalizer on every pool and department not being deleted. Tests and
/// benchmarks start from this when they keep those cluster-scoped objects outside an
/// API double (see `tests/support/fake_cluster.rs`). Measured usage (`used`) is left as
/// it is.
pub fn settle_cluster_scoped(s: &mut Snapshot, now: &Time) {
    settle_cluster_scoped_with_usage(s, now, None);
}

/// [`settle_cluster_scoped`], with `used` and `usedAt` of pools and departments from
/// `usage` (a sample, attributed by the plan of `s`) as a pass would write them.
pub fn settle_cluster_scoped_with_usage(s: &mut Snapshot, now: &Time, usage: Option<&crate::usage::Sample>) {
    use std::collections::HashMap;

    use crate::plan::{Assignments, plan};
    use crate::status::{self, Measured};

    let held = s.pools.iter_mut().map(|o| &mut o.metadata);
    for m in held.chain(s.departments.iter_mut().map(|o| &mut o.metadata)) {
        if m.deletion_timestamp.is_some() {
            continue;
        }
        let finalizers = m.finalizers.get_or_insert_with(Vec::new);
        if !finalizers.iter().any(|f| f == FINALIZER) {
            finalizers.push(FINALIZER.into());
        }
    }
    let p = plan(s, &Assignments::from_status(s));
    let usage = usage.map(|sample| crate::usage::aggregate(&p, &s.settings, sample));
    let usage = usage.as_ref();
    fn by_name<P>(plans: &[P], name: impl Fn(&P) -> &str) -> HashMap<&str, &P> {
        plans.iter().map(|x| (name(x), x)).collect()
    }
    let name = |m: &kube::api::ObjectMeta| m.name.clone().unwrap_or_default();
    let pools = by_name(&p.pools, |x| &x.name);
    for o in &mut s.pools {
        let n = name(&o.metadata);
        o.status = Some(status::pool_status(
            o,
            pools[n.as_str()],
            Measured::pool(usage, &n),
            now,
        ));
    }
    let departments = by_name(&p.departments, |x| &x.name);
    for o in &mut s.departments {
        let n = name(&o.metadata);
        o.status = Some(status::department_status(
            o,
            departments[n.as_str()],
            Measured::department(usage, &n),
            now,
        ));
    }
    let offerings = by_name(&p.offerings, |x| &x.name);
    for o in &mut s.offerings {
        o.status = Some(status::offering_status(
            o,
            offerings[name(&o.metadata).as_str()],
            now,
        ));
    }
    let policies = by_name(&p.policies, |x| &x.name);
    for o in &mut s.policies {
        o.status = Some(status::policy_status(
            o,
            policies[name(&o.metadata).as_str()],
            now,
        ));
    }
}

/// The estate's govcloud objects as JSON, in the order an export lists them: pools,
/// departments, offerings, services.
pub fn as_json(estate: &Snapshot) -> Vec<serde_json::Value> {
    let to_json = |value: Result<serde_json::Value, _>| value.expect("synthetic objects serialise");
    (estate.pools.iter().map(serde_json::to_value).map(to_json))
        .chain(estate.departments.iter().map(serde_json::to_value).map(to_json))
        .chain(estate.offerings.iter().map(serde_json::to_value).map(to_json))
        .chain(estate.services.iter().map(serde_json::to_value).map(to_json))
        .collect()
}
