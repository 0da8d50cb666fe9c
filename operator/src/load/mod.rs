//! Reads manifests from files and directories into a planner `Snapshot`.
//!
//! Accepts the five govcloud kinds, core `Node`s (for pool capacity) and `kind: List`
//! (what `kubectl get -o yaml` prints), in multi-document YAML or JSON. Problems of form
//! (malformed YAML, a field of the wrong type, an unknown spec field, a missing name, a
//! duplicate object) are collected across all files and returned together; problems of
//! meaning are left to the planner, which refuses such objects with `InvalidSpec`.

mod decode;
mod documents;
mod error;
mod fast;
mod files;
mod list;
mod path;
mod read;
mod repair;
mod spans;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fast;
#[cfg(test)]
mod tests_hostile;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::plan::Snapshot;
use decode::{Decoded, Object};
use documents::Document;
use list::{Item, Keep, Kind, Staged};

/// The YAML parser's message for users, on one line and without positions (shared with
/// the operator config, which reports positions its own way).
pub(crate) use documents::message_of as yaml_message;
pub(crate) use error::one_per_line;
pub use error::{LoadError, LoadErrors, ObjectRef, Origin};
pub use files::Limits;
/// The directory walk with its guards, for other inputs than manifests (inventories).
pub(crate) use files::{Wanted, expand_wanted};
pub use path::{FieldPath, Segment};

/// What the input held: the estate (with default settings), and what was left out.
#[derive(Debug)]
pub struct Loaded {
    pub snapshot: Snapshot,
    pub skipped: Vec<Skipped>,
}

/// A document of a kind the planner does not read (a Deployment, a ConfigMap, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub origin: Origin,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: skipped {} {}", self.origin, self.api_version, self.kind)?;
        if let Some(name) = &self.name {
            write!(f, " {name}")?;
        }
        f.write_str(": not a govcloud.io/v1alpha1 kind, a v1 Node or a v1 List")
    }
}

/// Loads every manifest under `paths` within the default [`Limits`].
/// A file other than a manifest (a usage sample), read with the loader's guards: a
/// regular file only (never waiting on a FIFO), at most `limit` bytes, UTF-8.
pub fn read_text(file: &std::path::Path, limit: u64) -> Result<String, Box<LoadError>> {
    files::text(file, files::read(file, limit)?)
}

pub fn load_paths(paths: &[PathBuf]) -> Result<Loaded, LoadErrors> {
    load_paths_with(paths, &Limits::default())
}

/// Loads every manifest under `paths`; fails with every problem found, not just the first.
pub fn load_paths_with(paths: &[PathBuf], limits: &Limits) -> Result<Loaded, LoadErrors> {
    let mut loader = Loader::default();
    for file in files::expand(paths, limits, &mut loader.errors) {
        loader.file(&file, limits);
    }
    loader.locate_first_definitions(limits);
    if loader.errors.is_empty() {
        Ok(Loaded {
            snapshot: loader.snapshot,
            skipped: loader.skipped,
        })
    } else {
        Err(LoadErrors(loader.errors))
    }
}

/// Where an object's name is in its document.
fn name_path(origin: &Origin) -> FieldPath {
    let path = FieldPath::default().key("metadata").key("name");
    match origin.item {
        Some(item) => path.in_item(item),
        None => path,
    }
}

/// What a document or item decodes to.
type Decodes = Result<Decoded, Vec<decode::Problem>>;

/// The kind and name as far as they can be read, and the decoding.
fn decode_value(value: Value) -> (Option<ObjectRef>, Decodes) {
    (decode::object_ref(&value), decode::decode(value))
}

/// Identity of an object across the input: kind, namespace, name.
type ObjectKey = (String, Option<String>, String);

#[derive(Default)]
struct Loader {
    snapshot: Snapshot,
    skipped: Vec<Skipped>,
    errors: Vec<LoadError>,
    seen: BTreeMap<ObjectKey, Origin>,
}

impl Loader {
    fn file(&mut self, file: &Path, limits: &Limits) {
        let text = match files::read(file, limits.max_file_size).and_then(|b| files::text(file, b)) {
            Ok(text) => text,
            Err(e) => return self.errors.push(*e),
        };
        let mut docs = documents::split(&text);
        let reads = read::read_all(&mut docs);
        for (doc, read) in docs.iter().zip(reads) {
            let origin = Origin::document(file.to_path_buf(), doc.number);
            match read.parsed {
                Ok(Some((reference, decoded))) => {
                    if matches!(decoded, Ok(Decoded::List(_))) {
                        self.list(read.staged, &origin, doc);
                    }
                    self.decoded(reference, decoded, &origin, doc);
                }
                Ok(None) => {}
                Err(e) => self.errors.push(LoadError::Syntax {
                    at: origin.at(e.position),
                    message: e.message,
                }),
            }
        }
    }

    /// Adds the line and column of the first definition to each duplicate, reading again
    /// the files that hold them (a file that cannot be read again keeps no position).
    fn locate_first_definitions(&mut self, limits: &Limits) {
        let mut texts: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
        for error in &mut self.errors {
            let LoadError::Duplicate { first, .. } = error else {
                continue;
            };
            let text = texts.entry(first.file.clone()).or_insert_with(|| {
                files::read(&first.file, limits.max_file_size)
                    .and_then(|bytes| files::text(&first.file, bytes))
                    .ok()
            });
            let Some(text) = text else { continue };
            let position = documents::split(text)
                .into_iter()
                .find(|doc| doc.number == first.document)
                .and_then(|doc| doc.locate(&name_path(first)));
            *first = first.at(position);
        }
    }

    /// Takes in one document, or one item of a List (then `origin.item` is set).
    fn decoded(
        &mut self,
        reference: Option<ObjectRef>,
        decoded: Decodes,
        origin: &Origin,
        doc: &Document<'_>,
    ) {
        let in_document = |field: &FieldPath| match origin.item {
            Some(item) => field.in_item(item),
            None => field.clone(),
        };
        match decoded {
            Ok(Decoded::Object(reference, object)) => self.object(reference, object, origin, doc),
            // Items the full deserializer read; the fast path's were taken in as they came.
            Ok(Decoded::List(items)) if origin.item.is_none() => {
                for (i, item) in items.into_iter().enumerate() {
                    let (reference, item) = decode_value(item);
                    self.decoded(reference, item, &origin.item(i), doc);
                }
            }
            Ok(Decoded::List(_)) => self.errors.push(LoadError::Field {
                at: origin.at(doc.locate(&in_document(&FieldPath::default()))),
                object: reference,
                field: FieldPath::default(),
                message: "a List inside a List is not supported".into(),
            }),
            // `govcloud assess`'s mapping lives beside its inventories, which may sit among
            // manifests (`config/samples/inventory/`): govcloud's own input to another
            // command, passed over as the inventories' CSV files are, not an unknown kind.
            Ok(Decoded::Other {
                api_version, kind, ..
            }) if api_version == crate::assess::mapping::API_VERSION
                && kind == crate::assess::mapping::KIND => {}
            Ok(Decoded::Other {
                api_version,
                kind,
                name,
            }) => {
                self.skipped.push(Skipped {
                    origin: origin.clone(),
                    api_version,
                    kind,
                    name,
                });
            }
            Err(problems) => {
                let mut errors: Vec<_> = problems
                    .into_iter()
                    .map(|problem| LoadError::Field {
                        at: origin.at(doc.locate(&in_document(&problem.field))),
                        object: reference.clone(),
                        field: problem.field,
                        message: problem.message,
                    })
                    .collect();
                // In the order a reader meets them in the file.
                errors.sort_by_key(|e| match e {
                    LoadError::Field { at, .. } => (at.line, at.column),
                    _ => (None, None),
                });
                self.errors.extend(errors);
            }
        }
    }

    /// Takes in the items of a List that were staged while it was parsed.
    fn list(&mut self, staged: Staged, origin: &Origin, doc: &Document<'_>) {
        let (items, objects) = staged.into_parts();
        let mut keep = Keep::default();
        for (i, item) in items.into_iter().enumerate() {
            let origin = origin.item(i);
            match item {
                Item::Object { reference, kind } => {
                    let admitted = self.admit(reference, kind == Kind::Service, &origin, doc);
                    keep.record(kind, admitted);
                }
                Item::Other(reference, decoded) => self.decoded(reference, decoded, &origin, doc),
            }
        }
        list::merge(&mut self.snapshot, objects, &keep);
    }

    fn object(&mut self, reference: ObjectRef, object: Object, origin: &Origin, doc: &Document<'_>) {
        if self.admit(reference, matches!(object, Object::Service(_)), origin, doc) {
            list::push(&mut self.snapshot, object);
        }
    }

    /// Whether an object is the first of its identity; a duplicate is an error.
    fn admit(&mut self, reference: ObjectRef, namespaced: bool, origin: &Origin, doc: &Document<'_>) -> bool {
        let key = (
            reference.kind.clone(),
            reference.namespace.clone().filter(|_| namespaced),
            reference.name.clone().unwrap_or_default(),
        );
        if let Some(first) = self.seen.get(&key) {
            // Positions cost a second parse of a document, so they are found only for the
            // rare duplicate; the first definition's in `locate_first_definitions`.
            self.errors.push(LoadError::Duplicate {
                at: origin.at(doc.locate(&name_path(origin))),
                object: reference,
                first: first.clone(),
            });
            return false;
        }
        self.seen.insert(key, origin.clone());
        true
    }
}
