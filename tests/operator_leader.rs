//! Leader election with the real binary: two `govcloud run --leader-elect` replicas
//! against one HTTP API double (`tests/kmock/apiserver.py`, see `operator_binary.rs`).
//!
//! Exactly one replica holds the Lease and converges the sample estate while the other
//! stands by, ready. SIGTERM to the leader releases the Lease; the standby takes it and
//! keeps the estate converged (it alone removes a deleted service's objects), and stops on
//! SIGTERM with exit code 0. A leader that finds the Lease taken from it exits non-zero,
//! so that Kubernetes restarts it as a candidate.

use crate::double;
use crate::support;

use double::{Api, START_STOP, start_double, wait_until};
use support::process::Process;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

/// How long the estate may take to converge, or a service's objects to go.
const CONVERGE: Duration = Duration::from_secs(60);
/// How long a standby may take to lead once the leader stepped down: the released Lease
/// expires after 1s, then a round to take it and one to confirm it.
const TAKEOVER: Duration = Duration::from_secs(10);
const LEASE: &str = "/apis/coordination.k8s.io/v1/namespaces/govcloud-system/leases/govcloud-leader";

/// Short election timings, so that a takeover is a matter of seconds; a quick debounce.
const CONFIG: &str = "\
controller:
  debounce: 200ms
leaderElection:
  leaseDuration: 2s
  renewDeadline: 1500ms
  retryPeriod: 250ms
";

struct Replica {
    pod: &'static str,
    port: u16,
    process: Process,
}

fn start_replica(dir: &Path, kubeconfig: &Path, config: &Path, pod: &'static str) -> Replica {
    let port = support::free_port();
    let log = dir.join(format!("{pod}.log"));
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .args(["run", "--leader-elect", "--config"])
        .arg(config)
        .args(["--http-address", &format!("127.0.0.1:{port}")])
        .env("KUBECONFIG", kubeconfig)
        .env("POD_NAME", pod)
        .env("RUST_LOG", "info")
        .current_dir(support::repo_root())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("starting govcloud run");
    Replica {
        pod,
        port,
        process: Process {
            name: pod,
            child,
            log,
        },
    }
}

impl Replica {
    /// The status code of a probe, `None` while nothing listens yet.
    fn probe(&self, path: &str) -> Option<u16> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
            .ok()?;
        let mut response = String::new();
        s.read_to_string(&mut response).ok()?;
        response.split_whitespace().nth(1)?.parse().ok()
    }

    fn full_log(&self) -> String {
        std::fs::read_to_string(&self.process.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        self.process.terminate();
        let status = self.process.wait_for_exit(START_STOP);
        assert!(
            status.is_some_and(|s| s.success()),
            "{} did not exit 0 within {START_STOP:?} of SIGTERM: {status:?}\n{}",
            self.pod,
            self.process.log()
        );
    }
}

fn holder(api: &Api) -> Option<String> {
    let lease = api.get(LEASE)?;
    Some(
        lease["spec"]["holderIdentity"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn setup(dir: &Path) -> (Process, Api, PathBuf, PathBuf) {
    let (double, port) = start_double(dir);
    let config = dir.join("govcloud.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    (double, Api { port }, double::kubeconfig(dir, port), config)
}

#[test]
fn one_of_two_replicas_leads_and_the_other_takes_over_when_it_is_stopped() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (mut double, api, kubeconfig, config) = setup(dir.path());
    double::install_sample_estate(&api);
    // The operator's own namespace, where its Deployment and so its Lease live.
    double::create_namespace(&api, "govcloud-system");

    let mut a = start_replica(dir.path(), &kubeconfig, &config, "govcloud-a");
    let mut b = start_replica(dir.path(), &kubeconfig, &config, "govcloud-b");
    let golden_services = double::golden_services();
    let placed_workloads = double::placed_workloads(&golden_services);
    let shared_instances = double::shared_instances(&golden_services);
    wait_until(
        "one replica holds the Lease and the estate has the golden plan's statuses and objects",
        CONVERGE,
        &mut [&mut a.process, &mut b.process],
        &double,
        || {
            match holder(&api) {
                Some(h) if h == a.pod || h == b.pod => {}
                other => return Err(format!("the Lease holder is {other:?}")),
            }
            double::statuses_match(&api, &golden_services)?;
            double::workload_objects_exist(&api, &placed_workloads, &shared_instances)
        },
    );
    let converged = started.elapsed();

    // Over several renewals, the same holder; the standby is alive and ready, and has
    // never led nor made a pass.
    let first = api.get(LEASE).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let second = api.get(LEASE).unwrap();
    assert_eq!(first["spec"]["holderIdentity"], second["spec"]["holderIdentity"]);
    assert_eq!(
        first["spec"]["leaseTransitions"],
        second["spec"]["leaseTransitions"]
    );
    assert_ne!(
        first["spec"]["renewTime"], second["spec"]["renewTime"],
        "the leader renews"
    );
    let (mut leader, mut standby) = if holder(&api).as_deref() == Some(a.pod) {
        (a, b)
    } else {
        (b, a)
    };
    for replica in [&leader, &standby] {
        assert_eq!(replica.probe("/healthz"), Some(200), "{}", replica.pod);
        assert_eq!(replica.probe("/readyz"), Some(200), "{} is ready", replica.pod);
    }
    let leader_log = leader.full_log();
    assert!(leader_log.contains("acquired leadership") && leader_log.contains("estate pass"));
    let standby_log = standby.full_log();
    for never in ["acquired leadership", "leading:", "estate pass"] {
        assert!(
            !standby_log.contains(never),
            "the standby logged {never:?}:\n{standby_log}"
        );
    }
    assert!(standby_log.contains("leadership held elsewhere"), "{standby_log}");

    // SIGTERM to the leader: it releases the Lease on its way out, the standby takes it.
    let handover = Instant::now();
    leader.stop();
    assert!(
        leader.full_log().contains("released leadership"),
        "{}",
        leader.process.log()
    );
    wait_until(
        "the standby holds the Lease",
        TAKEOVER,
        &mut [&mut standby.process],
        &double,
        || match holder(&api) {
            Some(h) if h == standby.pod => Ok(()),
            other => Err(format!("the Lease holder is {other:?}")),
        },
    );
    let takeover = handover.elapsed();

    // The new leader alone keeps the estate converged: a deleted service's objects go.
    let (ns, name) = ("dept-finance", "budget-planning");
    let owned = double::owned_objects(ns, name);
    for path in &owned {
        assert!(api.get(path).is_some(), "{path} should exist before the deletion");
    }
    api.delete(&format!(
        "/apis/govcloud.io/v1alpha1/namespaces/{ns}/departmentservices/{name}"
    ));
    wait_until(
        "the new leader removes the deleted service's objects",
        CONVERGE,
        &mut [&mut standby.process],
        &double,
        || match owned.iter().find(|path| api.get(path).is_some()) {
            Some(path) => Err(format!("{path} still exists")),
            None => Ok(()),
        },
    );
    // The old leader is gone, so the sweep was the new leader's (its pass may still be
    // running: the deletions land before the pass is logged).
    assert!(
        standby.full_log().contains("acquired leadership"),
        "{}",
        standby.process.log()
    );
    let others: Vec<(String, String)> = placed_workloads
        .iter()
        .filter(|(n, s)| (n.as_str(), s.as_str()) != (ns, name))
        .cloned()
        .collect();
    if let Err(e) = double::workload_objects_exist(&api, &others, &shared_instances) {
        panic!("removed with {ns}/{name}: {e}\n{}", standby.process.log());
    }

    standby.stop();
    assert_eq!(
        holder(&api).as_deref(),
        Some(""),
        "the last leader released the Lease"
    );
    // Both replicas, leading and standing by, asked for nothing their role lacks; the
    // Lease was taken, renewed and read by name.
    let mut config = govcloud::config::OperatorConfig::default();
    config.leader_election.enabled = true;
    let used = double::assert_within_access(
        dir.path(),
        &govcloud::rbac::operator_access(&config),
        config.lease_namespace(),
    );
    for verb in ["create", "get", "patch"] {
        assert!(
            used.iter().any(|p| p.resource == "leases" && p.verb == verb),
            "no Lease {verb} in the audit log"
        );
    }
    double.terminate();
    assert!(double.wait_for_exit(START_STOP).is_some_and(|s| s.success()));
    eprintln!(
        "operator_leader: converged {:.1}s, takeover {:.1}s, total {:.1}s",
        converged.as_secs_f64(),
        takeover.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn a_leader_that_finds_its_lease_taken_stops_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let (mut double, api, kubeconfig, config) = setup(dir.path());
    for crd in double::documents(&support::repo_root().join("crds")) {
        api.create(&double::collection(&crd), &crd);
    }
    double::create_namespace(&api, "govcloud-system");
    let mut a = start_replica(dir.path(), &kubeconfig, &config, "govcloud-a");
    let log = a.process.log.clone();
    wait_until(
        "the replica leads",
        CONVERGE,
        &mut [&mut a.process],
        &double,
        || match std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("leading:")
        {
            true => Ok(()),
            false => Err(format!("not leading; the Lease holder is {:?}", holder(&api))),
        },
    );

    // Another identity writes itself into the Lease, as a replica would that judged it
    // expired (a long pause of the leader, a clock jump).
    let now: Value = serde_json::to_value(MicroTime(Timestamp::now())).unwrap();
    let cut = Instant::now();
    api.merge_patch(
        LEASE,
        &json!({"spec": {"holderIdentity": "intruder", "renewTime": now, "leaseDurationSeconds": 60}}),
    );
    let status = a.process.wait_for_exit(START_STOP);
    let log = a.full_log();
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(3),
        "exit status {status:?}\n{log}"
    );
    assert!(
        log.contains("lost leadership of the Lease govcloud-system/govcloud-leader (intruder holds it now)"),
        "{log}"
    );
    assert!(cut.elapsed() < Duration::from_secs(5), "{:?}", cut.elapsed());
    // It neither wrote itself back nor released the intruder's Lease on its way out.
    assert_eq!(holder(&api).as_deref(), Some("intruder"));
    double.terminate();
    assert!(double.wait_for_exit(START_STOP).is_some_and(|s| s.success()));
}
