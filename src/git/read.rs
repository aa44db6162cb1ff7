//! Reading versions: a file as a revision's tree or the index holds it, and where git
//! keeps its hooks. Nothing here writes.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid};

use super::{ObjectId, Repo};
use crate::error::{Error, Result};

pub use crate::gitcli::Blob;

impl Repo {
    /// Where git looks for hooks: `git rev-parse --git-path hooks` asked of git itself, so
    /// `core.hooksPath` counts from every config source git reads (system, global,
    /// `GIT_CONFIG_GLOBAL`, local, worktree, includes). The directory may not exist yet.
    pub fn hooks_dir(&self) -> Result<PathBuf> {
        self.cli()?.hooks_dir()
    }

    /// Whether `rev` names a commit here.
    pub fn resolves(&self, rev: &str) -> bool {
        self.repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .is_ok()
    }

    /// The file at `rel` in revision `rev` (`HEAD`, a branch, a SHA, a tag), as git would
    /// check it out (see `Repo::content`).
    pub fn blob_at(&self, rev: &str, rel: &str, limit: u64) -> Result<Blob> {
        self.blob_at_as(rev, rel, limit, true).map(|(blob, _)| blob)
    }

    /// The bytes stored in the object database for `rel` at `rev`, before any checkout
    /// conversion: what a byte-exact commit would be compared with.
    pub fn stored_blob_at(&self, rev: &str, rel: &str, limit: u64) -> Result<Blob> {
        self.blob_at_as(rev, rel, limit, false)
            .map(|(blob, _)| blob)
    }

    /// [`Repo::stored_blob_at`], with the blob's id when one was found: the id of those
    /// very bytes, so that bytes equal to them need no hashing.
    pub fn stored_blob_and_id_at(
        &self,
        rev: &str,
        rel: &str,
        limit: u64,
    ) -> Result<(Blob, Option<ObjectId>)> {
        self.blob_at_as(rev, rel, limit, false)
    }

    fn blob_at_as(
        &self,
        rev: &str,
        rel: &str,
        limit: u64,
        checkout: bool,
    ) -> Result<(Blob, Option<ObjectId>)> {
        let object = match self.repo.revparse_single(rev) {
            Ok(o) => o,
            Err(e)
                if rev == "HEAD"
                    && matches!(
                        e.code(),
                        git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                    ) =>
            {
                return Ok((Blob::Missing, None))
            }
            // git reads revisions libgit2 does not (`main-worktree/HEAD`,
            // `worktrees/NAME/HEAD`, `:/text`, reflog dates): ask it before giving up.
            Err(e) => match self.cli()?.commit_of(rev)? {
                Some(id) => {
                    let oid = Oid::from_str(&id)
                        .map_err(|_| Error::Git(format!("`{id}` is not an object id")))?;
                    self.repo.find_object(oid, None)?
                }
                None => return Err(self.missing_revision(rev, &e)),
            },
        };
        let commit = object
            .peel_to_commit()
            .map_err(|_| Error::Git(format!("`{rev}` is not a commit")))?;
        let tree = commit.tree()?;
        let entry = match tree.get_path(Path::new(rel)) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok((Blob::Missing, None)),
            Err(e) => return Err(e.into()),
        };
        match entry.kind() {
            // A symbolic link at the base holds no queue: a regular file now is a new one.
            Some(ObjectType::Blob) if entry.filemode() == 0o120000 => Ok((Blob::Missing, None)),
            Some(ObjectType::Blob) if checkout => self
                .content(entry.id(), rel, limit)
                .map(|b| (Blob::Found(b), None)),
            Some(ObjectType::Blob) => self
                .read_blob(entry.id(), rel, limit)
                .map(|b| (Blob::Found(b), Some(ObjectId::from_oid(entry.id())))),
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

    /// The staged version of `rel`: the index entry, not the working tree, as git would
    /// check it out. An intent to add (`git add -N`) is not content: git commits nothing
    /// for it.
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
    /// by libgit2 (`.gitattributes`, `info/attributes`, `core.attributesFile`). Config
    /// libgit2 does not read (the files `GIT_CONFIG_GLOBAL` and `GIT_CONFIG_SYSTEM` name,
    /// `git -c`) is read here; a `core.attributesFile` named only there sends every read
    /// to git.
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
        if super::command_line_config_names(&["core.attributesfile", "core.autocrlf", "core.eol"]) {
            return true;
        }
        let unread = super::env_configs();
        if unread
            .iter()
            .any(|c| c.get_string("core.attributesFile").is_ok())
        {
            return true;
        }
        let local = self.repo.config().ok();
        let get = |key: &str| {
            local
                .iter()
                .chain(&unread)
                .find_map(|c| c.get_string(key).ok())
                .map(|v| v.to_ascii_lowercase())
        };
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
            return Err(Error::too_big(rel, size as u64, limit));
        }
        // A loose object (what `git add` and a fresh commit write) inflates straight into
        // one buffer; anything else (a packed object) is read whole and copied.
        if let Some(bytes) = read_stream(&odb, id, size) {
            return Ok(bytes);
        }
        Ok(self.repo.find_blob(id)?.content().to_vec())
    }

    /// The error for a revision that cannot be found, with a command that brings it: a
    /// full commit id is fetched by id; a branch into its remote-tracking ref (named for
    /// `--base` when the revision was spelled without the remote); anything else (`HEAD~1`,
    /// `main^`, an abbreviated id) only by deepening a shallow clone, since `git fetch`
    /// takes neither ancestry nor abbreviations.
    fn missing_revision(&self, rev: &str, _: &git2::Error) -> Error {
        let shallow = self.repo.is_shallow();
        let quote = |s: &str| shell_words::quote(s).into_owned();
        let (remote, name) = match rev.split_once('/') {
            Some((remote, branch)) if self.repo.find_remote(remote).is_ok() => (remote, branch),
            _ => ("origin", rev),
        };
        let hex = !rev.is_empty() && rev.chars().all(|c| c.is_ascii_hexdigit());
        let full_id = hex && matches!(rev.len(), 40 | 64);
        let branch = !hex
            && !rev.contains(['~', '^', ':', '@', '{'])
            && git2::Reference::is_valid_name(&format!("refs/heads/{name}"));
        let fetch = if full_id {
            let depth = if shallow { " --depth=1" } else { "" };
            format!("git fetch --no-tags{depth} {} {rev}", quote(remote))
        } else if branch {
            let tracking = format!("{remote}/{name}");
            let mut fetch = format!(
                "git fetch --no-tags {} {}",
                quote(remote),
                quote(&format!("{name}:refs/remotes/{tracking}"))
            );
            if rev != tracking {
                fetch.push_str(&format!(", then use --base {}", quote(&tracking)));
            }
            fetch
        } else if shallow {
            format!("git fetch --no-tags --unshallow {}", quote(remote))
        } else {
            return Error::Git(format!(
                "base revision `{rev}` does not name a commit in this repository"
            ));
        };
        let shallow = if shallow {
            " (this clone is shallow)"
        } else {
            ""
        };
        Error::Git(format!(
            "base revision `{rev}` is not in this clone{shallow}; fetch it with: {fetch}"
        ))
    }
}

/// Index entry flags (the extended ones, as libgit2 exposes them).
const INTENT_TO_ADD: u16 = 1 << 13;
const SKIP_WORKTREE: u16 = 1 << 14;

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
