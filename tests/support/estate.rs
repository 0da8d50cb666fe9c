//! The sample estate converged on a real control plane, shared by the control-plane
//! tests: the chart installed, the operator run as the chart's ServiceAccount (only the
//! chart's RBAC), the samples applied as the README says.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use govcloud::api::{Department, DepartmentService, ResourcePool};
use govcloud::plan::{ReasonCode, Snapshot};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use super::control_plane::{self as cp, ControlPlane, describe, eventually, operator_config, writes_by};
use super::process::Process;

/// The estate of a test, converged by an operator that runs as the chart's ServiceAccount.
pub struct Converged {
    pub plane: ControlPlane,
    pub client: Client,
    pub operator: Process,
    /// The chart ServiceAccount's kubeconfig, for restarting the operator.
    pub kubeconfig: PathBuf,
    pub estate: Snapshot,
}

/// Resync of the operators in these tests: short, so that idle passes happen while a
/// test counts writes.
pub const RESYNC: Duration = Duration::from_secs(5);

/// Starts a control plane with nodes for the sample pools, installs the chart, runs the
/// operator as the chart's ServiceAccount, applies the samples as the README does and
/// waits until every service has a status for its current generation.
pub async fn converge_samples() -> Converged {
    converge_estate(cp::sample_estate()).await
}

/// [`converge_samples`] for any estate whose pools declare a `nodeShape` (their nodes
/// are made from it).
pub async fn converge_estate(estate: Snapshot) -> Converged {
    converge_estate_after(estate, |_| async {}).await
}

/// [`converge_estate`] with `prepare` run on the admin client once the chart is installed
/// and before the operator starts (an admission policy already in force, say).
pub async fn converge_estate_after<F, Fut>(estate: Snapshot, prepare: F) -> Converged
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let plane = ControlPlane::start(&cp::pool_nodes(&estate));
    let client = plane.admin().await;
    cp::install_chart(&client, "").await;
    prepare(client.clone()).await;
    let kubeconfig =
        cp::service_account_kubeconfig(&plane, &client, super::chart::NAMESPACE, super::chart::RELEASE).await;
    let operator = cp::start_operator(
        &plane,
        "operator",
        &kubeconfig,
        &operator_config(&format!("{}s", RESYNC.as_secs()), ""),
        &[],
    );
    apply_samples(&client, &estate).await;
    let converged = Converged {
        plane,
        client,
        operator,
        kubeconfig,
        estate,
    };
    converged.wait_for_statuses().await;
    converged
}

/// The platform team's part of an estate, as the README applies it: policies, pools,
/// offerings, then departments (server-side, field manager `platform-team`).
pub async fn apply_cluster_scoped(client: &Client, estate: &Snapshot) {
    let manager = "platform-team";
    let objects = (estate.policies.iter().map(serde_json::to_value))
        .chain(estate.pools.iter().map(serde_json::to_value))
        .chain(estate.offerings.iter().map(serde_json::to_value))
        .chain(estate.departments.iter().map(serde_json::to_value));
    for o in objects {
        cp::apply_value(client, &o.unwrap(), None, manager).await;
    }
}

/// The README's `kubectl apply -f config/samples/`: cluster-scoped objects first, then,
/// once the operator made the department namespaces, the services in name order (so
/// that first come, first served matches the name order of an offline plan).
pub async fn apply_samples(client: &Client, estate: &Snapshot) {
    apply_cluster_scoped(client, estate).await;
    let namespaces: Vec<String> = estate
        .departments
        .iter()
        .map(|d| format!("dept-{}", d.name_any()))
        .collect();
    eventually("the department namespaces and their counted quotas", || {
        cp::quotas_counted(client, &namespaces)
    })
    .await;
    let mut services = estate.services.clone();
    services.sort_by_key(|s| (s.namespace(), s.name_any()));
    for s in &services {
        let api: Api<DepartmentService> = Api::namespaced(client.clone(), &s.namespace().unwrap());
        let mut s = s.clone();
        s.metadata.resource_version = None;
        api.create(&PostParams::default(), &s)
            .await
            .unwrap_or_else(|e| panic!("creating DepartmentService {}: {e}", s.name_any()));
    }
}

impl Converged {
    pub async fn services(&self) -> Vec<DepartmentService> {
        Api::<DepartmentService>::all(self.client.clone())
            .list(&ListParams::default())
            .await
            .expect("listing DepartmentServices")
            .items
    }

    /// Every service has a status written for its current generation.
    pub async fn wait_for_statuses(&self) {
        let expected = self.estate.services.len();
        eventually("a status on every DepartmentService", || async {
            let services = self.services().await;
            if services.len() != expected {
                return Err(format!("{} of {expected} services", services.len()));
            }
            for s in &services {
                let observed = s.status.as_ref().and_then(|st| st.observed_generation);
                if observed != s.metadata.generation {
                    return Err(format!("{}: observedGeneration {observed:?}", s.name_any()));
                }
            }
            Ok(())
        })
        .await;
    }

    /// Waits until every placed service is Ready (its pods scheduled, running and ready).
    pub async fn wait_until_ready(&self) {
        eventually("every placed service Ready", || async {
            for s in self.services().await {
                let status = s.status.clone().unwrap_or_default();
                let placed = status.pool.is_some();
                let ready = condition(&s, "Ready").is_some_and(|c| c["status"] == "True");
                if placed && !ready {
                    return Err(format!(
                        "{}/{}: phase {:?}, Ready {:?}",
                        s.namespace().unwrap(),
                        s.name_any(),
                        status.phase,
                        condition(&s, "Ready")
                    ));
                }
            }
            Ok(())
        })
        .await;
    }

    pub fn operator_log(&self) -> String {
        self.operator.log()
    }
}

pub fn condition(s: &DepartmentService, type_: &str) -> Option<Value> {
    let status = serde_json::to_value(s.status.as_ref()?).ok()?;
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .cloned()
}

/// The govcloud objects of the cluster as manifests without status or server fields:
/// what a platform team's repository holds, for `govcloud plan`.
pub async fn export_estate(client: &Client, dir: &Path) {
    let mut objects: Vec<Value> = Vec::new();
    macro_rules! export {
        ($kind:ty) => {
            for o in Api::<$kind>::all(client.clone())
                .list(&ListParams::default())
                .await
                .unwrap()
            {
                objects.push(serde_json::to_value(&o).unwrap());
            }
        };
    }
    export!(govcloud::api::PlatformPolicy);
    export!(ResourcePool);
    export!(govcloud::api::ServiceOffering);
    export!(Department);
    export!(DepartmentService);
    for (i, mut o) in objects.into_iter().enumerate() {
        let obj = o.as_object_mut().unwrap();
        obj.remove("status");
        let meta = obj["metadata"].as_object_mut().unwrap();
        for server_field in ["managedFields", "resourceVersion", "generation", "finalizers"] {
            meta.remove(server_field);
        }
        std::fs::write(
            dir.join(format!("{i:05}.json")),
            serde_json::to_vec_pretty(&o).unwrap(),
        )
        .unwrap();
    }
}

/// `govcloud ARGS` of this build; fails the test unless it exits 0. Its stdout.
pub fn govcloud(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .args(args)
        .output()
        .expect("running govcloud");
    assert!(
        output.status.success(),
        "govcloud {args:?}:\n{}",
        super::printed(&output)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Where the statuses of `live` differ from `govcloud plan` (fresh: no previous
/// decisions) of the objects exported to `dir`, one line per service; empty when every
/// service has the phase, pool, shared instance, allocation and refusal reasons the
/// offline plan gives it.
pub fn plan_differences(dir: &Path, live: &[DepartmentService]) -> Vec<String> {
    let plan: Value = serde_json::from_str(&govcloud(&[
        "plan".as_ref(),
        "--output".as_ref(),
        "json".as_ref(),
        dir.as_os_str(),
    ]))
    .unwrap();
    let live: BTreeMap<(String, String), &DepartmentService> = live
        .iter()
        .map(|s| ((s.namespace().unwrap(), s.name_any()), s))
        .collect();
    let planned = plan["services"].as_array().unwrap();
    let mut differences = Vec::new();
    if planned.len() != live.len() {
        differences.push(format!(
            "{} services planned, {} in the cluster",
            planned.len(),
            live.len()
        ));
    }
    for want in planned {
        let key = (
            want["namespace"].as_str().unwrap().to_string(),
            want["name"].as_str().unwrap().to_string(),
        );
        let Some(got) = live.get(&key) else {
            differences.push(format!("{}/{}: planned, not in the cluster", key.0, key.1));
            continue;
        };
        let status = got.status.clone().unwrap_or_default();
        let got_allocated = status.allocated.as_ref().map(|a| {
            let r = a.parse().expect("status.allocated parses");
            json!({"cpu": r.cpu_millis as f64 / 1000.0, "memory": r.memory_bytes})
        });
        // A refused service is charged nothing: zero in the plan, absent from its status.
        let got_allocated = got_allocated.or_else(|| Some(json!({"cpu": 0.0, "memory": 0})));
        let want_allocated = Some(want["allocated"].clone());
        let reasons: BTreeSet<String> = want["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_string())
            .collect();
        let got_reasons: BTreeSet<String> = ["Admitted", "Compliant", "Placed"]
            .iter()
            .filter_map(|t| condition(got, t))
            .filter(|c| c["status"] == "False")
            .map(|c| c["reason"].as_str().unwrap().to_string())
            // The refusal vocabulary; the other reasons say a condition did not get its turn.
            .filter(|r| ReasonCode::ALL.iter().any(|c| c.as_str() == r))
            .collect();
        let phase = status.phase.map(|p| serde_json::to_value(p).unwrap());
        let phase_agrees = match want["phase"].as_str().unwrap() {
            // Placed offline; in a cluster it goes on to Ready (or Degraded) with its pods.
            "Placed" => phase
                .as_ref()
                .is_some_and(|p| ["Placed", "Ready", "Degraded"].contains(&p.as_str().unwrap())),
            other => phase.as_ref().is_some_and(|p| p == other),
        };
        let same = status.pool.as_deref() == want["pool"].as_str()
            && status.shared_instance.as_deref() == want["sharedInstance"].as_str()
            && got_allocated == want_allocated
            && got_reasons == reasons
            && phase_agrees;
        if !same {
            differences.push(format!(
                "{}/{}: plan {} {:?} {:?} {} {reasons:?}; cluster {phase:?} {:?} {:?} {got_allocated:?} {got_reasons:?}",
                key.0, key.1, want["phase"], want["pool"], want["sharedInstance"], want["allocated"],
                status.pool, status.shared_instance
            ));
        }
    }
    differences
}

/// Fails the test unless every DepartmentService's status is what `govcloud plan` (fresh:
/// no previous decisions) gives the govcloud objects exported from the cluster.
pub async fn assert_matches_offline_plan(client: &Client, context: &str) {
    let dir = tempfile::tempdir().unwrap();
    export_estate(client, dir.path()).await;
    let services = Api::<DepartmentService>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("listing DepartmentServices")
        .items;
    let differences = plan_differences(dir.path(), &services);
    assert!(
        differences.is_empty(),
        "statuses differ from `govcloud plan` of the same objects ({} services):\n{}\n{context}",
        differences.len(),
        differences.join("\n")
    );
}

/// Waits for `user` to go quiet, then fails the test if it writes during the next
/// `intervals` resync intervals; returns every request of `user` in that window (its
/// reads), for the test to report.
pub async fn assert_quiet(plane: &ControlPlane, user: &str, intervals: u32, context: &str) -> Vec<Value> {
    let quiet_from = wait_for_quiet(plane, user).await;
    let mut tail = plane.audit_tail();
    tokio::time::sleep(RESYNC * intervals + Duration::from_secs(1)).await;
    let events: Vec<Value> = tail
        .next()
        .into_iter()
        .filter(|e| e["user"]["username"] == user)
        .collect();
    let writes = writes_by(&events, user, Some(quiet_from));
    assert!(
        writes.is_empty(),
        "{user} wrote during {intervals} resync intervals after converging:\n{}\n{context}",
        describe(&writes)
    );
    events
}

/// Waits until `user` has gone one full resync interval without a write to the estate
/// and returns when that quiet spell began. A leader's Lease renewals do not count: they
/// go on, converged or not.
pub async fn wait_for_quiet(plane: &ControlPlane, user: &str) -> Timestamp {
    let deadline = std::time::Instant::now() + cp::CONVERGE;
    loop {
        let start = Timestamp::now();
        let mut tail = plane.audit_tail();
        tokio::time::sleep(RESYNC + Duration::from_secs(1)).await;
        let events = tail.next();
        let writes: Vec<&Value> = writes_by(&events, user, Some(start))
            .into_iter()
            .filter(|e| e["objectRef"]["resource"] != "leases")
            .collect();
        if writes.is_empty() {
            return start;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the operator never stopped writing:\n{}",
            describe(&writes)
        );
    }
}

impl Converged {
    /// The operator never overstepped the chart's RBAC: no request of its answered 403 in
    /// the audit log, and no "forbidden" in its log (a refused write it only logged).
    pub fn assert_never_forbidden(&self) {
        let user = cp::operator_user();
        let events = self.plane.audit();
        let refused: Vec<&Value> = events
            .iter()
            .filter(|e| e["user"]["username"] == user.as_str() && e["responseStatus"]["code"] == 403)
            .collect();
        assert!(
            refused.is_empty(),
            "the API server refused the operator {} request(s) under the chart's RBAC:\n{}",
            refused.len(),
            cp::describe(&refused)
        );
        // Every operator this estate ran (a restarted one logs to a file of its own).
        let mut forbidden = Vec::new();
        for entry in std::fs::read_dir(self.plane.dir()).expect("the control plane's directory") {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
            if name.starts_with("operator") && name.ends_with(".log") {
                let log = std::fs::read_to_string(&path).unwrap_or_default();
                forbidden.extend(
                    log.lines()
                        .filter(|l| l.to_lowercase().contains("forbidden"))
                        .map(|l| format!("{name}: {l}")),
                );
            }
        }
        assert!(
            forbidden.is_empty(),
            "the operator logged refusals:\n{}",
            forbidden.join("\n")
        );
        let requests = events
            .iter()
            .filter(|e| e["user"]["username"] == user.as_str())
            .count();
        println!("{requests} requests by {user}, none forbidden");
    }
}

/// Waits until the operator's log shows `n` estate passes.
pub async fn wait_for_passes(operator: &Process, n: usize) {
    eventually(&format!("{n} estate passes"), || async {
        let log = std::fs::read_to_string(&operator.log).unwrap_or_default();
        let passes = log.matches("estate pass").count();
        if passes >= n {
            Ok(())
        } else {
            Err(format!("{passes} passes\n{}", operator.log()))
        }
    })
    .await;
}
