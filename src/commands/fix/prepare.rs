//! The planning half of `fix`: from the file's bytes, its HEAD version and the liveness
//! answers to the repaired text, verified, and its receipt. No I/O of its own: the one
//! write it overlaps with its lint is the caller's `write_blob` (the new blob, and the
//! staged copy of the new file), which counts only if the lint accepts. Every refusal
//! here happens before the queue file, the index or a ref is touched.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value;

use crate::document;
use crate::edit;
use crate::error::{Error, Result};
use crate::git::ObjectId;
use crate::lint::{self, Input, Severity};
use crate::queue::{Queue, Running, ValueQueue};
use crate::receipt::Receipt;
use crate::repair::{self, Liveness, Plan, Survey};
use crate::rules::Rule;
use crate::scan;
use crate::text;

use super::settings::Settings;

/// The queue file as read: its text, valid UTF-8 (shared, so that the lint of the
/// repaired file shows it as HEAD's version without a copy when the two are the same).
pub struct Source {
    pub text: Arc<String>,
}

/// The queue file, read: by the scanner (the common case), or parsed whole.
pub enum Read<'t> {
    /// The scanner vouched for the text (valid JSON, no repeated key, valid for the
    /// schema): its typed view, with only the running items parsed.
    Scanned {
        queue: Queue<'t>,
        running: Running<'t>,
    },
    /// A text the scanner declined: its parsed value.
    Parsed(Value),
}

impl Source {
    /// Takes the file's bytes; refuses bytes that are not UTF-8 (as not valid JSON, the
    /// reason `runqlint check` gives).
    pub fn new(bytes: Vec<u8>, shown: &str) -> Result<Source> {
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source {
                text: Arc::new(text),
            }),
            Err(e) => Err(match document::parse(e.as_bytes()) {
                Err(e) => not_json(shown, &e),
                Ok(_) => Error::Refused(format!("{shown} is not UTF-8")),
            }),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Reads the file: the scanner's view, or (when it declines) the parsed value;
    /// refuses one `check` would not accept as JSON.
    pub fn read(&self, shown: &str) -> Result<Read<'_>> {
        if let Some(queue) = scan::scan(&self.text) {
            if let Some(running) = Running::parse(&queue) {
                return Ok(Read::Scanned { queue, running });
            }
        }
        let parsed = document::parse(self.bytes()).map_err(|e| not_json(shown, &e))?;
        Ok(Read::Parsed(parsed.value))
    }
}

fn not_json(shown: &str, e: &document::SyntaxError) -> Error {
    Error::Refused(format!(
        "{shown} is not valid JSON ({}); nothing to repair until `runqlint check` passes",
        e.message
    ))
}

impl Read<'_> {
    /// Refuses a file that is not a queue: an object with an `items` array, or an array.
    /// (The scanner reads only queues of that shape.)
    pub fn check_shape(&self, shown: &str) -> Result<()> {
        let Read::Parsed(value) = self else {
            return Ok(());
        };
        let queue = ValueQueue::new(value);
        if queue.shape.is_none()
            || value
                .pointer(queue.items_pointer)
                .and_then(|v| v.as_array())
                .is_none()
        {
            return Err(Error::Refused(format!(
                "{shown} is neither an object with an `items` array nor an array; see `runqlint check`"
            )));
        }
        Ok(())
    }

    /// The queue that is surveyed and repaired: every item of a parsed file, the running
    /// items of a scanned one.
    pub fn queue(&self) -> ValueQueue<'_> {
        match self {
            Read::Scanned { running, .. } => ValueQueue::running(running),
            Read::Parsed(value) => ValueQueue::new(value),
        }
    }

    /// The running items, aged ([`repair::survey`]); with `--session`, that session's
    /// items whatever their age ([`repair::survey_session`]).
    pub fn survey(&self, s: &Settings) -> Survey {
        match &s.session {
            Some(key) => {
                repair::survey_session(&self.queue(), s.repair.now_ms, s.stale_after_ms, key)
            }
            None => repair::survey(&self.queue(), s.repair.now_ms, s.stale_after_ms),
        }
    }
}

/// HEAD's version of the file, which the repaired text is linted against.
pub struct Base {
    pub bytes: Vec<u8>,
    /// The bytes are the original's (a file clean against HEAD).
    pub is_original: bool,
}

/// What the repair changes, verified.
pub struct Prepared {
    pub plan: Plan,
    /// The repaired text; `None` when the plan changes nothing.
    pub new_text: Option<String>,
    /// The repaired text's blob id, when [`prepare`] was asked to write it.
    pub blob: Option<ObjectId>,
}

/// Writes the repaired text as a blob and returns its id (the caller's repository).
pub type WriteBlob<'a> = &'a dyn Fn(&[u8]) -> Result<ObjectId>;

/// Plans the repair of `survey`'s candidates (answers in `liveness`, same order) and
/// splices the edits. A scanned file is verified item by item
/// ([`edit::apply_items`]: every edit inside a changed item or appended after the last,
/// each changed item's new bytes parse to its intended value, the appended text to the
/// appended items); a parsed one is re-parsed whole and compared with the planned
/// document. Then the result is linted against `base` (HEAD's version): an
/// error-severity finding the original did not already have refuses the repair.
///
/// `write_blob`, when given, is called with the repaired text while it is linted (on this
/// thread; the lint runs on another), so that a committing run's blob is hashed and
/// compressed side by side with the lint. Its result counts only if the lint accepts the
/// text; a blob written for a refused repair is an unreferenced object (see
/// ARCHITECTURE.md).
pub fn prepare(
    source: &Source,
    read: &Read,
    base: Option<Base>,
    survey: &Survey,
    liveness: &[Liveness],
    s: &Settings,
    write_blob: Option<WriteBlob>,
) -> Result<Prepared> {
    let shown = s.shown.as_str();
    let text = source.text.as_str();
    let plan = match read {
        Read::Scanned { queue, .. } => {
            repair::plan_items(text, queue, &read.queue(), survey, liveness, &s.repair)
        }
        Read::Parsed(value) => repair::plan(text, value, survey, liveness, &s.repair),
    };
    if !plan.changes_anything() {
        return Ok(Prepared {
            plan,
            new_text: None,
            blob: None,
        });
    }
    let bug = |what: String| Error::Bug(format!("{shown}: {what}; nothing written"));
    let new_text = match read {
        Read::Scanned { queue, .. } => splice_items(text, queue, &plan).map_err(bug)?,
        Read::Parsed(value) => {
            let new_text = edit::apply(text, &plan.edits)
                .map_err(|e| bug(format!("the repair's edits do not apply ({e})")))?;
            match document::parse(new_text.as_bytes()) {
                Ok(p) if p.value == plan.intended.document(value) => new_text,
                _ => {
                    return Err(bug(
                        "the repaired text does not parse back to the intended document".into(),
                    ))
                }
            }
        }
    };
    let (new_text, errors, blob) = new_errors(source, read, new_text, base, s, write_blob)?;
    if !errors.is_empty() {
        return Err(Error::Refused(format!(
            "the repaired file would not pass `runqlint check` against HEAD, so nothing was written: {}",
            errors.join("; ")
        )));
    }
    Ok(Prepared {
        plan,
        new_text: Some(new_text),
        blob: blob.transpose()?,
    })
}

/// The edits of `plan` applied to the scanned `text`, verified item by item
/// ([`edit::apply_items`]).
fn splice_items(text: &str, queue: &Queue, plan: &Plan) -> std::result::Result<String, String> {
    let changed = plan
        .intended
        .changed
        .iter()
        .map(|c| {
            Ok(edit::Changed {
                span: c.span.ok_or("a changed item has no byte range")?,
                value: &c.value,
            })
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let end = queue.items.last().and_then(|i| i.body.span()).map(|s| s.1);
    edit::apply_items(text, &plan.edits, &changed, end, &plan.intended.appended)
}

/// The error-severity findings of `new` against `base` that `original` did not already
/// have, and `new` given back. Errors the file already had (against HEAD) are a person's to
/// triage, such as a running item without a start time: they neither block the repair nor
/// are touched by it. Repairs never remove or move items, so pointers from before and after
/// the repair name the same places.
///
/// The checker takes `new` and `base` as they are (no copy of either); HEAD's bytes are
/// kept aside for a second lint only when they differ from the original's. When they are
/// the original's and the scanner read it, HEAD's version is not scanned again: the lint
/// takes the original's text and scan ([`lint::lint_against_scanned`]), on a second thread
/// while `write_blob` (if any) writes `new` on this one. On the other path `write_blob` is
/// called after the lint, and not at all when the result has new errors. Returns `new`,
/// the new errors and what `write_blob` returned.
fn new_errors(
    source: &Source,
    read: &Read,
    new: String,
    base: Option<Base>,
    s: &Settings,
    write_blob: Option<WriteBlob>,
) -> Result<(String, Vec<String>, Option<Result<ObjectId>>)> {
    let settings = lint::Settings {
        levels: s.levels.clone(),
        now_ms: s.repair.now_ms,
        stale_after_ms: s.stale_after_ms,
    };
    let base_is_original = base.as_ref().is_some_and(|b| b.is_original);
    let kept_base = match &base {
        Some(b) if !b.is_original => Some(b.bytes.clone()),
        _ => None,
    };
    let original = source.bytes();
    let mut blob = None;
    let checked = match (read, base) {
        (Read::Scanned { queue, .. }, Some(b)) if b.is_original => {
            drop(b);
            let new = Arc::new(new);
            let (shown, settings, linted) = (s.shown.as_str(), &settings, Arc::clone(&new));
            let checked = std::thread::scope(|scope| {
                let lint = scope.spawn(move || {
                    lint::lint_against_scanned(
                        shown,
                        linted,
                        "HEAD",
                        Arc::clone(&source.text),
                        queue,
                        settings,
                    )
                });
                blob = write_blob.map(|write| write(new.as_bytes()));
                lint.join()
            });
            checked.map_err(|_| {
                Error::Bug(format!("{}: linting the repaired file panicked", s.shown))
            })?
        }
        (_, base) => lint::lint_owned(
            &s.shown,
            Some(new.into_bytes()),
            base.map(|b| ("HEAD", b.bytes)),
            &settings,
        ),
    };
    let errors: Vec<&lint::Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    let mut added = Vec::new();
    if !errors.is_empty() {
        // Only when the result has errors is the original linted, to tell old from new.
        let base = if base_is_original {
            Some(original)
        } else {
            kept_base.as_deref()
        };
        let before = lint::lint(
            &Input {
                path: &s.shown,
                current: Some(original),
                base: base.map(|b| ("HEAD", b)),
            },
            &settings,
        );
        let existing: HashSet<(Rule, &str)> = before
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| (d.rule, d.pointer.as_str()))
            .collect();
        added = errors
            .into_iter()
            .filter(|d| !existing.contains(&(d.rule, d.pointer.as_str())))
            .map(|d| {
                format!(
                    "{} at line {}: {}",
                    d.rule.name(),
                    d.location.line,
                    text::escape(&d.message)
                )
            })
            .collect();
    }
    let lint::FileReport {
        current,
        diagnostics,
        ..
    } = checked;
    drop(diagnostics);
    let text = current
        .ok_or_else(|| Error::Bug(format!("{}: the repaired text was lost", s.shown)))?
        .text;
    let new = Arc::try_unwrap(text).unwrap_or_else(|shared| String::clone(&shared));
    if let (None, Some(write), true) = (&blob, write_blob, added.is_empty()) {
        blob = Some(write(new.as_bytes()));
    }
    Ok((new, added, blob))
}

/// The receipt of `plan`. The run id defaults to `fix_<stamp>_<first 8 digits of the
/// original's blob id>`.
pub fn receipt(
    plan: &Plan,
    s: &Settings,
    stamp: &str,
    original_id: &str,
    backup: Option<&str>,
) -> Receipt {
    let run_id = s
        .run_id
        .clone()
        .unwrap_or_else(|| format!("fix_{stamp}_{}", &original_id[..8]));
    Receipt::of_plan(plan, &s.repair, &run_id, s.artifact.as_deref(), backup)
}
