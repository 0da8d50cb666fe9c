//! Hostile text in every string of the report: the documents keep their structure.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::super::text::visible;
use super::*;

/// What an attacker puts in a name or message: line breaks that would start a heading,
/// backticks that would close a code span, raw HTML, a table separator, a script link,
/// emphasis, strikethrough, math, an entity, an escape, autolinks, a mention, an issue
/// reference, a footnote, a terminal escape and a right-to-left override.
const HOSTILE: &str = "\n# injected heading\n`x``<script>alert(1)</script><img src=x onerror=alert(1)>\
    |[link](javascript:alert(1)) ![i](x) *em* _u_ ~~s~~ $x$ &amp; \\| <http://evil.example> \
    https://evil.example www.evil.example me@evil.example @team #1 [^1] \
    \r\n    indented\r\u{1b}[31m\u{202e}\u{9b}";

/// Leads every hostile string: a spreadsheet formula after a TAB, and what would start a
/// list, an ordered list or a block quote at the start of a line.
const LEAD: &str = "\t=1+1 - 1. > ";

fn taint(s: &mut String) {
    *s = format!("{LEAD}{s}{HOSTILE}");
}

fn taint_opt(s: &mut Option<String>) {
    if let Some(s) = s {
        taint(s);
    }
}

fn taint_reasons(reasons: &mut [Reason]) {
    for r in reasons {
        taint(&mut r.message);
    }
}

fn taint_service(s: &mut ServiceReport) {
    for text in [&mut s.namespace, &mut s.name] {
        taint(text);
    }
    for text in [
        &mut s.department,
        &mut s.pool,
        &mut s.shared_instance,
        &mut s.offering,
    ] {
        taint_opt(text);
    }
    taint_reasons(&mut s.reasons);
}

/// The report with every string that comes from input tainted; no string is added or
/// removed, so the document's shape must not change.
fn tainted(mut r: Report) -> Report {
    taint(&mut r.currency);
    let lc = &mut r.summary.level_check;
    lc.failures
        .iter_mut()
        .chain(&mut lc.instance_failures)
        .for_each(taint);
    taint(&mut lc.statement);
    for d in &mut r.departments {
        for text in [&mut d.name, &mut d.namespace] {
            taint(text);
        }
        for text in [&mut d.display_name, &mut d.code, &mut d.cost_centre] {
            taint_opt(text);
        }
        d.services.iter_mut().for_each(taint_service);
        for t in &mut d.tenancies {
            for text in [&mut t.service, &mut t.instance, &mut t.offering] {
                taint(text);
            }
            taint_opt(&mut t.pool);
        }
        taint_reasons(&mut d.reasons);
    }
    r.unowned_services.iter_mut().for_each(taint_service);
    for p in &mut r.pools {
        taint(&mut p.name);
        taint_reasons(&mut p.reasons);
    }
    for i in &mut r.shared_instances {
        for text in [&mut i.name, &mut i.offering] {
            taint(text);
        }
        taint_opt(&mut i.pool);
        for t in &mut i.tenants {
            taint(&mut t.service);
            taint_opt(&mut t.department);
        }
    }
    for f in &mut r.refusals {
        for text in [&mut f.name, &mut f.message] {
            taint(text);
        }
        taint_opt(&mut f.department);
    }
    for p in &mut r.policies {
        taint(&mut p.name);
        taint_reasons(&mut p.reasons);
    }
    r
}

fn parse(md: &str) -> Vec<Event<'_>> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_MATH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS;
    Parser::new_ext(md, options).collect()
}

/// The document's structure: every event but the text itself.
fn skeleton(md: &str) -> Vec<String> {
    parse(md)
        .into_iter()
        .filter_map(|e| match e {
            Event::Text(_) => None,
            Event::Code(_) => Some("Code".into()),
            e => Some(format!("{e:?}")),
        })
        .collect()
}

#[test]
fn hostile_text_cannot_change_the_markdown_documents_structure() {
    let (_, _, clean) = sample_report();
    let hostile = tainted(clean.clone());
    let (clean_md, hostile_md) = (
        render(&clean, Format::Markdown),
        render(&hostile, Format::Markdown),
    );
    let events = parse(&hostile_md);
    for e in &events {
        assert!(
            !matches!(
                e,
                Event::Html(_)
                    | Event::InlineHtml(_)
                    | Event::InlineMath(_)
                    | Event::DisplayMath(_)
                    | Event::Start(Tag::Link { .. } | Tag::Image { .. } | Tag::Strikethrough)
            ),
            "{e:?} from input text"
        );
    }
    // Every table row has the header's number of cells.
    let (mut head, mut cells) = (0, 0);
    for e in &events {
        match e {
            Event::Start(Tag::TableHead | Tag::TableRow) => cells = 0,
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableHead) => head = cells,
            Event::End(TagEnd::TableRow) => assert_eq!(cells, head, "a row keeps its columns"),
            _ => {}
        }
    }
    let headings = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Start(Tag::Heading { .. })))
            .count()
    };
    assert_eq!(headings(&events), headings(&parse(&clean_md)));
    assert_eq!(
        skeleton(&hostile_md),
        skeleton(&clean_md),
        "same blocks, cells, spans"
    );

    // And the text reads exactly as given, controls shown: in table cells, headings and
    // list items (escaped) and in code spans alike.
    let shown: String = format!("{LEAD}finance{HOSTILE}").chars().map(visible).collect();
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
            _ => None,
        })
        .collect();
    assert!(text.contains(&format!("{shown} — ")), "the department heading");
    let namespace: String = format!("{LEAD}dept-finance{HOSTILE}")
        .chars()
        .map(visible)
        .collect();
    assert!(text.contains(&namespace), "the namespace's code span");
    assert!(!hostile_md.contains('\r') && !hostile_md.contains('\u{1b}'));
}

/// Tag names in document order: text that escaped its escaping would add some.
fn tags(page: &str) -> Vec<&str> {
    page.match_indices('<')
        .filter_map(|(i, _)| {
            let rest = &page[i + 1..];
            rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!')
                .then(|| &rest[..rest.find([' ', '>', '\n']).unwrap_or(rest.len())])
        })
        .collect()
}

#[test]
fn hostile_text_cannot_change_the_html_pages_structure() {
    let (_, _, clean) = sample_report();
    let hostile = tainted(clean.clone());
    let (clean_page, page) = (render(&clean, Format::Html), render(&hostile, Format::Html));
    assert_eq!(tags(&page), tags(&clean_page));
    for raw in ["<script", "<img", "<a ", "onerror=alert(1)>"] {
        assert!(!page.contains(raw), "{raw}");
    }
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn hostile_text_cannot_start_a_spreadsheet_formula() {
    let (_, _, clean) = sample_report();
    let csv = render(&tainted(clean), Format::Csv);
    let rows = super::super::usage_file::csv_records(&csv).expect("valid RFC 4180");
    let text_columns = [
        "department",
        "department_display_name",
        "department_code",
        "cost_centre",
        "namespace",
        "service",
        "pool",
        "shared_instance",
        "offering",
        "reason_messages",
    ];
    let col = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
    let mut checked = 0;
    for (line, row) in &rows[1..] {
        assert_eq!(row.len(), CSV_COLUMNS.len(), "line {line}");
        for name in text_columns {
            let cell = &row[col(name)];
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "line {line}, {name}: {cell:?}"
            );
            if !cell.is_empty() {
                assert!(
                    cell.starts_with(&format!("'{LEAD}")),
                    "line {line}, {name}: {cell:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} hostile cells");
}
