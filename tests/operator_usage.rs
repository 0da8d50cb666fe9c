//! Measured usage through the real binary: `govcloud run` against the HTTP API double,
//! sampling a real Prometheus server (seeded with the sample estate's pods).
//!
//! The operator must write what Prometheus measured into the DepartmentServices' status
//! and export it on `/metrics` with the source's health; when Prometheus goes away it
//! must say so on `/metrics` and in its log, keep the last usage (and its time) in the
//! statuses, and go on reconciling.
//!
//! Needs Debian `prometheus` and the double's Python packages; either missing fails the
//! test with the install command.

use crate::double;
use crate::support;

use std::time::{Duration, Instant};

use govcloud::load::load_paths;
use govcloud::plan::{Assignments, plan};
use serde_json::{Value, json};

use double::{Api, START_STOP, start_double, wait_until};
use support::prometheus::{PrometheusServer, seed_for};

const LIMIT: Duration = Duration::from_secs(60);

/// The value of the series `series` (name and labels, exactly as exposed) in `scrape`.
fn value(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn scrape(http: u16) -> Result<String, String> {
    match support::http_get(http, "/metrics", "text/plain") {
        Some((200, _, body)) => Ok(body),
        Some((code, _, body)) => Err(format!("/metrics answered {code}: {body}")),
        None => Err("nothing answers on /metrics yet".into()),
    }
}

#[test]
fn the_operator_writes_measured_usage_and_keeps_it_when_prometheus_goes_down() {
    let started = Instant::now();
    let estate = load_paths(&[support::repo_root().join("config/samples")])
        .expect("the samples load")
        .snapshot;
    let planned = plan(&estate, &Assignments::from_status(&estate));
    let seed = seed_for(&planned, &estate.settings.shared_namespace);
    let prometheus = PrometheusServer::start(&seed.pods);

    let dir = tempfile::tempdir().unwrap();
    let (double, port) = start_double(dir.path());
    let api = Api { port };
    double::install_sample_estate(&api);
    let config = dir.path().join("govcloud.yaml");
    std::fs::write(
        &config,
        format!(
            "controller:\n  debounce: 100ms\nusage:\n  source: prometheus\n  interval: 1s\n  \
             prometheus:\n    url: {}\n    timeout: 500ms\n",
            prometheus.url
        ),
    )
    .unwrap();
    let http = support::free_port();
    let address = format!("127.0.0.1:{http}");
    let mut operator = double::start_operator(
        dir.path(),
        port,
        &["--config", config.to_str().unwrap(), "--http-address", &address],
    );

    // Two pods of the first own workload: 250m + 125m and 300Mi + 200Mi.
    let (ns, name) = &seed.own;
    let service = format!("/apis/govcloud.io/v1alpha1/namespaces/{ns}/departmentservices/{name}");
    let measured = json!({"cpu": "380m", "memory": "500Mi"});
    let up = r#"govcloud_usage_source_up{source="prometheus"}"#;
    let pool_used = format!(r#"govcloud_pool_used_cpu_cores{{pool="{}"}}"#, seed.own_pool);
    let mut used_at = Value::Null;
    wait_until(
        "the service's status and /metrics show what Prometheus measured",
        LIMIT,
        &mut [&mut operator],
        &double,
        || {
            let status = api.get(&service).ok_or("the service is gone")?["status"].clone();
            if status["used"] != measured {
                return Err(format!("status.used of {ns}/{name} is {}", status["used"]));
            }
            used_at = status["usedAt"].clone();
            let scrape = scrape(http)?;
            match (value(&scrape, up), value(&scrape, &pool_used)) {
                (Some(1.0), Some(cpu)) if cpu >= 0.375 => Ok(()),
                other => Err(format!("{up} and {pool_used} are {other:?}")),
            }
        },
    );
    assert!(used_at.is_string(), "usedAt goes with used: {used_at}");
    let scrape_up = scrape(http).unwrap();
    assert!(
        value(&scrape_up, "govcloud_planning_duration_seconds_count").is_some_and(|n| n >= 1.0),
        "every pass's planning is timed"
    );
    assert!(
        value(
            &scrape_up,
            r#"govcloud_usage_source_staleness_seconds{source="prometheus"}"#
        )
        .is_some_and(|s| s < 30.0),
        "a fresh sample is not stale"
    );

    // Prometheus goes away.
    drop(prometheus);
    wait_until(
        "/metrics says the usage source is down",
        LIMIT,
        &mut [&mut operator],
        &double,
        || match value(&scrape(http)?, up) {
            Some(0.0) => Ok(()),
            other => Err(format!("{up} is {other:?}")),
        },
    );
    // Reconciling goes on: a deleted service's objects are swept while the source is down.
    let (other_ns, other) = &seed.other;
    let owned = double::owned_objects(other_ns, other);
    api.delete(&format!(
        "/apis/govcloud.io/v1alpha1/namespaces/{other_ns}/departmentservices/{other}"
    ));
    wait_until(
        "the deleted service's objects are gone with the usage source down",
        LIMIT,
        &mut [&mut operator],
        &double,
        || match owned.iter().find(|path| api.get(path).is_some()) {
            Some(path) => Err(format!("{path} still exists")),
            None => Ok(()),
        },
    );
    let status = api.get(&service).unwrap()["status"].clone();
    assert_eq!(status["used"], measured, "the last measured usage is kept");
    assert_eq!(status["usedAt"], used_at, "with the time it was measured");
    let scrape_down = scrape(http).unwrap();
    assert!(
        value(&scrape_down, &pool_used).is_some_and(|cpu| cpu >= 0.375),
        "the pool's last measured use stays exported"
    );
    // The age of the last good sample keeps growing past the 1 s interval (by how much
    // at any one scrape depends on when the last good sample landed, so wait for it).
    let staleness = r#"govcloud_usage_source_staleness_seconds{source="prometheus"}"#;
    wait_until(
        "the usage source's staleness growing past two intervals",
        LIMIT,
        &mut [&mut operator],
        &double,
        || match value(&scrape(http)?, staleness) {
            Some(s) if s >= 2.0 => Ok(()),
            other => Err(format!("{staleness} is {other:?}")),
        },
    );
    let log = std::fs::read_to_string(&operator.log).unwrap();
    assert!(
        log.contains("usage source down; the last measured usage is kept"),
        "{}",
        operator.log()
    );

    operator.terminate();
    let status = operator.wait_for_exit(START_STOP);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", operator.log());
    eprintln!("measured usage end to end in {:?}", started.elapsed());
}
