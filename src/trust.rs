//! Trust: a program named by configuration runs only when it comes from a trusted place.
//!
//! A configuration key that names a program (`[fix] alive-cmd`, `[fix] openclaw-bin`)
//! yields an [`Untrusted`] program, whatever its source. Only [`Untrusted::clear`] turns it
//! into a runnable [`Program`], and it does so only for a trusted [`Source`]: the command
//! line, an environment variable, the user's own configuration file outside the
//! repository, or a repository configuration file the user approved with `runqlint trust`
//! (its canonical path and the SHA-256 of its bytes, recorded in the [`Store`]; any edit
//! needs a new approval). Anything else is refused with one line naming the file, the key,
//! the program and the command that approves it. A provider takes a `Program`:
//!
//! ```no_run
//! # fn main() -> runqlint::error::Result<()> {
//! let config = runqlint::config::Config::parse("[fix]\nopenclaw-bin = \"./evil.sh\"\n").unwrap();
//! // Refused: a `runqlint.toml` nobody approved.
//! let program = config.fix.openclaw_bin.unwrap().clear()?;
//! runqlint::liveness::openclaw::OpenClaw::new(program, std::time::Duration::from_secs(1));
//! # Ok(()) }
//! ```
//!
//! so it cannot be handed an unapproved one:
//!
//! ```compile_fail
//! let config = runqlint::config::Config::parse("[fix]\nopenclaw-bin = \"./evil.sh\"\n").unwrap();
//! let untrusted = config.fix.openclaw_bin.unwrap();
//! // An `Untrusted` is not a `Program`.
//! runqlint::liveness::openclaw::OpenClaw::new(untrusted, std::time::Duration::from_secs(1));
//! ```
//!
//! and a `Program` cannot be assembled outside this module:
//!
//! ```compile_fail
//! let program = runqlint::trust::Program {
//!     exe: "./evil.sh".into(),
//!     args: Vec::new(),
//!     base: None,
//! };
//! ```
//!
//! A program name without a path separator (`openclaw`) is looked up on `PATH` only, in its
//! absolute entries (never the repository, never the current directory, on every platform),
//! and the absolute path found is what runs. A relative path with a separator is relative to
//! the repository root when a repository configuration names it, to the current directory
//! when the command line or the environment does; the user's configuration file must name
//! an absolute path or a bare name.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{io, Error, Result};
use crate::text;

/// The user's configuration file, `config.toml` in the platform's configuration directory
/// (`$XDG_CONFIG_HOME/runqlint/`, else `~/.config/runqlint/` on Linux and macOS;
/// `%APPDATA%\runqlint\` on Windows). `None` when there is no home directory.
pub fn user_config_path() -> Option<PathBuf> {
    use etcetera::BaseStrategy;
    let base = etcetera::choose_base_strategy().ok()?;
    Some(base.config_dir().join("runqlint").join("config.toml"))
}

/// The trust store, `trusted.json` in the platform's data directory
/// (`$XDG_DATA_HOME/runqlint/`, else `~/.local/share/runqlint/` on Linux and macOS;
/// `%APPDATA%\runqlint\` on Windows).
pub fn store_path() -> Result<PathBuf> {
    use etcetera::BaseStrategy;
    let base = etcetera::choose_base_strategy().map_err(|e| {
        Error::Io(format!(
            "cannot find the trust store: no home directory ({e})"
        ))
    })?;
    Ok(base.data_dir().join("runqlint").join("trusted.json"))
}

/// The SHA-256 of `bytes`, in lowercase hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A configuration file from the repository (its `runqlint.toml`, or a `--config FILE`),
/// as it was read: its programs run only if these exact bytes at this path are approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    /// The path as read.
    pub path: PathBuf,
    /// The path with every link resolved: what an approval records.
    pub canonical: PathBuf,
    /// The SHA-256 of the bytes that were parsed.
    pub sha256: String,
    /// What a relative program path in it is relative to: the repository root.
    pub root: PathBuf,
    /// The command that approves it (`runqlint trust`, or with `--config` when the file
    /// was named, or found from a path, on the command line).
    pub approve: String,
}

impl ConfigFile {
    /// `bytes` read from `path`; `named` when `runqlint trust` alone, run where the
    /// command ran, might not find this file.
    pub fn new(path: &Path, bytes: &[u8], root: &Path, named: bool) -> ConfigFile {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let approve = if named {
            format!(
                "runqlint trust --config {}",
                shell_words::quote(&canonical.to_string_lossy())
            )
        } else {
            "runqlint trust".to_string()
        };
        ConfigFile {
            path: path.to_path_buf(),
            canonical,
            sha256: sha256(bytes),
            root: root.to_path_buf(),
            approve,
        }
    }

    /// Text read from no file, shown as `name`: no approval can match it (an approval's
    /// path is absolute).
    pub fn unread(name: &Path, bytes: &[u8]) -> ConfigFile {
        ConfigFile {
            path: name.to_path_buf(),
            canonical: PathBuf::new(),
            sha256: sha256(bytes),
            root: PathBuf::from("."),
            approve: "runqlint trust".to_string(),
        }
    }
}

/// Where a program was named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line option (`--alive-cmd`).
    Flag(&'static str),
    /// An environment variable (`RUNQLINT_ALIVE_CMD`).
    Env(&'static str),
    /// The user's own configuration file, outside the repository.
    User(PathBuf),
    /// A repository's configuration file: trusted only once approved.
    Repository(Arc<ConfigFile>),
}

/// A program as configuration names it, not yet cleared to run. Only [`Untrusted::clear`]
/// makes a [`Program`] of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Untrusted {
    /// The key, as a message names it (`[fix] alive-cmd`, `--openclaw-bin`).
    key: &'static str,
    /// The value as written.
    written: String,
    exe: PathBuf,
    args: Vec<String>,
    source: Source,
}

impl Untrusted {
    /// A command line (`alive-cmd`): words split as a shell would, never run by one.
    pub fn command_line(key: &'static str, text: &str, source: Source) -> Result<Untrusted> {
        let words = shell_words::split(text).map_err(|e| Error::Usage(format!("{key}: {e}")))?;
        let Some((exe, args)) = words.split_first() else {
            return Err(Error::Usage(format!("{key} is empty")));
        };
        Ok(Untrusted {
            key,
            written: text.to_string(),
            exe: PathBuf::from(exe),
            args: args.to_vec(),
            source,
        })
    }

    /// An executable (`openclaw-bin`).
    pub fn executable(key: &'static str, path: PathBuf, source: Source) -> Result<Untrusted> {
        if path.as_os_str().is_empty() {
            return Err(Error::Usage(format!("{key} is empty")));
        }
        Ok(Untrusted {
            key,
            written: path.to_string_lossy().into_owned(),
            exe: path,
            args: Vec::new(),
            source,
        })
    }

    /// The key and value, for a message: `[fix] openclaw-bin = "./evil.sh"`.
    pub fn shown(&self) -> String {
        format!("{} = {}", self.key, text::quote(&self.written))
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The runnable program, if its source is trusted; else the one-line refusal. A
    /// repository file is looked up in the trust store (read only then).
    pub fn clear(self) -> Result<Program> {
        let base = match &self.source {
            Source::Flag(_) | Source::Env(_) => None,
            Source::User(file) => {
                if self.exe.is_relative() && has_separator(&self.exe) {
                    return Err(Error::Usage(format!(
                        "{}: {} is a relative path; give an absolute path or a name on PATH",
                        file.display(),
                        self.shown()
                    )));
                }
                None
            }
            Source::Repository(file) => {
                let store = Store::load()?;
                match store.approval(file) {
                    Approval::Approved => Some(file.root.clone()),
                    state => return Err(refusal(file, &self.shown(), state)),
                }
            }
        };
        Ok(Program {
            exe: self.exe,
            args: self.args,
            base,
        })
    }
}

fn refusal(file: &ConfigFile, shown: &str, state: Approval) -> Error {
    let why = match state {
        Approval::Changed => "has changed since it was approved",
        _ => "is not approved",
    };
    Error::Refused(format!(
        "{}: {shown} names a program to run, and this repository file {why}; nothing was run or written: review it, then run `{}` (or give the program with a flag or an environment variable)",
        text::escape(&file.path.to_string_lossy()),
        file.approve
    ))
}

/// A program cleared to run: named by a trusted source, or by an approved file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    exe: PathBuf,
    args: Vec<String>,
    /// What a relative path is relative to [default: the current directory].
    base: Option<PathBuf>,
}

impl Program {
    /// A built-in default (`openclaw`), looked up on `PATH` when it runs.
    pub fn on_path(name: &'static str) -> Program {
        Program {
            exe: PathBuf::from(name),
            args: Vec::new(),
            base: None,
        }
    }

    /// The program as named, for messages.
    pub fn name(&self) -> String {
        self.exe.to_string_lossy().into_owned()
    }

    /// Its arguments (after the program).
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// The executable to run: a bare name found on `PATH` (absolute entries only), a
    /// relative path joined to its base, an absolute path as it is.
    pub fn resolve(&self) -> Result<PathBuf> {
        if self.exe.is_absolute() {
            return Ok(self.exe.clone());
        }
        if has_separator(&self.exe) {
            let base = match &self.base {
                Some(b) => b.clone(),
                None => std::env::current_dir()
                    .map_err(|e| io(Path::new("."), "read the current directory", e))?,
            };
            return Ok(base.join(&self.exe));
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let absolute: Vec<PathBuf> = std::env::split_paths(&path)
            .filter(|p| p.is_absolute())
            .collect();
        let list = std::env::join_paths(absolute).unwrap_or_default();
        which::which_in_global(&self.exe, Some(list))
            .ok()
            .and_then(|mut found| found.next())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "cannot run {}: not found on PATH",
                    text::quote(&self.name())
                ))
            })
    }

    /// A command for it: the resolved executable and its arguments.
    pub fn command(&self) -> Result<Command> {
        let mut command = Command::new(self.resolve()?);
        command.args(&self.args);
        Ok(command)
    }
}

/// Whether a program name is a path rather than a name to look up.
fn has_separator(p: &Path) -> bool {
    p.to_string_lossy().chars().any(std::path::is_separator)
}

/// What the store says of a repository file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// These bytes at this path are approved.
    Approved,
    /// The path is approved with other contents.
    Changed,
    /// The path is not approved.
    None,
}

/// One approval: a file's canonical path and the SHA-256 of its approved bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovedFile {
    pub path: String,
    pub sha256: String,
    /// When it was approved (RFC 3339, UTC).
    pub approved_at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    version: u32,
    approved: Vec<ApprovedFile>,
}

/// The approvals `runqlint trust` recorded ([`store_path`]).
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    entries: Vec<ApprovedFile>,
}

impl Store {
    /// Reads the store; a missing one is empty.
    pub fn load() -> Result<Store> {
        Store::load_from(store_path()?)
    }

    fn load_from(path: PathBuf) -> Result<Store> {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Store {
                    path,
                    entries: Vec::new(),
                })
            }
            Err(e) => return Err(io(&path, "read", e)),
        };
        let file: StoreFile = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Io(format!(
                "{}: not a runqlint trust store ({e}); remove it to start over",
                path.display()
            ))
        })?;
        if file.version != 1 {
            return Err(Error::Io(format!(
                "{}: trust store version {} is not 1",
                path.display(),
                file.version
            )));
        }
        Ok(Store {
            path,
            entries: file.approved,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn entries(&self) -> &[ApprovedFile] {
        &self.entries
    }

    fn key(file: &ConfigFile) -> String {
        file.canonical.to_string_lossy().into_owned()
    }

    /// Whether `file`, with the bytes that were read, is approved.
    pub fn approval(&self, file: &ConfigFile) -> Approval {
        let key = Store::key(file);
        match self.entries.iter().find(|e| e.path == key) {
            Some(e) if e.sha256 == file.sha256 => Approval::Approved,
            Some(_) => Approval::Changed,
            None => Approval::None,
        }
    }

    /// Records `file`'s bytes as approved (replacing an approval of other bytes).
    pub fn approve(&mut self, file: &ConfigFile, now: &str) {
        let key = Store::key(file);
        self.entries.retain(|e| e.path != key);
        self.entries.push(ApprovedFile {
            path: key,
            sha256: file.sha256.clone(),
            approved_at: now.to_string(),
        });
    }

    /// Removes the approval of the file at `canonical`; whether there was one.
    pub fn revoke(&mut self, canonical: &Path) -> bool {
        let key = canonical.to_string_lossy();
        let before = self.entries.len();
        self.entries.retain(|e| e.path != key);
        self.entries.len() != before
    }

    /// Writes the store: a temporary file beside it, renamed over it.
    pub fn save(&self) -> Result<()> {
        let dir = self
            .path
            .parent()
            .ok_or_else(|| Error::Bug(format!("{}: no directory", self.path.display())))?;
        std::fs::create_dir_all(dir).map_err(|e| io(dir, "create", e))?;
        let file = StoreFile {
            version: 1,
            approved: self.entries.clone(),
        };
        let mut json = serde_json::to_string_pretty(&file)
            .map_err(|e| Error::Bug(format!("the trust store does not serialize: {e}")))?;
        json.push('\n');
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io(dir, "write", e))?;
        std::io::Write::write_all(&mut temp, json.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| io(temp.path(), "write", e))?;
        temp.persist(&self.path)
            .map_err(|e| io(&self.path, "write", e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_the_standard_digest() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn an_approval_holds_for_those_bytes_only() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("runqlint.toml");
        std::fs::write(&toml, "[fix]\n").unwrap();
        let file = ConfigFile::new(&toml, b"[fix]\n", dir.path(), false);
        let mut store = Store::load_from(dir.path().join("store/trusted.json")).unwrap();
        assert_eq!(store.approval(&file), Approval::None);
        store.approve(&file, "2026-11-25T00:00:00Z");
        store.save().unwrap();
        let store = Store::load_from(dir.path().join("store/trusted.json")).unwrap();
        assert_eq!(store.approval(&file), Approval::Approved);
        let edited = ConfigFile::new(&toml, b"[fix]\nalive-cmd = \"x\"\n", dir.path(), false);
        assert_eq!(store.approval(&edited), Approval::Changed);
        let mut store = store;
        assert!(store.revoke(&file.canonical));
        assert_eq!(store.approval(&file), Approval::None);
    }

    #[test]
    fn trusted_sources_clear_and_relative_user_paths_do_not() {
        let flag = Untrusted::command_line(
            "--alive-cmd",
            "check-alive --fast",
            Source::Flag("--alive-cmd"),
        )
        .unwrap()
        .clear()
        .unwrap();
        assert_eq!(flag.name(), "check-alive");
        assert_eq!(flag.args(), ["--fast"]);
        let user = Untrusted::executable(
            "[fix] openclaw-bin",
            PathBuf::from("bin/openclaw"),
            Source::User(PathBuf::from("/home/u/.config/runqlint/config.toml")),
        )
        .unwrap()
        .clear()
        .unwrap_err()
        .to_string();
        assert!(user.contains("relative path"), "{user}");
        assert!(Untrusted::command_line("k", "  ", Source::Env("E")).is_err());
    }

    #[test]
    fn a_bare_name_is_found_only_in_absolute_path_entries() {
        let p = Program::on_path("no-such-program-runqlint-test");
        let e = p.resolve().unwrap_err().to_string();
        assert!(e.contains("not found on PATH"), "{e}");
        assert!(has_separator(Path::new("./x")));
        assert!(!has_separator(Path::new("openclaw")));
    }
}
