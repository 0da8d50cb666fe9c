//! The auditors' report: per department, quota granted, allocated and used; each
//! service's pool and security level next to the pool's, with the level evidence
//! computed; shares of shared instances and their apportioned cost; refusals and policy
//! violations; and the savings against the siloed baseline.
//!
//! [`build`] makes the [`Report`] model from a snapshot, its plan and (optionally)
//! measured usage, purely: a usage file's sample attributed by the plan, or what the
//! operator wrote into statuses ([`usage_from_statuses`]). The renderers turn it into
//! Markdown, CSV, JSON or a self-contained HTML page. Reading files and the cluster is
//! `cli::report`'s.

mod build;
mod csv;
pub(crate) mod html;
pub(crate) mod markdown;
mod model;
mod statuses;
pub(crate) mod svg;
pub mod table;
pub(crate) mod text;
mod usage_file;

#[cfg(test)]
mod tests;

pub use build::{MeasuredUsage, build};
pub use csv::COLUMNS as CSV_COLUMNS;
pub use model::*;
pub use statuses::usage_from_statuses;
pub use usage_file::{UsageError, parse as parse_usage};

/// The output formats of `govcloud report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Csv,
    Json,
    Html,
}

/// The report in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Markdown => markdown::render(report),
        Format::Csv => csv::render(report),
        Format::Json => {
            serde_json::to_string_pretty(report).expect("a report has string keys and finite numbers") + "\n"
        }
        Format::Html => html::render(report),
    }
}
