//! Planner benchmarks on seeded synthetic estates. The planner issue's estate:
//! 10,000 services, 500 departments, 50 pools, 200 offerings, 3 levels; beside it the
//! same estate on one pool per 10 services, a tenant-heavy estate (about 2,000 shared
//! instances) for adding tenants, and a scaling series (1k–50k services, on 50 pools
//! and on one pool per 10 services) whose log-log slope the report prints.
//!
//! Targets (release, single thread): full plan ≤ 50 ms median; a stable re-plan no
//! slower than a fresh one; one more service into an existing plan ≤ 50 µs; one more
//! tenant ≤ 10 µs; slope ≤ 1.15 from 1k to 50k services; fresh placement uses ≤ 5 %
//! more pools than the lower bound.
//!
//! `cargo bench --bench plan` measures; under `cargo test` (no `--bench`) the same
//! code runs once on small estates, so that it is exercised without taking minutes.

use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group};
use govcloud::api::DepartmentService;
use govcloud::plan::{Assignments, Plan, Planner, Snapshot, plan};
use govcloud::synthetic::{self, EstateShape, created_at, estate, tenant, workload};

const SEED: u64 = 20_261_127;

fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// `shape` when measuring; a small estate of the same proportions otherwise.
fn sized(shape: EstateShape) -> EstateShape {
    if measuring() {
        shape
    } else {
        EstateShape {
            services: (shape.services / 50).max(50),
            departments: (shape.departments / 50).max(2),
            pools: (shape.pools / 10).max(3),
            offerings: (shape.offerings / 10).max(2),
            ..shape
        }
    }
}

/// Services in the scaling series.
fn series() -> Vec<usize> {
    if measuring() {
        vec![1_000, 5_000, 10_000, 20_000, 50_000]
    } else {
        vec![100, 200]
    }
}

/// Pools for a number of services.
type PoolCount = fn(usize) -> usize;

/// The series' two pool counts: fixed, and one pool per 10 services.
const LAYOUTS: [(&str, PoolCount); 2] = [("fixed50", |_| 50), ("per10", |n| n / 10)];

fn new_service(n: u64) -> DepartmentService {
    let ns = format!("dept-d{:04}", n % 500);
    created_at(
        workload(&ns, &format!("new-{n}"), 1 + (n % 3) as u8, 1, "1m", "1Mi"),
        2_000_000_000,
    )
}

fn new_tenant(n: u64, offerings: usize) -> DepartmentService {
    let ns = format!("dept-d{:04}", n % 500);
    let offering = format!("offering-{:03}", (n.wrapping_mul(7)) % offerings as u64);
    created_at(
        tenant(&ns, &format!("new-tenant-{n}"), 1 + (n % 3) as u8, &offering),
        2_000_000_000,
    )
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("plan");
    group.sample_size(30);
    for (label, shape) in [
        ("10k", EstateShape::BENCHMARK),
        ("10k_pools1000", EstateShape::scaled(10_000, 1_000)),
    ] {
        let snapshot = estate(SEED, sized(shape));
        let fresh = plan(&snapshot, &Assignments::default());
        let settled = Assignments::from_plan(&fresh);
        // The first two keep the names the and README's figures use.
        let suffix = label.strip_prefix("10k").unwrap_or(label);
        group.bench_function(format!("full_10k_fresh{suffix}"), |b| {
            b.iter(|| plan(&snapshot, &Assignments::default()))
        });
        group.bench_function(format!("full_10k_replan_stable{suffix}"), |b| {
            b.iter(|| plan(&snapshot, &settled))
        });
    }
    group.finish();

    let snapshot = estate(SEED, sized(EstateShape::BENCHMARK));
    let settled = Assignments::from_plan(&plan(&snapshot, &Assignments::default()));
    let mut open = Planner::new(&snapshot, &settled);
    let mut n = 0u64;
    c.bench_function("plan/add_one_service", |b| {
        b.iter_batched(
            || {
                n += 1;
                new_service(n)
            },
            |svc| open.add(&svc),
            BatchSize::SmallInput,
        )
    });

    // Tenants go into a planner opened afresh every `ADDS_PER_PLANNER` adds (untimed),
    // so that the estate stays near its ~2,000 instances: criterion's millions of adds
    // into one planner would measure an estate that grew tenfold and ran out of room.
    const ADDS_PER_PLANNER: u64 = 5_000;
    let shape = sized(EstateShape::SHARED);
    let snapshot = estate(SEED, shape);
    let settled = Assignments::from_plan(&plan(&snapshot, &Assignments::default()));
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    group.bench_function("add_one_tenant", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let mut open = Planner::new(&snapshot, &settled);
                let tenants: Vec<_> = (1..=ADDS_PER_PLANNER.min(iters - done))
                    .map(|n| new_tenant(n, shape.offerings))
                    .collect();
                let start = Instant::now();
                for svc in &tenants {
                    std::hint::black_box(open.add(svc));
                }
                timed += start.elapsed();
                done += tenants.len() as u64;
            }
            timed
        })
    });
    group.finish();

    let mut group = c.benchmark_group("plan_scaling");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    for (layout, pools) in LAYOUTS {
        for services in series() {
            let snapshot = estate(SEED, EstateShape::scaled(services, pools(services)));
            group.bench_with_input(BenchmarkId::new(layout, services), &snapshot, |b, s| {
                b.iter(|| plan(s, &Assignments::default()))
            });
        }
    }
    group.finish();
}

fn report_packing(label: &str, p: &Plan) {
    let q = synthetic::packing(p);
    let placed = p.services.iter().filter(|s| s.pool.is_some()).count();
    println!(
        "packing {label}: {} of {} services placed; pools in use {} of {} (lower bound {}, {:+.1} %); mean utilisation of pools in use {:.1} %",
        placed,
        p.services.len(),
        q.pools_in_use,
        p.pools.len(),
        q.lower_bound,
        (q.pools_in_use as f64 / q.lower_bound.max(1) as f64 - 1.0) * 100.0,
        q.mean_utilisation * 100.0
    );
}

/// Median of `runs` fresh plans of `snapshot`, and the last plan.
fn time_fresh(snapshot: &Snapshot, runs: usize) -> (Duration, Plan) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let p = plan(snapshot, &Assignments::default());
        times.push(start.elapsed());
        last = Some(p);
    }
    times.sort();
    (times[times.len() / 2], last.expect("runs ≥ 1"))
}

/// Packing of every benchmarked estate, and the scaling series' slopes from a quick
/// timing of its own (the criterion figures are the ones to quote per point).
fn report() {
    for (label, shape) in [
        ("10k/50 pools", EstateShape::BENCHMARK),
        ("10k/1000 pools", EstateShape::scaled(10_000, 1_000)),
        ("10k shared", EstateShape::SHARED),
    ] {
        let p = plan(&estate(SEED, sized(shape)), &Assignments::default());
        report_packing(label, &p);
        if shape.tenant_fraction == EstateShape::SHARED.tenant_fraction {
            let instances: u32 = p.pools.iter().map(|x| x.shared_instances).sum();
            println!("shared instances in {label}: {instances}");
        }
    }
    for (layout, pools) in LAYOUTS {
        let mut points = Vec::new();
        for services in series() {
            let snapshot = estate(SEED, EstateShape::scaled(services, pools(services)));
            let (median, p) = time_fresh(&snapshot, 5);
            report_packing(&format!("{layout}/{services}"), &p);
            println!(
                "scaling {layout}/{services}: {} pools, fresh plan median {:.2} ms",
                pools(services),
                median.as_secs_f64() * 1e3
            );
            points.push((services as f64, median.as_secs_f64()));
        }
        if let (Some(first), Some(last)) = (points.first(), points.last()) {
            let slope = |a: (f64, f64), b: (f64, f64)| (b.1 / a.1).ln() / (b.0 / a.0).ln();
            let steps: Vec<String> = points
                .windows(2)
                .map(|w| format!("{:.2}", slope(w[0], w[1])))
                .collect();
            println!(
                "scaling {layout}: log-log slope {:.2} from {} to {} services (steps {})",
                slope(*first, *last),
                first.0,
                last.0,
                steps.join(", ")
            );
        }
    }
    report_adds();
}

/// Latency distribution of adding services and tenants to open planners, which
/// criterion's mean hides.
fn report_adds() {
    let runs = if measuring() { 2_000 } else { 20 };
    let percentiles = |mut t: Vec<Duration>| {
        t.sort();
        let at = |q: f64| t[((t.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
        format!(
            "median {:.1} µs, p99 {:.1} µs, max {:.1} µs",
            at(0.5),
            at(0.99),
            at(1.0)
        )
    };
    let snapshot = estate(SEED, sized(EstateShape::BENCHMARK));
    let mut open = Planner::new(&snapshot, &Assignments::default());
    let times = (1..=runs)
        .map(|n| {
            let svc = new_service(n);
            let start = Instant::now();
            open.add(&svc);
            start.elapsed()
        })
        .collect();
    println!("add one service ({runs} in turn): {}", percentiles(times));
    let shape = sized(EstateShape::SHARED);
    let mut open = Planner::new(&estate(SEED, shape), &Assignments::default());
    let times = (1..=runs)
        .map(|n| {
            let svc = new_tenant(n, shape.offerings);
            let start = Instant::now();
            open.add(&svc);
            start.elapsed()
        })
        .collect();
    println!("add one tenant ({runs} in turn): {}", percentiles(times));
}

criterion_group!(planner, benches);

fn main() {
    report();
    planner();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
