//! The check itself: two versions of a file in, located diagnostics out. No I/O.
//!
//! Flow: parse both versions (in parallel) → document rules (`invalid-json`,
//! `duplicate-key`, `schema`) → typed queue views → item rules → locate every finding (the
//! span index of a version is built only if a finding points into it).
//!
//! Reading a version first tries the single-pass scanner ([`crate::scan`]), which checks
//! syntax, repeated keys and the schema and builds the typed view straight from the text.
//! Only a version it declines (one with a problem to report, or something unusual) is parsed
//! into a `serde_json::Value` and validated with `jsonschema`, which then find the problems.

use std::sync::Arc;

use crate::config::Levels;
use crate::document::{self, Parsed, SpanIndex};
use crate::queue::{Queue, ValueQueue};
use crate::rules::{self, Anchor, Context, Finding, Level, Rule, Side};
use crate::scan;

/// One version of a file, as text for display.
#[derive(Debug, Clone)]
pub struct Version {
    /// How the version is named in output (`run_queue.json`, `run_queue.json (HEAD)`).
    pub name: String,
    /// The text, with invalid UTF-8 replaced (only used to show snippets). Shared with the
    /// checker, which reads the bytes it was given in place.
    pub text: Arc<String>,
}

/// What to compare.
pub struct Input<'a> {
    /// The path as reported (repository-relative where there is a repository).
    pub path: &'a str,
    /// The checked version; `None` when the file was deleted.
    pub current: Option<&'a [u8]>,
    /// The base version and its name (`HEAD`, `origin/main`); `None` when there is none.
    pub base: Option<(&'a str, &'a [u8])>,
}

/// Settings that shape the result.
#[derive(Debug, Clone)]
pub struct Settings {
    pub levels: Levels,
    pub now_ms: i64,
    pub stale_after_ms: i64,
}

/// Reported severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A location in one version: byte span plus 1-based line/column of its start and end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub side: Side,
    pub span: document::Span,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// A finding with its place in the file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub rule: Rule,
    pub severity: Severity,
    pub path: String,
    pub pointer: String,
    pub message: String,
    pub item_id: Option<String>,
    pub help: Option<String>,
    /// Where it is. For the checked version unless the file was deleted.
    pub location: Location,
    /// A secondary place (the base version of a changed item, the first duplicate).
    pub related: Option<Location>,
    /// The commit that introduced it (`audit` only), full id.
    pub commit: Option<String>,
}

/// Everything found in one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub current: Option<Version>,
    pub base: Option<Version>,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    pub fn version(&self, side: Side) -> Option<&Version> {
        match side {
            Side::Current => self.current.as_ref(),
            Side::Base => self.base.as_ref(),
        }
    }
}

/// A version's bytes, and its text for display (the same buffer when it is UTF-8).
struct Source {
    text: Arc<String>,
    /// The original bytes, kept only when they are not UTF-8.
    invalid: Option<Vec<u8>>,
}

impl Source {
    fn new(bytes: Vec<u8>) -> Source {
        match String::from_utf8(bytes) {
            Ok(text) => Source {
                text: Arc::new(text),
                invalid: None,
            },
            Err(e) => {
                let bytes = e.into_bytes();
                Source {
                    text: Arc::new(String::from_utf8_lossy(&bytes).into_owned()),
                    invalid: Some(bytes),
                }
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        self.invalid.as_deref().unwrap_or(self.text.as_bytes())
    }

    /// The fast scan when it accepts the text, else the full parse.
    fn read(&self) -> Result<Read<'_>, document::SyntaxError> {
        if self.invalid.is_none() {
            if let Some(queue) = scan::scan(&self.text) {
                return Ok(Read::Fast(queue));
            }
        }
        document::parse(self.bytes()).map(Read::Slow)
    }
}

/// One version, read.
enum Read<'t> {
    /// Valid JSON, no repeated key, valid for the schema: only the typed view was built.
    Fast(Queue<'t>),
    /// Anything else, parsed into a value.
    Slow(Parsed),
}

/// The typed view of a version that took the slow path.
fn slow_queue<'v>(read: Option<&'v Read>) -> Option<ValueQueue<'v>> {
    match read {
        Some(Read::Slow(p)) => Some(ValueQueue::new(&p.value)),
        _ => None,
    }
}

/// Checks `input` and returns its located diagnostics, sorted by position.
pub fn lint(input: &Input, settings: &Settings) -> FileReport {
    lint_owned(
        input.path,
        input.current.map(<[u8]>::to_vec),
        input.base.map(|(name, bytes)| (name, bytes.to_vec())),
        settings,
    )
}

/// [`lint`], taking the versions' bytes (so that the report shows them without a copy).
pub fn lint_owned(
    path: &str,
    current: Option<Vec<u8>>,
    base: Option<(&str, Vec<u8>)>,
    settings: &Settings,
) -> FileReport {
    let (base_name, base) = match base {
        Some((name, bytes)) => (name, Some(bytes)),
        None => ("HEAD", None),
    };
    // UTF-8 validation of two large versions, side by side too.
    let (current_src, base_src) = std::thread::scope(|s| {
        let base = base.map(|bytes| s.spawn(move || Source::new(bytes)));
        let current = current.map(Source::new);
        (
            current,
            base.map(|h| h.join().expect("validating UTF-8 does not panic")),
        )
    });
    let input = Input {
        path,
        current: current_src.as_ref().map(Source::bytes),
        base: base_src.as_ref().map(|s| (base_name, s.bytes())),
    };
    let enabled = |rule: Rule| settings.levels.get(rule) != Level::Off;
    let (current, base) = std::thread::scope(|s| {
        let base = base_src.as_ref().map(|src| s.spawn(move || src.read()));
        let current = current_src.as_ref().map(Source::read);
        (
            current,
            base.map(|h| h.join().expect("parsing does not panic")),
        )
    });

    // Syntax errors are located by offset, not pointer; a broken base is only a warning.
    let mut syntax: Vec<(Side, Option<Severity>, document::SyntaxError)> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();

    let current = match current {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            syntax.push((Side::Current, None, e));
            None
        }
        None => None,
    };
    let base = match base {
        Some(Ok(p)) => Some(p),
        Some(Err(mut e)) => {
            e.message = format!("{base_name} version is not valid JSON: {}", e.message);
            e.help = Some(
                "history rules were skipped; the checked version is still checked on its own"
                    .to_string(),
            );
            syntax.push((Side::Base, Some(Severity::Warning), e));
            None
        }
        None => None,
    };

    if let Some(Read::Slow(Parsed {
        value,
        has_duplicate_keys,
    })) = &current
    {
        if *has_duplicate_keys && enabled(Rule::DuplicateKey) {
            let text = current_src.as_ref().map_or("", |s| s.text.as_str());
            let index = SpanIndex::build(text);
            for d in index.duplicate_keys() {
                let (first_line, _) = index.line_col(d.first.start);
                findings.push(
                    Finding::new(
                        Rule::DuplicateKey,
                        d.pointer,
                        format!(
                            "key {} appears twice in this object (first at line {first_line}); readers disagree on which one counts",
                            crate::text::quote(&d.key)
                        ),
                    )
                    .at_bytes(d.span.start, d.span.end)
                    .help("delete one of the two members"),
                );
            }
        }
        if enabled(Rule::Schema) {
            crate::schema::check(value, &mut findings);
        }
    }

    // Item rules run on the checked version; a deleted file is an empty queue.
    let empty = serde_json::Value::Array(Vec::new());
    let (current_slow, base_slow) = (slow_queue(current.as_ref()), slow_queue(base.as_ref()));
    let current_queue: Option<&Queue> = match &current {
        Some(Read::Fast(q)) => Some(q),
        _ => current_slow.as_deref(),
    };
    let base_queue: Option<&Queue> = match &base {
        Some(Read::Fast(q)) => Some(q),
        _ => base_slow.as_deref(),
    };
    let deleted_queue = ValueQueue::new(&empty);
    let queue = current_queue.or(if input.current.is_none() {
        Some(&*deleted_queue)
    } else {
        None
    });
    if let (Some(q), true) = (&current_slow, enabled(Rule::Schema)) {
        crate::schema::check_integers(q, &mut findings);
    }
    if let Some(queue) = queue {
        let ctx = Context {
            current: queue,
            base: base_queue,
            base_name,
            now_ms: settings.now_ms,
            stale_after_ms: settings.stale_after_ms,
        };
        rules::check_items(&ctx, &mut findings);
    }

    let current_version = current_src.as_ref().map(|s| Version {
        name: input.path.to_string(),
        text: s.text.clone(),
    });
    let base_version = base_src.as_ref().map(|s| Version {
        name: format!("{} ({base_name})", input.path),
        text: s.text.clone(),
    });

    let mut locator = Locator::new(current_version.as_ref(), base_version.as_ref());
    let mut diagnostics = Vec::new();
    for (side, severity, e) in syntax {
        let Some(severity) = severity_of(&settings.levels, Rule::InvalidJson, severity) else {
            continue;
        };
        let location = locator.at_offset(side, e.offset);
        diagnostics.push(Diagnostic {
            rule: Rule::InvalidJson,
            severity,
            path: input.path.to_string(),
            pointer: String::new(),
            message: e.message,
            item_id: None,
            help: e.help,
            location,
            related: None,
            commit: None,
        });
    }
    for f in findings {
        let Some(severity) = severity_of(&settings.levels, f.rule, None) else {
            continue;
        };
        // A finding about a deleted file is shown where the item was.
        let (side, pointer) = if f.side == Side::Current && current_version.is_none() {
            f.related.clone().unwrap_or((Side::Base, String::new()))
        } else {
            (f.side, f.pointer.clone())
        };
        let location = locator.at_pointer(side, &pointer, f.anchor);
        let related = f
            .related
            .as_ref()
            .filter(|(s, p)| (*s, p.as_str()) != (side, pointer.as_str()))
            .map(|(s, p)| locator.at_pointer(*s, p, Anchor::Value));
        let mut message = f.message;
        match (f.rule, &related) {
            (Rule::DuplicateId, Some(r)) => {
                message = format!("{message}; the first is at line {}", r.line);
            }
            (Rule::ItemDeleted, Some(r)) => {
                message = format!("{message}; it was at line {} in {base_name}", r.line);
            }
            (Rule::ItemDeleted, None) => {
                message = format!("{message}; it was at line {} in {base_name}", location.line);
            }
            _ => {}
        }
        diagnostics.push(Diagnostic {
            rule: f.rule,
            severity,
            path: input.path.to_string(),
            pointer: f.pointer,
            message,
            item_id: f.item_id,
            help: f.help,
            location,
            related,
            commit: None,
        });
    }
    diagnostics.sort_by(|a, b| {
        (a.location.side == Side::Base, a.location.span.start, a.rule).cmp(&(
            b.location.side == Side::Base,
            b.location.span.start,
            b.rule,
        ))
    });
    FileReport {
        path: input.path.to_string(),
        current: current_version,
        base: base_version,
        diagnostics,
    }
}

fn severity_of(levels: &Levels, rule: Rule, forced: Option<Severity>) -> Option<Severity> {
    match levels.get(rule) {
        Level::Off => None,
        Level::Warn => Some(Severity::Warning),
        Level::Error => Some(forced.unwrap_or(Severity::Error)),
    }
}

/// Turns pointers and offsets into locations, building each version's span index on first
/// use.
struct Locator<'a> {
    current: Option<&'a Version>,
    base: Option<&'a Version>,
    current_index: Option<SpanIndex<'a>>,
    base_index: Option<SpanIndex<'a>>,
}

impl<'a> Locator<'a> {
    fn new(current: Option<&'a Version>, base: Option<&'a Version>) -> Self {
        Locator {
            current,
            base,
            current_index: None,
            base_index: None,
        }
    }

    fn index(&mut self, side: Side) -> Option<&SpanIndex<'a>> {
        let (version, slot) = match side {
            Side::Current => (self.current, &mut self.current_index),
            Side::Base => (self.base, &mut self.base_index),
        };
        let version = version?;
        Some(slot.get_or_insert_with(|| SpanIndex::build(&version.text)))
    }

    fn at_offset(&mut self, side: Side, offset: usize) -> Location {
        let text = match side {
            Side::Current => self.current,
            Side::Base => self.base,
        }
        .map(|v| v.text.clone());
        let text = text.as_ref().map_or("", |t| t.as_str());
        let offset = offset.min(text.len());
        let mut end = offset;
        if let Some(c) = text[offset..].chars().next() {
            end += c.len_utf8();
        }
        let (line, column) = document::line_col(text, offset);
        let (end_line, end_column) = document::line_col(text, end);
        Location {
            side,
            span: document::Span::new(offset, end),
            line,
            column,
            end_line,
            end_column,
        }
    }

    fn at_pointer(&mut self, side: Side, pointer: &str, anchor: Anchor) -> Location {
        let Some(index) = self.index(side) else {
            return Location {
                side,
                span: document::Span::default(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
            };
        };
        let span = match anchor {
            Anchor::Value => index.value_span(pointer),
            Anchor::Key => index.key_span(pointer),
            Anchor::Bytes { start, end } => document::Span::new(start, end),
        };
        let span = index.label_span(span);
        let (line, column) = index.line_col(span.start);
        let (end_line, end_column) = index.line_col(span.end);
        Location {
            side,
            span,
            line,
            column,
            end_line,
            end_column,
        }
    }
}
