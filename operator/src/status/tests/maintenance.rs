//! `MaintenancePending` and its Events, through `service_status` and `service_events`.

use super::*;
use crate::api::{ChangeKind, PendingChange};
use crate::plan::{PendingPlan, PendingReason};
use crate::status::{Measured, reasons, service_events, service_status, types};

fn waiting(reason: PendingReason) -> ServicePlan {
    ServicePlan {
        pending_change: Some(PendingPlan {
            change: PendingChange {
                kind: ChangeKind::Move,
                from: "old".into(),
                to: "new".into(),
                since: at(50),
                next_window: Some(at(7_200)),
            },
            reason,
            message: "move from ResourcePool \"old\" (is cordoned) to \"new\" waits".into(),
        }),
        ..placed_plan("old")
    }
}

fn status(previous: Option<&DepartmentServiceStatus>, plan: &ServicePlan) -> DepartmentServiceStatus {
    round_trip(&service_status(
        &service(1, previous.cloned()),
        plan,
        None,
        Measured::Unknown,
        &at(100),
    ))
}

fn reasons_of(
    previous: Option<&DepartmentServiceStatus>,
    desired: &DepartmentServiceStatus,
) -> Vec<&'static str> {
    service_events(previous, desired)
        .iter()
        .filter(|e| e.action == "Maintain")
        .map(|e| e.reason)
        .collect()
}

#[test]
fn a_deferred_move_shows_in_status_and_is_told_once_then_when_carried_out() {
    let first = status(None, &placed_plan("old"));
    let c = condition(&first.conditions, types::MAINTENANCE_PENDING);
    assert_eq!(
        (c.status.as_str(), c.reason.as_str()),
        ("False", reasons::NOTHING_PENDING)
    );
    assert!(reasons_of(None, &first).is_empty());

    let deferred = status(Some(&first), &waiting(PendingReason::AwaitingWindow));
    let c = condition(&deferred.conditions, types::MAINTENANCE_PENDING);
    assert_eq!((c.status.as_str(), c.reason.as_str()), ("True", "AwaitingWindow"));
    assert!(c.message.contains("is cordoned"), "{}", c.message);
    let pending = deferred.pending_change.as_ref().expect("status.pendingChange");
    assert_eq!((pending.from.as_str(), pending.to.as_str()), ("old", "new"));
    assert_eq!(pending.next_window, Some(at(7_200)));
    assert_eq!(reasons_of(Some(&first), &deferred), ["ChangeDeferred"]);

    // Still waiting, now for a move slot: the same deferral, no new Event.
    let still = status(Some(&deferred), &waiting(PendingReason::MoveLimit));
    assert_eq!(
        condition(&still.conditions, types::MAINTENANCE_PENDING).reason,
        "MoveLimit"
    );
    assert!(reasons_of(Some(&deferred), &still).is_empty());

    let moved = ServicePlan {
        moved_from: Some("old".into()),
        ..placed_plan("new")
    };
    let done = status(Some(&still), &moved);
    assert_eq!(done.pending_change, None);
    assert_eq!(done.moved_from.as_deref(), Some("old"));
    assert_eq!(reasons_of(Some(&still), &done), ["ChangeCarriedOut"]);
}

#[test]
fn break_glass_is_told_with_its_reason() {
    let deferred = status(None, &waiting(PendingReason::Frozen));
    let forced = ServicePlan {
        moved_from: Some("old".into()),
        applied_now: Some("incident INC-42".into()),
        ..placed_plan("new")
    };
    let done = status(Some(&deferred), &forced);
    let c = condition(&done.conditions, types::MAINTENANCE_PENDING);
    assert_eq!((c.status.as_str(), c.reason.as_str()), ("False", "AppliedNow"));
    let events = service_events(Some(&deferred), &done);
    let told = events
        .iter()
        .find(|e| e.reason == "AppliedNow")
        .expect("an AppliedNow Event");
    assert!(told.note.contains("incident INC-42"), "{}", told.note);
}

#[test]
fn the_condition_reasons_are_the_planners_pending_reasons() {
    let ours = [reasons::AWAITING_WINDOW, reasons::FROZEN, reasons::MOVE_LIMIT];
    let planner: Vec<&str> = PendingReason::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(ours.to_vec(), planner);
}

#[test]
fn a_bad_window_or_exclusion_shows_as_invalid_spec_on_its_object() {
    use crate::api::{MaintenanceExclusion, MaintenanceWindow, PlatformPolicySpec};
    use crate::plan::{Assignments, Snapshot, plan};
    use crate::status::{department_status, policy_status};
    use crate::synthetic::{department, policy};

    let mut fin = department("fin", 2, "8", "32Gi", 10);
    fin.spec.maintenance_windows = vec![MaintenanceWindow {
        schedule: "0 2 * * 6".into(),
        duration: "4h".into(),
        time_zone: Some("Mars/Olympus_Mons".into()),
    }];
    let freeze = policy(
        "elections",
        PlatformPolicySpec {
            maintenance_exclusions: vec![MaintenanceExclusion {
                start: "2027-03-10T00:00:00Z".into(),
                end: "2027-03-01T00:00:00Z".into(),
                reason: "general election".into(),
            }],
            ..Default::default()
        },
    );
    let s = Snapshot {
        departments: vec![fin],
        policies: vec![freeze],
        ..Snapshot::default()
    };
    let p = plan(&s, &Assignments::default());
    let dept = department_status(&s.departments[0], &p.departments[0], Measured::Unknown, &at(100));
    let valid = condition(&dept.conditions, types::VALID);
    assert_eq!(
        (valid.status.as_str(), valid.reason.as_str()),
        ("False", "InvalidSpec")
    );
    assert!(
        valid.message.contains("spec.maintenanceWindows[0].timeZone"),
        "{}",
        valid.message
    );
    let pol = policy_status(&s.policies[0], &p.policies[0], &at(100));
    let valid = condition(&pol.conditions, types::VALID);
    assert_eq!(valid.status, "False");
    assert!(
        valid.message.contains("spec.maintenanceExclusions[0].end"),
        "{}",
        valid.message
    );
}
