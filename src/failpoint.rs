//! A test hook, inert unless `RUNQLINT_FAILPOINT` is set: the integration tests use it to
//! kill `fix` at named points and prove that a rerun completes the job.
//!
//! - `RUNQLINT_FAILPOINT=<name>`: when the process reaches the point `<name>` it sends itself
//!   SIGKILL (no destructor runs, no file is cleaned up, exactly like `kill -9`).
//! - `RUNQLINT_FAILPOINT=pause-<name>`: at `<name>` it creates `$RUNQLINT_FAILPOINT_FILE.reached`
//!   and waits (at most 60 s) until `$RUNQLINT_FAILPOINT_FILE` exists, so a test can act at
//!   exactly that moment.
//!
//! Points in `fix`: `after-backup`, `mid-write` (half the new bytes in the temporary file;
//! all of them when a committing run staged them while the repaired file was linted),
//! `before-rename` (temporary file complete and fsynced, before the last "unchanged on disk"
//! check), `after-rename` (queue file replaced, nothing committed), `after-commit` (commit
//! made and branch moved, index entry not yet updated).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn setting() -> Option<&'static str> {
    static SETTING: OnceLock<Option<String>> = OnceLock::new();
    SETTING
        .get_or_init(|| {
            std::env::var("RUNQLINT_FAILPOINT")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .as_deref()
}

/// The point `name` is reached.
pub fn hit(name: &str) {
    let Some(setting) = setting() else { return };
    if setting == name {
        kill_self();
    }
    if setting.strip_prefix("pause-") == Some(name) {
        pause();
    }
}

fn pause() {
    let Some(file) = std::env::var_os("RUNQLINT_FAILPOINT_FILE") else {
        return;
    };
    let go = std::path::PathBuf::from(file);
    let mut reached = go.clone().into_os_string();
    reached.push(".reached");
    let _ = std::fs::write(&reached, b"");
    let start = Instant::now();
    while !go.exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(unix)]
fn kill_self() -> ! {
    // SAFETY: getpid and kill have no memory-safety preconditions.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(not(unix))]
fn kill_self() -> ! {
    std::process::abort()
}
