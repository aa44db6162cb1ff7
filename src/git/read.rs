//! Reading versions: a file as a revision's tree or the index holds it, and where git
//! keeps its hooks. Nothing here writes.

use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid};

use super::Repo;
use crate::error::{Error, Result};

/// A blob read from git, or the reason there is none.
pub enum Blob {
    Found(Vec<u8>),
    /// The path does not exist in that version.
    Missing,
    /// There is no such version (a repository with no commits has no HEAD).
    NoVersion,
}

impl Repo {
    /// Where git looks for hooks, as `git rev-parse --git-path hooks` answers: `core.hooksPath`
    /// when set (`~/` expanded; a relative value is relative to the working tree's root,
    /// where git runs hooks), else `hooks` in the common git directory, which every linked
    /// worktree of the repository shares. The directory may not exist yet.
    pub fn hooks_dir(&self) -> Result<PathBuf> {
        let config = self.repo.config()?;
        let configured = match config.get_path("core.hooksPath") {
            Ok(p) => Some(p),
            Err(e) if e.code() == git2::ErrorCode::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        match configured {
            Some(p) if p.as_os_str().is_empty() => Ok(self.repo.commondir().join("hooks")),
            Some(p) if p.is_absolute() => Ok(p),
            Some(p) => {
                let base = self.repo.workdir().unwrap_or_else(|| self.repo.commondir());
                Ok(base.join(p))
            }
            None => Ok(self.repo.commondir().join("hooks")),
        }
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
