//! Git fidelity (issue #10): the gate sees exactly what git commits, in every repository
//! shape git handles. Each test drives the real `git` (and `git-lfs`) and the real hook.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::*;

// ---------------------------------------------------------------------------------------
// Helpers

/// `git ARGS` as a user runs it: hooks run, runqlint found through RUNQLINT.
fn git_hooked(repo: &Repo, args: &[&str]) -> Run {
    let mut cmd = repo.git_cmd(args);
    cmd.env("RUNQLINT", bin());
    run_cmd(cmd)
}

fn install(repo: &Repo) {
    let run = repo.run(&["install-hook"]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// `check --staged --format json --now NOW` in the repository.
fn staged(repo: &Repo) -> Run {
    repo.run(&["check", "--staged", "--format", "json", "--now", NOW])
}

fn assert_refused(run: &Run, rule: &str) {
    assert_ne!(run.code, 0, "went through: {run:?}");
    assert!(
        run.stderr.contains(rule) || run.stdout.contains(rule),
        "no {rule}: {run:?}"
    );
}

/// A repository created with `git init EXTRA`, holding `base_queue` committed.
fn repo_with(extra: &[&str]) -> Repo {
    let repo = Repo::init(extra);
    repo.write(Q, base_queue());
    repo.commit_all("queue");
    repo
}

/// The staged honest change passes and the staged rewritten history is refused, both
/// exactly as in a plain repository.
fn assert_checks_like_plain(repo: &Repo) {
    repo.write(Q, honest_change());
    repo.add(Q);
    let run = staged(repo);
    assert_eq!(run.code, 0, "{run:?}");
    repo.write(Q, rewritten_history());
    repo.add(Q);
    let run = staged(repo);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(errors(&run), ["terminal-status-changed"], "{run:?}");
    let run = repo.run(&["check", "--format", "json", "--now", NOW]);
    assert_eq!(errors(&run), ["terminal-status-changed"], "{run:?}");
}

/// The rules of the error-severity findings, in output order.
fn errors(run: &Run) -> Vec<String> {
    run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Everyday workflows

#[test]
fn amend_is_judged_against_the_parent_of_the_amended_commit() {
    let repo = repo_with(&[]);
    install(&repo);
    repo.write(Q, honest_change());
    repo.add(Q);
    let run = git_hooked(&repo, &["commit", "-q", "-m", "start run_b, queue run_c"]);
    assert_eq!(run.code, 0, "{run:?}");

    // Amending away run_c, which the amended commit's parent never had, is legitimate.
    let without_c = queue(vec![
        item(
            "run_a",
            "done",
            json!({"title": "A", "run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 1000}}),
        ),
        item(
            "run_b",
            "running",
            json!({"title": "B", "run": {"startedAtMs": NOW_MS - 60_000}}),
        ),
    ]);
    repo.write(Q, &without_c);
    repo.add(Q);
    let run = git_hooked(&repo, &["commit", "-q", "--amend", "-m", "start run_b"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim(), "2");

    // A bad commit that slipped through (--no-verify) stays bad when amended unchanged,
    // also through an alias and an abbreviated option.
    repo.write(Q, rewritten_history());
    repo.add(Q);
    repo.git(&["commit", "-q", "--no-verify", "-m", "rewrite"]);
    let before = repo.head();
    let run = git_hooked(&repo, &["commit", "-q", "--amend", "--no-edit"]);
    assert_refused(&run, "terminal-status-changed");
    let run = git_hooked(
        &repo,
        &[
            "-c",
            "alias.fixup-last=commit --amen",
            "fixup-last",
            "-q",
            "-m",
            "x",
        ],
    );
    assert_refused(&run, "terminal-status-changed");
    assert_eq!(repo.head(), before, "HEAD moved");
    // A plain commit on top of it is judged against HEAD, as before.
    repo.write("other.txt", "x\n");
    repo.add("other.txt");
    let run = git_hooked(&repo, &["commit", "-q", "-m", "unrelated"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn amending_the_root_commit_checks_the_queue_as_new() {
    let repo = Repo::new();
    install(&repo);
    repo.write(Q, rewritten_history());
    repo.add(Q);
    let run = git_hooked(&repo, &["commit", "-q", "-m", "first"]);
    assert_eq!(run.code, 0, "{run:?}");
    // run_a was never done in any parent: the amended root commit adds a new queue.
    repo.write(Q, queue(vec![item("run_b", "queued", json!({}))]));
    repo.add(Q);
    let run = git_hooked(&repo, &["commit", "-q", "--amend", "-m", "first"]);
    assert_eq!(run.code, 0, "{run:?}");
}

/// `main` and `side` both add an item `run_x`, in places git merges without a conflict.
fn diverged_with_duplicate_ids(repo: &Repo) {
    repo.git(&["checkout", "-q", "-b", "side"]);
    let mut side = serde_json::from_str::<serde_json::Value>(&base_queue()).unwrap();
    side["items"].as_array_mut().unwrap().push(item(
        "run_x",
        "queued",
        json!({"title": "X from side"}),
    ));
    repo.write(Q, pretty(&side));
    repo.commit_all("side adds run_x");
    repo.git(&["checkout", "-q", "main"]);
    let mut main = serde_json::from_str::<serde_json::Value>(&base_queue()).unwrap();
    main["items"]
        .as_array_mut()
        .unwrap()
        .insert(0, item("run_x", "queued", json!({"title": "X from main"})));
    repo.write(Q, pretty(&main));
    repo.commit_all("main adds run_x");
}

#[test]
fn install_hook_gates_merge_commits_with_pre_merge_commit() {
    let repo = repo_with(&[]);
    let run = repo.run(&["install-hook"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("installed runqlint pre-merge-commit hook at .git/hooks/pre-merge-commit"),
        "{run:?}"
    );
    assert!(repo.root.join(".git/hooks/pre-merge-commit").is_file());

    // A clean merge that duplicates an id is refused; nothing is committed.
    diverged_with_duplicate_ids(&repo);
    let before = repo.head();
    let run = git_hooked(&repo, &["merge", "-q", "--no-edit", "side"]);
    assert_refused(&run, "duplicate-id");
    assert_eq!(repo.head(), before);
    repo.git(&["merge", "--abort"]);

    // A merge bringing in an illegal transition (committed on the side with --no-verify).
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.git(&["checkout", "-q", "-B", "side2"]);
    repo.write(
        Q,
        base_queue().replace(r#""status": "done""#, r#""status": "queued""#),
    );
    repo.commit_all("side2 requeues run_a in place");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("other.txt", "x\n");
    repo.commit_all("unrelated on main");
    let before = repo.head();
    let run = git_hooked(&repo, &["merge", "-q", "--no-edit", "side2"]);
    assert_refused(&run, "terminal-status-changed");
    assert_eq!(repo.head(), before);
    repo.git(&["merge", "--abort"]);

    // An honest merge goes through.
    repo.git(&["checkout", "-q", "-B", "side3", "main"]);
    repo.write(Q, honest_change());
    repo.commit_all("honest");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("more.txt", "y\n");
    repo.commit_all("more on main");
    let run = git_hooked(&repo, &["merge", "-q", "--no-edit", "side3"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        repo.git(&["rev-list", "--count", "--merges", "HEAD"])
            .trim(),
        "1"
    );
}

#[test]
fn intent_to_add_entries_are_not_content() {
    let repo = Repo::new();
    repo.write("README", "hello\n");
    repo.commit_all("readme");
    install(&repo);
    repo.write(Q, base_queue());
    repo.git(&["add", "-N", Q]);
    repo.write("README", "hello again\n");
    repo.add("README");
    let run = git_hooked(&repo, &["commit", "-q", "-m", "unrelated"]);
    assert_eq!(run.code, 0, "{run:?}");
    // Once added for real, it is content.
    repo.write(
        Q,
        r#"{"items": [{"id": "a", "status": "queued"}, {"id": "a", "status": "queued"}]}"#,
    );
    repo.add(Q);
    let run = staged(&repo);
    assert_eq!(run.rules(), ["duplicate-id"], "{run:?}");
}

#[test]
fn a_queue_that_was_a_symbolic_link_at_head_is_checked_as_new() {
    let repo = Repo::new();
    repo.write("elsewhere.json", base_queue());
    std::os::unix::fs::symlink("elsewhere.json", repo.root.join(Q)).unwrap();
    repo.commit_all("queue as a link");
    std::fs::remove_file(repo.root.join(Q)).unwrap();
    repo.write(Q, rewritten_history());
    repo.add(Q);
    let run = staged(&repo);
    assert_eq!(run.code, 0, "{run:?}");
    let run = repo.run(&["check", "--format", "json", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
    // Checked, not skipped: the single-file rules still apply.
    repo.write(Q, r#"{"items": [{"id": "a", "status": "running"}]}"#);
    repo.add(Q);
    assert_eq!(staged(&repo).rules(), ["running-without-start"]);
}

/// Installs the hook with `env` applied to runqlint and git alike, and asserts it lands
/// where git runs hooks from and that git runs it.
fn assert_hook_where_git_looks(repo: &Repo, env: &[(&str, Option<&Path>)], expect: &Path) {
    let apply = |cmd: &mut Command| {
        for (var, value) in env {
            match value {
                Some(v) => cmd.env(var, v),
                None => cmd.env_remove(var),
            };
        }
    };
    let mut cmd = repo.runqlint_cmd(&["install-hook"]);
    apply(&mut cmd);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    let mut cmd = repo.git_cmd(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"]);
    apply(&mut cmd);
    let hooks = PathBuf::from(run_cmd(cmd).stdout.trim());
    assert_eq!(
        std::fs::canonicalize(&hooks).unwrap(),
        std::fs::canonicalize(expect).unwrap()
    );
    assert!(
        hooks.join("pre-commit").is_file(),
        "not in {}",
        hooks.display()
    );
    assert!(hooks.join("pre-merge-commit").is_file());

    let before = repo.head();
    repo.write(Q, rewritten_history());
    repo.add(Q);
    let mut cmd = repo.git_cmd(&["commit", "-q", "-m", "x"]);
    apply(&mut cmd);
    cmd.env("RUNQLINT", bin());
    assert_refused(&run_cmd(cmd), "terminal-status-changed");
    assert_eq!(repo.head(), before);
    repo.git(&["checkout", "-q", "HEAD", "--", Q]);
}

#[test]
fn core_hooks_path_is_read_from_every_config_source_git_reads() {
    // Global, through GIT_CONFIG_GLOBAL (the isolated HOME's gitconfig).
    let repo = repo_with(&[]);
    let global = repo.scratch().join("global-hooks");
    repo.git(&[
        "config",
        "--global",
        "core.hooksPath",
        global.to_str().unwrap(),
    ]);
    assert_hook_where_git_looks(&repo, &[], &global);

    // System, through GIT_CONFIG_SYSTEM.
    let repo = repo_with(&[]);
    let system = repo.scratch().join("system-hooks");
    let system_cfg = repo.scratch().join("system.gitconfig");
    std::fs::write(
        &system_cfg,
        format!("[core]\n\thooksPath = {}\n", system.display()),
    )
    .unwrap();
    assert_hook_where_git_looks(
        &repo,
        &[
            ("GIT_CONFIG_NOSYSTEM", None),
            ("GIT_CONFIG_SYSTEM", Some(&system_cfg)),
        ],
        &system,
    );

    // Local config through an include.
    let repo = repo_with(&[]);
    let included = repo.scratch().join("included-hooks");
    let extra = repo.scratch().join("extra.gitconfig");
    std::fs::write(
        &extra,
        format!("[core]\n\thooksPath = {}\n", included.display()),
    )
    .unwrap();
    repo.git(&["config", "include.path", extra.to_str().unwrap()]);
    assert_hook_where_git_looks(&repo, &[], &included);

    // Per-worktree config.
    let repo = repo_with(&[]);
    let per_wt = repo.scratch().join("worktree-hooks");
    repo.git(&["config", "extensions.worktreeConfig", "true"]);
    repo.git(&[
        "config",
        "--worktree",
        "core.hooksPath",
        per_wt.to_str().unwrap(),
    ]);
    assert_hook_where_git_looks(&repo, &[], &per_wt);
}

// ---------------------------------------------------------------------------------------
// Repository shapes and formats

#[test]
fn sparse_index_is_read() {
    let repo = Repo::new();
    repo.write(Q, base_queue());
    repo.write("docs/a.txt", "a\n");
    repo.write("data/b.txt", "b\n");
    repo.commit_all("tree");
    repo.git(&["sparse-checkout", "set", "--cone", "--sparse-index", "docs"]);
    assert!(!repo.root.join("data/b.txt").exists());
    assert_checks_like_plain(&repo);
}

#[test]
fn split_index_is_read() {
    let repo = repo_with(&[]);
    repo.git(&["update-index", "--split-index"]);
    repo.write("more.txt", "m\n");
    repo.add("more.txt");
    assert!(repo.root.join(".git").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("sharedindex.")));
    assert_checks_like_plain(&repo);
}

#[test]
fn reftable_refs_are_read() {
    let repo = repo_with(&["--ref-format=reftable"]);
    assert_eq!(
        repo.git(&["rev-parse", "--show-ref-format"]).trim(),
        "reftable"
    );
    assert_checks_like_plain(&repo);
    let run = repo.run(&[
        "check",
        "--base",
        "no-such-branch",
        "--format",
        "json",
        "--now",
        NOW,
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("no-such-branch"), "{run:?}");
}

#[test]
fn sha256_object_format_is_read() {
    let repo = repo_with(&["--object-format=sha256"]);
    assert_eq!(repo.head().len(), 64);
    assert_checks_like_plain(&repo);
    // The hook too.
    install(&repo);
    let before = repo.head();
    let run = git_hooked(&repo, &["commit", "-q", "-m", "x"]);
    assert_refused(&run, "terminal-status-changed");
    assert_eq!(repo.head(), before);
}

#[test]
fn before_the_first_commit_the_staged_queue_is_checked_as_new() {
    // libgit2's reading and git's (a SHA-256 repository) agree: no HEAD holds no file.
    for init in [&[][..], &["--object-format=sha256"]] {
        let repo = Repo::init(init);
        repo.write(Q, rewritten_history());
        repo.add(Q);
        let run = staged(&repo);
        assert_eq!(run.code, 0, "{init:?}: {run:?}");
        assert!(errors(&run).is_empty(), "{run:?}");
        let dup = queue(vec![
            item("a", "done", json!({})),
            item("a", "queued", json!({})),
        ]);
        repo.write(Q, dup);
        repo.add(Q);
        let run = staged(&repo);
        assert_eq!(errors(&run), ["duplicate-id"], "{init:?}: {run:?}");
    }
}

/// `fix` in a repository libgit2 cannot open (or whose index it cannot read):
/// `--no-commit` is held to a clean file (git's status) and repairs it for git to commit;
/// a committing run commits only the queue file on the branch, with the receipt, leaving
/// other staged work staged, as in a plain repository.
fn assert_fix_commits_as_in_a_plain_repository(format: Format) {
    let text = seed_queue();
    let repo = setup_as(format, &text);
    repo.write("notes.txt", "staged work\n");
    repo.add("notes.txt");
    let head = repo.head();

    let dirty = format!("{text}\n");
    repo.write(Q, &dirty);
    let r = fix(&repo, &["--no-commit"]);
    assert_eq!(r.code, 2, "{format:?}: {r:?}");
    assert!(r.stderr.contains("run_queue.json (dirty)"), "{r:?}");
    assert_eq!(repo.read(Q), dirty.as_bytes());
    repo.write(Q, &text);
    let r = fix(&repo, &["--no-commit"]);
    assert_eq!(r.code, 0, "{format:?}: {r:?}");
    let no_commit = repo.read(Q);
    assert_eq!(repo.head(), head);
    repo.write(Q, &text);

    let r = fix(&repo, &["--run-id", "formats_1"]);
    assert_eq!(r.code, 0, "{format:?}: {r:?}");
    assert_eq!(repo.read(Q), no_commit, "{format:?}: the same repair");
    assert_eq!(repo.git(&["rev-parse", "HEAD~1"]).trim(), head);
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "run_queue.json\n"
    );
    let shown = repo
        .git_cmd(&["show", "HEAD:run_queue.json"])
        .output()
        .unwrap();
    assert_eq!(shown.stdout, no_commit);
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]),
        "notes.txt\n"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        "A  notes.txt\n"
    );
    let receipt = runqlint::receipt::parse(&repo.git(&["log", "-1", "--format=%B"])).unwrap();
    assert_eq!(receipt.run_id, "formats_1");
    assert_eq!(repo.git_run(&["fsck", "--strict", "--no-progress"]).code, 0);
    format.assert_is(&repo);
}

#[test]
fn fix_commits_in_a_sha256_repository() {
    assert_fix_commits_as_in_a_plain_repository(Format::Sha256);
}

#[test]
fn fix_commits_in_a_reftable_repository() {
    assert_fix_commits_as_in_a_plain_repository(Format::Reftable);
}

#[test]
fn fix_commits_in_a_split_index_repository() {
    assert_fix_commits_as_in_a_plain_repository(Format::SplitIndex);
}

#[test]
fn fix_commits_with_a_sparse_index_and_keeps_it_sparse() {
    // libgit2 cannot read a sparse index (`sdir`): git rewrites the one entry.
    let text = seed_queue();
    let repo = Repo::new();
    repo.write(Q, &text);
    repo.write("docs/a.txt", "a\n");
    repo.write("data/b.txt", "b\n");
    repo.commit_all("tree");
    repo.git(&["sparse-checkout", "set", "--cone", "--sparse-index", "docs"]);
    repo.write("docs/a.txt", "staged\n");
    repo.add("docs/a.txt");
    let head = repo.head();
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(repo.git(&["rev-parse", "HEAD~1"]).trim(), head);
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "run_queue.json\n"
    );
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]),
        "docs/a.txt\n"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        "M  docs/a.txt\n"
    );
    assert!(repo
        .git(&["ls-files", "--sparse"])
        .lines()
        .any(|l| l == "data/"));
}

#[test]
fn a_blobless_partial_clone_fetches_a_missing_base_blob_as_git_would() {
    let server = Repo::new();
    let mut old = serde_json::from_str::<serde_json::Value>(&base_queue()).unwrap();
    old["items"]
        .as_array_mut()
        .unwrap()
        .push(item("run_old", "queued", json!({})));
    server.write(Q, pretty(&old));
    server.commit_all("with run_old");
    server.write(Q, base_queue());
    server.commit_all("run_old dropped");
    server.git(&["config", "uploadpack.allowFilter", "true"]);
    server.git(&["config", "uploadpack.allowAnySHA1InWant", "true"]);

    let clone = Repo::new();
    std::fs::remove_dir_all(&clone.root).unwrap();
    let url = format!("file://{}", server.root.display());
    let mut cmd = server.git_cmd(&[
        "clone",
        "-q",
        "--filter=blob:none",
        &url,
        clone.root.to_str().unwrap(),
    ]);
    cmd.current_dir(clone.scratch());
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    let old_blob = clone.git(&["rev-parse", "HEAD~1:run_queue.json"]);
    let missing = clone.git(&["rev-list", "--objects", "--missing=print", "HEAD~1"]);
    assert!(
        missing.contains(&format!("?{}", old_blob.trim())),
        "the old blob should not be here yet: {missing}"
    );
    let run = clone.run(&[
        "check", "--base", "HEAD~1", "--format", "json", "--now", NOW,
    ]);
    assert_eq!(run.rules(), ["item-deleted"], "{run:?}");
    let run = clone.run(&["check", "--format", "json", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_queue_outside_the_sparse_checkout_cone_is_not_deleted() {
    let repo = Repo::new();
    repo.write("runqlint.toml", "paths = [\"queues/run_queue.json\"]\n");
    repo.write("queues/run_queue.json", base_queue());
    repo.write("docs/a.txt", "a\n");
    repo.commit_all("tree");
    repo.git(&[
        "sparse-checkout",
        "set",
        "--cone",
        "--no-sparse-index",
        "docs",
    ]);
    assert!(!repo.root.join("queues/run_queue.json").exists());
    let run = repo.run(&["check", "--format", "json", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.rules(), Vec::<String>::new());
    let run = staged(&repo);
    assert_eq!(run.code, 0, "{run:?}");
    // And with a sparse index.
    repo.git(&["sparse-checkout", "set", "--cone", "--sparse-index", "docs"]);
    let run = repo.run(&["check", "--format", "json", "--now", NOW]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_bare_repository_with_a_work_tree_is_checked() {
    let repo = Repo::new();
    let bare = repo.scratch().join("bare.git");
    repo.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    let wt = repo.scratch().join("home-dir");
    std::fs::create_dir_all(&wt).unwrap();
    std::fs::write(wt.join(Q), base_queue()).unwrap();
    let env = |cmd: &mut Command| {
        cmd.env("GIT_DIR", &bare)
            .env("GIT_WORK_TREE", &wt)
            .current_dir(&wt);
    };
    let git = |args: &[&str]| {
        let mut cmd = repo.git_cmd(args);
        env(&mut cmd);
        cmd.env("RUNQLINT", bin());
        run_cmd(cmd)
    };
    assert_eq!(git(&["add", Q]).code, 0);
    assert_eq!(git(&["commit", "-q", "-m", "queue"]).code, 0);

    let mut cmd = repo.runqlint_cmd(&["install-hook"]);
    env(&mut cmd);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(bare.join("hooks/pre-commit").is_file());

    std::fs::write(wt.join(Q), rewritten_history()).unwrap();
    assert_eq!(git(&["add", Q]).code, 0);
    assert_refused(
        &git(&["commit", "-q", "-m", "rewrite"]),
        "terminal-status-changed",
    );
    std::fs::write(wt.join(Q), honest_change()).unwrap();
    assert_eq!(git(&["add", Q]).code, 0);
    let run = git(&["commit", "-q", "-m", "honest"]);
    assert_eq!(run.code, 0, "{run:?}");
    // The same through --git-dir/--work-tree.
    std::fs::write(wt.join(Q), rewritten_history()).unwrap();
    let git_dir = format!("--git-dir={}", bare.display());
    let work_tree = format!("--work-tree={}", wt.display());
    let mut cmd = repo.git_cmd(&[&git_dir, &work_tree, "commit", "-q", "-a", "-m", "x"]);
    cmd.env("RUNQLINT", bin()).current_dir(&wt);
    assert_refused(&run_cmd(cmd), "terminal-status-changed");
}

#[test]
fn a_queue_inside_a_submodule_is_read_from_the_commit_the_superproject_records() {
    let inner = repo_with(&[]);
    let sup = Repo::new();
    sup.write("runqlint.toml", "paths = [\"sub/run_queue.json\"]\n");
    sup.commit_all("config");
    let url = format!("file://{}", inner.root.display());
    sup.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &url,
        "sub",
    ]);
    sup.git(&["commit", "-q", "-m", "submodule"]);
    install(&sup);

    // A history rewrite committed inside the submodule (its own hook skipped).
    let sub = sup.root.join("sub");
    std::fs::write(sub.join(Q), rewritten_history()).unwrap();
    let mut commit = sup.git_cmd(&["commit", "-q", "-a", "--no-verify", "-m", "rewrite"]);
    commit.current_dir(&sub);
    assert_eq!(run_cmd(commit).code, 0);
    // Working tree against the superproject's HEAD.
    let run = sup.run(&["check", "--format", "json", "--now", NOW]);
    assert_eq!(errors(&run), ["terminal-status-changed"], "{run:?}");
    // The superproject commit that records it is refused.
    sup.add("sub");
    let before = sup.head();
    let run = git_hooked(&sup, &["commit", "-q", "-m", "bump sub"]);
    assert_refused(&run, "terminal-status-changed");
    assert!(run.stderr.contains("sub/run_queue.json"), "{run:?}");
    assert_eq!(sup.head(), before);

    // An honest change recorded by the superproject goes through.
    std::fs::write(sub.join(Q), honest_change()).unwrap();
    let mut commit = sup.git_cmd(&["commit", "-q", "-a", "--no-verify", "-m", "honest"]);
    commit.current_dir(&sub);
    assert_eq!(run_cmd(commit).code, 0);
    sup.add("sub");
    let run = git_hooked(&sup, &["commit", "-q", "-m", "bump sub"]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_linked_worktree_reads_revisions_named_the_way_git_names_them() {
    let repo = repo_with(&[]);
    let wt = repo.scratch().join("wt");
    repo.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    std::fs::write(wt.join(Q), rewritten_history()).unwrap();
    let check = |dir: &Path, base: &str| {
        let run = repo.run_in(
            dir,
            &["check", "--base", base, "--format", "json", "--now", NOW],
        );
        assert_eq!(run.code, 1, "{base}: {run:?}");
        assert_eq!(errors(&run), ["terminal-status-changed"], "{base}: {run:?}");
    };
    check(&wt, "main-worktree/HEAD");
    check(&wt, "HEAD");
    std::fs::write(repo.root.join(Q), rewritten_history()).unwrap();
    check(&repo.root, "worktrees/wt/HEAD");
}

#[test]
fn worktrees_of_a_bare_clone_are_checked() {
    let origin = repo_with(&[]);
    let bare = origin.scratch().join("clone.git");
    origin.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()]);
    let wt = origin.scratch().join("wt");
    let mut add = origin.git_cmd(&["worktree", "add", "-q", wt.to_str().unwrap(), "main"]);
    add.current_dir(&bare);
    assert_eq!(run_cmd(add).code, 0);

    let mut cmd = origin.runqlint_cmd(&["install-hook"]);
    cmd.current_dir(&wt);
    let run = run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(bare.join("hooks/pre-commit").is_file());

    let commit = |all: &[&str]| {
        let mut cmd = origin.git_cmd(all);
        cmd.current_dir(&wt).env("RUNQLINT", bin());
        run_cmd(cmd)
    };
    std::fs::write(wt.join(Q), rewritten_history()).unwrap();
    assert_refused(
        &commit(&["commit", "-q", "-a", "-m", "rewrite"]),
        "terminal-status-changed",
    );
    std::fs::write(wt.join(Q), honest_change()).unwrap();
    let run = commit(&["commit", "-q", "-a", "-m", "honest"]);
    assert_eq!(run.code, 0, "{run:?}");
}

// ---------------------------------------------------------------------------------------
// Filters

#[test]
fn eol_crlf_versions_are_read_as_checked_out() {
    let repo = Repo::new();
    repo.write(".gitattributes", "run_queue.json text eol=crlf\n");
    repo.write(Q, base_queue().replace('\n', "\r\n"));
    repo.commit_all("queue");
    // git stores LF and checks out CRLF.
    assert!(!repo
        .git(&["cat-file", "-p", "HEAD:run_queue.json"])
        .contains('\r'));
    assert!(String::from_utf8(repo.read(Q)).unwrap().contains("\r\n"));
    assert_checks_like_plain(&repo);
    // Findings in the base version (the file deleted) are located as in a plain repository.
    repo.git(&["rm", "-q", "-f", Q]);
    let run = staged(&repo);
    assert_eq!(run.rules(), ["item-deleted", "item-deleted"], "{run:?}");
    let plain = repo_with(&[]);
    plain.git(&["rm", "-q", Q]);
    assert_eq!(run.findings(), staged(&plain).findings());
}

#[test]
fn a_queue_git_checks_out_as_utf16_is_read_so_and_named_by_its_encoding() {
    let repo = Repo::new();
    repo.write(
        ".gitattributes",
        "run_queue.json working-tree-encoding=UTF-16LE-BOM\n",
    );
    let utf16 = |text: &str| -> Vec<u8> {
        let mut out = vec![0xff, 0xfe];
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    };
    repo.write(Q, utf16(&base_queue()));
    repo.commit_all("queue");
    // git stores UTF-8 and checks out UTF-16.
    assert_eq!(
        repo.git(&["cat-file", "-p", "HEAD:run_queue.json"]),
        base_queue()
    );
    assert_eq!(repo.read(Q)[..2], [0xff, 0xfe]);

    repo.write(Q, utf16(&honest_change()));
    repo.add(Q);
    for args in [&["--staged"][..], &[]] {
        let mut all = vec!["check", "--format", "json", "--now", NOW];
        all.extend_from_slice(args);
        let run = repo.run(&all);
        assert_eq!(run.code, 1, "{run:?}");
        let json = run.json();
        let diagnostics = json["diagnostics"].as_array().unwrap();
        // The checked version as an error at its first byte, the base as a warning: both
        // as git checks them out, named by their encoding.
        assert_eq!(diagnostics.len(), 2, "{run:?}");
        for (d, severity) in diagnostics.iter().zip(["error", "warning"]) {
            assert_eq!(d["rule"], "invalid-json", "{run:?}");
            assert_eq!(d["severity"], severity, "{run:?}");
            assert_eq!(
                (d["line"].as_u64(), d["column"].as_u64()),
                (Some(1), Some(1))
            );
            assert!(
                d["message"]
                    .as_str()
                    .unwrap()
                    .contains("encoded as UTF-16LE (with a byte order mark), not UTF-8"),
                "{run:?}"
            );
        }
    }
    // The human output says what to do.
    let run = repo.run(&["check", "--staged"]);
    assert!(run.stdout.contains("working-tree-encoding"), "{run:?}");
}

/// A filter that stores the queue base64-encoded: the object store holds no JSON.
fn base64_filtered() -> Repo {
    let repo = Repo::new();
    repo.git(&["config", "filter.b64.clean", "base64 -w0"]);
    repo.git(&["config", "filter.b64.smudge", "base64 -d"]);
    repo.git(&["config", "filter.b64.required", "true"]);
    repo.write(".gitattributes", "run_queue.json filter=b64\n");
    repo.write(Q, base_queue());
    repo.commit_all("queue");
    assert!(!repo
        .git(&["cat-file", "-p", "HEAD:run_queue.json"])
        .contains("run_a"));
    repo
}

#[test]
fn clean_and_smudge_filters_are_applied_as_on_checkout() {
    let repo = base64_filtered();
    assert_checks_like_plain(&repo);
}

#[test]
fn attributes_only_in_the_system_config_s_attributes_file_are_applied() {
    // The filter and the attributes file are named only in the file GIT_CONFIG_SYSTEM
    // names, which git reads and libgit2 does not.
    let repo = Repo::new();
    let attributes = repo.scratch().join("system-attributes");
    std::fs::write(&attributes, "run_queue.json filter=b64\n").unwrap();
    let system = repo.scratch().join("system.gitconfig");
    std::fs::write(
        &system,
        format!(
            "[core]\n\tattributesFile = {}\n[filter \"b64\"]\n\tclean = base64 -w0\n\tsmudge = base64 -d\n\trequired = true\n",
            attributes.display()
        ),
    )
    .unwrap();
    let with_system = |mut cmd: Command| {
        cmd.env_remove("GIT_CONFIG_NOSYSTEM")
            .env("GIT_CONFIG_SYSTEM", &system);
        let run = run_cmd(cmd);
        assert_ne!(run.code, 128, "{run:?}");
        run
    };
    let git = |args: &[&str]| with_system(repo.git_cmd(args));
    let check = |args: &[&str]| {
        let mut all = vec!["check", "--format", "json", "--now", NOW];
        all.extend_from_slice(args);
        with_system(repo.runqlint_cmd(&all))
    };
    repo.write(Q, base_queue());
    git(&["add", Q]);
    git(&["commit", "-q", "-m", "queue"]);
    // Stored base64-encoded: read without the filter, no version is JSON.
    assert!(!git(&["cat-file", "-p", "HEAD:run_queue.json"])
        .stdout
        .contains("run_a"));

    repo.write(Q, honest_change());
    git(&["add", Q]);
    let run = check(&["--staged"]);
    assert_eq!(run.code, 0, "{run:?}");
    repo.write(Q, rewritten_history());
    git(&["add", Q]);
    let run = check(&["--staged"]);
    assert_eq!(errors(&run), ["terminal-status-changed"], "{run:?}");
    let run = check(&[]);
    assert_eq!(errors(&run), ["terminal-status-changed"], "{run:?}");
}

#[test]
fn attributes_named_on_git_s_command_line_are_applied_in_the_hook() {
    // `git -c core.attributesFile=…` reaches the hook as GIT_CONFIG_PARAMETERS, which
    // libgit2 never reads.
    let repo = Repo::new();
    repo.git(&["config", "filter.b64.clean", "base64 -w0"]);
    repo.git(&["config", "filter.b64.smudge", "base64 -d"]);
    repo.git(&["config", "filter.b64.required", "true"]);
    let attributes = repo.scratch().join("attributes");
    std::fs::write(&attributes, "run_queue.json filter=b64\n").unwrap();
    let setting = format!("core.attributesFile={}", attributes.display());
    let git_c = |args: &[&str]| {
        let mut all = vec!["-c", setting.as_str()];
        all.extend_from_slice(args);
        git_hooked(&repo, &all)
    };
    repo.write(Q, base_queue());
    assert_eq!(git_c(&["add", Q]).code, 0);
    assert_eq!(git_c(&["commit", "-q", "-m", "queue"]).code, 0);
    assert!(!git_c(&["cat-file", "-p", "HEAD:run_queue.json"])
        .stdout
        .contains("run_a"));
    install(&repo);

    repo.write(Q, honest_change());
    assert_eq!(git_c(&["add", Q]).code, 0);
    let run = git_c(&["commit", "-q", "-m", "honest"]);
    assert_eq!(run.code, 0, "{run:?}");
    let before = repo.head();
    repo.write(Q, rewritten_history());
    assert_eq!(git_c(&["add", Q]).code, 0);
    let run = git_c(&["commit", "-q", "-m", "rewrite"]);
    assert_refused(&run, "terminal-status-changed");
    assert_eq!(repo.head(), before);
}

#[test]
fn git_lfs_queues_are_read_through_lfs_or_refused_with_a_reason() {
    if tool("git-lfs").is_none() {
        return;
    }
    let repo = Repo::new();
    repo.git(&["lfs", "install", "--local"]);
    repo.git(&["lfs", "track", Q]);
    repo.write(Q, base_queue());
    repo.commit_all("queue in lfs");
    let pointer = repo.git(&["cat-file", "-p", "HEAD:run_queue.json"]);
    assert!(pointer.starts_with("version https://git-lfs"), "{pointer}");
    assert_checks_like_plain(&repo);

    // The object is gone from the LFS store and there is no remote: one clear line, exit 2.
    repo.git(&["checkout", "-q", "HEAD", "--", Q]);
    std::fs::remove_dir_all(repo.root.join(".git/lfs/objects")).unwrap();
    let run = repo.run(&["check", "--format", "json", "--now", NOW]);
    assert_eq!(run.code, 2, "{run:?}");
    let line = run.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{run:?}");
    assert!(
        line.starts_with("runqlint: error: run_queue.json:"),
        "{run:?}"
    );
}
