//! Watch caches of everything the planner reads, and a wake-up signal whenever any of
//! them changes.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;

use crate::api::{Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};
use crate::plan::{Settings, Snapshot};

/// Read handles of the caches.
#[derive(Clone)]
pub struct Caches {
    pools: Store<ResourcePool>,
    departments: Store<Department>,
    services: Store<DepartmentService>,
    offerings: Store<ServiceOffering>,
    policies: Store<PlatformPolicy>,
    nodes: Store<Node>,
}

impl Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").finish_non_exhaustive()
    }
}

/// Starts a reflector for `K` that notifies `changed` on every event, and returns its store.
fn watch<K>(client: &Client, changed: Arc<Notify>) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    let (reader, writer) = reflector::store();
    let api: Api<K> = Api::all(client.clone());
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        // managedFields are large and never read: keep them out of memory.
        .modify(|o| o.meta_mut().managed_fields = None)
        .reflect(writer)
        .touched_objects();
    tokio::spawn(async move {
        let mut stream = std::pin::pin!(stream);
        loop {
            match stream.try_next().await {
                Ok(Some(_)) => changed.notify_one(),
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(kind = %K::kind(&()), error = %e, "watch failed; retrying with backoff")
                }
            }
        }
    });
    reader
}

impl Caches {
    /// Starts watching every kind; `changed` is notified on every change.
    pub fn start(client: &Client, changed: Arc<Notify>) -> Self {
        Self {
            pools: watch(client, changed.clone()),
            departments: watch(client, changed.clone()),
            services: watch(client, changed.clone()),
            offerings: watch(client, changed.clone()),
            policies: watch(client, changed.clone()),
            nodes: watch(client, changed),
        }
    }

    /// Resolves once every cache has completed its first list.
    pub async fn ready(&self) -> Result<(), reflector::store::WriterDropped> {
        self.pools.wait_until_ready().await?;
        self.departments.wait_until_ready().await?;
        self.services.wait_until_ready().await?;
        self.offerings.wait_until_ready().await?;
        self.policies.wait_until_ready().await?;
        self.nodes.wait_until_ready().await
    }

    /// The estate as the caches hold it now.
    pub fn snapshot(&self, settings: Settings) -> Snapshot {
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
        }
    }
}
