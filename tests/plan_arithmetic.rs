//! Exact resource arithmetic: amounts up to the largest representable one never wrap,
//! never go negative and never let a department past its quota; zero requests are
//! refused; what is rendered requests what was charged.

use std::collections::BTreeMap;

use govcloud::api::{PlatformPolicySpec, ResourceFactors, ResourceRequest};
use govcloud::plan::{Assignments, Plan, ReasonCode, Snapshot, invariants, plan};
use govcloud::quantity::{parse_cpu, parse_memory};
use govcloud::render::{Manifest, render};
use govcloud::synthetic::{created_at, department, offering, policy, pool, tenant, workload};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use proptest::prelude::*;

const EI: i64 = 1 << 60;

fn service<'a>(p: &'a Plan, name: &str) -> &'a govcloud::plan::ServicePlan {
    p.services.iter().find(|s| s.name == name).expect("planned")
}

fn messages(s: &govcloud::plan::ServicePlan) -> String {
    s.reasons
        .iter()
        .map(|r| format!("{}: {}", r.code, r.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The reported case: a small service first, then `1Ei × 8 replicas`, whose charge
/// wrapped the quota sum so that it and everything after it were admitted.
#[test]
fn a_charge_beyond_i64_is_refused_naming_the_field_and_the_quota_holds() {
    let s = Snapshot {
        pools: vec![pool("p", 1, "1000", "4Ei")],
        departments: vec![department("fin", 1, "100", "1Gi", 10)],
        services: vec![
            created_at(workload("dept-fin", "small", 1, 1, "1", "512Mi"), 1),
            created_at(workload("dept-fin", "huge", 1, 8, "1", "1Ei"), 2),
            created_at(workload("dept-fin", "later", 1, 1, "1", "1Gi"), 3),
        ],
        ..Default::default()
    };
    let p = plan(&s, &Assignments::default());
    let huge = service(&p, "huge");
    assert!(!huge.admitted);
    assert!(
        messages(huge).contains(
            "InvalidSpec: spec.workload.resources.memory: 1Ei × 8 replicas is beyond the largest representable amount"
        ),
        "{}",
        messages(huge)
    );
    assert!(service(&p, "small").admitted);
    let later = service(&p, "later");
    assert!(!later.admitted, "1Gi more is past the 1Gi quota");
    assert_eq!(later.reasons[0].code, ReasonCode::QuotaExceeded);
    assert_eq!(p.departments[0].allocated.memory_bytes, 512 << 20);
}

/// `memory: 4Ei` (a typo for 4Gi) × 2 replicas: the instance saturated to i64::MAX and
/// the tenant's rounded-up share wrapped negative.
#[test]
fn an_offering_instance_beyond_i64_is_refused_and_no_share_is_negative() {
    let s = Snapshot {
        pools: vec![pool("p", 3, "1000", "4Ei")],
        departments: vec![department("fin", 3, "100", "10Gi", 10)],
        offerings: vec![offering("pg", 3, 2, 2, "1", "4Ei")],
        services: vec![
            created_at(tenant("dept-fin", "db", 3, "pg"), 1),
            created_at(workload("dept-fin", "app", 3, 1, "1", "20Gi"), 2),
        ],
        ..Default::default()
    };
    let p = plan(&s, &Assignments::default());
    let reasons: Vec<&str> = p.offerings[0]
        .reasons
        .iter()
        .map(|r| r.message.as_str())
        .collect();
    assert!(
        reasons.contains(
            &"spec.instance.resources.memory: 4Ei × 2 replicas is beyond the largest representable amount"
        ),
        "{reasons:?}"
    );
    let db = service(&p, "db");
    assert!(!db.admitted);
    assert_eq!(db.reasons[0].code, ReasonCode::OfferingNotFound);
    assert!(!service(&p, "app").admitted, "20Gi is past the 10Gi quota");
    for s in &p.services {
        assert!(s.allocated.cpu_millis >= 0 && s.allocated.memory_bytes >= 0);
    }
}

/// Two containers of 7Ei sum past i64: refused, naming the container, not a negative `used`.
#[test]
fn a_pod_metrics_list_summing_beyond_i64_is_refused() {
    let json = r#"{"kind": "PodMetricsList", "items": [{
        "metadata": {"namespace": "dept-fin", "name": "app-5f6d7c8b9-aaaaa"},
        "timestamp": "2025-06-30T12:00:00Z",
        "containers": [
            {"name": "a", "usage": {"cpu": "1", "memory": "7Ei"}},
            {"name": "b", "usage": {"cpu": "1", "memory": "7Ei"}}
        ]}]}"#;
    let errors = govcloud::report::parse_usage(json).expect_err("beyond i64");
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "items[0].containers[1].usage.memory: the pod's containers' usage sums beyond the largest representable amount"
        ]
    );
}

/// The same pod listed twice (an export listing containers apart) sums the same way.
#[test]
fn a_usage_file_summing_one_pod_beyond_i64_is_refused() {
    let json = r#"{"at": "2025-06-30T12:00:00Z", "pods": [
        {"namespace": "dept-fin", "pod": "app-1-a", "cpu": "1", "memory": "7Ei"},
        {"namespace": "dept-fin", "pod": "app-1-a", "cpu": "1", "memory": "7Ei"}]}"#;
    let errors = govcloud::report::parse_usage(json).expect_err("beyond i64");
    assert_eq!(
        errors[0].to_string(),
        "pod dept-fin/app-1-a: its usage sums beyond the largest representable amount"
    );
    let huge = r#"{"at": "2025-06-30T12:00:00Z", "pods": [
        {"namespace": "dept-fin", "pod": "app-1-a", "cpu": 1e300, "memory": 1}]}"#;
    let errors = govcloud::report::parse_usage(huge).expect_err("beyond i64");
    assert_eq!(errors[0].to_string(), "pods[0].cpu: 1e+300 cores is too large");
}

/// `cpu: "0"` was admitted with charge 0 and rendered without a request, so the
/// LimitRange default applied, uncharged. Zero is refused; leaving it out takes the default.
#[test]
fn zero_requests_are_refused_and_so_is_a_zero_default() {
    let zero_default = PlatformPolicySpec {
        default_resources: Some(ResourceRequest {
            cpu: Some("0".into()),
            memory: None,
        }),
        ..Default::default()
    };
    let s = Snapshot {
        pools: vec![pool("p", 1, "100", "100Gi")],
        departments: vec![department("fin", 1, "100", "100Gi", 10)],
        policies: vec![policy("defaults", zero_default)],
        services: vec![
            workload("dept-fin", "cpu0", 1, 1, "0", "1Gi"),
            workload("dept-fin", "mem0", 1, 1, "100m", "0"),
        ],
        ..Default::default()
    };
    let p = plan(&s, &Assignments::default());
    assert!(
        messages(service(&p, "cpu0")).contains(
            "InvalidSpec: spec.workload.resources.cpu: \"0\" is zero; a request must be greater than zero (leave it out to take the PlatformPolicy default)"
        ),
        "{}",
        messages(service(&p, "cpu0"))
    );
    assert!(messages(service(&p, "mem0")).contains("spec.workload.resources.memory: \"0\" is zero"));
    assert!(p.services.iter().all(|s| !s.admitted));
    assert_eq!(
        p.policies[0].reasons[0].message,
        "spec.defaultResources.cpu: \"0\" is zero; a request must be greater than zero"
    );
}

/// What each container of a rendered Deployment requests once the namespace's
/// LimitRange has defaulted what it leaves out, × replicas, is what the plan charged.
#[test]
fn rendered_workloads_request_exactly_what_was_charged() {
    let defaults = PlatformPolicySpec {
        default_resources: Some(ResourceRequest {
            cpu: Some("250m".into()),
            memory: Some("256Mi".into()),
        }),
        limit_ratio: Some(ResourceFactors {
            cpu: 2.0,
            memory: 1.5,
        }),
        ..Default::default()
    };
    let mut defaulted = workload("dept-fin", "defaulted", 1, 2, "1", "1Gi");
    defaulted.spec.workload.as_mut().unwrap().resources = None;
    let s = Snapshot {
        pools: vec![pool("p", 1, "100", "100Gi")],
        departments: vec![department("fin", 1, "100", "100Gi", 10)],
        policies: vec![policy("defaults", defaults)],
        services: vec![
            workload("dept-fin", "plain", 1, 3, "500m", "1Gi"),
            workload("dept-fin", "tiny", 1, 2, "1n", "1m"),
            workload("dept-fin", "odd", 1, 1, "1.0005", "129e6"),
            workload("dept-fin", "cpu0", 1, 1, "0", "1Gi"),
            defaulted,
        ],
        ..Default::default()
    };
    let p = plan(&s, &Assignments::default());
    let manifests = render(&s, &p).expect("renders");
    let mut default_request = BTreeMap::new();
    for m in &manifests {
        if let Manifest::LimitRange(lr) = m {
            for item in &lr.spec.as_ref().unwrap().limits {
                default_request.extend(item.default_request.clone().unwrap_or_default());
            }
        }
    }
    let mut rendered = 0;
    for m in &manifests {
        let Manifest::Deployment(d) = m else {
            continue;
        };
        let name = d.metadata.name.as_deref().unwrap();
        let spec = d.spec.as_ref().unwrap();
        let replicas = i64::from(spec.replicas.unwrap());
        let (mut cpu, mut memory) = (0, 0);
        for c in &spec.template.spec.as_ref().unwrap().containers {
            let requests = c
                .resources
                .as_ref()
                .and_then(|r| r.requests.clone())
                .unwrap_or_default();
            let effective = |k: &str| -> Quantity {
                requests
                    .get(k)
                    .or_else(|| default_request.get(k))
                    .cloned()
                    .unwrap_or(Quantity("0".into()))
            };
            cpu += parse_cpu(&effective("cpu").0).unwrap();
            memory += parse_memory(&effective("memory").0).unwrap();
        }
        let charged = service(&p, name).allocated;
        assert_eq!(
            (cpu * replicas, memory * replicas),
            (charged.cpu_millis, charged.memory_bytes),
            "{name}"
        );
        rendered += 1;
    }
    assert_eq!(rendered, 4, "every admitted workload is rendered");
}

/// A Node whose allocatable does not parse counted as zero, shrinking its pool silently.
#[test]
fn an_unparsable_node_allocatable_is_a_reason_on_the_pool() {
    let mut p = pool("p", 1, "1", "1Gi");
    p.spec.capacity = None;
    let node: Node = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "n1", "labels": {"govcloud.io/pool": "p"}},
        "status": {"allocatable": {"cpu": "lots", "memory": "16Gi"}}
    }))
    .unwrap();
    let s = Snapshot {
        pools: vec![p],
        nodes: vec![node],
        ..Default::default()
    };
    let planned = plan(&s, &Assignments::default());
    let reasons: Vec<&str> = planned.pools[0]
        .reasons
        .iter()
        .map(|r| r.message.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            r#"spec.nodeSelector: Node "n1" status.allocatable.cpu: "lots" is not a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)"#
        ]
    );
}

/// Capacity × overcommit beyond i64 was cast to i64::MAX: a pool of unknowable size.
#[test]
fn an_effective_capacity_beyond_i64_is_a_reason_on_the_pool() {
    let mut p = pool("p", 1, "1", "7Ei");
    p.spec.overcommit = Some(ResourceFactors {
        cpu: 1.0,
        memory: 2.0,
    });
    let s = Snapshot {
        pools: vec![p],
        ..Default::default()
    };
    let planned = plan(&s, &Assignments::default());
    assert_eq!(
        planned.pools[0].reasons[0].message,
        "spec.overcommit: capacity (cpu 1, memory 7Ei) × overcommit (1, 2) is beyond the largest representable amount"
    );
}

// ---- the property ----------------------------------------------------------------

/// An amount from every scale: small, around 1Ei, and up to i64::MAX.
fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        1i64..10_000,
        1i64..(1 << 40),
        (1i64..8).prop_map(|n| n * EI),
        (EI..=i64::MAX),
        (0i64..1000).prop_map(|d| i64::MAX - d),
    ]
}

fn replicas() -> impl Strategy<Value = i32> {
    prop_oneof![1i32..4, 1i32..=i32::MAX, Just(i32::MAX)]
}

#[derive(Clone, Debug)]
struct Svc {
    dept: usize,
    offering: Option<usize>,
    replicas: i32,
    cpu: i64,
    memory: i64,
}

fn svc() -> impl Strategy<Value = Svc> {
    (
        0usize..3,
        prop::option::weighted(0.3, 0usize..2),
        replicas(),
        amount(),
        amount(),
    )
        .prop_map(|(dept, offering, replicas, cpu, memory)| Svc {
            dept,
            offering,
            replicas,
            cpu,
            memory,
        })
}

#[derive(Clone, Debug)]
struct Estate {
    pools: Vec<(i64, i64, f64)>,
    depts: Vec<(i64, i64)>,
    offerings: Vec<(u32, i32, i64, i64)>,
    services: Vec<Svc>,
}

fn estate() -> impl Strategy<Value = Estate> {
    (
        prop::collection::vec(
            (amount(), amount(), prop_oneof![Just(1.0), Just(1.5), Just(4.0)]),
            1..4,
        ),
        prop::collection::vec((amount(), amount()), 1..4),
        prop::collection::vec((1u32..4, replicas(), amount(), amount()), 0..3),
        prop::collection::vec(svc(), 0..14),
    )
        .prop_map(|(pools, depts, offerings, services)| Estate {
            pools,
            depts,
            offerings,
            services,
        })
}

/// Amounts written as quantities that parse to exactly them: millicores and bytes.
fn snapshot(e: &Estate) -> Snapshot {
    let mut s = Snapshot::default();
    for (i, &(cpu, memory, oc)) in e.pools.iter().enumerate() {
        let mut p = pool(&format!("p{i}"), 3, &format!("{cpu}m"), &memory.to_string());
        p.spec.overcommit = Some(ResourceFactors { cpu: oc, memory: oc });
        s.pools.push(p);
    }
    for (i, &(cpu, memory)) in e.depts.iter().enumerate() {
        s.departments.push(department(
            &format!("d{i}"),
            3,
            &format!("{cpu}m"),
            &memory.to_string(),
            100,
        ));
    }
    for (i, &(tpi, replicas, cpu, memory)) in e.offerings.iter().enumerate() {
        s.offerings.push(offering(
            &format!("o{i}"),
            3,
            tpi,
            replicas,
            &format!("{cpu}m"),
            &memory.to_string(),
        ));
    }
    for (i, v) in e.services.iter().enumerate() {
        let ns = format!("dept-d{}", v.dept % e.depts.len());
        let name = format!("s{i:02}");
        let svc = match v.offering {
            Some(o) if !e.offerings.is_empty() => {
                tenant(&ns, &name, 2, &format!("o{}", o % e.offerings.len()))
            }
            _ => workload(
                &ns,
                &name,
                2,
                v.replicas,
                &format!("{}m", v.cpu),
                &v.memory.to_string(),
            ),
        };
        s.services.push(created_at(svc, 1_000 + i as i64));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn amounts_up_to_i64_never_wrap_go_negative_or_pass_a_quota(e in estate()) {
        let s = snapshot(&e);
        // Planned twice and again from its own decisions, alike (the stability paths).
        let p = invariants::check_stable(&s).map_err(TestCaseError::fail)?;
        invariants::check(&s, &p).map_err(TestCaseError::fail)?;
    }
}
