//! The only code that prints. Each format turns reports into text; `emit` writes it.

use std::io::Write;

use crate::lint::{FileReport, Severity};

pub mod fix;
pub mod github;
pub mod history;
pub mod human;
pub mod json;
pub mod progress;
pub mod sarif;
pub mod stale;

/// How `check` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
}

/// How `fix`, `stale` and `rules` report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
}

/// Error and warning counts over all reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
}

impl Summary {
    pub fn of(reports: &[FileReport]) -> Summary {
        let mut s = Summary::default();
        for d in reports.iter().flat_map(|r| &r.diagnostics) {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
            }
        }
        s
    }

    /// `N error(s), M warning(s)`, how the human and audit summary lines begin.
    pub fn counts(&self) -> String {
        format!(
            "{} {}, {} {}",
            self.errors,
            if self.errors == 1 { "error" } else { "errors" },
            self.warnings,
            if self.warnings == 1 {
                "warning"
            } else {
                "warnings"
            },
        )
    }
}

/// Renders `reports` in `format`.
pub fn render(format: Format, reports: &[FileReport]) -> String {
    match format {
        Format::Human => human::render(reports, human::Style::detect()),
        Format::Json => json::render(reports),
        Format::Github => github::render(reports),
        Format::Sarif => sarif::render(reports),
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes one line to stderr (notes and the one-line reason for exit 2).
pub fn stderr(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
