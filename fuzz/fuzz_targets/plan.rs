//! Arbitrary estates, from ordinary to absurd (quantities up to the largest a quantity
//! string can say, levels out of range, zero and huge replica counts, stale previous
//! decisions): the planner never panics, keeps every promise of `plan::invariants`,
//! and plans the same input, or its own decisions fed back, to the same bytes.
#![no_main]

use arbitrary::Arbitrary;
use govcloud::api::{DepartmentServiceStatus, ResourceFactors};
use govcloud::plan::{Snapshot, invariants};
use govcloud::synthetic::{created_at, department, offering, pool, tenant, workload};
use libfuzzer_sys::fuzz_target;

/// A quantity string: usually an everyday amount, sometimes one at the edge of the
/// representable range.
#[derive(Arbitrary, Debug)]
enum Amount {
    Everyday(u16),
    Large(u64, Suffix),
    Zero,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Suffix {
    None,
    Milli,
    Ki,
    Gi,
    Ei,
    E,
    Exp18,
}

impl Amount {
    fn text(&self, everyday_suffix: &str) -> String {
        match self {
            Amount::Everyday(n) => format!("{}{everyday_suffix}", u32::from(*n) + 1),
            Amount::Zero => "0".into(),
            Amount::Large(n, s) => {
                let s = match s {
                    Suffix::None => "",
                    Suffix::Milli => "m",
                    Suffix::Ki => "Ki",
                    Suffix::Gi => "Gi",
                    Suffix::Ei => "Ei",
                    Suffix::E => "E",
                    Suffix::Exp18 => "e18",
                };
                format!("{n}{s}")
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
struct PoolA {
    level: u8,
    cpu: Amount,
    memory: Amount,
    overcommit: u8,
    target: u8,
    cordoned: bool,
}

#[derive(Arbitrary, Debug)]
struct DeptA {
    clearance: u8,
    cpu: Amount,
    memory: Amount,
    services: u8,
    allow: Vec<u8>,
}

#[derive(Arbitrary, Debug)]
struct OfferingA {
    level: u8,
    tenants_per_instance: u8,
    replicas: i8,
    cpu: Amount,
    memory: Amount,
}

#[derive(Arbitrary, Debug)]
struct ServiceA {
    dept: u8,
    level: u8,
    offering: Option<u8>,
    replicas: i32,
    cpu: Amount,
    memory: Amount,
    previous: Option<(u8, u8)>,
}

#[derive(Arbitrary, Debug)]
struct EstateA {
    pools: Vec<PoolA>,
    departments: Vec<DeptA>,
    offerings: Vec<OfferingA>,
    services: Vec<ServiceA>,
}

/// Keeps estates small enough for many runs a second; size is not what is fuzzed here.
fn build(e: &EstateA) -> Option<Snapshot> {
    let pools = &e.pools[..e.pools.len().min(6)];
    let depts = &e.departments[..e.departments.len().min(5)];
    let offerings = &e.offerings[..e.offerings.len().min(3)];
    let services = &e.services[..e.services.len().min(32)];
    if pools.is_empty() || depts.is_empty() {
        return None;
    }
    let mut s = Snapshot::default();
    for (i, p) in pools.iter().enumerate() {
        let mut rp = pool(&format!("p{i}"), p.level % 6, &p.cpu.text(""), &p.memory.text("Gi"));
        rp.spec.overcommit = Some(ResourceFactors {
            cpu: 1.0 + f64::from(p.overcommit % 4) / 2.0,
            memory: 1.0,
        });
        rp.spec.target_utilisation = Some(0.5 + f64::from(p.target % 6) / 10.0);
        rp.spec.cordoned = p.cordoned;
        s.pools.push(rp);
    }
    for (i, d) in depts.iter().enumerate() {
        let mut dep = department(
            &format!("d{i}"),
            d.clearance % 6,
            &d.cpu.text(""),
            &d.memory.text("Gi"),
            u32::from(d.services % 16),
        );
        dep.spec.pools = d.allow.iter().take(3).map(|a| format!("p{}", a % 7)).collect();
        s.departments.push(dep);
    }
    for (i, o) in offerings.iter().enumerate() {
        s.offerings.push(offering(
            &format!("o{i}"),
            o.level % 6,
            u32::from(o.tenants_per_instance % 6),
            i32::from(o.replicas),
            &o.cpu.text("00m"),
            &o.memory.text("Mi"),
        ));
    }
    for (i, a) in services.iter().enumerate() {
        let ns = format!("dept-d{}", usize::from(a.dept) % depts.len());
        let name = format!("s{i:02}");
        let level = a.level % 6;
        let mut svc = match a.offering {
            Some(o) if !offerings.is_empty() => {
                tenant(&ns, &name, level, &format!("o{}", usize::from(o) % offerings.len()))
            }
            _ => workload(&ns, &name, level, a.replicas, &a.cpu.text("0m"), &a.memory.text("Mi")),
        };
        if let Some((pool_i, inst)) = a.previous {
            let shared = svc
                .spec
                .offering
                .as_ref()
                .map(|o| format!("{}-l{level}-{inst}", o.name));
            svc.status = Some(DepartmentServiceStatus {
                pool: Some(format!("p{}", usize::from(pool_i) % (pools.len() + 1))),
                shared_instance: shared,
                ..Default::default()
            });
        }
        s.services.push(created_at(svc, 1_000 + i as i64));
    }
    Some(s)
}

fuzz_target!(|estate: EstateA| {
    let Some(s) = build(&estate) else { return };
    let plan = invariants::check_stable(&s).unwrap_or_else(|broken| panic!("{broken}"));
    if let Err(broken) = invariants::check(&s, &plan) {
        panic!("{broken}");
    }
});
