//! The fast path of every check: one pass over the source text that, for the common case,
//! does everything the slow path does with a parsed `Value`, without building one.
//!
//! [`scan`] reads a queue document byte by byte and at the same time
//!
//! * checks that it is strict JSON (what `serde_json` accepts),
//! * checks that no object repeats a key,
//! * checks that it satisfies the embedded JSON Schema (`schema/run_queue.schema.json`):
//!   the document's shape is written out below, every item, `run` and `triage` member is
//!   checked by the field table ([`crate::fields`]), and
//! * builds the typed [`Queue`] view, borrowing ids and statuses from the text.
//!
//! It never reports anything. When the text is not all of the above, or is merely unusual
//! (escaped keys, a lone surrogate escape, `1.0` where an integer belongs, a time past
//! `i64`, very deep nesting), it returns `None` and the caller takes the slow path:
//! `serde_json` + `jsonschema`, which then produce the findings. So `Some` must imply
//! "the slow path finds no `invalid-json`, `duplicate-key` or `schema` problem and builds
//! the same view"; `None` costs only time. [`verify`] holds the scanner to that against
//! `serde_json`, `jsonschema` and [`ValueQueue::new`], in the tests and the fuzz target.

use crate::document::KeySet;
use crate::fields::{self, Field, Kind, Place};
use crate::queue::{Body, Item, Queue, Shape, Status, ValueQueue};

/// Nesting deeper than the limit is left to the slow path, which reports it.
const MAX_DEPTH: u32 = crate::document::MAX_DEPTH as u32;

/// Scans `text`; `None` means "take the slow path".
pub fn scan(text: &str) -> Option<Queue<'_>> {
    let mut s = QueueScanner {
        text,
        b: text.as_bytes(),
        pos: 0,
    };
    s.ws();
    let queue = match s.peek()? {
        b'{' => s.root_object()?,
        b'[' => {
            let mut items = Vec::new();
            s.items(&mut items, "")?;
            Queue {
                shape: Some(Shape::Array),
                items_pointer: "",
                items,
            }
        }
        // The schema wants an object or an array.
        _ => return None,
    };
    s.ws();
    (s.pos == s.b.len()).then_some(queue)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// A word with the high bit set in (at least) the lowest byte of `v` that is `"`, `\\` or
/// below 0x20, and zero when there is none. Bits above the lowest one may be spurious
/// (borrows), so only the lowest is used.
#[inline]
fn string_specials(v: u64) -> u64 {
    let quote = v ^ (ONES * u64::from(b'"'));
    let backslash = v ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = v.wrapping_sub(ONES * 0x20) & !v;
    (zero_quote | zero_backslash | control) & HIGHS
}

struct QueueScanner<'t> {
    text: &'t str,
    b: &'t [u8],
    pos: usize,
}

impl<'t> QueueScanner<'t> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    #[inline]
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    #[inline]
    fn ws(&mut self) {
        loop {
            match self.b.get(self.pos) {
                Some(b' ') => {
                    // Indentation comes in runs of spaces: skip them 8 at a time.
                    self.pos += 1;
                    while let Some(v) = self.word() {
                        let x = v ^ (ONES * u64::from(b' '));
                        if x != 0 {
                            self.pos += (x.trailing_zeros() / 8) as usize;
                            break;
                        }
                        self.pos += 8;
                    }
                }
                Some(b'\n' | b'\r' | b'\t') => self.pos += 1,
                _ => return,
            }
        }
    }

    /// The next 8 bytes as a little-endian word, if there are 8 left.
    #[inline]
    fn word(&self) -> Option<u64> {
        let chunk = self.b.get(self.pos..self.pos + 8)?;
        Some(u64::from_le_bytes(chunk.try_into().ok()?))
    }

    /// After a member or element: `Some(true)` for `,`, `Some(false)` for `close`.
    #[inline]
    fn next_or_close(&mut self, close: u8) -> Option<bool> {
        self.ws();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.ws();
                Some(true)
            }
            c if c == close => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// Opens an object: `Some(true)` if it has members (positioned on the first key).
    #[inline]
    fn open(&mut self, open: u8, close: u8) -> Option<bool> {
        self.eat(open)?;
        self.ws();
        if self.peek()? == close {
            self.pos += 1;
            Some(false)
        } else {
            Some(true)
        }
    }

    /// A key and its colon; the raw key bytes (keys with escapes go to the slow path).
    #[inline]
    fn key(&mut self) -> Option<&'t [u8]> {
        let (raw, escaped) = self.string()?;
        if escaped {
            return None;
        }
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(raw)
    }

    /// A string; its raw content (between the quotes) and whether it has escapes.
    #[inline]
    fn string(&mut self) -> Option<(&'t [u8], bool)> {
        self.eat(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Ordinary characters 8 at a time, up to the first quote, backslash or control.
            while let Some(v) = self.word() {
                let special = string_specials(v);
                if special != 0 {
                    self.pos += (special.trailing_zeros() / 8) as usize;
                    break;
                }
                self.pos += 8;
            }
            let c = *self.b.get(self.pos)?;
            self.pos += 1;
            match c {
                b'"' => return Some((&self.b[start..self.pos - 1], escaped)),
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                0..=0x1f => return None,
                _ => {}
            }
        }
    }

    /// The rest of an escape sequence after `\`.
    fn escape(&mut self) -> Option<()> {
        let c = *self.b.get(self.pos)?;
        self.pos += 1;
        match c {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(()),
            b'u' => {
                let unit = self.hex4()?;
                if (0xDC00..0xE000).contains(&unit) {
                    return None; // a lone trailing surrogate
                }
                if (0xD800..0xDC00).contains(&unit) {
                    // A leading surrogate must be followed by an escaped trailing one.
                    self.eat(b'\\')?;
                    self.eat(b'u')?;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                }
                Some(())
            }
            _ => None,
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.b.get(self.pos..self.pos + 4)?;
        let mut v = 0;
        for &d in digits {
            v = v * 16 + (d as char).to_digit(16)?;
        }
        self.pos += 4;
        Some(v)
    }

    /// A string with no escapes, borrowed from the text (ids and statuses).
    #[inline]
    fn plain_str(&mut self) -> Option<&'t str> {
        let start = self.pos + 1;
        let (raw, escaped) = self.string()?;
        if escaped {
            return None;
        }
        Some(&self.text[start..start + raw.len()])
    }

    /// A number; `Some(Some(n))` when it is a plain non-negative integer that fits `i64`,
    /// `Some(None)` for any other number `serde_json` reads, `None` otherwise.
    fn number(&mut self) -> Option<Option<i64>> {
        let start = self.pos;
        let negative = self.peek()? == b'-';
        if negative {
            self.pos += 1;
        }
        let mut value: u64 = 0;
        let mut overflow = false;
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                while let Some(&d @ b'0'..=b'9') = self.b.get(self.pos) {
                    match value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(d - b'0')))
                    {
                        Some(v) => value = v,
                        None => overflow = true,
                    }
                    self.pos += 1;
                }
            }
            _ => return None,
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            float = true;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            float = true;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        if float || overflow {
            // serde_json refuses numbers out of f64's range; stay well clear of the edge.
            let literal = &self.text[start..self.pos];
            let f: f64 = literal.parse().ok()?;
            if literal.len() > 64 || !f.is_finite() || f.abs() >= 1e300 {
                return None;
            }
            return Some(None);
        }
        if negative {
            return Some(None);
        }
        Some(i64::try_from(value).ok())
    }

    fn digits(&mut self) -> Option<()> {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.b.get(self.pos) {
            self.pos += 1;
        }
        (self.pos > start).then_some(())
    }

    /// An object: `member` reads the value of each key in turn. A repeated key declines.
    fn members(&mut self, mut member: impl FnMut(&mut Self, &'t [u8]) -> Option<()>) -> Option<()> {
        let mut more = self.open(b'{', b'}')?;
        let mut keys = KeySet::default();
        while more {
            let key = self.key()?;
            if keys.insert(key, ()).is_some() {
                return None;
            }
            member(self, key)?;
            more = self.next_or_close(b'}')?;
        }
        Some(())
    }

    /// Any JSON value, checked for syntax and repeated keys only.
    fn any(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.members(|s, _| s.any(depth + 1))
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let mut more = self.open(b'[', b']')?;
                while more {
                    self.any(depth + 1)?;
                    more = self.next_or_close(b']')?;
                }
                Some(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.b.get(self.pos..self.pos + word.len())? == word {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    /// `{"items": [...], ...}`.
    fn root_object(&mut self) -> Option<Queue<'t>> {
        let mut items = None;
        self.members(|s, key| {
            if key == b"items" {
                let mut list = Vec::new();
                s.items(&mut list, "/items")?;
                items = Some(list);
                Some(())
            } else {
                s.any(1)
            }
        })?;
        Some(Queue {
            shape: Some(Shape::Object),
            items_pointer: "/items",
            items: items?,
        })
    }

    /// The items array: every element an item.
    fn items(&mut self, out: &mut Vec<Item<'t>>, items_pointer: &'static str) -> Option<()> {
        // Room for more items than the text can hold at ~160 bytes each, so the vector never
        // regrows (and copies) midway; capacity never touched costs no memory.
        out.reserve(self.b.len() / 160);
        let mut more = self.open(b'[', b']')?;
        while more {
            let item = self.item(out.len(), items_pointer)?;
            out.push(item);
            more = self.next_or_close(b']')?;
        }
        Some(())
    }

    /// One item object, as `$defs/item` describes it.
    fn item(&mut self, index: usize, items_pointer: &'static str) -> Option<Item<'t>> {
        let start = self.pos;
        let mut item = Item::empty(
            index,
            items_pointer,
            Body::raw(self.text, (start, start), None),
        );
        let mut triage = None;
        self.fields(Place::Item, &mut item, &mut triage)?;
        item.body = Body::raw(self.text, (start, self.pos), triage);
        Some(item)
    }

    /// An object at `place` (an item, its `run`, its `triage`): each field of the table is
    /// checked against its kind and read into `item`, any other key may hold any value. A
    /// repeated key declines. `triage` gets the span of the item's `triage` member.
    fn fields(
        &mut self,
        place: Place,
        item: &mut Item<'t>,
        triage: &mut Option<(usize, usize)>,
    ) -> Option<()> {
        // Item members are at depth 3 (root, items, item), `run`'s and `triage`'s at 4.
        let depth = if place == Place::Item { 3 } else { 4 };
        let mut more = self.open(b'{', b'}')?;
        let mut other = KeySet::default();
        while more {
            let key_start = self.pos;
            let key = self.key()?;
            match fields::lookup(place, key) {
                None => {
                    if other.insert(key, ()).is_some() {
                        return None;
                    }
                    self.any(depth)?;
                }
                Some(field) => {
                    if item.present & field.bit() != 0 {
                        return None;
                    }
                    item.present |= field.bit();
                    self.field(field, item, triage)?;
                    if field == Field::Triage {
                        *triage = Some((key_start, self.pos));
                    }
                }
            }
            more = self.next_or_close(b'}')?;
        }
        let required = fields::required(place);
        (item.present & required == required).then_some(())
    }

    /// The value of `field`, checked against its kind; integers, the id and the status are
    /// kept in `item`.
    #[inline]
    fn field(
        &mut self,
        field: Field,
        item: &mut Item<'t>,
        triage: &mut Option<(usize, usize)>,
    ) -> Option<()> {
        if field == Field::Id {
            // The view borrows the id from the text, so an escaped one takes the slow path.
            item.id = Some(self.nonempty_str()?);
            return Some(());
        }
        match field.kind() {
            Kind::Str => self.any_str(),
            Kind::NonEmptyStr => self.nonempty_any_str(),
            Kind::StrArray => self.str_array(),
            Kind::Status => {
                let status = Status::parse(self.plain_str()?)?;
                if field == Field::Status {
                    item.status = Some(status);
                }
                Some(())
            }
            Kind::EpochMs => {
                item.integers[field.slot()?] = Some(self.epoch_ms()?);
                Some(())
            }
            Kind::PositiveInt => {
                item.integers[field.slot()?] = Some(self.positive_int()?);
                Some(())
            }
            Kind::Object(inner) => self.fields(inner, item, triage),
        }
    }

    /// `{"type": "string"}`.
    fn any_str(&mut self) -> Option<()> {
        self.string().map(drop)
    }

    /// `{"type": "string", "minLength": 1}` (an escape is at least one character).
    fn nonempty_any_str(&mut self) -> Option<()> {
        let (raw, _) = self.string()?;
        (!raw.is_empty()).then_some(())
    }

    /// A non-empty string without escapes.
    fn nonempty_str(&mut self) -> Option<&'t str> {
        self.plain_str().filter(|s| !s.is_empty())
    }

    /// `{"type": "array", "items": {"type": "string"}}`.
    fn str_array(&mut self) -> Option<()> {
        let mut more = self.open(b'[', b']')?;
        while more {
            self.any_str()?;
            more = self.next_or_close(b']')?;
        }
        Some(())
    }

    /// `$defs/epochMs`: an integer ≥ 0 (here: a plain one that fits `i64`).
    fn epoch_ms(&mut self) -> Option<i64> {
        self.number()?
    }

    /// `{"type": "integer", "minimum": 1}`.
    fn positive_int(&mut self) -> Option<i64> {
        self.number()?.filter(|&n| n >= 1)
    }
}

/// The differential check of the fast path, for the tests and the fuzz target: `Ok(true)`
/// when [`scan`] accepts `text` and the slow path agrees (strict JSON, no repeated key, valid
/// for the schema with integer times, the same view field by field, each item's bytes the
/// item's value); `Ok(false)` when [`scan`] declines; `Err` names the disagreement.
pub fn verify(text: &str) -> Result<bool, String> {
    let Some(fast) = scan(text) else {
        return Ok(false);
    };
    let parsed = crate::document::parse(text.as_bytes())
        .map_err(|e| format!("the scanner accepted invalid JSON: {e:?}"))?;
    if parsed.has_duplicate_keys {
        return Err("the scanner accepted a repeated key".into());
    }
    let slow = ValueQueue::new(&parsed.value);
    let mut findings = Vec::new();
    crate::schema::check(&parsed.value, &mut findings);
    crate::schema::check_integers(&slow, &mut findings);
    if let Some(f) = findings.first() {
        return Err(format!(
            "the scanner accepted what the schema rejects: {} {}",
            f.pointer, f.message
        ));
    }
    let shape = |q: &Queue| (q.shape, q.items_pointer, q.items.len());
    if shape(&fast) != shape(&slow) {
        return Err(format!("{:?} != {:?}", shape(&fast), shape(&slow)));
    }
    type ItemFacts<'v> = (
        usize,
        &'static str,
        Option<&'v str>,
        Option<Status>,
        [Option<i64>; fields::INTEGERS],
        u32,
    );
    fn facts<'v>(i: &Item<'v>) -> ItemFacts<'v> {
        (
            i.index,
            i.items_pointer,
            i.id,
            i.status,
            i.integers,
            i.present,
        )
    }
    for (f, s) in fast.items.iter().zip(&slow.items) {
        if facts(f) != facts(s) {
            return Err(format!("scanned {:?} != parsed {:?}", facts(f), facts(s)));
        }
        let (source, triage) = f.body.source().ok_or("a scanned item without its text")?;
        let item: serde_json::Value = serde_json::from_str(source).map_err(|e| e.to_string())?;
        if parsed.value.pointer(&f.pointer()) != Some(&item) {
            return Err(format!("the bytes of item {} are not its value", f.index));
        }
        if let Some(member) = triage {
            let wrapped: serde_json::Value =
                serde_json::from_str(&format!("{{{member}}}")).map_err(|e| e.to_string())?;
            if !member.starts_with("\"triage\"") || wrapped.get("triage") != item.get("triage") {
                return Err(format!("the triage span of item {} is {member}", f.index));
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scan` accepts only what the slow path accepts, and then builds the same view.
    fn agrees(text: &str) -> bool {
        verify(text).unwrap_or_else(|why| panic!("{why}: {text}"))
    }

    #[test]
    fn the_word_scan_finds_the_first_special_byte() {
        let slow = |w: &[u8; 8]| w.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let pick = [
            b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xff, b' ', 0x21, 0x5b, 0x5d,
        ];
        for _ in 0..100_000 {
            let mut w = [0u8; 8];
            for b in &mut w {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                *b = pick[(rng % pick.len() as u64) as usize];
            }
            let m = string_specials(u64::from_le_bytes(w));
            let fast = (m != 0).then(|| (m.trailing_zeros() / 8) as usize);
            assert_eq!(fast, slow(&w), "{w:?}");
        }
    }

    #[test]
    fn ordinary_queues_take_the_fast_path() {
        for text in [
            r#"{"items": []}"#,
            "[]",
            " [ ] \n",
            r#"{"version": 3, "items": [{"id": "a", "status": "queued"}], "x": {"y": [1, -2.5e3, null, true]}}"#,
            r#"[{"id": "a", "status": "running", "run": {"startedAtMs": 1772064000000, "lastHeartbeatAtMs": 0,
                "staleAfterMs": 60000, "attempt": 2, "childSessionKey": "k", "zzz": {}}, "title": "t\"\n\u00e9\ud83d\ude00",
                "taskIds": ["a", "b"], "createdAtMs": 0, "requeuedFrom": "b",
                "triage": {"status": "needs_review", "reason": "stale_running", "flaggedAtMs": 1, "more": [1]}, "cost": 0.25}]"#,
            r#"{"items": [{"id": "é", "status": "stale", "triage": {}}, {"id": "b", "status": "done", "run": {}}]}"#,
        ] {
            assert!(agrees(text), "slow path taken for {text}");
        }
    }

    #[test]
    fn anything_unusual_takes_the_slow_path() {
        for text in [
            "",
            "  ",
            "\u{feff}[]",
            "{}",
            "42",
            r#"{"items": {}}"#,
            "[1]",
            r#"[{"id": "a"}]"#,
            r#"[{"status": "done"}]"#,
            r#"[{"id": "", "status": "done"}]"#,
            r#"[{"id": "a", "status": "runing"}]"#,
            r#"[{"id": "a", "status": "done", "id": "b"}]"#,
            r#"[{"id": "a", "status": "done", "x": 1, "x": 2}]"#,
            r#"{"items": [], "items": []}"#,
            r#"{"a": {"b": 1, "b": 2}, "items": []}"#,
            r#"[{"id": "a", "status": "done", "createdAtMs": 1.0}]"#,
            r#"[{"id": "a", "status": "done", "createdAtMs": -1}]"#,
            r#"[{"id": "a", "status": "done", "createdAtMs": 9223372036854775808}]"#,
            r#"[{"id": "a", "status": "done", "run": {"attempt": 0}}]"#,
            r#"[{"id": "a", "status": "done", "run": {"staleAfterMs": "1h"}}]"#,
            r#"[{"id": "a", "status": "done", "run": []}]"#,
            r#"[{"id": "a", "status": "done", "triage": {"reason": ""}}]"#,
            r#"[{"id": "a", "status": "done", "taskIds": [1]}]"#,
            r#"[{"id": "a", "status": "done", "requeuedFrom": ""}]"#,
            r#"[{"id": "a", "status": "done", "title": null}]"#,
            r#"[{"id": "\u0061", "status": "done"}]"#,
            r#"[{"i\u0064": "a", "status": "done"}]"#,
            r#"[{"id": "a", "status": "done", "x": "\ud800"}]"#,
            r#"[{"id": "a", "status": "done", "x": "\udc00"}]"#,
            r#"[{"id": "a", "status": "done", "x": 1e400}]"#,
            r#"[{"id": "a", "status": "done", "x": 01}]"#,
            r#"[{"id": "a", "status": "done", "x": 1.}]"#,
            r#"[{"id": "a", "status": "done", "x": "tab	in string"}]"#,
            r#"[{"id": "a", "status": "done"},]"#,
            r#"[{"id": "a", "status": "done"}] x"#,
            r#"[{"id": "a", "status": "done", "x": NaN}]"#,
            r#"[{"id": "a", "status": "done", "x": tru}]"#,
            "[{\"id\": \"a\",\n<<<<<<< HEAD\n\"status\": \"done\"}]",
        ] {
            assert!(!agrees(text), "fast path taken for {text:?}");
        }
        let deep = format!(
            r#"{{"items": [], "x": {}1{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(!agrees(&deep));
    }

    use proptest::prelude::*;

    /// JSON-ish text built from queue-like pieces, valid or not.
    fn piece() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            Just("1".to_string()),
            Just("0".to_string()),
            Just("-1".to_string()),
            Just("1.5".to_string()),
            Just("1e3".to_string()),
            Just("1772064000000".to_string()),
            Just("99999999999999999999".to_string()),
            Just("null".to_string()),
            Just("true".to_string()),
            Just("\"\"".to_string()),
            Just("\"x\"".to_string()),
            Just("\"running\"".to_string()),
            Just("\"done\"".to_string()),
            Just("\"a\\\"b\"".to_string()),
            Just("\"\\u00e9\"".to_string()),
            Just("\"a long string, é, with \\\" and \\\\ inside it\"".to_string()),
            Just("\"a long string with a tab\there\"".to_string()),
            Just("\"0123456789abcdef\"".to_string()),
        ];
        // Every field of the table (at any depth), and keys it does not know.
        let mut keys: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        keys.extend(["items", "x"]);
        let key = prop::sample::select(keys);
        scalar.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                prop::collection::vec((key.clone(), inner), 0..6).prop_map(|v| {
                    let members: Vec<String> = v
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\": {v}"))
                        .collect();
                    format!("{{{}}}", members.join(", "))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn the_scanner_never_disagrees_with_the_slow_path(doc in piece()) {
            agrees(&doc);
        }

        #[test]
        fn item_lists_agree(items in prop::collection::vec(piece(), 0..4), wrap in any::<bool>()) {
            let list = format!("[{}]", items.join(",\n  "));
            let doc = if wrap { format!("{{\"items\": {list}}}") } else { list };
            agrees(&doc);
        }
    }
}
