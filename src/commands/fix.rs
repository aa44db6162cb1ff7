//! `runqlint fix`: repair stale running items and commit the file with a receipt.
//!
//! Order of work, so that a refusal leaves everything as it was:
//!
//! 1. Flags: `--run-id`/`--artifact` must be one line of safe text.
//! 2. Guards: a repository is needed unless `--no-commit`/`--dry-run`; a detached (or
//!    unborn) HEAD and a missing git identity are refused unless `--no-commit`; the queue
//!    file must be clean against HEAD (no `dirty`, `staged`, `untracked` state) unless
//!    `--allow-dirty`. `--dry-run` skips the dirty and HEAD guards (it writes nothing).
//! 3. Read the working-tree file once; survey it ([`repair::survey`]); ask liveness for each
//!    stale item; plan ([`repair::plan`]). Nothing to change: exit 0, nothing written.
//! 4. Splice the edits, re-parse, and require exactly the planned value.
//! 5. Lint the result against HEAD with the configured levels (`stale-running` counts as a
//!    warning here: items whose liveness is unknown are deliberately left running); an
//!    error-severity finding the original file did not already have refuses the fix.
//!    Errors already committed (a running item with no start time) are left for triage.
//! 6. `--dry-run`: print the diff and the commit message, stop.
//! 7. When committing: write the new bytes as a blob, record the intent in the journal
//!    ([`crate::journal`]), take git's `index.lock` (holding the journal's token). Check the
//!    branch has not moved and the file is unchanged, write the backup (temporary file,
//!    then an exclusive hard link at the first free name), replace the file atomically
//!    (abort if it changed on disk), commit only that path with compare-and-swap on the
//!    branch, update only its index entry; release the lock, then remove the journal.
//!
//! 0. Before all this, a committing run finishes or discards the job of a `fix` that was
//!    killed, as its journal describes it ([`recover`]). So a `fix` killed at any point
//!    (`RUNQLINT_FAILPOINT`, see [`crate::failpoint`]) leaves the queue file with exactly
//!    its old or its new bytes, and a plain rerun completes the job. `--no-commit` and
//!    `--dry-run` keep no journal and ignore one (an atomic replace is all they need).
//!
//! `--allow-dirty` commits the repaired working-tree file, uncommitted edits included.
//! The backup's timestamp is the wall clock (when the backup was taken), not `--now`.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::FixArgs;
use crate::config;
use crate::document;
use crate::edit;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::git::{self, Blob, Head, Repo};
use crate::journal::{Intent, Journal};
use crate::lint::{self, Input, Settings, Severity};
use crate::liveness::Checker;
use crate::output::{self, fix::FixReport};
use crate::queue::Queue;
use crate::receipt::Receipt;
use crate::repair::{self, Options};
use crate::rules::{Level, Rule};
use crate::text;

use super::{now_ms, read_worktree, stale_after_ms, Workspace};

pub fn run(args: &FixArgs) -> Result<bool> {
    for (flag, value) in [("--run-id", &args.run_id), ("--artifact", &args.artifact)] {
        if let Some(v) = value {
            if v.trim().is_empty() || v.chars().any(text::is_unsafe) {
                return Err(Error::Usage(format!(
                    "{flag} must be one line of printable text (it goes into a commit trailer)"
                )));
            }
        }
    }
    let alive_timeout = config::parse_duration(&args.alive_timeout)
        .map_err(|e| Error::Usage(format!("--alive-timeout: {e}")))?;
    let ws = Workspace::open(args.path.as_deref(), args.common.config.as_deref())?;
    let path: PathBuf = ws.queue_path(args.path.as_deref());
    let shown = ws.display_path(&path)?;
    let now = now_ms(&args.common)?;
    let stale_after = stale_after_ms(&args.common, &ws.config)?;
    let fixc = &ws.config.fix;
    let opts = Options {
        now_ms: now,
        mark: args.mark.unwrap_or(fixc.mark),
        requeue: args.requeue || fixc.requeue,
        max_attempts: args.max_attempts.unwrap_or(fixc.max_attempts),
    };
    if opts.max_attempts == 0 {
        return Err(Error::Usage("--max-attempts must be at least 1".into()));
    }
    let commit = !args.no_commit && !args.dry_run;
    let writes = !args.dry_run;
    let mut clean_checked = false;

    // Guards.
    let repo = ws.repo.as_ref();
    if repo.is_none() && commit {
        return Err(Error::Usage(format!(
            "{} is not in a git repository; use --no-commit to repair it without a commit",
            path.display()
        )));
    }
    if let (true, Some(r)) = (commit, repo) {
        if let Some(note) = recover(r)? {
            output::stderr(&format!("runqlint: {note}"));
        }
    }
    let mut branch: Option<(String, git2::Oid)> = None;
    if let Some(repo) = repo {
        let head = repo.head()?;
        if commit {
            match &head {
                Head::Branch { name, commit } => branch = Some((name.clone(), *commit)),
                Head::Detached => {
                    return Err(Error::Refused(
                        "HEAD is detached: a fix commit would belong to no branch; check out a branch, or use --no-commit".into(),
                    ))
                }
                Head::Unborn => {
                    return Err(Error::Refused(
                        "the repository has no commit yet; commit the queue file first, or use --no-commit".into(),
                    ))
                }
            }
            repo.signatures()?;
        }
        if writes && !args.allow_dirty {
            let state = repo.path_state(&shown)?;
            if !state.is_empty() {
                let list: Vec<String> = state.iter().map(|s| format!("{shown} ({s})")).collect();
                return Err(Error::Refused(format!(
                    "uncommitted changes to the queue file: {}; commit or stash them first, or use --allow-dirty",
                    list.join(", ")
                )));
            }
            clean_checked = true;
        }
    }

    // Read, survey, ask, plan.
    let limit = ws.config.max_file_size;
    let original = read_worktree(&path, limit)?
        .ok_or_else(|| Error::Io(format!("{shown}: no such file in the working tree")))?;
    let parsed = document::parse(&original).map_err(|e| {
        Error::Refused(format!(
            "{shown} is not valid JSON ({}); nothing to repair until `runqlint check` passes",
            e.message
        ))
    })?;
    let text = std::str::from_utf8(&original)
        .map_err(|_| Error::Refused(format!("{shown} is not UTF-8")))?;
    let base = match repo {
        Some(r) => match r.blob_at("HEAD", &shown, limit)? {
            Blob::Found(b) => Some(b),
            _ => None,
        },
        None => None,
    };
    // git reports the file clean, yet its bytes differ from HEAD's blob: a clean/smudge
    // filter (core.autocrlf, an `eol` attribute) is in play, and a byte-exact commit would
    // rewrite every line.
    if commit && clean_checked && base.as_ref().is_some_and(|b| *b != original) {
        return Err(Error::Refused(format!(
            "{shown} is converted by git filters (core.autocrlf or .gitattributes eol/filter); runqlint fix commits exact bytes, so repair it with --no-commit and commit it with git"
        )));
    }
    let queue = Queue::new(&parsed.value);
    if queue.shape.is_none()
        || parsed
            .value
            .pointer(queue.items_pointer)
            .and_then(|v| v.as_array())
            .is_none()
    {
        return Err(Error::Refused(format!(
            "{shown} is neither an object with an `items` array nor an array; see `runqlint check`"
        )));
    }
    let survey = repair::survey(&queue, now, stale_after);
    let sessions = args
        .alive_sessions
        .clone()
        .or_else(|| fixc.alive_sessions.as_ref().map(|p| ws.root.join(p)));
    let alive_cmd = args.alive_cmd.as_deref().or(fixc.alive_cmd.as_deref());
    let checker = Checker::new(
        alive_cmd,
        sessions.as_deref(),
        Duration::from_millis(alive_timeout as u64),
    )?;
    let mut liveness = Vec::with_capacity(survey.stale.len());
    for c in &survey.stale {
        liveness.push(checker.check(c.session_key.as_deref())?);
    }
    let plan = repair::plan(text, &parsed.value, &survey, &liveness, &opts);
    let mut report = FixReport {
        path: shown.clone(),
        survey: &survey,
        plan: &plan,
        backup: None,
        commit: None,
        dry_run: args.dry_run,
        diff: None,
        message: None,
    };
    if !plan.changes_anything() {
        emit(args, &report)?;
        return Ok(true);
    }

    // Splice and verify.
    let new_text = edit::apply(text, &plan.edits).map_err(|e| {
        Error::Io(format!(
            "{shown}: internal edit error: {e}; nothing written"
        ))
    })?;
    match document::parse(new_text.as_bytes()) {
        Ok(p) if p.value == plan.intended => {}
        _ => {
            return Err(Error::Io(format!(
                "{shown}: the repaired text does not parse back to the intended document (a bug in runqlint); nothing written"
            )))
        }
    }
    let mut levels = ws.config.levels.clone();
    if levels.get(Rule::StaleRunning) == Level::Error {
        levels.set(Rule::StaleRunning, Level::Warn);
    }
    let settings = Settings {
        levels,
        now_ms: now,
        stale_after_ms: stale_after,
    };
    let checked = lint::lint(
        &Input {
            path: &shown,
            current: Some(new_text.as_bytes()),
            base: base.as_deref().map(|b| ("HEAD", b)),
        },
        &settings,
    );
    // The repair must not add an error. Errors the file already had (against HEAD) are a
    // person's to triage, such as a running item without a start time: they neither block
    // the repair nor are touched by it. Repairs never remove or move items, so pointers
    // from before and after the repair name the same places.
    let new_errors: Vec<&lint::Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    // Only when the result has errors is the original linted, to tell old from new.
    let before = (!new_errors.is_empty()).then(|| {
        lint::lint(
            &Input {
                path: &shown,
                current: Some(&original),
                base: base.as_deref().map(|b| ("HEAD", b)),
            },
            &settings,
        )
    });
    let existing: std::collections::HashSet<(crate::rules::Rule, &str)> = before
        .iter()
        .flat_map(|b| &b.diagnostics)
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.rule, d.pointer.as_str()))
        .collect();
    let errors: Vec<String> = new_errors
        .into_iter()
        .filter(|d| !existing.contains(&(d.rule, d.pointer.as_str())))
        .map(|d| {
            format!(
                "{} at line {}: {}",
                d.rule.name(),
                d.location.line,
                text::escape(&d.message)
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(Error::Refused(format!(
            "the repaired file would not pass `runqlint check` against HEAD, so nothing was written: {}",
            errors.join("; ")
        )));
    }

    // The receipt.
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let backup_path = match !args.no_backup && fixc.backup {
        true => Some(crate::atomic::free_backup_path(&path, &stamp)?),
        false => None,
    };
    let backup_shown = backup_path.as_ref().map(|b| {
        ws.display_path(b)
            .unwrap_or_else(|_| b.to_string_lossy().into_owned())
    });
    // The original's blob id: names the receipt and the journal's starting point.
    let original_id = git::hash_blob(&original);
    let run_id = args
        .run_id
        .clone()
        .unwrap_or_else(|| format!("fix_{stamp}_{}", &original_id[..8]));
    let message = Receipt::of_plan(
        &plan,
        &opts,
        &run_id,
        args.artifact.as_deref(),
        backup_shown.as_deref(),
    )
    .message();
    report.message = Some(message.clone());

    if args.dry_run {
        report.diff = Some(unified_diff(&shown, text, &new_text));
        report.backup = backup_shown;
        emit(args, &report)?;
        return Ok(true);
    }

    // Write and commit. A committing run first records its intent (see `journal`), so
    // that a rerun can finish or discard the job of a run that was killed; the lock is
    // released before the journal is removed (drop order: `lock`, then `journal`).
    let mut journal = None;
    let mut lock = None;
    let mut new_blob = None;
    if let (Some(r), Some((name, expected))) = (repo.filter(|_| commit), &branch) {
        crate::atomic::remove_stale_temps(&path);
        let blob = r.write_blob(new_text.as_bytes())?;
        new_blob = Some(blob);
        let token = format!(
            "runqlint fix pid {} run {}\n",
            std::process::id(),
            text::escape(&run_id)
        );
        let intent = Intent {
            version: 1,
            path: shown.clone(),
            branch: name.clone(),
            base: expected.to_string(),
            original: original_id.clone(),
            new: blob.to_string(),
            backup: backup_shown.clone(),
            message: message.clone(),
            lock_token: token.clone(),
        };
        journal = Some(Journal::create(r.git_dir(), &intent)?);
        lock = Some(r.lock_index(&token)?);
    }
    if let (Some(r), Some((name, expected))) = (repo, &branch) {
        if r.head()?
            != (Head::Branch {
                name: name.clone(),
                commit: *expected,
            })
        {
            return Err(Error::Refused(format!(
                "{name} moved while fix ran; nothing was written"
            )));
        }
    }
    match std::fs::read(&path) {
        Ok(now_bytes) if now_bytes == original => {}
        _ => {
            return Err(Error::Refused(format!(
                "{shown} changed on disk since it was read; nothing was written (run fix again)"
            )))
        }
    }
    if let Some(b) = &backup_path {
        crate::atomic::write_new(b, &original)?;
        failpoint::hit("after-backup");
    }
    report.backup = backup_shown;
    crate::atomic::replace(&path, &original, new_text.as_bytes())?;
    failpoint::hit("after-rename");
    if let (Some(lock), Some(r), Some((name, expected)), Some(new_blob)) =
        (&lock, repo, &branch, new_blob)
    {
        let id = r.commit_path(
            lock,
            &git::FileCommit {
                branch: name,
                expected: *expected,
                rel: &shown,
                blob: new_blob,
                written: &path,
                message: &message,
            },
        )?;
        report.commit = Some(id.to_string());
    }
    drop(lock);
    drop(journal);
    emit(args, &report)?;
    Ok(true)
}

/// Finishes or discards the job of a committing `fix` that was killed, as its journal
/// describes it (see [`crate::journal`]). The state decides, never a guess:
///
/// - (a) the branch is at the base and the file holds the original bytes: nothing was
///   written but perhaps a backup (kept) and a temporary file (removed); the journal is
///   discarded and this run starts over;
/// - (b) the branch is at the base and the file holds the new bytes: commit them with the
///   recorded message, then update the index entry;
/// - (c) the branch is at the recorded commit (parent = base, only the path changed, the
///   recorded message) and the file holds the new bytes: update the index entry;
/// - anything else: exit 2 naming the journal and the state; nothing is changed.
///
/// `index.lock` is taken over when it holds the journal's token (the killed run's lock).
/// Returns a note for stderr when something was done.
fn recover(repo: &Repo) -> Result<Option<String>> {
    let (journal, intent) = match Journal::find(repo.git_dir())? {
        None => return Ok(None),
        Some(found) => found,
    };
    let shown_journal = journal.path().display().to_string();
    let lock = match repo.adopt_index_lock(&intent.lock_token)? {
        Some(l) => l,
        None => repo.lock_index(&intent.lock_token)?,
    };
    let rel = intent.path.as_str();
    let file = repo
        .workdir()
        .ok_or_else(|| Error::Usage("a bare repository has no working tree".into()))?
        .join(rel);
    crate::atomic::remove_stale_temps(&file);
    let base = git::parse_oid(&intent.base)?;
    let new_blob = git::parse_oid(&intent.new)?;
    let bytes = match std::fs::read(&file) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(crate::error::io(&file, "read", e)),
    };
    let content = bytes.as_deref().map(git::hash_blob);
    let content = content.as_deref();
    let head = repo.head()?;
    let at = match &head {
        Head::Branch { name, commit } if *name == intent.branch => Some(*commit),
        _ => None,
    };
    let file_state = match content {
        None => "missing",
        Some(c) if c == intent.original => "the original bytes",
        Some(c) if c == intent.new => "the repaired bytes",
        Some(_) => "other bytes",
    };
    if at == Some(base) && content == Some(intent.original.as_str()) {
        drop(lock);
        journal.remove()?;
        return Ok(Some(format!(
            "an interrupted fix of {rel} had not replaced it yet; its journal is discarded and the fix starts over"
        )));
    }
    if at == Some(base) && content == Some(intent.new.as_str()) {
        let id = repo.commit_path(
            &lock,
            &git::FileCommit {
                branch: &intent.branch,
                expected: base,
                rel,
                blob: new_blob,
                written: &file,
                message: &intent.message,
            },
        )?;
        drop(lock);
        journal.remove()?;
        return Ok(Some(format!(
            "finished an interrupted fix of {rel}: committed {id}"
        )));
    }
    if let Some(commit) = at {
        if content == Some(intent.new.as_str())
            && repo.is_path_commit(commit, base, rel, new_blob, &intent.message)?
        {
            repo.index_entry_to_head(&lock, rel, &file)?;
            drop(lock);
            journal.remove()?;
            return Ok(Some(format!(
                "finished an interrupted fix of {rel}: updated its index entry to {commit}"
            )));
        }
    }
    let head_state = match (&head, at) {
        (_, Some(c)) if c == base => "at the base commit".to_string(),
        (_, Some(c)) => format!("at {c}, which is not the fix commit"),
        (Head::Branch { name, .. }, None) => format!("on {name}, not {}", intent.branch),
        (Head::Detached, _) => "detached".to_string(),
        (Head::Unborn, _) => "unborn".to_string(),
    };
    drop(lock);
    Err(Error::Refused(format!(
        "{shown_journal} was left by an interrupted runqlint fix of {rel}, and the repository is in a state it cannot resume from ({} is {head_state}, {rel} holds {file_state}); nothing was changed: inspect the journal (base commit, original and new blob ids, backup), then delete it",
        intent.branch.strip_prefix("refs/heads/").unwrap_or(&intent.branch)
    )))
}

fn emit(args: &FixArgs, report: &FixReport) -> Result<()> {
    output::stdout(&output::fix::render(args.format, report))
        .map_err(|e| Error::Io(format!("stdout: {e}")))
}

/// A unified diff of the file, with control characters made harmless for a terminal.
fn unified_diff(shown: &str, old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{shown}"), &format!("b/{shown}"))
        .to_string();
    text::neutralize_source(&text).into_owned()
}
