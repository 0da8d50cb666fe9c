//! Where each node of a document starts, so that a field path can be shown as a line.
//!
//! Built only when a document has a problem: the data itself is read as plain JSON values,
//! which is what the typed decoding and its field paths need.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::path::{FieldPath, Segment};

#[derive(Debug)]
pub(super) struct SpanTree {
    line: u64,
    column: u64,
    children: Children,
}

#[derive(Debug)]
enum Children {
    Leaf,
    Map(Vec<(String, SpanTree)>),
    Seq(Vec<SpanTree>),
}

impl SpanTree {
    pub fn parse(text: &str, options: serde_saphyr::Options) -> Option<Self> {
        let root: Spanned<Children> = serde_saphyr::from_str_with_options(text, options).ok()?;
        Some(Self::from(root))
    }

    /// The position of the node at `path`, or of the deepest ancestor that exists
    /// (a missing field is reported where its parent starts).
    pub fn locate(&self, path: &FieldPath) -> (u64, u64) {
        let mut node = self;
        for segment in path.segments() {
            let child = match (segment, &node.children) {
                (Segment::Key(key), Children::Map(entries)) => {
                    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
                }
                (Segment::Index(i), Children::Seq(items)) => items.get(*i),
                _ => None,
            };
            match child {
                Some(child) => node = child,
                None => break,
            }
        }
        (node.line, node.column)
    }
}

impl From<Spanned<Children>> for SpanTree {
    fn from(s: Spanned<Children>) -> Self {
        Self {
            line: s.referenced.line(),
            column: s.referenced.column(),
            children: s.value,
        }
    }
}

impl<'de> Deserialize<'de> for Children {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ChildrenVisitor)
    }
}

struct ChildrenVisitor;

macro_rules! leaf {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method<E: de::Error>(self, _: $ty) -> Result<Children, E> { Ok(Children::Leaf) })*
    };
}

impl<'de> Visitor<'de> for ChildrenVisitor {
    type Value = Children;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    leaf!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_i128: i128, visit_u128: u128,
          visit_f64: f64, visit_str: &str, visit_bytes: &[u8]);

    fn visit_unit<E: de::Error>(self) -> Result<Children, E> {
        Ok(Children::Leaf)
    }

    fn visit_none<E: de::Error>(self) -> Result<Children, E> {
        Ok(Children::Leaf)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Children, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Children, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Children>>()? {
            items.push(item.into());
        }
        Ok(Children::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Children, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value::<Spanned<Children>>()?;
            if let Some(key) = key.0 {
                entries.push((key, value.into()));
            }
        }
        Ok(Children::Map(entries))
    }
}

/// A mapping key as text; keys that are not scalars cannot appear in a field path.
struct Key(Option<String>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(Some(v.to_owned())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        Ok(Key(Some(v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        Ok(Key(Some(v.to_string())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        Ok(Key(Some(v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        Ok(Key(Some(v.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Key, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Key(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Key, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Key(None))
    }
}
