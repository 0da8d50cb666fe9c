//! CSV records, tokenized by the `csv` crate and checked against the raw text: the
//! reader of every CSV govcloud takes (usage files, server inventories).
//!
//! The crate reads leniently where an export had better be refused: a quote inside an
//! unquoted field is kept as text, and a quote never closed takes the rest of the file
//! into one field. Either means a broken export, so each record is also matched against
//! its raw text ([`check_quoting`]), which keeps RFC 4180's quoting strict.

use csv::{Position, Reader, ReaderBuilder, StringRecord, Trim};

/// A record with the 1-based line it starts on, or what is wrong with it there.
pub(crate) type Item = Result<(usize, StringRecord), (usize, String)>;

/// The delimiter of a file: `;` where its first non-blank line has more semicolons than
/// commas outside quotes (Excel writes `;` where the decimal separator is a comma, as
/// in most of Europe), `,` otherwise.
pub(crate) fn delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let (mut quoted, mut commas, mut semicolons) = (false, 0usize, 0usize);
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// The records of a text, in order. Records whose fields are all blank are skipped:
/// blank lines, and the runs of delimiters Excel writes for formatted but empty rows.
pub(crate) struct Records<'t> {
    text: &'t str,
    delimiter: char,
    reader: Reader<&'t [u8]>,
    record: StringRecord,
    done: bool,
}

impl<'t> Records<'t> {
    pub(crate) fn new(text: &'t str, delimiter: u8) -> Self {
        let reader = ReaderBuilder::new()
            // The header is looked for by the caller, so that its names match loosely and
            // its line is known like any row's.
            .has_headers(false)
            // A row with too few or too many fields is reported with its line, among the
            // other problems, instead of ending the reading.
            .flexible(true)
            // Fields stay as written: `check_quoting` compares them with the raw text.
            // Cells are trimmed later.
            .trim(Trim::None)
            // A `#` is data: neither usage files nor inventories have comments.
            .comment(None)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        Self {
            text,
            delimiter: char::from(delimiter),
            reader,
            record: StringRecord::new(),
            done: false,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        while !self.done {
            let more = match self.reader.read_record(&mut self.record) {
                Ok(more) => more,
                Err(e) => {
                    // The crate cannot go on after an error of its own (bad UTF-8 cannot
                    // occur in a `&str`, so this is not expected).
                    self.done = true;
                    let line = e.position().map_or(1, |p| start(self.text, p).1);
                    return Some(Err((line, e.to_string())));
                }
            };
            if !more {
                self.done = true;
                break;
            }
            let (byte, line) = self.record.position().map_or((0, 1), |p| start(self.text, p));
            let raw = self.text.get(byte..).unwrap_or_default();
            if let Err(message) = check_quoting(raw, &self.record, self.delimiter) {
                return Some(Err((line, message.to_owned())));
            }
            if !self.record.iter().all(|f| f.trim().is_empty()) {
                return Some(Ok((line, std::mem::take(&mut self.record))));
            }
        }
        None
    }
}

/// Where a record really starts (byte, 1-based line). The crate's position is where it
/// began consuming the record's input: before any blank lines it skipped, and, after a
/// CRLF, before the LF (the previous record ended at the CR), one line too early.
fn start(text: &str, position: &Position) -> (usize, usize) {
    let from = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let line = usize::try_from(position.line()).unwrap_or(usize::MAX);
    let rest = text.get(from..).unwrap_or_default();
    let skipped = &rest[..rest.len() - rest.trim_start_matches(['\r', '\n']).len()];
    let newlines = skipped.bytes().filter(|b| *b == b'\n').count();
    (from.saturating_add(skipped.len()), line.saturating_add(newlines))
}

/// Refuses what the crate accepts leniently (see the module docs): `raw` is the text
/// from where `record` starts. A quoted field must read back as its content with quotes
/// doubled, between two quotes; an unquoted one must hold no quote.
fn check_quoting(raw: &str, record: &StringRecord, delimiter: char) -> Result<(), &'static str> {
    const STRAY: &str = "a quote inside an unquoted field (quote the whole field and double the quote)";
    let mut rest = raw;
    for (i, field) in record.iter().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(delimiter).unwrap_or(rest);
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            match quoted.strip_prefix(field.replace('"', "\"\"").as_str()) {
                Some("") => return Err("a quoted field is never closed"),
                Some(after) if after.starts_with('"') => rest = &after[1..],
                // Text after the closing quote, which the crate appends to the field.
                _ => return Err(STRAY),
            }
        } else if field.contains('"') {
            return Err(STRAY);
        } else {
            rest = rest.get(field.len()..).unwrap_or_default();
        }
    }
    Ok(())
}
