//! `govcloud assess` at a province's scale and beyond: 100,000 inventory rows (govcloud's
//! CSV, a dozen departments, shared systems among them) read, right-sized, deduplicated,
//! planned on pools sized per level, and the answer built.
//!
//! Target (release): 100,000 rows assessed in ≤ 2 s, reading included.

use std::time::Duration;

use criterion::{Criterion, Throughput};
use govcloud::assess::{Mapping, assess, inventory, synthetic};
use govcloud::plan::Snapshot;

const SEED: u64 = 20_261_203;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    for rows in [10_000usize, 100_000] {
        let text = synthetic::govcloud_csv(rows, SEED);
        let mut group = c.benchmark_group("assess");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(30))
            .throughput(Throughput::Elements(rows as u64));
        group.bench_function(format!("read and assess {rows} rows"), |b| {
            b.iter(|| {
                let servers =
                    inventory::parse("servers.csv", &text).expect("the synthetic inventory is valid");
                let (a, _) = assess(&servers, &Mapping::default(), &Snapshot::default(), 0.3)
                    .expect("the synthetic inventory assesses");
                assert!(a.before.servers > 0);
                a
            });
        });
        let servers = inventory::parse("servers.csv", &text).expect("the synthetic inventory is valid");
        group.bench_function(format!("assess {rows} servers"), |b| {
            b.iter(|| assess(&servers, &Mapping::default(), &Snapshot::default(), 0.3));
        });
        group.finish();
    }
    c.final_summary();
}
