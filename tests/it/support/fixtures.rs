//! Queue histories, a command runner and a paused `fix` shared by several test modules.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{item, queue, Repo, Run, FEB26_MS, NOW, NOW_MS};

/// `run_a`, finished at the base, with `status`.
fn run_a(status: &str) -> Value {
    item(
        "run_a",
        status,
        json!({"title": "A", "run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 1000}}),
    )
}

/// The history a hook test starts from: `run_a` finished, `run_b` queued.
pub fn base_queue() -> String {
    queue(vec![
        run_a("done"),
        item("run_b", "queued", json!({"title": "B"})),
    ])
}

/// `run_a` (done at the base) flipped back to running: terminal-status-changed against
/// `base_queue`.
pub fn rewritten_history() -> String {
    queue(vec![
        run_a("running"),
        item("run_b", "queued", json!({"title": "B"})),
    ])
}

/// An honest change of `base_queue`: `run_b` starts, `run_c` is queued.
pub fn honest_change() -> String {
    queue(vec![
        run_a("done"),
        item(
            "run_b",
            "running",
            json!({"title": "B", "run": {"startedAtMs": NOW_MS - 60_000}}),
        ),
        item("run_c", "queued", json!({"title": "C"})),
    ])
}

/// Runs `cmd` with stdin closed.
pub fn run_cmd(mut cmd: Command) -> Run {
    Run::from(cmd.stdin(Stdio::null()).output().unwrap())
}

/// `fix --now NOW EXTRA` started with the failpoint `pause-POINT`, once it has reached the
/// point; it goes on when the returned file is created.
pub fn spawn_paused(repo: &Repo, point: &str, extra: &[&str]) -> (Child, PathBuf) {
    let go = repo.scratch().join(format!("go-{point}"));
    let mut args = vec!["fix", "--now", NOW];
    args.extend_from_slice(extra);
    let child = repo
        .runqlint_cmd(&args)
        .env("RUNQLINT_FAILPOINT", format!("pause-{point}"))
        .env("RUNQLINT_FAILPOINT_FILE", &go)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reached = repo.scratch().join(format!("go-{point}.reached"));
    let start = Instant::now();
    while !reached.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "fix never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, go)
}
