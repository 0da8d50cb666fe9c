//! Changes the plan defers to a maintenance window (services' and shared instances'):
//! how many wait, and since when the oldest has, by kind of change.
//!
//! The count exports every kind, zeros included, so that `== 0` and `> 0` both have a
//! series to see. The oldest timestamp exists only for a kind with a waiting change:
//! the whole family is rebuilt on every plan, so a kind whose last change went through
//! disappears rather than report a stale or made-up time.

use k8s_openapi::jiff::Timestamp;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::{Registry, Unit};

use super::family::{FloatGauge, IntGauge};
use super::labels::{CHANGE_KINDS, ChangeKindLabels, change_kind_name};
use crate::plan::{PendingPlan, Plan};

#[derive(Debug)]
pub struct PendingFamilies {
    pending: Family<ChangeKindLabels, IntGauge>,
    oldest: Family<ChangeKindLabels, FloatGauge>,
}

impl PendingFamilies {
    pub fn register(r: &mut Registry) -> Self {
        let families = Self {
            pending: Family::default(),
            oldest: Family::default(),
        };
        r.register(
            "changes_pending",
            "Platform-driven changes of DepartmentServices and shared instances the plan defers \
             (maintenance window, freeze or move limit), by kind",
            families.pending.clone(),
        );
        r.register_with_unit(
            "oldest_pending_change_timestamp",
            "When the longest-waiting deferred change of the kind was first deferred, Unix time \
             (absent when none of the kind waits)",
            Unit::Seconds,
            families.oldest.clone(),
        );
        families
    }

    pub fn replace(&self, plan: &Plan) {
        self.oldest.clear();
        let waiting: Vec<&PendingPlan> = plan
            .services
            .iter()
            .filter_map(|s| s.pending_change.as_ref())
            .chain(
                plan.offerings
                    .iter()
                    .flat_map(|o| &o.instances)
                    .filter_map(|i| i.pending_change.as_ref()),
            )
            .collect();
        for kind in CHANGE_KINDS {
            let labels = ChangeKindLabels {
                kind: change_kind_name(kind),
            };
            let of_kind = || waiting.iter().filter(|p| p.change.kind == kind);
            let n = i64::try_from(of_kind().count()).unwrap_or(i64::MAX);
            self.pending.get_or_create(&labels).set(n);
            if let Some(oldest) = of_kind().map(|p| p.change.since.0).min() {
                self.oldest.get_or_create(&labels).set(unix_seconds(oldest));
            }
        }
    }
}

fn unix_seconds(t: Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}
