use super::*;
use crate::api::Phase;
use crate::plan::{
    DepartmentPlan, InstancePlan, OfferingPlan, PolicyPlan, PoolPlan, QuotaPlan, Ratio, Reason, ReasonCode,
    Savings, ServicePlan,
};
use crate::quantity::Res;

const GI: i64 = 1 << 30;
const MI: i64 = 1 << 20;

fn service(namespace: &str, name: &str, phase: Phase) -> ServicePlan {
    ServicePlan {
        maintenance: crate::plan::MaintenancePlan::always_open(),
        applied_now: None,
        pending_change: None,
        namespace: namespace.into(),
        name: name.into(),
        department: Some(namespace.trim_start_matches("dept-").into()),
        security_level: 2,
        admitted: true,
        compliant: true,
        phase,
        pool: None,
        shared_instance: None,
        allocated: Res::ZERO,
        reasons: Vec::new(),
        offering: None,
        workload: None,
        moved_from: None,
    }
}

/// A small estate: one placed workload, one tenant of a shared instance, one refused service,
/// a pool, a department, an offering and a policy with a problem.
fn sample() -> Plan {
    let mut placed = service("dept-finance", "payroll", Phase::Placed);
    placed.pool = Some("gold".into());
    placed.allocated = Res::new(1500, 2 * GI);
    let mut tenant = service("dept-finance", "ledger-db", Phase::Placed);
    tenant.pool = Some("gold".into());
    tenant.shared_instance = Some("postgres-l2-1".into());
    tenant.offering = Some("postgres".into());
    tenant.allocated = Res::new(400, 1638 * MI);
    let mut refused = service("dept-health", "records", Phase::Rejected);
    refused.security_level = 4;
    refused.admitted = false;
    refused.reasons = vec![
        Reason::new(
            ReasonCode::ClearanceInsufficient,
            "spec.securityLevel 4 is above the department's clearance 3",
        ),
        Reason::new(
            ReasonCode::QuotaExceeded,
            "spec.quota.cpu: 16 cores would be exceeded: 18 requested",
        ),
    ];
    Plan {
        wake_at: None,
        services: vec![placed, tenant, refused],
        pools: vec![PoolPlan {
            maintenance: crate::plan::MaintenancePlan::always_open(),
            name: "gold".into(),
            security_level: 3,
            cordoned: false,
            capacity: Res::new(32_000, 128 * GI),
            effective_capacity: Res::new(64_000, 128 * GI),
            target_utilisation: 0.8,
            allocated: Res::new(3_900, 5 * GI + 614 * MI),
            utilisation: Ratio {
                cpu: 0.0609,
                memory: 0.0439,
            },
            services: 2,
            departments: 1,
            shared_instances: 1,
            monthly_cost: 321.456,
            reasons: Vec::new(),
            deletion: None,
        }],
        departments: vec![DepartmentPlan {
            maintenance: crate::plan::MaintenancePlan::always_open(),
            name: "finance".into(),
            namespace: "dept-finance".into(),
            security_clearance: 3,
            quota: QuotaPlan {
                cpu: 16.0,
                memory: 64 * GI,
                services: 10,
            },
            allocated: Res::new(1900, 2 * GI + 1638 * MI),
            services: 2,
            rejected_services: 0,
            shared_services: 1,
            monthly_cost: 150.0,
            reasons: Vec::new(),
            deletion: None,
        }],
        offerings: vec![OfferingPlan {
            maintenance: crate::plan::MaintenancePlan::always_open(),
            name: "postgres".into(),
            tenants: 1,
            instances: vec![InstancePlan {
                maintenance: crate::plan::MaintenancePlan::always_open(),
                applied_now: None,
                moved_from: None,
                pending_change: None,
                name: "postgres-l2-1".into(),
                security_level: 2,
                pool: Some("gold".into()),
                tenants: vec!["dept-finance/ledger-db".into()],
                replicas: 1,
                requests: Res::new(2000, 8 * GI),
                limits: Res::new(2000, 8 * GI),
            }],
            siloed_instances: 1,
            instances_saved: 0,
            reasons: Vec::new(),
        }],
        policies: vec![PolicyPlan {
            exclusion_problems: Vec::new(),
            name: "baseline".into(),
            violations: 0,
            reasons: vec![Reason::new(
                ReasonCode::InvalidSpec,
                "spec.maxReplicaResources.cpu: \"lots\" is not a quantity",
            )],
        }],
        savings: Savings {
            instances_saved: 0,
            nodes_consolidated: 1,
            nodes_siloed: 3,
            nodes_saved: 2,
            monthly_cost_consolidated: 321.456,
            monthly_cost_siloed: 1000.0,
            monthly_cost_saved: 678.544,
            utilisation_consolidated: Ratio {
                cpu: 0.0609,
                memory: 0.0439,
            },
            utilisation_siloed: Ratio {
                cpu: 0.02,
                memory: 0.015,
            },
        },
    }
}

#[test]
fn the_table_has_every_section_aligned_like_kubectl() {
    let expected = "\
SERVICES (3)
NAMESPACE      NAME        LEVEL   PHASE      POOL   INSTANCE        CPU   MEMORY   REASON
dept-finance   payroll     2       Placed     gold   -               1.5   2Gi      -
dept-finance   ledger-db   2       Placed     gold   postgres-l2-1   0.4   1.6Gi    -
dept-health    records     4       Rejected   -      -               0     0        ClearanceInsufficient (+1)

POOLS (1)
NAME   LEVEL   CORDONED   CPU ALLOC/CAP   MEM ALLOC/CAP   CPU%   MEM%   SERVICES   DEPARTMENTS   INSTANCES   COST/MONTH
gold   3       false      3.9/64          5.6Gi/128Gi     6%     4%     2          1             1           321.46

DEPARTMENTS (1)
NAME      NAMESPACE      CLEARANCE   CPU USED/QUOTA   MEM USED/QUOTA   SERVICES   REJECTED   COST/MONTH
finance   dept-finance   3           1.9/16           3.6Gi/64Gi       2/10       0          150.00

SHARED INSTANCES (1)
OFFERING   INSTANCE        LEVEL   POOL   TENANTS
postgres   postgres-l2-1   2       gold   1

REFUSALS (3)
KIND                NAME                  CODE                    MESSAGE
DepartmentService   dept-health/records   ClearanceInsufficient   spec.securityLevel 4 is above the department's clearance 3
DepartmentService   dept-health/records   QuotaExceeded           spec.quota.cpu: 16 cores would be exceeded: 18 requested
PlatformPolicy      baseline              InvalidSpec             spec.maxReplicaResources.cpu: \"lots\" is not a quantity

PENDING CHANGES (0)
(none)

SAVINGS
MEASURE                     CONSOLIDATED   SILOED    SAVED
shared offering instances   1              1         0
nodes                       1              3         2
cost per month              321.46         1000.00   678.54
CPU utilisation             6%             2%        -
memory utilisation          4%             2%        -
";
    let got = table(&sample());
    assert_eq!(got, expected, "\n{got}");
}

#[test]
fn empty_sections_say_so_and_no_line_ends_in_spaces() {
    let mut plan = sample();
    plan.services.clear();
    plan.policies.clear();
    let got = table(&plan);
    assert!(got.starts_with("SERVICES (0)\n(none)\n\nPOOLS (1)\n"), "{got}");
    assert!(got.contains("REFUSALS (0)\n(none)\n"), "{got}");
    assert!(got.lines().all(|l| l == l.trim_end()), "{got}");
}

#[test]
fn columns_are_separated_by_at_least_three_spaces() {
    let got = table(&sample());
    let header = got.lines().nth(1).unwrap();
    let cells: Vec<_> = header
        .split("   ")
        .filter(|c| !c.trim().is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        cells,
        [
            "NAMESPACE",
            "NAME",
            "LEVEL",
            "PHASE",
            "POOL",
            "INSTANCE",
            "CPU",
            "MEMORY",
            "REASON"
        ]
    );
}

#[test]
fn money_has_two_decimals_and_no_separators() {
    let money = |amount: f64| grid::cell(&Cell::Money(amount));
    assert_eq!(money(1234.5), "1234.50");
    assert_eq!(money(0.0), "0.00");
}

#[test]
fn names_from_manifests_cannot_split_a_row_or_drive_the_terminal() {
    let mut plan = sample();
    plan.services[0].name = "pay\nroll\r\t\u{1b}[2J\u{9b}31m\u{202e}".into();
    plan.services[2].reasons[0].message = "two\nlines \u{1b}]0;title\u{7}".into();
    let out = table(&plan);
    let clean = table(&sample());
    assert_eq!(out.lines().count(), clean.lines().count(), "{out}");
    assert!(!out.contains(|c: char| c.is_control() && c != '\n'), "{out:?}");
    assert!(out.contains("pay␊roll␍␉␛[2J\u{fffd}31m\u{fffd}"), "{out}");
    assert!(out.contains("two␊lines ␛]0;title␇"), "{out}");
}
