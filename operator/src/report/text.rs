//! Cells, money and shares as the report's documents read them, and Markdown escaping.
//!
//! Cores, memory and percentages are `crate::units`, the same as `govcloud plan --output
//! table` prints, so that the report and the plan read the same. Money gets thousands
//! separators here because reports are read, not diffed.

use super::model::{Report, Source, UsageOrigin};
use super::table::Cell;
use crate::units::{cores, cores_f64, memory, percent, visible};

/// A cell as the report's documents read it (plain text: the format escapes it). HTML
/// shows the level check and reasons its own way; every other kind reads the same in
/// Markdown and HTML.
pub fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(t) | Cell::Long(t) => t.clone(),
        Cell::Count(n) => n.to_string(),
        Cell::Cores(millis) => cores(*millis),
        Cell::CoresF64(c) => cores_f64(*c),
        Cell::Memory(bytes) => memory(*bytes),
        Cell::Money(m) => money(*m),
        Cell::Percent(r) => percent(*r),
        Cell::Share(s) => s.map_or_else(|| "-".into(), share),
        Cell::Level(l) => l.map_or_else(|| "-".into(), |l| l.to_string()),
        Cell::Phase(p) => p.as_str().into(),
        Cell::Check(s) => s.mark().into(),
        Cell::Reasons(reasons) if reasons.is_empty() => "-".into(),
        Cell::Reasons(reasons) => {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            codes.join(", ")
        }
        Cell::OfWhole(amount, ratio) => format!("{} ({})", cell(amount), percent(*ratio)),
        Cell::Fraction(part, whole, None) => format!("{} / {}", cell(part), cell(whole)),
        Cell::Fraction(part, whole, Some(ratio)) => {
            format!("{} / {} ({})", cell(part), cell(whole), percent(*ratio))
        }
        Cell::NotMeasured => "not measured".into(),
        Cell::Absent => "-".into(),
    }
}

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

/// Text for an inline position of a Markdown document (a table cell, a heading, a list
/// item: always after something on its line), shown exactly as given. Backslash-escaped
/// are the characters that can open an inline construct anywhere in a line in CommonMark,
/// GFM or GitHub's renderer: `\\`, `` ` ``, `*`, `_`, `[`, `]`, `|`, `~`, `#` (issue
/// references), `$` (math), `@` (mentions, e-mail links), `^`, `{`, `}`; `:` before `//`
/// and `.` after a word `www`, so that no autolink forms. `&`, `<` and `>` become
/// entities, so that no HTML forms; controls show as [`visible`], so the text cannot end
/// its line (and so cannot start a block). `-`, `.`, `,`, `/`, `:`, `(`, `)`, `!`, `+`,
/// `=`, quotes and the like open nothing in the middle of a line and stay as they are,
/// so that names and messages read plainly in the Markdown source too.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '$' | '@' | '^' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            ':' if rest.starts_with("//") => out.push_str("\\:"),
            '.' if ends_with_word_www(&out) => out.push_str("\\."),
            c => out.push(visible(c)),
        }
    }
    out
}

/// Whether `s` ends with the word `www` (any case), where an extended autolink starts.
fn ends_with_word_www(s: &str) -> bool {
    let Some(head) = s.len().checked_sub(3).and_then(|i| s.get(..i)) else {
        return false;
    };
    s[head.len()..].eq_ignore_ascii_case("www") && !head.ends_with(|c: char| c.is_alphanumeric())
}

/// Text as a Markdown code span, shown exactly as given (controls as [`visible`]): the
/// fence is one backtick longer than the longest run of backticks in the text, and a
/// space pads a text that starts or ends with a backtick or space, which CommonMark
/// strips again. Not for table cells, where GFM splits a code span at `|`.
pub fn code_span(text: &str) -> String {
    let shown: String = text.chars().map(visible).collect();
    let mut longest = 0;
    let mut run = 0;
    for c in shown.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let edge = |c: Option<char>| matches!(c, Some('`' | ' '));
    let all_spaces = shown.chars().all(|c| c == ' ');
    let pad = if !all_spaces && (edge(shown.chars().next()) || edge(shown.chars().last())) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{shown}{pad}{fence}")
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
    fn controls_show_instead_of_acting() {
        assert_eq!(visible('\n'), '␊');
        assert_eq!(visible('\r'), '␍');
        assert_eq!(visible('\t'), '␉');
        assert_eq!(visible('\x1b'), '␛');
        assert_eq!(visible('\x7f'), '␡');
        assert_eq!(
            visible('\u{9b}'),
            '\u{fffd}',
            "the C1 control sequence introducer"
        );
        assert_eq!(visible('\u{202e}'), '\u{fffd}', "right-to-left override");
        assert_eq!(visible('\u{2028}'), '\u{fffd}', "line separator");
        assert_eq!(visible('é'), 'é');
    }

    #[test]
    fn markdown_cells_cannot_split_a_row_or_start_markup() {
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("two\nlines"), "two␊lines");
        assert_eq!(markdown("<b>*x*</b> & co"), "&lt;b&gt;\\*x\\*&lt;/b&gt; &amp; co");
        assert_eq!(
            markdown("dept-finance/ledger (1.2, a: b)"),
            "dept-finance/ledger (1.2, a: b)"
        );
        assert_eq!(markdown("[x](javascript:y)"), "\\[x\\](javascript:y)");
        assert_eq!(markdown("\\`~#$@^{}"), "\\\\\\`\\~\\#\\$\\@\\^\\{\\}");
        assert_eq!(markdown("see https://x.example"), "see https\\://x.example");
        assert_eq!(markdown("WWW.x and awww.y"), "WWW\\.x and awww.y");
        assert_eq!(markdown("Ünïcode"), "Ünïcode");
    }

    #[test]
    fn code_spans_hold_any_run_of_backticks() {
        assert_eq!(code_span("dept-finance"), "`dept-finance`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("``x"), "``` ``x ```");
        assert_eq!(code_span("x\n# h"), "`x␊# h`");
        assert_eq!(code_span(" x "), "`  x  `", "padded, so the spaces survive");
        assert_eq!(code_span("  "), "`  `");
    }
}
