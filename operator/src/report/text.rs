//! Amounts as auditors read them, and escaping for each output format.
//!
//! The figures mirror `govcloud plan --output table` (cores with up to two decimals,
//! memory in binary units, whole percentages) so that the report and the plan read the
//! same; the CLI's own helpers are private to it, and the report must not depend on the
//! CLI. Money gets thousands separators here because reports are read, not diffed.

const KI: i64 = 1 << 10;
const MI: i64 = 1 << 20;
const GI: i64 = 1 << 30;

/// `value / unit` rounded half up to two decimals, trailing zeros dropped.
fn two_decimals(value: i64, unit: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let hundredths = (i128::from(value).abs() * 100 + i128::from(unit) / 2) / i128::from(unit);
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// Millicores as cores: `1.5`, `2`, `0.25`.
pub fn cores(millis: i64) -> String {
    two_decimals(millis, 1000)
}

/// Cores given as a float (quotas in the plan schema).
pub fn cores_f64(cores: f64) -> String {
    self::cores((cores * 1000.0).round() as i64)
}

/// Bytes in the largest binary unit below them: `64Gi`, `1.5Gi`, `512Mi`.
pub fn memory(bytes: i64) -> String {
    let unit = match bytes.abs() {
        0 => return "0".into(),
        b if b >= GI => (GI, "Gi"),
        b if b >= MI => (MI, "Mi"),
        b if b >= KI => (KI, "Ki"),
        _ => return bytes.to_string(),
    };
    format!("{}{}", two_decimals(bytes, unit.0), unit.1)
}

/// A ratio as a whole percentage: `63%`.
pub fn percent(ratio: f64) -> String {
    format!("{:.0}%", ratio * 100.0)
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
    fn amounts_read_like_the_plan_table() {
        assert_eq!(cores(1500), "1.5");
        assert_eq!(cores(2000), "2");
        assert_eq!(cores(1005), "1.01");
        assert_eq!(cores_f64(12.5), "12.5");
        assert_eq!(memory(0), "0");
        assert_eq!(memory(64 * GI), "64Gi");
        assert_eq!(memory(GI + GI / 2), "1.5Gi");
        assert_eq!(memory(512 * MI), "512Mi");
        assert_eq!(memory(512), "512");
        assert_eq!(percent(0.6254), "63%");
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
