//! New pod templates the departments did not ask for, through whole passes against the
//! in-process API server double (kube-fake-client): a PlatformPolicy's limit ratio
//! changes on a weekday; the Deployments keep their running template and their services
//! say what waits and until when (a department without windows still waits for its
//! pool's); in a service's window, its new template rolls out, and only its.

use crate::support;

use govcloud::api::DepartmentService;
use govcloud::controller::EstateReconciler;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Api;
use kube::Client;
use support::fake_cluster::{beyond_namespace_limitation, cluster, now, settled_estate, snapshot};

fn reconciler(client: &Client) -> EstateReconciler {
    EstateReconciler::new(client.clone(), None).with_concurrency(4)
}

async fn cpu_limit(client: &Client, namespace: &str, name: &str) -> String {
    let d = Api::<Deployment>::namespaced(client.clone(), namespace)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("Deployment {namespace}/{name}: {e}"));
    let pod = d.spec.unwrap().template.spec.unwrap();
    pod.containers[0]
        .resources
        .as_ref()
        .unwrap()
        .limits
        .as_ref()
        .unwrap()["cpu"]
        .0
        .clone()
}

/// The operator's view of the estate at `t`.
async fn at(
    client: &Client,
    estate: &govcloud::plan::Snapshot,
    t: jiff::Timestamp,
) -> govcloud::plan::Snapshot {
    let mut s = snapshot(client, estate).await;
    s.now = t;
    s
}

async fn service(client: &Client, namespace: &str, name: &str) -> DepartmentService {
    Api::<DepartmentService>::namespaced(client.clone(), namespace)
        .get(name)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_policy_change_rolls_out_in_each_departments_window() {
    let mut estate = settled_estate(&support::repo_root().join("config/samples"));
    let (client, _) = cluster(&estate).await;
    let r = reconciler(&client);
    // Wednesday 2027-03-03, noon in Shanghai: no weekend window is open.
    let weekday: jiff::Timestamp = "2027-03-03T04:00:00Z".parse().unwrap();
    r.pass(&at(&client, &estate, weekday).await, &now())
        .await
        .expect("renders");
    let (finance, education) = (
        ("dept-finance", "budget-planning"),
        ("dept-education", "student-enrolment"),
    );
    let before = cpu_limit(&client, finance.0, finance.1).await;
    let before_edu = cpu_limit(&client, education.0, education.1).await;

    // The platform team raises the CPU limit ratio from 2 to 3.
    estate.policies[0].spec.limit_ratio.as_mut().unwrap().cpu = 3.0;
    let (_, report) = r
        .pass(&at(&client, &estate, weekday).await, &now())
        .await
        .expect("renders");
    assert_eq!(
        cpu_limit(&client, finance.0, finance.1).await,
        before,
        "finance's window is on weekends: its pods keep running as they are"
    );
    assert_eq!(
        cpu_limit(&client, education.0, education.1).await,
        before_edu,
        "education has no windows of its own, but its pool general-east has: it waits too"
    );
    let edu = service(&client, education.0, education.1).await.status.unwrap();
    let edu_pending = edu
        .pending_change
        .expect("education's template waits for its pool");
    assert!(
        edu.conditions
            .iter()
            .any(|c| c.type_ == "MaintenancePending" && c.message.contains("ResourcePool \"general-east\"")),
        "{:?}",
        edu.conditions
    );
    let waiting = service(&client, finance.0, finance.1).await.status.unwrap();
    let pending = waiting.pending_change.expect("status.pendingChange");
    assert_eq!(pending.kind, govcloud::api::ChangeKind::Template);
    assert!(pending.next_window.is_some(), "{pending:?}");
    let c = waiting
        .conditions
        .iter()
        .find(|c| c.type_ == "MaintenancePending")
        .expect("MaintenancePending");
    assert_eq!((c.status.as_str(), c.reason.as_str()), ("True", "AwaitingWindow"));
    // The double holds only DepartmentServices (cluster-scoped objects are the test's),
    // so the offerings' new statuses (their instances wait too) cannot be written there.
    let unexpected: Vec<_> = beyond_namespace_limitation(&report.errors)
        .into_iter()
        .filter(|e| e.object.kind() != govcloud::object::Kind::ServiceOffering)
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");

    // A pass later on the same day changes nothing and writes no status.
    let (_, quiet) = r
        .pass(&at(&client, &estate, weekday).await, &now())
        .await
        .expect("renders");
    assert_eq!(quiet.status_writes, 0, "a waiting change is not rewritten");
    assert_eq!(quiet.summary.applied, 0, "{:?}", quiet.summary);

    // Health edits its own service meanwhile: its new template (and the waiting one with
    // it) goes out at once.
    let health = ("dept-health", "vaccination-registry");
    let health_before = cpu_limit(&client, health.0, health.1).await;
    let api = Api::<DepartmentService>::namespaced(client.clone(), health.0);
    let mut edited = api.get(health.1).await.unwrap();
    let workload = edited.spec.workload.as_mut().expect("an own workload");
    workload.env.push(govcloud::api::EnvVar {
        name: "FEATURE_FLAGS".into(),
        value: "batch-import".into(),
    });
    api.replace(health.1, &Default::default(), &edited).await.unwrap();
    r.pass(&at(&client, &estate, weekday).await, &now())
        .await
        .expect("renders");
    assert_ne!(
        cpu_limit(&client, health.0, health.1).await,
        health_before,
        "the department's own edit goes out at once, outside its windows"
    );
    let health_status = service(&client, health.0, health.1).await.status.unwrap();
    assert_eq!(health_status.pending_change, None);

    // Inside finance's window on its pool (Saturday 02:00 in Shanghai).
    let opens: Time = pending.next_window.expect("a next window");
    let inside = opens.0.checked_add(jiff::SignedDuration::from_mins(30)).unwrap();
    r.pass(&at(&client, &estate, inside).await, &now())
        .await
        .expect("renders");
    assert_ne!(
        cpu_limit(&client, finance.0, finance.1).await,
        before,
        "rolled out in the window"
    );
    let done = service(&client, finance.0, finance.1).await.status.unwrap();
    assert_eq!(done.pending_change, None);
    // Saturday 01:00 in Shanghai: general-east opens only at 02:00.
    assert_eq!(cpu_limit(&client, education.0, education.1).await, before_edu);
    assert!(inside < edu_pending.next_window.unwrap().0);
}
