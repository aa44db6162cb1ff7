//! `--alive-cmd CMD`: the command's words (split like a shell would, but never run by one,
//! [`crate::trust::Untrusted::command_line`]) plus the key as one extra argument. Exit 0
//! alive, 1 not alive; any other exit, a signal or the timeout (the child is killed) is
//! unknown. A command from the repository's configuration runs in the repository root.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::repair::Liveness;
use crate::trust::Program;

/// Runs the command for one key.
pub fn ask(
    program: &Program,
    key: &str,
    timeout: Duration,
    dir: Option<&Path>,
) -> Result<Liveness> {
    let mut command = program
        .command()
        .map_err(|e| Error::Usage(format!("--alive-cmd: {e}")))?;
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let mut child = command
        .arg(key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            Error::Usage(format!(
                "--alive-cmd: cannot run {}: {e}",
                crate::text::quote(&program.name())
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
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(Liveness::Unknown(format!(
                    "alive-cmd timed out after {}",
                    super::fmt_timeout(timeout)
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
