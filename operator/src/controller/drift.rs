//! Whether a live object already holds everything govcloud wants it to hold.
//!
//! Server-side apply is idempotent, but a write is still a write: an operator that
//! re-applies ten thousand unchanged objects on every resync loads the API server for
//! nothing. So an object is applied only when some field govcloud sets differs on the
//! live object — which is also exactly when someone has edited a managed field by hand.

use serde_json::Value;

/// True when every field of `desired` is present and equal in `live`. Fields the
/// server or other managers added to `live` do not matter; an empty or null desired
/// value is satisfied by an absent one (the API server drops empty collections).
pub fn covers(live: &Value, desired: &Value) -> bool {
    match (desired, live) {
        (Value::Null, _) => true,
        (Value::Object(d), Value::Object(l)) => d.iter().all(|(k, dv)| match l.get(k) {
            Some(lv) => covers(lv, dv),
            None => is_empty(dv),
        }),
        (Value::Object(d), Value::Null) => d.values().all(is_empty),
        (Value::Array(d), Value::Array(l)) => {
            d.len() == l.len() && d.iter().zip(l).all(|(dv, lv)| covers(lv, dv))
        }
        (Value::Array(d), Value::Null) => d.is_empty(),
        (Value::Number(d), Value::Number(l)) => d.as_f64() == l.as_f64(),
        (d, l) => d == l,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_empty),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::covers;
    use serde_json::json;

    #[test]
    fn extra_live_fields_do_not_count_as_drift() {
        let desired =
            json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app"}]}}}});
        let live = json!({"spec": {"replicas": 2, "revisionHistoryLimit": 10,
            "template": {"spec": {"containers": [{"name": "app", "terminationMessagePath": "/dev/termination-log"}]}}},
            "status": {"readyReplicas": 2}});
        assert!(covers(&live, &desired));
    }

    #[test]
    fn a_changed_or_missing_managed_field_is_drift() {
        let desired = json!({"spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}}});
        assert!(!covers(
            &json!({"spec": {"replicas": 5, "selector": {"matchLabels": {"a": "b"}}}}),
            &desired
        ));
        assert!(!covers(
            &json!({"spec": {"replicas": 2, "selector": {"matchLabels": {}}}}),
            &desired
        ));
        assert!(!covers(&json!({"spec": {"replicas": 2}}), &desired));
    }

    #[test]
    fn list_length_changes_are_drift_and_empty_collections_match_absent_ones() {
        let desired = json!({"spec": {"ports": [{"port": 80}], "tolerations": [], "labels": {}}});
        assert!(covers(
            &json!({"spec": {"ports": [{"port": 80, "protocol": "TCP"}]}}),
            &desired
        ));
        assert!(!covers(
            &json!({"spec": {"ports": [{"port": 80}, {"port": 81}]}}),
            &desired
        ));
        assert!(covers(&json!({"spec": {"ports": [{"port": 80.0}]}}), &desired));
    }
}
