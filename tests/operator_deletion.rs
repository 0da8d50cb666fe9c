//! Deletions held by govcloud's finalizer, end to end: the real binary against the HTTP
//! API double (`tests/kmock/apiserver.py`, which keeps objects with finalizers until
//! they are removed and deletes a namespace's contents with it).
//!
//! - Every ResourcePool and Department gets `govcloud.io/cleanup`.
//! - Deleting a pool with services on it moves them to pools with room (at once, with
//!   the pool's `govcloud.io/apply-now`, outside maintenance windows); the pool goes
//!   once nothing is placed on it.
//! - Deleting a Department with services in it is held, with `DeletionBlocked=True`
//!   naming them; once they are deleted, the operator deletes the department's namespace
//!   and lets the Department go.

use crate::double;

use double::{Api, START_STOP, start_double, wait_until};
use serde_json::Value;

use std::time::Duration;

const CONVERGE: Duration = Duration::from_secs(60);
const FINALIZER: &str = "govcloud.io/cleanup";
const GROUP: &str = "/apis/govcloud.io/v1alpha1";

fn condition<'a>(object: &'a Value, type_: &str) -> Option<&'a Value> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn deleting_a_pool_drains_it_and_deleting_a_department_waits_for_its_services() {
    let dir = tempfile::tempdir().unwrap();
    let (double, port) = start_double(dir.path());
    let api = Api { port };
    double::install_sample_estate(&api);
    // The operator, pointed at the double by a kubeconfig.
    let mut operator = double::start_operator(dir.path(), port, &["--http-address", "127.0.0.1:0"]);
    let golden = double::golden_services();
    wait_until(
        "every DepartmentService has the status of the golden plan",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || double::statuses_match(&api, &golden),
    );
    wait_until(
        "every pool and department holds govcloud's finalizer",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || {
            for kind in ["resourcepools", "departments"] {
                let list = api.get(&format!("{GROUP}/{kind}")).unwrap();
                for o in list["items"].as_array().unwrap() {
                    let held = o["metadata"]["finalizers"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|f| f == FINALIZER));
                    if !held {
                        return Err(format!("{kind}/{} has no {FINALIZER}", o["metadata"]["name"]));
                    }
                }
            }
            Ok(())
        },
    );

    // A pool with services on it: they move to pools with room, then the pool goes.
    let pool = "general-east";
    let on_pool: Vec<(String, String)> = golden
        .iter()
        .filter(|s| s["pool"] == pool && s["sharedInstance"].is_null())
        .map(|s| {
            (
                s["namespace"].as_str().unwrap().into(),
                s["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(!on_pool.is_empty(), "the golden plan places workloads on {pool}");
    // The pool's maintenance window is on Saturdays and its departments' on weekends:
    // decommissioning it now takes the break-glass annotation, or its services would
    // wait for their windows (docs/maintenance.md).
    api.merge_patch(
        &format!("{GROUP}/resourcepools/{pool}"),
        &serde_json::json!({"metadata": {"annotations": {"govcloud.io/apply-now": "decommissioned"}}}),
    );
    api.delete(&format!("{GROUP}/resourcepools/{pool}"));
    wait_until(
        "the deleted pool's services moved and the pool is gone",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || {
            for (ns, name) in &on_pool {
                let svc = api
                    .get(&format!("{GROUP}/namespaces/{ns}/departmentservices/{name}"))
                    .unwrap();
                let now_on = svc["status"]["pool"].as_str().unwrap_or("none");
                if now_on == pool || svc["status"]["phase"] == "Pending" {
                    return Err(format!("{ns}/{name} is on {now_on} ({})", svc["status"]["phase"]));
                }
                let deployment = api
                    .get(&format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"))
                    .unwrap();
                let pinned = &deployment["spec"]["template"]["spec"]["nodeSelector"]["govcloud.io/pool"];
                if pinned != now_on {
                    return Err(format!(
                        "Deployment {ns}/{name} is pinned to {pinned}, not {now_on}"
                    ));
                }
            }
            match api.get(&format!("{GROUP}/resourcepools/{pool}")) {
                Some(p) => Err(format!("the pool is still there: {}", p["status"]["conditions"])),
                None => Ok(()),
            }
        },
    );

    // A department with services: held, and saying why.
    let (dept, ns) = ("education", "dept-education");
    let services = names(
        &api.get(&format!("{GROUP}/namespaces/{ns}/departmentservices"))
            .unwrap(),
    );
    assert!(!services.is_empty());
    api.delete(&format!("{GROUP}/departments/{dept}"));
    wait_until(
        "the department's deletion is held with DeletionBlocked naming its services",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || {
            let d = api
                .get(&format!("{GROUP}/departments/{dept}"))
                .ok_or("the department went while services remain")?;
            let c = condition(&d, "DeletionBlocked").ok_or("no DeletionBlocked condition yet")?;
            if c["status"] != "True" || c["reason"] != "ServicesRemain" {
                return Err(format!("DeletionBlocked is {c}"));
            }
            let message = c["message"].as_str().unwrap_or_default();
            match services.iter().find(|s| !message.contains(&format!("{ns}/{s}"))) {
                Some(missing) => Err(format!("the message does not name {missing}: {message}")),
                None => Ok(()),
            }
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        api.get(&format!("/api/v1/namespaces/{ns}")).is_some(),
        "the namespace stays while the department is held"
    );
    assert!(api.get(&format!("{GROUP}/departments/{dept}")).is_some());

    // Its services deleted, the operator deletes the namespace and lets it go.
    for s in &services {
        api.delete(&format!("{GROUP}/namespaces/{ns}/departmentservices/{s}"));
    }
    wait_until(
        "the department and its namespace are gone",
        CONVERGE,
        &mut [&mut operator],
        &double,
        || {
            if let Some(d) = api.get(&format!("{GROUP}/departments/{dept}")) {
                return Err(format!(
                    "the department is still there: {}",
                    d["status"]["conditions"]
                ));
            }
            match api.get(&format!("/api/v1/namespaces/{ns}")) {
                Some(_) => Err(format!("namespace {ns} is still there")),
                None => Ok(()),
            }
        },
    );
    assert!(
        api.get("/api/v1/namespaces/dept-finance").is_some(),
        "other departments keep their namespaces"
    );

    let log = operator.log();
    let failures: Vec<&str> = log.lines().filter(|l| l.contains("write failed")).collect();
    assert!(
        failures.is_empty(),
        "every write succeeded (finalizer patches, namespace deletion, events): {failures:#?}"
    );
    operator.terminate();
    let status = operator.wait_for_exit(START_STOP);
    assert!(
        status.is_some_and(|s| s.success()),
        "govcloud run did not exit 0 after SIGTERM: {status:?}\n{}",
        operator.log()
    );
    double.terminate();

    // Everything above — watches, applies, sweeps, statuses, Events, finalizers, the
    // namespace deletion — within the access the chart grants (govcloud::rbac).
    let config = govcloud::config::OperatorConfig::default();
    let access = govcloud::rbac::operator_access(&config);
    let used = double::assert_within_access(dir.path(), &access, config.lease_namespace());
    let unused: Vec<String> = access
        .cluster
        .difference(&used)
        .map(ToString::to_string)
        .collect();
    eprintln!(
        "{} of {} granted permissions were used; not exercised here (create and bind are \
         authorised inside an apply and a RoleBinding write, never requested alone):\n  {}",
        used.len(),
        access.cluster.len(),
        unused.join("\n  ")
    );
    // The rest were all requested: nothing granted goes unused but what no request can
    // show (a create authorised inside an apply, the bind inside a RoleBinding write).
    let managed: Vec<String> = govcloud::controller::managed_kinds()
        .into_iter()
        .map(|k| k.resource.plural)
        .collect();
    let unexplained: Vec<String> = access
        .cluster
        .difference(&used)
        .filter(|p| !(p.verb == "bind" || (p.verb == "create" && managed.contains(&p.resource))))
        .map(ToString::to_string)
        .collect();
    assert!(
        unexplained.is_empty(),
        "granted but never requested by this scenario: {unexplained:?}"
    );
}
