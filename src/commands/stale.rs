//! `runqlint stale`: the report a dispatcher logs each cycle. Reads the working-tree file
//! (no git needed), lists the running items `stale-running` fires on and those that cannot
//! be aged. Always exit 0 when the file could be read: it is a report, not a gate.
//! With `--alive RUNTIME` (or `[fix] alive`) each stale item also shows what the runtime
//! says of it; a runtime that cannot run at all is exit 2, like `fix`.

use crate::cli::StaleArgs;
use crate::config::UserConfig;
use crate::document;
use crate::error::{Error, Result};
use crate::fields::Field;
use crate::liveness;
use crate::output::{self, progress::Progress};
use crate::queue::ValueQueue;
use crate::repair;

use super::{alive, now_ms, read_worktree, stale_after_ms, Workspace};

pub fn run(args: &StaleArgs) -> Result<()> {
    let ws = Workspace::open(args.path.as_deref(), args.common.config.as_deref())?;
    let path = ws.queue_path(args.path.as_deref());
    let shown = ws.display_path(&path)?;
    let now = now_ms(&args.common)?;
    let after = stale_after_ms(&args.common, &ws.config)?;
    // Only a runtime is asked here (`--alive`, `[fix] alive`): the generic command runs
    // once per key, too costly for a report logged every cycle. Its program is cleared
    // before the file is read.
    let spec = alive::runtime(&args.alive, &ws, &UserConfig::load()?)?;
    let bytes = read_worktree(&path, ws.config.max_file_size)?
        .ok_or_else(|| Error::Io(format!("{shown}: no such file")))?;
    let parsed = document::parse(&bytes).map_err(|e| {
        Error::Refused(format!(
            "{shown} is not valid JSON ({}); see `runqlint check`",
            e.message
        ))
    })?;
    let queue = ValueQueue::new(&parsed.value);
    let survey = repair::survey(&queue, now, after);
    let answers = match spec.runtime {
        Some(_) => {
            let _progress = Progress::spinner(&format!(
                "asking the runtime about {} stale item(s)",
                survey.stale.len()
            ));
            Some(liveness::ask_all(
                liveness::provider(&spec)?.as_ref(),
                &survey,
                now,
            )?)
        }
        None => None,
    };
    let heartbeats: Vec<Option<i64>> = survey
        .stale
        .iter()
        .map(|c| queue.items[c.slot].int(Field::LastHeartbeatAtMs))
        .collect();
    output::stdout(&output::stale::render(
        args.format,
        &shown,
        now,
        &survey,
        &heartbeats,
        answers.as_deref(),
    ))
    .map_err(|e| Error::Io(format!("stdout: {e}")))
}
