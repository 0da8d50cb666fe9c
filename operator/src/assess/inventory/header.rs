//! The header row: which export a file is, where its columns are, and the cells of a
//! row by column name.

use std::collections::HashMap;

use csv::StringRecord;

use super::cells::Decimals;
use super::{Format, InventoryError, Server, State};

/// What a format's header must and may hold, and how its rows are read.
#[derive(Debug)]
pub(super) struct Spec {
    pub format: Format,
    /// The columns a row cannot do without. The first names the server, and its
    /// presence tells the format even when another required column is missing, so
    /// that the message names the missing column rather than listing every format.
    pub required: &'static [&'static str],
    /// The columns read when present.
    pub optional: &'static [&'static str],
    /// Optional columns that mean something only together.
    pub pairs: &'static [(&'static str, &'static str)],
    /// Reads a row into a server, given its name (checked already).
    pub row: fn(&mut Row<'_>, String) -> Option<Server>,
}

impl Spec {
    pub fn name_column(&self) -> &'static str {
        self.required[0]
    }

    fn columns(&self) -> impl Iterator<Item = &'static str> {
        self.required.iter().chain(self.optional).copied()
    }
}

/// Header names match whatever their case and surrounding blanks.
fn key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Where the columns a format reads are: the field index of each by its name in
/// the format's spelling.
#[derive(Debug)]
pub(super) struct Columns {
    index: HashMap<&'static str, usize>,
    /// The header's names as written (trimmed), for messages.
    written: Vec<String>,
}

impl Columns {
    pub fn width(&self) -> usize {
        self.written.len()
    }
}

/// A problem of the header: the column as written or missing, and the message.
pub(super) type HeaderProblem = (Option<String>, String);

/// The format `header` is, and its columns; or what is wrong with it.
pub(super) fn detect(
    header: &StringRecord,
    specs: &'static [Spec],
) -> Result<(&'static Spec, Columns), Vec<HeaderProblem>> {
    let mut at: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        at.entry(key(name)).or_default().push(i);
    }
    let has = |column: &str| at.contains_key(&key(column));
    let candidates = || specs.iter().filter(|s| has(s.name_column()));
    let spec = candidates()
        .find(|s| s.required.iter().all(|c| has(c)))
        .or_else(|| candidates().next())
        .ok_or_else(|| vec![(None, unrecognised(specs))])?;
    let written: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    let mut problems = Vec::new();
    for column in spec.required.iter().filter(|c| !has(c)) {
        problems.push((
            Some((*column).to_owned()),
            format!(
                "missing: the {} format requires this column",
                spec.format.as_str()
            ),
        ));
    }
    for &(a, b) in spec.pairs {
        for (present, absent) in [(a, b), (b, a)] {
            if has(present) && !has(absent) {
                problems.push((
                    Some(absent.to_owned()),
                    format!("missing: the header has {present}, which goes with this column"),
                ));
            }
        }
    }
    let mut index = HashMap::new();
    for column in spec.columns() {
        match at.get(&key(column)).map(Vec::as_slice) {
            Some([i]) => {
                index.insert(column, *i);
            }
            Some(fields) if fields.len() > 1 => {
                let numbers: Vec<String> = fields.iter().map(|i| (i + 1).to_string()).collect();
                problems.push((
                    Some(written[fields[0]].clone()),
                    format!(
                        "named by fields {} of the header: which one to read is unclear",
                        numbers.join(" and ")
                    ),
                ));
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok((spec, Columns { index, written }))
    } else {
        Err(problems)
    }
}

/// The message for a header no format knows, listing what each requires.
pub(super) fn unrecognised(specs: &[Spec]) -> String {
    let formats: Vec<String> = specs
        .iter()
        .map(|s| format!("{} ({})", s.format.as_str(), s.required.join(", ")))
        .collect();
    format!(
        "not an inventory header: expected the columns of {}",
        formats.join("; or ")
    )
}

/// One row's cells by column name, and the problems found in them.
pub(super) struct Row<'a> {
    pub file: &'a str,
    pub line: usize,
    pub decimals: Decimals,
    record: &'a StringRecord,
    columns: &'a Columns,
    errors: &'a mut Vec<InventoryError>,
    failed: bool,
}

impl<'a> Row<'a> {
    pub fn new(
        file: &'a str,
        line: usize,
        decimals: Decimals,
        record: &'a StringRecord,
        columns: &'a Columns,
        errors: &'a mut Vec<InventoryError>,
    ) -> Self {
        Self {
            file,
            line,
            decimals,
            record,
            columns,
            errors,
            failed: false,
        }
    }

    /// Whether a problem was found in the row.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// The cell of `column`, trimmed; `None` when the header lacks the column.
    pub fn cell(&self, column: &str) -> Option<&'a str> {
        let i = *self.columns.index.get(column)?;
        self.record.get(i).map(str::trim)
    }

    /// The cell of `column` when the header has it and it is not blank.
    pub fn filled(&self, column: &str) -> Option<&'a str> {
        self.cell(column).filter(|c| !c.is_empty())
    }

    /// The cell of `column` as text, when not blank.
    pub fn text(&self, column: &str) -> Option<String> {
        self.filled(column).map(str::to_owned)
    }

    pub fn error(&mut self, column: &str, message: String) {
        self.failed = true;
        let written = self
            .columns
            .index
            .get(column)
            .and_then(|&i| self.columns.written.get(i))
            .map_or(column, String::as_str);
        self.errors.push(InventoryError {
            file: self.file.to_owned(),
            line: Some(self.line),
            column: Some(written.to_owned()),
            message,
        });
    }

    /// The value of a cell that must be filled, or `None` with the problem recorded.
    pub fn required<T>(
        &mut self,
        column: &str,
        expected: &str,
        read: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        // The header has every required column: the detection saw to it.
        if self.filled(column).is_none() {
            self.error(column, format!("empty; expected {expected}"));
            return None;
        }
        self.optional(column, read)
    }

    /// The value of a cell that may be blank (`None`), or `None` with the problem
    /// recorded.
    pub fn optional<T>(&mut self, column: &str, read: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let cell = self.filled(column)?;
        read(cell).map_err(|message| self.error(column, message)).ok()
    }
}

/// A server of `row` with what every format has; the rest is left for the format.
pub(super) fn server(
    row: &Row<'_>,
    format: Format,
    name: String,
    cpu_millis: i64,
    memory_bytes: i64,
) -> Server {
    Server {
        file: row.file.to_owned(),
        line: row.line,
        format,
        name,
        department: None,
        application: None,
        system: None,
        security_level: None,
        cpu_millis,
        memory_bytes,
        cpu_utilisation: None,
        memory_utilisation: None,
        yearly_cost: None,
        power_watts: None,
        state: State::On,
        folder: None,
        annotation: None,
        os: None,
    }
}
