//! Tenancy on a real control plane, with the operator running as the Helm chart's
//! ServiceAccount (only the chart's RBAC):
//!
//! - a department's owners (User, Group or ServiceAccount of `spec.owners`) manage
//!   DepartmentServices in their own namespace and can neither touch nor read another
//!   department's, as the API server's RBAC decides for each;
//! - the ResourceQuota the operator renders is enforced by the API server on anything
//!   created by hand: a Pod beyond what is left, a DepartmentService beyond the count;
//! - deleting a DepartmentService lets the garbage collector remove what it owned, even
//!   with the operator down; deleting a Department is held by `govcloud.io/cleanup`
//!   until its services are gone, then its namespace is terminated; deleting a
//!   ResourcePool moves its services to pools that can take them, keeps the rest
//!   running where they are and holds the pool until nothing is left on it;
//! - the whole estate comes down with `kubectl delete -f config/samples/`, and the
//!   operator was never refused a request (audit log and its own log).

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use govcloud::api::{Department, DepartmentService, FINALIZER, ResourcePool};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{LimitRange, Namespace, Node, Pod, ResourceQuota, Secret};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{Discovery, Scope, verbs};
use kube::{Client, ResourceExt};
use serde::Serialize;
use serde_json::{Value, json};
use support::control_plane::{self as cp, eventually};
use support::estate::{converge_samples, wait_for_passes};

/// The samples' finance department and one of its owners of each kind the RoleBinding
/// binds (config/samples/30-departments.yaml): impersonated user, groups.
const FINANCE: &str = "dept-finance";
const FINANCE_OWNERS: [(&str, &str, &[&str]); 3] = [
    ("User", "wang.fang@finance.gov.example", &[]),
    // Anyone in the owners' group: the group is what the binding names.
    ("Group", "li.ming@finance.gov.example", &["finance-it-admins"]),
    (
        "ServiceAccount",
        "system:serviceaccount:gitops:finance-deployer",
        &["system:serviceaccounts", "system:serviceaccounts:gitops"],
    ),
];
const HEALTH: &str = "dept-health";
const QUOTA: &str = "govcloud-quota";
const SERVICE_COUNT: &str = "count/departmentservices.govcloud.io";

/// A small level 2 workload, the kind of request a department files by hand.
fn small_service(ns: &str, name: &str) -> DepartmentService {
    serde_json::from_value(json!({
        "apiVersion": "govcloud.io/v1alpha1",
        "kind": "DepartmentService",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "securityLevel": 2,
            "availability": "Basic",
            "exposure": "Internal",
            "workload": {
                "image": "registry.gov.example/checks/echo:1.0.0",
                "replicas": 1,
                "resources": {"cpu": "100m", "memory": "128Mi"},
                "ports": [{"name": "http", "port": 8080}],
            },
        },
    }))
    .expect("a DepartmentService")
}

fn assert_forbidden<T: std::fmt::Debug>(what: &str, result: Result<T, kube::Error>) {
    match result {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("{what}: the API server should answer 403 Forbidden, answered {other:?}"),
    }
}

/// The condition `type_` of any govcloud status.
fn condition<S: Serialize>(status: Option<&S>, type_: &str) -> Option<Value> {
    let status = serde_json::to_value(status?).ok()?;
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .cloned()
}

/// The `namespace/name`s a `DeletionBlocked` message lists after its count: "… (2): a/b, c/d".
fn waiting_for(message: &str) -> BTreeSet<String> {
    message
        .rsplit_once("): ")
        .map(|(_, list)| list.split(", ").map(str::to_string).collect())
        .unwrap_or_default()
}

fn key(s: &DepartmentService) -> String {
    format!("{}/{}", s.namespace().unwrap(), s.name_any())
}

async fn delete_service(client: &Client, ns: &str, name: &str) {
    Api::<DepartmentService>::namespaced(client.clone(), ns)
        .delete(name, &DeleteParams::default())
        .await
        .unwrap_or_else(|e| panic!("deleting DepartmentService {ns}/{name}: {e}"));
}

/// Every namespaced kind the API server lists, found once by discovery.
struct Kinds(Vec<ApiResource>);

impl Kinds {
    async fn discover(client: &Client) -> Self {
        let discovery = Discovery::new(client.clone()).run().await.expect("API discovery");
        let mut kinds = Vec::new();
        for group in discovery.groups() {
            for (resource, caps) in group.recommended_resources() {
                if caps.scope == Scope::Namespaced && caps.supports_operation(verbs::LIST) {
                    kinds.push(resource);
                }
            }
        }
        Self(kinds)
    }

    /// `Kind/name` of everything in `ns` that carries `selector`.
    async fn labelled(&self, client: &Client, ns: &str, selector: &str) -> Result<Vec<String>, String> {
        let mut found = Vec::new();
        for resource in &self.0 {
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, resource);
            let list = api
                .list(&ListParams::default().labels(selector))
                .await
                .map_err(|e| format!("listing {} in {ns}: {e}", resource.plural))?;
            found.extend(
                list.items
                    .iter()
                    .map(|o| format!("{}/{}", resource.kind, o.name_any())),
            );
        }
        Ok(found)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn department_owners_manage_services_in_their_own_namespace_and_nowhere_else() {
    let _turn = cp::turn().await;
    let estate = converge_samples().await;
    let client = &estate.client;
    // A Secret of health's: a refusal to read it is then RBAC's, not a 404.
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "records-signing-key"},
        "stringData": {"key": "not for finance"},
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), HEALTH)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();

    let mut filed = Vec::new();
    for (kind, user, groups) in FINANCE_OWNERS {
        let owner = cp::impersonating(&estate.plane, user, groups).await;
        let what = |action: &str| format!("{kind} owner {user} {action}");
        let own: Api<DepartmentService> = Api::namespaced(owner.clone(), FINANCE);
        let name = format!("filed-by-{}", kind.to_lowercase());
        own.create(&PostParams::default(), &small_service(FINANCE, &name))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", what("creating a service in its namespace")));
        filed.push(name.clone());
        let listed: BTreeSet<String> = own
            .list(&ListParams::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", what("listing its services")))
            .iter()
            .map(ResourceExt::name_any)
            .collect();
        assert!(
            listed.contains("budget-planning") && listed.contains(&name),
            "{} sees {listed:?}",
            what("listing its services")
        );

        let theirs: Api<DepartmentService> = Api::namespaced(owner.clone(), HEALTH);
        assert_forbidden(
            &what("creating a service in dept-health"),
            theirs
                .create(&PostParams::default(), &small_service(HEALTH, &name))
                .await,
        );
        assert_forbidden(
            &what("reading dept-health's service"),
            theirs.get("electronic-health-records").await,
        );
        assert_forbidden(
            &what("listing dept-health's services"),
            theirs.list(&ListParams::default()).await,
        );
        assert_forbidden(
            &what("deleting dept-health's service"),
            theirs
                .delete("electronic-health-records", &DeleteParams::default())
                .await,
        );
        let health_secrets: Api<Secret> = Api::namespaced(owner.clone(), HEALTH);
        assert_forbidden(
            &what("reading dept-health's Secret"),
            health_secrets.get("records-signing-key").await,
        );
        assert_forbidden(
            &what("listing dept-health's Secrets"),
            health_secrets.list(&ListParams::default()).await,
        );
        assert_forbidden(
            &what("listing services across namespaces"),
            Api::<DepartmentService>::all(owner.clone())
                .list(&ListParams::default())
                .await,
        );
        // Decisions are the operator's: an owner reads its service's status, never writes it.
        assert_forbidden(
            &what("writing its service's status"),
            own.patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({"status": {"phase": "Ready", "pool": "classified-east"}})),
            )
            .await,
        );
        // What the operator runs for it: to look at, not to change.
        let deployments: Api<Deployment> = Api::namespaced(owner.clone(), FINANCE);
        deployments
            .get("budget-planning")
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", what("reading its Deployment")));
        assert_forbidden(
            &what("scaling its Deployment"),
            deployments
                .patch(
                    "budget-planning",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"spec": {"replicas": 5}})),
                )
                .await,
        );
    }

    // Without the department's binding, nothing: the access above is the owners'.
    let stranger = cp::impersonating(&estate.plane, "someone@elsewhere.example", &[]).await;
    assert_forbidden(
        "a user of no department creating a service in dept-finance",
        Api::<DepartmentService>::namespaced(stranger, FINANCE)
            .create(&PostParams::default(), &small_service(FINANCE, "stray"))
            .await,
    );
    // The audit log holds each refusal under the identity refused, the record the
    // operator's own requests are checked against.
    let events = estate.plane.audit();
    for (kind, user, _) in FINANCE_OWNERS {
        let refused = events
            .iter()
            .filter(|e| e["impersonatedUser"]["username"] == user && e["responseStatus"]["code"] == 403)
            .count();
        assert_eq!(
            refused, 9,
            "{kind} owner {user}: the audit log should hold the 9 refusals the loop above asked for"
        );
    }
    // An owner's service is decided like any other: admitted and placed.
    let services: Api<DepartmentService> = Api::namespaced(client.clone(), FINANCE);
    eventually("the owners' services placed by the operator", || async {
        for name in &filed {
            let s = services.get(name).await.map_err(|e| e.to_string())?;
            let placed = condition(s.status.as_ref(), "Placed");
            if placed.as_ref().is_none_or(|c| c["status"] != "True") {
                return Err(format!("{name}: Placed {placed:?}"));
            }
        }
        Ok(())
    })
    .await;
    estate.assert_never_forbidden();
}

/// A Pod that meets the namespace's Pod Security `restricted` standard, with one
/// container per entry of `cpu_millis`, each requesting (and limited to) that much CPU.
fn restricted_pod(name: &str, cpu_millis: &[i64]) -> Pod {
    let containers: Vec<Value> = cpu_millis
        .iter()
        .enumerate()
        .map(|(i, cpu)| {
            let amounts = json!({"cpu": format!("{cpu}m"), "memory": "64Mi"});
            json!({
                "name": format!("c{i}"),
                "image": "registry.gov.example/checks/echo:1.0.0",
                "resources": {"requests": amounts, "limits": amounts},
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"]},
                },
            })
        })
        .collect();
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "securityContext": {
                "runAsNonRoot": true,
                "runAsUser": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": containers,
        },
    }))
    .expect("a Pod")
}

fn millicores(q: &Quantity) -> i64 {
    govcloud::quantity::parse_cpu(&q.0).unwrap_or_else(|e| panic!("cpu quantity {:?}: {e}", q.0))
}

/// `(hard, used)` of one resource of the department quota in `ns`.
async fn quota_of(client: &Client, ns: &str, resource: &str) -> (Quantity, Quantity) {
    let quota = Api::<ResourceQuota>::namespaced(client.clone(), ns)
        .get(QUOTA)
        .await
        .unwrap_or_else(|e| panic!("ResourceQuota {ns}/{QUOTA}: {e}"));
    let pick = |m: Option<&BTreeMap<String, Quantity>>| {
        m.and_then(|m| m.get(resource))
            .cloned()
            .unwrap_or_else(|| panic!("{ns}/{QUOTA} does not count {resource}: {quota:?}"))
    };
    (
        pick(quota.status.as_ref().and_then(|s| s.hard.as_ref())),
        pick(quota.status.as_ref().and_then(|s| s.used.as_ref())),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_server_holds_a_department_to_its_quota_whatever_bypasses_the_operator() {
    let _turn = cp::turn().await;
    let estate = converge_samples().await;
    // Every pod of the estate exists, so nothing else moves the quota while we look.
    estate.wait_until_ready().await;
    let client = &estate.client;
    let ns = "dept-transport";
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);

    let (hard, used) = quota_of(client, ns, "requests.cpu").await;
    let left = millicores(&hard) - millicores(&used);
    assert!(left > 0, "{ns} has no CPU left: hard {hard:?}, used {used:?}");
    // Asking for more than is left, in containers the LimitRange admits (its max per
    // container), so that it is the quota that refuses, not the LimitRange.
    let max = Api::<LimitRange>::namespaced(client.clone(), ns)
        .get("govcloud-limits")
        .await
        .expect("the department's LimitRange")
        .spec
        .and_then(|s| s.limits.into_iter().find_map(|l| l.max?.get("cpu").cloned()))
        .map_or(i64::MAX, |q| millicores(&q));
    let wanted = left + 500;
    let containers = (wanted as u64).div_ceil(max as u64).max(1);
    let each = (wanted as u64).div_ceil(containers) as i64;
    let over = restricted_pod("hand-made-over-quota", &vec![each; containers as usize]);
    match pods.create(&PostParams::default(), &over).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403, "{status:?}");
            assert!(
                status.message.contains(&format!("exceeded quota: {QUOTA}"))
                    && status.message.contains("requests.cpu"),
                "refused, but not by the quota on requests.cpu: {}",
                status.message
            );
            println!("{ns}: {left}m CPU left, {wanted}m refused: {}", status.message);
        }
        other => panic!("a pod asking {wanted}m CPU with {left}m left was not refused: {other:?}"),
    }

    let within = (left / 2).min(500);
    pods.create(
        &PostParams::default(),
        &restricted_pod("hand-made-within-quota", &[within]),
    )
    .await
    .unwrap_or_else(|e| panic!("a pod asking {within}m CPU with {left}m left: {e}"));
    let (_, after) = quota_of(client, ns, "requests.cpu").await;
    assert_eq!(
        millicores(&after),
        millicores(&used) + within,
        "the admitted pod is charged to the quota, the refused one is not"
    );

    // DepartmentServices are counted too: the last one beyond the count is refused.
    let (hard, used) = quota_of(client, ns, SERVICE_COUNT).await;
    let room: i64 = hard.0.parse::<i64>().unwrap() - used.0.parse::<i64>().unwrap();
    assert!(
        (1..=3).contains(&room),
        "the sample department is nearly full: {used:?} of {hard:?} services"
    );
    let services: Api<DepartmentService> = Api::namespaced(client.clone(), ns);
    for i in 0..room {
        services
            .create(
                &PostParams::default(),
                &small_service(ns, &format!("by-hand-{i}")),
            )
            .await
            .unwrap_or_else(|e| panic!("service {} of {room} left: {e}", i + 1));
    }
    match services
        .create(&PostParams::default(), &small_service(ns, "one-too-many"))
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403, "{status:?}");
            assert!(
                status.message.contains("exceeded quota") && status.message.contains(SERVICE_COUNT),
                "refused, but not by the service count: {}",
                status.message
            );
        }
        other => panic!("a DepartmentService beyond {hard:?} was admitted: {other:?}"),
    }
    estate.assert_never_forbidden();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_service_loses_what_it_owned_to_the_garbage_collector_even_with_the_operator_down() {
    let _turn = cp::turn().await;
    let mut estate = converge_samples().await;
    estate.wait_until_ready().await;
    let client = estate.client.clone();
    let (ns, name) = (HEALTH, "hospital-appointments");
    let selector = format!("govcloud.io/service={name}");
    let kinds = Kinds::discover(&client).await;
    let service = Api::<DepartmentService>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .unwrap();
    let uid = service.uid().unwrap();
    // What the service owns directly; pods and ReplicaSets hang off its Deployment.
    let mut owned: BTreeSet<(String, String)> = BTreeSet::new();
    for resource in &kinds.0 {
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, resource);
        for o in api.list(&ListParams::default()).await.unwrap() {
            if o.owner_references().iter().any(|r| r.uid == uid) {
                owned.insert((resource.plural.clone(), o.name_any()));
            }
        }
    }
    let owned_kinds: BTreeSet<&str> = owned.iter().map(|(k, _)| k.as_str()).collect();
    for kind in ["deployments", "services", "poddisruptionbudgets"] {
        assert!(
            owned_kinds.contains(kind),
            "a High availability service owns a {kind}: {owned:?}"
        );
    }
    let before = kinds.labelled(&client, ns, &selector).await.unwrap();
    assert!(before.iter().any(|o| o.starts_with("Pod/")), "{before:?}");

    // The operator stopped: whatever goes now goes by the garbage collector alone.
    estate.operator.terminate();
    let status = estate.operator.wait_for_exit(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "{status:?}\n{}",
        estate.operator_log()
    );
    let since = Timestamp::now();
    delete_service(&client, ns, name).await;
    eventually("everything labelled with the deleted service going", || async {
        let left = kinds.labelled(&client, ns, &selector).await?;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{left:?}"))
        }
    })
    .await;
    let gc = "system:serviceaccount:kube-system:generic-garbage-collector";
    let events = estate.plane.audit();
    let deleted_by_gc: BTreeSet<(String, String)> = events
        .iter()
        .filter(|e| e["user"]["username"] == gc && e["verb"] == "delete")
        .filter(|e| e["objectRef"]["namespace"] == ns && cp::received(e) >= since)
        .map(|e| {
            (
                e["objectRef"]["resource"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["objectRef"]["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let missed: Vec<_> = owned.difference(&deleted_by_gc).collect();
    assert!(
        missed.is_empty(),
        "owned objects the garbage collector did not delete: {missed:?} (it deleted {deleted_by_gc:?})"
    );
    println!(
        "the garbage collector deleted what {ns}/{name} owned, {owned:?}, and {} dependents of those",
        deleted_by_gc.len() - owned.len()
    );

    // Back up, the operator finds nothing to bring back.
    estate.operator = cp::start_operator(
        &estate.plane,
        "operator-restarted",
        &estate.kubeconfig,
        &cp::operator_config("5s", ""),
        &[],
    );
    wait_for_passes(&estate.operator, 2).await;
    let left = kinds.labelled(&client, ns, &selector).await.unwrap();
    assert!(left.is_empty(), "the restarted operator brought back {left:?}");
    estate.assert_never_forbidden();
}

/// The Events published about one cluster-scoped govcloud object (`kind`, `name`).
async fn events_about(client: &Client, kind: &str, name: &str) -> Vec<Event> {
    Api::<Event>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("listing Events")
        .items
        .into_iter()
        .filter(|e| {
            e.regarding
                .as_ref()
                .is_some_and(|r| r.kind.as_deref() == Some(kind) && r.name.as_deref() == Some(name))
        })
        .collect()
}

/// Waits until Department `dept` is held (deletionTimestamp set, finalizer kept) with
/// `DeletionBlocked` naming exactly `remaining`, and returns its message.
async fn expect_held(client: &Client, dept: &str, ns: &str, remaining: &[String]) -> String {
    let departments: Api<Department> = Api::all(client.clone());
    let want: BTreeSet<String> = remaining.iter().map(|s| format!("{ns}/{s}")).collect();
    let message = std::sync::Mutex::new(String::new());
    eventually(
        "the department held, naming the services that hold it",
        || async {
            let d = departments
                .get_opt(dept)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the Department went while its services remain")?;
            if d.metadata.deletion_timestamp.is_none() {
                return Err("no deletionTimestamp".into());
            }
            let c = condition(d.status.as_ref(), "DeletionBlocked").ok_or("no DeletionBlocked yet")?;
            let said = c["message"].as_str().unwrap_or_default();
            if c["status"] != "True" || c["reason"] != "ServicesRemain" || waiting_for(said) != want {
                return Err(format!("DeletionBlocked {c}, want it to name {want:?}"));
            }
            if !said.contains(&format!("DepartmentServices in namespace {ns} are deleted")) {
                return Err(format!("the message does not say what to do: {said}"));
            }
            *message.lock().unwrap() = said.to_string();
            Ok(())
        },
    )
    .await;
    message.into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_department_is_held_until_its_services_go_then_its_namespace_is_terminated() {
    let _turn = cp::turn().await;
    let estate = converge_samples().await;
    let client = estate.client.clone();
    let (dept, ns) = ("transport", "dept-transport");
    let departments: Api<Department> = Api::all(client.clone());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let services: Api<DepartmentService> = Api::namespaced(client.clone(), ns);
    eventually("the department holding govcloud's finalizer", || async {
        let d = departments.get(dept).await.map_err(|e| e.to_string())?;
        if d.finalizers().iter().any(|f| f == FINALIZER) {
            Ok(())
        } else {
            Err(format!("finalizers {:?}", d.finalizers()))
        }
    })
    .await;
    let mut remaining: Vec<String> = services
        .list(&ListParams::default())
        .await
        .unwrap()
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    remaining.sort();
    assert!(remaining.len() > 1, "{remaining:?}");

    departments.delete(dept, &DeleteParams::default()).await.unwrap();
    // What `kubectl describe department transport` shows: still there, being deleted,
    // and why, naming every service of its namespace (refused ones too).
    let message = expect_held(&client, dept, ns, &remaining).await;
    eventually("a Warning Event saying why the deletion waits", || async {
        let told = events_about(&client, "Department", dept)
            .await
            .into_iter()
            .any(|e| {
                e.type_.as_deref() == Some("Warning")
                    && e.reason.as_deref() == Some("ServicesRemain")
                    && e.note.as_deref() == Some(message.as_str())
            });
        if told {
            Ok(())
        } else {
            Err(format!("no Warning ServicesRemain Event saying {message:?}"))
        }
    })
    .await;
    // Held, the department keeps running: its namespace and workloads stay.
    let live = namespaces.get(ns).await.unwrap();
    assert_eq!(
        live.status.and_then(|s| s.phase).as_deref(),
        Some("Active"),
        "the namespace stays while the department is held"
    );
    Api::<Deployment>::namespaced(client.clone(), ns)
        .get("bus-realtime")
        .await
        .expect("the held department's workloads keep running");

    // Each deletion is told in the condition; the hold was an Event once (a new Event
    // per change would be folded by the event recorder into the first one's series,
    // whose note stays the first list).
    let last = remaining.pop().unwrap();
    for s in &remaining {
        delete_service(&client, ns, s).await;
    }
    expect_held(&client, dept, ns, std::slice::from_ref(&last)).await;

    let since = std::time::Instant::now();
    delete_service(&client, ns, &last).await;
    eventually("the department and its namespace gone", || async {
        if let Some(d) = departments.get_opt(dept).await.map_err(|e| e.to_string())? {
            return Err(format!("Department still there: {:?}", d.status));
        }
        match namespaces.get_opt(ns).await.map_err(|e| e.to_string())? {
            Some(n) => Err(format!("namespace {ns}: {:?}", n.status)),
            None => Ok(()),
        }
    })
    .await;
    println!(
        "namespace {ns} terminated {:?} after its last service was deleted",
        since.elapsed()
    );
    for other in ["dept-finance", "dept-health"] {
        assert!(
            namespaces.get_opt(other).await.unwrap().is_some(),
            "{other} is untouched"
        );
    }
    estate.assert_never_forbidden();
}

/// Each node's pool (its `govcloud.io/pool` label).
async fn node_pools(client: &Client) -> BTreeMap<String, String> {
    Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|n| {
            let pool = n.labels().get("govcloud.io/pool")?.clone();
            Some((n.name_any(), pool))
        })
        .collect()
}

/// Whether the pods that run `s` (its own, or its shared instance's) are all on nodes of
/// `pool`, Running, as many as their Deployments want.
async fn runs_on(
    client: &Client,
    s: &DepartmentService,
    pool: &str,
    nodes: &BTreeMap<String, String>,
) -> Result<(), String> {
    let status = s.status.clone().unwrap_or_default();
    let (ns, selector) = match &status.shared_instance {
        Some(instance) => (
            "govcloud-shared".to_string(),
            format!("govcloud.io/instance={instance}"),
        ),
        None => (
            s.namespace().unwrap(),
            format!("govcloud.io/service={}", s.name_any()),
        ),
    };
    let params = ListParams::default().labels(&selector);
    let wanted: i32 = Api::<Deployment>::namespaced(client.clone(), &ns)
        .list(&params)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1))
        .sum();
    let pods = Api::<Pod>::namespaced(client.clone(), &ns)
        .list(&params)
        .await
        .map_err(|e| e.to_string())?;
    let mut running = 0;
    for pod in pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()) {
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let phase = pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        let on = nodes.get(&node).map(String::as_str);
        if on != Some(pool) || phase != "Running" {
            return Err(format!(
                "{}: pod {} on {node:?} ({on:?}), {phase}",
                key(s),
                pod.name_any()
            ));
        }
        running += 1;
    }
    if running != wanted || wanted == 0 {
        return Err(format!(
            "{}: {running} of {wanted} pods running on {pool}",
            key(s)
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_pool_moves_what_can_move_keeps_the_rest_running_and_goes_once_empty() {
    let _turn = cp::turn().await;
    let estate = converge_samples().await;
    estate.wait_until_ready().await;
    let client = estate.client.clone();
    let drained = "classified-east";
    let pools: Api<ResourcePool> = Api::all(client.clone());
    let levels: BTreeMap<String, u8> = pools
        .list(&ListParams::default())
        .await
        .unwrap()
        .iter()
        .map(|p| (p.name_any(), p.spec.security_level))
        .collect();
    let allowed: BTreeMap<String, Vec<String>> = estate
        .estate
        .departments
        .iter()
        .map(|d| (format!("dept-{}", d.name_any()), d.spec.pools.clone()))
        .collect();
    let nodes = node_pools(&client).await;
    let on_pool: Vec<String> = estate
        .services()
        .await
        .iter()
        .filter(|s| s.status.as_ref().and_then(|st| st.pool.as_deref()) == Some(drained))
        .map(key)
        .collect();
    // Health's level 3 workloads may run on no other pool: its allow-list names only
    // general-east (level 2) and classified-east.
    let stuck = [
        "dept-health/disease-surveillance",
        "dept-health/electronic-health-records",
        "dept-health/vaccination-registry",
    ];
    for s in stuck {
        assert!(
            on_pool.contains(&s.to_string()),
            "{s} runs on {drained}: {on_pool:?}"
        );
    }
    eventually("the pool holding govcloud's finalizer", || async {
        let p = pools.get(drained).await.map_err(|e| e.to_string())?;
        if p.finalizers().iter().any(|f| f == FINALIZER) {
            Ok(())
        } else {
            Err("none".into())
        }
    })
    .await;

    // The sample pools and departments keep weekend windows: decommissioning a pool on
    // any other day takes the break-glass annotation (docs/maintenance.md).
    pools
        .patch(
            drained,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"govcloud.io/apply-now": "decommissioned"}}})),
        )
        .await
        .unwrap();
    pools.delete(drained, &DeleteParams::default()).await.unwrap();
    let outcome = std::sync::Mutex::new((BTreeMap::new(), BTreeSet::new()));
    eventually("the pool drained of what can move, held by the rest", || async {
        let pool = pools
            .get_opt(drained)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the pool went while services stay on it")?;
        let held = condition(pool.status.as_ref(), "DeletionBlocked").ok_or("no DeletionBlocked yet")?;
        let schedulable = condition(pool.status.as_ref(), "Schedulable");
        if schedulable
            .as_ref()
            .is_none_or(|c| c["status"] != "False" || c["reason"] != "Deleting")
        {
            return Err(format!("Schedulable {schedulable:?}"));
        }
        let named = waiting_for(held["message"].as_str().unwrap_or_default());
        let (mut now_moved, mut now_stayed) = (BTreeMap::new(), BTreeSet::new());
        for s in estate
            .services()
            .await
            .iter()
            .filter(|s| on_pool.contains(&key(s)))
        {
            let status = s.status.clone().unwrap_or_default();
            let pool = status.pool.clone().unwrap_or_default();
            if pool == drained {
                // Not taken down while it waits for room.
                let ready = condition(Some(&status), "Ready");
                if status.shared_instance.is_none() && ready.as_ref().is_none_or(|c| c["status"] != "True") {
                    return Err(format!("{} stayed but is not Ready: {ready:?}", key(s)));
                }
                now_stayed.insert(key(s));
                continue;
            }
            let level = s.spec.security_level;
            let ns = s.namespace().unwrap();
            let permitted = allowed[&ns].is_empty() || allowed[&ns].contains(&pool);
            if levels.get(&pool).is_none_or(|l| *l < level) || !permitted {
                return Err(format!("{} moved to {pool:?}, which may not take it", key(s)));
            }
            runs_on(&client, s, &pool, &nodes).await?;
            now_moved.insert(key(s), pool);
        }
        if held["status"] != "True" || held["reason"] != "ServicesRemain" || named != now_stayed {
            return Err(format!("DeletionBlocked {held} while {now_stayed:?} stay"));
        }
        *outcome.lock().unwrap() = (now_moved, now_stayed);
        Ok(())
    })
    .await;
    let (moved, stayed) = outcome.into_inner().unwrap();
    println!("{drained} deleted: moved {moved:?}; stayed {stayed:?}");
    assert!(
        !moved.is_empty(),
        "classified-west had room for some of {on_pool:?}"
    );
    for s in stuck {
        assert!(
            stayed.contains(s),
            "{s} has nowhere else to go, yet moved: {moved:?}"
        );
    }

    // A newcomer is never placed on a pool being deleted: with no other pool, it waits.
    let mut newcomer = small_service(HEALTH, "outbreak-modelling");
    newcomer.spec.security_level = 3;
    let health: Api<DepartmentService> = Api::namespaced(client.clone(), HEALTH);
    health.create(&PostParams::default(), &newcomer).await.unwrap();
    eventually("the newcomer refused for want of a pool", || async {
        let s = health
            .get("outbreak-modelling")
            .await
            .map_err(|e| e.to_string())?;
        let placed = condition(s.status.as_ref(), "Placed").ok_or("no Placed yet")?;
        let message = placed["message"].as_str().unwrap_or_default();
        if placed["status"] == "False"
            && placed["reason"] == "InsufficientCapacity"
            && message.contains("1 being deleted")
        {
            Ok(())
        } else {
            Err(format!("Placed {placed}"))
        }
    })
    .await;

    // Once nothing is left on it, the pool goes.
    for s in &stayed {
        let (ns, name) = s.split_once('/').unwrap();
        delete_service(&client, ns, name).await;
    }
    eventually("the drained pool released", || async {
        match pools.get_opt(drained).await.map_err(|e| e.to_string())? {
            Some(p) => Err(format!(
                "still there: {:?}",
                condition(p.status.as_ref(), "DeletionBlocked")
            )),
            None => Ok(()),
        }
    })
    .await;
    estate.assert_never_forbidden();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_estate_comes_down_with_kubectl_delete_and_the_operator_is_never_refused() {
    let _turn = cp::turn().await;
    let estate = converge_samples().await;
    let client = estate.client.clone();
    let kinds = Kinds::discover(&client).await;

    // One service first, with the operator up: its objects go.
    delete_service(&client, FINANCE, "budget-planning").await;
    eventually("the deleted service's objects going", || async {
        let left = kinds
            .labelled(&client, FINANCE, "govcloud.io/service=budget-planning")
            .await?;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("{left:?}"))
        }
    })
    .await;

    // Then `kubectl delete -f config/samples/`: in file order, pools before the
    // services on them, departments before their services.
    let samples = &estate.estate;
    let delete = |api: Api<DynamicObject>, name: String| async move {
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => panic!("deleting {name}: {e}"),
        }
    };
    let all = |resource: ApiResource| Api::<DynamicObject>::all_with(client.clone(), &resource);
    for p in &samples.policies {
        delete(
            all(ApiResource::erase::<govcloud::api::PlatformPolicy>(&())),
            p.name_any(),
        )
        .await;
    }
    for p in &samples.pools {
        delete(all(ApiResource::erase::<ResourcePool>(&())), p.name_any()).await;
    }
    for o in &samples.offerings {
        delete(
            all(ApiResource::erase::<govcloud::api::ServiceOffering>(&())),
            o.name_any(),
        )
        .await;
    }
    for d in &samples.departments {
        delete(all(ApiResource::erase::<Department>(&())), d.name_any()).await;
    }
    for s in &samples.services {
        let resource = ApiResource::erase::<DepartmentService>(&());
        let api = Api::namespaced_with(client.clone(), &s.namespace().unwrap(), &resource);
        delete(api, s.name_any()).await;
    }
    let started = std::time::Instant::now();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    eventually("every govcloud object and department namespace gone", || async {
        let mut left = Vec::new();
        macro_rules! none_left {
            ($kind:ty) => {
                for o in Api::<$kind>::all(client.clone())
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| e.to_string())?
                {
                    left.push(format!("{} {}", stringify!($kind), o.name_any()));
                }
            };
        }
        none_left!(govcloud::api::PlatformPolicy);
        none_left!(ResourcePool);
        none_left!(govcloud::api::ServiceOffering);
        none_left!(Department);
        none_left!(DepartmentService);
        for d in &samples.departments {
            let ns = format!("dept-{}", d.name_any());
            if namespaces
                .get_opt(&ns)
                .await
                .map_err(|e| e.to_string())?
                .is_some()
            {
                left.push(format!("namespace {ns}"));
            }
        }
        let workloads = Api::<Deployment>::all(client.clone())
            .list(&ListParams::default().labels("app.kubernetes.io/managed-by=govcloud"))
            .await
            .map_err(|e| e.to_string())?;
        left.extend(
            workloads
                .iter()
                .map(|d| format!("Deployment {}/{}", d.namespace().unwrap(), d.name_any())),
        );
        if left.is_empty() {
            Ok(())
        } else {
            Err(left.join(", "))
        }
    })
    .await;
    println!("the estate came down in {:?}", started.elapsed());
    estate.assert_never_forbidden();
}
