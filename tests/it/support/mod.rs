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
/// no colour, a user config directory and trust store of its own (under `home`), and none
/// of the variables a surrounding hook or the user's shell may have exported.
pub fn isolate(cmd: &mut Command, home: &Path) {
    for var in [
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
        "GIT_PREFIX",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "RUNQLINT_ALIVE_CMD",
        "RUNQLINT_OPENCLAW_BIN",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home)
        .env("USERPROFILE", home)
        .env("APPDATA", home.join("AppData").join("Roaming"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local").join("share"))
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

/// The folder `scripts/test-tools.sh` installs into: `RUNQLINT_TOOLS_DIR`, else `.tools/`.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("RUNQLINT_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools"),
    }
}

/// An external program a test runs, or `None` when it is missing: the caller returns, and
/// the test is skipped with one line on stderr (`skipped: TEST: TOOL not found (scripts/test
/// installs it)`). Under `CI=true` a missing tool fails the test instead. pre-commit, prek,
/// check-jsonschema, actionlint and the tools' Python come from `.tools/venv/bin`, OpenClaw
/// and its Node from `.tools/bin`, anything else (`git-lfs`, `gpg`, `ssh-keygen`) from PATH.
pub fn tool(name: &str) -> Option<PathBuf> {
    let found = match name {
        "pre-commit" | "prek" | "check-jsonschema" | "actionlint" | "python" => {
            Some(tools_dir().join("venv/bin").join(name)).filter(|p| p.is_file())
        }
        "openclaw" | "node" => Some(tools_dir().join("bin").join(name)).filter(|p| p.exists()),
        _ => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join(name))
            .find(|p| p.is_file()),
    };
    if found.is_none() {
        let test = std::thread::current()
            .name()
            .unwrap_or("a test")
            .to_string();
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: {name} not found, and a missing tool fails under CI=true (scripts/test installs it)"
        );
        // Straight to the stream: the test harness captures `eprintln!`.
        let line = format!("skipped: {test}: {name} not found (scripts/test installs it)\n");
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    }
    found
}

/// A temporary git repository on branch `main`. Its paths are canonical (on macOS the
/// temporary directory `/var/...` is a link to `/private/var/...`, which is what git and
/// runqlint report), so they compare equal to the paths in any output.
pub struct Repo {
    dir: tempfile::TempDir,
    scratch: PathBuf,
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
        let dir = tempfile::Builder::new()
            .prefix("runqlint-it")
            .tempdir()
            .unwrap();
        let scratch = dir.path().canonicalize().unwrap();
        let home = scratch.join("home");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("gitconfig"),
            "[user]\n\tname = Runq Tester\n\temail = tester@example.invalid\n[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n[core]\n\tautocrlf = false\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .unwrap();
        let root = scratch.join("repo");
        std::fs::create_dir_all(&root).unwrap();
        let repo = Repo {
            dir,
            scratch,
            root,
            home,
        };
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
        &self.scratch
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
    setup_as(Format::Plain, text)
}

/// The repository formats git commits in and `fix` must too: libgit2 opens only `Plain`
/// and `SplitIndex` (whose index it cannot read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    /// `git init --object-format=sha256`.
    Sha256,
    /// `git init --ref-format=reftable`.
    Reftable,
    /// `core.splitIndex=true`: the index is `link`ed to a shared index.
    SplitIndex,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Plain,
        Format::Sha256,
        Format::Reftable,
        Format::SplitIndex,
    ];

    /// An empty repository of this format.
    pub fn init(self) -> Repo {
        match self {
            Format::Plain => Repo::new(),
            Format::Sha256 => Repo::init(&["--object-format=sha256"]),
            Format::Reftable => Repo::init(&["--ref-format=reftable"]),
            Format::SplitIndex => {
                let repo = Repo::new();
                repo.git(&["config", "core.splitIndex", "true"]);
                repo
            }
        }
    }

    /// Panics unless `repo` is of this format (as git reports it).
    pub fn assert_is(self, repo: &Repo) {
        let formats = repo.git(&["rev-parse", "--show-object-format", "--show-ref-format"]);
        let want = match self {
            Format::Sha256 => "sha256\nfiles\n",
            Format::Reftable => "sha1\nreftable\n",
            Format::Plain | Format::SplitIndex => "sha1\nfiles\n",
        };
        assert_eq!(formats, want, "{self:?}");
        let shared = std::fs::read_dir(repo.root.join(".git")).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("sharedindex.")
        });
        assert_eq!(shared, self == Format::SplitIndex, "{self:?}: shared index");
    }
}

/// A repository of `format` whose first commit holds `text` as `run_queue.json`.
pub fn setup_as(format: Format, text: &str) -> Repo {
    let repo = format.init();
    repo.write(Q, text);
    repo.commit_all("queue");
    format.assert_is(&repo);
    repo
}

/// `runqlint fix --now NOW EXTRA...` in the repository.
pub fn fix(repo: &Repo, extra: &[&str]) -> Run {
    let mut args = vec!["fix", "--now", NOW];
    args.extend_from_slice(extra);
    repo.run(&args)
}
