//! The renderer: the Kubernetes objects the operator server-side applies for a plan.
//!
//! Pure like the planner: the same snapshot and plan give the same objects, byte for
//! byte, with no timestamps and no generated names. `govcloud plan --emit-manifests`
//! prints exactly what `govcloud run` would apply.
//!
//! What is rendered:
//! - per valid department (no `reasons` in its plan): Namespace (Pod Security
//!   `restricted`), ResourceQuota, LimitRange, RoleBinding for owners, NetworkPolicies;
//! - per placed own workload: Deployment pinned to its pool, Service, PodDisruptionBudget,
//!   an ingress NetworkPolicy per exposure;
//! - per placed shared instance: Deployment, Service, PodDisruptionBudget and a
//!   NetworkPolicy admitting its tenants, in the shared namespace; in each tenant's
//!   namespace a binding ConfigMap (`<service>-binding`) and an ExternalName Service named
//!   as the tenant, so its workloads reach the instance at `<service>`.

mod department;
mod error;
mod limits;
mod meta;
mod netpol;
mod owners;
mod pod;
mod shared;
mod workload;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, ResourceQuota, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::RoleBinding;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};

use std::collections::{BTreeSet, HashMap};

use kube::ResourceExt;

use crate::api::{Department, DepartmentService, ResourcePool, ServiceOffering};
use crate::object::{Kind, Kinded, ObjectId};
use crate::plan::{Plan, ServicePlan, Snapshot};

pub use department::DEPARTMENT_ADMIN_ROLE;
pub use error::RenderError;
pub use limits::{ContainerLimits, Limit, container_limits};

/// One object the operator applies.
// Unboxed on purpose: callers match on and build the plain k8s-openapi types, and a few
// hundred manifests per render make the padding of the small variants irrelevant.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Manifest {
    Namespace(Namespace),
    ResourceQuota(ResourceQuota),
    LimitRange(LimitRange),
    RoleBinding(RoleBinding),
    NetworkPolicy(NetworkPolicy),
    Deployment(Deployment),
    Service(Service),
    PodDisruptionBudget(PodDisruptionBudget),
    ConfigMap(ConfigMap),
}

/// Applies `$body` to the object inside whichever variant `$m` is.
macro_rules! with_object {
    ($m:expr, $o:ident => $body:expr) => {
        match $m {
            Manifest::Namespace($o) => $body,
            Manifest::ResourceQuota($o) => $body,
            Manifest::LimitRange($o) => $body,
            Manifest::RoleBinding($o) => $body,
            Manifest::NetworkPolicy($o) => $body,
            Manifest::Deployment($o) => $body,
            Manifest::Service($o) => $body,
            Manifest::PodDisruptionBudget($o) => $body,
            Manifest::ConfigMap($o) => $body,
        }
    };
}

fn kind_of<T: Kinded>(_: &T) -> Kind {
    T::KIND
}

fn api_version_of<T: Resource>(_: &T) -> &'static str {
    T::API_VERSION
}

fn meta_of<T: Metadata<Ty = ObjectMeta>>(o: &T) -> &ObjectMeta {
    o.metadata()
}

fn meta_of_mut<T: Metadata<Ty = ObjectMeta>>(o: &mut T) -> &mut ObjectMeta {
    o.metadata_mut()
}

impl Manifest {
    pub fn kind(&self) -> Kind {
        with_object!(self, o => kind_of(o))
    }

    /// Which object this is.
    pub fn id(&self) -> ObjectId {
        ObjectId::new(self.kind(), self.namespace(), self.name())
    }

    pub fn api_version(&self) -> &'static str {
        with_object!(self, o => api_version_of(o))
    }

    pub fn metadata(&self) -> &ObjectMeta {
        with_object!(self, o => meta_of(o))
    }

    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        with_object!(self, o => meta_of_mut(o))
    }

    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// `None` for cluster-scoped objects (Namespaces).
    pub fn namespace(&self) -> Option<&str> {
        self.metadata().namespace.as_deref()
    }

    /// The object as the API server receives it, `apiVersion` and `kind` included.
    pub fn to_json(&self) -> serde_json::Value {
        // k8s-openapi objects have string keys and no non-finite floats, so this cannot fail.
        with_object!(self, o => serde_json::to_value(o)).expect("Kubernetes objects always serialise to JSON")
    }

    /// A digest of the object's content, to tell cheaply whether it is what was
    /// rendered before. Within one process only (the hasher is not stable across
    /// builds), which is all the applier's memo needs.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::Hasher;
        struct Digest(std::collections::hash_map::DefaultHasher);
        impl std::io::Write for Digest {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.write(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut digest = Digest(std::collections::hash_map::DefaultHasher::new());
        with_object!(self, o => serde_json::to_writer(&mut digest, o))
            .expect("Kubernetes objects always serialise to JSON");
        digest.0.finish()
    }

    /// Apply order within a namespace: the guard rails (quota, limits, RBAC, network
    /// isolation) exist before the pods they govern are created.
    fn apply_rank(&self) -> u8 {
        match self {
            Manifest::Namespace(_) => 0,
            Manifest::ResourceQuota(_) => 1,
            Manifest::LimitRange(_) => 2,
            Manifest::RoleBinding(_) => 3,
            Manifest::NetworkPolicy(_) => 4,
            Manifest::ConfigMap(_) => 5,
            Manifest::Service(_) => 6,
            Manifest::Deployment(_) => 7,
            Manifest::PodDisruptionBudget(_) => 8,
        }
    }
}

/// Renders every object the plan calls for.
///
/// Order (stable, and safe to apply front to back): cluster-scoped Namespaces first, then
/// namespace by namespace in name order; within a namespace by kind in apply order
/// (ResourceQuota, LimitRange, RoleBinding, NetworkPolicy, ConfigMap, Service, Deployment,
/// PodDisruptionBudget), then by name.
///
/// Fails only when the plan names an object the snapshot lacks or holds an unparsable
/// quantity, i.e. when plan and snapshot do not belong together.
pub fn render(snapshot: &Snapshot, plan: &Plan) -> Result<Vec<Manifest>, RenderError> {
    render_in(Ctx::new(snapshot, plan, None))
}

/// Part of an estate: what a change touched, re-rendered without the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// Department namespaces whose guard rails and own workloads are rendered.
    pub namespaces: BTreeSet<String>,
    /// Shared instances rendered, with every tenant's binding.
    pub instances: BTreeSet<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty() && self.instances.is_empty()
    }
}

/// The objects [`render`] gives that fall in `scope`, the same byte for byte: what a
/// change re-renders, so that its cost follows what changed rather than the estate.
/// The shared namespace itself is left to a full render (it never changes).
pub fn render_scope(snapshot: &Snapshot, plan: &Plan, scope: &Scope) -> Result<Vec<Manifest>, RenderError> {
    render_in(Ctx::new(snapshot, plan, Some(scope)))
}

fn render_in(ctx: Ctx<'_>) -> Result<Vec<Manifest>, RenderError> {
    let mut out = Vec::new();
    department::render_all(&ctx, &mut out)?;
    workload::render_all(&ctx, &mut out)?;
    shared::render_all(&ctx, &mut out)?;
    owners::attach(&ctx, &mut out);
    // Sort a permutation, not the manifests: they are large, and moving them around
    // dominated rendering a big estate.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&out[a], &out[b]);
        (a.namespace(), a.apply_rank(), a.name()).cmp(&(b.namespace(), b.apply_rank(), b.name()))
    });
    let mut slots: Vec<Option<Manifest>> = out.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .map(|i| slots[i].take().expect("each index once"))
        .collect())
}

/// Multi-document YAML, documents separated by `---`, in the order given.
pub fn to_yaml(manifests: &[Manifest]) -> String {
    let docs: Vec<serde_json::Value> = manifests.iter().map(Manifest::to_json).collect();
    // JSON values (string keys, finite numbers) always have a YAML form.
    serde_saphyr::to_string_multiple(&docs).expect("JSON values always serialise to YAML")
}

/// What every part of the renderer reads: the snapshot for specs, the plan for decisions,
/// indexed once so that rendering stays linear in the size of the estate.
struct Ctx<'a> {
    snapshot: &'a Snapshot,
    plan: &'a Plan,
    /// Only this part of the estate is rendered (all of it when `None`).
    scope: Option<&'a Scope>,
    pools: HashMap<String, &'a ResourcePool>,
    departments: HashMap<String, &'a Department>,
    offerings: HashMap<String, &'a ServiceOffering>,
    services: HashMap<(String, String), &'a DepartmentService>,
    service_plans: HashMap<(&'a str, &'a str), &'a ServicePlan>,
}

impl<'a> Ctx<'a> {
    fn new(snapshot: &'a Snapshot, plan: &'a Plan, scope: Option<&'a Scope>) -> Self {
        // A scoped render reads the services of its namespaces and its instances'
        // tenants only; indexing every service would cost what the scope saves.
        let read: Option<BTreeSet<&str>> = scope.map(|scope| {
            let tenants = plan
                .offerings
                .iter()
                .flat_map(|o| &o.instances)
                .filter(|i| scope.instances.contains(&i.name))
                .flat_map(|i| &i.tenants)
                .filter_map(|t| t.split_once('/').map(|(ns, _)| ns));
            scope
                .namespaces
                .iter()
                .map(String::as_str)
                .chain(tenants)
                .collect()
        });
        let wanted = |s: &DepartmentService| {
            read.as_ref()
                .is_none_or(|r| r.contains(s.metadata.namespace.as_deref().unwrap_or_default()))
        };
        Self {
            snapshot,
            plan,
            scope,
            pools: snapshot.pools.iter().map(|p| (p.name_any(), p)).collect(),
            departments: snapshot.departments.iter().map(|d| (d.name_any(), d)).collect(),
            offerings: snapshot.offerings.iter().map(|o| (o.name_any(), o)).collect(),
            services: snapshot
                .services
                .iter()
                .filter(|s| wanted(s))
                .map(|s| ((s.namespace().unwrap_or_default(), s.name_any()), s))
                .collect(),
            service_plans: plan
                .services
                .iter()
                .filter(|s| read.as_ref().is_none_or(|r| r.contains(s.namespace.as_str())))
                .map(|s| ((s.namespace.as_str(), s.name.as_str()), s))
                .collect(),
        }
    }

    /// Whether the objects of department namespace `ns` are rendered.
    fn renders_namespace(&self, ns: &str) -> bool {
        self.scope.is_none_or(|s| s.namespaces.contains(ns))
    }

    /// Whether shared instance `name` (and its bindings) is rendered.
    fn renders_instance(&self, name: &str) -> bool {
        self.scope.is_none_or(|s| s.instances.contains(name))
    }

    fn settings(&self) -> &'a crate::plan::Settings {
        &self.snapshot.settings
    }

    fn pool(&self, name: &str, field: &str) -> Result<&'a ResourcePool, RenderError> {
        self.pools
            .get(name)
            .copied()
            .ok_or_else(|| RenderError::missing(format!("ResourcePool {name}"), field))
    }

    fn department(&self, name: &str, field: &str) -> Result<&'a Department, RenderError> {
        self.departments
            .get(name)
            .copied()
            .ok_or_else(|| RenderError::missing(format!("Department {name}"), field))
    }

    fn offering(&self, name: &str, field: &str) -> Result<&'a ServiceOffering, RenderError> {
        self.offerings
            .get(name)
            .copied()
            .ok_or_else(|| RenderError::missing(format!("ServiceOffering {name}"), field))
    }

    fn service(
        &self,
        namespace: &str,
        name: &str,
        field: &str,
    ) -> Result<&'a DepartmentService, RenderError> {
        self.services
            .get(&(namespace.to_owned(), name.to_owned()))
            .copied()
            .ok_or_else(|| RenderError::missing(format!("DepartmentService {namespace}/{name}"), field))
    }

    fn service_plan(&self, namespace: &str, name: &str) -> Option<&'a ServicePlan> {
        self.service_plans.get(&(namespace, name)).copied()
    }
}
