//! `runqlint log ID`: one item's timeline through the file's history.
//!
//! Each version is read once, and as little of it as possible: when the id's bytes are not
//! in it (nor any escape that could spell them) the item is not there; when the version
//! starts with the same bytes as its parent's up to the end of the item, the item is the
//! same; only otherwise is the version scanned (the fast path) or parsed. A version that is
//! not valid JSON says nothing about the item: the item keeps the state it had (`audit` is
//! what reports such a version).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::cli::LogArgs;
use crate::error::{Error, Result};
use crate::gitcli::Git;
use crate::history::{self, Lookup, Objects};
use crate::output::history::{Event, FieldChange, Kind, Timeline};
use crate::output::{self, progress::Progress};
use crate::queue::{Queue, ValueQueue};

use super::{file_history, Workspace};

/// The item in one version.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Absent,
    Present(Arc<Value>),
}

impl State {
    fn status(&self) -> Option<String> {
        match self {
            State::Absent => None,
            State::Present(v) => v.get("status").and_then(Value::as_str).map(str::to_string),
        }
    }
}

/// The last version read, to compare the next one with.
struct Last {
    blob: String,
    bytes: Vec<u8>,
    /// Where the item is in it, when known.
    span: Option<(usize, usize)>,
}

pub fn run(args: &LogArgs) -> Result<bool> {
    let ws = Workspace::open(args.path.as_deref(), args.config.as_deref())?;
    if ws.repo.is_none() {
        return Err(Error::Usage(format!(
            "log needs a git repository with a working tree, and {} is not in one",
            ws.root.display()
        )));
    }
    let progress = Progress::spinner("reading the history");
    let (git, shown, history) = file_history(&ws, args.path.as_deref(), args.since.as_deref())?;
    for note in history.link_notes() {
        output::stderr(&note);
    }
    let cuts: Vec<(String, String)> = history
        .cuts()
        .iter()
        .map(|c| (c.commit.id.clone(), c.path.clone()))
        .collect();
    if !cuts.is_empty() {
        let commits: Vec<String> = cuts.iter().map(|(c, _)| c.clone()).collect();
        output::stderr(&output::history::cut_note(&shown, &commits, None));
    }
    progress.count("reading versions", history.changes.len() as u64);
    let mut events = timeline(
        &git,
        history.changes,
        &args.id,
        ws.config.max_file_size,
        &progress,
    )?;
    progress.clear();
    if events.is_empty() {
        output::stderr(&format!(
            "runqlint: no item with id {} in the history of {}",
            crate::text::quote(&args.id),
            crate::text::escape(&shown)
        ));
        return Ok(false);
    }
    if let Some(n) = args.max_count {
        events.drain(..events.len().saturating_sub(n));
    }
    let mut lookup = Lookup::new(&git);
    for e in &mut events {
        let message = lookup.message(&e.commit.id)?;
        e.receipt = receipt(&message);
    }
    let t = Timeline {
        id: args.id.clone(),
        path: shown,
        events,
        cuts,
    };
    output::stdout(&output::history::render_log(args.format, &t))
        .map_err(|e| Error::Io(format!("stdout: {e}")))?;
    Ok(true)
}

/// The events of item `id` over `changes` (oldest first).
fn timeline(
    git: &Git,
    changes: Vec<history::Change>,
    id: &str,
    limit: u64,
    progress: &Progress,
) -> Result<Vec<Event>> {
    let finder = Finder::new(id);
    let mut order: Vec<String> = Vec::new();
    let mut listed = std::collections::HashSet::new();
    for c in &changes {
        for blob in c
            .parents
            .iter()
            .chain(&c.base)
            .filter_map(|p| p.blob.as_ref())
            .chain(c.blob.as_ref())
        {
            if listed.insert(blob.clone()) {
                order.push(blob.clone());
            }
        }
    }
    let mut objects = Objects::stream(git, order.clone(), limit)?;
    let mut next = order.into_iter();
    let mut states: HashMap<String, State> = HashMap::new();
    let mut last: Option<Last> = None;
    // Two buffers take turns: the version being read and the last one, to compare with.
    let mut spare: Vec<u8> = Vec::new();
    let mut events = Vec::new();

    for change in changes {
        progress.step();
        // Versions first met here (the `--since` boundary, a merge base) are read on
        // their own.
        let mut side_state = |p: &history::Parent,
                              states: &mut HashMap<String, State>,
                              last: &mut Option<Last>|
         -> Result<State> {
            let Some(blob) = &p.blob else {
                return Ok(State::Absent);
            };
            while !states.contains_key(blob) {
                let id = next.next().expect("every needed blob is in the order");
                objects.next_into(&format!("{} in {}", p.path, id), &mut spare)?;
                let (state, span) = finder.read(&spare, &State::Absent, None);
                states.insert(id.clone(), state);
                let bytes = std::mem::take(&mut spare);
                if let Some(old) = last.replace(Last {
                    blob: id,
                    bytes,
                    span,
                }) {
                    spare = old.bytes;
                }
            }
            Ok(states[blob].clone())
        };
        let mut parent_states = Vec::new();
        for p in &change.parents {
            parent_states.push(side_state(p, &mut states, &mut last)?);
        }
        let base_state = match &change.base {
            Some(b) => Some(side_state(b, &mut states, &mut last)?),
            None => None,
        };
        let first = parent_states.first().cloned().unwrap_or(State::Absent);
        let state = match &change.blob {
            None => State::Absent,
            Some(blob) => {
                while !states.contains_key(blob) {
                    let id = next.next().expect("every needed blob is in the order");
                    objects.next_into(&format!("{} in {}", change.path, id), &mut spare)?;
                    let first_parent = change.parents.first().and_then(|p| p.blob.as_ref());
                    let from = last
                        .as_ref()
                        .filter(|l| Some(&l.blob) == first_parent)
                        .and_then(|l| Some((&l.bytes[..], l.span?)));
                    let (state, span) = finder.read(&spare, &first, from);
                    states.insert(id.clone(), state);
                    let bytes = std::mem::take(&mut spare);
                    if let Some(old) = last.replace(Last {
                        blob: id,
                        bytes,
                        span,
                    }) {
                        spare = old.bytes;
                    }
                }
                states[blob].clone()
            }
        };
        // A merge is an event when it gave the item a state no parent had, or undid what
        // one side had changed since the merge base; what one side brought unopposed was
        // that side's event.
        let before = if parent_states.is_empty() {
            (state != State::Absent).then_some(State::Absent)
        } else if parent_states.iter().all(|p| *p != state) {
            Some(first)
        } else {
            base_state.as_ref().and_then(|base| {
                parent_states
                    .iter()
                    .find(|p| *p != base && **p != state)
                    .cloned()
            })
        };
        let Some(before) = before else {
            continue;
        };
        let (kind, changes) = match (&before, &state) {
            // No parent because git has none to show: the history starts here, the item
            // did not.
            (State::Absent, _) if change.cut => (Kind::Present, Vec::new()),
            (State::Absent, _) => (Kind::Added, Vec::new()),
            (_, State::Absent) => (Kind::Removed, Vec::new()),
            (State::Present(old), State::Present(new)) => (Kind::Changed, field_changes(old, new)),
        };
        events.push(Event {
            previous_status: before.status(),
            status: state.status(),
            commit: change.commit,
            path: change.path,
            kind,
            changes,
            receipt: None,
        });
    }
    Ok(events)
}

/// The receipt of a `fix` commit, parsed back from its message's trailers.
fn receipt(message: &str) -> Option<Value> {
    let r = crate::receipt::parse(message)?;
    Some(serde_json::json!({
        "runId": r.run_id,
        "backup": r.backup,
        "artifact": r.artifact,
        "repaired": r.repaired,
        "heartbeats": r.heartbeats,
        "requeued": r.requeued,
    }))
}

/// The fields that differ between two versions of the item.
fn field_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    crate::itemdiff::diff_items(old, new)
        .into_iter()
        .map(|c| FieldChange {
            field: c.dotted(),
            old: c.old.cloned(),
            new: c.new.cloned(),
        })
        .collect()
}

/// Finds one item in versions of the file.
struct Finder {
    id: String,
    /// The id as a JSON string literal, quotes included, as serializers write it.
    needle: Vec<u8>,
}

impl Finder {
    fn new(id: &str) -> Finder {
        Finder {
            id: id.to_string(),
            needle: serde_json::to_string(id)
                .expect("a string serializes")
                .into_bytes(),
        }
    }

    /// Whether `bytes` cannot hold the id: its literal is absent and no escape could spell
    /// it another way (`\u0061`, or `\/` for a `/`).
    fn surely_absent(&self, bytes: &[u8]) -> bool {
        memchr::memmem::find(bytes, &self.needle).is_none()
            && memchr::memmem::find(bytes, b"\\u").is_none()
            && !(self.id.contains('/') && memchr::memmem::find(bytes, b"\\/").is_some())
    }

    /// The item in `bytes`, and its byte span when known. `before` is the item in the
    /// parent's version, `parent` that version's bytes and the item's span in them.
    fn read(
        &self,
        bytes: &[u8],
        before: &State,
        parent: Option<(&[u8], (usize, usize))>,
    ) -> (State, Option<(usize, usize)>) {
        if *before == State::Absent && self.surely_absent(bytes) {
            // Absent before and not spelled here: absent, or in a broken version unknown,
            // which also leaves it absent.
            return (State::Absent, None);
        }
        if let Some((old, (start, end))) = parent {
            // Same bytes up to the item's end: same item, at the same place; unless a later
            // repeated `items` key could replace the array.
            if bytes.len() >= end
                && bytes[..end] == old[..end]
                && memchr::memmem::find(&bytes[end..], b"\"items\"").is_none()
            {
                return (before.clone(), Some((start, end)));
            }
        }
        match self.full_read(bytes) {
            Some(found) => found,
            // Not valid JSON: nothing is known, the item keeps its state.
            None => (before.clone(), None),
        }
    }

    /// Scans (or parses) the whole version; `None` when it is not valid JSON.
    fn full_read(&self, bytes: &[u8]) -> Option<(State, Option<(usize, usize)>)> {
        if let Ok(text) = std::str::from_utf8(bytes) {
            if let Some(queue) = crate::scan::scan(text) {
                return Some(self.in_queue(&queue, bytes));
            }
        }
        let parsed = crate::document::parse(bytes).ok()?;
        let queue = ValueQueue::new(&parsed.value);
        Some(self.in_queue(&queue, bytes))
    }

    /// The first item with the id in `queue`, read from `bytes`, and its span when it was
    /// scanned.
    fn in_queue(&self, queue: &Queue, bytes: &[u8]) -> (State, Option<(usize, usize)>) {
        let Some(item) = queue.items.iter().find(|i| i.id == Some(self.id.as_str())) else {
            return (State::Absent, None);
        };
        let span = item.body.source().map(|(source, _)| {
            let start = source.as_ptr() as usize - bytes.as_ptr() as usize;
            (start, start + source.len())
        });
        match item.body.to_value() {
            Some(v) => (State::Present(Arc::new(v.into_owned())), span),
            None => (State::Absent, None),
        }
    }
}
