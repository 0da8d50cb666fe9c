//! `/metrics` checked by Prometheus' own tool: the sample estate's exposition (with
//! per-service series, measured usage, a pass with failures and a usage source) passes
//! `promtool check metrics`, its OpenMetrics form parses with Prometheus' OpenMetrics
//! parser, and the real binary, run against the HTTP API double, serves both on
//! `/metrics` once it has planned the estate.
//!
//! Needs promtool (Debian `prometheus`) and, for the binary, the double's Python
//! packages; either missing fails the test with the install command.

use crate::double;
use crate::support;

use support::promtool;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use govcloud::config::{MetricsConfig, UsageSource};
use govcloud::controller::PassReport;
use govcloud::load::load_paths;
use govcloud::metrics::Metrics;
use govcloud::plan::{Assignments, Plan, Snapshot, plan};
use govcloud::quantity::Res;
use govcloud::usage::{Health, PodUsage, Sample, Usage, aggregate};
use k8s_openapi::jiff::Timestamp;

use double::{Api, START_STOP, start_double, wait_until};
use support::repo_root;

fn sample_snapshot() -> Snapshot {
    load_paths(&[repo_root().join("config/samples")])
        .expect("the samples load")
        .snapshot
}

/// What a usage source would report for the planned estate: a pod per placed workload
/// and shared instance, attributed by the plan as the operator does.
fn fake_usage(snapshot: &Snapshot, plan: &Plan) -> Usage {
    let workloads = plan
        .services
        .iter()
        .filter(|s| s.pool.is_some() && s.shared_instance.is_none())
        .map(|s| PodUsage {
            namespace: s.namespace.clone(),
            pod: format!("{}-5f6d7c8b9-aaaaa", s.name),
            used: Res::new(s.allocated.cpu_millis / 3, s.allocated.memory_bytes / 2),
        });
    let instances = plan
        .offerings
        .iter()
        .flat_map(|o| &o.instances)
        .map(|i| PodUsage {
            namespace: snapshot.settings.shared_namespace.clone(),
            pod: format!("{}-6c7d8e9f0-bbbbb", i.name),
            used: Res::new(700, 3 << 30),
        });
    let sample = Sample {
        at: Timestamp::now(),
        pods: workloads.chain(instances).collect(),
    };
    aggregate(plan, &snapshot.settings, &sample)
}

/// The sample estate with everything switched on: per-service series, usage, deferred
/// changes, a pass with failures, planning time and a usage source.
fn everything() -> Metrics {
    let snapshot = sample_snapshot();
    let mut plan = plan(&snapshot, &Assignments::default());
    support::waiting::defer_one_of_each_kind(&mut plan, Timestamp::now());
    let metrics = Metrics::new(&MetricsConfig { per_service: true });
    metrics.observe_plan(&plan, Some(&fake_usage(&snapshot, &plan)));
    metrics.observe_pass(&PassReport::default(), Duration::from_millis(340));
    metrics.observe_planning(Duration::from_millis(12));
    metrics.observe_render_failure(Duration::from_millis(5));
    let now = Timestamp::now();
    let health = Health {
        up: Some(true),
        sampled_at: Some(now),
        ..Health::default()
    };
    metrics.observe_usage_source(UsageSource::Prometheus, &health, now);
    metrics
}

/// The samples of an exposition (comments and `# EOF` left out) as `series value`, with
/// bucket bounds written one way: OpenMetrics spells `le="1.0"` where the classic format
/// has `le="1"`.
fn sample_lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| match l.split_once("le=\"") {
            Some((head, rest)) => {
                let (bound, tail) = rest.split_once('"').expect("a quoted bound");
                let bound: f64 = bound.parse().expect("a numeric bound");
                format!("{head}le=\"{bound}\"{tail}")
            }
            None => l.to_string(),
        })
        .collect()
}

#[test]
fn the_sample_estates_exposition_passes_promtool_check_metrics() {
    let metrics = everything();
    let text = metrics.encode_text();
    assert!(
        text.contains("govcloud_service_used_cpu_cores{"),
        "per-service series included"
    );
    assert!(
        text.contains("govcloud_pool_used_memory_bytes{"),
        "usage included"
    );
    assert!(
        text.contains(r#"govcloud_oldest_pending_change_timestamp_seconds{kind="Template"}"#),
        "deferred changes included"
    );
    promtool::check_metrics(&text);
}

#[test]
fn the_openmetrics_form_parses_and_carries_the_same_samples() {
    let metrics = everything();
    let openmetrics = metrics.encode();
    let series = promtool::parse_openmetrics(&openmetrics);
    let samples = sample_lines(&openmetrics);
    assert_eq!(series, samples.len(), "every sample line is one series");
    let text = metrics.encode_text();
    let classic = sample_lines(&text);
    let differ: Vec<&String> = samples.symmetric_difference(&classic).collect();
    assert!(differ.is_empty(), "the formats differ in {differ:#?}");
}

/// What Prometheus sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
    version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[test]
fn the_operator_serves_the_planned_estate_on_metrics_in_both_formats() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (double, port) = start_double(dir.path());
    let api = Api { port };
    double::install_sample_estate(&api);
    let http = support::free_port();
    let address = format!("127.0.0.1:{http}");
    let mut operator = double::start_operator(dir.path(), port, &["--http-address", &address]);

    let planned = r#"govcloud_pool_services{pool="general-east"} 23"#;
    let mut scrape = String::new();
    wait_until(
        "/metrics shows the planned sample estate",
        Duration::from_secs(60),
        &mut [&mut operator],
        &double,
        || match support::http_get(http, "/metrics", "*/*") {
            Some((200, _, body)) if body.lines().any(|l| l == planned) => {
                scrape = body;
                Ok(())
            }
            Some((code, _, body)) => Err(format!("HTTP {code}, no `{planned}` in:\n{body}")),
            None => Err(format!("nothing answers on {address} yet")),
        },
    );
    promtool::check_metrics(&scrape);
    let (code, content_type, openmetrics) =
        support::http_get(http, "/metrics", PROMETHEUS_ACCEPT).expect("an OpenMetrics scrape");
    assert_eq!(code, 200);
    assert_eq!(content_type, govcloud::metrics::OPENMETRICS_CONTENT_TYPE);
    assert!(openmetrics.lines().any(|l| l == planned));
    promtool::parse_openmetrics(&openmetrics);
    let (_, content_type, _) = support::http_get(http, "/metrics", "text/plain").unwrap();
    assert_eq!(content_type, govcloud::metrics::TEXT_CONTENT_TYPE);

    // The pass that planned it was counted, timed and, with no failed write, stamped.
    let value = |name: &str| -> f64 {
        scrape
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in the scrape:\n{scrape}"))
    };
    assert!(value("govcloud_passes_total") >= 1.0);
    assert!(value("govcloud_pass_duration_seconds_count") >= 1.0);
    assert!(value("govcloud_last_successful_pass_timestamp_seconds") > 1.7e9);
    assert!(
        !scrape.contains("govcloud_service_"),
        "per-service series are off by default"
    );
    // The probes are still there.
    assert_eq!(support::http_get(http, "/healthz", "*/*").map(|r| r.0), Some(200));
    assert_eq!(support::http_get(http, "/readyz", "*/*").map(|r| r.0), Some(200));

    operator.terminate();
    let status = operator.wait_for_exit(START_STOP);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "SIGTERM ends the operator cleanly\n{}",
        operator.log()
    );
    eprintln!("the binary served /metrics in {:?}", started.elapsed());
}
