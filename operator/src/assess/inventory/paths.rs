//! The inventory files the given paths stand for, read with the manifest loader's
//! guards.

use std::path::PathBuf;

use super::{InventoryError, Server, parse};
use crate::load::{self, Limits, LoadError, Wanted};

const INVENTORIES: Wanted = Wanted {
    // Windows tools write the extension in capitals as often as not.
    extensions: &["csv", "CSV"],
    noun: "inventory",
};

fn from_load(error: LoadError) -> InventoryError {
    match error {
        LoadError::Encoding {
            file,
            line,
            column,
            message,
        } => InventoryError {
            file: file.display().to_string(),
            line: usize::try_from(line).ok(),
            column: None,
            message: format!("character {column}: not UTF-8 text: {message}"),
        },
        LoadError::Read { file, message } => InventoryError {
            file: file.display().to_string(),
            line: None,
            column: None,
            message: format!("cannot read: {message}"),
        },
        // The walk and the reading report nothing else; kept whole should that change.
        other => InventoryError {
            file: String::new(),
            line: None,
            column: None,
            message: other.to_string(),
        },
    }
}

pub(super) fn read(paths: &[PathBuf], max_file_size: u64) -> Result<Vec<Server>, Vec<InventoryError>> {
    let limits = Limits {
        max_file_size,
        ..Limits::default()
    };
    let mut walk_errors = Vec::new();
    let files = load::expand_wanted(paths, &limits, INVENTORIES, &mut walk_errors);
    let mut errors: Vec<InventoryError> = walk_errors.into_iter().map(from_load).collect();
    let mut servers = Vec::new();
    for file in files {
        let name = file.display().to_string();
        match load::read_text(&file, max_file_size) {
            Ok(text) => match parse(&name, &text) {
                Ok(read) => servers.extend(read),
                Err(problems) => errors.extend(problems),
            },
            Err(e) => errors.push(from_load(*e)),
        }
    }
    if errors.is_empty() {
        Ok(servers)
    } else {
        Err(errors)
    }
}
