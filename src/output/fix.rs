//! The `fix` report: a human summary, or one JSON object
//! `{"version":1,"path","checked","stale","alive","unknown","unageable","repaired","heartbeat",
//! "reconciled","answers","requeued","requeueRefused","backup","commit","dryRun"}`.
//!
//! `checked` is the number of `running` items examined; `stale` the ids past their
//! threshold; `alive`/`unknown` the stale ones whose session answered so (a runtime's
//! "active" counts as alive); `repaired` the ids marked by policy; `heartbeat` the alive
//! ones given a heartbeat; `reconciled` `[{id,status,finishedAtMs,error}]` the ones whose
//! runtime recorded their end; `answers` `[{id,answer}]` what was said about each stale
//! item (a runtime's words, e.g. "OpenClaw: succeeded 2026-02-26T01:12:00Z").

use serde_json::{json, Value};

use super::ReportFormat;
use crate::repair::{Action, Liveness, Plan, Requeue, Survey};
use crate::rules::fmt_duration;
use crate::text::{escape, json_safe, quote_max};

pub struct FixReport<'a> {
    pub path: String,
    pub survey: &'a Survey,
    pub plan: &'a Plan,
    pub backup: Option<String>,
    pub commit: Option<String>,
    pub dry_run: bool,
    pub diff: Option<String>,
    pub message: Option<String>,
}

pub fn render(format: ReportFormat, r: &FixReport) -> String {
    match format {
        ReportFormat::Json => render_json(r),
        ReportFormat::Human => render_human(r),
    }
}

fn ids<'a>(r: &'a FixReport, pred: impl Fn(&Liveness, &Action) -> bool) -> Vec<&'a str> {
    r.plan
        .outcomes
        .iter()
        .filter(|o| pred(&o.liveness, &o.action))
        .map(|o| o.candidate.id.as_str())
        .collect()
}

fn render_json(r: &FixReport) -> String {
    let requeued: Vec<Value> = r
        .plan
        .appended()
        .map(|(o, id)| json!({"from": o.candidate.id, "id": id}))
        .collect();
    let refused: Vec<Value> = r
        .plan
        .outcomes
        .iter()
        .filter_map(|o| match &o.requeue {
            Some(Requeue::Refused { attempt, max }) => {
                Some(json!({"id": o.candidate.id, "attempt": attempt, "maxAttempts": max}))
            }
            _ => None,
        })
        .collect();
    let unageable: Vec<Value> = r
        .survey
        .unageable
        .iter()
        .map(|u| json!({"id": u.id, "pointer": u.pointer, "reason": u.reason}))
        .collect();
    let reconciled: Vec<Value> = r
        .plan
        .outcomes
        .iter()
        .filter_map(|o| match (&o.action, &o.liveness) {
            (Action::Reconciled(f), Liveness::Ended(e)) => Some(json!({
                "id": o.candidate.id,
                "status": f.as_str(),
                "finishedAtMs": e.finished_ms,
                "error": e.error,
            })),
            _ => None,
        })
        .collect();
    let answers: Vec<Value> = r
        .plan
        .outcomes
        .iter()
        .map(|o| json!({"id": o.candidate.id, "answer": o.liveness.why()}))
        .collect();
    let v = json!({
        "version": 1,
        "path": r.path,
        "checked": r.survey.running,
        "stale": r.survey.stale.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        "alive": ids(r, |l, _| matches!(l, Liveness::Alive(_) | Liveness::Active { .. })),
        "unknown": ids(r, |l, _| matches!(l, Liveness::Unknown(_))),
        "unageable": unageable,
        "repaired": ids(r, |_, a| matches!(a, Action::Marked(_))),
        "heartbeat": ids(r, |_, a| *a == Action::Heartbeat),
        "reconciled": reconciled,
        "answers": answers,
        "requeued": requeued,
        "requeueRefused": refused,
        "backup": r.backup,
        "commit": r.commit,
        "dryRun": r.dry_run,
    });
    let mut s = json_safe(v.to_string());
    s.push('\n');
    s
}

fn render_human(r: &FixReport) -> String {
    let mut out = String::new();
    if let Some(diff) = &r.diff {
        out.push_str(diff);
        if !diff.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    if let (true, Some(m)) = (r.dry_run, &r.message) {
        out.push_str("commit message:\n");
        for line in m.lines() {
            out.push_str(&format!("    {line}\n"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{}: {} running item{}, {} stale\n",
        escape(&r.path),
        r.survey.running,
        if r.survey.running == 1 { "" } else { "s" },
        r.survey.stale.len()
    ));
    let width = r
        .plan
        .outcomes
        .iter()
        .map(|o| escape(&o.candidate.id).chars().count())
        .max()
        .unwrap_or(0);
    for o in &r.plan.outcomes {
        let c = &o.candidate;
        let why = escape(o.liveness.why());
        let what = match &o.action {
            Action::Marked(m) => format!("marked {} ({why})", m.status().as_str()),
            Action::Heartbeat => format!("alive, heartbeat recorded ({why})"),
            Action::Kept => format!("active, left running ({why})"),
            Action::Reconciled(f) => format!("reconciled as {} ({why})", f.as_str()),
            Action::Left => format!("left running: liveness unknown ({why})"),
        };
        let title = c
            .title
            .as_deref()
            .map(|t| format!(" {}", quote_max(t, 40)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:width$}  {what}; silent {} (threshold {}){title}\n",
            escape(&c.id),
            fmt_duration(c.age_ms),
            fmt_duration(c.threshold_ms)
        ));
        match &o.requeue {
            Some(Requeue::Appended { id, attempt }) => out.push_str(&format!(
                "  {:width$}  requeued as {} (attempt {attempt})\n",
                "",
                escape(id)
            )),
            Some(Requeue::Refused { attempt, max }) => out.push_str(&format!(
                "  {:width$}  not requeued: attempt {attempt} would exceed --max-attempts {max}\n",
                ""
            )),
            None => {}
        }
    }
    for u in &r.survey.unageable {
        let id = u.id.as_deref().map_or_else(|| u.pointer.clone(), escape);
        out.push_str(&format!(
            "  {id}  needs triage, not changed: {}\n",
            escape(&u.reason)
        ));
    }
    if !r.plan.changes_anything() {
        out.push_str("nothing to repair; nothing written\n");
    } else if r.dry_run {
        out.push_str("dry run: nothing written\n");
    } else {
        if let Some(b) = &r.backup {
            out.push_str(&format!("backup: {}\n", escape(b)));
        }
        match (&r.commit, &r.message) {
            (Some(id), Some(m)) => out.push_str(&format!(
                "committed {}: {}\n",
                &id[..id.len().min(12)],
                m.lines().next().unwrap_or("")
            )),
            _ => out.push_str(&format!("wrote {} (not committed)\n", escape(&r.path))),
        }
    }
    out
}
