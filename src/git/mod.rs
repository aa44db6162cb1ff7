//! The only door to git: every git2 call in runqlint is in this module and its two
//! halves, and no git2 type leaves it (object ids are [`ObjectId`], errors are
//! [`Error::Git`]).
//!
//! - [`read`]: the versions of a file that `check` compares (a revision's tree, the index)
//!   and where git keeps its hooks. Nothing there writes.
//! - [`write`](mod@write): [`Writer`], what `fix` needs to commit one file: HEAD's state,
//!   the path's status, the identity, git's `index.lock`, blobs, the one-path commit with
//!   compare-and-swap on the branch, and the one-entry index rewrite; through libgit2 where
//!   it can, else through the `git` program (SHA-256 objects, reftable refs, split index).
//!
//! Here: finding the repository and turning paths into repository-relative ones.
//!
//! Inside a hook git exports `GIT_DIR` and, for `git commit -a` or `git commit PATH`,
//! `GIT_INDEX_FILE` pointing at a temporary index: both are honoured, so `--staged` reads
//! exactly what the commit will record.

pub mod read;
pub mod write;

use std::fmt;
use std::path::{Component, Path, PathBuf};

use git2::{ObjectType, Oid, Repository};

use crate::error::{Error, Result};
use crate::gitcli::Git;

pub use crate::gitcli::{merge_heads, Blob, MergeHead};
pub use write::{FileCommit, Head, Writer};

/// A repository with a working tree (or a bare one, which has none).
pub struct Repo {
    repo: Repository,
    /// The same repository through the `git` program, for what libgit2 reads differently
    /// (`None` without a working tree).
    git: Option<Git>,
}

/// A git object id (a commit or a blob), as git prints it: 20 bytes (SHA-1) or 32
/// (SHA-256, a repository only the `git` program writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectId {
    raw: [u8; 32],
    len: u8,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.raw[..usize::from(self.len)] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl ObjectId {
    /// Parses an object id as git prints it (40 or 64 hexadecimal digits).
    pub fn parse(s: &str) -> Result<ObjectId> {
        let bad = || Error::Git(format!("`{}` is not an object id", crate::text::escape(s)));
        let hex = s.as_bytes();
        if !(hex.len() == 40 || hex.len() == 64) {
            return Err(bad());
        }
        let mut raw = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| bad())?;
            raw[i] = u8::from_str_radix(text, 16).map_err(|_| bad())?;
        }
        Ok(ObjectId {
            raw,
            len: (hex.len() / 2) as u8,
        })
    }

    fn from_oid(oid: Oid) -> ObjectId {
        let bytes = oid.as_bytes();
        let mut raw = [0u8; 32];
        raw[..bytes.len()].copy_from_slice(bytes);
        ObjectId {
            raw,
            len: bytes.len() as u8,
        }
    }

    /// The libgit2 id; a SHA-256 id has none (libgit2 never opens such a repository).
    fn oid(self) -> Result<Oid> {
        Oid::from_bytes(&self.raw[..usize::from(self.len)])
            .map_err(|_| Error::Bug(format!("{self} is not an id libgit2 can hold")))
    }
}

impl From<git2::Error> for Error {
    fn from(e: git2::Error) -> Self {
        Error::Git(format!("git: {}", e.message()))
    }
}

/// The git blob id of `bytes` (as `git hash-object` would print it).
pub fn hash_blob(bytes: &[u8]) -> String {
    Oid::hash_object(ObjectType::Blob, bytes).map_or_else(|_| "0".repeat(40), |o| o.to_string())
}

impl Repo {
    /// Finds the repository containing `start` (a file or directory), honouring `GIT_DIR`.
    /// `Ok(None)` when `start` is not inside a repository.
    pub fn discover(start: &Path) -> Result<Option<Repo>> {
        if std::env::var_os("GIT_DIR").is_some() {
            let repo = Repository::open_from_env()?;
            // libgit2 leaves `GIT_WORK_TREE` (and so `git --work-tree`) to the caller.
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

    /// `path` (absolute or relative to the current directory) as a repository-relative path
    /// with `/` separators.
    pub fn relative(&self, path: &Path) -> Result<String> {
        let workdir = self
            .workdir()
            .ok_or_else(|| Error::Usage("a bare repository has no working tree".into()))?;
        relative_in(workdir, path)
    }

    /// The repository's git directory (`.git`, or the worktree's own in a linked worktree).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// The commits a merge in progress brings into HEAD (see [`merge_heads`]); empty
    /// outside a merge. Reads one file of the git directory and the environment: no
    /// process is started.
    pub fn merge_heads(&self) -> Result<Vec<MergeHead>> {
        let file = self.git_dir().join("MERGE_HEAD");
        match std::fs::read(&file) {
            Ok(bytes) => Ok(merge_heads(Some(&bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(merge_heads(None)),
            Err(e) => Err(crate::error::io(&file, "read", e)),
        }
    }
}

/// The config files git is told to read and libgit2 does not read by itself: the ones
/// `GIT_CONFIG_GLOBAL` and `GIT_CONFIG_SYSTEM` name (libgit2 reads its own global and
/// system files instead; `GIT_CONFIG_NOSYSTEM` turns the system file off, as in git), in
/// git's order of precedence (global before system).
fn env_configs() -> Vec<git2::Config> {
    let named = |var: &str| std::env::var_os(var).filter(|p| !p.is_empty());
    let nosystem = std::env::var("GIT_CONFIG_NOSYSTEM").is_ok_and(|v| {
        !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "false" | "no" | "off"
        )
    });
    [
        named("GIT_CONFIG_GLOBAL"),
        named("GIT_CONFIG_SYSTEM").filter(|_| !nosystem),
    ]
    .into_iter()
    .flatten()
    .filter_map(|p| git2::Config::open(Path::new(&p)).ok())
    .collect()
}

/// Whether a setting given on git's command line (`git -c KEY=VALUE`, exported to hooks as
/// `GIT_CONFIG_PARAMETERS`, or `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`), which libgit2 never
/// reads, may name one of `keys` (lower case). Erring towards yes only costs asking git.
fn command_line_config_names(keys: &[&str]) -> bool {
    let names = |text: &str| {
        let text = text.to_ascii_lowercase();
        keys.iter().any(|k| text.contains(k))
    };
    if std::env::var("GIT_CONFIG_PARAMETERS").is_ok_and(|p| names(&p)) {
        return true;
    }
    let count: usize = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .unwrap_or(0);
    (0..count).any(|i| std::env::var(format!("GIT_CONFIG_KEY_{i}")).is_ok_and(|k| names(&k)))
}

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
