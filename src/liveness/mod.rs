//! Is a stale item's child run still alive? A [`Provider`] answers for all stale items at
//! once, one [`Liveness`] per item:
//!
//! * [`Generic`]: `--alive-sessions` (a list of live keys, [`sessions`]) and/or
//!   `--alive-cmd` (a command run without a shell, once per key, [`cmd`]).
//!   - No `run.childSessionKey`: not alive (there is nothing that could be running).
//!   - The key is listed in the sessions file: alive.
//!   - Else, with a command: its answer (exit 0 alive, 1 not alive, else unknown).
//!   - Else, with only a sessions file: not listed, not alive.
//!   - With neither: not alive (the brief: a stale item then counts as not alive).
//! * [`openclaw::OpenClaw`] (`--alive openclaw`): the OpenClaw task ledger, asked once for
//!   every key; it answers active, ended (with the outcome), no record, or cannot tell.
//!
//! A next runtime is one more module implementing [`Provider`], one more [`Runtime`]
//! variant, and one more arm in [`provider`].

pub mod cmd;
pub mod openclaw;
pub mod sessions;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Runtime;
use crate::error::{Error, Result};
use crate::repair::{self, Liveness, Survey};
use crate::trust::Program;

/// Answers whether the child runs behind stale items are alive.
pub trait Provider {
    /// One answer per key, in the same order (`None`: the item has no
    /// `run.childSessionKey`). `Err` only when the provider cannot run at all; the command
    /// then exits 2 and writes nothing.
    fn ask(&self, keys: &[Option<&str>]) -> Result<Vec<Liveness>>;
}

/// How to ask, as the command layer resolved it from the flags, the environment and the
/// configuration files: every program here was cleared by [`crate::trust`].
#[derive(Debug, Default, Clone)]
pub struct Spec {
    pub runtime: Option<Runtime>,
    /// The `openclaw` executable [default: `openclaw` on `PATH`].
    pub openclaw_bin: Option<Program>,
    pub cmd: Option<Program>,
    /// Where the command runs [default: the current directory].
    pub cmd_dir: Option<PathBuf>,
    pub sessions: Option<PathBuf>,
    /// How long one provider process may run [default: 10s, 60s for a runtime].
    pub timeout: Option<Duration>,
}

/// The provider `spec` describes. A runtime replaces the generic providers.
pub fn provider(spec: &Spec) -> Result<Box<dyn Provider>> {
    match spec.runtime {
        Some(Runtime::OpenClaw) => Ok(Box::new(openclaw::OpenClaw::new(
            spec.openclaw_bin
                .clone()
                .unwrap_or_else(|| Program::on_path(openclaw::DEFAULT_BIN)),
            spec.timeout.unwrap_or(openclaw::DEFAULT_TIMEOUT),
        ))),
        None => Ok(Box::new(
            Generic::new(
                spec.cmd.clone(),
                spec.sessions.as_deref(),
                spec.timeout.unwrap_or(Duration::from_secs(10)),
            )?
            .in_dir(spec.cmd_dir.as_deref()),
        )),
    }
}

/// Asks `provider` about every stale item at once and vets each answer against its item
/// ([`repair::vet`]). No stale item: nothing is asked (no process runs).
pub fn ask_all(provider: &dyn Provider, survey: &Survey, now_ms: i64) -> Result<Vec<Liveness>> {
    if survey.stale.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Option<&str>> = survey
        .stale
        .iter()
        .map(|c| c.session_key.as_deref())
        .collect();
    let answers = provider.ask(&keys)?;
    if answers.len() != keys.len() {
        return Err(Error::Bug(format!(
            "a liveness provider gave {} answers for {} items",
            answers.len(),
            keys.len()
        )));
    }
    Ok(answers
        .into_iter()
        .zip(&survey.stale)
        .map(|(a, c)| repair::vet(c, a, now_ms))
        .collect())
}

/// `--alive-sessions` and/or `--alive-cmd`.
pub struct Generic {
    sessions: Option<HashSet<String>>,
    cmd: Option<Program>,
    timeout: Duration,
    dir: Option<PathBuf>,
}

impl Generic {
    pub fn new(
        cmd: Option<Program>,
        sessions: Option<&Path>,
        timeout: Duration,
    ) -> Result<Generic> {
        Ok(Generic {
            sessions: sessions.map(sessions::read).transpose()?,
            cmd,
            timeout,
            dir: None,
        })
    }

    /// Runs the command in `dir` (the repository root for a configured command), not in the
    /// current directory.
    pub fn in_dir(mut self, dir: Option<&Path>) -> Generic {
        self.dir = dir.map(Path::to_path_buf);
        self
    }

    fn check(&self, key: Option<&str>) -> Result<Liveness> {
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
            Some(program) => cmd::ask(program, key, self.timeout, self.dir.as_deref()),
            None => Ok(Liveness::Dead("not listed in alive-sessions".into())),
        }
    }
}

impl Provider for Generic {
    fn ask(&self, keys: &[Option<&str>]) -> Result<Vec<Liveness>> {
        keys.iter().map(|k| self.check(*k)).collect()
    }
}

/// `250ms`, `10s`, `1m 30s`.
pub fn fmt_timeout(t: Duration) -> String {
    let ms = t.as_millis() as i64;
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        crate::rules::fmt_duration(ms)
    }
}

/// `--alive-timeout` as a duration.
pub fn parse_timeout(s: &str) -> Result<Duration> {
    let ms = crate::config::parse_duration(s)
        .map_err(|e| Error::Usage(format!("--alive-timeout: {e}")))?;
    if ms <= 0 {
        return Err(Error::Usage("--alive-timeout must be more than 0".into()));
    }
    Ok(Duration::from_millis(ms as u64))
}
