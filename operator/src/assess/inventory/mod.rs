//! Departments' server inventories: govcloud's own CSV, the RVTools `vInfo` export and
//! the Azure Migrate import template, told apart by their header and read into one
//! [`Server`] record each.
//!
//! Every problem is reported, each with its file, line and column, not just the first;
//! a file with any problem yields no servers, as the manifest loader does.

use std::fmt;
use std::path::PathBuf;

mod azure;
mod cells;
mod govcloud;
mod header;
mod paths;
mod rvtools;
mod table;
#[cfg(test)]
mod tests;

/// The data rows a file may hold, whatever `--max-file-size` allows: a bound on the
/// time and memory one file takes, far above any department's estate.
pub const MAX_ROWS: usize = 1_000_000;

/// Reads the text of one inventory file, named `file` in messages and servers. The
/// format is told by the header (the first record that is not blank); the delimiter,
/// `,` or `;`, by the header's line.
pub fn parse(file: &str, text: &str) -> Result<Vec<Server>, Vec<InventoryError>> {
    table::parse(file, text, MAX_ROWS)
}

/// Reads the inventories under `paths`: each a file, read whatever its extension, or a
/// directory, whose `.csv` files are read recursively in path order (hidden entries
/// left out), with the manifest loader's guards (each file once, regular files only, at
/// most `max_file_size` bytes each). The servers of all files, in order; the same
/// name in two files is no error, as departments name their servers independently.
pub fn read(paths: &[PathBuf], max_file_size: u64) -> Result<Vec<Server>, Vec<InventoryError>> {
    paths::read(paths, max_file_size)
}

/// Which export a file is, detected from its header row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Format {
    /// govcloud's documented CSV (`docs/assess.md`).
    Govcloud,
    /// RVTools' `vInfo` tab exported as CSV.
    RvTools,
    /// The Azure Migrate CSV import template.
    AzureMigrate,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Govcloud => "govcloud",
            Format::RvTools => "RVTools vInfo",
            Format::AzureMigrate => "Azure Migrate",
        }
    }
}

/// How a utilisation figure was summarised over the measured period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Statistic {
    P95,
    Average,
}

/// A measured utilisation: a ratio in [0, 1] of the provisioned amount.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Measured {
    pub ratio: f64,
    pub statistic: Statistic,
}

/// Whether a machine runs; only running machines are assessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum State {
    On,
    Off,
    Suspended,
    /// A VM template (RVTools `Template` = True): never runs as such.
    Template,
}

/// One server or virtual machine as an inventory lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    /// The file it was read from, as given on the command line.
    pub file: String,
    /// The 1-based line its row starts on.
    pub line: usize,
    pub format: Format,
    /// The server's or VM's name as written (trimmed).
    pub name: String,
    /// Set only where the export has the column and the cell is not empty.
    pub department: Option<String>,
    pub application: Option<String>,
    pub system: Option<String>,
    pub security_level: Option<u8>,
    /// Provisioned CPU, in millicores (> 0).
    pub cpu_millis: i64,
    /// Provisioned memory, in bytes (> 0).
    pub memory_bytes: i64,
    pub cpu_utilisation: Option<Measured>,
    pub memory_utilisation: Option<Measured>,
    /// What running the server costs a year today, in the report's currency.
    pub yearly_cost: Option<f64>,
    /// Its average electrical draw, in watts.
    pub power_watts: Option<f64>,
    pub state: State,
    /// RVTools `Folder`, for the mapping file's rules.
    pub folder: Option<String>,
    /// RVTools `Annotation`, for the mapping file's rules.
    pub annotation: Option<String>,
    /// The operating system as the export names it.
    pub os: Option<String>,
}

/// One problem in an inventory file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryError {
    pub file: String,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// The column's header as written in the file.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column {column:?}")?;
        }
        write!(f, ": {}", self.message)
    }
}
