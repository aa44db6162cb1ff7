//! Writing a queue file safely: an exclusive backup, and an atomic replace that refuses to
//! clobber a concurrent change.
//!
//! Both write a temporary file beside the target first, named `.<name>.runqlint-tmp.<pid>.*`
//! (`<name>` the queue file's name, `<pid>` the writer's process id), so a write that is
//! killed half-way leaves only such a file, never a half-written queue or backup.
//! [`remove_stale_temps`] deletes the ones whose writer is no longer running.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{io, Error, Result};
use crate::failpoint;

/// `<dir>/<stem>.backup.<stamp>.json` for `<dir>/<stem>.json`.
pub fn backup_path(path: &Path, stamp: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "run_queue".into(), |s| s.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}.backup.{stamp}.json"))
}

/// The first free name of `<stem>.backup.<stamp>.json`, `<stem>.backup.<stamp>-2.json`,
/// `-3`, …: nothing there, not even a (dangling) symbolic link. Two runs in the same second
/// get two names. [`write_new`] still creates it exclusively.
pub fn free_backup_path(path: &Path, stamp: &str) -> Result<PathBuf> {
    for n in 1..=100 {
        let candidate = if n == 1 {
            backup_path(path, stamp)
        } else {
            backup_path(path, &format!("{stamp}-{n}"))
        };
        match fs::symlink_metadata(&candidate) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(candidate),
            Err(e) => return Err(io(&candidate, "inspect", e)),
            Ok(_) => {}
        }
    }
    Err(Error::Refused(format!(
        "{}: 100 backups with this second's stamp already exist; nothing was written (use --no-backup, or clean them up)",
        backup_path(path, stamp).display()
    )))
}

fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temp_prefix(target: &Path) -> String {
    let name = target.file_name().map_or_else(
        || "run_queue.json".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    format!(".{name}.runqlint-tmp.")
}

/// A new temporary file beside `target` (`.<name>.runqlint-tmp.<pid>.<random>`).
fn temp_beside(target: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&format!("{}{}.", temp_prefix(target), std::process::id()))
        .tempfile_in(dir_of(target))
}

/// The error without the temporary file's path that tempfile appends (it means nothing to
/// the user; the message names the file being written).
fn plain(e: std::io::Error) -> String {
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((head, _)) => head.to_string(),
        None => text,
    }
}

/// Removes the temporary files a killed write left in `path`'s directory (any
/// `.<name>.runqlint-tmp.<pid>.*` whose writer process no longer exists). Best effort: a
/// file it cannot judge is left alone.
pub fn remove_stale_temps(path: &Path) {
    let Ok(entries) = fs::read_dir(dir_of(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .filter(|n| n.starts_with('.'))
            .and_then(|n| n.split_once(".runqlint-tmp.").map(|(_, rest)| rest))
        else {
            continue;
        };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !process_exists(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

/// Writes `bytes` to a new file at `path`, complete or not at all: a temporary file is
/// written and fsynced, then hard-linked to `path`, which fails if anything (a file, a
/// symbolic link, dangling or not) is there: it is never followed or overwritten. On a
/// file system without hard links the file is created with O_EXCL instead.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    stage_new(path, bytes)?.link(path, bytes)
}

/// The bytes of a new file, written and fsynced to a temporary file in `beside`'s
/// directory ahead of time (named like `beside`'s temporary files, so a killed run's copy
/// is removed by the next run); [`Staged::link`] gives it its name. Dropped unlinked, the
/// temporary file is removed.
pub struct Staged(tempfile::NamedTempFile);

/// Stages `bytes` beside `beside` (see [`Staged`]).
pub fn stage_new(beside: &Path, bytes: &[u8]) -> Result<Staged> {
    let failed = |e: std::io::Error| {
        Error::Io(format!(
            "{}: cannot write the backup: {}; nothing was written",
            beside.display(),
            plain(e)
        ))
    };
    let mut tmp = temp_beside(beside).map_err(failed)?;
    tmp.as_file_mut()
        .write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(failed)?;
    Ok(Staged(tmp))
}

impl Staged {
    /// Hard-links the staged file to `path` (in the same directory), which fails if
    /// anything is there (see [`write_new`]); `bytes` are the staged bytes, written afresh
    /// with O_EXCL on a file system without hard links.
    pub fn link(self, path: &Path, bytes: &[u8]) -> Result<()> {
        let exists = || {
            Error::Refused(format!(
                "{} already exists; a backup is never overwritten or followed, so nothing was written (run fix again, or use --no-backup)",
                path.display()
            ))
        };
        let tmp = self.0;
        match fs::hard_link(tmp.path(), path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                drop(tmp);
                let mut f = match OpenOptions::new().write(true).create_new(true).open(path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists()),
                    Err(e) => return Err(io(path, "create the backup", e)),
                };
                return f
                    .write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| io(path, "write the backup", e));
            }
            Err(e) => {
                return Err(Error::Io(format!(
                    "{}: cannot write the backup: {}; nothing was written",
                    path.display(),
                    plain(e)
                )))
            }
        }
        drop(tmp);
        sync_dir(&dir_of(path));
        Ok(())
    }
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory (same
/// permissions), fsync, then a last check that the file still holds exactly `original`
/// (else nothing is written), rename over it, fsync the directory. On any error the
/// temporary file is removed and `path` is untouched. POSIX has no compare-and-rename: a
/// writer landing between the last check and the rename itself (microseconds) is not seen.
///
/// Returns the stat data of the bytes written, for git's index entry: the file's after the
/// rename, or, if it no longer matches what was written (someone wrote in between), the
/// temporary file's before the rename, which then differs from the file on disk so that git
/// looks at its content.
pub fn replace(path: &Path, original: &[u8], bytes: &[u8]) -> Result<fs::Metadata> {
    let perms = permissions(path)?;
    let mut tmp = temp_beside(path).map_err(|e| repair_failed(path, e))?;
    let (first, second) = bytes.split_at(bytes.len() / 2);
    tmp.as_file_mut()
        .write_all(first)
        .map_err(|e| repair_failed(path, e))?;
    failpoint::hit("mid-write");
    tmp.as_file_mut()
        .write_all(second)
        .and_then(|()| tmp.as_file().set_permissions(perms))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| repair_failed(path, e))?;
    rename_over(path, original, tmp)
}

/// The repaired bytes of a file, written and fsynced to a temporary file beside it (with
/// the file's permissions) ahead of time; [`replace_staged`] renames it over the file.
/// Dropped unused, the temporary file is removed.
pub struct Replacement {
    tmp: tempfile::NamedTempFile,
    perms: fs::Permissions,
}

/// Stages `bytes` to replace `path` later (see [`Replacement`]).
pub fn stage_replacement(path: &Path, bytes: &[u8]) -> Result<Replacement> {
    let perms = permissions(path)?;
    let mut tmp = temp_beside(path).map_err(|e| repair_failed(path, e))?;
    tmp.as_file_mut()
        .write_all(bytes)
        .and_then(|()| tmp.as_file().set_permissions(perms.clone()))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| repair_failed(path, e))?;
    Ok(Replacement { tmp, perms })
}

/// [`replace`] with the bytes `staged` holds: the same failpoints, last check, rename and
/// directory fsync, at the point the caller calls it. Permissions changed since the bytes
/// were staged are carried over.
pub fn replace_staged(path: &Path, original: &[u8], staged: Replacement) -> Result<fs::Metadata> {
    let perms = permissions(path)?;
    failpoint::hit("mid-write");
    let Replacement { tmp, perms: was } = staged;
    if perms != was {
        tmp.as_file()
            .set_permissions(perms)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| repair_failed(path, e))?;
    }
    rename_over(path, original, tmp)
}

fn permissions(path: &Path) -> Result<fs::Permissions> {
    Ok(fs::metadata(path)
        .map_err(|e| io(path, "stat", e))?
        .permissions())
}

fn repair_failed(path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!(
        "{}: cannot write the repaired file: {}; the original is untouched and nothing was committed",
        path.display(),
        plain(e)
    ))
}

/// The end of [`replace`]: `tmp` is complete and fsynced; the last check, the rename, the
/// directory fsync.
fn rename_over(path: &Path, original: &[u8], tmp: tempfile::NamedTempFile) -> Result<fs::Metadata> {
    failpoint::hit("before-rename");
    let now = fs::read(path).map_err(|e| io(path, "re-read", e))?;
    if now != original {
        return Err(Error::Refused(format!(
            "{} changed on disk since it was read; it was left as it is and nothing was committed (run fix again)",
            path.display()
        )));
    }
    let written = tmp.as_file().metadata().map_err(|e| io(path, "stat", e))?;
    let file = tmp
        .persist(path)
        .map_err(|e| io(path, "replace", e.error))?;
    sync_dir(&dir_of(path));
    Ok(match file.metadata() {
        Ok(now) if same_write(&written, &now) => now,
        _ => written,
    })
}

/// Whether `now` (the file after the rename) still holds the write `before` describes.
#[cfg(unix)]
fn same_write(before: &fs::Metadata, now: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    before.ino() == now.ino()
        && before.len() == now.len()
        && (before.mtime(), before.mtime_nsec()) == (now.mtime(), now.mtime_nsec())
}

#[cfg(not(unix))]
fn same_write(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    false
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temps(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".runqlint-tmp.")
            })
            .count()
    }

    #[test]
    fn a_staged_replacement_takes_the_file_s_mode_at_the_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.json");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let staged = stage_replacement(&path, b"new").unwrap();
        assert_eq!(temps(dir.path()), 1);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        replace_staged(&path, b"old", staged).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(temps(dir.path()), 0);
    }

    #[test]
    fn a_staged_replacement_of_a_changed_file_is_refused_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.json");
        fs::write(&path, "old").unwrap();
        let staged = stage_replacement(&path, b"new").unwrap();
        fs::write(&path, "theirs").unwrap();
        let err = replace_staged(&path, b"old", staged).unwrap_err();
        assert!(matches!(err, Error::Refused(_)), "{err:?}");
        assert_eq!(fs::read(&path).unwrap(), b"theirs");
        assert_eq!(temps(dir.path()), 0);
    }
}
