//! `runqlint check`: read each queue file's checked and base versions, lint, report.

use crate::cli::CheckArgs;
use crate::config::Levels;
use crate::error::{Error, Result};
use crate::git::{Blob, Repo};
use crate::gitcli::Git;
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
    if ws.repo.is_none() && ws.git_only.is_none() && (args.staged || args.base.is_some()) {
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
    // Under `git commit --amend` the commit replaces HEAD: judge it against HEAD's parent
    // (none when HEAD is the root commit: every queue is new).
    let amend = args.staged && args.base.is_none() && crate::amend::amending();
    let base_rev = match (&args.base, amend) {
        (Some(rev), _) => rev.as_str(),
        (None, true) => "HEAD^",
        (None, false) => "HEAD",
    };
    let has_base = !amend
        || match (&ws.repo, &ws.git_only) {
            (Some(repo), _) => repo.resolves(base_rev),
            (None, Some((git, _))) => git.commit_of(base_rev)?.is_some(),
            (None, None) => false,
        };
    let mut reports = Vec::new();
    for (path, explicit) in ws.queue_paths(&args.paths) {
        let shown = ws.display_path(&path)?;
        let (current, base) = if let Some((sub, prefix, rest)) = submodule_of(ws, &shown) {
            submodule_versions(ws, args, &path, (&sub, &prefix, &rest), base_rev, has_base)?
        } else if let Some((git, _)) = &ws.git_only {
            let current = if args.staged {
                found(git.blob_in_index(&shown, limit)?)
            } else {
                match read_worktree(&path, limit)? {
                    None if git.skip_worktree(&shown)? => found(git.blob_in_index(&shown, limit)?),
                    other => other,
                }
            };
            let base = match has_base {
                true => found(git.blob_at(base_rev, &shown, limit)?),
                false => None,
            };
            (current, base)
        } else {
            read_versions(ws, args, &path, &shown, base_rev, has_base)?
        };
        if current.is_none() && base.is_none() {
            if explicit {
                let where_ = if args.staged {
                    "in the index"
                } else {
                    "in the working tree"
                };
                let also = if ws.repo.is_some() || ws.git_only.is_some() {
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

/// A path's checked and base versions (`None`: absent).
type Versions = (Option<Vec<u8>>, Option<Vec<u8>>);

fn found(blob: Blob) -> Option<Vec<u8>> {
    match blob {
        Blob::Found(b) => Some(b),
        Blob::Missing => None,
    }
}

/// Both versions through libgit2 (and `git` where it lags, see `git::Repo::content`).
fn read_versions(
    ws: &Workspace,
    args: &CheckArgs,
    path: &std::path::Path,
    shown: &str,
    base_rev: &str,
    has_base: bool,
) -> Result<Versions> {
    let limit = ws.config.max_file_size;
    // Both versions are read at once: inflating a large blob takes as long as checking
    // it. The base is read through a second handle (a git2 repository stays on one
    // thread); errors are reported in the same order as when read one after the other.
    let (current, base) = std::thread::scope(|s| {
        let (root, rel) = (ws.root.as_path(), shown);
        let base = ws.repo.as_ref().filter(|_| has_base).map(|_| {
            s.spawn(move || -> Result<Option<Vec<u8>>> {
                let Some(repo) = Repo::discover(root)? else {
                    return Ok(None);
                };
                Ok(found(repo.blob_at(base_rev, rel, limit)?))
            })
        });
        let current = match (&ws.repo, args.staged) {
            (Some(repo), true) => repo.blob_in_index(shown, limit).map(found),
            // Outside a sparse checkout the file is absent and git takes the index entry
            // for it.
            (Some(repo), false) => match read_worktree(path, limit) {
                Ok(None) if repo.skip_worktree(shown).unwrap_or(false) => {
                    repo.blob_in_index(shown, limit).map(found)
                }
                other => other,
            },
            _ => read_worktree(path, limit),
        };
        let base = base.map_or(Ok(None), |h| h.join().expect("reading does not panic"));
        (current, base)
    });
    Ok((current?, base?))
}

/// `(submodule working tree, its path in the superproject, the path inside it)` when
/// `path` lies inside a submodule (a directory below the root holding `.git`).
fn submodule_of(ws: &Workspace, shown: &str) -> Option<(std::path::PathBuf, String, String)> {
    ws.repo.as_ref()?;
    let parts: Vec<&str> = shown.split('/').collect();
    (1..parts.len()).find_map(|n| {
        let prefix = parts[..n].join("/");
        let dir = ws.root.join(&prefix);
        dir.join(".git")
            .symlink_metadata()
            .is_ok()
            .then(|| (dir, prefix, parts[n..].join("/")))
    })
}

/// A queue file inside a submodule, read as the superproject records it: the version in
/// the submodule commit that the superproject's index (`--staged`) or base revision
/// names, the working-tree file otherwise. Through `git`, in the submodule's repository.
fn submodule_versions(
    ws: &Workspace,
    args: &CheckArgs,
    path: &std::path::Path,
    (sub, prefix, rest): (&std::path::Path, &str, &str),
    base_rev: &str,
    has_base: bool,
) -> Result<Versions> {
    let limit = ws.config.max_file_size;
    let sup = Git::at(&ws.root);
    let module = Git::submodule(sub);
    let what = format!("submodule {}", crate::text::escape(prefix));
    let at = |link: Option<crate::gitcli::Entry>| -> Result<Option<Vec<u8>>> {
        match link {
            Some(e) if e.mode == 0o160000 => {
                Ok(found(module.blob_in_commit(&e.oid, rest, &what, limit)?))
            }
            _ => Ok(None),
        }
    };
    let current = if args.staged {
        let link = sup
            .index_entries(prefix)?
            .into_iter()
            .find(|(stage, _)| *stage == 0)
            .map(|(_, e)| e);
        at(link)?
    } else {
        read_worktree(path, limit)?
    };
    let base = match (has_base, sup.commit_of(base_rev)?) {
        (false, _) => None,
        (true, Some(commit)) => at(sup.tree_entry(&commit, prefix)?)?,
        (true, None) if base_rev == "HEAD" => None,
        (true, None) => {
            return Err(Error::Git(format!(
                "base revision `{}` is not in this repository",
                crate::text::escape(base_rev)
            )))
        }
    };
    Ok((current, base))
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
