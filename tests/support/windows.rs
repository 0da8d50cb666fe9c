//! Maintenance windows in wall-clock time on a real control plane, and the Events that
//! tell a service's story: shared by the control-plane tests of maintenance.

use govcloud::api::Department;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

/// The next whole UTC minute at least 90 s from now: late enough for what a test checks
/// before the window opens, early enough to keep the test short.
pub fn next_window_start() -> Timestamp {
    let earliest = Timestamp::now().as_second() + 90;
    Timestamp::from_second((earliest + 59) / 60 * 60).expect("in range")
}

/// Gives Department `name` one daily window opening at `start` (UTC) for ten minutes,
/// as the platform team would.
pub async fn set_department_window(client: &Client, name: &str, start: Timestamp) {
    let at = start.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC);
    let schedule = format!("{} {} * * *", at.minute(), at.hour());
    Api::<Department>::all(client.clone())
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"maintenanceWindows": [{"schedule": schedule, "duration": "10m"}]}}),
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("setting Department {name}'s window: {e}"));
    println!("window {schedule:?} (10m) of Department {name} opens at {start}");
}

/// The Events in `namespace` about object `name` with reason `reason`.
pub async fn events_about(client: &Client, namespace: &str, name: &str, reason: &str) -> Vec<Event> {
    Api::<Event>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
        .await
        .unwrap_or_else(|e| panic!("listing Events in {namespace}: {e}"))
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some(reason))
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .collect()
}
