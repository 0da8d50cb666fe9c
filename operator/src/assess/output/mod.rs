//! The assessment for its readers: JSON and YAML for tools (the schema of
//! `assess::model`), tables for a terminal, Markdown and HTML for the budget office.
//!
//! The human formats share one set of tables (`sections`, built once as the report's
//! `Table`s) and render them with the report's and the plan table's renderers, so that
//! an assessment reads like the plan and the report it leads to.

mod charts;
mod html;
mod markdown;
mod sections;
mod summary;
mod terminal;
#[cfg(test)]
mod tests;

pub use html::html;
pub use markdown::markdown;
pub use sections::{KWH_PER_WATT_YEAR, Section, sections};
pub use summary::basis;
pub use terminal::table;

use super::Assessment;

/// Serialises the assessment; the model has string keys and finite numbers only.
pub fn json(a: &Assessment) -> String {
    serde_json::to_string_pretty(a).expect("an assessment serialises to JSON") + "\n"
}

pub fn yaml(a: &Assessment) -> String {
    serde_saphyr::to_string(a).expect("an assessment serialises to YAML")
}
