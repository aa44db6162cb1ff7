//! Writing a queue file safely: an exclusive backup, and an atomic replace that refuses to
//! clobber a concurrent change.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{io, Error, Result};

/// `<dir>/<stem>.backup.<stamp>.json` for `<dir>/<stem>.json`.
pub fn backup_path(path: &Path, stamp: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "run_queue".into(), |s| s.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}.backup.{stamp}.json"))
}

/// Writes `bytes` to a new file at `path` (O_EXCL: an existing file or symlink there is
/// never followed or overwritten), and fsyncs it.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Refused(format!(
                "{} already exists; a backup is never overwritten (try again in a second, or use --no-backup)",
                path.display()
            )))
        }
        Err(e) => return Err(io(path, "create the backup", e)),
    };
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| io(path, "write the backup", e))
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory (same
/// permissions), fsync, then a last check that the file still holds exactly `original`
/// (else nothing is written), rename over it, fsync the directory.
pub fn replace(path: &Path, original: &[u8], bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let perms = fs::metadata(path)
        .map_err(|e| io(path, "stat", e))?
        .permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".runqlint-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| io(&dir, "create a temporary file in", e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().set_permissions(perms))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io(tmp.path(), "write", e))?;
    let now = fs::read(path).map_err(|e| io(path, "re-read", e))?;
    if now != original {
        return Err(Error::Refused(format!(
            "{} changed on disk since it was read; nothing was written (run fix again)",
            path.display()
        )));
    }
    tmp.persist(path)
        .map_err(|e| io(path, "replace", e.error))?;
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
