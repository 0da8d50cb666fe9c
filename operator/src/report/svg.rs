//! Horizontal grouped bar charts as inline SVG: drawn by the report itself so that the
//! HTML page needs no script, font or image from anywhere.

use std::fmt::Write;

/// One kind of bar in every group (quota, allocated, used, …).
#[derive(Clone, Copy, Debug)]
pub struct Series {
    pub name: &'static str,
    pub colour: &'static str,
}

/// One labelled group of bars, a value per series (`None`: not measured, no bar).
#[derive(Clone, Debug)]
pub struct Group {
    pub label: String,
    pub values: Vec<Option<f64>>,
    /// Printed after each bar.
    pub texts: Vec<String>,
    /// A tick across the group at this value (a pool's target utilisation).
    pub marker: Option<f64>,
}

/// Text for HTML element content and attribute values: the five characters that can
/// end an element or an attribute are replaced by entities.
fn esc(text: &str) -> String {
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

const WIDTH: f64 = 600.0;
const LABEL: f64 = 170.0;
const TEXT: f64 = 120.0;
const BAR: f64 = 11.0;
const GAP: f64 = 3.0;
const GROUP_GAP: f64 = 12.0;
const TOP: f64 = 30.0;

/// A chart of `groups`, bars scaled to `max` (the largest value when `None`).
pub fn bars(title: &str, series: &[Series], groups: &[Group], max: Option<f64>) -> String {
    let largest = groups
        .iter()
        .flat_map(|g| g.values.iter().flatten().copied())
        .fold(0.0_f64, f64::max);
    let max = max.unwrap_or(largest).max(largest);
    let plot = WIDTH - LABEL - TEXT;
    let scale = |v: f64| if max > 0.0 { (v / max * plot).max(0.0) } else { 0.0 };
    let rows = series.len() as f64;
    let group_height = rows * BAR + (rows - 1.0) * GAP;
    let height = TOP + groups.len() as f64 * (group_height + GROUP_GAP) + 4.0;

    let mut s = String::new();
    let _ = write!(
        s,
        // Scales with its container (the viewBox keeps the proportions); the page lays
        // the charts out side by side when the window is wide enough.
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(s, "<title>{}</title>", esc(title));
    // Legend along the top.
    let mut x = LABEL;
    for se in series {
        let _ = write!(
            s,
            r#"<rect x="{x}" y="6" width="12" height="12" rx="2" fill="{}"/><text x="{}" y="16" class="legend">{}</text>"#,
            se.colour,
            x + 16.0,
            esc(se.name)
        );
        x += 24.0 + 7.0 * se.name.chars().count() as f64;
    }
    let _ = write!(
        s,
        r##"<line x1="{LABEL}" y1="{}" x2="{LABEL}" y2="{}" stroke="#94a3b8"/>"##,
        TOP - 4.0,
        height - 4.0
    );
    for (gi, g) in groups.iter().enumerate() {
        let y0 = TOP + gi as f64 * (group_height + GROUP_GAP);
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" class="label" text-anchor="end">{}</text>"#,
            LABEL - 8.0,
            y0 + group_height / 2.0 + 4.0,
            esc(&g.label)
        );
        // The marker first, so that bars and their figures are drawn over it.
        if let Some(m) = g.marker {
            let x = LABEL + scale(m);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#0f172a" stroke-width="2" stroke-dasharray="3 2"/>"##,
                y0 - 2.0,
                y0 + group_height + 2.0
            );
        }
        for (si, se) in series.iter().enumerate() {
            let y = y0 + si as f64 * (BAR + GAP);
            let text = g.texts.get(si).map(String::as_str).unwrap_or_default();
            match g.values.get(si).copied().flatten() {
                Some(v) => {
                    let w = scale(v);
                    let _ = write!(
                        s,
                        r#"<rect x="{LABEL}" y="{y}" width="{w:.1}" height="{BAR}" fill="{}"><title>{}: {}</title></rect>"#,
                        se.colour,
                        esc(se.name),
                        esc(text)
                    );
                    let _ = write!(
                        s,
                        r#"<text x="{:.1}" y="{}" class="value">{}</text>"#,
                        LABEL + w + 4.0,
                        y + BAR - 2.0,
                        esc(text)
                    );
                }
                None => {
                    let _ = write!(
                        s,
                        r#"<text x="{}" y="{}" class="value muted">{}</text>"#,
                        LABEL + 4.0,
                        y + BAR - 2.0,
                        esc(if text.is_empty() { "not measured" } else { text })
                    );
                }
            }
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_every_character_that_could_break_out() {
        assert_eq!(
            esc(r#"<script>alert("x&y")</script> it's"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt; it&#39;s"
        );
        assert_eq!(esc("plain text"), "plain text");
    }

    #[test]
    fn bars_scale_to_the_largest_value_and_escape_labels() {
        let svg = bars(
            "CPU <cores>",
            &[
                Series {
                    name: "quota",
                    colour: "#cbd5e1",
                },
                Series {
                    name: "used",
                    colour: "#f59e0b",
                },
            ],
            &[
                Group {
                    label: "a&b".into(),
                    values: vec![Some(10.0), None],
                    texts: vec!["10".into(), String::new()],
                    marker: Some(5.0),
                },
                Group {
                    label: "c".into(),
                    values: vec![Some(5.0), Some(2.5)],
                    texts: vec!["5".into(), "2.5".into()],
                    marker: None,
                },
            ],
            None,
        );
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{svg}"
        );
        assert!(svg.contains("<title>CPU &lt;cores&gt;</title>"), "{svg}");
        assert!(svg.contains(">a&amp;b</text>"), "{svg}");
        let plot = WIDTH - LABEL - TEXT;
        assert!(
            svg.contains(&format!("width=\"{plot:.1}\"")),
            "the largest bar fills the plot: {svg}"
        );
        assert!(svg.contains(&format!("width=\"{:.1}\"", plot / 2.0)), "{svg}");
        assert!(svg.contains("not measured"), "a missing value says so: {svg}");
        assert!(svg.contains("stroke-dasharray"), "the marker is drawn: {svg}");
        assert!(svg.ends_with("</svg>"));
    }
}
