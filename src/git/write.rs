//! What `fix` needs to commit one file: HEAD's state (and any operation in progress), the
//! path's status, the identity, git's `index.lock`, blobs, the one-path commit (signed
//! when `commit.gpgsign` says so) with compare-and-swap on the branch, and the rewrite of
//! that path's index entry.
//!
//! libgit2 makes the commit object unless it must be signed; then `git commit-tree -S`
//! makes it, so signing follows git's own settings (`gpg.format`, `gpg.program`,
//! `user.signingkey`). Settings that only git reads faithfully (`commit.gpgsign` from every
//! config source, the filters of a path) are asked of the `git` program.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use git2::Oid;

use super::{ObjectId, Repo};
use crate::error::{Error, Result};
use crate::gitcli::last_line;

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
    pub message: &'a str,
}

/// An operation git is in the middle of, during which it refuses a partial commit
/// (`git commit <path>`): what it is, and how to finish or abort it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InProgress {
    pub what: &'static str,
    pub resolve: &'static str,
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

    /// How `rel` differs from HEAD: `staged` (index), `dirty` (working tree), `untracked`
    /// (`untracked, ignored` when `.gitignore` hides it), `conflicted`. Empty when it is
    /// clean.
    pub fn path_state(&self, rel: &str) -> Result<Vec<&'static str>> {
        use git2::Status;
        let st = match self.repo.status_file(Path::new(rel)) {
            Ok(s) => s,
            Err(e) if e.code() == git2::ErrorCode::NotFound => Status::empty(),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        // libgit2 reports an ignored file as clean (or not at all): git knows it only if the
        // index has it.
        if (st.is_empty() || st.contains(Status::IGNORED))
            && self.repo.is_path_ignored(Path::new(rel))?
            && self.repo.index()?.get_path(Path::new(rel), 0).is_none()
        {
            return Ok(vec!["untracked, ignored"]);
        }
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
    /// (the repository's config levels, then the files `GIT_CONFIG_GLOBAL` and
    /// `GIT_CONFIG_SYSTEM` name, which libgit2 does not read on its own). Missing: a clear
    /// error.
    fn signatures(&self) -> Result<(git2::Signature<'static>, git2::Signature<'static>)> {
        let config = self.repo.config().ok();
        let unread = super::env_configs();
        let from_config = |key: &str| -> Option<String> {
            config
                .iter()
                .chain(&unread)
                .find_map(|c| c.get_string(key).ok())
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
    /// [`Repo::make_commit`].
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

    /// Whether `commit` is exactly the commit [`Repo::make_commit`] makes from `parent` for
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

    /// Points the index entry of `rel` at its blob in `HEAD`, leaving every other entry as it
    /// is; the caller holds `index.lock`. The entry gets no stat data (nothing says the file
    /// on disk is still the bytes this run saw), so git compares the content next time.
    pub fn index_entry_to_head(&self, _lock: &IndexLock, rel: &str) -> Result<()> {
        let head = self.repo.head()?.peel_to_commit()?;
        let entry = head.tree()?.get_path(Path::new(rel))?;
        let mode = if entry.filemode() == 0o100755 {
            git2::FileMode::BlobExecutable
        } else {
            git2::FileMode::Blob
        };
        self.update_index_entry(rel, entry.id(), mode, None)
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

    /// Makes the commit of `c.blob` as the new content of `c.rel` on top of `c.expected`,
    /// with only that path changed; the branch does not move yet ([`Repo::publish`]). When
    /// `commit.gpgsign` is on, `git commit-tree -S` makes and signs it as `git commit`
    /// would; a signature git cannot make is a refusal that names the setting.
    pub fn make_commit(&self, c: &FileCommit) -> Result<ObjectId> {
        let (author, committer) = self.signatures()?;
        let parent = self.repo.find_commit(c.expected.0)?;
        let (tree, _) = self.tree_with(&parent, c.rel, c.blob.0)?;
        if self.config_bool("commit.gpgsign")? == Some(true) {
            return self.commit_tree_signed(tree, parent.id(), &author, &committer, c.message);
        }
        let new_tree = self.repo.find_tree(tree)?;
        let commit =
            self.repo
                .commit(None, &author, &committer, c.message, &new_tree, &[&parent])?;
        Ok(ObjectId(commit))
    }

    /// Moves `c.branch` to `commit` (made by [`Repo::make_commit`]) only if it still points
    /// at `c.expected`, then updates the index entry of `c.rel` (and nothing else in the
    /// index) under `lock`, with `stat`: the file as this run wrote it (see
    /// [`crate::atomic::replace`]), so a later write by someone else shows as a change.
    pub fn publish(
        &self,
        _lock: &IndexLock,
        c: &FileCommit,
        commit: ObjectId,
        stat: Option<&std::fs::Metadata>,
    ) -> Result<()> {
        let FileCommit {
            branch,
            expected,
            rel,
            blob,
            message,
        } = *c;
        let subject = message.lines().next().unwrap_or("runqlint fix");
        self.repo
            .reference_matching(
                branch,
                commit.0,
                true,
                expected.0,
                &format!("commit: {subject}"),
            )
            .map_err(|e| {
                Error::Refused(format!(
                    "{branch} moved while fix ran ({}); the file was written but not committed",
                    e.message()
                ))
            })?;
        crate::failpoint::hit("after-commit");
        let parent = self.repo.find_commit(expected.0)?;
        let (_, mode) = self.tree_with(&parent, rel, blob.0)?;
        self.update_index_entry(rel, blob.0, mode, stat).map_err(|e| {
            Error::Git(format!(
                "committed {commit}, but the index entry for {rel} could not be updated ({e}); run `git reset -q -- {rel}`"
            ))
        })
    }

    /// `git commit-tree -S`: the commit object, signed by git with its own settings and the
    /// identity given.
    fn commit_tree_signed(
        &self,
        tree: Oid,
        parent: Oid,
        author: &git2::Signature,
        committer: &git2::Signature,
        message: &str,
    ) -> Result<ObjectId> {
        use std::io::Write;
        let (tree, parent) = (tree.to_string(), parent.to_string());
        let mut cmd = self.git(&["commit-tree", &tree, "-p", &parent, "-S"]);
        for (who, sig) in [("AUTHOR", author), ("COMMITTER", committer)] {
            cmd.env(format!("GIT_{who}_NAME"), sig.name().unwrap_or_default())
                .env(format!("GIT_{who}_EMAIL"), sig.email().unwrap_or_default());
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(cannot_run)?;
        if let Some(mut stdin) = child.stdin.take() {
            // A failed write shows as git's own failure below.
            let _ = stdin.write_all(message.as_bytes());
        }
        let out = child.wait_with_output().map_err(cannot_run)?;
        let id = String::from_utf8_lossy(&out.stdout);
        match (out.status.success(), Oid::from_str(id.trim())) {
            (true, Ok(id)) => Ok(ObjectId(id)),
            _ => Err(Error::Refused(format!(
                "commit.gpgsign is set and git could not sign the fix commit ({}); nothing was written: fix the signing setup (gpg.format, gpg.program, user.signingkey), or repair with --no-commit and commit with git",
                last_line(&out.stderr)
            ))),
        }
    }

    /// A boolean git setting as git reads it (every config source, includes, `-c`
    /// through `GIT_CONFIG_PARAMETERS`); `None` when unset.
    fn config_bool(&self, key: &str) -> Result<Option<bool>> {
        let out = self
            .git(&["config", "--type=bool", "--get", key])
            .output()
            .map_err(cannot_run)?;
        match out.status.code() {
            Some(0) => Ok(Some(out.stdout.trim_ascii() == b"true")),
            Some(1) => Ok(None),
            _ => Err(Error::Git(format!(
                "git config {key}: {}",
                last_line(&out.stderr)
            ))),
        }
    }

    /// Whether git may store other bytes than `bytes` at `rel`: `core.autocrlf` is `true`
    /// (or `input` and there is a CR), or the path has a `filter`, `text`, `eol`, `crlf`,
    /// `ident` or `working-tree-encoding` attribute (`git check-attr`). When `false`, git
    /// stores the bytes as they are; when `true`, [`Repo::hash_as_git_stores`] tells.
    pub fn may_convert(&self, rel: &str, bytes: &[u8]) -> Result<bool> {
        let out = self
            .git(&["config", "--get", "core.autocrlf"])
            .output()
            .map_err(cannot_run)?;
        let autocrlf = String::from_utf8_lossy(&out.stdout)
            .trim()
            .to_ascii_lowercase();
        match autocrlf.as_str() {
            "input" if bytes.contains(&b'\r') => return Ok(true),
            "true" | "yes" | "on" | "1" => return Ok(true),
            _ => {}
        }
        let attrs = [
            "filter",
            "text",
            "eol",
            "crlf",
            "ident",
            "working-tree-encoding",
        ];
        let mut args = vec!["check-attr", "-z"];
        args.extend(attrs);
        args.extend(["--", rel]);
        let out = self.git(&args).output().map_err(cannot_run)?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "git check-attr {rel}: {}",
                last_line(&out.stderr)
            )));
        }
        // `-z`: path NUL attribute NUL value NUL, for each attribute asked.
        let fields: Vec<&[u8]> = out.stdout.split(|&b| b == 0).collect();
        Ok(fields
            .chunks(3)
            .filter(|c| c.len() == 3)
            .any(|c| c[2] != b"unspecified" && c[2] != b"unset"))
    }

    /// The blob id git would store for `bytes` at `rel` (`git hash-object --path`): its
    /// clean filters and line-ending conversion applied. It differs from
    /// [`super::hash_blob`] exactly when git would not commit these bytes as they are.
    pub fn hash_as_git_stores(&self, rel: &str, bytes: &[u8]) -> Result<String> {
        use std::io::Write;
        let mut cmd = self.git(&["hash-object", "--path", rel, "--stdin"]);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(cannot_run)?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(bytes);
        }
        let out = child.wait_with_output().map_err(cannot_run)?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "git hash-object --path {rel}: {}",
                last_line(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The operation git is in the middle of, if any (merge, cherry-pick, revert, rebase of
    /// either kind, `git am`, bisect).
    pub fn in_progress(&self) -> Option<InProgress> {
        use git2::RepositoryState as S;
        let (what, resolve) = match self.repo.state() {
            S::Clean => return None,
            S::Merge => ("a merge", "git merge --continue, or git merge --abort"),
            S::Revert | S::RevertSequence => {
                ("a revert", "git revert --continue, or git revert --abort")
            }
            S::CherryPick | S::CherryPickSequence => (
                "a cherry-pick",
                "git cherry-pick --continue, or git cherry-pick --abort",
            ),
            S::Rebase | S::RebaseInteractive | S::RebaseMerge => {
                ("a rebase", "git rebase --continue, or git rebase --abort")
            }
            S::ApplyMailbox | S::ApplyMailboxOrRebase => (
                "a rebase or `git am`",
                "git rebase --continue or git am --continue, or their --abort",
            ),
            S::Bisect => ("a bisect", "git bisect reset"),
        };
        Some(InProgress { what, resolve })
    }

    /// The `git` program on this repository.
    fn git(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(self.repo.workdir().unwrap_or_else(|| self.repo.path()))
            .stdin(Stdio::null());
        cmd
    }

    /// Rewrites the index with only `rel`'s entry replaced: a copy of the index is edited and
    /// renamed over it while the caller holds `index.lock`.
    fn update_index_entry(
        &self,
        rel: &str,
        blob: Oid,
        mode: git2::FileMode,
        stat: Option<&std::fs::Metadata>,
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
            index.add(&index_entry(rel, blob, mode, stat))?;
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

fn cannot_run(e: std::io::Error) -> Error {
    Error::Git(format!("cannot run git: {e}"))
}

/// The index entry for `rel`. Without `stat` the entry's stat data is zero, which never
/// matches a file, so git compares the content before it trusts the entry.
fn index_entry(
    rel: &str,
    id: Oid,
    mode: git2::FileMode,
    stat: Option<&std::fs::Metadata>,
) -> git2::IndexEntry {
    let zero = git2::IndexTime::new(0, 0);
    let Some(meta) = stat else {
        return git2::IndexEntry {
            ctime: zero,
            mtime: zero,
            dev: 0,
            ino: 0,
            mode: u32::from(mode),
            uid: 0,
            gid: 0,
            file_size: 0,
            id,
            flags: rel.len().min(0xfff) as u16,
            flags_extended: 0,
            path: rel.as_bytes().to_vec(),
        };
    };
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
    let (ctime, mtime, dev, ino, uid, gid) = (zero, zero, 0, 0, 0, 0);
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
