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
///
/// The fields the rules look at are read once, when the view is built: from a parsed
/// [`Value`] ([`Queue::new`]), or straight from the source text by the single-pass scanner
/// ([`crate::scan`]), which gives the same item for the documents it accepts.
#[derive(Debug, Clone)]
pub struct Item<'v> {
    /// Index in the items array.
    pub index: usize,
    /// Pointer to the items array (`/items` or the empty pointer).
    pub items_pointer: &'static str,
    /// A non-empty string `id`.
    pub id: Option<&'v str>,
    pub status: Option<Status>,
    /// `createdAtMs` when it is an integer.
    pub created_at_ms: Option<i64>,
    /// `run`, when it is an object.
    pub run: Option<Run>,
    /// `triage`, when it is an object.
    pub triage: Option<Triage>,
    /// The whole item, to compare it with another version.
    pub body: Body<'v>,
}

/// What the rules read from an item's `run` object. Numbers are `None` when absent or not
/// an integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Run {
    /// `startedAtMs` is present, whatever its value.
    pub has_started_at: bool,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub last_heartbeat_at_ms: Option<i64>,
    pub stale_after_ms: Option<i64>,
    pub attempt: Option<i64>,
}

/// What the rules read from an item's `triage` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Triage {
    pub flagged_at_ms: Option<i64>,
}

/// The whole item: a parsed value, or its bytes in the source text.
#[derive(Debug, Clone, Copy)]
pub enum Body<'v> {
    Value(&'v Value),
    /// `text[span]` is the item object; `triage` is the span of its `triage` member (key to
    /// end of value), when it has one. Only built for documents with no repeated key.
    Raw {
        text: &'v str,
        span: (usize, usize),
        triage: Option<(usize, usize)>,
    },
}

impl<'v> Item<'v> {
    /// Reads an item object.
    pub fn from_value(index: usize, items_pointer: &'static str, value: &'v Value) -> Item<'v> {
        let run = value.get("run").and_then(Value::as_object).map(|r| Run {
            has_started_at: r.contains_key("startedAtMs"),
            started_at_ms: r.get("startedAtMs").and_then(as_ms),
            finished_at_ms: r.get("finishedAtMs").and_then(as_ms),
            last_heartbeat_at_ms: r.get("lastHeartbeatAtMs").and_then(as_ms),
            stale_after_ms: r.get("staleAfterMs").and_then(as_ms),
            attempt: r.get("attempt").and_then(as_ms),
        });
        let triage = value
            .get("triage")
            .and_then(Value::as_object)
            .map(|t| Triage {
                flagged_at_ms: t.get("flaggedAtMs").and_then(as_ms),
            });
        Item {
            index,
            items_pointer,
            id: value
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty()),
            status: value
                .get("status")
                .and_then(Value::as_str)
                .and_then(Status::parse),
            created_at_ms: value.get("createdAtMs").and_then(as_ms),
            run,
            triage,
            body: Body::Value(value),
        }
    }

    /// RFC 6901 pointer to the item object.
    pub fn pointer(&self) -> String {
        format!("{}/{}", self.items_pointer, self.index)
    }

    /// The parsed item, when the view was built from a parsed document ([`Queue::new`]).
    pub fn value(&self) -> Option<&'v Value> {
        match self.body {
            Body::Value(v) => Some(v),
            Body::Raw { .. } => None,
        }
    }

    /// The parsed `run` object (parsed documents only, see [`Item::value`]).
    pub fn run(&self) -> Option<&'v serde_json::Map<String, Value>> {
        self.value()?.get("run")?.as_object()
    }

    /// An integer-millisecond field of `run`; `None` when absent or not an integer.
    pub fn run_ms(&self, field: &str) -> Option<i64> {
        let run = self.run?;
        match field {
            "startedAtMs" => run.started_at_ms,
            "finishedAtMs" => run.finished_at_ms,
            "lastHeartbeatAtMs" => run.last_heartbeat_at_ms,
            "staleAfterMs" => run.stale_after_ms,
            "attempt" => run.attempt,
            _ => self.run()?.get(field).and_then(as_ms),
        }
    }

    /// An integer-millisecond field of the item itself.
    pub fn ms(&self, field: &str) -> Option<i64> {
        match field {
            "createdAtMs" => self.created_at_ms,
            _ => self.value()?.get(field).and_then(as_ms),
        }
    }

    pub fn has_run_field(&self, field: &str) -> bool {
        match field {
            "startedAtMs" => self.run.is_some_and(|r| r.has_started_at),
            _ => self.run().is_some_and(|r| r.contains_key(field)),
        }
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
                    .map(|(index, value)| Item::from_value(index, items_pointer, value))
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
    pub fn by_id(&self) -> IdMap<&'v str, &Item<'v>> {
        let mut map = IdMap::with_capacity_and_hasher(self.items.len(), Default::default());
        for item in &self.items {
            if let Some(id) = item.id {
                map.entry(id).or_insert(item);
            }
        }
        map
    }
}

/// A hash map keyed by item ids. Ids come from the user's own file, so a fast
/// non-cryptographic hash is enough (there is no adversary to flood it).
pub type IdMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;

/// FxHash (rustc's hasher), byte-string flavour.
#[derive(Default, Clone, Copy)]
pub struct IdHasher(u64);

impl IdHasher {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl std::hash::Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
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
        assert_eq!(q.items[0].pointer(), "/items/0");
        let arr: Value = serde_json::json!([{"id": "a", "status": "bogus"}]);
        let q = Queue::new(&arr);
        assert_eq!(q.items[0].pointer(), "/0");
        assert_eq!(q.items[0].status, None);
    }
}
