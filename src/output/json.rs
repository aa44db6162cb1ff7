//! `--format json`: one object, `{"version":1,"diagnostics":[…],"summary":{…}}`.

use serde_json::{json, Map, Value};

use crate::lint::FileReport;
use crate::rules::Side;

pub fn render(reports: &[FileReport]) -> String {
    finish(&value(reports))
}

/// The report as a value, for a command that adds members of its own (`audit`).
pub fn value(reports: &[FileReport]) -> Value {
    let diagnostics: Vec<Value> = reports
        .iter()
        .flat_map(|r| &r.diagnostics)
        .map(|d| {
            let mut o = Map::new();
            o.insert("rule".into(), d.rule.name().into());
            o.insert("severity".into(), d.severity.as_str().into());
            o.insert("path".into(), d.path.clone().into());
            o.insert("line".into(), d.location.line.into());
            o.insert("column".into(), d.location.column.into());
            o.insert("endLine".into(), d.location.end_line.into());
            o.insert("endColumn".into(), d.location.end_column.into());
            o.insert("pointer".into(), d.pointer.clone().into());
            o.insert("message".into(), d.message.clone().into());
            if let Some(id) = &d.item_id {
                o.insert("itemId".into(), id.clone().into());
            }
            if let Some(commit) = &d.commit {
                o.insert("commit".into(), commit.clone().into());
            }
            if d.location.side == Side::Base {
                o.insert("inBase".into(), true.into());
            }
            if let Some(r) = d.related.filter(|r| r.side == Side::Base) {
                o.insert("baseLine".into(), r.line.into());
            }
            Value::Object(o)
        })
        .collect();
    let s = super::Summary::of(reports);
    json!({
        "version": 1,
        "diagnostics": diagnostics,
        "summary": {"errors": s.errors, "warnings": s.warnings},
    })
}

/// A value as the output's text: one line, unsafe characters escaped.
pub fn finish(v: &Value) -> String {
    let mut text = crate::text::json_safe(v.to_string());
    text.push('\n');
    text
}
