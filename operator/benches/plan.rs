//! Planner benchmarks on the seeded synthetic estate of the planner issue:
//! 10,000 services, 500 departments, 50 pools, 200 offerings, 3 levels.
//!
//! Targets (release, single thread): full plan ≤ 50 ms median; one more service into
//! an existing plan ≤ 50 µs; fresh placement uses ≤ 5 % more pools than the lower bound.

use criterion::{BatchSize, Criterion, criterion_group};
use govcloud::plan::{Assignments, Planner, plan};
use govcloud::synthetic::{self, EstateShape, created_at, estate, workload};

const SEED: u64 = 20_261_127;

fn benches(c: &mut Criterion) {
    let snapshot = estate(SEED, EstateShape::BENCHMARK);
    let fresh = plan(&snapshot, &Assignments::default());

    let mut group = c.benchmark_group("plan");
    group.sample_size(30);
    group.bench_function("full_10k_fresh", |b| {
        b.iter(|| plan(&snapshot, &Assignments::default()))
    });
    let settled = Assignments::from_plan(&fresh);
    group.bench_function("full_10k_replan_stable", |b| b.iter(|| plan(&snapshot, &settled)));
    group.finish();

    let mut open = Planner::new(&snapshot, &settled);
    let mut n = 0u64;
    c.bench_function("plan/add_one_service", |b| {
        b.iter_batched(
            || {
                n += 1;
                let ns = format!("dept-d{:04}", n % 500);
                created_at(
                    workload(&ns, &format!("new-{n}"), 1 + (n % 3) as u8, 1, "1m", "1Mi"),
                    2_000_000_000,
                )
            },
            |svc| open.add(&svc),
            BatchSize::SmallInput,
        )
    });
}

fn report_packing() {
    let snapshot = estate(SEED, EstateShape::BENCHMARK);
    let p = plan(&snapshot, &Assignments::default());
    let q = synthetic::packing(&p);
    let placed = p.services.iter().filter(|s| s.pool.is_some()).count();
    println!(
        "packing: {} of {} services placed; pools in use {} (lower bound {}, {:+.1} %); mean utilisation of pools in use {:.1} %",
        placed,
        p.services.len(),
        q.pools_in_use,
        q.lower_bound,
        (q.pools_in_use as f64 / q.lower_bound as f64 - 1.0) * 100.0,
        q.mean_utilisation * 100.0
    );
}

criterion_group!(planner, benches);

fn main() {
    report_packing();
    planner();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
