//! The only door to git. Every git2 call in runqlint is in this module.
//!
//! Inside a hook git exports `GIT_DIR` and, for `git commit -a` or `git commit PATH`,
//! `GIT_INDEX_FILE` pointing at a temporary index: both are honoured, so `--staged` reads
//! exactly what the commit will record.

use std::path::{Component, Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use crate::error::{Error, Result};
use crate::gitcli::Git;

/// A repository with a working tree (or a bare one, which has none).
pub struct Repo {
    repo: Repository,
    /// The same repository through the `git` program, for what libgit2 reads differently.
    git: Option<Git>,
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
            let repo = Repository::open_from_env()?;
            // libgit2 leaves `GIT_WORK_TREE` (and `git --work-tree`) to the caller.
            if let Some(wt) = std::env::var_os("GIT_WORK_TREE").filter(|w| !w.is_empty()) {
                repo.set_workdir(&absolute(Path::new(&wt))?, false)?;
            }
            return Ok(Some(Repo::new(repo)));
        }
        let dir = if start.is_dir() {
            start.to_path_buf()
        } else {
            parent_dir(start)
        };
        match Repository::discover(&dir) {
            Ok(repo) => Ok(Some(Repo::new(repo))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn new(repo: Repository) -> Repo {
        let git = repo.workdir().map(Git::at);
        Repo { repo, git }
    }

    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// No working tree: a bare repository not given one by `GIT_WORK_TREE`/`--work-tree`
    /// (libgit2 keeps `core.bare` even then; git uses the working tree it was given).
    pub fn is_bare(&self) -> bool {
        self.repo.workdir().is_none()
    }

    /// The `git` program's view of this repository (it has a working tree).
    fn cli(&self) -> Result<&Git> {
        self.git
            .as_ref()
            .ok_or_else(|| Error::Usage("a bare repository has no working tree".into()))
    }

    /// Whether `rev` names a commit here.
    pub fn resolves(&self, rev: &str) -> bool {
        self.repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .is_ok()
    }

    /// `path` (absolute or relative to the current directory) as a repository-relative path
    /// with `/` separators.
    pub fn relative(&self, path: &Path) -> Result<String> {
        let workdir = self
            .workdir()
            .ok_or_else(|| Error::Usage("a bare repository has no working tree".into()))?;
        relative_in(workdir, path)
    }

    /// Where git looks for hooks: `git rev-parse --git-path hooks` asked of git itself, so
    /// `core.hooksPath` counts from every config source git reads (system, global,
    /// `GIT_CONFIG_GLOBAL`, local, worktree, includes). The directory may not exist yet.
    pub fn hooks_dir(&self) -> Result<PathBuf> {
        self.cli()?.hooks_dir()
    }

    /// The commit `HEAD` points at, if any.
    pub fn head_commit(&self) -> Option<Oid> {
        self.repo.head().ok()?.peel_to_commit().ok().map(|c| c.id())
    }

    /// The file at `rel` in revision `rev` (`HEAD`, a branch, a SHA, a tag), as git would
    /// check it out (see [`Repo::content`]).
    pub fn blob_at(&self, rev: &str, rel: &str, limit: u64) -> Result<Blob> {
        self.blob_at_as(rev, rel, limit, true)
    }

    /// The bytes stored in the object database for `rel` at `rev`, before any checkout
    /// conversion: what a byte-exact commit would be compared with.
    pub fn stored_blob_at(&self, rev: &str, rel: &str, limit: u64) -> Result<Blob> {
        self.blob_at_as(rev, rel, limit, false)
    }

    fn blob_at_as(&self, rev: &str, rel: &str, limit: u64, checkout: bool) -> Result<Blob> {
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
            // git reads revisions libgit2 does not (`main-worktree/HEAD`,
            // `worktrees/NAME/HEAD`, `:/text`, reflog dates): ask it before giving up.
            Err(e) => match self.cli()?.commit_of(rev)? {
                Some(id) => self.repo.find_object(parse_oid(&id)?, None)?,
                None => return Err(self.missing_revision(rev, &e)),
            },
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
            // A symbolic link at the base holds no queue: a regular file now is a new one.
            Some(ObjectType::Blob) if entry.filemode() == 0o120000 => Ok(Blob::Missing),
            Some(ObjectType::Blob) if checkout => {
                self.content(entry.id(), rel, limit).map(Blob::Found)
            }
            Some(ObjectType::Blob) => self.read_blob(entry.id(), rel, limit).map(Blob::Found),
            Some(ObjectType::Commit) => Err(Error::Usage(format!(
                "{rel} is a submodule in {rev}, not a file"
            ))),
            _ => Err(Error::Usage(format!(
                "{rel} is a directory in {rev}, not a file"
            ))),
        }
    }

    /// The index git commits from: `GIT_INDEX_FILE` (a hook's temporary index; relative
    /// paths are relative to the directory git ran the hook in), else the repository's.
    /// `None` when libgit2 cannot read it (split index, sparse index, a newer version).
    fn index(&self) -> Option<git2::Index> {
        match std::env::var_os("GIT_INDEX_FILE").filter(|f| !f.is_empty()) {
            Some(file) => git2::Index::open(Path::new(&file)).ok(),
            None => self.repo.index().ok(),
        }
    }

    /// The staged version of `rel`: the index entry, not the working tree. An intent to
    /// add (`git add -N`) is not content: git commits nothing for it.
    pub fn blob_in_index(&self, rel: &str, limit: u64) -> Result<Blob> {
        let Some(index) = self.index() else {
            return self.cli()?.blob_in_index(rel, limit);
        };
        if (1..=3).any(|stage| index.get_path(Path::new(rel), stage).is_some()) {
            return Err(crate::gitcli::conflicted(rel));
        }
        match index.get_path(Path::new(rel), 0) {
            None => Ok(Blob::Missing),
            Some(entry) if entry.mode == 0o120000 => Err(crate::gitcli::staged_symlink(rel)),
            Some(entry) if entry.mode == 0o160000 => {
                Err(Error::Usage(format!("{rel} is a submodule, not a file")))
            }
            Some(entry) if entry.flags_extended & INTENT_TO_ADD != 0 => Ok(Blob::Missing),
            Some(entry) => self.content(entry.id, rel, limit).map(Blob::Found),
        }
    }

    /// Whether `rel` is outside a sparse checkout (skip-worktree): git takes its index entry
    /// for the working-tree file.
    pub fn skip_worktree(&self, rel: &str) -> Result<bool> {
        match self.index() {
            Some(index) => Ok(index
                .get_path(Path::new(rel), 0)
                .is_some_and(|e| e.flags_extended & SKIP_WORKTREE != 0)),
            None => self.cli()?.skip_worktree(rel),
        }
    }

    /// The bytes git would check out for blob `id` at `rel`: libgit2 reads the object when
    /// the path has no checkout conversion and the object is here; otherwise git does
    /// (filters, `eol`, Git LFS; a partial clone's missing blob is fetched as git would).
    fn content(&self, id: Oid, rel: &str, limit: u64) -> Result<Vec<u8>> {
        if !self.converts(rel) {
            match self.read_blob(id, rel, limit) {
                Err(Error::Git(_)) if !self.repo.odb()?.exists(id) => {}
                other => return other,
            }
        }
        self.cli()?.checkout_bytes(rel, &id.to_string(), limit)
    }

    /// Whether git changes `rel`'s bytes between the object store and the working tree:
    /// a `filter` (Git LFS is one), `ident`, `working-tree-encoding`, an `eol`/`crlf`
    /// attribute, or `core.autocrlf`/`core.eol` asking for CRLF. The attributes are read
    /// by libgit2 (`.gitattributes`, `info/attributes`, `core.attributesFile`); a
    /// `core.attributesFile` only in `GIT_CONFIG_GLOBAL`, which libgit2 does not read,
    /// sends every read to git.
    fn converts(&self, rel: &str) -> bool {
        let path = Path::new(rel);
        let set = |name: &str| {
            !matches!(
                self.repo
                    .get_attr(path, name, git2::AttrCheckFlags::FILE_THEN_INDEX)
                    .map(git2::AttrValue::from_string),
                Ok(git2::AttrValue::Unspecified | git2::AttrValue::False)
            )
        };
        if ["filter", "ident", "working-tree-encoding", "eol", "crlf"]
            .iter()
            .any(|a| set(a))
        {
            return true;
        }
        let global = std::env::var_os("GIT_CONFIG_GLOBAL")
            .filter(|p| !p.is_empty())
            .and_then(|p| git2::Config::open(Path::new(&p)).ok());
        let configs = [self.repo.config().ok(), global];
        let get = |key: &str| {
            configs
                .iter()
                .flatten()
                .find_map(|c| c.get_string(key).ok())
                .map(|v| v.to_ascii_lowercase())
        };
        if configs[1]
            .as_ref()
            .is_some_and(|c| c.get_string("core.attributesFile").is_ok())
        {
            return true;
        }
        matches!(
            get("core.autocrlf").as_deref(),
            Some("true" | "yes" | "on" | "1")
        ) || get("core.eol").as_deref() == Some("crlf")
    }

    fn read_blob(&self, id: Oid, rel: &str, limit: u64) -> Result<Vec<u8>> {
        // Like git's own reads, trust the object store rather than re-hash every blob:
        // SHA-1DC over a 40 MB queue costs more than checking it.
        git2::opts::strict_hash_verification(false);
        let odb = self.repo.odb()?;
        let (size, _) = odb.read_header(id)?;
        if size as u64 > limit {
            return Err(Error::Io(format!(
                "{rel}: {size} bytes is over the limit of {limit} (`max-file-size` in runqlint.toml)"
            )));
        }
        // A loose object (what `git add` and a fresh commit write) inflates straight into
        // one buffer; anything else (a packed object) is read whole and copied.
        if let Some(bytes) = read_stream(&odb, id, size) {
            return Ok(bytes);
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

/// Index entry flags (the extended ones, as libgit2 exposes them).
const INTENT_TO_ADD: u16 = 1 << 13;
const SKIP_WORKTREE: u16 = 1 << 14;

/// `path` (absolute or relative to the current directory) relative to `workdir`, with `/`
/// separators.
pub fn relative_in(workdir: &Path, path: &Path) -> Result<String> {
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

/// Where `HEAD` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// On a branch (`refs/heads/main`) at this commit.
    Branch { name: String, commit: Oid },
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
    pub expected: Oid,
    /// The repository-relative path.
    pub rel: &'a str,
    /// The new content, already in the object database (see [`Repo::write_blob`]).
    pub blob: Oid,
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

/// Parses an object id written by runqlint (the journal).
pub fn parse_oid(s: &str) -> Result<Oid> {
    Oid::from_str(s).map_err(|_| Error::Git(format!("`{s}` is not an object id")))
}

/// The git blob id of `bytes` (as `git hash-object` would print it).
pub fn hash_blob(bytes: &[u8]) -> String {
    Oid::hash_object(ObjectType::Blob, bytes).map_or_else(|_| "0".repeat(40), |o| o.to_string())
}

impl Repo {
    pub fn head(&self) -> Result<Head> {
        if self.repo.head_detached().unwrap_or(false) {
            return Ok(Head::Detached);
        }
        match self.repo.head() {
            Ok(r) => {
                let name = r.name().unwrap_or("HEAD").to_string();
                let commit = r.peel_to_commit()?.id();
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
    pub fn signatures(&self) -> Result<(git2::Signature<'static>, git2::Signature<'static>)> {
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

    /// The repository's git directory (`.git`, or the worktree's own in a linked worktree).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// Stores `bytes` as a blob in the object database.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Oid> {
        Ok(self.repo.blob(bytes)?)
    }

    /// Whether `commit` is exactly the commit [`Repo::commit_path`] makes from `parent` for
    /// `rel` = `blob` with `message`: one parent, that message, and the parent's tree with
    /// only that entry replaced.
    pub fn is_path_commit(
        &self,
        commit: Oid,
        parent: Oid,
        rel: &str,
        blob: Oid,
        message: &str,
    ) -> Result<bool> {
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
    pub fn commit_path(&self, _lock: &IndexLock, c: &FileCommit) -> Result<Oid> {
        let FileCommit {
            branch,
            expected,
            rel,
            blob,
            written,
            message,
        } = *c;
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
        Ok(commit)
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

/// The object's `size` bytes through a read stream, or `None` when the backend has no
/// streams for it (packed objects) or the stream disagrees with the header.
fn read_stream(odb: &git2::Odb, id: Oid, size: usize) -> Option<Vec<u8>> {
    use std::io::Read;
    let (mut reader, len, _) = odb.reader(id).ok()?;
    if len != size {
        return None;
    }
    let mut bytes = vec![0u8; len];
    reader.read_exact(&mut bytes).ok()?;
    let mut more = [0u8; 1];
    (reader.read(&mut more).ok()? == 0).then_some(bytes)
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
