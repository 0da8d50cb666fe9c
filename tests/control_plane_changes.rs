//! Passes over changes on a real control plane: with the resync ten minutes away, a
//! department's new service is planned, applied and given its status by a pass over that
//! service alone, at once (no debounce), and the estate it leaves is the one `govcloud
//! plan` decides for the same objects.

use crate::support;

use std::time::{Duration, Instant};

use govcloud::api::{DepartmentService, Phase};
use govcloud::synthetic::workload;
use kube::api::{Api, PostParams};
use support::control_plane::{self as cp, eventually};
use support::estate::{assert_matches_offline_plan, converge_samples, wait_for_passes, wait_for_quiet};

/// The `estate pass` lines of `log` from byte `from` on.
fn passes_since(log: &str, from: usize) -> Vec<&str> {
    log.get(from..)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("estate pass"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_service_gets_its_status_from_a_pass_over_it_alone() {
    let _turn = cp::turn().await;
    let mut converged = converge_samples().await;
    converged.wait_until_ready().await;
    let user = cp::operator_user();
    wait_for_quiet(&converged.plane, &user).await;
    // A resync of ten minutes: whatever happens next is the change's doing.
    converged.operator.terminate();
    assert!(
        converged
            .operator
            .wait_for_exit(Duration::from_secs(30))
            .is_some(),
        "the operator did not stop on SIGTERM\n{}",
        converged.operator_log()
    );
    converged.operator = cp::start_operator(
        &converged.plane,
        "operator-long-resync",
        &converged.kubeconfig,
        &cp::operator_config("600s", ""),
        &[],
    );
    wait_for_passes(&converged.operator, 1).await;
    let mark = converged.operator_log().len();

    let client = converged.client.clone();
    let api: Api<DepartmentService> = Api::namespaced(client.clone(), "dept-civil-affairs");
    let created = Instant::now();
    api.create(
        &PostParams::default(),
        &workload("dept-civil-affairs", "permit-desk", 2, 1, "250m", "512Mi"),
    )
    .await
    .expect("created");
    eventually("the new service's status", || async {
        let s = api.get("permit-desk").await.map_err(|e| e.to_string())?;
        match s.status.as_ref().and_then(|st| st.phase) {
            Some(Phase::Placed | Phase::Ready) => Ok(()),
            other => Err(format!("phase {other:?}")),
        }
    })
    .await;
    println!(
        "new service: status seen {} ms after it was created",
        created.elapsed().as_millis()
    );
    let log = converged.operator_log();
    let passes = passes_since(&log, mark);
    let first = passes
        .first()
        .unwrap_or_else(|| panic!("no pass after the change\n{log}"));
    assert!(
        first.contains(r#"pass="changes""#),
        "the first pass after the new service covers it alone:\n{}",
        passes.join("\n")
    );
    println!("{first}");

    // What the pass left is what a full plan decides for the same objects.
    wait_for_quiet(&converged.plane, &user).await;
    assert_matches_offline_plan(&client, &converged.operator_log()).await;
}
