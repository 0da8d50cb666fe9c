//! The one table model of every human output: the report's sections and the plan's
//! table are built into [`Table`]s once (`sections` for the report, `cli::table` for the
//! plan), and Markdown, HTML, CSV and the terminal grid only render them.
//!
//! A cell keeps its kind (an amount, money, a ratio, a status…) rather than its text,
//! because the formats show the same figure differently: the report groups thousands of
//! money and the plan's table does not (it is compared with the plan's JSON), CSV writes
//! machine units so that columns sum, and HTML aligns numbers and colours the level
//! check. How each kind reads in a format is that format's one `cell` function.

pub mod sections;
#[cfg(test)]
mod tests;

use super::model::LevelStatus;
use crate::api::Phase;
use crate::plan::Reason;

/// One table: headers, rows of typed cells, and what is said around it.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Said instead of the table when it has no rows; `None` shows the bare header, so
    /// that a reader sees the table was considered.
    pub empty: Option<&'static str>,
    /// Sentences after the table that say how to read it.
    pub notes: Vec<&'static str>,
}

impl Table {
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Self {
            columns: columns.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            empty: None,
            notes: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        debug_assert_eq!(cells.len(), self.columns.len(), "a row has a cell per column");
        self.rows.push(cells);
    }

    pub fn or_else(mut self, empty: &'static str) -> Self {
        self.empty = Some(empty);
        self
    }

    pub fn note(mut self, note: &'static str) -> Self {
        self.notes.push(note);
        self
    }
}

/// A cell by kind; each format decides how a kind reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// A name or a word, on one line.
    Text(String),
    /// Free text (messages) that may wrap.
    Long(String),
    Count(i64),
    /// CPU in millicores.
    Cores(i64),
    /// CPU in cores as the plan schema has them (quotas).
    CoresF64(f64),
    /// Memory in bytes.
    Memory(i64),
    /// Money in the report's currency.
    Money(f64),
    /// A ratio in [0, 1].
    Percent(f64),
    /// A tenant's share of an instance (1 / seats); absent for own workloads.
    Share(Option<f64>),
    /// A security level; absent when there is no pool to have one.
    Level(Option<u8>),
    Phase(Phase),
    /// A level against its pool's.
    Check(LevelStatus),
    /// Why an object was refused, all of its reasons.
    Reasons(Vec<Reason>),
    /// An amount and its ratio of a whole: `1.5 (58%)`.
    OfWhole(Box<Cell>, f64),
    /// Part and whole, with the ratio when it is not a column of its own: `1.5 / 10 (15%)`.
    Fraction(Box<Cell>, Box<Cell>, Option<f64>),
    /// Usage was asked for but this object's was not measured: not zero.
    NotMeasured,
    /// Nothing applies (no pool, nothing runs).
    Absent,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    /// An optional name, absent shown as such.
    pub fn name(s: Option<&str>) -> Self {
        s.map_or(Cell::Absent, Cell::text)
    }

    pub fn count(n: impl TryInto<i64>) -> Self {
        Cell::Count(n.try_into().unwrap_or(i64::MAX))
    }

    pub fn of_whole(amount: Cell, ratio: f64) -> Self {
        Cell::OfWhole(Box::new(amount), ratio)
    }

    pub fn fraction(part: Cell, whole: Cell, ratio: Option<f64>) -> Self {
        Cell::Fraction(Box::new(part), Box::new(whole), ratio)
    }

    /// Whether the cell is a figure (right-aligned where a format aligns), rather than
    /// words.
    pub fn is_figure(&self) -> bool {
        !matches!(
            self,
            Cell::Text(_)
                | Cell::Long(_)
                | Cell::Phase(_)
                | Cell::Check(_)
                | Cell::Reasons(_)
                | Cell::NotMeasured
                | Cell::Absent
        )
    }
}
