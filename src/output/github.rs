//! `--format github`: workflow-command annotations for GitHub Actions.
//!
//! GitHub shows at most 10 error and 10 warning annotations per step, so errors come first,
//! at most ten of each kind are annotated, and a final `::notice` says how many were not.
//! Every finding is also printed as a plain log line, and, when `GITHUB_STEP_SUMMARY` is
//! set, appended to the job summary as a Markdown table.

use crate::lint::{Diagnostic, FileReport, Severity};
use crate::rules::Side;

/// GitHub's per-step display limit for each annotation type.
pub const ANNOTATION_LIMIT: usize = 10;

/// Escapes the message part of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(reports: &[FileReport]) -> String {
    let mut all: Vec<&Diagnostic> = reports.iter().flat_map(|r| &r.diagnostics).collect();
    // Stable: within a severity the findings keep their file and position order.
    all.sort_by_key(|d| std::cmp::Reverse(d.severity));
    let mut out = String::new();
    let (mut errors, mut warnings, mut skipped) = (0, 0, 0);
    for d in &all {
        let count = match d.severity {
            Severity::Error => &mut errors,
            Severity::Warning => &mut warnings,
        };
        *count += 1;
        out.push_str(&log_line(d));
        if *count > ANNOTATION_LIMIT {
            skipped += 1;
            continue;
        }
        // GitHub's workflow commands are named like the severities.
        let command = d.severity.as_str();
        out.push_str(&format!(
            "::{command} {},title={}::{}\n",
            location_properties(d),
            escape_property(&title(d)),
            escape_data(&annotation_message(d))
        ));
    }
    if skipped > 0 {
        out.push_str(&format!(
            "::notice title=runqlint::{skipped} more finding{} not annotated (GitHub shows at most {ANNOTATION_LIMIT} errors and {ANNOTATION_LIMIT} warnings per step); all {} are listed in the log above{}\n",
            if skipped == 1 { " was" } else { "s were" },
            all.len(),
            if std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|f| !f.is_empty()) { " and in the job summary" } else { "" }
        ));
    }
    let s = super::Summary::of(reports);
    out.push_str(&format!(
        "runqlint: {} error(s), {} warning(s)\n",
        s.errors, s.warnings
    ));
    out
}

/// `runqlint RULE`, and for `audit` the commit that introduced the finding (the annotated
/// lines are that commit's version's).
fn title(d: &Diagnostic) -> String {
    match &d.commit {
        Some(c) => format!(
            "runqlint {} (commit {})",
            d.rule.name(),
            crate::history::short(c)
        ),
        None => format!("runqlint {}", d.rule.name()),
    }
}

/// The plain log line for a finding: `path:line:col: severity [rule] message`. It never
/// starts with `::` (after blanks, which the runner skips), so a hostile path cannot smuggle
/// in a workflow command: such a path is shown as `./path`.
fn log_line(d: &Diagnostic) -> String {
    let mut path = crate::text::escape(&d.path);
    if path.trim_start().starts_with(':') || path.starts_with(char::is_whitespace) {
        path = format!("./{path}");
    }
    let at = d
        .commit
        .as_ref()
        .map(|c| format!(" (commit {})", crate::history::short(c)))
        .unwrap_or_default();
    format!(
        "{path}:{}:{}: {} [{}]{at} {}\n",
        d.location.line,
        d.location.column,
        d.severity.as_str(),
        d.rule.name(),
        crate::text::escape(&d.message)
    )
}

/// `file=…,line=…` and as much of the range as GitHub accepts: columns only for a range on
/// one line (the annotations API rejects columns on a multi-line range). A finding located
/// in the base version (the file was deleted) names only the file: its line numbers are not
/// the checked version's.
fn location_properties(d: &Diagnostic) -> String {
    let l = &d.location;
    let file = format!("file={}", escape_property(&d.path));
    if l.side == Side::Base {
        return file;
    }
    if l.end_line == l.line {
        format!(
            "{file},line={},col={},endLine={},endColumn={}",
            l.line,
            l.column,
            l.end_line,
            l.end_column.max(l.column)
        )
    } else {
        format!("{file},line={},endLine={}", l.line, l.end_line)
    }
}

/// The message and its help on a second line; item text is already quoted by the rules,
/// and anything a log viewer could interpret is escaped here as well.
fn annotation_message(d: &Diagnostic) -> String {
    let message = crate::text::escape(&d.message);
    match &d.help {
        Some(help) => format!("{message}\n{}", crate::text::escape(help)),
        None => message,
    }
}

/// The job-summary table (Markdown) for every finding.
pub fn step_summary(reports: &[FileReport]) -> String {
    let s = super::Summary::of(reports);
    let mut out = format!(
        "### runqlint: {} error(s), {} warning(s)\n\n",
        s.errors, s.warnings
    );
    if s.errors + s.warnings == 0 {
        out.push_str("No findings.\n");
        return out;
    }
    out.push_str("| severity | rule | location | item | message |\n|---|---|---|---|---|\n");
    for d in reports.iter().flat_map(|r| &r.diagnostics) {
        out.push_str(&format!(
            "| {} | `{}` | {}:{}:{} | {} | {} |\n",
            d.severity.as_str(),
            d.rule.name(),
            md(&d.path),
            d.location.line,
            d.location.column,
            d.item_id
                .as_deref()
                .map(|i| md(&crate::text::quote(i)))
                .unwrap_or_default(),
            md(&d.message)
        ));
    }
    out
}

/// Escapes text for a Markdown table cell: no HTML, no cell breaks, no code spans.
fn md(s: &str) -> String {
    crate::text::escape(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('`', "\\`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_command_data_and_properties() {
        assert_eq!(
            escape_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
        assert_eq!(
            escape_property("q,1:x%\r\n.json"),
            "q%2C1%3Ax%25%0D%0A.json"
        );
        // `%` first: an already-escaped-looking input is not decoded later.
        assert_eq!(escape_property("%3A"), "%253A");
    }
}
