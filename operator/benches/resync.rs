//! A resync with nothing changed, on the benchmark estate (10,000 services) held by an
//! in-process API server (kube-fake-client): the CPU time of one operator pass with
//! live state read from watch caches, and the heap the caches of the managed objects
//! take. The pass must make no API write at all; the bench fails if it does.
//!
//! Then one change: a new DepartmentService in the watch cache, taken from there to its
//! status patch by the pass over changes (`resync/one_new_service_*`), beside a full
//! pass over the same change (`resync/full_pass_with_one_new_service_*`). Targets (issue
//! 18): the first ≤ 100 ms at 10,000 services, and ≤ 5 % of the second.
//!
//! `cargo bench --bench resync` measures; under `cargo test` (no `--bench`) a small
//! estate runs once, so the code path is exercised without the cost.

use std::alloc::System;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cap::Cap;
use std::cell::RefCell;
use std::collections::HashMap;

use criterion::{BatchSize, Criterion, criterion_group};
use govcloud::api::{Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};
use govcloud::controller::{
    Cached, EstateReconciler, Live, ManagedCaches, Needed, Present, Taken, Touched, managed_kinds,
    managed_selector,
};
use govcloud::object::{Kind, ObjectId};
use govcloud::plan::{Assignments, ServiceKey, Snapshot, plan};
use govcloud::render::render;
use govcloud::status;
use govcloud::synthetic::{EstateShape, created_at, estate, settle_cluster_scoped, workload};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube_fake_client::{ClientBuilder, interceptor};

/// Counts every heap byte, so that the caches' share can be read off exactly.
#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

fn now() -> Time {
    Time(Timestamp::from_second(1_800_000_000).expect("in range"))
}

/// The estate as a converged operator leaves it: statuses written, finalizers held.
fn converged(shape: EstateShape) -> Snapshot {
    let mut s = estate(20_261_127, shape);
    settle_cluster_scoped(&mut s, &now());
    let p = plan(&s, &Assignments::from_status(&s));
    let plans: std::collections::HashMap<(&str, &str), _> = p
        .services
        .iter()
        .map(|x| ((x.namespace.as_str(), x.name.as_str()), x))
        .collect();
    let statuses: Vec<_> = s
        .services
        .iter()
        .map(|svc| {
            let key = (
                svc.metadata.namespace.as_deref().unwrap_or_default(),
                svc.metadata.name.as_deref().unwrap_or_default(),
            );
            status::service_status(svc, plans[&key], None, status::Measured::Unknown, &now())
        })
        .collect();
    for (svc, st) in s.services.iter_mut().zip(statuses) {
        svc.status = Some(st);
    }
    s
}

/// The rendered objects: those kube-fake-client 0.3 can serve, and the Namespaces,
/// which it can neither list nor get (it takes `/api/v1/namespaces/{name}` for the
/// start of a namespaced path).
fn rendered(s: &Snapshot) -> (Vec<serde_json::Value>, Vec<DynamicObject>) {
    let manifests = render(s, &plan(s, &Assignments::from_status(s))).expect("renders");
    let (namespaces, served): (Vec<_>, Vec<_>) = manifests.iter().partition(|m| m.kind() == "Namespace");
    (
        served.iter().map(|m| m.to_json()).collect(),
        namespaces
            .iter()
            .map(|m| serde_json::from_value(m.to_json()).expect("a Namespace is an object"))
            .collect(),
    )
}

/// The in-process API holding the services and the rendered objects it can serve;
/// every write call is counted.
async fn api_server(s: &Snapshot, objects: Vec<serde_json::Value>, writes: Arc<AtomicUsize>) -> Client {
    let count = move || {
        let w = writes.clone();
        move || {
            w.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        }
    };
    let (a, b, c, d) = (count(), count(), count(), count());
    let funcs = interceptor::Funcs::new()
        .patch(move |_| a())
        .create(move |_| b())
        .delete(move |_| c())
        .patch_status(move |_| d());
    ClientBuilder::new()
        .with_resource::<DepartmentService>()
        .with_objects(s.services.clone())
        .with_runtime_objects(objects)
        .with_interceptor_funcs(funcs)
        .build()
        .await
        .expect("fake client")
}

/// Fills one watch cache per managed kind from the API, as each reflector's first
/// list does (Namespaces as the API server would list them); returns the caches and
/// how many objects they hold.
async fn caches(client: &Client, namespaces: Vec<DynamicObject>) -> (ManagedCaches, usize) {
    let mut lists = Vec::new();
    let mut namespaces = Some(namespaces);
    for kind in managed_kinds() {
        let listed = if kind.resource.kind == "Namespace" {
            namespaces.take().unwrap_or_default()
        } else {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &kind.resource);
            api.list(&ListParams::default().labels(&managed_selector()))
                .await
                .expect("lists")
                .items
        };
        lists.push((kind.resource, listed));
    }
    let held = lists.iter().map(|(_, l)| l.len()).sum();
    (ManagedCaches::from_lists(lists), held)
}

fn benches(c: &mut Criterion) {
    let measuring = std::env::args().any(|a| a == "--bench");
    let shape = if measuring {
        EstateShape::BENCHMARK
    } else {
        EstateShape {
            services: 300,
            departments: 20,
            pools: 5,
            offerings: 10,
            ..EstateShape::BENCHMARK
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let snapshot = converged(shape);
    let writes = Arc::new(AtomicUsize::new(0));
    let (served, namespaces) = rendered(&snapshot);
    let client = rt.block_on(api_server(&snapshot, served, writes.clone()));

    // The caches' heap is what dropping them frees (listing leaves other allocations
    // behind, in the double and the runtime, that a before/after difference would count).
    let (first, _) = rt.block_on(caches(&client, namespaces.clone()));
    let with = ALLOCATOR.allocated();
    drop(first);
    let cache_bytes = with.saturating_sub(ALLOCATOR.allocated());
    let (caches, held) = rt.block_on(caches(&client, namespaces));
    println!(
        "resync: watch caches of managed objects hold {held} objects for {} services in {:.1} MiB of heap",
        snapshot.services.len(),
        cache_bytes as f64 / (1 << 20) as f64
    );

    let reconciler = EstateReconciler::new(client.clone(), None).with_live(Live::Cached(caches));
    let pass = || {
        let (_, report) = rt.block_on(reconciler.pass(&snapshot, &now())).expect("renders");
        assert!(report.errors.is_empty(), "{:?}", report.errors.first());
        assert_eq!(
            (
                report.summary.applied,
                report.summary.deleted,
                report.status_writes,
                report.finalizer_writes
            ),
            (0, 0, 0, 0),
            "nothing changed, so nothing is written"
        );
        report
    };
    let before_first = ALLOCATOR.allocated();
    let report = pass();
    println!(
        "resync: what the first pass keeps (the applier's memo of verified objects; the planner, plan and estate kept for passes over changes) holds {:.1} MiB",
        ALLOCATOR.allocated().saturating_sub(before_first) as f64 / (1 << 20) as f64
    );
    assert_eq!(
        report.summary.unchanged, held,
        "every rendered object is in the caches, unchanged"
    );
    assert_eq!(writes.load(Ordering::SeqCst), 0, "zero write calls");

    let mut group = c.benchmark_group("resync");
    group.sample_size(10);
    group.bench_function(format!("no_change_{}", snapshot.services.len()), |b| b.iter(pass));
    assert_eq!(writes.load(Ordering::SeqCst), 0, "zero write calls");

    // One new service at a time, each later than the last, in a department chosen
    // round-robin; the watch cache is the list of services the double holds.
    let cache: RefCell<HashMap<ServiceKey, DepartmentService>> =
        RefCell::new(snapshot.services.iter().map(|s| (key_of(s), s.clone())).collect());
    let namespaces: Vec<String> = plan(&snapshot, &Assignments::from_status(&snapshot))
        .departments
        .into_iter()
        .map(|d| d.namespace)
        .collect();
    let mut n = 0i64;
    let mut newcomer = || {
        n += 1;
        let ns = &namespaces[n as usize % namespaces.len()];
        let svc = created_at(
            workload(ns, &format!("newcomer-{n}"), 1, 1, "10m", "16Mi"),
            1_900_000_000 + n,
        );
        let made = rt
            .block_on(
                Api::<DepartmentService>::namespaced(client.clone(), ns).create(&PostParams::default(), &svc),
            )
            .expect("created");
        let key = key_of(&made);
        let touched = Touched {
            object: Some(ObjectId::new(Kind::DepartmentService, Some(ns), &key.name)),
            version: made.metadata.resource_version.clone(),
        };
        cache.borrow_mut().insert(key, made);
        Taken {
            touched: vec![touched],
            overflowed: false,
        }
    };
    let by_name = Indexed::of(&snapshot);
    let services = snapshot.services.len();
    let mut slowest = (std::time::Duration::ZERO, 0usize);
    group.bench_function(format!("one_new_service_{services}"), |b| {
        b.iter_batched(
            &mut newcomer,
            |taken| {
                let started = std::time::Instant::now();
                let cache = cache.borrow();
                let present = |k: &ServiceKey| {
                    cache.get(k).map(|s| Present {
                        created: s.metadata.creation_timestamp.clone(),
                        deleting: false,
                    })
                };
                let Needed::Changes { added, observed } = reconciler.needed(&taken, &present, snapshot.now)
                else {
                    panic!("a new service is passed over on its own");
                };
                let cached = Caches {
                    services: &cache,
                    estate: &by_name,
                };
                let (_, report) = rt
                    .block_on(reconciler.pass_changes(&added, &observed, &cached, &Time(snapshot.now)))
                    .expect("kept")
                    .expect("renders");
                assert!(report.status_writes >= 1, "its status is written");
                let took = started.elapsed();
                if took > slowest.0 {
                    slowest = (took, report.summary.applied + report.summary.unchanged);
                }
            },
            BatchSize::SmallInput,
        )
    });
    println!(
        "resync: slowest pass over one new service took {:.1} ms and compared {} objects",
        slowest.0.as_secs_f64() * 1e3,
        slowest.1
    );

    // The same change taken by a full pass: the services as the double holds them.
    group.bench_function(format!("full_pass_with_one_new_service_{services}"), |b| {
        b.iter_batched(
            || {
                newcomer();
                let mut s = estate_without_services(&snapshot);
                s.services = cache.borrow().values().cloned().collect();
                s
            },
            |s| {
                let (_, report) = rt
                    .block_on(reconciler.pass(&s, &Time(snapshot.now)))
                    .expect("renders");
                assert!(
                    report.summary.applied >= 1,
                    "the new service's objects are applied"
                );
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// The snapshot's estate without its services (cheap to clone: pools, departments,
/// offerings, policies and nodes), as the caches give a pass over changes.
fn estate_without_services(s: &Snapshot) -> Snapshot {
    Snapshot {
        pools: s.pools.clone(),
        departments: s.departments.clone(),
        offerings: s.offerings.clone(),
        policies: s.policies.clone(),
        nodes: s.nodes.clone(),
        services: Vec::new(),
        settings: s.settings.clone(),
        now: s.now,
        rolling: Default::default(),
    }
}

/// The cluster-scoped objects by name, as the reflectors' stores hold them.
struct Indexed {
    pools: HashMap<String, ResourcePool>,
    departments: HashMap<String, Department>,
    offerings: HashMap<String, ServiceOffering>,
    policies: HashMap<String, PlatformPolicy>,
}

impl Indexed {
    fn of(s: &Snapshot) -> Self {
        fn index<K: kube::Resource + Clone>(objects: &[K]) -> HashMap<String, K> {
            objects
                .iter()
                .map(|o| (o.meta().name.clone().unwrap_or_default(), o.clone()))
                .collect()
        }
        Self {
            pools: index(&s.pools),
            departments: index(&s.departments),
            offerings: index(&s.offerings),
            policies: index(&s.policies),
        }
    }
}

/// The watch caches a pass over changes reads from: the services the double holds.
struct Caches<'a> {
    services: &'a HashMap<ServiceKey, DepartmentService>,
    estate: &'a Indexed,
}

impl Cached for Caches<'_> {
    fn service(&self, key: &ServiceKey) -> Option<DepartmentService> {
        self.services.get(key).cloned()
    }
    fn pool(&self, name: &str) -> Option<ResourcePool> {
        self.estate.pools.get(name).cloned()
    }
    fn department(&self, name: &str) -> Option<Department> {
        self.estate.departments.get(name).cloned()
    }
    fn offering(&self, name: &str) -> Option<ServiceOffering> {
        self.estate.offerings.get(name).cloned()
    }
    fn policy(&self, name: &str) -> Option<PlatformPolicy> {
        self.estate.policies.get(name).cloned()
    }
}

fn key_of(s: &DepartmentService) -> ServiceKey {
    ServiceKey {
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone().unwrap_or_default(),
    }
}

criterion_group!(resync_benches, benches);

fn main() {
    resync_benches();
    Criterion::default().configure_from_args().final_summary();
}
