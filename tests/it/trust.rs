//! Trust (issue #19): a program named by repository content runs only from a trusted
//! source. A planted program creates a canary file when it runs; the tests assert where it
//! never appears (every read-only command, the hooks, the merge driver, the Action) and
//! where it does (after `runqlint trust`, from the command line, the environment and the
//! user's own config file).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::gates::{framework, hooks_repo, path_with_runqlint};
use crate::support::*;

/// An executable shell script at `path` that creates `canary` (with the shell alone, so
/// whatever PATH is), then exits with `code`.
fn plant(path: &Path, canary: &Path, code: i32) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(
        path,
        format!("#!/bin/sh\n: > '{}'\nexit {code}\n", canary.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// The canary path in the repository's scratch directory (outside the repository).
fn canary(repo: &Repo) -> PathBuf {
    repo.scratch().join("canary")
}

/// Whether the canary exists; removes it so the next run starts clean.
fn sang(repo: &Repo) -> bool {
    let c = canary(repo);
    let there = c.exists();
    let _ = std::fs::remove_file(&c);
    there
}

/// The seed queue, with OpenClaw's sub-agent session keys (OpenClaw is asked only about
/// those).
fn stuck_queue() -> String {
    seed_queue().replace("agent:hq:sub:", "agent:hq:subagent:")
}

/// [`stuck_queue`] on `main`, then a branch `contrib` whose commit edits `runqlint.toml` to
/// `config` and adds `evil.sh` (which creates the canary and exits 1); `contrib` checked out.
fn branch_that_names(config: &str) -> Repo {
    let repo = setup(&stuck_queue());
    repo.git(&["checkout", "-q", "-b", "contrib"]);
    plant(&repo.root.join("evil.sh"), &canary(&repo), 1);
    repo.write("runqlint.toml", config);
    repo.commit_all("contrib: tune runqlint");
    repo
}

/// Asserts `run` is the one-line trust refusal for `key` and `./evil.sh`, and that nothing
/// ran or was written.
fn assert_refused(repo: &Repo, run: &Run, key: &str, head: &str, why: &str) {
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    let line = run.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{run:?}");
    for needle in [
        "runqlint.toml:",
        key,
        "\"./evil.sh\"",
        why,
        "run `runqlint trust`",
    ] {
        assert!(line.contains(needle), "{needle:?} not in {line}");
    }
    assert!(!sang(repo), "the planted program ran: {run:?}");
    assert_eq!(repo.read(Q), stuck_queue().as_bytes());
    assert_eq!(repo.head(), head);
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "something was written"
    );
}

const OPENCLAW_BIN: &str = "[fix]\nalive = \"openclaw\"\nopenclaw-bin = \"./evil.sh\"\n";
const ALIVE_CMD: &str = "[fix]\nalive-cmd = \"./evil.sh\"\n";

#[test]
fn a_branch_naming_openclaw_bin_runs_nothing_until_the_file_is_approved() {
    let repo = branch_that_names(OPENCLAW_BIN);
    let head = repo.head();
    let commands: [&[&str]; 3] = [
        &["stale", "--now", NOW],
        &["fix", "--dry-run", "--now", NOW],
        &["fix", "--now", NOW],
    ];
    for args in commands {
        let run = repo.run(args);
        assert_refused(&repo, &run, "[fix] openclaw-bin", &head, "is not approved");
    }

    // Approved: the same three run it (its answer is not OpenClaw's JSON, so every item
    // is "cannot tell" and fix changes nothing).
    let approved = repo.run(&["trust"]);
    assert_eq!(approved.code, 0, "{approved:?}");
    assert!(
        approved.stdout.contains("runqlint.toml") && approved.stdout.contains("\"./evil.sh\""),
        "{approved:?}"
    );
    for args in commands {
        let run = repo.run(args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert!(sang(&repo), "{args:?} did not run the approved program");
    }
    assert_eq!(repo.head(), head);

    // A further edit needs a new approval.
    repo.write("runqlint.toml", format!("{OPENCLAW_BIN}# tuned\n"));
    repo.commit_all("contrib: one more line");
    let head = repo.head();
    for args in commands {
        let run = repo.run(args);
        assert_refused(
            &repo,
            &run,
            "[fix] openclaw-bin",
            &head,
            "has changed since it was approved",
        );
    }
    let show = repo.run(&["trust", "--show"]);
    assert_eq!(show.code, 0, "{show:?}");
    assert!(show.stdout.contains("changed since approved"), "{show:?}");

    // Approved again, then revoked: refused again.
    assert_eq!(repo.run(&["trust"]).code, 0);
    assert_eq!(repo.run(&["stale", "--now", NOW]).code, 0);
    assert!(sang(&repo));
    let show = repo.run(&["trust", "--show"]);
    let canonical = std::fs::canonicalize(repo.root.join("runqlint.toml")).unwrap();
    assert!(
        show.stdout
            .contains(&format!("{}  sha256 ", canonical.display()))
            && show.stdout.trim_end().ends_with("approved"),
        "{show:?}"
    );
    let revoked = repo.run(&["trust", "--revoke"]);
    assert_eq!(revoked.code, 0, "{revoked:?}");
    for args in commands {
        let run = repo.run(args);
        assert_refused(&repo, &run, "[fix] openclaw-bin", &head, "is not approved");
    }
    let show = repo.run(&["trust", "--show"]);
    assert!(
        show.stdout.starts_with("no configuration file is approved"),
        "{show:?}"
    );
    // The store lives in the user's data directory, not in the repository.
    assert!(repo
        .home()
        .join(".local/share/runqlint/trusted.json")
        .is_file());
}

#[test]
fn a_branch_naming_alive_cmd_runs_nothing_until_the_file_is_approved() {
    let repo = branch_that_names(ALIVE_CMD);
    let head = repo.head();
    for args in [
        &["fix", "--dry-run", "--now", NOW][..],
        &["fix", "--now", NOW],
    ] {
        let run = repo.run(args);
        assert_refused(&repo, &run, "[fix] alive-cmd", &head, "is not approved");
    }
    // The same program from the command line or the environment needs no approval.
    let run = repo.run(&["fix", "--dry-run", "--now", NOW, "--alive-cmd", "./evil.sh"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(sang(&repo));
    let mut cmd = repo.runqlint_cmd(&["fix", "--dry-run", "--now", NOW]);
    cmd.env("RUNQLINT_ALIVE_CMD", repo.root.join("evil.sh"));
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(sang(&repo));
    assert_eq!(repo.head(), head);
    // `stale` asks only a runtime, never the generic command: it reports, runs nothing.
    let stale = repo.run(&["stale", "--now", NOW]);
    assert_eq!(stale.code, 0, "{stale:?}");
    assert!(!sang(&repo));

    assert_eq!(repo.run(&["trust"]).code, 0);
    let dry = repo.run(&["fix", "--dry-run", "--now", NOW]);
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(sang(&repo));
    let fixed = repo.run(&["fix", "--now", NOW, "--format", "json"]);
    assert_eq!(fixed.code, 0, "{fixed:?}");
    assert!(sang(&repo));
    // The program said "not alive" (exit 1): both stale items were repaired and committed.
    assert_eq!(
        fixed.json()["repaired"],
        json!(["run_stuck_1", "run_stuck_2"])
    );
    assert_ne!(repo.head(), head);

    // An edit to the file (the fix commit did not touch it) needs a new approval.
    repo.write(
        "runqlint.toml",
        ALIVE_CMD.replace("./evil.sh", "./evil.sh --loud"),
    );
    let run = repo.run(&["fix", "--dry-run", "--now", NOW]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("[fix] alive-cmd = \"./evil.sh --loud\"")
            && run.stderr.contains("has changed since it was approved"),
        "{run:?}"
    );
    assert!(!sang(&repo));
}

#[test]
fn the_same_program_from_the_command_line_the_environment_or_the_user_config_needs_no_approval() {
    let repo = branch_that_names(OPENCLAW_BIN);
    let evil = repo.root.join("evil.sh");
    // The command line, relative to the current directory (the root here).
    let run = repo.run(&["stale", "--now", NOW, "--openclaw-bin", "./evil.sh"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(sang(&repo));

    // The environment.
    let mut cmd = repo.runqlint_cmd(&["fix", "--dry-run", "--now", NOW]);
    cmd.env("RUNQLINT_OPENCLAW_BIN", &evil);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(sang(&repo));

    // The user's own config file (outside the repository), with a repository file that
    // names the runtime but no program.
    repo.write("runqlint.toml", "[fix]\nalive = \"openclaw\"\n");
    let user = repo.home().join(".config/runqlint/config.toml");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::write(
        &user,
        format!("[fix]\nopenclaw-bin = {}\n", json!(evil.to_str().unwrap())),
    )
    .unwrap();
    let run = repo.run(&["stale", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(sang(&repo));
    // A repository file that names its own program still needs approval: it comes first.
    repo.write("runqlint.toml", OPENCLAW_BIN);
    let run = repo.run(&["stale", "--now", NOW]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("is not approved"), "{run:?}");
    assert!(!sang(&repo));

    // The user's file is strict, and its paths are absolute or names on PATH.
    std::fs::write(&user, "paths = [\"x.json\"]\n").unwrap();
    let run = repo.run(&["stale", "--now", NOW, "--openclaw-bin", "./evil.sh"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("config.toml") && run.stderr.contains("paths"),
        "{run:?}"
    );
    std::fs::write(&user, "[fix]\nalive-cmd = \"bin/check\"\n").unwrap();
    repo.write("runqlint.toml", "");
    let run = repo.run(&["fix", "--dry-run", "--now", NOW]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("relative path"), "{run:?}");
}

/// The directory of the `git` on PATH (runqlint runs git; the tests below set PATH).
fn git_dir() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .find(|d| d.is_absolute() && (d.join("git").is_file() || d.join("git.exe").is_file()))
        .expect("git on PATH")
}

#[test]
fn a_bare_program_name_is_looked_up_on_path_only() {
    let repo = setup(&stuck_queue());
    // A program of each default name in the repository, which is also the current
    // directory: neither may run, whatever PATH's relative entries say.
    plant(&repo.root.join("openclaw"), &canary(&repo), 0);
    plant(&repo.root.join("alive-check"), &canary(&repo), 1);
    let empty = repo.scratch().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let relative_path = std::env::join_paths([
        PathBuf::from("."),
        PathBuf::from(""),
        PathBuf::from("sub"),
        empty.clone(),
        git_dir(),
    ])
    .unwrap();
    for args in [
        &["stale", "--now", NOW, "--alive", "openclaw"][..],
        &["fix", "--dry-run", "--now", NOW, "--alive", "openclaw"],
        &[
            "fix",
            "--dry-run",
            "--now",
            NOW,
            "--alive-cmd",
            "alive-check",
        ],
    ] {
        let mut cmd = repo.runqlint_cmd(args);
        cmd.env("PATH", &relative_path);
        let run = run_cmd(cmd);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains("not found on PATH"), "{run:?}");
        assert!(
            !sang(&repo),
            "{args:?} ran a program from the current directory"
        );
    }
    // The same name in an absolute PATH entry is found, and runs.
    let bin = repo.scratch().join("user-bin");
    plant(&bin.join("alive-check"), &canary(&repo), 1);
    let mut cmd = repo.runqlint_cmd(&[
        "fix",
        "--dry-run",
        "--now",
        NOW,
        "--alive-cmd",
        "alive-check",
    ]);
    cmd.env(
        "PATH",
        std::env::join_paths([PathBuf::from("."), bin, git_dir()]).unwrap(),
    );
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(sang(&repo), "{run:?}");
}

/// A queue whose data holds shell syntax that would create the canary if it ever reached a
/// shell: in ids, titles and session keys, on running items old enough to be stale.
fn hostile_queue(canary: &Path) -> String {
    let touch = format!("$(touch '{}')", canary.display());
    queue(vec![
        item(
            &format!("id{touch}"),
            "running",
            json!({"title": format!("`touch '{}'`", canary.display()), "run": {"startedAtMs": FEB26_MS, "childSessionKey": touch}}),
        ),
        item(
            "run_b",
            "running",
            json!({"run": {"startedAtMs": FEB26_MS, "childSessionKey": format!("agent:x:subagent:1;touch '{}'", canary.display())}}),
        ),
        item("run_c", "queued", json!({"title": "C"})),
        item(
            "run_e",
            "running",
            json!({"run": {"startedAtMs": FEB26_MS, "childSessionKey": "agent:hq:subagent:9"}}),
        ),
    ])
}

/// The Action's "Check queue files" step, as GitHub runs it: its `run:` script under bash,
/// its inputs in the environment, runqlint on PATH.
fn run_action(repo: &Repo, base: &str, sarif: &Path) -> Run {
    let action =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let step = action
        .split("- name: Check queue files")
        .nth(1)
        .expect("the action's check step");
    let script: String = step
        .split("run: |\n")
        .nth(1)
        .expect("its script")
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("        "))
        .map(|l| format!("{}\n", l.get(8..).unwrap_or("")))
        .collect();
    assert!(script.contains("runqlint \"${common[@]}\""), "{script}");
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(script).current_dir(&repo.root);
    isolate(&mut cmd, repo.home());
    cmd.env("PATH", path_with_runqlint())
        .env("RUNQLINT_PATHS", "")
        .env("RUNQLINT_BASE", base)
        .env("RUNQLINT_FORMAT", "github")
        .env("RUNQLINT_SARIF_FILE", sarif);
    run_cmd(cmd)
}

#[test]
fn read_only_commands_hooks_merge_driver_and_action_never_run_a_configured_program() {
    let repo = Repo::new();
    let canary = canary(&repo);
    // Every key that can name a program, each naming one that creates the canary; and one
    // of the default name in the repository root, for a lookup that would wrongly look there.
    plant(&repo.root.join("evil.sh"), &canary, 1);
    plant(&repo.root.join("openclaw"), &canary, 0);
    // (Stale items are warnings here, so the hooks let the commits through.)
    let config = "[rules]\nstale-running = \"warn\"\n[fix]\nalive = \"openclaw\"\nopenclaw-bin = \"./evil.sh\"\nalive-cmd = \"./evil.sh\"\n";
    repo.write("runqlint.toml", config);
    repo.write(Q, hostile_queue(&canary));
    repo.commit_all("queue");
    let base = repo.head();
    // Approved even: these commands never resolve a program, approved or not.
    for approved in [false, true] {
        if approved {
            assert_eq!(repo.run(&["trust"]).code, 0);
        }
        let id = format!("id$(touch '{}')", canary.display());
        let commands: Vec<Vec<&str>> = vec![
            vec!["check", "--now", NOW],
            vec!["check", "--staged", "--now", NOW],
            vec!["check", "--base", "HEAD", "--format", "json", "--now", NOW],
            vec!["check", "--format", "github", "--now", NOW],
            vec!["check", "--format", "sarif", "--now", NOW],
            vec!["audit", "--now", NOW],
            vec!["log", &id],
            vec!["log", "run_b", "--format", "json"],
            vec!["explain", "stale-running"],
            vec!["rules"],
            vec!["schema"],
        ];
        for args in &commands {
            let run = repo.run(args);
            assert!(run.code == 0 || run.code == 1, "{args:?}: {run:?}");
            assert!(!sang(&repo), "{args:?} ran a configured program");
        }
        assert!(!repo.root.join("canary").exists());
    }

    // The git hook and the merge driver, installed; a commit and a merge through git.
    let installed = repo.run(&["install-hook", "--gitattributes"]);
    assert_eq!(installed.code, 0, "{installed:?}");
    repo.commit_all("gitattributes");
    let git = |args: &[&str]| {
        let mut cmd = repo.git_cmd(args);
        cmd.env("RUNQLINT", bin());
        run_cmd(cmd)
    };
    let mut theirs: serde_json::Value = serde_json::from_slice(&repo.read(Q)).unwrap();
    theirs["items"][2]["title"] = json!("C, retitled");
    assert_eq!(git(&["checkout", "-q", "-b", "theirs"]).code, 0);
    repo.write(Q, pretty(&theirs));
    repo.add(Q);
    let commit = git(&["commit", "-q", "-m", "theirs"]);
    assert_eq!(commit.code, 0, "{commit:?}");
    assert!(!sang(&repo), "the pre-commit hook ran a configured program");
    assert_eq!(git(&["checkout", "-q", "main"]).code, 0);
    let mut ours: serde_json::Value = serde_json::from_slice(&repo.read(Q)).unwrap();
    ours["items"]
        .as_array_mut()
        .unwrap()
        .push(item("run_d", "queued", json!({"title": "D"})));
    repo.write(Q, pretty(&ours));
    repo.add(Q);
    assert_eq!(git(&["commit", "-q", "-m", "ours"]).code, 0);
    let merged = git(&["merge", "-q", "--no-edit", "theirs"]);
    assert_eq!(merged.code, 0, "{merged:?}");
    let result: serde_json::Value = serde_json::from_slice(&repo.read(Q)).unwrap();
    assert_eq!(
        result["items"][2]["title"], "C, retitled",
        "the driver merged"
    );
    assert_eq!(result["items"].as_array().unwrap().len(), 5);
    assert!(
        !sang(&repo),
        "the merge driver or its hook ran a configured program"
    );

    // The pre-commit framework's hook, on a staged queue file.
    let (hooks, sha) = hooks_repo(&repo);
    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {sha}\n    hooks:\n      - id: runqlint-system\n",
            hooks.display()
        ),
    );
    repo.add(".pre-commit-config.yaml");
    let mut edited = result.clone();
    edited["items"][4]["title"] = json!("D, retitled");
    repo.write(Q, pretty(&edited));
    repo.add(Q);
    let Some(pre_commit) = tool("pre-commit") else {
        return;
    };
    let run = framework(&pre_commit, &repo, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Passed"), "the hook ran: {run:?}");
    assert!(
        !sang(&repo),
        "the pre-commit framework's hook ran a configured program"
    );

    // The Action's check step against the first commit.
    let sarif = repo.scratch().join("runqlint.sarif");
    let run = run_action(&repo, &base, &sarif);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    assert!(sarif.is_file(), "{run:?}");
    assert!(!sang(&repo), "the Action ran a configured program");
    assert!(!repo.root.join("canary").exists());
}

#[test]
fn the_refusal_names_the_exact_command_that_approves_the_file() {
    // A config file named on the command line, run from another directory.
    let repo = setup(&stuck_queue());
    plant(&repo.root.join("ci/evil.sh"), &canary(&repo), 1);
    repo.write(
        "ci/runqlint.toml",
        ALIVE_CMD.replace("./evil.sh", "ci/evil.sh"),
    );
    repo.commit_all("ci config");
    let elsewhere = repo.scratch().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let config = repo.root.join("ci/runqlint.toml");
    let queue = repo.root.join(Q);
    let args = [
        "fix",
        "--dry-run",
        "--now",
        NOW,
        "--config",
        config.to_str().unwrap(),
        queue.to_str().unwrap(),
    ];
    let run = repo.run_in(&elsewhere, &args);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!sang(&repo));
    let command = run
        .stderr
        .split("run `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no command in {}", run.stderr));
    let words = shell_words::split(command).unwrap();
    assert_eq!(words[..3], ["runqlint", "trust", "--config"], "{command}");
    // That command, as printed, from the same directory, approves the file.
    let approved = repo.run_in(
        &elsewhere,
        &words[1..].iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_eq!(approved.code, 0, "{approved:?}");
    let run = repo.run_in(&elsewhere, &args);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        sang(&repo),
        "the approved command ran (relative to the repository root)"
    );
    // The repository's own runqlint.toml is another file, with an approval of its own.
    repo.write(
        "runqlint.toml",
        ALIVE_CMD.replace("./evil.sh", "ci/evil.sh"),
    );
    let run = repo.run(&["fix", "--dry-run", "--now", NOW]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("run `runqlint trust`"), "{run:?}");
    assert!(!sang(&repo));
}

#[test]
fn a_file_that_is_not_a_valid_config_is_not_approved() {
    let repo = setup(&stuck_queue());
    repo.write(
        "runqlint.toml",
        "[fix]\nalive-cmd = \"./evil.sh\"\ncolour = true\n",
    );
    let run = repo.run(&["trust"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("colour"), "{run:?}");
    assert!(!repo
        .home()
        .join(".local/share/runqlint/trusted.json")
        .exists());
    // Revoking needs no valid file.
    let run = repo.run(&["trust", "--revoke"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("was not approved"), "{run:?}");
}
