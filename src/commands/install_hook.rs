//! `runqlint install-hook`: writes `hooks/pre-commit` and `hooks/pre-merge-commit`
//! (embedded at build time) into the repository's hooks directory. Each hook is handled
//! as below; every hook is examined before any is written.
//!
//! - The directory is git's: `core.hooksPath` when set, else the common git directory's
//!   `hooks`, shared by every linked worktree (see [`crate::git::Repo::hooks_dir`]).
//! - The same content already there: "already installed", nothing written (idempotent).
//! - A hook runqlint installed before (it carries [`MARKER`]): replaced by this version.
//! - Anyone else's hook: refused unless `--force`, which first keeps it as
//!   `<hook>.runqlint-backup` (or `.1`, `.2`, ... if that exists: a backup is never
//!   overwritten).
//! - The new hook is written to a temporary file in the same directory, made executable
//!   (0755) and renamed into place, so a hook is never half-written.
//! - Then the merge driver is registered in the repository's config and the
//!   `.gitattributes` line that routes queue files to it is shown (or written, with
//!   `--gitattributes`); see [`super::merge_driver::register`].

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::InstallHookArgs;
use crate::error::{io, Error, Result};
use crate::git::Repo;
use crate::gitcli::Git;
use crate::output;

/// The hook script, as shipped in `hooks/pre-commit`.
pub const HOOK: &str = include_str!("../../hooks/pre-commit");

/// A line every version of runqlint's hook carries; a hook containing it is runqlint's own.
pub const MARKER: &str = "# runqlint pre-commit hook:";

/// The merge hook, as shipped in `hooks/pre-merge-commit`: a merge git makes without
/// stopping runs no `pre-commit`, only this.
pub const MERGE_HOOK: &str = include_str!("../../hooks/pre-merge-commit");

/// The marker of runqlint's `pre-merge-commit` hook.
pub const MERGE_MARKER: &str = "# runqlint pre-merge-commit hook:";

/// Every hook installed: (file name, content, marker).
const HOOKS: [(&str, &str, &str); 2] = [
    ("pre-commit", HOOK, MARKER),
    ("pre-merge-commit", MERGE_HOOK, MERGE_MARKER),
];

const BACKUP_SUFFIX: &str = ".runqlint-backup";

pub fn run(args: &InstallHookArgs) -> Result<()> {
    install_pre_commit(args)?;
    let ws = super::Workspace::open(None, None)?;
    super::merge_driver::register(&ws.root)?;
    route(&ws.root, &ws.config.paths, args.gitattributes)
}

/// A `.gitattributes` that `route` appends to (as shown from the root), its new lines and
/// its bytes before (`None`: it did not exist).
type FileEdit = (String, Vec<String>, Option<Vec<u8>>);

/// Routes the queue files to the merge driver, as far as git says: for each path, `git
/// check-attr merge` tells whether it already is, and [`crate::attributes::decide`] names
/// the line that keeps it from the driver. With `write`, the routing line is appended to
/// the `.gitattributes` that holds that line (a subdirectory's, with the pattern anchored
/// there), else to the root's, and git is asked again; a write git does not confirm is
/// undone. A path that `$GIT_DIR/info/attributes` holds (local, above every
/// `.gitattributes`) is refused before anything is written. Without `write`, the line to
/// add is shown.
fn route(root: &Path, paths: &[String], write: bool) -> Result<()> {
    use super::merge_driver::attributes_line;
    use crate::attributes::{decide, Decision, Precedence};
    use crate::text::escape;

    let git = Git::at(root);
    let mut open: Vec<(&str, Decision)> = Vec::new();
    for path in paths.iter().map(|p| p.trim_start_matches("./")) {
        let decision = decide(&git, root, path, "merge")?;
        if decision.value != "runqlint" {
            open.push((path, decision));
        }
    }
    if open.is_empty() {
        return say("git already routes the queue files to it (`git check-attr merge`: runqlint)");
    }
    // Why a path is not routed: git's value, and the line that gives it.
    let why = |path: &str, d: &Decision| match &d.line {
        Some(l) => format!(
            "{}: `git check-attr merge` says `{}`, from {}:{} (`{}`)",
            escape(path),
            escape(&d.value),
            escape(&l.file),
            l.number,
            escape(&l.text)
        ),
        None => format!(
            "{}: `git check-attr merge` says `{}`",
            escape(path),
            escape(&d.value)
        ),
    };
    // Where each path's line goes: the deciding subdirectory's file, else the root's.
    let target = |path: &str, d: &Decision| -> (String, String) {
        match d.line.as_ref().map(|l| &l.place) {
            Some(Precedence::Directory(dir)) => {
                let inside = path.strip_prefix(&format!("{dir}/")).unwrap_or(path);
                (
                    format!("{dir}/.gitattributes"),
                    attributes_line(&format!("/{inside}")),
                )
            }
            _ => (".gitattributes".to_string(), attributes_line(path)),
        }
    };
    let mut out = String::new();
    for (path, d) in &open {
        if d.value != "unspecified" {
            out.push_str(&format!("{}\n", why(path, d)));
        }
    }
    if !write {
        for (path, d) in &open {
            let (file, line) = target(path, d);
            out.push_str(&format!(
                "route {} to it with this line in {} (commit it), or rerun with --gitattributes:\n    {}\n",
                escape(path),
                escape(&file),
                escape(&line)
            ));
        }
        return say(out.trim_end());
    }
    if let Some((path, d)) = open
        .iter()
        .find(|(_, d)| matches!(d.line.as_ref().map(|l| &l.place), Some(Precedence::Info)))
    {
        return Err(Error::Refused(format!(
            "{}, which outranks every .gitattributes and is not committed; remove that line or put `{}` after it, then rerun (nothing was written to .gitattributes)",
            why(path, d),
            escape(&attributes_line(path))
        )));
    }
    if let Some(bad) = open.iter().map(|(p, _)| *p).find(|p| {
        p.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    }) {
        return Err(Error::Usage(format!(
            "{} cannot be written as a .gitattributes pattern as it is; add its line by hand",
            crate::text::quote(bad)
        )));
    }
    // Each file's new lines, in order, and its bytes before.
    let mut files: Vec<FileEdit> = Vec::new();
    for (path, d) in &open {
        let (file, line) = target(path, d);
        match files.iter_mut().find(|(f, _, _)| *f == file) {
            Some((_, lines, _)) => lines.push(line),
            None => {
                let full = root.join(&file);
                let before = match std::fs::read(&full) {
                    Ok(bytes) => Some(bytes),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(io(&full, "read", e)),
                };
                files.push((file, vec![line], before));
            }
        }
    }
    let undo = |files: &[FileEdit]| -> Result<()> {
        for (file, _, before) in files {
            let full = root.join(file);
            match before {
                Some(bytes) => super::merge_driver::write_atomic(&full, bytes)?,
                None => match std::fs::remove_file(&full) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io(&full, "remove", e))
                    }
                    _ => {}
                },
            }
        }
        Ok(())
    };
    for (n, (file, lines, before)) in files.iter().enumerate() {
        let full = root.join(file);
        let mut text = before.clone().unwrap_or_default();
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        for line in lines {
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
        let written = match before {
            Some(_) => super::merge_driver::write_atomic(&full, &text),
            None => std::fs::write(&full, &text).map_err(|e| io(&full, "write", e)),
        };
        if let Err(e) = written {
            undo(&files[..n])?;
            return Err(e);
        }
        for line in lines {
            out.push_str(&format!("added to {}: {}\n", escape(file), escape(line)));
        }
    }
    // git has the last word: a line runqlint misread is undone, not left half-working.
    for (path, _) in &open {
        let now = decide(&git, root, path, "merge")?;
        if now.value != "runqlint" {
            undo(&files)?;
            return Err(Error::Refused(format!(
                "{} even with the line added; the .gitattributes files are left as they were",
                why(path, &now)
            )));
        }
    }
    let names: Vec<String> = files.iter().map(|(f, _, _)| escape(f)).collect();
    out.push_str(&format!(
        "commit {} so that every clone routes queue files to the driver",
        names.join(" and ")
    ));
    say(&out)
}

fn install_pre_commit(args: &InstallHookArgs) -> Result<()> {
    let cwd =
        std::env::current_dir().map_err(|e| io(Path::new("."), "read the current directory", e))?;
    let dir = match Repo::discover(&cwd) {
        Ok(Some(repo)) if repo.is_bare() => {
            return Err(Error::Usage(
                "this is a bare repository: it has no working tree, so no commit runs a pre-commit hook here".into(),
            ));
        }
        Ok(Some(repo)) => repo.hooks_dir()?,
        Ok(None) => {
            return Err(Error::Usage(format!(
                "{} is not in a git repository",
                cwd.display()
            )))
        }
        // A repository libgit2 cannot open (SHA-256, reftable): git knows where its hooks are.
        Err(e) => Git::discover(&cwd)?.ok_or(e)?.hooks_dir()?,
    };
    // Every hook is looked at before any is written: a refusal writes nothing.
    let mut plan = Vec::new();
    for (name, content, marker) in HOOKS {
        let target = dir.join(name);
        let state = existing(&target, content, marker)?;
        if matches!(state, Existing::Foreign) && !args.force {
            return Err(Error::Refused(format!(
                "{} already exists and is not runqlint's hook; left it alone. \
                 To chain them, call `runqlint check --staged` from it; to replace it, rerun with \
                 --force (it is kept as {name}{BACKUP_SUFFIX})",
                shown(&target, &cwd)
            )));
        }
        plan.push((name, content, target, state));
    }
    for (name, content, target, state) in plan {
        let verb = match state {
            Existing::Same => {
                make_executable(&target)?;
                say(&format!(
                    "runqlint {name} hook already installed at {}",
                    shown(&target, &cwd)
                ))?;
                continue;
            }
            Existing::None => "installed",
            Existing::Ours => "updated",
            Existing::Foreign => {
                let backup = keep_backup(&target, &dir, name)?;
                say(&format!(
                    "kept the previous {name} hook as {}",
                    shown(&backup, &cwd)
                ))?;
                "installed"
            }
        };
        write_hook(&dir, &target, content)?;
        say(&format!(
            "{verb} runqlint {name} hook at {}",
            shown(&target, &cwd)
        ))?;
    }
    Ok(())
}

enum Existing {
    None,
    /// Byte-for-byte this version.
    Same,
    /// An earlier version of runqlint's hook.
    Ours,
    /// Someone else's (or a symbolic link, a directory, unreadable bytes).
    Foreign,
}

fn existing(target: &Path, hook: &str, marker: &str) -> Result<Existing> {
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Existing::None),
        Err(e) => return Err(io(target, "inspect", e)),
    };
    if meta.is_dir() {
        return Err(Error::Refused(format!(
            "{} is a directory; remove it first",
            target.display()
        )));
    }
    if !meta.is_file() {
        return Ok(Existing::Foreign);
    }
    let bytes = std::fs::read(target).map_err(|e| io(target, "read", e))?;
    Ok(if bytes == hook.as_bytes() {
        Existing::Same
    } else if String::from_utf8_lossy(&bytes)
        .lines()
        .any(|l| l.starts_with(marker))
    {
        Existing::Ours
    } else {
        Existing::Foreign
    })
}

/// Links the current hook to the first free backup name; never replaces a file.
fn keep_backup(target: &Path, dir: &Path, hook: &str) -> Result<PathBuf> {
    for n in 0..1000 {
        let name = if n == 0 {
            format!("{hook}{BACKUP_SUFFIX}")
        } else {
            format!("{hook}{BACKUP_SUFFIX}.{n}")
        };
        let backup = dir.join(name);
        // A hard link fails if the name exists and keeps a symbolic link as a link.
        match std::fs::hard_link(target, &backup) {
            Ok(()) => return Ok(backup),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(_) => {
                // No hard links here (some filesystems): copy, created exclusively.
                let bytes = std::fs::read(target).map_err(|e| io(target, "read", e))?;
                let mut f = match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&backup)
                {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(io(&backup, "create", e)),
                };
                f.write_all(&bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| io(&backup, "write", e))?;
                let perms = std::fs::metadata(target)
                    .map_err(|e| io(target, "inspect", e))?
                    .permissions();
                std::fs::set_permissions(&backup, perms)
                    .map_err(|e| io(&backup, "set permissions on", e))?;
                return Ok(backup);
            }
        }
    }
    Err(Error::Refused(format!(
        "too many {hook}{BACKUP_SUFFIX}* files in {}; remove some",
        dir.display()
    )))
}

fn write_hook(dir: &Path, target: &Path, hook: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io(dir, "create", e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".hook.runqlint")
        .tempfile_in(dir)
        .map_err(|e| io(dir, "create a temporary file in", e))?;
    tmp.write_all(hook.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io(tmp.path(), "write", e))?;
    make_executable(tmp.path())?;
    tmp.persist(target)
        .map_err(|e| io(target, "write", e.error))?;
    Ok(())
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| io(path, "make executable", e))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}

/// `path` relative to `cwd` when it is inside it, else absolute.
fn shown(path: &Path, cwd: &Path) -> String {
    crate::text::escape(&shown_str(path, cwd))
}

fn shown_str(path: &Path, cwd: &Path) -> String {
    let canon_cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let parent = path.parent().and_then(|p| std::fs::canonicalize(p).ok());
    let full = match (parent, path.file_name()) {
        (Some(p), Some(name)) => p.join(name),
        _ => path.to_path_buf(),
    };
    full.strip_prefix(&canon_cwd)
        .map(Path::to_path_buf)
        .unwrap_or(full)
        .to_string_lossy()
        .into_owned()
}

fn say(line: &str) -> Result<()> {
    output::stdout(&format!("{line}\n")).map_err(|e| Error::Io(format!("stdout: {e}")))
}
