//! What is wrong with the operator config, and where: the file, the line and column when the
//! text itself is at fault, and always the field, in the same shape as the manifest loader's
//! errors so that users read one style of message from every govcloud command.

use std::fmt;
use std::path::PathBuf;

use crate::load::FieldPath;

/// A place in the config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub file: PathBuf,
    /// 1-based line and column, when the parser knows them.
    pub line: Option<u64>,
    pub column: Option<u64>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `file:line:column`, so that editors and terminals can jump to it.
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// Where a value that fails validation came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The config file (or the built-in default for a key the file leaves out).
    File(PathBuf),
    /// A command-line flag, which wins over the file.
    Flag(&'static str),
    /// No file was given: the built-in defaults, possibly with flags.
    Defaults,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(file) => write!(f, "{}", file.display()),
            Self::Flag(flag) => write!(f, "flag {flag}"),
            Self::Defaults => f.write_str("operator config"),
        }
    }
}

/// One problem with the config.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read: {message}", file.display())]
    Read { file: PathBuf, message: String },
    /// Text that is not well-formed YAML, or more than one document.
    #[error("{at}: malformed YAML: {message}")]
    Syntax { at: Position, message: String },
    /// A value of the wrong type or form, or an unknown key.
    #[error("{at}: {}{message}", field.prefix())]
    Field {
        at: Position,
        field: FieldPath,
        message: String,
    },
    /// A well-formed value that makes no sense (out of range, contradicting another key).
    #[error("{origin}: {field}: {message}")]
    Invalid {
        origin: Source,
        field: FieldPath,
        message: String,
    },
}

impl ConfigError {
    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&FieldPath> {
        match self {
            Self::Field { field, .. } | Self::Invalid { field, .. } => Some(field),
            Self::Read { .. } | Self::Syntax { .. } => None,
        }
    }
}

/// Every problem found, in the order of the config's keys; displayed one per line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", crate::load::one_per_line(.0))]
pub struct ConfigErrors(pub Vec<ConfigError>);
