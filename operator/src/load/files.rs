//! Which files the given paths stand for, and their bytes, read within limits.
//!
//! The input may be careless or hostile: links that loop (`ln -s . again`), FIFOs and
//! devices that never end, files larger than memory. Each real directory and file is
//! visited once, identified by device and inode rather than by path, only regular files
//! are opened, and no file is read past the size limit.

use std::collections::HashSet;
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::error::LoadError;

/// Which files a directory contributes, and what the refusal of too many calls them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// Extensions of the files taken from directories (files named are read whatever
    /// theirs).
    pub extensions: &'static [&'static str],
    /// What the files are, for `more than N … files`.
    pub noun: &'static str,
}

impl Wanted {
    pub const MANIFESTS: Wanted = Wanted {
        extensions: &["yaml", "yml", "json"],
        noun: "manifest",
    };

    fn matches(&self, path: &Path) -> bool {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| self.extensions.contains(&e))
    }
}

/// How much input the loader takes before it refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one file (`--max-file-size`).
    pub max_file_size: u64,
    /// Manifest files in all.
    pub max_files: usize,
    /// Directories below a path given.
    pub max_depth: usize,
}

impl Limits {
    /// 64 MiB: five times a `kubectl get -o yaml` export of a 10,000-service estate.
    pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_size: Self::DEFAULT_MAX_FILE_SIZE,
            max_files: 100_000,
            max_depth: 64,
        }
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

fn refuse(file: &Path, message: impl Into<String>) -> LoadError {
    LoadError::Read {
        file: file.to_path_buf(),
        message: message.into(),
    }
}

fn read_error(file: &Path, e: &std::io::Error) -> LoadError {
    refuse(file, e.to_string())
}

/// What a path is when it is not a file or a directory; `None` for those two.
fn special_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else {
        Some("not a file or a directory")
    }
}

fn not_regular(file: &Path, kind: &str) -> LoadError {
    refuse(
        file,
        format!("{kind}, not a regular file (only regular files are read)"),
    )
}

/// The walk's state: what was seen, what was found, what went wrong.
struct Walk<'a> {
    limits: &'a Limits,
    wanted: Wanted,
    seen: HashSet<(u64, u64)>,
    files: Vec<PathBuf>,
    errors: &'a mut Vec<LoadError>,
}

/// The files named, and the manifests (`.yaml`, `.yml`, `.json`) under the directories
/// named: see [`expand_wanted`].
pub(super) fn expand(paths: &[PathBuf], limits: &Limits, errors: &mut Vec<LoadError>) -> Vec<PathBuf> {
    expand_wanted(paths, limits, Wanted::MANIFESTS, errors)
}

/// The files named, and the `wanted` files under the directories named, recursively and
/// sorted by path so that the input order never depends on the file system. A file
/// named explicitly is read whatever its extension; hidden entries inside directories
/// (`.git`) are not. Links are followed, but a directory or file reached twice is taken
/// the first time only.
pub(crate) fn expand_wanted(
    paths: &[PathBuf],
    limits: &Limits,
    wanted: Wanted,
    errors: &mut Vec<LoadError>,
) -> Vec<PathBuf> {
    let mut walk = Walk {
        limits,
        wanted,
        seen: HashSet::new(),
        files: Vec::new(),
        errors,
    };
    for path in paths {
        walk.entry(path, 0, true);
    }
    walk.files
}

impl Walk<'_> {
    fn entry(&mut self, path: &Path, depth: usize, named: bool) {
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => return self.errors.push(read_error(path, &e)),
        };
        if !meta.is_dir() && !named && !self.wanted.matches(path) {
            return;
        }
        if let Some(kind) = special_kind(&meta) {
            return self.errors.push(not_regular(path, kind));
        }
        if !self.seen.insert((meta.dev(), meta.ino())) {
            return;
        }
        if meta.is_dir() {
            return self.dir(path, depth);
        }
        if self.files.len() >= self.limits.max_files {
            let message = format!("more than {} {} files", self.limits.max_files, self.wanted.noun);
            return self.errors.push(refuse(path, message));
        }
        self.files.push(path.to_path_buf());
    }

    fn dir(&mut self, dir: &Path, depth: usize) {
        if depth > self.limits.max_depth {
            let message = format!("directories nested more than {} deep", self.limits.max_depth);
            return self.errors.push(refuse(dir, message));
        }
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.errors.push(read_error(dir, &e)),
        };
        let mut paths = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => paths.push(entry.path()),
                Err(e) => self.errors.push(read_error(dir, &e)),
            }
        }
        paths.sort();
        for path in paths.into_iter().filter(|p| !is_hidden(p)) {
            self.entry(&path, depth + 1, false);
        }
    }
}

/// The bytes of a regular file, at most `limit` of them.
pub(super) fn read(file: &Path, limit: u64) -> Result<Vec<u8>, Box<LoadError>> {
    // Non-blocking, so that a FIFO swapped in after the walk looked cannot stall the open;
    // the handle is then checked to be a regular file before anything is read.
    let handle = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(file)
        .map_err(|e| read_error(file, &e))?;
    let meta = handle.metadata().map_err(|e| read_error(file, &e))?;
    if let Some(kind) = special_kind(&meta) {
        return Err(Box::new(not_regular(file, kind)));
    }
    let too_large = |size: Option<u64>| {
        let size = size.map(|s| format!("{s} bytes, ")).unwrap_or_default();
        refuse(
            file,
            format!("{size}more than the limit of {limit} bytes (raise it with --max-file-size)"),
        )
    };
    if meta.len() > limit {
        return Err(Box::new(too_large(Some(meta.len()))));
    }
    // The size seen is a hint only: the file may grow, and /proc files say 0. One byte
    // more than the limit tells "too large" from "exactly the limit".
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    handle
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| read_error(file, &e))?;
    if bytes.len() as u64 > limit {
        return Err(Box::new(too_large(None)));
    }
    Ok(bytes)
}

/// The bytes as text, or where they stop being UTF-8: a Latin-1 export or a binary
/// given by mistake is then found in an editor, not guessed at.
pub(super) fn text(file: &Path, bytes: Vec<u8>) -> Result<String, Box<LoadError>> {
    let e = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let bytes = e.as_bytes();
    let error = e.utf8_error();
    let valid = &bytes[..error.valid_up_to()];
    let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = valid.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    // The part of the line before the error is valid UTF-8: count its characters.
    let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() as u64 + 1;
    let message = match (error.error_len(), bytes) {
        (_, [0xff, 0xfe, ..] | [0xfe, 0xff, ..]) if error.valid_up_to() == 0 => {
            "a UTF-16 byte order mark; save the file as UTF-8".to_owned()
        }
        (Some(_), _) => format!(
            "byte {:#04x} cannot start or continue a character here",
            bytes[error.valid_up_to()]
        ),
        (None, _) => "the text ends inside a character".to_owned(),
    };
    Err(Box::new(LoadError::Encoding {
        file: file.to_path_buf(),
        line,
        column,
        message,
    }))
}
