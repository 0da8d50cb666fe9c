//! Carrying out finalizer decisions (`status::finalizer_actions`): JSON patches guarded
//! by a `test` of what was seen, so that a concurrent change to the list fails the write
//! (and the next pass retries with fresh state) instead of being clobbered.

use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::error::ApplyError;
use crate::api::FINALIZER;
use crate::object::{Kind, ObjectId};
use crate::status::{FinalizerAction, Held};

fn api(client: &Client, kind: Held) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &kind.kind().api_resource())
}

/// The JSON patch adding govcloud's finalizer to a list seen as `current`. An absent
/// list tests as null, as the API server's JSON patch does.
fn add_patch(current: &[String]) -> Value {
    if current.is_empty() {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        ])
    } else {
        json!([
            {"op": "test", "path": "/metadata/finalizers", "value": current},
            {"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER},
        ])
    }
}

/// The JSON patch removing govcloud's finalizer at `index`, only if it is still there.
fn remove_patch(index: usize) -> Value {
    let path = format!("/metadata/finalizers/{index}");
    json!([
        {"op": "test", "path": path, "value": FINALIZER},
        {"op": "remove", "path": path},
    ])
}

async fn patch(client: &Client, kind: Held, name: &str, body: Value) -> Result<(), ApplyError> {
    let object = ObjectId::new(kind.kind(), None, name);
    let patch: json_patch::Patch = serde_json::from_value(body).expect("a well-formed JSON patch");
    api(client, kind)
        .patch(name, &PatchParams::default(), &Patch::Json::<()>(patch))
        .await
        .map(drop)
        .map_err(|e| ApplyError::new("patch finalizers of", object, e))
}

/// Carries out one action. A department's namespace is deleted before its finalizer
/// goes, so that a failure leaves the department (and the reason) visible.
pub async fn carry_out(client: &Client, action: &FinalizerAction) -> Result<(), ApplyError> {
    match action {
        FinalizerAction::Add { kind, name, current } => patch(client, *kind, name, add_patch(current)).await,
        FinalizerAction::Release {
            kind,
            name,
            namespace,
            index,
            ..
        } => {
            if let Some(ns) = namespace {
                let namespaces: Api<Namespace> = Api::all(client.clone());
                match namespaces.delete(ns, &DeleteParams::background()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => {
                        return Err(ApplyError::new(
                            "delete",
                            ObjectId::new(Kind::Namespace, None, ns),
                            e,
                        ));
                    }
                }
            }
            patch(client, *kind, name, remove_patch(*index)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(doc: Value, patch: Value) -> Result<Value, json_patch::PatchError> {
        let mut doc = doc;
        let patch: json_patch::Patch = serde_json::from_value(patch).unwrap();
        json_patch::patch(&mut doc, &patch).map(|()| doc)
    }

    #[test]
    fn adding_keeps_other_finalizers_and_refuses_a_list_that_changed_meanwhile() {
        let seen = vec!["example.com/a".to_string()];
        let live = json!({"metadata": {"finalizers": ["example.com/a"]}});
        assert_eq!(
            apply(live, add_patch(&seen)).unwrap()["metadata"]["finalizers"],
            json!(["example.com/a", FINALIZER])
        );
        let changed = json!({"metadata": {"finalizers": ["example.com/a", "example.com/b"]}});
        assert!(
            apply(changed, add_patch(&seen)).is_err(),
            "the guard refuses to clobber"
        );
    }

    #[test]
    fn removing_takes_only_our_finalizer_at_the_index_seen() {
        let live = json!({"metadata": {"finalizers": ["example.com/a", FINALIZER]}});
        assert_eq!(
            apply(live, remove_patch(1)).unwrap()["metadata"]["finalizers"],
            json!(["example.com/a"])
        );
        let moved = json!({"metadata": {"finalizers": [FINALIZER, "example.com/a"]}});
        assert!(apply(moved, remove_patch(1)).is_err(), "never someone else's");
    }
}
