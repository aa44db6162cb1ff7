//! The OpenClaw plugin (`npm/openclaw-plugin/`): its handlers, imported by Node with an
//! `api` that records registrations and logs (events shaped as OpenClaw 2026.9.6's
//! `PluginHookGatewayStartEvent`, `PluginHookSubagentEndedEvent`,
//! `PluginHeartbeatPromptContributionEvent`), running the real `runqlint` and the real
//! OpenClaw CLI; and the packed plugin installed, inspected and its skill checked by the
//! real OpenClaw in an isolated state directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::{by_id, items, now_ms, running, tools_bin, Ledger, Task, DAY};
use crate::support::{queue, setup, tool, Repo, Q};

fn plugin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("npm/openclaw-plugin")
}

/// Whether OpenClaw and its Node are installed; one line and `false` when not (a failure
/// under `CI=true`).
fn have_openclaw() -> bool {
    tool("openclaw").is_some() && tool("node").is_some()
}

/// Imports the plugin's entry, registers it with a recording `api`, calls each hook in
/// `calls` (`[name, event]`), waits for the work it started, and prints what happened.
const HARNESS: &str = r#"
const [entry, config, calls] = process.argv.slice(2);
const { pathToFileURL } = await import("node:url");
const mod = await import(pathToFileURL(entry).href);
const logs = [];
const hooks = {};
const log = (level) => (message) => logs.push([level, String(message)]);
const api = {
  id: "runqlint",
  name: "runqlint",
  pluginConfig: JSON.parse(config),
  logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
  on: (name, handler) => { hooks[name] = handler; },
};
mod.default.register(api);
const results = [];
let threw = null;
for (const [name, event] of JSON.parse(calls)) {
  try {
    const r = await hooks[name](event, {});
    results.push(r === undefined ? null : r);
  } catch (e) {
    threw = String(e);
  }
  await mod.settled();
}
process.stdout.write(JSON.stringify({ registered: Object.keys(hooks).sort(), results, logs, threw }));
"#;

struct Outcome {
    registered: Vec<String>,
    results: Vec<Value>,
    logs: Vec<(String, String)>,
}

impl Outcome {
    fn logged(&self, level: &str, needle: &str) -> bool {
        self.logs
            .iter()
            .any(|(l, m)| l == level && m.contains(needle))
    }
}

/// Runs the harness with `config` and `calls`, `runqlint` on PATH, OpenClaw reading
/// `ledger`, in the repository's isolated environment.
fn handlers(repo: &Repo, ledger: &Ledger, config: Value, calls: Value) -> Outcome {
    let script = repo.scratch().join("harness.mjs");
    std::fs::write(&script, HARNESS).unwrap();
    let runqlint_dir = Path::new(crate::support::bin()).parent().unwrap();
    let path = format!(
        "{}:{}:{}",
        runqlint_dir.display(),
        tools_bin("openclaw").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(tools_bin("node"));
    cmd.arg(&script)
        .arg(plugin_dir().join("index.js"))
        .arg(config.to_string())
        .arg(calls.to_string())
        .current_dir(repo.scratch())
        .stdin(Stdio::null());
    crate::support::isolate(&mut cmd, repo.home());
    cmd.env("PATH", path)
        .env("OPENCLAW_STATE_DIR", ledger.path());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "harness: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["threw"], Value::Null, "a handler threw: {v}");
    Outcome {
        registered: v["registered"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect(),
        results: v["results"].as_array().unwrap().clone(),
        logs: v["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l[0].as_str().unwrap().to_string(),
                    l[1].as_str().unwrap().to_string(),
                )
            })
            .collect(),
    }
}

fn queue_path(repo: &Repo) -> String {
    repo.root.join(Q).to_str().unwrap().to_string()
}

/// The text with the parts that are each run's clock (backup stamp, run id, times)
/// masked: every word holding 6 or more digits becomes `#`.
fn masked(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_alphanumeric() {
            run.push(c);
            continue;
        }
        let numeric = run.chars().filter(char::is_ascii_digit).count();
        if numeric >= 6 {
            out.push('#');
        } else {
            out.push_str(&run);
        }
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

fn committed_message(repo: &Repo) -> String {
    repo.git(&["log", "-1", "--format=%B"])
}

#[test]
fn gateway_start_in_fix_mode_leaves_what_fix_alive_openclaw_leaves() {
    if !have_openclaw() {
        return;
    }
    let now = now_ms();
    let Some(ledger) = Ledger::new() else { return };
    ledger.insert(&[
        Task::new("agent:main:subagent:done", "succeeded", now - DAY).ended(now - 3_600_000),
        Task::new("agent:main:subagent:failed", "failed", now - DAY)
            .ended(now - 2 * 3_600_000)
            .error("model refused"),
    ]);
    let text = queue(vec![
        running("done", Some("agent:main:subagent:done"), now - 2 * DAY),
        running("failed", Some("agent:main:subagent:failed"), now - 2 * DAY),
        running("fresh", Some("agent:main:subagent:fresh"), now - 60_000),
    ]);
    let by_plugin = setup(&text);
    let by_cli = setup(&text);

    let out = handlers(
        &by_plugin,
        &ledger,
        json!({"queues": [queue_path(&by_plugin)], "mode": "fix",
               "openclawBin": tools_bin("openclaw").to_str().unwrap()}),
        json!([["gateway_start", {"port": 18789}]]),
    );
    assert_eq!(
        out.registered,
        [
            "gateway_start",
            "heartbeat_prompt_contribution",
            "subagent_ended"
        ]
    );
    assert!(out.logged("info", "changed 2 item(s)"), "{:?}", out.logs);
    let oc = tools_bin("openclaw");
    let r = super::run(
        &by_cli,
        &ledger,
        &[
            "fix",
            "--alive",
            "openclaw",
            "--openclaw-bin",
            oc.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");

    // The same bytes (triage.flaggedAtMs is each run's clock).
    let strip = |b: Vec<u8>| masked(&String::from_utf8(b).unwrap());
    assert_eq!(strip(by_plugin.read(Q)), strip(by_cli.read(Q)));
    assert_ne!(by_plugin.read(Q), text.as_bytes());
    let after = items(&by_plugin);
    assert_eq!(by_id(&after, "done")["status"], "done");
    assert_eq!(by_id(&after, "failed")["run"]["error"], "model refused");
    assert_eq!(by_id(&after, "fresh")["status"], "running");
    // The same receipt, committed.
    assert_eq!(
        masked(&committed_message(&by_plugin)),
        masked(&committed_message(&by_cli))
    );
    assert!(committed_message(&by_plugin).contains("Receipt-"));
    assert!(by_plugin
        .git(&["status", "--porcelain", "--", Q])
        .is_empty());
}

#[test]
fn subagent_ended_touches_only_that_sessions_item_right_away() {
    if !have_openclaw() {
        return;
    }
    let now = now_ms();
    let Some(ledger) = Ledger::new() else { return };
    // The ledger has not recorded the end yet.
    ledger.insert(&[
        Task::new("agent:main:subagent:k1", "running", now - 600_000).last_event(now - 30_000),
    ]);
    let text = queue(vec![
        running("one", Some("agent:main:subagent:k1"), now - 600_000),
        running("two", Some("agent:main:subagent:k2"), now - 600_000),
        // Stale, but not the session that ended: untouched.
        running("old", Some("agent:main:subagent:k3"), now - 7 * DAY),
    ]);
    let repo = setup(&text);
    let head = repo.head();
    let ended = now - 2_000;
    let event = json!({
        "targetSessionKey": "agent:main:subagent:k1",
        "targetKind": "subagent",
        "reason": "subagent-complete",
        "outcome": "error",
        "error": "provider overloaded",
        "runId": "run-1",
        "endedAt": ended,
        "sendFarewell": false,
    });

    // Report mode: logged, nothing written.
    let out = handlers(
        &repo,
        &ledger,
        json!({"queues": [queue_path(&repo)]}),
        json!([["subagent_ended", event]]),
    );
    assert!(
        out.logged("info", "would change 1 item(s)"),
        "{:?}",
        out.logs
    );
    assert_eq!(repo.read(Q), text.as_bytes());
    assert_eq!(repo.head(), head);

    // Fix mode: that item only, with OpenClaw's outcome and end time.
    let out = handlers(
        &repo,
        &ledger,
        json!({"queues": [queue_path(&repo)], "mode": "fix"}),
        json!([["subagent_ended", event]]),
    );
    assert!(out.logged("info", "one → failed"), "{:?}", out.logs);
    let after = items(&repo);
    let one = by_id(&after, "one");
    assert_eq!(one["status"], "failed");
    assert_eq!(one["run"]["finishedAtMs"], ended);
    assert_eq!(one["run"]["error"], "provider overloaded");
    let before: Value = serde_json::from_str(&text).unwrap();
    let before = before["items"].as_array().unwrap();
    for id in ["two", "old"] {
        assert_eq!(by_id(&after, id), by_id(before, id));
    }
    assert_ne!(repo.head(), head);
}

#[test]
fn report_mode_and_heartbeat_write_nothing() {
    if !have_openclaw() {
        return;
    }
    let now = now_ms();
    let Some(ledger) = Ledger::new() else { return };
    let text = queue(vec![
        running("stuck", Some("agent:main:subagent:gone"), now - 3 * DAY),
        running("fresh", Some("agent:main:subagent:new"), now - 60_000),
    ]);
    let repo = setup(&text);
    let head = repo.head();
    let out = handlers(
        &repo,
        &ledger,
        json!({"queues": [queue_path(&repo)], "heartbeatCacheMs": 0}),
        json!([
            ["gateway_start", {"port": 18789}],
            ["heartbeat_prompt_contribution", {"agentId": "main", "heartbeatName": "default"}],
            ["heartbeat_prompt_contribution", {"agentId": "main", "heartbeatName": "default"}],
        ]),
    );
    assert!(out.logged("warn", "stale stuck"), "{:?}", out.logs);
    assert!(out.logged("info", "2 running, 1 stale"), "{:?}", out.logs);
    // The first heartbeat starts the refresh and does not wait for it.
    assert_eq!(out.results[1], Value::Null);
    assert_eq!(
        out.results[2],
        json!({"appendContext": "run queue: 2 running, 1 stale"})
    );
    assert_eq!(repo.read(Q), text.as_bytes());
    assert_eq!(repo.head(), head);
}

#[test]
fn failures_are_logged_reasons_never_throws() {
    if !have_openclaw() {
        return;
    }
    let now = now_ms();
    let Some(ledger) = Ledger::new() else { return };
    let text = queue(vec![running(
        "stuck",
        Some("agent:main:subagent:gone"),
        now - 3 * DAY,
    )]);
    let ended = json!({
        "targetSessionKey": "agent:main:subagent:gone",
        "targetKind": "subagent",
        "reason": "subagent-complete",
        "outcome": "ok",
        "endedAt": now - 1_000,
    });
    let calls = json!([
        ["gateway_start", {"port": 18789}],
        ["subagent_ended", ended],
        ["heartbeat_prompt_contribution", {}],
    ]);

    // A binary that does not exist.
    let repo = setup(&text);
    let out = handlers(
        &repo,
        &ledger,
        json!({"queues": [queue_path(&repo)], "mode": "fix", "binary": "/nonexistent/runqlint"}),
        calls.clone(),
    );
    assert!(
        out.logged("warn", "cannot run /nonexistent/runqlint"),
        "{:?}",
        out.logs
    );
    assert_eq!(repo.read(Q), text.as_bytes());

    // Uncommitted edits: left alone, to be tried again.
    let dirty = text.replace("Run stuck", "Run stuck (edited)");
    repo.write(Q, &dirty);
    let out = handlers(
        &repo,
        &ledger,
        json!({"queues": [queue_path(&repo)], "mode": "fix"}),
        calls.clone(),
    );
    assert!(
        out.logged("warn", "uncommitted changes")
            && out.logged("warn", "tried again at the next event"),
        "{:?}",
        out.logs
    );
    assert_eq!(repo.read(Q), dirty.as_bytes());

    // A ledger OpenClaw cannot read: cannot tell on gateway start (nothing changed); the
    // sub-agent's own end still counts.
    let repo = setup(&text);
    std::fs::write(
        ledger.path().join("state/openclaw.sqlite"),
        b"not a database",
    )
    .unwrap();
    let out = handlers(
        &repo,
        &ledger,
        json!({"queues": [queue_path(&repo)], "mode": "fix"}),
        json!([["gateway_start", {"port": 18789}]]),
    );
    assert!(
        out.logged("info", "left (cannot tell) stuck"),
        "{:?}",
        out.logs
    );
    assert_eq!(repo.read(Q), text.as_bytes());

    // A queue that is not there.
    let out = handlers(
        &repo,
        &ledger,
        json!({"queues": [repo.root.join("missing.json").to_str().unwrap()], "mode": "fix"}),
        calls,
    );
    assert!(out.logged("warn", "missing.json"), "{:?}", out.logs);
}

/// OpenClaw run by a Node whose directory also holds a working `npm` (OpenClaw puts its own
/// Node's directory first on `PATH` for `npm install`, and the wheel's `bin/npm` is a copy
/// that cannot find npm's sources; see scripts/test-tools.sh), offline, in `dir`'s state.
struct Install {
    dir: tempfile::TempDir,
}

impl Install {
    fn new() -> Install {
        let dir = tempfile::Builder::new()
            .prefix("openclaw-install")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let real = std::fs::canonicalize(tools_bin("node")).unwrap();
        let npm_cli = real
            .parent()
            .unwrap()
            .join("../lib/node_modules/npm/bin/npm-cli.js");
        assert!(npm_cli.is_file(), "{} is missing", npm_cli.display());
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        if std::fs::hard_link(&real, bin.join("node")).is_err() {
            std::fs::copy(&real, bin.join("node")).unwrap();
        }
        std::fs::write(
            bin.join("npm"),
            format!(
                "#!/bin/sh\nexec \"$(dirname \"$0\")/node\" '{}' \"$@\"\n",
                npm_cli.display()
            ),
        )
        .unwrap();
        super::make_executable(&bin.join("npm"));
        Install { dir }
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// `openclaw ARGS` with `extra_path` before the Node's directory and the system's.
    fn openclaw(&self, args: &[&str], extra_path: Option<&Path>) -> (bool, String, String) {
        let openclaw = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".tools/openclaw/node_modules/openclaw/openclaw.mjs");
        let mut path = String::new();
        if let Some(p) = extra_path {
            path.push_str(&format!("{}:", p.display()));
        }
        path.push_str(&format!("{}:/usr/bin:/bin", self.bin().display()));
        let out = Command::new(self.bin().join("node"))
            .arg(openclaw)
            .args(args)
            .env("PATH", path)
            .env("HOME", self.dir.path().join("home"))
            .env("OPENCLAW_STATE_DIR", self.dir.path().join("state"))
            .env("npm_config_offline", "true")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn the_packed_plugin_installs_offline_lists_its_hooks_and_ships_the_skill() {
    if !have_openclaw() {
        return;
    }
    let install = Install::new();
    // npm pack, as a user's npm would publish it.
    let out = Command::new(install.bin().join("npm"))
        .args(["pack", "--json", "--pack-destination"])
        .arg(install.dir.path())
        .current_dir(plugin_dir())
        .env("PATH", format!("{}:/usr/bin:/bin", install.bin().display()))
        .env("HOME", install.dir.path().join("home"))
        .env("npm_config_offline", "true")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let packed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files: Vec<&str> = packed[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        {
            let mut f = files.clone();
            f.sort();
            f
        },
        [
            "index.js",
            "openclaw.plugin.json",
            "package.json",
            "skills/runqlint/SKILL.md"
        ]
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(plugin_dir().join("package.json")).unwrap()).unwrap();
    assert!(manifest.get("scripts").is_none(), "no install scripts");
    let tgz = install
        .dir
        .path()
        .join(packed[0]["filename"].as_str().unwrap());

    let spec = format!("npm-pack:{}", tgz.display());
    let (ok, stdout, stderr) = install.openclaw(
        &[
            "plugins",
            "install",
            &spec,
            "--force",
            "--accept-capabilities",
        ],
        None,
    );
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("Installed plugin: runqlint"), "{stdout}");

    // A configuration the manifest's schema refuses.
    let (ok, stdout, stderr) = install.openclaw(
        &[
            "config",
            "set",
            "plugins.entries.runqlint.config",
            r#"{"queues":["/q/run_queue.json"],"mode":"repair"}"#,
            "--strict-json",
        ],
        None,
    );
    assert!(!ok, "{stdout}\n{stderr}");
    let (ok, stdout, stderr) = install.openclaw(
        &[
            "config",
            "set",
            "plugins.entries.runqlint.config",
            r#"{"queues":["/q/run_queue.json"],"mode":"fix","staleAfter":"2h"}"#,
            "--strict-json",
        ],
        None,
    );
    assert!(ok, "{stdout}\n{stderr}");
    let (ok, stdout, stderr) = install.openclaw(&["plugins", "enable", "runqlint"], None);
    assert!(ok, "{stdout}\n{stderr}");

    let (ok, stdout, stderr) = install.openclaw(
        &["plugins", "inspect", "runqlint", "--runtime", "--json"],
        None,
    );
    assert!(ok, "{stdout}\n{stderr}");
    let inspected: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(inspected["plugin"]["status"], "loaded", "{stdout}");
    let mut hooks: Vec<&str> = inspected["typedHooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    hooks.sort();
    assert_eq!(
        hooks,
        [
            "gateway_start",
            "heartbeat_prompt_contribution",
            "subagent_ended"
        ]
    );

    // The skill the plugin ships: missing its binary, then ready with runqlint on PATH.
    let (ok, stdout, stderr) = install.openclaw(&["skills", "info", "runqlint", "--json"], None);
    assert!(ok, "{stdout}\n{stderr}");
    let skill: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(skill["eligible"], false, "{stdout}");
    assert_eq!(skill["missing"]["bins"], json!(["runqlint"]));
    let kinds: Vec<(&str, &str)> = skill["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap_or(""),
                i["label"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // OpenClaw offers one preferred installer (Homebrew, then uv, then node); the skill
    // declares both packages.
    assert_eq!(kinds, [("uv", "Install runqlint (uv)")]);
    let skill_md = std::fs::read_to_string(plugin_dir().join("skills/runqlint/SKILL.md")).unwrap();
    assert!(
        skill_md.contains(r#""kind": "node""#) && skill_md.contains(r#""package": "runqlint""#)
    );
    let runqlint_dir = Path::new(crate::support::bin()).parent().unwrap();
    let (ok, stdout, stderr) = install.openclaw(
        &["skills", "info", "runqlint", "--json"],
        Some(runqlint_dir),
    );
    assert!(ok, "{stdout}\n{stderr}");
    let skill: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(skill["eligible"], true, "{stdout}");
    assert_eq!(skill["missing"]["bins"], json!([]));
    let (ok, stdout, stderr) = install.openclaw(&["skills", "check", "--json"], Some(runqlint_dir));
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("runqlint"), "{stdout}");
}
