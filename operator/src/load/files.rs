//! Which files the given paths stand for.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::LoadError;

const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

fn is_manifest(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e))
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn read_error(file: &Path, e: &std::io::Error) -> LoadError {
    LoadError::Read {
        file: file.to_path_buf(),
        message: e.to_string(),
    }
}

/// The files named, and the manifests (`.yaml`, `.yml`, `.json`) under the directories
/// named, recursively and sorted by path so that the input order never depends on the
/// file system. A file named explicitly is read whatever its extension; hidden entries
/// inside directories (`.git`) are not.
pub(super) fn expand(paths: &[PathBuf], errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut files, errors),
            Ok(_) => files.push(path.clone()),
            Err(e) => errors.push(read_error(path, &e)),
        }
    }
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<LoadError>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(read_error(dir, &e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(e) => errors.push(read_error(dir, &e)),
        }
    }
    paths.sort();
    for path in paths.into_iter().filter(|p| !is_hidden(p)) {
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, files, errors),
            Ok(_) if is_manifest(&path) => files.push(path),
            Ok(_) => {}
            Err(e) => errors.push(read_error(&path, &e)),
        }
    }
}
