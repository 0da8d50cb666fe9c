//! CSV usage files, read by the strict reader of every CSV govcloud takes
//! (`crate::csv_records`: RFC 4180 quoting, each record with its line).

use csv::StringRecord;
use k8s_openapi::jiff::Timestamp;
use serde::Deserialize;

use super::{UsageError, amount, error, sample, timestamp};
use crate::csv_records::Records;
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

/// The records of `text` with their lines; records holding nothing but blanks are
/// skipped. The first badly quoted record ends the reading, with its line.
fn records(text: &str) -> Result<Vec<(usize, StringRecord)>, UsageError> {
    Records::new(text, b',')
        .map(|item| item.map_err(|(line, message)| whole_record(line, message)))
        .collect()
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
