//! The queue's fields, in one table: where each one lives (the item, its `run`, its
//! `triage`) and what the schema says it holds.
//!
//! The table drives the scanner ([`crate::scan`] checks and reads every listed field by its
//! [`Kind`], and leaves every other key to "any value"), the typed view
//! ([`crate::queue::Item`] stores the integers and which fields are present, by this
//! table), `schema::check_integers` (every integer field) and the time rules (every
//! [`Kind::EpochMs`] field). A test derives the table from `schema/run_queue.schema.json`
//! and fails when the two disagree, so a field cannot be added to, dropped from or changed
//! in the schema without the scanner following.

/// The object that holds a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// The item object (`$defs/item`).
    Item,
    /// The item's `run` object (`$defs/run`).
    Run,
    /// The item's `triage` object (`$defs/triage`).
    Triage,
}

impl Place {
    /// The pointer from the item to this object, with a trailing `/` (empty for the item).
    pub const fn prefix(self) -> &'static str {
        match self {
            Place::Item => "",
            Place::Run => "run/",
            Place::Triage => "triage/",
        }
    }
}

/// What the schema allows in a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `{"type": "string"}`.
    Str,
    /// `{"type": "string", "minLength": 1}`.
    NonEmptyStr,
    /// `{"type": "array", "items": {"type": "string"}}`.
    StrArray,
    /// `$defs/status`: one of [`crate::queue::Status`]'s names.
    Status,
    /// `$defs/epochMs`: an integer ≥ 0, milliseconds since the Unix epoch.
    EpochMs,
    /// `{"type": "integer", "minimum": 1}`: a duration or a count.
    PositiveInt,
    /// An object whose fields are the table's fields at that place (`$defs/run`, …).
    Object(Place),
}

impl Kind {
    /// Whether the view stores the field's value as an integer.
    pub const fn is_integer(self) -> bool {
        matches!(self, Kind::EpochMs | Kind::PositiveInt)
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub place: Place,
    /// The member name, as in the file.
    pub name: &'static str,
    pub kind: Kind,
    /// Listed in its object's `required`.
    pub required: bool,
}

/// Declares [`Field`], [`Field::ALL`] and the table, and `lookup` as a chain of comparisons
/// with constant names (as fast as a hand-written `match`), all from one list.
macro_rules! fields {
    ($($(#[doc = $doc:literal])* $field:ident: $place:ident $name:literal $kind:expr, $required:literal;)*) => {
        /// A field of the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $($(#[doc = $doc])* $field,)*
        }

        impl Field {
            /// Every field, in table order.
            pub const ALL: &'static [Field] = &[$(Field::$field),*];
        }

        const TABLE: &[Spec] = &[$(Spec {
            place: Place::$place,
            name: $name,
            kind: $kind,
            required: $required,
        }),*];

        /// The field named `key` in an object at `place`.
        #[inline]
        pub fn lookup(place: Place, key: &[u8]) -> Option<Field> {
            $(if matches!(place, Place::$place) && key == $name.as_bytes() {
                return Some(Field::$field);
            })*
            None
        }
    };
}

use Kind::*;

fields! {
    Id: Item "id" NonEmptyStr, true;
    Status: Item "status" Kind::Status, true;
    Title: Item "title" Str, false;
    Notes: Item "notes" Str, false;
    TaskIds: Item "taskIds" StrArray, false;
    CreatedAtMs: Item "createdAtMs" EpochMs, false;
    RequeuedFrom: Item "requeuedFrom" NonEmptyStr, false;
    Run: Item "run" Object(Place::Run), false;
    Triage: Item "triage" Object(Place::Triage), false;
    StartedAtMs: Run "startedAtMs" EpochMs, false;
    FinishedAtMs: Run "finishedAtMs" EpochMs, false;
    LastHeartbeatAtMs: Run "lastHeartbeatAtMs" EpochMs, false;
    StaleAfterMs: Run "staleAfterMs" PositiveInt, false;
    Attempt: Run "attempt" PositiveInt, false;
    DispatcherRunId: Run "dispatcherRunId" Str, false;
    ChildSessionKey: Run "childSessionKey" Str, false;
    Error: Run "error" Str, false;
    RunNotes: Run "notes" Str, false;
    TriageStatus: Triage "status" NonEmptyStr, false;
    Reason: Triage "reason" NonEmptyStr, false;
    FlaggedAtMs: Triage "flaggedAtMs" EpochMs, false;
}

/// How many integer fields there are (the size of the view's integer array).
pub const INTEGERS: usize = integer_slots().1;

/// Each field's index among the integer fields (`u8::MAX` for the others).
const SLOTS: [u8; TABLE.len()] = integer_slots().0;

const fn integer_slots() -> ([u8; TABLE.len()], usize) {
    let mut slots = [u8::MAX; TABLE.len()];
    let (mut i, mut n) = (0, 0);
    while i < TABLE.len() {
        if TABLE[i].kind.is_integer() {
            slots[i] = n as u8;
            n += 1;
        }
        i += 1;
    }
    (slots, n)
}

// A field's presence is one bit of a `u32`.
const _: () = assert!(TABLE.len() <= 32);

/// The presence bits of the fields an object at `place` must have.
#[inline]
pub const fn required(place: Place) -> u32 {
    REQUIRED[place as usize]
}

const REQUIRED: [u32; 3] = {
    let mut bits = [0; 3];
    let mut i = 0;
    while i < TABLE.len() {
        if TABLE[i].required {
            bits[TABLE[i].place as usize] |= 1 << i;
        }
        i += 1;
    }
    bits
};

impl Field {
    pub const fn spec(self) -> &'static Spec {
        &TABLE[self as usize]
    }
    pub const fn place(self) -> Place {
        self.spec().place
    }
    pub const fn name(self) -> &'static str {
        self.spec().name
    }
    pub const fn kind(self) -> Kind {
        self.spec().kind
    }
    /// The field's presence bit.
    #[inline]
    pub const fn bit(self) -> u32 {
        1 << self as u32
    }
    /// The field's index in the view's integer array, for integer fields.
    #[inline]
    pub const fn slot(self) -> Option<usize> {
        match SLOTS[self as usize] {
            u8::MAX => None,
            n => Some(n as usize),
        }
    }
    /// The pointer from the item to the field (`run/startedAtMs`).
    pub fn path(self) -> String {
        format!("{}{}", self.place().prefix(), self.name())
    }
    /// The fields held by objects at `place`, in table order.
    pub fn at(place: Place) -> impl Iterator<Item = Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(move |f| f.place() == place)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Status as QueueStatus;
    use serde_json::{json, Map, Value};

    /// The schema without its annotations (`description`, `title`), which constrain nothing.
    fn constraints(schema: &Value) -> Value {
        let Value::Object(o) = schema else {
            return schema.clone();
        };
        let mut out = Map::new();
        for (keyword, v) in o {
            let v = match (keyword.as_str(), v) {
                ("description" | "title", _) => continue,
                // Maps of names to schemas: the names are data, not keywords.
                ("properties" | "$defs", Value::Object(m)) => Value::Object(
                    m.iter()
                        .map(|(name, s)| (name.clone(), constraints(s)))
                        .collect(),
                ),
                ("items" | "if" | "then" | "else", s) => constraints(s),
                (_, other) => other.clone(),
            };
            out.insert(keyword.clone(), v);
        }
        Value::Object(out)
    }

    /// The kind a property schema asks for; anything the scanner has no kind for is an error.
    fn kind_of(property: &Value) -> Result<Kind, String> {
        let kinds = [
            (json!({"type": "string"}), Str),
            (json!({"type": "string", "minLength": 1}), NonEmptyStr),
            (
                json!({"type": "array", "items": {"type": "string"}}),
                StrArray,
            ),
            (json!({"$ref": "#/$defs/status"}), Kind::Status),
            (json!({"$ref": "#/$defs/epochMs"}), EpochMs),
            (json!({"type": "integer", "minimum": 1}), PositiveInt),
            (json!({"$ref": "#/$defs/run"}), Object(Place::Run)),
            (json!({"$ref": "#/$defs/triage"}), Object(Place::Triage)),
        ];
        kinds
            .iter()
            .find(|(schema, _)| schema == property)
            .map(|&(_, kind)| kind)
            .ok_or_else(|| format!("no scanner kind for {property}"))
    }

    /// The table, read from the schema: `(place, name, kind, required)`, sorted.
    fn table_of(schema: &Value) -> Result<Vec<(Place, String, Kind, bool)>, String> {
        let schema = constraints(schema);
        let defs = schema["$defs"].as_object().ok_or("no $defs")?;
        let names: Vec<&str> = defs.keys().map(String::as_str).collect();
        let mut want = vec!["epochMs", "item", "items", "run", "status", "triage"];
        want.sort_unstable();
        if names != want {
            return Err(format!("$defs are {names:?}, the scanner knows {want:?}"));
        }
        // What the scanner writes out by hand, outside the table.
        let mut root = schema.as_object().ok_or("not an object")?.clone();
        root.remove("$defs");
        root.remove("$schema");
        root.remove("$id");
        let expected_root = json!({
            "type": ["object", "array"],
            "if": {"type": "object"},
            "then": {"required": ["items"], "properties": {"items": {"$ref": "#/$defs/items"}}},
            "else": {"$ref": "#/$defs/items"}
        });
        if Value::Object(root.clone()) != expected_root {
            return Err(format!("the root is {}", Value::Object(root)));
        }
        if defs["items"] != json!({"type": "array", "items": {"$ref": "#/$defs/item"}}) {
            return Err(format!("$defs/items is {}", defs["items"]));
        }
        if defs["epochMs"] != json!({"type": "integer", "minimum": 0}) {
            return Err(format!("$defs/epochMs is {}", defs["epochMs"]));
        }
        let statuses: Vec<&str> = QueueStatus::ALL.iter().map(|s| s.as_str()).collect();
        if defs["status"] != json!({ "enum": statuses }) {
            return Err(format!("$defs/status is {}", defs["status"]));
        }
        let mut table = Vec::new();
        for (place, name) in [
            (Place::Item, "item"),
            (Place::Run, "run"),
            (Place::Triage, "triage"),
        ] {
            let mut def: Map<String, Value> =
                defs[name].as_object().ok_or("not an object")?.clone();
            if def.remove("type") != Some(json!("object")) {
                return Err(format!("$defs/{name} is not of type object"));
            }
            let required: Vec<String> = match def.remove("required") {
                Some(r) => serde_json::from_value(r).map_err(|e| e.to_string())?,
                None => Vec::new(),
            };
            let Some(Value::Object(properties)) = def.remove("properties") else {
                return Err("no properties".into());
            };
            if !def.is_empty() {
                return Err(format!("unknown keywords in {place:?}: {def:?}"));
            }
            for r in &required {
                if !properties.contains_key(r) {
                    return Err(format!("required {r} has no property"));
                }
            }
            for (name, property) in &properties {
                let kind = kind_of(property).map_err(|e| format!("{place:?} {name}: {e}"))?;
                table.push((place, name.clone(), kind, required.contains(name)));
            }
        }
        table.sort();
        Ok(table)
    }

    fn the_table() -> Vec<(Place, String, Kind, bool)> {
        let mut table: Vec<_> = Field::ALL
            .iter()
            .map(|f| {
                let s = f.spec();
                (s.place, s.name.to_string(), s.kind, s.required)
            })
            .collect();
        table.sort();
        table
    }

    #[test]
    fn the_table_is_the_schema() {
        let schema: Value = serde_json::from_str(crate::schema::SCHEMA_TEXT).unwrap();
        assert_eq!(
            table_of(&schema).unwrap(),
            the_table(),
            "schema/run_queue.schema.json and src/fields.rs disagree"
        );
    }

    /// The derivation is not vacuous: every kind of edit to the schema is noticed.
    #[test]
    fn a_changed_schema_is_noticed() {
        let schema: Value = serde_json::from_str(crate::schema::SCHEMA_TEXT).unwrap();
        let edits: [(&str, Value); 9] = [
            ("/$defs/run/properties/childSessionKey", Value::Null),
            ("/$defs/run/properties/newKey", json!({"type": "string"})),
            (
                "/$defs/item/properties/title",
                json!({"type": "string", "maxLength": 9}),
            ),
            (
                "/$defs/triage/properties/flaggedAtMs",
                json!({"type": "integer"}),
            ),
            ("/$defs/epochMs/minimum", json!(1)),
            ("/$defs/item/required", json!(["id"])),
            ("/$defs/run/additionalProperties", json!(false)),
            ("/$defs/status/enum", json!(["queued"])),
            ("/else", json!({"type": "array"})),
        ];
        for (pointer, new) in edits {
            let mut changed = schema.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let object = changed
                .pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap();
            if new.is_null() {
                object.remove(key);
            } else {
                object.insert(key.to_string(), new);
            }
            let derived = table_of(&changed);
            assert!(
                derived.as_ref() != Ok(&the_table()),
                "{pointer} changed and the table still matches"
            );
        }
    }

    #[test]
    fn lookup_finds_every_field_and_nothing_else() {
        for &f in Field::ALL {
            assert_eq!(lookup(f.place(), f.name().as_bytes()), Some(f));
            assert_eq!(f.spec(), &TABLE[f as usize]);
        }
        assert_eq!(lookup(Place::Item, b"startedAtMs"), None);
        assert_eq!(lookup(Place::Run, b"id"), None);
        assert_eq!(lookup(Place::Triage, b"statu"), None);
        assert_eq!(Field::RunNotes.path(), "run/notes");
        assert_eq!(
            Field::at(Place::Triage).collect::<Vec<_>>(),
            [Field::TriageStatus, Field::Reason, Field::FlaggedAtMs]
        );
        let integers: Vec<usize> = Field::ALL.iter().filter_map(|f| f.slot()).collect();
        assert_eq!(integers, (0..INTEGERS).collect::<Vec<_>>());
        assert_eq!(required(Place::Item), Field::Id.bit() | Field::Status.bit());
        assert_eq!(required(Place::Run) | required(Place::Triage), 0);
    }
}
