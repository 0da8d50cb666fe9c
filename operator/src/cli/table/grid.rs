//! Columns aligned the way `kubectl get` aligns them: uppercase headers, every column as
//! wide as its widest cell, three spaces between columns, no borders.

const GAP: &str = "   ";

#[derive(Debug)]
pub(super) struct Grid {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Grid {
    pub fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len(), "a row has a cell per column");
        self.rows.push(cells.iter().map(|c| printable(c)).collect());
    }

    /// A section: its title (with the number of rows when they are objects), then the
    /// header and rows, or `(none)`.
    pub fn section(&self, title: &str, counted: bool, out: &mut String) {
        if counted {
            out.push_str(&format!("{title} ({})\n", self.rows.len()));
        } else {
            out.push_str(&format!("{title}\n"));
        }
        if self.rows.is_empty() {
            out.push_str("(none)\n");
            return;
        }
        let header: Vec<String> = self.header.iter().map(|h| (*h).to_owned()).collect();
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| {
                std::iter::once(&header)
                    .chain(&self.rows)
                    .map(|row| row[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c > 0 {
                    line.push_str(GAP);
                }
                line.push_str(cell);
                let pad = widths[c] - cell.chars().count();
                line.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

/// A cell as a terminal shows it, one line, with no control sequence: names and messages
/// come from manifests, and a newline would split a row and an ESC would drive the
/// terminal (the report's documents use the same [`crate::units::visible`]).
fn printable(cell: &str) -> String {
    cell.chars().map(crate::units::visible).collect()
}
