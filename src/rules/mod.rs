//! The rule registry and the pure checks behind it.
//!
//! A rule is one file here: a `DOC` constant (what `runqlint explain` prints) and, for the
//! rules that look at items, a `check` function. Checks are pure: they read a [`Context`]
//! and push [`Finding`]s into a sink; they never do I/O and never print.

use crate::queue::{IdMap, Item, Queue, Status};

mod duplicate_id;
mod duplicate_key;
mod implausible_timestamp;
mod invalid_json;
mod invalid_transition;
mod item_deleted;
mod running_without_start;
mod schema;
pub mod stale_running;
mod stale_without_triage;
mod terminal_item_changed;
mod terminal_status_changed;
mod timestamp_order;

pub use implausible_timestamp::is_implausible;

/// How a rule's findings count: an `error` fails the check (exit 1), a `warn` is shown,
/// `off` is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Off,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Off => "off",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Every rule, in the order of the brief's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    InvalidJson,
    DuplicateKey,
    Schema,
    DuplicateId,
    RunningWithoutStart,
    TerminalStatusChanged,
    ItemDeleted,
    InvalidTransition,
    TerminalItemChanged,
    TimestampOrder,
    ImplausibleTimestamp,
    StaleRunning,
    StaleWithoutTriage,
}

impl Rule {
    pub const ALL: [Rule; 13] = [
        Rule::InvalidJson,
        Rule::DuplicateKey,
        Rule::Schema,
        Rule::DuplicateId,
        Rule::RunningWithoutStart,
        Rule::TerminalStatusChanged,
        Rule::ItemDeleted,
        Rule::InvalidTransition,
        Rule::TerminalItemChanged,
        Rule::TimestampOrder,
        Rule::ImplausibleTimestamp,
        Rule::StaleRunning,
        Rule::StaleWithoutTriage,
    ];

    /// The stable kebab-case name used in config, flags and output.
    pub fn name(self) -> &'static str {
        match self {
            Rule::InvalidJson => "invalid-json",
            Rule::DuplicateKey => "duplicate-key",
            Rule::Schema => "schema",
            Rule::DuplicateId => "duplicate-id",
            Rule::RunningWithoutStart => "running-without-start",
            Rule::TerminalStatusChanged => "terminal-status-changed",
            Rule::ItemDeleted => "item-deleted",
            Rule::InvalidTransition => "invalid-transition",
            Rule::TerminalItemChanged => "terminal-item-changed",
            Rule::TimestampOrder => "timestamp-order",
            Rule::ImplausibleTimestamp => "implausible-timestamp",
            Rule::StaleRunning => "stale-running",
            Rule::StaleWithoutTriage => "stale-without-triage",
        }
    }

    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }

    pub fn default_level(self) -> Level {
        match self {
            Rule::TerminalItemChanged
            | Rule::ImplausibleTimestamp
            | Rule::StaleRunning
            | Rule::StaleWithoutTriage => Level::Warn,
            _ => Level::Error,
        }
    }

    /// The full explanation (`runqlint explain NAME`), Markdown.
    pub fn doc(self) -> &'static str {
        match self {
            Rule::InvalidJson => invalid_json::DOC,
            Rule::DuplicateKey => duplicate_key::DOC,
            Rule::Schema => schema::DOC,
            Rule::DuplicateId => duplicate_id::DOC,
            Rule::RunningWithoutStart => running_without_start::DOC,
            Rule::TerminalStatusChanged => terminal_status_changed::DOC,
            Rule::ItemDeleted => item_deleted::DOC,
            Rule::InvalidTransition => invalid_transition::DOC,
            Rule::TerminalItemChanged => terminal_item_changed::DOC,
            Rule::TimestampOrder => timestamp_order::DOC,
            Rule::ImplausibleTimestamp => implausible_timestamp::DOC,
            Rule::StaleRunning => stale_running::DOC,
            Rule::StaleWithoutTriage => stale_without_triage::DOC,
        }
    }

    /// The first paragraph of the explanation (after its `# name` heading), on one line.
    pub fn summary(self) -> String {
        self.doc()
            .lines()
            .map(str::trim)
            .skip_while(|l| l.is_empty() || l.starts_with('#'))
            .take_while(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Which version of the file a finding points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Current,
    Base,
}

/// Which part of the value at `pointer` a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The value itself.
    Value,
    /// The key that names the value (for object members).
    Key,
    /// An exact byte range, for places a pointer cannot name (a repeated key).
    Bytes { start: usize, end: usize },
}

/// One thing a rule found, located by pointer; [`crate::diagnostic`] turns it into a line
/// and column.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: Rule,
    pub side: Side,
    pub pointer: String,
    pub anchor: Anchor,
    pub message: String,
    pub item_id: Option<String>,
    /// A second, secondary location in the other version (e.g. where a deleted item was).
    pub related: Option<(Side, String)>,
    pub help: Option<String>,
}

impl Finding {
    pub fn new(rule: Rule, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            rule,
            side: Side::Current,
            pointer: pointer.into(),
            anchor: Anchor::Value,
            message: message.into(),
            item_id: None,
            related: None,
            help: None,
        }
    }
    pub fn item(mut self, item: &Item) -> Self {
        self.item_id = item.id.map(str::to_owned);
        self
    }
    pub fn key(mut self) -> Self {
        self.anchor = Anchor::Key;
        self
    }
    pub fn at_bytes(mut self, start: usize, end: usize) -> Self {
        self.anchor = Anchor::Bytes { start, end };
        self
    }
    pub fn related(mut self, side: Side, pointer: impl Into<String>) -> Self {
        self.related = Some((side, pointer.into()));
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Everything an item rule may look at.
pub struct Context<'a, 'v> {
    pub current: &'a Queue<'v>,
    /// The base version's queue, when there is one (a commit that has the file).
    pub base: Option<&'a Queue<'v>>,
    /// What `base` is called in messages (`HEAD`, `the index`, `origin/main`).
    pub base_name: &'a str,
    pub now_ms: i64,
    pub stale_after_ms: i64,
}

/// Runs every item rule (the document rules run while parsing).
pub fn check_items(ctx: &Context, sink: &mut Vec<Finding>) {
    let ids = Ids::new(ctx.current);
    duplicate_id::check(ctx, &ids, sink);
    running_without_start::check(ctx, sink);
    timestamp_order::check(ctx, sink);
    implausible_timestamp::check(ctx, sink);
    stale_running::check(ctx, sink);
    stale_without_triage::check(ctx, sink);
    if let Some(base) = ctx.base {
        let (pairs, deleted) = history(ctx.current, base, &ids);
        terminal_status_changed::check(ctx, &pairs, sink);
        item_deleted::check(ctx, &deleted, sink);
        invalid_transition::check(ctx, &pairs, sink);
        terminal_item_changed::check(ctx, &pairs, sink);
    }
}

/// The ids of the checked version: where each first appears, and every later repeat.
pub struct Ids<'v> {
    /// Position in `items` of the first item with each id.
    first: IdMap<&'v str, usize>,
    /// `(position, position of the first item with the same id)` of every repeat, in order.
    pub repeats: Vec<(usize, usize)>,
}

impl<'v> Ids<'v> {
    pub fn new(queue: &Queue<'v>) -> Self {
        let mut first = IdMap::with_capacity_and_hasher(queue.items.len(), Default::default());
        let mut repeats = Vec::new();
        for (pos, item) in queue.items.iter().enumerate() {
            let Some(id) = item.id else { continue };
            let f = *first.entry(id).or_insert(pos);
            if f != pos {
                repeats.push((pos, f));
            }
        }
        Ids { first, repeats }
    }
}

/// The items of both versions matched by id, and the base items whose id is gone.
///
/// A queue only grows at the end, so usually the base's items are the first items of the
/// checked version, in the same order: when every id is unique that is checked position by
/// position, without a map of the base.
fn history<'a, 'v>(
    current: &'a Queue<'v>,
    base: &'a Queue<'v>,
    ids: &Ids<'v>,
) -> (Vec<Pair<'a, 'v>>, Vec<&'a Item<'v>>) {
    let pair = |item: &'a Item<'v>, old: &'a Item<'v>| {
        Some(Pair {
            id: item.id?,
            item,
            old,
            now: item.status?,
            was: old.status?,
        })
    };
    let aligned = ids.repeats.is_empty()
        && base.items.len() <= current.items.len()
        && base
            .items
            .iter()
            .zip(&current.items)
            .all(|(b, c)| b.id == c.id);
    if aligned {
        // Unique ids in the checked version, and the base's at the same places: each base
        // item pairs with its namesake, the items after them are new, nothing is gone.
        let pairs = current
            .items
            .iter()
            .zip(&base.items)
            .filter_map(|(c, b)| pair(c, b));
        return (pairs.collect(), Vec::new());
    }
    let base_items = base.by_id();
    let pairs = current
        .items
        .iter()
        .filter_map(|item| pair(item, base_items.get(item.id?)?))
        .collect();
    let deleted = base
        .items
        .iter()
        .filter(|old| old.id.is_some_and(|id| !ids.first.contains_key(id)))
        .collect();
    (pairs, deleted)
}

/// An item present in both versions (matched by id), with a known status in each.
#[derive(Clone, Copy)]
pub struct Pair<'a, 'v> {
    pub id: &'v str,
    /// The item in the checked version.
    pub item: &'a Item<'v>,
    /// The item in the base version.
    pub old: &'a Item<'v>,
    pub now: Status,
    pub was: Status,
}

/// Formats an epoch-millisecond time as RFC 3339 (UTC), or the raw number if out of range.
pub fn fmt_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

/// Formats a duration in milliseconds the way a person reads it: `3d 4h`, `5h 12m`, `42s`.
pub fn fmt_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {}s", s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_documented() {
        let mut names: Vec<_> = Rule::ALL.iter().map(|r| r.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Rule::ALL.len());
        for rule in Rule::ALL {
            let name = rule.name();
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name}"
            );
            assert_eq!(Rule::from_name(name), Some(rule));
            let doc = rule.doc();
            assert!(
                doc.starts_with(&format!("# {name}\n")),
                "{name} doc heading"
            );
            for section in ["## What it does", "## Why", "## Example", "## How to fix"] {
                assert!(doc.contains(section), "{name} lacks {section}");
            }
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_duration(42_000), "42s");
        assert_eq!(fmt_duration(3 * 3_600_000 + 60_000), "3h 1m");
        assert_eq!(fmt_duration(90 * 86_400_000), "90d 0h");
        assert_eq!(fmt_ms(0), "1970-01-01T00:00:00Z");
    }
}
