//! Rendering the benchmark estate: the operator renders the whole estate on every pass,
//! so this must stay linear in the number of services.

use criterion::{Criterion, criterion_group, criterion_main};
use govcloud::plan::{Assignments, plan};
use govcloud::render::render;
use govcloud::synthetic::{EstateShape, estate};

fn benches(c: &mut Criterion) {
    let snapshot = estate(20_261_127, EstateShape::BENCHMARK);
    let p = plan(&snapshot, &Assignments::default());
    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    group.bench_function("full_10k", |b| b.iter(|| render(&snapshot, &p).expect("renders")));
    group.finish();
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
