//! The `stale` report: a table of stale running items, or one JSON object
//! `{"version":1,"path","now","stale":[{id,title,pointer,startedAtMs,lastHeartbeatAtMs,
//! lastSignOfLifeMs,ageMs,thresholdMs,childSessionKey}],"unageable":[{id,pointer,reason}]}`.

use serde_json::{json, Value};

use super::ReportFormat;
use crate::repair::Survey;
use crate::rules::{fmt_duration, fmt_ms};
use crate::text::{escape, json_safe, pad, quote_max, width};

pub fn render(
    format: ReportFormat,
    path: &str,
    now_ms: i64,
    survey: &Survey,
    heartbeats: &[Option<i64>],
) -> String {
    match format {
        ReportFormat::Json => {
            let stale: Vec<Value> = survey
                .stale
                .iter()
                .zip(heartbeats)
                .map(|(c, hb)| {
                    json!({
                        "id": c.id,
                        "title": c.title,
                        "pointer": c.pointer,
                        "startedAtMs": c.started_ms,
                        "lastHeartbeatAtMs": hb,
                        "lastSignOfLifeMs": c.last_ms,
                        "ageMs": c.age_ms,
                        "thresholdMs": c.threshold_ms,
                        "childSessionKey": c.session_key,
                    })
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
                let rows: Vec<[String; 6]> = survey
                    .stale
                    .iter()
                    .zip(heartbeats)
                    .map(|(c, hb)| {
                        [
                            escape(&c.id),
                            c.title
                                .as_deref()
                                .map_or_else(|| "-".to_string(), |t| quote_max(t, 40)),
                            fmt_ms(c.started_ms),
                            hb.map_or_else(|| "-".to_string(), fmt_ms),
                            fmt_duration(c.age_ms),
                            fmt_duration(c.threshold_ms),
                        ]
                    })
                    .collect();
                let head = [
                    "ID",
                    "TITLE",
                    "STARTED",
                    "LAST HEARTBEAT",
                    "SILENT FOR",
                    "THRESHOLD",
                ];
                let mut widths = head.map(width);
                for r in &rows {
                    for (w, cell) in widths.iter_mut().zip(r) {
                        *w = (*w).max(width(cell));
                    }
                }
                let line = |cells: &[String]| {
                    let parts: Vec<String> =
                        cells.iter().zip(widths).map(|(c, w)| pad(c, w)).collect();
                    format!("  {}\n", parts.join("  ").trim_end())
                };
                out.push_str(&line(&head.map(String::from)));
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
