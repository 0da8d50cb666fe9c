//! What went wrong in the input, and where: every problem names the file, the document
//! (and list item), the object when known, and the field.

use std::fmt;
use std::path::PathBuf;

use super::path::FieldPath;

/// Where a document (or an item of a `kind: List`) sits in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based, counting empty documents too, so that the number matches the `---` markers.
    pub document: usize,
    /// 0-based index into `items` when the document is a `kind: List`.
    pub item: Option<usize>,
    /// 1-based line and column in the file, when known.
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl Origin {
    pub(super) fn document(file: PathBuf, document: usize) -> Self {
        Self {
            file,
            document,
            item: None,
            line: None,
            column: None,
        }
    }

    pub(super) fn item(&self, item: usize) -> Self {
        Self {
            item: Some(item),
            ..self.clone()
        }
    }

    pub(super) fn at(&self, position: Option<(u64, u64)>) -> Self {
        let (line, column) = position.unzip();
        Self {
            line,
            column,
            ..self.clone()
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `file:line:column` first, so that editors and terminals can jump to it.
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": document {}", self.document)?;
        if let Some(item) = self.item {
            write!(f, ", items[{item}]")?;
        }
        Ok(())
    }
}

/// The object a problem belongs to, as far as it could be read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => write!(f, "{} {ns}/{name}", self.kind),
            (None, Some(name)) => write!(f, "{} {name}", self.kind),
            (_, None) => write!(f, "{} (unnamed)", self.kind),
        }
    }
}

/// One problem in the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// A path that could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read: {message}", file.display())]
    Read { file: PathBuf, message: String },
    /// Bytes that are not UTF-8 text (Latin-1, UTF-16, a binary); line and column are
    /// 1-based, the column counting characters, of the first byte that does not fit.
    #[error("{}:{line}:{column}: not UTF-8 text: {message}", file.display())]
    Encoding {
        file: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    /// Text that is not well-formed YAML.
    #[error("{at}: malformed YAML: {message}")]
    Syntax { at: Origin, message: String },
    /// A field of the wrong type, an unknown field, or a required one missing.
    #[error("{at}: {}{message}", subject(object.as_ref(), field))]
    Field {
        at: Origin,
        object: Option<ObjectRef>,
        field: FieldPath,
        message: String,
    },
    /// The same kind, namespace and name defined twice.
    #[error("{at}: {object} is defined twice; first at {first}")]
    Duplicate {
        at: Origin,
        object: ObjectRef,
        first: Origin,
    },
}

fn subject(object: Option<&ObjectRef>, field: &FieldPath) -> String {
    let object = object.map(|o| format!("{o}: ")).unwrap_or_default();
    format!("{object}{}", field.prefix())
}

/// Every problem found in the input, in file and document order; displayed one per line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", one_per_line(.0))]
pub struct LoadErrors(pub Vec<LoadError>);

/// Errors displayed one per line (also the operator config's).
pub(crate) fn one_per_line<E: std::fmt::Display>(errors: &[E]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
