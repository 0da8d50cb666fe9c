//! A write the API server rejects, on a real control plane (`tests/control-plane/up`):
//! a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1) denies the Deployment
//! of one DepartmentService. The operator shows the API server's message on that
//! service's `Applied` condition with one Warning Event, converges every other service,
//! does not hammer the rejected write (the audit log counts its attempts), and once the
//! policy's binding is deleted, creates the Deployment within the backoff's max (the
//! safety-net retry: nothing of the operator's changed, only the policy).

use crate::support;

use std::time::Duration;

use govcloud::api::{DepartmentService, ResourceAmounts};
use govcloud::plan::Snapshot;
use govcloud::synthetic;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};
use support::control_plane::{self as cp, ControlPlane, describe, eventually, eventually_within};
use support::estate::{RESYNC, condition, converge_estate_after};

const DEPARTMENT: &str = "rejections";
const NAMESPACE: &str = "dept-rejections";
const BLOCKED: &str = "blocked-app";
const OTHER: &str = "other-app";
const POLICY: &str = "govcloud-test-no-blocked-app";
const DENIAL: &str = "the Deployment of blocked-app is not allowed on this cluster";
/// `controller.backoff.max` of `operator_config`: how long a rejected write waits
/// before it is tried again unchanged.
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// The samples plus a department of two small services on a pool of its own.
fn estate() -> Snapshot {
    let mut estate = cp::sample_estate();
    let mut pool = synthetic::pool("rejections-pool", 2, "8", "16Gi");
    pool.spec.node_shape = Some(ResourceAmounts {
        cpu: "8".into(),
        memory: "16Gi".into(),
    });
    let mut department = synthetic::department(DEPARTMENT, 2, "4", "8Gi", 10);
    department.spec.pools = vec!["rejections-pool".into()];
    estate.pools.push(pool);
    estate.departments.push(department);
    for name in [BLOCKED, OTHER] {
        estate
            .services
            .push(synthetic::workload(NAMESPACE, name, 2, 1, "100m", "128Mi"));
    }
    estate
}

/// Denies every Deployment labelled as `blocked-app`'s, whoever writes it.
fn policy() -> [Value; 2] {
    [
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": POLICY},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {"resourceRules": [{
                    "apiGroups": ["apps"], "apiVersions": ["v1"],
                    "operations": ["CREATE", "UPDATE"], "resources": ["deployments"],
                }]},
                "validations": [{"expression": "false", "message": DENIAL}],
            },
        }),
        json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": POLICY},
            "spec": {
                "policyName": POLICY,
                "validationActions": ["Deny"],
                "matchResources": {"objectSelector": {"matchLabels": {"govcloud.io/service": BLOCKED}}},
            },
        }),
    ]
}

/// Waits until the policy denies (it takes effect a moment after it is stored): a
/// server-side dry run of such a Deployment is refused.
async fn policy_in_force(client: &Client) {
    let probe: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "probe", "labels": {"govcloud.io/service": BLOCKED}},
        "spec": {
            "selector": {"matchLabels": {"app": "probe"}},
            "template": {
                "metadata": {"labels": {"app": "probe"}},
                "spec": {"containers": [{"name": "c", "image": "registry.example/probe:1"}]},
            },
        },
    }))
    .unwrap();
    let api: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    eventually("the admission policy in force", || async {
        match api.create(&dry, &probe).await {
            Err(kube::Error::Api(s)) if s.message.contains(DENIAL) => Ok(()),
            other => Err(format!("a dry run of a denied Deployment: {other:?}")),
        }
    })
    .await;
}

async fn service(client: &Client, name: &str) -> DepartmentService {
    Api::<DepartmentService>::namespaced(client.clone(), NAMESPACE)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("getting DepartmentService {name}: {e}"))
}

async fn deployment(client: &Client, name: &str) -> Option<Deployment> {
    Api::<Deployment>::namespaced(client.clone(), NAMESPACE)
        .get_opt(name)
        .await
        .unwrap()
}

/// The Events about `blocked-app` with reason `reason`.
async fn events(client: &Client, reason: &str) -> Vec<Event> {
    support::windows::events_about(client, NAMESPACE, BLOCKED, reason).await
}

fn attempts(plane: &ControlPlane, since: Option<Timestamp>) -> Vec<Value> {
    let audit = plane.audit();
    cp::writes_by(&audit, &cp::operator_user(), since)
        .into_iter()
        .filter(|e| e["objectRef"]["resource"] == "deployments" && e["objectRef"]["name"] == BLOCKED)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_an_admission_policy_denies_is_shown_not_hammered_and_made_once_allowed() {
    let _turn = cp::turn().await;
    let estate = estate();
    let converged = converge_estate_after(estate, |client| async move {
        for o in policy() {
            cp::apply_value(&client, &o, None, "platform-team").await;
        }
        policy_in_force(&client).await;
    })
    .await;
    let client = converged.client.clone();

    // The rejection, on the service, in the API server's words.
    eventually("blocked-app's Applied condition", || async {
        let s = service(&client, BLOCKED).await;
        let c = condition(&s, "Applied").ok_or("no Applied condition yet")?;
        let message = c["message"].as_str().unwrap_or_default();
        let expected = format!("Deployment {NAMESPACE}/{BLOCKED}");
        if c["status"] == "False"
            && c["reason"] == "Rejected"
            && message.contains(&expected)
            && message.contains(DENIAL)
        {
            Ok(())
        } else {
            Err(format!("Applied: {c}"))
        }
    })
    .await;
    let shown = Timestamp::now();
    assert!(
        deployment(&client, BLOCKED).await.is_none(),
        "the policy denied it"
    );
    // Every other service converges, the one beside it included.
    eventually("other-app Ready", || async {
        let s = service(&client, OTHER).await;
        match condition(&s, "Ready") {
            Some(c) if c["status"] == "True" => Ok(()),
            c => Err(format!("other-app Ready: {c:?}")),
        }
    })
    .await;
    assert!(condition(&service(&client, OTHER).await, "Applied").is_none());

    // Over 20 s nothing changes: at most the safety-net retries, and no Event storm.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let since = attempts(&converged.plane, Some(shown));
    let all = attempts(&converged.plane, None);
    println!(
        "attempts at blocked-app's Deployment: {} in all, {} in the 20 s after the condition showed:\n{}",
        all.len(),
        since.len(),
        describe(&since.iter().collect::<Vec<_>>())
    );
    assert!(
        since.len() <= 3,
        "the rejected write was hammered:\n{}\n{}",
        describe(&since.iter().collect::<Vec<_>>()),
        converged.operator_log()
    );
    assert!(
        all.iter()
            .all(|e| e["responseStatus"]["code"].as_u64().is_some_and(|c| c >= 400)),
        "every attempt was refused"
    );
    let warnings = events(&client, "ApplyRejected").await;
    assert_eq!(warnings.len(), 1, "one Event: {warnings:#?}");
    assert!(
        warnings[0].note.as_deref().unwrap_or_default().contains(DENIAL),
        "{:?}",
        warnings[0].note
    );

    // The platform team lifts the policy: nothing of govcloud's changed, so the
    // safety-net retry makes the Deployment.
    Api::<kube::api::DynamicObject>::all_with(
        client.clone(),
        &kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingAdmissionPolicyBinding",
        )),
    )
    .delete(POLICY, &DeleteParams::default())
    .await
    .expect("deleting the binding");
    let lifted = std::time::Instant::now();
    eventually_within(
        "blocked-app's Deployment made and Applied True",
        BACKOFF_MAX + RESYNC + Duration::from_secs(20),
        || async {
            let s = service(&client, BLOCKED).await;
            let applied = condition(&s, "Applied");
            match (deployment(&client, BLOCKED).await, &applied) {
                (Some(_), Some(c)) if c["status"] == "True" && c["reason"] == "Applied" => Ok(()),
                (d, _) => Err(format!("Deployment made: {}; Applied: {applied:?}", d.is_some())),
            }
        },
    )
    .await;
    println!(
        "blocked-app converged {:?} after the binding was deleted",
        lifted.elapsed()
    );
    assert_eq!(events(&client, "Applied").await.len(), 1, "and says so once");
    assert_eq!(events(&client, "ApplyRejected").await.len(), 1);
    drop(converged);
}
