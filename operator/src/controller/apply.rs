//! Making the cluster hold exactly the rendered objects: server-side apply under the
//! field manager `govcloud` (forced, so manual edits of managed fields are reverted),
//! skipped when the live object already holds every desired field, and a sweep of
//! managed objects that are no longer rendered.

use std::collections::BTreeSet;

use futures::StreamExt;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, ResourceQuota, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};

use super::drift::covers;
use super::error::ApplyError;
use crate::api::{FIELD_MANAGER, labels};
use crate::render::Manifest;

/// Selects every object govcloud wrote.
pub fn managed_selector() -> String {
    format!("{}={}", labels::MANAGED_BY, labels::MANAGED_BY_VALUE)
}

/// A kind the renderer writes.
#[derive(Clone, Debug)]
pub struct ManagedKind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// Every kind the renderer writes, namespaced kinds first so that a sweep empties a
/// namespace before it would touch the namespace itself.
pub fn managed_kinds() -> Vec<ManagedKind> {
    let namespaced = |resource| ManagedKind {
        resource,
        namespaced: true,
    };
    vec![
        namespaced(ApiResource::erase::<Deployment>(&())),
        namespaced(ApiResource::erase::<Service>(&())),
        namespaced(ApiResource::erase::<PodDisruptionBudget>(&())),
        namespaced(ApiResource::erase::<NetworkPolicy>(&())),
        namespaced(ApiResource::erase::<ConfigMap>(&())),
        namespaced(ApiResource::erase::<RoleBinding>(&())),
        namespaced(ApiResource::erase::<LimitRange>(&())),
        namespaced(ApiResource::erase::<ResourceQuota>(&())),
        ManagedKind {
            resource: ApiResource::erase::<Namespace>(&()),
            namespaced: false,
        },
    ]
}

/// What `ensure` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The live object already held every desired field: no write.
    Unchanged,
    /// Created, or drift reverted, by a forced server-side apply.
    Applied,
}

/// Counts of one pass over the rendered objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub applied: usize,
    pub unchanged: usize,
    pub deleted: usize,
}

/// Applies and sweeps rendered objects through a Kubernetes client.
#[derive(Clone)]
pub struct Applier {
    client: Client,
    /// Requests in flight at once while ensuring (controller.concurrency).
    concurrency: usize,
}

impl std::fmt::Debug for Applier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier").finish_non_exhaustive()
    }
}

fn describe(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

impl Applier {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            concurrency: 1,
        }
    }

    /// Ensures up to `n` objects at once (at least one).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    fn api(&self, resource: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, resource),
            None => Api::all_with(self.client.clone(), resource),
        }
    }

    fn resource_of(m: &Manifest) -> ApiResource {
        managed_kinds()
            .into_iter()
            .map(|k| k.resource)
            .find(|r| r.kind == m.kind())
            .expect("every Manifest variant is a managed kind")
    }

    /// Makes the live object hold `m`, writing only when it does not already.
    pub async fn ensure(&self, m: &Manifest) -> Result<Outcome, ApplyError> {
        let object = describe(m.kind(), m.namespace(), m.name());
        let api = self.api(&Self::resource_of(m), m.namespace());
        let desired = m.to_json();
        let live = api
            .get_opt(m.name())
            .await
            .map_err(|e| ApplyError::new("get", object.clone(), e))?;
        if let Some(live) = live {
            let live = serde_json::to_value(&live).expect("a fetched object serialises");
            if covers(&live, &desired) {
                return Ok(Outcome::Unchanged);
            }
        }
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(m.name(), &params, &Patch::Apply(&desired))
            .await
            .map_err(|e| ApplyError::new("apply", object, e))?;
        Ok(Outcome::Applied)
    }

    /// Ensures every manifest, carrying on past failures so that one bad object does
    /// not hold back the rest; the failures come back together.
    pub async fn ensure_all(&self, manifests: &[Manifest]) -> (Summary, Vec<ApplyError>) {
        let mut summary = Summary::default();
        let mut errors = Vec::new();
        let mut results = futures::stream::iter(manifests.iter().map(|m| self.ensure(m)))
            .buffer_unordered(self.concurrency);
        while let Some(result) = results.next().await {
            match result {
                Ok(Outcome::Applied) => summary.applied += 1,
                Ok(Outcome::Unchanged) => summary.unchanged += 1,
                Err(e) => errors.push(e),
            }
        }
        // Completion order varies with concurrency; reports should not.
        errors.sort_by(|a, b| a.object.cmp(&b.object));
        (summary, errors)
    }

    /// Deletes managed objects of namespaced kinds that are no longer rendered (a
    /// deleted or refused service's workload, a retired shared instance, a binding
    /// whose tenant left). Namespaces are never swept: deleting one deletes everything
    /// in it, so that is left to a Department's deletion, not to a plan that merely
    /// stopped rendering it (for instance while its spec is invalid).
    pub async fn prune(&self, desired: &[Manifest]) -> (usize, Vec<ApplyError>) {
        let keep: BTreeSet<(&str, Option<&str>, &str)> = desired
            .iter()
            .map(|m| (m.kind(), m.namespace(), m.name()))
            .collect();
        let selector = ListParams::default().labels(&managed_selector());
        let (mut deleted, mut errors) = (0, Vec::new());
        for kind in managed_kinds().into_iter().filter(|k| k.namespaced) {
            let all: Api<DynamicObject> = Api::all_with(self.client.clone(), &kind.resource);
            let listed = match all.list(&selector).await {
                Ok(list) => list.items,
                Err(e) => {
                    errors.push(ApplyError::new(
                        "list",
                        format!("{} (all namespaces)", kind.resource.kind),
                        e,
                    ));
                    continue;
                }
            };
            for obj in listed {
                let (ns, name) = (obj.namespace(), obj.name_any());
                if keep.contains(&(kind.resource.kind.as_str(), ns.as_deref(), name.as_str())) {
                    continue;
                }
                let object = describe(&kind.resource.kind, ns.as_deref(), &name);
                match self
                    .api(&kind.resource, ns.as_deref())
                    .delete(&name, &DeleteParams::background())
                    .await
                {
                    Ok(_) => deleted += 1,
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => errors.push(ApplyError::new("delete", object, e)),
                }
            }
        }
        (deleted, errors)
    }

    /// One pass: ensure every rendered object, then sweep what is no longer rendered.
    pub async fn converge(&self, manifests: &[Manifest]) -> (Summary, Vec<ApplyError>) {
        let (mut summary, mut errors) = self.ensure_all(manifests).await;
        let (deleted, prune_errors) = self.prune(manifests).await;
        summary.deleted = deleted;
        errors.extend(prune_errors);
        (summary, errors)
    }
}
