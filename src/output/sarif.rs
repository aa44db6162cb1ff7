//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning, with the rule catalogue.

use serde_json::{json, Value};

use crate::lint::{Diagnostic, FileReport, Severity};
use crate::rules::{Level, Rule, Side};

pub fn render(reports: &[FileReport]) -> String {
    finish(&document(reports))
}

/// The SARIF log as a value, for a command that adds to it (`audit`).
pub fn document(reports: &[FileReport]) -> Value {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.name(),
                "name": r.name(),
                "shortDescription": {"text": r.summary()},
                "fullDescription": {"text": full_description(*r)},
                "defaultConfiguration": {"level": level(r.default_level())},
                "help": {"text": r.doc(), "markdown": r.doc()},
            })
        })
        .collect();
    // Findings with the same fingerprint key (two duplicates of one id) are told apart by
    // their order in the file, which unrelated edits do not change.
    let mut seen = std::collections::HashMap::new();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .map(|d| {
            let key = fingerprint_key(d);
            let n = seen
                .entry(key.clone())
                .and_modify(|n| *n += 1)
                .or_insert(0usize);
            result(d, &fingerprint(&key, *n))
        })
        .collect();
    json!({
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
    })
}

/// A SARIF log's text: pretty-printed, unsafe characters escaped.
pub fn finish(v: &Value) -> String {
    let mut text =
        crate::text::json_safe(serde_json::to_string_pretty(v).expect("JSON values serialize"));
    text.push('\n');
    text
}

/// A rule's level in SARIF's words: a severity's own name, `none` when off.
fn level(l: Level) -> &'static str {
    Severity::of(l).map_or("none", Severity::as_str)
}

/// The rule's "What it does" section as one paragraph, else its summary.
fn full_description(rule: Rule) -> String {
    let doc = rule.doc();
    let Some(start) = doc.find("## What it does") else {
        return rule.summary().to_string();
    };
    let body = &doc[start..];
    let body = body.split_once('\n').map_or("", |(_, rest)| rest);
    let body = body.split("\n## ").next().unwrap_or("");
    let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        rule.summary().to_string()
    } else {
        text
    }
}

fn result(d: &Diagnostic, fingerprint: &str) -> Value {
    let l = &d.location;
    let mut physical = json!({"artifactLocation": {"uri": uri(&d.path)}});
    // A finding about a deleted file points into the base version: its lines are not the
    // checked version's, so only the file is named.
    if l.side == Side::Current {
        physical["region"] = json!({
            "startLine": l.line,
            "startColumn": l.column,
            "endLine": l.end_line.max(l.line),
            "endColumn": if l.end_line > l.line { l.end_column.max(1) } else { l.end_column.max(l.column) },
        });
    }
    let mut r = json!({
        "ruleId": d.rule.name(),
        "ruleIndex": Rule::ALL.iter().position(|r| *r == d.rule).unwrap_or(0),
        "level": d.severity.as_str(),
        "message": {"text": d.message},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"runqlint/v1": fingerprint},
    });
    if let Some(id) = &d.item_id {
        r["properties"] = json!({"itemId": id, "pointer": d.pointer});
    }
    if let Some(commit) = &d.commit {
        // `audit`: the commit that introduced the finding, whose version the region is in.
        r["properties"]["commit"] = commit.as_str().into();
        r["partialFingerprints"]["runqlint/commit"] = commit.as_str().into();
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

/// What identifies a finding across unrelated edits: rule, file, item id and the field path
/// inside the item (not line numbers, not the item's index).
fn fingerprint_key(d: &Diagnostic) -> String {
    let field = match &d.item_id {
        Some(_) => {
            // Drop "/items/<n>" or "/<n>" so inserting items elsewhere does not move it.
            let p = d.pointer.strip_prefix("/items").unwrap_or(&d.pointer);
            let p = p.trim_start_matches('/');
            p.split_once('/').map_or("", |(_, rest)| rest).to_string()
        }
        None => d.pointer.clone(),
    };
    format!(
        "{}\0{}\0{}\0{}",
        d.rule.name(),
        d.path,
        d.item_id.as_deref().unwrap_or(""),
        field
    )
}

/// FNV-1a of the key and the occurrence number; the first occurrence hashes the key alone.
fn fingerprint(key: &str, occurrence: usize) -> String {
    let key = if occurrence == 0 {
        key.to_string()
    } else {
        format!("{key}\0{occurrence}")
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
