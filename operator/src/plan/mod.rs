//! The planner: one pure decision for the whole estate.
//!
//! `plan(snapshot, previous)` validates every object, checks services against the
//! platform policies, admits them first come first served against department quotas,
//! groups offering tenants into shared instances, places workloads and instances on
//! pools, and accounts utilisation, cost and savings against the siloed baseline.
//! It never touches a client: the operator feeds it watch caches, `govcloud plan` files.

mod output;
mod snapshot;

pub use output::*;
pub use snapshot::*;

/// Decides the whole estate. The same inputs give the same plan, byte for byte.
pub fn plan(snapshot: &Snapshot, previous: &Assignments) -> Plan {
    let _ = (snapshot, previous);
    unimplemented!("planner in progress")
}
