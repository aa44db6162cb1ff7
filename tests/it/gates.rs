//! The gates (issue #4): the git hook and `install-hook`, the pre-commit framework, the
//! GitHub formats, the composite action and the workflows. Everything runs for real: git
//! runs the installed hook, pre-commit and actionlint come from `.tools/` (installed by
//! `scripts/test-tools.sh`), SARIF is validated against the OASIS schema.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::support::*;

// ---------------------------------------------------------------------------------------
// Helpers

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the runqlint binary under test, for PATH.
fn bin_dir() -> PathBuf {
    Path::new(bin()).parent().unwrap().to_path_buf()
}

/// PATH with the binary under test first.
pub(crate) fn path_with_runqlint() -> std::ffi::OsString {
    let mut dirs = vec![bin_dir()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// `git ARGS` in `repo` as a user would run it: hooks run, runqlint found through RUNQLINT.
fn git_with_hook(repo: &Repo, args: &[&str]) -> Run {
    let mut cmd = repo.git_cmd(args);
    cmd.env("RUNQLINT", bin());
    run_cmd(cmd)
}

fn hook_source() -> String {
    std::fs::read_to_string(manifest_dir().join("hooks/pre-commit")).unwrap()
}

fn repo_with_queue() -> Repo {
    let repo = Repo::new();
    repo.write("run_queue.json", base_queue());
    repo.commit_all("queue");
    repo
}

fn install(repo: &Repo, args: &[&str]) -> Run {
    let mut all = vec!["install-hook"];
    all.extend_from_slice(args);
    repo.run(&all)
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Asserts the commit was refused by runqlint for rewriting `run_a`, located in the file.
fn assert_refused_for_history(run: &Run, repo: &Repo, before: &str) {
    assert_ne!(
        run.code, 0,
        "commit went through:\n{}\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("terminal-status-changed"),
        "stderr: {}",
        run.stderr
    );
    let line = line_of(&rewritten_history(), "\"running\"");
    assert!(
        run.stderr.contains(&format!("run_queue.json:{line}:")),
        "no location run_queue.json:{line}: in stderr: {}",
        run.stderr
    );
    assert_eq!(repo.head(), before, "HEAD moved");
}

// ---------------------------------------------------------------------------------------
// install-hook and the git hook

#[test]
fn installed_hook_refuses_a_rewritten_history_and_accepts_an_honest_change() {
    let repo = repo_with_queue();
    let run = install(&repo, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.lines().next(),
        Some("installed runqlint pre-commit hook at .git/hooks/pre-commit")
    );
    let hook = repo.root.join(".git/hooks/pre-commit");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), hook_source());
    assert_eq!(mode(&hook), 0o755);

    let before = repo.head();
    repo.write("run_queue.json", rewritten_history());
    repo.add("run_queue.json");
    let run = git_with_hook(&repo, &["commit", "-m", "rewrite history"]);
    assert_refused_for_history(&run, &repo, &before);

    repo.write("run_queue.json", honest_change());
    repo.add("run_queue.json");
    let run = git_with_hook(&repo, &["commit", "-q", "-m", "start run_b"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_ne!(repo.head(), before);
}

#[test]
fn hook_checks_what_the_commit_records_not_the_working_tree() {
    let repo = repo_with_queue();
    assert_eq!(install(&repo, &[]).code, 0);
    let before = repo.head();

    // Bad staged, good in the working tree: the commit would record the bad one.
    repo.write("run_queue.json", rewritten_history());
    repo.add("run_queue.json");
    repo.write("run_queue.json", honest_change());
    let run = git_with_hook(&repo, &["commit", "-m", "staged is bad"]);
    assert_refused_for_history(&run, &repo, &before);

    // `git commit -a` records the working tree (through a temporary GIT_INDEX_FILE).
    let run = git_with_hook(
        &repo,
        &[
            "commit",
            "-a",
            "-q",
            "-m",
            "commit -a records the good tree",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(repo.git(&["show", "HEAD:run_queue.json"]), honest_change());
}

#[test]
fn hook_checks_the_temporary_index_of_commit_a_and_commit_path() {
    let repo = repo_with_queue();
    assert_eq!(install(&repo, &[]).code, 0);
    let before = repo.head();
    // Nothing staged; the working tree rewrites history.
    repo.write("run_queue.json", rewritten_history());
    let run = git_with_hook(&repo, &["commit", "-a", "-m", "commit -a"]);
    assert_refused_for_history(&run, &repo, &before);
    let run = git_with_hook(
        &repo,
        &["commit", "-m", "commit PATH", "--", "run_queue.json"],
    );
    assert_refused_for_history(&run, &repo, &before);
    // The refused commits left the real index alone.
    assert_eq!(repo.git(&["diff", "--cached", "--name-only"]), "");
}

#[test]
fn hook_finds_runqlint_on_path_and_refuses_clearly_without_it() {
    let repo = repo_with_queue();
    assert_eq!(install(&repo, &[]).code, 0);
    let before = repo.head();
    repo.write("run_queue.json", rewritten_history());
    repo.add("run_queue.json");

    // On PATH, no RUNQLINT: found and run.
    let mut cmd = repo.git_cmd(&["commit", "-m", "x"]);
    cmd.env_remove("RUNQLINT").env("PATH", path_with_runqlint());
    assert_refused_for_history(&run_cmd(cmd), &repo, &before);

    // Nowhere: refused with a message that says why, even for a good change.
    repo.write("run_queue.json", honest_change());
    repo.add("run_queue.json");
    let mut cmd = repo.git_cmd(&["commit", "-m", "x"]);
    cmd.env("RUNQLINT", repo.scratch().join("no-such-runqlint"));
    let run = run_cmd(cmd);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot find"), "{}", run.stderr);
    assert!(run.stderr.contains("no-such-runqlint"), "{}", run.stderr);
    assert!(run.stderr.contains("RUNQLINT="), "{}", run.stderr);
    assert_eq!(repo.head(), before);
}

#[test]
fn hook_passes_arguments_through_and_never_fixes() {
    // Called by hand with a path (as a wrapper hook might), it checks that path only.
    let repo = repo_with_queue();
    repo.write("other/run_queue.json", base_queue());
    repo.commit_all("second queue");
    repo.write("other/run_queue.json", rewritten_history());
    repo.add("other/run_queue.json");
    let hook = manifest_dir().join("hooks/pre-commit");
    let mut cmd = Command::new("sh");
    cmd.arg(&hook).current_dir(&repo.root);
    isolate(&mut cmd, repo.home());
    cmd.env("RUNQLINT", bin());
    let run = run_cmd(cmd); // configured paths: run_queue.json, unchanged
    assert_eq!(run.code, 0, "{run:?}");
    let mut cmd = Command::new("sh");
    cmd.arg(&hook)
        .arg("other/run_queue.json")
        .current_dir(&repo.root);
    isolate(&mut cmd, repo.home());
    cmd.env("RUNQLINT", bin());
    let run = run_cmd(cmd);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("terminal-status-changed"), "{run:?}");
    // The staged file is exactly as staged: nothing repaired.
    assert_eq!(
        repo.git(&["show", ":other/run_queue.json"]),
        rewritten_history()
    );
    let source = hook_source();
    let code: Vec<&str> = source
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    assert!(
        !code.iter().any(|l| l.contains("fix")),
        "the hook must never run fix: {code:?}"
    );
}

#[test]
fn install_hook_is_idempotent_and_updates_its_own_older_hook() {
    let repo = repo_with_queue();
    assert_eq!(install(&repo, &[]).code, 0);
    let hook = repo.root.join(".git/hooks/pre-commit");
    let run = install(&repo, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.lines().next(),
        Some("runqlint pre-commit hook already installed at .git/hooks/pre-commit")
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), hook_source());

    // An older version of runqlint's own hook is replaced without --force and no backup.
    std::fs::write(
        &hook,
        "#!/bin/sh\n# runqlint pre-commit hook: an older version\nexec runqlint check --staged\n",
    )
    .unwrap();
    let run = install(&repo, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout.lines().next(),
        Some("updated runqlint pre-commit hook at .git/hooks/pre-commit")
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), hook_source());
    assert!(!repo
        .root
        .join(".git/hooks/pre-commit.runqlint-backup")
        .exists());
}

#[test]
fn foreign_hook_is_left_alone_without_force_and_backed_up_with_it() {
    let repo = repo_with_queue();
    let hooks = repo.root.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("pre-commit");
    let theirs = "#!/bin/sh\necho their hook\n";
    std::fs::write(&hook, theirs).unwrap();

    let run = install(&repo, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("not runqlint's hook"), "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), theirs);

    let run = install(&repo, &["--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "kept the previous pre-commit hook as .git/hooks/pre-commit.runqlint-backup\n"
        ),
        "{run:?}"
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.runqlint-backup")).unwrap(),
        theirs
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), hook_source());
    assert_eq!(mode(&hook), 0o755);

    // A second foreign hook never overwrites the first backup.
    let other = "#!/bin/sh\necho another hook\n";
    std::fs::write(&hook, other).unwrap();
    let run = install(&repo, &["--force"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.runqlint-backup")).unwrap(),
        theirs
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.runqlint-backup.1")).unwrap(),
        other
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), hook_source());
}

#[test]
fn install_hook_honours_core_hooks_path() {
    let repo = repo_with_queue();
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    std::fs::create_dir_all(repo.root.join("sub/dir")).unwrap();
    // From a subdirectory: a relative hooksPath is relative to the working tree's root.
    let run = repo.run_in(&repo.root.join("sub/dir"), &["install-hook"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains(".githooks/pre-commit"), "{run:?}");
    assert_eq!(
        std::fs::read_to_string(repo.root.join(".githooks/pre-commit")).unwrap(),
        hook_source()
    );
    assert!(!repo.root.join(".git/hooks/pre-commit").exists());
    assert_eq!(
        repo.git(&["rev-parse", "--git-path", "hooks/pre-commit"])
            .trim(),
        ".githooks/pre-commit",
        "git looks where runqlint installed"
    );

    // And git runs it from there.
    let before = repo.head();
    repo.write("run_queue.json", rewritten_history());
    repo.add("run_queue.json");
    let run = git_with_hook(&repo, &["commit", "-m", "x"]);
    assert_refused_for_history(&run, &repo, &before);

    // An absolute hooksPath too.
    let abs = repo.scratch().join("shared-hooks");
    repo.git(&["config", "core.hooksPath", abs.to_str().unwrap()]);
    assert_eq!(install(&repo, &[]).code, 0);
    assert_eq!(
        std::fs::read_to_string(abs.join("pre-commit")).unwrap(),
        hook_source()
    );
}

#[test]
fn install_hook_in_a_linked_worktree_uses_the_common_hooks_dir() {
    let repo = repo_with_queue();
    let wt = repo.scratch().join("wt");
    repo.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    let run = repo.run_in(&wt, &["install-hook"]);
    assert_eq!(run.code, 0, "{run:?}");
    let common = repo.root.join(".git/hooks/pre-commit");
    assert_eq!(std::fs::read_to_string(&common).unwrap(), hook_source());
    assert!(!repo.root.join(".git/worktrees/wt/hooks").exists());

    // A commit in the worktree runs it, against the worktree's own index and HEAD.
    std::fs::write(wt.join("run_queue.json"), rewritten_history()).unwrap();
    let mut add = repo.git_cmd(&["add", "run_queue.json"]);
    add.current_dir(&wt);
    assert_eq!(run_cmd(add).code, 0);
    let before = repo.git(&["rev-parse", "side"]).trim().to_string();
    let mut commit = repo.git_cmd(&["commit", "-m", "x"]);
    commit.current_dir(&wt).env("RUNQLINT", bin());
    let run = run_cmd(commit);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("terminal-status-changed"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.git(&["rev-parse", "side"]).trim(), before);

    std::fs::write(wt.join("run_queue.json"), honest_change()).unwrap();
    let mut commit = repo.git_cmd(&["commit", "-a", "-q", "-m", "y"]);
    commit.current_dir(&wt).env("RUNQLINT", bin());
    let run = run_cmd(commit);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn install_hook_outside_a_repository_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    let mut cmd = Command::new(bin());
    cmd.arg("install-hook").current_dir(&dir);
    isolate(&mut cmd, &dir);
    cmd.env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap());
    let run = run_cmd(cmd);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("not in a git repository"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------
// The pre-commit framework

/// A git repository holding only this project's `.pre-commit-hooks.yaml`, committed; its
/// path and commit, for `repo:` and `rev:` in a `.pre-commit-config.yaml`.
pub(crate) fn hooks_repo(repo: &Repo) -> (PathBuf, String) {
    let dir = repo.scratch().join("runqlint-hooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        manifest_dir().join(".pre-commit-hooks.yaml"),
        dir.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", ".pre-commit-hooks.yaml"],
        &["commit", "-q", "-m", "hooks"],
    ] {
        let mut cmd = repo.git_cmd(args);
        cmd.current_dir(&dir);
        let run = run_cmd(cmd);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let mut cmd = repo.git_cmd(&["rev-parse", "HEAD"]);
    cmd.current_dir(&dir);
    let sha = run_cmd(cmd).stdout.trim().to_string();
    (dir, sha)
}

/// `FRAMEWORK ARGS` (pre-commit or prek, at `program`) in `repo`, with runqlint on PATH.
pub(crate) fn framework(program: &Path, repo: &Repo, args: &[&str]) -> Run {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(&repo.root);
    isolate(&mut cmd, repo.home());
    cmd.env("PATH", path_with_runqlint())
        .env("PRE_COMMIT_HOME", repo.scratch().join("pre-commit-home"))
        .env("PREK_HOME", repo.scratch().join("prek-home"))
        .env("PRE_COMMIT_COLOR", "never")
        .env_remove("RUNQLINT")
        .env_remove("PRE_COMMIT")
        .env_remove("SKIP");
    run_cmd(cmd)
}

#[test]
fn pre_commit_framework_runs_the_system_hook_on_staged_queue_files() {
    framework_runs_the_system_hook("pre-commit");
}

#[test]
fn prek_runs_the_system_hook_on_staged_queue_files() {
    framework_runs_the_system_hook("prek");
}

fn framework_runs_the_system_hook(name: &str) {
    let Some(program) = tool(name) else { return };
    let pre_commit = |repo: &Repo, args: &[&str]| framework(&program, repo, args);
    let repo = Repo::new();
    let (hooks, sha) = hooks_repo(&repo);
    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {sha}\n    hooks:\n      - id: runqlint-system\n",
            hooks.display()
        ),
    );
    repo.write("run_queue.json", base_queue());
    repo.write("nested/dir/run_queue.json", base_queue());
    repo.write("notes.json", "{ not a queue, not matched");
    repo.commit_all("queues");

    // Nothing staged: the hook is skipped, success.
    let run = pre_commit(&repo, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");

    // A bad nested queue staged (and the root one untouched): pre-commit passes the
    // repository-relative path and fails.
    repo.write("nested/dir/run_queue.json", rewritten_history());
    repo.add("nested/dir/run_queue.json");
    let run = pre_commit(&repo, &["run"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("terminal-status-changed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("nested/dir/run_queue.json"),
        "{}",
        run.stdout
    );

    // Staged good, unstaged bad: pre-commit stashes the unstaged change; the staged
    // version passes.
    repo.write("nested/dir/run_queue.json", honest_change());
    repo.add("nested/dir/run_queue.json");
    repo.write("nested/dir/run_queue.json", rewritten_history());
    let run = pre_commit(&repo, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        std::fs::read_to_string(repo.root.join("nested/dir/run_queue.json")).unwrap(),
        rewritten_history()
    );

    // Through git: `pre-commit install` then a real commit of the bad root queue.
    let run = pre_commit(&repo, &["install"]);
    assert_eq!(run.code, 0, "{run:?}");
    repo.write("nested/dir/run_queue.json", honest_change());
    repo.write("run_queue.json", rewritten_history());
    repo.add("run_queue.json");
    let before = repo.head();
    let mut cmd = repo.git_cmd(&["commit", "-m", "x"]);
    cmd.env("PATH", path_with_runqlint())
        .env("PRE_COMMIT_HOME", repo.scratch().join("pre-commit-home"));
    let run = run_cmd(cmd);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("terminal-status-changed"),
        "{run:?}"
    );
    assert_eq!(repo.head(), before);
}

#[test]
fn pre_commit_hooks_manifest_is_valid_and_declares_the_three_hooks() {
    let text = std::fs::read_to_string(manifest_dir().join(".pre-commit-hooks.yaml")).unwrap();
    // Each hook's block, from its `- id:` line to the next.
    let hooks: Vec<&str> = text
        .split("\n- id: ")
        .skip(1)
        .map(|h| h.split("\n\n").next().unwrap())
        .collect();
    let hook = |id: &str| {
        *hooks
            .iter()
            .find(|h| h.starts_with(&format!("{id}\n")))
            .unwrap_or_else(|| panic!("no hook {id:?} in .pre-commit-hooks.yaml"))
    };
    // `runqlint` installs the prebuilt wheel (compiles nothing), `runqlint-src` builds it,
    // `runqlint-system` runs the one on PATH.
    for (id, language) in [
        ("runqlint", "python"),
        ("runqlint-src", "rust"),
        ("runqlint-system", "system"),
    ] {
        let h = hook(id);
        for needle in [
            format!("\n  language: {language}\n"),
            "\n  entry: runqlint check --staged\n".to_string(),
            "\n  files: (^|/)run_queue\\.json$\n".to_string(),
            "\n  pass_filenames: true\n".to_string(),
        ] {
            assert!(h.contains(&needle), "{needle:?} not in hook {id}:\n{h}");
        }
    }
    assert_eq!(hooks.len(), 3, "{hooks:?}");

    let Some(pre_commit) = tool("pre-commit") else {
        return;
    };
    let run = run_cmd({
        let mut c = Command::new(pre_commit);
        c.arg("validate-manifest")
            .arg(manifest_dir().join(".pre-commit-hooks.yaml"));
        c
    });
    assert_eq!(run.code, 0, "{run:?}");
}

// ---------------------------------------------------------------------------------------
// Workflows and the action, checked by the tools GitHub users rely on

fn check_jsonschema(schema: &str, files: &[&str]) {
    let Some(check_jsonschema) = tool("check-jsonschema") else {
        return;
    };
    let mut cmd = Command::new(check_jsonschema);
    cmd.arg("--builtin-schema")
        .arg(schema)
        .args(files)
        .current_dir(manifest_dir());
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "check-jsonschema {schema} {files:?}: {run:?}");
}

const WORKFLOWS: [&str; 4] = [
    ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
    ".github/workflows/release-npm.yml",
    "docs/examples/runqlint-pr-gate.yml",
];

#[test]
fn workflows_match_githubs_workflow_schema() {
    check_jsonschema("vendor.github-workflows", &WORKFLOWS);
}

#[test]
fn action_matches_githubs_action_schema() {
    check_jsonschema("vendor.github-actions", &["action.yml"]);
}

#[test]
fn workflows_pass_actionlint() {
    let Some(actionlint) = tool("actionlint") else {
        return;
    };
    let mut cmd = Command::new(actionlint);
    cmd.args(["-no-color"])
        .args(WORKFLOWS)
        .current_dir(manifest_dir());
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "actionlint: {}{}", run.stdout, run.stderr);
}

#[test]
fn pr_gate_doc_shows_the_example_workflow_verbatim() {
    let doc = std::fs::read_to_string(manifest_dir().join("docs/pr-gate.md")).unwrap();
    let example =
        std::fs::read_to_string(manifest_dir().join("docs/examples/runqlint-pr-gate.yml")).unwrap();
    assert!(
        doc.contains(&format!("```yaml\n{example}```\n")),
        "docs/pr-gate.md must embed docs/examples/runqlint-pr-gate.yml verbatim"
    );
    for needle in ["fetch-depth: 0", "contents: read", "security-events: write"] {
        assert!(
            example.contains(needle),
            "{needle} missing from the example workflow"
        );
    }
    // security-events: write only in the job that uploads SARIF.
    assert_eq!(example.matches("security-events: write").count(), 1);
    let top = example.split("\njobs:").next().unwrap();
    assert!(
        !top.contains("security-events"),
        "the workflow-level permissions must stay read-only"
    );
}

#[test]
fn action_passes_inputs_through_env_not_into_scripts() {
    let action = std::fs::read_to_string(manifest_dir().join("action.yml")).unwrap();
    let mut in_run = false;
    for line in action.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("run: |") {
            in_run = true;
            continue;
        }
        if in_run && !line.starts_with("        ") && !line.trim().is_empty() {
            in_run = false;
        }
        if in_run {
            assert!(
                !line.contains("${{"),
                "expression inside a script in action.yml: {line}"
            );
        }
    }
    assert!(action.contains("default: ${{ github.event.pull_request.base.sha }}"));
    // The install step is a script of its own (tests/it/action_install.rs runs it), which
    // builds from source only where no release binary exists.
    assert!(action.contains("run: bash \"$RUNQLINT_ACTION_PATH/action/install.sh\"\n"));
    let install = std::fs::read_to_string(manifest_dir().join("action/install.sh")).unwrap();
    assert!(install.contains("cargo install --locked"));
    assert!(!install.contains("eval"));
}

// ---------------------------------------------------------------------------------------
// --format github

/// 12 running items without a start (errors) interleaved with 11 stale items without triage
/// (warnings); the first two share an id with `%`, `:` and `,` in it (one more error, whose
/// message quotes the id).
fn many_findings() -> String {
    const ODD: &str = "50%: a,b";
    let mut items = Vec::new();
    for i in 0..12 {
        let id = if i == 0 {
            ODD.to_string()
        } else {
            format!("r{i}")
        };
        items.push(item(&id, "running", json!({})));
        if i < 11 {
            let id = if i == 0 {
                ODD.to_string()
            } else {
                format!("s{i}")
            };
            items.push(item(&id, "stale", json!({})));
        }
    }
    queue(items)
}

#[test]
fn github_format_escapes_limits_to_ten_per_type_and_writes_the_step_summary() {
    let repo = Repo::new();
    // `,` and `:` and `%` in the directory name: property escaping matters.
    let path = "q,1:x%/run_queue.json";
    repo.write(path, many_findings());
    let summary = repo.scratch().join("step-summary.md");
    std::fs::write(&summary, "previous step's summary\n").unwrap();
    let mut cmd = repo.runqlint_cmd(&["check", path, "--format", "github", "--now", NOW]);
    cmd.env("GITHUB_STEP_SUMMARY", &summary);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr, "");

    let annotations: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        annotations
            .iter()
            .filter(|l| l.starts_with("::error "))
            .count(),
        10
    );
    assert_eq!(
        annotations
            .iter()
            .filter(|l| l.starts_with("::warning "))
            .count(),
        10
    );
    let first_warning = annotations
        .iter()
        .position(|l| l.starts_with("::warning "))
        .unwrap();
    assert!(
        annotations[..first_warning]
            .iter()
            .all(|l| l.starts_with("::error ")),
        "errors first"
    );
    assert!(annotations
        .last()
        .unwrap()
        .starts_with("::notice title=runqlint::4 more findings were not annotated"));
    // Every finding is in the log, annotated or not.
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("q,1:x%/run_queue.json:"))
            .count(),
        24
    );
    // The duplicate id's message: `%` escaped, `:` and `,` kept (they are data, not properties).
    assert!(
        run.stdout.contains("::id \"50%25: a,b\" is already used"),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("github_format_stdout", run.stdout);

    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("previous step's summary\n"),
        "the summary is appended to"
    );
    insta::assert_snapshot!("github_format_step_summary", written);
}

#[test]
fn github_format_without_step_summary_and_without_findings() {
    let repo = Repo::new();
    repo.write("run_queue.json", many_findings());
    let run = repo.run(&["check", "--format", "github", "--now", NOW]);
    assert_eq!(run.code, 1, "{run:?}");
    let notice = run
        .stdout
        .lines()
        .find(|l| l.starts_with("::notice"))
        .unwrap();
    assert!(
        notice.ends_with("all 24 are listed in the log above"),
        "{notice}"
    );

    repo.write("run_queue.json", base_queue());
    let summary = repo.scratch().join("summary.md");
    let mut cmd = repo.runqlint_cmd(&["check", "--format", "github", "--now", NOW]);
    cmd.env("GITHUB_STEP_SUMMARY", &summary);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "runqlint: 0 error(s), 0 warning(s)\n");
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        "### runqlint: 0 error(s), 0 warning(s)\n\nNo findings.\n"
    );
}

#[test]
fn github_format_names_only_the_file_for_a_deleted_queue() {
    let repo = repo_with_queue();
    std::fs::remove_file(repo.root.join("run_queue.json")).unwrap();
    let run = repo.run(&[
        "check",
        "run_queue.json",
        "--format",
        "github",
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let annotations: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(annotations.len(), 2, "{}", run.stdout);
    for a in annotations {
        assert!(
            a.starts_with("::error file=run_queue.json,title=runqlint item-deleted::"),
            "{a}"
        );
    }
}

#[test]
fn github_log_lines_cannot_start_a_workflow_command() {
    let repo = Repo::new();
    let path = "::warning::x/run_queue.json";
    repo.write(path, "{");
    let run = repo.run(&["check", path, "--format", "github"]);
    assert_eq!(run.code, 1, "{run:?}");
    for line in run.stdout.lines() {
        let cmd = line.trim_start().starts_with("::");
        assert!(
            !cmd || line.starts_with("::error file=%3A%3Awarning%3A%3Ax/run_queue.json,"),
            "{line}"
        );
    }
    assert!(
        run.stdout
            .starts_with("./::warning::x/run_queue.json:1:1: error [invalid-json]"),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------
// --format sarif

fn sarif_validator() -> jsonschema::Validator {
    let path = manifest_dir().join("../shared/schemas/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the SARIF 2.1.0 schema at {} ({e}); it belongs in shared/schemas/ beside the \
             clone (CI: .github/workflows/ci.yml downloads it there)",
            path.display()
        )
    });
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft4::new(&schema).expect("the SARIF schema compiles")
}

fn assert_valid_sarif(validator: &jsonschema::Validator, sarif: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF is invalid:\n{}\n{sarif:#}",
        errors.join("\n")
    );
}

/// A repository whose working tree breaks nearly every rule, in three files: a queue with
/// history and single-file problems, a file that is not JSON (in a directory whose name
/// needs percent-encoding), and a deleted queue.
fn repo_with_every_kind_of_finding() -> (Repo, Vec<&'static str>) {
    let repo = Repo::new();
    let mut base: Value = serde_json::from_str(&base_queue()).unwrap();
    let running = item(
        "was_running",
        "running",
        json!({"run": {"startedAtMs": NOW_MS - 1000}}),
    );
    base["items"].as_array_mut().unwrap().push(running);
    repo.write("run_queue.json", pretty(&base));
    repo.write("gone/run_queue.json", base_queue());
    repo.write("odd dir%/run_queue.json", base_queue());
    repo.commit_all("base");
    repo.write(
        "run_queue.json",
        queue(vec![
            item("run_a", "queued", json!({"title": "A", "run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS - 1000}})),
            item("dup", "running", json!({})),
            item("dup", "stale", json!({})),
            item("old", "running", json!({"run": {"startedAtMs": FEB26_MS}})),
            item("secs", "queued", json!({"createdAtMs": 1_700_000_000})),
            item("was_running", "queued", json!({"run": {"startedAtMs": NOW_MS - 1000}})),
        ]),
    );
    repo.write("odd dir%/run_queue.json", "{\"items\": [\n<<<<<<< HEAD\n");
    std::fs::remove_file(repo.root.join("gone/run_queue.json")).unwrap();
    (
        repo,
        vec![
            "run_queue.json",
            "odd dir%/run_queue.json",
            "gone/run_queue.json",
        ],
    )
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_the_rule_catalogue() {
    let validator = sarif_validator();
    let (repo, paths) = repo_with_every_kind_of_finding();
    let mut args = vec!["check", "--format", "sarif", "--now", NOW];
    args.extend(&paths);
    let run = repo.run(&args);
    assert_eq!(run.code, 1, "{run:?}");
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid_sarif(&validator, &sarif);

    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let listed = repo.run(&["rules", "--format", "json"]).json();
    assert_eq!(rules.len(), listed.as_array().unwrap().len());
    for (rule, listed) in rules.iter().zip(listed.as_array().unwrap()) {
        let name = rule["id"].as_str().unwrap();
        assert_eq!(name, listed["name"]);
        assert_eq!(rule["shortDescription"]["text"], listed["summary"]);
        let explain = repo.run(&["explain", name]).stdout;
        assert!(
            explain.starts_with(rule["help"]["text"].as_str().unwrap()),
            "help of {name} is not `runqlint explain`"
        );
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
        assert_eq!(
            level,
            if listed["default"] == "warn" {
                "warning"
            } else {
                "error"
            }
        );
    }

    let results = run0["results"].as_array().unwrap();
    let mut fired: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    fired.sort_unstable();
    fired.dedup();
    for rule in [
        "invalid-json",
        "duplicate-id",
        "running-without-start",
        "invalid-transition",
        "terminal-status-changed",
        "item-deleted",
        "timestamp-order",
        "implausible-timestamp",
        "stale-running",
        "stale-without-triage",
    ] {
        assert!(fired.contains(&rule), "{rule} did not fire: {fired:?}");
    }
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let location = &r["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            [
                "run_queue.json",
                "odd%20dir%25/run_queue.json",
                "gone/run_queue.json"
            ]
            .contains(&uri),
            "{uri}"
        );
        // A deleted file has no lines in the checked version.
        assert_eq!(
            location.get("region").is_some(),
            uri != "gone/run_queue.json",
            "{r:#}"
        );
        assert!(
            r["partialFingerprints"]["runqlint/v1"]
                .as_str()
                .unwrap()
                .len()
                == 16
        );
    }
    // Two results for the two deleted items, told apart.
    let mut prints: Vec<&str> = results
        .iter()
        .map(|r| r["partialFingerprints"]["runqlint/v1"].as_str().unwrap())
        .collect();
    let total = prints.len();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(
        prints.len(),
        total,
        "fingerprints must be unique within a run"
    );
}

#[test]
fn sarif_for_a_clean_file_is_valid_with_no_results() {
    let validator = sarif_validator();
    let repo = repo_with_queue();
    let run = repo.run(&["check", "--format", "sarif", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid_sarif(&validator, &sarif);
    assert_eq!(sarif["runs"][0]["results"], json!([]));
}

/// (ruleId, itemId) → (fingerprint, startLine) for every result about an item.
fn fingerprints(run: &Run) -> std::collections::BTreeMap<(String, String), (String, u64)> {
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["properties"]["itemId"].is_string())
        .map(|r| {
            (
                (
                    r["ruleId"].as_str().unwrap().to_string(),
                    r["properties"]["itemId"].as_str().unwrap().to_string(),
                ),
                (
                    r["partialFingerprints"]["runqlint/v1"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                ),
            )
        })
        .collect()
}

#[test]
fn sarif_fingerprints_survive_unrelated_items_being_added() {
    let repo = repo_with_queue();
    let findings = vec![
        item(
            "run_a",
            "running",
            json!({"title": "A", "run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 1000}}),
        ),
        item("run_b", "queued", json!({"title": "B"})),
        item("no_start", "running", json!({})),
        item("triage_me", "stale", json!({})),
    ];
    repo.write("run_queue.json", queue(findings.clone()));
    let before = fingerprints(&repo.run(&["check", "--format", "sarif", "--now", NOW]));
    assert_eq!(before.len(), 4, "{before:?}");

    // New items before and between the old ones: every line moves, no fingerprint does.
    let mut more = vec![item("new_1", "queued", json!({"title": "first"}))];
    more.extend(findings[..2].iter().cloned());
    more.push(item(
        "new_2",
        "done",
        json!({"run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 5}}),
    ));
    more.extend(findings[2..].iter().cloned());
    more.push(item("new_3", "queued", json!({})));
    repo.write("run_queue.json", queue(more));
    let after = fingerprints(&repo.run(&["check", "--format", "sarif", "--now", NOW]));
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (key, (print, line)) in &before {
        let (print_after, line_after) = &after[key];
        assert_eq!(print, print_after, "fingerprint of {key:?} changed");
        assert_ne!(
            line, line_after,
            "{key:?} should have moved (the test would prove nothing)"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The composite action's check step, run as GitHub would run it

/// The `run:` script and `env:` names of action.yml's step `name`, read with PyYAML by the
/// tools venv's `python` (pre-commit depends on it).
pub(crate) fn action_step_script(python: &Path, name: &str) -> (String, Vec<String>) {
    let program = r#"
import json, sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
step = next(s for s in action["runs"]["steps"] if s["name"] == sys.argv[2])
print(json.dumps({"run": step["run"], "shell": step["shell"], "env": sorted(step.get("env", {}))}))
"#;
    let mut cmd = Command::new(python);
    cmd.arg("-c")
        .arg(program)
        .arg(manifest_dir().join("action.yml"))
        .arg(name);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["shell"], "bash");
    let env = v["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    (v["run"].as_str().unwrap().to_string(), env)
}

/// Runs the action's check step in `repo` with `inputs` as the step's env would carry them.
fn run_action_check(python: &Path, repo: &Repo, inputs: &[(&str, &str)]) -> Run {
    let (script, env) = action_step_script(python, "Check queue files");
    let mut cmd = Command::new("bash");
    cmd.arg("-e").arg("-c").arg(&script).current_dir(&repo.root);
    isolate(&mut cmd, repo.home());
    cmd.env("PATH", path_with_runqlint())
        .env("GITHUB_STEP_SUMMARY", repo.scratch().join("summary.md"));
    for name in &env {
        let value = inputs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v);
        cmd.env(name, value);
    }
    for (k, _) in inputs {
        assert!(
            env.iter().any(|e| e == k),
            "action.yml's check step has no env {k}"
        );
    }
    run_cmd(cmd)
}

#[test]
fn action_check_step_gates_a_pull_request_against_its_base() {
    let Some(python) = tool("python") else { return };
    let repo = repo_with_queue();
    let base = repo.head();
    repo.write("run_queue.json", rewritten_history());
    repo.commit_all("PR: rewrite history");
    let sarif = repo.scratch().join("out dir/runqlint.sarif");
    std::fs::create_dir_all(sarif.parent().unwrap()).unwrap();

    let run = run_action_check(
        &python,
        &repo,
        &[
            ("RUNQLINT_BASE", &base),
            ("RUNQLINT_FORMAT", "github"),
            ("RUNQLINT_PATHS", "  run_queue.json\n"),
            ("RUNQLINT_SARIF_FILE", sarif.to_str().unwrap()),
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("::error file=run_queue.json,"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("title=runqlint terminal-status-changed"),
        "{run:?}"
    );
    let summary = std::fs::read_to_string(repo.scratch().join("summary.md")).unwrap();
    assert!(summary.contains("terminal-status-changed"), "{summary}");
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_valid_sarif(&sarif_validator(), &sarif);
    assert_eq!(
        sarif["runs"][0]["results"][0]["ruleId"],
        "terminal-status-changed"
    );

    // Default paths (no input), and the base as a branch name: same verdict.
    repo.git(&["branch", "base-branch", &base]);
    let run = run_action_check(
        &python,
        &repo,
        &[
            ("RUNQLINT_BASE", "base-branch"),
            ("RUNQLINT_FORMAT", "github"),
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("terminal-status-changed"), "{run:?}");

    // Without a base (not a pull request): only the single-file rules, which pass.
    let run = run_action_check(&python, &repo, &[("RUNQLINT_FORMAT", "github")]);
    assert_eq!(run.code, 0, "{run:?}");

    // A base that is not in the (complete) clone: could not check, with the command that
    // fetches it (without `--depth`, which would make a complete clone shallow).
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let run = run_action_check(
        &python,
        &repo,
        &[
            ("RUNQLINT_BASE", missing),
            ("RUNQLINT_FORMAT", "github"),
            ("RUNQLINT_SARIF_FILE", "x.sarif"),
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "fetch it with: git fetch --no-tags origin {missing}"
        )),
        "{run:?}"
    );

    // An input is data, never shell: a hostile path is just a file that does not exist.
    let run = run_action_check(
        &python,
        &repo,
        &[
            ("RUNQLINT_PATHS", "$(touch pwned) `touch pwned2`"),
            ("RUNQLINT_FORMAT", "github"),
        ],
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(!repo.root.join("pwned").exists() && !repo.root.join("pwned2").exists());
}

// ---------------------------------------------------------------------------------------
// Merges: judged against every parent, as `audit` judges the merge commit

/// The queue of the merge tests: `x` running, three queued items between it and the end
/// (so that a change to `x` and an append merge line by line), `extra` appended.
fn merge_queue(x_done: bool, drop: &[&str], extra: &[&str]) -> String {
    let x = if x_done {
        item(
            "x",
            "done",
            json!({"run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 1000}}),
        )
    } else {
        item("x", "running", json!({"run": {"startedAtMs": FEB26_MS}}))
    };
    let mut items = vec![x];
    for id in ["q1", "q2", "q3"] {
        if !drop.contains(&id) {
            items.push(item(id, "queued", json!({"title": id})));
        }
    }
    for id in extra {
        items.push(item(id, "queued", json!({"title": id})));
    }
    queue(items)
}

/// A repository with runqlint's hooks installed (`install-hook`, no `.gitattributes`: git's
/// own line merge) whose `main` holds `merge_queue(false, [], [])`; each `(branch, text)`
/// branches off it and commits `text` (without the hook); then `main` commits `main_text`,
/// or a change to another file.
fn merging_repo(branches: &[(&str, String)], main_text: Option<String>) -> Repo {
    merging_repo_in(Repo::new(), branches, main_text)
}

/// [`merging_repo`] in a repository made by the caller.
fn merging_repo_in(repo: Repo, branches: &[(&str, String)], main_text: Option<String>) -> Repo {
    assert_eq!(install(&repo, &[]).code, 0);
    repo.write(Q, merge_queue(false, &[], &[]));
    repo.write("notes.txt", "base\n");
    repo.commit_all("base");
    for (branch, text) in branches {
        repo.git(&["checkout", "-q", "-b", branch, "main"]);
        repo.write(Q, text);
        repo.commit_all(branch);
    }
    repo.git(&["checkout", "-q", "main"]);
    match main_text {
        Some(text) => repo.write(Q, text),
        None => repo.write("notes.txt", "main\n"),
    }
    repo.commit_all("main");
    repo
}

/// The message of `item-deleted` for `id`, which was in `text` as `parent` holds it.
fn deleted_at(text: &str, id: &str, parent: &str) -> String {
    let line = line_of(text, &format!("\"id\": \"{id}\"")) - 1;
    format!("item \"{id}\" was deleted; it was at line {line} in {parent}")
}

fn assert_merge_refused(run: &Run, repo: &Repo, before: &str, expected: &[(&str, &str)]) {
    assert_ne!(run.code, 0, "the merge went through: {run:?}");
    assert_eq!(repo.head(), before, "HEAD moved");
    for (rule, parent) in expected {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains(parent) && run.stderr.contains(rule)),
            "no {rule} naming {parent}: {}",
            run.stderr
        );
    }
}

/// `(rule, item)` of the history findings in `--format json` output (the time-based rules
/// judge `audit`'s versions at their commit time, the gate's at the wall clock).
fn history_findings(
    run: &Run,
    commit: Option<&str>,
) -> std::collections::BTreeSet<(String, String)> {
    run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| commit.is_none_or(|c| d["commit"] == c))
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_string(),
                d["itemId"].as_str().unwrap_or("").to_string(),
            )
        })
        .filter(|(rule, _)| {
            [
                "item-deleted",
                "terminal-status-changed",
                "invalid-transition",
                "terminal-item-changed",
            ]
            .contains(&rule.as_str())
        })
        .collect()
}

#[test]
fn merge_s_ours_is_refused_by_the_merge_hook_and_an_honest_merge_accepted() {
    // b finishes x and queues n1; main changes another file.
    let b = merge_queue(true, &[], &["n1"]);
    let repo = merging_repo(&[("b", b.clone())], None);
    let before = repo.head();
    let run = git_with_hook(&repo, &["merge", "-s", "ours", "--no-edit", "b"]);
    assert_merge_refused(
        &run,
        &repo,
        &before,
        &[
            ("item-deleted", &deleted_at(&b, "n1", "MERGE_HEAD (b)")),
            (
                "terminal-status-changed",
                "item \"x\" was `done` in MERGE_HEAD (b)",
            ),
        ],
    );
    repo.git(&["merge", "--abort"]);

    let run = git_with_hook(&repo, &["merge", "--no-ff", "--no-edit", "b"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        repo.git(&["rev-parse", "HEAD^2"]),
        repo.git(&["rev-parse", "b"])
    );
    assert!(run.stderr.contains("0 errors"), "{run:?}");
}

#[test]
fn merge_s_ours_is_refused_in_a_sha256_repository_and_a_stray_githead_changes_nothing() {
    // libgit2 cannot open it: everything is read through git.
    let b = merge_queue(true, &[], &["n1"]);
    let repo = merging_repo_in(
        Repo::init(&["--object-format=sha256"]),
        &[("b", b.clone())],
        None,
    );
    let before = repo.head();
    assert_eq!(before.len(), 64);
    let run = git_with_hook(&repo, &["merge", "-s", "ours", "--no-edit", "b"]);
    assert_merge_refused(
        &run,
        &repo,
        &before,
        &[
            ("item-deleted", &deleted_at(&b, "n1", "MERGE_HEAD (b)")),
            (
                "terminal-status-changed",
                "item \"x\" was `done` in MERGE_HEAD (b)",
            ),
        ],
    );
    repo.git(&["merge", "--abort"]);

    // Outside a merge, a GITHEAD_ variable naming no commit (or HEAD) is no merge.
    let stray = |var: String| {
        let mut cmd = repo.runqlint_cmd(&["check", "--staged", "--format", "json"]);
        cmd.env(var, "elsewhere");
        Run::from(cmd.output().unwrap())
    };
    for var in [
        format!("GITHEAD_{}", "ab".repeat(32)),
        format!("GITHEAD_{before}"),
    ] {
        let run = stray(var);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(history_findings(&run, None).is_empty(), "{run:?}");
    }
}

#[test]
fn a_conflicted_merge_resolved_with_ours_is_refused_at_git_commit() {
    // Both append an item: git's line merge conflicts.
    let b = merge_queue(true, &[], &["n1"]);
    let repo = merging_repo(&[("b", b.clone())], Some(merge_queue(false, &[], &["m1"])));
    let before = repo.head();
    let run = git_with_hook(&repo, &["merge", "--no-edit", "b"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("CONFLICT"), "{run:?}");
    repo.git(&["checkout", "--ours", "--", Q]);
    repo.add(Q);
    let run = git_with_hook(&repo, &["commit", "--no-edit"]);
    assert_merge_refused(
        &run,
        &repo,
        &before,
        &[
            ("item-deleted", &deleted_at(&b, "n1", "MERGE_HEAD (b)")),
            (
                "terminal-status-changed",
                "item \"x\" was `done` in MERGE_HEAD (b)",
            ),
        ],
    );
    assert!(repo.root.join(".git/MERGE_HEAD").exists());

    // Resolved with both sides' changes: committed.
    repo.write(Q, merge_queue(true, &[], &["m1", "n1"]));
    repo.add(Q);
    let run = git_with_hook(&repo, &["commit", "--no-edit"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(repo.git(&["rev-parse", "HEAD^1"]).trim(), before);
}

#[test]
fn a_conflicted_merge_in_a_linked_worktree_reads_that_worktree_s_merge_head() {
    let b = merge_queue(true, &[], &["n1"]);
    let repo = merging_repo(&[("b", b.clone())], None);
    repo.git(&["branch", "side", "main"]);
    let wt = repo.scratch().join("side-wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap(), "side"]);
    let in_wt = |args: &[&str]| {
        let mut cmd = repo.git_cmd(args);
        cmd.current_dir(&wt).env("RUNQLINT", bin());
        run_cmd(cmd)
    };
    std::fs::write(wt.join(Q), merge_queue(false, &[], &["s1"])).unwrap();
    assert_eq!(in_wt(&["commit", "-qam", "side", "--no-verify"]).code, 0);
    let before = in_wt(&["rev-parse", "HEAD"]).stdout;
    assert_eq!(in_wt(&["merge", "--no-edit", "b"]).code, 1);
    assert_eq!(in_wt(&["checkout", "--ours", "--", Q]).code, 0);
    assert_eq!(in_wt(&["add", Q]).code, 0);
    let run = in_wt(&["commit", "--no-edit"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(&deleted_at(&b, "n1", "MERGE_HEAD (b)")),
        "{}",
        run.stderr
    );
    assert_eq!(in_wt(&["rev-parse", "HEAD"]).stdout, before);
    // The main worktree, in no merge, is judged against its HEAD alone.
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn an_octopus_merge_is_judged_against_each_merged_head() {
    // b queues n1, c finishes x: each merges line by line with the other.
    let b = merge_queue(false, &[], &["n1"]);
    let repo = merging_repo(
        &[("b", b.clone()), ("c", merge_queue(true, &[], &[]))],
        None,
    );
    let before = repo.head();
    let run = git_with_hook(&repo, &["merge", "-s", "ours", "--no-edit", "b", "c"]);
    assert_merge_refused(
        &run,
        &repo,
        &before,
        &[
            ("item-deleted", &deleted_at(&b, "n1", "MERGE_HEAD (b)")),
            (
                "terminal-status-changed",
                "item \"x\" was `done` in MERGE_HEAD (c)",
            ),
        ],
    );
    repo.git(&["merge", "--abort"]);

    let run = git_with_hook(&repo, &["merge", "--no-edit", "b", "c"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        repo.git(&["rev-parse", "HEAD^3"]),
        repo.git(&["rev-parse", "c"])
    );
    assert_eq!(
        String::from_utf8(repo.read(Q)).unwrap(),
        merge_queue(true, &[], &["n1"])
    );
}

/// One merge of [`the_gate_before_a_merge_commit_agrees_with_audit_after_it`].
struct MergeCase {
    name: &'static str,
    branches: Vec<(&'static str, String)>,
    /// `main`'s own commit after the branches (`None`: another file).
    main: Option<String>,
    /// The `git merge` that stops before committing.
    merge: &'static [&'static str],
    resolve: fn(&Repo),
    /// `(rule, item)` the gate refuses the merge for.
    gate: &'static [(&'static str, &'static str)],
    /// Those `audit` blames on the merge commit.
    audit: &'static [(&'static str, &'static str)],
}

#[test]
fn the_gate_before_a_merge_commit_agrees_with_audit_after_it() {
    let cases = [
        // -s ours undoes b's changes: the merge's own.
        MergeCase {
            name: "-s ours",
            branches: vec![("b", merge_queue(true, &[], &["n1"]))],
            main: None,
            merge: &["merge", "-q", "-s", "ours", "--no-commit", "b"],
            resolve: |_| {},
            gate: &[("item-deleted", "n1"), ("terminal-status-changed", "x")],
            audit: &[("item-deleted", "n1"), ("terminal-status-changed", "x")],
        },
        // The resolution deletes q2, which every parent has: the merge's own, against HEAD.
        MergeCase {
            name: "a resolution's deletion",
            branches: vec![("b", merge_queue(true, &[], &["n1"]))],
            main: None,
            merge: &["merge", "-q", "--no-ff", "--no-commit", "b"],
            resolve: |repo| {
                repo.write(Q, merge_queue(true, &["q2"], &["n1"]));
                repo.add(Q);
            },
            gate: &[("item-deleted", "q2")],
            audit: &[("item-deleted", "q2")],
        },
        // An octopus undoing c's change only.
        MergeCase {
            name: "an octopus resolution",
            branches: vec![
                ("b", merge_queue(false, &[], &["n1"])),
                ("c", merge_queue(true, &[], &[])),
            ],
            main: None,
            merge: &["merge", "-q", "--no-ff", "--no-commit", "b", "c"],
            resolve: |repo| {
                repo.write(Q, merge_queue(false, &[], &["n1"]));
                repo.add(Q);
            },
            gate: &[("terminal-status-changed", "x")],
            audit: &[("terminal-status-changed", "x")],
        },
        // main deleted q3 itself (without the hook) before the merge: HEAD's history, not
        // the merge's, for both.
        MergeCase {
            name: "HEAD's own deletion",
            branches: vec![("b", merge_queue(true, &[], &[]))],
            main: Some(merge_queue(false, &["q3"], &[])),
            merge: &["merge", "-q", "--no-ff", "--no-commit", "b"],
            resolve: |_| {},
            gate: &[],
            audit: &[],
        },
        // b deleted q1 itself (without the hook): audit blames b's commit; the gate still
        // refuses to bring it into main, as it would have refused b's commit.
        MergeCase {
            name: "a branch's own deletion",
            branches: vec![("b", merge_queue(false, &["q1"], &["n1"]))],
            main: None,
            merge: &["merge", "-q", "--no-ff", "--no-commit", "b"],
            resolve: |_| {},
            gate: &[("item-deleted", "q1")],
            audit: &[],
        },
    ];
    let set = |pairs: &[(&str, &str)]| -> std::collections::BTreeSet<(String, String)> {
        pairs
            .iter()
            .map(|(r, i)| (r.to_string(), i.to_string()))
            .collect()
    };
    for case in cases {
        let name = case.name;
        let repo = merging_repo(&case.branches, case.main.clone());
        repo.git(case.merge);
        (case.resolve)(&repo);
        assert!(repo.root.join(".git/MERGE_HEAD").exists(), "{name}");
        let gate = repo.run(&["check", "--staged", "--format", "json"]);
        let refused = history_findings(&gate, None);
        let code = if case.gate.is_empty() { 0 } else { 1 };
        assert_eq!(gate.code, code, "{name}: {gate:?}");
        assert_eq!(refused, set(case.gate), "{name}: {}", gate.stdout);
        repo.git(&["commit", "-q", "--no-verify", "--no-edit"]);
        let audit = repo.run(&["audit", "--format", "json"]);
        let blamed = history_findings(&audit, Some(&repo.head()));
        assert_eq!(blamed, set(case.audit), "{name}: {}", audit.stdout);
        // Whatever audit blames on the merge, the gate refused.
        assert!(blamed.is_subset(&refused), "{name}");
        if name == "a branch's own deletion" {
            let b = repo.git(&["rev-parse", "b"]);
            assert_eq!(
                history_findings(&audit, Some(b.trim())),
                set(&[("item-deleted", "q1")]),
                "{}",
                audit.stdout
            );
        }
    }
}

#[test]
fn pre_commit_framework_refuses_a_conflicted_merge_resolved_with_ours() {
    let Some(pre_commit) = tool("pre-commit") else {
        return;
    };
    let b = merge_queue(true, &[], &["n1"]);
    let repo = Repo::new();
    let (hooks, sha) = hooks_repo(&repo);
    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {sha}\n    hooks:\n      - id: runqlint-system\n",
            hooks.display()
        ),
    );
    repo.write(Q, merge_queue(false, &[], &[]));
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "b"]);
    repo.write(Q, &b);
    repo.commit_all("b");
    repo.git(&["checkout", "-q", "main"]);
    repo.write(Q, merge_queue(false, &[], &["m1"]));
    repo.commit_all("main");
    let run = framework(
        &pre_commit,
        &repo,
        &[
            "install",
            "--hook-type",
            "pre-commit",
            "--hook-type",
            "pre-merge-commit",
        ],
    );
    assert_eq!(run.code, 0, "{run:?}");
    let git = |args: &[&str]| {
        let mut cmd = repo.git_cmd(args);
        cmd.env("PATH", path_with_runqlint())
            .env("PRE_COMMIT_HOME", repo.scratch().join("pre-commit-home"));
        run_cmd(cmd)
    };
    let before = repo.head();
    assert_eq!(git(&["merge", "--no-edit", "b"]).code, 1);
    repo.git(&["checkout", "--ours", "--", Q]);
    repo.add(Q);
    let run = git(&["commit", "--no-edit"]);
    assert_ne!(run.code, 0, "{run:?}");
    let out = format!("{}{}", run.stdout, run.stderr);
    assert!(
        out.contains(&deleted_at(&b, "n1", "MERGE_HEAD (b)")),
        "{out}"
    );
    assert!(
        out.contains("item \"x\" was `done` in MERGE_HEAD (b)"),
        "{out}"
    );
    assert_eq!(repo.head(), before);
}
