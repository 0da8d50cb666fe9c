//! Field paths (`spec.workload.ports[0].port`) as the serde wrappers report them.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path from a document's root to a field; empty for the document itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// `"spec.quota.cpu: "` to lead a message, or nothing for the whole document.
    pub fn prefix(&self) -> String {
        if self.is_root() {
            String::new()
        } else {
            format!("{self}: ")
        }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub(super) fn key(mut self, key: impl Into<String>) -> Self {
        self.0.push(Segment::Key(key.into()));
        self
    }

    pub(super) fn ends_with_index(&self) -> bool {
        matches!(self.0.last(), Some(Segment::Index(_)))
    }

    /// Whether `self` is `ancestor` or lies below it.
    pub(super) fn is_within(&self, ancestor: &FieldPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    pub(super) fn starts_with_key(&self, key: &str) -> bool {
        matches!(self.0.first(), Some(Segment::Key(k)) if k == key)
    }

    /// This path inside item `index` of a List's `items`.
    pub(super) fn in_item(&self, index: usize) -> Self {
        let mut segments = vec![Segment::Key("items".into()), Segment::Index(index)];
        segments.extend(self.0.iter().cloned());
        Self(segments)
    }

    pub(crate) fn from_path_to_error(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment as S;
        Self(
            path.iter()
                .filter_map(|s| match s {
                    S::Seq { index } => Some(Segment::Index(*index)),
                    S::Map { key } => Some(Segment::Key(key.clone())),
                    // Enum variants and untracked positions add nothing a user could look up.
                    S::Enum { .. } | S::Unknown => None,
                })
                .collect(),
        )
    }

    pub(super) fn from_ignored(path: &serde_ignored::Path<'_>) -> Self {
        use serde_ignored::Path as P;
        let mut segments = Vec::new();
        let mut at = path;
        loop {
            at = match at {
                P::Root => break,
                P::Seq { parent, index } => {
                    segments.push(Segment::Index(*index));
                    parent
                }
                P::Map { parent, key } => {
                    segments.push(Segment::Key(key.clone()));
                    parent
                }
                P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => parent,
            };
        }
        segments.reverse();
        Self(segments)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}
