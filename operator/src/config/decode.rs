//! Config text to `OperatorConfig`, with the position and field path of the first problem
//! of form (serde stops there; the semantic checks that follow list every problem).

use std::path::Path;

use serde_json::Value;

use super::{ConfigError, ConfigErrors, OperatorConfig, Position};
use crate::load::{FieldPath, yaml_message};

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
                message: yaml_message(&e),
            }]));
        }
    }
    let mut failed_at = None;
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            failed_at = Some(FieldPath::from_path_to_error(e.path()));
            e.into_inner()
        })
    })
    .map_err(|e| {
        ConfigErrors(vec![ConfigError::Field {
            at: at(&e),
            field: failed_at.unwrap_or_default(),
            message: yaml_message(&e),
        }])
    })
}
