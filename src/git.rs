//! The only door to git. Every git2 call in runqlint is in this module.
//!
//! Inside a hook git exports `GIT_DIR` and, for `git commit -a` or `git commit PATH`,
//! `GIT_INDEX_FILE` pointing at a temporary index: both are honoured, so `--staged` reads
//! exactly what the commit will record.

use std::path::{Component, Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use crate::error::{Error, Result};

/// A repository with a working tree (or a bare one, which has none).
pub struct Repo {
    repo: Repository,
}

/// A blob read from git, or the reason there is none.
pub enum Blob {
    Found(Vec<u8>),
    /// The path does not exist in that version.
    Missing,
    /// There is no such version (a repository with no commits has no HEAD).
    NoVersion,
}

impl Repo {
    /// Finds the repository containing `start` (a file or directory), honouring `GIT_DIR`.
    /// `Ok(None)` when `start` is not inside a repository.
    pub fn discover(start: &Path) -> Result<Option<Repo>> {
        if std::env::var_os("GIT_DIR").is_some() {
            return Repository::open_from_env()
                .map(|repo| Some(Repo { repo }))
                .map_err(Error::from);
        }
        let dir = if start.is_dir() {
            start.to_path_buf()
        } else {
            parent_dir(start)
        };
        match Repository::discover(&dir) {
            Ok(repo) => Ok(Some(Repo { repo })),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    pub fn is_bare(&self) -> bool {
        self.repo.is_bare()
    }

    /// `path` (absolute or relative to the current directory) as a repository-relative path
    /// with `/` separators.
    pub fn relative(&self, path: &Path) -> Result<String> {
        let workdir = self
            .workdir()
            .ok_or_else(|| Error::Usage("a bare repository has no working tree".into()))?;
        let workdir =
            std::fs::canonicalize(workdir).map_err(|e| crate::error::io(workdir, "resolve", e))?;
        let abs = absolute(path)?;
        let rel = abs.strip_prefix(&workdir).map_err(|_| {
            Error::Usage(format!(
                "{} is outside the repository at {}",
                path.display(),
                workdir.display()
            ))
        })?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.is_empty() {
            return Err(Error::Usage(format!(
                "{} is the repository itself, not a file",
                path.display()
            )));
        }
        Ok(parts.join("/"))
    }

    /// The commit `HEAD` points at, if any.
    pub fn head_commit(&self) -> Option<Oid> {
        self.repo.head().ok()?.peel_to_commit().ok().map(|c| c.id())
    }

    /// The file at `rel` in revision `rev` (`HEAD`, a branch, a SHA, a tag).
    pub fn blob_at(&self, rev: &str, rel: &str, limit: u64) -> Result<Blob> {
        let object = match self.repo.revparse_single(rev) {
            Ok(o) => o,
            Err(e)
                if rev == "HEAD"
                    && matches!(
                        e.code(),
                        git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                    ) =>
            {
                return Ok(Blob::NoVersion)
            }
            Err(e) => return Err(self.missing_revision(rev, &e)),
        };
        let commit = object
            .peel_to_commit()
            .map_err(|_| Error::Git(format!("`{rev}` is not a commit")))?;
        let tree = commit.tree()?;
        let entry = match tree.get_path(Path::new(rel)) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(Blob::Missing),
            Err(e) => return Err(e.into()),
        };
        match entry.kind() {
            Some(ObjectType::Blob) if entry.filemode() == 0o120000 => Err(Error::Usage(format!(
                "{rel} is a symbolic link in {rev}; runqlint checks regular files only"
            ))),
            Some(ObjectType::Blob) => self.read_blob(entry.id(), rel, limit).map(Blob::Found),
            Some(ObjectType::Commit) => Err(Error::Usage(format!(
                "{rel} is a submodule in {rev}, not a file"
            ))),
            _ => Err(Error::Usage(format!(
                "{rel} is a directory in {rev}, not a file"
            ))),
        }
    }

    /// The staged version of `rel`: the index entry, not the working tree.
    pub fn blob_in_index(&self, rel: &str, limit: u64) -> Result<Blob> {
        let index = match std::env::var_os("GIT_INDEX_FILE") {
            Some(file) => {
                let file = PathBuf::from(file);
                // Relative paths are relative to the working directory git ran the hook in.
                git2::Index::open(&file)?
            }
            None => self.repo.index()?,
        };
        let conflicted: Vec<i32> = (1..=3)
            .filter(|&stage| index.get_path(Path::new(rel), stage).is_some())
            .collect();
        if !conflicted.is_empty() {
            return Err(Error::Git(format!(
                "{rel} has unresolved merge conflicts in the index; resolve them and `git add` the result"
            )));
        }
        match index.get_path(Path::new(rel), 0) {
            None => Ok(Blob::Missing),
            Some(entry) if entry.mode == 0o120000 => Err(Error::Usage(format!(
                "{rel} is staged as a symbolic link; runqlint checks regular files only"
            ))),
            Some(entry) if entry.mode == 0o160000 => {
                Err(Error::Usage(format!("{rel} is a submodule, not a file")))
            }
            Some(entry) => self.read_blob(entry.id, rel, limit).map(Blob::Found),
        }
    }

    fn read_blob(&self, id: Oid, rel: &str, limit: u64) -> Result<Vec<u8>> {
        let odb = self.repo.odb()?;
        let (size, _) = odb.read_header(id)?;
        if size as u64 > limit {
            return Err(Error::Io(format!(
                "{rel}: {size} bytes is over the limit of {limit} (`max-file-size` in runqlint.toml)"
            )));
        }
        Ok(self.repo.find_blob(id)?.content().to_vec())
    }

    /// The error for a revision that cannot be found, with the command that would fetch it.
    fn missing_revision(&self, rev: &str, e: &git2::Error) -> Error {
        let shallow = if self.repo.is_shallow() {
            " (this clone is shallow)"
        } else {
            ""
        };
        let (remote, what) = match rev.split_once('/') {
            Some((remote, branch)) if self.repo.find_remote(remote).is_ok() => {
                (remote.to_string(), branch.to_string())
            }
            _ => ("origin".to_string(), rev.to_string()),
        };
        let fetch = if rev.len() >= 7 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
            format!("git fetch --no-tags --depth=1 {remote} {what}")
        } else {
            format!("git fetch --no-tags {remote} {what}:refs/remotes/{remote}/{what}")
        };
        let _ = e;
        Error::Git(format!(
            "base revision `{rev}` is not in this clone{shallow}; fetch it with: {fetch}"
        ))
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    let abs = absolute(path).unwrap_or_else(|_| path.to_path_buf());
    abs.parent().map(Path::to_path_buf).unwrap_or(abs)
}

/// `path` made absolute with its directory part canonicalized (the file itself may not
/// exist, and a symlinked file is not resolved).
fn absolute(path: &Path) -> Result<PathBuf> {
    let cwd = std::env::current_dir()
        .map_err(|e| crate::error::io(Path::new("."), "read the current directory", e))?;
    let joined = cwd.join(path);
    let mut normal = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    let name = normal.file_name().map(|n| n.to_os_string());
    let dir = normal
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| normal.clone());
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    Ok(match name {
        Some(n) => dir.join(n),
        None => dir,
    })
}
