//! The fast path of [`super::merge`]: the same merge, reading the three versions with the
//! scanner ([`crate::scan`]) instead of building whole `Value` trees.
//!
//! A queue that changed on two branches differs in a few items out of many. So the items
//! are matched by id through the scanned views (at the same index first, else by a hash of
//! the id) and compared as byte slices: an item whose text is the same on both sides (or
//! unchanged on theirs since the base) is settled without being parsed. Only an item whose
//! texts differ is parsed, three small values, and merged by the very code of the full path
//! ([`Merger::merge_pair`]); textually different but equal items (reformatted, keys
//! reordered) are recognised there and left alone.
//!
//! Edits are computed on a small context document per changed item instead of a span index
//! of the whole file: the item's own lines, wrapped as `[\n<lines>\n]` (with a second
//! element when the lines end in a comma), under the whole file's [`Style`]. Everything the
//! splicer reads around an item (the indentation of its line, what follows it up to the end
//! of its line) is the same there as in the file, so the edits, moved back by the context's
//! offset, are byte for byte those of the full path. Theirs' new items are appended the
//! same way, with ours' array up to its second item as the context, and rendered in the key
//! order of their own text.
//!
//! Each changed item is verified on its own: its context document, edited, must parse to
//! exactly the merged item (and the appended context to exactly the items appended). An
//! item's lines hold that item alone, so the verified pieces make up a file that parses to
//! the merged queue, without re-parsing the file.
//!
//! The path declines (returns `None`, and the caller takes the full path) whenever its
//! picture would be incomplete: a version the scanner declines (not valid JSON, against the
//! schema, an escaped id; CRLF files scan), an item without an id or with a repeated one
//! (in the base too), sides of different shapes, an empty items array, top-level members
//! other than `items` that differ between the sides, an item sharing a line with other
//! values (minified files, one-line arrays), an item deleted on one side and changed on the
//! other (a conflict), an items array left without any of ours' items, an edit or a
//! verification that does not come out as planned. Items deleted on one side and unchanged
//! on the other are cut from ours' text between item ranges ([`edit::remove_runs`], as the
//! full path cuts them), which only removes separators and whole items. Declining costs time, never a different result: where this path answers,
//! it answers what the full path does (the tests compare the two on random queues).

use std::cell::OnceCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde_json::Value;

use super::{Conflict, Merger, Options, Outcome};
use crate::document;
use crate::edit::{self, Edit, Splicer, Style};
use crate::queue::{IdHasher, Queue};
use crate::scan;

/// The merge of [`super::merge`], or `None` when the inputs need the full path.
pub(super) fn merge(base: &[u8], ours: &[u8], theirs: &[u8], opts: &Options) -> Option<Outcome> {
    let ours_text = std::str::from_utf8(ours).ok()?;
    let theirs_text = std::str::from_utf8(theirs).ok()?;
    let blank_base = base.iter().all(u8::is_ascii_whitespace);
    let base_text = if blank_base {
        ""
    } else {
        std::str::from_utf8(base).ok()?
    };
    let (o, t, b) = std::thread::scope(|s| {
        let th = s.spawn(|| Version::scan(theirs_text));
        let bh = (!blank_base).then(|| s.spawn(|| Version::scan(base_text)));
        let o = Version::scan(ours_text);
        let t = th.join().ok().flatten();
        (o, t, bh.map(|h| h.join().ok().flatten()))
    });
    let (o, t) = (o?, t?);
    // A base that is not a scannable queue (not JSON: the full path notes it) declines; a
    // blank one is a file new on both sides.
    let b = match b {
        None => None,
        Some(b) => Some(b?),
    };
    if o.queue.shape.is_none() || o.queue.shape != t.queue.shape {
        return None;
    }
    let b = b.filter(|b| b.queue.shape == o.queue.shape);
    // Outside the items, both sides must agree (then no top-level member needs merging).
    if o.skeleton()? != t.skeleton()? {
        return None;
    }
    let found = |v: &Option<Version>, id: &str, hint: usize| v.as_ref()?.find(id, hint);

    let style = OnceCell::new();
    let style = || style.get_or_init(|| Style::detect(ours_text));
    let mut edits = Vec::new();
    let mut conflicts = Vec::new();
    let mut removed = vec![false; o.len()];
    // The values of an item whose texts differ decide (three small parses).
    let same = |x: &str, y: &str| Some(x == y || parse(x)? == parse(y)?);
    for (i, cut) in removed.iter_mut().enumerate() {
        let id = o.id(i);
        let ob = o.text(i);
        let bb = b.as_ref().and_then(|b| Some(b.text(b.find(id, i)?)));
        let Some(j) = t.find(id, i) else {
            // Deleted on theirs: gone when ours left it as it was; a change against the
            // deletion is for the full path.
            if let Some(bb) = bb {
                if !same(ob, bb)? {
                    return None;
                }
                *cut = true;
            }
            continue;
        };
        let tb = t.text(j);
        if ob == tb || bb == Some(tb) {
            continue;
        }
        // The texts differ: the values decide.
        let ov = parse(ob)?;
        let tv = parse(tb)?;
        let bv = match bb {
            Some(bb) => Some(parse(bb)?),
            None => None,
        };
        if ov == tv || bv.as_ref() == Some(&tv) {
            continue;
        }
        let lines = own_lines(ours_text, o.span(i))?;
        let merged = merge_item(&lines, tb, style(), opts, id, bv.as_ref(), &ov, &tv)?;
        edits.extend(merged.0);
        conflicts.extend(merged.1);
    }
    let mut new = Vec::new();
    for j in 0..t.len() {
        let id = t.id(j);
        if o.find(id, j).is_some() {
            continue;
        }
        // Deleted on ours: gone when theirs left it as it was (else the full path).
        if let Some(k) = found(&b, id, j) {
            let bb = b.as_ref()?.text(k);
            if !same(t.text(j), bb)? {
                return None;
            }
            continue;
        }
        new.push(t.text(j));
    }
    // An array left without any of ours' items is rewritten: the full path's.
    let last_kept = (0..o.len()).rev().find(|&i| !removed[i])?;
    if removed.iter().any(|&r| r) {
        edits.extend(edit::remove_runs(ours_text, &o.spans, &removed));
    }
    if !new.is_empty() {
        edits.push(append(&o, last_kept, &new, style())?);
    }
    let bytes = if edits.is_empty() {
        ours.to_vec()
    } else {
        edit::apply(ours_text, &edits).ok()?.into_bytes()
    };
    Some(Outcome {
        bytes,
        conflicts,
        notes: Vec::new(),
        unreadable: false,
    })
}

/// One scanned version: its items and where each id is.
struct Version<'t> {
    text: &'t str,
    queue: Queue<'t>,
    /// Each item's byte range.
    spans: Vec<(usize, usize)>,
    /// Id hash → index. The hashes of one version are distinct (else the version is
    /// declined), so an id is found by its hash and one comparison.
    at: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
}

impl<'t> Version<'t> {
    /// `None` when the scanner declines `text`, or an item has no id, or two items' ids
    /// hash alike (a repeated id, which the full path has rules for, or a rare collision).
    fn scan(text: &'t str) -> Option<Version<'t>> {
        let queue = scan::scan(text)?;
        let n = queue.items.len();
        let mut at = HashMap::with_capacity_and_hasher(n, Default::default());
        let mut spans = Vec::with_capacity(n);
        for (i, item) in queue.items.iter().enumerate() {
            if at.insert(hash(item.id?), u32::try_from(i).ok()?).is_some() {
                return None;
            }
            spans.push(item.body.span()?);
        }
        Some(Version {
            text,
            queue,
            spans,
            at,
        })
    }

    fn len(&self) -> usize {
        self.spans.len()
    }

    /// Item `i`'s id (every item has one, [`Version::scan`] checked).
    fn id(&self, i: usize) -> &'t str {
        self.queue.items[i].id.unwrap_or_default()
    }

    fn span(&self, i: usize) -> (usize, usize) {
        self.spans[i]
    }

    /// Item `i`'s text.
    fn text(&self, i: usize) -> &'t str {
        &self.text[self.spans[i].0..self.spans[i].1]
    }

    /// The index of the item with `id`. Versions of a queue mostly hold the same items at
    /// the same places, so index `hint` is tried first.
    fn find(&self, id: &str, hint: usize) -> Option<usize> {
        if hint < self.len() && self.id(hint) == id {
            return Some(hint);
        }
        let i = *self.at.get(&hash(id))? as usize;
        (self.id(i) == id).then_some(i)
    }

    /// The document with its items cut out (`{"items": []…}` or `[]`), parsed; `None` for
    /// an empty items array, which the full path handles.
    fn skeleton(&self) -> Option<Value> {
        let (start, end) = (self.spans.first()?.0, self.spans.last()?.1);
        let mut s = String::with_capacity(start + self.text.len() - end);
        s.push_str(&self.text[..start]);
        s.push_str(&self.text[end..]);
        serde_json::from_str(&s).ok()
    }
}

fn hash(id: &str) -> u64 {
    let mut h = IdHasher::default();
    h.write(id.as_bytes());
    h.finish()
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

fn parse(text: &str) -> Option<Value> {
    document::parse(text.as_bytes()).ok().map(|p| p.value)
}

/// The lines an item occupies alone: `text[start..end]` is indentation, the item, blanks and
/// at most one comma with blanks, up to (not including) the line break.
struct Lines<'t> {
    text: &'t str,
    start: usize,
    end: usize,
    comma: bool,
}

fn own_lines(text: &str, (s, e): (usize, usize)) -> Option<Lines<'_>> {
    let b = text.as_bytes();
    let start = text[..s].rfind('\n').map_or(0, |i| i + 1);
    if !b[start..s].iter().all(|&c| c == b' ' || c == b'\t') {
        return None;
    }
    let mut end = text[e..].find('\n').map_or(text.len(), |i| e + i);
    if end > e && b[end - 1] == b'\r' {
        end -= 1;
    }
    let tail = &b[e..end];
    let blank = |s: &[u8]| s.iter().all(|&c| c == b' ' || c == b'\t');
    let comma = match tail.iter().position(|&c| c == b',') {
        Some(k) if blank(&tail[..k]) && blank(&tail[k + 1..]) => true,
        None if blank(tail) => false,
        _ => return None,
    };
    Some(Lines {
        text,
        start,
        end,
        comma,
    })
}

/// What `[\n` before an item's lines shifts its offsets by.
const OPEN: usize = 2;

/// Merges one item whose sides differ, on its context document: the edits in the file's
/// offsets and the conflicts. `None` when an edit leaves the item's lines or the edited item
/// does not parse to the merged value.
#[allow(clippy::too_many_arguments)]
fn merge_item(
    lines: &Lines,
    theirs_item: &str,
    style: &Style,
    opts: &Options,
    id: &str,
    bv: Option<&Value>,
    ov: &Value,
    tv: &Value,
) -> Option<(Vec<Edit>, Vec<Conflict>)> {
    let own = &lines.text[lines.start..lines.end];
    let context = format!("[\n{own}\n{}]", if lines.comma { "0\n" } else { "" });
    let mut m = Merger::new(&context, theirs_item, *opts, Vec::new());
    let mut splicer = Splicer::new(&context);
    splicer.style = style.clone();
    m.ours_splicer = Some(splicer);
    m.merge_pair(id, 0, ("/0", ""), bv, ov, tv).ok()?;
    if m.conflicts.is_empty() && !m.edits.is_empty() {
        let (_, merged) = m.replaced.pop()?;
        let edited = edit::apply(&context, &m.edits).ok()?;
        let mut want = vec![merged];
        if lines.comma {
            want.push(Value::from(0));
        }
        if parse(&edited)? != Value::Array(want) {
            return None;
        }
    }
    let mut edits = Vec::with_capacity(m.edits.len());
    for e in m.edits {
        if e.start < OPEN || e.end > OPEN + own.len() {
            return None;
        }
        edits.push(Edit {
            start: e.start - OPEN + lines.start,
            end: e.end - OPEN + lines.start,
            text: e.text,
        });
    }
    Some((edits, m.conflicts))
}

/// The edit that appends `items` (theirs' texts) after ours' item `last` (the last one the
/// result keeps): rendered in ours' style, members in the order of their own text, as the
/// full path appends them.
fn append(o: &Version, last: usize, items: &[&str], style: &Style) -> Option<Edit> {
    let (ours, spans) = (o.text, &o.spans);
    let mut values = Vec::with_capacity(items.len());
    let mut elements = Vec::with_capacity(items.len());
    for text in items {
        let v = parse(text)?;
        elements.push(Splicer::new(text).ordered("", Some(&v), &v));
        values.push(v);
    }
    // Ours' array from its `[` to the end of its second item, closed: what `append` reads.
    let n = (last + 1).min(2);
    let first = spans.first()?.0;
    let open = ours[..first]
        .trim_end_matches([' ', '\t', '\n', '\r'])
        .len()
        .checked_sub(1)?;
    if ours.as_bytes()[open] != b'[' {
        return None;
    }
    let context = format!("{}]", &ours[open..spans[n - 1].1]);
    let mut splicer = Splicer::new(&context);
    splicer.style = style.clone();
    let e = match splicer.append("", n, &elements).as_slice() {
        [e] if e.start == context.len() - 1 && e.end == e.start => e.clone(),
        _ => return None,
    };
    // Verify: the context, edited, holds its own items and then exactly theirs.
    let Value::Array(had) = parse(&context)? else {
        return None;
    };
    let Value::Array(got) = parse(&edit::apply(&context, std::slice::from_ref(&e)).ok()?)? else {
        return None;
    };
    if got.len() != n + values.len() || got[..n] != had[..] || got[n..] != values[..] {
        return None;
    }
    let at = spans[last].1;
    Some(Edit {
        start: at,
        end: at,
        text: e.text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A queue text: `style` picks the layout (0: 2 spaces, 1: 4 spaces and a final newline,
    /// 2: tabs, 3: CRLF, 4: a bare array, 5: minified), `form(i)` each item's (0: members
    /// in key order, 1: reversed, 2: on one line).
    fn render(items: &[Value], style: u8, form: impl Fn(usize) -> u8) -> String {
        let (unit, nl) = match style {
            1 => ("    ", "\n"),
            2 => ("\t", "\n"),
            3 => ("  ", "\r\n"),
            _ => ("  ", "\n"),
        };
        if style == 5 {
            return serde_json::to_string(&json!({"version": 1, "items": items})).unwrap();
        }
        let bare = style == 4;
        let ind = if bare {
            unit.to_string()
        } else {
            unit.repeat(2)
        };
        let parts: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let mut s = ind.clone();
                match form(i) {
                    2 => s.push_str(&serde_json::to_string(v).unwrap()),
                    f => pretty(v, &ind, unit, nl, f == 1, &mut s),
                }
                s
            })
            .collect();
        let body = if parts.is_empty() {
            String::new()
        } else {
            format!("{nl}{}{nl}", parts.join(&format!(",{nl}")))
        };
        let close = if bare { "" } else { unit };
        let array = format!("[{body}{}]", if body.is_empty() { "" } else { close });
        let text = if bare {
            array
        } else {
            format!("{{{nl}{unit}\"version\": 1,{nl}{unit}\"items\": {array}{nl}}}")
        };
        if style == 1 {
            text + "\n"
        } else {
            text
        }
    }

    fn pretty(v: &Value, indent: &str, unit: &str, nl: &str, reverse: bool, out: &mut String) {
        let inner = format!("{indent}{unit}");
        match v {
            Value::Object(m) if !m.is_empty() => {
                let mut keys: Vec<&String> = m.keys().collect();
                if reverse {
                    keys.reverse();
                }
                out.push('{');
                for (n, k) in keys.into_iter().enumerate() {
                    out.push_str(if n == 0 { "" } else { "," });
                    out.push_str(&format!("{nl}{inner}{}: ", json!(k)));
                    pretty(&m[k], &inner, unit, nl, reverse, out);
                }
                out.push_str(&format!("{nl}{indent}}}"));
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('[');
                for (n, x) in a.iter().enumerate() {
                    out.push_str(if n == 0 { "" } else { "," });
                    out.push_str(&format!("{nl}{inner}"));
                    pretty(x, &inner, unit, nl, reverse, out);
                }
                out.push_str(&format!("{nl}{indent}]"));
            }
            v => out.push_str(&serde_json::to_string(v).unwrap()),
        }
    }

    fn item(id: &str, status: &str) -> Value {
        json!({"id": id, "status": status, "title": format!("job {id}"),
               "run": {"startedAtMs": 1_772_064_000_000i64, "attempt": 1}})
    }

    /// The fast path answers, and answers what the full path does.
    fn same(base: &str, ours: &str, theirs: &str, opts: &Options) -> Outcome {
        let fast = merge(base.as_bytes(), ours.as_bytes(), theirs.as_bytes(), opts)
            .expect("the fast path takes these inputs");
        let full =
            super::super::merge_values(base.as_bytes(), ours.as_bytes(), theirs.as_bytes(), opts);
        assert_eq!(
            String::from_utf8_lossy(&fast.bytes),
            String::from_utf8_lossy(&full.bytes)
        );
        assert_eq!(fast.conflicts, full.conflicts);
        assert_eq!(fast.notes, full.notes);
        fast
    }

    #[test]
    fn an_item_reformatted_on_ours_but_equal_is_left_as_ours_wrote_it() {
        let items = vec![item("a", "running"), item("b", "queued"), item("c", "done")];
        let base = render(&items, 0, |_| 0);
        // Ours writes "a" on one line and "c" with its members reversed: other bytes, same values.
        let ours = render(&items, 0, |i| [2, 0, 1][i]);
        let mut t = items.clone();
        t[1]["status"] = json!("running");
        let theirs = render(&t, 0, |_| 0);
        let out = same(&base, &ours, &theirs, &Options::default());
        assert!(out.conflicts.is_empty() && out.notes.is_empty());
        let text = String::from_utf8(out.bytes).unwrap();
        let want = ours.replacen("\"status\": \"queued\"", "\"status\": \"running\"", 1);
        assert_eq!(text, want, "only b's status changed, in ours' text");
        // Theirs reformatted too, and nothing else: ours comes back untouched.
        let theirs = render(&items, 0, |i| [1, 2, 2][i]);
        assert_eq!(
            same(&base, &ours, &theirs, &Options::default()).bytes,
            ours.as_bytes()
        );
    }

    #[test]
    fn a_reformatted_item_changed_on_both_sides_merges_field_by_field() {
        let items = vec![item("a", "running"), item("b", "queued")];
        let base = render(&items, 3, |_| 0);
        let (mut o, mut t) = (items.clone(), items.clone());
        o[0]["run"]["lastHeartbeatAtMs"] = json!(1_772_064_000_500i64);
        t[0]["status"] = json!("done");
        t[0]["run"]["finishedAtMs"] = json!(1_772_064_000_900i64);
        t.push(item("n", "queued"));
        let ours = render(&o, 3, |_| 1);
        let theirs = render(&t, 3, |i| if i == 0 { 2 } else { 0 });
        let out = same(&base, &ours, &theirs, &Options::default());
        assert!(out.conflicts.is_empty());
        let text = String::from_utf8(out.bytes).unwrap();
        let got: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(got["items"][0]["status"], "done");
        assert_eq!(
            got["items"][0]["run"]["lastHeartbeatAtMs"],
            1_772_064_000_500i64
        );
        assert_eq!(got["items"][2]["id"], "n");
        assert!(
            !text.replace("\r\n", "").contains('\n'),
            "CRLF kept: {text:?}"
        );
    }

    #[test]
    fn what_the_scanner_or_the_layout_cannot_serve_is_declined() {
        let items = vec![item("a", "running"), item("b", "queued")];
        let base = render(&items, 0, |_| 0);
        let mut t = items.clone();
        t[0]["status"] = json!("done");
        let theirs = render(&t, 0, |_| 0);
        let opts = Options::default();
        let declined = |b: &str, o: &str, t: &str| {
            assert!(merge(b.as_bytes(), o.as_bytes(), t.as_bytes(), &opts).is_none());
            let full = super::super::merge(b.as_bytes(), o.as_bytes(), t.as_bytes(), &opts);
            let slow = super::super::merge_values(b.as_bytes(), o.as_bytes(), t.as_bytes(), &opts);
            assert_eq!(full.bytes, slow.bytes);
        };
        // Minified: items share a line.
        declined(&base, &render(&items, 5, |_| 0), &theirs);
        // A base that is not JSON (the full path notes it).
        declined("{", &base, &theirs);
        // A repeated id.
        let dup = render(&[item("a", "running"), item("a", "queued")], 0, |_| 0);
        declined(&base, &dup, &theirs);
        // A top-level member changed.
        declined(
            &base,
            &base.replace("\"version\": 1", "\"version\": 2"),
            &theirs,
        );
        // An item that shares its line: `[{` on one line.
        declined(&base, &base.replacen("[\n    {", "[{", 1), &theirs);
        // Different shapes.
        declined(&base, &render(&items, 4, |_| 0), &theirs);
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Change {
            Status(usize, u8),
            Heartbeat(usize, i64),
            Title(usize, u8),
            Triage(usize),
            Add(u8, u8),
            Delete(usize),
        }

        fn change() -> impl Strategy<Value = Change> {
            prop_oneof![
                (0usize..16, 0u8..6).prop_map(|(n, s)| Change::Status(n, s)),
                (0usize..16, 1i64..1000).prop_map(|(n, d)| Change::Heartbeat(n, d)),
                (0usize..16, 0u8..3).prop_map(|(n, k)| Change::Title(n, k)),
                (0usize..16).prop_map(Change::Triage),
                (0u8..4, 0u8..2).prop_map(|(k, v)| Change::Add(k, v)),
                (0usize..16).prop_map(Change::Delete),
            ]
        }

        fn apply(items: &mut Vec<Value>, c: &Change) {
            let len = items.len();
            match *c {
                _ if len == 0 => {}
                Change::Status(n, s) => {
                    items[n % len]["status"] = json!(crate::queue::Status::ALL[s as usize].as_str())
                }
                Change::Heartbeat(n, d) => {
                    items[n % len]["run"]["lastHeartbeatAtMs"] = json!(1_772_064_000_000i64 + d)
                }
                Change::Title(n, k) => items[n % len]["title"] = json!(format!("title {k}")),
                Change::Triage(n) => {
                    items[n % len]["triage"] =
                        json!({"status": "needs_review", "reason": "stale_running"})
                }
                Change::Add(k, v) => {
                    let id = format!("new{k}");
                    if !items.iter().any(|i| i["id"] == json!(id)) {
                        let mut it = item(&id, "queued");
                        it["title"] = json!(format!("variant {v}"));
                        items.push(it);
                    }
                }
                Change::Delete(n) => {
                    items.remove(n % len);
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
            /// Random edits on both branches, random layouts per side and per item: the fast
            /// path answers exactly what the full path does, and answers whenever each side's
            /// items sit on their own lines.
            #[test]
            fn the_fast_path_agrees_with_the_full_path(
                n in 1usize..8,
                ours_changes in proptest::collection::vec(change(), 0..6),
                theirs_changes in proptest::collection::vec(change(), 0..6),
                style in 0u8..6,
                forms in proptest::collection::vec(0u8..3, 3),
                blank_base in any::<bool>(),
                ancestor in any::<bool>(),
            ) {
                let statuses = ["queued", "running", "done", "stale"];
                let b: Vec<Value> = (0..n).map(|i| item(&format!("i{i}"), statuses[i % 4])).collect();
                let (mut o, mut t) = (b.clone(), b.clone());
                for c in &ours_changes { apply(&mut o, c); }
                for c in &theirs_changes { apply(&mut t, c); }
                let side = |k: usize| {
                    let f = forms[k];
                    move |i: usize| (f as usize + i * (k + 1)) as u8 % 3
                };
                let base = if blank_base { String::new() } else { render(&b, style, side(0)) };
                let ours = render(&o, style, side(1));
                let theirs = render(&t, style, side(2));
                let opts = Options { marker_size: 7, ancestor };
                let has = |v: &[Value], x: &Value| v.iter().any(|y| y["id"] == x["id"]);
                // An item deleted on one side and changed on the other, and an array left
                // with none of ours' items, are the full path's.
                let gone = !blank_base && b.iter().any(|x| {
                    let changed = |v: &[Value]| v.iter().any(|y| y["id"] == x["id"] && y != x);
                    (!has(&o, x) && changed(&t)) || (!has(&t, x) && changed(&o))
                });
                let any_kept = o.iter().any(|x| blank_base || has(&t, x) || !has(&b, x));
                let full = super::super::super::merge_values(base.as_bytes(), ours.as_bytes(), theirs.as_bytes(), &opts);
                match merge(base.as_bytes(), ours.as_bytes(), theirs.as_bytes(), &opts) {
                    Some(fast) => {
                        prop_assert_eq!(String::from_utf8_lossy(&fast.bytes), String::from_utf8_lossy(&full.bytes));
                        prop_assert_eq!(fast.conflicts, full.conflicts);
                        prop_assert_eq!(fast.notes, full.notes);
                    }
                    None => prop_assert!(
                        style == 5 || o.is_empty() || t.is_empty() || gone || !any_kept,
                        "declined: {:?}\n{}", full.conflicts, String::from_utf8_lossy(&full.bytes)
                    ),
                }
            }
        }
    }
}
