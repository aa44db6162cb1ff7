//! Byte-range edits to a JSON text that leave every other byte alone. No I/O.
//!
//! `fix` never re-serializes the document: it computes the few byte ranges that change and
//! splices new text into them, so indentation, key order, number spelling, string escapes,
//! line endings and the final-newline state of everything else stay exactly as they were.
//!
//! * Changing a member's value replaces the value's byte range.
//! * Adding members to an object inserts `,<newline><indent>"key": value` right after the
//!   object's last member, using the indentation and `:` spacing of the object's own first
//!   member; an object written on one line gets `, "key": value` with its own separator.
//! * Appending elements to an array works the same way after the last element; an empty
//!   array is replaced whole.
//! * New nested values are rendered in the file's style: its indent unit (2 or 4 spaces, a
//!   tab: the smallest indentation found), its line ending (CRLF when the file uses it), or
//!   on one line without spaces when the file is minified (no line break inside it).
//!
//! The caller verifies the result against the value it meant to produce: by re-parsing it
//! whole, or, when only items changed, item by item with [`apply_items`].
//!
//! A [`Splicer`] locates values with a span index of the whole text, or
//! ([`Splicer::for_items`]) of only the items it is asked about, given every item's byte
//! range (as the scanner records them): editing a few items of a large file then indexes
//! those items, not the file.

use serde_json::{Map, Value};

use crate::document::{escape_segment, Span, SpanIndex};

/// Replace `start..end` with `text` (an insertion when `start == end`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// Applies non-overlapping edits. Insertions at the same offset keep their given order.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut pos = 0;
    for e in sorted {
        if e.start < pos || e.end < e.start || e.end > text.len() {
            return Err(format!(
                "overlapping or out-of-range edit at bytes {}..{}",
                e.start, e.end
            ));
        }
        if !text.is_char_boundary(e.start) || !text.is_char_boundary(e.end) {
            return Err(format!(
                "edit at bytes {}..{} splits a character",
                e.start, e.end
            ));
        }
        out.push_str(&text[pos..e.start]);
        out.push_str(&e.text);
        pos = e.end;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

/// Edits that remove the elements of one container marked in `removed` (`spans`: each
/// element's byte range, from a member's key, in order; at least one is kept). Each run of
/// neighbouring removed elements is one edit with its separators: up to the next kept
/// element (whole lines when the run and that element each start their line), else, at
/// the end, from the end of the last kept one.
pub fn remove_runs(text: &str, spans: &[(usize, usize)], removed: &[bool]) -> Vec<Edit> {
    let line_start = |pos: usize| {
        let ls = text[..pos].rfind('\n').map_or(0, |i| i + 1);
        text[ls..pos].trim().is_empty().then_some(ls)
    };
    let mut edits = Vec::new();
    let mut a = 0;
    while a < spans.len() {
        if !removed[a] {
            a += 1;
            continue;
        }
        let mut b = a;
        while b + 1 < spans.len() && removed[b + 1] {
            b += 1;
        }
        let (start, end) = if b + 1 < spans.len() {
            let (s, e) = (spans[a].0, spans[b + 1].0);
            match (line_start(s), line_start(e)) {
                (Some(s), Some(e)) => (s, e),
                _ => (s, e),
            }
        } else if a > 0 {
            (spans[a - 1].1, spans[b].1)
        } else {
            // Everything removed: the caller rewrites the container.
            (spans[a].0, spans[b].1)
        };
        edits.push(Edit {
            start,
            end,
            text: String::new(),
        });
        a = b + 1;
    }
    edits
}

/// An item the edits change: its byte range in the original text and the value its new
/// bytes must parse to.
#[derive(Debug, Clone, Copy)]
pub struct Changed<'a> {
    pub span: (usize, usize),
    pub value: &'a Value,
}

/// Applies `edits` to `text` (a valid JSON document with no repeated key, whose items
/// include `changed`) and verifies the result item by item instead of parsing all of it:
///
/// * every edit lies strictly inside one changed item's byte range (its braces stay), or
///   is an insertion at `end`, the end of the last item of the array;
/// * each changed item's new bytes parse, strictly (no repeated key), to its value;
/// * the text inserted at `end` is a `,` and an element for each of `appended`, in order
///   (it parses as the tail of an array to exactly those values).
///
/// Every other byte is copied unchanged, so the result is the original document with
/// those items replaced and those elements appended, and it is valid JSON.
pub fn apply_items(
    text: &str,
    edits: &[Edit],
    changed: &[Changed],
    end: Option<usize>,
    appended: &[Value],
) -> Result<String, String> {
    let mut items: Vec<&Changed> = changed.iter().collect();
    items.sort_by_key(|c| c.span.0);
    if items.windows(2).any(|w| w[0].span.1 > w[1].span.0)
        || items
            .iter()
            .any(|c| c.span.0 >= c.span.1 || c.span.1 > text.len())
    {
        return Err("the changed items overlap or lie outside the text".into());
    }
    let at_end = |e: &Edit| Some(e.start) == end && e.end == e.start;
    for e in edits {
        let i = items.partition_point(|c| c.span.0 < e.start);
        let inside = i > 0 && e.end < items[i - 1].span.1;
        if !inside && !at_end(e) {
            return Err(format!(
                "edit at bytes {}..{} lies outside the items it changes",
                e.start, e.end
            ));
        }
    }
    let out = apply(text, edits)?;
    // Where an offset of the original lands: every edit before it shifts it.
    let grown = |e: &Edit| e.text.len() as isize - (e.end - e.start) as isize;
    let shift = |offset: usize, before: &dyn Fn(&Edit) -> bool| -> usize {
        let d: isize = edits.iter().filter(|e| before(e)).map(grown).sum();
        offset.wrapping_add_signed(d)
    };
    for c in &items {
        let (start, end) = c.span;
        let new_start = shift(start, &|e| e.end <= start);
        let new_end = shift(end, &|e| e.start < end);
        let bytes = out
            .as_bytes()
            .get(new_start..new_end)
            .ok_or("a changed item moved outside the text")?;
        match crate::document::parse(bytes) {
            Ok(p) if !p.has_duplicate_keys && &p.value == c.value => {}
            _ => {
                return Err(format!(
                    "the item at bytes {start}..{end} does not parse back to its intended value"
                ))
            }
        }
    }
    let inserted: String = edits
        .iter()
        .filter(|e| at_end(e))
        .map(|e| e.text.as_str())
        .collect();
    if inserted.is_empty() != appended.is_empty() {
        return Err("the appended text does not match the appended items".into());
    }
    if !appended.is_empty() {
        let tail = format!("[0{inserted}]");
        let mut want = vec![Value::from(0)];
        want.extend(appended.iter().cloned());
        match crate::document::parse(tail.as_bytes()) {
            Ok(p) if !p.has_duplicate_keys && p.value == Value::Array(want) => {}
            _ => return Err("the appended text does not parse to the appended items".into()),
        }
    }
    Ok(out)
}

/// A value to write: plain JSON (objects in sorted key order), or an object whose members
/// are written in the given order.
#[derive(Debug, Clone, PartialEq)]
pub enum New {
    Json(Value),
    Object(Vec<(String, New)>),
    /// An array of values written in the given order.
    Array(Vec<New>),
    /// A value copied from the file: its one-line source text is written verbatim.
    Raw(String, Value),
}

impl New {
    pub fn to_value(&self) -> Value {
        match self {
            New::Json(v) | New::Raw(_, v) => v.clone(),
            New::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect::<Map<String, Value>>(),
            ),
            New::Array(elements) => Value::Array(elements.iter().map(New::to_value).collect()),
        }
    }
}

impl From<Value> for New {
    fn from(v: Value) -> Self {
        New::Json(v)
    }
}

/// How the file is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Style {
    /// `\n` or `\r\n`.
    pub newline: &'static str,
    /// One level of indentation.
    pub unit: String,
    /// No line break inside the document: everything new is written on one line.
    pub minified: bool,
}

impl Style {
    pub fn detect(text: &str) -> Style {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let minified = !text.trim().contains('\n');
        let mut unit: Option<String> = None;
        for line in text.split('\n').skip(1).take(500) {
            let ws: &str = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
            if ws.is_empty() || line.trim().is_empty() {
                continue;
            }
            if ws.starts_with('\t') {
                unit = Some("\t".into());
                break;
            }
            let spaces = ws.len() - ws.trim_start_matches(' ').len();
            if spaces > 0 && unit.as_ref().is_none_or(|u| spaces < u.len()) {
                unit = Some(" ".repeat(spaces));
            }
        }
        Style {
            newline,
            unit: unit.unwrap_or_else(|| "  ".into()),
            minified,
        }
    }
}

/// Where a new value starts: on an indented line of a pretty file, or inside one line.
#[derive(Debug, Clone)]
enum Layout<'a> {
    Pretty {
        indent: String,
        style: &'a Style,
        colon: &'a str,
    },
    Inline {
        sep: &'a str,
        colon: &'a str,
    },
}

fn render(v: &New, layout: &Layout) -> String {
    match v {
        New::Raw(text, _) if !text.contains('\n') => text.clone(),
        New::Raw(_, value) => render(&New::Json(value.clone()), layout),
        New::Object(members) => {
            let pairs: Vec<(String, &New)> = members.iter().map(|(k, v)| (k.clone(), v)).collect();
            render_object(&pairs, layout)
        }
        New::Json(Value::Object(map)) => {
            let owned: Vec<(String, New)> = map
                .iter()
                .map(|(k, v)| (k.clone(), New::Json(v.clone())))
                .collect();
            let pairs: Vec<(String, &New)> = owned.iter().map(|(k, v)| (k.clone(), v)).collect();
            render_object(&pairs, layout)
        }
        New::Array(elements) if elements.is_empty() => "[]".into(),
        New::Array(elements) => {
            let parts = elements
                .iter()
                .map(|e| render(e, &deeper(layout)))
                .collect();
            wrap('[', ']', parts, layout)
        }
        New::Json(Value::Array(items)) => {
            if items.is_empty() {
                return "[]".into();
            }
            let parts: Vec<String> = items
                .iter()
                .map(|i| render(&New::Json(i.clone()), &deeper(layout)))
                .collect();
            wrap('[', ']', parts, layout)
        }
        New::Json(scalar) => serde_json::to_string(scalar).expect("a JSON scalar serializes"),
    }
}

fn render_object(members: &[(String, &New)], layout: &Layout) -> String {
    if members.is_empty() {
        return "{}".into();
    }
    let colon = match layout {
        Layout::Pretty { colon, .. } | Layout::Inline { colon, .. } => *colon,
    };
    let inner = deeper(layout);
    let parts: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}{colon}{}", quote_key(k), render(v, &inner)))
        .collect();
    wrap('{', '}', parts, layout)
}

fn wrap(open: char, close: char, parts: Vec<String>, layout: &Layout) -> String {
    match layout {
        Layout::Pretty { indent, style, .. } => {
            let nl = style.newline;
            let inner = format!("{indent}{}", style.unit);
            let body: Vec<String> = parts
                .into_iter()
                .map(|p| format!("{nl}{inner}{p}"))
                .collect();
            format!("{open}{}{nl}{indent}{close}", body.join(","))
        }
        Layout::Inline { sep, .. } => format!("{open}{}{close}", parts.join(sep)),
    }
}

fn deeper<'a>(layout: &Layout<'a>) -> Layout<'a> {
    match layout {
        Layout::Pretty {
            indent,
            style,
            colon,
        } => Layout::Pretty {
            indent: format!("{indent}{}", style.unit),
            style,
            colon,
        },
        inline => inline.clone(),
    }
}

fn quote_key(k: &str) -> String {
    serde_json::to_string(k).expect("a string serializes")
}

/// The whitespace that starts the line `pos` is on.
fn line_indent(text: &str, pos: usize) -> String {
    let start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..pos];
    line[..line.len() - line.trim_start_matches([' ', '\t']).len()].to_string()
}

/// A document being edited: its text, span index and style.
pub struct Splicer<'t> {
    text: &'t str,
    index: Index<'t>,
    pub style: Style,
}

/// Where a [`Splicer`] finds the byte ranges of values and keys.
enum Index<'t> {
    /// A span index of the whole text.
    Whole(SpanIndex<'t>),
    /// Only the items: each item's byte range is known (the scanner recorded it), and an
    /// item is indexed, alone, the first time something inside it is asked for.
    Items(ItemIndex<'t>),
}

struct ItemIndex<'t> {
    text: &'t str,
    /// `/items` or the empty pointer.
    pointer: &'static str,
    /// Every item's byte range, in order.
    spans: Vec<(usize, usize)>,
    /// The items indexed so far, by position.
    local: std::cell::RefCell<std::collections::HashMap<usize, SpanIndex<'t>>>,
}

impl<'t> Index<'t> {
    fn value_span(&self, pointer: &str) -> Span {
        match self {
            Index::Whole(index) => index.value_span(pointer),
            Index::Items(items) => items.span(pointer, false),
        }
    }

    fn key_span(&self, pointer: &str) -> Span {
        match self {
            Index::Whole(index) => index.key_span(pointer),
            Index::Items(items) => items.span(pointer, true),
        }
    }
}

impl<'t> ItemIndex<'t> {
    /// The span of the value (or key) at `pointer`, which must be the items array or lie
    /// inside an item; anything else (never asked by `fix`) is the empty span at 0, which
    /// the verification of the splice refuses.
    fn span(&self, pointer: &str, key: bool) -> Span {
        let Some(rest) = pointer.strip_prefix(self.pointer) else {
            return Span::default();
        };
        if rest.is_empty() {
            return self.array().unwrap_or_default();
        }
        let Some(rest) = rest.strip_prefix('/') else {
            return Span::default();
        };
        let (digits, inner) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        let Some((n, &(start, end))) = digits
            .parse::<usize>()
            .ok()
            .filter(|_| canonical)
            .and_then(|n| Some((n, self.spans.get(n)?)))
        else {
            return Span::default();
        };
        let Some(item) = self.text.get(start..end) else {
            return Span::default();
        };
        let mut local = self.local.borrow_mut();
        let index = local.entry(n).or_insert_with(|| SpanIndex::build(item));
        let span = if key {
            index.key_span(inner)
        } else {
            index.value_span(inner)
        };
        Span::new(start + span.start, start + span.end)
    }

    /// The items array: from the `[` before the first item to the `]` after the last.
    fn array(&self) -> Option<Span> {
        let (first, last) = (self.spans.first()?, self.spans.last()?);
        let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
        let open = self.text.get(..first.0)?.trim_end_matches(ws);
        let close = self.text.get(last.1..)?.trim_start_matches(ws);
        (open.ends_with('[') && close.starts_with(']'))
            .then(|| Span::new(open.len() - 1, self.text.len() - close.len() + 1))
    }
}

/// A member of an object, in document order.
struct Member {
    key_start: usize,
    key_end: usize,
    value_start: usize,
    value_end: usize,
}

impl<'t> Splicer<'t> {
    pub fn new(text: &'t str) -> Self {
        Splicer {
            text,
            index: Index::Whole(SpanIndex::build(text)),
            style: Style::detect(text),
        }
    }

    /// A splicer that reads only items: `spans` are the byte ranges of every element of
    /// the items array at `items_pointer` (as the scanner recorded them). An item is
    /// indexed the first time a pointer into it is asked for; pointers outside the items
    /// (other than the array itself) locate nothing. The style is the whole text's.
    pub fn for_items(
        text: &'t str,
        items_pointer: &'static str,
        spans: Vec<(usize, usize)>,
    ) -> Self {
        Splicer {
            text,
            index: Index::Items(ItemIndex {
                text,
                pointer: items_pointer,
                spans,
                local: Default::default(),
            }),
            style: Style::detect(text),
        }
    }

    fn default_colon(&self) -> &'static str {
        if self.style.minified {
            ":"
        } else {
            ": "
        }
    }

    fn default_sep(&self) -> &'static str {
        if self.style.minified {
            ","
        } else {
            ", "
        }
    }

    fn members(&self, pointer: &str, current: &Map<String, Value>) -> Vec<Member> {
        let mut members: Vec<Member> = current
            .keys()
            .map(|k| {
                let p = format!("{pointer}/{}", escape_segment(k));
                let key = self.index.key_span(&p);
                let value = self.index.value_span(&p);
                Member {
                    key_start: key.start,
                    key_end: key.end,
                    value_start: value.start,
                    value_end: value.end,
                }
            })
            .collect();
        members.sort_by_key(|m| m.key_start);
        members
    }

    /// The `:` spelling of an object's first member, if it is plain.
    fn colon_of<'a>(&'a self, first: &Member) -> &'a str {
        let c = &self.text[first.key_end..first.value_start];
        if c.trim() == ":" && !c.contains('\n') {
            c
        } else {
            self.default_colon()
        }
    }

    /// The layout for a value that starts at `pos`, in a container written over several
    /// lines (`pretty`) or on one line.
    fn layout_at<'a>(
        &'a self,
        pos: usize,
        pretty: bool,
        colon: &'a str,
        sep: &'a str,
    ) -> Layout<'a> {
        if pretty && !self.style.minified {
            Layout::Pretty {
                indent: line_indent(self.text, pos),
                style: &self.style,
                colon,
            }
        } else {
            Layout::Inline { sep, colon }
        }
    }

    /// Edits that make the object at `pointer` (whose parsed value is `current`) hold
    /// `members`: existing keys get their value replaced, new keys are appended in order.
    pub fn set_members(
        &self,
        pointer: &str,
        current: &Map<String, Value>,
        set: &[(String, New)],
    ) -> Vec<Edit> {
        let span = self.index.value_span(pointer);
        let members = self.members(pointer, current);
        let Some(first) = members.first() else {
            // An empty object is rewritten whole.
            let pretty = !self.style.minified;
            let colon = self.default_colon();
            let layout = self.layout_at(span.start, pretty, colon, self.default_sep());
            let pairs: Vec<(String, &New)> = set.iter().map(|(k, v)| (k.clone(), v)).collect();
            return vec![Edit {
                start: span.start,
                end: span.end,
                text: render_object(&pairs, &layout),
            }];
        };
        let gap = &self.text[span.start + 1..first.key_start];
        let pretty = gap.contains('\n');
        let colon = self.colon_of(first);
        let sep = match members.get(1) {
            Some(second) => {
                let s = &self.text[first.value_end..second.key_start];
                if s.trim() == "," && !s.contains('\n') {
                    s
                } else {
                    self.default_sep()
                }
            }
            None => self.default_sep(),
        };
        let last_end = members
            .iter()
            .map(|m| m.value_end)
            .max()
            .unwrap_or(first.value_end);
        let mut edits = Vec::new();
        let mut appended = String::new();
        for (key, value) in set {
            if current.contains_key(key) {
                let p = format!("{pointer}/{}", escape_segment(key));
                let vs = self.index.value_span(&p);
                let ks = self.index.key_span(&p);
                let layout = self.layout_at(ks.start, pretty, colon, sep);
                edits.push(Edit {
                    start: vs.start,
                    end: vs.end,
                    text: render(value, &layout),
                });
            } else if pretty && !self.style.minified {
                let indent = gap.rsplit('\n').next().unwrap_or("").to_string();
                let layout = Layout::Pretty {
                    indent: indent.clone(),
                    style: &self.style,
                    colon,
                };
                appended.push_str(&format!(
                    ",{}{indent}{}{colon}{}",
                    self.style.newline,
                    quote_key(key),
                    render(value, &layout)
                ));
            } else {
                let layout = Layout::Inline { sep, colon };
                appended.push_str(&format!(
                    "{sep}{}{colon}{}",
                    quote_key(key),
                    render(value, &layout)
                ));
            }
        }
        if !appended.is_empty() {
            edits.push(Edit {
                start: last_end,
                end: last_end,
                text: appended,
            });
        }
        edits
    }

    /// Edits that append `elements` to the array at `pointer`, which has `len` elements.
    pub fn append(&self, pointer: &str, len: usize, elements: &[New]) -> Vec<Edit> {
        let span = self.index.value_span(pointer);
        let colon = self.default_colon();
        if len == 0 {
            let pretty = !self.style.minified;
            let layout = self.layout_at(span.start, pretty, colon, self.default_sep());
            let parts = elements
                .iter()
                .map(|e| render(e, &deeper(&layout)))
                .collect();
            return vec![Edit {
                start: span.start,
                end: span.end,
                text: wrap('[', ']', parts, &layout),
            }];
        }
        let first = self.index.value_span(&format!("{pointer}/0"));
        let last = self.index.value_span(&format!("{pointer}/{}", len - 1));
        let gap = &self.text[span.start + 1..first.start];
        let mut text = String::new();
        if gap.contains('\n') && !self.style.minified {
            let indent = gap.rsplit('\n').next().unwrap_or("").to_string();
            // Use the `:` spacing of the first element when it is an object.
            let colon = self.object_colon(&format!("{pointer}/0")).unwrap_or(colon);
            for e in elements {
                let layout = Layout::Pretty {
                    indent: indent.clone(),
                    style: &self.style,
                    colon,
                };
                text.push_str(&format!(
                    ",{}{indent}{}",
                    self.style.newline,
                    render(e, &layout)
                ));
            }
        } else {
            let sep = if len > 1 {
                let second = self.index.value_span(&format!("{pointer}/1"));
                let s = &self.text[first.end..second.start];
                if s.trim() == "," && !s.contains('\n') {
                    s
                } else {
                    self.default_sep()
                }
            } else {
                self.default_sep()
            };
            let colon = self.object_colon(&format!("{pointer}/0")).unwrap_or(colon);
            for e in elements {
                text.push_str(&format!(
                    "{sep}{}",
                    render(e, &Layout::Inline { sep, colon })
                ));
            }
        }
        vec![Edit {
            start: last.end,
            end: last.end,
            text,
        }]
    }

    /// A value copied from `pointer`, keeping its source spelling when it is on one line.
    pub fn copy(&self, pointer: &str, value: &Value) -> New {
        let span = self.index.value_span(pointer);
        New::Raw(self.text[span.start..span.end].to_string(), value.clone())
    }

    /// Renders `value` to stand where a value starts at `pos`: indented from that line in a
    /// pretty file, on one line in a minified one.
    pub fn render_at(&self, pos: usize, value: &New) -> String {
        let layout = self.layout_at(pos, true, self.default_colon(), self.default_sep());
        render(value, &layout)
    }

    /// `value` as a [`New`] whose objects list their members in the order this text has them
    /// at `pointer` (where `source`, the value parsed from this text there, has them); members
    /// the text does not have follow in key order.
    pub fn ordered(&self, pointer: &str, source: Option<&Value>, value: &Value) -> New {
        let Value::Object(map) = value else {
            return New::Json(value.clone());
        };
        let source = source.and_then(Value::as_object);
        let mut keys: Vec<(usize, &String)> = map
            .keys()
            .map(|k| {
                let at = match source {
                    Some(src) if src.contains_key(k) => {
                        self.index
                            .key_span(&format!("{pointer}/{}", escape_segment(k)))
                            .start
                    }
                    _ => usize::MAX,
                };
                (at, k)
            })
            .collect();
        keys.sort_by_key(|&(at, _)| at);
        New::Object(
            keys.into_iter()
                .map(|(_, k)| {
                    let child = format!("{pointer}/{}", escape_segment(k));
                    let src = source.and_then(|s| s.get(k));
                    (k.clone(), self.ordered(&child, src, &map[k]))
                })
                .collect(),
        )
    }

    /// The region a conflict at `pointer` replaces: `(start, value_start, value_end, end)`.
    /// It starts at the member's key (`member`) or the value, and grows to the start of the
    /// line when only indentation precedes it; it ends after the value and a following
    /// comma, and at the end of the line when only blanks follow.
    pub fn region_bounds(&self, pointer: &str, member: bool) -> (usize, usize, usize, usize) {
        let v = self.index.value_span(pointer);
        let start0 = if member {
            self.index.key_span(pointer).start
        } else {
            v.start
        };
        let line_start = self.text[..start0].rfind('\n').map_or(0, |i| i + 1);
        let start = if self.text[line_start..start0].trim().is_empty() {
            line_start
        } else {
            start0
        };
        let bytes = self.text.as_bytes();
        let mut end = v.end;
        let mut p = v.end;
        while p < bytes.len() && matches!(bytes[p], b' ' | b'\t') {
            p += 1;
        }
        if p < bytes.len() && bytes[p] == b',' {
            end = p + 1;
            p += 1;
        }
        while p < bytes.len() && matches!(bytes[p], b' ' | b'\t') {
            p += 1;
        }
        if p == bytes.len() || bytes[p] == b'\n' || bytes[p..].starts_with(b"\r\n") {
            end = p;
        }
        (start, v.start, v.end, end)
    }

    /// Edits that make the object at `pointer` (whose parsed value is `current`) hold `set`
    /// ([`Splicer::set_members`]) without the members named in `remove`. Neighbouring
    /// removed members go as one run ([`remove_runs`]); an object left with no member of
    /// its own is rewritten whole with the new ones.
    pub fn change_members(
        &self,
        pointer: &str,
        current: &Map<String, Value>,
        set: &[(String, New)],
        remove: &[String],
    ) -> Vec<Edit> {
        if remove.is_empty() {
            return self.set_members(pointer, current, set);
        }
        let members = self.members(pointer, current);
        let removed: Vec<bool> = members
            .iter()
            .map(|m| {
                let key: Option<String> =
                    serde_json::from_str(&self.text[m.key_start..m.key_end]).ok();
                key.is_some_and(|k| remove.contains(&k))
            })
            .collect();
        if removed.iter().all(|&r| r) {
            let span = self.index.value_span(pointer);
            let pretty = !self.style.minified && self.text[span.start..span.end].contains('\n');
            let colon = members
                .first()
                .map_or(self.default_colon(), |m| self.colon_of(m));
            let layout = self.layout_at(span.start, pretty, colon, self.default_sep());
            let pairs: Vec<(String, &New)> = set.iter().map(|(k, v)| (k.clone(), v)).collect();
            return vec![Edit {
                start: span.start,
                end: span.end,
                text: render_object(&pairs, &layout),
            }];
        }
        let spans: Vec<(usize, usize)> =
            members.iter().map(|m| (m.key_start, m.value_end)).collect();
        let mut edits = remove_runs(self.text, &spans, &removed);
        edits.extend(self.set_members(pointer, current, set));
        edits
    }

    /// The byte range of the value at `pointer`.
    pub fn span_of(&self, pointer: &str) -> (usize, usize) {
        let s = self.index.value_span(pointer);
        (s.start, s.end)
    }

    /// The byte ranges of the `len` elements of the array at `pointer`.
    pub fn element_spans(&self, pointer: &str, len: usize) -> Vec<(usize, usize)> {
        (0..len)
            .map(|i| {
                let s = self.index.value_span(&format!("{pointer}/{i}"));
                (s.start, s.end)
            })
            .collect()
    }

    /// The `:` spelling used by the object at `pointer`, if it is a non-empty object.
    fn object_colon(&self, pointer: &str) -> Option<&str> {
        let span = self.index.value_span(pointer);
        let text = &self.text[span.start..span.end];
        if !text.starts_with('{') {
            return None;
        }
        let value: Value = serde_json::from_str(text).ok()?;
        let members = self.members(pointer, value.as_object()?);
        members.first().map(|m| self.colon_of(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::escape_segment;
    use serde_json::json;

    fn check(text: &str, pointer: &str, set: Vec<(&str, Value)>) -> String {
        let s = Splicer::new(text);
        let doc: Value = serde_json::from_str(text).unwrap();
        let obj = doc.pointer(pointer).unwrap().as_object().unwrap();
        let set: Vec<(String, New)> = set
            .into_iter()
            .map(|(k, v)| (k.to_string(), New::Json(v)))
            .collect();
        let out = apply(text, &s.set_members(pointer, obj, &set)).unwrap();
        let mut want = doc.clone();
        for (k, v) in &set {
            want.pointer_mut(pointer)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert(k.clone(), v.to_value());
        }
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), want, "{out}");
        out
    }

    #[test]
    fn removes_neighbouring_and_trailing_members_as_one_run() {
        let text = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3,\n  \"d\": 4\n}";
        let s = Splicer::new(text);
        let doc: Value = serde_json::from_str(text).unwrap();
        let obj = doc.as_object().unwrap();
        let change = |set: Vec<(&str, i64)>, remove: &[&str]| {
            let set: Vec<(String, New)> = set
                .into_iter()
                .map(|(k, v)| (k.to_string(), New::Json(v.into())))
                .collect();
            let remove: Vec<String> = remove.iter().map(|k| k.to_string()).collect();
            apply(text, &s.change_members("", obj, &set, &remove)).unwrap()
        };
        // The two last members (the case that once made overlapping edits), with a change
        // and an addition beside them.
        assert_eq!(
            change(vec![("b", 9), ("e", 5)], &["c", "d"]),
            "{\n  \"a\": 1,\n  \"b\": 9,\n  \"e\": 5\n}"
        );
        // Two neighbours in the middle, the first alone, every member.
        assert_eq!(change(vec![], &["b", "c"]), "{\n  \"a\": 1,\n  \"d\": 4\n}");
        assert_eq!(
            change(vec![], &["a"]),
            "{\n  \"b\": 2,\n  \"c\": 3,\n  \"d\": 4\n}"
        );
        assert_eq!(change(vec![], &["a", "b", "c", "d"]), "{}");
        assert_eq!(
            change(vec![("e", 5)], &["a", "b", "c", "d"]),
            "{\n  \"e\": 5\n}"
        );
        // Array elements: runs cut the same way.
        let arr = "[\n  1,\n  2,\n  3,\n  4\n]";
        let spans = Splicer::new(arr).element_spans("", 4);
        let cut = |removed: [bool; 4]| apply(arr, &remove_runs(arr, &spans, &removed)).unwrap();
        assert_eq!(cut([false, true, true, false]), "[\n  1,\n  4\n]");
        assert_eq!(cut([false, false, true, true]), "[\n  1,\n  2\n]");
        assert_eq!(cut([true, false, true, true]), "[\n  2\n]");
    }

    #[test]
    fn adds_members_in_the_objects_own_style() {
        let text = "{\n    \"a\": 1,\n    \"b\": {\n        \"c\": 2\n    }\n}\n";
        let out = check(
            text,
            "/b",
            vec![("d", json!({"e": [1, 2]})), ("c", json!(3))],
        );
        assert_eq!(
            out,
            "{\n    \"a\": 1,\n    \"b\": {\n        \"c\": 3,\n        \"d\": {\n            \"e\": [\n                1,\n                2\n            ]\n        }\n    }\n}\n"
        );
        let out = check(
            "{\"a\":1,\"b\":{\"c\":2}}",
            "/b",
            vec![("d", json!({"e": 1}))],
        );
        assert_eq!(out, "{\"a\":1,\"b\":{\"c\":2,\"d\":{\"e\":1}}}");
        let out = check("{\r\n\t\"a\": {}\r\n}", "/a", vec![("x", json!({"y": 1}))]);
        assert_eq!(
            out,
            "{\r\n\t\"a\": {\r\n\t\t\"x\": {\r\n\t\t\t\"y\": 1\r\n\t\t}\r\n\t}\r\n}"
        );
        let out = check(
            "{\n  \"a\": {\"k\": 1, \"l\": 2}\n}",
            "/a",
            vec![("m", json!({"n": 1}))],
        );
        assert_eq!(
            out,
            "{\n  \"a\": {\"k\": 1, \"l\": 2, \"m\": {\"n\": 1}}\n}"
        );
    }

    #[test]
    fn appends_to_arrays() {
        let text = "[\n  {\n    \"id\": \"a\"\n  }\n]";
        let s = Splicer::new(text);
        let e = New::Object(vec![
            ("id".into(), json!("b").into()),
            ("run".into(), json!({"attempt": 2}).into()),
        ]);
        let out = apply(text, &s.append("", 1, std::slice::from_ref(&e))).unwrap();
        assert_eq!(out, "[\n  {\n    \"id\": \"a\"\n  },\n  {\n    \"id\": \"b\",\n    \"run\": {\n      \"attempt\": 2\n    }\n  }\n]");
        let text = "{\n  \"items\": []\n}\n";
        let s = Splicer::new(text);
        let out = apply(text, &s.append("/items", 0, std::slice::from_ref(&e))).unwrap();
        assert_eq!(out, "{\n  \"items\": [\n    {\n      \"id\": \"b\",\n      \"run\": {\n        \"attempt\": 2\n      }\n    }\n  ]\n}\n");
        let text = "[{\"id\":\"a\"}]";
        let s = Splicer::new(text);
        assert_eq!(
            apply(text, &s.append("", 1, &[e])).unwrap(),
            "[{\"id\":\"a\"},{\"id\":\"b\",\"run\":{\"attempt\":2}}]"
        );
    }

    /// The items of `text` (a `{"items": [...]}` document) and their byte ranges.
    fn item_spans(text: &str) -> Vec<(usize, usize)> {
        crate::scan::scan(text)
            .expect("a scanned queue")
            .items
            .iter()
            .map(|i| i.body.span().unwrap())
            .collect()
    }

    const QUEUE: &str = "{\n  \"items\": [\n    {\n      \"id\": \"a\",\n      \"status\": \"running\"\n    },\n    {\n      \"id\": \"b\",\n      \"status\": \"queued\"\n    }\n  ]\n}\n";

    #[test]
    fn an_item_splicer_edits_like_the_whole_one() {
        let spans = item_spans(QUEUE);
        let doc: Value = serde_json::from_str(QUEUE).unwrap();
        let whole = Splicer::new(QUEUE);
        let items = Splicer::for_items(QUEUE, "/items", spans.clone());
        let set = vec![
            ("status".to_string(), New::Json(json!("failed"))),
            (
                "triage".to_string(),
                New::Json(json!({"status": "needs_review"})),
            ),
        ];
        let obj = doc["items"][0].as_object().unwrap();
        let edits = items.set_members("/items/0", obj, &set);
        assert_eq!(edits, whole.set_members("/items/0", obj, &set));
        let added = [New::Json(json!({"id": "c", "status": "queued"}))];
        let appended = items.append("/items", 2, &added);
        assert_eq!(appended, whole.append("/items", 2, &added));
        assert_eq!(
            items.copy("/items/1/id", &json!("b")),
            whole.copy("/items/1/id", &json!("b"))
        );
        // Nothing outside the items is located.
        assert_eq!(items.index.value_span("/version"), Span::default());
        assert_eq!(items.index.value_span("/items/07"), Span::default());
        assert_eq!(items.index.value_span("/items/2"), Span::default());

        let mut all = edits.clone();
        all.extend(appended);
        let mut item = obj.clone();
        item.insert("status".into(), json!("failed"));
        item.insert("triage".into(), json!({"status": "needs_review"}));
        let value = Value::Object(item);
        let changed = [Changed {
            span: spans[0],
            value: &value,
        }];
        let extra = [json!({"id": "c", "status": "queued"})];
        let out = apply_items(QUEUE, &all, &changed, Some(spans[1].1), &extra).unwrap();
        assert_eq!(out, apply(QUEUE, &all).unwrap());
        let mut want = doc.clone();
        want["items"][0] = value.clone();
        want["items"].as_array_mut().unwrap().push(extra[0].clone());
        assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), want);
    }

    #[test]
    fn a_splice_outside_the_changed_items_is_refused() {
        let spans = item_spans(QUEUE);
        let (a, b) = (spans[0], spans[1]);
        let doc: Value = serde_json::from_str(QUEUE).unwrap();
        let value = doc["items"][0].clone();
        let changed = [Changed {
            span: a,
            value: &value,
        }];
        let end = Some(b.1);
        let at = |start: usize, end: usize, text: &str| Edit {
            start,
            end,
            text: text.into(),
        };
        // Harmless to the document's value, yet outside the changed item: refused.
        for edit in [
            at(a.0 - 1, a.0 - 1, " "),                      // before the item
            at(a.1 + 1, a.1 + 1, " "),                      // between the items
            at(b.0 + 1, b.0 + 1, " "),                      // inside an unchanged item
            at(a.0, a.0 + 1, "{"),                          // the item's own brace
            at(a.1 - 1, a.1, "}"),                          // the other one
            at(a.0 + 1, a.1 + 1, &QUEUE[a.0 + 1..a.1 + 1]), // from inside to outside
            at(b.1, b.1 + 1, "\n"),                         // at the end, replacing
            at(0, 0, " "),                                  // the document's start
        ] {
            let whole = apply(QUEUE, std::slice::from_ref(&edit)).unwrap();
            assert_eq!(
                serde_json::from_str::<Value>(&whole).unwrap(),
                doc,
                "{edit:?}"
            );
            let err =
                apply_items(QUEUE, std::slice::from_ref(&edit), &changed, end, &[]).unwrap_err();
            assert!(err.contains("outside"), "{edit:?}: {err}");
        }
        // Inside the item, whitespace is fine; a changed value is not what was intended.
        assert!(apply_items(QUEUE, &[at(a.0 + 1, a.0 + 1, " ")], &changed, end, &[]).is_ok());
        let id = QUEUE.find("\"a\"").unwrap();
        let err = apply_items(QUEUE, &[at(id, id + 3, "\"x\"")], &changed, end, &[]).unwrap_err();
        assert!(err.contains("intended"), "{err}");
        // A repeated key parses to the intended value (the last wins) but is refused.
        let dup = at(id + 3, id + 3, ", \"id\": \"a\"");
        assert!(apply_items(QUEUE, &[dup], &changed, end, &[]).is_err());
        // Appended text must be exactly `, element` for each appended item.
        let new = [json!({"id": "c"})];
        assert!(apply_items(
            QUEUE,
            &[at(b.1, b.1, ",{\"id\":\"c\"}")],
            &changed,
            end,
            &new
        )
        .is_ok());
        for bad in [
            ",{\"id\":\"d\"}",
            "{\"id\":\"c\"}",
            ",{\"id\":\"c\"}]",
            ",{\"id\":\"c\",\"id\":\"c\"}",
        ] {
            assert!(
                apply_items(QUEUE, &[at(b.1, b.1, bad)], &changed, end, &new).is_err(),
                "{bad}"
            );
        }
        assert!(apply_items(QUEUE, &[at(b.1, b.1, ",{}")], &changed, end, &[]).is_err());
        assert!(apply_items(QUEUE, &[], &changed, end, &new).is_err());
    }

    #[test]
    fn detects_style() {
        assert_eq!(
            Style::detect("{\n    \"a\": {\n        \"b\": 1\n    }\n}").unit,
            "    "
        );
        assert_eq!(Style::detect("{\n\t\"a\": 1\n}").unit, "\t");
        assert!(Style::detect("{\"a\":1}\n").minified);
        assert_eq!(Style::detect("{\r\n  \"a\": 1\r\n}").newline, "\r\n");
    }

    fn leaf() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z\\u{e9}\\n\"\\\\]{0,6}".prop_map(Value::String),
        ]
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[abc/~]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn styled(v: &Value, style: u8) -> String {
        let pretty = |indent: &[u8]| {
            let mut out = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(
                &mut out,
                serde_json::ser::PrettyFormatter::with_indent(indent),
            );
            serde::Serialize::serialize(v, &mut ser).unwrap();
            String::from_utf8(out).unwrap()
        };
        match style % 5 {
            0 => serde_json::to_string(v).unwrap(),
            1 => pretty(b"  "),
            2 => pretty(b"    ") + "\n",
            3 => pretty(b"\t"),
            _ => pretty(b"  ").replace('\n', "\r\n"),
        }
    }

    /// Every object pointer in `v`.
    fn objects(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                out.push(at.clone());
                for (k, c) in m {
                    objects(c, format!("{at}/{}", escape_segment(k)), out);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    objects(c, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    proptest::proptest! {
        /// Setting members anywhere, in any style, yields exactly the intended value and
        /// leaves the text before the edited object untouched.
        #[test]
        fn set_members_round_trips(
            root in proptest::collection::btree_map("[abc]{1,2}", tree(), 0..4),
            style in 0u8..5,
            pick in 0usize..64,
            set in proptest::collection::vec(("[abcd/~]{1,2}", tree()), 1..4),
        ) {
            let doc = Value::Object(root.into_iter().collect());
            let text = styled(&doc, style);
            let mut pointers = Vec::new();
            objects(&doc, String::new(), &mut pointers);
            let pointer = pointers[pick % pointers.len()].clone();
            let obj = doc.pointer(&pointer).unwrap().as_object().unwrap();
            let mut seen = std::collections::HashSet::new();
            let set: Vec<(String, New)> = set
                .into_iter()
                .filter(|(k, _)| seen.insert(k.clone()))
                .map(|(k, v)| (k, New::Json(v)))
                .collect();
            let s = Splicer::new(&text);
            let out = apply(&text, &s.set_members(&pointer, obj, &set)).unwrap();
            let mut want = doc.clone();
            let target = want.pointer_mut(&pointer).unwrap().as_object_mut().unwrap();
            for (k, v) in &set {
                target.insert(k.clone(), v.to_value());
            }
            let got: Value = serde_json::from_str(&out).unwrap();
            proptest::prop_assert_eq!(got, want);
            let start = s.index.value_span(&pointer).start;
            proptest::prop_assert_eq!(&out[..start], &text[..start]);
            proptest::prop_assert_eq!(out.ends_with('\n'), text.ends_with('\n'));
            if !text.trim().contains('\n') {
                proptest::prop_assert!(!out.trim().contains('\n'));
            }
            if text.contains("\r\n") {
                proptest::prop_assert_eq!(out.matches('\n').count(), out.matches("\r\n").count());
            }
        }

        /// Appending to any array, in any style, yields exactly the intended value.
        #[test]
        fn append_round_trips(
            items in proptest::collection::vec(tree(), 0..4),
            style in 0u8..5,
            new in proptest::collection::vec(tree(), 1..3),
        ) {
            let doc = json!({"items": items, "z": 1});
            let text = styled(&doc, style);
            let s = Splicer::new(&text);
            let elements: Vec<New> = new.iter().cloned().map(New::Json).collect();
            let out = apply(&text, &s.append("/items", items.len(), &elements)).unwrap();
            let mut want = doc.clone();
            want["items"].as_array_mut().unwrap().extend(new);
            let got: Value = serde_json::from_str(&out).unwrap();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
