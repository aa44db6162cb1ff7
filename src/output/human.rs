//! miette diagnostics: the source snippet with a label on the exact line.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

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
    /// forces it.
    pub fn detect() -> Style {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let force = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
        Style {
            color: force || (!no_color && std::io::stdout().is_terminal()),
            width: 100,
        }
    }
    pub fn plain() -> Style {
        Style {
            color: false,
            width: 100,
        }
    }
}

struct Shown<'a> {
    d: &'a Diagnostic,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
}

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
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
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

/// Renders every diagnostic, then a one-line summary.
pub fn render(reports: &[FileReport], style: Style) -> String {
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
            let shown = Shown {
                d,
                source: NamedSource::new(name, neutralize_source(&version.text).into_owned()),
                labels,
            };
            let _ = handler.render_report(&mut out, &shown);
            out.push('\n');
        }
    }
    let s = super::Summary::of(reports);
    let files = reports.len();
    out.push_str(&format!(
        "{} {}, {} {} in {} {}\n",
        s.errors,
        if s.errors == 1 { "error" } else { "errors" },
        s.warnings,
        if s.warnings == 1 {
            "warning"
        } else {
            "warnings"
        },
        files,
        if files == 1 { "file" } else { "files" },
    ));
    out
}
