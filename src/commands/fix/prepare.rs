//! The pure half of `fix`: from the file's bytes, its HEAD version and the liveness
//! answers to the repaired text, verified, and its receipt. No I/O; every refusal here
//! happens before anything is written.

use std::collections::HashSet;

use serde_json::Value;

use crate::document;
use crate::edit;
use crate::error::{Error, Result};
use crate::lint::{self, Input, Severity};
use crate::queue::ValueQueue;
use crate::receipt::Receipt;
use crate::repair::{self, Liveness, Plan, Survey};
use crate::rules::Rule;
use crate::text;

use super::settings::Settings;

/// The queue file as read: its text and its parsed value.
pub struct Source {
    pub text: String,
    pub value: Value,
}

impl Source {
    /// Parses the file; refuses one `check` would not accept as JSON.
    pub fn parse(bytes: Vec<u8>, shown: &str) -> Result<Source> {
        let parsed = document::parse(&bytes).map_err(|e| {
            Error::Refused(format!(
                "{shown} is not valid JSON ({}); nothing to repair until `runqlint check` passes",
                e.message
            ))
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::Refused(format!("{shown} is not UTF-8")))?;
        Ok(Source {
            text,
            value: parsed.value,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Refuses a file that is not a queue: an object with an `items` array, or an array.
    pub fn check_shape(&self, shown: &str) -> Result<()> {
        let queue = self.queue();
        if queue.shape.is_none()
            || self
                .value
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

    pub fn queue(&self) -> ValueQueue<'_> {
        ValueQueue::new(&self.value)
    }

    /// The running items, aged ([`repair::survey`]).
    pub fn survey(&self, s: &Settings) -> Survey {
        repair::survey(&self.queue(), s.repair.now_ms, s.stale_after_ms)
    }
}

/// What the repair changes, verified.
pub struct Prepared {
    pub plan: Plan,
    /// The repaired text; `None` when the plan changes nothing.
    pub new_text: Option<String>,
}

/// Plans the repair of `survey`'s candidates (answers in `liveness`, same order), splices
/// the edits, requires the result to parse to exactly the planned value, and lints it
/// against `base` (HEAD's version): an error-severity finding the original did not already
/// have refuses the repair.
pub fn prepare(
    source: &Source,
    base: Option<&[u8]>,
    survey: &Survey,
    liveness: &[Liveness],
    s: &Settings,
) -> Result<Prepared> {
    let shown = s.shown.as_str();
    let text = source.text.as_str();
    let plan = repair::plan(text, &source.value, survey, liveness, &s.repair);
    if !plan.changes_anything() {
        return Ok(Prepared {
            plan,
            new_text: None,
        });
    }
    let new_text = edit::apply(text, &plan.edits).map_err(|e| {
        Error::Bug(format!(
            "{shown}: the repair's edits do not apply ({e}); nothing written"
        ))
    })?;
    match document::parse(new_text.as_bytes()) {
        Ok(p) if p.value == plan.intended => {}
        _ => {
            return Err(Error::Bug(format!(
                "{shown}: the repaired text does not parse back to the intended document; nothing written"
            )))
        }
    }
    let errors = new_errors(source.bytes(), new_text.as_bytes(), base, s);
    if !errors.is_empty() {
        return Err(Error::Refused(format!(
            "the repaired file would not pass `runqlint check` against HEAD, so nothing was written: {}",
            errors.join("; ")
        )));
    }
    Ok(Prepared {
        plan,
        new_text: Some(new_text),
    })
}

/// The error-severity findings of `new` against `base` that `original` did not already
/// have. Errors the file already had (against HEAD) are a person's to triage, such as a
/// running item without a start time: they neither block the repair nor are touched by it.
/// Repairs never remove or move items, so pointers from before and after the repair name
/// the same places.
fn new_errors(original: &[u8], new: &[u8], base: Option<&[u8]>, s: &Settings) -> Vec<String> {
    let settings = lint::Settings {
        levels: s.levels.clone(),
        now_ms: s.repair.now_ms,
        stale_after_ms: s.stale_after_ms,
    };
    let lint = |current: &[u8]| {
        lint::lint(
            &Input {
                path: &s.shown,
                current: Some(current),
                base: base.map(|b| ("HEAD", b)),
            },
            &settings,
        )
    };
    let checked = lint(new);
    let errors: Vec<&lint::Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if errors.is_empty() {
        return Vec::new();
    }
    // Only when the result has errors is the original linted, to tell old from new.
    let before = lint(original);
    let existing: HashSet<(Rule, &str)> = before
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.rule, d.pointer.as_str()))
        .collect();
    errors
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
        .collect()
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
