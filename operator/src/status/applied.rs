//! `Applied`: whether the API server accepted every write made for a custom resource.
//!
//! A write the API server rejects for good (400, 403, 404, 422, an admission denial) is
//! not retried until something changes, so without this a DepartmentService whose
//! Deployment an admission policy refuses would read as merely awaiting its rollout.
//! The condition appears only once something was rejected: False (`Rejected`, each
//! rejected write with its HTTP code and the API server's message), then True
//! (`Applied`) once those writes go through. An object nothing was ever rejected for
//! does not carry it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use super::conditions::{ConditionStatus, DesiredCondition, merge_conditions, reasons, types};
use super::record::{EventRecord, EventType, StatusConditions};

/// Sets `Applied` in `conditions` from the descriptions of the writes now `rejected`
/// (each naming its object, code and the API server's message), keeping the
/// `lastTransitionTime` while its status holds.
pub fn show_rejections(
    conditions: &mut Vec<Condition>,
    rejected: &[String],
    generation: Option<i64>,
    now: &Time,
) {
    let shown = conditions.iter().any(|c| c.type_ == types::APPLIED);
    let desired = if rejected.is_empty() {
        if !shown {
            return;
        }
        DesiredCondition::new(
            types::APPLIED,
            ConditionStatus::True,
            reasons::APPLIED,
            "the API server accepted every write",
        )
    } else {
        DesiredCondition::new(
            types::APPLIED,
            ConditionStatus::False,
            reasons::REJECTED,
            format!(
                "{}; not retried until the object or this resource changes",
                rejected.join("; ")
            ),
        )
    };
    // In place, so that the other conditions keep their order.
    let applied = merge_conditions(conditions, vec![desired], generation, now).swap_remove(0);
    match conditions.iter_mut().find(|c| c.type_ == types::APPLIED) {
        Some(c) => *c = applied,
        None => conditions.push(applied),
    }
}

/// A Warning once per new rejection (a new write rejected, or the same after the
/// resource changed), and a Normal once the writes go through.
pub fn applied_events<S: StatusConditions>(previous: Option<&S>, desired: &S) -> Vec<EventRecord> {
    let find = |s: &S| s.conditions().iter().find(|c| c.type_ == types::APPLIED).cloned();
    let (before, Some(now)) = (previous.and_then(find), find(desired)) else {
        return Vec::new();
    };
    let news = before.as_ref().is_none_or(|b| {
        b.status != now.status || b.message != now.message || b.observed_generation != now.observed_generation
    });
    if now.status == "False" && news {
        vec![EventRecord {
            type_: EventType::Warning,
            reason: APPLY_REJECTED,
            action: "Apply",
            note: now.message,
        }]
    } else if now.status == "True" && before.is_some_and(|b| b.status == "False") {
        vec![EventRecord {
            type_: EventType::Normal,
            reason: reasons::APPLIED,
            action: "Apply",
            note: now.message,
        }]
    } else {
        Vec::new()
    }
}

/// The Warning Event's reason.
pub const APPLY_REJECTED: &str = "ApplyRejected";

#[cfg(test)]
mod tests {
    use k8s_openapi::jiff::Timestamp;

    use super::*;
    use crate::api::DepartmentServiceStatus;

    fn at(second: i64) -> Time {
        Time(Timestamp::from_second(1_800_000_000 + second).unwrap())
    }

    fn status(conditions: Vec<Condition>) -> DepartmentServiceStatus {
        DepartmentServiceStatus {
            conditions,
            ..DepartmentServiceStatus::default()
        }
    }

    const DENIED: &str =
        "apply Deployment dept-a/web rejected by the API server (422): denied by policy no-web";

    fn ready() -> Condition {
        Condition {
            type_: types::READY.into(),
            status: "Unknown".into(),
            reason: reasons::AWAITING_ROLLOUT.into(),
            message: "awaiting".into(),
            last_transition_time: at(0),
            observed_generation: Some(1),
        }
    }

    #[test]
    fn nothing_rejected_ever_adds_nothing() {
        let mut conditions = vec![ready()];
        show_rejections(&mut conditions, &[], Some(1), &at(5));
        assert_eq!(conditions, [ready()]);
    }

    #[test]
    fn a_rejection_shows_until_the_write_goes_through_then_reads_applied() {
        let mut conditions = vec![ready()];
        show_rejections(&mut conditions, &[DENIED.to_string()], Some(1), &at(5));
        let before = status(conditions.clone());
        let applied = &conditions[1];
        assert_eq!(conditions[0], ready(), "the others are kept, in order");
        assert_eq!(
            (
                applied.type_.as_str(),
                applied.status.as_str(),
                applied.reason.as_str()
            ),
            ("Applied", "False", "Rejected")
        );
        assert!(applied.message.starts_with(DENIED), "{}", applied.message);
        assert_eq!(applied.observed_generation, Some(1));
        let events = applied_events(None, &before);
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].type_, events[0].reason),
            (EventType::Warning, APPLY_REJECTED)
        );
        assert!(events[0].note.contains("denied by policy no-web"));

        // Still rejected on later passes: the same status, no new Event.
        let mut again = conditions.clone();
        show_rejections(&mut again, &[DENIED.to_string()], Some(1), &at(60));
        assert_eq!(again, conditions);
        assert_eq!(applied_events(Some(&before), &status(again)), []);

        // The same rejection after the resource changed is told again.
        let mut edited = conditions.clone();
        show_rejections(&mut edited, &[DENIED.to_string()], Some(2), &at(70));
        assert_eq!(edited[1].last_transition_time, at(5), "no transition");
        assert_eq!(applied_events(Some(&before), &status(edited)).len(), 1);

        let mut cleared = conditions.clone();
        show_rejections(&mut cleared, &[], Some(2), &at(90));
        assert_eq!(
            (cleared[1].status.as_str(), cleared[1].reason.as_str()),
            ("True", "Applied")
        );
        assert_eq!(cleared[1].last_transition_time, at(90));
        let events = applied_events(Some(&before), &status(cleared.clone()));
        assert_eq!(
            events.iter().map(|e| (e.type_, e.reason)).collect::<Vec<_>>(),
            [(EventType::Normal, "Applied")]
        );
        let mut steady = cleared.clone();
        show_rejections(&mut steady, &[], Some(2), &at(120));
        assert_eq!(steady, cleared, "once applied, nothing changes");
    }
}
