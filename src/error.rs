//! Reasons runqlint could not check or act (exit code 2). Each is one clear line.
//!
//! The kinds say whose the cause is, which is all a caller or a reader needs: nothing
//! branches on them but `git::read`, which asks the `git` program when libgit2 could not
//! answer ([`Error::Git`]). The message carries the context (the path, the flag, the state).

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// What was asked makes no sense here: the command line, `runqlint.toml`, a path
    /// (outside the repository, not a file, in a bare repository).
    Usage(String),
    /// runqlint will not act on this input or in this state: a `fix` guard (a dirty tree,
    /// an operation in progress, a moved branch), a file over `max-file-size`, a file that
    /// is not JSON where `stale` or `fix` need JSON. A `fix` refusal says whether anything
    /// was written.
    Refused(String),
    /// A file, a stream or a program could not be read, written or run.
    Io(String),
    /// git could not answer (a missing revision, a locked index, an object libgit2 cannot
    /// read).
    Git(String),
    /// An internal check failed: a bug in runqlint, not a fault of the input.
    Bug(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Refused(m) | Error::Io(m) | Error::Git(m) => f.write_str(m),
            Error::Bug(m) => write!(f, "{m} (a bug in runqlint; please report it)"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// A version of `what` that is larger than `max-file-size` allows: every reader (the
    /// working file, a blob through libgit2, a version from git's history) refuses so.
    pub fn too_big(what: impl fmt::Display, size: u64, limit: u64) -> Error {
        Error::Refused(format!(
            "{what}: {size} bytes is over the limit of {limit} (`max-file-size` in runqlint.toml)"
        ))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An I/O error with the path it concerns.
pub fn io(path: &std::path::Path, what: &str, e: std::io::Error) -> Error {
    Error::Io(format!("{}: cannot {what}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bug_is_named_as_one_and_every_kind_is_its_message() {
        let bug = Error::Bug("the plan lost an item".into()).to_string();
        assert_eq!(
            bug,
            "the plan lost an item (a bug in runqlint; please report it)"
        );
        for e in [
            Error::Usage("u".into()),
            Error::Refused("u".into()),
            Error::Io("u".into()),
            Error::Git("u".into()),
        ] {
            assert_eq!(e.to_string(), "u");
        }
    }
}
