//! `--output markdown`: the assessment as a document for the budget office, its tables
//! rendered as the report renders its own.

use std::fmt::Write;

use super::sections::sections;
use super::summary::{self, Counts};
use crate::assess::Assessment;
use crate::report::markdown::table;
use crate::report::text::markdown as md;

pub fn markdown(a: &Assessment, currency: &str) -> String {
    let mut out = String::from("# govcloud consolidation assessment\n\n");
    let _ = writeln!(
        out,
        "{} Money in {} a year.\n",
        md(&summary::basis(a)),
        md(currency)
    );
    out.push_str("## Summary\n\n");
    let c = md(currency);
    let bullets = [
        ("Servers", Counts::of(a).sentence()),
        ("Servers → nodes", summary::nodes(a)),
        ("Cores provisioned", summary::cores(a)),
        ("Memory provisioned", summary::memory_provisioned(a)),
        ("Mean CPU utilisation", summary::cpu_utilisation(a)),
        ("Mean memory utilisation", summary::memory_utilisation(a)),
        ("Shared systems", summary::sharing(a)),
    ];
    for (what, figure) in &bullets {
        let _ = writeln!(out, "- **{what}:** {}", md(figure));
    }
    let _ = writeln!(out, "- **Yearly cost ({c}):** {}", md(&summary::cost(a)));
    out.push('\n');
    for s in sections(a, currency) {
        let _ = writeln!(out, "## {}\n", s.title);
        table(&s.table, &mut out);
        for note in &s.notes {
            let _ = writeln!(out, "{}\n", md(note));
        }
    }
    out
}
