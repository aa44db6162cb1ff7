//! Everything `fix` was asked to do, resolved once from the flags and `runqlint.toml`
//! (a flag wins over the config, the config over the default). Nothing after this reads
//! `FixArgs` or the config's `[fix]` table.

use std::path::PathBuf;

use crate::cli::FixArgs;
use crate::commands::{alive, now_ms, stale_after_ms, Workspace};
use crate::config::{Levels, UserConfig};
use crate::error::{Error, Result};
use crate::liveness;
use crate::liveness::openclaw::EndEvent;
use crate::output::ReportFormat;
use crate::repair::Options;
use crate::rules::{Level, Rule};
use crate::text;

/// What a run may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--dry-run`: print the diff and the receipt, write nothing.
    DryRun,
    /// `--no-commit`: write the file (and the backup), commit nothing.
    NoCommit,
    /// Write and commit.
    Commit,
}

pub struct Settings {
    /// The queue file, as given or configured.
    pub path: PathBuf,
    /// The same, as shown in output and in the receipt (repository-relative).
    pub shown: String,
    pub mode: Mode,
    /// `--allow-dirty`.
    pub allow_dirty: bool,
    /// Write a backup before replacing the file (`--no-backup`, `backup = false`).
    pub backup: bool,
    pub stale_after_ms: i64,
    /// The repair policy (`--now`, `--mark`, `--requeue`, `--max-attempts`).
    pub repair: Options,
    /// The levels the result is linted with: the configured ones, `stale-running` at most a
    /// warning (items whose liveness is unknown are deliberately left running).
    pub levels: Levels,
    pub max_file_size: u64,
    /// Who answers for child runs ([`alive`]): `--alive`/`alive` (a runtime, with
    /// `--openclaw-bin`/`RUNQLINT_OPENCLAW_BIN`/`openclaw-bin`), else `--alive-cmd`/
    /// `RUNQLINT_ALIVE_CMD`/`alive-cmd` and `--alive-sessions`/`alive-sessions` (relative to
    /// the repository root); `--alive-timeout`. Its programs are cleared by
    /// [`crate::trust`].
    pub alive: liveness::Spec,
    /// `--session`: only the running items with this `run.childSessionKey`, whatever
    /// their age.
    pub session: Option<String>,
    /// `--ended`, `--ended-at`, `--ended-error`: the runtime's word that the session ended,
    /// the answer when the liveness answer recorded no end.
    pub ended: Option<EndEvent>,
    /// `--run-id`, `--artifact`: one line of safe text each.
    pub run_id: Option<String>,
    pub artifact: Option<String>,
    pub format: ReportFormat,
}

impl Settings {
    /// Checks the flags, finds the repository and its config, and resolves every setting.
    /// Flags that cannot be right are refused before the repository is looked at.
    pub fn resolve(args: &FixArgs) -> Result<(Workspace, Settings)> {
        for (flag, value) in [("--run-id", &args.run_id), ("--artifact", &args.artifact)] {
            if let Some(v) = value {
                if v.trim().is_empty() || v.chars().any(text::is_unsafe) {
                    return Err(Error::Usage(format!(
                        "{flag} must be one line of printable text (it goes into a commit trailer)"
                    )));
                }
            }
        }
        if let Some(key) = &args.session {
            if key.trim().is_empty() || key.chars().any(text::is_unsafe) {
                return Err(Error::Usage(
                    "--session must be one line of printable text (a run.childSessionKey)".into(),
                ));
            }
        }
        let ws = Workspace::open(args.path.as_deref(), args.common.config.as_deref())?;
        let path = ws.queue_path(args.path.as_deref());
        let shown = ws.display_path(&path)?;
        let now = now_ms(&args.common)?;
        let ended = match args.ended {
            Some(outcome) => Some(EndEvent {
                outcome,
                ended_ms: match &args.ended_at {
                    Some(t) => crate::config::parse_time(t)
                        .map_err(|e| Error::Usage(format!("--ended-at: {e}")))?,
                    None => now,
                },
                error: args.ended_error.clone().filter(|e| !e.trim().is_empty()),
            }),
            None => None,
        };
        let stale_after = stale_after_ms(&args.common, &ws.config)?;
        let fixc = &ws.config.fix;
        let repair = Options {
            now_ms: now,
            mark: args.mark.unwrap_or(fixc.mark),
            requeue: args.requeue || fixc.requeue,
            max_attempts: args.max_attempts.unwrap_or(fixc.max_attempts),
        };
        if repair.max_attempts == 0 {
            return Err(Error::Usage("--max-attempts must be at least 1".into()));
        }
        let mode = match (args.dry_run, args.no_commit) {
            (true, _) => Mode::DryRun,
            (false, true) => Mode::NoCommit,
            (false, false) => Mode::Commit,
        };
        // Every program is cleared here, before anything runs or is written.
        let user = UserConfig::load()?;
        let mut alive = alive::runtime(&args.alive, &ws, &user)?;
        if alive.runtime.is_some() && (args.alive_cmd.is_some() || args.alive_sessions.is_some()) {
            return Err(Error::Usage(
                "--alive asks a runtime instead of --alive-cmd/--alive-sessions; give one or the other"
                    .into(),
            ));
        }
        if alive.runtime.is_none() {
            // The repository's command runs in its root (its relative paths are the
            // repository's, wherever `fix` runs); the flag's in the current directory.
            if let Some((program, dir)) = alive::command(args.alive_cmd.as_deref(), &ws, &user)? {
                alive.cmd = Some(program);
                alive.cmd_dir = dir;
            }
            alive.sessions = args
                .alive_sessions
                .clone()
                .or_else(|| fixc.alive_sessions.as_ref().map(|p| ws.root.join(p)));
        }
        let mut levels = ws.config.levels.clone();
        if levels.get(Rule::StaleRunning) == Level::Error {
            levels.set(Rule::StaleRunning, Level::Warn);
        }
        let settings = Settings {
            path,
            shown,
            mode,
            allow_dirty: args.allow_dirty,
            backup: !args.no_backup && fixc.backup,
            stale_after_ms: stale_after,
            repair,
            levels,
            max_file_size: ws.config.max_file_size,
            alive,
            session: args.session.clone(),
            ended,
            run_id: args.run_id.clone(),
            artifact: args.artifact.clone(),
            format: args.format,
        };
        Ok((ws, settings))
    }

    /// Whether this run commits.
    pub fn commits(&self) -> bool {
        self.mode == Mode::Commit
    }

    /// Whether this run writes anything.
    pub fn writes(&self) -> bool {
        self.mode != Mode::DryRun
    }
}
