//! The objects govcloud reads and writes: one list of their kinds, and a typed reference
//! to one object.
//!
//! Every list of kinds (what the renderer writes, the applier's API resources, the watch
//! caches and the sweep, the operator's RBAC, the `kind` metric label) is derived from
//! [`Kind`], so a kind added here is added everywhere or fails to compile.

use std::fmt;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, LimitRange, Namespace, ResourceQuota, Service};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::ApiResource;

use crate::api::{Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};

/// Declares [`Kind`] from one list of kinds and their API types: the variants (named as
/// the API names the kind), `ALL`, `as_str`, `api_resource` and each type's [`Kinded`].
macro_rules! kinds {
    ($($kind:ident => $type:ty),* $(,)?) => {
        /// A kind govcloud reads or writes: its own five, and the nine it renders.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind {
            $($kind,)*
        }

        impl Kind {
            /// Every kind, govcloud's first.
            pub const ALL: [Kind; [$(Kind::$kind),*].len()] = [$(Kind::$kind),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($kind),)*
                }
            }

            /// Group, version and plural, for dynamic API calls and watches.
            pub fn api_resource(self) -> ApiResource {
                match self {
                    $(Kind::$kind => ApiResource::erase::<$type>(&()),)*
                }
            }
        }

        $(impl Kinded for $type {
            const KIND: Kind = Kind::$kind;
        })*
    };
}

kinds! {
    ResourcePool => ResourcePool,
    Department => Department,
    DepartmentService => DepartmentService,
    ServiceOffering => ServiceOffering,
    PlatformPolicy => PlatformPolicy,
    Namespace => Namespace,
    ResourceQuota => ResourceQuota,
    LimitRange => LimitRange,
    RoleBinding => RoleBinding,
    NetworkPolicy => NetworkPolicy,
    ConfigMap => ConfigMap,
    Service => Service,
    Deployment => Deployment,
    PodDisruptionBudget => PodDisruptionBudget,
}

/// A type whose objects are of one [`Kind`]: ties a typed API object to the list.
pub trait Kinded {
    const KIND: Kind;
}

impl Kind {
    /// The kinds the renderer writes, namespaced kinds first so that a sweep empties a
    /// namespace before it would touch the namespace itself.
    pub const MANAGED: [Kind; 9] = [
        Kind::Deployment,
        Kind::Service,
        Kind::PodDisruptionBudget,
        Kind::NetworkPolicy,
        Kind::ConfigMap,
        Kind::RoleBinding,
        Kind::LimitRange,
        Kind::ResourceQuota,
        Kind::Namespace,
    ];

    /// The kind spelled as the API spells it, if it is one of ours.
    pub fn parse(kind: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == kind)
    }

    /// Whether objects of the kind live in a namespace.
    pub fn namespaced(self) -> bool {
        !matches!(
            self,
            Kind::ResourcePool
                | Kind::Department
                | Kind::ServiceOffering
                | Kind::PlatformPolicy
                | Kind::Namespace
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Kind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One object: `Kind namespace/name`, or `Kind name` for a cluster-scoped one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    pub kind: Kind,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectId {
    pub fn new(kind: Kind, namespace: Option<&str>, name: &str) -> Self {
        Self {
            kind,
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// What a call was about: one object, or every object of a kind (a list).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    One(ObjectId),
    All(Kind),
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::One(id) => id.kind,
            Target::All(kind) => *kind,
        }
    }
}

impl From<ObjectId> for Target {
    fn from(id: ObjectId) -> Self {
        Target::One(id)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::One(id) => id.fmt(f),
            Target::All(kind) => write!(f, "{kind} (all namespaces)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_spelled_and_scoped_as_the_api_says() {
        for kind in Kind::ALL {
            let resource = kind.api_resource();
            assert_eq!(resource.kind, kind.as_str());
            assert!(kind == kind.as_str());
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        for (_, crd) in crate::crds::all() {
            let kind = Kind::parse(&crd.spec.names.kind).expect("every CRD kind is listed");
            assert_eq!(kind.namespaced(), crd.spec.scope == "Namespaced", "{kind}");
        }
        assert_eq!(Kind::parse("Secret"), None);
    }

    #[test]
    fn managed_kinds_are_the_rendered_ones_namespaced_first() {
        let last = Kind::MANAGED.len() - 1;
        assert!(Kind::MANAGED[..last].iter().all(|k| k.namespaced()));
        assert_eq!(Kind::MANAGED[last], Kind::Namespace);
    }

    #[test]
    fn references_read_as_in_messages() {
        let deployment = ObjectId::new(Kind::Deployment, Some("dept-a"), "web");
        assert_eq!(deployment.to_string(), "Deployment dept-a/web");
        assert_eq!(
            ObjectId::new(Kind::Namespace, None, "dept-a").to_string(),
            "Namespace dept-a"
        );
        assert_eq!(Target::All(Kind::Service).to_string(), "Service (all namespaces)");
        assert_eq!(Target::from(deployment).kind(), Kind::Deployment);
    }
}
