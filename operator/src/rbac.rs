//! The Kubernetes API access `govcloud run` needs, derived from what the code touches:
//! the kinds the renderer writes ([`managed_kinds`]), the govcloud kinds and Nodes the
//! watch caches read, the statuses and finalizers it writes, the Events it publishes, the
//! CRD check at start, the usage source and the leader-election Lease.
//!
//! The Helm chart's roles must grant exactly this (`tests/rbac.rs` renders the chart and
//! compares), and what the operator actually asks an API server for stays inside it
//! (the same test audits a run against the HTTP API double). So a kind added to the
//! renderer fails a test until the chart grants it, and a grant the code stopped using
//! fails one until it is removed.

use std::collections::BTreeSet;
use std::fmt;

use kube::api::ApiResource;

use crate::api::{Department, ResourcePool};
use crate::config::{OperatorConfig, UsageSource};
use crate::controller::managed_kinds;
use crate::render::DEPARTMENT_ADMIN_ROLE;
use crate::usage::metrics_api::pod_metrics_resource;

/// One verb on one resource (`plural` or `plural/subresource`) of an API group, optionally
/// of one named object only: the unit RBAC rules grant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub group: String,
    pub resource: String,
    pub verb: &'static str,
    /// `Some`: only the object of that name (a rule's `resourceNames`).
    pub name: Option<String>,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        write!(f, "{} {group}/{}", self.verb, self.resource)?;
        if let Some(name) = &self.name {
            write!(f, " named {name}")?;
        }
        Ok(())
    }
}

/// What the operator needs: across the cluster (a ClusterRole), and in the Lease's
/// namespace (a Role; empty without leader election).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    pub cluster: BTreeSet<Permission>,
    pub lease_namespace: BTreeSet<Permission>,
}

/// Every verb a server-side-applied, swept kind needs: the watch cache lists and
/// watches; apply patches, and creates when the object is missing (the API server
/// authorises an apply that creates as `create`); the sweep deletes.
const MANAGED_VERBS: [&str; 5] = ["list", "watch", "create", "patch", "delete"];

fn grant(set: &mut BTreeSet<Permission>, r: &ApiResource, sub: Option<&str>, verbs: &[&'static str]) {
    let resource = match sub {
        Some(sub) => format!("{}/{sub}", r.plural),
        None => r.plural.clone(),
    };
    for verb in verbs {
        set.insert(Permission {
            group: r.group.clone(),
            resource: resource.clone(),
            verb,
            name: None,
        });
    }
}

fn named(group: &str, resource: &str, verb: &'static str, name: &str) -> Permission {
    Permission {
        group: group.into(),
        resource: resource.into(),
        verb,
        name: Some(name.into()),
    }
}

/// The access `govcloud run` with `config` needs.
pub fn operator_access(config: &OperatorConfig) -> Access {
    let mut cluster = BTreeSet::new();
    for (_, crd) in crate::crds::all() {
        let (group, plural) = (&crd.spec.group, &crd.spec.names.plural);
        let version = crd.spec.versions.first().map_or("v1alpha1", |v| v.name.as_str());
        let r = ApiResource {
            group: group.clone(),
            version: version.into(),
            api_version: format!("{group}/{version}"),
            kind: crd.spec.names.kind.clone(),
            plural: plural.clone(),
        };
        // Read through the watch caches; every kind's status is written by merge patch.
        grant(&mut cluster, &r, None, &["list", "watch"]);
        grant(&mut cluster, &r, Some("status"), &["patch"]);
        // The start-up check that the CRDs are installed reads each one by name.
        let crd_name = format!("{plural}.{group}");
        cluster.insert(named(
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            "get",
            &crd_name,
        ));
    }
    // Finalizers go on pools and departments by JSON patch (controller::finalizers).
    for r in [
        ApiResource::erase::<ResourcePool>(&()),
        ApiResource::erase::<Department>(&()),
    ] {
        grant(&mut cluster, &r, None, &["patch"]);
    }
    // Nodes size pools without spec.capacity: read through a watch cache.
    grant(
        &mut cluster,
        &ApiResource::erase::<k8s_openapi::api::core::v1::Node>(&()),
        None,
        &["list", "watch"],
    );
    for kind in managed_kinds() {
        grant(&mut cluster, &kind.resource, None, &MANAGED_VERBS);
    }
    // Department RoleBindings reference the department-admin ClusterRole, which grants
    // what the operator itself does not hold (creating DepartmentServices): RBAC lets
    // it bind that one role rather than needing every right in it.
    cluster.insert(named(
        "rbac.authorization.k8s.io",
        "clusterroles",
        "bind",
        DEPARTMENT_ADMIN_ROLE,
    ));
    // kube's Recorder creates an Event, and patches it into a series when it repeats.
    let events = ApiResource::erase::<k8s_openapi::api::events::v1::Event>(&());
    grant(&mut cluster, &events, None, &["create", "patch"]);
    if config.usage.source == UsageSource::MetricsApi {
        grant(&mut cluster, &pod_metrics_resource(), None, &["list"]);
    }

    let mut lease_namespace = BTreeSet::new();
    if config.leader_election.enabled {
        let lease = ApiResource::erase::<k8s_openapi::api::coordination::v1::Lease>(&());
        // Creating cannot be limited to a name (the name is in the body, not the URL).
        grant(&mut lease_namespace, &lease, None, &["create"]);
        for verb in ["get", "patch"] {
            lease_namespace.insert(named(
                &lease.group,
                &lease.plural,
                verb,
                &config.leader_election.lease_name,
            ));
        }
    }
    Access {
        cluster,
        lease_namespace,
    }
}

/// Whether `p` allows a request of `verb` on `resource` of `group`, for the object
/// `name` (`None` for a collection or a create).
pub fn allows(p: &Permission, group: &str, resource: &str, verb: &str, name: Option<&str>) -> bool {
    p.group == group
        && p.resource == resource
        && p.verb == verb
        && p.name.as_deref().is_none_or(|only| name == Some(only))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(set: &BTreeSet<Permission>, group: &str, resource: &str, verb: &str) -> bool {
        set.iter()
            .any(|p| p.group == group && p.resource == resource && p.verb == verb)
    }

    #[test]
    fn defaults_need_no_lease_and_no_metrics_api() {
        let access = operator_access(&OperatorConfig::default());
        assert!(access.lease_namespace.is_empty());
        assert!(!has(&access.cluster, "metrics.k8s.io", "pods", "list"));
        assert!(has(&access.cluster, "apps", "deployments", "create"));
        assert!(has(
            &access.cluster,
            "govcloud.io",
            "departmentservices/status",
            "patch"
        ));
        assert!(
            !has(&access.cluster, "govcloud.io", "departmentservices", "patch"),
            "services carry no finalizer"
        );
        assert!(
            !has(&access.cluster, "govcloud.io", "departmentservices", "create"),
            "the operator never creates what departments request"
        );
    }

    #[test]
    fn leader_election_and_the_metrics_api_add_their_grants() {
        let mut config = OperatorConfig::default();
        config.leader_election.enabled = true;
        config.leader_election.lease_name = "my-lease".into();
        config.usage.source = UsageSource::MetricsApi;
        let access = operator_access(&config);
        assert!(has(&access.cluster, "metrics.k8s.io", "pods", "list"));
        let lease: Vec<String> = access.lease_namespace.iter().map(ToString::to_string).collect();
        assert_eq!(
            lease,
            [
                "create coordination.k8s.io/leases",
                "get coordination.k8s.io/leases named my-lease",
                "patch coordination.k8s.io/leases named my-lease",
            ]
        );
    }

    #[test]
    fn a_named_grant_allows_only_that_object() {
        let p = named(
            "rbac.authorization.k8s.io",
            "clusterroles",
            "bind",
            "govcloud-department-admin",
        );
        assert!(allows(
            &p,
            "rbac.authorization.k8s.io",
            "clusterroles",
            "bind",
            Some("govcloud-department-admin")
        ));
        assert!(!allows(
            &p,
            "rbac.authorization.k8s.io",
            "clusterroles",
            "bind",
            Some("admin")
        ));
        assert!(!allows(
            &p,
            "rbac.authorization.k8s.io",
            "clusterroles",
            "bind",
            None
        ));
    }
}
