//! `runqlint fix`: repair stale running items and commit the file with a receipt.
//!
//! Order of work, so that a refusal leaves everything as it was:
//!
//! 1. [`settings`]: flags and config resolved once; `--run-id`/`--artifact` must be one
//!    line of safe text.
//! 2. Guards (`guard`): a repository is needed unless `--no-commit`/`--dry-run`; a
//!    detached (or unborn) HEAD and a missing git identity (`git var`, as `git commit`
//!    takes it) are refused unless `--no-commit`, and so is a merge, cherry-pick, revert,
//!    rebase, `git am` or bisect in progress; the queue file must be clean against HEAD
//!    (no `dirty`, `staged`, `untracked` state) unless `--allow-dirty`, and a committed
//!    one tracked by git whatever the flags. `--dry-run` skips the dirty and HEAD guards
//!    (it writes nothing). Every repository question goes to one [`Writer`]: libgit2 where
//!    it opens the repository and reads its index, else the `git` program (SHA-256
//!    objects, reftable refs, a split index), with the same steps and guarantees.
//! 3. Read the working-tree file once and scan it (while HEAD's version is read); survey
//!    its running items ([`crate::repair::survey`]; with `--session`, that session's
//!    items whatever their age, [`crate::repair::survey_session`]); ask the
//!    liveness provider once about every stale item ([`crate::liveness`]; one that cannot
//!    run at all is exit 2 here, before anything is written).
//! 4. [`prepare`], pure: plan ([`crate::repair::plan_items`] on a file the scanner read,
//!    [`crate::repair::plan`] on one it declined; nothing to change: exit 0, nothing
//!    written), splice the edits and require exactly the planned value (item by item,
//!    [`crate::edit::apply_items`], or by re-parsing a declined file whole); lint the
//!    result against HEAD with the configured levels (`stale-running` counts as a warning
//!    here: items whose liveness is unknown are deliberately left running); an
//!    error-severity finding the original file did not already have refuses the fix.
//!    Errors already committed (a running item with no start time) are left for triage.
//!    Then the receipt ([`crate::receipt`]).
//! 5. `--dry-run`: print the diff and the commit message, stop. A committing run refuses
//!    bytes git would store otherwise (`git hash-object --path`: filters, line endings),
//!    and a file git reports clean although it differs from HEAD (an `assume-unchanged` or
//!    `skip-worktree` flag, named, else a filter).
//! 6. [`transaction`]: journal, `index.lock`, backup, atomic replace, the one-path commit,
//!    the index entry.
//!
//! 0. Before all this, a committing run finishes or discards the job of a `fix` that was
//!    killed, as its journal describes it ([`transaction::recover`]). So a `fix` killed at
//!    any point (`RUNQLINT_FAILPOINT`, see [`crate::failpoint`]) leaves the queue file with
//!    exactly its old or its new bytes, and a plain rerun completes the job. `--no-commit`
//!    and `--dry-run` keep no journal and ignore one (an atomic replace is all they need).
//!
//! `--allow-dirty` commits the repaired working-tree file, uncommitted edits included.
//! The backup's timestamp is the wall clock (when the backup was taken), not `--now`.

pub mod prepare;
pub mod settings;
pub mod transaction;

use crate::cli::FixArgs;
use crate::error::{Error, Result};
use crate::git::{self, Blob, Head, Writer};
use crate::liveness;
use crate::output::{self, fix::FixReport};
use crate::repair::{Liveness, Survey};
use crate::text;

use super::read_worktree;
use prepare::Source;
use settings::Settings;
use transaction::{Branch, Job};

pub fn run(args: &FixArgs) -> Result<()> {
    let (ws, s) = Settings::resolve(args)?;
    let shown = s.shown.as_str();
    // Each write goes through libgit2 where it can open the repository and read its index,
    // else through the `git` program (SHA-256 objects, reftable refs, a split index).
    let writer = match (&ws.repo, &ws.git_only) {
        (Some(r), _) => Some(Writer::lib(r)?),
        (None, Some((git, _))) => Some(Writer::cli(git)?),
        (None, None) => None,
    };
    let guarded = guard(writer.as_ref(), &s)?;

    // Read, survey, ask.
    let original = read_worktree(&s.path, s.max_file_size)?
        .ok_or_else(|| Error::Io(format!("{shown}: no such file in the working tree")))?;
    let source = Source::new(original, shown)?;
    // The file is scanned while HEAD's version (which the repaired text is linted
    // against) and its blob id are read.
    let (read, head) = std::thread::scope(|scope| {
        let read = scope.spawn(|| source.read(shown));
        let head = match &writer {
            Some(w) => w.stored_blob_and_id_at("HEAD", shown, s.max_file_size),
            None => Ok((Blob::Missing, None)),
        };
        (read.join(), head)
    });
    let read = read.map_err(|_| Error::Bug(format!("{shown}: reading the file panicked")))??;
    let (base, base_id) = match head? {
        (Blob::Found(b), id) => (Some(b), id),
        _ => (None, None),
    };
    // git reports the file clean, yet its bytes differ from HEAD's blob: an index flag
    // hides the edits from git (assume-unchanged, skip-worktree), or a clean/smudge filter
    // (core.autocrlf, an `eol` attribute) is in play, and a byte-exact commit would rewrite
    // every line.
    let base_is_original = base.as_deref() == Some(source.bytes());
    if let (true, true, true, false, Some(w)) = (
        s.commits(),
        guarded.clean,
        base.is_some(),
        base_is_original,
        &writer,
    ) {
        let flags = w.hiding_flags(shown)?;
        if !flags.is_empty() {
            return Err(hidden(shown, &flags));
        }
        return Err(filtered(shown));
    }
    read.check_shape(shown)?;
    let survey = read.survey(&s);
    let liveness = ask(&survey, &s)?;

    // Plan, splice, verify: pure.
    // The original's blob id: names the receipt and the journal's starting point. Bytes
    // equal to HEAD's blob have its id; others are hashed (below, only when needed).
    let head_id = base_id.filter(|_| base_is_original);
    let base = base.map(|bytes| prepare::Base {
        bytes,
        is_original: base_is_original,
    });
    // A committing run writes the repaired text's blob while the text is linted, and
    // meanwhile, on a thread of its own, the repaired bytes to a temporary file beside the
    // file (renamed over it by the transaction; removed if it does not).
    let staged_new = std::cell::RefCell::new(None);
    let write_blob = |bytes: &[u8]| match &writer {
        Some(r) => std::thread::scope(|scope| {
            let staged = scope.spawn(|| crate::atomic::stage_replacement(&s.path, bytes));
            let blob = r.write_blob(bytes);
            *staged_new.borrow_mut() = Some(staged.join());
            blob
        }),
        None => Err(Error::Bug(format!("{shown}: no repository to write to"))),
    };
    let commits = s.commits() && writer.is_some() && guarded.branch.is_some();
    // A run that will back the file up writes the backup's bytes to a temporary file
    // meanwhile (named when the transaction takes the backup; removed if it does not).
    let stage = s.writes() && s.backup && !survey.stale.is_empty();
    let (prepared, staged) = std::thread::scope(|scope| {
        let staged =
            stage.then(|| scope.spawn(|| crate::atomic::stage_new(&s.path, source.bytes())));
        let prepared = prepare::prepare(
            &source,
            &read,
            base,
            &survey,
            &liveness,
            &s,
            commits.then_some(&write_blob as prepare::WriteBlob),
        );
        (prepared, staged.map(|h| h.join()))
    });
    let prepared = prepared?;
    let staged_backup = match staged {
        Some(Ok(staged)) => Some(staged?),
        Some(Err(_)) => return Err(Error::Bug(format!("{shown}: writing the backup panicked"))),
        None => None,
    };
    let staged_new = match staged_new.into_inner() {
        Some(Ok(staged)) => Some(staged?),
        Some(Err(_)) => {
            return Err(Error::Bug(format!(
                "{shown}: writing the repaired file panicked"
            )))
        }
        None => None,
    };
    let mut report = FixReport {
        path: s.shown.clone(),
        survey: &survey,
        plan: &prepared.plan,
        backup: None,
        commit: None,
        dry_run: !s.writes(),
        diff: None,
        message: None,
    };
    let Some(new_text) = &prepared.new_text else {
        emit(&s, &report)?;
        return Ok(());
    };
    // git would store other bytes than these (a clean filter, an `eol` attribute,
    // core.autocrlf): a byte-exact commit would disagree with git, whatever --allow-dirty.
    // Only asked of git (which hashes the whole file) when a conversion may apply.
    if let (true, Some(w)) = (s.commits(), &writer) {
        if w.may_convert(shown, new_text.as_bytes())?
            && w.hash_as_git_stores(shown, new_text.as_bytes())? != w.hash(new_text.as_bytes())?
        {
            return Err(filtered(shown));
        }
    }

    // The receipt.
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let backup_path = match s.backup {
        true => Some(crate::atomic::free_backup_path(&s.path, &stamp)?),
        false => None,
    };
    let backup_shown = backup_path.as_ref().map(|b| {
        ws.display_path(b)
            .unwrap_or_else(|_| b.to_string_lossy().into_owned())
    });
    let original_id = match (head_id, &writer) {
        (Some(id), _) => id.to_string(),
        (None, Some(w)) => w.hash(source.bytes())?,
        (None, None) => git::hash_blob(source.bytes()),
    };
    let receipt = prepare::receipt(
        &prepared.plan,
        &s,
        &stamp,
        &original_id,
        backup_shown.as_deref(),
    );
    let message = receipt.message();
    report.message = Some(message.clone());

    if !s.writes() {
        report.diff = Some(unified_diff(shown, &source.text, new_text));
        report.backup = backup_shown;
        emit(&s, &report)?;
        return Ok(());
    }

    // Write and commit.
    let job = Job {
        path: &s.path,
        shown,
        original: source.bytes(),
        original_id: &original_id,
        new: new_text.as_bytes(),
        new_blob: prepared.blob,
        backup: backup_path.as_deref().zip(backup_shown.as_deref()),
        staged_backup,
        staged_new,
        message: &message,
        run_id: &receipt.run_id,
    };
    let commit = writer.as_ref().zip(guarded.branch.as_ref());
    let made = transaction::run(job, commit)?;
    report.backup = backup_shown.clone();
    report.commit = made.map(|id| id.to_string());
    emit(&s, &report)?;
    Ok(())
}

fn uncommitted(shown: &str, state: &[&str]) -> Error {
    let list: Vec<String> = state.iter().map(|st| format!("{shown} ({st})")).collect();
    Error::Refused(format!(
        "uncommitted changes to the queue file: {}; commit or stash them first, or use --allow-dirty",
        list.join(", ")
    ))
}

/// git's index flags hide the file's local edits from `git status`: named, with the way
/// to clear each.
fn hidden(shown: &str, flags: &[&str]) -> Error {
    let clear: Vec<String> = flags
        .iter()
        .map(|f| format!("`git update-index --no-{f} -- {shown}`"))
        .collect();
    Error::Refused(format!(
        "{shown} differs from HEAD but is marked {} in git's index, so git does not see its local edits (and would not commit them); clear the flag with {}, then commit or stash the edits (or use --allow-dirty)",
        flags.join(" and "),
        clear.join(" and ")
    ))
}

fn filtered(shown: &str) -> Error {
    Error::Refused(format!(
        "{shown} is converted by git filters (core.autocrlf or .gitattributes eol/filter); runqlint fix commits exact bytes, so repair it with --no-commit and commit it with git"
    ))
}

/// What the guards established.
struct Guarded {
    /// The branch a committing run commits on.
    branch: Option<Branch>,
    /// git reported the queue file clean against HEAD.
    clean: bool,
}

/// Refuses, before anything is read or written, what `fix` must not do here (see the
/// module documentation, step 2); a committing run first recovers a killed run's job.
fn guard(repo: Option<&Writer>, s: &Settings) -> Result<Guarded> {
    let mut guarded = Guarded {
        branch: None,
        clean: false,
    };
    let Some(repo) = repo else {
        if s.commits() {
            return Err(Error::Usage(format!(
                "{} is not in a git repository; use --no-commit to repair it without a commit",
                s.path.display()
            )));
        }
        return Ok(guarded);
    };
    if s.commits() {
        // git refuses `git commit <path>` in these states; so does fix (before it resumes
        // anything).
        if let Some(op) = repo.in_progress()? {
            return Err(Error::Refused(format!(
                "{} is in progress, and git makes no commit of one file then; finish or abort it first ({}), or use --no-commit",
                op.what, op.resolve
            )));
        }
        if let Some(note) = transaction::recover(repo)? {
            output::stderr(&format!("runqlint: {note}"));
        }
        match repo.head()? {
            Head::Branch { name, commit } => {
                guarded.branch = Some(Branch { name, at: commit })
            }
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
        repo.identity()?;
    }
    let shown = &s.shown;
    if s.commits() || (s.writes() && !s.allow_dirty) {
        let state = repo.path_state(shown)?;
        // git commits only the files it knows (`git commit <path>` refuses any other), and
        // --allow-dirty does not change that.
        if let (true, Some(st)) = (
            s.commits(),
            state.iter().find(|st| st.starts_with("untracked")),
        ) {
            return Err(Error::Refused(format!(
                "{shown} is not tracked by git ({st}), so git would not commit it; `git add -f` and commit it first, or use --no-commit"
            )));
        }
        if s.allow_dirty {
            return Ok(guarded);
        }
        if !state.is_empty() {
            return Err(uncommitted(shown, &state));
        }
        guarded.clean = true;
    }
    Ok(guarded)
}

/// Asks whether each stale item's child session is alive, in survey order: one provider,
/// asked once for every item ([`liveness::ask_all`]).
///
/// With `--ended`, an answer that recorded no end (still running, no record, cannot tell,
/// or a provider that cannot run at all) becomes the event's end, vetted the same way.
fn ask(survey: &Survey, s: &Settings) -> Result<Vec<Liveness>> {
    let _progress = crate::output::progress::Progress::spinner(&format!(
        "asking whether {} stale item(s) are alive",
        survey.stale.len()
    ));
    let asked = liveness::provider(&s.alive)
        .and_then(|p| liveness::ask_all(p.as_ref(), survey, s.repair.now_ms));
    let Some(event) = &s.ended else {
        return asked;
    };
    let asked = asked.unwrap_or_else(|e| {
        let why = Liveness::Unknown(format!("cannot tell: {e}"));
        vec![why; survey.stale.len()]
    });
    Ok(asked
        .into_iter()
        .zip(&survey.stale)
        .map(|(a, c)| crate::repair::vet(c, event.answer(a), s.repair.now_ms))
        .collect())
}

fn emit(s: &Settings, report: &FixReport) -> Result<()> {
    output::stdout(&output::fix::render(s.format, report))
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
