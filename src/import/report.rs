//! An import report in words, for the terminal and for pages.

use super::{ImportReport, Problem};
use crate::i18n::Lang;

/// One line per problem: "line 12, amount: The amount has more than 2 decimal places."
pub fn problem_line(lang: Lang, p: &Problem) -> String {
    let message = lang.t_args(&format!("error.{}", p.code), &p.args);
    // Read through a profile, a field is named as the file calls it, then as we do.
    let source = p.args.iter().find(|(k, _)| *k == "source").map(|(_, v)| v.clone()).filter(|s| !s.is_empty());
    let place = match (p.line, p.column) {
        (0, _) => String::new(),
        (line, Some(column)) if source.is_some() => lang.t_args(
            "import.place_source",
            &[("line", line.to_string()), ("column", column.into()), ("source", source.unwrap_or_default())],
        ),
        (line, None) if source.is_some() => {
            lang.t_args("import.place_column", &[("line", line.to_string()), ("column", source.unwrap_or_default())])
        }
        (line, Some(column)) => {
            lang.t_args("import.place_column", &[("line", line.to_string()), ("column", column.into())])
        }
        (line, None) => lang.t_args("import.place_line", &[("line", line.to_string())]),
    };
    if place.is_empty() { message } else { format!("{place}: {message}") }
}

/// The whole report as plain text.
pub fn as_text(lang: Lang, r: &ImportReport) -> String {
    let mut out = String::new();
    let verdict = if r.accepted { "import.accepted" } else { "import.rejected" };
    out.push_str(&lang.t_args(verdict, &[("file", r.file_name.clone())]));
    out.push('\n');
    out.push_str(&lang.t_args(
        "import.counts",
        &[
            ("rows", r.rows.to_string()),
            ("inserted", r.inserted.to_string()),
            ("unchanged", r.unchanged.to_string()),
            ("conflicting", r.conflicting.to_string()),
            ("bad", r.bad_rows.to_string()),
        ],
    ));
    out.push('\n');
    if let Some(p) = &r.file_problem {
        out.push_str(&problem_line(lang, p));
        out.push('\n');
    }
    for p in &r.problems {
        out.push_str(&problem_line(lang, p));
        out.push('\n');
    }
    for c in &r.conflicts {
        out.push_str(&lang.t_args("import.conflict", &[("line", c.line.to_string()), ("key", c.key.clone())]));
        out.push('\n');
    }
    if r.problems.len() as u64 + u64::from(r.file_problem.is_some()) < r.bad_rows {
        out.push_str(&lang.t_args("import.more_problems", &[("n", r.bad_rows.to_string())]));
        out.push('\n');
    }
    out
}
