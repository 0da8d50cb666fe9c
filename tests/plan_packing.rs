//! Packing quality of a fresh placement on the benchmark estate: pools in use stay
//! within 5 % of the lower bound (a quality property, not a timing).

use govcloud::api::Phase;
use govcloud::plan::{Assignments, plan};
use govcloud::synthetic::{EstateShape, estate, packing};

#[test]
fn fresh_placement_uses_at_most_five_percent_more_pools_than_the_lower_bound() {
    for seed in [20_261_127, 1, 2, 3] {
        let p = plan(&estate(seed, EstateShape::BENCHMARK), &Assignments::default());
        assert!(
            p.services.iter().all(|s| s.phase == Phase::Placed),
            "seed {seed}: every service placed"
        );
        let q = packing(&p);
        assert!(
            q.pools_in_use as f64 <= q.lower_bound as f64 * 1.05,
            "seed {seed}: {} pools in use, lower bound {}",
            q.pools_in_use,
            q.lower_bound
        );
        assert!(
            q.mean_utilisation > 0.75,
            "seed {seed}: pools in use are {:.3} full",
            q.mean_utilisation
        );
        for pool in &p.pools {
            assert!(
                pool.utilisation.cpu <= 0.8 + 1e-9 && pool.utilisation.memory <= 0.8 + 1e-9,
                "{} above target",
                pool.name
            );
        }
    }
}
