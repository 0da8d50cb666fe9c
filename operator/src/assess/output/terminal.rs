//! `--output table`: the assessment at a terminal, in the plan table's grid.

use super::sections::sections;
use super::summary::{self, Counts};
use crate::assess::Assessment;
use crate::cli::table::grid::section;
use crate::units::visible;

pub fn table(a: &Assessment, currency: &str) -> String {
    let mut out = String::new();
    line(&summary::basis(a), &mut out);
    line(&format!("Servers: {}", Counts::of(a).sentence()), &mut out);
    line(&format!("Shared systems: {}", summary::sharing(a)), &mut out);
    for s in sections(a, currency) {
        out.push('\n');
        section(&s.title.to_uppercase(), &s.table, s.counted, &mut out);
        for note in s
            .table
            .notes
            .iter()
            .copied()
            .chain(s.notes.iter().map(String::as_str))
        {
            line(note, &mut out);
        }
    }
    out
}

/// A sentence on a line of its own; notes can name pools and servers, and a control
/// character in one must not drive the terminal.
fn line(text: &str, out: &mut String) {
    out.extend(text.chars().map(visible));
    out.push('\n');
}
