//! Tables laid out the way `kubectl get` lays them out: uppercase headers, every column
//! as wide as its widest cell, three spaces between columns, no borders.

use crate::report::table::{Cell, Table};
use crate::report::text;

const GAP: &str = "   ";

/// A cell as the terminal shows it. Money has two decimals and no thousands separators,
/// as the plan's JSON has the figure (`3709.86`), so that the table and the JSON can be
/// compared by eye or by diff (the report, read rather than diffed, groups thousands);
/// part and whole are packed (`1.5/10`); reasons are the first code and how many more
/// the REFUSALS section lists. Other kinds read as in the report.
pub(super) fn cell(c: &Cell) -> String {
    let shown = match c {
        Cell::Money(amount) => format!("{amount:.2}"),
        Cell::Fraction(part, whole, None) => format!("{}/{}", cell(part), cell(whole)),
        Cell::Reasons(reasons) => match reasons.as_slice() {
            [] => "-".into(),
            [only] => only.code.to_string(),
            [first, rest @ ..] => format!("{} (+{})", first.code, rest.len()),
        },
        c => text::cell(c),
    };
    printable(&shown)
}

/// A section: its title (with the number of rows when they are objects), then the
/// header and rows, or `(none)`.
pub(crate) fn section(title: &str, table: &Table, counted: bool, out: &mut String) {
    if counted {
        out.push_str(&format!("{title} ({})\n", table.rows.len()));
    } else {
        out.push_str(&format!("{title}\n"));
    }
    if table.rows.is_empty() {
        out.push_str("(none)\n");
        return;
    }
    // Capitals, as kubectl prints them, whatever case the shared model gives.
    let header = table.columns.iter().map(|c| c.to_uppercase()).collect();
    let rows: Vec<Vec<String>> = std::iter::once(header)
        .chain(table.rows.iter().map(|row| row.iter().map(cell).collect()))
        .collect();
    let widths: Vec<usize> = (0..table.columns.len())
        .map(|c| rows.iter().map(|row| row[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str(GAP);
            }
            line.push_str(cell);
            let pad = widths[c].saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// A cell as a terminal shows it, one line, with no control sequence: names and messages
/// come from manifests, and a newline would split a row and an ESC would drive the
/// terminal (the report's documents use the same [`crate::units::visible`]).
fn printable(cell: &str) -> String {
    cell.chars().map(crate::units::visible).collect()
}
