//! Hostile text in every string of the report, and absurd rates: the documents keep
//! their structure and every figure stays a number.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use super::*;
use crate::api::Cost;
use crate::synthetic::{EstateShape, department, estate, pool, workload};
use crate::units::visible;

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

/// Keys whose value may be null in the report or plan JSON: absent measurements and
/// optional references, never a figure.
const NULLABLE: [&str; 20] = [
    "usageOrigin",
    "usageAt",
    "usageUntil",
    "used",
    "unattributedPods",
    "displayName",
    "code",
    "costCentre",
    "department",
    "pool",
    "poolSecurityLevel",
    "sharedInstance",
    "offering",
    "instanceShare",
    "usedOfQuota",
    "usedUtilisation",
    "rates",
    "workload",
    "movedFrom",
    "deletion",
];

/// Every null in `v` is under a nullable key: a non-finite figure serialises as null.
/// Refused rates are not echoed into `pools[].rates`, so no rate is ever null.
fn assert_figures_are_numbers(v: &Value, key: &str) {
    match v {
        Value::Null => assert!(NULLABLE.contains(&key), "{key} is null: not a finite number"),
        Value::Array(items) => items.iter().for_each(|x| assert_figures_are_numbers(x, key)),
        Value::Object(map) => map.iter().for_each(|(k, x)| assert_figures_are_numbers(x, k)),
        _ => {}
    }
}

/// No word of `text` is `inf` or `NaN`, as `format!` writes non-finite numbers, except
/// where a refusal quotes the rate given (`spec.cost.cpuCoreHour: NaN is not a number`).
fn assert_no_non_finite(text: &str, what: &str) {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let quoted = i > 0 && matches!(words[i - 1], "cpuCoreHour" | "memoryGiBHour");
        assert!(
            quoted || !matches!(*w, "inf" | "NaN"),
            "{what} prints a non-finite number: {:?}",
            &words[i.saturating_sub(5)..(i + 5).min(words.len())]
        );
    }
}

fn every_output_is_finite(s: &Snapshot) -> Plan {
    let p = plan(s, &Assignments::default());
    assert_figures_are_numbers(&serde_json::to_value(&p).unwrap(), "");
    assert_no_non_finite(&crate::cli::table(&p), "the plan table");
    let r = build(s, &p, None);
    assert_figures_are_numbers(&serde_json::to_value(&r).unwrap(), "");
    for f in [Format::Markdown, Format::Csv, Format::Html] {
        assert_no_non_finite(&render(&r, f), &format!("{f:?}"));
    }
    p
}

#[test]
fn at_the_maximum_rate_a_large_estate_costs_a_finite_amount() {
    let mut s = estate(
        7,
        EstateShape {
            services: 2_000,
            ..EstateShape::BENCHMARK
        },
    );
    // And one pool and department as large as quantities go, full to the brim, on
    // nodes of one core so that the node counts are huge too.
    let mut huge = pool("huge", 3, "4000000000", "4000Pi");
    huge.spec.node_shape = Some(ResourceAmounts {
        cpu: "1".into(),
        memory: "1Gi".into(),
    });
    s.pools.push(huge);
    s.departments
        .push(department("giant", 3, "4000000000", "4000Pi", 10));
    s.services
        .push(workload("dept-giant", "everything", 3, 2, "1000000000", "1000Pi"));
    for p in &mut s.pools {
        p.spec.cost = Some(Cost {
            cpu_core_hour: 1e6,
            memory_gib_hour: 1e6,
        });
    }
    let p = every_output_is_finite(&s);
    let giant = p.services.iter().find(|x| x.name == "everything").unwrap();
    assert_eq!(giant.pool.as_deref(), Some("huge"), "{:?}", giant.reasons);
    assert!(p.savings.monthly_cost_consolidated > 3e18, "{:?}", p.savings);
    assert!(p.pools.iter().all(|x| x.reasons.is_empty()));
}

#[test]
fn absurd_rates_are_refused_naming_the_field_and_price_nothing() {
    let mut s = Snapshot::default();
    let cases = [
        (
            "a",
            1e308,
            0.0,
            "spec.cost.cpuCoreHour: 1e308 is above the maximum rate 1000000",
        ),
        (
            "b",
            0.0,
            f64::INFINITY,
            "spec.cost.memoryGiBHour: inf is above the maximum rate 1000000",
        ),
        ("c", f64::NAN, 0.0, "spec.cost.cpuCoreHour: NaN is not a number"),
        ("d", -1.0, 0.0, "spec.cost.cpuCoreHour: -1.0 is negative"),
        (
            "e",
            1_000_001.0,
            0.0,
            "spec.cost.cpuCoreHour: 1000001.0 is above the maximum rate 1000000",
        ),
    ];
    for (name, cpu, memory, _) in &cases {
        let mut p = pool(name, 1, "8", "32Gi");
        p.spec.cost = Some(Cost {
            cpu_core_hour: *cpu,
            memory_gib_hour: *memory,
        });
        s.pools.push(p);
    }
    let mut fine = pool("z", 1, "8", "32Gi");
    fine.spec.cost = Some(Cost {
        cpu_core_hour: 1e6,
        memory_gib_hour: 0.0,
    });
    s.pools.push(fine);
    s.departments.push(department("d", 1, "8", "32Gi", 4));
    s.services.push(workload("dept-d", "w", 1, 1, "1", "1Gi"));
    let p = every_output_is_finite(&s);
    for (name, _, _, reason) in cases {
        let pool = p.pools.iter().find(|x| x.name == name).unwrap();
        let messages: Vec<&str> = pool.reasons.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, [reason]);
        assert_eq!(pool.reasons[0].code, ReasonCode::InvalidSpec);
        assert_eq!(pool.monthly_cost, 0.0);
    }
    assert_eq!(p.services[0].pool.as_deref(), Some("z"));
    assert_eq!(p.savings.monthly_cost_consolidated, 730e6);
}
