//! The `stale` report: a table of stale running items, or one JSON object
//! `{"version":1,"path","now","stale":[{id,title,pointer,startedAtMs,lastHeartbeatAtMs,
//! lastSignOfLifeMs,ageMs,thresholdMs,childSessionKey[,answer]}],"unageable":[{id,pointer,reason}]}`.
//! `answer` (and the table's ANSWER column) is there when a runtime was asked: its words,
//! e.g. "OpenClaw: succeeded 2026-02-26T01:12:00Z".

use serde_json::{json, Value};

use super::ReportFormat;
use crate::repair::{Liveness, Survey};
use crate::rules::{fmt_duration, fmt_ms};
use crate::text::{escape, json_safe, pad, quote_max, width};

pub fn render(
    format: ReportFormat,
    path: &str,
    now_ms: i64,
    survey: &Survey,
    heartbeats: &[Option<i64>],
    answers: Option<&[Liveness]>,
) -> String {
    let answer = |i: usize| answers.and_then(|a| a.get(i)).map(Liveness::why);
    match format {
        ReportFormat::Json => {
            let stale: Vec<Value> = survey
                .stale
                .iter()
                .zip(heartbeats)
                .enumerate()
                .map(|(i, (c, hb))| {
                    let mut v = json!({
                        "id": c.id,
                        "title": c.title,
                        "pointer": c.pointer,
                        "startedAtMs": c.started_ms,
                        "lastHeartbeatAtMs": hb,
                        "lastSignOfLifeMs": c.last_ms,
                        "ageMs": c.age_ms,
                        "thresholdMs": c.threshold_ms,
                        "childSessionKey": c.session_key,
                    });
                    if let Some(a) = answer(i) {
                        v["answer"] = json!(a);
                    }
                    v
                })
                .collect();
            let unageable: Vec<Value> = survey
                .unageable
                .iter()
                .map(|u| json!({"id": u.id, "pointer": u.pointer, "reason": u.reason}))
                .collect();
            let mut s = json_safe(
                json!({"version": 1, "path": path, "now": now_ms, "running": survey.running, "stale": stale, "unageable": unageable})
                    .to_string(),
            );
            s.push('\n');
            s
        }
        ReportFormat::Human => {
            let mut out = format!(
                "{}: {} of {} running item{} stale at {}\n",
                escape(path),
                survey.stale.len(),
                survey.running,
                if survey.running == 1 { "" } else { "s" },
                fmt_ms(now_ms)
            );
            if !survey.stale.is_empty() {
                let rows: Vec<Vec<String>> = survey
                    .stale
                    .iter()
                    .zip(heartbeats)
                    .enumerate()
                    .map(|(i, (c, hb))| {
                        let mut row = vec![
                            escape(&c.id),
                            c.title
                                .as_deref()
                                .map_or_else(|| "-".to_string(), |t| quote_max(t, 40)),
                            fmt_ms(c.started_ms),
                            hb.map_or_else(|| "-".to_string(), fmt_ms),
                            fmt_duration(c.age_ms),
                            fmt_duration(c.threshold_ms),
                        ];
                        if let Some(a) = answer(i) {
                            row.push(escape(a));
                        }
                        row
                    })
                    .collect();
                let mut head = vec![
                    "ID",
                    "TITLE",
                    "STARTED",
                    "LAST HEARTBEAT",
                    "SILENT FOR",
                    "THRESHOLD",
                ];
                if answers.is_some() {
                    head.push("ANSWER");
                }
                let mut widths: Vec<usize> = head.iter().map(|h| width(h)).collect();
                for r in &rows {
                    for (w, cell) in widths.iter_mut().zip(r) {
                        *w = (*w).max(width(cell));
                    }
                }
                let line = |cells: &[String]| {
                    let parts: Vec<String> =
                        cells.iter().zip(&widths).map(|(c, w)| pad(c, *w)).collect();
                    format!("  {}\n", parts.join("  ").trim_end())
                };
                let head: Vec<String> = head.into_iter().map(String::from).collect();
                out.push_str(&line(&head));
                for r in &rows {
                    out.push_str(&line(r));
                }
            }
            for u in &survey.unageable {
                let id = u.id.as_deref().map_or_else(|| u.pointer.clone(), escape);
                out.push_str(&format!("  needs triage: {id}: {}\n", escape(&u.reason)));
            }
            out
        }
    }
}
