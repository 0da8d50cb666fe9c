//! Where the applier reads live objects: the operator's watch caches of what it
//! manages, or — for one-shot use and API doubles without watch — the API server.
//!
//! With caches, a pass over an unchanged estate costs no API call at all: every object
//! is compared with its cached copy, the sweep lists the caches, and readiness comes from
//! the cached Deployments.
//!
//! Ten thousand services make some forty thousand managed objects, so the cache keeps
//! each in a compact form ([`CachedObject`]): typed metadata and the rest as JSON text,
//! without status, managedFields or kubectl's last-applied copy. As parsed JSON trees
//! they took about 7 KiB each.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::api::{ApiResource, DynamicObject};
use kube::core::DynamicResourceScope;
use kube::runtime::reflector::{ObjectRef, Store};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::drift::covers;

/// An annotation `kubectl apply` writes: a full copy of the object, never read here.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A managed object as the caches keep it.
#[derive(Clone, Debug)]
pub struct CachedObject {
    pub metadata: ObjectMeta,
    /// Every top-level field but `apiVersion`, `kind`, `metadata` and `status`, as JSON.
    body: Box<str>,
    /// `spec.replicas` and `status.readyReplicas` of an object that reports a status
    /// with replicas (a Deployment): its readiness.
    pub replicas: Option<(i32, i32)>,
    /// For an object that reports a status: whether its latest spec is rolled out, as
    /// `kubectl rollout status` judges a Deployment (observed, every replica updated
    /// and available, no old one left). A move is in progress until it is.
    pub rolled_out: Option<bool>,
}

impl CachedObject {
    pub fn from_dynamic(mut o: DynamicObject) -> Self {
        o.metadata.managed_fields = None;
        if let Some(a) = o.metadata.annotations.as_mut() {
            a.remove(LAST_APPLIED);
        }
        let number = |v: Option<&Value>| v.and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok());
        let mut rest = match o.data {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        let status = rest.remove("status");
        let replicas = status.as_ref().map(|st| {
            (
                number(rest.get("spec").and_then(|s| s.get("replicas"))).unwrap_or(1),
                number(st.get("readyReplicas")).unwrap_or(0),
            )
        });
        let rolled_out = status.as_ref().map(|st| {
            let desired = number(rest.get("spec").and_then(|s| s.get("replicas"))).unwrap_or(1);
            let field = |name: &str| number(st.get(name)).unwrap_or(0);
            let observed = st
                .get("observedGeneration")
                .and_then(Value::as_i64)
                .is_some_and(|g| Some(g) >= o.metadata.generation);
            observed
                && field("updatedReplicas") >= desired
                && field("availableReplicas") >= desired
                && field("replicas") <= field("updatedReplicas")
        });
        rest.remove("apiVersion");
        rest.remove("kind");
        Self {
            metadata: o.metadata,
            body: Value::Object(rest).to_string().into_boxed_str(),
            replicas,
            rolled_out,
        }
    }

    /// A Deployment's live pod template and the service generation it was rendered
    /// from, for holding template changes until maintenance.
    pub fn live_template(&self) -> Option<super::LiveTemplate> {
        let body: Value = serde_json::from_str(&self.body).ok()?;
        let template = body.get("spec")?.get("template")?.clone();
        let service_generation = self
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(crate::api::SERVICE_GENERATION))
            .cloned();
        Some(super::LiveTemplate {
            template,
            service_generation,
        })
    }

    /// Whether this object holds every field of `desired` (see [`covers`]).
    pub fn covers(&self, desired: &Value) -> bool {
        let Value::Object(desired) = desired else {
            return false;
        };
        let body: Value = serde_json::from_str(&self.body).expect("the cache stores valid JSON");
        desired.iter().all(|(key, want)| match key.as_str() {
            "apiVersion" | "kind" => true,
            "metadata" => covers(
                &serde_json::to_value(&self.metadata).expect("metadata serialises"),
                want,
            ),
            _ => covers(body.get(key).unwrap_or(&Value::Null), want),
        })
    }
}

impl<'de> Deserialize<'de> for CachedObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        DynamicObject::deserialize(d).map(Self::from_dynamic)
    }
}

impl Resource for CachedObject {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn group(dt: &ApiResource) -> Cow<'_, str> {
        dt.group.as_str().into()
    }

    fn version(dt: &ApiResource) -> Cow<'_, str> {
        dt.version.as_str().into()
    }

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        dt.kind.as_str().into()
    }

    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        dt.api_version.as_str().into()
    }

    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        dt.plural.as_str().into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Read handles of one watch cache per managed kind, each label-selected to what
/// govcloud manages.
#[derive(Clone, Default)]
pub struct ManagedCaches {
    stores: HashMap<String, (ApiResource, Store<CachedObject>)>,
}

impl std::fmt::Debug for ManagedCaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedCaches")
            .field("kinds", &self.stores.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ManagedCaches {
    /// Caches keyed by kind; every managed kind must have one.
    pub fn new(stores: impl IntoIterator<Item = (ApiResource, Store<CachedObject>)>) -> Self {
        Self {
            stores: stores
                .into_iter()
                .map(|(r, s)| (r.kind.clone(), (r, s)))
                .collect(),
        }
    }

    /// Caches holding `lists` as each watch's first list would leave them: for
    /// benchmarks and tests, which have no watch to fill them.
    pub fn from_lists(lists: impl IntoIterator<Item = (ApiResource, Vec<DynamicObject>)>) -> Self {
        use kube::runtime::reflector::store::Writer;
        use kube::runtime::watcher::Event;
        Self::new(lists.into_iter().map(|(resource, objects)| {
            let mut writer = Writer::new(resource.clone());
            writer.apply_watcher_event(&Event::Init);
            for o in objects {
                writer.apply_watcher_event(&Event::InitApply(CachedObject::from_dynamic(o)));
            }
            writer.apply_watcher_event(&Event::InitDone);
            (resource, writer.as_reader())
        }))
    }

    fn store(&self, kind: &str) -> &(ApiResource, Store<CachedObject>) {
        self.stores
            .get(kind)
            .unwrap_or_else(|| panic!("no watch cache for managed kind {kind}"))
    }

    /// The cached object, if any.
    pub fn get(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<Arc<CachedObject>> {
        let (resource, store) = self.store(kind);
        let mut key = ObjectRef::new_with(name, resource.clone());
        if let Some(ns) = namespace {
            key = key.within(ns);
        }
        store.get(&key)
    }

    /// Every cached object of `kind`.
    pub fn list(&self, kind: &str) -> Vec<Arc<CachedObject>> {
        self.store(kind).1.state()
    }

    /// `namespace/name` of every managed Deployment still rolling out: what the planner
    /// counts as moves in progress (`Snapshot::rolling`).
    pub fn rolling(&self) -> std::collections::BTreeSet<crate::plan::ServiceKey> {
        self.list(crate::object::Kind::Deployment.as_str())
            .iter()
            .filter(|d| d.rolled_out == Some(false))
            .map(|d| crate::plan::ServiceKey {
                namespace: d.metadata.namespace.clone().unwrap_or_default(),
                name: d.metadata.name.clone().unwrap_or_default(),
            })
            .collect()
    }

    /// Resolves once every cache has completed its first list.
    pub async fn ready(&self) -> Result<(), kube::runtime::reflector::store::WriterDropped> {
        for (_, store) in self.stores.values() {
            store.wait_until_ready().await?;
        }
        Ok(())
    }
}

/// Where live state is read from.
#[derive(Clone, Debug, Default)]
pub enum Live {
    /// GET each object, LIST to sweep.
    #[default]
    Fetch,
    /// The watch caches.
    Cached(ManagedCaches),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(generation: i64, status: Value) -> CachedObject {
        let o: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "a", "namespace": "dept-fin", "generation": generation},
            "spec": {"replicas": 2},
            "status": status,
        }))
        .expect("a Deployment");
        CachedObject::from_dynamic(o)
    }

    #[test]
    fn a_deployment_is_rolled_out_only_when_every_replica_is_new_and_available() {
        let done = serde_json::json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2});
        assert_eq!(deployment(3, done.clone()).rolled_out, Some(true));
        // The controller has not seen the new template yet.
        assert_eq!(deployment(4, done).rolled_out, Some(false));
        // A surge pod on the new pool, the old one still serving.
        let surging = serde_json::json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2});
        assert_eq!(deployment(3, surging).rolled_out, Some(false));
        let unavailable = serde_json::json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1});
        assert_eq!(deployment(3, unavailable).rolled_out, Some(false));
    }
}
