//! New pod templates on a real control plane (`tests/control-plane/up`), in wall-clock
//! time: the platform team raises the PlatformPolicy's CPU limit ratio from 2 to 3. A
//! department's two Deployments keep running their template (same generation, no
//! rollout) and their services say a `Template` change waits for the department's
//! window; the department edits one of its services, whose new template (with the new
//! ratio) goes out at once; the other rolls out only once the window opens.

use crate::support;

use std::time::Duration;

use govcloud::api::{ChangeKind, DepartmentService, ResourceAmounts};
use govcloud::plan::Snapshot;
use govcloud::synthetic;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use support::control_plane::{self as cp, eventually_within};
use support::estate::{condition, converge_estate, wait_for_quiet};
use support::windows::{next_window_start, set_department_window};

const DEPARTMENT: &str = "tmpl";
const NAMESPACE: &str = "dept-tmpl";
const POOL: &str = "tmpl-pool";
/// Edited by its department while the platform's change waits.
const EDITED: &str = "tmpl-edited";
/// Waits for the department's window.
const WAITING: &str = "tmpl-waiting";

/// The samples plus a department of two small services on a pool of its own (no
/// windows of its own: the department's window is what they wait for).
fn estate() -> Snapshot {
    let mut estate = cp::sample_estate();
    let mut pool = synthetic::pool(POOL, 2, "2", "4Gi");
    pool.spec.node_shape = Some(ResourceAmounts {
        cpu: "2".into(),
        memory: "4Gi".into(),
    });
    estate.pools.push(pool);
    let mut department = synthetic::department(DEPARTMENT, 2, "4", "8Gi", 10);
    department.spec.pools = vec![POOL.into()];
    estate.departments.push(department);
    for name in [EDITED, WAITING] {
        estate
            .services
            .push(synthetic::workload(NAMESPACE, name, 2, 1, "100m", "128Mi"));
    }
    estate
}

async fn deployment(client: &Client, name: &str) -> Deployment {
    Api::<Deployment>::namespaced(client.clone(), NAMESPACE)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("getting Deployment {name}: {e}"))
}

/// The CPU limit of the Deployment's container, and the Deployment's generation.
async fn limit(client: &Client, name: &str) -> (String, Option<i64>) {
    let d = deployment(client, name).await;
    let pod = d.spec.and_then(|s| s.template.spec).expect("a pod spec");
    let limit = pod.containers[0]
        .resources
        .as_ref()
        .and_then(|r| r.limits.as_ref())
        .and_then(|l| l.get("cpu"))
        .map(|q| q.0.clone())
        .unwrap_or_default();
    (limit, d.metadata.generation)
}

async fn service(client: &Client, name: &str) -> DepartmentService {
    Api::<DepartmentService>::namespaced(client.clone(), NAMESPACE)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("getting DepartmentService {name}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_change_waits_for_the_window_and_a_departments_own_edit_does_not() {
    let _turn = cp::turn().await;
    let converged = converge_estate(estate()).await;
    let client = converged.client.clone();
    converged.wait_until_ready().await;
    wait_for_quiet(&converged.plane, &cp::operator_user()).await;
    for name in [EDITED, WAITING] {
        assert_eq!(limit(&client, name).await.0, "200m", "{name}: 100m × the ratio 2");
    }
    let (_, waiting_generation) = limit(&client, WAITING).await;

    let start = next_window_start();
    set_department_window(&client, DEPARTMENT, start).await;

    // The platform team raises the CPU limit ratio.
    Api::<govcloud::api::PlatformPolicy>::all(client.clone())
        .patch(
            "provincial-baseline",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"limitRatio": {"cpu": 3.0}}})),
        )
        .await
        .expect("changing the policy");
    eventually_within(
        "both templates held for the window",
        Duration::from_secs(30),
        || async {
            for name in [EDITED, WAITING] {
                let s = service(&client, name).await;
                let st = s.status.clone().unwrap_or_default();
                let c = condition(&s, "MaintenancePending").unwrap_or_default();
                let held = c["status"] == "True"
                    && c["reason"] == "AwaitingWindow"
                    && st.pending_change.as_ref().is_some_and(|p| {
                        p.kind == ChangeKind::Template && p.next_window.as_ref().map(|t| t.0) == Some(start)
                    });
                if !held {
                    return Err(format!("{name}: {:?} {c}", st.pending_change));
                }
            }
            Ok(())
        },
    )
    .await;
    assert_eq!(
        limit(&client, WAITING).await,
        ("200m".to_string(), waiting_generation),
        "the running template is kept: no new generation, no rollout"
    );

    // The department edits one of its services: that goes out at once, new ratio and all.
    Api::<DepartmentService>::namespaced(client.clone(), NAMESPACE)
        .patch(
            EDITED,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"workload": {"env": [{"name": "FEATURE_FLAGS", "value": "batch-import"}]}}}),
            ),
        )
        .await
        .expect("editing the service");
    eventually_within(
        "the department's own edit rolled out",
        Duration::from_secs(30),
        || async {
            let (l, _) = limit(&client, EDITED).await;
            let st = service(&client, EDITED).await.status.unwrap_or_default();
            if l == "300m" && st.pending_change.is_none() {
                Ok(())
            } else {
                Err(format!("limit {l}, pendingChange {:?}", st.pending_change))
            }
        },
    )
    .await;
    assert!(
        Timestamp::now() < start,
        "the edit was checked before the window opened"
    );
    assert_eq!(limit(&client, WAITING).await.0, "200m", "the other still waits");

    // In the window, the waiting template rolls out.
    let until_window = start.duration_since(Timestamp::now());
    let wait = Duration::try_from(until_window).unwrap_or_default() + Duration::from_secs(30);
    eventually_within("the held template rolled out in the window", wait, || async {
        let (l, _) = limit(&client, WAITING).await;
        if l == "300m" {
            Ok(())
        } else {
            Err(format!("limit {l}"))
        }
    })
    .await;
    assert!(Timestamp::now() >= start, "not before the window opened");
    let st = service(&client, WAITING).await.status.unwrap_or_default();
    assert_eq!(st.pending_change, None);
}
