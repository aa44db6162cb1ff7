//! `runqlint check`: read each queue file's checked and base versions, lint, report.

use crate::cli::CheckArgs;
use crate::config::Levels;
use crate::error::{Error, Result};
use crate::git::{Blob, Repo};
use crate::lint::{self, FileReport, Settings};
use crate::output::{self, Format, Summary};
use crate::rules::{Level, Rule};

use super::{now_ms, read_worktree, stale_after_ms, Workspace};

/// Runs the check and prints the report; the summary decides the exit code.
pub fn run(args: &CheckArgs) -> Result<Summary> {
    let ws = Workspace::open(
        args.paths.first().map(|p| p.as_path()),
        args.common.config.as_deref(),
    )?;
    if ws.repo.is_none() && (args.staged || args.base.is_some()) {
        let flag = if args.staged { "--staged" } else { "--base" };
        return Err(Error::Usage(if ws.bare {
            format!("{flag} needs a working tree, and this is a bare repository")
        } else {
            format!(
                "{flag} needs a git repository, and {} is not in one",
                ws.root.display()
            )
        }));
    }
    let mut levels = ws.config.levels.clone();
    apply_overrides(&mut levels, args)?;
    let settings = Settings {
        levels,
        now_ms: now_ms(&args.common)?,
        stale_after_ms: stale_after_ms(&args.common, &ws.config)?,
    };
    let reports = collect(&ws, args, &settings)?;
    let summary = Summary::of(&reports);
    output::stdout(&output::render(args.format, &reports))
        .map_err(|e| Error::Io(format!("stdout: {e}")))?;
    if args.format == Format::Github {
        if let Some(file) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|f| !f.is_empty()) {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&file)
                .map_err(|e| Error::Io(format!("GITHUB_STEP_SUMMARY: {e}")))?;
            f.write_all(output::github::step_summary(&reports).as_bytes())
                .map_err(|e| Error::Io(format!("GITHUB_STEP_SUMMARY: {e}")))?;
        }
    }
    Ok(summary)
}

/// Reads both versions of every path and lints them.
fn collect(ws: &Workspace, args: &CheckArgs, settings: &Settings) -> Result<Vec<FileReport>> {
    let limit = ws.config.max_file_size;
    let base_rev = args.base.as_deref().unwrap_or("HEAD");
    let mut reports = Vec::new();
    for (path, explicit) in ws.queue_paths(&args.paths) {
        let shown = ws.display_path(&path)?;
        // Both versions are read at once: inflating a large blob takes as long as checking
        // it. The base is read through a second handle (a git2 repository stays on one
        // thread); errors are reported in the same order as when read one after the other.
        let (current, base) = std::thread::scope(|s| {
            let (root, rel) = (ws.root.as_path(), shown.as_str());
            let base = ws.repo.as_ref().map(|_| {
                s.spawn(move || -> Result<Option<Vec<u8>>> {
                    let Some(repo) = Repo::discover(root)? else {
                        return Ok(None);
                    };
                    Ok(match repo.blob_at(base_rev, rel, limit)? {
                        Blob::Found(b) => Some(b),
                        Blob::Missing | Blob::NoVersion => None,
                    })
                })
            });
            let current = match (&ws.repo, args.staged) {
                (Some(repo), true) => match repo.blob_in_index(&shown, limit) {
                    Ok(Blob::Found(b)) => Ok(Some(b)),
                    Ok(_) => Ok(None),
                    Err(e) => Err(e),
                },
                _ => read_worktree(&path, limit),
            };
            let base = base.map_or(Ok(None), |h| h.join().expect("reading does not panic"));
            (current, base)
        });
        let (current, base) = (current?, base?);
        if current.is_none() && base.is_none() {
            if explicit {
                let where_ = if args.staged {
                    "in the index"
                } else {
                    "in the working tree"
                };
                let also = if ws.repo.is_some() {
                    format!(" nor in {base_rev}")
                } else {
                    String::new()
                };
                return Err(Error::Io(format!("{shown}: no such file {where_}{also}")));
            }
            continue;
        }
        reports.push(lint::lint_owned(
            &shown,
            current,
            base.map(|b| (base_rev, b)),
            settings,
        ));
    }
    if reports.is_empty() && args.format == Format::Human {
        output::stderr(&format!(
            "runqlint: no queue file found ({}); nothing to check",
            ws.config.paths.join(", ")
        ));
    }
    Ok(reports)
}

/// `--deny`, `--warn`, `--allow` in that order of strength: the last word on a rule is the
/// strongest flag given for it.
fn apply_overrides(levels: &mut Levels, args: &CheckArgs) -> Result<()> {
    for (names, level) in [
        (&args.allow, Level::Off),
        (&args.warn, Level::Warn),
        (&args.deny, Level::Error),
    ] {
        for name in names {
            if name == "all" {
                for rule in Rule::ALL {
                    levels.set(rule, level);
                }
                continue;
            }
            let rule = Rule::from_name(name).ok_or_else(|| {
                Error::Usage(format!("unknown rule `{name}` (see `runqlint rules`)"))
            })?;
            levels.set(rule, level);
        }
    }
    Ok(())
}
