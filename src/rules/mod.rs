//! The rule registry and the pure checks behind it.
//!
//! A rule is one file here, declaring a [`Def`] named `RULE`: its name, default level,
//! explanation (what `runqlint explain` prints) and check. The `registry!` line that names
//! the file is the only other place a rule is written down: the [`Rule`] enum, [`Rule::ALL`],
//! the names, the default levels, the `rules`/`explain`/SARIF listings and the order the
//! checks run in are all derived from it. The names are checked while compiling: the file,
//! the enum variant and `RULE.name` must spell the same words (`duplicate_id.rs`,
//! `DuplicateId`, `duplicate-id`), and the explanation must start with `# name`.
//!
//! Checks are pure: they read a [`Context`] and push [`Finding`]s into a sink; they never do
//! I/O and never print.

use crate::queue::{IdMap, Item, Queue, Status};

/// Declares the rules: one line per rule file, `[pub] mod file => Variant,`, in the order of
/// the brief's table (the order of `runqlint rules` and of the enum).
macro_rules! registry {
    ($($vis:vis mod $module:ident => $rule:ident,)*) => {
        $($vis mod $module;)*

        /// Every rule, in the order of the brief's table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule {
            $($rule,)*
        }

        impl Rule {
            /// Every rule, in declaration order: `Rule::ALL[r as usize] == r`.
            pub const ALL: [Rule; [$(stringify!($rule)),*].len()] = [$(Rule::$rule),*];

            /// What the rule's file declares.
            const fn def(self) -> &'static Def {
                match self {
                    $(Rule::$rule => &$module::RULE,)*
                }
            }
        }

        // A line naming a file with another rule's variant, or a `RULE` carrying another
        // rule's name or explanation, does not compile.
        const _: () = {
            $(assert!(
                spelled_alike($module::RULE.name, stringify!($module), stringify!($rule))
                    && starts_with_heading($module::RULE.doc, $module::RULE.name),
                concat!(
                    "src/rules/", stringify!($module), ".rs: `RULE.name` must be the file name ",
                    "in kebab-case, the registry's variant its CamelCase, and `RULE.doc` must ",
                    "start with `# ` and the name"
                )
            );)*
        };
    };
}

registry! {
    mod invalid_json => InvalidJson,
    mod duplicate_key => DuplicateKey,
    mod schema => Schema,
    mod duplicate_id => DuplicateId,
    mod running_without_start => RunningWithoutStart,
    mod terminal_status_changed => TerminalStatusChanged,
    mod item_deleted => ItemDeleted,
    mod invalid_transition => InvalidTransition,
    mod terminal_item_changed => TerminalItemChanged,
    mod timestamp_order => TimestampOrder,
    mod implausible_timestamp => ImplausibleTimestamp,
    pub mod stale_running => StaleRunning,
    mod stale_without_triage => StaleWithoutTriage,
}

pub use implausible_timestamp::is_implausible;

/// What a rule's file declares about it; everything else about the rule is derived.
pub struct Def {
    /// The stable kebab-case name used in config, flags and output.
    pub name: &'static str,
    pub default: Level,
    /// The full explanation (`runqlint explain NAME`), Markdown, starting with `# name`.
    pub doc: &'static str,
    pub check: Check,
}

/// How a rule finds things.
pub enum Check {
    /// While the document is read, by [`crate::lint`]: syntax (`invalid-json`), repeated
    /// keys (`duplicate-key`), the schema (`schema`).
    Document,
    /// Over the typed items of the checked version alone.
    Items(fn(&Context, &Facts, &mut Vec<Finding>)),
    /// Over the items of the checked version matched by id with the base's ([`Facts::pairs`],
    /// [`Facts::deleted`]); finds nothing without a base. `audit` blames these on the
    /// change between a version and its parent, the others on the version alone.
    History(fn(&Context, &Facts, &mut Vec<Finding>)),
}

/// Whether `kebab` (`duplicate-id`), `snake` (`duplicate_id`) and `camel` (`DuplicateId`)
/// spell the same lowercase ASCII words.
const fn spelled_alike(kebab: &str, snake: &str, camel: &str) -> bool {
    let (k, s, c) = (kebab.as_bytes(), snake.as_bytes(), camel.as_bytes());
    if k.len() != s.len() || k.is_empty() {
        return false;
    }
    let (mut i, mut j, mut word_start) = (0, 0, true);
    while i < k.len() {
        let b = k[i];
        if b == b'-' {
            if s[i] != b'_' || word_start {
                return false;
            }
            word_start = true;
        } else {
            if s[i] != b || !b.is_ascii_lowercase() && !b.is_ascii_digit() {
                return false;
            }
            let want = if word_start {
                b.to_ascii_uppercase()
            } else {
                b
            };
            if j >= c.len() || c[j] != want {
                return false;
            }
            j += 1;
            word_start = false;
        }
        i += 1;
    }
    !word_start && j == c.len()
}

/// Whether `doc` starts with the line `# name`.
const fn starts_with_heading(doc: &str, name: &str) -> bool {
    let (d, n) = (doc.as_bytes(), name.as_bytes());
    if d.len() < n.len() + 3 || d[0] != b'#' || d[1] != b' ' || d[n.len() + 2] != b'\n' {
        return false;
    }
    let mut i = 0;
    while i < n.len() {
        if d[i + 2] != n[i] {
            return false;
        }
        i += 1;
    }
    true
}

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

impl Rule {
    /// The stable kebab-case name used in config, flags and output.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Whether the rule compares the checked version with a base ([`Check::History`]).
    pub fn is_history(self) -> bool {
        matches!(self.def().check, Check::History(_))
    }

    pub fn default_level(self) -> Level {
        self.def().default
    }

    /// The full explanation (`runqlint explain NAME`), Markdown.
    pub fn doc(self) -> &'static str {
        self.def().doc
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

/// One thing a rule found, located by pointer; [`crate::lint`] turns it into a line and
/// column.
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
    /// What the rule adds to the message once [`crate::lint`] knows the lines (a finding is
    /// located after every rule ran).
    pub at_line: Option<fn(&FoundAt) -> Option<String>>,
}

/// The lines a finding was located at, for its rule's [`Finding::at_line`].
pub struct FoundAt<'a> {
    /// The finding's own line.
    pub line: usize,
    /// The line of its related place, when that is another place.
    pub related: Option<usize>,
    /// The base version's name (`HEAD`).
    pub base_name: &'a str,
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
            at_line: None,
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
    /// Adds `note(lines)` to the message (after `; `) once the finding is located.
    pub fn at_line(mut self, note: fn(&FoundAt) -> Option<String>) -> Self {
        self.at_line = Some(note);
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

/// What the item rules share, computed once per check.
pub struct Facts<'a, 'v> {
    /// The ids of the checked version.
    pub ids: Ids<'v>,
    /// The items of both versions matched by id (empty without a base).
    pub pairs: Vec<Pair<'a, 'v>>,
    /// The base items whose id no item of the checked version has, in base order.
    pub deleted: Vec<&'a Item<'v>>,
}

/// Runs every item rule, in registry order (the document rules run while parsing).
pub fn check_items(ctx: &Context, sink: &mut Vec<Finding>) {
    let ids = Ids::new(ctx.current);
    let (pairs, deleted) = match ctx.base {
        Some(base) => history(ctx.current, base, &ids),
        None => (Vec::new(), Vec::new()),
    };
    let facts = Facts {
        ids,
        pairs,
        deleted,
    };
    for rule in Rule::ALL {
        match rule.def().check {
            Check::Document => {}
            Check::Items(check) => check(ctx, &facts, sink),
            Check::History(check) => {
                if ctx.base.is_some() {
                    check(ctx, &facts, sink);
                }
            }
        }
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
    fn every_variant_is_in_all_at_its_own_position() {
        // `Levels` indexes its table by `rule as usize`: a variant missing from `ALL`, or two
        // entries swapped, would read another rule's level.
        for (i, rule) in Rule::ALL.into_iter().enumerate() {
            assert_eq!(rule as usize, i, "{}", rule.name());
        }
        let levels = crate::config::Levels::default();
        for rule in Rule::ALL {
            assert_eq!(levels.get(rule), rule.default_level(), "{}", rule.name());
        }
    }

    #[test]
    fn every_rule_file_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter_map(|f| f.strip_suffix(".rs").map(str::to_owned))
            .filter(|f| f != "mod")
            .map(|f| f.replace('_', "-"))
            .collect();
        files.sort();
        let mut names: Vec<String> = Rule::ALL.map(|r| r.name().to_owned()).to_vec();
        names.sort();
        assert_eq!(
            files, names,
            "a file in src/rules/ is not a line of `registry!`"
        );
    }

    #[test]
    fn the_readme_lists_every_rule_with_its_default_level() {
        let readme = include_str!("../../README.md");
        let listing = readme
            .split("$ runqlint rules\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("README shows `runqlint rules`");
        let listed: Vec<(&str, &str)> = listing
            .lines()
            .map(|l| {
                let mut words = l.split_whitespace();
                (words.next().unwrap(), words.next().unwrap())
            })
            .collect();
        let ours: Vec<(&str, &str)> = Rule::ALL
            .iter()
            .map(|r| (r.name(), r.default_level().as_str()))
            .collect();
        assert_eq!(listed, ours);
    }

    /// A rule's kind is what its check reads: an item rule finds the same with or without a
    /// base, a history rule nothing without one and something with a base that it judges.
    /// `audit` (and the gate at a merge) trust this kind to tell which findings belong to a
    /// change between versions.
    #[test]
    fn each_rules_kind_is_what_its_check_reads() {
        let base = serde_json::json!({"items": [
            {"id": "a", "status": "done", "run": {"startedAtMs": 1772064000000u64, "finishedAtMs": 1772064001000u64}},
            {"id": "b", "status": "running", "run": {"startedAtMs": 1772064000000u64}},
            {"id": "gone", "status": "queued"},
            {"id": "t", "status": "failed", "title": "old"},
        ]});
        let current = serde_json::json!({"items": [
            {"id": "a", "status": "running", "run": {"startedAtMs": 1772064000000u64}},
            {"id": "b", "status": "queued"},
            {"id": "t", "status": "failed", "title": "new"},
            {"id": "s", "status": "stale"},
            {"id": "r", "status": "running"},
        ]});
        let (base, current) = (
            crate::queue::ValueQueue::new(&base),
            crate::queue::ValueQueue::new(&current),
        );
        let run = |rule: Rule, with_base: bool| -> Vec<String> {
            let ctx = Context {
                current: &current,
                base: with_base.then_some(&*base),
                base_name: "HEAD",
                now_ms: 1_795_564_800_000,
                stale_after_ms: 6 * 3_600_000,
            };
            let ids = Ids::new(ctx.current);
            let (pairs, deleted) = match ctx.base {
                Some(b) => history(ctx.current, b, &ids),
                None => (Vec::new(), Vec::new()),
            };
            let facts = Facts {
                ids,
                pairs,
                deleted,
            };
            let mut sink = Vec::new();
            match rule.def().check {
                Check::Document => {}
                Check::Items(check) | Check::History(check) => check(&ctx, &facts, &mut sink),
            }
            sink.iter()
                .map(|f| format!("{} {}", f.pointer, f.message))
                .collect()
        };
        for rule in Rule::ALL {
            let (with, without) = (run(rule, true), run(rule, false));
            if rule.is_history() {
                assert!(without.is_empty(), "{}: {without:?}", rule.name());
                assert!(!with.is_empty(), "{} finds nothing here", rule.name());
            } else {
                assert_eq!(with, without, "{} reads the base", rule.name());
            }
        }
    }

    #[test]
    fn the_compile_time_name_check_rejects_mismatches() {
        assert!(spelled_alike("duplicate-id", "duplicate_id", "DuplicateId"));
        assert!(spelled_alike("schema", "schema", "Schema"));
        for (kebab, snake, camel) in [
            ("duplicate-id", "duplicate_id", "DuplicateKey"),
            ("duplicate-id", "duplicate_key", "DuplicateId"),
            ("duplicate-key", "duplicate_id", "DuplicateId"),
            ("duplicate-id", "duplicate_id", "Duplicateid"),
            ("duplicate-id", "duplicate_id", "DuplicateIdx"),
            ("duplicate-id", "duplicate_id", "Duplicate"),
            ("duplicate--id", "duplicate__id", "DuplicateId"),
            ("-schema", "_schema", "Schema"),
            ("schema-", "schema_", "Schema"),
            ("", "", ""),
            ("Schema", "Schema", "Schema"),
        ] {
            assert!(
                !spelled_alike(kebab, snake, camel),
                "{kebab} {snake} {camel}"
            );
        }
        assert!(starts_with_heading("# schema\n\nText", "schema"));
        assert!(!starts_with_heading("# schemas\n", "schema"));
        assert!(!starts_with_heading("# duplicate-id\n", "schema"));
        assert!(!starts_with_heading("#schema\n", "schema"));
        assert!(!starts_with_heading("# schema", "schema"));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_duration(42_000), "42s");
        assert_eq!(fmt_duration(3 * 3_600_000 + 60_000), "3h 1m");
        assert_eq!(fmt_duration(90 * 86_400_000), "90d 0h");
        assert_eq!(fmt_ms(0), "1970-01-01T00:00:00Z");
    }
}
