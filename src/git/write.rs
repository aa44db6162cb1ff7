//! What `fix` needs to commit one file: HEAD's state, the path's status, the identity,
//! git's `index.lock`, blobs, the one-path commit with compare-and-swap on the branch, and
//! the rewrite of that path's index entry.

use std::path::{Path, PathBuf};

use git2::Oid;

use super::{ObjectId, Repo};
use crate::error::{Error, Result};

/// Where `HEAD` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// On a branch (`refs/heads/main`) at this commit.
    Branch { name: String, commit: ObjectId },
    /// On a branch with no commit yet.
    Unborn,
    /// At a commit, on no branch.
    Detached,
}

/// One file committed on top of a branch.
pub struct FileCommit<'a> {
    /// The branch ref (`refs/heads/main`).
    pub branch: &'a str,
    /// The commit the branch pointed at when the file was read.
    pub expected: ObjectId,
    /// The repository-relative path.
    pub rel: &'a str,
    /// The new content, already in the object database (see [`Repo::write_blob`]).
    pub blob: ObjectId,
    /// The file on disk, for the index entry's stat data.
    pub written: &'a Path,
    pub message: &'a str,
}

/// A held `index.lock`: git's own lock, taken with O_EXCL, removed on drop.
pub struct IndexLock {
    path: PathBuf,
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn held(path: &Path) -> Error {
    Error::Refused(format!(
        "{} exists: another git process is running, or one crashed and left it; nothing was written or committed (remove the file if no git process is running)",
        path.display()
    ))
}

impl Repo {
    pub fn head(&self) -> Result<Head> {
        if self.repo.head_detached().unwrap_or(false) {
            return Ok(Head::Detached);
        }
        match self.repo.head() {
            Ok(r) => {
                let name = r.name().unwrap_or("HEAD").to_string();
                let commit = ObjectId(r.peel_to_commit()?.id());
                Ok(Head::Branch { name, commit })
            }
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                ) =>
            {
                Ok(Head::Unborn)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// How `rel` differs from HEAD: `staged` (index), `dirty` (working tree), `untracked`,
    /// `conflicted`. Empty when it is clean.
    pub fn path_state(&self, rel: &str) -> Result<Vec<&'static str>> {
        use git2::Status;
        let st = match self.repo.status_file(Path::new(rel)) {
            Ok(s) => s,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        if st.contains(Status::CONFLICTED) {
            out.push("conflicted");
        }
        if st.intersects(
            Status::INDEX_NEW
                | Status::INDEX_MODIFIED
                | Status::INDEX_DELETED
                | Status::INDEX_RENAMED
                | Status::INDEX_TYPECHANGE,
        ) {
            out.push("staged");
        }
        if st.contains(Status::WT_NEW) {
            out.push("untracked");
        } else if st.intersects(
            Status::WT_MODIFIED | Status::WT_DELETED | Status::WT_RENAMED | Status::WT_TYPECHANGE,
        ) {
            out.push("dirty");
        }
        Ok(out)
    }

    /// The author and committer, as git would pick them: `GIT_AUTHOR_NAME`/`_EMAIL` and
    /// `GIT_COMMITTER_NAME`/`_EMAIL` first, else `user.name`/`user.email` from git config
    /// (the repository's config levels, then `GIT_CONFIG_GLOBAL` if set, which libgit2
    /// does not read on its own). Missing: a clear error.
    fn signatures(&self) -> Result<(git2::Signature<'static>, git2::Signature<'static>)> {
        let config = self.repo.config().ok();
        let global = std::env::var_os("GIT_CONFIG_GLOBAL")
            .filter(|p| !p.is_empty())
            .and_then(|p| git2::Config::open(Path::new(&p)).ok());
        let from_config = |key: &str| -> Option<String> {
            config
                .as_ref()
                .and_then(|c| c.get_string(key).ok())
                .or_else(|| global.as_ref().and_then(|c| c.get_string(key).ok()))
                .filter(|v| !v.trim().is_empty())
        };
        let env = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
        let pick = |who: &str| -> Result<git2::Signature<'static>> {
            let name = env(&format!("GIT_{who}_NAME")).or_else(|| from_config("user.name"));
            let email = env(&format!("GIT_{who}_EMAIL")).or_else(|| from_config("user.email"));
            match (name, email) {
                (Some(n), Some(e)) => git2::Signature::now(&n, &e).map_err(Error::from),
                _ => Err(Error::Git(
                    "no git identity to commit with (user.name and user.email are not set); set them with `git config user.name \"Your Name\"` and `git config user.email you@example.com`, or use --no-commit".into(),
                )),
            }
        };
        Ok((pick("AUTHOR")?, pick("COMMITTER")?))
    }

    /// Refuses (before anything is written) when there is no identity to commit with; see
    /// [`Repo::commit_path`].
    pub fn check_identity(&self) -> Result<()> {
        self.signatures().map(drop)
    }

    /// Takes git's index lock, exactly as git does (O_EXCL on `index.lock`), and writes
    /// `token` into it so that a later `fix` can recognise a lock left by a killed run
    /// (git only looks at the lock's existence).
    pub fn lock_index(&self, token: &str) -> Result<IndexLock> {
        use std::io::Write;
        let path = self.repo.path().join("index.lock");
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let lock = IndexLock { path };
                f.write_all(token.as_bytes())
                    .map_err(|e| crate::error::io(&lock.path, "write", e))?;
                Ok(lock)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(held(&path)),
            Err(e) => Err(crate::error::io(&path, "create", e)),
        }
    }

    /// Takes over `index.lock` if it holds exactly `token` (left by the killed `fix` whose
    /// journal holds that token). `None` when there is no lock; someone else's lock is a
    /// refusal.
    pub fn adopt_index_lock(&self, token: &str) -> Result<Option<IndexLock>> {
        let path = self.repo.path().join("index.lock");
        match std::fs::read(&path) {
            Ok(bytes) if bytes == token.as_bytes() => Ok(Some(IndexLock { path })),
            Ok(_) => Err(held(&path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(crate::error::io(&path, "read", e)),
        }
    }

    /// Stores `bytes` as a blob in the object database.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<ObjectId> {
        Ok(ObjectId(self.repo.blob(bytes)?))
    }

    /// Whether `commit` is exactly the commit [`Repo::commit_path`] makes from `parent` for
    /// `rel` = `blob` with `message`: one parent, that message, and the parent's tree with
    /// only that entry replaced.
    pub fn is_path_commit(
        &self,
        commit: ObjectId,
        parent: ObjectId,
        rel: &str,
        blob: ObjectId,
        message: &str,
    ) -> Result<bool> {
        let (commit, parent, blob) = (commit.0, parent.0, blob.0);
        let c = self.repo.find_commit(commit)?;
        if c.parent_ids().collect::<Vec<_>>() != [parent]
            || c.message_raw_bytes() != message.as_bytes()
        {
            return Ok(false);
        }
        let (tree, _) = self.tree_with(&self.repo.find_commit(parent)?, rel, blob)?;
        Ok(c.tree_id() == tree)
    }

    /// Points the index entry of `rel` at its blob in `HEAD` (stat data from `written`),
    /// leaving every other entry as it is; the caller holds `index.lock`.
    pub fn index_entry_to_head(&self, _lock: &IndexLock, rel: &str, written: &Path) -> Result<()> {
        let head = self.repo.head()?.peel_to_commit()?;
        let entry = head.tree()?.get_path(Path::new(rel))?;
        let mode = if entry.filemode() == 0o100755 {
            git2::FileMode::BlobExecutable
        } else {
            git2::FileMode::Blob
        };
        self.update_index_entry(rel, entry.id(), mode, written)
    }

    /// The tree of `parent` with `rel` set to `blob` (keeping an executable bit), and the
    /// mode used.
    fn tree_with(
        &self,
        parent: &git2::Commit,
        rel: &str,
        blob: Oid,
    ) -> Result<(Oid, git2::FileMode)> {
        let tree = parent.tree()?;
        let mode = match tree.get_path(Path::new(rel)) {
            Ok(e) if e.filemode() == 0o100755 => git2::FileMode::BlobExecutable,
            _ => git2::FileMode::Blob,
        };
        let mut update = git2::build::TreeUpdateBuilder::new();
        update.upsert(rel, blob, mode);
        Ok((update.create_updated(&self.repo, &tree)?, mode))
    }

    /// Commits `c.bytes` as the new content of `c.rel` on top of `c.expected`, with only
    /// that path changed. The branch moves only if it still points at `c.expected`. Then
    /// the index entry of `c.rel` (and nothing else in the index) is updated, under `lock`.
    pub fn commit_path(&self, _lock: &IndexLock, c: &FileCommit) -> Result<ObjectId> {
        let FileCommit {
            branch,
            expected,
            rel,
            blob,
            written,
            message,
        } = *c;
        let (expected, blob) = (expected.0, blob.0);
        let (author, committer) = self.signatures()?;
        let parent = self.repo.find_commit(expected)?;
        let (tree, mode) = self.tree_with(&parent, rel, blob)?;
        let new_tree = self.repo.find_tree(tree)?;
        let commit = self
            .repo
            .commit(None, &author, &committer, message, &new_tree, &[&parent])?;
        let subject = message.lines().next().unwrap_or("runqlint fix");
        self.repo
            .reference_matching(
                branch,
                commit,
                true,
                expected,
                &format!("commit: {subject}"),
            )
            .map_err(|e| {
                Error::Refused(format!(
                    "{branch} moved while fix ran ({}); the file was written but not committed",
                    e.message()
                ))
            })?;
        crate::failpoint::hit("after-commit");
        self.update_index_entry(rel, blob, mode, written).map_err(|e| {
            Error::Git(format!(
                "committed {commit}, but the index entry for {rel} could not be updated ({e}); run `git reset -q -- {rel}`"
            ))
        })?;
        Ok(ObjectId(commit))
    }

    /// Rewrites the index with only `rel`'s entry replaced: a copy of the index is edited and
    /// renamed over it while the caller holds `index.lock`.
    fn update_index_entry(
        &self,
        rel: &str,
        blob: Oid,
        mode: git2::FileMode,
        written: &Path,
    ) -> Result<()> {
        let index_path = self.repo.path().join("index");
        let tmp = self
            .repo
            .path()
            .join(format!("runqlint-index.{}.tmp", std::process::id()));
        let result = (|| -> Result<()> {
            if index_path.exists() {
                std::fs::copy(&index_path, &tmp)
                    .map_err(|e| crate::error::io(&index_path, "copy", e))?;
            }
            let mut index = git2::Index::open(&tmp)?;
            let meta =
                std::fs::metadata(written).map_err(|e| crate::error::io(written, "stat", e))?;
            index.add(&index_entry(rel, blob, mode, &meta))?;
            index.write()?;
            std::fs::rename(&tmp, &index_path)
                .map_err(|e| crate::error::io(&index_path, "replace", e))
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

fn index_entry(
    rel: &str,
    id: Oid,
    mode: git2::FileMode,
    meta: &std::fs::Metadata,
) -> git2::IndexEntry {
    #[cfg(unix)]
    let (ctime, mtime, dev, ino, uid, gid) = {
        use std::os::unix::fs::MetadataExt;
        (
            git2::IndexTime::new(meta.ctime() as i32, meta.ctime_nsec() as u32),
            git2::IndexTime::new(meta.mtime() as i32, meta.mtime_nsec() as u32),
            meta.dev() as u32,
            meta.ino() as u32,
            meta.uid(),
            meta.gid(),
        )
    };
    #[cfg(not(unix))]
    let (ctime, mtime, dev, ino, uid, gid) = (
        git2::IndexTime::new(0, 0),
        git2::IndexTime::new(0, 0),
        0,
        0,
        0,
        0,
    );
    git2::IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode: u32::from(mode),
        uid,
        gid,
        file_size: meta.len() as u32,
        id,
        flags: rel.len().min(0xfff) as u16,
        flags_extended: 0,
        path: rel.as_bytes().to_vec(),
    }
}
