//! Config text to `OperatorConfig`, with the position and field path of the first problem
//! of form (serde stops there; the semantic checks that follow list every problem).

use std::borrow::Cow;
use std::path::Path;

use serde_json::Value;

use super::{ConfigError, ConfigErrors, OperatorConfig, Position};
use crate::load::{FieldPath, Segment};

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! { with_snippet: false }
}

/// The file's text, or why it could not be read.
pub(super) fn read(file: &Path) -> Result<String, ConfigErrors> {
    std::fs::read_to_string(file).map_err(|e| {
        ConfigErrors(vec![ConfigError::Read {
            file: file.to_path_buf(),
            message: e.to_string(),
        }])
    })
}

/// Decodes without the semantic checks, which callers run once flags are applied.
pub(super) fn decode(text: &str, origin: &Path) -> Result<OperatorConfig, ConfigErrors> {
    let at = |e: &serde_saphyr::Error| {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unzip();
        Position {
            file: origin.to_path_buf(),
            line,
            column,
        }
    };
    // Syntax first, as untyped data: a malformed file is reported as such, not as a type error,
    // and a file of only comments (all keys at their defaults) is recognised as empty.
    match serde_saphyr::from_str_with_options::<Value>(text, options()) {
        Ok(Value::Null) => return Ok(OperatorConfig::default()),
        Ok(_) => {}
        Err(e) => {
            return Err(ConfigErrors(vec![ConfigError::Syntax {
                at: at(&e),
                message: message_of(&e),
            }]));
        }
    }
    let mut failed_at = None;
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            failed_at = Some(field_path(e.path()));
            e.into_inner()
        })
    })
    .map_err(|e| {
        ConfigErrors(vec![ConfigError::Field {
            at: at(&e),
            field: failed_at.unwrap_or_default(),
            message: message_of(&e),
        }])
    })
}

fn field_path(path: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment as S;
    FieldPath(
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

/// The parser's wording with its positions left out: the error shows them as `file:line:col`.
struct WithoutPositions;

impl serde_saphyr::Localizer for WithoutPositions {
    fn attach_location<'a>(&self, base: Cow<'a, str>, _: serde_saphyr::Location) -> Cow<'a, str> {
        base
    }

    fn alias_defined_at(&self, _: serde_saphyr::Location) -> String {
        String::new()
    }

    fn alias_used_at(&self, _: serde_saphyr::Location) -> String {
        String::new()
    }
}

/// The parser's message for users, on one line.
fn message_of(error: &serde_saphyr::Error) -> String {
    let formatter = serde_saphyr::UserMessageFormatter.with_localizer(&WithoutPositions);
    let text = error.without_snippet().render_with_formatter(&formatter);
    text.lines().next().unwrap_or_default().trim().to_owned()
}
