//! CSV usage files, tokenized by the `csv` crate.
//!
//! The crate reads leniently where a usage file had better be refused: a quote inside an
//! unquoted field is kept as text, and a quote never closed takes the rest of the file
//! into one field. Either means a broken export, so each record is also matched against
//! its raw text ([`check_quoting`]), which keeps RFC 4180's quoting strict.

use csv::{Position, ReaderBuilder, StringRecord, Trim};
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;

use super::{UsageError, amount, error, sample, timestamp};
use crate::quantity::{Res, parse_cpu, parse_memory};
use crate::usage::{PodUsage, Sample};

const CSV_COLUMNS: [&str; 5] = ["at", "namespace", "pod", "cpu", "memory"];

/// A data row by the header's names (see [`keys`]); other columns are not read.
#[derive(Deserialize)]
struct Row<'a> {
    at: &'a str,
    namespace: &'a str,
    pod: &'a str,
    cpu: &'a str,
    memory: &'a str,
}

fn whole_record(line: usize, message: impl Into<String>) -> UsageError {
    UsageError {
        line: Some(line),
        field: None,
        message: message.into(),
    }
}

/// Splits CSV text (RFC 4180: quoted fields may hold commas, doubled quotes and line
/// breaks) into records, each with the line it starts on, fields as written.
#[cfg(test)]
pub(in crate::report) fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, UsageError> {
    Ok(records(text)?
        .into_iter()
        .map(|(line, record)| (line, record.iter().map(str::to_owned).collect()))
        .collect())
}

/// The records of `text` with their lines; lines holding nothing but blanks are skipped.
fn records(text: &str) -> Result<Vec<(usize, StringRecord)>, UsageError> {
    let mut reader = ReaderBuilder::new()
        // The header is looked for here, so that its names match loosely and its line is
        // known like any row's.
        .has_headers(false)
        // A row with too few or too many fields is reported with its line, among the
        // other problems, instead of ending the reading.
        .flexible(true)
        // Fields stay as written: `csv_records` reads the report's own CSV back exactly,
        // and `check_quoting` compares them with the raw text. Cells are trimmed later.
        .trim(Trim::None)
        // A `#` is data: usage files never had comments.
        .comment(None)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut record = StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| UsageError {
            line: e.position().map(|p| start(text, p).1),
            field: None,
            message: e.to_string(),
        })?;
        if !more {
            return Ok(out);
        }
        let (byte, line) = record.position().map_or((0, 1), |p| start(text, p));
        check_quoting(text.get(byte..).unwrap_or_default(), &record, line)?;
        if !(record.len() == 1 && record[0].trim().is_empty()) {
            out.push((line, std::mem::take(&mut record)));
        }
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
fn check_quoting(raw: &str, record: &StringRecord, line: usize) -> Result<(), UsageError> {
    let stray = || {
        whole_record(
            line,
            "a quote inside an unquoted field (quote the whole field and double the quote)",
        )
    };
    let mut rest = raw;
    for (i, field) in record.iter().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            match quoted.strip_prefix(field.replace('"', "\"\"").as_str()) {
                Some("") => return Err(whole_record(line, "a quoted field is never closed")),
                Some(after) if after.starts_with('"') => rest = &after[1..],
                // Text after the closing quote, which the crate appends to the field.
                _ => return Err(stray()),
            }
        } else if field.contains('"') {
            return Err(stray());
        } else {
            rest = rest.get(field.len()..).unwrap_or_default();
        }
    }
    Ok(())
}

/// The names the rows are read by: a column of the usage file by its canonical name when
/// the header names it (trimmed, in any case), the first such column only; any other
/// column by no name, so that it is not read.
fn keys(header: &StringRecord) -> StringRecord {
    let mut taken = [false; CSV_COLUMNS.len()];
    header
        .iter()
        .map(|h| {
            let wanted = CSV_COLUMNS.iter().position(|c| h.trim().eq_ignore_ascii_case(c));
            match wanted {
                Some(i) if !std::mem::replace(&mut taken[i], true) => CSV_COLUMNS[i],
                _ => "",
            }
        })
        .collect()
}

pub(super) fn parse(text: &str) -> Result<Sample, Vec<UsageError>> {
    let records = records(text).map_err(|e| vec![e])?;
    let Some(((header_line, header), rows)) = records.split_first() else {
        return Err(vec![UsageError {
            line: None,
            field: None,
            message: format!("empty: expected a CSV header naming {}", CSV_COLUMNS.join(", ")),
        }]);
    };
    let keys = keys(header);
    let missing: Vec<&str> = CSV_COLUMNS
        .into_iter()
        .filter(|c| !keys.iter().any(|k| k == *c))
        .collect();
    if !missing.is_empty() {
        return Err(vec![whole_record(
            *header_line,
            format!(
                "the header lacks the column{} {} (expected {}; JSON starts with `{{`)",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                CSV_COLUMNS.join(", ")
            ),
        )]);
    }
    let mut errors = Vec::new();
    let mut latest: Option<Timestamp> = None;
    let mut pods = Vec::new();
    for (line, record) in rows {
        if record.len() != header.len() {
            errors.push(whole_record(
                *line,
                format!("{} fields where the header has {}", record.len(), header.len()),
            ));
            continue;
        }
        let row: Row = match record.deserialize(Some(&keys)) {
            Ok(row) => row,
            Err(e) => {
                errors.push(whole_record(*line, e.to_string()));
                continue;
            }
        };
        let line = Some(*line);
        match timestamp(row.at.trim()) {
            Ok(t) => latest = latest.max(Some(t)),
            Err(m) => errors.push(error(line, "at", m)),
        }
        let (namespace, pod) = (row.namespace.trim(), row.pod.trim());
        for (value, name) in [(namespace, "namespace"), (pod, "pod")] {
            if value.is_empty() {
                errors.push(error(line, name, "empty"));
            }
        }
        let cpu = amount(row.cpu, parse_cpu).map_err(|m| errors.push(error(line, "cpu", m)));
        let memory = amount(row.memory, parse_memory).map_err(|m| errors.push(error(line, "memory", m)));
        if let (Ok(cpu), Ok(memory)) = (cpu, memory) {
            pods.push(PodUsage {
                namespace: namespace.to_owned(),
                pod: pod.to_owned(),
                used: Res::new(cpu, memory),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    match latest {
        Some(at) => sample(at, pods),
        None => Err(vec![whole_record(
            *header_line,
            "no rows after the header, so there is no sample",
        )]),
    }
}
