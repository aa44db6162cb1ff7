//! Source text → parsed value, and (only when something must be reported) a span index
//! that maps RFC 6901 pointers to byte ranges.
//!
//! Two parsers live here on purpose, and neither is the fast path (that is
//! [`crate::scan`], which reads a valid document without building a `Value`):
//!
//! * [`parse`] is the slow path, for a version the scanner declined: `serde_json` builds a
//!   `Value` through a visitor that notices duplicate object keys (serde_json alone would
//!   silently keep the last one). It records *that* a duplicate exists, not where.
//! * [`SpanIndex::build`] locates: a small strict recursive-descent scanner over a document
//!   already known to be valid JSON, recording the byte range of every value and key. It
//!   runs only when a finding has to be located, and only for the version it points into.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A byte range `[start, end)` in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Why a text is not a JSON document, with the byte offset where it stops being one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
    pub help: Option<String>,
}

/// A successfully parsed document.
#[derive(Debug)]
pub struct Parsed {
    pub value: Value,
    /// At least one object holds the same key twice.
    pub has_duplicate_keys: bool,
}

/// Parses `bytes` as a strict RFC 8259 JSON document.
pub fn parse(bytes: &[u8]) -> Result<Parsed, SyntaxError> {
    if let Some(encoding) = wide_encoding(bytes) {
        return Err(SyntaxError {
            offset: 0,
            message: format!("the file is encoded as {encoding}, not UTF-8"),
            help: Some(
                "JSON text must be encoded as UTF-8 (RFC 8259 §8.1); convert the file, or remove the `working-tree-encoding` attribute if git checks it out so"
                    .into(),
            ),
        });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.valid_up_to();
            return Err(SyntaxError {
                offset,
                message: format!("the file is not valid UTF-8 (byte 0x{:02x})", bytes[offset]),
                help: Some("JSON text must be encoded as UTF-8 (RFC 8259 §8.1)".into()),
            });
        }
    };
    if let Some(err) = precheck(text) {
        return Err(err);
    }
    let dup = Cell::new(false);
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ValueSeed { dup: &dup }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| serde_error(text, &e))?;
    Ok(Parsed {
        value,
        has_duplicate_keys: dup.get(),
    })
}

/// The UTF-16 or UTF-32 encoding `bytes` are in, by their byte order mark or, without one,
/// by the zero bytes around the first character (RFC 4627 §3: JSON text starts with an
/// ASCII character). A JSON document in UTF-8 never starts with a zero byte, nor with a
/// zero byte second.
fn wide_encoding(bytes: &[u8]) -> Option<&'static str> {
    let at = |i: usize| bytes.get(i).copied();
    match (at(0), at(1), at(2), at(3)) {
        (Some(0xff), Some(0xfe), Some(0), Some(0)) => Some("UTF-32LE (with a byte order mark)"),
        (Some(0), Some(0), Some(0xfe), Some(0xff)) => Some("UTF-32BE (with a byte order mark)"),
        (Some(0xff), Some(0xfe), ..) => Some("UTF-16LE (with a byte order mark)"),
        (Some(0xfe), Some(0xff), ..) => Some("UTF-16BE (with a byte order mark)"),
        (Some(0), Some(0), Some(0), Some(_)) => Some("UTF-32BE"),
        (Some(_), Some(0), Some(0), Some(0)) => Some("UTF-32LE"),
        (Some(0), Some(_), ..) => Some("UTF-16BE"),
        (Some(_), Some(0), ..) => Some("UTF-16LE"),
        _ => None,
    }
}

/// Recognises the common ways a queue file gets broken, so the finding can say what happened
/// rather than "expected value".
fn precheck(text: &str) -> Option<SyntaxError> {
    if let Some(rest) = text.strip_prefix('\u{feff}') {
        let _ = rest;
        return Some(SyntaxError {
            offset: 0,
            message: "the file starts with a UTF-8 byte order mark".into(),
            help: Some(
                "JSON text must not begin with a BOM (RFC 8259 §8.1); remove the first three bytes"
                    .into(),
            ),
        });
    }
    if text.trim().is_empty() {
        return Some(SyntaxError {
            offset: 0,
            message: if text.is_empty() {
                "the file is empty".into()
            } else {
                "the file holds only whitespace".into()
            },
            help: Some("a queue is `{\"items\": []}` or `[]` at the least".into()),
        });
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
            .iter()
            .any(|m| {
                bare.starts_with(m) && (bare.len() == m.len() || bare[m.len()..].starts_with(' '))
            });
        if marker {
            return Some(SyntaxError {
                offset,
                message: "the file contains a merge-conflict marker".into(),
                help: Some("resolve the merge conflict (keep every item from both sides), then stage the result".into()),
            });
        }
        offset += line.len();
    }
    None
}

fn serde_error(text: &str, e: &serde_json::Error) -> SyntaxError {
    let mut offset = offset_of(text, e.line(), e.column());
    let mut message = e.to_string();
    if message.contains("number") {
        // serde_json reports where the number ended; point at where it starts.
        let b = text.as_bytes();
        while offset > 0
            && matches!(
                b[offset - 1],
                b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
            )
        {
            offset -= 1;
        }
    }
    // serde_json appends " at line L column C"; the location is reported separately.
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    let help = if message.contains("trailing comma") {
        Some("JSON allows no trailing commas".to_string())
    } else if message.contains("recursion limit") {
        Some(format!(
            "queue files are nested a few levels deep; this one nests more than {MAX_DEPTH}"
        ))
    } else if message.contains("trailing characters") {
        Some("the document ends before this point; remove what follows it".to_string())
    } else if message.contains("EOF while parsing") {
        Some("the file is truncated".to_string())
    } else if text[offset.min(text.len())..].starts_with("//")
        || text[offset.min(text.len())..].starts_with("/*")
    {
        Some("JSON has no comments".to_string())
    } else if ["NaN", "Infinity", "-Infinity"].iter().any(|w| {
        text.get(offset.saturating_sub(1)..)
            .is_some_and(|t| t.starts_with(w))
    }) {
        Some("NaN and Infinity are not JSON numbers".to_string())
    } else if message.contains("number out of range") {
        Some("this number does not fit a 64-bit float; times are integer milliseconds".to_string())
    } else {
        None
    };
    SyntaxError {
        offset,
        message,
        help,
    }
}

/// serde_json reports 1-based line and column (column counted in bytes, 0 at end of line
/// meaning "the newline itself"); turn that back into a byte offset.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let mut off = (start + column.saturating_sub(1)).min(text.len());
    while !text.is_char_boundary(off) {
        off -= 1;
    }
    off
}

struct ValueSeed<'a> {
    dup: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(ValueSeed { dup: self.dup })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(ValueSeed { dup: self.dup })?;
            if out.insert(key, v).is_some() {
                self.dup.set(true);
            }
        }
        Ok(Value::Object(out))
    }
}

/// One value in a [`SpanIndex`].
#[derive(Debug, Clone)]
struct Node {
    span: Span,
    /// The key's span (quotes included) when this value is an object member.
    key: Option<Span>,
    /// Children in document order, as a range of `SpanIndex::children`.
    children: std::ops::Range<u32>,
    is_object: bool,
}

/// Byte ranges of every value and key of a valid JSON document.
#[derive(Debug)]
pub struct SpanIndex<'t> {
    text: &'t str,
    nodes: Vec<Node>,
    children: Vec<u32>,
}

/// The keys of one object as they come, to tell a repeated one: the one set behind both
/// readers that must find repeated keys by themselves, the scanner (raw key bytes, fine
/// because it declines any key with an escape, so raw text is decoded text) and
/// [`SpanIndex::duplicate_keys`] (decoded keys, with where each was first). [`parse`]
/// needs none: the object it builds is the set (an insert that replaces a value is a
/// repeated key). `document::tests::the_three_readers_agree_on_repeated_keys` holds the
/// three to the same answer. A few keys are compared in a small vector; past 16, hashed.
#[derive(Debug)]
pub struct KeySet<K, V> {
    seen: Vec<(K, V)>,
    hashed: Option<std::collections::HashMap<K, V>>,
}

impl<K, V> Default for KeySet<K, V> {
    fn default() -> Self {
        KeySet {
            seen: Vec::new(),
            hashed: None,
        }
    }
}

impl<K: Eq + std::hash::Hash, V: Copy> KeySet<K, V> {
    /// Records `key` with `value`; when `key` was already there, returns the value recorded
    /// with its first occurrence (and records nothing).
    #[inline]
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        if let Some(map) = &mut self.hashed {
            return match map.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(value);
                    None
                }
            };
        }
        if let Some((_, first)) = self.seen.iter().find(|(k, _)| *k == key) {
            return Some(*first);
        }
        self.seen.push((key, value));
        if self.seen.len() > 16 {
            self.hashed = Some(self.seen.drain(..).collect());
        }
        None
    }
}

/// A key that appears twice in one object.
#[derive(Debug, Clone)]
pub struct DuplicateKey {
    pub pointer: String,
    pub key: String,
    /// The later (repeated) key.
    pub span: Span,
    /// The first occurrence.
    pub first: Span,
}

/// The deepest nesting of arrays and objects a queue file may have: what `serde_json`'s
/// recursion limit (128) allows; past it [`parse`] reports `invalid-json`. The scanner leaves anything deeper to
/// [`parse`], and the span index (which only sees documents [`parse`] accepted) needs no
/// more.
pub const MAX_DEPTH: usize = 127;

impl<'t> SpanIndex<'t> {
    /// Builds the index. `text` must be a document [`parse`] accepted; anything else yields
    /// an index that locates nothing beyond the root (never a panic).
    pub fn build(text: &'t str) -> Self {
        let mut idx = SpanIndex {
            text,
            nodes: Vec::new(),
            children: Vec::new(),
        };
        let mut s = Scanner {
            b: text.as_bytes(),
            pos: 0,
        };
        s.ws();
        if idx.value(&mut s, None, 0).is_none() {
            idx.nodes.clear();
            idx.children.clear();
            idx.nodes.push(Node {
                span: Span::new(0, text.len()),
                key: None,
                children: 0..0,
                is_object: false,
            });
        }
        idx
    }

    fn value(&mut self, s: &mut Scanner, key: Option<Span>, depth: usize) -> Option<u32> {
        if depth > MAX_DEPTH {
            return None;
        }
        let id = self.nodes.len() as u32;
        let start = s.pos;
        self.nodes.push(Node {
            span: Span::new(start, start),
            key,
            children: 0..0,
            is_object: false,
        });
        let mut kids = Vec::new();
        match s.peek()? {
            b'{' => {
                s.pos += 1;
                self.nodes[id as usize].is_object = true;
                s.ws();
                if s.peek()? == b'}' {
                    s.pos += 1;
                } else {
                    loop {
                        s.ws();
                        let ks = s.pos;
                        s.string()?;
                        let kspan = Span::new(ks, s.pos);
                        s.ws();
                        s.expect(b':')?;
                        s.ws();
                        kids.push(self.value(s, Some(kspan), depth + 1)?);
                        s.ws();
                        match s.next()? {
                            b',' => continue,
                            b'}' => break,
                            _ => return None,
                        }
                    }
                }
            }
            b'[' => {
                s.pos += 1;
                s.ws();
                if s.peek()? == b']' {
                    s.pos += 1;
                } else {
                    loop {
                        s.ws();
                        kids.push(self.value(s, None, depth + 1)?);
                        s.ws();
                        match s.next()? {
                            b',' => continue,
                            b']' => break,
                            _ => return None,
                        }
                    }
                }
            }
            b'"' => s.string()?,
            _ => s.scalar(),
        }
        let first = self.children.len() as u32;
        self.children.extend(kids);
        let node = &mut self.nodes[id as usize];
        node.span.end = s.pos;
        node.children = first..self.children.len() as u32;
        Some(id)
    }

    fn key_text(&self, span: Span) -> String {
        let raw = &self.text[span.start..span.end];
        serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.trim_matches('"').to_string())
    }

    /// The key at `span` (quotes included) as its decoded text, borrowed when it has no
    /// escape.
    fn key_name(&self, span: Span) -> std::borrow::Cow<'t, str> {
        let raw = &self.text[span.start + 1..span.end - 1];
        if raw.contains('\\') {
            std::borrow::Cow::Owned(self.key_text(span))
        } else {
            std::borrow::Cow::Borrowed(raw)
        }
    }

    fn child(&self, node: u32, segment: &str) -> Option<u32> {
        let n = &self.nodes[node as usize];
        let kids = &self.children[n.children.start as usize..n.children.end as usize];
        if n.is_object {
            // The last occurrence wins, as in the parsed value.
            kids.iter().rev().copied().find(|&k| {
                let key = self.nodes[k as usize]
                    .key
                    .expect("object members have keys");
                self.key_name(key) == segment
            })
        } else {
            let i: usize = segment.parse().ok()?;
            kids.get(i).copied()
        }
    }

    fn node_at(&self, pointer: &str) -> Option<(u32, bool)> {
        let mut node = 0u32;
        if self.nodes.is_empty() {
            return None;
        }
        if pointer.is_empty() {
            return Some((0, true));
        }
        for raw in pointer.strip_prefix('/')?.split('/') {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            match self.child(node, &segment) {
                Some(c) => node = c,
                None => return Some((node, false)),
            }
        }
        Some((node, true))
    }

    /// The span of the value at `pointer`, or of its deepest existing ancestor.
    pub fn value_span(&self, pointer: &str) -> Span {
        match self.node_at(pointer) {
            Some((n, _)) => self.nodes[n as usize].span,
            None => Span::new(0, 0),
        }
    }

    /// The span of the key naming the value at `pointer` when it is an object member,
    /// else the value's span.
    pub fn key_span(&self, pointer: &str) -> Span {
        match self.node_at(pointer) {
            Some((n, true)) => {
                let node = &self.nodes[n as usize];
                node.key.unwrap_or(node.span)
            }
            Some((n, false)) => self.nodes[n as usize].span,
            None => Span::new(0, 0),
        }
    }

    /// A span suitable for a label: the value when short, else its first line.
    pub fn label_span(&self, span: Span) -> Span {
        label_span(self.text, span)
    }

    /// Every repeated key in every object.
    pub fn duplicate_keys(&self) -> Vec<DuplicateKey> {
        let mut out = Vec::new();
        if self.nodes.is_empty() {
            return out;
        }
        let mut stack = vec![(0u32, String::new())];
        while let Some((id, pointer)) = stack.pop() {
            let n = &self.nodes[id as usize];
            let kids = &self.children[n.children.start as usize..n.children.end as usize];
            let mut seen = KeySet::default();
            for (i, &k) in kids.iter().enumerate() {
                let child = &self.nodes[k as usize];
                let seg = match child.key {
                    Some(key) => {
                        let name = self.key_name(key);
                        if let Some(first) = seen.insert(name.clone(), key) {
                            out.push(DuplicateKey {
                                pointer: format!("{pointer}/{}", escape_segment(&name)),
                                key: name.to_string(),
                                span: key,
                                first,
                            });
                        }
                        name.into_owned()
                    }
                    None => i.to_string(),
                };
                if !child.children.is_empty() {
                    stack.push((k, format!("{pointer}/{}", escape_segment(&seg))));
                }
            }
        }
        out.sort_by_key(|d| d.span.start);
        out
    }
}

/// A span of `text` suitable for a label: the span when it is on one line, else its first
/// line.
pub fn label_span(text: &str, span: Span) -> Span {
    let inner = &text[span.start..span.end];
    match inner.find('\n') {
        Some(nl) => Span::new(span.start, span.start + inner[..nl].trim_end().len().max(1)),
        None => span,
    }
}

/// The span of the whole document: the text without its leading and trailing whitespace
/// (JSON's four whitespace characters), as [`SpanIndex::value_span`] gives for `""`.
pub fn root_span(text: &str) -> Span {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let start = text.len() - text.trim_start_matches(ws).len();
    let end = text.trim_end_matches(ws).len().max(start);
    Span::new(start, end)
}

/// 1-based lines and columns of a set of offsets in one text, found in one sweep up to the
/// largest offset: newlines are counted (vectorised) between one offset and the next, and
/// a column is counted on from the previous offset's when no newline lies between them, so
/// a thousand findings on one 30 MB line (a minified queue) cost one pass over the line, not
/// one each. What locating a few findings in a large file costs is a byte count, not an
/// index of every line.
#[derive(Debug, Default)]
pub struct LineCols {
    /// `(offset, (line, column))`, sorted by offset.
    known: Vec<(usize, (usize, usize))>,
}

impl LineCols {
    /// Lines and columns of every offset in `offsets` (clamped to the text; any order).
    ///
    /// A line is one plus the `\n`s before the offset; a column is one plus the characters
    /// (Unicode scalar values) between the last `\n` before the offset and the offset, an
    /// offset inside a character counting as that character (so a `\r` or a tab is one
    /// column, and SARIF's `unicodeCodePoints` is what the columns are).
    pub fn new(text: &str, offsets: impl IntoIterator<Item = usize>) -> LineCols {
        let mut offsets: Vec<usize> = offsets
            .into_iter()
            .map(|o| floor_char_boundary(text, o))
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        let b = text.as_bytes();
        // The sweep's position: a character boundary, its line and its column.
        let (mut at, mut line, mut column) = (0, 1, 1);
        let known = offsets
            .into_iter()
            .map(|offset| {
                let between = &b[at..offset];
                let newlines = bytecount::count(between, b'\n');
                if newlines > 0 {
                    line += newlines;
                    let last = memchr::memrchr(b'\n', between).expect("counted");
                    column = 1 + bytecount::num_chars(&between[last + 1..]);
                } else {
                    column += bytecount::num_chars(between);
                }
                at = offset;
                (offset, (line, column))
            })
            .collect();
        LineCols { known }
    }

    /// The line and column of `offset`, which must have been among those given to
    /// [`LineCols::new`] (else it is computed from scratch).
    pub fn get(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset);
        match self.known.binary_search_by_key(&offset, |&(o, _)| o) {
            Ok(i) => self.known[i].1,
            Err(_) => line_col(text, offset),
        }
    }
}

/// 1-based line and column of a byte offset, for one-off locations: [`LineCols`] of that
/// one offset, so there is one computation of lines and columns.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineCols::new(text, [offset]).known[0].1
}

/// The largest character boundary at or before `offset` (at most the text's length).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// Escapes one RFC 6901 reference token.
pub fn escape_segment(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

struct Scanner<'b> {
    b: &'b [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }
    fn string(&mut self) -> Option<()> {
        self.expect(b'"')?;
        loop {
            // Ordinary characters in one vectorised step, up to the next quote or backslash.
            self.pos += memchr::memchr2(b'"', b'\\', self.b.get(self.pos..)?)?;
            match self.next()? {
                b'"' => return Some(()),
                b'\\' => {
                    self.next()?;
                }
                _ => {}
            }
        }
    }
    fn scalar(&mut self) {
        while let Some(c) = self.peek() {
            if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_readers_agree_on_repeated_keys() {
        // Keys equal once decoded (`x` and `\u0078`, `x/` and `x\/`), known fields and
        // others, more than the small set holds, in every object the scanner reads.
        let keys: Vec<String> = ["x", "\\u0078", "y", "x/", "x\\/", "notes", "error"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        let many: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        let places = [
            "{\"items\": [{\"id\": \"a\", \"status\": \"done\", MEMBERS}]}",
            "{\"items\": [{\"id\": \"a\", \"status\": \"done\", \"run\": {MEMBERS}}]}",
            "{\"items\": [{\"id\": \"a\", \"status\": \"done\", \"extra\": {\"deep\": [{MEMBERS}]}}]}",
        ];
        let mut lists: Vec<Vec<String>> = Vec::new();
        for a in &keys {
            for b in &keys {
                lists.push(vec![a.clone(), b.clone()]);
                for c in &keys {
                    lists.push(vec![a.clone(), b.clone(), c.clone()]);
                }
            }
        }
        for k in [&many[3], &many[19]] {
            let mut list = many.clone();
            list.push(k.clone());
            lists.push(list);
        }
        lists.push(many.clone());
        let mut scanned = 0;
        for place in places {
            for list in &lists {
                let members: Vec<String> = list.iter().map(|k| format!("\"{k}\": \"v\"")).collect();
                let text = place.replace("MEMBERS", &members.join(", "));
                let decoded: Vec<String> = list
                    .iter()
                    .map(|k| serde_json::from_str(&format!("\"{k}\"")).unwrap())
                    .collect();
                let repeated = (1..decoded.len()).any(|i| decoded[..i].contains(&decoded[i]));
                let parsed = parse(text.as_bytes()).unwrap();
                assert_eq!(parsed.has_duplicate_keys, repeated, "{text}");
                let found = SpanIndex::build(&text).duplicate_keys();
                assert_eq!(!found.is_empty(), repeated, "{text}");
                let accepted = crate::scan::scan(&text).is_some();
                assert!(!(accepted && repeated), "the scanner accepted {text}");
                if accepted {
                    scanned += 1;
                }
            }
        }
        // The scanner read (and so judged) a good part of them itself.
        assert!(scanned > 100, "{scanned}");
    }

    #[test]
    fn spans_follow_pointers_and_crlf_lines() {
        let text =
            "{\r\n  \"items\": [\r\n    {\"id\": \"a\", \"status\": \"running\"}\r\n  ]\r\n}\r\n";
        let idx = SpanIndex::build(text);
        let s = idx.value_span("/items/0/status");
        assert_eq!(&text[s.start..s.end], "\"running\"");
        assert_eq!(line_col(text, s.start), (3, 27));
        let k = idx.key_span("/items/0/id");
        assert_eq!(&text[k.start..k.end], "\"id\"");
        // A missing member falls back to its parent.
        let p = idx.value_span("/items/0/run/startedAtMs");
        assert_eq!(
            &text[p.start..p.end],
            "{\"id\": \"a\", \"status\": \"running\"}"
        );
    }

    #[test]
    fn duplicate_keys_are_found_at_every_level() {
        let text = r#"{"a": 1, "b": {"x": 1, "x": 2}, "a": 3}"#;
        let parsed = parse(text.as_bytes()).unwrap();
        assert!(parsed.has_duplicate_keys);
        let dups = SpanIndex::build(text).duplicate_keys();
        let found: Vec<_> = dups
            .iter()
            .map(|d| (d.pointer.as_str(), d.span.start))
            .collect();
        assert_eq!(found, vec![("/b/x", 23), ("/a", 32)]);
    }

    #[test]
    fn escaped_keys_match_unescaped_pointers() {
        let text = r#"{"a\/b": {"c~d": 5}}"#;
        let idx = SpanIndex::build(text);
        let s = idx.value_span("/a~1b/c~0d");
        assert_eq!(&text[s.start..s.end], "5");
    }

    #[test]
    fn syntax_errors_are_located_and_explained() {
        let e = parse(b"{\n  \"items\": [1,]\n}").unwrap_err();
        assert_eq!(line_col("{\n  \"items\": [1,]\n}", e.offset).0, 2);
        assert!(parse(b"").unwrap_err().message.contains("empty"));
        assert!(parse(b"\xef\xbb\xbf[]")
            .unwrap_err()
            .message
            .contains("byte order mark"));
        let conflict = "{\n<<<<<<< HEAD\n=======\n>>>>>>> x\n}";
        let e = parse(conflict.as_bytes()).unwrap_err();
        assert!(e.message.contains("merge-conflict"));
        assert_eq!(line_col(conflict, e.offset), (2, 1));
        assert!(parse(b"[NaN]").is_err());
        assert!(parse(b"[1e400]").is_err());
        assert!(parse(b"[\xff]").unwrap_err().message.contains("UTF-8"));
    }

    #[test]
    fn utf16_and_utf32_text_is_named_by_its_encoding() {
        let wide = |text: &str, le: bool, width: usize, bom: bool| {
            let mut out = Vec::new();
            for c in (if bom { "\u{feff}" } else { "" })
                .chars()
                .chain(text.chars())
            {
                let code = c as u32;
                let bytes = code.to_be_bytes();
                let unit = &bytes[4 - width..];
                if le {
                    out.extend(unit.iter().rev());
                } else {
                    out.extend(unit);
                }
            }
            out
        };
        let doc = "{\"items\": []}";
        for (le, width, bom, name) in [
            (true, 2, true, "UTF-16LE (with a byte order mark)"),
            (false, 2, true, "UTF-16BE (with a byte order mark)"),
            (true, 2, false, "UTF-16LE"),
            (false, 2, false, "UTF-16BE"),
            (true, 4, true, "UTF-32LE (with a byte order mark)"),
            (false, 4, true, "UTF-32BE (with a byte order mark)"),
            (true, 4, false, "UTF-32LE"),
            (false, 4, false, "UTF-32BE"),
        ] {
            let e = parse(&wide(doc, le, width, bom)).unwrap_err();
            assert_eq!(e.offset, 0);
            assert_eq!(
                e.message,
                format!("the file is encoded as {name}, not UTF-8")
            );
        }
        // UTF-8 text, short or not, is not mistaken for it.
        assert!(parse(b"1").is_ok());
        assert!(parse(b" []").is_ok());
        assert!(parse(b"[\"\xc3\xa9\"]").is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        let e = parse(deep.as_bytes()).unwrap_err();
        assert!(e.message.contains("recursion limit"), "{}", e.message);
        let idx = SpanIndex::build(&deep);
        assert_eq!(idx.value_span("").start, 0);
    }

    /// `levels` arrays nested in an item's unknown field (the root object and the items
    /// array are two more).
    fn nested(levels: usize) -> String {
        format!(
            "{{\"items\": [{{\"id\": \"a\", \"status\": \"queued\", \"x\": {}1{}}}]}}",
            "[".repeat(levels),
            "]".repeat(levels)
        )
    }

    #[test]
    fn one_depth_limit_for_the_parser_the_scanner_and_the_span_index() {
        // Root object, items array, item object: three levels before `x`.
        let deepest = MAX_DEPTH - 3;
        let ok = nested(deepest);
        assert!(parse(ok.as_bytes()).is_ok());
        let index = SpanIndex::build(&ok);
        let pointer = format!("/items/0/x{}", "/0".repeat(deepest));
        assert_eq!(&ok[index.value_span(&pointer).start..][..1], "1");
        let deep = nested(deepest + 1);
        let e = parse(deep.as_bytes()).unwrap_err();
        assert!(e.message.contains("recursion limit"), "{}", e.message);
        assert!(crate::scan::scan(&deep).is_none());
        // The scanner accepts everything up to the limit, so the slow path is not taken for
        // a merely deep file.
        assert!(crate::scan::scan(&ok).is_some());
    }

    /// Line and column the slow way: one plus the newlines before the offset, one plus the
    /// characters since the last of them (an offset inside a character is that character).
    fn counted(text: &str, offset: usize) -> (usize, usize) {
        let mut cut = offset.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let before = &text[..cut];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
        (line, column)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(23),
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Random text, on one line or many (LF, CRLF, lone CR, tabs, characters of one to
        /// four bytes), and many offsets (repeated, unordered, inside characters, past the
        /// end): the sweep gives what counting each offset from the start gives.
        #[test]
        fn line_cols_agree_with_counting_on_random_text(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "\n", "\r\n", "\r", "\t", " ", "a", "{\"id\":", "é", "週", "😀", "\u{1b}", "\u{202e}",
                ]),
                0..300,
            ),
            one_line in proptest::prelude::any::<bool>(),
            picks in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 1..120),
        ) {
            let text: String = pieces
                .iter()
                .filter(|p| !(one_line && p.contains('\n')))
                .copied()
                .collect();
            let offsets: Vec<usize> = picks.iter().map(|i| i.index(text.len() + 3)).collect();
            let lines = LineCols::new(&text, offsets.iter().copied());
            for &offset in &offsets {
                let expected = counted(&text, offset);
                proptest::prop_assert_eq!(lines.get(&text, offset), expected, "{} in {:?}", offset, text);
                proptest::prop_assert_eq!(line_col(&text, offset), expected);
            }
            if one_line {
                proptest::prop_assert!(offsets.iter().all(|&o| lines.get(&text, o).0 == 1));
            }
        }
    }

    #[test]
    fn line_and_column_agree_with_counting_by_hand() {
        let text = "{\"items\": [\n  {\"id\": \"週報\", \"status\": \"queued\"}\r\n]}\n";
        let all: Vec<usize> = (0..=text.len() + 2).collect();
        let lines = LineCols::new(text, all.iter().copied());
        for offset in all {
            // Lines by counting newlines before the offset, columns by counting characters
            // since the last one (an offset inside a character is that character).
            let at = offset.min(text.len());
            let mut cut = at;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let before = &text[..cut];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
            assert_eq!(line_col(text, offset), (line, column), "{offset}");
            assert_eq!(lines.get(text, offset), (line, column), "{offset}");
        }
        let id = text.find('週').unwrap();
        assert_eq!(line_col(text, id), (2, 11));
        assert_eq!(line_col(text, id + 1), (2, 11));
        assert_eq!(line_col(text, id + 3), (2, 12));
        assert_eq!(line_col(text, text.len()), (4, 1));
    }
}
