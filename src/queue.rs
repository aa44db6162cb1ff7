//! The typed view of a queue document: its shape, its items, their statuses and times.
//!
//! The view is tolerant: it is built from any JSON value, including one that fails the
//! schema, and simply leaves out what it cannot read (the `schema` rule reports that).

use serde_json::Value;

/// The lifecycle state of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
    Canceled,
    Stale,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "queued" => Status::Queued,
            "running" => Status::Running,
            "done" => Status::Done,
            "failed" => Status::Failed,
            "canceled" => Status::Canceled,
            "stale" => Status::Stale,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Canceled => "canceled",
            Status::Stale => "stale",
        }
    }

    /// `done`, `failed` and `canceled` end an item's life.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Canceled)
    }

    /// Whether an item may move from `self` (base) to `to` (now).
    pub fn may_become(self, to: Status) -> bool {
        match self {
            Status::Queued => true,
            Status::Running => matches!(to, Status::Running | Status::Stale) || to.is_terminal(),
            Status::Stale => to == Status::Stale || to.is_terminal(),
            terminal => terminal == to,
        }
    }
}

/// Whether the document is `{"items": [...]}` or a bare `[...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Object,
    Array,
}

/// One item, read from the document with its position in it.
#[derive(Debug, Clone)]
pub struct Item<'v> {
    /// RFC 6901 pointer to the item object.
    pub pointer: String,
    pub id: Option<&'v str>,
    pub status: Option<Status>,
    pub value: &'v Value,
}

impl<'v> Item<'v> {
    pub fn run(&self) -> Option<&'v serde_json::Map<String, Value>> {
        self.value.get("run")?.as_object()
    }

    /// An integer-millisecond field of `run`; `None` when absent or not an integer.
    pub fn run_ms(&self, field: &str) -> Option<i64> {
        self.run()?.get(field).and_then(as_ms)
    }

    /// An integer-millisecond field of the item itself.
    pub fn ms(&self, field: &str) -> Option<i64> {
        self.value.get(field).and_then(as_ms)
    }

    pub fn has_run_field(&self, field: &str) -> bool {
        self.run().is_some_and(|r| r.contains_key(field))
    }
}

/// Reads a JSON number as integer milliseconds (integers only; floats are a schema error).
pub fn as_ms(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// A typed view over a parsed document.
#[derive(Debug)]
pub struct Queue<'v> {
    pub shape: Option<Shape>,
    /// Pointer to the items array (`/items` or the empty pointer).
    pub items_pointer: &'static str,
    pub items: Vec<Item<'v>>,
}

impl<'v> Queue<'v> {
    pub fn new(doc: &'v Value) -> Queue<'v> {
        let (shape, items_pointer, array) = match doc {
            Value::Array(a) => (Some(Shape::Array), "", Some(a)),
            Value::Object(o) => (
                Some(Shape::Object),
                "/items",
                o.get("items").and_then(Value::as_array),
            ),
            _ => (None, "", None),
        };
        let items = array
            .map(|a| {
                a.iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_object())
                    .map(|(index, value)| Item {
                        pointer: format!("{items_pointer}/{index}"),
                        id: value
                            .get("id")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty()),
                        status: value
                            .get("status")
                            .and_then(Value::as_str)
                            .and_then(Status::parse),
                        value,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Queue {
            shape,
            items_pointer,
            items,
        }
    }

    /// Items by id; the first item wins when ids repeat (`duplicate-id` reports the rest).
    pub fn by_id(&self) -> std::collections::HashMap<&'v str, &Item<'v>> {
        let mut map = std::collections::HashMap::with_capacity(self.items.len());
        for item in &self.items {
            if let Some(id) = item.id {
                map.entry(id).or_insert(item);
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_brief() {
        use Status::*;
        let all = [Queued, Running, Done, Failed, Canceled, Stale];
        for to in all {
            assert!(Queued.may_become(to));
        }
        assert!(
            Running.may_become(Stale) && Running.may_become(Done) && !Running.may_become(Queued)
        );
        assert!(
            Stale.may_become(Failed) && !Stale.may_become(Running) && !Stale.may_become(Queued)
        );
        for t in [Done, Failed, Canceled] {
            for to in all {
                assert_eq!(t.may_become(to), t == to);
            }
        }
    }

    #[test]
    fn both_shapes_are_read() {
        let obj: Value = serde_json::json!({"items": [{"id": "a", "status": "queued"}, 5], "v": 1});
        let q = Queue::new(&obj);
        assert_eq!(q.shape, Some(Shape::Object));
        assert_eq!(q.items.len(), 1);
        assert_eq!(q.items[0].pointer, "/items/0");
        let arr: Value = serde_json::json!([{"id": "a", "status": "bogus"}]);
        let q = Queue::new(&arr);
        assert_eq!(q.items[0].pointer, "/0");
        assert_eq!(q.items[0].status, None);
    }
}
