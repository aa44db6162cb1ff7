//! What `fix` needs to commit one file: HEAD's state (and any operation in progress), the
//! path's status, the identity, git's `index.lock`, blobs, the one-path commit (signed
//! when `commit.gpgsign` says so) with compare-and-swap on the branch, and the rewrite of
//! that path's index entry.
//!
//! One [`Writer`] answers every question of the transaction, each through libgit2 where
//! libgit2 reads and writes this repository faithfully, else through the `git` program
//! (the runner in [`crate::gitcli`]): chosen once, when the writer is made, by what
//! libgit2 can open. A repository libgit2 cannot open at all (SHA-256 objects, reftable
//! refs) is written entirely by git: `hash-object -w`, a temporary index (`read-tree`,
//! `update-index --index-info`, `write-tree`) for the one-path tree, `commit-tree`,
//! `update-ref NEW OLD` for the compare-and-swap. An index libgit2 cannot read (split
//! index, sparse index) is rewritten by git: a copy of it edited through
//! `GIT_INDEX_FILE` (`update-index --index-info`, then `add --refresh` of that one path
//! for its stat data) is renamed over it while `fix` holds `index.lock`.
//!
//! The identity is git's own (`git var GIT_AUTHOR_IDENT`, `GIT_COMMITTER_IDENT`), and a
//! commit to sign is made by `git commit-tree -S`, so signing follows git's settings
//! (`gpg.format`, `gpg.program`, `user.signingkey`). Settings only git reads faithfully
//! (`commit.gpgsign` from every config source, the filters of a path) are asked of git.

use std::cell::OnceCell;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use git2::Oid;

use super::{ObjectId, Repo};
use crate::error::{Error, Result};
use crate::gitcli::{last_line, Git};

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
    /// The new content, already in the object database (see [`Writer::write_blob`]).
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

/// A person and a time, as `git var GIT_AUTHOR_IDENT` prints them:
/// `Name <email> 1772064000 +0100`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub email: String,
    /// Seconds since the epoch.
    pub when: i64,
    /// The time zone as git writes it, `+0100`.
    pub tz: String,
}

impl Ident {
    /// Parses git's ident line; `None` when it is not one.
    pub fn parse(line: &str) -> Option<Ident> {
        let line = line.trim_end_matches(['\n', '\r']);
        let (rest, tz) = line.rsplit_once(' ')?;
        let (person, when) = rest.rsplit_once(' ')?;
        let open = person.rfind('<')?;
        let close = person
            .rfind('>')
            .filter(|&c| c > open && c == person.len() - 1)?;
        let tz_ok = tz.len() == 5
            && matches!(tz.as_bytes()[0], b'+' | b'-')
            && tz[1..].bytes().all(|b| b.is_ascii_digit());
        if !tz_ok {
            return None;
        }
        Some(Ident {
            name: person[..open].trim_end().to_string(),
            email: person[open + 1..close].to_string(),
            when: when.parse().ok()?,
            tz: tz.to_string(),
        })
    }

    /// The offset from UTC in minutes.
    fn offset_minutes(&self) -> i32 {
        let digits = &self.tz[1..];
        let (h, m) = (
            digits[..2].parse::<i32>().unwrap_or(0),
            digits[2..].parse::<i32>().unwrap_or(0),
        );
        let minutes = h * 60 + m;
        if self.tz.starts_with('-') {
            -minutes
        } else {
            minutes
        }
    }

    fn signature(&self) -> Result<git2::Signature<'static>> {
        let time = git2::Time::new(self.when, self.offset_minutes());
        Ok(git2::Signature::new(&self.name, &self.email, &time)?)
    }

    /// `GIT_<WHO>_NAME`, `_EMAIL`, `_DATE` for a `git` command that makes a commit.
    fn env(&self, who: &str) -> [(String, std::ffi::OsString); 3] {
        [
            (format!("GIT_{who}_NAME"), self.name.clone().into()),
            (format!("GIT_{who}_EMAIL"), self.email.clone().into()),
            (
                format!("GIT_{who}_DATE"),
                format!("@{} {}", self.when, self.tz).into(),
            ),
        ]
    }
}

/// The author and committer of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idents {
    pub author: Ident,
    pub committer: Ident,
}

/// The repository `fix` commits in. libgit2 answers where it can open the repository
/// (`lib`) and read its index (`lib_index`); the `git` program answers the rest.
pub struct Writer<'r> {
    lib: Option<&'r Repo>,
    lib_index: bool,
    git: Git,
    git_dir: PathBuf,
    workdir: PathBuf,
    idents: OnceCell<Idents>,
}

impl<'r> Writer<'r> {
    /// A repository libgit2 opened: its index too unless libgit2 cannot read it (split
    /// index `link`, sparse index `sdir`).
    pub fn lib(repo: &'r Repo) -> Result<Writer<'r>> {
        let git = repo.cli()?.clone();
        Ok(Writer {
            lib: Some(repo),
            lib_index: repo.repo.index().is_ok(),
            workdir: git.top().to_path_buf(),
            git,
            git_dir: repo.repo.path().to_path_buf(),
            idents: OnceCell::new(),
        })
    }

    /// A repository only git opens (SHA-256 objects, reftable refs, an extension libgit2
    /// lacks): every question goes to git.
    pub fn cli(git: &Git) -> Result<Writer<'static>> {
        Ok(Writer {
            lib: None,
            lib_index: false,
            git_dir: git.git_dir()?,
            workdir: git.top().to_path_buf(),
            git: git.clone(),
            idents: OnceCell::new(),
        })
    }

    /// The repository's git directory (`.git`, or the worktree's own in a linked worktree).
    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// Removes the temporary indexes of runs that were killed (see `TempFile`).
    pub fn remove_stale_temps(&self) {
        crate::atomic::remove_stale_temps(&self.git_dir.join("index"));
    }

    pub fn head(&self) -> Result<Head> {
        if let Some(r) = self.lib {
            return r.head();
        }
        let out = self
            .git
            .run_with(&["symbolic-ref", "-q", "HEAD"], &[], None)?;
        match out.status.code() {
            Some(0) => {}
            Some(1) => return Ok(Head::Detached),
            _ => {
                return Err(Error::Git(format!(
                    "git symbolic-ref: {}",
                    last_line(&out.stderr)
                )))
            }
        }
        let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
        match self.git.commit_of("HEAD")? {
            Some(id) => Ok(Head::Branch {
                name,
                commit: ObjectId::parse(&id)?,
            }),
            None => Ok(Head::Unborn),
        }
    }

    /// The operation git is in the middle of, if any (merge, cherry-pick, revert, rebase of
    /// either kind, `git am`, bisect).
    pub fn in_progress(&self) -> Result<Option<InProgress>> {
        match self.lib {
            Some(r) => Ok(r.in_progress()),
            None => in_progress_in(&self.git_dir, |name| {
                let out = self
                    .git
                    .run_with(&["rev-parse", "-q", "--verify", name], &[], None)?;
                Ok(out.status.success())
            }),
        }
    }

    /// How `rel` differs from HEAD: `staged` (index), `dirty` (working tree), `untracked`
    /// (`untracked, ignored` when `.gitignore` hides it), `conflicted`. Empty when it is
    /// clean.
    pub fn path_state(&self, rel: &str) -> Result<Vec<&'static str>> {
        match (self.lib, self.lib_index) {
            (Some(r), true) => r.path_state(rel),
            _ => self.git.path_state(rel),
        }
    }

    /// The author and committer exactly as `git commit` would take them: `git var
    /// GIT_AUTHOR_IDENT` and `GIT_COMMITTER_IDENT` (`GIT_AUTHOR_*`/`GIT_COMMITTER_*`
    /// variables, `author.*`/`committer.*`/`user.*` from every config source, the dates of
    /// `GIT_AUTHOR_DATE`/`GIT_COMMITTER_DATE`, else now). Asked once per run. Where git has
    /// no identity (and `git commit` would refuse), a refusal naming git's reason.
    pub fn identity(&self) -> Result<&Idents> {
        if let Some(idents) = self.idents.get() {
            return Ok(idents);
        }
        let ask = |var: &str| -> Result<Ident> {
            let out = self.git.run_with(&["var", var], &[], None)?;
            if !out.status.success() {
                return Err(Error::Refused(format!(
                    "git names no identity to commit with (`git var {var}`: {}); nothing was written: set user.name and user.email (`git config user.name \"Your Name\"`, `git config user.email you@example.com`), or use --no-commit",
                    last_line(&out.stderr)
                )));
            }
            let line = String::from_utf8_lossy(&out.stdout);
            Ident::parse(&line).ok_or_else(|| {
                Error::Git(format!(
                    "git var {var} printed no identity: {}",
                    crate::text::escape(line.trim())
                ))
            })
        };
        let idents = Idents {
            author: ask("GIT_AUTHOR_IDENT")?,
            committer: ask("GIT_COMMITTER_IDENT")?,
        };
        Ok(self.idents.get_or_init(|| idents))
    }

    /// The bytes stored for `rel` at `rev` (no checkout conversion) and their blob id.
    pub fn stored_blob_and_id_at(
        &self,
        rev: &str,
        rel: &str,
        limit: u64,
    ) -> Result<(super::Blob, Option<ObjectId>)> {
        if let Some(r) = self.lib {
            return r.stored_blob_and_id_at(rev, rel, limit);
        }
        let Some(commit) = self.git.commit_of(rev)? else {
            return Ok((super::Blob::Missing, None));
        };
        match self.git.tree_entry(&commit, rel)? {
            None => Ok((super::Blob::Missing, None)),
            Some(e) if e.mode == 0o120000 => Ok((super::Blob::Missing, None)),
            Some(e) if e.mode == 0o160000 || e.mode == 0o040000 => {
                Err(Error::Usage(format!("{rel} is not a file in {rev}")))
            }
            Some(e) => {
                let bytes = self.git.stored_bytes(rel, &e.oid, limit)?;
                Ok((super::Blob::Found(bytes), Some(ObjectId::parse(&e.oid)?)))
            }
        }
    }

    /// Stores `bytes` as a blob in the object database.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<ObjectId> {
        match self.lib {
            Some(r) => Ok(ObjectId::from_oid(r.repo.blob(bytes)?)),
            None => self.hash_object(bytes, true),
        }
    }

    /// The blob id of `bytes` in this repository's object format (nothing written).
    pub fn hash(&self, bytes: &[u8]) -> Result<String> {
        match self.lib {
            Some(_) => Ok(super::hash_blob(bytes)),
            None => self.hash_object(bytes, false).map(|id| id.to_string()),
        }
    }

    fn hash_object(&self, bytes: &[u8], write: bool) -> Result<ObjectId> {
        let mut args = vec!["hash-object", "--stdin", "--no-filters"];
        if write {
            args.push("-w");
        }
        let out = self.git.checked_with(&args, &[], Some(bytes))?;
        ObjectId::parse(String::from_utf8_lossy(&out).trim())
    }

    /// Takes git's index lock, exactly as git does (O_EXCL on `index.lock`), and writes
    /// `token` into it so that a later `fix` can recognise a lock left by a killed run
    /// (git only looks at the lock's existence).
    pub fn lock_index(&self, token: &str) -> Result<IndexLock> {
        use std::io::Write;
        let path = self.git_dir.join("index.lock");
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
        let path = self.git_dir.join("index.lock");
        match std::fs::read(&path) {
            Ok(bytes) if bytes == token.as_bytes() => Ok(Some(IndexLock { path })),
            Ok(_) => Err(held(&path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(crate::error::io(&path, "read", e)),
        }
    }

    /// Makes the commit of `c.blob` as the new content of `c.rel` on top of `c.expected`,
    /// with only that path changed, as git's identity ([`Writer::identity`]); the branch
    /// does not move yet ([`Writer::publish`]). When `commit.gpgsign` is on, `git
    /// commit-tree -S` makes and signs it as `git commit` would; a signature git cannot
    /// make is a refusal that names the setting.
    pub fn make_commit(&self, c: &FileCommit) -> Result<ObjectId> {
        let idents = self.identity()?.clone();
        let sign = self.config_bool("commit.gpgsign")? == Some(true);
        let tree = self.tree_with(c.expected, c.rel, c.blob)?;
        match self.lib {
            Some(r) if !sign => r.commit(tree, c.expected, &idents, c.message),
            _ => self.commit_tree(tree, c.expected, &idents, c.message, sign),
        }
    }

    /// The tree of `parent` with `rel` set to `blob` (keeping an executable bit).
    fn tree_with(&self, parent: ObjectId, rel: &str, blob: ObjectId) -> Result<ObjectId> {
        if let Some(r) = self.lib {
            return r.tree_with(parent, rel, blob);
        }
        let mode = self.mode_in(parent, rel)?;
        let index = TempFile::new(&self.git_dir, "tree");
        let env = [("GIT_INDEX_FILE", index.path.as_os_str())];
        // A plain index: no shared index or sparse directories left behind for it.
        let plain = ["-c", "core.splitIndex=false", "-c", "index.sparse=false"];
        let parent = parent.to_string();
        self.git
            .checked_with(&[&plain[..], &["read-tree", &parent]].concat(), &env, None)?;
        let entry = format!("{mode:o} {blob}\t{rel}\0");
        self.git.checked_with(
            &[&plain[..], &["update-index", "-z", "--index-info"]].concat(),
            &env,
            Some(entry.as_bytes()),
        )?;
        let tree = self
            .git
            .checked_with(&[&plain[..], &["write-tree"]].concat(), &env, None)?;
        ObjectId::parse(String::from_utf8_lossy(&tree).trim())
    }

    /// The mode `rel` gets in a commit on `parent`: executable if it is in `parent`, else
    /// a plain file.
    fn mode_in(&self, parent: ObjectId, rel: &str) -> Result<u32> {
        let mode = match self.lib {
            Some(r) => r.mode_in(parent, rel)?,
            None => self
                .git
                .tree_entry(&parent.to_string(), rel)?
                .map(|e| e.mode),
        };
        Ok(match mode {
            Some(0o100755) => 0o100755,
            _ => 0o100644,
        })
    }

    /// `git commit-tree` (`-S` when `sign`): the commit object, made by git with the
    /// identity given (and signed with its own settings).
    fn commit_tree(
        &self,
        tree: ObjectId,
        parent: ObjectId,
        idents: &Idents,
        message: &str,
        sign: bool,
    ) -> Result<ObjectId> {
        let (tree, parent) = (tree.to_string(), parent.to_string());
        let mut args = vec!["commit-tree", &tree, "-p", &parent];
        if sign {
            args.push("-S");
        }
        let vars: Vec<(String, std::ffi::OsString)> = idents
            .author
            .env("AUTHOR")
            .into_iter()
            .chain(idents.committer.env("COMMITTER"))
            .collect();
        let env: Vec<(&str, &OsStr)> = vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_os_str()))
            .collect();
        let out = self.git.run_with(&args, &env, Some(message.as_bytes()))?;
        match (out.status.success(), ObjectId::parse(String::from_utf8_lossy(&out.stdout).trim())) {
            (true, Ok(id)) => Ok(id),
            _ if sign => Err(Error::Refused(format!(
                "commit.gpgsign is set and git could not sign the fix commit ({}); nothing was written: fix the signing setup (gpg.format, gpg.program, user.signingkey), or repair with --no-commit and commit with git",
                last_line(&out.stderr)
            ))),
            _ => Err(Error::Git(format!(
                "git commit-tree: {}",
                last_line(&out.stderr)
            ))),
        }
    }

    /// Moves `c.branch` to `commit` (made by [`Writer::make_commit`]) only if it still
    /// points at `c.expected`, then updates the index entry of `c.rel` (and nothing else in
    /// the index) under `lock`, with `stat`: the file as this run wrote it (see
    /// [`crate::atomic::replace`]), so a later write by someone else shows as a change.
    pub fn publish(
        &self,
        _lock: &IndexLock,
        c: &FileCommit,
        commit: ObjectId,
        stat: Option<&std::fs::Metadata>,
    ) -> Result<()> {
        let subject = c.message.lines().next().unwrap_or("runqlint fix");
        let reflog = format!("commit: {subject}");
        let moved = |why: String| {
            Error::Refused(format!(
                "{} moved while fix ran ({why}); the file was written but not committed",
                c.branch
            ))
        };
        match self.lib {
            Some(r) => r
                .move_branch(c.branch, commit, c.expected, &reflog)
                .map_err(moved)?,
            None => {
                let (new, old) = (commit.to_string(), c.expected.to_string());
                let out = self.git.run_with(
                    &["update-ref", "-m", &reflog, c.branch, &new, &old],
                    &[],
                    None,
                )?;
                if !out.status.success() {
                    return Err(moved(last_line(&out.stderr)));
                }
            }
        }
        crate::failpoint::hit("after-commit");
        let mode = self.mode_in(c.expected, c.rel)?;
        self.update_index_entry(c.rel, c.blob, mode, stat)
            .map_err(|e| {
                Error::Git(format!(
                    "committed {commit}, but the index entry for {} could not be updated ({e}); run `git reset -q -- {}`",
                    c.rel, c.rel
                ))
            })
    }

    /// Whether `commit` is exactly the commit [`Writer::make_commit`] makes from `parent`
    /// for `rel` = `blob` with `message`: one parent, that message, and the parent's tree
    /// with only that entry replaced.
    pub fn is_path_commit(
        &self,
        commit: ObjectId,
        parent: ObjectId,
        rel: &str,
        blob: ObjectId,
        message: &str,
    ) -> Result<bool> {
        let (tree, parents, raw_message) = match self.lib {
            Some(r) => r.commit_parts(commit)?,
            None => {
                let raw = self
                    .git
                    .checked(&["cat-file", "commit", &commit.to_string()])?;
                let split = raw
                    .windows(2)
                    .position(|w| w == b"\n\n")
                    .unwrap_or(raw.len());
                let headers = String::from_utf8_lossy(&raw[..split]);
                let field = |name: &str| {
                    headers
                        .lines()
                        .filter_map(|l| l.strip_prefix(name))
                        .map(ObjectId::parse)
                        .collect::<Result<Vec<_>>>()
                };
                let tree = field("tree ")?.into_iter().next();
                let message = raw.get(split + 2..).unwrap_or_default().to_vec();
                (tree, field("parent ")?, message)
            }
        };
        if parents != [parent] || raw_message != message.as_bytes() {
            return Ok(false);
        }
        Ok(tree == Some(self.tree_with(parent, rel, blob)?))
    }

    /// Points the index entry of `rel` at its blob in `HEAD`, leaving every other entry as it
    /// is; the caller holds `index.lock`. The entry gets no stat data (nothing says the file
    /// on disk is still the bytes this run saw), so git compares the content next time.
    pub fn index_entry_to_head(&self, _lock: &IndexLock, rel: &str) -> Result<()> {
        let (blob, mode) = match self.lib {
            Some(r) => r.head_entry(rel)?,
            None => {
                let head = self
                    .git
                    .commit_of("HEAD")?
                    .ok_or_else(|| Error::Git("HEAD names no commit".into()))?;
                let entry = self
                    .git
                    .tree_entry(&head, rel)?
                    .ok_or_else(|| Error::Git(format!("{rel} is not in HEAD")))?;
                (ObjectId::parse(&entry.oid)?, entry.mode)
            }
        };
        let mode = if mode == 0o100755 { 0o100755 } else { 0o100644 };
        self.update_index_entry(rel, blob, mode, None)
    }

    /// Rewrites the index with only `rel`'s entry replaced: a copy of the index is edited
    /// and renamed over it while the caller holds `index.lock`. libgit2 edits the copy when
    /// it reads the index; else git does (`GIT_INDEX_FILE` naming the copy), and `git add
    /// --refresh` gives that one entry the stat data of the file when `stat` says this run
    /// wrote it (git records it only if the file still holds the blob's bytes).
    fn update_index_entry(
        &self,
        rel: &str,
        blob: ObjectId,
        mode: u32,
        stat: Option<&std::fs::Metadata>,
    ) -> Result<()> {
        let index_path = self.git_dir.join("index");
        let tmp = TempFile::new(&self.git_dir, "index");
        if index_path.exists() {
            std::fs::copy(&index_path, &tmp.path)
                .map_err(|e| crate::error::io(&index_path, "copy", e))?;
        }
        match (self.lib, self.lib_index) {
            (Some(_), true) => {
                let mut index = git2::Index::open(&tmp.path)?;
                index.add(&index_entry(rel, blob.oid()?, mode, stat))?;
                index.write()?;
            }
            _ => {
                let env = [("GIT_INDEX_FILE", tmp.path.as_os_str())];
                let entry = format!("{mode:o} {blob}\t{rel}\0");
                self.git.checked_with(
                    &["update-index", "-z", "--index-info"],
                    &env,
                    Some(entry.as_bytes()),
                )?;
                if stat.is_some() {
                    // Only the stat data: where git declines (a path outside a sparse
                    // checkout), the entry keeps none and git compares the content.
                    self.git
                        .run_with(&["add", "--refresh", "--", rel], &env, None)?;
                }
            }
        }
        std::fs::rename(&tmp.path, &index_path)
            .map_err(|e| crate::error::io(&index_path, "replace", e))
    }

    /// A boolean git setting as git reads it (every config source, includes, `-c`
    /// through `GIT_CONFIG_PARAMETERS`); `None` when unset.
    fn config_bool(&self, key: &str) -> Result<Option<bool>> {
        let out = self
            .git
            .run_with(&["config", "--type=bool", "--get", key], &[], None)?;
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
    /// stores the bytes as they are; when `true`, [`Writer::hash_as_git_stores`] tells.
    pub fn may_convert(&self, rel: &str, bytes: &[u8]) -> Result<bool> {
        let out = self
            .git
            .run_with(&["config", "--get", "core.autocrlf"], &[], None)?;
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
        let out = self.git.checked(&args)?;
        // `-z`: path NUL attribute NUL value NUL, for each attribute asked.
        let fields: Vec<&[u8]> = out.split(|&b| b == 0).collect();
        Ok(fields
            .chunks(3)
            .filter(|c| c.len() == 3)
            .any(|c| c[2] != b"unspecified" && c[2] != b"unset"))
    }

    /// The blob id git would store for `bytes` at `rel` (`git hash-object --path`): its
    /// clean filters and line-ending conversion applied. It differs from
    /// [`Writer::hash`] exactly when git would not commit these bytes as they are.
    pub fn hash_as_git_stores(&self, rel: &str, bytes: &[u8]) -> Result<String> {
        let out =
            self.git
                .checked_with(&["hash-object", "--path", rel, "--stdin"], &[], Some(bytes))?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// How git's index flags hide local edits of `rel` from `git status`:
    /// `assume-unchanged` and/or `skip-worktree` (`git ls-files -v`), empty when neither.
    pub fn hiding_flags(&self, rel: &str) -> Result<Vec<&'static str>> {
        let out = self.git.checked(&["ls-files", "-z", "-v", "--", rel])?;
        let mut flags = Vec::new();
        for record in out.split(|&b| b == 0) {
            let Some((&tag, rest)) = record.split_first() else {
                continue;
            };
            if rest.get(1..) != Some(rel.as_bytes()) {
                continue;
            }
            if tag.is_ascii_lowercase() {
                flags.push("assume-unchanged");
            }
            if tag.eq_ignore_ascii_case(&b's') {
                flags.push("skip-worktree");
            }
        }
        Ok(flags)
    }
}

/// The operation in progress, read as `git commit` reads it: the files git keeps in
/// `git_dir` (`rebase-merge/`, `rebase-apply/`, `MERGE_HEAD`, `BISECT_LOG`), and the
/// pseudorefs `REVERT_HEAD` and `CHERRY_PICK_HEAD`, which a reftable repository keeps in
/// its ref store (`is_ref`), in libgit2's order.
fn in_progress_in(
    git_dir: &Path,
    is_ref: impl Fn(&str) -> Result<bool>,
) -> Result<Option<InProgress>> {
    let has = |name: &str| git_dir.join(name).exists();
    let (what, resolve) = if has("rebase-merge") || has("rebase-apply/rebasing") {
        ("a rebase", "git rebase --continue, or git rebase --abort")
    } else if has("rebase-apply") {
        (
            "a rebase or `git am`",
            "git rebase --continue or git am --continue, or their --abort",
        )
    } else if has("MERGE_HEAD") {
        ("a merge", "git merge --continue, or git merge --abort")
    } else if is_ref("REVERT_HEAD")? {
        ("a revert", "git revert --continue, or git revert --abort")
    } else if is_ref("CHERRY_PICK_HEAD")? {
        (
            "a cherry-pick",
            "git cherry-pick --continue, or git cherry-pick --abort",
        )
    } else if has("BISECT_LOG") {
        ("a bisect", "git bisect reset")
    } else {
        return Ok(None);
    };
    Ok(Some(InProgress { what, resolve }))
}

/// A temporary file in the git directory, `.index.runqlint-tmp.<pid>.<what>` (named like
/// [`crate::atomic`]'s, so a killed run's is removed by the next run:
/// [`Writer::remove_stale_temps`]), removed (with the lock git may leave beside it) on
/// drop unless renamed away.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn new(git_dir: &Path, what: &str) -> TempFile {
        let path = git_dir.join(format!(".index.runqlint-tmp.{}.{what}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempFile { path }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let mut lock = self.path.clone().into_os_string();
        lock.push(".lock");
        let _ = std::fs::remove_file(lock);
    }
}

impl Repo {
    pub fn head(&self) -> Result<Head> {
        if self.repo.head_detached().unwrap_or(false) {
            return Ok(Head::Detached);
        }
        match self.repo.head() {
            Ok(r) => {
                let name = r.name().unwrap_or("HEAD").to_string();
                let commit = ObjectId::from_oid(r.peel_to_commit()?.id());
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

    /// See [`Writer::path_state`] (libgit2 reads this index).
    fn path_state(&self, rel: &str) -> Result<Vec<&'static str>> {
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

    /// The tree of `parent` with `rel` set to `blob` (keeping an executable bit).
    fn tree_with(&self, parent: ObjectId, rel: &str, blob: ObjectId) -> Result<ObjectId> {
        let tree = self.repo.find_commit(parent.oid()?)?.tree()?;
        let mode = match tree.get_path(Path::new(rel)) {
            Ok(e) if e.filemode() == 0o100755 => git2::FileMode::BlobExecutable,
            _ => git2::FileMode::Blob,
        };
        let mut update = git2::build::TreeUpdateBuilder::new();
        update.upsert(rel, blob.oid()?, mode);
        Ok(ObjectId::from_oid(
            update.create_updated(&self.repo, &tree)?,
        ))
    }

    /// `rel`'s mode in `parent`, if it is there.
    fn mode_in(&self, parent: ObjectId, rel: &str) -> Result<Option<u32>> {
        let tree = self.repo.find_commit(parent.oid()?)?.tree()?;
        Ok(tree
            .get_path(Path::new(rel))
            .ok()
            .map(|e| e.filemode() as u32))
    }

    /// `rel`'s blob and mode in `HEAD`.
    fn head_entry(&self, rel: &str) -> Result<(ObjectId, u32)> {
        let head = self.repo.head()?.peel_to_commit()?;
        let entry = head.tree()?.get_path(Path::new(rel))?;
        Ok((ObjectId::from_oid(entry.id()), entry.filemode() as u32))
    }

    /// The commit object of `tree` on `parent`, unsigned.
    fn commit(
        &self,
        tree: ObjectId,
        parent: ObjectId,
        idents: &Idents,
        message: &str,
    ) -> Result<ObjectId> {
        let parent = self.repo.find_commit(parent.oid()?)?;
        let tree = self.repo.find_tree(tree.oid()?)?;
        let (author, committer) = (idents.author.signature()?, idents.committer.signature()?);
        let id = self
            .repo
            .commit(None, &author, &committer, message, &tree, &[&parent])?;
        Ok(ObjectId::from_oid(id))
    }

    /// Moves `branch` from `expected` to `commit` (compare-and-swap); the failure's reason.
    fn move_branch(
        &self,
        branch: &str,
        commit: ObjectId,
        expected: ObjectId,
        reflog: &str,
    ) -> std::result::Result<(), String> {
        let (new, old) = (
            commit.oid().map_err(|e| e.to_string())?,
            expected.oid().map_err(|e| e.to_string())?,
        );
        self.repo
            .reference_matching(branch, new, true, old, reflog)
            .map(drop)
            .map_err(|e| e.message().to_string())
    }

    /// A commit's tree, parents and raw message.
    fn commit_parts(&self, commit: ObjectId) -> Result<(Option<ObjectId>, Vec<ObjectId>, Vec<u8>)> {
        let c = self.repo.find_commit(commit.oid()?)?;
        Ok((
            Some(ObjectId::from_oid(c.tree_id())),
            c.parent_ids().map(ObjectId::from_oid).collect(),
            c.message_raw_bytes().to_vec(),
        ))
    }

    /// The operation git is in the middle of, if any (merge, cherry-pick, revert, rebase of
    /// either kind, `git am`, bisect).
    fn in_progress(&self) -> Option<InProgress> {
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
}

/// The index entry for `rel`. Without `stat` the entry's stat data is zero, which never
/// matches a file, so git compares the content before it trusts the entry.
fn index_entry(
    rel: &str,
    id: Oid,
    mode: u32,
    stat: Option<&std::fs::Metadata>,
) -> git2::IndexEntry {
    let zero = git2::IndexTime::new(0, 0);
    let Some(meta) = stat else {
        return git2::IndexEntry {
            ctime: zero,
            mtime: zero,
            dev: 0,
            ino: 0,
            mode,
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
        mode,
        uid,
        gid,
        file_size: meta.len() as u32,
        id,
        flags: rel.len().min(0xfff) as u16,
        flags_extended: 0,
        path: rel.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idents_parse_as_git_var_prints_them() {
        let i = Ident::parse("A. U. Thor <a@example.com> 1772064000 -0130\n").unwrap();
        assert_eq!(i.name, "A. U. Thor");
        assert_eq!(i.email, "a@example.com");
        assert_eq!(i.when, 1_772_064_000);
        assert_eq!(i.offset_minutes(), -90);
        let odd = Ident::parse("Name <with> <e@x> 5 +0000").unwrap();
        assert_eq!(
            (odd.name.as_str(), odd.email.as_str()),
            ("Name <with>", "e@x")
        );
        for bad in [
            "",
            "Name <e@x>",
            "Name <e@x> x +0000",
            "Name e@x 5 +0000",
            "N <e> 5 0000",
        ] {
            assert!(Ident::parse(bad).is_none(), "{bad}");
        }
    }
}
