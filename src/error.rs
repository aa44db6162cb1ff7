//! Reasons runqlint could not check (exit code 2). Each is one clear line.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// The command line or the combination of flags makes no sense here.
    Usage(String),
    /// `runqlint.toml` is unreadable or invalid.
    Config(String),
    /// A file could not be read or written.
    Io(String),
    /// git could not answer (missing revision, locked index, ...).
    Git(String),
    /// `fix` refused to act (dirty tree, detached HEAD, concurrent change, ...).
    Refused(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m)
            | Error::Config(m)
            | Error::Io(m)
            | Error::Git(m)
            | Error::Refused(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An I/O error with the path it concerns.
pub fn io(path: &std::path::Path, what: &str, e: std::io::Error) -> Error {
    Error::Io(format!("{}: cannot {what}: {e}", path.display()))
}
