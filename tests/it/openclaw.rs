//! `--alive openclaw` against the real OpenClaw CLI (installed into `.tools/` by
//! `scripts/test-tools.sh`), reading a real OpenClaw state directory.
//!
//! The ledger (`state/openclaw.sqlite`) is created by OpenClaw itself, once per test run
//! (a template every test copies); tests then put tasks into its `task_runs` table with
//! the same Node's `node:sqlite`, in the columns OpenClaw created, and check `fix` against
//! what `openclaw tasks show` answers. Every OpenClaw process costs Node's start-up, so
//! each test runs as few as it can, and a wrapper script counts them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::support::{item, queue, setup, tool, tools_dir, Repo, Run, Q};

const DAY: i64 = 86_400_000;
const FAILED_ERROR: &str =
    "Marked failed by runqlint fix: stale running (no active child session / exceeded threshold).";

/// `.tools/bin/NAME` (OpenClaw, its Node); [`Ledger::new`] has found them.
fn tools_bin(name: &str) -> PathBuf {
    tools_dir().join("bin").join(name)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn fmt_ms(ms: i64) -> String {
    runqlint::rules::fmt_ms(ms)
}

/// A state directory OpenClaw created (by answering `tasks list --json`), made once.
fn template() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("openclaw-template")
            .tempdir()
            .unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let state = dir.path().join("state-dir");
        let out = Command::new(tools_bin("openclaw"))
            .args(["tasks", "list", "--json"])
            .env("OPENCLAW_STATE_DIR", &state)
            .env("HOME", &home)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openclaw tasks list: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(state.join("state/openclaw.sqlite").is_file());
        dir
    })
    .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A task for the ledger; the times are absolute milliseconds.
struct Task {
    key: &'static str,
    status: &'static str,
    created: i64,
    last_event: Option<i64>,
    ended: Option<i64>,
    error: Option<&'static str>,
}

impl Task {
    fn new(key: &'static str, status: &'static str, created: i64) -> Task {
        Task {
            key,
            status,
            created,
            last_event: Some(created),
            ended: None,
            error: None,
        }
    }
    fn ended(mut self, at: i64) -> Task {
        self.ended = Some(at);
        self.last_event = Some(at);
        self
    }
    fn last_event(mut self, at: i64) -> Task {
        self.last_event = Some(at);
        self
    }
    fn error(mut self, e: &'static str) -> Task {
        self.error = Some(e);
        self
    }
}

/// One OpenClaw state directory (`OPENCLAW_STATE_DIR`), a copy of [`template`].
struct Ledger {
    dir: tempfile::TempDir,
}

impl Ledger {
    /// `None` (the test is skipped, see [`tool`]) when OpenClaw or its Node is missing.
    fn new() -> Option<Ledger> {
        tool("openclaw")?;
        tool("node")?;
        let dir = tempfile::Builder::new()
            .prefix("openclaw-state")
            .tempdir()
            .unwrap();
        copy_dir(&template().join("state-dir"), dir.path());
        Some(Ledger { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs JavaScript with `db` open on the ledger (Node's own SQLite, as OpenClaw uses).
    fn sql(&self, script: &str, arg: &Value) {
        let js = format!(
            "const {{DatabaseSync}} = require('node:sqlite');\
             const db = new DatabaseSync(process.argv[1]);\
             const arg = JSON.parse(process.argv[2]);\
             {script}\
             db.close();"
        );
        let out = Command::new(tools_bin("node"))
            .args(["-e", &js])
            .arg(self.path().join("state/openclaw.sqlite"))
            .arg(arg.to_string())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "node:sqlite: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Inserts sub-agent tasks into `task_runs`, the columns a sub-agent run fills.
    fn insert(&self, tasks: &[Task]) {
        let rows: Vec<Value> = tasks
            .iter()
            .enumerate()
            .map(|(n, t)| {
                json!({
                    "task_id": format!("task-{n}"),
                    "child_session_key": t.key,
                    "run_id": format!("run-{n}"),
                    "task": format!("work for {}", t.key),
                    "status": t.status,
                    "created_at": t.created,
                    "started_at": t.created,
                    "ended_at": t.ended,
                    "last_event_at": t.last_event,
                    "error": t.error,
                })
            })
            .collect();
        self.sql(
            "const ins = db.prepare(`INSERT INTO task_runs (task_id, runtime, requester_session_key, \
             owner_key, scope_kind, child_session_key, agent_id, run_id, task, status, \
             delivery_status, notify_policy, created_at, started_at, ended_at, last_event_at, error) \
             VALUES (?, 'subagent', 'agent:main:main', 'agent:main:main', 'session', ?, 'main', ?, ?, ?, \
             'pending', 'done_only', ?, ?, ?, ?, ?)`);\
             for (const r of arg) ins.run(r.task_id, r.child_session_key, r.run_id, r.task, r.status, \
             r.created_at, r.started_at, r.ended_at, r.last_event_at, r.error);",
            &Value::Array(rows),
        );
    }

    /// `openclaw tasks show KEY --json`: the task, or `None` when OpenClaw has none. Other
    /// failures (several OpenClaw processes contending for the database) are retried.
    fn show(&self, key: &str) -> Option<Value> {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let out = Command::new(tools_bin("openclaw"))
                .args(["tasks", "show", key, "--json"])
                .env("OPENCLAW_STATE_DIR", self.path())
                .env("HOME", self.path())
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let v: Value = match serde_json::from_slice(&out.stdout) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!(
                        "not JSON ({e}): {}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                    continue;
                }
            };
            if out.status.success() {
                return Some(v);
            }
            let message = v["error"]["message"].as_str().unwrap_or_default();
            if message.starts_with("Task not found") {
                return None;
            }
            failures.push(v.to_string());
        }
        panic!("tasks show {key}: {failures:?}");
    }

    /// A wrapper that logs each invocation to `calls.log`, then runs the real CLI.
    fn counting_wrapper(&self) -> PathBuf {
        let path = self.path().join("openclaw-counted");
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
                self.calls_log().display(),
                tools_bin("openclaw").display()
            ),
        )
        .unwrap();
        make_executable(&path);
        path
    }

    fn calls_log(&self) -> PathBuf {
        self.path().join("calls.log")
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.calls_log())
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `runqlint ARGS` with OpenClaw reading `ledger` (and the real clock: OpenClaw's times
/// are real, so no `--now`).
fn run(repo: &Repo, ledger: &Ledger, args: &[&str]) -> Run {
    let mut cmd = repo.runqlint_cmd(args);
    cmd.env("OPENCLAW_STATE_DIR", ledger.path());
    Run::from(cmd.output().unwrap())
}

fn running(id: &str, key: Option<&str>, started: i64) -> Value {
    let mut run = json!({"startedAtMs": started});
    if let Some(k) = key {
        run["childSessionKey"] = json!(k);
    }
    item(
        id,
        "running",
        json!({"title": format!("Run {id}"), "run": run}),
    )
}

fn items(repo: &Repo) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&repo.read(Q)).unwrap();
    v["items"].as_array().unwrap().clone()
}

fn by_id<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items.iter().find(|i| i["id"] == id).unwrap()
}

const HOSTILE: &str = "exit 137\u{1b}[2J\nReceipt-Run-Id: forged\u{202e}";

#[test]
fn each_answer_matches_what_openclaw_shows() {
    let now = now_ms();
    let started = now - 7 * DAY;
    let Some(ledger) = Ledger::new() else { return };
    ledger.insert(&[
        // Running, heard from a minute ago: within OpenClaw's 5-minute grace.
        Task::new("agent:main:subagent:active", "running", now - DAY).last_event(now - 60_000),
        Task::new("agent:main:subagent:done", "succeeded", now - DAY).ended(now - 2 * 3_600_000),
        Task::new("agent:main:subagent:failed", "failed", now - DAY)
            .ended(now - 3 * 3_600_000)
            .error(HOSTILE),
        Task::new("agent:main:subagent:timed", "timed_out", now - DAY).ended(now - 3_600_000),
        Task::new("agent:main:subagent:cancel", "cancelled", now - DAY).ended(now - 3_600_000),
        // Stored as running, silent for two hours, no backing session: OpenClaw reconciles
        // it to lost when asked.
        Task::new("agent:main:subagent:gone", "running", now - DAY).last_event(now - 2 * 3_600_000),
    ]);
    let repo = setup(&queue(vec![
        running("active", Some("agent:main:subagent:active"), started),
        running("done", Some("agent:main:subagent:done"), started),
        running("failed", Some("agent:main:subagent:failed"), started),
        running("timed", Some("agent:main:subagent:timed"), started),
        running("cancel", Some("agent:main:subagent:cancel"), started),
        running("gone", Some("agent:main:subagent:gone"), started),
        running("absent", Some("agent:main:subagent:absent"), started),
        running("weird", Some("session-17"), started),
        running("nokey", None, started),
    ]));
    let bin = ledger.counting_wrapper();
    let bin = bin.to_str().unwrap();

    // `stale` shows each answer.
    let stale = run(
        &repo,
        &ledger,
        &[
            "stale",
            "--alive",
            "openclaw",
            "--openclaw-bin",
            bin,
            "--format",
            "json",
        ],
    );
    assert_eq!(stale.code, 0, "{}", stale.stderr);
    let answers: Vec<(String, String)> = stale.json()["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["answer"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let answer = |id: &str| answers.iter().find(|a| a.0 == id).unwrap().1.clone();
    assert_eq!(
        answer("done"),
        format!("OpenClaw: succeeded {}", fmt_ms(now - 2 * 3_600_000))
    );
    assert_eq!(
        answer("active"),
        format!("OpenClaw: running, last event {}", fmt_ms(now - 60_000))
    );
    assert!(answer("gone").starts_with("OpenClaw: lost "), "{answers:?}");
    assert!(answer("gone").ends_with("(backing session missing)"));
    assert_eq!(answer("absent"), "OpenClaw: no task for this session");
    assert!(answer("weird").contains("not an OpenClaw sub-agent session key"));
    let human = run(
        &repo,
        &ledger,
        &["stale", "--alive", "openclaw", "--openclaw-bin", bin],
    );
    assert!(human.stdout.contains("ANSWER"), "{}", human.stdout);
    assert!(
        human.stdout.contains("OpenClaw: failed ") && !human.stdout.contains('\u{1b}'),
        "{}",
        human.stdout
    );

    let fixed = run(
        &repo,
        &ledger,
        &["fix", "--alive", "openclaw", "--openclaw-bin", bin],
    );
    assert_eq!(fixed.code, 0, "{}\n{}", fixed.stdout, fixed.stderr);
    // One OpenClaw process per command, whatever the number of items.
    assert_eq!(ledger.calls(), ["tasks list --json"; 3]);

    let after = items(&repo);
    let active = by_id(&after, "active");
    assert_eq!(active["status"], "running");
    assert_eq!(active["run"]["lastHeartbeatAtMs"], now - 60_000);
    let done = by_id(&after, "done");
    assert_eq!(done["status"], "done");
    assert_eq!(done["run"]["finishedAtMs"], now - 2 * 3_600_000);
    assert_eq!(done["triage"]["reason"], "reconciled");
    assert!(done["run"].get("error").is_none());
    let failed = by_id(&after, "failed");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["run"]["error"], HOSTILE);
    assert_eq!(
        by_id(&after, "timed")["run"]["error"],
        "OpenClaw: timed_out"
    );
    assert_eq!(by_id(&after, "cancel")["status"], "canceled");
    let gone = by_id(&after, "gone");
    assert_eq!(gone["status"], "failed");
    assert_eq!(gone["run"]["error"], "backing session missing");
    assert_eq!(by_id(&after, "absent")["status"], "failed");
    assert_eq!(by_id(&after, "absent")["run"]["error"], FAILED_ERROR);
    assert_eq!(by_id(&after, "weird")["status"], "running");
    assert!(by_id(&after, "weird")["run"]
        .get("lastHeartbeatAtMs")
        .is_none());
    assert_eq!(by_id(&after, "nokey")["status"], "failed");

    // What `openclaw tasks show` itself answers, key by key (in parallel: each is a Node).
    let keys = ["gone", "done", "failed", "absent"];
    let shown: Vec<Option<Value>> = std::thread::scope(|s| {
        let handles: Vec<_> = keys
            .iter()
            .map(|k| {
                let ledger = &ledger;
                s.spawn(move || ledger.show(&format!("agent:main:subagent:{k}")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let gone_show = shown[0].as_ref().unwrap();
    assert_eq!(gone_show["status"], "lost");
    assert_eq!(gone_show["error"], "backing session missing");
    let finished = gone["run"]["finishedAtMs"].as_i64().unwrap();
    let shown_end = gone_show["endedAt"].as_i64().unwrap();
    assert!(
        finished >= now - 60_000 && finished <= shown_end,
        "{finished} {shown_end}"
    );
    let done_show = shown[1].as_ref().unwrap();
    assert_eq!(done_show["status"], "succeeded");
    assert_eq!(done_show["endedAt"], done["run"]["finishedAtMs"]);
    let failed_show = shown[2].as_ref().unwrap();
    assert_eq!(failed_show["status"], "failed");
    assert_eq!(failed_show["error"], failed["run"]["error"]);
    assert_eq!(failed_show["endedAt"], failed["run"]["finishedAtMs"]);
    assert!(shown[3].is_none());

    // The runtime's error reaches the terminal and the receipt escaped, and cannot forge a
    // trailer.
    for text in [&fixed.stdout, &repo.git(&["log", "-1", "--format=%B"])] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
        assert!(
            text.contains("exit 137\\u{001b}[2J\\u{000a}Receipt-Run-Id: forged"),
            "{text}"
        );
    }
    let message = repo.git(&["log", "-1", "--format=%B"]);
    let receipt = runqlint::receipt::parse(&message).unwrap();
    assert!(receipt.run_id.starts_with("fix_"), "{message}");
    assert_eq!(
        receipt.reconciled,
        ["done", "failed", "timed", "cancel", "gone"]
    );
    assert_eq!(receipt.repaired, ["absent", "nokey"]);
    assert_eq!(receipt.heartbeats, ["active"]);
    assert!(message.starts_with(
        "runqlint fix: reconcile 5 ended runs, mark 2 stale running items failed, record 1 heartbeat\n"
    ));
    assert!(message.contains(&format!(
        "- done \"Run done\": started {}, silent 7d 0h: reconciled as done (OpenClaw: succeeded {})\n",
        fmt_ms(started),
        fmt_ms(now - 2 * 3_600_000)
    )));
}

#[test]
fn a_hundred_stale_items_cost_one_openclaw_process() {
    let now = now_ms();
    let Some(ledger) = Ledger::new() else { return };
    let keys: Vec<&'static str> = (0..100)
        .map(|n| &*Box::leak(format!("agent:ops:subagent:{n:03}").into_boxed_str()))
        .collect();
    let tasks: Vec<Task> = keys
        .iter()
        .step_by(2)
        .map(|k| Task::new(k, "succeeded", now - DAY).ended(now - 3_600_000))
        .collect();
    ledger.insert(&tasks);
    let repo = setup(&queue(
        keys.iter()
            .enumerate()
            .map(|(n, k)| running(&format!("r{n:03}"), Some(k), now - 2 * DAY))
            .collect(),
    ));
    // Through runqlint.toml this time.
    let bin = ledger.counting_wrapper();
    repo.write(
        "runqlint.toml",
        format!(
            "[fix]\nalive = \"openclaw\"\nopenclaw-bin = {}\n",
            Value::from(bin.to_str().unwrap())
        ),
    );
    repo.commit_all("config");
    // A program named by the repository's config runs once the file is approved.
    let approved = repo.run(&["trust"]);
    assert_eq!(approved.code, 0, "{approved:?}");
    let fixed = run(&repo, &ledger, &["fix", "--format", "json"]);
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
    assert_eq!(ledger.calls(), ["tasks list --json"]);
    let report = fixed.json();
    assert_eq!(report["reconciled"].as_array().unwrap().len(), 50);
    assert_eq!(report["repaired"].as_array().unwrap().len(), 50);
    let after = items(&repo);
    assert_eq!(after.iter().filter(|i| i["status"] == "done").count(), 50);
    assert_eq!(after.iter().filter(|i| i["status"] == "failed").count(), 50);
    assert_eq!(by_id(&after, "r000")["status"], "done");
    assert_eq!(by_id(&after, "r001")["status"], "failed");
}

#[test]
fn a_missing_cli_exits_2_and_writes_nothing() {
    let now = now_ms();
    let text = queue(vec![running(
        "a",
        Some("agent:main:subagent:a"),
        now - 2 * DAY,
    )]);
    let repo = setup(&text);
    let head = repo.head();
    let missing = repo.scratch().join("no-such-openclaw");
    for args in [
        vec![
            "fix",
            "--alive",
            "openclaw",
            "--openclaw-bin",
            missing.to_str().unwrap(),
        ],
        vec![
            "stale",
            "--alive",
            "openclaw",
            "--openclaw-bin",
            missing.to_str().unwrap(),
        ],
    ] {
        let r = repo.run(&args);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.is_empty(), "{}", r.stdout);
        assert_eq!(r.stderr.trim().lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains("cannot run") && r.stderr.contains("no-such-openclaw"));
    }
    assert_eq!(repo.read(Q), text.as_bytes());
    assert_eq!(repo.head(), head);
    assert!(repo.git(&["status", "--porcelain"]).is_empty());
    // A runtime and a generic check at once is a usage error.
    let both = repo.run(&["fix", "--alive", "openclaw", "--alive-cmd", "true"]);
    assert_eq!(both.code, 2, "{both:?}");
}

#[test]
fn a_hanging_cli_is_killed_and_nothing_is_changed() {
    let now = now_ms();
    let text = queue(vec![running(
        "a",
        Some("agent:main:subagent:a"),
        now - 2 * DAY,
    )]);
    let repo = setup(&text);
    // A wrapper that starts a second process, then hangs: both must go.
    let pid_file = repo.scratch().join("child.pid");
    let hang = repo.scratch().join("openclaw-hangs");
    std::fs::write(
        &hang,
        format!(
            "#!/bin/sh\nsleep 120 &\necho $! > '{}'\nexec sleep 120\n",
            pid_file.display()
        ),
    )
    .unwrap();
    make_executable(&hang);
    let start = Instant::now();
    let r = repo.run(&[
        "fix",
        "--alive",
        "openclaw",
        "--openclaw-bin",
        hang.to_str().unwrap(),
        "--alive-timeout",
        "1s",
    ]);
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("left running: liveness unknown (OpenClaw: cannot tell: OpenClaw did not answer within 1s)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("nothing to repair; nothing written"));
    assert_eq!(repo.read(Q), text.as_bytes());
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while proc_dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !proc_dir.exists(),
        "the wrapper's child {pid} outlived the timeout"
    );
}

#[test]
fn a_ledger_that_needs_repair_is_cannot_tell() {
    let now = now_ms();
    let Some(ledger) = Ledger::new() else { return };
    ledger.insert(&[
        Task::new("agent:main:subagent:a", "succeeded", now - DAY).ended(now - 3_600_000)
    ]);
    // Its metadata says another schema version: OpenClaw refuses to read the ledger until
    // `openclaw doctor --fix` has run.
    ledger.sql(
        "db.exec('UPDATE schema_meta SET schema_version = schema_version + 1');",
        &Value::Null,
    );
    let text = queue(vec![running(
        "a",
        Some("agent:main:subagent:a"),
        now - 2 * DAY,
    )]);
    let repo = setup(&text);
    let bin = tools_bin("openclaw");
    let r = run(
        &repo,
        &ledger,
        &[
            "fix",
            "--alive",
            "openclaw",
            "--openclaw-bin",
            bin.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("left running: liveness unknown (OpenClaw: cannot tell: OpenClaw exited 1: "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("schema version"), "{}", r.stdout);
    assert_eq!(repo.read(Q), text.as_bytes());
}

mod plugin;

#[test]
fn session_repairs_only_that_sessions_item_whatever_its_age() {
    let now = now_ms();
    let Some(ledger) = Ledger::new() else { return };
    ledger.insert(&[
        // Ended ten minutes ago, recorded by the ledger: its outcome wins over the event's.
        Task::new("agent:main:subagent:rec", "failed", now - 3_600_000)
            .ended(now - 600_000)
            .error("tool crashed"),
        // Still running in the ledger: the event's end is the only word that it ended.
        Task::new("agent:main:subagent:late", "running", now - 3_600_000).last_event(now - 60_000),
    ]);
    let text = queue(vec![
        // Started twenty minutes ago: far from stale.
        running("rec", Some("agent:main:subagent:rec"), now - 1_200_000),
        running("late", Some("agent:main:subagent:late"), now - 1_200_000),
        // Stale for a week, another session: never touched by --session.
        running("old", Some("agent:main:subagent:gone"), now - 7 * DAY),
    ]);
    let repo = setup(&text);
    let bin = tools_bin("openclaw");
    let bin = bin.to_str().unwrap();
    let base = ["fix", "--alive", "openclaw", "--openclaw-bin", bin];

    // The ledger's recorded end, even though the event says ok.
    let mut args = base.to_vec();
    args.extend([
        "--session",
        "agent:main:subagent:rec",
        "--ended",
        "ok",
        "--format",
        "json",
    ]);
    let r = run(&repo, &ledger, &args);
    assert_eq!(r.code, 0, "{r:?}");
    let after = items(&repo);
    let rec = by_id(&after, "rec");
    assert_eq!(rec["status"], "failed");
    assert_eq!(rec["run"]["finishedAtMs"], now - 600_000);
    assert_eq!(rec["run"]["error"], "tool crashed");
    assert_eq!(by_id(&after, "late")["status"], "running");
    assert_eq!(by_id(&after, "old")["status"], "running");
    assert!(by_id(&after, "old")["run"].get("finishedAtMs").is_none());

    // Ledger still running: the event's outcome, time and error.
    let ended = now - 5_000;
    let ended_s = ended.to_string();
    let mut args = base.to_vec();
    args.extend([
        "--session",
        "agent:main:subagent:late",
        "--ended",
        "timeout",
        "--ended-at",
        &ended_s,
        "--ended-error",
        HOSTILE,
    ]);
    let r = run(&repo, &ledger, &args);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains('\u{1b}'), "{}", r.stdout);
    let after = items(&repo);
    let late = by_id(&after, "late");
    assert_eq!(late["status"], "failed");
    assert_eq!(late["run"]["finishedAtMs"], ended);
    assert_eq!(late["run"]["error"], HOSTILE);
    assert_eq!(late["triage"]["reason"], "reconciled");
    assert!(late["triage"]["note"]
        .as_str()
        .unwrap()
        .starts_with("OpenClaw: sub-agent ended timeout "));
    assert_eq!(by_id(&after, "old")["status"], "running");

    // Without --ended, a session the ledger says is running keeps running.
    repo.write(Q, &text);
    repo.commit_all("again");
    let mut args = base.to_vec();
    args.extend(["--session", "agent:main:subagent:late"]);
    let r = run(&repo, &ledger, &args);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(by_id(&items(&repo), "late")["status"], "running");

    // An end before the item started is another run's: left alone.
    let early = (now - 2 * 3_600_000).to_string();
    let mut args = base.to_vec();
    args.extend([
        "--session",
        "agent:main:subagent:late",
        "--ended",
        "killed",
        "--ended-at",
        &early,
    ]);
    let r = run(&repo, &ledger, &args);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(by_id(&items(&repo), "late")["status"], "running");

    // Usage: --ended needs --session; an empty key is refused.
    let r = repo.run(&["fix", "--ended", "ok"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = repo.run(&["fix", "--session", " "]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--session"), "{}", r.stderr);
}
