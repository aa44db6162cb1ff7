//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning, with the rule catalogue.

use serde_json::{json, Value};

use crate::lint::{Diagnostic, FileReport, Severity};
use crate::rules::{Level, Rule};

pub fn render(reports: &[FileReport]) -> String {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.name(),
                "name": r.name(),
                "shortDescription": {"text": r.summary()},
                "fullDescription": {"text": r.summary()},
                "defaultConfiguration": {"level": level(r.default_level())},
                "help": {"text": r.doc(), "markdown": r.doc()},
            })
        })
        .collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .map(result)
        .collect();
    let mut text = crate::text::json_safe(
        serde_json::to_string_pretty(&json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "runqlint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }],
        }))
        .expect("JSON values serialize"),
    );
    text.push('\n');
    text
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warn => "warning",
        Level::Off => "none",
    }
}

fn result(d: &Diagnostic) -> Value {
    let mut r = json!({
        "ruleId": d.rule.name(),
        "ruleIndex": d.rule as usize,
        "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "message": {"text": d.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri(&d.path)},
            "region": {
                "startLine": d.location.line,
                "startColumn": d.location.column,
                "endLine": d.location.end_line,
                "endColumn": d.location.end_column.max(if d.location.end_line == d.location.line { d.location.column } else { 1 }),
            },
        }}],
        "partialFingerprints": {"runqlint/v1": fingerprint(d)},
    });
    if let Some(id) = &d.item_id {
        r["properties"] = json!({"itemId": id, "pointer": d.pointer});
    }
    r
}

/// A relative URI reference for a repository path (spaces and `%` percent-encoded).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Stable across unrelated edits: rule, file, item id and the field path inside the item
/// (not line numbers, not the item's index).
fn fingerprint(d: &Diagnostic) -> String {
    let field = match &d.item_id {
        Some(_) => {
            // Drop "/items/<n>" or "/<n>" so inserting items elsewhere does not move it.
            let p = d.pointer.strip_prefix("/items").unwrap_or(&d.pointer);
            let p = p.trim_start_matches('/');
            p.split_once('/').map_or("", |(_, rest)| rest).to_string()
        }
        None => d.pointer.clone(),
    };
    let key = format!(
        "{}\0{}\0{}\0{}",
        d.rule.name(),
        d.path,
        d.item_id.as_deref().unwrap_or(""),
        field
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
