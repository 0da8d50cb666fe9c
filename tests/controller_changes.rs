//! Passes over changes, against the in-process API double: a new service (or tenant)
//! is planned, applied and given its status without the rest of the estate being
//! looked at; a managed object the cluster changed is reverted, or its owner's status
//! follows its readiness, likewise; the echoes of govcloud's writes need no pass; and
//! a full pass right after finds nothing left to do, which is what makes it exact.

use crate::support;

use std::collections::BTreeMap;

use govcloud::api::DepartmentService;
use govcloud::controller::{
    ApplyError, Cached, EstateReconciler, Live, ManagedCaches, Needed, Present, Taken, Touched, Why,
    managed_kinds, managed_selector,
};
use govcloud::object::{Kind, ObjectId};
use govcloud::plan::{Assignments, ServiceKey, Snapshot, plan};
use govcloud::render::render;
use govcloud::synthetic::{created_at, tenant, workload};
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::{Client, ResourceExt};
use support::fake_cluster::{now, services_double, settle, settled_estate, snapshot};

/// The samples, every service created at its own second (as a cluster stamps them).
fn estate() -> Snapshot {
    let mut s = settled_estate(&support::repo_root().join("config/samples"));
    s.services = std::mem::take(&mut s.services)
        .into_iter()
        .enumerate()
        .map(|(i, svc)| created_at(svc, 1_800_000_000 + i as i64))
        .collect();
    settle(&mut s);
    s
}

/// What the watches would hold now: the managed objects the double holds, and the
/// rendered Namespaces, which kube-fake-client 0.3 cannot list.
async fn caches(client: &Client, s: &Snapshot) -> ManagedCaches {
    let rendered = render(s, &plan(s, &Assignments::from_status(s))).unwrap();
    let mut lists = Vec::new();
    for kind in managed_kinds() {
        let objects: Vec<DynamicObject> = if kind.resource.kind == "Namespace" {
            rendered
                .iter()
                .filter(|m| m.kind() == "Namespace")
                .map(|m| serde_json::from_value(m.to_json()).unwrap())
                .collect()
        } else {
            Api::all_with(client.clone(), &kind.resource)
                .list(&ListParams::default().labels(&managed_selector()))
                .await
                .unwrap()
                .items
        };
        lists.push((kind.resource, objects));
    }
    ManagedCaches::from_lists(lists)
}

/// A converged estate, and a reconciler reading watch caches whose full pass found
/// nothing to do (it keeps its planner for the changes that follow).
async fn converged() -> (Client, Snapshot, EstateReconciler) {
    let estate = estate();
    let client = services_double(&estate).await;
    let (_, first) = EstateReconciler::new(client.clone(), None)
        .pass(&snapshot(&client, &estate).await, &now())
        .await
        .unwrap();
    assert!(first.summary.applied > 100, "{:?}", first.summary);
    let s = snapshot(&client, &estate).await;
    let r = EstateReconciler::new(client.clone(), None).with_live(Live::Cached(caches(&client, &s).await));
    let (_, resync) = r.pass(&s, &now()).await.unwrap();
    assert_eq!(
        (resync.summary.applied, resync.status_writes),
        (0, 0),
        "converged"
    );
    (client, estate, r)
}

/// The services as the double holds them now, by key.
async fn services(client: &Client) -> BTreeMap<ServiceKey, DepartmentService> {
    Api::<DepartmentService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| {
            let key = ServiceKey {
                namespace: s.namespace().unwrap_or_default(),
                name: s.name_any(),
            };
            (key, s)
        })
        .collect()
}

fn touched(kind: Kind, ns: &str, name: &str, version: Option<String>) -> Touched {
    Touched {
        object: Some(ObjectId::new(kind, Some(ns), name)),
        version,
    }
}

/// Creates `svc` in the double; returns what the watch would report.
async fn create(client: &Client, svc: DepartmentService) -> (ServiceKey, Touched) {
    let ns = svc.namespace().unwrap();
    let made = Api::<DepartmentService>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &svc)
        .await
        .unwrap();
    let key = ServiceKey {
        namespace: ns.clone(),
        name: made.name_any(),
    };
    let t = touched(
        Kind::DepartmentService,
        &ns,
        &key.name,
        made.metadata.resource_version.clone(),
    );
    (key, t)
}

/// Failures other than the double's: it keeps no cluster-scoped objects, so the
/// department's and pool's status writes (which a real API server takes) fail there.
fn real_errors(errors: &[ApplyError]) -> Vec<&ApplyError> {
    errors
        .iter()
        .filter(|e| {
            !matches!(
                e.object.kind(),
                Kind::Department | Kind::ResourcePool | Kind::ServiceOffering | Kind::PlatformPolicy
            )
        })
        .collect()
}

/// What the watch caches hold: the double's services, and the cluster-scoped objects
/// (which the double cannot hold) as the test keeps them.
struct Caches<'a> {
    services: BTreeMap<ServiceKey, DepartmentService>,
    estate: &'a Snapshot,
}

fn by_name<K: kube::Resource + Clone>(objects: &[K], name: &str) -> Option<K> {
    objects
        .iter()
        .find(|o| o.meta().name.as_deref() == Some(name))
        .cloned()
}

impl Cached for Caches<'_> {
    fn service(&self, key: &ServiceKey) -> Option<DepartmentService> {
        self.services.get(key).cloned()
    }
    fn pool(&self, name: &str) -> Option<govcloud::api::ResourcePool> {
        by_name(&self.estate.pools, name)
    }
    fn department(&self, name: &str) -> Option<govcloud::api::Department> {
        by_name(&self.estate.departments, name)
    }
    fn offering(&self, name: &str) -> Option<govcloud::api::ServiceOffering> {
        by_name(&self.estate.offerings, name)
    }
    fn policy(&self, name: &str) -> Option<govcloud::api::PlatformPolicy> {
        by_name(&self.estate.policies, name)
    }
}

/// Sorts `touched` and, for new services, makes the pass over them.
async fn pass_over(
    client: &Client,
    estate: &Snapshot,
    r: &EstateReconciler,
    touched: Vec<Touched>,
) -> (Needed, Option<govcloud::controller::PassReport>) {
    // The estate's own moment: the planner kept from the full pass decided at it, and a
    // pass at another moment shows every window as it is then.
    let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(estate.now);
    let held = services(client).await;
    let present = |k: &ServiceKey| {
        held.get(k).map(|s| Present {
            created: s.metadata.creation_timestamp.clone(),
            deleting: s.metadata.deletion_timestamp.is_some(),
        })
    };
    let taken = Taken {
        touched,
        overflowed: false,
    };
    let needed = r.needed(&taken, &present, now.0);
    let Needed::Changes { added, observed } = &needed else {
        return (needed, None);
    };
    let cached = Caches {
        services: held,
        estate,
    };
    let (_, report) = r
        .pass_changes(added, observed, &cached, &now)
        .await
        .expect("a full pass left a plan")
        .expect("renders");
    (needed, Some(report))
}

/// A full pass over the estate as the double holds it now, with fresh caches.
async fn full_pass_after(client: &Client, estate: &Snapshot) -> govcloud::controller::PassReport {
    let s = snapshot(client, estate).await;
    let r = EstateReconciler::new(client.clone(), None).with_live(Live::Cached(caches(client, &s).await));
    let (_, report) = r.pass(&s, &now()).await.unwrap();
    report
}

#[tokio::test]
async fn a_new_service_is_applied_and_given_its_status_without_a_full_pass() {
    let (client, estate, r) = converged().await;
    let newcomer = created_at(
        workload("dept-civil-affairs", "permit-desk", 2, 2, "250m", "512Mi"),
        1_900_000_000,
    );
    let (key, t) = create(&client, newcomer).await;
    let (needed, report) = pass_over(&client, &estate, &r, vec![t]).await;
    assert_eq!(
        needed,
        Needed::Changes {
            added: vec![key.clone()],
            observed: vec![]
        }
    );
    let report = report.unwrap();
    assert!(real_errors(&report.errors).is_empty(), "{:#?}", report.errors);
    // Its Deployment, Service and disruption budget, and its namespace's guard rails
    // compared: not the estate's hundreds of objects.
    assert!(report.summary.applied >= 3, "{:?}", report.summary);
    assert!(
        report.summary.applied + report.summary.unchanged < 40,
        "{:?}",
        report.summary
    );
    let deployments: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "dept-civil-affairs",
        &Kind::Deployment.api_resource(),
    );
    let deployment = deployments.get("permit-desk").await.expect("applied");
    let status = services(&client).await[&key]
        .status
        .clone()
        .expect("status written");
    assert_eq!(status.phase, Some(govcloud::api::Phase::Placed));
    let pool = status.pool.clone().expect("placed on a pool");
    assert_eq!(
        deployment.labels().get(govcloud::api::labels::POOL),
        Some(&pool),
        "its Deployment runs on the pool its status names"
    );

    // Exact: a full pass over the same estate has nothing left to write.
    let full = full_pass_after(&client, &estate).await;
    assert!(full.errors.is_empty(), "{:#?}", full.errors);
    assert_eq!(
        (full.summary.applied, full.summary.deleted, full.status_writes),
        (0, 0, 0),
        "a full pass after the pass over the new service"
    );
}

#[tokio::test]
async fn the_echoes_of_its_own_writes_need_no_pass_and_an_edit_takes_a_full_one() {
    let (client, estate, r) = converged().await;
    let (key, t) = create(
        &client,
        created_at(
            workload("dept-education", "library-loans", 2, 1, "100m", "256Mi"),
            1_900_000_000,
        ),
    )
    .await;
    pass_over(&client, &estate, &r, vec![t]).await;
    // The watches report the status written and the objects applied: echoes.
    let version = services(&client).await[&key].metadata.resource_version.clone();
    let deployment = Api::<DynamicObject>::namespaced_with(
        client.clone(),
        &key.namespace,
        &Kind::Deployment.api_resource(),
    )
    .get(&key.name)
    .await
    .unwrap();
    let echoes = vec![
        touched(
            Kind::DepartmentService,
            &key.namespace,
            &key.name,
            version.clone(),
        ),
        touched(
            Kind::Deployment,
            &key.namespace,
            &key.name,
            deployment.metadata.resource_version.clone(),
        ),
    ];
    assert_eq!(pass_over(&client, &estate, &r, echoes).await.0, Needed::Nothing);
    // The department edits the service it just made: a full pass.
    let edited = touched(
        Kind::DepartmentService,
        &key.namespace,
        &key.name,
        Some("edited".into()),
    );
    assert_eq!(
        pass_over(&client, &estate, &r, vec![edited]).await.0,
        Needed::Full(
            Why::Changed,
            Some(ObjectId::new(
                Kind::DepartmentService,
                Some(&key.namespace),
                &key.name
            ))
        )
    );
}

#[tokio::test]
async fn a_new_tenant_joins_its_instance_and_a_full_pass_after_it_writes_nothing() {
    let (client, estate, r) = converged().await;
    let (key, t) = create(
        &client,
        created_at(
            tenant("dept-civil-affairs", "permits-db", 2, "shared-postgresql"),
            1_900_000_000,
        ),
    )
    .await;
    let (needed, report) = pass_over(&client, &estate, &r, vec![t]).await;
    assert_eq!(
        needed,
        Needed::Changes {
            added: vec![key.clone()],
            observed: vec![]
        }
    );
    let report = report.unwrap();
    assert!(real_errors(&report.errors).is_empty(), "{:#?}", report.errors);
    let status = services(&client).await[&key]
        .status
        .clone()
        .expect("status written");
    let instance = status.shared_instance.clone().expect("seated");
    let binding = Api::<DynamicObject>::namespaced_with(
        client.clone(),
        &key.namespace,
        &Kind::ConfigMap.api_resource(),
    )
    .get("permits-db-binding")
    .await
    .expect("its binding applied");
    assert_eq!(binding.data["data"]["instance"], serde_json::json!(instance));

    let full = full_pass_after(&client, &estate).await;
    assert!(full.errors.is_empty(), "{:#?}", full.errors);
    assert_eq!(
        (full.summary.applied, full.summary.deleted, full.status_writes),
        (0, 0, 0),
        "a full pass after the pass over the new tenant"
    );
}

#[tokio::test]
async fn a_new_service_created_before_the_last_one_planned_takes_a_full_pass() {
    let (client, estate, r) = converged().await;
    // Stamped before the samples' last service: a full re-plan decides it earlier.
    let (key, t) = create(
        &client,
        created_at(
            workload("dept-transport", "early-bird", 2, 1, "100m", "256Mi"),
            1_800_000_001,
        ),
    )
    .await;
    assert_eq!(
        pass_over(&client, &estate, &r, vec![t]).await.0,
        Needed::Full(
            Why::OutOfOrder,
            Some(ObjectId::new(
                Kind::DepartmentService,
                Some(&key.namespace),
                &key.name
            ))
        )
    );
}

/// Watch caches whose stores the test keeps writing to, as the watches would.
struct LiveCaches {
    caches: ManagedCaches,
    writers: BTreeMap<String, kube::runtime::reflector::store::Writer<govcloud::controller::CachedObject>>,
}

impl LiveCaches {
    async fn of(client: &Client, s: &Snapshot) -> Self {
        use kube::runtime::watcher::Event;
        let rendered = render(s, &plan(s, &Assignments::from_status(s))).unwrap();
        let mut writers = BTreeMap::new();
        let mut stores = Vec::new();
        for kind in managed_kinds() {
            let objects: Vec<DynamicObject> = if kind.resource.kind == "Namespace" {
                rendered
                    .iter()
                    .filter(|m| m.kind() == "Namespace")
                    .map(|m| serde_json::from_value(m.to_json()).unwrap())
                    .collect()
            } else {
                Api::all_with(client.clone(), &kind.resource)
                    .list(&ListParams::default().labels(&managed_selector()))
                    .await
                    .unwrap()
                    .items
            };
            let mut writer = kube::runtime::reflector::store::Writer::new(kind.resource.clone());
            writer.apply_watcher_event(&Event::Init);
            for o in objects {
                writer.apply_watcher_event(&Event::InitApply(
                    govcloud::controller::CachedObject::from_dynamic(o),
                ));
            }
            writer.apply_watcher_event(&Event::InitDone);
            stores.push((kind.resource.clone(), writer.as_reader()));
            writers.insert(kind.resource.kind.clone(), writer);
        }
        Self {
            caches: ManagedCaches::new(stores),
            writers,
        }
    }

    /// What the watch delivers when the cluster changes `o`: the cache updated, and the
    /// change logged.
    fn changed(&mut self, kind: Kind, o: DynamicObject) -> Touched {
        let t = touched(
            kind,
            o.metadata.namespace.as_deref().unwrap_or_default(),
            &o.name_any(),
            o.metadata.resource_version.clone(),
        );
        let writer = self.writers.get_mut(kind.as_str()).expect("a managed kind");
        writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(
            govcloud::controller::CachedObject::from_dynamic(o),
        ));
        t
    }
}

/// A converged estate and a reconciler over caches the test writes to, its full pass
/// done (it found nothing to do).
async fn converged_live() -> (Client, Snapshot, EstateReconciler, LiveCaches) {
    let (client, estate, _) = converged().await;
    let s = snapshot(&client, &estate).await;
    let live = LiveCaches::of(&client, &s).await;
    let r = EstateReconciler::new(client.clone(), None).with_live(Live::Cached(live.caches.clone()));
    let (_, resync) = r.pass(&s, &now()).await.unwrap();
    assert_eq!(
        (resync.summary.applied, resync.status_writes),
        (0, 0),
        "converged"
    );
    (client, estate, r, live)
}

async fn deployment(client: &Client, ns: &str, name: &str) -> DynamicObject {
    Api::<DynamicObject>::namespaced_with(client.clone(), ns, &Kind::Deployment.api_resource())
        .get(name)
        .await
        .unwrap()
}

/// `d` as the Deployment controller reports it once every replica is up, at `version`.
fn rolled_out(mut d: DynamicObject, version: &str) -> DynamicObject {
    let replicas = d.data["spec"]["replicas"].clone();
    d.data["status"] = serde_json::json!({
        "observedGeneration": d.metadata.generation,
        "replicas": replicas, "updatedReplicas": replicas,
        "readyReplicas": replicas, "availableReplicas": replicas,
    });
    d.metadata.resource_version = Some(version.into());
    d
}

#[tokio::test]
async fn a_deployment_coming_up_ready_is_passed_over_with_its_namespace_and_its_service_reads_ready() {
    let (client, estate, r, mut live) = converged_live().await;
    let (ns, name) = ("dept-education", "e-learning-portal");
    let d = rolled_out(deployment(&client, ns, name).await, "ready-by-the-cluster");
    let t = live.changed(Kind::Deployment, d);
    let id = t.object.clone().unwrap();
    let (needed, report) = pass_over(&client, &estate, &r, vec![t]).await;
    assert_eq!(
        needed,
        Needed::Changes {
            added: vec![],
            observed: vec![id]
        }
    );
    let report = report.unwrap();
    assert!(real_errors(&report.errors).is_empty(), "{:#?}", report.errors);
    assert_eq!(
        report.summary.applied, 0,
        "readiness is no drift: {:?}",
        report.summary
    );
    assert!(report.summary.unchanged < 40, "{:?}", report.summary);
    assert_eq!(report.status_writes, 1, "the service's status, and nothing else");
    let key = ServiceKey {
        namespace: ns.into(),
        name: name.into(),
    };
    let status = services(&client).await[&key].status.clone().unwrap();
    assert_eq!(status.phase, Some(govcloud::api::Phase::Ready));
}

#[tokio::test]
async fn a_deployment_edited_by_hand_is_reverted_by_a_pass_over_its_namespace() {
    let (client, estate, r, mut live) = converged_live().await;
    let (ns, name) = ("dept-health", "hospital-appointments");
    let mut d = deployment(&client, ns, name).await;
    d.data["spec"]["replicas"] = serde_json::json!(9);
    d.metadata.resource_version = Some("scaled-by-hand".into());
    let t = live.changed(Kind::Deployment, d);
    let (needed, report) = pass_over(&client, &estate, &r, vec![t]).await;
    assert!(
        matches!(needed, Needed::Changes { ref added, .. } if added.is_empty()),
        "{needed:?}"
    );
    let report = report.unwrap();
    assert!(real_errors(&report.errors).is_empty(), "{:#?}", report.errors);
    assert_eq!(
        report.summary.applied, 1,
        "the Deployment, reverted: {:?}",
        report.summary
    );
    assert!(report.summary.unchanged < 40, "{:?}", report.summary);
    assert_eq!(report.status_writes, 0);
}

#[tokio::test]
async fn a_moving_services_deployment_rolled_out_between_passes_takes_a_full_pass() {
    let (client, estate, r, mut live) = converged_live().await;
    let (ns, name) = ("dept-education", "e-learning-portal");
    let key = ServiceKey {
        namespace: ns.into(),
        name: name.into(),
    };
    let from = services(&client).await[&key]
        .status
        .clone()
        .unwrap()
        .pool
        .unwrap();
    // The platform team cordons the service's pool and the department sends it at once.
    let mut s = snapshot(&client, &estate).await;
    for p in s.pools.iter_mut().filter(|p| p.name_any() == from) {
        p.spec.cordoned = true;
    }
    for svc in s.services.iter_mut().filter(|svc| ServiceKey::of(svc) == key) {
        svc.annotations_mut()
            .insert(govcloud::api::APPLY_NOW.into(), "test".into());
    }
    let (_, moved) = r.pass(&s, &now()).await.unwrap();
    assert!(moved.summary.applied >= 1, "{:?}", moved.summary);
    let status = services(&client).await[&key].status.clone().unwrap();
    assert_eq!(status.moved_from.as_deref(), Some(from.as_str()), "{status:?}");

    // Its rollout starts and ends before the next pass: no rollout is in progress
    // before or after, yet the move's end is what frees the source pool's move slot.
    let d = rolled_out(deployment(&client, ns, name).await, "rolled-out-on-the-new-pool");
    let t = live.changed(Kind::Deployment, d);
    let id = t.object.clone().unwrap();
    let (needed, _) = pass_over(&client, &estate, &r, vec![t]).await;
    assert_eq!(needed, Needed::Full(Why::Changed, Some(id)));
}
