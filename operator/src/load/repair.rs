//! Edits of a document's data that let serde decode past a problem (see `decode::typed`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::path::{FieldPath, Segment};

/// Values of each JSON type, tried in turn where a field is missing or does not fit, until
/// one decodes; nested required fields of a stand-in object get their own stand-ins.
fn candidates() -> [Value; 5] {
    [
        Value::String(String::new()),
        Value::from(0),
        Value::Object(Map::new()),
        Value::Array(Vec::new()),
        Value::Bool(false),
    ]
}

/// Where stand-ins were put, and how many candidates each has used.
#[derive(Debug, Default)]
pub(super) struct StandIns(BTreeMap<FieldPath, usize>);

impl StandIns {
    /// Whether a problem at `field` comes from a stand-in rather than from the input.
    pub fn covers(&self, field: &FieldPath) -> bool {
        self.0.keys().any(|at| field.is_within(at))
    }

    /// Puts the next candidate at `field`; false when none is left or there is no place.
    pub fn next(&mut self, value: &mut Value, field: &FieldPath) -> bool {
        let tried = self.0.entry(field.clone()).or_default();
        let Some(candidate) = candidates().into_iter().nth(*tried) else {
            return false;
        };
        *tried += 1;
        set(value, field, candidate)
    }
}

fn node_mut<'v>(value: &'v mut Value, segments: &[Segment]) -> Option<&'v mut Value> {
    segments
        .iter()
        .try_fold(value, |node, segment| match (segment, node) {
            (Segment::Key(key), Value::Object(map)) => map.get_mut(key),
            (Segment::Index(i), Value::Array(items)) => items.get_mut(*i),
            _ => None,
        })
}

/// Takes the node at `field` out; false when there is none (or it is the document).
pub(super) fn remove(value: &mut Value, field: &FieldPath) -> bool {
    let Some((last, parents)) = field.segments().split_last() else {
        return false;
    };
    match (node_mut(value, parents), last) {
        (Some(Value::Object(map)), Segment::Key(key)) => map.remove(key).is_some(),
        (Some(Value::Array(items)), Segment::Index(i)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// Puts `new` at `field`, adding the key if needed; false when the parent is not there.
fn set(value: &mut Value, field: &FieldPath, new: Value) -> bool {
    let Some((last, parents)) = field.segments().split_last() else {
        return false;
    };
    match (node_mut(value, parents), last) {
        (Some(Value::Object(map)), Segment::Key(key)) => {
            map.insert(key.clone(), new);
            true
        }
        (Some(Value::Array(items)), Segment::Index(i)) => match items.get_mut(*i) {
            Some(item) => {
                *item = new;
                true
            }
            None => false,
        },
        _ => false,
    }
}
