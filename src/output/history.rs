//! `log` and `audit` output.

use serde_json::{json, Value};

use crate::history::{Change, Commit};
use crate::lint::FileReport;
use crate::text::escape;

use super::{Format, ReportFormat, Summary};

/// The item's events, oldest first.
pub struct Timeline {
    pub id: String,
    pub path: String,
    pub events: Vec<Event>,
    /// Where a shallow clone's history of the file is cut: commit, the file's name there.
    pub cuts: Vec<(String, String)>,
}

/// What happened to the item in one commit.
pub struct Event {
    pub commit: Commit,
    /// The file's name in that commit.
    pub path: String,
    pub kind: Kind,
    /// `status` after the commit; `None` once the item is gone.
    pub status: Option<String>,
    pub previous_status: Option<String>,
    pub changes: Vec<FieldChange>,
    /// The receipt of a `fix` commit, parsed back from its trailers.
    pub receipt: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    /// Already there where a shallow clone's history is cut: when it was added is unknown.
    Present,
    Changed,
    Removed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Present => "present",
            Kind::Changed => "changed",
            Kind::Removed => "removed",
        }
    }
}

/// One field of the item that changed: `run.finishedAtMs`, old → new (`None`: absent).
pub struct FieldChange {
    pub field: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// The report of one commit's new findings.
pub struct CommitReport {
    pub change: Change,
    pub report: FileReport,
}

/// Where a shallow clone's history of the file is cut.
pub struct Cut {
    pub commit: String,
    /// The file's name in that commit.
    pub path: String,
    /// The findings of its version, which may be older than the commit: not blamed on it.
    pub findings: usize,
}

/// What `commands::audit::audit` found.
pub struct Audit {
    pub reports: Vec<CommitReport>,
    pub cuts: Vec<Cut>,
}

/// `git log`-style header of a commit; every field from git is escaped.
fn commit_header(c: &Commit) -> String {
    format!(
        "commit {}\nAuthor: {}\nDate:   {}\n\n    {}\n",
        escape(&c.id),
        escape(&c.author),
        escape(&c.date),
        escape(&c.subject)
    )
}

/// The one line that says where a shallow clone's history of `path` is cut, and (for
/// `audit`) how many findings of the versions there are blamed on no commit.
pub fn cut_note(path: &str, commits: &[String], findings: Option<usize>) -> String {
    let at: Vec<&str> = commits.iter().map(|c| crate::history::short(c)).collect();
    let unblamed = match findings {
        Some(0) | None => String::new(),
        Some(n) => format!(
            "; {n} {} already there {} blamed on no commit",
            if n == 1 { "finding" } else { "findings" },
            if n == 1 { "is" } else { "are" }
        ),
    };
    format!(
        "runqlint: note: the history of {} is cut at {} (shallow clone: the commits before {} were not fetched){unblamed}; `git fetch --unshallow` fetches the rest",
        escape(path),
        escape(&at.join(", ")),
        if at.len() == 1 { "it" } else { "them" },
    )
}

/// The commits where the history is cut, for the JSON formats: `{"commit", "path"}`, and
/// for `audit` `"findings"`, the number of findings there blamed on no commit.
fn cuts_json(audit: &Audit) -> Value {
    audit
        .cuts
        .iter()
        .map(|c| json!({"commit": c.commit, "path": c.path, "findings": c.findings}))
        .collect()
}

/// `audit`: the new findings of each commit, in the format asked for.
pub fn render_audit(format: Format, path: &str, total: usize, audit: &Audit) -> String {
    let reports = &audit.reports;
    let files: Vec<FileReport> = reports.iter().map(|r| r.report.clone()).collect();
    match format {
        Format::Human => {}
        Format::Json if !audit.cuts.is_empty() => {
            let mut v = super::json::value(&files);
            v["historyCut"] = cuts_json(audit);
            return super::json::finish(&v);
        }
        Format::Sarif if !audit.cuts.is_empty() => {
            // A condition of the run, not a result: a notification of its invocation.
            let mut v = super::sarif::document(&files);
            let note = cut_note(
                path,
                &audit
                    .cuts
                    .iter()
                    .map(|c| c.commit.clone())
                    .collect::<Vec<_>>(),
                Some(audit.cuts.iter().map(|c| c.findings).sum()),
            );
            let text = note.strip_prefix("runqlint: note: ").unwrap_or(&note);
            v["runs"][0]["invocations"] = json!([{
                "executionSuccessful": true,
                "toolExecutionNotifications": [{
                    "level": "note",
                    "message": {"text": text},
                    "properties": {"historyCut": cuts_json(audit)},
                }],
            }]);
            return super::sarif::finish(&v);
        }
        _ => return super::render(format, &files),
    }
    let style = super::human::Style::detect();
    let mut out = String::new();
    for r in reports {
        out.push_str(&commit_header(&r.change.commit));
        out.push('\n');
        out.push_str(&super::human::render_diagnostics(
            std::slice::from_ref(&r.report),
            style,
        ));
    }
    let s = Summary::of(&files);
    out.push_str(&format!(
        "{} introduced by {} of the {} {} that changed {}\n",
        s.counts(),
        reports.len(),
        total,
        if total == 1 { "commit" } else { "commits" },
        escape(path),
    ));
    out
}

/// `log`: the item's timeline.
pub fn render_log(format: ReportFormat, t: &Timeline) -> String {
    match format {
        ReportFormat::Json => log_json(t),
        ReportFormat::Human => log_human(t),
    }
}

fn log_json(t: &Timeline) -> String {
    let events: Vec<Value> = t
        .events
        .iter()
        .map(|e| {
            let changes: Vec<Value> = e
                .changes
                .iter()
                .map(|c| json!({"field": c.field, "old": c.old, "new": c.new}))
                .collect();
            json!({
                "commit": e.commit.id,
                "author": e.commit.author,
                "date": e.commit.date,
                "subject": e.commit.subject,
                "path": e.path,
                "kind": e.kind.as_str(),
                "status": e.status,
                "previousStatus": e.previous_status,
                "changes": changes,
                "receipt": e.receipt,
            })
        })
        .collect();
    let mut v = json!({
        "version": 1,
        "id": t.id,
        "path": t.path,
        "events": events,
    });
    if !t.cuts.is_empty() {
        v["historyCut"] = t
            .cuts
            .iter()
            .map(|(commit, path)| json!({"commit": commit, "path": path}))
            .collect();
    }
    super::json::finish(&v)
}

/// A value for one line: compact JSON, unsafe characters escaped, long values cut.
fn show(v: &Option<Value>) -> String {
    match v {
        None => "(none)".to_string(),
        Some(v) => {
            let s = escape(&v.to_string());
            if s.chars().count() > 80 {
                let cut: String = s.chars().take(79).collect();
                format!("{cut}…")
            } else {
                s
            }
        }
    }
}

/// A value, and for a time field (`…AtMs`) the time it stands for.
fn show_field(field: &str, v: &Option<Value>) -> String {
    match v.as_ref().and_then(Value::as_i64) {
        Some(ms) if field.ends_with("AtMs") => {
            format!("{ms} ({})", crate::rules::fmt_ms(ms))
        }
        _ => show(v),
    }
}

fn status_text(s: &Option<String>) -> String {
    match s {
        Some(s) => escape(s),
        None => "(gone)".to_string(),
    }
}

fn log_human(t: &Timeline) -> String {
    let mut out = format!(
        "item {} in {}: {} {}\n",
        crate::text::quote(&t.id),
        escape(&t.path),
        t.events.len(),
        if t.events.len() == 1 {
            "event"
        } else {
            "events"
        }
    );
    for e in &t.events {
        out.push('\n');
        out.push_str(&commit_header(&e.commit));
        out.push('\n');
        let what = match e.kind {
            Kind::Added => format!("added as {}", status_text(&e.status)),
            Kind::Present => format!(
                "present as {} when the history starts (shallow clone: history before {} not fetched)",
                status_text(&e.status),
                e.commit.short()
            ),
            Kind::Removed => format!("removed (was {})", status_text(&e.previous_status)),
            Kind::Changed if e.status != e.previous_status => format!(
                "status {} → {}",
                status_text(&e.previous_status),
                status_text(&e.status)
            ),
            Kind::Changed => format!("changed, still {}", status_text(&e.status)),
        };
        if e.path != t.path {
            out.push_str(&format!("  {what} (in {})\n", escape(&e.path)));
        } else {
            out.push_str(&format!("  {what}\n"));
        }
        for c in &e.changes {
            // The status is already the headline.
            if c.field == "status" && e.kind == Kind::Changed {
                continue;
            }
            out.push_str(&format!(
                "    {}: {} → {}\n",
                escape(&c.field),
                show_field(&c.field, &c.old),
                show_field(&c.field, &c.new)
            ));
        }
        if let Some(r) = &e.receipt {
            out.push_str(&format!("  {}\n", receipt_line(r)));
        }
    }
    out
}

/// The receipt of a `fix` commit on one line.
fn receipt_line(r: &Value) -> String {
    let mut parts = Vec::new();
    for (key, label) in [
        ("runId", "run"),
        ("backup", "backup"),
        ("artifact", "artifact"),
    ] {
        if let Some(v) = r.get(key).and_then(Value::as_str) {
            parts.push(format!("{label} {}", escape(v)));
        }
    }
    format!("receipt: {}", parts.join(", "))
}
