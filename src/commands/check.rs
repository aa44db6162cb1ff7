//! `runqlint check`: read each queue file's checked and base versions, lint, report.

use crate::cli::CheckArgs;
use crate::config::Levels;
use crate::error::{Error, Result};
use crate::git::{Blob, Repo};
use crate::gitcli::Git;
use crate::lint::{self, Diagnostic, FileReport, Settings};
use crate::output::{self, Format, Summary};
use crate::rules::{Level, Rule, Side};

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
    // A merge in progress is judged against every parent ([`judge_merge`]).
    let merging = match (&args.base, amend) {
        (None, false) => merging(ws)?,
        _ => None,
    };
    let mut reports = Vec::new();
    for (path, explicit) in ws.queue_paths(&args.paths) {
        let shown = ws.display_path(&path)?;
        let submodule = submodule_of(ws, &shown);
        let (current, base) = if let Some((sub, prefix, rest)) = &submodule {
            submodule_versions(ws, args, &path, (sub, prefix, rest), base_rev, has_base)?
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
        // Inside a submodule the superproject's merge heads name gitlinks, not the file.
        let merge = match (&merging, &submodule) {
            (Some(m), None) => Some(m.versions(ws, &shown)?),
            _ => None,
        };
        let in_a_parent = merge
            .as_ref()
            .is_some_and(|v| v.others.iter().any(|(_, v)| v.is_some()));
        if current.is_none() && base.is_none() && !in_a_parent {
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
        match merge {
            Some(versions) => {
                reports.extend(judge_merge(&shown, current, base, versions, settings))
            }
            None => reports.push(lint::lint_owned(
                &shown,
                current,
                base.map(|b| (base_rev, b)),
                settings,
            )),
        }
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

/// A merge in progress: the commits it brings into HEAD, as named in messages, and the
/// merge base of HEAD and them.
struct Merging {
    heads: Vec<(String, String)>,
    base: Option<String>,
}

/// A path's versions in a merge's other parents and at its merge base.
struct MergeVersions {
    /// `(name, version)` of each merged head (`None`: no such file there).
    others: Vec<(String, Option<Vec<u8>>)>,
    base: Option<Vec<u8>>,
}

/// The merge in progress, if any (`MERGE_HEAD`, or `git merge`'s `GITHEAD_*` in its
/// `pre-merge-commit` hook). Outside a merge this reads one file's absence and the
/// environment; only a merge starts `git` (merge base, branch names).
fn merging(ws: &Workspace) -> Result<Option<Merging>> {
    let (heads, git) = match (&ws.repo, &ws.git_only) {
        (Some(repo), _) => (repo.merge_heads()?, Git::at(&ws.root)),
        (None, Some((git, _))) => (git.merge_heads()?, git.clone()),
        (None, None) => return Ok(None),
    };
    if heads.is_empty() {
        return Ok(None);
    }
    let Some(head) = git.commit_of("HEAD")? else {
        return Ok(None);
    };
    let mut named = Vec::new();
    for h in heads {
        // A variable left from elsewhere may name no commit here, or HEAD itself.
        if h.id == head || git.commit_of(&h.id)?.is_none() {
            continue;
        }
        let name = match h.name {
            Some(name) => name,
            None => git
                .names_of(&h.id)?
                .into_iter()
                .next()
                .unwrap_or_else(|| h.id[..7].to_string()),
        };
        named.push((h.id, format!("MERGE_HEAD ({})", crate::text::escape(&name))));
    }
    if named.is_empty() {
        return Ok(None);
    }
    let mut commits = vec![head.as_str()];
    commits.extend(named.iter().map(|(id, _)| id.as_str()));
    let base = git.merge_base(&commits)?;
    Ok(Some(Merging { heads: named, base }))
}

impl Merging {
    fn versions(&self, ws: &Workspace, shown: &str) -> Result<MergeVersions> {
        let limit = ws.config.max_file_size;
        let at = |rev: &str| -> Result<Option<Vec<u8>>> {
            match (&ws.repo, &ws.git_only) {
                (Some(repo), _) => repo.blob_at(rev, shown, limit).map(found),
                (None, Some((git, _))) => git.blob_at(rev, shown, limit).map(found),
                (None, None) => Ok(None),
            }
        };
        let mut others = Vec::new();
        for (id, name) in &self.heads {
            others.push((name.clone(), at(id)?));
        }
        let base = match &self.base {
            Some(id) => at(id)?,
            None => None,
        };
        Ok(MergeVersions { others, base })
    }
}

/// A merge's result (`current`) judged against HEAD and each merged head, with `audit`'s
/// rule for a merge ([`super::audit::own_history`]) seen from HEAD's branch. Single-file
/// findings are reported once, against the first parent that has the file; a history
/// finding once, unless HEAD's own side already had it between the merge base and HEAD.
/// So whatever `audit` would blame on the merge commit is refused, and so is what a merged
/// branch brings that the gate would refuse as a commit of its own. The findings against a
/// merged head come in a report of their own whose base is that head's version, so that
/// they are located in it.
fn judge_merge(
    shown: &str,
    current: Option<Vec<u8>>,
    head: Option<Vec<u8>>,
    versions: MergeVersions,
    settings: &Settings,
) -> Vec<FileReport> {
    use super::audit::{history_keys, own_history};
    let current = current.map(lint::Prepared::new);
    let parents: Vec<(String, lint::Prepared)> = std::iter::once(("HEAD".to_string(), head))
        .chain(versions.others)
        .filter_map(|(name, v)| Some((name, lint::Prepared::new(v?))))
        .collect();
    let linted: Vec<FileReport> = parents
        .iter()
        .map(|(name, v)| lint::lint_prepared(shown, current.as_ref(), Some((name, v)), settings))
        .collect();
    if linted.is_empty() {
        return vec![lint::lint_prepared(shown, current.as_ref(), None, settings)];
    }
    // What HEAD's side already had since the merge base is HEAD's history, which the gate
    // judged when it was committed: not the merge's. What a merged head's side brings is
    // new to HEAD's branch, so the gate refuses it even where `audit` blames the branch's
    // own commit for it.
    let base = versions.base.map(lint::Prepared::new);
    let head_has_file = parents.first().is_some_and(|(name, _)| name == "HEAD");
    let brought: Vec<Vec<_>> = match (&base, parents.len() > 1 && head_has_file) {
        (Some(base), true) => {
            let head = &parents[0].1;
            let side =
                lint::lint_prepared(shown, Some(head), Some(("the merge base", base)), settings);
            let mut brought = vec![history_keys(&side, head.bytes())];
            brought.resize(parents.len(), Vec::new());
            brought
        }
        _ => Vec::new(),
    };
    let bytes = current.as_ref().map_or(&[][..], |c| c.bytes());
    let own: Vec<Vec<Diagnostic>> = own_history(&linted, bytes, &brought)
        .into_iter()
        .map(|ds| ds.into_iter().cloned().collect())
        .collect();
    let mut reports = Vec::new();
    for (p, (mut report, own)) in linted.into_iter().zip(own).enumerate() {
        report.diagnostics.retain(|d| {
            !d.rule.is_history()
                && (p == 0 || (d.location.side == Side::Base && d.rule == Rule::InvalidJson))
        });
        report.diagnostics.extend(own);
        report
            .diagnostics
            .sort_by_key(|d| (d.location.side == Side::Base, d.location.span.start, d.rule));
        if p == 0 || !report.diagnostics.is_empty() {
            reports.push(report);
        }
    }
    reports
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
