//! Deferred changes for exports that must show every metric family: the sample estate
//! is planned from scratch, so nothing in it waits for a maintenance window, and
//! prometheus-client leaves an empty family out altogether.

use govcloud::api::{ChangeKind, PendingChange};
use govcloud::plan::{PendingPlan, PendingReason, Plan};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// Defers a move of the first service and a template change of the first shared
/// instance, both since `since`.
pub fn defer_one_of_each_kind(plan: &mut Plan, since: Timestamp) {
    let waiting = |kind| {
        Some(PendingPlan {
            change: PendingChange {
                kind,
                from: "before".into(),
                to: "after".into(),
                since: Time(since),
                next_window: None,
            },
            reason: PendingReason::AwaitingWindow,
            message: "waits for a maintenance window".into(),
        })
    };
    plan.services
        .first_mut()
        .expect("the plan has a service")
        .pending_change = waiting(ChangeKind::Move);
    plan.offerings
        .iter_mut()
        .flat_map(|o| &mut o.instances)
        .next()
        .expect("the plan has a shared instance")
        .pending_change = waiting(ChangeKind::Template);
}
