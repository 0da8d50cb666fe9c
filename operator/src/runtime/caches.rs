//! Watch caches of everything the planner reads and of every object govcloud manages,
//! and a wake-up signal whenever any of them changes (a managed object edited by hand is
//! drift to revert; a Deployment's readiness changes a service's status).

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;

use crate::api::{Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};
use crate::controller::{
    Cached, CachedObject, ManagedCaches, Touched, TouchedLog, managed_kinds, managed_selector,
};
use crate::object::{Kind, ObjectId};
use crate::plan::{ServiceKey, Settings, Snapshot};

/// Read handles of the caches.
#[derive(Clone)]
pub struct Caches {
    pools: Store<ResourcePool>,
    departments: Store<Department>,
    services: Store<DepartmentService>,
    offerings: Store<ServiceOffering>,
    policies: Store<PlatformPolicy>,
    nodes: Store<Node>,
    managed: ManagedCaches,
}

impl Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").finish_non_exhaustive()
    }
}

/// Where the watches report: a wake-up, and the objects they saw change.
#[derive(Clone)]
pub struct Changes {
    pub notify: Arc<Notify>,
    pub log: Arc<TouchedLog>,
}

/// What a watch event of `K` touched: a govcloud kind's object by id, anything else
/// (a Node) as a change the planner reads without one.
fn touched<K: Resource<DynamicType = ()>>(o: &K) -> Touched {
    let meta = o.meta();
    Touched {
        object: Kind::parse(&K::kind(&())).map(|kind| {
            ObjectId::new(
                kind,
                meta.namespace.as_deref(),
                meta.name.as_deref().unwrap_or_default(),
            )
        }),
        version: meta.resource_version.clone(),
    }
}

/// Starts a reflector for `K` that notifies `changed` on every event, and returns its store.
fn watch<K>(client: &Client, changed: Changes) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    watch_trimmed(client, changed, |_| {}, None)
}

/// [`watch`], with `trim` dropping what the planner never reads before caching, and
/// `relevant` (when given) digesting what it does read: a change that leaves the digest
/// as it was (a Node's heartbeat, say) wakes no pass.
fn watch_trimmed<K>(
    client: &Client,
    changed: Changes,
    trim: fn(&mut K),
    relevant: Option<fn(&K) -> u64>,
) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    let (reader, writer) = reflector::store();
    let api: Api<K> = Api::all(client.clone());
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        // managedFields are large and never read: keep them out of memory.
        .modify(move |o| {
            o.meta_mut().managed_fields = None;
            trim(o);
        })
        .reflect(writer)
        .touched_objects();
    match relevant {
        None => drive(K::kind(&()).to_string(), stream, changed, touched::<K>),
        Some(digest) => {
            let store = reader.clone();
            let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
            let stream = stream.try_filter(move |o| {
                let key = format!("{}/{}", o.meta().namespace.as_deref().unwrap_or(""), o.name_any());
                let now = store
                    .get(&kube::runtime::reflector::ObjectRef::from_obj(o))
                    .map(|cached| digest(&cached));
                let news = match now {
                    Some(d) => seen.insert(key, d) != Some(d),
                    None => seen.remove(&key).is_some(),
                };
                futures::future::ready(news)
            });
            drive(K::kind(&()).to_string(), stream, changed, touched::<K>);
        }
    }
    reader
}

/// What the planner reads of a Node: its name, labels, allocatable and whether it is
/// being deleted.
fn node_digest(n: &Node) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let mut h = DefaultHasher::new();
    n.metadata.name.hash(&mut h);
    n.metadata.labels.hash(&mut h);
    n.metadata.deletion_timestamp.is_some().hash(&mut h);
    if let Some(allocatable) = n.status.as_ref().and_then(|s| s.allocatable.as_ref()) {
        for (k, v) in allocatable {
            k.hash(&mut h);
            v.0.hash(&mut h);
        }
    }
    h.finish()
}

/// Drains a reflector stream, logging what each change touched and notifying.
fn drive<S, T>(kind: String, stream: S, changed: Changes, describe: impl Fn(&T) -> Touched + Send + 'static)
where
    S: futures::Stream<Item = Result<T, watcher::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            match stream.try_next().await {
                Ok(Some(o)) => {
                    changed.log.record(describe(&o));
                    changed.notify.notify_one();
                }
                Ok(None) => break,
                Err(e) => tracing::warn!(%kind, error = %e, "watch failed; retrying with backoff"),
            }
        }
    });
}

/// Label-selected watch caches of every kind the renderer writes.
fn watch_managed(client: &Client, changed: &Changes) -> ManagedCaches {
    let config = watcher::Config::default().labels(&managed_selector());
    ManagedCaches::new(managed_kinds().into_iter().map(|kind| {
        let writer = reflector::store::Writer::new(kind.resource.clone());
        let reader = writer.as_reader();
        // Decoded straight into the compact form (managedFields and status dropped).
        let api: Api<CachedObject> = Api::all_with(client.clone(), &kind.resource);
        let stream = watcher(api, config.clone())
            .default_backoff()
            .reflect(writer)
            .touched_objects();
        let of_kind = Kind::parse(&kind.resource.kind);
        let describe = move |o: &CachedObject| Touched {
            object: of_kind.map(|k| ObjectId::new(k, o.metadata.namespace.as_deref(), &o.name_any())),
            version: o.metadata.resource_version.clone(),
        };
        drive(kind.resource.kind.clone(), stream, changed.clone(), describe);
        (kind.resource, reader)
    }))
}

impl Caches {
    /// Starts watching every kind; `changed` is notified on every change.
    pub fn start(client: &Client, changed: Changes) -> Self {
        Self {
            pools: watch(client, changed.clone()),
            departments: watch(client, changed.clone()),
            services: watch(client, changed.clone()),
            offerings: watch(client, changed.clone()),
            policies: watch(client, changed.clone()),
            // The planner reads a Node's labels and allocatable; its image list and
            // conditions are most of its size.
            nodes: watch_trimmed(
                client,
                changed.clone(),
                |n: &mut Node| {
                    if let Some(status) = n.status.as_mut() {
                        status.images = None;
                        status.conditions = None;
                    }
                },
                Some(node_digest),
            ),
            managed: watch_managed(client, &changed),
        }
    }

    /// The caches of managed objects, for the applier.
    pub fn managed(&self) -> ManagedCaches {
        self.managed.clone()
    }

    /// Resolves once every cache has completed its first list.
    pub async fn ready(&self) -> Result<(), reflector::store::WriterDropped> {
        self.pools.wait_until_ready().await?;
        self.departments.wait_until_ready().await?;
        self.services.wait_until_ready().await?;
        self.offerings.wait_until_ready().await?;
        self.policies.wait_until_ready().await?;
        self.nodes.wait_until_ready().await?;
        self.managed.ready().await
    }

    /// The estate as the caches hold it now, at `now` (the moment its maintenance
    /// windows are evaluated at).
    pub fn snapshot(&self, settings: Settings, now: jiff::Timestamp) -> Snapshot {
        fn all<K: Resource + Clone>(store: &Store<K>) -> Vec<K>
        where
            K::DynamicType: Eq + Hash + Clone,
        {
            store.state().iter().map(|o| o.as_ref().clone()).collect()
        }
        Snapshot {
            pools: all(&self.pools),
            departments: all(&self.departments),
            services: all(&self.services),
            offerings: all(&self.offerings),
            policies: all(&self.policies),
            nodes: all(&self.nodes),
            settings,
            now,
            rolling: self.managed.rolling(),
        }
    }

    /// A DepartmentService as the cache holds it now.
    pub fn service(&self, key: &ServiceKey) -> Option<DepartmentService> {
        let at = reflector::ObjectRef::new(&key.name).within(&key.namespace);
        self.services.get(&at).map(|s| s.as_ref().clone())
    }
}

/// A cluster-scoped object by name.
fn named<K>(store: &Store<K>, name: &str) -> Option<K>
where
    K: Resource<DynamicType = ()> + Clone,
{
    store
        .get(&reflector::ObjectRef::new(name))
        .map(|o| o.as_ref().clone())
}

impl Cached for Caches {
    fn service(&self, key: &ServiceKey) -> Option<DepartmentService> {
        Caches::service(self, key)
    }
    fn pool(&self, name: &str) -> Option<ResourcePool> {
        named(&self.pools, name)
    }
    fn department(&self, name: &str) -> Option<Department> {
        named(&self.departments, name)
    }
    fn offering(&self, name: &str) -> Option<ServiceOffering> {
        named(&self.offerings, name)
    }
    fn policy(&self, name: &str) -> Option<PlatformPolicy> {
        named(&self.policies, name)
    }
}
