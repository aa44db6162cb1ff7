//! The embedded JSON Schema, compiled once.

use std::sync::OnceLock;

use serde_json::Value;

use crate::fields::Field;
use crate::queue::ValueQueue;
use crate::rules::{Finding, Rule};
use crate::text::quote_max;

/// The schema's text, as shipped in `schema/run_queue.schema.json`.
pub const SCHEMA_TEXT: &str = include_str!("../schema/run_queue.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(SCHEMA_TEXT).expect("the embedded schema is JSON (tested)");
        jsonschema::draft202012::new(&schema).expect("the embedded schema compiles (tested)")
    })
}

/// Validates `doc` and pushes one `schema` finding per violation, at the offending value.
pub fn check(doc: &Value, sink: &mut Vec<Finding>) {
    let validator = validator();
    if validator.is_valid(doc) {
        return;
    }
    for error in validator.iter_errors(doc) {
        let placeholder = describe(error.instance());
        let message = error.masked_with(placeholder).to_string();
        let pointer = error.instance_path().as_str().to_owned();
        sink.push(Finding::new(Rule::Schema, pointer, message));
    }
}

/// JSON Schema's `integer` accepts `1.0` and `-0.0`; queue times and counters are written
/// as integer literals, so a number parsed as a float in any integer field of the table
/// ([`crate::fields`]) is a `schema` finding too. (The scanner declines any such float, so
/// only a parsed document needs this.) A value the schema itself already rejected (a
/// fraction such as `1.5`, when [`check`] ran first into `sink`) is not reported twice.
pub fn check_integers(queue: &ValueQueue, sink: &mut Vec<Finding>) {
    let reported = sink.len();
    for item in queue.entries() {
        for &field in Field::ALL {
            if !field.kind().is_integer() {
                continue;
            }
            if let Some(Value::Number(n)) = item.get(field) {
                let pointer = item.view.pointer_to(field);
                let known = sink[..reported]
                    .iter()
                    .any(|f| f.rule == Rule::Schema && f.pointer == pointer);
                if n.is_f64() && !known {
                    let path = field.path();
                    sink.push(
                        Finding::new(
                            Rule::Schema,
                            pointer,
                            format!("{n} is not an integer; `{path}` is a whole number of milliseconds or a count"),
                        )
                        .item(item.view),
                    );
                }
            }
        }
    }
}

/// How a value is named in a schema message: short scalars verbatim (escaped), containers
/// by kind, so a 10 MB string never lands in a message.
fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => quote_max(s, 60),
        Value::Object(_) => "this object".into(),
        Value::Array(_) => "this array".into(),
        other => {
            let s = other.to_string();
            if s.len() > 60 {
                format!("{}…", &s[..60])
            } else {
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(doc: Value) -> Vec<(String, String)> {
        let mut sink = Vec::new();
        check(&doc, &mut sink);
        sink.into_iter().map(|f| (f.pointer, f.message)).collect()
    }

    #[test]
    fn the_schema_is_valid_draft_2020_12() {
        let schema: Value = serde_json::from_str(SCHEMA_TEXT).unwrap();
        assert!(jsonschema::meta::is_valid(&schema));
        let _ = validator();
    }

    #[test]
    fn both_shapes_and_unknown_fields_are_valid() {
        assert!(pointers(json!({"items": [], "version": 3, "x": {"y": 1}})).is_empty());
        assert!(
            pointers(json!([{"id": "a", "status": "stale", "zzz": [1], "run": {"q": 1}}]))
                .is_empty()
        );
    }

    #[test]
    fn violations_point_at_the_offending_value() {
        let found =
            pointers(json!({"items": [{"id": "a", "status": "runing"}, {"status": "done"}]}));
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, "/items/0/status");
        assert!(found[0].1.contains("\"runing\""), "{}", found[0].1);
        assert_eq!(found[1].0, "/items/1");
        assert!(found[1].1.contains("\"id\" is a required property"));
        let found = pointers(
            json!({"items": [{"id": "", "status": "running", "run": {"startedAtMs": 1.5, "attempt": 0}}]}),
        );
        let ptrs: Vec<_> = found.iter().map(|f| f.0.as_str()).collect();
        assert!(ptrs.contains(&"/items/0/id"));
        assert!(ptrs.contains(&"/items/0/run/startedAtMs"));
        assert!(ptrs.contains(&"/items/0/run/attempt"));
        assert_eq!(pointers(json!({"queue": []}))[0].0, "");
        assert_eq!(pointers(json!(42))[0].0, "");
    }
}
