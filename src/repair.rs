//! The `fix` policy, pure: which items are candidates, and what a repair changes. No I/O.
//!
//! 1. [`survey`] ages every `running` item with [`stale_running::age`], the one definition
//!    of staleness: stale items become candidates, items that cannot be aged (no
//!    `run.startedAtMs`, implausible or future times) are reported as needing triage and
//!    never changed.
//! 2. The command asks whether each candidate's child session is alive ([`Liveness`]).
//! 3. [`plan`] turns the answers into outcomes and byte edits:
//!    * alive: stays `running`, `run.lastHeartbeatAtMs` = now;
//!    * active (a runtime says it is queued or running): stays `running`,
//!      `run.lastHeartbeatAtMs` = the runtime's last event, when that is newer than the
//!      item's last sign of life (else nothing changes: [`Action::Kept`]);
//!    * ended (a runtime recorded the end): `status` from the outcome ([`Finish`]),
//!      `run.finishedAtMs` = the runtime's end time, `run.error` = the runtime's error when
//!      it gave one, and a triage note with reason [`RECONCILED`] and the runtime's answer.
//!      An end before the item's start, or an implausible time, is not this run's end: the
//!      answer becomes unknown ([`vet`]);
//!    * not alive: `--mark failed` sets `status` = `failed`, `run.finishedAtMs` = now,
//!      `run.error` = [`FAILED_ERROR`] and the triage note; `--mark stale` sets `status` =
//!      `stale` and the triage note only. A `triage` object that exists keeps its other
//!      members (unknown fields are never dropped); `run.error` is overwritten;
//!    * unknown: untouched, reported.
//!    * `--requeue`: each marked item gets a new `queued` item appended (never a rewrite of
//!      history) with id `<old>-r<attempt>` (made unique), the old item's `title`, `notes`
//!      and `taskIds` when present, `requeuedFrom`, `run.attempt` = the old attempt plus
//!      one (a missing attempt counts as 1) and `createdAtMs` = now; refused, and
//!      reported, when that exceeds `max_attempts` (the old item is still marked).
//!
//! The plan also carries what the edited text must parse to ([`Intended`]: each changed
//! item's value, the appended items), so the command can verify the splice before writing
//! anything. [`plan`] works on a parsed document; [`plan_items`] on a scanned one, reading
//! values only of its running items and indexing only the items it edits. Both run the
//! same policy and give the same plan.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::config::Mark;
use crate::edit::{Edit, New, Splicer};
use crate::fields::Field;
use crate::queue::{Queue, ValueQueue};
use crate::rules::stale_running::{self, Age};

/// `run.error` of an item marked failed.
pub const FAILED_ERROR: &str =
    "Marked failed by runqlint fix: stale running (no active child session / exceeded threshold).";

/// What `fix` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub now_ms: i64,
    pub mark: Mark,
    pub requeue: bool,
    pub max_attempts: u32,
}

/// A stale running item.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Index into `Queue::items`.
    pub slot: usize,
    pub pointer: String,
    pub id: String,
    pub title: Option<String>,
    pub started_ms: i64,
    pub last_ms: i64,
    pub age_ms: i64,
    pub threshold_ms: i64,
    pub session_key: Option<String>,
}

/// A running item that cannot be aged.
#[derive(Debug, Clone)]
pub struct Unageable {
    pub id: Option<String>,
    pub pointer: String,
    pub reason: String,
}

/// The result of looking at every item.
#[derive(Debug, Clone, Default)]
pub struct Survey {
    /// `running` items examined.
    pub running: usize,
    pub stale: Vec<Candidate>,
    pub unageable: Vec<Unageable>,
}

/// Whether a candidate's child session is alive, and how that was decided. The strings
/// say why, for the report and the receipt; they may carry a runtime's text (untrusted,
/// escaped where shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// Alive (a generic check): heartbeat now.
    Alive(String),
    /// A runtime says the run is queued or running, last heard of at `last_event_ms`.
    Active { why: String, last_event_ms: i64 },
    /// A runtime recorded the run's end.
    Ended(Ended),
    /// No evidence of life: the policy (`--mark`) applies.
    Dead(String),
    /// Cannot tell: the item is left alone.
    Unknown(String),
}

impl Liveness {
    pub fn why(&self) -> &str {
        match self {
            Liveness::Alive(w) | Liveness::Dead(w) | Liveness::Unknown(w) => w,
            Liveness::Active { why, .. } => why,
            Liveness::Ended(e) => &e.why,
        }
    }
}

/// `triage.reason` of an item whose end was taken from its runtime.
pub const RECONCILED: &str = "reconciled";

/// A run's end as its runtime recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub why: String,
    pub finish: Finish,
    pub finished_ms: i64,
    /// The runtime's error text, verbatim (untrusted).
    pub error: Option<String>,
}

/// The terminal status an ended run gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Done,
    Canceled,
    Failed,
}

impl Finish {
    /// The status it sets (spelled once, by [`Status`](crate::queue::Status)).
    pub fn status(self) -> crate::queue::Status {
        match self {
            Finish::Done => crate::queue::Status::Done,
            Finish::Canceled => crate::queue::Status::Canceled,
            Finish::Failed => crate::queue::Status::Failed,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.status().as_str()
    }
}

/// A runtime's answer checked against the item: an end before the item started, or a time
/// that cannot be trusted, belongs to some other run, so the answer becomes unknown.
pub fn vet(candidate: &Candidate, live: Liveness, now_ms: i64) -> Liveness {
    use crate::rules::fmt_ms;
    use crate::rules::is_implausible;
    match &live {
        Liveness::Ended(e) => {
            if let Some(bad) = is_implausible(e.finished_ms, now_ms) {
                return Liveness::Unknown(format!("{}; its end time is {bad}", e.why));
            }
            if e.finished_ms < candidate.started_ms {
                return Liveness::Unknown(format!(
                    "{}; that is before this item started ({}), so it is another run",
                    e.why,
                    fmt_ms(candidate.started_ms)
                ));
            }
            live
        }
        Liveness::Active { why, last_event_ms } => match is_implausible(*last_event_ms, now_ms) {
            Some(bad) => Liveness::Unknown(format!("{why}; its last event is {bad}")),
            None => live,
        },
        _ => live,
    }
}

/// What a JSON value is, said of a time that should be integer milliseconds: `a string
/// ("…")`, `a float (1.5)`, `too large (…)`, `a boolean`, `null`, `an array`, `an object`.
fn not_ms(value: &Value) -> String {
    match value {
        Value::String(s) => format!("a string ({})", crate::text::quote(s)),
        Value::Number(n) if n.is_f64() => format!("a float ({n})"),
        Value::Number(n) => format!("too large ({n})"),
        Value::Bool(_) => "a boolean".into(),
        Value::Null => "null".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Ages every running item.
pub fn survey(queue: &ValueQueue, now_ms: i64, stale_after_ms: i64) -> Survey {
    survey_where(queue, now_ms, stale_after_ms, None)
}

/// The running items whose `run.childSessionKey` is `key`, candidates whatever their age
/// (`fix --session`: the runtime said that session ended). Other running items are
/// counted, never candidates; a matching item that cannot be aged is reported, as always.
pub fn survey_session(queue: &ValueQueue, now_ms: i64, stale_after_ms: i64, key: &str) -> Survey {
    survey_where(queue, now_ms, stale_after_ms, Some(key))
}

fn survey_where(
    queue: &ValueQueue,
    now_ms: i64,
    stale_after_ms: i64,
    session: Option<&str>,
) -> Survey {
    let mut s = Survey::default();
    for (slot, entry) in queue.entries().enumerate() {
        let item = entry.view;
        let aged = stale_running::age(item, now_ms, stale_after_ms);
        if let (Some(key), false) = (session, matches!(aged, Age::NotRunning)) {
            if entry.str(Field::ChildSessionKey) != Some(key) {
                s.running += 1;
                continue;
            }
        }
        match aged {
            Age::NotRunning => {}
            Age::Unageable(mut reason) => {
                if let (true, None, Some(value)) = (
                    item.has(Field::StartedAtMs),
                    item.int(Field::StartedAtMs),
                    entry.get(Field::StartedAtMs),
                ) {
                    reason = format!(
                        "`run.startedAtMs` is {}, not integer milliseconds",
                        not_ms(value)
                    );
                }
                s.running += 1;
                s.unageable.push(Unageable {
                    id: item.id.map(str::to_string),
                    pointer: item.pointer(),
                    reason,
                });
            }
            age @ Age::Aged {
                last,
                age: age_ms,
                threshold,
            } => {
                s.running += 1;
                if session.is_none() && !age.is_stale() {
                    continue;
                }
                let Some(id) = item.id else {
                    s.unageable.push(Unageable {
                        id: None,
                        pointer: item.pointer(),
                        reason: "it has no `id`, so it cannot be named in the receipt".into(),
                    });
                    continue;
                };
                s.stale.push(Candidate {
                    slot,
                    pointer: item.pointer(),
                    id: id.to_string(),
                    title: entry.str(Field::Title).map(str::to_string),
                    started_ms: item.int(Field::StartedAtMs).unwrap_or(last),
                    last_ms: last,
                    age_ms,
                    threshold_ms: threshold,
                    session_key: entry.str(Field::ChildSessionKey).map(str::to_string),
                });
            }
        }
    }
    s
}

/// What happened to one candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Alive: a heartbeat was recorded.
    Heartbeat,
    /// Active, but the runtime heard from it no later than the item says: unchanged.
    Kept,
    /// Ended: the runtime's outcome was recorded.
    Reconciled(Finish),
    /// Not alive: marked.
    Marked(Mark),
    /// Liveness unknown: left as it was.
    Left,
}

/// The requeue decision for a marked item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requeue {
    Appended { id: String, attempt: i64 },
    Refused { attempt: i64, max: u32 },
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub candidate: Candidate,
    pub liveness: Liveness,
    pub action: Action,
    pub requeue: Option<Requeue>,
}

/// Everything `fix` will change.
#[derive(Debug, Clone)]
pub struct Plan {
    pub outcomes: Vec<Outcome>,
    pub edits: Vec<Edit>,
    /// What the edited text must parse to.
    pub intended: Intended,
}

/// What the edited text must parse to: the original document with the changed items
/// replaced and the requeued items appended.
#[derive(Debug, Clone, PartialEq)]
pub struct Intended {
    /// Pointer to the items array (`/items` or the empty pointer).
    pub items_pointer: &'static str,
    /// The changed items, in plan order.
    pub changed: Vec<ChangedItem>,
    /// The items appended to the array, in order.
    pub appended: Vec<Value>,
}

/// An item the repair changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedItem {
    /// Its pointer (`/items/N`).
    pub pointer: String,
    /// Its byte range in the original text, when the scanner read it.
    pub span: Option<(usize, usize)>,
    /// The item after the edits.
    pub value: Value,
}

impl Intended {
    /// The whole document after the edits, given the original's value.
    pub fn document(&self, original: &Value) -> Value {
        let mut doc = original.clone();
        for c in &self.changed {
            if let Some(target) = doc.pointer_mut(&c.pointer) {
                *target = c.value.clone();
            }
        }
        if let Some(a) = doc
            .pointer_mut(self.items_pointer)
            .and_then(Value::as_array_mut)
        {
            a.extend(self.appended.iter().cloned());
        }
        doc
    }
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        !self.edits.is_empty()
    }
    pub fn marked(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.action, Action::Marked(_)))
    }
    pub fn reconciled(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.action, Action::Reconciled(_)))
    }
    pub fn heartbeats(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes
            .iter()
            .filter(|o| o.action == Action::Heartbeat)
    }
    pub fn appended(&self) -> impl Iterator<Item = (&Outcome, &str)> {
        self.outcomes.iter().filter_map(|o| match &o.requeue {
            Some(Requeue::Appended { id, .. }) => Some((o, id.as_str())),
            _ => None,
        })
    }
}

fn set(obj: &mut Value, members: &[(String, New)]) {
    if let Some(o) = obj.as_object_mut() {
        for (k, v) in members {
            o.insert(k.clone(), v.to_value());
        }
    }
}

/// Plans the repair of `survey.stale` (answers in `liveness`, same order) in `text`, whose
/// parsed value is `doc` (the survey was made of `ValueQueue::new(doc)`). Locates the
/// edits with a span index of the whole text: the path for a document the scanner
/// declined.
pub fn plan(
    text: &str,
    doc: &Value,
    survey: &Survey,
    liveness: &[Liveness],
    opts: &Options,
) -> Plan {
    let queue = ValueQueue::new(doc);
    let len = doc
        .pointer(queue.items_pointer)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ids = queue
        .items
        .iter()
        .filter_map(|i| i.id.map(str::to_string))
        .collect();
    let target = Target {
        queue: &queue,
        splicer: Splicer::new(text),
        ids,
        len,
    };
    plan_in(target, survey, liveness, opts)
}

/// [`plan`] for a document the scanner read (`scanned`), surveyed as
/// `ValueQueue::running` (`running`): only the edited items are indexed (by the byte
/// ranges the scanner recorded) and only the running items were parsed. Same plan as
/// [`plan`] on the parsed document, with each changed item's byte range.
pub fn plan_items(
    text: &str,
    scanned: &Queue,
    running: &ValueQueue,
    survey: &Survey,
    liveness: &[Liveness],
    opts: &Options,
) -> Plan {
    let spans = scanned
        .items
        .iter()
        .map(|i| i.body.span().unwrap_or_default())
        .collect();
    let target = Target {
        queue: running,
        splicer: Splicer::for_items(text, scanned.items_pointer, spans),
        ids: scanned
            .items
            .iter()
            .filter_map(|i| i.id.map(str::to_string))
            .collect(),
        len: scanned.items.len(),
    };
    plan_in(target, survey, liveness, opts)
}

/// What a plan is made against.
struct Target<'a, 'v> {
    /// The queue surveyed (`Candidate::slot` indexes its items).
    queue: &'a ValueQueue<'v>,
    splicer: Splicer<'a>,
    /// Every item id of the document, to keep requeued ids unique.
    ids: HashSet<String>,
    /// The length of the items array.
    len: usize,
}

fn plan_in(target: Target, survey: &Survey, liveness: &[Liveness], opts: &Options) -> Plan {
    let Target {
        queue,
        splicer,
        mut ids,
        len,
    } = target;
    let mut edits = Vec::new();
    let mut outcomes = Vec::new();
    let mut appended = Vec::new();
    let mut changed = Vec::new();
    let now = opts.now_ms;
    for (candidate, live) in survey.stale.iter().zip(liveness) {
        let entry = queue.item(candidate.slot);
        let item = entry.view;
        let item_obj = entry.object;
        let run_pointer = format!("{}/run", candidate.pointer);
        let run_obj = entry.run().expect("an aged item has a run object");
        let mut item_set: Vec<(String, New)> = Vec::new();
        let mut run_set: Vec<(String, New)> = Vec::new();
        let mut triage_set: Vec<(String, New)> = Vec::new();
        let action = match live {
            Liveness::Alive(_) => {
                run_set.push(("lastHeartbeatAtMs".into(), json!(now).into()));
                Action::Heartbeat
            }
            Liveness::Active { last_event_ms, .. } if *last_event_ms > candidate.last_ms => {
                let at = (*last_event_ms).min(now);
                run_set.push(("lastHeartbeatAtMs".into(), json!(at).into()));
                Action::Heartbeat
            }
            Liveness::Active { .. } => Action::Kept,
            Liveness::Ended(e) => {
                item_set.push(("status".into(), json!(e.finish.as_str()).into()));
                // A runtime that dates a loss by its own clock may end the run a moment
                // after this `now` ([`vet`] refused anything further off).
                let finished = e.finished_ms.min(now);
                run_set.push(("finishedAtMs".into(), json!(finished).into()));
                if let Some(error) = &e.error {
                    run_set.push(("error".into(), json!(error).into()));
                }
                let note = vec![
                    ("status".to_string(), New::Json(json!("needs_review"))),
                    ("reason".to_string(), New::Json(json!(RECONCILED))),
                    ("flaggedAtMs".to_string(), New::Json(json!(now))),
                    ("note".to_string(), New::Json(json!(e.why))),
                ];
                match item_obj.get("triage") {
                    Some(Value::Object(_)) => triage_set = note,
                    _ => item_set.push(("triage".into(), New::Object(note))),
                }
                Action::Reconciled(e.finish)
            }
            Liveness::Unknown(_) => Action::Left,
            Liveness::Dead(_) => {
                item_set.push(("status".into(), json!(opts.mark.status().as_str()).into()));
                if opts.mark == Mark::Failed {
                    run_set.push(("finishedAtMs".into(), json!(now).into()));
                    run_set.push(("error".into(), json!(FAILED_ERROR).into()));
                }
                let note = vec![
                    ("status".to_string(), New::Json(json!("needs_review"))),
                    ("reason".to_string(), New::Json(json!("stale_running"))),
                    ("flaggedAtMs".to_string(), New::Json(json!(now))),
                ];
                match item_obj.get("triage") {
                    Some(Value::Object(_)) => triage_set = note,
                    _ => item_set.push(("triage".into(), New::Object(note))),
                }
                Action::Marked(opts.mark)
            }
        };
        if !(item_set.is_empty() && run_set.is_empty() && triage_set.is_empty()) {
            let mut target = Value::Object(item_obj.clone());
            if !item_set.is_empty() {
                edits.extend(splicer.set_members(&candidate.pointer, item_obj, &item_set));
                set(&mut target, &item_set);
            }
            if !run_set.is_empty() {
                edits.extend(splicer.set_members(&run_pointer, run_obj, &run_set));
                set(target.get_mut("run").expect("run exists"), &run_set);
            }
            if !triage_set.is_empty() {
                let triage_obj = item_obj["triage"].as_object().expect("checked above");
                edits.extend(splicer.set_members(
                    &format!("{}/triage", candidate.pointer),
                    triage_obj,
                    &triage_set,
                ));
                set(
                    target.get_mut("triage").expect("triage exists"),
                    &triage_set,
                );
            }
            changed.push(ChangedItem {
                pointer: candidate.pointer.clone(),
                span: item.body.span(),
                value: target,
            });
        }
        let requeue = (opts.requeue && matches!(action, Action::Marked(_))).then(|| {
            let old = item.int(Field::Attempt).filter(|&a| a >= 1).unwrap_or(1);
            let attempt = old.saturating_add(1);
            if attempt > i64::from(opts.max_attempts) {
                return Requeue::Refused {
                    attempt,
                    max: opts.max_attempts,
                };
            }
            let mut id = format!("{}-r{attempt}", candidate.id);
            let mut n = 2;
            while ids.contains(&id) {
                id = format!("{}-r{attempt}-{n}", candidate.id);
                n += 1;
            }
            ids.insert(id.clone());
            let mut members = vec![
                ("id".to_string(), New::Json(json!(id))),
                ("status".into(), New::Json(json!("queued"))),
            ];
            for field in ["title", "notes", "taskIds"] {
                if let Some(v) = item_obj.get(field) {
                    members.push((
                        field.to_string(),
                        splicer.copy(&format!("{}/{field}", candidate.pointer), v),
                    ));
                }
            }
            members.push(("requeuedFrom".into(), New::Json(json!(candidate.id))));
            members.push(("createdAtMs".into(), New::Json(json!(now))));
            members.push((
                "run".into(),
                New::Object(vec![("attempt".into(), New::Json(json!(attempt)))]),
            ));
            appended.push(New::Object(members));
            Requeue::Appended { id, attempt }
        });
        outcomes.push(Outcome {
            candidate: candidate.clone(),
            liveness: live.clone(),
            action,
            requeue,
        });
    }
    if !appended.is_empty() {
        edits.extend(splicer.append(queue.items_pointer, len, &appended));
    }
    Plan {
        outcomes,
        edits,
        intended: Intended {
            items_pointer: queue.items_pointer,
            changed,
            appended: appended.iter().map(New::to_value).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_564_800_000;

    fn opts(mark: Mark, requeue: bool) -> Options {
        Options {
            now_ms: NOW,
            mark,
            requeue,
            max_attempts: 3,
        }
    }

    #[test]
    fn survey_session_takes_that_sessions_items_whatever_their_age() {
        // a: the session, started a minute ago; b: the session, no start time; c: another
        // session, stale; d: the session, done.
        let text = r#"{"items":[
            {"id":"a","status":"running","run":{"startedAtMs":1795564740000,"childSessionKey":"k"}},
            {"id":"b","status":"running","run":{"childSessionKey":"k"}},
            {"id":"c","status":"running","run":{"startedAtMs":1772064000000,"childSessionKey":"other"}},
            {"id":"d","status":"done","run":{"startedAtMs":1772064000000,"childSessionKey":"k"}}]}"#;
        let doc: Value = serde_json::from_str(text).unwrap();
        let q = ValueQueue::new(&doc);
        let s = survey_session(&q, NOW, 6 * 3_600_000, "k");
        assert_eq!(s.running, 3);
        let ids: Vec<&str> = s.stale.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a"]);
        assert_eq!(s.stale[0].age_ms, 60_000);
        assert_eq!(s.unageable.len(), 1);
        assert_eq!(s.unageable[0].id.as_deref(), Some("b"));
        let all = survey(&q, NOW, 6 * 3_600_000);
        let ids: Vec<&str> = all.stale.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c"]);
    }

    #[test]
    fn marks_heartbeats_and_requeues() {
        let text = r#"{"items":[{"id":"a","status":"running","title":"T","run":{"startedAtMs":1772064000000,"attempt":2}},{"id":"b","status":"running","run":{"startedAtMs":1772064000000}},{"id":"c","status":"running","run":{"startedAtMs":1772064000000,"attempt":3}},{"id":"d","status":"running"}]}"#;
        let doc: Value = serde_json::from_str(text).unwrap();
        let q = ValueQueue::new(&doc);
        let s = survey(&q, NOW, 6 * 3_600_000);
        assert_eq!(s.running, 4);
        assert_eq!(s.stale.len(), 3);
        assert_eq!(s.unageable.len(), 1);
        let live = [
            Liveness::Dead("x".into()),
            Liveness::Alive("y".into()),
            Liveness::Dead("z".into()),
        ];
        let p = plan(text, &doc, &s, &live, &opts(Mark::Failed, true));
        let out = crate::edit::apply(text, &p.edits).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            p.intended.document(&doc)
        );
        let intended = p.intended.document(&doc);
        let items = intended["items"].as_array().unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(items[0]["status"], "failed");
        assert_eq!(items[0]["triage"]["reason"], "stale_running");
        assert_eq!(items[1]["run"]["lastHeartbeatAtMs"], NOW);
        assert_eq!(items[4]["id"], "a-r3");
        assert_eq!(items[4]["requeuedFrom"], "a");
        assert_eq!(items[4]["run"]["attempt"], 3);
        assert_eq!(
            p.outcomes[2].requeue,
            Some(Requeue::Refused { attempt: 4, max: 3 })
        );
    }
}
