//! The three-way merge of a queue file, item by item (`runqlint merge-driver`). Pure: bytes
//! in, bytes and a report out.
//!
//! Items are matched by `id` ([`crate::itemdiff`]), never by position.
//!
//! * An item on one side only: added there, kept (theirs are appended after ours' last
//!   kept item, in their order), unless the base has it: then the other side deleted it,
//!   as a line merge would. Deleted on one side and unchanged on the other, it is gone;
//!   deleted on one side and changed on the other, it is a conflict with one side empty,
//!   the way git marks a deleted line range the other side changed (the region stands
//!   before ours' next kept item, else after the last, else over the items array). Whether items may be deleted at all
//!   is the gate's question (`item-deleted`), not the merge's. Neighbouring items (and
//!   members) removed together go as one run ([`edit::remove_runs`]).
//! * Added on both sides: equal values once; different values are a conflict on the item.
//! * Present everywhere: merged field by field against the base. A change made on one side
//!   only is taken. `status` moves forward on the lattice `queued` → `running` → `stale` →
//!   terminal (two different terminal statuses conflict); `run.lastHeartbeatAtMs` takes the
//!   later time; a `triage` present on one side only is kept; objects merge member by
//!   member; anything else changed differently on both sides is a conflict on that field.
//! * Top-level members other than `items` merge like item fields (without the item rules).
//!
//! The result is ours' text with byte edits ([`crate::edit`], the splicing `fix` uses):
//! untouched wherever nothing changed, new values rendered in our style. A conflict replaces
//! the smallest region (the field's member lines, else the item) with conflict markers of
//! the given size around the two candidates; picking either side leaves valid JSON. Two
//! sides of different shapes (or with a repeated key) make one conflict over the whole file
//! holding both texts, so nothing is lost. A side that is not JSON is marked
//! [`Outcome::unreadable`]: the caller merges it line by line, as git does without a
//! driver.
//!
//! A clean result is checked before it is returned: it must parse to exactly the merged
//! value, else the whole-file conflict is returned instead.
//!
//! Two paths give the same result: `fast` scans the versions, compares items as bytes and
//! parses, merges and checks only the items whose text differs; [`merge_values`] parses the
//! three versions whole, for the inputs the fast path declines.

use serde_json::{Map, Value};

use crate::document::{self, escape_segment};
use crate::edit::{self, Edit, New, Splicer};
use crate::itemdiff;
use crate::queue::{IdMap, Status};
use crate::text;

mod fast;

/// How to merge.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Conflict-marker length (git's `%L`, 7 by default).
    pub marker_size: usize,
    /// Merging common ancestors (git's `recursive` driver for criss-cross merges): every
    /// conflict is settled on the base's value (else ours) instead of marked, so the
    /// virtual ancestor stays a valid queue and the real merge sees the disagreement.
    pub ancestor: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            marker_size: 7,
            ancestor: false,
        }
    }
}

/// One disagreement left for a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The item's id; `None` for a top-level member or the whole file.
    pub id: Option<String>,
    /// Dotted path of the field inside the item (or top-level member); `None` for the whole
    /// item or file.
    pub field: Option<String>,
    /// What each side has, as compact JSON (or a reason).
    pub ours: String,
    pub theirs: String,
}

impl Conflict {
    /// One line, untrusted text escaped.
    pub fn describe(&self) -> String {
        let place = match (&self.id, &self.field) {
            (Some(id), Some(f)) => format!("item {} field {}", text::quote(id), text::quote(f)),
            (Some(id), None) => format!("item {}", text::quote(id)),
            (None, Some(f)) => format!("top-level member {}", text::quote(f)),
            (None, None) => "the whole file".into(),
        };
        format!(
            "{place}: ours {}, theirs {}",
            short(&self.ours),
            short(&self.theirs)
        )
    }

    fn label(&self) -> String {
        match (&self.id, &self.field) {
            (Some(id), Some(f)) => format!("item {} field {}", text::quote(id), text::quote(f)),
            (Some(id), None) => format!("item {}", text::quote(id)),
            (None, Some(f)) => format!("member {}", text::quote(f)),
            (None, None) => "whole file".into(),
        }
    }
}

/// At most 60 characters of `s`, unsafe characters escaped.
fn short(s: &str) -> String {
    let mut cut: String = s.chars().take(60).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    text::escape(&cut)
}

/// The merged bytes and what happened.
#[derive(Debug)]
pub struct Outcome {
    pub bytes: Vec<u8>,
    /// Empty when the merge is clean.
    pub conflicts: Vec<Conflict>,
    /// Things reported but settled (an unreadable base).
    pub notes: Vec<String>,
    /// A side is not JSON (conflict markers, say): it cannot be merged by item, and the
    /// caller merges the texts line by line as git does without a driver. `bytes` hold the
    /// whole-file conflict meanwhile.
    pub unreadable: bool,
}

/// Merges `ours` and `theirs` against `base` (empty when the file is new on both sides).
pub fn merge(base: &[u8], ours: &[u8], theirs: &[u8], opts: &Options) -> Outcome {
    fast::merge(base, ours, theirs, opts).unwrap_or_else(|| merge_values(base, ours, theirs, opts))
}

/// [`merge`] on whole parsed values: the path for every input, and the only one for the
/// inputs the fast path (`merge::fast`) declines.
pub fn merge_values(base: &[u8], ours: &[u8], theirs: &[u8], opts: &Options) -> Outcome {
    let (b, (o, t)) = std::thread::scope(|s| {
        let ob = s.spawn(|| document::parse(ours));
        let tb = s.spawn(|| document::parse(theirs));
        let b = document::parse(base);
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join()
                .unwrap_or_else(|_| Err(syntax("the parser stopped")))
        };
        (b, (join(ob), join(tb)))
    });
    let mut notes = Vec::new();
    let (o, t) = match (o, t) {
        (Ok(o), Ok(t)) => (o, t),
        (o, t) => {
            let why = |r: &Result<document::Parsed, document::SyntaxError>| match r {
                Ok(_) => "valid JSON".to_string(),
                Err(e) => format!("not JSON: {}", e.message),
            };
            let mut out = whole_file(ours, theirs, why(&o), why(&t), opts, notes);
            out.unreadable = !opts.ancestor;
            return out;
        }
    };
    if o.has_duplicate_keys || t.has_duplicate_keys {
        let why = |d: bool| {
            if d {
                "a repeated key"
            } else {
                "no repeated key"
            }
        };
        return whole_file(
            ours,
            theirs,
            why(o.has_duplicate_keys).into(),
            why(t.has_duplicate_keys).into(),
            opts,
            notes,
        );
    }
    let base = match b {
        Ok(b) => Some(b.value),
        Err(_) if base.iter().all(u8::is_ascii_whitespace) => None,
        Err(e) => {
            notes.push(format!(
                "the base version is not JSON ({}); merged as if both sides added every item",
                e.message
            ));
            None
        }
    };
    let (Ok(ours_text), Ok(theirs_text)) = (std::str::from_utf8(ours), std::str::from_utf8(theirs))
    else {
        // Unreachable: `document::parse` accepted both, so both are UTF-8.
        return whole_file(
            ours,
            theirs,
            "not UTF-8".into(),
            "not UTF-8".into(),
            opts,
            notes,
        );
    };
    match (shape(&o.value), shape(&t.value)) {
        (Some(a), Some(b)) if a == b => {}
        (a, b) => {
            let name = |s: Option<&str>| s.unwrap_or("neither an object nor an array").to_string();
            return whole_file(ours, theirs, name(a), name(b), opts, notes);
        }
    }
    let base = base.filter(|b| shape(b) == shape(&o.value));
    let mut m = Merger::new(ours_text, theirs_text, *opts, notes);
    if let Err(reason) = m.run(base.as_ref(), &o.value, &t.value) {
        let mut notes = m.notes;
        notes.push(reason);
        return whole_file(
            ours,
            theirs,
            "could not be merged".into(),
            "could not be merged".into(),
            opts,
            notes,
        );
    }
    let Merger {
        edits,
        conflicts,
        notes,
        replaced,
        removed,
        appended,
        root,
        ..
    } = m;
    let merged = match edit::apply(ours_text, &edits) {
        Ok(s) => s,
        Err(e) => {
            return whole_file(
                ours,
                theirs,
                "could not be merged".into(),
                format!("edit failed: {e}"),
                opts,
                notes,
            )
        }
    };
    if conflicts.is_empty() && !edits.is_empty() {
        // The splice must produce exactly the merged value.
        let mut want = o.value;
        for (key, v) in root {
            if let Value::Object(map) = &mut want {
                match v {
                    Some(v) => map.insert(key, v),
                    None => map.remove(&key),
                };
            }
        }
        if let Some(items) = items_mut(&mut want) {
            for (i, v) in replaced {
                items[i] = v;
            }
            for &i in removed.iter().rev() {
                items.remove(i);
            }
            items.extend(appended);
        } else if !appended.is_empty() {
            if let Value::Object(map) = &mut want {
                map.insert("items".into(), Value::Array(appended));
            }
        }
        let ok = document::parse(merged.as_bytes()).is_ok_and(|p| p.value == want);
        if !ok {
            return whole_file(
                ours,
                theirs,
                "could not be merged".into(),
                "the merged text did not reproduce the merged value".into(),
                opts,
                notes,
            );
        }
    }
    Outcome {
        bytes: merged.into_bytes(),
        conflicts,
        notes,
        unreadable: false,
    }
}

fn syntax(message: &str) -> document::SyntaxError {
    document::SyntaxError {
        offset: 0,
        message: message.into(),
        help: None,
    }
}

fn shape(v: &Value) -> Option<&'static str> {
    match v {
        Value::Object(_) => Some("an object"),
        Value::Array(_) => Some("a bare array"),
        _ => None,
    }
}

fn items_of(doc: &Value) -> &[Value] {
    itemdiff::items_array(doc).map_or(&[], Vec::as_slice)
}

fn items_mut(doc: &mut Value) -> Option<&mut Vec<Value>> {
    match doc {
        Value::Array(a) => Some(a),
        Value::Object(o) => o.get_mut("items").and_then(Value::as_array_mut),
        _ => None,
    }
}

fn items_pointer(doc: &Value) -> &'static str {
    if doc.is_array() {
        ""
    } else {
        "/items"
    }
}

fn compact(v: Option<&Value>) -> String {
    match v {
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
        None => "(absent)".into(),
    }
}

/// One conflict over the whole file: both texts, complete, between markers.
fn whole_file(
    ours: &[u8],
    theirs: &[u8],
    ours_why: String,
    theirs_why: String,
    opts: &Options,
    notes: Vec<String>,
) -> Outcome {
    if opts.ancestor {
        return Outcome {
            bytes: ours.to_vec(),
            conflicts: Vec::new(),
            notes,
            unreadable: false,
        };
    }
    let nl: &[u8] = if ours.windows(2).any(|w| w == b"\r\n") {
        b"\r\n"
    } else {
        b"\n"
    };
    let m = opts.marker_size;
    let mut out = Vec::with_capacity(ours.len() + theirs.len() + 64);
    let line = |out: &mut Vec<u8>, c: u8, label: &str| {
        out.extend(std::iter::repeat_n(c, m));
        out.push(b' ');
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(nl);
    };
    let body = |out: &mut Vec<u8>, b: &[u8]| {
        out.extend_from_slice(b);
        if !b.ends_with(b"\n") {
            out.extend_from_slice(nl);
        }
    };
    line(&mut out, b'<', "ours (whole file)");
    body(&mut out, ours);
    out.extend(std::iter::repeat_n(b'=', m));
    out.extend_from_slice(nl);
    body(&mut out, theirs);
    line(&mut out, b'>', "theirs (whole file)");
    Outcome {
        bytes: out,
        conflicts: vec![Conflict {
            id: None,
            field: None,
            ours: ours_why,
            theirs: theirs_why,
        }],
        notes,
        unreadable: false,
    }
}

/// A field both sides changed differently.
struct FieldConflict {
    path: Vec<String>,
    ours: Option<Value>,
    theirs: Option<Value>,
}

/// The status lattice: later statuses win.
fn rank(s: Status) -> u8 {
    match s {
        Status::Queued => 0,
        Status::Running => 1,
        Status::Stale => 2,
        _ => 3,
    }
}

/// Three-way merge of one value. Returns the result preferring ours at conflicts and the
/// one preferring theirs (equal when `conflicts` got nothing). `item` turns on the item
/// rules (status, heartbeat, triage).
fn merge_value(
    path: &mut Vec<String>,
    item: bool,
    b: Option<&Value>,
    o: Option<&Value>,
    t: Option<&Value>,
    ancestor: bool,
    conflicts: &mut Vec<FieldConflict>,
) -> (Option<Value>, Option<Value>) {
    let one = |v: Option<&Value>| (v.cloned(), v.cloned());
    if o == t {
        return one(o);
    }
    let at = |p: &[&str]| item && path.iter().map(String::as_str).eq(p.iter().copied());
    if at(&["triage"]) && o.is_some() != t.is_some() {
        return one(o.or(t));
    }
    if t == b {
        return one(o);
    }
    if o == b {
        return one(t);
    }
    if at(&["status"]) {
        let st = |v: Option<&Value>| v.and_then(Value::as_str).and_then(Status::parse);
        if let (Some(so), Some(stt)) = (st(o), st(t)) {
            if !(so.is_terminal() && stt.is_terminal()) && rank(so) != rank(stt) {
                return one(if rank(so) > rank(stt) { o } else { t });
            }
        }
    }
    if at(&["run", "lastHeartbeatAtMs"]) {
        if let (Some(ho), Some(ht)) = (o.and_then(Value::as_i64), t.and_then(Value::as_i64)) {
            return one(if ho >= ht { o } else { t });
        }
    }
    if let (Some(Value::Object(om)), Some(Value::Object(tm))) = (o, t) {
        let empty = Map::new();
        let bm = match b {
            Some(Value::Object(bm)) => bm,
            None => &empty,
            Some(_) => return conflict(path, b, o, t, ancestor, conflicts),
        };
        let mut ro = Map::new();
        let mut rt = Map::new();
        let keys: std::collections::BTreeSet<&String> = om.keys().chain(tm.keys()).collect();
        for k in keys {
            path.push(k.clone());
            let (vo, vt) = merge_value(
                path,
                item,
                bm.get(k),
                om.get(k),
                tm.get(k),
                ancestor,
                conflicts,
            );
            path.pop();
            if let Some(v) = vo {
                ro.insert(k.clone(), v);
            }
            if let Some(v) = vt {
                rt.insert(k.clone(), v);
            }
        }
        return (Some(Value::Object(ro)), Some(Value::Object(rt)));
    }
    conflict(path, b, o, t, ancestor, conflicts)
}

fn conflict(
    path: &[String],
    b: Option<&Value>,
    o: Option<&Value>,
    t: Option<&Value>,
    ancestor: bool,
    conflicts: &mut Vec<FieldConflict>,
) -> (Option<Value>, Option<Value>) {
    if ancestor {
        let v = if b.is_some() { b } else { o };
        return (v.cloned(), v.cloned());
    }
    conflicts.push(FieldConflict {
        path: path.to_vec(),
        ours: o.cloned(),
        theirs: t.cloned(),
    });
    (o.cloned(), t.cloned())
}

fn pointer_of(path: &[String]) -> String {
    path.iter()
        .map(|s| format!("/{}", escape_segment(s)))
        .collect()
}

/// Members of one object to set (`Some`) or remove (`None`).
type Members<'v> = Vec<(String, Option<&'v Value>)>;

struct Merger<'t> {
    ours_text: &'t str,
    theirs_text: &'t str,
    opts: Options,
    ours_splicer: Option<Splicer<'t>>,
    theirs_splicer: Option<Splicer<'t>>,
    edits: Vec<Edit>,
    conflicts: Vec<Conflict>,
    notes: Vec<String>,
    /// Items of ours replaced by a merged value (index, value), for the final check.
    replaced: Vec<(usize, Value)>,
    /// Ours' items removed (deleted on theirs), by index, ascending.
    removed: Vec<usize>,
    /// Items appended from theirs.
    appended: Vec<Value>,
    /// Top-level members set (`Some`) or removed (`None`).
    root: Vec<(String, Option<Value>)>,
}

impl<'t> Merger<'t> {
    fn new(ours_text: &'t str, theirs_text: &'t str, opts: Options, notes: Vec<String>) -> Self {
        Merger {
            ours_text,
            theirs_text,
            opts,
            ours_splicer: None,
            theirs_splicer: None,
            edits: Vec::new(),
            conflicts: Vec::new(),
            notes,
            replaced: Vec::new(),
            removed: Vec::new(),
            appended: Vec::new(),
            root: Vec::new(),
        }
    }

    fn ours(&mut self) -> &Splicer<'t> {
        let text = self.ours_text;
        self.ours_splicer.get_or_insert_with(|| Splicer::new(text))
    }

    fn theirs(&mut self) -> &Splicer<'t> {
        let text = self.theirs_text;
        self.theirs_splicer
            .get_or_insert_with(|| Splicer::new(text))
    }

    fn run(&mut self, base: Option<&Value>, o: &Value, t: &Value) -> Result<(), String> {
        if let (Value::Object(om), Value::Object(tm)) = (o, t) {
            self.merge_root(base.and_then(Value::as_object), om, tm)?;
        }
        let (bi, oi, ti) = (base.map_or(&[][..], items_of), items_of(o), items_of(t));
        fn ids(items: &[Value]) -> IdMap<&str, usize> {
            let mut map = IdMap::with_capacity_and_hasher(items.len(), Default::default());
            for (i, v) in items.iter().enumerate() {
                if let Some(id) = v.is_object().then(|| itemdiff::item_id(v)).flatten() {
                    map.entry(id).or_insert(i);
                }
            }
            map
        }
        let (bmap, omap, tmap) = (ids(bi), ids(oi), ids(ti));
        let optr = items_pointer(o);
        // Ours' items, in place. `removed`: ours' items the result does not have.
        let mut removed = vec![false; oi.len()];
        // Items deleted on one side and changed on the other: (base index, ours, theirs).
        let mut gone: Vec<(usize, Option<usize>, Option<usize>)> = Vec::new();
        for (i, ov) in oi.iter().enumerate() {
            let Some(id) = ov.is_object().then(|| itemdiff::item_id(ov)).flatten() else {
                continue;
            };
            if omap.get(id) != Some(&i) {
                continue;
            }
            let bv = bmap.get(id).map(|&j| &bi[j]);
            let Some(&ti_) = tmap.get(id) else {
                // Deleted on theirs: gone unless ours changed it (a conflict; when merging
                // ancestors, ours' item stays).
                match bmap.get(id) {
                    Some(_) if bv == Some(ov) => removed[i] = true,
                    Some(&bj) if !self.opts.ancestor => {
                        removed[i] = true;
                        gone.push((bj, Some(i), None));
                    }
                    _ => {}
                }
                continue;
            };
            let tv = &ti[ti_];
            if ov == tv || bv == Some(tv) {
                continue;
            }
            let ptr = format!("{optr}/{i}");
            let tptr = format!("{}/{ti_}", items_pointer(t));
            self.merge_pair(id, i, (&ptr, &tptr), bv, ov, tv)?;
        }
        // Theirs' items ours does not have, in their order: added on theirs, or deleted on
        // ours (gone unless theirs changed it: a conflict; ancestors keep ours' deletion).
        let mut new = Vec::new();
        for (j, tv) in ti.iter().enumerate() {
            if !tv.is_object() {
                continue;
            }
            match itemdiff::item_id(tv) {
                Some(id) if tmap.get(id) == Some(&j) => {
                    if omap.contains_key(id) {
                        continue;
                    }
                    if let Some(&bj) = bmap.get(id) {
                        if bi[bj] != *tv && !self.opts.ancestor {
                            gone.push((bj, None, Some(j)));
                        }
                        continue;
                    }
                }
                // No id, or a repeated one: kept unless ours or the base has it already.
                _ => {
                    if oi.contains(tv) || bi.contains(tv) {
                        continue;
                    }
                }
            }
            new.push(j);
        }
        gone.sort_unstable();
        self.removed = removed
            .iter()
            .enumerate()
            .filter(|(_, &r)| r)
            .map(|(i, _)| i)
            .collect();
        let kept: Vec<usize> = (0..oi.len()).filter(|&i| !removed[i]).collect();
        let tptr = items_pointer(t);
        let elements: Vec<New> = new
            .iter()
            .map(|&j| {
                self.theirs()
                    .ordered(&format!("{tptr}/{j}"), Some(&ti[j]), &ti[j])
            })
            .collect();
        self.appended = new.iter().map(|&j| ti[j].clone()).collect();
        let Some(&last_kept) = kept.last() else {
            if !gone.is_empty() {
                return self.gone_array(o, t, &gone, &elements);
            }
            if oi.is_empty() && new.is_empty() {
                return Ok(());
            }
            // Nothing of ours' array stays: it is rewritten with theirs' new items.
            return match itemdiff::items_array(o) {
                Some(_) if new.is_empty() => {
                    let (start, end) = self.ours().span_of(optr);
                    self.edits.push(Edit {
                        start,
                        end,
                        text: "[]".into(),
                    });
                    Ok(())
                }
                Some(_) => {
                    let e = self.ours().append(optr, 0, &elements);
                    self.edits.extend(e);
                    Ok(())
                }
                None => {
                    let Value::Object(om) = o else {
                        return Err("ours has no items array".into());
                    };
                    let v = New::Json(Value::Array(self.appended.clone()));
                    let e = self.ours().set_members("", om, &[("items".into(), v)]);
                    self.edits.extend(e);
                    Ok(())
                }
            };
        };
        let spans = self.ours().element_spans(optr, oi.len());
        if removed.iter().any(|&r| r) {
            self.edits
                .extend(edit::remove_runs(self.ours_text, &spans, &removed));
        }
        if !new.is_empty() {
            let e = self.ours().append(optr, last_kept + 1, &elements);
            self.edits.extend(e);
        }
        // Each before the first item kept from ours that follows it, else after the last.
        let places: Vec<Option<usize>> = gone
            .iter()
            .map(|&(bj, oj, _)| match oj {
                Some(i) => kept.iter().copied().find(|&k| k > i),
                None => bi[bj + 1..].iter().find_map(|v| {
                    let k = *omap.get(itemdiff::item_id(v)?)?;
                    (!removed[k]).then_some(k)
                }),
            })
            .collect();
        let mut at_end = places.iter().filter(|p| p.is_none()).count();
        for ((bj, oj, tj), next) in gone.into_iter().zip(places) {
            let at = next.unwrap_or(last_kept);
            if next.is_none() {
                at_end -= 1;
            }
            let ours_side = oj.map(|i| self.ours_text[spans[i].0..spans[i].1].to_string());
            let theirs_side = tj.map(|j| {
                let v = self
                    .theirs()
                    .ordered(&format!("{tptr}/{j}"), Some(&ti[j]), &ti[j]);
                self.ours().render_at(spans[at].0, &v)
            });
            let id = itemdiff::item_id(&bi[bj]).unwrap_or_default().to_string();
            let changed = |side: &Option<String>| {
                if side.is_some() { "changed" } else { "deleted" }.to_string()
            };
            let c = Conflict {
                id: Some(id),
                field: None,
                ours: changed(&ours_side),
                theirs: changed(&theirs_side),
            };
            let trailing = removed.last() == Some(&true);
            let e = self.gone_region(
                &spans,
                at,
                next.is_some(),
                (trailing, at_end == 0),
                ours_side,
                theirs_side,
                &c,
            );
            self.edits.push(e);
            self.conflicts.push(c);
        }
        Ok(())
    }

    /// Items deleted on one side and changed on the other (`gone`) when ours keeps no item
    /// to place them by: one conflict region over the items array, ours' side holding ours'
    /// changed items, theirs' side theirs', each followed by theirs' new items (`added`).
    fn gone_array(
        &mut self,
        o: &Value,
        t: &Value,
        gone: &[(usize, Option<usize>, Option<usize>)],
        added: &[New],
    ) -> Result<(), String> {
        let (optr, tptr) = (items_pointer(o), items_pointer(t));
        let (oi, ti) = (items_of(o), items_of(t));
        let mut ours_side = Vec::new();
        let mut theirs_side = Vec::new();
        for &(_, oj, tj) in gone {
            let (id, ours, theirs) = match (oj, tj) {
                (Some(i), _) => {
                    let v = self
                        .ours()
                        .ordered(&format!("{optr}/{i}"), Some(&oi[i]), &oi[i]);
                    ours_side.push(v);
                    (itemdiff::item_id(&oi[i]), "changed", "deleted")
                }
                (None, Some(j)) => {
                    let v = self
                        .theirs()
                        .ordered(&format!("{tptr}/{j}"), Some(&ti[j]), &ti[j]);
                    theirs_side.push(v);
                    (itemdiff::item_id(&ti[j]), "deleted", "changed")
                }
                (None, None) => continue,
            };
            self.conflicts.push(Conflict {
                id: id.map(str::to_string),
                field: None,
                ours: ours.into(),
                theirs: theirs.into(),
            });
        }
        ours_side.extend(added.iter().cloned());
        theirs_side.extend(added.iter().cloned());
        let member = o.is_object();
        let label = Conflict {
            id: None,
            field: member.then(|| "items".to_string()),
            ours: String::new(),
            theirs: String::new(),
        };
        let e = self.region_edit(
            optr,
            member,
            Some(&New::Array(ours_side)),
            &New::Array(theirs_side),
            &label,
        );
        self.edits.push(e);
        Ok(())
    }

    /// The conflict region of an item deleted on one side and changed on the other: the
    /// side that has it (`ours_side`, `theirs_side`: its text in ours' style) against
    /// nothing, inserted before ours' item `at` (`before`), else after it (`at` is then ours'
    /// last kept item, `end.0` says whether items after it are removed and `end.1` whether
    /// this is the last region there, which ends its line). Picking either side leaves
    /// valid JSON.
    #[allow(clippy::too_many_arguments)]
    fn gone_region(
        &mut self,
        spans: &[(usize, usize)],
        at: usize,
        before: bool,
        (trailing, last): (bool, bool),
        ours_side: Option<String>,
        theirs_side: Option<String>,
        c: &Conflict,
    ) -> Edit {
        let text = self.ours_text;
        let nl = self.ours().style.newline;
        let m = self.opts.marker_size;
        let label = c.label();
        let (start, _) = spans[at];
        let ls = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent = &text[ls..start];
        let line = indent.trim().is_empty();
        let indent = if line { indent } else { "" };
        let open = format!("{} ours: {label}{nl}", "<".repeat(m));
        let mid = format!("{}{nl}", "=".repeat(m));
        let close = format!("{} theirs: {label}", ">".repeat(m));
        if before {
            let pos = if line { ls } else { start };
            let lead = if pos == 0 || text[..pos].ends_with('\n') {
                ""
            } else {
                nl
            };
            let side = |s: Option<String>| s.map_or(String::new(), |s| format!("{indent}{s},{nl}"));
            Edit {
                start: pos,
                end: pos,
                text: format!(
                    "{lead}{open}{}{mid}{}{close}{nl}",
                    side(ours_side),
                    side(theirs_side)
                ),
            }
        } else {
            let pos = spans[at].1;
            let rest = if trailing {
                spans[spans.len() - 1].1
            } else {
                pos
            };
            let after = if !last || text[rest..].starts_with(['\r', '\n']) {
                ""
            } else {
                nl
            };
            let side =
                |s: Option<String>| s.map_or(String::new(), |s| format!(",{nl}{indent}{s}{nl}"));
            Edit {
                start: pos,
                end: pos,
                text: format!(
                    "{nl}{open}{}{mid}{}{close}{after}",
                    side(ours_side),
                    side(theirs_side)
                ),
            }
        }
    }

    /// Merges item `id`, at index `i` of ours, whose two sides differ and whose theirs
    /// differs from the base (`bv`, `None` when the base lacks it). `ptr` points at the item
    /// in ours' text, `ptr.1` in theirs'.
    fn merge_pair(
        &mut self,
        id: &str,
        i: usize,
        ptr: (&str, &str),
        bv: Option<&Value>,
        ov: &Value,
        tv: &Value,
    ) -> Result<(), String> {
        let (ptr, tptr) = ptr;
        if bv.is_none() {
            if self.opts.ancestor {
                return Ok(());
            }
            let c = Conflict {
                id: Some(id.to_string()),
                field: None,
                ours: "added".into(),
                theirs: "added with different content".into(),
            };
            let theirs_new = self.theirs().ordered(tptr, Some(tv), tv);
            self.item_region(ptr, None, &theirs_new, c);
            return Ok(());
        }
        if bv == Some(ov) {
            self.replace_item(i, ptr, ov, tv.clone());
            return Ok(());
        }
        let mut fcs = Vec::new();
        let (mo, mt) = merge_value(
            &mut Vec::new(),
            true,
            bv,
            Some(ov),
            Some(tv),
            self.opts.ancestor,
            &mut fcs,
        );
        let (Some(mo), Some(mt)) = (mo, mt) else {
            return Err(format!("item {} merged to nothing", text::quote(id)));
        };
        if fcs.is_empty() {
            self.replace_item(i, ptr, ov, mo);
        } else {
            self.conflicted_item(id, ptr, ov, mo, mt, fcs);
        }
        Ok(())
    }

    fn merge_root(
        &mut self,
        b: Option<&Map<String, Value>>,
        o: &Map<String, Value>,
        t: &Map<String, Value>,
    ) -> Result<(), String> {
        let keys: std::collections::BTreeSet<&String> = o
            .keys()
            .chain(t.keys())
            .filter(|k| k.as_str() != "items")
            .collect();
        let mut set = Vec::new();
        let mut removed = Vec::new();
        for k in keys {
            let (bv, ov, tv) = (b.and_then(|b| b.get(k)), o.get(k), t.get(k));
            if ov == tv {
                continue;
            }
            let mut fcs = Vec::new();
            let (mo, mt) = merge_value(
                &mut vec![k.clone()],
                false,
                bv,
                ov,
                tv,
                self.opts.ancestor,
                &mut fcs,
            );
            if !fcs.is_empty() {
                if ov.is_none() || tv.is_none() || fcs.iter().any(|f| f.ours.is_none()) {
                    return Err(format!(
                        "top-level member {} was changed on both sides and removed on one",
                        text::quote(k)
                    ));
                }
                // The member's own region: ours' value against theirs'.
                let c = Conflict {
                    id: None,
                    field: Some(k.clone()),
                    ours: compact(ov),
                    theirs: compact(tv),
                };
                let ptr = format!("/{}", escape_segment(k));
                let new = self
                    .ours()
                    .ordered(&ptr, ov, mt.as_ref().unwrap_or(&Value::Null));
                self.region(&ptr, true, &new, c);
                continue;
            }
            if mo.as_ref() == ov {
                continue;
            }
            self.root.push((k.clone(), mo.clone()));
            match mo {
                Some(v) => {
                    let ptr = format!("/{}", escape_segment(k));
                    let new = self.ours().ordered(&ptr, ov, &v);
                    set.push((k.clone(), new));
                }
                None => removed.push(k.clone()),
            }
        }
        if !set.is_empty() || !removed.is_empty() {
            let e = self.ours().change_members("", o, &set, &removed);
            self.edits.extend(e);
        }
        Ok(())
    }

    /// Edits that turn ours' item at `ptr` into `merged`, member by member.
    fn item_edits(&mut self, ptr: &str, ov: &Value, merged: &Value) -> Vec<Edit> {
        let changes = itemdiff::diff_items(ov, merged);
        // Group by parent object, keeping the order of first appearance.
        let mut groups: Vec<(Vec<&str>, Members)> = Vec::new();
        for c in &changes {
            let (last, parent) = c.path.split_last().expect("a change inside an object");
            let entry = match groups.iter_mut().position(|(p, _)| p == parent) {
                Some(i) => &mut groups[i].1,
                None => {
                    groups.push((parent.to_vec(), Vec::new()));
                    &mut groups.last_mut().expect("just pushed").1
                }
            };
            entry.push((last.to_string(), c.new));
        }
        let mut edits = Vec::new();
        for (parent, members) in groups {
            let parent_ptr = format!(
                "{ptr}{}",
                parent
                    .iter()
                    .map(|s| format!("/{}", escape_segment(s)))
                    .collect::<String>()
            );
            let Some(current) = parent
                .iter()
                .try_fold(ov, |v, k| v.get(k))
                .and_then(Value::as_object)
            else {
                continue;
            };
            let mut set = Vec::new();
            let mut remove = Vec::new();
            for (key, new) in members {
                match new {
                    Some(v) => {
                        let child = format!("{parent_ptr}/{}", escape_segment(&key));
                        let new = self.ours().ordered(&child, current.get(&key), v);
                        set.push((key, new));
                    }
                    None => remove.push(key),
                }
            }
            edits.extend(
                self.ours()
                    .change_members(&parent_ptr, current, &set, &remove),
            );
        }
        edits
    }

    fn replace_item(&mut self, i: usize, ptr: &str, ov: &Value, merged: Value) {
        let e = self.item_edits(ptr, ov, &merged);
        self.edits.extend(e);
        self.replaced.push((i, merged));
    }

    fn conflicted_item(
        &mut self,
        id: &str,
        ptr: &str,
        ov: &Value,
        mo: Value,
        mt: Value,
        fcs: Vec<FieldConflict>,
    ) {
        let edits = self.item_edits(ptr, ov, &mo);
        let field_level = fcs.iter().all(|f| f.ours.is_some() && f.theirs.is_some());
        if field_level {
            // Each conflict on its member, unless an edit of the item touches that region.
            let mut regions = Vec::new();
            for f in &fcs {
                let fptr = format!("{ptr}{}", pointer_of(&f.path));
                let new = self.ours().ordered(
                    &fptr,
                    f.ours.as_ref(),
                    f.theirs.as_ref().expect("checked"),
                );
                let c = Conflict {
                    id: Some(id.to_string()),
                    field: Some(f.path.join(".")),
                    ours: compact(f.ours.as_ref()),
                    theirs: compact(f.theirs.as_ref()),
                };
                regions.push(self.region_edit(&fptr, true, None, &new, &c));
            }
            let clash = regions.iter().any(|r| {
                edits.iter().any(|e| {
                    e.start < r.end && e.end > r.start
                        || (e.start == e.end && e.start > r.start && e.start <= r.end)
                })
            });
            if !clash {
                self.edits.extend(edits);
                self.edits.extend(regions);
                for f in fcs {
                    self.conflicts.push(Conflict {
                        id: Some(id.to_string()),
                        field: Some(f.path.join(".")),
                        ours: compact(f.ours.as_ref()),
                        theirs: compact(f.theirs.as_ref()),
                    });
                }
                return;
            }
        }
        // The whole item: ours' side is the merge preferring ours, theirs' side the merge
        // preferring theirs.
        let fields: Vec<String> = fcs.iter().map(|f| f.path.join(".")).collect();
        let c = Conflict {
            id: Some(id.to_string()),
            field: None,
            ours: format!("differs in {}", fields.join(", ")),
            theirs: format!("differs in {}", fields.join(", ")),
        };
        let new_t = self.ours().ordered(ptr, Some(ov), &mt);
        let ours_side = if edits.is_empty() {
            None
        } else {
            Some(self.ours().ordered(ptr, Some(ov), &mo))
        };
        self.item_region(ptr, ours_side, &new_t, c);
    }

    /// A conflict over a whole item: ours' side is its text, or `ours_new` rendered.
    fn item_region(&mut self, ptr: &str, ours_new: Option<New>, theirs_new: &New, c: Conflict) {
        let e = self.region_edit(ptr, false, ours_new.as_ref(), theirs_new, &c);
        self.edits.push(e);
        self.conflicts.push(c);
    }

    fn region(&mut self, ptr: &str, member: bool, theirs_new: &New, c: Conflict) {
        let e = self.region_edit(ptr, member, None, theirs_new, &c);
        self.edits.push(e);
        self.conflicts.push(c);
    }

    /// The edit that puts the value at `ptr` (with its key when `member`) between markers:
    /// ours' lines (with `ours_new` as the value when given), then the same lines with
    /// theirs' value. The region grows to whole lines (and a trailing comma) when nothing
    /// else shares them; otherwise line breaks are added around the markers.
    fn region_edit(
        &mut self,
        ptr: &str,
        member: bool,
        ours_new: Option<&New>,
        theirs_new: &New,
        c: &Conflict,
    ) -> Edit {
        let m = self.opts.marker_size;
        let label = c.label();
        let text = self.ours_text;
        let s = self.ours();
        let (start, vs, ve, end) = s.region_bounds(ptr, member);
        let nl = s.style.newline;
        let theirs_value = s.render_at(vs, theirs_new);
        let ours_value = match ours_new {
            Some(n) => s.render_at(vs, n),
            None => text[vs..ve].to_string(),
        };
        let ours_lines = format!("{}{ours_value}{}", &text[start..vs], &text[ve..end]);
        let theirs_lines = format!("{}{theirs_value}{}", &text[start..vs], &text[ve..end]);
        let before = if start == 0 || text[..start].ends_with('\n') {
            ""
        } else {
            nl
        };
        let after = if end == text.len() || text[end..].starts_with(['\r', '\n']) {
            ""
        } else {
            nl
        };
        Edit {
            start,
            end,
            text: format!(
                "{before}{} ours: {label}{nl}{ours_lines}{nl}{}{nl}{theirs_lines}{nl}{} theirs: {label}{after}",
                "<".repeat(m),
                "=".repeat(m),
                ">".repeat(m),
            ),
        }
    }
}
