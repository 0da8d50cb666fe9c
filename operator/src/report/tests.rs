//! The report model on the sample estate (its figures against the plan's), the level
//! evidence against deliberately broken plans, usage, and each renderer's escaping and
//! schema.

use std::collections::BTreeSet;
use std::path::PathBuf;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::Value;

use super::*;
use crate::api::{DepartmentStatus, ResourceAmounts, ResourcePoolStatus};
use crate::load::load_paths;
use crate::plan::{Assignments, Plan, Reason, ReasonCode, Snapshot, plan};
use crate::quantity::Res;
use crate::usage::{PodUsage, Sample, aggregate};

mod hostile;

fn samples() -> (Snapshot, Plan) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/samples");
    let snapshot = load_paths(&[dir]).expect("samples load").snapshot;
    let p = plan(&snapshot, &Assignments::default());
    (snapshot, p)
}

fn sample_report() -> (Snapshot, Plan, Report) {
    let (s, p) = samples();
    let r = build(&s, &p, None);
    (s, p, r)
}

fn service<'a>(r: &'a Report, ns: &str, name: &str) -> &'a ServiceReport {
    r.departments
        .iter()
        .flat_map(|d| &d.services)
        .chain(&r.unowned_services)
        .find(|s| s.namespace == ns && s.name == name)
        .unwrap_or_else(|| panic!("{ns}/{name} is in the report"))
}

#[test]
fn totals_and_counts_equal_the_plans() {
    let (_, p, r) = sample_report();
    assert_eq!(r.schema, SCHEMA);
    assert_eq!(r.summary.departments, 6);
    assert_eq!(r.summary.services, 40);
    assert_eq!(r.summary.placed, 37);
    assert_eq!(r.summary.pending, 0);
    assert_eq!(r.summary.rejected, 3);
    assert_eq!(r.savings, p.savings, "savings are the plan's, unchanged");
    assert_eq!(r.savings.monthly_cost_saved, 26209.92);

    let plan_allocated = p
        .departments
        .iter()
        .try_fold(Res::ZERO, |a, d| a.checked_add(d.allocated))
        .expect("a small estate");
    assert_eq!(r.summary.allocated, plan_allocated);
    assert_eq!(
        r.summary.quota,
        Res::new(128_000, 512 << 30),
        "Σ quota of the six departments"
    );
    assert_eq!(r.departments.len(), p.departments.len());
    for (d, pd) in r.departments.iter().zip(&p.departments) {
        assert_eq!(d.name, pd.name);
        assert_eq!(d.allocated, pd.allocated, "{}", d.name);
        assert_eq!(d.quota.cpu, pd.quota.cpu, "{}", d.name);
        assert_eq!(d.quota.memory, pd.quota.memory, "{}", d.name);
        assert_eq!(d.admitted_services, pd.services, "{}", d.name);
        assert_eq!(d.rejected_services, pd.rejected_services, "{}", d.name);
        assert_eq!(d.monthly_cost, pd.monthly_cost, "{}", d.name);
        assert_eq!(d.used, None, "no usage given: not measured, not zero");
        let count = p
            .services
            .iter()
            .filter(|s| s.department.as_ref() == Some(&d.name))
            .count();
        assert_eq!(
            d.services.len(),
            count,
            "{}: every service of the department",
            d.name
        );
    }
    let finance = &r.departments[2];
    assert_eq!(finance.name, "finance");
    assert_eq!(
        finance.display_name.as_deref(),
        Some("Provincial Department of Finance")
    );
    assert_eq!(finance.code.as_deref(), Some("FIN"));
    assert_eq!(finance.allocated, Res::new(14_000, 34 << 30));
    assert_eq!(finance.allocated_of_quota.cpu, 0.5833);
    assert!(r.unowned_services.is_empty());
    assert_eq!(r.pools.len(), 5);
    for (pr, pp) in r.pools.iter().zip(&p.pools) {
        assert_eq!((pr.allocated, pr.monthly_cost), (pp.allocated, pp.monthly_cost));
    }
}

#[test]
fn department_costs_equal_the_plans() {
    // The report prices each service's charge itself (the plan prices only departments):
    // the sum over a department's services must be the plan's figure, to the cent per
    // service that rounding can move it.
    let (_, p, r) = sample_report();
    let mut total = 0.0;
    for (d, pd) in r.departments.iter().zip(&p.departments) {
        let sum: f64 = d.services.iter().map(|s| s.monthly_cost).sum();
        let slack = 0.005 * d.services.len() as f64 + 1e-9;
        assert!(
            (sum - pd.monthly_cost).abs() <= slack,
            "{}: services sum to {sum}, the plan says {}",
            d.name,
            pd.monthly_cost
        );
        total += pd.monthly_cost;
    }
    assert!((r.summary.monthly_cost_charged - total).abs() < 0.2, "{total}");
    let treasury = service(&r, "dept-finance", "treasury-payments");
    // 6 cores and 12Gi on classified-east at 0.32 per core-hour, 0.04 per GiB-hour.
    assert_eq!(treasury.monthly_cost, 1752.0);
    let refused = service(&r, "dept-transport", "video-analytics");
    assert_eq!(refused.monthly_cost, 0.0, "nothing placed, nothing charged");
}

#[test]
fn every_refused_sample_service_appears_with_its_code_and_message() {
    let (_, p, r) = sample_report();
    let refused: Vec<(&str, &str, ReasonCode)> = r
        .refusals
        .iter()
        .map(|f| (f.kind, f.name.as_str(), f.code))
        .collect();
    assert_eq!(
        refused,
        [
            (
                "DepartmentService",
                "dept-civil-affairs/community-news",
                ReasonCode::PolicyViolation
            ),
            (
                "DepartmentService",
                "dept-civil-affairs/community-news",
                ReasonCode::PolicyViolation
            ),
            (
                "DepartmentService",
                "dept-education/exam-question-bank",
                ReasonCode::ClearanceInsufficient
            ),
            (
                "DepartmentService",
                "dept-transport/video-analytics",
                ReasonCode::QuotaExceeded
            ),
        ]
    );
    for s in p.services.iter().filter(|s| !s.reasons.is_empty()) {
        let key = format!("{}/{}", s.namespace, s.name);
        let mine: Vec<Reason> = r
            .refusals
            .iter()
            .filter(|f| f.name == key)
            .map(|f| Reason::new(f.code, f.message.clone()))
            .collect();
        assert_eq!(mine, s.reasons, "{key}: every reason, in order, with its message");
        let in_department = service(&r, &s.namespace, &s.name);
        assert_eq!(
            in_department.reasons, s.reasons,
            "{key} in its department's section"
        );
        assert_eq!(in_department.level_check, LevelStatus::NotPlaced);
        assert_eq!(
            r.refusals.iter().find(|f| f.name == key).unwrap().department,
            s.department
        );
    }
    assert_eq!(r.policies.len(), 1);
    assert_eq!(
        r.policies[0].violations, 1,
        "one service violates the baseline (twice)"
    );
}

#[test]
fn tenants_apportioned_costs_sum_to_the_instance_cost() {
    let (_, _, r) = sample_report();
    assert_eq!(r.shared_instances.len(), 5);
    let mut full = 0;
    for i in &r.shared_instances {
        let sum: f64 = i.tenants.iter().map(|t| t.monthly_cost).sum();
        let slack = 0.005 * i.tenants.len() as f64 + 0.005;
        assert!(
            (i.charged_to_tenants + i.vacant_monthly_cost - i.monthly_cost).abs() <= 0.011,
            "{}: charged + vacant = cost",
            i.name
        );
        assert!((sum - i.charged_to_tenants).abs() <= slack, "{}", i.name);
        if i.vacant_seats == 0 {
            full += 1;
            assert!(
                (sum - i.monthly_cost).abs() <= slack,
                "{}: a full instance is paid for by its tenants: {sum} vs {}",
                i.name,
                i.monthly_cost
            );
        } else {
            assert!(
                i.vacant_monthly_cost > 0.0,
                "{}: vacant seats cost something",
                i.name
            );
        }
        for t in &i.tenants {
            assert_eq!(t.share, 1.0 / f64::from(i.seats));
        }
    }
    assert!(full > 0, "the samples fill at least one instance");
    // shared-postgresql-l2-1: 3 replicas of 2 cores and 8Gi on general-east (0.18, 0.022),
    // four tenants of four seats, 1.5 cores and 6Gi each.
    let pg = r
        .shared_instances
        .iter()
        .find(|i| i.name == "shared-postgresql-l2-1")
        .unwrap();
    assert_eq!((pg.seats, pg.tenants.len(), pg.vacant_seats), (4, 4, 0));
    assert_eq!(pg.monthly_cost, 1173.84);
    assert!(
        pg.tenants.iter().all(|t| t.monthly_cost == 293.46),
        "{:?}",
        pg.tenants
    );
    // shared-hr-finance-l2-1: 4 tenants of 8 seats pay half; the platform bears the rest.
    let hr = r
        .shared_instances
        .iter()
        .find(|i| i.name == "shared-hr-finance-l2-1")
        .unwrap();
    assert_eq!((hr.seats, hr.vacant_seats), (8, 4));
    assert!(
        (hr.vacant_monthly_cost - hr.monthly_cost / 2.0).abs() < 0.02,
        "{hr:?}"
    );

    let health = r.departments.iter().find(|d| d.name == "health").unwrap();
    let tenancies: Vec<(&str, f64)> = health
        .tenancies
        .iter()
        .map(|t| (t.instance.as_str(), t.share))
        .collect();
    assert_eq!(
        tenancies,
        [
            ("shared-postgresql-l2-1", 0.25),
            ("shared-postgresql-l3-1", 0.25),
            ("shared-hr-finance-l2-1", 0.125),
        ]
    );
    assert!(
        health
            .tenancies
            .iter()
            .all(|t| t.instance_monthly_cost > t.monthly_cost)
    );
}

#[test]
fn the_level_evidence_holds_on_the_samples() {
    let (_, _, r) = sample_report();
    let check = &r.summary.level_check;
    assert!(check.holds);
    assert_eq!((check.checked, check.passed), (37, 37));
    assert!(check.failures.is_empty() && check.instance_failures.is_empty());
    assert_eq!(
        check.statement,
        "every placed service runs on a pool of its level or above (37 of 37 placed services \
         checked, and 5 shared instances)"
    );
    // A level-2 service on a level-3 pool is fine: the pool is accredited above it.
    let traffic = service(&r, "dept-public-security", "traffic-violations");
    assert_eq!(
        (
            traffic.security_level,
            traffic.pool_security_level,
            traffic.level_check
        ),
        (2, Some(3), LevelStatus::Ok)
    );
}

#[test]
fn the_level_evidence_flags_a_deliberately_broken_plan() {
    let (s, mut p, _) = sample_report();
    // A level-3 service moved onto a level-2 pool, a shared level-3 instance (and its
    // tenants) likewise, and a service on a pool the plan does not describe.
    let treasury = p
        .services
        .iter_mut()
        .find(|x| x.name == "treasury-payments")
        .unwrap();
    assert_eq!(treasury.security_level, 3);
    treasury.pool = Some("general-east".into());
    let emergency = p
        .services
        .iter_mut()
        .find(|x| x.name == "emergency-dispatch")
        .unwrap();
    emergency.pool = Some("nowhere".into());
    let instance = p
        .offerings
        .iter_mut()
        .flat_map(|o| &mut o.instances)
        .find(|i| i.name == "shared-postgresql-l3-1")
        .unwrap();
    instance.pool = Some("general-west".into());

    let r = build(&s, &p, None);
    let check = &r.summary.level_check;
    assert!(!check.holds);
    assert_eq!(
        check.failures,
        [
            "dept-finance/treasury-payments",
            "dept-public-security/emergency-dispatch"
        ]
    );
    assert_eq!(check.instance_failures, ["shared-postgresql-l3-1"]);
    assert_eq!((check.checked, check.passed), (37, 35));
    assert!(
        check.statement.starts_with("NOT every placed service"),
        "{}",
        check.statement
    );
    assert!(
        check.statement.contains("dept-finance/treasury-payments"),
        "{}",
        check.statement
    );
    let treasury = service(&r, "dept-finance", "treasury-payments");
    assert_eq!(
        (treasury.pool_security_level, treasury.level_check),
        (Some(2), LevelStatus::BelowLevel)
    );
    let emergency = service(&r, "dept-public-security", "emergency-dispatch");
    assert_eq!(
        (emergency.pool_security_level, emergency.level_check),
        (None, LevelStatus::UnknownPool)
    );

    for format in [Format::Markdown, Format::Html] {
        let text = render(&r, format);
        assert!(text.contains("NOT every placed service"), "{format:?}");
        assert!(
            text.contains("BELOW LEVEL"),
            "{format:?}: the check column shows it"
        );
    }
    assert!(render(&r, Format::Html).contains("class=\"evidence bad\""));
    assert!(render(&r, Format::Csv).contains(",belowLevel,"));
}

#[test]
fn usage_is_reported_where_measured_and_null_elsewhere() {
    let (s, p) = samples();
    let at: Timestamp = "2025-06-30T12:00:00Z".parse().unwrap();
    let pod = |ns: &str, name: &str, cpu: i64, mem: i64| PodUsage {
        namespace: ns.into(),
        pod: name.into(),
        used: Res::new(cpu, mem),
    };
    let sample = Sample {
        at,
        pods: vec![
            pod("dept-finance", "treasury-payments-5f6d7c8b9-aaaaa", 1500, 3 << 30),
            pod("dept-finance", "treasury-payments-5f6d7c8b9-bbbbb", 500, 1 << 30),
            // The full level-2 PostgreSQL instance: split four ways.
            pod(
                "govcloud-shared",
                "shared-postgresql-l2-1-6c7d8e9f0-ccccc",
                2000,
                8 << 30,
            ),
            pod("dept-finance", "stray-6c7d8e9f0-ddddd", 5, 5),
        ],
    };
    let usage = MeasuredUsage::from_file(aggregate(&p, &s.settings, &sample));
    let r = build(&s, &p, Some(&usage));
    assert_eq!(r.usage_origin, Some(UsageOrigin::File));
    assert_eq!(r.usage_at.as_deref(), Some("2025-06-30T12:00:00Z"));
    assert_eq!(r.usage_until, r.usage_at, "one sample, one time");
    assert_eq!(
        service(&r, "dept-finance", "treasury-payments").used,
        Some(Res::new(2000, 4 << 30))
    );
    assert_eq!(
        service(&r, "dept-finance", "procurement-db").used,
        Some(Res::new(500, 2 << 30))
    );
    assert_eq!(
        service(&r, "dept-finance", "budget-planning").used,
        None,
        "no pod reported"
    );
    let finance = r.departments.iter().find(|d| d.name == "finance").unwrap();
    assert_eq!(finance.used, Some(Res::new(2500, 6 << 30)));
    assert_eq!(finance.used_of_quota.unwrap().cpu, 0.1042);
    let health = r.departments.iter().find(|d| d.name == "health").unwrap();
    assert_eq!(
        health.used,
        Some(Res::new(500, 2 << 30)),
        "its share of the instance"
    );
    let public_security = r
        .departments
        .iter()
        .find(|d| d.name == "public-security")
        .unwrap();
    assert_eq!(public_security.used, None);
    let east = r.pools.iter().find(|p| p.name == "general-east").unwrap();
    assert_eq!(east.used, Some(Res::new(2000, 8 << 30)));
    let classified = r.pools.iter().find(|p| p.name == "classified-east").unwrap();
    assert_eq!(classified.used, Some(Res::new(2000, 4 << 30)));
    assert_eq!(r.summary.used, Some(Res::new(4000, 12 << 30)));
    assert_eq!(r.summary.unattributed_pods, Some(1));
    let pg = r
        .shared_instances
        .iter()
        .find(|i| i.name == "shared-postgresql-l2-1")
        .unwrap();
    assert!(pg.tenants.iter().all(|t| t.used == Some(Res::new(500, 2 << 30))));

    // Measured, the human formats show use next to allocation; unmeasured, they say so
    // once instead of on every row.
    let md = render(&r, Format::Markdown);
    assert!(
        md.contains("Usage: from the --usage file, sampled at 2025-06-30T12:00:00Z.\n"),
        "{md}"
    );
    assert!(md.contains("- **Unattributed pods** in department or shared namespaces: 1."));
    assert!(md.contains("| used CPU | used memory |"), "{md}");
    assert!(md.contains(
        "| treasury-payments | 3 | Placed | classified-east | 3 | ok | - | - | 6 | 12Gi | 2 | 4Gi |"
    ));
    assert!(
        md.contains("| used | 2.5 (10%) | 6Gi (6%) | - |"),
        "finance's use of its quota"
    );
    let html = render(&r, Format::Html);
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(html.contains(">used</text>"), "the charts have a used series");
    let unmeasured = render(&build(&s, &p, None), Format::Markdown);
    assert!(!unmeasured.contains("used CPU"));
    assert!(unmeasured.contains("Usage: not measured (no --usage file)."));
}

#[test]
fn usage_from_statuses_is_reported_as_such_without_unattributed_pods() {
    let (mut s, p) = samples();
    let used = |cpu: &str, memory: &str| {
        Some(ResourceAmounts {
            cpu: cpu.into(),
            memory: memory.into(),
        })
    };
    let at = |t: &str| Some(Time(t.parse().unwrap()));
    let treasury = s
        .services
        .iter_mut()
        .find(|d| d.metadata.name.as_deref() == Some("treasury-payments"))
        .unwrap();
    treasury.status.get_or_insert_default().used = used("1200m", "3500Mi");
    treasury.status.get_or_insert_default().used_at = at("2025-06-30T10:00:00Z");
    let finance = s
        .departments
        .iter_mut()
        .find(|d| d.metadata.name.as_deref() == Some("finance"))
        .unwrap();
    finance.status = Some(DepartmentStatus {
        used: used("2500m", "6Gi"),
        used_at: at("2025-06-30T09:30:00Z"),
        ..Default::default()
    });
    let east = s
        .pools
        .iter_mut()
        .find(|p| p.metadata.name.as_deref() == Some("general-east"))
        .unwrap();
    east.status = Some(ResourcePoolStatus {
        used: used("2", "8Gi"),
        used_at: at("2025-06-30T10:15:00Z"),
        ..Default::default()
    });

    let (measured, warnings) = usage_from_statuses(&s);
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut r = build(&s, &p, measured.as_ref());
    r.source = Source::Cluster;
    assert_eq!(r.usage_origin, Some(UsageOrigin::Statuses));
    assert_eq!(r.usage_at.as_deref(), Some("2025-06-30T09:30:00Z"), "the oldest");
    assert_eq!(
        r.usage_until.as_deref(),
        Some("2025-06-30T10:15:00Z"),
        "the newest"
    );
    assert_eq!(
        service(&r, "dept-finance", "treasury-payments").used,
        Some(Res::new(1200, 3500 << 20))
    );
    assert_eq!(service(&r, "dept-finance", "budget-planning").used, None);
    let dept = |name: &str| r.departments.iter().find(|d| d.name == name).unwrap();
    assert_eq!(dept("finance").used, Some(Res::new(2500, 6 << 30)));
    assert_eq!(dept("health").used, None);
    let pool = |name: &str| r.pools.iter().find(|p| p.name == name).unwrap();
    assert_eq!(pool("general-east").used, Some(Res::new(2000, 8 << 30)));
    assert_eq!(pool("classified-east").used, None);
    assert_eq!(r.summary.used, Some(Res::new(2500, 6 << 30)));
    assert_eq!(
        r.summary.unattributed_pods, None,
        "statuses do not record unattributed pods: unknown, not 0"
    );

    let md = render(&r, Format::Markdown);
    assert!(
        md.contains(
            "Usage: from the operator's statuses, measured between 2025-06-30T09:30:00Z and \
             2025-06-30T10:15:00Z (rounded to two significant digits, as statuses show it).\n"
        ),
        "{md}"
    );
    assert!(md.contains("| used CPU | used memory |"), "{md}");
    assert!(!md.contains("Unattributed pods"), "{md}");
    let html = render(&r, Format::Html);
    assert!(
        html.contains(
            "; usage from the operator's statuses, measured between 2025-06-30T09:30:00Z and \
             2025-06-30T10:15:00Z (rounded to two significant digits, as statuses show it).</p>"
        ),
        "{html}"
    );
    assert!(html.contains(">used</text>"), "the charts have a used series");
    let v: Value = serde_json::from_str(&render(&r, Format::Json)).unwrap();
    assert_eq!(v["usageOrigin"], "statuses");
    assert_eq!(v["summary"]["unattributedPods"], Value::Null);

    // From a cluster whose statuses show no usage, the header says where it looked.
    let mut unmeasured = build(&s, &p, None);
    unmeasured.source = Source::Cluster;
    let md = render(&unmeasured, Format::Markdown);
    assert!(
        md.contains("Usage: not measured (no --usage file, and no status shows used).\n"),
        "{md}"
    );
}

#[test]
fn services_of_no_department_are_listed_with_their_refusal() {
    use crate::synthetic::{department, pool, workload};
    let s = Snapshot {
        pools: vec![pool("p", 2, "8", "32Gi")],
        departments: vec![department("empty", 2, "4", "8Gi", 3)],
        services: vec![workload("dept-ghost", "orphan", 2, 1, "1", "1Gi")],
        ..Default::default()
    };
    let p = plan(&s, &Assignments::default());
    let r = build(&s, &p, None);
    assert_eq!(r.unowned_services.len(), 1);
    assert_eq!(r.unowned_services[0].name, "orphan");
    assert_eq!(r.refusals[0].code, ReasonCode::DepartmentNotFound);
    assert_eq!(r.refusals[0].department, None);
    assert!(r.departments[0].services.is_empty());
    assert_eq!(
        r.summary.level_check.statement,
        "no service is placed, so none runs below its level"
    );
    let csv = render(&r, Format::Csv);
    let rows = super::usage_file::csv_records(&csv).unwrap();
    assert_eq!(
        rows.len(),
        3,
        "header, the department without services, the orphan:\n{csv}"
    );
    assert_eq!(rows[1].1[0], "empty");
    assert_eq!(rows[1].1[14], "", "no service columns");
    assert_eq!(rows[2].1[0], "", "no department columns");
    assert_eq!(rows[2].1[14], "orphan");
}

/// The samples with hostile text where users can put text: a display name and code, and a
/// refusal message.
fn hostile_report() -> Report {
    let (mut s, _) = samples();
    let finance = s
        .departments
        .iter_mut()
        .find(|d| d.metadata.name.as_deref() == Some("finance"))
        .unwrap();
    finance.spec.display_name = Some(r#"Finance, "Treasury" & <script>alert('x')</script>"#.into());
    finance.spec.code = Some("=SUM(A1:A9)".into());
    let mut p = plan(&s, &Assignments::default());
    let refused = p
        .services
        .iter_mut()
        .find(|x| x.name == "video-analytics")
        .unwrap();
    refused.reasons[0].message = "line one, \"quoted\"\nline two | <b>bold</b>".into();
    build(&s, &p, None)
}

#[test]
fn csv_is_one_rectangular_table_that_reads_back_exactly() {
    let r = hostile_report();
    let csv = render(&r, Format::Csv);
    assert!(csv.ends_with("\r\n"));
    let rows = super::usage_file::csv_records(&csv).expect("valid RFC 4180");
    assert_eq!(rows[0].1, CSV_COLUMNS, "header");
    assert_eq!(rows.len(), 1 + 40, "one row per service");
    for (line, row) in &rows {
        assert_eq!(row.len(), CSV_COLUMNS.len(), "line {line}: {row:?}");
    }
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let finance = rows.iter().find(|(_, r)| r[0] == "finance").unwrap();
    assert_eq!(
        finance.1[col("department_display_name")],
        r#"Finance, "Treasury" & <script>alert('x')</script>"#,
        "commas and quotes survive the round trip"
    );
    assert_eq!(
        finance.1[col("department_code")],
        "'=SUM(A1:A9)",
        "a formula is defused for spreadsheets"
    );
    assert_eq!(finance.1[col("quota_memory_bytes")], (96u64 << 30).to_string());
    let video = rows
        .iter()
        .find(|(_, r)| r[col("service")] == "video-analytics")
        .unwrap();
    assert_eq!(video.1[col("reason_codes")], "QuotaExceeded");
    assert_eq!(
        video.1[col("reason_messages")],
        "line one, \"quoted\"\nline two | <b>bold</b>"
    );
    assert_eq!(video.1[col("phase")], "Rejected");
    assert_eq!(video.1[col("level_check")], "notPlaced");
    let treasury = rows
        .iter()
        .find(|(_, r)| r[col("service")] == "treasury-payments")
        .unwrap();
    assert_eq!(treasury.1[col("monthly_cost")], "1752.00");
    assert_eq!(treasury.1[col("pool_security_level")], "3");
    assert_eq!(
        treasury.1[col("used_cpu_cores")],
        "",
        "not measured: empty, not zero"
    );
    let community = rows
        .iter()
        .find(|(_, r)| r[col("service")] == "community-news")
        .unwrap();
    assert_eq!(
        community.1[col("reason_codes")],
        "PolicyViolation;PolicyViolation"
    );
}

#[test]
fn html_escapes_all_text_and_is_self_contained() {
    let r = hostile_report();
    let page = render(&r, Format::Html);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(!page.contains("<script"), "user text cannot inject markup");
    assert!(!page.contains("<b>bold"), "messages are escaped");
    assert!(
        page.contains("Finance, &quot;Treasury&quot; &amp; &lt;script&gt;alert('x')&lt;/script&gt;"),
        "display name escaped"
    );
    assert!(page.contains("line two | &lt;b&gt;bold&lt;/b&gt;"));
    for external in ["<link", "src=", "@import", "url(", "https://"] {
        assert!(!page.contains(external), "no external asset ({external})");
    }
    let http: Vec<&str> = page
        .match_indices("http://")
        .map(|(i, _)| &page[i..i + 30])
        .collect();
    assert!(
        http.iter().all(|h| h.starts_with("http://www.w3.org/2000/svg")),
        "only the SVG namespace: {http:?}"
    );
    assert_eq!(page.matches("<svg").count(), 4, "four charts");
    assert_eq!(page.matches("<svg").count(), page.matches("</svg>").count());
    assert!(page.contains("class=\"evidence ok\""));
    assert!(page.contains("every placed service runs on a pool of its level or above"));
    assert!(page.contains("26,209.92"), "the savings");
    assert_eq!(page.matches("<table>").count(), page.matches("</table>").count());
}

#[test]
fn markdown_cells_cannot_break_their_tables() {
    let r = hostile_report();
    let md = render(&r, Format::Markdown);
    assert!(md.starts_with("# govcloud estate report\n"));
    assert!(md.contains("every placed service runs on a pool of its level or above"));
    // Every table row has as many unescaped separators as its table's header.
    let mut columns = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let separators = line.replace("\\\\", "").replace("\\|", "").matches('|').count();
        match columns {
            None => columns = Some(separators),
            Some(n) => assert_eq!(separators, n, "{line}"),
        }
    }
    assert!(
        md.contains("line one, \"quoted\"␊line two \\| &lt;b&gt;bold&lt;/b&gt;"),
        "{md}"
    );
    assert!(md.contains("&lt;script&gt;"));
    assert!(
        md.contains("| shared-postgresql-l2-1 | shared-postgresql | 2 | general-east | 2 | ok | 4 / 4 |")
    );
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

#[test]
fn json_has_the_documented_keys() {
    let (_, _, r) = sample_report();
    let v: Value = serde_json::from_str(&render(&r, Format::Json)).unwrap();
    assert_eq!(
        keys(&v),
        set(&[
            "schema",
            "source",
            "currency",
            "usageOrigin",
            "usageAt",
            "usageUntil",
            "summary",
            "departments",
            "unownedServices",
            "pools",
            "sharedInstances",
            "refusals",
            "pendingChanges",
            "policies",
            "savings",
        ])
    );
    assert_eq!(v["schema"], "govcloud.io/report/v1alpha1");
    assert_eq!(v["source"], "manifests");
    assert_eq!(v["usageOrigin"], Value::Null);
    assert_eq!(v["usageAt"], Value::Null);
    assert_eq!(v["usageUntil"], Value::Null);
    assert_eq!(
        keys(&v["summary"]),
        set(&[
            "departments",
            "services",
            "placed",
            "pending",
            "rejected",
            "quota",
            "allocated",
            "used",
            "monthlyCostCharged",
            "levelCheck",
            "unattributedPods",
        ])
    );
    assert_eq!(
        keys(&v["summary"]["levelCheck"]),
        set(&[
            "checked",
            "passed",
            "failures",
            "instanceFailures",
            "holds",
            "statement"
        ])
    );
    let d = &v["departments"][0];
    assert_eq!(
        keys(d),
        set(&[
            "name",
            "displayName",
            "code",
            "costCentre",
            "namespace",
            "securityClearance",
            "quota",
            "allocated",
            "admittedServices",
            "rejectedServices",
            "allocatedOfQuota",
            "used",
            "usedOfQuota",
            "monthlyCost",
            "services",
            "tenancies",
            "reasons",
        ])
    );
    assert_eq!(keys(&d["quota"]), set(&["cpu", "memory", "services"]));
    assert_eq!(keys(&d["allocated"]), set(&["cpu", "memory"]));
    assert_eq!(
        keys(&d["services"][0]),
        set(&[
            "namespace",
            "name",
            "department",
            "securityLevel",
            "phase",
            "pool",
            "poolSecurityLevel",
            "levelCheck",
            "sharedInstance",
            "offering",
            "instanceShare",
            "allocated",
            "used",
            "monthlyCost",
            "reasons",
        ])
    );
    assert_eq!(
        keys(&d["tenancies"][0]),
        set(&[
            "service",
            "instance",
            "offering",
            "pool",
            "share",
            "instanceMonthlyCost",
            "monthlyCost"
        ])
    );
    assert_eq!(
        keys(&v["pools"][0]),
        set(&[
            "name",
            "securityLevel",
            "cordoned",
            "capacity",
            "effectiveCapacity",
            "targetUtilisation",
            "allocated",
            "utilisation",
            "used",
            "usedUtilisation",
            "rates",
            "monthlyCost",
            "services",
            "departments",
            "sharedInstances",
            "reasons",
        ])
    );
    assert_eq!(
        keys(&v["pools"][0]["rates"]),
        set(&["cpuCoreHour", "memoryGiBHour"])
    );
    assert_eq!(
        keys(&v["sharedInstances"][0]),
        set(&[
            "name",
            "offering",
            "securityLevel",
            "pool",
            "poolSecurityLevel",
            "levelCheck",
            "seats",
            "requests",
            "monthlyCost",
            "tenants",
            "chargedToTenants",
            "vacantSeats",
            "vacantMonthlyCost",
        ])
    );
    assert_eq!(
        keys(&v["sharedInstances"][0]["tenants"][0]),
        set(&[
            "service",
            "department",
            "share",
            "allocated",
            "used",
            "monthlyCost"
        ])
    );
    assert_eq!(
        keys(&v["refusals"][0]),
        set(&["kind", "name", "department", "code", "message"])
    );
    assert_eq!(keys(&v["policies"][0]), set(&["name", "violations", "reasons"]));
    let plan_savings = serde_json::to_value(&r.savings).unwrap();
    assert_eq!(v["savings"], plan_savings, "the plan's savings schema");
    assert_eq!(v["departments"][2]["services"][0]["levelCheck"], "ok");
    assert_eq!(v["refusals"][0]["code"], "PolicyViolation");
}

#[test]
fn every_format_is_deterministic() {
    let (_, _, a) = sample_report();
    let (_, _, b) = sample_report();
    for f in [Format::Markdown, Format::Csv, Format::Json, Format::Html] {
        assert_eq!(render(&a, f), render(&b, f), "{f:?}");
    }
}
