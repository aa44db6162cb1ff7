//! The subcommands: the only places that combine git, files, rules and output.

pub mod alive;
pub mod audit;
pub mod check;
pub mod completions;
pub mod explain;
pub mod fix;
pub mod install_hook;
pub mod log;
pub mod merge_driver;
pub mod stale;
pub mod trust;

use std::path::{Path, PathBuf};

use crate::cli::Common;
use crate::config::{self, Config};
use crate::error::{io, Error, Result};
use crate::git::Repo;
use crate::gitcli::Git;

/// Where a command runs: the repository (if any), its root, and the config.
pub struct Workspace {
    pub repo: Option<Repo>,
    /// A repository git knows and libgit2 cannot open (SHA-256 objects, reftable refs, an
    /// extension libgit2 lacks): read through `git`, with libgit2's reason. `repo` is None.
    pub git_only: Option<(Git, String)>,
    /// The path was inside a bare repository (no working tree, no index to check).
    pub bare: bool,
    /// The repository's working tree, or the current directory outside a repository.
    pub root: PathBuf,
    pub config: Config,
}

impl Workspace {
    /// Finds the repository from `hint` (the first path given) or the current directory and
    /// loads the config from its root.
    pub fn open(hint: Option<&Path>, config_file: Option<&Path>) -> Result<Workspace> {
        let cwd = std::env::current_dir()
            .map_err(|e| io(Path::new("."), "read the current directory", e))?;
        let start = hint.map_or_else(|| cwd.clone(), |h| cwd.join(h));
        let (mut repo, git_only) = match Repo::discover(&start) {
            Ok(repo) => (repo, None),
            Err(e) => match Git::discover(&start)? {
                Some(git) => (None, Some((git, e.to_string()))),
                None => return Err(e),
            },
        };
        if let (None, None, Some(hint)) = (&repo, &git_only, hint) {
            // A path in no repository, named from inside one, is not checked alone (its
            // history would be silently skipped): it is outside the repository.
            if let Some(here) = Repo::discover(&cwd)?.filter(|r| !r.is_bare()) {
                here.relative(hint)?;
                repo = Some(here);
            }
        }
        let bare = repo.as_ref().is_some_and(Repo::is_bare);
        let repo = repo.filter(|r| !r.is_bare());
        let root = match (&repo, &git_only) {
            (Some(r), _) => r.workdir().map_or(cwd, Path::to_path_buf),
            (None, Some((git, _))) => git.top().to_path_buf(),
            (None, None) => cwd,
        };
        let config = Config::load(config_file, &root, hint.is_some())?;
        Ok(Workspace {
            repo,
            git_only,
            bare,
            root,
            config,
        })
    }

    /// The queue files to work on: the explicit ones, else the configured ones (relative to
    /// the root). The flag says whether the user named the path.
    pub fn queue_paths(&self, explicit: &[PathBuf]) -> Vec<(PathBuf, bool)> {
        if explicit.is_empty() {
            self.config
                .paths
                .iter()
                .map(|p| (self.root.join(p), false))
                .collect()
        } else {
            explicit.iter().map(|p| (p.clone(), true)).collect()
        }
    }

    /// The one queue file `fix` and `stale` work on: the one given, else the first
    /// configured path (relative to the root).
    pub fn queue_path(&self, explicit: Option<&Path>) -> PathBuf {
        match explicit {
            Some(p) => p.to_path_buf(),
            None => self.root.join(
                self.config
                    .paths
                    .first()
                    .map_or(config::DEFAULT_PATH, String::as_str),
            ),
        }
    }

    /// The path as shown in output: repository-relative, else as given.
    pub fn display_path(&self, path: &Path) -> Result<String> {
        match (&self.repo, &self.git_only) {
            (Some(repo), _) => repo.relative(path),
            (None, Some((git, _))) => crate::git::relative_in(git.top(), path),
            (None, None) => Ok(path.to_string_lossy().into_owned()),
        }
    }
}

/// What `log` and `audit` walk: the queue file (the one given, else the configured one), its
/// name as shown, and the commits reachable from `HEAD` (and not from `since`) that changed
/// it, read through the `git` it returns. A file git never recorded is an error, unless
/// `since` may have cut its history away.
pub fn file_history(
    ws: &Workspace,
    explicit: Option<&Path>,
    since: Option<&str>,
) -> Result<(crate::gitcli::Git, String, crate::history::History)> {
    let shown = ws.display_path(&ws.queue_path(explicit))?;
    let git = crate::gitcli::Git::at(&ws.root);
    let history = crate::history::walk(&git, &shown, since)?;
    if history.changes.is_empty() && since.is_none() {
        return Err(Error::Usage(format!(
            "{}: not in the history of HEAD",
            crate::text::escape(&shown)
        )));
    }
    Ok((git, shown, history))
}

/// `--now`, else the clock.
pub fn now_ms(common: &Common) -> Result<i64> {
    match &common.now {
        Some(t) => config::parse_time(t).map_err(|e| Error::Usage(format!("--now: {e}"))),
        None => Ok(chrono::Utc::now().timestamp_millis()),
    }
}

/// `--stale-after`, else the config's, else 6h.
pub fn stale_after_ms(common: &Common, config: &Config) -> Result<i64> {
    match &common.stale_after {
        Some(d) => {
            config::parse_duration(d).map_err(|e| Error::Usage(format!("--stale-after: {e}")))
        }
        None => Ok(config.stale_after_ms),
    }
}

/// Reads a queue file from the working tree. `Ok(None)` when it does not exist. A symbolic
/// link, a directory or a file over `limit` bytes is refused.
pub fn read_worktree(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path, "read", e)),
    };
    if meta.file_type().is_symlink() {
        return Err(Error::Usage(format!(
            "{}: is a symbolic link; runqlint checks regular files only (git would commit the link, not the queue)",
            path.display()
        )));
    }
    if meta.is_dir() {
        return Err(Error::Usage(format!(
            "{}: is a directory, not a queue file",
            path.display()
        )));
    }
    if !meta.is_file() {
        // A FIFO or device would block or never end: refuse instead of hanging a hook.
        return Err(Error::Usage(format!(
            "{}: is not a regular file",
            path.display()
        )));
    }
    if meta.len() > limit {
        return Err(Error::too_big(path.display(), meta.len(), limit));
    }
    std::fs::read(path)
        .map(Some)
        .map_err(|e| io(path, "read", e))
}
