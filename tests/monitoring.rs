//! The monitoring assets the Helm chart ships (`config/monitoring/`): the Grafana
//! dashboard and the Prometheus rules refer only to metrics govcloud exports; the rules
//! pass `promtool check rules`, and their unit tests (`tests/monitoring/rules-test.yaml`)
//! pass `promtool test rules`, proving each alert fires on bad series and not on good.
//!
//! Needs promtool (Debian `prometheus`); missing, the tests fail with the install command.

use crate::support;

use support::promtool;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use govcloud::config::{MetricsConfig, UsageSource};
use govcloud::controller::{ApplyError, PassReport};
use govcloud::load::load_paths;
use govcloud::metrics::Metrics;
use govcloud::object::{Kind, ObjectId};
use govcloud::plan::{Assignments, plan};
use govcloud::usage::{Health, PodUsage, Sample, aggregate};
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use support::repo_root;

fn monitoring(file: &str) -> PathBuf {
    repo_root().join("config/monitoring").join(file)
}

/// Every series name a Prometheus scraping govcloud can hold, from the declared families
/// of the full export (sample estate with deferred changes, usage, per-service on): a gauge by its name, a
/// counter with `_total` (and `_created`), a histogram by its `_bucket`, `_sum` and
/// `_count` (and `_created`). A family's bare name is no series for a counter or histogram.
fn exported_series_names() -> BTreeSet<String> {
    families()
        .iter()
        .flat_map(|(family, kind)| {
            let suffixes: &[&str] = match kind.as_str() {
                "gauge" => &[""],
                "counter" => &["_total", "_created"],
                "histogram" => &["_bucket", "_sum", "_count", "_created"],
                other => panic!("{family}: unexpected type {other}"),
            };
            suffixes.iter().map(move |s| format!("{family}{s}"))
        })
        .collect()
}

/// `(family, type)` of every family of the full export, from its `# TYPE` lines.
fn families() -> Vec<(String, String)> {
    let snapshot = load_paths(&[repo_root().join("config/samples")])
        .unwrap()
        .snapshot;
    let mut plan = plan(&snapshot, &Assignments::default());
    support::waiting::defer_one_of_each_kind(&mut plan, Timestamp::now());
    let pods = plan
        .services
        .iter()
        .filter(|s| s.pool.is_some() && s.shared_instance.is_none())
        .map(|s| PodUsage {
            namespace: s.namespace.clone(),
            pod: format!("{}-5f6d7c8b9-aaaaa", s.name),
            used: s.allocated,
        })
        .collect();
    let usage = aggregate(
        &plan,
        &snapshot.settings,
        &Sample {
            at: Timestamp::now(),
            pods,
        },
    );
    let metrics = Metrics::new(&MetricsConfig { per_service: true });
    metrics.observe_plan(&plan, Some(&usage));
    // A failed call, so that the failure counter family has a series to declare.
    let conflict = kube::core::Status::failure("conflict", "Conflict").with_code(409);
    let report = PassReport {
        errors: vec![ApplyError::new(
            "apply",
            ObjectId::new(Kind::Deployment, Some("dept-finance"), "budget-planning"),
            kube::Error::Api(conflict.boxed()),
        )],
        ..PassReport::default()
    };
    metrics.observe_pass(&report, Duration::from_millis(5));
    let now = Timestamp::now();
    let health = Health {
        up: Some(true),
        sampled_at: Some(now),
        ..Health::default()
    };
    metrics.observe_usage_source(UsageSource::Prometheus, &health, now);

    metrics
        .encode()
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|rest| {
            let (family, kind) = rest.split_once(' ').expect("# TYPE name type");
            (family.to_string(), kind.to_string())
        })
        .collect()
}

/// Every `govcloud_…` name in `expr`.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("govcloud_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

/// The strings under the keys `keys`, anywhere in `value`.
fn strings_under(value: &Value, keys: &[&str], out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if keys.contains(&k.as_str()) => out.push(s.clone()),
                    _ => strings_under(v, keys, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| strings_under(v, keys, out)),
        _ => {}
    }
}

fn dashboard() -> Value {
    serde_json::from_str(&std::fs::read_to_string(monitoring("govcloud-dashboard.json")).unwrap())
        .expect("the dashboard is JSON")
}

fn yaml(path: PathBuf) -> Value {
    serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_dashboard_and_the_rules_refer_only_to_exported_metrics() {
    let exported = exported_series_names();
    assert!(exported.contains("govcloud_passes_total") && exported.contains("govcloud_pool_services"));
    let mut exprs = Vec::new();
    strings_under(&dashboard(), &["expr", "query", "definition"], &mut exprs);
    let dashboard_exprs = exprs.len();
    strings_under(&yaml(monitoring("govcloud-rules.yaml")), &["expr"], &mut exprs);
    let rule_exprs = exprs.len() - dashboard_exprs;
    // The rules' unit tests feed series by name too: a renamed metric must fail there as well.
    strings_under(
        &yaml(repo_root().join("tests/monitoring/rules-test.yaml")),
        &["series"],
        &mut exprs,
    );
    assert!(
        dashboard_exprs > 40 && rule_exprs >= 8,
        "{dashboard_exprs} dashboard, {rule_exprs} rule expressions"
    );

    let mut referenced = BTreeSet::new();
    let mut unknown = BTreeSet::new();
    for expr in &exprs {
        let names = metric_names(expr);
        assert!(
            !names.is_empty() || !expr.contains("govcloud"),
            "no metric in {expr}"
        );
        for name in names {
            if !exported.contains(&name) {
                unknown.insert(format!("{name} (in {expr})"));
            }
            referenced.insert(name);
        }
    }
    assert!(unknown.is_empty(), "not exported by govcloud: {unknown:#?}");
    // The dashboard shows every plan family; only `_created` and bare buckets are left out.
    let shown: BTreeSet<&String> = exported
        .iter()
        .filter(|n| !n.ends_with("_created") && !n.ends_with("_sum") && !n.ends_with("_count"))
        .filter(|n| !referenced.contains(*n))
        .collect();
    assert!(
        shown.is_empty(),
        "exported but on no dashboard panel or rule: {shown:#?}"
    );
}

#[test]
fn the_dashboard_has_its_rows_variables_and_one_datasource() {
    let d = dashboard();
    let panels = d["panels"].as_array().unwrap();
    let rows: Vec<&str> = panels
        .iter()
        .filter(|p| p["type"] == "row")
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        ["Estate overview", "Pools", "Departments", "Offerings", "Savings"]
    );

    let vars = d["templating"]["list"].as_array().unwrap();
    let var = |name: &str| {
        vars.iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no ${name}"))
    };
    assert_eq!(var("datasource")["type"], "datasource");
    assert_eq!(var("datasource")["query"], "prometheus");
    for (name, metric) in [
        ("pool", "govcloud_pool_capacity_cpu_cores"),
        ("department", "govcloud_department_quota_cpu_cores"),
    ] {
        let v = var(name);
        assert_eq!(v["query"]["query"], format!("label_values({metric}, {name})"));
        assert_eq!(v["datasource"]["uid"], "${datasource}");
    }

    let mut ids = BTreeSet::new();
    for p in panels {
        assert!(
            ids.insert(p["id"].as_u64().unwrap()),
            "duplicate panel id {}",
            p["id"]
        );
        if p["type"] == "row" {
            continue;
        }
        let title = p["title"].as_str().unwrap();
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{title}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has no query");
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${datasource}", "{title}");
        }
    }
    // The variables filter what they name.
    let mut exprs = Vec::new();
    strings_under(&d["panels"], &["expr"], &mut exprs);
    assert!(exprs.iter().any(|e| e.contains(r#"pool=~"$pool""#)));
    assert!(exprs.iter().any(|e| e.contains(r#"department=~"$department""#)));
}

#[test]
fn the_rules_pass_promtool_check_rules() {
    let output = promtool::run_ok(
        &repo_root(),
        &["check", "rules", "config/monitoring/govcloud-rules.yaml"],
        "",
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("SUCCESS: 8 rules found"), "{said}");
}

#[test]
fn every_alert_fires_on_bad_series_and_not_on_good_ones() {
    let tests = yaml(repo_root().join("tests/monitoring/rules-test.yaml"));
    let rules = yaml(monitoring("govcloud-rules.yaml"));
    // Every alert is exercised, both firing (some expected alert) and quiet (none expected).
    let mut fired = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for case in tests["tests"].as_array().unwrap() {
        for check in case["alert_rule_test"].as_array().unwrap() {
            let name = check["alertname"].as_str().unwrap().to_string();
            let expected = check["exp_alerts"].as_array().map_or(0, Vec::len);
            if expected == 0 { &mut quiet } else { &mut fired }.insert(name);
        }
    }
    let mut alerts = Vec::new();
    strings_under(&rules, &["alert"], &mut alerts);
    assert_eq!(alerts.len(), 8);
    for alert in &alerts {
        assert!(fired.contains(alert), "{alert} is never shown firing");
        assert!(quiet.contains(alert), "{alert} is never shown quiet");
    }
    let output = promtool::run_ok(
        &repo_root().join("tests/monitoring"),
        &["test", "rules", "rules-test.yaml"],
        "",
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("SUCCESS"));
}

#[test]
fn the_metrics_page_lists_exactly_the_exported_metrics() {
    let page = std::fs::read_to_string(repo_root().join("docs/metrics.md")).unwrap();
    let section = page
        .strip_prefix("# Metrics\n")
        .and_then(|rest| rest.split("\n## ").next())
        .expect("docs/metrics.md starts with its Metrics heading");
    let documented: BTreeSet<String> = section
        .lines()
        .filter(|l| l.starts_with("| `govcloud_"))
        .flat_map(|l| metric_names(l.split(" | ").next().unwrap()))
        .collect();
    // As a user queries them: a counter with `_total`, a histogram by its family name.
    let exported: BTreeSet<String> = families()
        .into_iter()
        .map(|(family, kind)| match kind.as_str() {
            "counter" => format!("{family}_total"),
            _ => family,
        })
        .collect();
    let undocumented: Vec<&String> = exported.difference(&documented).collect();
    let stale: Vec<&String> = documented.difference(&exported).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "not in the table of docs/metrics.md: {undocumented:?}; documented but not exported: {stale:?}"
    );
}
