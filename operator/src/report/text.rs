//! Money, shares and escaping for each output format, as auditors read them.
//!
//! Cores, memory and percentages are `crate::units`, the same as `govcloud plan --output
//! table` prints, so that the report and the plan read the same. Money gets thousands
//! separators here because reports are read, not diffed.

use super::model::{Report, Source, UsageOrigin};

/// Where the usage came from and when it was measured, for the header after "usage"
/// (plain text: callers escape it). Auditors weigh a figure by its source: a file's
/// sample is exact and of one moment; statuses are rounded, each of its own time.
pub fn usage_origin(r: &Report) -> String {
    let at = r.usage_at.as_deref();
    match r.usage_origin {
        None if r.source == Source::Cluster => {
            "not measured (no --usage file, and no status shows used)".into()
        }
        None => "not measured (no --usage file)".into(),
        Some(UsageOrigin::File) => format!(
            "from the --usage file, sampled at {}",
            at.unwrap_or("an unrecorded time")
        ),
        Some(UsageOrigin::Statuses) => {
            let when = match (at, r.usage_until.as_deref()) {
                (Some(oldest), Some(newest)) if oldest != newest => {
                    format!("measured between {oldest} and {newest}")
                }
                (Some(at), _) => format!("measured at {at}"),
                (None, _) => "measured at times no status records".into(),
            };
            format!(
                "from the operator's statuses, {when} (rounded to two significant digits, as \
                 statuses show it)"
            )
        }
    }
}

/// Money with two decimals and thousands separators: `28,686.08`, `-3.50`.
pub fn money(amount: f64) -> String {
    let fixed = format!("{:.2}", amount.abs());
    let (whole, frac) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    // "-0.00" would read as a debt of nothing.
    let sign = if amount < 0.0 && fixed != "0.00" { "-" } else { "" };
    format!("{sign}{grouped}.{frac}")
}

/// A tenant's share of an instance (1 / seats) as a fraction: `1/4`.
pub fn share(fraction: f64) -> String {
    if fraction > 0.0 {
        format!("1/{}", (1.0 / fraction).round())
    } else {
        "-".into()
    }
}

/// Text for HTML element content and attribute values: the five characters that can
/// end an element or an attribute are replaced by entities.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, with quotes
/// doubled. A field starting with `=`, `+`, `-` or `@` is prefixed with `'` so that a
/// spreadsheet opening the file shows it instead of evaluating it as a formula
/// (messages quote user-supplied names); numbers are written by the caller unprefixed.
pub fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// Text for a Markdown table cell: characters with Markdown or inline-HTML meaning are
/// backslash-escaped, and line breaks (which would end the row) become spaces.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_read_as_fractions() {
        assert_eq!(share(0.25), "1/4");
        assert_eq!(share(0.125), "1/8");
        assert_eq!(share(0.0), "-");
    }

    #[test]
    fn money_has_thousands_separators_and_no_negative_zero() {
        assert_eq!(money(28686.08), "28,686.08");
        assert_eq!(money(1234567.891), "1,234,567.89");
        assert_eq!(money(999.999), "1,000.00");
        assert_eq!(money(0.0), "0.00");
        assert_eq!(money(-0.001), "0.00");
        assert_eq!(money(-3.5), "-3.50");
        assert_eq!(money(100.0), "100.00");
    }

    #[test]
    fn html_escapes_every_character_that_could_break_out() {
        assert_eq!(
            html(r#"<script>alert("x&y")</script> it's"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; it&#39;s"
        );
        assert_eq!(html("plain text"), "plain text");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed_and_formulas_are_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn markdown_cells_cannot_split_a_row_or_start_markup() {
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("two\nlines"), "two lines");
        assert_eq!(markdown("<b>*x*</b>"), "\\<b\\>\\*x\\*\\</b\\>");
        assert_eq!(markdown("dept-finance/ledger"), "dept-finance/ledger");
    }
}
