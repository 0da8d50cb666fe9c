//! `govcloud run` as a process: configuration errors, a cluster it cannot reach, and
//! the probe endpoints. (Driving it against an API double is operator_binary's and
//! operator_leader's; a real cluster is the end-to-end suite's.)

use crate::support;

use std::process::Command;

use govcloud::runtime::{Readiness, router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn govcloud(args: &[&str], envs: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_govcloud"))
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(support::repo_root())
        .output()
        .expect("running govcloud");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_invalid_config_is_refused_with_every_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("govcloud.yaml");
    std::fs::write(&path, "controller:\n  concurrency: 0\ncurrency: cny\n").unwrap();
    let (code, err) = govcloud(&["run", "--config", path.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("controller.concurrency: 0 is outside 1–64"), "{err}");
    assert!(err.contains("currency: \"cny\""), "{err}");
}

/// A kubeconfig in `dir` naming a cluster on port 9 (discard) of loopback: nothing
/// listens, so the connection is refused at once.
fn unreachable_kubeconfig(dir: &std::path::Path) -> std::path::PathBuf {
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\n\
         contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n",
    )
    .unwrap();
    kubeconfig
}

#[test]
fn an_unreachable_cluster_stops_it_with_exit_code_3() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = unreachable_kubeconfig(dir.path());
    let (code, err) = govcloud(
        &["run", "--http-address", "127.0.0.1:0"],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("govcloud: Kubernetes API request failed"), "{err}");
}

#[test]
fn leader_election_is_accepted_and_needs_the_cluster_like_any_run() {
    // Elections run against the cluster (operator_leader drives them): with none to
    // reach, `--leader-elect` ends where every run does, with exit code 3.
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = unreachable_kubeconfig(dir.path());
    let (code, err) = govcloud(
        &["run", "--leader-elect", "--http-address", "127.0.0.1:0"],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("govcloud: Kubernetes API request failed"), "{err}");
}

#[test]
fn a_usage_source_it_cannot_make_is_a_config_error_before_the_cluster_is_called() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = unreachable_kubeconfig(dir.path());
    let config = dir.path().join("govcloud.yaml");
    let ca = dir.path().join("missing-ca.pem");
    std::fs::write(
        &config,
        format!(
            "usage:\n  source: prometheus\n  prometheus:\n    url: https://prometheus.example:9090\n    caFile: {}\n",
            ca.display()
        ),
    )
    .unwrap();
    let (code, err) = govcloud(
        &[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--http-address",
            "127.0.0.1:0",
        ],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("caFile") && err.contains("missing-ca.pem"), "{err}");
}

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).await.unwrap();
    body
}

#[tokio::test]
async fn probes_report_alive_at_once_and_ready_only_after_sync() {
    let ready = Readiness::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, router(ready.clone())).into_future());
    assert!(get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
    assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 503"));
    ready.set(true);
    assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 200"));
}
