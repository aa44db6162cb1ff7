//! The check itself: two versions of a file in, located diagnostics out. No I/O.
//!
//! Flow (the steps of `judge`): parse both versions (in parallel) → document rules (`invalid-json`,
//! `duplicate-key`, `schema`) → typed queue views → item rules → locate every finding (the
//! span index of a version is built only if a finding points into it).
//!
//! Reading a version first tries the single-pass scanner ([`crate::scan`]), which checks
//! syntax, repeated keys and the schema and builds the typed view straight from the text.
//! Only a version it declines (one with a problem to report, or something unusual) is parsed
//! into a `serde_json::Value` and validated with `jsonschema`, which then find the problems.

use std::sync::Arc;

use yoke::{Yoke, Yokeable};

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
    /// What a rule's findings are reported as at `level` (`off`: not reported).
    pub fn of(level: Level) -> Option<Severity> {
        match level {
            Level::Off => None,
            Level::Warn => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }

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
struct VersionText {
    text: Arc<String>,
    /// The original bytes, kept only when they are not UTF-8.
    invalid: Option<Vec<u8>>,
}

impl VersionText {
    fn new(bytes: Vec<u8>) -> VersionText {
        match String::from_utf8(bytes) {
            Ok(text) => VersionText {
                text: Arc::new(text),
                invalid: None,
            },
            Err(e) => {
                let bytes = e.into_bytes();
                VersionText {
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
    fn read(&self) -> ReadResult<'_> {
        VersionText::read_from(&self.text, self.invalid.as_deref())
    }

    /// [`VersionText::read`] of `text`, or of the `invalid` bytes it was made from.
    fn read_from<'t>(text: &'t str, invalid: Option<&[u8]>) -> ReadResult<'t> {
        match invalid {
            Some(bytes) => document::parse(bytes).map(Reading::Slow),
            None => match scan::scan(text) {
                Some(queue) => Ok(Reading::Fast(queue)),
                None => document::parse(text.as_bytes()).map(Reading::Slow),
            },
        }
    }
}

/// One version, read.
enum Reading<'t> {
    /// Valid JSON, no repeated key, valid for the schema: only the typed view was built.
    Fast(Queue<'t>),
    /// The same, scanned by the caller beforehand ([`lint_against_scanned`]).
    Scanned(&'t Queue<'t>),
    /// Anything else, parsed into a value.
    Slow(Parsed),
}

/// The typed view of a version that took the fast path.
fn fast<'a>(read: Option<&'a Reading<'a>>) -> Option<&'a Queue<'a>> {
    match read {
        Some(Reading::Fast(q)) => Some(q),
        Some(Reading::Scanned(q)) => Some(q),
        _ => None,
    }
}

/// The typed view of a version that took the slow path.
fn slow_queue<'v>(read: Option<&'v Reading>) -> Option<ValueQueue<'v>> {
    match read {
        Some(Reading::Slow(p)) => Some(ValueQueue::new(&p.value)),
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
        let base = base.map(|bytes| s.spawn(move || VersionText::new(bytes)));
        let current = current.map(VersionText::new);
        (
            current,
            base.map(|h| h.join().expect("validating UTF-8 does not panic")),
        )
    });
    let (current, base) = std::thread::scope(|s| {
        let base = base_src.as_ref().map(|src| s.spawn(move || src.read()));
        let current = current_src.as_ref().map(VersionText::read);
        (
            current,
            base.map(|h| h.join().expect("parsing does not panic")),
        )
    });
    judge(
        path,
        current_src.as_ref().zip(current.as_ref()),
        base_src.as_ref().zip(base.as_ref()).map(|b| (base_name, b)),
        settings,
    )
}

/// [`lint_owned`] against a base version the caller has already scanned: `base_text` is
/// the base's text and `base_queue` what [`scan::scan`] returned for exactly that text
/// (so the base is neither validated as UTF-8 nor scanned again). The current version is
/// text, shared (the caller may read it meanwhile, as `fix` does to write it as a blob).
/// `fix` lints the repaired file against HEAD's version, which is the original it has just
/// scanned.
pub fn lint_against_scanned(
    path: &str,
    current: Arc<String>,
    base_name: &str,
    base_text: Arc<String>,
    base_queue: &Queue,
    settings: &Settings,
) -> FileReport {
    let base_src = VersionText {
        text: base_text,
        invalid: None,
    };
    let base_read: ReadResult = Ok(Reading::Scanned(base_queue));
    let current_src = VersionText {
        text: current,
        invalid: None,
    };
    let current_read = current_src.read();
    judge(
        path,
        Some((&current_src, &current_read)),
        Some((base_name, (&base_src, &base_read))),
        settings,
    )
}

/// One version, read once to be checked several times: `audit` checks each version of a
/// file's history as a commit and again as each of its children's parent.
pub struct Prepared {
    src: VersionText,
    /// The version read, borrowing the text that `src` shares with it (the text is the
    /// `Yoke`'s cart: it cannot move or go while the view lives).
    read: Yoke<ReadOnce<'static>, Arc<String>>,
}

/// A version read, as the `Yoke` in [`Prepared`] holds it.
#[derive(Yokeable)]
struct ReadOnce<'t>(ReadResult<'t>);

impl Prepared {
    pub fn new(bytes: Vec<u8>) -> Prepared {
        let src = VersionText::new(bytes);
        let invalid = src.invalid.as_deref();
        let read = Yoke::attach_to_cart(src.text.clone(), |text: &String| {
            ReadOnce(VersionText::read_from(text, invalid))
        });
        Prepared { src, read }
    }

    pub fn bytes(&self) -> &[u8] {
        self.src.bytes()
    }

    fn read(&self) -> &ReadResult<'_> {
        &self.read.get().0
    }
}

/// [`lint`] of versions read beforehand.
pub fn lint_prepared(
    path: &str,
    current: Option<&Prepared>,
    base: Option<(&str, &Prepared)>,
    settings: &Settings,
) -> FileReport {
    judge(
        path,
        current.map(|p| (&p.src, p.read())),
        base.map(|(name, p)| (name, (&p.src, p.read()))),
        settings,
    )
}

type ReadResult<'t> = Result<Reading<'t>, document::SyntaxError>;

/// The check proper, on versions already read: syntax errors, document rules, item rules,
/// then every finding located.
fn judge(
    path: &str,
    current: Option<(&VersionText, &ReadResult)>,
    base: Option<(&str, (&VersionText, &ReadResult))>,
    settings: &Settings,
) -> FileReport {
    let base_name = base.map_or("HEAD", |(name, _)| name);
    let current_src = current.map(|(src, _)| src);
    let base_src = base.map(|(_, (src, _))| src);
    let (current, base, syntax) = syntax_errors(
        current.map(|(_, r)| r),
        base.map(|(_, (_, r))| r),
        base_name,
    );

    let mut findings: Vec<Finding> = Vec::new();
    if let (Some(Reading::Slow(parsed)), Some(src)) = (current, current_src) {
        document_findings(parsed, &src.text, &settings.levels, &mut findings);
    }
    item_findings(
        current,
        current_src.is_none(),
        base,
        base_name,
        settings,
        &mut findings,
    );

    let current_version = current_src.map(|s| Version {
        name: path.to_string(),
        text: s.text.clone(),
    });
    let base_version = base_src.map(|s| Version {
        name: format!("{path} ({base_name})"),
        text: s.text.clone(),
    });
    let mut locator = Locator::new(
        current_version.as_ref().map(|v| (v, fast(current))),
        base_version.as_ref().map(|v| (v, fast(base))),
    );
    let placed = place(&mut locator, syntax, findings, &settings.levels);
    let diagnostics = located(placed, &locator, path, base_name);
    FileReport {
        path: path.to_string(),
        current: current_version,
        base: base_version,
        diagnostics,
    }
}

/// A syntax error to report: the side, the severity it is capped at, the error.
type Syntax = (Side, Option<Severity>, document::SyntaxError);

/// The versions that could be read, and the syntax errors of those that could not
/// (located by offset, not pointer; a broken base is only a warning).
fn syntax_errors<'r, 't>(
    current: Option<&'r ReadResult<'t>>,
    base: Option<&'r ReadResult<'t>>,
    base_name: &str,
) -> (
    Option<&'r Reading<'t>>,
    Option<&'r Reading<'t>>,
    Vec<Syntax>,
) {
    let mut syntax = Vec::new();
    let current = match current {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            syntax.push((Side::Current, None, copy_error(e)));
            None
        }
        None => None,
    };
    let base = match base {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            let mut e = copy_error(e);
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
    (current, base, syntax)
}

/// The document rules (`duplicate-key`, `schema`) on a checked version the scanner
/// declined.
fn document_findings(parsed: &Parsed, text: &str, levels: &Levels, findings: &mut Vec<Finding>) {
    let enabled = |rule: Rule| levels.get(rule) != Level::Off;
    if parsed.has_duplicate_keys && enabled(Rule::DuplicateKey) {
        let dups = SpanIndex::build(text).duplicate_keys();
        let lines = document::LineCols::new(text, dups.iter().map(|d| d.first.start));
        for d in dups {
            let (first_line, _) = lines.get(text, d.first.start);
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
        crate::schema::check(&parsed.value, findings);
    }
}

/// The item rules on the checked version's typed view (a deleted file is an empty queue),
/// and the schema's integer bounds on a view the scanner did not build.
fn item_findings(
    current: Option<&Reading>,
    deleted: bool,
    base: Option<&Reading>,
    base_name: &str,
    settings: &Settings,
    findings: &mut Vec<Finding>,
) {
    let empty = serde_json::Value::Array(Vec::new());
    let (current_slow, base_slow) = (slow_queue(current), slow_queue(base));
    let current_queue: Option<&Queue> = fast(current).or(current_slow.as_deref());
    let base_queue: Option<&Queue> = fast(base).or(base_slow.as_deref());
    let deleted_queue = ValueQueue::new(&empty);
    let queue = current_queue.or(if deleted { Some(&*deleted_queue) } else { None });
    if let (Some(q), true) = (
        &current_slow,
        settings.levels.get(Rule::Schema) != Level::Off,
    ) {
        crate::schema::check_integers(q, findings);
    }
    if let Some(queue) = queue {
        let ctx = Context {
            current: queue,
            base: base_queue,
            base_name,
            now_ms: settings.now_ms,
            stale_after_ms: settings.stale_after_ms,
        };
        rules::check_items(&ctx, findings);
    }
}

/// Every reported finding at its byte spans (the lines and columns come after, in one
/// sweep per version).
fn place(
    locator: &mut Locator,
    syntax: Vec<Syntax>,
    findings: Vec<Finding>,
    levels: &Levels,
) -> Vec<Placed> {
    let mut placed = Vec::new();
    for (side, severity, e) in syntax {
        let Some(severity) = severity_of(levels, Rule::InvalidJson, severity) else {
            continue;
        };
        let place = locator.at_offset(side, e.offset);
        placed.push(Placed {
            rule: Rule::InvalidJson,
            severity,
            pointer: String::new(),
            message: e.message,
            item_id: None,
            help: e.help,
            at_line: None,
            place,
            related: None,
        });
    }
    let deleted = locator.current.is_none();
    for f in findings {
        let Some(severity) = severity_of(levels, f.rule, None) else {
            continue;
        };
        // A finding about a deleted file is shown where the item was.
        let (side, pointer) = if f.side == Side::Current && deleted {
            f.related.clone().unwrap_or((Side::Base, String::new()))
        } else {
            (f.side, f.pointer.clone())
        };
        let place = locator.at_pointer(side, &pointer, f.anchor);
        let related = f
            .related
            .as_ref()
            .filter(|(s, p)| (*s, p.as_str()) != (side, pointer.as_str()))
            .map(|(s, p)| locator.at_pointer(*s, p, Anchor::Value));
        placed.push(Placed {
            rule: f.rule,
            severity,
            pointer: f.pointer,
            message: f.message,
            item_id: f.item_id,
            help: f.help,
            at_line: f.at_line,
            place,
            related,
        });
    }
    placed
}

/// The placed findings with lines and columns, each message completed by its rule's
/// [`Finding::at_line`], sorted by position (the checked version first).
fn located(placed: Vec<Placed>, locator: &Locator, path: &str, base_name: &str) -> Vec<Diagnostic> {
    let lines = locator.lines(&placed);
    let mut diagnostics: Vec<Diagnostic> = placed
        .into_iter()
        .map(|p| {
            let location = lines.location(p.place);
            let related = p.related.map(|r| lines.location(r));
            let at = rules::FoundAt {
                line: location.line,
                related: related.map(|r| r.line),
                base_name,
            };
            let message = match p.at_line.and_then(|note| note(&at)) {
                Some(note) => format!("{}; {note}", p.message),
                None => p.message,
            };
            Diagnostic {
                rule: p.rule,
                severity: p.severity,
                path: path.to_string(),
                pointer: p.pointer,
                message,
                item_id: p.item_id,
                help: p.help,
                location,
                related,
                commit: None,
            }
        })
        .collect();
    diagnostics.sort_by(|a, b| {
        (a.location.side == Side::Base, a.location.span.start, a.rule).cmp(&(
            b.location.side == Side::Base,
            b.location.span.start,
            b.rule,
        ))
    });
    diagnostics
}

/// A copy of a syntax error, to report it again.
fn copy_error(e: &document::SyntaxError) -> document::SyntaxError {
    document::SyntaxError {
        offset: e.offset,
        message: e.message.clone(),
        help: e.help.clone(),
    }
}

fn severity_of(levels: &Levels, rule: Rule, forced: Option<Severity>) -> Option<Severity> {
    // A severity given (a base version's syntax error is only a warning) caps the level's.
    Severity::of(levels.get(rule)).map(|s| forced.map_or(s, |f| f.min(s)))
}

/// A finding placed by byte span, before its lines and columns are known.
struct Placed {
    rule: Rule,
    severity: Severity,
    pointer: String,
    message: String,
    item_id: Option<String>,
    help: Option<String>,
    /// What the rule adds to the message once the lines are known.
    at_line: Option<fn(&rules::FoundAt) -> Option<String>>,
    place: SpanAt,
    related: Option<SpanAt>,
}

/// A span in one version; `None` when that version does not exist.
#[derive(Debug, Clone, Copy)]
struct SpanAt {
    side: Side,
    span: Option<document::Span>,
}

/// One version as the locator sees it.
struct Located<'a> {
    version: &'a Version,
    /// The scanner's view, when the version took the fast path: it knows each item's byte
    /// range, so a finding inside an item is located by indexing that item alone.
    scanned: Option<&'a Queue<'a>>,
    /// The span index of the whole text, built on first use (findings the item ranges
    /// cannot place: the slow path, `duplicate-key`).
    index: Option<SpanIndex<'a>>,
}

/// Turns pointers and offsets into byte spans, then spans into lines and columns. What it
/// costs grows with the findings, not with the file: a finding inside an item indexes that
/// item, and line numbers come from one vectorised newline count per version, up to the
/// last offset asked for.
struct Locator<'a> {
    current: Option<Located<'a>>,
    base: Option<Located<'a>>,
}

impl<'a> Locator<'a> {
    fn new(
        current: Option<(&'a Version, Option<&'a Queue<'a>>)>,
        base: Option<(&'a Version, Option<&'a Queue<'a>>)>,
    ) -> Self {
        let located = |(version, scanned)| Located {
            version,
            scanned,
            index: None,
        };
        Locator {
            current: current.map(located),
            base: base.map(located),
        }
    }

    fn side(&mut self, side: Side) -> Option<&mut Located<'a>> {
        match side {
            Side::Current => self.current.as_mut(),
            Side::Base => self.base.as_mut(),
        }
    }

    fn at_offset(&mut self, side: Side, offset: usize) -> SpanAt {
        let text = self.side(side).map_or("", |l| l.version.text.as_str());
        let offset = offset.min(text.len());
        let mut end = offset;
        if let Some(c) = text[offset..].chars().next() {
            end += c.len_utf8();
        }
        SpanAt {
            side,
            span: Some(document::Span::new(offset, end)),
        }
    }

    fn at_pointer(&mut self, side: Side, pointer: &str, anchor: Anchor) -> SpanAt {
        let Some(located) = self.side(side) else {
            return SpanAt { side, span: None };
        };
        let text: &'a str = &located.version.text;
        let span = match anchor {
            Anchor::Bytes { start, end } => document::Span::new(start, end),
            _ => match located
                .scanned
                .and_then(|q| in_scanned(text, q, pointer, anchor))
            {
                Some(span) => span,
                None => {
                    let index = located.index.get_or_insert_with(|| SpanIndex::build(text));
                    match anchor {
                        Anchor::Key => index.key_span(pointer),
                        _ => index.value_span(pointer),
                    }
                }
            },
        };
        SpanAt {
            side,
            span: Some(document::label_span(text, span)),
        }
    }

    /// Lines and columns of every offset the placed findings name.
    fn lines(&self, placed: &[Placed]) -> LineTables<'a> {
        let table = |side: Side, located: &Option<Located<'a>>| {
            located.as_ref().map(|l| {
                let offsets = placed
                    .iter()
                    .flat_map(|p| [Some(p.place), p.related])
                    .flatten()
                    .filter(|p| p.side == side)
                    .filter_map(|p| p.span)
                    .flat_map(|s| [s.start, s.end]);
                let text: &'a str = &l.version.text;
                (text, document::LineCols::new(text, offsets))
            })
        };
        LineTables {
            current: table(Side::Current, &self.current),
            base: table(Side::Base, &self.base),
        }
    }
}

/// Line and column tables of both versions.
struct LineTables<'a> {
    current: Option<(&'a str, document::LineCols)>,
    base: Option<(&'a str, document::LineCols)>,
}

impl LineTables<'_> {
    fn location(&self, place: SpanAt) -> Location {
        let table = match place.side {
            Side::Current => self.current.as_ref(),
            Side::Base => self.base.as_ref(),
        };
        match (table, place.span) {
            (Some((text, lines)), Some(span)) => {
                let (line, column) = lines.get(text, span.start);
                let (end_line, end_column) = lines.get(text, span.end);
                Location {
                    side: place.side,
                    span,
                    line,
                    column,
                    end_line,
                    end_column,
                }
            }
            _ => Location {
                side: place.side,
                span: document::Span::default(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
            },
        }
    }
}

/// The span `pointer` names in a scanned version, found from the item byte ranges the
/// scanner recorded: the items array (or the root), or something inside one item, which is
/// then indexed alone. `None` for anything else (the caller indexes the whole text).
fn in_scanned(text: &str, queue: &Queue, pointer: &str, anchor: Anchor) -> Option<document::Span> {
    let rest = pointer.strip_prefix(queue.items_pointer)?;
    if rest.is_empty() {
        // The items array itself: from the `[` before the first item to the `]` after the
        // last one (only whitespace lies between them in a scanned text).
        if queue.items_pointer.is_empty() {
            return Some(document::root_span(text));
        }
        if anchor == Anchor::Key {
            return None; // the `"items"` key: rare enough for the whole index
        }
        let (first, last) = (queue.items.first()?, queue.items.last()?);
        let (start, _) = raw_span(first)?;
        let (_, end) = raw_span(last)?;
        let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
        let open = text[..start].trim_end_matches(ws);
        let close = text[end..].trim_start_matches(ws);
        if !(open.ends_with('[') && close.starts_with(']')) {
            return None;
        }
        return Some(document::Span::new(
            open.len() - 1,
            text.len() - close.len() + 1,
        ));
    }
    let rest = rest.strip_prefix('/')?;
    let (digits, inner) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    let index: usize = digits.parse().ok()?;
    let item = queue.items.get(index).filter(|item| item.index == index)?;
    let (start, end) = raw_span(item)?;
    let local = SpanIndex::build(text.get(start..end)?);
    let span = match anchor {
        Anchor::Key => local.key_span(inner),
        _ => local.value_span(inner),
    };
    Some(document::Span::new(start + span.start, start + span.end))
}

/// The byte range of an item the scanner read.
fn raw_span(item: &crate::queue::Item) -> Option<(usize, usize)> {
    item.body.span()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queue texts in the styles the locator meets: pretty, CRLF, minified, non-ASCII,
    /// a bare array, members that are absent, nested and escaped.
    fn texts() -> Vec<String> {
        let doc = serde_json::json!({"version": 2, "items": [
            {"id": "a", "status": "done", "run": {"startedAtMs": 1, "finishedAtMs": 2}, "title": "é\u{1b}x"},
            {"id": "b q", "status": "running", "run": {"startedAtMs": 5, "notes": "line\nbreak"}, "taskIds": ["t1", "t2"]},
            {"id": "ü", "status": "stale", "triage": {"status": "needs_review", "reason": "r", "flaggedAtMs": 9}},
            {"id": "d", "status": "queued", "x~/y": {"z": [1, 2, {"w": null}]}},
        ]});
        let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        let items = serde_json::to_string_pretty(&doc["items"]).unwrap();
        vec![
            pretty.clone(),
            pretty.replace('\n', "\r\n"),
            serde_json::to_string(&doc).unwrap(),
            items,
            format!("  \n{}\n\n", pretty.replace("  ", "\t")),
            r#"{"items":[ ]}"#.to_string(),
        ]
    }

    /// Every pointer worth asking about in `value` (and a missing member below each).
    fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        out.push(format!("{at}/missing"));
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    pointers(v, format!("{at}/{}", document::escape_segment(k)), out);
                }
            }
            serde_json::Value::Array(list) => {
                for (i, v) in list.iter().enumerate() {
                    pointers(v, format!("{at}/{i}"), out);
                }
                out.push(format!("{at}/{}", list.len()));
                out.push(format!("{at}/01"));
            }
            _ => {}
        }
    }

    #[test]
    fn item_ranges_locate_exactly_as_the_whole_index() {
        for text in texts() {
            let queue = scan::scan(&text).expect("the fixtures take the fast path");
            let index = SpanIndex::build(&text);
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut all = Vec::new();
            pointers(&value, String::new(), &mut all);
            let mut placed = 0;
            for pointer in &all {
                for anchor in [Anchor::Value, Anchor::Key] {
                    let Some(span) = in_scanned(&text, &queue, pointer, anchor) else {
                        continue;
                    };
                    placed += 1;
                    let whole = match anchor {
                        Anchor::Key => index.key_span(pointer),
                        _ => index.value_span(pointer),
                    };
                    assert_eq!(span, whole, "{pointer} ({anchor:?}) in {text:?}");
                }
            }
            assert!(placed >= queue.items.len(), "{placed} placed in {text:?}");
        }
    }

    #[test]
    fn one_sweep_of_line_counts_agrees_with_counting_each_offset() {
        for text in texts() {
            let offsets: Vec<usize> = (0..=text.len() + 2).rev().collect();
            let lines = document::LineCols::new(&text, offsets.iter().copied());
            for &offset in &offsets {
                assert_eq!(
                    lines.get(&text, offset),
                    document::line_col(&text, offset),
                    "{offset} in {text:?}"
                );
            }
        }
    }

    /// Linting against a base the caller scanned gives exactly what linting both versions
    /// does: the same diagnostics (base-side locations included) and the same versions.
    #[test]
    fn a_base_scanned_beforehand_lints_like_one_scanned_here() {
        let settings = Settings {
            levels: Levels::default(),
            now_ms: 1_800_000_000_000,
            stale_after_ms: 3_600_000,
        };
        let mut base_located = 0;
        for base in texts() {
            let queue = scan::scan(&base).expect("the scanner reads the base");
            let text = Arc::new(base.clone());
            let currents = [
                base.clone(),
                // Item `a` deleted, a terminal item reopened, a running item done.
                base.replacen("\"id\": \"a\"", "\"id\": \"a2\"", 1),
                base.replace("\"done\"", "\"running\""),
                base.replace("\"stale\"", "\"queued\""),
                base.replace("\"items\"", "\"items\": 1, \"items\""),
                base[..base.len() / 2].to_string(),
            ];
            for current in currents {
                let whole = lint(
                    &Input {
                        path: "q.json",
                        current: Some(current.as_bytes()),
                        base: Some(("HEAD", base.as_bytes())),
                    },
                    &settings,
                );
                let reused = lint_against_scanned(
                    "q.json",
                    Arc::new(current.clone()),
                    "HEAD",
                    Arc::clone(&text),
                    &queue,
                    &settings,
                );
                assert_eq!(
                    format!("{:?}", whole.diagnostics),
                    format!("{:?}", reused.diagnostics),
                    "{base}\n->\n{current}"
                );
                let shown = |r: &FileReport| {
                    [&r.current, &r.base]
                        .map(|v| v.as_ref().map(|v| (v.name.clone(), v.text.clone())))
                };
                assert_eq!(shown(&whole), shown(&reused));
                base_located += reused
                    .diagnostics
                    .iter()
                    .filter(|d| d.related.is_some_and(|l| l.side == Side::Base))
                    .count();
            }
        }
        assert!(base_located > 0, "no finding pointed into the base");
    }
}
