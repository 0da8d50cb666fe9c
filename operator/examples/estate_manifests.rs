//! Writes the planner benchmark's synthetic estate as manifests `govcloud plan` reads:
//! `cargo run --release --example estate_manifests -- SERVICES DIR` (SERVICES defaults to
//! 10,000, with departments, pools and offerings scaled as `EstateShape::BENCHMARK`).
//! What docs/performance.md times `govcloud plan` on, end to end.

use std::path::PathBuf;

use govcloud::synthetic::{EstateShape, as_json, estate};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let services: usize = args
        .next()
        .map(|n| n.parse().expect("SERVICES is a number"))
        .unwrap_or(10_000);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "estate".into()));
    let scale = |n: usize| (n * services).div_ceil(10_000).max(1);
    let shape = EstateShape {
        services,
        departments: scale(EstateShape::BENCHMARK.departments),
        pools: scale(EstateShape::BENCHMARK.pools).max(3),
        offerings: scale(EstateShape::BENCHMARK.offerings),
        ..EstateShape::BENCHMARK
    };
    std::fs::create_dir_all(&dir)?;
    let objects = as_json(&estate(20_261_127, shape));
    // Block YAML, as `kubectl get -o yaml` and hand-written manifests are.
    let yaml = serde_saphyr::to_string_multiple(&objects).expect("JSON values serialise to YAML");
    std::fs::write(dir.join("estate.yaml"), yaml)?;
    eprintln!(
        "{} objects written to {}",
        objects.len(),
        dir.join("estate.yaml").display()
    );
    Ok(())
}
