//! An in-process API server double (kube-fake-client) holding an estate, with every
//! write counted and any one write failable on demand.

use std::path::Path;
use std::sync::{Arc, Mutex};

use govcloud::api::DepartmentService;
use govcloud::controller::ApplyError;
use govcloud::load::load_paths;
use govcloud::plan::{Assignments, Snapshot, plan};
use govcloud::status;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams};
use kube_fake_client::{ClientBuilder, Error, interceptor};

pub fn now() -> Time {
    Time(Timestamp::from_second(1_800_000_000).unwrap())
}

/// How an injected failure answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 500 Internal Server Error.
    Server,
    /// 409 Conflict.
    Conflict,
}

/// Counts writes (create, patch, status patch, delete); fails the one numbered `fail_at`.
#[derive(Debug, Default)]
pub struct Writes {
    pub count: usize,
    pub fail_at: Option<(usize, Fault)>,
    pub failed: usize,
}

impl Writes {
    fn on_write(&mut self) -> kube_fake_client::Result<Option<serde_json::Value>> {
        let n = self.count;
        self.count += 1;
        match self.fail_at {
            Some((at, fault)) if at == n => {
                self.failed += 1;
                Err(match fault {
                    Fault::Server => Error::Internal("injected failure".into()),
                    Fault::Conflict => Error::Conflict("injected conflict".into()),
                })
            }
            _ => Ok(None),
        }
    }
}

/// An estate from manifests, with the statuses of its cluster-scoped objects settled.
///
/// kube-fake-client 0.3 registers every custom resource as namespaced (it cannot tell a
/// kind's scope) and refuses a cluster-scoped object without a namespace, so pools,
/// departments, offerings and policies cannot live in it. They stay in the test, as the
/// operator's caches would hold them, with the statuses a pass would write (computed by
/// the pure `status` functions, which are tested on their own); the DepartmentServices
/// live in the double and are written through it.
pub fn settled_estate(path: &Path) -> Snapshot {
    let mut s = load_paths(&[path.to_path_buf()]).expect("estate loads").snapshot;
    settle(&mut s);
    s
}

/// Gives the cluster-scoped objects of `s` the statuses a pass over `s` would write.
pub fn settle(s: &mut Snapshot) {
    let p = plan(s, &Assignments::from_status(s));
    let name = |m: &kube::api::ObjectMeta| m.name.clone().unwrap_or_default();
    for o in &mut s.pools {
        let planned = p.pools.iter().find(|x| x.name == name(&o.metadata)).unwrap();
        o.status = Some(status::pool_status(o, planned, &now()));
    }
    for o in &mut s.departments {
        let planned = p
            .departments
            .iter()
            .find(|x| x.name == name(&o.metadata))
            .unwrap();
        o.status = Some(status::department_status(o, planned, &now()));
    }
    for o in &mut s.offerings {
        let planned = p.offerings.iter().find(|x| x.name == name(&o.metadata)).unwrap();
        o.status = Some(status::offering_status(o, planned, &now()));
    }
    for o in &mut s.policies {
        let planned = p.policies.iter().find(|x| x.name == name(&o.metadata)).unwrap();
        o.status = Some(status::policy_status(o, planned, &now()));
    }
}

/// A double holding the estate's DepartmentServices, counting (and failing) writes.
pub async fn cluster(estate: &Snapshot) -> (Client, Arc<Mutex<Writes>>) {
    let writes = Arc::new(Mutex::new(Writes::default()));
    let hook = |w: &Arc<Mutex<Writes>>| {
        let w = w.clone();
        move || w.lock().unwrap().on_write()
    };
    let (p, c, d, ps) = (hook(&writes), hook(&writes), hook(&writes), hook(&writes));
    let funcs = interceptor::Funcs::new()
        .patch(move |_| p())
        .create(move |_| c())
        .delete(move |_| d())
        .patch_status(move |_| ps());
    let client = ClientBuilder::new()
        .with_resource::<DepartmentService>()
        .with_objects(estate.services.clone())
        .with_interceptor_funcs(funcs)
        .build()
        .await
        .expect("fake client");
    (client, writes)
}

/// What the operator's caches would hold: the services as the API now has them, and
/// the cluster-scoped objects (kept outside the double) settled for them.
pub async fn snapshot(client: &Client, estate: &Snapshot) -> Snapshot {
    let services = Api::<DepartmentService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    let mut s = Snapshot {
        services,
        ..estate.clone()
    };
    settle(&mut s);
    s
}

/// kube-fake-client 0.3 cannot address a Namespace by name (it parses
/// `/api/v1/namespaces/{name}` as the start of a namespaced path and answers "Invalid
/// path"); those reads fail there and only there. Returns the other errors.
pub fn beyond_namespace_limitation(errors: &[ApplyError]) -> Vec<&ApplyError> {
    errors
        .iter()
        .filter(|e| !(e.object.starts_with("Namespace ") && e.source.to_string().contains("Invalid path")))
        .collect()
}
