//! Estate passes reading live state from watch caches (as `govcloud run` does),
//! against an in-process API server double (kube-fake-client) that counts every call:
//! a pass with nothing changed makes no API call at all — no write, and no read either;
//! a manual edit seen by the cache is reverted with exactly one write; and a write that
//! keeps failing is backed off on its own while everything else converges.

use crate::support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use govcloud::api::DepartmentService;
use govcloud::controller::{
    EstateReconciler, Live, ManagedCaches, ObjectBackoff, managed_kinds, managed_selector,
};
use govcloud::plan::{Assignments, Snapshot, plan};
use govcloud::render::render;
use kube::Client;
use kube::api::{Api, DynamicObject, ListParams};
use kube_fake_client::{ClientBuilder, Error, interceptor};
use support::fake_cluster::{now, settle, settled_estate};

/// Calls by verb; patches by object name. `refuse` names an object whose patches fail.
#[derive(Debug, Default)]
struct Calls {
    by_verb: BTreeMap<&'static str, usize>,
    patches_of: BTreeMap<String, usize>,
    refuse: Option<String>,
}

impl Calls {
    fn total(&self) -> usize {
        self.by_verb.values().sum()
    }
}

async fn counting_cluster(estate: &Snapshot) -> (Client, Arc<Mutex<Calls>>) {
    let calls = Arc::new(Mutex::new(Calls::default()));
    let count = |verb: &'static str| {
        let calls = calls.clone();
        move || *calls.lock().unwrap().by_verb.entry(verb).or_default() += 1
    };
    let (get, list, create, delete, status, watch) = (
        count("get"),
        count("list"),
        count("create"),
        count("delete"),
        count("patch status"),
        count("watch"),
    );
    let patches = calls.clone();
    let funcs = interceptor::Funcs::new()
        .get(move |_| {
            get();
            Ok(None)
        })
        .list(move |_| {
            list();
            Ok(None)
        })
        .create(move |_| {
            create();
            Ok(None)
        })
        .delete(move |_| {
            delete();
            Ok(None)
        })
        .patch_status(move |_| {
            status();
            Ok(None)
        })
        .watch(move |_| {
            watch();
            Ok(None)
        })
        .patch(move |ctx| {
            let mut c = patches.lock().unwrap();
            *c.by_verb.entry("patch").or_default() += 1;
            *c.patches_of.entry(ctx.name.to_string()).or_default() += 1;
            if c.refuse.as_deref() == Some(ctx.name) {
                return Err(Error::Internal("injected: this object keeps failing".into()));
            }
            Ok(None)
        });
    let client = ClientBuilder::new()
        .with_resource::<DepartmentService>()
        .with_objects(estate.services.clone())
        .with_interceptor_funcs(funcs)
        .build()
        .await
        .expect("fake client");
    (client, calls)
}

/// What the operator's watches would hold: every managed object the double holds,
/// each passed through `edit` (a change the watch delivers), plus the rendered
/// Namespaces, which kube-fake-client 0.3 can neither store nor list (it takes
/// `/api/v1/namespaces/{name}` for the start of a namespaced path).
async fn watch_caches(
    client: &Client,
    snapshot: &Snapshot,
    edit: impl Fn(&mut DynamicObject),
) -> ManagedCaches {
    let rendered = render(snapshot, &plan(snapshot, &Assignments::from_status(snapshot))).unwrap();
    let mut lists = Vec::new();
    for kind in managed_kinds() {
        let mut objects: Vec<DynamicObject> = if kind.resource.kind == "Namespace" {
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
        objects.iter_mut().for_each(&edit);
        lists.push((kind.resource, objects));
    }
    ManagedCaches::from_lists(lists)
}

/// A hand edit of Deployment `name`: scaled to `replicas`, with a new resourceVersion.
fn scale(name: String, replicas: i64) -> impl Fn(&mut DynamicObject) {
    move |o| {
        if o.types.as_ref().is_some_and(|t| t.kind == "Deployment")
            && o.metadata.name.as_deref() == Some(&name)
        {
            o.data["spec"]["replicas"] = serde_json::json!(replicas);
            o.metadata.resource_version = Some("edited-by-hand".into());
        }
    }
}

/// The services as the API holds them now, with the cluster-scoped objects settled.
async fn snapshot(client: &Client, estate: &Snapshot) -> Snapshot {
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

fn estate() -> Snapshot {
    settled_estate(&support::repo_root().join("config/samples"))
}

/// Converges the estate with fetched state, then returns the cluster, its call
/// counter and the snapshot and caches of the converged estate.
async fn converged() -> (Client, Arc<Mutex<Calls>>, Snapshot, ManagedCaches) {
    let estate = estate();
    let (client, calls) = counting_cluster(&estate).await;
    let first = EstateReconciler::new(client.clone(), None);
    let (_, report) = first
        .pass(&snapshot(&client, &estate).await, &now())
        .await
        .unwrap();
    assert!(report.summary.applied > 100, "{:?}", report.summary);
    let s = snapshot(&client, &estate).await;
    let caches = watch_caches(&client, &s, |_| {}).await;
    (client, calls, s, caches)
}

#[tokio::test]
async fn with_watch_caches_an_unchanged_pass_makes_no_api_call_at_all() {
    let (client, calls, s, caches) = converged().await;
    let r = EstateReconciler::new(client, None).with_live(Live::Cached(caches));
    let before = calls.lock().unwrap().total();
    for _ in 0..2 {
        let (_, report) = r.pass(&s, &now()).await.unwrap();
        assert!(report.errors.is_empty(), "{:#?}", report.errors);
        assert_eq!(
            (
                report.summary.applied,
                report.summary.deleted,
                report.status_writes
            ),
            (0, 0, 0)
        );
        assert!(report.summary.unchanged > 100);
    }
    assert_eq!(
        calls.lock().unwrap().total(),
        before,
        "two resyncs: not one read or write ({:?})",
        calls.lock().unwrap().by_verb
    );
}

#[tokio::test]
async fn drift_seen_by_the_cache_is_reverted_with_one_write() {
    let (client, calls, s, caches) = converged().await;
    let r = EstateReconciler::new(client.clone(), None).with_live(Live::Cached(caches.clone()));
    r.pass(&s, &now()).await.unwrap();

    // Someone scales a managed Deployment by hand; the watch delivers the new version.
    let victim = caches.list("Deployment")[0].metadata.name.clone().unwrap();
    let edited = watch_caches(&client, &s, scale(victim.clone(), 7)).await;
    let r = r.with_live(Live::Cached(edited));
    let before = calls
        .lock()
        .unwrap()
        .patches_of
        .get(&victim)
        .copied()
        .unwrap_or(0);
    let (_, report) = r.pass(&s, &now()).await.unwrap();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(report.summary.applied, 1, "only the edited Deployment");
    assert_eq!(calls.lock().unwrap().patches_of[&victim], before + 1);
}

#[tokio::test]
async fn a_failing_write_backs_off_alone_and_is_retried_when_due() {
    let (client, calls, s, caches) = converged().await;
    let victim = caches.list("Deployment")[0].metadata.name.clone().unwrap();
    // The Deployment drifts, and every write to it fails.
    let drifted = watch_caches(&client, &s, scale(victim.clone(), 9)).await;
    calls.lock().unwrap().refuse = Some(victim.clone());
    let r = EstateReconciler::new(client.clone(), None)
        .with_live(Live::Cached(drifted))
        .with_backoff(ObjectBackoff::new(
            Duration::from_millis(300),
            Duration::from_secs(60),
        ));
    let attempts = || {
        calls
            .lock()
            .unwrap()
            .patches_of
            .get(&victim)
            .copied()
            .unwrap_or(0)
    };

    let before = attempts();
    let (_, first) = r.pass(&s, &now()).await.unwrap();
    assert_eq!(first.errors.len(), 1, "{:#?}", first.errors);
    assert!(first.errors[0].object.to_string().ends_with(&victim));
    assert_eq!(attempts(), before + 1);
    assert!(first.retry_at.is_some(), "the loop is told when to come back");

    let (_, second) = r.pass(&s, &now()).await.unwrap();
    assert_eq!(attempts(), before + 1, "in backoff: not tried again");
    assert_eq!(second.summary.deferred, 1);
    assert!(second.errors.is_empty());

    tokio::time::sleep(Duration::from_millis(350)).await;
    calls.lock().unwrap().refuse = None;
    let (_, third) = r.pass(&s, &now()).await.unwrap();
    assert_eq!(attempts(), before + 2, "due again: retried, and it succeeds");
    assert!(third.errors.is_empty(), "{:#?}", third.errors);
    assert_eq!((third.summary.applied, third.summary.deferred), (1, 0));
    assert_eq!(third.retry_at, None, "success forgets the backoff");
}
