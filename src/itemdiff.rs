//! Two versions of one queue item: which fields changed (old → new). Also where a parsed
//! document keeps its items, and an item's `id` (a non-empty string). Pure, no I/O.
//!
//! A field change is named by its path inside the item: `status`, `run.finishedAtMs`,
//! `triage`. Objects are compared member by member, so a changed `run` reports the members
//! that changed, not the whole `run`; any other value (arrays, strings, numbers) is compared
//! whole. A member present on one side only is a change from or to `None`.

use serde_json::Value;

/// The items array of a document, when it has one.
pub fn items_array(doc: &Value) -> Option<&Vec<Value>> {
    match doc {
        Value::Array(a) => Some(a),
        Value::Object(o) => o.get("items").and_then(Value::as_array),
        _ => None,
    }
}

/// The `id` of an item: a non-empty string.
pub fn item_id(item: &Value) -> Option<&str> {
    item.get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// One field that differs between two versions of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDiff<'v> {
    /// Member names from the item down to the field: `["run", "finishedAtMs"]`.
    pub path: Vec<&'v str>,
    /// The old value; `None` when the field was added.
    pub old: Option<&'v Value>,
    /// The new value; `None` when the field was removed.
    pub new: Option<&'v Value>,
}

impl FieldDiff<'_> {
    /// The path joined with dots: `run.finishedAtMs`.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// The fields that differ between two versions of one item, in the old version's member
/// order (sorted by key, as serde_json keeps objects) followed by added members.
pub fn diff_items<'v>(old: &'v Value, new: &'v Value) -> Vec<FieldDiff<'v>> {
    let mut out = Vec::new();
    diff_into(&mut Vec::new(), old, new, &mut out);
    out
}

fn diff_into<'v>(
    path: &mut Vec<&'v str>,
    old: &'v Value,
    new: &'v Value,
    out: &mut Vec<FieldDiff<'v>>,
) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                path.push(k);
                match b.get(k) {
                    Some(vb) => diff_into(path, va, vb, out),
                    None => out.push(FieldDiff {
                        path: path.clone(),
                        old: Some(va),
                        new: None,
                    }),
                }
                path.pop();
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    path.push(k);
                    out.push(FieldDiff {
                        path: path.clone(),
                        old: None,
                        new: Some(vb),
                    });
                    path.pop();
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldDiff {
            path: path.clone(),
            old: Some(a),
            new: Some(b),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_items_and_their_ids() {
        let items = json!([{"id": "a"}, {"id": ""}, {"id": 5}, {"title": "no id"}]);
        let wrapped = json!({"items": items.clone()});
        assert_eq!(items_array(&items), items_array(&wrapped));
        assert_eq!(items_array(&json!({"queue": []})), None);
        let ids: Vec<_> = items_array(&items).unwrap().iter().map(item_id).collect();
        assert_eq!(ids, [Some("a"), None, None, None]);
    }

    #[test]
    fn field_changes_name_the_path_and_both_values() {
        let old = json!({"id": "a", "status": "running", "title": "t",
                         "run": {"startedAtMs": 1, "lastHeartbeatAtMs": 2}, "taskIds": ["x"]});
        let new = json!({"id": "a", "status": "done", "title": "t",
                         "run": {"startedAtMs": 1, "lastHeartbeatAtMs": 3, "finishedAtMs": 9},
                         "taskIds": ["x", "y"], "triage": {"status": "needs_review"}});
        let got: Vec<(String, Option<Value>, Option<Value>)> = diff_items(&old, &new)
            .into_iter()
            .map(|c| (c.dotted(), c.old.cloned(), c.new.cloned()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "run.lastHeartbeatAtMs".into(),
                    Some(json!(2)),
                    Some(json!(3))
                ),
                ("run.finishedAtMs".into(), None, Some(json!(9))),
                ("status".into(), Some(json!("running")), Some(json!("done"))),
                (
                    "taskIds".into(),
                    Some(json!(["x"])),
                    Some(json!(["x", "y"]))
                ),
                (
                    "triage".into(),
                    None,
                    Some(json!({"status": "needs_review"}))
                ),
            ]
        );
    }

    #[test]
    fn removed_fields_and_type_changes() {
        let old = json!({"id": "a", "run": {"attempt": 1}, "notes": "n"});
        let new = json!({"id": "a", "run": 5});
        let d = diff_items(&old, &new);
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].dotted(), d[0].new), ("notes".into(), None));
        assert_eq!(d[1].dotted(), "run");
        assert_eq!(d[1].new, Some(&json!(5)));
        assert!(diff_items(&old, &old.clone()).is_empty());
    }

    #[test]
    fn member_names_are_joined_as_they_are() {
        let old = json!({"a/b": {"c~d": 1}});
        let new = json!({"a/b": {"c~d": 2}});
        let d = diff_items(&old, &new);
        assert_eq!(d[0].path, ["a/b", "c~d"]);
        assert_eq!(d[0].dotted(), "a/b.c~d");
    }
}
