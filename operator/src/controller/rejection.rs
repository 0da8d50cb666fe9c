//! Writes the API server rejected, and whom to tell: the custom resource an object
//! belongs to (a service's workload to its DepartmentService, a shared instance's to
//! its ServiceOffering, a department's namespace and guard rails to the Department).
//! The owner is read from the labels the renderer gives every object, as its owner
//! references are (`render::owners`), so that it is known for objects without one
//! (a namespace, an estate loaded without uids).

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use kube::ResourceExt;

use super::error::{ApplyError, Category};
use crate::api::labels;
use crate::object::{Kind, ObjectId, Target};
use crate::plan::Snapshot;

/// A write the API server refused for good (400, 403, 404, 422, an admission denial).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub object: ObjectId,
    pub verb: &'static str,
    /// The HTTP status code.
    pub code: u16,
    /// The API server's message, as it gave it (an admission policy's message included).
    pub message: String,
    /// The custom resource to tell, when the object has one.
    pub owner: Option<ObjectId>,
}

impl Rejection {
    /// The rejection `err` is, if it is one.
    pub fn of(err: &ApplyError, owner: Option<ObjectId>) -> Option<Self> {
        let (kube::Error::Api(status), Target::One(object)) = (&err.source, &err.object) else {
            return None;
        };
        (err.category == Category::Rejected).then(|| Self {
            object: object.clone(),
            verb: err.verb,
            code: status.code,
            message: status.message.clone(),
            owner,
        })
    }

    /// One line for a condition or an Event: what, which object, the code and why.
    pub fn describe(&self) -> String {
        format!(
            "{} {} rejected by the API server ({}): {}",
            self.verb, self.object, self.code, self.message
        )
    }
}

/// The custom resource owning an object of `kind` in `namespace` with `labels`.
pub fn owner_of(
    kind: Kind,
    namespace: Option<&str>,
    labels: Option<&BTreeMap<String, String>>,
) -> Option<ObjectId> {
    let labels = labels?;
    if kind != Kind::Namespace
        && let (Some(service), Some(ns)) = (labels.get(labels::SERVICE), namespace)
    {
        return Some(ObjectId::new(Kind::DepartmentService, Some(ns), service));
    }
    if kind != Kind::Namespace
        && let Some(offering) = labels.get(labels::OFFERING)
    {
        return Some(ObjectId::new(Kind::ServiceOffering, None, offering));
    }
    labels
        .get(labels::DEPARTMENT)
        .map(|d| ObjectId::new(Kind::Department, None, d))
}

/// The generation of every object that can own others: a rejected write is tried again
/// once its owner's spec changes, even when what it writes did not.
#[derive(Clone, Debug, Default)]
pub struct Generations(HashMap<ObjectId, i64>);

impl Generations {
    pub fn of(snapshot: &Snapshot) -> Self {
        let mut out = HashMap::new();
        let mut add = |kind: Kind, meta: &kube::api::ObjectMeta, name: String| {
            if let Some(g) = meta.generation {
                out.insert(ObjectId::new(kind, meta.namespace.as_deref(), &name), g);
            }
        };
        for o in &snapshot.services {
            add(Kind::DepartmentService, &o.metadata, o.name_any());
        }
        for o in &snapshot.departments {
            add(Kind::Department, &o.metadata, o.name_any());
        }
        for o in &snapshot.offerings {
            add(Kind::ServiceOffering, &o.metadata, o.name_any());
        }
        Self(out)
    }

    /// A digest of a write: what it writes, and its owner's generation.
    pub fn attempt(&self, content: impl Hash, owner: Option<&ObjectId>) -> u64 {
        digest((content, owner.and_then(|o| self.0.get(o))))
    }
}

/// A digest of what a write writes, within this process (see [`Generations::attempt`]).
pub fn digest(content: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    content.hash(&mut h);
    h.finish()
}

/// The descriptions of the rejections each owner is to show, sorted so that the same
/// rejections always read the same.
pub fn by_owner(rejections: Vec<Rejection>) -> HashMap<ObjectId, Vec<String>> {
    let mut out: HashMap<ObjectId, Vec<String>> = HashMap::new();
    for r in rejections {
        if let Some(owner) = &r.owner {
            out.entry(owner.clone()).or_default().push(r.describe());
        }
    }
    for lines in out.values_mut() {
        lines.sort();
        lines.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn owners_follow_the_renderers_labels() {
        let service = labelled(&[(labels::DEPARTMENT, "fin"), (labels::SERVICE, "ledger")]);
        assert_eq!(
            owner_of(Kind::Deployment, Some("dept-fin"), Some(&service)),
            Some(ObjectId::new(Kind::DepartmentService, Some("dept-fin"), "ledger"))
        );
        let shared = labelled(&[(labels::OFFERING, "postgres")]);
        assert_eq!(
            owner_of(Kind::Deployment, Some("shared"), Some(&shared)),
            Some(ObjectId::new(Kind::ServiceOffering, None, "postgres"))
        );
        let department = labelled(&[(labels::DEPARTMENT, "fin")]);
        assert_eq!(
            owner_of(Kind::Namespace, None, Some(&department)),
            Some(ObjectId::new(Kind::Department, None, "fin"))
        );
        assert_eq!(owner_of(Kind::ResourceQuota, Some("dept-fin"), None), None);
    }

    #[test]
    fn only_a_rejection_is_one_and_it_names_object_code_and_message() {
        let err = |code: u16| {
            let status = kube::core::Status::failure("denied by policy no-ledger", "Invalid").with_code(code);
            ApplyError::new(
                "apply",
                ObjectId::new(Kind::Deployment, Some("dept-fin"), "ledger"),
                kube::Error::Api(status.boxed()),
            )
        };
        let r = Rejection::of(&err(422), None).expect("a 422 is a rejection");
        assert_eq!(
            r.describe(),
            "apply Deployment dept-fin/ledger rejected by the API server (422): denied by policy no-ledger"
        );
        assert_eq!(Rejection::of(&err(503), None), None);
        assert_eq!(Rejection::of(&err(409), None), None);
    }
}
