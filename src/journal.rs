//! The intent journal of a committing `fix`: `$GIT_DIR/runqlint-fix.json`.
//!
//! Before `fix` takes git's `index.lock` and writes anything, it writes the new bytes into
//! the object database and records its intent here: the path, the branch, the base commit,
//! the original and new blob ids, the backup, the commit message, and the token it writes
//! into `index.lock` (so a later run can tell that lock is its own). The journal is written
//! to a temporary file, fsynced, locked with `flock`, then hard-linked into place: it is
//! never seen half-written, and it is locked for as long as its writer lives (the kernel
//! drops the lock when the process dies, SIGKILL included). The writer removes it when done
//! or when it gives up with an error (after releasing `index.lock`).
//!
//! A journal that is still there and unlocked belongs to a `fix` that was killed; the next
//! committing `fix` resumes or discards its job before doing anything else (see
//! `commands::fix::transaction`). A locked one means another `fix` is running.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{io, Error, Result};

pub const FILE_NAME: &str = "runqlint-fix.json";

/// What a committing `fix` is about to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Intent {
    pub version: u32,
    /// The queue file, relative to the working tree's root, `/`-separated.
    pub path: String,
    /// The branch ref the commit goes on (`refs/heads/main`).
    pub branch: String,
    /// The commit the branch pointed at, the fix commit's parent.
    pub base: String,
    /// Blob id of the file's bytes before the fix.
    pub original: String,
    /// Blob id of the repaired bytes (already in the object database).
    pub new: String,
    /// The backup file, if one is made.
    pub backup: Option<String>,
    pub message: String,
    /// The content `fix` writes into `index.lock`.
    pub lock_token: String,
}

/// A journal file this process holds the lock of.
pub struct Journal {
    path: PathBuf,
    _file: File,
    /// Remove the file when dropped (the writer's journal); a recovered one is removed only
    /// by [`Journal::remove`].
    remove_on_drop: bool,
}

pub fn path_in(git_dir: &Path) -> PathBuf {
    git_dir.join(FILE_NAME)
}

impl Journal {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `intent` as the journal in `git_dir`; refuses if there already is one.
    pub fn create(git_dir: &Path, intent: &Intent) -> Result<Journal> {
        let path = path_in(git_dir);
        let text = serde_json::to_string_pretty(intent)
            .map_err(|e| Error::Bug(format!("{}: cannot encode: {e}", path.display())))?;
        let mut tmp = tempfile::Builder::new()
            .prefix("runqlint-fix.")
            .suffix(".tmp")
            .tempfile_in(git_dir)
            .map_err(|e| io(git_dir, "create a temporary file in", e))?;
        tmp.write_all(text.as_bytes())
            .and_then(|()| tmp.write_all(b"\n"))
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io(&path, "write", e))?;
        if !try_lock(tmp.as_file()) {
            return Err(Error::Io(format!("{}: cannot lock", tmp.path().display())));
        }
        match fs::hard_link(tmp.path(), &path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Refused(format!(
                    "{} exists: another runqlint fix is running, or one was interrupted; nothing was written",
                    path.display()
                )))
            }
            Err(e) => return Err(io(&path, "create", e)),
        }
        // The lock is on the temporary file's open description, which stays open as the
        // journal's: it was never visible unlocked. The temporary name goes away.
        let (file, tmp_path) = tmp.into_parts();
        drop(tmp_path);
        Ok(Journal {
            path,
            _file: file,
            remove_on_drop: true,
        })
    }

    /// The journal in `git_dir`, if a `fix` that is no longer running left one (now locked
    /// by this process). A journal locked by a running `fix` is a refusal; an unreadable one
    /// is a refusal naming it.
    pub fn find(git_dir: &Path) -> Result<Option<(Journal, Intent)>> {
        let path = path_in(git_dir);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, "open", e)),
        };
        if !try_lock(&file) {
            return Err(Error::Refused(format!(
                "{} is locked: another runqlint fix is running in this repository; nothing was written",
                path.display()
            )));
        }
        let bytes = fs::read(&path).map_err(|e| io(&path, "read", e))?;
        let intent: Intent = serde_json::from_slice(&bytes)
            .ok()
            .filter(|i: &Intent| i.version == 1)
            .ok_or_else(|| {
                Error::Refused(format!(
                    "{} was left by an interrupted runqlint fix and cannot be read; nothing was changed (inspect it, then delete it)",
                    path.display()
                ))
            })?;
        Ok(Some((
            Journal {
                path,
                _file: file,
                remove_on_drop: false,
            },
            intent,
        )))
    }

    /// Deletes the journal: its job is done or was discarded.
    pub fn remove(mut self) -> Result<()> {
        self.remove_on_drop = false;
        fs::remove_file(&self.path).map_err(|e| io(&self.path, "remove", e))
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        if self.remove_on_drop {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> bool {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a file descriptor this function borrows; no memory is involved.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(not(unix))]
fn try_lock(_file: &File) -> bool {
    true
}
