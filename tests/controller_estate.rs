//! Whole passes of the operator against an in-process API server double
//! (kube-fake-client): statuses and events appear, a resync with nothing changed makes
//! no write at all, and decisions survive a restart because they live in status.

use crate::support;

use govcloud::api::{DepartmentService, Phase};
use govcloud::controller::EstateReconciler;
use kube::Client;
use kube::api::Api;
use kube::runtime::events::{Recorder, Reporter};
use support::fake_cluster::{beyond_namespace_limitation, cluster, now, settled_estate, snapshot};

fn reconciler(client: &Client) -> EstateReconciler {
    let reporter = Reporter {
        controller: "govcloud".into(),
        instance: Some("test".into()),
    };
    EstateReconciler::new(client.clone(), Some(Recorder::new(client.clone(), reporter))).with_concurrency(4)
}

fn samples() -> std::path::PathBuf {
    support::repo_root().join("config/samples")
}

#[tokio::test]
async fn a_pass_writes_statuses_and_a_resync_writes_nothing() {
    let estate = settled_estate(&samples());
    let (client, writes) = cluster(&estate).await;
    let r = reconciler(&client);

    let (_, first) = r
        .pass(&snapshot(&client, &estate).await, &now())
        .await
        .expect("renders");
    assert!(
        beyond_namespace_limitation(&first.errors).is_empty(),
        "{:#?}",
        first.errors
    );
    assert!(first.summary.applied > 100, "{:?}", first.summary);
    assert_eq!(
        first.status_writes, 40,
        "one per DepartmentService; the cluster-scoped ones were settled"
    );
    assert!(
        first.events >= 40,
        "an event for each admission, placement and refusal: {}",
        first.events
    );

    let services: Api<DepartmentService> = Api::namespaced(client.clone(), "dept-finance");
    let budget = services
        .get("budget-planning")
        .await
        .unwrap()
        .status
        .expect("status written");
    assert_eq!(budget.phase, Some(Phase::Placed));
    assert_eq!(budget.pool.as_deref(), Some("classified-west"));
    let transport: Api<DepartmentService> = Api::namespaced(client.clone(), "dept-transport");
    let refused = transport.get("video-analytics").await.unwrap().status.unwrap();
    assert_eq!(refused.phase, Some(Phase::Rejected));
    let admitted = refused.conditions.iter().find(|c| c.type_ == "Admitted").unwrap();
    assert_eq!(
        (admitted.status.as_str(), admitted.reason.as_str()),
        ("False", "QuotaExceeded")
    );

    let before = writes.lock().unwrap().count;
    let (_, second) = r
        .pass(&snapshot(&client, &estate).await, &now())
        .await
        .expect("renders");
    assert!(
        beyond_namespace_limitation(&second.errors).is_empty(),
        "{:#?}",
        second.errors
    );
    assert_eq!(
        (second.summary.applied, second.status_writes, second.events),
        (0, 0, 0)
    );
    assert_eq!(
        writes.lock().unwrap().count,
        before,
        "a resync with nothing changed makes zero write calls"
    );
}

#[tokio::test]
async fn a_restarted_operator_replans_identically() {
    let estate = settled_estate(&samples());
    let (client, _) = cluster(&estate).await;
    let (first_plan, _) = reconciler(&client)
        .pass(&snapshot(&client, &estate).await, &now())
        .await
        .unwrap();
    // A new process: nothing in memory, only what the API server holds.
    let (again, report) = reconciler(&client)
        .pass(&snapshot(&client, &estate).await, &now())
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_string(&again.services).unwrap(),
        serde_json::to_string(&first_plan.services).unwrap()
    );
    assert_eq!((report.summary.applied, report.status_writes), (0, 0));
}
