//! miette diagnostics: the source snippet with a label on the exact line.

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use crate::lint::{Diagnostic, FileReport, Location, Severity};
use crate::rules::Side;
use crate::text::neutralize_source;

/// The width of human output when stdout is not a terminal of known width.
pub const DEFAULT_WIDTH: usize = 100;
/// Narrower terminals are drawn at this width (and wrap), so snippets stay readable.
const MIN_WIDTH: usize = 40;

/// Colour and width.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// Colour only on a terminal and when `NO_COLOR` is unset (or empty); `CLICOLOR_FORCE`
    /// forces it off a terminal, but `NO_COLOR` always wins. The width is the terminal's
    /// when stdout is one whose width is known, else [`DEFAULT_WIDTH`].
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let force = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
        let stdout = std::io::stdout();
        let width = match terminal_size::terminal_size_of(&stdout) {
            Some((terminal_size::Width(w), _)) if stdout.is_terminal() => {
                usize::from(w).max(MIN_WIDTH)
            }
            _ => DEFAULT_WIDTH,
        };
        Style {
            color: !no_color && (force || stdout.is_terminal()),
            width,
        }
    }
}

struct Shown<'a> {
    d: &'a Diagnostic,
    /// `None` when the snippet would be unreadable (very long lines): the location and a
    /// short excerpt are then part of the message instead.
    source: Option<&'a Snippets>,
    labels: Vec<LabeledSpan>,
    excerpt: Option<String>,
}

/// The parts of one version that snippets show, neutralized: for each diagnostic the lines
/// around its labels, a few more than miette shows (windows that touch are merged). miette
/// finds a snippet's lines by counting every line before it, and neutralizing a whole 40 MB
/// version for five snippets is most of the work; here miette is handed only a window, and
/// the line numbers are shifted back, so the output is the same as for the whole text.
struct Snippets {
    name: String,
    /// The version's text, as checked.
    text: Arc<String>,
    /// Sorted by position, disjoint.
    windows: Vec<Window>,
    /// The whole text as one window: built only if miette asks for a span no window holds.
    whole: OnceLock<Window>,
}

/// Neutralized lines `text[from..from + text.len()]` of a version.
struct Window {
    from: usize,
    /// How many lines (as miette counts them) start before `from`.
    first_line: usize,
    text: String,
    /// Where each line starts in `text`, as miette counts lines (`\n`, `\r\n` or a lone `\r`).
    lines: Vec<usize>,
    /// Whether the window runs to the end of the version.
    to_end: bool,
}

/// Context lines miette is asked for on each side of a label.
const CONTEXT_LINES: usize = 1;

/// Lines a window holds beyond a label on each side: miette's context, the extra line
/// [`Snippets::read_span`] reads to trim exactly as in the whole text, and one to spare.
const WINDOW_MARGIN: usize = CONTEXT_LINES + 2;

/// Miette's line starts in `text` (a break is `\n`, `\r\n` or a lone `\r`).
fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0];
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

/// Line breaks as miette counts them in `b` (which does not split a `\r\n`): a vectorised
/// count of `\n`, plus the lone `\r`s when there is any `\r` at all.
fn line_breaks(b: &[u8]) -> usize {
    let newlines = bytecount::count(b, b'\n');
    let returns = bytecount::count(b, b'\r');
    if returns == 0 {
        return newlines;
    }
    newlines + returns - memchr::memmem::find_iter(b, b"\r\n").count()
}

impl Snippets {
    /// Windows around `spans` (each the range a diagnostic's labels cover) in `text`.
    fn new(name: String, text: Arc<String>, spans: &[(usize, usize)]) -> Snippets {
        let t = text.as_str();
        let len = t.len();
        // A window starts at a line start (after a `\n`) and ends after a `\n` or at the end.
        let line_start = |at: usize| t[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = |at: usize| t[at..].find('\n').map_or(len, |i| at + i + 1);
        let mut ranges: Vec<(usize, usize)> = spans
            .iter()
            .map(|&(start, end)| {
                let (start, end) = (start.min(len), end.min(len));
                let mut from = line_start(start);
                for _ in 0..WINDOW_MARGIN {
                    if from == 0 {
                        break;
                    }
                    from = line_start(from - 1);
                }
                let mut to = line_end(end);
                for _ in 0..WINDOW_MARGIN {
                    if to == len {
                        break;
                    }
                    to = line_end(to);
                }
                (from, to)
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (from, to) in ranges {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        // Lines before each window, counted in one sweep.
        let (mut at, mut line) = (0, 0);
        let windows = merged
            .into_iter()
            .map(|(from, to)| {
                line += line_breaks(&t.as_bytes()[at..from]);
                at = from;
                Window::new(t, from, to, line)
            })
            .collect();
        Snippets {
            name,
            text,
            windows,
            whole: OnceLock::new(),
        }
    }

    /// The window holding `start..end`, as miette reads it with `before` and `after` lines
    /// of context: the range of its lines to hand over, or `None` if no window holds them.
    fn window_for(
        &self,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> Option<(&Window, usize, usize)> {
        let i = self
            .windows
            .partition_point(|w| w.from <= start)
            .checked_sub(1)?;
        let w = &self.windows[i];
        if end > w.from + w.text.len() {
            return None;
        }
        let line = |offset: usize| w.lines.partition_point(|&s| s <= offset - w.from) - 1;
        // One line more than miette shows on each side, so that it trims exactly as it
        // would in the whole text.
        let first = match line(start).checked_sub(before + 1) {
            Some(first) => first,
            None if w.from == 0 => 0,
            None => return None,
        };
        let last = line(end) + after + 1;
        let to = match w.lines.get(last + 1) {
            Some(&to) => to,
            None if w.to_end => w.text.len(),
            None => return None,
        };
        Some((w, first, to))
    }
}

impl Window {
    /// `version[from..to]`, neutralized; `first_line` lines start before `from`.
    fn new(version: &str, from: usize, to: usize, first_line: usize) -> Window {
        let text = neutralize_source(&version[from..to]).into_owned();
        Window {
            from,
            first_line,
            lines: line_starts(&text),
            to_end: to == version.len(),
            text,
        }
    }
}

impl SourceCode for Snippets {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (start, end) = (span.offset(), span.offset() + span.len());
        if end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let (w, first, to) = match self.window_for(start, end, before, after) {
            Some(found) => found,
            None => {
                let whole = self
                    .whole
                    .get_or_init(|| Window::new(&self.text, 0, self.text.len(), 0));
                let line = |offset: usize| whole.lines.partition_point(|&s| s <= offset) - 1;
                let first = line(start).saturating_sub(before + 1);
                let last = line(end) + after + 1;
                let to = whole
                    .lines
                    .get(last + 1)
                    .copied()
                    .unwrap_or(whole.text.len());
                (whole, first, to)
            }
        };
        let from = w.lines[first];
        let window = &w.text[from..to];
        let base = w.from + from;
        let inner = window.read_span(
            &SourceSpan::new((start - base).into(), span.len()),
            before,
            after,
        )?;
        let shift = w.first_line + first;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + base).into(), inner.span().len()),
            inner.line() + shift,
            inner.column(),
            inner.line_count() + shift,
        )))
    }
}

/// Lines longer than this (minified files, huge strings) are not given to miette.
const MAX_SNIPPET_LINE: usize = 400;

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.d.rule.name()))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        Some(Box::new(self.labels.clone().into_iter()))
    }
}

fn span(loc: &Location) -> SourceSpan {
    SourceSpan::new(loc.span.start.into(), loc.span.len())
}

fn label_for(d: &Diagnostic) -> String {
    let what = match d.rule.name() {
        "item-deleted" => "deleted".to_string(),
        "duplicate-id" => "repeated id".to_string(),
        "duplicate-key" => "repeated key".to_string(),
        name => name.replace('-', " "),
    };
    match &d.item_id {
        Some(id) => format!("{what}: item {}", crate::text::quote_max(id, 40)),
        None => what,
    }
}

/// Whether the line holding `offset` and the line on each side of it (as `str::lines` gives
/// them: without their `\n` or `\r\n`) are each at most `max` bytes long. Each line end is
/// looked for within `max + 2` bytes (a longer line is too long whatever it ends with), so
/// the answer for a finding on a 30 MB line costs what it costs on a short one.
fn lines_around_fit(text: &str, offset: usize, max: usize) -> bool {
    let b = text.as_bytes();
    let offset = offset.min(b.len());
    let reach = max + 2;
    // The start of the line that ends just before `end` (`None`: longer than `reach`).
    let start_before = |end: usize| {
        let lo = end.saturating_sub(reach);
        match memchr::memrchr(b'\n', &b[lo..end]) {
            Some(i) => Some(lo + i + 1),
            None => (lo == 0).then_some(0),
        }
    };
    // Where the line holding `from` ends (its `\n`, or the end of the text).
    let end_after = |from: usize| {
        let hi = (from + reach).min(b.len());
        match memchr::memchr(b'\n', &b[from..hi]) {
            Some(i) => Some(from + i),
            None => (hi == b.len()).then_some(hi),
        }
    };
    let Some(start) = start_before(offset) else {
        return false;
    };
    let before = if start == 0 {
        Some(0)
    } else {
        start_before(start - 1)
    };
    let end = end_after(offset);
    let after = end.and_then(|end| end_after((end + 1).min(b.len())));
    match (before, after) {
        (Some(before), Some(after)) => text[before..after].lines().all(|line| line.len() <= max),
        _ => false,
    }
}

/// Characters an excerpt shows on each side of the location.
const EXCERPT_CHARS: usize = 60;

/// `at NAME:LINE:COL` and up to [`EXCERPT_CHARS`] characters either side of the location,
/// neutralized. Only the bytes that can be shown are read: a character is at most 4 bytes,
/// and neutralizing keeps every byte offset and never makes fewer characters, so the
/// excerpt of a 20 MB line costs what the excerpt of a short one does.
fn excerpt(name: &str, text: &str, loc: &Location) -> String {
    let b = text.as_bytes();
    let start = loc.span.start.min(text.len());
    let reach = 4 * EXCERPT_CHARS + 4;
    // The line's start and end are looked for only as far as the excerpt reads: `None`
    // when they are farther (a long line goes on beyond what is shown).
    let lo = start.saturating_sub(reach);
    let line_start = match memchr::memrchr(b'\n', &b[lo..start]) {
        Some(i) => Some(lo + i + 1),
        None => (lo == 0).then_some(0),
    };
    let hi = (start + reach).min(text.len());
    let line_end = match memchr::memchr(b'\n', &b[start..hi]) {
        Some(i) => Some(start + i),
        None => (hi == text.len()).then_some(hi),
    };
    let mut from = line_start.unwrap_or(lo);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let mut to = line_end.unwrap_or(hi);
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    let chars: Vec<char> = neutralize_source(&text[from..start]).chars().collect();
    let before: String = chars[chars.len().saturating_sub(EXCERPT_CHARS)..]
        .iter()
        .collect();
    let after: String = neutralize_source(&text[start..to])
        .chars()
        .take(EXCERPT_CHARS)
        .collect();
    // More characters before than shown: some were not read at all, or were not kept.
    let cut_before = line_start.is_none() || before.chars().count() < chars.len();
    let cut_after = line_end.is_none_or(|end| after.len() < end - start);
    excerpt_lines(name, loc, (cut_before, &before), (&after, cut_after))
}

/// The excerpt's three lines: the location, the text shown (`…` where the line goes on),
/// and the caret under the location.
fn excerpt_lines(
    name: &str,
    loc: &Location,
    (cut_before, before): (bool, &str),
    (after, cut_after): (&str, bool),
) -> String {
    let lead = if cut_before { "…" } else { "" };
    let tail = if cut_after { "…" } else { "" };
    let line = format!("{lead}{before}{after}{tail}").replace('\t', " ");
    let caret = " ".repeat(lead.chars().count() + before.chars().count());
    format!(
        "  at {name}:{}:{}\n  │ {line}\n  │ {caret}^",
        loc.line, loc.column
    )
}

/// Renders every diagnostic, then a one-line summary.
pub fn render(reports: &[FileReport], style: Style) -> String {
    let mut out = render_diagnostics(reports, style);
    let s = super::Summary::of(reports);
    // A merge's findings against another parent come in a report of their own for the same
    // file.
    let mut paths: Vec<&str> = reports.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    let files = paths.len();
    out.push_str(&format!(
        "{} in {} {}\n",
        s.counts(),
        files,
        if files == 1 { "file" } else { "files" },
    ));
    out
}

/// Renders every diagnostic, without the summary.
pub fn render_diagnostics(reports: &[FileReport], style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(CONTEXT_LINES);
    let mut out = String::new();
    for report in reports {
        // Which diagnostics get a snippet, and the range their labels cover.
        let labels_of = |d: &Diagnostic| {
            let mut labels = vec![LabeledSpan::new_primary_with_span(
                Some(label_for(d)),
                span(&d.location),
            )];
            // A related place in the same version gets a second label.
            if let Some(r) = d
                .related
                .filter(|r| r.side == d.location.side && r.side == Side::Current)
            {
                labels.push(LabeledSpan::new_with_span(
                    Some("first here".into()),
                    span(&r),
                ));
            }
            labels
        };
        let readable = |d: &Diagnostic| {
            report.version(d.location.side).is_some_and(|v| {
                lines_around_fit(&v.text, d.location.span.start, MAX_SNIPPET_LINE)
                    && d.location.span.len() <= MAX_SNIPPET_LINE
            })
        };
        let shows: Vec<bool> = report.diagnostics.iter().map(readable).collect();
        // The neutralized windows of each version that has a snippet to show.
        let snippets = |side: Side| {
            let spans: Vec<(usize, usize)> = report
                .diagnostics
                .iter()
                .zip(&shows)
                .filter(|(d, &shown)| shown && d.location.side == side)
                .map(|(d, _)| {
                    let labels = labels_of(d);
                    let start = labels.iter().map(|l| l.offset()).min().unwrap_or(0);
                    let end = labels
                        .iter()
                        .map(|l| l.offset() + l.len())
                        .max()
                        .unwrap_or(0);
                    (start, end)
                })
                .collect();
            let version = report.version(side).filter(|_| !spans.is_empty())?;
            Some(Snippets::new(
                version.name.clone(),
                version.text.clone(),
                &spans,
            ))
        };
        let (current, base) = (snippets(Side::Current), snippets(Side::Base));
        for (d, &shows) in report.diagnostics.iter().zip(&shows) {
            let Some(version) = report.version(d.location.side) else {
                out.push_str(&format!(
                    "{}: {} [{}] {}\n",
                    d.severity.as_str(),
                    report.path,
                    d.rule.name(),
                    d.message
                ));
                continue;
            };
            let labels = labels_of(d);
            let source = match d.location.side {
                Side::Current => current.as_ref(),
                Side::Base => base.as_ref(),
            }
            .filter(|_| shows);
            let shown = Shown {
                d,
                source,
                labels,
                excerpt: source
                    .is_none()
                    .then(|| excerpt(&version.name, &version.text, &d.location)),
            };
            let _ = handler.render_report(&mut out, &shown);
            if let Some(excerpt) = &shown.excerpt {
                out.push_str(excerpt);
                out.push('\n');
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What miette would read from the whole neutralized text.
    fn whole(text: &str, start: usize, len: usize, context: usize) -> String {
        let neutral = neutralize_source(text);
        let c = neutral
            .as_ref()
            .read_span(&SourceSpan::new(start.into(), len), context, context)
            .unwrap();
        format!(
            "{:?} {:?} {} {} {}",
            std::str::from_utf8(c.data()).unwrap(),
            c.span(),
            c.line(),
            c.column(),
            c.line_count()
        )
    }

    fn windowed(s: &Snippets, start: usize, len: usize, context: usize) -> String {
        let c = s
            .read_span(&SourceSpan::new(start.into(), len), context, context)
            .unwrap();
        format!(
            "{:?} {:?} {} {} {}",
            std::str::from_utf8(c.data()).unwrap(),
            c.span(),
            c.line(),
            c.column(),
            c.line_count()
        )
    }

    #[test]
    fn windows_read_exactly_what_the_whole_text_gives() {
        let mut lines: Vec<String> = (0..60)
            .map(|i| format!("  \"k{i}\": \"v{}\u{1b}é\",", "x".repeat(i % 7)))
            .collect();
        lines[30] = "  \"lone\": \"a\rb\u{202e}c\",".into();
        for eol in ["\n", "\r\n"] {
            let text = Arc::new(lines.join(eol) + eol);
            let t = text.as_str();
            let at = |k: usize| t.match_indices("\"k").nth(k).map(|(i, _)| i).unwrap();
            let lone = t.find("\"lone\"").unwrap();
            let ranges = [
                (at(0), at(0) + 4),
                (at(10), at(10) + 5),
                (lone, lone + 8),
                (at(34), at(34) + 3),
                (at(35), at(35) + 3),
                (at(58), at(58) + 6),
                (t.len(), t.len()),
            ];
            let s = Snippets::new("q.json".into(), text.clone(), &ranges);
            assert!(s.windows.len() > 1 && s.windows.len() < ranges.len());
            for &(start, end) in &ranges {
                for context in [0, 1] {
                    assert_eq!(
                        windowed(&s, start, end - start, context),
                        whole(t, start, end - start, context),
                        "{start}..{end} ±{context} ({eol:?})"
                    );
                }
            }
            assert!(s.whole.get().is_none(), "every label was in a window");
            // Two labels far apart (miette merges them): the whole text, read once.
            let (start, end) = (at(10), at(58) + 6);
            assert_eq!(
                windowed(&s, start, end - start, 1),
                whole(t, start, end - start, 1)
            );
            assert!(s.whole.get().is_some());
        }
    }

    /// The excerpt's window as it was computed before: from the whole neutralized line.
    fn whole_line_excerpt(name: &str, text: &str, loc: &Location) -> String {
        let start = loc.span.start.min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = neutralize_source(&text[line_start..line_end]);
        let (text, start, line_end) = (&*line, start - line_start, line_end - line_start);
        let chars: Vec<char> = text[..start].chars().collect();
        let before: String = chars[chars.len().saturating_sub(60)..].iter().collect();
        let after: String = text[start..line_end].chars().take(60).collect();
        let cut_before = before.chars().count() < chars.len();
        let cut_after = after.len() < line_end - start;
        excerpt_lines(name, loc, (cut_before, &before), (&after, cut_after))
    }

    #[test]
    fn excerpts_read_only_what_they_show() {
        let pieces = ["a", "é", "\u{1b}", "\u{9b}", "\u{202e}", "😀", "\t", "x"];
        for n in [0usize, 1, 59, 60, 61, 100, 250, 1000] {
            for k in 0..pieces.len() {
                let mut text = String::from("{\"k\": \"");
                for i in 0..n {
                    text.push_str(pieces[(i * 7 + k) % pieces.len()]);
                }
                let mid = text.len();
                for i in 0..n {
                    text.push_str(pieces[(i * 3 + k) % pieces.len()]);
                }
                text.push_str("\"}\nnext line");
                for at in [0, 5, mid, text.len() - 10, text.len()] {
                    let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap();
                    let loc = Location {
                        side: Side::Current,
                        span: crate::document::Span::new(at, at),
                        line: 1,
                        column: 1,
                        end_line: 1,
                        end_column: 1,
                    };
                    assert_eq!(
                        excerpt("q.json", &text, &loc),
                        whole_line_excerpt("q.json", &text, &loc),
                        "n={n} k={k} at={at}"
                    );
                }
            }
        }
    }

    /// Whether the lines around `offset` are short, as it was computed before: from the
    /// whole lines, found from the start of the text.
    fn whole_lines_fit(text: &str, offset: usize, max: usize) -> bool {
        let offset = offset.min(text.len());
        let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let before = text[..start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        let after = text[(end + 1).min(text.len())..]
            .find('\n')
            .map_or(text.len(), |i| end + 1 + i);
        text[before..after].lines().all(|line| line.len() <= max)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(23),
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Lines of every length around the limit (LF, CRLF, a lone or final CR, non-ASCII
        /// text), one line or many: looking only `max + 2` bytes each way answers what
        /// reading the whole lines does.
        #[test]
        fn short_lines_are_told_as_from_the_whole_lines(
            lines in proptest::collection::vec((0usize..16, 0usize..4, 0usize..3), 0..8),
            max in 0usize..10,
            picks in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 1..40),
        ) {
            let mut text = String::new();
            for &(len, kind, eol) in &lines {
                for i in 0..len {
                    text.push_str(["a", "é", "\r", "😀"][(i * (kind + 1)) % 4]);
                }
                text.push_str(["\n", "\r\n", ""][eol]);
            }
            for pick in &picks {
                let mut at = pick.index(text.len() + 2);
                while at < text.len() && !text.is_char_boundary(at) {
                    at -= 1;
                }
                proptest::prop_assert_eq!(
                    lines_around_fit(&text, at, max),
                    whole_lines_fit(&text, at, max),
                    "{} ≤ {} in {:?}", at, max, text
                );
            }
        }
    }

    #[test]
    fn line_breaks_count_as_miette_counts_them() {
        for text in ["", "a\nb", "a\r\nb\rc\n\r", "\r\r\n\n\r", "x\r"] {
            assert_eq!(
                line_breaks(text.as_bytes()),
                line_starts(text).len() - 1,
                "{text:?}"
            );
        }
    }
}
