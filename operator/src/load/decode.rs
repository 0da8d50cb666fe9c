//! From a document's data to a typed object: which kind it is, and every field that does
//! not fit that kind's type.
//!
//! Only type errors are found here. Values of the right type but the wrong meaning (a bad
//! quantity, level 9) pass: the planner refuses them as `InvalidSpec`, exactly as the
//! operator reports them for objects that reached the cluster.

use k8s_openapi::api::core::v1::Node;
use kube::Resource;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ObjectRef;
use super::path::FieldPath;
use super::repair;
use crate::api::{Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering};

/// An object of a kind the planner reads. Boxed: the kinds differ in size by kilobytes
/// (a Node's status), and the object is moved through a few matches before it lands in
/// the snapshot.
#[derive(Debug)]
pub(super) enum Object {
    Pool(Box<ResourcePool>),
    Department(Box<Department>),
    Service(Box<DepartmentService>),
    Offering(Box<ServiceOffering>),
    Policy(Box<PlatformPolicy>),
    Node(Box<Node>),
}

/// What a document turned out to be.
#[derive(Debug)]
pub(super) enum Decoded {
    Object(ObjectRef, Object),
    /// A `kind: List`, as `kubectl get -o yaml` prints: its items are documents of their own.
    List(Vec<Value>),
    /// A kind the planner does not read.
    Other {
        api_version: String,
        kind: String,
        name: Option<String>,
    },
}

/// One field that does not fit; the document may have several.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Problem {
    pub field: FieldPath,
    pub message: String,
}

impl Problem {
    fn new(field: FieldPath, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

fn is<K: Resource<DynamicType = ()>>(api_version: &str, kind: &str) -> bool {
    K::api_version(&()) == api_version && K::kind(&()) == kind
}

fn text<'v>(value: &'v Value, field: &str) -> Option<&'v str> {
    value.get(field).and_then(Value::as_str)
}

fn metadata_text(value: &Value, field: &str) -> Option<String> {
    value
        .get("metadata")
        .and_then(|m| text(m, field))
        .map(str::to_owned)
}

fn reference(value: &Value, kind: &str) -> ObjectRef {
    ObjectRef {
        kind: kind.to_owned(),
        namespace: metadata_text(value, "namespace"),
        name: metadata_text(value, "name"),
    }
}

/// The kind and name of a document, as far as they can be read before decoding it.
pub(super) fn object_ref(value: &Value) -> Option<ObjectRef> {
    Some(reference(value, text(value, "kind")?))
}

/// An annotation `kubectl apply` writes: a full copy of the object, never read here.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Leaves out what nothing reads and exports are full of: the last-applied copy and
/// `managedFields` (about half the bytes of a `kubectl get -o yaml` of applied objects).
/// Only when well-typed, so that a wrong one is still reported.
fn drop_unread(value: &mut Value) {
    let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if metadata.get("managedFields").is_some_and(Value::is_array) {
        metadata.remove("managedFields");
    }
    if let Some(annotations) = metadata.get_mut("annotations").and_then(Value::as_object_mut)
        && annotations.get(LAST_APPLIED).is_some_and(Value::is_string)
    {
        annotations.remove(LAST_APPLIED);
    }
}

pub(super) fn decode(mut value: Value) -> Result<Decoded, Vec<Problem>> {
    drop_unread(&mut value);
    let Value::Object(fields) = &value else {
        let found = match value {
            Value::Array(_) => "a sequence",
            _ => "a scalar",
        };
        return Err(vec![Problem::new(
            FieldPath::default(),
            format!("expected a Kubernetes object (a mapping with apiVersion and kind), found {found}"),
        )]);
    };
    let header = |field: &str| match fields.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
        None | Some(Value::Null) => Err(Problem::new(
            FieldPath::default().key(field),
            "required field is missing",
        )),
        Some(other) => Err(Problem::new(
            FieldPath::default().key(field),
            format!("invalid value {other}, expected a non-empty string"),
        )),
    };
    let (api_version, kind) = match (header("apiVersion"), header("kind")) {
        (Ok(a), Ok(k)) => (a, k),
        (a, k) => return Err([a.err(), k.err()].into_iter().flatten().collect()),
    };
    let object = if is::<ResourcePool>(api_version, kind) {
        typed(&value, true).map(Object::Pool)
    } else if is::<Department>(api_version, kind) {
        typed(&value, true).map(Object::Department)
    } else if is::<DepartmentService>(api_version, kind) {
        typed(&value, true).map(Object::Service)
    } else if is::<ServiceOffering>(api_version, kind) {
        typed(&value, true).map(Object::Offering)
    } else if is::<PlatformPolicy>(api_version, kind) {
        typed(&value, true).map(Object::Policy)
    } else if is::<Node>(api_version, kind) {
        // Nodes come from clusters newer or older than our API types: unknown fields are theirs.
        typed(&value, false).map(Object::Node)
    } else if api_version == "v1" && kind == "List" {
        return list_items(value);
    } else {
        return Ok(Decoded::Other {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            name: metadata_text(&value, "name"),
        });
    };
    let reference = reference(&value, kind);
    let identity = identity_problems(&reference, is::<DepartmentService>(api_version, kind));
    match object {
        Ok(object) if identity.is_empty() => Ok(Decoded::Object(reference, object)),
        Ok(_) => Err(identity),
        Err(mut problems) => {
            problems.extend(identity);
            Err(problems)
        }
    }
}

/// The items of a List, moved out rather than copied: a large export is mostly items.
fn list_items(mut list: Value) -> Result<Decoded, Vec<Problem>> {
    match list.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => Ok(Decoded::List(items)),
        None | Some(Value::Null) => Ok(Decoded::List(Vec::new())),
        Some(_) => Err(vec![Problem::new(
            FieldPath::default().key("items"),
            "invalid type, expected a sequence of objects",
        )]),
    }
}

/// Decodes `value` as `T`, reporting every field of the wrong type, every required field
/// missing and, for our own kinds, every unknown field under `metadata` and `spec`: the API
/// server refuses those in strict field validation (kubectl's default), and in a spec they
/// are usually a misspelt optional field (`targetUtilization`) that would otherwise
/// silently fall back to its default.
///
/// serde stops at the first error, so a copy of the document is repaired and decoded
/// again until it fits: a field of the wrong type is taken out (an optional one then
/// defaults; a required one is then missing), and a missing field gets a stand-in of some
/// type that fits. What only the stand-ins cause is not reported.
fn typed<T: DeserializeOwned>(value: &Value, strict: bool) -> Result<T, Vec<Problem>> {
    let mut problems: Vec<Problem> = Vec::new();
    let mut repaired: Option<Value> = None;
    let mut stand_ins = repair::StandIns::default();
    for _ in 0..MAX_DECODE_ROUNDS {
        let current = repaired.as_ref().unwrap_or(value);
        let mut unknown = Vec::new();
        let mut note_unknown = |path: serde_ignored::Path<'_>| {
            let field = FieldPath::from_ignored(&path);
            if strict && (field.starts_with_key("spec") || field.starts_with_key("metadata")) {
                unknown.push(field);
            }
        };
        let result =
            serde_path_to_error::deserialize(serde_ignored::Deserializer::new(current, &mut note_unknown));
        for field in unknown {
            let reported = problems.iter().any(|p| p.field == field);
            if !reported && !stand_ins.covers(&field) {
                problems.push(Problem::new(field, "unknown field"));
            }
        }
        let e = match result {
            Ok(object) if problems.is_empty() => return Ok(object),
            Ok(_) => return Err(problems),
            Err(e) => e,
        };
        let (problem, missing) = type_problem(&e);
        let caused_by_repair = stand_ins.covers(&problem.field);
        let copy = repaired.get_or_insert_with(|| value.clone());
        let fixed = if missing || caused_by_repair || problem.field.ends_with_index() {
            stand_ins.next(copy, &problem.field)
        } else {
            repair::remove(copy, &problem.field)
        };
        if !caused_by_repair && !problems.iter().any(|p| p.field == problem.field) {
            problems.push(problem);
        }
        if !fixed {
            break;
        }
    }
    Err(problems)
}

/// Bounds the repairs of one document: each costs a decoding of the whole object.
const MAX_DECODE_ROUNDS: usize = 100;

/// The problem serde found, and whether it is a required field missing.
fn type_problem(e: &serde_path_to_error::Error<serde_json::Error>) -> (Problem, bool) {
    let field = FieldPath::from_path_to_error(e.path());
    let message = e.inner().to_string();
    // serde reports a missing field at its parent; the user looks for the field itself.
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        return (Problem::new(field.key(name), "required field is missing"), true);
    }
    // Quantities are strings in the CRD schemas, as the API server checks them; a bare
    // `cpu: 2` is the common slip.
    if message.ends_with(", expected a string")
        && (message.starts_with("invalid type: integer")
            || message.starts_with("invalid type: floating point"))
    {
        return (Problem::new(field, format!("{message} (quote it)")), false);
    }
    (Problem::new(field, message), false)
}

/// The name every object needs, and the namespace a namespaced one lives in.
fn identity_problems(reference: &ObjectRef, namespaced: bool) -> Vec<Problem> {
    let metadata = FieldPath::default().key("metadata");
    let mut problems = Vec::new();
    if reference.name.as_deref().is_none_or(str::is_empty) {
        problems.push(Problem::new(
            metadata.clone().key("name"),
            "required field is missing",
        ));
    }
    if namespaced && reference.namespace.as_deref().is_none_or(str::is_empty) {
        problems.push(Problem::new(
            metadata.key("namespace"),
            format!(
                "required field is missing: a {} lives in its department's namespace",
                reference.kind
            ),
        ));
    }
    problems
}
