//! The exported series of the sample estate, removal of what left the plan, label
//! hygiene, and the controller's counters.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::core::Status;

use super::*;
use crate::controller::{ApplyError, PassReport};
use crate::load::load_paths;
use crate::object::{Kind, ObjectId, Target};
use crate::plan::{Assignments, Snapshot, plan};
use crate::quantity::Res;
use crate::usage::{Health, PodUsage, Sample, aggregate};

fn sample_snapshot() -> Snapshot {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    load_paths(&[root.join("config/samples")])
        .expect("samples load")
        .snapshot
}

fn metrics(per_service: bool) -> Metrics {
    Metrics::new(&MetricsConfig { per_service })
}

/// A usage sample as a source would report it: one pod per placed workload replica set
/// and shared instance, using half of what was allocated, attributed by the plan.
fn fake_usage(snapshot: &Snapshot, plan: &Plan) -> Usage {
    let mut pods = Vec::new();
    for s in plan
        .services
        .iter()
        .filter(|s| s.pool.is_some() && s.shared_instance.is_none())
    {
        pods.push(PodUsage {
            namespace: s.namespace.clone(),
            pod: format!("{}-5f6d7c8b9-aaaaa", s.name),
            used: s.allocated.checked_div_ceil(2).expect("a positive divisor"),
        });
    }
    for i in plan.offerings.iter().flat_map(|o| &o.instances) {
        pods.push(PodUsage {
            namespace: snapshot.settings.shared_namespace.clone(),
            pod: format!("{}-6c7d8e9f0-bbbbb", i.name),
            used: Res::new(250, 1 << 30),
        });
    }
    let sample = Sample {
        at: Timestamp::from_second(1_800_000_000).unwrap(),
        pods,
    };
    aggregate(plan, &snapshot.settings, &sample)
}

/// `series → value` of every sample line (`name{labels}` as written).
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line has a value");
            (series.to_string(), value.parse().expect("a numeric value"))
        })
        .collect()
}

fn value(text: &str, series: &str) -> f64 {
    *samples(text)
        .get(series)
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

/// Every label value of every sample.
fn label_values(text: &str) -> BTreeSet<String> {
    let mut values = BTreeSet::new();
    for series in samples(text).keys() {
        let Some((_, labels)) = series.split_once('{') else {
            continue;
        };
        for pair in labels.trim_end_matches('}').split(',') {
            let (_, v) = pair.split_once('=').unwrap();
            values.insert(v.trim_matches('"').to_string());
        }
    }
    values
}

#[test]
fn the_sample_plan_is_exported_with_its_figures() {
    let plan = plan(&sample_snapshot(), &Assignments::default());
    let m = metrics(false);
    m.observe_plan(&plan, None);
    let text = m.encode();
    let expected = [
        (r#"govcloud_pool_capacity_cpu_cores{pool="general-east"}"#, 48.0),
        (
            r#"govcloud_pool_effective_capacity_cpu_cores{pool="general-east"}"#,
            72.0,
        ),
        (
            r#"govcloud_pool_capacity_memory_bytes{pool="general-east"}"#,
            206_158_430_208.0,
        ),
        (
            r#"govcloud_pool_allocated_cpu_cores{pool="classified-east"}"#,
            44.0,
        ),
        (
            r#"govcloud_pool_allocated_memory_bytes{pool="classified-east"}"#,
            124_554_051_584.0,
        ),
        (
            r#"govcloud_pool_utilisation_ratio{pool="classified-east",resource="cpu"}"#,
            0.6875,
        ),
        (
            r#"govcloud_pool_utilisation_ratio{pool="classified-east",resource="memory"}"#,
            0.4531,
        ),
        (
            r#"govcloud_pool_target_utilisation_ratio{pool="classified-east"}"#,
            0.7,
        ),
        (r#"govcloud_pool_security_level{pool="classified-east"}"#, 3.0),
        (r#"govcloud_pool_services{pool="general-east"}"#, 23.0),
        (r#"govcloud_pool_departments{pool="general-east"}"#, 5.0),
        (r#"govcloud_pool_shared_instances{pool="general-east"}"#, 3.0),
        (
            r#"govcloud_department_quota_cpu_cores{department="finance"}"#,
            24.0,
        ),
        (
            r#"govcloud_department_quota_memory_bytes{department="finance"}"#,
            103_079_215_104.0,
        ),
        (
            r#"govcloud_department_quota_services{department="finance"}"#,
            12.0,
        ),
        (
            r#"govcloud_department_allocated_cpu_cores{department="health"}"#,
            18.5,
        ),
        (r#"govcloud_department_services{department="health"}"#, 7.0),
        (r#"govcloud_department_shared_services{department="health"}"#, 3.0),
        (
            r#"govcloud_department_monthly_cost{department="health"}"#,
            5362.58,
        ),
        (
            r#"govcloud_department_refused_services{department="civil-affairs",reason="PolicyViolation"}"#,
            1.0,
        ),
        (
            r#"govcloud_department_refused_services{department="transport",reason="QuotaExceeded"}"#,
            1.0,
        ),
        (r#"govcloud_offering_tenants{offering="shared-postgresql"}"#, 8.0),
        (
            r#"govcloud_offering_instances{offering="shared-postgresql",level="2"}"#,
            2.0,
        ),
        (
            r#"govcloud_offering_instances{offering="shared-postgresql",level="3"}"#,
            1.0,
        ),
        (
            r#"govcloud_offering_siloed_instances{offering="shared-postgresql"}"#,
            8.0,
        ),
        (
            r#"govcloud_offering_instances_saved{offering="shared-postgresql"}"#,
            5.0,
        ),
        (r#"govcloud_services{phase="Placed"}"#, 37.0),
        (r#"govcloud_services{phase="Rejected"}"#, 3.0),
        (r#"govcloud_services{phase="Pending"}"#, 0.0),
        ("govcloud_estate_instances_saved", 9.0),
        ("govcloud_estate_nodes_consolidated", 6.0),
        ("govcloud_estate_nodes_siloed", 12.0),
        ("govcloud_estate_nodes_saved", 6.0),
        ("govcloud_estate_monthly_cost_consolidated", 28686.08),
        ("govcloud_estate_monthly_cost_siloed", 54896.0),
        ("govcloud_estate_monthly_cost_saved", 26209.92),
        (
            r#"govcloud_estate_utilisation_consolidated_ratio{resource="cpu"}"#,
            0.7545,
        ),
        (
            r#"govcloud_estate_utilisation_siloed_ratio{resource="memory"}"#,
            0.4857,
        ),
    ];
    for (series, want) in expected {
        assert_eq!(value(&text, series), want, "{series}");
    }
    // Every pool, department and offering of the plan has its series.
    for p in &plan.pools {
        let series = format!(r#"govcloud_pool_allocated_cpu_cores{{pool="{}"}}"#, p.name);
        assert_eq!(value(&text, &series), p.allocated.cores());
    }
    for d in &plan.departments {
        let series = format!(
            r#"govcloud_department_allocated_memory_bytes{{department="{}"}}"#,
            d.name
        );
        assert_eq!(value(&text, &series), d.allocated.memory_bytes as f64);
    }
    // No sample: measured use is absent, not zero.
    assert!(!text.contains("_used_"), "no usage, no used series:\n{text}");
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn measured_usage_is_exported_next_to_allocation() {
    let snapshot = sample_snapshot();
    let plan = plan(&snapshot, &Assignments::default());
    let usage = fake_usage(&snapshot, &plan);
    assert!(!usage.pools.is_empty() && !usage.departments.is_empty());
    let m = metrics(true);
    m.observe_plan(&plan, Some(&usage));
    let text = m.encode();
    for (pool, used) in &usage.pools {
        assert_eq!(
            value(
                &text,
                &format!(r#"govcloud_pool_used_cpu_cores{{pool="{pool}"}}"#)
            ),
            used.cores()
        );
    }
    for (department, used) in &usage.departments {
        let series = format!(r#"govcloud_department_used_memory_bytes{{department="{department}"}}"#);
        assert_eq!(value(&text, &series), used.memory_bytes as f64);
    }
    let ledger = &usage.services["dept-finance/budget-planning"];
    let series = r#"govcloud_service_used_cpu_cores{service_namespace="dept-finance",service_name="budget-planning",department="finance"}"#;
    assert_eq!(value(&text, series), ledger.cores());
    // A later plan without usage drops the used series again.
    m.observe_plan(&plan, None);
    assert!(!m.encode().contains("_used_"));
}

#[test]
fn a_pool_department_or_offering_gone_from_the_plan_leaves_no_series() {
    let mut snapshot = sample_snapshot();
    let m = metrics(true);
    m.observe_plan(&plan(&snapshot, &Assignments::default()), None);
    let before = m.encode();
    assert!(before.contains(r#"pool="general-legacy""#));
    assert!(before.contains(r#"reason="ClearanceInsufficient""#));

    snapshot
        .pools
        .retain(|p| p.metadata.name.as_deref() != Some("general-legacy"));
    // The department with the refused level-3 request leaves with its services.
    snapshot
        .departments
        .retain(|d| d.metadata.name.as_deref() != Some("education"));
    snapshot
        .services
        .retain(|s| s.metadata.namespace.as_deref() != Some("dept-education"));
    let later = plan(&snapshot, &Assignments::default());
    assert!(later.pools.iter().all(|p| p.name != "general-legacy"));
    m.observe_plan(&later, None);
    let after = m.encode();
    for gone in [
        r#"pool="general-legacy""#,
        r#"department="education""#,
        r#"service_namespace="dept-education""#,
        r#"reason="ClearanceInsufficient""#,
    ] {
        assert!(!after.contains(gone), "{gone} lingers:\n{after}");
    }
    assert!(after.contains(r#"pool="general-east""#));

    // An offering nobody uses any more has no instances, and no series.
    let mut without_offering = later.clone();
    without_offering
        .offerings
        .retain(|o| o.name != "shared-hr-finance");
    m.observe_plan(&without_offering, None);
    assert!(!m.encode().contains(r#"offering="shared-hr-finance""#));
}

#[test]
fn service_names_are_labels_only_with_per_service_on() {
    let snapshot = sample_snapshot();
    let plan = plan(&snapshot, &Assignments::default());
    let usage = fake_usage(&snapshot, &plan);
    let bounded: BTreeSet<String> = plan
        .pools
        .iter()
        .map(|p| p.name.clone())
        .chain(plan.departments.iter().map(|d| d.name.clone()))
        .chain(plan.offerings.iter().map(|o| o.name.clone()))
        .collect();

    let off = metrics(false);
    off.observe_plan(&plan, Some(&usage));
    let text = off.encode();
    assert!(!text.contains("service_name") && !text.contains("govcloud_service_"));
    let values = label_values(&text);
    for s in &plan.services {
        for name in [&s.name, &s.namespace] {
            assert!(
                bounded.contains(name) || !values.contains(name),
                "{name} is a label value with perService off"
            );
        }
    }

    let on = metrics(true);
    on.observe_plan(&plan, Some(&usage));
    let text = on.encode();
    let admitted = plan.services.iter().filter(|s| s.admitted).count();
    let allocated = samples(&text)
        .keys()
        .filter(|k| k.starts_with("govcloud_service_allocated_cpu_cores{"))
        .count();
    assert_eq!(allocated, admitted, "one series per admitted service");
}

#[test]
fn every_family_has_help_and_a_type_in_both_formats() {
    let snapshot = sample_snapshot();
    let plan = plan(&snapshot, &Assignments::default());
    let m = metrics(true);
    m.observe_plan(&plan, Some(&fake_usage(&snapshot, &plan)));
    m.observe_pass(&PassReport::default(), Duration::from_millis(20));
    m.observe_planning(Duration::from_millis(3));
    for text in [m.encode(), m.encode_text()] {
        let declared = |prefix: &str| -> BTreeSet<String> {
            text.lines()
                .filter_map(|l| l.strip_prefix(prefix))
                .map(|rest| rest.split(' ').next().unwrap().to_string())
                .collect()
        };
        let (helps, types) = (declared("# HELP "), declared("# TYPE "));
        assert_eq!(helps, types, "each family has both HELP and TYPE");
        assert!(helps.len() > 40, "{} families", helps.len());
        for line in text.lines().filter(|l| l.starts_with("# HELP ")) {
            assert!(line.splitn(4, ' ').nth(3).is_some_and(|h| h.len() > 10), "{line}");
        }
        for series in samples(&text).keys() {
            let name = series.split('{').next().unwrap();
            assert!(name.starts_with("govcloud_"), "{name}");
            let family = ["_total", "_bucket", "_sum", "_count", "_created"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| types.contains(*f)))
                .unwrap_or(name);
            assert!(
                types.contains(family) || types.contains(name),
                "{name} has no TYPE"
            );
        }
    }
}

fn api_error(kind: Kind, namespace: Option<&str>, name: &str, code: u16) -> ApplyError {
    let status = Status::failure("boom: the message of the server", "Reason").with_code(code);
    let object = ObjectId::new(kind, namespace, name);
    ApplyError::new("apply", object, kube::Error::Api(status.boxed()))
}

#[test]
fn a_pass_counts_failures_by_kind_and_category_never_by_name_or_text() {
    let m = metrics(false);
    let mut report = PassReport::default();
    report.summary.applied = 5;
    report.status_writes = 2;
    report.errors = vec![
        api_error(Kind::Deployment, Some("dept-finance"), "budget-planning", 409),
        api_error(Kind::Deployment, Some("dept-health"), "records", 409),
        api_error(Kind::DepartmentService, Some("dept-health"), "records", 429),
        api_error(Kind::Namespace, None, "dept-health", 500),
        api_error(Kind::ConfigMap, Some("dept-health"), "token", 422),
    ];
    m.observe_pass(&report, Duration::from_millis(1500));
    let text = m.encode();
    let failures = |kind: &str, category: &str| {
        value(
            &text,
            &format!(r#"govcloud_pass_failures_total{{kind="{kind}",category="{category}"}}"#),
        )
    };
    assert_eq!(failures("Deployment", "conflict"), 2.0);
    assert_eq!(failures("DepartmentService", "throttled"), 1.0);
    assert_eq!(failures("Namespace", "server"), 1.0);
    assert_eq!(failures("ConfigMap", "rejected"), 1.0);
    assert!(!text.contains("budget-planning") && !text.contains("boom") && !text.contains("token"));
    assert_eq!(value(&text, "govcloud_passes_total"), 1.0);
    assert_eq!(value(&text, "govcloud_objects_applied_total"), 5.0);
    assert_eq!(value(&text, "govcloud_status_writes_total"), 2.0);
    assert_eq!(value(&text, "govcloud_pass_duration_seconds_count"), 1.0);
    assert_eq!(value(&text, "govcloud_pass_duration_seconds_sum"), 1.5);
    assert_eq!(
        value(&text, r#"govcloud_pass_duration_seconds_bucket{le="1.0"}"#),
        0.0
    );
    assert_eq!(
        value(&text, r#"govcloud_pass_duration_seconds_bucket{le="2.5"}"#),
        1.0
    );
    assert_eq!(
        value(&text, "govcloud_last_successful_pass_timestamp_seconds"),
        0.0,
        "a pass with failures is not a success"
    );

    m.observe_pass(&PassReport::default(), Duration::from_millis(10));
    m.observe_render_failure(Duration::from_millis(10));
    let text = m.encode();
    assert_eq!(value(&text, "govcloud_passes_total"), 3.0);
    assert_eq!(value(&text, "govcloud_pass_render_failures_total"), 1.0);
    let last = value(&text, "govcloud_last_successful_pass_timestamp_seconds");
    assert!(last > 1.7e9, "a clean pass sets the timestamp, got {last}");
}

#[test]
fn the_kind_label_is_the_kind_of_the_failed_call_even_for_a_list() {
    let m = metrics(false);
    let status = Status::failure("gone", "Gone").with_code(503);
    let list = ApplyError::new(
        "list",
        Target::All(Kind::Service),
        kube::Error::Api(status.boxed()),
    );
    let report = PassReport {
        errors: vec![list],
        ..PassReport::default()
    };
    m.observe_pass(&report, Duration::from_millis(1));
    let text = m.encode();
    let label = r#"govcloud_pass_failures_total{kind="Service",category="server"}"#;
    assert_eq!(value(&text, label), 1.0);
}

#[test]
fn usage_source_health_and_staleness() {
    let m = metrics(false);
    let now = Timestamp::from_second(1_800_000_600).unwrap();
    let down = Health {
        up: Some(false),
        ..Health::default()
    };
    m.observe_usage_source(UsageSource::Prometheus, &down, now);
    let text = m.encode();
    assert_eq!(
        value(&text, r#"govcloud_usage_source_up{source="prometheus"}"#),
        0.0
    );
    assert!(
        !text.contains("govcloud_usage_source_staleness_seconds{"),
        "never sampled: no staleness"
    );

    let at = Timestamp::from_second(1_800_000_000).unwrap();
    let mut up = Health {
        up: Some(true),
        sampled_at: Some(at),
        ..Health::default()
    };
    up.skipped.count = 2;
    m.observe_usage_source(UsageSource::Prometheus, &up, now);
    let text = m.encode();
    assert_eq!(
        value(&text, r#"govcloud_usage_source_up{source="prometheus"}"#),
        1.0
    );
    assert_eq!(
        value(
            &text,
            r#"govcloud_usage_source_staleness_seconds{source="prometheus"}"#
        ),
        600.0
    );
    assert_eq!(
        value(
            &text,
            r#"govcloud_usage_source_skipped_series{source="prometheus"}"#
        ),
        2.0
    );
    let fresh = Health {
        up: Some(true),
        sampled_at: Some(now),
        ..Health::default()
    };
    m.observe_usage_source(UsageSource::MetricsApi, &fresh, now);
    assert_eq!(
        value(&m.encode(), r#"govcloud_usage_source_up{source="metricsApi"}"#),
        1.0
    );
}

#[test]
fn planning_durations_are_observed() {
    let m = metrics(false);
    m.observe_planning(Duration::from_millis(30));
    m.observe_planning(Duration::from_millis(2));
    let text = m.encode();
    assert_eq!(value(&text, "govcloud_planning_duration_seconds_count"), 2.0);
    assert_eq!(
        value(&text, r#"govcloud_planning_duration_seconds_bucket{le="0.0025"}"#),
        1.0
    );
}
