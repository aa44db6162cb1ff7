//! The typed view of a queue document: its shape, its items, their statuses and times.
//!
//! The view is tolerant: it is built from any JSON value, including one that fails the
//! schema, and simply leaves out what it cannot read (the `schema` rule reports that).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::fields::{Field, Kind, Place, INTEGERS};

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
    /// Every status, in the schema's order.
    pub const ALL: [Status; 6] = [
        Status::Queued,
        Status::Running,
        Status::Done,
        Status::Failed,
        Status::Canceled,
        Status::Stale,
    ];

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

/// One item, read from the document with its position in it: the view the rules read.
///
/// The fields the rules look at are read once, when the view is built, by the field table
/// ([`crate::fields`]): from a parsed value ([`ValueQueue::new`]), or straight from the
/// source text by the single-pass scanner ([`crate::scan`]), which gives the same item for
/// the documents it accepts. The view holds no parsed value: what only a parsed document
/// can give (strings, whole objects) is read through [`ValueItem`], which only a
/// [`ValueQueue`] hands out.
#[derive(Debug, Clone)]
pub struct Item<'v> {
    /// Index in the items array.
    pub index: usize,
    /// Pointer to the items array (`/items` or the empty pointer).
    pub items_pointer: &'static str,
    /// A non-empty string `id`.
    pub id: Option<&'v str>,
    pub status: Option<Status>,
    /// The integer fields, by [`Field::slot`]; `None` when absent or not an integer.
    pub(crate) integers: [Option<i64>; INTEGERS],
    /// [`Field::bit`] of every field present, whatever its value; `run` and `triage` count
    /// only when they are objects (their fields are read from them).
    pub(crate) present: u32,
    /// The whole item, to compare it with another version.
    pub body: Body<'v>,
}

/// The whole item: a parsed value, or its bytes in the source text. Opaque: it can be
/// compared and parsed, never quietly read as "absent".
#[derive(Debug, Clone, Copy)]
pub struct Body<'v>(Repr<'v>);

#[derive(Debug, Clone, Copy)]
enum Repr<'v> {
    Value(&'v Value),
    /// `text[span]` is the item object; `triage` is the span of its `triage` member (key to
    /// end of value), when it has one. Only built for documents with no repeated key.
    Raw {
        text: &'v str,
        span: (usize, usize),
        triage: Option<(usize, usize)>,
    },
}

impl<'v> Body<'v> {
    /// The item at `text[span]`, with its `triage` member at `text[triage]` (scanner only).
    pub(crate) fn raw(text: &'v str, span: (usize, usize), triage: Option<(usize, usize)>) -> Self {
        Body(Repr::Raw { text, span, triage })
    }

    /// The item's source text, when it was scanned, and the span of its `triage` member.
    pub fn source(&self) -> Option<(&'v str, Option<&'v str>)> {
        match self.0 {
            Repr::Value(_) => None,
            Repr::Raw { text, span, triage } => {
                Some((&text[span.0..span.1], triage.map(|(a, b)| &text[a..b])))
            }
        }
    }

    /// The item's byte range in the scanned text (`None` for a parsed value): what locates
    /// a finding, or an edit, without indexing the whole text.
    pub fn span(&self) -> Option<(usize, usize)> {
        match self.0 {
            Repr::Value(_) => None,
            Repr::Raw { span, .. } => Some(span),
        }
    }

    /// The item as a parsed value (parsing its bytes when it was scanned).
    pub fn to_value(&self) -> Option<Cow<'v, Value>> {
        match self.0 {
            Repr::Value(v) => Some(Cow::Borrowed(v)),
            Repr::Raw { text, span, .. } => serde_json::from_str(&text[span.0..span.1])
                .ok()
                .map(Cow::Owned),
        }
    }

    /// A cheap, conservative equality: `true` only when both items are the same bytes once
    /// their `triage` members are cut out, so that they parse to the same fields. `false`
    /// means "compare the parsed values".
    pub fn same_bytes_outside_triage(&self, other: &Body) -> bool {
        let (
            Repr::Raw {
                text: ta,
                span: sa,
                triage: ra,
            },
            Repr::Raw {
                text: tb,
                span: sb,
                triage: rb,
            },
        ) = (self.0, other.0)
        else {
            return false;
        };
        // The item without its triage member: two byte ranges.
        let cut = |s: (usize, usize), r: Option<(usize, usize)>| match r {
            Some((rs, re)) => (s.0..rs, re..s.1),
            None => (s.0..s.1, s.1..s.1),
        };
        let (a1, a2) = cut(sa, ra);
        let (b1, b2) = cut(sb, rb);
        let (ta, tb) = (ta.as_bytes(), tb.as_bytes());
        a1.len() == b1.len() && a2.len() == b2.len() && ta[a1] == tb[b1] && ta[a2] == tb[b2]
    }
}

impl<'v> Item<'v> {
    /// An item with nothing read yet.
    pub(crate) fn empty(index: usize, items_pointer: &'static str, body: Body<'v>) -> Self {
        Item {
            index,
            items_pointer,
            id: None,
            status: None,
            integers: [None; INTEGERS],
            present: 0,
            body,
        }
    }

    /// Reads an item object.
    fn from_object(
        index: usize,
        items_pointer: &'static str,
        value: &'v Value,
        object: &'v Map<String, Value>,
    ) -> Item<'v> {
        let mut item = Item::empty(index, items_pointer, Body(Repr::Value(value)));
        item.read(Place::Item, object);
        item.id = object
            .get(Field::Id.name())
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        item.status = object
            .get(Field::Status.name())
            .and_then(Value::as_str)
            .and_then(Status::parse);
        item
    }

    /// Notes the table's fields of `object`, an object at `place`.
    fn read(&mut self, place: Place, object: &'v Map<String, Value>) {
        for field in Field::at(place) {
            let Some(value) = object.get(field.name()) else {
                continue;
            };
            match (field.kind(), field.slot()) {
                (Kind::Object(inner), _) => {
                    if let Some(o) = value.as_object() {
                        self.present |= field.bit();
                        self.read(inner, o);
                    }
                }
                (_, Some(slot)) => {
                    self.present |= field.bit();
                    self.integers[slot] = as_ms(value);
                }
                _ => self.present |= field.bit(),
            }
        }
    }

    /// RFC 6901 pointer to the item object.
    pub fn pointer(&self) -> String {
        format!("{}/{}", self.items_pointer, self.index)
    }

    /// RFC 6901 pointer to `field` of this item.
    pub fn pointer_to(&self, field: Field) -> String {
        format!("{}/{}", self.pointer(), field.path())
    }

    /// An integer field; `None` when absent, not an integer, or not an integer field.
    #[inline]
    pub fn int(&self, field: Field) -> Option<i64> {
        self.integers[field.slot()?]
    }

    /// Whether `field` is present, whatever its value (`run` and `triage`: as objects).
    #[inline]
    pub fn has(&self, field: Field) -> bool {
        self.present & field.bit() != 0
    }
}

/// Reads a JSON number as integer milliseconds (integers only; floats are a schema error).
pub fn as_ms(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// The typed view of a queue, as the rules read it: built by the scanner from the text, or
/// the view part of a [`ValueQueue`].
#[derive(Debug)]
pub struct Queue<'v> {
    pub shape: Option<Shape>,
    /// Pointer to the items array (`/items` or the empty pointer).
    pub items_pointer: &'static str,
    pub items: Vec<Item<'v>>,
}

/// A queue read from a parsed document: the view (it dereferences to [`Queue`]) and every
/// item's object, for what needs more than the view (`fix`, `stale`, the integer check).
///
/// `fix` surveys a parsed queue, whose strings (`run.childSessionKey`) it can read:
///
/// ```
/// use runqlint::{queue::ValueQueue, repair};
/// let text = r#"[{"id": "a", "status": "running", "run": {"startedAtMs": 1772064000000, "childSessionKey": "k"}}]"#;
/// let doc = serde_json::from_str(text).unwrap();
/// let survey = repair::survey(&ValueQueue::new(&doc), 1_795_564_800_000, 3_600_000);
/// assert_eq!(survey.stale[0].session_key.as_deref(), Some("k"));
/// ```
///
/// A scanned queue holds no strings, so surveying one does not compile:
///
/// ```compile_fail,E0308
/// use runqlint::{repair, scan};
/// let text = r#"[{"id": "a", "status": "running", "run": {"startedAtMs": 1772064000000, "childSessionKey": "k"}}]"#;
/// let survey = repair::survey(&scan::scan(text).unwrap(), 1_795_564_800_000, 3_600_000);
/// ```
#[derive(Debug)]
pub struct ValueQueue<'v> {
    queue: Queue<'v>,
    /// The object of each of `queue.items`, in the same order.
    objects: Vec<&'v Map<String, Value>>,
}

/// An item of a [`ValueQueue`]: the view and the parsed object.
#[derive(Debug, Clone, Copy)]
pub struct ValueItem<'a, 'v> {
    pub view: &'a Item<'v>,
    pub object: &'v Map<String, Value>,
}

impl<'v> ValueQueue<'v> {
    pub fn new(doc: &'v Value) -> ValueQueue<'v> {
        let (shape, items_pointer, array) = match doc {
            Value::Array(a) => (Some(Shape::Array), "", Some(a)),
            Value::Object(o) => (
                Some(Shape::Object),
                "/items",
                o.get("items").and_then(Value::as_array),
            ),
            _ => (None, "", None),
        };
        let mut items = Vec::new();
        let mut objects = Vec::new();
        for (index, value) in array.into_iter().flatten().enumerate() {
            if let Some(object) = value.as_object() {
                items.push(Item::from_object(index, items_pointer, value, object));
                objects.push(object);
            }
        }
        ValueQueue {
            queue: Queue {
                shape,
                items_pointer,
                items,
            },
            objects,
        }
    }

    /// The `running` items of a scanned queue, each parsed from its own bytes
    /// ([`Running::parse`]): what `fix` surveys and repairs, without a value of the whole
    /// file. Its `items` are those items only, each keeping its `index` in the document
    /// and its byte range ([`Body::span`]); everything else about the document is the
    /// scanned view's.
    pub fn running(running: &'v Running<'v>) -> ValueQueue<'v> {
        let (items, objects) = running
            .items
            .iter()
            .filter_map(|(item, value)| Some((item.clone(), value.as_object()?)))
            .unzip();
        ValueQueue {
            queue: Queue {
                shape: running.shape,
                items_pointer: running.items_pointer,
                items,
            },
            objects,
        }
    }

    /// The item at `slot` of `items`.
    pub fn item(&self, slot: usize) -> ValueItem<'_, 'v> {
        ValueItem {
            view: &self.queue.items[slot],
            object: self.objects[slot],
        }
    }

    /// Every item, in order.
    pub fn entries(&self) -> impl Iterator<Item = ValueItem<'_, 'v>> {
        self.queue
            .items
            .iter()
            .zip(&self.objects)
            .map(|(view, &object)| ValueItem { view, object })
    }
}

/// The `running` items of a scanned queue with their parsed values: what
/// [`ValueQueue::running`] reads from. Only a scanned item's own bytes are parsed, so the
/// cost grows with the running items, not with the file.
#[derive(Debug)]
pub struct Running<'t> {
    shape: Option<Shape>,
    items_pointer: &'static str,
    items: Vec<(Item<'t>, Value)>,
}

impl<'t> Running<'t> {
    /// Parses the bytes of every `running` item of `scanned` (a queue the scanner built:
    /// each item has its byte range). `None` when an item has no byte range or its bytes
    /// do not parse to an object, which a scanned queue never gives.
    pub fn parse(scanned: &Queue<'t>) -> Option<Running<'t>> {
        let items = scanned
            .items
            .iter()
            .filter(|item| item.status == Some(Status::Running))
            .map(|item| {
                let (text, _) = item.body.source()?;
                let value: Value = serde_json::from_str(text).ok()?;
                value.is_object().then(|| (item.clone(), value))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Running {
            shape: scanned.shape,
            items_pointer: scanned.items_pointer,
            items,
        })
    }
}

impl<'v> std::ops::Deref for ValueQueue<'v> {
    type Target = Queue<'v>;
    fn deref(&self) -> &Queue<'v> {
        &self.queue
    }
}

impl<'a, 'v> ValueItem<'a, 'v> {
    /// The object at `place` (the item, its `run`, its `triage`), when it is an object.
    pub fn object_at(&self, place: Place) -> Option<&'v Map<String, Value>> {
        match place {
            Place::Item => Some(self.object),
            Place::Run => self.object.get(Field::Run.name())?.as_object(),
            Place::Triage => self.object.get(Field::Triage.name())?.as_object(),
        }
    }

    /// `field`'s value, when present.
    pub fn get(&self, field: Field) -> Option<&'v Value> {
        self.object_at(field.place())?.get(field.name())
    }

    /// `field`'s value when it is a string.
    pub fn str(&self, field: Field) -> Option<&'v str> {
        self.get(field)?.as_str()
    }

    /// The `run` object.
    pub fn run(&self) -> Option<&'v Map<String, Value>> {
        self.object_at(Place::Run)
    }
}

impl<'v> Queue<'v> {
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
        let q = ValueQueue::new(&obj);
        assert_eq!(q.shape, Some(Shape::Object));
        assert_eq!(q.items.len(), 1);
        assert_eq!(q.items[0].pointer(), "/items/0");
        let arr: Value = serde_json::json!([{"id": "a", "status": "bogus"}]);
        let q = ValueQueue::new(&arr);
        assert_eq!(q.items[0].pointer(), "/0");
        assert_eq!(q.items[0].status, None);
    }

    #[test]
    fn fields_are_read_by_the_table() {
        let doc = serde_json::json!([
            {"id": "a", "status": "running", "createdAtMs": 5, "title": "t",
             "run": {"startedAtMs": 7, "attempt": 1.0, "childSessionKey": "k", "x": 1},
             "triage": "not an object"},
            {"id": "", "status": "stale", "run": [], "triage": {"flaggedAtMs": -3}}
        ]);
        let q = ValueQueue::new(&doc);
        let (a, b) = (q.item(0), q.item(1));
        assert_eq!(a.view.id, Some("a"));
        assert_eq!(a.view.int(Field::CreatedAtMs), Some(5));
        assert_eq!(a.view.int(Field::StartedAtMs), Some(7));
        assert_eq!(a.view.int(Field::FinishedAtMs), None);
        assert!(a.view.has(Field::Attempt) && a.view.int(Field::Attempt).is_none());
        assert!(a.view.has(Field::Title) && a.view.has(Field::Run));
        assert!(!a.view.has(Field::Triage), "a triage that is not an object");
        assert_eq!(a.view.int(Field::Title), None);
        assert_eq!(a.str(Field::ChildSessionKey), Some("k"));
        assert_eq!(a.str(Field::Title), Some("t"));
        assert_eq!(a.str(Field::TriageStatus), None);
        assert_eq!(b.view.id, None);
        assert!(!b.view.has(Field::Run) && !b.view.has(Field::StartedAtMs));
        assert_eq!(b.view.int(Field::FlaggedAtMs), Some(-3));
        assert_eq!(
            b.view.pointer_to(Field::FlaggedAtMs),
            "/1/triage/flaggedAtMs"
        );
        assert_eq!(q.entries().count(), 2);
    }
}
