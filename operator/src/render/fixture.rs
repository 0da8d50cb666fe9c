//! A small hand-built estate and the plan a planner would make for it, for the renderer's
//! tests (the planner is developed separately; these tests must not depend on its choices).

use crate::api::Phase;
use crate::plan::{
    DepartmentPlan, InstancePlan, OfferingPlan, Plan, PolicyPlan, QuotaPlan, Reason, ReasonCode, Savings,
    ServicePlan, Settings, Snapshot, WorkloadShape,
};
use crate::quantity::Res;

const GI: i64 = 1 << 30;
const MI: i64 = 1 << 20;

const POOLS: &str = r#"
apiVersion: govcloud.io/v1alpha1
kind: ResourcePool
metadata: {name: general-l2}
spec:
  securityLevel: 2
  nodeSelector: {govcloud.io/node-class: general, topology.gov.example/level: "2"}
  capacity: {cpu: "64", memory: 256Gi}
---
apiVersion: govcloud.io/v1alpha1
kind: ResourcePool
metadata: {name: secure-l3}
spec:
  securityLevel: 3
  nodeSelector: {govcloud.io/node-class: secure}
  capacity: {cpu: "32", memory: 128Gi}
"#;

const DEPARTMENTS: &str = r#"
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: finance}
spec:
  securityClearance: 3
  quota: {cpu: "20", memory: 64Gi, services: 10}
  owners:
    - {kind: User, name: alice@finance.gov.example}
    - {kind: Group, name: finance-admins}
    - {kind: ServiceAccount, name: deployer, namespace: ci}
---
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: health}
spec:
  securityClearance: 2
  quota: {cpu: 8500m, memory: 16Gi, services: 4}
---
apiVersion: govcloud.io/v1alpha1
kind: Department
metadata: {name: broken}
spec:
  securityClearance: 2
  quota: {cpu: lots, memory: 1Gi, services: 1}
"#;

const POLICIES: &str = r#"
apiVersion: govcloud.io/v1alpha1
kind: PlatformPolicy
metadata: {name: a-baseline}
spec:
  defaultResources: {cpu: 250m, memory: 256Mi}
  limitRatio: {cpu: 2, memory: 1.5}
  maxReplicaResources: {cpu: "4", memory: 8Gi}
---
apiVersion: govcloud.io/v1alpha1
kind: PlatformPolicy
metadata: {name: b-strict}
spec:
  limitRatio: {cpu: 1.5, memory: 2}
  maxReplicaResources: {memory: 4Gi}
"#;

const SERVICES: &str = r#"
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: ledger, namespace: dept-finance}
spec:
  securityLevel: 3
  availability: High
  exposure: Public
  workload:
    image: registry.gov.example/finance/ledger:1.4.2
    replicas: 3
    resources: {cpu: 500m, memory: 1Gi}
    ports:
      - {name: http, port: 8080}
      - {name: metrics, port: 9090}
    env: [{name: LOG_LEVEL, value: info}]
    command: [/bin/ledger]
    args: [--serve]
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: nightly, namespace: dept-finance}
spec:
  securityLevel: 2
  availability: Basic
  workload: {image: "registry.gov.example/finance/nightly:2"}
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: records, namespace: dept-health}
spec:
  securityLevel: 2
  exposure: Internal
  workload:
    image: registry.gov.example/health/records:3.0
    replicas: 2
    ports: [{name: https, port: 8443}, {name: sync, port: 7000, protocol: UDP}]
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: waiting, namespace: dept-health}
spec:
  securityLevel: 2
  workload: {image: "registry.gov.example/health/waiting:1"}
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: db, namespace: dept-finance}
spec:
  securityLevel: 2
  offering: {name: postgres}
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: db, namespace: dept-health}
spec:
  securityLevel: 2
  offering: {name: postgres}
---
apiVersion: govcloud.io/v1alpha1
kind: DepartmentService
metadata: {name: vault, namespace: dept-finance}
spec:
  securityLevel: 3
  offering: {name: postgres}
"#;

const OFFERINGS: &str = r#"
apiVersion: govcloud.io/v1alpha1
kind: ServiceOffering
metadata: {name: postgres}
spec:
  image: registry.gov.example:5000/shared/postgres
  version: "16.2"
  securityLevel: 3
  tenantsPerInstance: 10
  instance:
    replicas: 2
    resources: {cpu: "1", memory: 2Gi}
    ports: [{name: postgres, port: 5432}, {name: metrics, port: 9187}]
"#;

fn docs<T: serde::de::DeserializeOwned>(yaml: &str) -> Vec<T> {
    serde_saphyr::from_multiple(yaml).expect("fixture YAML matches the API types")
}

pub(super) fn snapshot() -> Snapshot {
    Snapshot {
        now: Default::default(),
        rolling: Default::default(),
        pools: docs(POOLS),
        departments: docs(DEPARTMENTS),
        services: docs(SERVICES),
        offerings: docs(OFFERINGS),
        policies: docs(POLICIES),
        nodes: Vec::new(),
        settings: Settings::default(),
    }
}

fn service(ns: &str, name: &str, level: u8, phase: Phase, pool: Option<&str>) -> ServicePlan {
    ServicePlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        applied_now: None,
        pending_change: None,
        namespace: ns.into(),
        name: name.into(),
        department: ns.strip_prefix("dept-").map(Into::into),
        security_level: level,
        admitted: phase != Phase::Rejected,
        compliant: true,
        phase,
        pool: pool.map(Into::into),
        shared_instance: None,
        allocated: Res::ZERO,
        reasons: Vec::new(),
        offering: None,
        workload: None,
        moved_from: None,
    }
}

fn workload(mut s: ServicePlan, replicas: i32, requests: Res, limits: Res) -> ServicePlan {
    s.workload = Some(WorkloadShape {
        replicas,
        requests,
        limits,
    });
    s
}

fn tenant(mut s: ServicePlan, instance: Option<&str>) -> ServicePlan {
    s.offering = Some("postgres".into());
    s.shared_instance = instance.map(Into::into);
    s
}

fn department(name: &str, cpu: f64, memory: i64, services: u32) -> DepartmentPlan {
    DepartmentPlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        name: name.into(),
        namespace: format!("dept-{name}"),
        security_clearance: 3,
        quota: QuotaPlan {
            cpu,
            memory,
            services,
        },
        allocated: Res::ZERO,
        services: 0,
        rejected_services: 0,
        shared_services: 0,
        monthly_cost: 0.0,
        reasons: Vec::new(),
        deletion: None,
    }
}

fn instance(name: &str, level: u8, pool: Option<&str>, tenants: &[&str]) -> InstancePlan {
    InstancePlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        applied_now: None,
        moved_from: None,
        pending_change: None,
        name: name.into(),
        security_level: level,
        pool: pool.map(Into::into),
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        replicas: 2,
        requests: Res::new(1000, 2 * GI),
        limits: Res::new(1500, 3 * GI),
    }
}

/// The plan for `snapshot()`: three placed workloads (High/Basic/Standard), one pending,
/// two tenants on a placed instance, one on an instance that found no pool.
pub(super) fn plan() -> Plan {
    use Phase::*;
    let mut broken = department("broken", 0.0, GI, 1);
    broken
        .reasons
        .push(Reason::new(ReasonCode::InvalidSpec, "spec.quota.cpu: \"lots\""));
    Plan {
        wake_at: None,
        services: vec![
            workload(
                service("dept-finance", "ledger", 3, Placed, Some("secure-l3")),
                3,
                Res::new(500, GI),
                Res::new(750, 1536 * MI),
            ),
            workload(
                service("dept-finance", "nightly", 2, Placed, Some("general-l2")),
                1,
                Res::new(250, 256 * MI),
                Res::new(375, 384 * MI),
            ),
            workload(
                service("dept-health", "records", 2, Ready, Some("general-l2")),
                2,
                Res::new(250, 256 * MI),
                Res::new(375, 384 * MI),
            ),
            service("dept-health", "waiting", 2, Pending, None),
            tenant(
                service("dept-finance", "db", 2, Placed, Some("general-l2")),
                Some("postgres-l2-1"),
            ),
            tenant(
                service("dept-health", "db", 2, Placed, Some("general-l2")),
                Some("postgres-l2-1"),
            ),
            tenant(
                service("dept-finance", "vault", 3, Pending, None),
                Some("postgres-l3-1"),
            ),
        ],
        pools: Vec::new(),
        departments: vec![
            broken,
            department("finance", 20.0, 64 * GI, 10),
            department("health", 8.5, 16 * GI, 4),
        ],
        offerings: vec![OfferingPlan {
            maintenance: crate::plan::MaintenancePlan::always_open(),
            name: "postgres".into(),
            tenants: 3,
            instances: vec![
                instance(
                    "postgres-l2-1",
                    2,
                    Some("general-l2"),
                    &["dept-finance/db", "dept-health/db"],
                ),
                instance("postgres-l3-1", 3, None, &["dept-finance/vault"]),
            ],
            siloed_instances: 3,
            instances_saved: 1,
            reasons: Vec::new(),
        }],
        policies: ["a-baseline", "b-strict"]
            .map(|name| PolicyPlan {
                exclusion_problems: Vec::new(),
                name: name.into(),
                violations: 0,
                reasons: Vec::new(),
            })
            .to_vec(),
        savings: Savings::default(),
    }
}
