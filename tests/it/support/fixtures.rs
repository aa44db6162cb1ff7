//! Queue histories and a command runner shared by the hook and fidelity tests.

use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::{item, queue, Run, FEB26_MS, NOW_MS};

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
