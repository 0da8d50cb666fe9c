//! Passes over changes on a real control plane: with the resync ten minutes away, a
//! department's new service is planned, applied and given its status by a pass over that
//! service alone (after the debounce, 2 s here), the Deployment coming up is passed over
//! with its namespace, and the estate left is the one `govcloud plan` decides for the
//! same objects.

use crate::support;

use std::time::{Duration, Instant};

use govcloud::api::{DepartmentService, Phase};
use govcloud::synthetic::workload;
use kube::api::{Api, PostParams};
use support::control_plane::{self as cp, eventually};
use support::estate::{assert_matches_offline_plan, converge_samples, wait_for_passes, wait_for_quiet};

/// The `estate pass` lines of `log` from byte `from` on, without the terminal colours
/// the log is written with.
fn passes_since(log: &str, from: usize) -> Vec<String> {
    log.get(from..)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("estate pass"))
        .map(plain)
        .collect()
}

/// `line` without ANSI escape sequences (`ESC [ ... letter`).
fn plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
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
    // Every pass until then covered changes only (the new service, and the quota the
    // API server recounted), and one of them applied the service and wrote its status.
    let log = converged.operator_log();
    let passes = passes_since(&log, mark);
    let until_full: Vec<&String> = passes
        .iter()
        .take_while(|l| !l.contains(r#"pass="full""#))
        .collect();
    assert!(
        until_full.iter().any(|l| l.contains(r#"pass="changes""#)
            && !l.contains("applied=0")
            && !l.contains("status_writes=0")),
        "a pass over changes applied the new service and wrote its status before any full pass:\n{}",
        passes.join("\n")
    );
    for l in &until_full {
        println!("{l}");
    }

    // What the pass left is what a full plan decides for the same objects.
    wait_for_quiet(&converged.plane, &user).await;
    assert_matches_offline_plan(&client, &converged.operator_log()).await;
}
