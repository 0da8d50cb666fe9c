//! One inventory file's text: its header tells the format, then every row is read and
//! every problem kept.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::cells::Decimals;
use super::header::{self, Row, Spec};
use super::{InventoryError, Server, azure, govcloud, rvtools};
use crate::csv_records::{self as records, Records};

/// The formats, in the order a header is matched against them.
static SPECS: [Spec; 3] = [govcloud::SPEC, rvtools::SPEC, azure::SPEC];

pub(super) fn parse(file: &str, text: &str, max_rows: usize) -> Result<Vec<Server>, Vec<InventoryError>> {
    let error = |line: Option<usize>, column: Option<String>, message: String| InventoryError {
        file: file.to_owned(),
        line,
        column,
        message,
    };
    // Excel and RVTools start their UTF-8 exports with a byte order mark. The csv crate
    // skips it too, but the delimiter is looked for, and quoting checked, in this text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let delimiter = records::delimiter(text);
    let decimals = if delimiter == b';' {
        Decimals::PointOrComma
    } else {
        Decimals::Point
    };
    let mut records = Records::new(text, delimiter);
    let (header_line, header) = match records.next() {
        Some(Ok(header)) => header,
        Some(Err((line, message))) => return Err(vec![error(Some(line), None, message)]),
        None => {
            let message = format!("empty: {}", header::unrecognised(&SPECS));
            return Err(vec![error(None, None, message)]);
        }
    };
    let (spec, columns) = header::detect(&header, &SPECS).map_err(|problems| {
        problems
            .into_iter()
            .map(|(column, message)| error(Some(header_line), column, message))
            .collect::<Vec<_>>()
    })?;
    let name_column = spec.name_column();
    let mut errors = Vec::new();
    let mut servers = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (n, item) in records.enumerate() {
        if n >= max_rows {
            let line = match &item {
                Ok((line, _)) | Err((line, _)) => *line,
            };
            let message = format!("more than {max_rows} rows, the most a file may hold; split it");
            errors.push(error(Some(line), None, message));
            break;
        }
        let (line, record) = match item {
            Ok(record) => record,
            Err((line, message)) => {
                errors.push(error(Some(line), None, message));
                continue;
            }
        };
        if record.len() != columns.width() {
            let message = format!("{} fields where the header has {}", record.len(), columns.width());
            errors.push(error(Some(line), None, message));
            continue;
        }
        let mut row = Row::new(file, line, decimals, &record, &columns, &mut errors);
        let name = row.required(name_column, "the server's name", |c| Ok(c.to_owned()));
        if let Some(name) = &name {
            match first_line.entry(name.clone()) {
                Entry::Occupied(first) => {
                    let message = format!("{name:?} is listed already, on line {}", first.get());
                    row.error(name_column, message);
                }
                Entry::Vacant(entry) => {
                    entry.insert(line);
                }
            }
        }
        // The rest of the row is read even without a name, to report its problems too.
        if let Some(server) = (spec.row)(&mut row, name.unwrap_or_default()) {
            servers.push(server);
        }
    }
    if errors.is_empty() {
        Ok(servers)
    } else {
        Err(errors)
    }
}
