//! miette diagnostics: the source snippet with a label on the exact line.

use std::fmt;
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use crate::lint::{Diagnostic, FileReport, Location, Severity};
use crate::rules::Side;
use crate::text::neutralize_source;

/// Colour and width.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// Colour only on a terminal and when `NO_COLOR` is unset (or empty); `CLICOLOR_FORCE`
    /// forces it off a terminal, but `NO_COLOR` always wins.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let force = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
        Style {
            color: !no_color && (force || std::io::stdout().is_terminal()),
            width: 100,
        }
    }
}

struct Shown<'a> {
    d: &'a Diagnostic,
    /// `None` when the snippet would be unreadable (very long lines): the location and a
    /// short excerpt are then part of the message instead.
    source: Option<Indexed>,
    labels: Vec<LabeledSpan>,
    excerpt: Option<String>,
}

/// A version's text with its line starts, named. miette finds a snippet's lines by counting
/// every line before it, which for 100 findings near the end of a 40 MB file is seconds;
/// here it is handed only the lines around the snippet, and the line numbers are shifted
/// back, so the output is the same.
struct Indexed {
    name: String,
    text: Arc<str>,
    /// Where each line starts, as miette counts lines (`\n`, `\r\n` or a lone `\r`).
    lines: Arc<Vec<usize>>,
}

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

impl SourceCode for Indexed {
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
        let line = |offset: usize| self.lines.partition_point(|&s| s <= offset) - 1;
        // One line more than miette shows on each side, so that it trims exactly as it
        // would in the whole text.
        let first = line(start).saturating_sub(before + 1);
        let last = line(end) + after + 1;
        let from = self.lines[first];
        let to = self.lines.get(last + 1).copied().unwrap_or(self.text.len());
        let window = &self.text[from..to];
        let inner = window.read_span(
            &SourceSpan::new((start - from).into(), span.len()),
            before,
            after,
        )?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new((inner.span().offset() + from).into(), inner.span().len()),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
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
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
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

/// The line holding `offset` and one line of context on each side.
fn lines_around(text: &str, offset: usize) -> impl Iterator<Item = &str> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before = text[..start.saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let after = text[(end + 1).min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| end + 1 + i);
    text[before..after].lines()
}

/// `at NAME:LINE:COL` and up to 60 characters either side of the location.
fn excerpt(name: &str, text: &str, loc: &Location) -> String {
    let start = loc.span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let before: String = {
        let chars: Vec<char> = text[line_start..start].chars().collect();
        chars[chars.len().saturating_sub(60)..].iter().collect()
    };
    let after: String = text[start..line_end].chars().take(60).collect();
    let lead = if before.chars().count() < text[line_start..start].chars().count() {
        "…"
    } else {
        ""
    };
    let tail = if after.len() < line_end - start {
        "…"
    } else {
        ""
    };
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
    let files = reports.len();
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
        .with_context_lines(1);
    let mut out = String::new();
    for report in reports {
        // Neutralized once per version, on first use (a clean 40 MB file costs nothing), and
        // shared by every diagnostic's snippet.
        let neutralized = |v: &Option<crate::lint::Version>| {
            v.as_ref().map(|v| {
                let text = Arc::<str>::from(neutralize_source(&v.text));
                let lines = Arc::new(line_starts(&text));
                (text, lines)
            })
        };
        let (current, base) = (std::cell::OnceCell::new(), std::cell::OnceCell::new());
        for d in &report.diagnostics {
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
            let name = version.name.clone();
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
            let text = match d.location.side {
                Side::Current => current.get_or_init(|| neutralized(&report.current)),
                Side::Base => base.get_or_init(|| neutralized(&report.base)),
            }
            .clone()
            .unwrap_or_else(|| (Arc::from(""), Arc::new(vec![0])));
            let (text, lines) = text;
            let readable = lines_around(&text, d.location.span.start)
                .all(|line| line.len() <= MAX_SNIPPET_LINE)
                && d.location.span.len() <= MAX_SNIPPET_LINE;
            let shown = if readable {
                Shown {
                    d,
                    source: Some(Indexed { name, text, lines }),
                    labels,
                    excerpt: None,
                }
            } else {
                Shown {
                    d,
                    source: None,
                    labels,
                    excerpt: Some(excerpt(&name, &text, &d.location)),
                }
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
