//! Two versions of a queue, item by item: which items pair up by `id`, which were added or
//! deleted, and, for a pair, which fields changed (old → new). Pure, no I/O.
//!
//! Items are matched by `id`, never by position: moving an item is not a change. An item
//! without a string `id`, or with an `id` an earlier item of the same version already has,
//! cannot be matched and is left out (the `duplicate-id` and `schema` rules report those).
//!
//! A field change is named by its path inside the item: `status`, `run.finishedAtMs`,
//! `triage`. Objects are compared member by member, so a changed `run` reports the members
//! that changed, not the whole `run`; any other value (arrays, strings, numbers) is compared
//! whole. A member present on one side only is a change from or to `None`.

use serde_json::Value;

use crate::queue::{IdMap, Item, Queue};

/// How the items of an old and a new version correspond.
#[derive(Debug, Clone, PartialEq)]
pub struct Matching<T> {
    /// Items present in both versions, `(old, new)`, in the new version's order.
    pub pairs: Vec<(T, T)>,
    /// Items only in the new version, in its order.
    pub added: Vec<T>,
    /// Items only in the old version, in its order.
    pub deleted: Vec<T>,
}

/// Matches two sequences of `(id, item)` by id. The first item with an id wins; later items
/// with the same id are left out, as are items whose id is `None`.
pub fn match_by_id<'i, T: Copy>(
    old: impl IntoIterator<Item = (Option<&'i str>, T)>,
    new: impl IntoIterator<Item = (Option<&'i str>, T)>,
) -> Matching<T> {
    let old: Vec<(&str, T)> = first_per_id(old);
    let new: Vec<(&str, T)> = first_per_id(new);
    let mut old_by_id: IdMap<&str, (T, bool)> =
        IdMap::with_capacity_and_hasher(old.len(), Default::default());
    for &(id, item) in &old {
        old_by_id.insert(id, (item, false));
    }
    let mut pairs = Vec::new();
    let mut added = Vec::new();
    for (id, item) in new {
        match old_by_id.get_mut(id) {
            Some((before, seen)) => {
                *seen = true;
                pairs.push((*before, item));
            }
            None => added.push(item),
        }
    }
    let deleted = old
        .iter()
        .filter(|(id, _)| !old_by_id[id].1)
        .map(|&(_, item)| item)
        .collect();
    Matching {
        pairs,
        added,
        deleted,
    }
}

fn first_per_id<'i, T>(items: impl IntoIterator<Item = (Option<&'i str>, T)>) -> Vec<(&'i str, T)> {
    let items = items.into_iter();
    let mut seen: IdMap<&str, ()> =
        IdMap::with_capacity_and_hasher(items.size_hint().0, Default::default());
    items
        .filter_map(|(id, item)| {
            let id = id?;
            seen.insert(id, ()).is_none().then_some((id, item))
        })
        .collect()
}

/// Matches the items of two typed views by id.
pub fn match_queues<'q, 'v>(old: &'q Queue<'v>, new: &'q Queue<'v>) -> Matching<&'q Item<'v>> {
    match_by_id(
        old.items.iter().map(|i| (i.id, i)),
        new.items.iter().map(|i| (i.id, i)),
    )
}

/// Matches the items of two parsed documents (`{"items": [...]}` or `[...]`) by id; each
/// item comes with its index in its array. Elements that are not objects are left out.
pub fn match_values<'v>(old: &'v Value, new: &'v Value) -> Matching<(usize, &'v Value)> {
    match_by_id(id_items(old), id_items(new))
}

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

fn id_items(doc: &Value) -> impl Iterator<Item = (Option<&str>, (usize, &Value))> {
    items_array(doc)
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, v)| v.is_object())
        .map(|(i, v)| (item_id(v), (i, v)))
}

/// One field that differs between two versions of an item.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange<'v> {
    /// Member names from the item down to the field: `["run", "finishedAtMs"]`.
    pub path: Vec<&'v str>,
    /// The old value; `None` when the field was added.
    pub old: Option<&'v Value>,
    /// The new value; `None` when the field was removed.
    pub new: Option<&'v Value>,
}

impl FieldChange<'_> {
    /// The path joined with dots: `run.finishedAtMs`.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }

    /// The RFC 6901 pointer of the field relative to the item: `/run/finishedAtMs`.
    pub fn pointer(&self) -> String {
        self.path
            .iter()
            .map(|s| format!("/{}", crate::document::escape_segment(s)))
            .collect()
    }
}

/// The fields that differ between two versions of one item, in the old version's member
/// order (sorted by key, as serde_json keeps objects) followed by added members.
pub fn diff_items<'v>(old: &'v Value, new: &'v Value) -> Vec<FieldChange<'v>> {
    let mut out = Vec::new();
    diff_into(&mut Vec::new(), old, new, &mut out);
    out
}

fn diff_into<'v>(
    path: &mut Vec<&'v str>,
    old: &'v Value,
    new: &'v Value,
    out: &mut Vec<FieldChange<'v>>,
) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                path.push(k);
                match b.get(k) {
                    Some(vb) => diff_into(path, va, vb, out),
                    None => out.push(FieldChange {
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
                    out.push(FieldChange {
                        path: path.clone(),
                        old: None,
                        new: Some(vb),
                    });
                    path.pop();
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldChange {
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

    fn ids<'a>(items: &[(usize, &'a Value)]) -> Vec<&'a str> {
        items.iter().map(|(_, v)| item_id(v).unwrap()).collect()
    }

    #[test]
    fn items_are_matched_by_id_not_position() {
        let old = json!({"items": [{"id": "a"}, {"id": "b"}, {"id": "c"}]});
        let new = json!({"items": [{"id": "c"}, {"id": "d"}, {"id": "a"}, 7]});
        let m = match_values(&old, &new);
        let pairs: Vec<(usize, usize)> = m.pairs.iter().map(|(o, n)| (o.0, n.0)).collect();
        assert_eq!(pairs, [(2, 0), (0, 2)]);
        assert_eq!(ids(&m.added), ["d"]);
        assert_eq!(ids(&m.deleted), ["b"]);
    }

    #[test]
    fn repeated_and_missing_ids_are_left_out() {
        let old = json!([{"id": "a", "n": 1}, {"id": "a", "n": 2}, {"title": "no id"}, {"id": ""}]);
        let new = json!([{"id": "a", "n": 3}, {"id": 5}]);
        let m = match_values(&old, &new);
        assert_eq!(m.pairs.len(), 1);
        assert_eq!(m.pairs[0].0 .0, 0, "the first 'a' of the old version");
        assert!(m.added.is_empty() && m.deleted.is_empty());
    }

    #[test]
    fn queues_match_like_values() {
        let old = json!({"items": [{"id": "a", "status": "running"}, {"id": "b"}]});
        let new = json!({"items": [{"id": "b"}, {"id": "a", "status": "done"}, {"id": "n"}]});
        let (qo, qn) = (
            crate::queue::ValueQueue::new(&old),
            crate::queue::ValueQueue::new(&new),
        );
        let m = match_queues(&qo, &qn);
        let pairs: Vec<(&str, usize, usize)> = m
            .pairs
            .iter()
            .map(|(o, n)| (o.id.unwrap(), o.index, n.index))
            .collect();
        assert_eq!(pairs, [("b", 1, 0), ("a", 0, 1)]);
        assert_eq!(
            m.added.iter().map(|i| i.id).collect::<Vec<_>>(),
            [Some("n")]
        );
        assert!(m.deleted.is_empty());
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
    fn pointers_escape_member_names() {
        let old = json!({"a/b": {"c~d": 1}});
        let new = json!({"a/b": {"c~d": 2}});
        let d = diff_items(&old, &new);
        assert_eq!(d[0].pointer(), "/a~1b/c~0d");
        assert_eq!(d[0].dotted(), "a/b.c~d");
    }
}
