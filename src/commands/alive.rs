//! Who answers for child runs in `fix` and `stale`: the runtime and the programs, each
//! from the first place that names it: the command line, the environment
//! ([`ENV_ALIVE_CMD`], [`ENV_OPENCLAW_BIN`]), the repository's `runqlint.toml`, the user's
//! own configuration file. Every program is cleared by [`crate::trust`] here, before
//! anything runs or is written; a repository file's program that is not approved is the
//! command's refusal (exit 2).

use std::path::{Path, PathBuf};

use crate::cli::AliveArgs;
use crate::config::Runtime;
use crate::config::UserConfig;
use crate::error::{Error, Result};
use crate::liveness::{self, Spec};
use crate::trust::{Program, Source, Untrusted};

use super::Workspace;

/// Names the `--alive-cmd` command when the flag does not.
pub const ENV_ALIVE_CMD: &str = "RUNQLINT_ALIVE_CMD";
/// Names the `openclaw` executable when `--openclaw-bin` does not.
pub const ENV_OPENCLAW_BIN: &str = "RUNQLINT_OPENCLAW_BIN";

/// An environment variable's value; empty counts as unset.
fn env(var: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(var).filter(|v| !v.is_empty())
}

/// The runtime part: `--alive`, else `[fix] alive` (the repository's, else the user's), and
/// its executable; `--alive-timeout`. `user` is read by the caller once.
pub fn runtime(args: &AliveArgs, ws: &Workspace, user: &UserConfig) -> Result<Spec> {
    let runtime = args.alive.or(ws.config.fix.alive).or(user.alive);
    let openclaw_bin = match runtime {
        Some(Runtime::OpenClaw) => Some(openclaw_bin(args.openclaw_bin.as_deref(), ws, user)?),
        None => None,
    };
    Ok(Spec {
        runtime,
        openclaw_bin,
        cmd: None,
        cmd_dir: None,
        sessions: None,
        timeout: args
            .alive_timeout
            .as_deref()
            .map(liveness::parse_timeout)
            .transpose()?,
    })
}

fn openclaw_bin(flag: Option<&Path>, ws: &Workspace, user: &UserConfig) -> Result<Program> {
    const FLAG: &str = "--openclaw-bin";
    let named = match (flag, env(ENV_OPENCLAW_BIN)) {
        (Some(p), _) => Untrusted::executable(FLAG, p.to_path_buf(), Source::Flag(FLAG))?,
        (None, Some(p)) => Untrusted::executable(
            ENV_OPENCLAW_BIN,
            PathBuf::from(p),
            Source::Env(ENV_OPENCLAW_BIN),
        )?,
        (None, None) => match ws
            .config
            .fix
            .openclaw_bin
            .as_ref()
            .or(user.openclaw_bin.as_ref())
        {
            Some(u) => u.clone(),
            None => return Ok(Program::on_path(liveness::openclaw::DEFAULT_BIN)),
        },
    };
    named.clear()
}

/// The generic check's command: `--alive-cmd`, else [`ENV_ALIVE_CMD`], else `[fix]
/// alive-cmd` (the repository's, then the user's), and the directory it runs in (the
/// repository root for the repository's).
pub fn command(
    flag: Option<&str>,
    ws: &Workspace,
    user: &UserConfig,
) -> Result<Option<(Program, Option<PathBuf>)>> {
    const FLAG: &str = "--alive-cmd";
    let named = match (flag, env(ENV_ALIVE_CMD)) {
        (Some(c), _) => Untrusted::command_line(FLAG, c, Source::Flag(FLAG))?,
        (None, Some(c)) => {
            let c = c
                .into_string()
                .map_err(|_| Error::Usage(format!("{ENV_ALIVE_CMD} is not UTF-8 text")))?;
            Untrusted::command_line(ENV_ALIVE_CMD, &c, Source::Env(ENV_ALIVE_CMD))?
        }
        (None, None) => match ws.config.fix.alive_cmd.as_ref().or(user.alive_cmd.as_ref()) {
            Some(u) => u.clone(),
            None => return Ok(None),
        },
    };
    let dir = match named.source() {
        Source::Repository(file) => Some(file.root.clone()),
        _ => None,
    };
    Ok(Some((named.clear()?, dir)))
}
