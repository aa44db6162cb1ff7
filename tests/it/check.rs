//! `runqlint check` on real repositories: every rule, every base mode, exact locations.

use serde_json::json;

use crate::support::*;

/// Writes `run_queue.json`, commits it as the base.
fn repo_with(base: &str) -> Repo {
    let repo = Repo::new();
    repo.write("run_queue.json", base);
    repo.commit_all("base");
    repo
}

fn check(repo: &Repo, extra: &[&str]) -> Run {
    let mut args = vec!["check", "--format", "json"];
    if !extra.contains(&"--now") {
        args.extend(["--now", NOW]);
    }
    args.extend_from_slice(extra);
    repo.run(&args)
}

fn healthy() -> Vec<serde_json::Value> {
    vec![
        item(
            "a",
            "done",
            json!({"run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 1000}}),
        ),
        item(
            "b",
            "running",
            json!({"run": {"startedAtMs": NOW_MS - 60_000}}),
        ),
        item("c", "queued", json!({"title": "later"})),
    ]
}

#[test]
fn a_clean_queue_passes_in_all_three_modes() {
    let text = queue(healthy());
    let repo = repo_with(&text);
    for mode in [&[][..], &["--staged"][..], &["--base", "HEAD"][..]] {
        let run = check(&repo, mode);
        assert_eq!(run.code, 0, "{mode:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            run.json()["summary"],
            json!({"errors": 0, "warnings": 0}),
            "{mode:?}"
        );
    }
    // A second, identical copy at another path behaves the same.
    repo.write("copy/run_queue.json", &text);
    repo.commit_all("copy");
    for mode in [&[][..], &["--staged"][..], &["--base", "HEAD~1"][..]] {
        let mut args = mode.to_vec();
        args.extend(["run_queue.json", "copy/run_queue.json"]);
        let run = check(&repo, &args);
        assert_eq!(run.code, 0, "{mode:?}: {}{}", run.stdout, run.stderr);
    }
}

#[test]
fn the_example_queue_shows_located_findings() {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/run_queue.json"
    ))
    .unwrap();
    let repo = Repo::new();
    repo.write("run_queue.json", &example);
    let run = check(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = run.findings();
    let expect = |rule: &str, needle: &str, n: usize| {
        let (line, col) = pos_of_nth(&example, needle, n);
        assert!(
            f.contains(&(rule.to_string(), line, col)),
            "{rule} at {line}:{col} not in {f:?}"
        );
    };
    expect("stale-running", "\"running\"", 0);
    expect("stale-running", "\"running\"", 1);
    expect("running-without-start", "\"running\"", 2);
    expect("stale-running", "\"running\"", 3);
    expect("timestamp-order", "1772236000000", 0);
    expect("stale-without-triage", "\"stale\"", 0);
    assert_eq!(run.json()["summary"], json!({"errors": 2, "warnings": 4}));
}

#[test]
fn every_single_file_rule_fires_at_its_line_and_column() {
    let text = queue(vec![
        item("dup", "queued", json!({})),
        item("dup", "queued", json!({})),
        item("r", "running", json!({"run": {"childSessionKey": "k"}})),
        item(
            "t",
            "done",
            json!({"run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS - 5}}),
        ),
        item(
            "secs",
            "running",
            json!({"run": {"startedAtMs": 1_772_064_000i64}}),
        ),
        item("old", "running", json!({"run": {"startedAtMs": FEB26_MS}})),
        item("parked", "stale", json!({})),
        item("bad", "runing", json!({})),
    ]);
    let repo = Repo::new();
    repo.write("run_queue.json", &text);
    let run = check(&repo, &[]);
    assert_eq!(run.code, 1);
    let f = run.findings();
    let at = |needle: &str, n: usize| pos_of_nth(&text, needle, n);
    let want = [
        ("duplicate-id", at("\"dup\"", 1)),
        ("running-without-start", at("\"running\"", 0)),
        ("timestamp-order", at(&(FEB26_MS - 5).to_string(), 0)),
        ("implausible-timestamp", at("1772064000\n", 0)),
        ("stale-running", at("\"running\"", 2)),
        ("stale-without-triage", at("\"stale\"", 0)),
        ("schema", at("\"runing\"", 0)),
    ];
    for (rule, (line, col)) in want {
        assert!(
            f.contains(&(rule.to_string(), line, col)),
            "{rule} at {line}:{col} not in {f:?}"
        );
    }
    // The item with seconds for milliseconds cannot be aged: it is not also stale-running.
    let stale: Vec<_> = run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "stale-running")
        .map(|d| d["itemId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stale, ["old"]);
}

#[test]
fn duplicate_keys_and_required_properties_are_located() {
    let text = "{\n  \"items\": [\n    {\"id\": \"a\", \"status\": \"done\", \"status\": \"running\"},\n    {\"status\": \"queued\"}\n  ]\n}\n";
    let repo = Repo::new();
    repo.write("run_queue.json", text);
    let run = check(&repo, &[]);
    assert_eq!(run.code, 1);
    let f = run.findings();
    assert!(f.contains(&("duplicate-key".into(), 3, 35)), "{f:?}");
    // A missing required property points at the object that lacks it.
    assert!(f.contains(&("schema".into(), 4, 5)), "{f:?}");
    let d = &run.json()["diagnostics"];
    let required = d
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "schema")
        .unwrap();
    assert_eq!(required["pointer"], "/items/1");
    assert!(required["message"]
        .as_str()
        .unwrap()
        .contains("\"id\" is a required property"));
}

#[test]
fn history_rules_compare_with_head() {
    let base = queue(vec![
        item(
            "t",
            "failed",
            json!({"run": {"startedAtMs": FEB26_MS, "error": "boom"}}),
        ),
        item("gone", "done", json!({})),
        item(
            "r",
            "running",
            json!({"run": {"startedAtMs": NOW_MS - 1000}}),
        ),
        item("d", "done", json!({"run": {"error": "x"}})),
        item("s", "stale", json!({"triage": {"status": "needs_review"}})),
    ]);
    let repo = repo_with(&base);
    let now = queue(vec![
        item(
            "t",
            "queued",
            json!({"run": {"startedAtMs": FEB26_MS, "error": "boom"}}),
        ),
        item(
            "r",
            "queued",
            json!({"run": {"startedAtMs": NOW_MS - 1000}}),
        ),
        item("d", "done", json!({"run": {"error": "rewritten"}})),
        item(
            "s",
            "running",
            json!({"triage": {"status": "needs_review"}, "run": {"startedAtMs": NOW_MS}}),
        ),
    ]);
    repo.write("run_queue.json", &now);
    let run = check(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let f = run.findings();
    let at = |needle: &str, n: usize| pos_of_nth(&now, needle, n);
    assert!(
        f.contains(&(
            "terminal-status-changed".into(),
            at("\"queued\"", 0).0,
            at("\"queued\"", 0).1
        )),
        "{f:?}"
    );
    assert!(
        f.contains(&(
            "invalid-transition".into(),
            at("\"queued\"", 1).0,
            at("\"queued\"", 1).1
        )),
        "{f:?}"
    );
    assert!(
        f.contains(&(
            "invalid-transition".into(),
            at("\"running\"", 0).0,
            at("\"running\"", 0).1
        )),
        "{f:?}"
    );
    assert!(
        f.contains(&(
            "terminal-item-changed".into(),
            at("\"run\"", 2).0,
            at("\"run\"", 2).1
        )),
        "{f:?}"
    );
    let deleted = run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "item-deleted")
        .cloned()
        .unwrap();
    assert_eq!(deleted["itemId"], "gone");
    assert_eq!(
        deleted["line"], 2,
        "located at the items array of the checked version"
    );
    let base_line = line_of(&base, "\"gone\"");
    assert_eq!(deleted["baseLine"], base_line - 1);
    assert!(
        deleted["message"]
            .as_str()
            .unwrap()
            .contains(&format!("line {}", base_line - 1)),
        "{deleted}"
    );
    // terminal-item-changed is a warning by default; the others are errors.
    assert_eq!(run.json()["summary"], json!({"errors": 4, "warnings": 1}));
}

#[test]
fn triage_may_change_on_a_terminal_item() {
    let base = queue(vec![item("d", "failed", json!({"run": {"error": "x"}}))]);
    let repo = repo_with(&base);
    repo.write(
        "run_queue.json",
        queue(vec![item(
            "d",
            "failed",
            json!({"run": {"error": "x"}, "triage": {"status": "needs_review"}}),
        )]),
    );
    let run = check(&repo, &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.rules(), Vec::<String>::new());
}

#[test]
fn staged_and_unstaged_versions_are_told_apart() {
    let base = queue(vec![item("a", "done", json!({}))]);
    let good = queue(vec![
        item("a", "done", json!({})),
        item("b", "queued", json!({})),
    ]);
    let bad = queue(vec![item("a", "queued", json!({}))]);
    let repo = repo_with(&base);

    // A bad unstaged edit over a good staged one: --staged passes, the worktree check fails.
    repo.write("run_queue.json", &good);
    repo.add("run_queue.json");
    repo.write("run_queue.json", &bad);
    assert_eq!(check(&repo, &["--staged"]).code, 0);
    assert_eq!(check(&repo, &[]).rules(), ["terminal-status-changed"]);

    // And the reverse: a bad staged version under a good worktree.
    repo.write("run_queue.json", &bad);
    repo.add("run_queue.json");
    repo.write("run_queue.json", &good);
    assert_eq!(
        check(&repo, &["--staged"]).rules(),
        ["terminal-status-changed"]
    );
    assert_eq!(check(&repo, &[]).code, 0);
}

#[test]
fn base_accepts_branches_tags_shas_and_remote_branches() {
    let base = queue(vec![item("a", "done", json!({}))]);
    let repo = repo_with(&base);
    repo.git(&["tag", "v1"]);
    let sha = repo.head();
    repo.git(&["branch", "old"]);
    repo.git(&["update-ref", "refs/remotes/origin/main", &sha]);
    repo.write(
        "run_queue.json",
        queue(vec![
            item("a", "done", json!({})),
            item("b", "queued", json!({})),
        ]),
    );
    repo.commit_all("add b");
    // The committed change is fine against HEAD; against the old base, `b` is new (fine) and
    // a worktree edit that reopens `a` is caught whatever names the base.
    repo.write(
        "run_queue.json",
        queue(vec![
            item("a", "queued", json!({})),
            item("b", "queued", json!({})),
        ]),
    );
    for rev in [
        "old",
        "v1",
        sha.as_str(),
        &sha[..8],
        "origin/main",
        "HEAD~1",
        "HEAD",
    ] {
        let run = check(&repo, &["--base", rev]);
        assert_eq!(
            run.rules(),
            ["terminal-status-changed"],
            "--base {rev}: {}",
            run.stderr
        );
        assert!(run.json()["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("in {rev}")));
    }
    // Against the old base, deleting `b` is not a deletion (it did not exist then).
    repo.write("run_queue.json", &base);
    assert_eq!(check(&repo, &["--base", "v1"]).code, 0);
    assert_eq!(check(&repo, &["--base", "HEAD"]).rules(), ["item-deleted"]);
}

#[test]
fn a_repository_without_commits_and_a_new_file_get_single_file_rules_only() {
    let repo = Repo::new();
    let text = queue(vec![item("a", "running", json!({}))]);
    repo.write("run_queue.json", &text);
    let run = check(&repo, &[]);
    assert_eq!(run.rules(), ["running-without-start"], "{}", run.stderr);
    repo.add("run_queue.json");
    assert_eq!(
        check(&repo, &["--staged"]).rules(),
        ["running-without-start"]
    );

    // A file that is new at the base: HEAD exists but does not hold it.
    let repo = Repo::new();
    repo.write("README", "x");
    repo.commit_all("init");
    repo.write("run_queue.json", queue(vec![item("a", "done", json!({}))]));
    assert_eq!(check(&repo, &[]).code, 0);
}

#[test]
fn a_deleted_file_deletes_every_item() {
    let base = queue(vec![
        item("a", "done", json!({})),
        item("b", "queued", json!({})),
    ]);
    let repo = repo_with(&base);
    std::fs::remove_file(repo.root.join("run_queue.json")).unwrap();
    let run = check(&repo, &[]);
    assert_eq!(run.code, 1);
    let f = run.findings();
    assert_eq!(f.len(), 2);
    let ids: Vec<_> = run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["itemId"].clone())
        .collect();
    assert_eq!(ids, [json!("a"), json!("b")]);
    // Located where the items were in HEAD.
    assert_eq!(
        f[0],
        ("item-deleted".into(), line_of(&base, "\"a\"") - 1, 5)
    );
    // Staged deletion, too.
    repo.git(&["rm", "-q", "--cached", "run_queue.json"]);
    assert_eq!(
        check(&repo, &["--staged"]).rules(),
        ["item-deleted", "item-deleted"]
    );
    // Human output names the ids.
    let human = repo.run(&["check", "--now", NOW]);
    assert!(
        human.stdout.contains("item \"a\" was deleted"),
        "{}",
        human.stdout
    );
}

#[test]
fn outside_a_repository_only_single_file_rules_run() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo::new(); // only for its isolated environment
    std::fs::write(
        dir.path().join("q.json"),
        queue(vec![item("a", "running", json!({}))]),
    )
    .unwrap();
    let run = repo.run_in(dir.path(), &["check", "q.json", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.rules(), ["running-without-start"]);
    for flag in [&["--staged"][..], &["--base", "main"][..]] {
        let mut args = vec!["check", "q.json"];
        args.extend_from_slice(flag);
        let run = repo.run_in(dir.path(), &args);
        assert_eq!(run.code, 2, "{flag:?}");
        assert!(
            run.stderr.contains("needs a git repository"),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1);
    }
}

#[test]
fn a_base_missing_from_a_shallow_clone_names_the_fetch_command() {
    let origin = Repo::new();
    origin.write("run_queue.json", queue(vec![item("a", "done", json!({}))]));
    origin.commit_all("one");
    let first = origin.head();
    origin.write(
        "run_queue.json",
        queue(vec![
            item("a", "done", json!({})),
            item("b", "queued", json!({})),
        ]),
    );
    origin.commit_all("two");
    let clone = origin.scratch().join("clone");
    let url = format!("file://{}", origin.root.display());
    origin.git(&["clone", "-q", "--depth=1", &url, clone.to_str().unwrap()]);
    let run = origin.run_in(&clone, &["check", "--base", &first]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("shallow"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("git fetch --no-tags --depth=1 origin {first}")),
        "{}",
        run.stderr
    );
    // The printed command really brings the base.
    let out = origin
        .git_cmd(&[
            "-C",
            clone.to_str().unwrap(),
            "fetch",
            "-q",
            "--no-tags",
            "--depth=1",
            "origin",
            &first,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(origin.run_in(&clone, &["check", "--base", &first]).code, 0);
    // A branch name that does not exist gets a fetch into its remote-tracking ref.
    let run = origin.run_in(&clone, &["check", "--base", "origin/feature"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("git fetch --no-tags origin feature:refs/remotes/origin/feature"),
        "{}",
        run.stderr
    );
}

#[test]
fn several_paths_are_checked_in_one_call_and_configured_paths_are_the_default() {
    let repo = Repo::new();
    repo.write(
        "a/run_queue.json",
        queue(vec![item("x", "running", json!({}))]),
    );
    repo.write(
        "b/run_queue.json",
        queue(vec![item("y", "done", json!({}))]),
    );
    repo.commit_all("two queues");
    let run = check(&repo, &["a/run_queue.json", "b/run_queue.json"]);
    let paths: Vec<_> = run.json()["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].clone())
        .collect();
    assert_eq!(paths, [json!("a/run_queue.json")]);
    // From a subdirectory, paths are relative to it and reported relative to the root.
    let run = repo.run_in(
        &repo.root.join("b"),
        &[
            "check",
            "--format",
            "json",
            "../a/run_queue.json",
            "run_queue.json",
        ],
    );
    assert_eq!(run.json()["diagnostics"][0]["path"], "a/run_queue.json");
    // With no PATH: runqlint.toml's paths, else run_queue.json at the root (absent: nothing to check).
    assert_eq!(check(&repo, &[]).code, 0);
    repo.write(
        "runqlint.toml",
        "paths = [\"a/run_queue.json\", \"b/run_queue.json\"]\n",
    );
    assert_eq!(check(&repo, &[]).rules(), ["running-without-start"]);
}

#[test]
fn severities_come_from_config_and_flags() {
    let repo = Repo::new();
    let text = queue(vec![item(
        "old",
        "running",
        json!({"run": {"startedAtMs": FEB26_MS}}),
    )]);
    repo.write("run_queue.json", &text);
    let run = check(&repo, &[]);
    assert_eq!(
        (run.code, run.rules()),
        (0, vec!["stale-running".to_string()])
    );
    assert_eq!(check(&repo, &["--deny", "stale-running"]).code, 1);
    assert_eq!(
        check(&repo, &["--allow", "stale-running"]).rules(),
        Vec::<String>::new()
    );
    assert_eq!(
        check(&repo, &["--stale-after", "400d"]).rules(),
        Vec::<String>::new()
    );
    assert_eq!(
        check(&repo, &["--now", "2026-02-26T05:00:00Z"]).rules(),
        Vec::<String>::new()
    );
    repo.write(
        "runqlint.toml",
        "stale-after = \"1d\"\n[rules]\nstale-running = \"error\"\n",
    );
    assert_eq!(check(&repo, &[]).code, 1);
    assert_eq!(check(&repo, &["--warn", "stale-running"]).code, 0);
    // Per-item staleAfterMs wins over the default.
    repo.write("runqlint.toml", "stale-after = \"1000d\"\n");
    repo.write(
        "run_queue.json",
        queue(vec![item(
            "old",
            "running",
            json!({"run": {"startedAtMs": FEB26_MS, "staleAfterMs": 3_600_000}}),
        )]),
    );
    assert_eq!(check(&repo, &[]).rules(), ["stale-running"]);
    // Unknown config keys, unknown rules and bad values are exit 2 with one line.
    for (config, needle) in [
        ("stale_after = \"1d\"\n", "unknown field"),
        ("[rules]\nno-such-rule = \"off\"\n", "no-such-rule"),
        ("stale-after = \"soon\"\n", "soon"),
    ] {
        repo.write("runqlint.toml", config);
        let run = check(&repo, &[]);
        assert_eq!(run.code, 2, "{config}");
        assert!(
            run.stderr.contains(needle) && run.stderr.contains("runqlint.toml"),
            "{}",
            run.stderr
        );
    }
    std::fs::remove_file(repo.root.join("runqlint.toml")).unwrap();
    for args in [
        &["--deny", "nope"][..],
        &["--now", "yesterday"][..],
        &["--stale-after", "6 hours"][..],
    ] {
        let run = check(&repo, args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

#[test]
fn human_and_json_output_snapshots() {
    let base = queue(vec![
        item("t", "failed", json!({"title": "Contacts"})),
        item("gone", "done", json!({})),
    ]);
    let repo = repo_with(&base);
    repo.write(
        "run_queue.json",
        queue(vec![
            item("t", "queued", json!({"title": "Contacts"})),
            item("old", "running", json!({"run": {"startedAtMs": FEB26_MS}})),
        ]),
    );
    let human = repo.run(&["check", "--now", NOW]);
    assert_eq!(human.code, 1);
    insta::assert_snapshot!("check_human", human.stdout);
    let json = repo.run(&["check", "--now", NOW, "--format", "json"]);
    insta::assert_snapshot!(
        "check_json",
        serde_json::to_string_pretty(&json.json()).unwrap()
    );
}

#[test]
fn explain_rules_and_schema_document_themselves() {
    let repo = Repo::new();
    let rules = repo.run(&["rules", "--format", "json"]).json();
    let names: Vec<_> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "invalid-json",
            "duplicate-key",
            "schema",
            "duplicate-id",
            "running-without-start",
            "terminal-status-changed",
            "item-deleted",
            "invalid-transition",
            "terminal-item-changed",
            "timestamp-order",
            "implausible-timestamp",
            "stale-running",
            "stale-without-triage"
        ]
    );
    for name in &names {
        let run = repo.run(&["explain", name]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.starts_with(&format!("# {name}\n")));
        assert!(run.stdout.contains("## How to fix"));
    }
    let run = repo.run(&["explain", "nope"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("stale-running"));
    let schema: serde_json::Value = serde_json::from_str(&repo.run(&["schema"]).stdout).unwrap();
    let shipped: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schema/run_queue.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(schema, shipped);
}

#[test]
fn schema_fixtures_are_accepted_and_rejected() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/examples");
    let repo = Repo::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let run = repo.run(&[
            "check",
            "--format",
            "json",
            "--now",
            NOW,
            "--allow",
            "all",
            "--deny",
            "schema",
            path.to_str().unwrap(),
        ]);
        if name.starts_with("valid") {
            assert_eq!(run.code, 0, "{name}: {}", run.stdout);
        } else {
            assert_eq!(run.code, 1, "{name}");
            assert!(run.rules().iter().all(|r| r == "schema"), "{name}");
        }
        seen += 1;
    }
    assert!(seen >= 6, "fixtures missing");
}

#[test]
fn colour_is_forced_by_clicolor_force_and_no_color_always_wins() {
    let repo = Repo::new();
    repo.write(
        "run_queue.json",
        queue(vec![item("a", "running", json!({}))]),
    );
    let mut cmd = repo.runqlint_cmd(&["check"]);
    cmd.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
    let out = cmd.output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\u{1b}["),
        "no colour when forced"
    );
    cmd.env("NO_COLOR", "1");
    let out = cmd.output().unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains('\u{1b}'),
        "colour despite NO_COLOR"
    );
    // Not a terminal, nothing forced: plain.
    let mut cmd = repo.runqlint_cmd(&["check"]);
    cmd.env_remove("NO_COLOR");
    assert!(!String::from_utf8_lossy(&cmd.output().unwrap().stdout).contains('\u{1b}'));
}

#[test]
fn the_readme_shows_the_real_output_of_its_first_command() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let command = "$ cargo run -- check examples/run_queue.json --now 2026-11-25T00:00:00Z\n";
    let start = readme.find(command).expect("the README's first command") + command.len();
    let shown = &readme[start..start + readme[start..].find("```").unwrap()];
    let out = std::process::Command::new(bin())
        .args([
            "check",
            "examples/run_queue.json",
            "--now",
            "2026-11-25T00:00:00Z",
        ])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        shown,
        String::from_utf8_lossy(&out.stdout),
        "README.md is out of date"
    );
}
