//! End to end on a real cluster (kind, or any disposable cluster):
//!
//! - `govcloud run` from this build, with the kubeconfig's own (admin) rights: the CRDs
//!   install, the operator converges the sample estate to the golden plan, follows a
//!   deletion, releases its finalizer on every department and pool as the estate is
//!   taken down (deleting the department namespaces), and stops on SIGTERM;
//! - the Helm chart: its objects rendered by real Helm with the default values and the
//!   image `GOVCLOUD_E2E_IMAGE` (already loaded into the cluster, e.g. with `kind load
//!   docker-image`), applied as `helm install` would, then the samples applied as the
//!   README says. The pod must become available under the restricted security context,
//!   converge the estate with nothing but the chart's RBAC, and log no request the API
//!   server forbade.
//!
//! They need a cluster, so they are `#[ignore]`d and reported as ignored (never as
//! passed) unless run on purpose, one at a time (they share the sample estate):
//!
//! ```sh
//! GOVCLOUD_E2E_KUBECONFIG=$HOME/.kube/config cargo test --test integration -- --ignored e2e_kind::
//! ```
//!
//! Without a variable a test needs it fails at once, saying so: asking for it and not
//! getting it is an error, not a pass.

use crate::support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use govcloud::api::{Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};
use govcloud::plan::Snapshot;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{
    Api, DeleteParams, DynamicObject, GroupVersionKind, ListParams, LogParams, Patch, PatchParams,
};
use kube::discovery::{Scope, pinned_kind};
use kube::{Client, Resource, ResourceExt};
use serde_json::Value;
use support::chart;
use support::control_plane::{CONVERGE, client_for, eventually, install_crds, sample_estate};
use support::estate::apply_samples;
use support::process::Process;

const VAR: &str = "GOVCLOUD_E2E_KUBECONFIG";
const IMAGE_VAR: &str = "GOVCLOUD_E2E_IMAGE";

/// The tests share the sample estate, so they take turns.
static ESTATE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn kubeconfig() -> String {
    std::env::var(VAR).unwrap_or_else(|_| panic!("{VAR} is not set: point it at a disposable cluster"))
}
async fn apply<K>(api: &Api<K>, obj: &K)
where
    K: Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut obj = obj.clone();
    obj.meta_mut().resource_version = None;
    let params = PatchParams::apply("govcloud-e2e").force();
    api.patch(&obj.name_any(), &params, &Patch::Apply(&obj))
        .await
        .expect("applying a sample");
}

/// The README's sample steps (support::estate::apply_samples: cluster-scoped kinds, the
/// counted department quotas, the services in name order so that arrival order matches
/// the golden plan's), then waits for every service's status to match the golden plan.
async fn apply_samples_and_converge(client: &Client, estate: &Snapshot) {
    apply_samples(client, estate).await;
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(support::repo_root().join("tests/golden/sample-plan.json")).unwrap(),
    )
    .unwrap();
    eventually("every service's status matching the golden plan", || async {
        for want in golden["services"].as_array().unwrap() {
            let (ns, name) = (
                want["namespace"].as_str().unwrap(),
                want["name"].as_str().unwrap(),
            );
            let got = Api::<DepartmentService>::namespaced(client.clone(), ns)
                .get(name)
                .await
                .map_err(|e| e.to_string())?;
            let status = got.status.unwrap_or_default();
            if status.pool.as_deref() != want["pool"].as_str()
                || status.shared_instance.as_deref() != want["sharedInstance"].as_str()
            {
                return Err(format!(
                    "{ns}/{name}: pool {:?}, instance {:?}",
                    status.pool, status.shared_instance
                ));
            }
        }
        Ok(())
    })
    .await;
}

/// Deleting a service removes its Deployment.
async fn delete_a_service(client: &Client) {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "dept-finance");
    deployments
        .get("budget-planning")
        .await
        .expect("the workload's Deployment exists");
    Api::<DepartmentService>::namespaced(client.clone(), "dept-finance")
        .delete("budget-planning", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the deleted service's Deployment going", || async {
        match deployments.get_opt("budget-planning").await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err("still there".into()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
}

/// Leaves the cluster as found, through the operator: the services first, then the
/// departments and pools, whose finalizer it releases once nothing depends on them
/// (deleting each department's namespace first).
async fn tear_down_estate(client: &Client, estate: &Snapshot) {
    for s in &estate.services {
        let _ = Api::<DepartmentService>::namespaced(client.clone(), &s.namespace().unwrap())
            .delete(&s.name_any(), &DeleteParams::default())
            .await;
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let departments: Api<Department> = Api::all(client.clone());
    let pools: Api<ResourcePool> = Api::all(client.clone());
    for d in &estate.departments {
        departments
            .delete(&d.name_any(), &DeleteParams::default())
            .await
            .unwrap();
    }
    for p in &estate.pools {
        pools
            .delete(&p.name_any(), &DeleteParams::default())
            .await
            .unwrap();
    }
    eventually("the operator releasing every department and pool", || async {
        for d in &estate.departments {
            if let Some(held) = departments
                .get_opt(&d.name_any())
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("Department {} is held: {:?}", d.name_any(), held.status));
            }
            let ns = format!("dept-{}", d.name_any());
            if namespaces
                .get_opt(&ns)
                .await
                .map_err(|e| e.to_string())?
                .is_some()
            {
                return Err(format!("namespace {ns} is still there"));
            }
        }
        for p in &estate.pools {
            if pools
                .get_opt(&p.name_any())
                .await
                .map_err(|e| e.to_string())?
                .is_some()
            {
                return Err(format!("ResourcePool {} is held", p.name_any()));
            }
        }
        Ok(())
    })
    .await;
    for o in &estate.offerings {
        let _ = Api::<ServiceOffering>::all(client.clone())
            .delete(&o.name_any(), &DeleteParams::default())
            .await;
    }
    for o in &estate.policies {
        let _ = Api::<PlatformPolicy>::all(client.clone())
            .delete(&o.name_any(), &DeleteParams::default())
            .await;
    }
}

#[tokio::test]
#[ignore = "needs a real cluster: set GOVCLOUD_E2E_KUBECONFIG and run with --ignored (docs/operator.md: try it on kind)"]
async fn the_operator_converges_the_samples_on_a_real_cluster() {
    let kubeconfig = kubeconfig();
    let _turn = ESTATE.lock().await;
    let client = client_for(Path::new(&kubeconfig)).await;
    install_crds(&client).await;
    let estate = sample_estate();

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("operator.log");
    let child = Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .args(["run", "--http-address", "127.0.0.1:0"])
        .env("KUBECONFIG", &kubeconfig)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starting govcloud run");
    let mut operator = Process {
        name: "govcloud run",
        child,
        log,
    };

    apply_samples_and_converge(&client, &estate).await;
    delete_a_service(&client).await;
    tear_down_estate(&client, &estate).await;

    operator.terminate();
    let status = operator
        .wait_for_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no exit after SIGTERM\n{}", operator.log()));
    assert!(status.success(), "exit {status}\n{}", operator.log());
    let _ = Api::<Namespace>::all(client.clone())
        .delete("govcloud-shared", &DeleteParams::default())
        .await;
}

/// Splits `repository[:tag]` (a registry port is not a tag).
fn image_values(image: &str) -> String {
    let (repository, tag) = match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    };
    // IfNotPresent: an image loaded into kind is used rather than pulled.
    format!("image:\n  repository: {repository:?}\n  tag: {tag:?}\n  pullPolicy: IfNotPresent\n")
}

/// Server-side applies one rendered object, finding its resource by discovery as Helm does.
async fn apply_rendered(client: &Client, object: &Value) -> (Api<DynamicObject>, String) {
    let object = chart::strip(object);
    let (group, version) = match object["apiVersion"].as_str().unwrap().split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), object["apiVersion"].as_str().unwrap().to_string()),
    };
    let gvk = GroupVersionKind::gvk(&group, &version, chart::kind(&object));
    let (resource, caps) = pinned_kind(client, &gvk)
        .await
        .unwrap_or_else(|e| panic!("discovering {gvk:?}: {e}"));
    let name = chart::name(&object).to_string();
    let api = match caps.scope {
        Scope::Namespaced => Api::namespaced_with(client.clone(), chart::NAMESPACE, &resource),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    api.patch(&name, &PatchParams::apply("helm").force(), &Patch::Apply(&object))
        .await
        .unwrap_or_else(|e| panic!("applying {} {name}: {e}", gvk.kind));
    (api, name)
}

/// The operator pods' logs, for failure messages and the forbidden-request check.
async fn operator_logs(client: &Client) -> String {
    let pods: Api<Pod> = Api::namespaced(client.clone(), chart::NAMESPACE);
    let selector = format!(
        "app.kubernetes.io/instance={},app.kubernetes.io/component=operator",
        chart::RELEASE
    );
    let mut out = String::new();
    for pod in pods.list(&ListParams::default().labels(&selector)).await.unwrap() {
        let logs = pods
            .logs(&pod.name_any(), &LogParams::default())
            .await
            .unwrap_or_else(|e| format!("(no logs: {e})"));
        out += &format!("--- pod {}\n{logs}\n", pod.name_any());
    }
    out
}

#[tokio::test]
#[ignore = "needs a real cluster and an image: set GOVCLOUD_E2E_KUBECONFIG and GOVCLOUD_E2E_IMAGE and run with --ignored (docs/operator.md: try it on kind)"]
async fn the_chart_installs_and_the_operator_converges_with_only_its_rbac() {
    let kubeconfig = kubeconfig();
    let image = std::env::var(IMAGE_VAR).unwrap_or_else(|_| {
        panic!("{IMAGE_VAR} is not set: build the image (docker build -t govcloud:e2e .), load it (kind load docker-image govcloud:e2e --name govcloud) and name it")
    });
    let _turn = ESTATE.lock().await;
    let client = client_for(Path::new(&kubeconfig)).await;

    // `helm install govcloud charts/govcloud --namespace govcloud-system --create-namespace`:
    // the chart's crds/ (identical to crds/, tests/chart.rs), then its templates.
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": chart::NAMESPACE}
    }))
    .unwrap();
    apply(&namespaces, &ns).await;
    install_crds(&client).await;
    let objects = chart::try_template_with(&[], &image_values(&image))
        .unwrap_or_else(|r| panic!("helm template refused the image values:\n{}", r.stderr));
    let mut installed = Vec::new();
    for object in &objects {
        installed.push(apply_rendered(&client, object).await);
    }

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), chart::NAMESPACE);
    let deadline = Instant::now() + CONVERGE;
    loop {
        let d = deployments.get(chart::RELEASE).await.unwrap();
        if d.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0) >= 1 {
            break;
        }
        if Instant::now() >= deadline {
            panic!(
                "the operator Deployment is not available after {CONVERGE:?}: {:?}\n{}",
                d.status,
                operator_logs(&client).await
            );
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    // The README's sample steps, then what the first test checks, with the chart's RBAC.
    let estate = sample_estate();
    apply_samples_and_converge(&client, &estate).await;
    delete_a_service(&client).await;
    tear_down_estate(&client, &estate).await;

    let logs = operator_logs(&client).await;
    assert!(
        !logs.to_ascii_lowercase().contains("forbidden"),
        "the API server forbade a request the chart's roles should grant:\n{logs}"
    );

    // `helm uninstall`: everything the chart rendered, then its namespace; CRDs stay.
    for (api, name) in installed.iter().rev() {
        let _ = api.delete(name, &DeleteParams::default()).await;
    }
    let _ = namespaces
        .delete(chart::NAMESPACE, &DeleteParams::default())
        .await;
    let _ = namespaces
        .delete("govcloud-shared", &DeleteParams::default())
        .await;
}
