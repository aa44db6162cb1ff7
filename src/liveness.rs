//! Is a child session still alive? Asked of `--alive-sessions` (a list of live keys) and/or
//! `--alive-cmd` (a command run without a shell).
//!
//! * No `run.childSessionKey`: not alive (there is nothing that could be running).
//! * The key is listed in the sessions file: alive.
//! * Else, with a command: the command's words (split like a shell would, but never run by
//!   one) plus the key as one extra argument. Exit 0 alive, 1 not alive; any other exit, a
//!   signal or the timeout (the child is killed) is unknown, and the item is left alone.
//! * Else, with only a sessions file: not listed, not alive.
//! * With neither: not alive (the brief: a stale item then counts as not alive).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{io, Error, Result};
use crate::repair::Liveness;

pub struct Checker {
    sessions: Option<HashSet<String>>,
    cmd: Option<Vec<String>>,
    timeout: Duration,
    dir: Option<PathBuf>,
}

impl Checker {
    pub fn new(cmd: Option<&str>, sessions: Option<&Path>, timeout: Duration) -> Result<Checker> {
        let cmd = match cmd {
            Some(c) => {
                let words =
                    shell_words::split(c).map_err(|e| Error::Usage(format!("--alive-cmd: {e}")))?;
                if words.is_empty() {
                    return Err(Error::Usage("--alive-cmd is empty".into()));
                }
                Some(words)
            }
            None => None,
        };
        let sessions = sessions.map(read_sessions).transpose()?;
        Ok(Checker {
            sessions,
            cmd,
            timeout,
            dir: None,
        })
    }

    /// Runs the command in `dir` (the repository root for a configured command), not in the
    /// current directory.
    pub fn in_dir(mut self, dir: Option<&Path>) -> Checker {
        self.dir = dir.map(Path::to_path_buf);
        self
    }

    pub fn check(&self, key: Option<&str>) -> Result<Liveness> {
        if self.sessions.is_none() && self.cmd.is_none() {
            return Ok(Liveness::Dead("no liveness check configured".into()));
        }
        let Some(key) = key else {
            return Ok(Liveness::Dead("no run.childSessionKey to check".into()));
        };
        if self.sessions.as_ref().is_some_and(|s| s.contains(key)) {
            return Ok(Liveness::Alive("listed in alive-sessions".into()));
        }
        match &self.cmd {
            Some(words) => self.run(words, key),
            None => Ok(Liveness::Dead("not listed in alive-sessions".into())),
        }
    }

    fn run(&self, words: &[String], key: &str) -> Result<Liveness> {
        let program = Path::new(&words[0]);
        let mut command = match &self.dir {
            // A relative program path is the directory's too, not the caller's.
            Some(dir) if program.is_relative() && words[0].contains('/') => {
                Command::new(dir.join(program))
            }
            _ => Command::new(program),
        };
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        let mut child = command
            .args(&words[1..])
            .arg(key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                Error::Usage(format!(
                    "--alive-cmd: cannot run {}: {e}",
                    crate::text::quote(&words[0])
                ))
            })?;
        let start = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    return Ok(match status.code() {
                        Some(0) => Liveness::Alive("alive-cmd exited 0".into()),
                        Some(1) => Liveness::Dead("alive-cmd exited 1".into()),
                        Some(n) => Liveness::Unknown(format!("alive-cmd exited {n}")),
                        None => Liveness::Unknown("alive-cmd was killed by a signal".into()),
                    })
                }
                Ok(None) if start.elapsed() >= self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let ms = self.timeout.as_millis() as i64;
                    let shown = if ms < 1000 {
                        format!("{ms}ms")
                    } else {
                        crate::rules::fmt_duration(ms)
                    };
                    return Ok(Liveness::Unknown(format!(
                        "alive-cmd timed out after {shown}"
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Ok(Liveness::Unknown(format!(
                        "alive-cmd could not be waited for: {e}"
                    )));
                }
            }
        }
    }
}

/// One key per line (blank lines and `#` comments skipped), or a JSON array of strings.
fn read_sessions(path: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, "read", e))?;
    if text.trim_start().starts_with('[') {
        let keys: Vec<String> = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{}: not a JSON array of strings: {e}",
                path.display()
            ))
        })?;
        return Ok(keys.into_iter().collect());
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}
