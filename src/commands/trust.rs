//! `runqlint trust`: approve the repository's `runqlint.toml` (or `--config FILE`) so that
//! `fix` and `stale` may run the programs it names; `--show` lists the approvals, `--revoke`
//! withdraws one. An approval is the file's canonical path and the SHA-256 of the bytes
//! read and validated here, in the user's trust store ([`crate::trust::store_path`]); any
//! edit to the file needs a new approval.

use std::path::{Path, PathBuf};

use crate::cli::TrustArgs;
use crate::error::{io, Error, Result};
use crate::output;
use crate::text;
use crate::trust::{sha256, Store};

use super::Workspace;

pub fn run(args: &TrustArgs) -> Result<()> {
    let text = if args.show {
        show(&Store::load()?)
    } else if args.revoke {
        revoke(args.config.as_deref())?
    } else {
        approve(args.config.as_deref())?
    };
    output::stdout(&text).map_err(|e| Error::Io(format!("stdout: {e}")))
}

fn approve(config: Option<&Path>) -> Result<String> {
    // Opening the workspace reads and validates the file: an invalid one is not approved.
    let ws = Workspace::open(None, config)?;
    let Some(file) = ws.config.file.as_deref() else {
        return Err(Error::Usage(format!(
            "{}: no such file, nothing to approve",
            ws.root.join(crate::config::FILE_NAME).display()
        )));
    };
    let mut store = Store::load()?;
    store.approve(
        file,
        &chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    store.save()?;
    let named: Vec<String> = [&ws.config.fix.alive_cmd, &ws.config.fix.openclaw_bin]
        .into_iter()
        .flatten()
        .map(|u| u.shown())
        .collect();
    let what = if named.is_empty() {
        "it names no program now".to_string()
    } else {
        format!("fix and stale may run {}", named.join(", "))
    };
    Ok(format!(
        "approved {} (sha256 {}): {what}; any edit to it needs a new approval\n",
        text::escape(&file.canonical.to_string_lossy()),
        &file.sha256[..16]
    ))
}

fn revoke(config: Option<&Path>) -> Result<String> {
    let path = match config {
        Some(p) => p.to_path_buf(),
        None => {
            // The repository's file, found as the other commands find it; it need not parse
            // (nor exist) to be revoked.
            let cwd = std::env::current_dir()
                .map_err(|e| io(Path::new("."), "read the current directory", e))?;
            root_of(&cwd)?.join(crate::config::FILE_NAME)
        }
    };
    let canonical = canonical(&path)?;
    let mut store = Store::load()?;
    let shown = text::escape(&canonical.to_string_lossy());
    if store.revoke(&canonical) {
        store.save()?;
        Ok(format!("revoked the approval of {shown}\n"))
    } else {
        Ok(format!("{shown} was not approved; nothing changed\n"))
    }
}

/// The working tree's root of the repository at `dir`, else `dir`.
fn root_of(dir: &Path) -> Result<PathBuf> {
    if let Ok(Some(repo)) = crate::git::Repo::discover(dir) {
        if let Some(w) = repo.workdir() {
            return Ok(w.to_path_buf());
        }
    }
    if let Some(git) = crate::gitcli::Git::discover(dir)? {
        return Ok(git.top().to_path_buf());
    }
    Ok(dir.to_path_buf())
}

/// The path with links resolved; a file that is gone, as an absolute path.
fn canonical(path: &Path) -> Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(p),
        Err(_) if path.is_absolute() => Ok(path.to_path_buf()),
        Err(_) => {
            let cwd = std::env::current_dir()
                .map_err(|e| io(Path::new("."), "read the current directory", e))?;
            Ok(cwd.join(path))
        }
    }
}

fn show(store: &Store) -> String {
    if store.entries().is_empty() {
        return format!(
            "no configuration file is approved (trust store: {})\n",
            text::escape(&store.path().to_string_lossy())
        );
    }
    let mut out = String::new();
    for e in store.entries() {
        let state = match std::fs::read(&e.path) {
            Ok(bytes) if sha256(&bytes) == e.sha256 => "approved",
            Ok(_) => "changed since approved (its programs do not run)",
            Err(_) => "missing",
        };
        out.push_str(&format!(
            "{}  sha256 {}  approved {}  {state}\n",
            text::escape(&e.path),
            text::escape(e.sha256.get(..16).unwrap_or(&e.sha256)),
            text::escape(&e.approved_at)
        ));
    }
    out
}
