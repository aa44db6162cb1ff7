//! The one place `fix` changes the repository: journal, `index.lock`, commit object,
//! backup, replace, branch, index entry, in that order, and [`recover`], which finishes or discards the job
//! of a `fix` that was killed in the middle of it.
//!
//! A committing run first writes the new bytes as a blob and records its intent in the
//! journal ([`crate::journal`]), then takes git's `index.lock` (holding the journal's
//! token). It checks the branch has not moved and the file is unchanged on disk, writes the
//! commit object (signed when `commit.gpgsign` is on: a signature git cannot make refuses
//! the fix here, with nothing written), the backup (a temporary file, then an exclusive
//! hard link at the first free name), replaces the file atomically (renaming the repaired
//! bytes' temporary file, written ahead of time when `prepare` wrote the blob; abort if it
//! changed on disk), moves the branch with compare-and-swap and updates only that path's index entry,
//! with the stat data of the bytes it wrote (so a later write shows in `git status`); it
//! releases the lock, then removes the journal. `--no-commit` keeps no journal (an atomic
//! replace is all it needs).
//!
//! Each step asks the [`Writer`], which answers through libgit2 or through the `git`
//! program as the repository allows (see `git::write`): the order, the journal, the lock
//! and the recovery are the same in every repository format.

use std::path::Path;

use crate::atomic;
use crate::error::{Error, Result};
use crate::failpoint;
use crate::git::{FileCommit, Head, ObjectId, Writer};
use crate::journal::{Intent, Journal};
use crate::text;

/// The branch a fix commit goes on, and the commit it pointed at when the file was read.
pub struct Branch {
    /// The ref, `refs/heads/main`.
    pub name: String,
    pub at: ObjectId,
}

/// What to write: everything was checked before (see `prepare`).
pub struct Job<'a> {
    /// The queue file, and as shown (repository-relative).
    pub path: &'a Path,
    pub shown: &'a str,
    /// The bytes read, their blob id, and the bytes to write.
    pub original: &'a [u8],
    pub original_id: &'a str,
    pub new: &'a [u8],
    /// `new`'s blob id when it was already written (`prepare` writes it while the repaired
    /// file is linted); else the transaction writes it.
    pub new_blob: Option<ObjectId>,
    /// The backup to make (a free name), and as shown.
    pub backup: Option<(&'a Path, &'a str)>,
    /// The backup's bytes (`original`), already written to a temporary file in the same
    /// directory while the repaired file was prepared; else the backup is written here.
    pub staged_backup: Option<atomic::Staged>,
    /// `new`, already written to a temporary file beside `path` while the repaired file was
    /// linted; else the replace writes it.
    pub staged_new: Option<atomic::Replacement>,
    /// The commit message (the receipt) and its run id.
    pub message: &'a str,
    pub run_id: &'a str,
}

/// Writes `job`: backup and atomic replace, and with `commit`, the commit of that one path
/// on the branch and its index entry. Returns the commit made.
pub fn run(mut job: Job, commit: Option<(&Writer, &Branch)>) -> Result<Option<ObjectId>> {
    // A committing run first records its intent (see `journal`), so that a rerun can finish
    // or discard the job of a run that was killed; the lock is released before the journal
    // is removed (drop order: `lock`, then `journal`).
    let mut held = None;
    if let Some((r, branch)) = commit {
        atomic::remove_stale_temps(job.path);
        r.remove_stale_temps();
        let blob = match job.new_blob {
            Some(blob) => blob,
            None => r.write_blob(job.new)?,
        };
        let token = format!(
            "runqlint fix pid {} run {}\n",
            std::process::id(),
            text::escape(job.run_id)
        );
        let intent = Intent {
            version: 1,
            path: job.shown.to_string(),
            branch: branch.name.clone(),
            base: branch.at.to_string(),
            original: job.original_id.to_string(),
            new: blob.to_string(),
            backup: job.backup.map(|(_, shown)| shown.to_string()),
            message: job.message.to_string(),
            lock_token: token.clone(),
        };
        let journal = Journal::create(r.git_dir(), &intent)?;
        let lock = r.lock_index(&token)?;
        held = Some((lock, journal, blob));
        if r.head()?
            != (Head::Branch {
                name: branch.name.clone(),
                commit: branch.at,
            })
        {
            return Err(Error::Refused(format!(
                "{} moved while fix ran; nothing was written",
                branch.name
            )));
        }
    }
    match std::fs::read(job.path) {
        Ok(now_bytes) if now_bytes == job.original => {}
        _ => {
            return Err(Error::Refused(format!(
                "{} changed on disk since it was read; nothing was written (run fix again)",
                job.shown
            )))
        }
    }
    // The commit object is made (and signed) before anything is written, so a signature
    // git cannot make refuses the fix with nothing changed.
    let mut prepared = None;
    if let (Some((_, _, blob)), Some((r, branch))) = (&held, commit) {
        let c = FileCommit {
            branch: &branch.name,
            expected: branch.at,
            rel: job.shown,
            blob: *blob,
            message: job.message,
        };
        prepared = Some((r.make_commit(&c)?, c));
    }
    if let Some((b, _)) = job.backup {
        match job.staged_backup.take() {
            Some(staged) => staged.link(b, job.original)?,
            None => atomic::write_new(b, job.original)?,
        }
        failpoint::hit("after-backup");
    }
    let stat = match job.staged_new.take() {
        Some(staged) => atomic::replace_staged(job.path, job.original, staged)?,
        None => atomic::replace(job.path, job.original, job.new)?,
    };
    failpoint::hit("after-rename");
    let mut made = None;
    if let (Some((lock, _, _)), Some((r, _)), Some((id, c))) = (&held, commit, &prepared) {
        r.publish(lock, c, *id, Some(&stat))?;
        made = Some(*id);
    }
    if let Some((lock, journal, _)) = held {
        drop(lock);
        drop(journal);
    }
    Ok(made)
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
pub fn recover(repo: &Writer) -> Result<Option<String>> {
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
    let file = repo.workdir().join(rel);
    atomic::remove_stale_temps(&file);
    repo.remove_stale_temps();
    let base = ObjectId::parse(&intent.base)?;
    let new_blob = ObjectId::parse(&intent.new)?;
    let bytes = match std::fs::read(&file) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(crate::error::io(&file, "read", e)),
    };
    let content = bytes.as_deref().map(|b| repo.hash(b)).transpose()?;
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
        let c = FileCommit {
            branch: &intent.branch,
            expected: base,
            rel,
            blob: new_blob,
            message: &intent.message,
        };
        let id = repo.make_commit(&c)?;
        // The file was checked above, not written by this run: no stat data, so git
        // compares its content.
        repo.publish(&lock, &c, id, None)?;
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
            repo.index_entry_to_head(&lock, rel)?;
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
