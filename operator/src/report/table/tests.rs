//! Markdown and HTML render the same tables, because both render the one model.

use std::path::PathBuf;

use super::Cell;
use crate::load::load_paths;
use crate::plan::{Assignments, plan};
use crate::quantity::Res;
use crate::report::{Format, MeasuredUsage, build, render};
use crate::usage::{PodUsage, Sample, aggregate};

/// The header of every Markdown table, in order (a header line is the one before `|---|`).
fn markdown_headers(md: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = md.lines().collect();
    lines
        .windows(2)
        .filter(|w| w[1].starts_with("|---|"))
        .map(|w| {
            let inner = w[0].trim_start_matches("| ").trim_end_matches(" |");
            inner.split(" | ").map(|h| h.trim().to_owned()).collect()
        })
        .collect()
}

/// The header of every HTML table, in order.
fn html_headers(page: &str) -> Vec<Vec<String>> {
    page.split("<thead><tr>")
        .skip(1)
        .map(|rest| {
            let row = rest.split("</tr></thead>").next().unwrap_or_default();
            row.split("</th>")
                .filter_map(|h| h.strip_prefix("<th>"))
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

#[test]
fn markdown_and_html_show_the_same_tables_with_and_without_usage() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/samples");
    let snapshot = load_paths(&[dir]).expect("samples load").snapshot;
    let p = plan(&snapshot, &Assignments::default());
    let sample = Sample {
        at: "2025-06-30T12:00:00Z".parse().unwrap(),
        pods: vec![PodUsage {
            namespace: "dept-finance".into(),
            pod: "treasury-payments-5f6d7c8b9-aaaaa".into(),
            used: Res::new(1500, 3 << 30),
        }],
    };
    let usage = MeasuredUsage::from_file(aggregate(&p, &snapshot.settings, &sample));
    for measured in [None, Some(&usage)] {
        let r = build(&snapshot, &p, measured);
        let md = markdown_headers(&render(&r, Format::Markdown));
        let html = html_headers(&render(&r, Format::Html));
        assert!(md.len() > 20, "every section's tables: {md:?}");
        assert_eq!(md, html, "measured: {}", measured.is_some());
        let used = md.iter().any(|h| h.iter().any(|c| c == "used CPU"));
        assert_eq!(used, measured.is_some(), "used columns only when measured");
    }
}

#[test]
fn figures_are_told_from_words() {
    assert!(Cell::Money(1.0).is_figure());
    assert!(Cell::fraction(Cell::Count(1), Cell::Count(4), None).is_figure());
    assert!(
        Cell::Level(None).is_figure(),
        "an absent level is still in a level column"
    );
    assert!(!Cell::NotMeasured.is_figure());
    assert!(!Cell::text("3 admitted").is_figure());
}
