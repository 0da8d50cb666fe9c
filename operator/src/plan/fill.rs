//! The batch fill of rule 4: each level's new items into its pools, fullest pool first,
//! up to their targets.
//!
//! For each pool in turn it takes, again and again, the first item (in largest-first
//! order) that still fits under the pool's target, from the queue of CPU-heavy or of
//! memory-heavy items that the pool is shorter of, else from the other. Scanning the
//! queues for that item costs O(pools × items); instead each queue is a tree of each
//! range's smallest CPU and smallest memory demand over the items not yet placed, so
//! that whole ranges that cannot fit are skipped: the first item that fits is found in
//! O(log n) and a placed item is never looked at again.

use super::placer::{Placer, Request};
use crate::quantity::Res;

/// Stands for a placed item (or padding): larger than any demand a pool can take.
const GONE: Res = Res {
    cpu_millis: i64::MAX,
    memory_bytes: i64::MAX,
};

fn smaller(a: Res, b: Res) -> Res {
    Res {
        cpu_millis: a.cpu_millis.min(b.cpu_millis),
        memory_bytes: a.memory_bytes.min(b.memory_bytes),
    }
}

/// One size-ordered queue of items waiting for a pool.
struct Queue {
    /// Item indices, in queue order.
    items: Vec<usize>,
    demand: Vec<Res>,
    taken: Vec<bool>,
    /// Leaves (positions) start at `width`; node `n` holds the componentwise minimum of
    /// the demands of its children's items that may still be taken.
    min: Vec<Res>,
    width: usize,
    /// Positions passed over for the current pool (refused by its allow-list): within
    /// one pool that refusal stands, so they are hidden until the next pool.
    passed: Vec<usize>,
}

impl Queue {
    fn new(items: Vec<usize>, requests: &[Request]) -> Self {
        let width = items.len().next_power_of_two();
        let demand: Vec<Res> = items.iter().map(|&k| requests[k].demand).collect();
        let mut min = vec![GONE; 2 * width];
        min[width..width + demand.len()].copy_from_slice(&demand);
        for n in (1..width).rev() {
            min[n] = smaller(min[2 * n], min[2 * n + 1]);
        }
        Self {
            taken: vec![false; items.len()],
            items,
            demand,
            min,
            width,
            passed: Vec::new(),
        }
    }

    fn set(&mut self, pos: usize, value: Res) {
        let mut n = pos + self.width;
        self.min[n] = value;
        while n > 1 {
            n /= 2;
            self.min[n] = smaller(self.min[2 * n], self.min[2 * n + 1]);
        }
    }

    /// The position of the first item, in queue order, that `fits` accepts. `may_fit`
    /// is asked of a range's componentwise minimum demand and must be false only when
    /// no demand at or above it (in both resources) fits, so that skipping the range
    /// loses nothing.
    fn first(&mut self, may_fit: impl Fn(Res) -> bool, fits: impl Fn(usize) -> bool) -> Option<usize> {
        let mut stack = vec![1usize];
        while let Some(n) = stack.pop() {
            if !may_fit(self.min[n]) {
                continue;
            }
            if n < self.width {
                // Right pushed first: the left (earlier) half is searched first.
                stack.push(2 * n + 1);
                stack.push(2 * n);
                continue;
            }
            let pos = n - self.width;
            if pos >= self.items.len() || self.taken[pos] {
                continue;
            }
            if fits(self.items[pos]) {
                return Some(pos);
            }
            self.passed.push(pos);
            self.set(pos, GONE);
        }
        None
    }

    /// Marks position `pos` placed; returns its item.
    fn take(&mut self, pos: usize) -> usize {
        self.taken[pos] = true;
        self.set(pos, GONE);
        self.items[pos]
    }

    /// Shows what the last pool passed over to the next one.
    fn next_pool(&mut self) {
        for pos in std::mem::take(&mut self.passed) {
            if !self.taken[pos] {
                self.set(pos, self.demand[pos]);
            }
        }
    }
}

/// Fills each level's pools, fullest first, up to their target with that level's new
/// items, largest first; from the two size-ordered queues of CPU-heavy and
/// memory-heavy items it takes from the one the pool is shorter of, so that pools
/// fill evenly in both resources instead of closing on one with the other half used.
/// What does not fit under a target is left for the item-by-item pass. `ordered` is
/// largest first; `placed[k]` receives the pool (slot index) of item `k`.
pub(super) fn fill_levels(
    placer: &mut Placer,
    requests: &[Request],
    ordered: &[usize],
    shares: &dyn Fn(Res) -> (f64, f64),
    placed: &mut [Option<usize>],
) {
    for level in placer.levels() {
        let (mut cpu_heavy, mut memory_heavy) = (Vec::new(), Vec::new());
        for &k in ordered.iter().filter(|&&k| requests[k].level == level) {
            let (cpu, memory) = shares(requests[k].demand);
            if cpu >= memory {
                cpu_heavy.push(k)
            } else {
                memory_heavy.push(k)
            }
        }
        let mut queues = [
            Queue::new(cpu_heavy, requests),
            Queue::new(memory_heavy, requests),
        ];
        for pool in placer.fill_order(level) {
            // Room in a pool only shrinks, so "the first item that fits now" is what a
            // scan resuming where it left off would find.
            loop {
                let first = if placer.short_of_memory(pool) { 0 } else { 1 };
                let found = [first, 1 - first].into_iter().find_map(|q| {
                    let p: &Placer = placer;
                    queues[q]
                        .first(
                            |bound| p.room_under_target(pool, bound),
                            |k| p.fits_under_target(pool, &requests[k]),
                        )
                        .map(|pos| (q, pos))
                });
                let Some((q, pos)) = found else { break };
                let k = queues[q].take(pos);
                placer.commit(pool, requests[k].demand);
                placed[k] = Some(pool);
            }
            for queue in &mut queues {
                queue.next_pool();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cpu: i64, memory: i64) -> Request<'static> {
        Request {
            level: 1,
            demand: Res::new(cpu, memory),
            allowed: None,
        }
    }

    /// The first item in queue order that fits both bounds, by a plain scan.
    fn scan(q: &Queue, cpu: i64, memory: i64, refused: &[usize]) -> Option<usize> {
        (0..q.items.len()).find(|&pos| {
            !q.taken[pos]
                && !refused.contains(&q.items[pos])
                && q.demand[pos].cpu_millis <= cpu
                && q.demand[pos].memory_bytes <= memory
        })
    }

    /// The fill as it was before the trees: both queues rescanned for every pool.
    fn by_scan(placer: &mut Placer, requests: &[Request], ordered: &[usize], placed: &mut [Option<usize>]) {
        for level in placer.levels() {
            let queues: [Vec<usize>; 2] = [true, false].map(|cpu_heavy| {
                ordered
                    .iter()
                    .copied()
                    .filter(|&k| requests[k].level == level)
                    .filter(|&k| {
                        let d = requests[k].demand;
                        (d.cpu_millis as f64 / 1e3 >= d.memory_bytes as f64 / 1e6) == cpu_heavy
                    })
                    .collect()
            });
            for pool in placer.fill_order(level) {
                let mut cursors = [0usize, 0usize];
                'pool: loop {
                    let first = if placer.short_of_memory(pool) { 0 } else { 1 };
                    for q in [first, 1 - first] {
                        while let Some(&k) = queues[q].get(cursors[q]) {
                            cursors[q] += 1;
                            if placed[k].is_none() && placer.fits_under_target(pool, &requests[k]) {
                                placer.commit(pool, requests[k].demand);
                                placed[k] = Some(pool);
                                continue 'pool;
                            }
                        }
                    }
                    break;
                }
            }
        }
    }

    fn pool(name: String, level: u8, cpu: i64, memory: i64) -> super::super::PoolModel {
        super::super::PoolModel {
            apply_now: None,
            maintenance: crate::plan::Maintenance::default(),
            max_moves: 1,
            name,
            level,
            cordoned: false,
            deleting: false,
            capacity: Res::new(cpu, memory),
            effective: Res::new(cpu, memory),
            overcommit: (1.0, 1.0),
            target: 0.8,
            rates: None,
            node_shape: None,
            reasons: vec![],
        }
    }

    #[test]
    fn the_fill_places_every_item_where_a_rescan_of_the_queues_would() {
        let mut rng = crate::synthetic::Rng::new(11);
        let mut seen = (0, 0);
        for round in 0..20 {
            let pools: Vec<_> = (0..2 + rng.below(30))
                .map(|i| {
                    let size = 2_000 + rng.below(20_000) as i64;
                    pool(format!("p{i:02}"), 1 + rng.below(3) as u8, size, size * 1_000)
                })
                .collect();
            let allow: [std::collections::BTreeSet<String>; 2] =
                [0, 1].map(|r| pools.iter().skip(r).step_by(2).map(|p| p.name.clone()).collect());
            let requests: Vec<Request> = (0..50 + rng.below(400))
                .map(|_| Request {
                    level: 1 + rng.below(3) as u8,
                    demand: Res::new(1 + rng.below(3_000) as i64, 1 + rng.below(3_000_000) as i64),
                    allowed: match rng.below(6) {
                        0 => Some(&allow[0]),
                        1 => Some(&allow[1]),
                        _ => None,
                    },
                })
                .collect();
            let mut ordered: Vec<usize> = (0..requests.len()).collect();
            let share = |d: Res| (d.cpu_millis as f64 / 1e3).max(d.memory_bytes as f64 / 1e6);
            ordered.sort_by(|&a, &b| share(requests[b].demand).total_cmp(&share(requests[a].demand)));
            let shares = |d: Res| (d.cpu_millis as f64 / 1e3, d.memory_bytes as f64 / 1e6);
            let (mut fast, mut slow) = (Placer::new(&pools), Placer::new(&pools));
            // Something already on the pools, as stability leaves it.
            for p in 0..pools.len() {
                let held = Res::new(rng.below(1_500) as i64, rng.below(1_500_000) as i64);
                fast.commit(p, held);
                slow.commit(p, held);
            }
            let (mut got, mut want) = (vec![None; requests.len()], vec![None; requests.len()]);
            fill_levels(&mut fast, &requests, &ordered, &shares, &mut got);
            by_scan(&mut slow, &requests, &ordered, &mut want);
            assert_eq!(got, want, "round {round}");
            let placed = got.iter().filter(|p| p.is_some()).count();
            seen.0 += placed;
            seen.1 += requests.len() - placed;
        }
        assert!(
            seen.0 > 0 && seen.1 > 0,
            "the rounds place some items and leave some: {seen:?}"
        );
    }

    #[test]
    fn the_tree_finds_what_a_scan_finds_as_items_are_taken_and_passed_over() {
        let mut rng = crate::synthetic::Rng::new(7);
        let requests: Vec<Request> = (0..300)
            .map(|_| request(1 + rng.below(100) as i64, 1 + rng.below(100) as i64))
            .collect();
        // Not sorted by size: the search must not rely on any order to be exact.
        let mut q = Queue::new((0..requests.len()).collect(), &requests);
        let refused: Vec<usize> = (0..requests.len()).filter(|k| k % 7 == 3).collect();
        let mut took = 0;
        for round in 0..400 {
            let (cpu, memory) = (1 + rng.below(120) as i64, 1 + rng.below(120) as i64);
            let want = scan(&q, cpu, memory, &refused);
            let got = q.first(
                |b| b.cpu_millis <= cpu && b.memory_bytes <= memory,
                |k| !refused.contains(&k) && requests[k].demand.fits_within(Res::new(cpu, memory)),
            );
            assert_eq!(got, want, "round {round}");
            if let Some(pos) = got
                && round % 3 != 0
            {
                q.take(pos);
                took += 1;
            }
            if round % 5 == 0 {
                q.next_pool();
            }
        }
        assert!(took > 100, "the rounds took items ({took})");
        q.next_pool();
        assert_eq!(q.first(|_| true, |_| true), scan(&q, i64::MAX, i64::MAX, &[]));
    }
}
