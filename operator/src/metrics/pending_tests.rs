//! The deferred-change gauges: counts by kind with zeros, the oldest `since` by kind, and
//! nothing of the objects' names.

use std::path::Path;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::*;
use crate::api::{ChangeKind, PendingChange};
use crate::load::load_paths;
use crate::plan::{Assignments, PendingPlan, PendingReason, plan};

fn sample_plan() -> Plan {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let snapshot = load_paths(&[root.join("config/samples")])
        .expect("samples load")
        .snapshot;
    plan(&snapshot, &Assignments::default())
}

fn waiting(kind: ChangeKind, since_second: i64) -> Option<PendingPlan> {
    Some(PendingPlan {
        change: PendingChange {
            kind,
            from: "general-legacy".into(),
            to: "general-east".into(),
            since: Time(Timestamp::from_second(since_second).unwrap()),
            next_window: None,
        },
        reason: PendingReason::AwaitingWindow,
        message: "waits for the window of department finance".into(),
    })
}

/// The deferred-change samples, sorted (a family's series come in hash order).
fn pending_lines(m: &Metrics) -> Vec<String> {
    let mut lines: Vec<String> = m
        .encode()
        .lines()
        .filter(|l| l.starts_with("govcloud_changes_pending") || l.starts_with("govcloud_oldest_pending"))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_plan_without_waiting_changes_counts_zero_of_each_kind_and_has_no_oldest() {
    let m = Metrics::new(&MetricsConfig { per_service: false });
    let plan = sample_plan();
    assert!(crate::report::PendingChangeReport::all(&plan).is_empty());
    m.observe_plan(&plan, None);
    assert_eq!(
        pending_lines(&m),
        [
            r#"govcloud_changes_pending{kind="Move"} 0"#,
            r#"govcloud_changes_pending{kind="Template"} 0"#,
        ]
    );
    // prometheus-client leaves an empty family out altogether, declaration included.
    assert!(!m.encode().contains("oldest_pending"));
}

#[test]
fn services_and_shared_instances_waiting_are_counted_with_the_oldest_since() {
    let mut plan = sample_plan();
    plan.services[0].pending_change = waiting(ChangeKind::Move, 1_800_000_500);
    plan.services[1].pending_change = waiting(ChangeKind::Move, 1_800_000_900);
    plan.services[2].pending_change = waiting(ChangeKind::Template, 1_800_003_000);
    let instance = plan
        .offerings
        .iter_mut()
        .flat_map(|o| &mut o.instances)
        .next()
        .expect("the samples share an instance");
    // The oldest move is an instance's: instances count as much as services.
    instance.pending_change = waiting(ChangeKind::Move, 1_800_000_000);
    assert_eq!(crate::report::PendingChangeReport::all(&plan).len(), 4);

    let m = Metrics::new(&MetricsConfig { per_service: true });
    m.observe_plan(&plan, None);
    assert_eq!(
        pending_lines(&m),
        [
            r#"govcloud_changes_pending{kind="Move"} 3"#,
            r#"govcloud_changes_pending{kind="Template"} 1"#,
            r#"govcloud_oldest_pending_change_timestamp_seconds{kind="Move"} 1800000000.0"#,
            r#"govcloud_oldest_pending_change_timestamp_seconds{kind="Template"} 1800003000.0"#,
        ]
    );
    for line in pending_lines(&m) {
        assert!(!line.contains(&plan.services[0].name), "{line}");
        assert!(!line.contains("window"), "{line}");
    }

    // The template change goes through: its count drops to zero and its oldest goes.
    plan.services[2].pending_change = None;
    m.observe_plan(&plan, None);
    let lines = pending_lines(&m);
    assert!(lines.contains(&r#"govcloud_changes_pending{kind="Template"} 0"#.to_string()));
    assert!(
        !lines
            .iter()
            .any(|l| l.contains(r#"timestamp_seconds{kind="Template"}"#)),
        "{lines:?}"
    );
    assert!(lines.contains(
        &r#"govcloud_oldest_pending_change_timestamp_seconds{kind="Move"} 1800000000.0"#.to_string()
    ));
}

#[test]
fn every_change_kind_has_its_series() {
    // CHANGE_KINDS must list every kind the exhaustive name match knows.
    let names: Vec<&str> = labels::CHANGE_KINDS
        .iter()
        .map(|k| labels::change_kind_name(*k))
        .collect();
    assert_eq!(names, ["Move", "Template"]);
}
