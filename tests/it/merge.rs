//! The merge driver (issue #12): real `git merge`, `rebase`, `cherry-pick` and `pull`
//! between real branches, with the driver registered by `install-hook` and without it; every
//! semantic rule through the driver's own command line; a property test.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use crate::support::{bin, item, queue, Repo, Run, FEB26_MS, NOW};

const Q: &str = "run_queue.json";

/// git with the driver's binary named by `RUNQLINT` (as a user's PATH would).
fn git(repo: &Repo, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = repo.git_cmd(args);
    cmd.current_dir(dir).env("RUNQLINT", bin());
    Run::from(cmd.output().unwrap())
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

/// A repository whose `main` holds `base`; `theirs` branches off it with `theirs_text`,
/// then `main` gets `ours_text`. With `driver`, `install-hook --gitattributes` ran first
/// (and `.gitattributes` is committed with the base).
fn branches(base: &str, ours_text: &str, theirs_text: &str, driver: bool) -> Repo {
    let repo = Repo::new();
    if driver {
        let run = repo.run(&["install-hook", "--gitattributes"]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    repo.write(Q, base);
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "theirs"]);
    repo.write(Q, theirs_text);
    repo.git(&[
        "commit",
        "-qa",
        "--allow-empty",
        "--no-verify",
        "-m",
        "theirs",
    ]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write(Q, ours_text);
    repo.commit_all("ours");
    repo
}

fn text(repo: &Repo) -> String {
    String::from_utf8(repo.read(Q)).unwrap()
}

fn ids(text: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let items = v.get("items").unwrap_or(&v).as_array().unwrap();
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

/// `runqlint check` of the working tree against `rev`, pinned clock: no error.
fn passes_check_against(repo: &Repo, rev: &str) {
    let run = repo.run(&["check", "--now", NOW, "--base", rev, "--format", "json"]);
    assert_eq!(run.code, 0, "check against {rev}: {}", run.stdout);
}

fn running(id: &str, started: i64, extra: Value) -> Value {
    let mut v = item(id, "running", json!({"run": {"startedAtMs": started}}));
    if let Value::Object(e) = extra {
        for (k, x) in e {
            if k == "run" {
                v["run"]
                    .as_object_mut()
                    .unwrap()
                    .extend(x.as_object().unwrap().clone());
            } else {
                v[k] = x;
            }
        }
    }
    v
}

fn base_items() -> Vec<Value> {
    vec![
        item("q1", "queued", json!({"title": "first"})),
        running(
            "r1",
            FEB26_MS,
            json!({"run": {"lastHeartbeatAtMs": FEB26_MS + 10}}),
        ),
        item(
            "d1",
            "done",
            json!({"run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 5}}),
        ),
    ]
}

fn with(mut items: Vec<Value>, extra: Vec<Value>) -> String {
    items.extend(extra);
    queue(items)
}

// ---------------------------------------------------------------------------------------
// Real git operations
// ---------------------------------------------------------------------------------------

#[test]
fn appends_on_both_branches_merge_cleanly_with_the_driver_and_conflict_without() {
    let base = queue(base_items());
    let ours = with(
        base_items(),
        vec![item("o1", "queued", json!({"title": "ours"}))],
    );
    let theirs = with(
        base_items(),
        vec![item("t1", "queued", json!({"title": "theirs"}))],
    );

    // Without the driver: git's line merge conflicts on the closing bracket.
    let plain = branches(&base, &ours, &theirs, false);
    let run = git(&plain, &plain.root, &["merge", "-q", "--no-edit", "theirs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(text(&plain).contains("<<<<<<<"), "{}", text(&plain));

    // With it: clean, ours' bytes kept, theirs' item appended after ours'.
    let repo = branches(&base, &ours, &theirs, true);
    let run = ok(git(
        &repo,
        &repo.root,
        &["merge", "-q", "--no-edit", "theirs"],
    ));
    // The pre-merge-commit hook install-hook put in place checked the merge: warnings only
    // (r1 has been running since February).
    assert!(
        !run.stderr.contains("CONFLICT") && run.stderr.contains("0 errors, 1 warning"),
        "{run:?}"
    );
    let merged = text(&repo);
    assert!(merged.starts_with(ours.trim_end().trim_end_matches(['}', ']', '\n', ' '])));
    assert_eq!(ids(&merged), ["q1", "r1", "d1", "o1", "t1"]);
    assert_eq!(
        serde_json::from_str::<Value>(&merged).unwrap()["items"][4],
        item("t1", "queued", json!({"title": "theirs"}))
    );
    passes_check_against(&repo, "HEAD^1");
    passes_check_against(&repo, "HEAD^2");
}

#[test]
fn install_hook_registers_the_driver_and_says_which_attributes_line_routes_to_it() {
    let repo = Repo::new();
    let run = repo.run(&["install-hook"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("    run_queue.json merge=runqlint\n"),
        "{}",
        run.stdout
    );
    assert!(!repo.root.join(".gitattributes").exists());
    let get = |k: &str| {
        repo.git(&["config", "--local", "--get", k])
            .trim()
            .to_string()
    };
    assert_eq!(
        get("merge.runqlint.driver"),
        "\"${RUNQLINT:-runqlint}\" merge-driver %O %A %B %L %P %S %X %Y"
    );
    assert_eq!(get("merge.runqlint.recursive"), "runqlint-ancestor");
    assert!(get("merge.runqlint-ancestor.driver").contains("--ancestor %O %A %B %L %P %S %X %Y"));
    assert!(!get("merge.runqlint.name").is_empty());

    // --gitattributes writes the line once, keeping what was there.
    repo.write(".gitattributes", "*.png binary");
    let run = repo.run(&["install-hook", "--gitattributes"]);
    assert_eq!(run.code, 0, "{run:?}");
    let again = repo.run(&["install-hook", "--gitattributes"]);
    assert!(again.stdout.contains("already routes"), "{}", again.stdout);
    assert_eq!(
        String::from_utf8(repo.read(".gitattributes")).unwrap(),
        "*.png binary\nrun_queue.json merge=runqlint\n"
    );
    let attr = repo.git(&["check-attr", "merge", "--", Q]);
    assert_eq!(attr, "run_queue.json: merge: runqlint\n");
}

/// What `git check-attr merge` says of `path`.
fn merge_attr(repo: &Repo, path: &str) -> String {
    repo.git(&["check-attr", "merge", "--", path])
        .rsplit(": ")
        .next()
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn install_hook_names_a_later_root_line_that_overrides_the_route_and_writes_after_it() {
    let repo = Repo::new();
    let before = "run_queue.json merge=runqlint\n*.json binary\n";
    repo.write(".gitattributes", before);
    assert_eq!(merge_attr(&repo, Q), "unset");

    // Shown, not written.
    let run = repo.run(&["install-hook"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "run_queue.json: `git check-attr merge` says `unset`, from .gitattributes:2 (`*.json binary`)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("already routes"), "{}", run.stdout);
    assert_eq!(
        String::from_utf8(repo.read(".gitattributes")).unwrap(),
        before
    );

    // Written after it: git now routes the file to the driver.
    let run = repo.run(&["install-hook", "--gitattributes"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("added to .gitattributes: run_queue.json merge=runqlint\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        String::from_utf8(repo.read(".gitattributes")).unwrap(),
        format!("{before}run_queue.json merge=runqlint\n")
    );
    assert_eq!(merge_attr(&repo, Q), "runqlint");
    let again = repo.run(&["install-hook", "--gitattributes"]);
    assert!(again.stdout.contains("already routes"), "{}", again.stdout);

    // A later `-merge` for the file alone, likewise.
    repo.write(
        ".gitattributes",
        "run_queue.json merge=runqlint\nrun_queue.json -merge\n",
    );
    let run = repo.run(&["install-hook", "--gitattributes"]);
    assert!(
        run.stdout
            .contains("says `unset`, from .gitattributes:2 (`run_queue.json -merge`)"),
        "{}",
        run.stdout
    );
    assert_eq!(merge_attr(&repo, Q), "runqlint");
}

#[test]
fn install_hook_routes_a_queue_a_subdirectory_gitattributes_holds_in_that_file() {
    let repo = Repo::new();
    repo.write("runqlint.toml", "paths = [\"ops/queues/run_queue.json\"]\n");
    repo.write(
        ".gitattributes",
        "ops/queues/run_queue.json merge=runqlint\n",
    );
    repo.write("ops/.gitattributes", "queues/*.json -merge\n");
    let path = "ops/queues/run_queue.json";
    assert_eq!(merge_attr(&repo, path), "unset");

    let run = repo.run(&["install-hook", "--gitattributes"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "ops/queues/run_queue.json: `git check-attr merge` says `unset`, from ops/.gitattributes:1 (`queues/*.json -merge`)\n\
             added to ops/.gitattributes: /queues/run_queue.json merge=runqlint\n"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        String::from_utf8(repo.read("ops/.gitattributes")).unwrap(),
        "queues/*.json -merge\n/queues/run_queue.json merge=runqlint\n"
    );
    assert_eq!(
        String::from_utf8(repo.read(".gitattributes")).unwrap(),
        "ops/queues/run_queue.json merge=runqlint\n"
    );
    assert_eq!(merge_attr(&repo, path), "runqlint");
}

#[test]
fn install_hook_refuses_to_route_what_info_attributes_overrides_and_writes_nothing() {
    let repo = Repo::new();
    repo.write(".git/info/attributes", "# local\n*.json binary\n");
    repo.write(".gitattributes", "*.png binary\n");
    let run = repo.run(&["install-hook", "--gitattributes"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr.trim_end(),
        "runqlint: error: run_queue.json: `git check-attr merge` says `unset`, from .git/info/attributes:2 (`*.json binary`), \
         which outranks every .gitattributes and is not committed; remove that line or put `run_queue.json merge=runqlint` after it, \
         then rerun (nothing was written to .gitattributes)"
    );
    assert_eq!(
        String::from_utf8(repo.read(".gitattributes")).unwrap(),
        "*.png binary\n"
    );
    // Once the local line is gone, the route is written.
    repo.write(".git/info/attributes", "# local\n");
    let run = repo.run(&["install-hook", "--gitattributes"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(merge_attr(&repo, Q), "runqlint");
}

#[test]
fn install_hook_names_a_global_attributes_line_and_outranks_it() {
    let repo = Repo::new();
    let global = repo.home().join("attributes");
    std::fs::write(&global, "run_queue.json merge=union\n").unwrap();
    repo.git(&["config", "core.attributesFile", global.to_str().unwrap()]);
    assert_eq!(merge_attr(&repo, Q), "union");
    let run = repo.run(&["install-hook", "--gitattributes"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "says `union`, from {}:1 (`run_queue.json merge=union`)",
            global.display()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(merge_attr(&repo, Q), "runqlint");
}

#[test]
fn rebase_and_cherry_pick_use_the_driver() {
    let base = queue(base_items());
    let ours = with(base_items(), vec![item("o1", "queued", json!({}))]);
    let mut t = base_items();
    t[1] = running(
        "r1",
        FEB26_MS,
        json!({"run": {"lastHeartbeatAtMs": FEB26_MS + 99}}),
    );
    let theirs = with(t, vec![item("t1", "queued", json!({}))]);

    let repo = branches(&base, &ours, &theirs, true);
    ok(git(&repo, &repo.root, &["rebase", "-q", "main", "theirs"]));
    let merged = text(&repo);
    assert_eq!(ids(&merged), ["q1", "r1", "d1", "o1", "t1"]);
    assert!(merged.contains(&format!("\"lastHeartbeatAtMs\": {}", FEB26_MS + 99)));
    passes_check_against(&repo, "main");

    let repo = branches(&base, &ours, &theirs, true);
    ok(git(&repo, &repo.root, &["cherry-pick", "theirs"]));
    assert_eq!(ids(&text(&repo)), ["q1", "r1", "d1", "o1", "t1"]);
    passes_check_against(&repo, "HEAD^");

    // Without the driver the same cherry-pick stops on a conflict.
    let plain = branches(&base, &ours, &theirs, false);
    let run = git(&plain, &plain.root, &["cherry-pick", "theirs"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(text(&plain).contains("<<<<<<<"));
}

/// `main` (base items, then `o1`) and `feature` off the base: `f1` then `f2`, one commit
/// each, with the driver registered.
fn picks() -> Repo {
    let repo = Repo::new();
    ok(repo.run(&["install-hook", "--gitattributes"]));
    repo.write(Q, queue(base_items()));
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(Q, with(base_items(), vec![item("f1", "queued", json!({}))]));
    repo.commit_all("f1");
    let f = vec![
        item("f1", "queued", json!({})),
        item("f2", "queued", json!({})),
    ];
    repo.write(Q, with(base_items(), f));
    repo.commit_all("f2");
    repo.git(&["checkout", "-q", "main"]);
    repo.write(Q, with(base_items(), vec![item("o1", "queued", json!({}))]));
    repo.commit_all("o1");
    repo
}

#[test]
fn a_pick_brings_only_its_commits_change() {
    // cherry-pick: the base is `feature^` (which has f1), not an ancestor of main.
    let repo = picks();
    let run = ok(git(&repo, &repo.root, &["cherry-pick", "feature"]));
    assert_eq!(ids(&text(&repo)), ["q1", "r1", "d1", "o1", "f2"]);
    assert!(!run.stderr.contains("runqlint"), "{run:?}");

    // rebase --onto: only the commits after `feature^`.
    let repo = picks();
    ok(git(
        &repo,
        &repo.root,
        &["rebase", "-q", "--onto", "main", "feature^", "feature"],
    ));
    assert_eq!(ids(&text(&repo)), ["q1", "r1", "d1", "o1", "f2"]);
    assert_eq!(
        repo.git(&["rev-list", "--count", "main..feature"]).trim(),
        "1"
    );

    // checkout -m: the local change (r1's heartbeat) moves to main, feature's items stay
    // behind.
    let repo = picks();
    repo.git(&["checkout", "-q", "feature"]);
    let mut v = value(&text(&repo));
    v["items"][1]["run"]["lastHeartbeatAtMs"] = json!(FEB26_MS + 77);
    repo.write(Q, crate::support::pretty(&v));
    ok(git(&repo, &repo.root, &["checkout", "-q", "-m", "main"]));
    let now = text(&repo);
    assert_eq!(ids(&now), ["q1", "r1", "d1", "o1"], "{now}");
    assert_eq!(
        value(&now)["items"][1]["run"]["lastHeartbeatAtMs"],
        FEB26_MS + 77
    );
}

#[test]
fn clearing_two_trailing_fields_merges_cleanly_where_git_does() {
    let item_text = |title: &str, tail: bool| {
        let tail = if tail {
            ",\n      \"notes\": \"n\",\n      \"taskIds\": [\"t\"]"
        } else {
            ""
        };
        format!(
            "{{\n  \"items\": [\n    {{\n      \"id\": \"x\",\n      \"title\": \"{title}\",\n      \"status\": \"queued\",\n      \"run\": {{\n        \"attempt\": 1\n      }}{tail}\n    }}\n  ]\n}}\n"
        )
    };
    let base = item_text("b", true);
    let ours = item_text("o", true);
    let theirs = item_text("b", false);
    // git's own line merge is clean: ours retitles, theirs drops the two last members.
    let plain = branches(&base, &ours, &theirs, false);
    ok(git(
        &plain,
        &plain.root,
        &["merge", "-q", "--no-edit", "theirs"],
    ));
    let want = text(&plain);
    assert_eq!(want, item_text("o", false));
    // The driver too, to the same file.
    let repo = branches(&base, &ours, &theirs, true);
    let run = ok(git(
        &repo,
        &repo.root,
        &["merge", "-q", "--no-edit", "theirs"],
    ));
    assert!(!run.stderr.contains("conflict"), "{run:?}");
    assert_eq!(text(&repo), want);
}

#[test]
fn rerere_replays_a_recorded_resolution_through_the_driver() {
    let mut o = base_items();
    o[0]["title"] = json!("ours");
    let mut t = base_items();
    t[0]["title"] = json!("theirs");
    let repo = branches(&queue(base_items()), &queue(o), &queue(t), true);
    repo.git(&["config", "rerere.enabled", "true"]);
    let run = git(&repo, &repo.root, &["merge", "--no-edit", "theirs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Recorded preimage for 'run_queue.json'"),
        "{run:?}"
    );
    // Resolved by hand: a title neither side had.
    let mut resolved = value(&resolve(&text(&repo), 0));
    resolved["items"][0]["title"] = json!("both");
    let resolved = crate::support::pretty(&resolved);
    repo.write(Q, &resolved);
    repo.git(&["add", Q]);
    let run = ok(git(
        &repo,
        &repo.root,
        &["commit", "-q", "--no-edit", "--no-verify"],
    ));
    assert!(
        run.stderr
            .contains("Recorded resolution for 'run_queue.json'"),
        "{run:?}"
    );
    // The same merge again: rerere replays the resolution through the driver.
    repo.git(&["reset", "-q", "--hard", "HEAD^"]);
    let run = git(&repo, &repo.root, &["merge", "--no-edit", "theirs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("Resolved 'run_queue.json' using previous resolution."),
        "{run:?}"
    );
    assert_eq!(text(&repo), resolved);
}

#[test]
fn pull_in_a_clone_uses_the_driver_once_registered_there() {
    let base = queue(base_items());
    let upstream = branches(
        &base,
        &with(base_items(), vec![item("up", "queued", json!({}))]),
        &base,
        true,
    );
    let clone_dir = upstream.scratch().join("clone");
    ok(git(
        &upstream,
        upstream.scratch(),
        &["clone", "-q", upstream.root.to_str().unwrap(), "clone"],
    ));
    let local = |args: &[&str]| git(&upstream, &clone_dir, args);
    // The config is per clone: register it here (the attributes line came with the clone).
    let mut cmd = upstream.runqlint_cmd(&["install-hook"]);
    cmd.current_dir(&clone_dir);
    assert_eq!(Run::from(cmd.output().unwrap()).code, 0);
    ok(local(&["reset", "-q", "--hard", "HEAD~1"]));
    std::fs::write(
        clone_dir.join(Q),
        with(base_items(), vec![item("mine", "queued", json!({}))]),
    )
    .unwrap();
    ok(local(&["commit", "-q", "--no-verify", "-am", "mine"]));
    ok(local(&[
        "pull",
        "-q",
        "--no-rebase",
        "--no-edit",
        "origin",
        "main",
    ]));
    let merged = std::fs::read_to_string(clone_dir.join(Q)).unwrap();
    assert_eq!(ids(&merged), ["q1", "r1", "d1", "mine", "up"]);
}

#[test]
fn criss_cross_merges_merge_their_ancestors_with_the_driver() {
    // Two branches merge each other (criss-cross), then each adds more; the final merge has
    // two merge bases, which git merges with the `recursive` driver first.
    let base = queue(base_items());
    let repo = branches(
        &base,
        &with(base_items(), vec![item("a1", "queued", json!({}))]),
        &with(base_items(), vec![item("b1", "queued", json!({}))]),
        true,
    );
    let g = |args: &[&str]| ok(git(&repo, &repo.root, args));
    g(&["branch", "main-before", "main"]);
    g(&["merge", "-q", "--no-edit", "theirs"]);
    g(&["checkout", "-q", "theirs"]);
    g(&["merge", "-q", "--no-edit", "main-before"]);
    let mut t = base_items();
    t[1] = item(
        "r1",
        "done",
        json!({"run": {"startedAtMs": FEB26_MS, "lastHeartbeatAtMs": FEB26_MS + 10, "finishedAtMs": FEB26_MS + 50}}),
    );
    let now = text(&repo);
    let mut v: Value = serde_json::from_str(&now).unwrap();
    v["items"][1] = t[1].clone();
    v["items"]
        .as_array_mut()
        .unwrap()
        .push(item("b2", "queued", json!({})));
    repo.write(Q, crate::support::pretty(&v));
    repo.commit_all("theirs: r1 done, b2");
    g(&["checkout", "-q", "main"]);
    let mut v: Value = serde_json::from_str(&text(&repo)).unwrap();
    v["items"]
        .as_array_mut()
        .unwrap()
        .push(item("a2", "queued", json!({})));
    repo.write(Q, crate::support::pretty(&v));
    repo.commit_all("main: a2");
    let bases = repo.git(&["merge-base", "--all", "main", "theirs"]);
    assert_eq!(bases.lines().count(), 2, "criss-cross: two merge bases");
    g(&["merge", "-q", "--no-edit", "theirs"]);
    let merged = text(&repo);
    let got: BTreeSet<String> = ids(&merged).into_iter().collect();
    let want: BTreeSet<String> = ["q1", "r1", "d1", "a1", "b1", "a2", "b2"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(got, want);
    assert_eq!(ids(&merged).len(), 7, "no duplicates: {merged}");
    let v: Value = serde_json::from_str(&merged).unwrap();
    assert_eq!(v["items"][1]["status"], "done");
    passes_check_against(&repo, "HEAD^1");
    passes_check_against(&repo, "HEAD^2");
}

#[test]
fn a_true_contradiction_stops_git_merge_with_markers_check_points_at() {
    let mut o = base_items();
    o[1] = item(
        "r1",
        "done",
        json!({"run": {"startedAtMs": FEB26_MS, "lastHeartbeatAtMs": FEB26_MS + 10, "finishedAtMs": FEB26_MS + 20}}),
    );
    let mut t = base_items();
    t[1] = item(
        "r1",
        "failed",
        json!({"run": {"startedAtMs": FEB26_MS, "lastHeartbeatAtMs": FEB26_MS + 10, "finishedAtMs": FEB26_MS + 20}}),
    );
    let repo = branches(&queue(base_items()), &queue(o), &queue(t), true);
    let run = git(&repo, &repo.root, &["merge", "-q", "--no-edit", "theirs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "runqlint merge-driver: run_queue.json: conflict: item \"r1\" field \"status\": ours \"done\", theirs \"failed\""
        ),
        "{}",
        run.stderr
    );
    let merged = text(&repo);
    let want = "<<<<<<< ours: item \"r1\" field \"status\"\n      \"status\": \"done\"\n=======\n      \"status\": \"failed\"\n>>>>>>> theirs: item \"r1\" field \"status\"\n";
    assert!(merged.contains(want), "{merged}");
    let check = repo.run(&["check", "--format", "json"]);
    assert_eq!(check.code, 1);
    let d = &check.json()["diagnostics"][0];
    assert_eq!(d["rule"], "invalid-json");
    assert_eq!(
        d["line"].as_u64().unwrap(),
        crate::support::line_of(&merged, "<<<<<<<")
    );
    // Either side, picked by hand, is valid JSON holding every item.
    for keep in [0, 1] {
        let resolved = resolve(&merged, keep);
        assert_eq!(ids(&resolved), ["q1", "r1", "d1"]);
    }
}

/// The text with every conflict resolved to ours (0) or theirs (1).
fn resolve(text: &str, keep: usize) -> String {
    let mut out = String::new();
    let mut side: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        if line.starts_with("<<<<<<<") {
            side = Some(0);
        } else if line.starts_with("=======") && side.is_some() {
            side = Some(1);
        } else if line.starts_with(">>>>>>>") {
            side = None;
        } else if side.is_none_or(|s| s == keep) {
            out.push_str(line);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The rules, through the driver's command line
// ---------------------------------------------------------------------------------------

struct Merged {
    run: Run,
    text: String,
}

/// `runqlint merge-driver BASE OURS THEIRS 7 run_queue.json` on files.
fn driver(base: &str, ours: &str, theirs: &str) -> Merged {
    driver_bytes(base.as_bytes(), ours.as_bytes(), theirs.as_bytes(), &[])
}

fn driver_bytes(base: &[u8], ours: &[u8], theirs: &[u8], extra: &[&str]) -> Merged {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("O"), base).unwrap();
    std::fs::write(p("A"), ours).unwrap();
    std::fs::write(p("B"), theirs).unwrap();
    let mut cmd = std::process::Command::new(bin());
    cmd.arg("merge-driver").args(extra).args([
        p("O").to_str().unwrap(),
        p("A").to_str().unwrap(),
        p("B").to_str().unwrap(),
        "7",
        Q,
    ]);
    let run = Run::from(cmd.output().unwrap());
    let text = String::from_utf8_lossy(&std::fs::read(p("A")).unwrap()).into_owned();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 3, "no temporary file left behind");
    Merged { run, text }
}

fn value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn one_item(status: &str, run: Value, extra: Value) -> Value {
    let mut v = item("x", status, extra);
    v["run"] = run;
    v
}

/// Merges one item changed on both sides; returns the merged item (clean merges only).
fn merge_item(b: Value, o: Value, t: Value) -> Value {
    let m = driver(&queue(vec![b]), &queue(vec![o]), &queue(vec![t]));
    assert_eq!(m.run.code, 0, "{:?}\n{}", m.run, m.text);
    value(&m.text)["items"][0].clone()
}

#[test]
fn status_moves_forward_on_the_lattice() {
    let r = json!({"startedAtMs": FEB26_MS});
    let fin = json!({"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 9});
    let cases = [
        ("queued", "running", "queued", "running"),
        ("queued", "running", "stale", "stale"),
        ("running", "running", "done", "done"),
        ("running", "stale", "failed", "failed"),
        ("running", "canceled", "stale", "canceled"),
        ("queued", "done", "running", "done"),
    ];
    for (b, o, t, want) in cases {
        let run_of = |s: &str| {
            if s == "queued" {
                json!({})
            } else if Some(s)
                == ["done", "failed", "canceled"]
                    .iter()
                    .find(|x| **x == s)
                    .copied()
            {
                fin.clone()
            } else {
                r.clone()
            }
        };
        // Give each side a one-sided change as well, so both sides changed the item.
        let got = merge_item(
            one_item(b, run_of(b), json!({})),
            one_item(o, run_of(o), json!({"notes": "ours"})),
            one_item(t, run_of(t), json!({"title": "theirs"})),
        );
        assert_eq!(got["status"], want, "{b} → {o} | {t}");
        assert_eq!(
            (got["notes"].as_str(), got["title"].as_str()),
            (Some("ours"), Some("theirs"))
        );
    }
}

#[test]
fn two_different_terminal_statuses_conflict() {
    let fin = json!({"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 9});
    let m = driver(
        &queue(vec![one_item(
            "running",
            json!({"startedAtMs": FEB26_MS}),
            json!({}),
        )]),
        &queue(vec![one_item("done", fin.clone(), json!({}))]),
        &queue(vec![one_item("canceled", fin, json!({}))]),
    );
    assert_eq!(m.run.code, 1);
    assert_eq!(m.run.stderr.lines().count(), 1, "{}", m.run.stderr);
    assert!(m
        .run
        .stderr
        .contains("field \"status\": ours \"done\", theirs \"canceled\""));
    assert_eq!(value(&resolve(&m.text, 0))["items"][0]["status"], "done");
    assert_eq!(
        value(&resolve(&m.text, 1))["items"][0]["status"],
        "canceled"
    );
}

#[test]
fn the_later_heartbeat_wins_and_completion_keeps_it() {
    let b = one_item(
        "running",
        json!({"startedAtMs": FEB26_MS, "lastHeartbeatAtMs": FEB26_MS + 1}),
        json!({}),
    );
    let o = one_item(
        "running",
        json!({"startedAtMs": FEB26_MS, "lastHeartbeatAtMs": FEB26_MS + 50}),
        json!({}),
    );
    let t = one_item(
        "running",
        json!({"startedAtMs": FEB26_MS, "lastHeartbeatAtMs": FEB26_MS + 30}),
        json!({}),
    );
    assert_eq!(
        merge_item(b.clone(), o.clone(), t.clone())["run"]["lastHeartbeatAtMs"],
        FEB26_MS + 50
    );
    assert_eq!(
        merge_item(b.clone(), t.clone(), o.clone())["run"]["lastHeartbeatAtMs"],
        FEB26_MS + 50
    );
    // Heartbeat on one side, completion on the other: done, with the later heartbeat.
    let done = one_item(
        "done",
        json!({"startedAtMs": FEB26_MS, "lastHeartbeatAtMs": FEB26_MS + 30, "finishedAtMs": FEB26_MS + 40}),
        json!({}),
    );
    let got = merge_item(b, o, done);
    assert_eq!(got["status"], "done");
    assert_eq!(got["run"]["lastHeartbeatAtMs"], FEB26_MS + 50);
    assert_eq!(got["run"]["finishedAtMs"], FEB26_MS + 40);
}

#[test]
fn triage_present_on_one_side_is_kept() {
    let tri =
        json!({"status": "needs_review", "reason": "stale_running", "flaggedAtMs": FEB26_MS + 7});
    let b = one_item("running", json!({"startedAtMs": FEB26_MS}), json!({}));
    let o = one_item(
        "stale",
        json!({"startedAtMs": FEB26_MS}),
        json!({"triage": tri}),
    );
    let t = one_item(
        "failed",
        json!({"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 8}),
        json!({}),
    );
    let got = merge_item(b, o, t);
    assert_eq!(got["status"], "failed");
    assert_eq!(got["triage"], tri);
    // A triage the base had and one side dropped is kept too.
    let with_tri = one_item(
        "stale",
        json!({"startedAtMs": FEB26_MS}),
        json!({"triage": tri}),
    );
    let mut dropped = with_tri.clone();
    dropped.as_object_mut().unwrap().remove("triage");
    let mut noted = with_tri.clone();
    noted["notes"] = json!("looked at it");
    let got = merge_item(with_tri, dropped, noted);
    assert_eq!(got["triage"], tri);
}

#[test]
fn other_fields_changed_differently_conflict_on_that_field_only() {
    let b = item("x", "queued", json!({"title": "base", "notes": "n"}));
    let o = item(
        "x",
        "queued",
        json!({"title": "ours", "notes": "n", "taskIds": ["t"]}),
    );
    let t = item(
        "x",
        "queued",
        json!({"title": "theirs", "notes": "changed"}),
    );
    let m = driver(&queue(vec![b]), &queue(vec![o]), &queue(vec![t]));
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert_eq!(
        m.run.stderr.trim(),
        "runqlint merge-driver: run_queue.json: conflict: item \"x\" field \"title\": ours \"ours\", theirs \"theirs\""
    );
    // One-sided changes are merged outside the markers.
    let ours = value(&resolve(&m.text, 0))["items"][0].clone();
    assert_eq!(
        ours,
        item(
            "x",
            "queued",
            json!({"title": "ours", "notes": "changed", "taskIds": ["t"]})
        )
    );
    let theirs = value(&resolve(&m.text, 1))["items"][0].clone();
    assert_eq!(theirs["title"], "theirs");
    assert_eq!(m.text.matches("<<<<<<<").count(), 1);
    let region = &m.text[m.text.find("<<<<<<<").unwrap()..m.text.find(">>>>>>>").unwrap()];
    assert_eq!(region.lines().count(), 4, "only the title lines: {region}");
}

#[test]
fn added_on_both_sides_equal_once_different_conflict() {
    let base = queue(base_items());
    let same = item("n", "queued", json!({"title": "same"}));
    let m = driver(
        &base,
        &with(base_items(), vec![same.clone()]),
        // Same content, other spelling: still once.
        &serde_json::to_string(&json!({ "items": ([base_items(), vec![same]].concat()) })).unwrap(),
    );
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert_eq!(ids(&m.text), ["q1", "r1", "d1", "n"]);

    let m = driver(
        &base,
        &with(
            base_items(),
            vec![item("n", "queued", json!({"title": "ours"}))],
        ),
        &with(
            base_items(),
            vec![item("n", "queued", json!({"title": "theirs"}))],
        ),
    );
    assert_eq!(m.run.code, 1);
    assert!(
        m.run
            .stderr
            .contains("conflict: item \"n\": ours added, theirs added with different content"),
        "{}",
        m.run.stderr
    );
    assert_eq!(ids(&resolve(&m.text, 0)), ["q1", "r1", "d1", "n"]);
    assert_eq!(value(&resolve(&m.text, 1))["items"][3]["title"], "theirs");
}

#[test]
fn an_item_deleted_on_one_side_and_unchanged_on_the_other_is_deleted() {
    // As a line merge would: the deletion is the only change to the item. The policy (items
    // are never deleted) is the gate's, not the driver's.
    let base = queue(base_items());
    let mut o = base_items();
    o.remove(0);
    let mut t = base_items();
    t.remove(2);
    t.push(item("t1", "queued", json!({})));
    let m = driver(&base, &queue(o), &queue(t));
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert_eq!(ids(&m.text), ["r1", "t1"]);
    assert!(m.run.stderr.is_empty(), "{}", m.run.stderr);
    // Neighbours removed together, at the end, and every item of ours.
    let five: Vec<Value> = (0..5)
        .map(|i| item(&format!("i{i}"), "queued", json!({})))
        .collect();
    let keep = |k: &[usize]| queue(k.iter().map(|&i| five[i].clone()).collect());
    for (ours, theirs, want) in [
        (&[0, 1, 2, 3, 4][..], &[0, 3][..], &["i0", "i3"][..]),
        (&[0, 1, 2, 3, 4], &[0, 1, 2], &["i0", "i1", "i2"]),
        (&[1, 2, 3, 4], &[0, 3, 4], &["i3", "i4"]),
        (&[0, 1, 2, 3, 4], &[], &[]),
    ] {
        let m = driver(&keep(&[0, 1, 2, 3, 4]), &keep(ours), &keep(theirs));
        assert_eq!(m.run.code, 0, "{:?}\n{}", m.run, m.text);
        assert_eq!(ids(&m.text), want, "{}", m.text);
    }
}

#[test]
fn an_item_deleted_on_one_side_and_changed_on_the_other_is_a_conflict() {
    // Git marks a line range deleted on one side and changed on the other as a conflict
    // with one side empty; the driver does the same for the item.
    let mut changed = base_items();
    changed[1] = running(
        "r1",
        FEB26_MS,
        json!({"run": {"lastHeartbeatAtMs": FEB26_MS + 99}}),
    );
    let mut deleted = base_items();
    deleted.remove(1);
    let repo = branches(
        &queue(base_items()),
        &queue(deleted.clone()),
        &queue(changed.clone()),
        true,
    );
    let run = git(&repo, &repo.root, &["merge", "-q", "--no-edit", "theirs"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "runqlint merge-driver: run_queue.json: conflict: item \"r1\": ours deleted, theirs changed"
        ),
        "{}",
        run.stderr
    );
    let merged = text(&repo);
    assert!(
        merged.contains("<<<<<<< ours: item \"r1\"\n=======\n"),
        "{merged}"
    );
    assert_eq!(ids(&resolve(&merged, 0)), ["q1", "d1"]);
    assert_eq!(ids(&resolve(&merged, 1)), ["q1", "r1", "d1"]);
    assert_eq!(value(&resolve(&merged, 1))["items"][1], changed[1]);

    // The other way round, with the item last, and another item deleted cleanly.
    let mut o = base_items();
    o[2]["title"] = json!("ours");
    let t = vec![base_items()[1].clone()];
    let m = driver(&queue(base_items()), &queue(o.clone()), &queue(t));
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert!(
        m.run
            .stderr
            .contains("conflict: item \"d1\": ours changed, theirs deleted"),
        "{}",
        m.run.stderr
    );
    assert_eq!(ids(&resolve(&m.text, 0)), ["r1", "d1"]);
    assert_eq!(value(&resolve(&m.text, 0))["items"][1], o[2]);
    assert_eq!(ids(&resolve(&m.text, 1)), ["r1"]);

    // Nothing of ours left to stand by: the conflict is over the items array.
    let b = vec![item("x", "queued", json!({"title": "b"}))];
    let o = vec![item("x", "queued", json!({"title": "o"}))];
    let t = vec![item("n", "queued", json!({}))];
    let m = driver(&queue(b), &queue(o), &queue(t));
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert!(
        m.text.contains("<<<<<<< ours: member \"items\"\n"),
        "{}",
        m.text
    );
    assert_eq!(ids(&resolve(&m.text, 0)), ["x", "n"]);
    assert_eq!(ids(&resolve(&m.text, 1)), ["n"]);
}

#[test]
fn crlf_and_minified_files_keep_their_style() {
    let base = queue(base_items());
    let crlf = |s: String| s.replace('\n', "\r\n");
    let mut t = base_items();
    t[1]["status"] = json!("stale");
    t[1]["triage"] = json!({"status": "needs_review"});
    let m = driver(
        &crlf(base.clone()),
        &crlf(with(base_items(), vec![item("o1", "queued", json!({}))])),
        &with(
            t.clone(),
            vec![item("t1", "queued", json!({"run": {"attempt": 2}}))],
        ),
    );
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert_eq!(
        m.text.matches('\n').count(),
        m.text.matches("\r\n").count(),
        "{m:?}",
        m = m.text
    );
    assert_eq!(ids(&m.text), ["q1", "r1", "d1", "o1", "t1"]);
    assert_eq!(value(&m.text)["items"][1]["status"], "stale");

    let min = |v: Vec<Value>| serde_json::to_string(&json!({"items": v})).unwrap();
    let m = driver(
        &min(base_items()),
        &min([base_items(), vec![item("o1", "queued", json!({}))]].concat()),
        &with(
            t,
            vec![item("t1", "queued", json!({"run": {"attempt": 2}}))],
        ),
    );
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert!(!m.text.contains('\n'), "still one line: {}", m.text);
    assert!(
        m.text
            .ends_with(r#"{"id":"t1","run":{"attempt":2},"status":"queued"}]}"#),
        "{}",
        m.text
    );

    // A conflict in a minified file breaks lines around the markers only.
    let mut a = base_items();
    a[0]["title"] = json!("a");
    let mut b = base_items();
    b[0]["title"] = json!("b");
    let m = driver(&min(base_items()), &min(a), &min(b));
    assert_eq!(m.run.code, 1);
    assert_eq!(value(&resolve(&m.text, 0))["items"][0]["title"], "a");
    assert_eq!(value(&resolve(&m.text, 1))["items"][0]["title"], "b");
}

#[test]
fn a_top_level_array_merges_and_stays_an_array() {
    let arr = |v: Vec<Value>| crate::support::pretty(&Value::Array(v));
    let m = driver(
        &arr(base_items()),
        &arr([base_items(), vec![item("o1", "queued", json!({}))]].concat()),
        &arr([base_items(), vec![item("t1", "queued", json!({}))]].concat()),
    );
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert!(value(&m.text).is_array());
    assert_eq!(ids(&m.text), ["q1", "r1", "d1", "o1", "t1"]);
    // An array on one side and an object on the other: one conflict, both kept.
    let m = driver(&arr(base_items()), &arr(base_items()), &queue(base_items()));
    assert_eq!(m.run.code, 1);
    assert!(m.run.stderr.contains("the whole file"), "{}", m.run.stderr);
}

#[test]
fn top_level_members_merge_like_fields() {
    let doc = |v: i64, extra: Value| {
        let mut d = json!({"version": v, "items": base_items()});
        d.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        crate::support::pretty(&d)
    };
    let m = driver(
        &doc(1, json!({})),
        &doc(1, json!({"owner": "me"})),
        &doc(2, json!({})),
    );
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert_eq!(value(&m.text)["version"], 2);
    assert_eq!(value(&m.text)["owner"], "me");
    let m = driver(&doc(1, json!({})), &doc(2, json!({})), &doc(3, json!({})));
    assert_eq!(m.run.code, 1);
    assert!(
        m.run
            .stderr
            .contains("top-level member \"version\": ours 2, theirs 3"),
        "{}",
        m.run.stderr
    );
}

/// `git merge-file -p` of the three texts, labelled as the driver labels them: git's own
/// line merge, and whether it left conflicts.
fn line_merge(base: &[u8], ours: &[u8], theirs: &[u8]) -> (Vec<u8>, bool) {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("O"), base).unwrap();
    std::fs::write(p("A"), ours).unwrap();
    std::fs::write(p("B"), theirs).unwrap();
    let out = std::process::Command::new("git")
        .args([
            "merge-file",
            "-p",
            "-L",
            "ours",
            "-L",
            "base",
            "-L",
            "theirs",
        ])
        .args([p("A"), p("O"), p("B")])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    assert!((0..128).contains(&code), "{out:?}");
    (out.stdout, code > 0)
}

#[test]
fn a_side_that_is_not_json_is_merged_line_by_line_as_git_does() {
    let base = queue(base_items());
    let ours = with(base_items(), vec![item("o1", "queued", json!({}))]);
    let broken = "{\"items\": [ {\"id\": \"t1\", \"status\": \"queued\"}, \n";
    let m = driver(&base, &ours, broken);
    assert_eq!(m.run.code, 1, "{:?}", m.run);
    assert!(
        m.run.stderr.contains(
            "note: a version is not JSON; merged line by line as git does without a driver, with conflicts"
        ),
        "{}",
        m.run.stderr
    );
    let (want, conflicted) = line_merge(base.as_bytes(), ours.as_bytes(), broken.as_bytes());
    assert!(conflicted);
    assert_eq!(m.text.as_bytes(), want, "{}", m.text);
    // A side holding conflict markers whose line merge is clean: clean.
    let marked = format!("{ours}<<<<<<< a\n=======\n>>>>>>> b\n");
    let m = driver(&ours, &ours, &marked);
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert_eq!(m.text, marked);
    // Not UTF-8: the line merge too, never a panic.
    let m = driver_bytes(b"\xff\xfe", ours.as_bytes(), b"\xff[", &[]);
    assert_eq!(m.run.code, 1);
    let (want, _) = line_merge(b"\xff\xfe", ours.as_bytes(), b"\xff[");
    assert_eq!(m.text.as_bytes(), String::from_utf8_lossy(&want).as_bytes());
    // Only the base unreadable: merged by item as if both sides added every item.
    let m = driver(
        "<<<<<<< garbage",
        &ours,
        &with(base_items(), vec![item("t1", "queued", json!({}))]),
    );
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert!(m.run.stderr.contains("note: the base version is not JSON"));
    assert_eq!(ids(&m.text), ["q1", "r1", "d1", "o1", "t1"]);
}

#[test]
fn a_version_that_is_not_json_merges_in_git_as_without_the_driver() {
    // Theirs committed a file that is not JSON; both sides retitled q1.
    let mut o = base_items();
    o[0]["title"] = json!("ours");
    let mut t = base_items();
    t[0]["title"] = json!("theirs");
    let theirs = format!("{}<<<<<<< left behind\n", queue(t));
    let plain = branches(&queue(base_items()), &queue(o.clone()), &theirs, false);
    let without = git(&plain, &plain.root, &["merge", "--no-edit", "theirs"]);
    let repo = branches(&queue(base_items()), &queue(o), &theirs, true);
    let with = git(&repo, &repo.root, &["merge", "--no-edit", "theirs"]);
    assert_eq!((with.code, without.code), (1, 1), "{with:?}");
    assert!(with.stderr.contains("merged line by line"), "{with:?}");
    // The same text, labels (git's `%X`/`%Y`) and marker size as git's own merge.
    assert_eq!(text(&repo), text(&plain));
    assert!(text(&repo).contains("<<<<<<< HEAD\n"), "{}", text(&repo));
    assert!(text(&repo).contains(">>>>>>> theirs\n"), "{}", text(&repo));
}

#[test]
fn untrusted_text_is_escaped_on_stderr_and_in_labels() {
    let evil = "x\u{1b}[31m\u{202e}";
    let m = driver(
        &queue(vec![item(evil, "queued", json!({"title": "b"}))]),
        &queue(vec![item(
            evil,
            "queued",
            json!({"title": "o\u{1b}]0;pwn\u{7}"}),
        )]),
        &queue(vec![item(evil, "queued", json!({"title": "t"}))]),
    );
    assert_eq!(m.run.code, 1);
    assert!(
        !m.run.stderr.contains('\u{1b}') && !m.run.stderr.contains('\u{202e}'),
        "{:?}",
        m.run.stderr
    );
    let labels: Vec<&str> = m
        .text
        .lines()
        .filter(|l| l.starts_with("<<<<<<<"))
        .collect();
    assert_eq!(labels.len(), 1);
    assert!(!labels[0].contains('\u{1b}'));
}

#[test]
fn ancestor_mode_settles_conflicts_on_the_base() {
    let b = queue(vec![item("x", "queued", json!({"title": "base"}))]);
    let o = queue(vec![item("x", "queued", json!({"title": "ours"}))]);
    let t = queue(vec![item("x", "queued", json!({"title": "theirs"}))]);
    let m = driver_bytes(b.as_bytes(), o.as_bytes(), t.as_bytes(), &["--ancestor"]);
    assert_eq!(m.run.code, 0, "{:?}", m.run);
    assert_eq!(value(&m.text)["items"][0]["title"], "base");
}

#[test]
fn marker_size_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(
        p("O"),
        queue(vec![item("x", "queued", json!({"title": "b"}))]),
    )
    .unwrap();
    std::fs::write(
        p("A"),
        queue(vec![item("x", "queued", json!({"title": "o"}))]),
    )
    .unwrap();
    std::fs::write(
        p("B"),
        queue(vec![item("x", "queued", json!({"title": "t"}))]),
    )
    .unwrap();
    let out = std::process::Command::new(bin())
        .args(["merge-driver", "O", "A", "B", "9", Q])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(p("A")).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("<<<<<<<<< ours")),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "========="));
    // A missing input is exit 2 and leaves ours alone.
    let out = std::process::Command::new(bin())
        .args(["merge-driver", "missing", "A", "B", "7", Q])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(p("A")).unwrap(), text);
}

// ---------------------------------------------------------------------------------------
// Property: random non-contradictory branch edits merge cleanly, keep every item of both
// sides once, and pass `check` against both parents.
// ---------------------------------------------------------------------------------------

mod prop {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Edit {
        /// Move item `n` one step forward (its times are fixed per item, so both sides agree).
        Advance(usize),
        Heartbeat(usize, i64),
        Add(u8),
        Title(usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (0usize..12).prop_map(Edit::Advance),
            (0usize..12, 1i64..1000).prop_map(|(n, d)| Edit::Heartbeat(n, d)),
            (0u8..6).prop_map(Edit::Add),
            (0usize..12).prop_map(Edit::Title),
        ]
    }

    fn started(n: usize) -> i64 {
        FEB26_MS + n as i64 * 1000
    }

    /// Applies `e`; items added by an edit are never changed again (added on both sides
    /// with different content would be a true contradiction).
    fn apply(items: &mut Vec<Value>, len: usize, e: &Edit, side: &str) {
        match *e {
            Edit::Advance(n) => {
                let it = &mut items[n % len];
                // Decided by the item alone, so both sides walk the same chain of statuses.
                let k = it["id"].as_str().unwrap().len() + n % len;
                let next = match it["status"].as_str().unwrap() {
                    "queued" => "running",
                    "running" if k % 3 == 0 => "stale",
                    "running" | "stale" => {
                        if k % 2 == 0 {
                            "done"
                        } else {
                            "failed"
                        }
                    }
                    _ => return,
                };
                it["status"] = json!(next);
                let s = started(n % len);
                if it.get("run").is_none() {
                    it["run"] = json!({});
                }
                it["run"]["startedAtMs"] = json!(s);
                match next {
                    "stale" => {
                        it["triage"] = json!({"status": "needs_review", "reason": "stale_running"})
                    }
                    "done" | "failed" => it["run"]["finishedAtMs"] = json!(s + 500),
                    _ => {}
                }
            }
            Edit::Heartbeat(n, d) => {
                let it = &mut items[n % len];
                if it["status"] == "running" {
                    let s = it["run"]["startedAtMs"].as_i64().unwrap();
                    it["run"]["lastHeartbeatAtMs"] = json!(s + d);
                }
            }
            Edit::Add(k) => {
                // The same k on both sides adds the same item (equal content).
                let id = format!("new-{k}");
                if !items.iter().any(|i| i["id"] == json!(id)) {
                    items.push(item(&id, "queued", json!({"title": format!("job {k}")})));
                }
            }
            Edit::Title(n) => {
                // Only ours retitles; only theirs writes notes: never contradictory.
                let it = &mut items[n % len];
                if side == "ours" {
                    it["title"] = json!(format!("ours {n}"));
                } else {
                    it["notes"] = json!(format!("theirs {n}"));
                }
            }
        }
    }

    fn base(n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| match i % 3 {
                0 => item(&format!("i{i}"), "queued", json!({})),
                1 => running(&format!("i{i}"), started(i), json!({})),
                _ => item(
                    &format!("i{i}"),
                    "done",
                    json!({"run": {"startedAtMs": started(i), "finishedAtMs": started(i) + 500}}),
                ),
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
        #[test]
        fn random_branch_edits_merge_cleanly_and_keep_every_item(
            n in 1usize..12,
            ours_edits in proptest::collection::vec(edit(), 0..8),
            theirs_edits in proptest::collection::vec(edit(), 0..8),
            style in 0u8..3,
        ) {
            let b = base(n);
            let (mut o, mut t) = (b.clone(), b.clone());
            for e in &ours_edits { apply(&mut o, n, e, "ours"); }
            for e in &theirs_edits { apply(&mut t, n, e, "theirs"); }
            let render = |items: &Vec<Value>| match style {
                0 => queue(items.clone()),
                1 => serde_json::to_string(&json!({"items": items})).unwrap(),
                _ => crate::support::pretty(&Value::Array(items.clone())),
            };
            let repo = Repo::new();
            repo.write(Q, render(&o));
            repo.commit_all("ours");
            repo.git(&["branch", "ours"]);
            repo.write(Q, render(&t));
            repo.git(&["commit", "-qa", "--allow-empty", "--no-verify", "-m", "theirs"]);
            repo.git(&["branch", "theirs"]);
            let m = driver(&render(&b), &render(&o), &render(&t));
            prop_assert_eq!(m.run.code, 0, "{:?}\n{}", m.run, m.text);
            let got = ids(&m.text);
            let unique: BTreeSet<&String> = got.iter().collect();
            prop_assert_eq!(unique.len(), got.len(), "duplicates: {:?}", got);
            let want: BTreeSet<String> = o.iter().chain(t.iter())
                .map(|i| i["id"].as_str().unwrap().to_string()).collect();
            prop_assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), want);
            prop_assert!(m.text.starts_with(&render(&o)[..render(&o).find("\"i0\"").unwrap()]));
            repo.write(Q, &m.text);
            for rev in ["ours", "theirs"] {
                let run = repo.run(&["check", "--now", NOW, "--base", rev, "--format", "json"]);
                prop_assert_eq!(run.code, 0, "check against {}: {}\n{}", rev, run.stdout, m.text);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Against git's own line merge: random edits on both sides (items and members added,
// changed and removed, neighbours and trailing members included). Wherever `git
// merge-file` merges cleanly to valid JSON, the driver merges cleanly to the same items.
// ---------------------------------------------------------------------------------------

mod like_git {
    use super::*;
    use std::collections::BTreeMap;

    /// The number of random cases, and the seed that fixes them.
    const CASES: usize = 200;
    const SEED: u64 = 0x5eed_2026_0020;

    /// splitmix64: the same sequence from the same seed, on every platform.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// A JSON value whose objects keep their members in order (what the edits move).
    #[derive(Debug, Clone, PartialEq)]
    enum J {
        Leaf(Value),
        Obj(Vec<(String, J)>),
    }

    fn render(j: &J, indent: usize, out: &mut String) {
        match j {
            J::Leaf(v) => out.push_str(&serde_json::to_string(v).unwrap()),
            J::Obj(m) if m.is_empty() => out.push_str("{}"),
            J::Obj(m) => {
                out.push('{');
                for (n, (k, v)) in m.iter().enumerate() {
                    out.push_str(if n == 0 { "\n" } else { ",\n" });
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(&format!("{}: ", json!(k)));
                    render(v, indent + 2, out);
                }
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                out.push('}');
            }
        }
    }

    fn document(items: &[Vec<(String, J)>]) -> String {
        let list: Vec<J> = items.iter().map(|m| J::Obj(m.clone())).collect();
        let mut out = String::from("{\n  \"version\": 1,\n  \"items\": [");
        for (n, it) in list.iter().enumerate() {
            out.push_str(if n == 0 { "\n    " } else { ",\n    " });
            render(it, 4, &mut out);
        }
        out.push_str(if list.is_empty() {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        });
        out
    }

    /// Item `k` (id `id`): every line that holds a value holds one of this item's own, so
    /// git's line merge cannot take one item's lines for another's.
    fn base_item(rng: &mut Rng, k: usize, id: &str) -> Vec<(String, J)> {
        let leaf = |v: Value| J::Leaf(v);
        let status = ["queued", "running", "done"][rng.below(3)];
        let at = FEB26_MS + k as i64 * 1000;
        let mut run = vec![
            ("startedAtMs".to_string(), leaf(json!(at))),
            ("attempt".to_string(), leaf(json!(k + 1))),
        ];
        if rng.below(2) == 0 {
            run.push(("lastHeartbeatAtMs".into(), leaf(json!(at + 50))));
        }
        let mut m = vec![
            ("id".to_string(), leaf(json!(id))),
            ("status".to_string(), leaf(json!(status))),
            ("title".to_string(), leaf(json!(format!("job {id}")))),
            ("run".to_string(), J::Obj(run)),
        ];
        for (key, v) in [
            ("notes", json!(format!("notes of {id}"))),
            ("taskIds", json!([format!("task of {id}")])),
            ("owner", json!(format!("owner of {id}"))),
        ] {
            if rng.below(3) > 0 {
                m.push((key.to_string(), leaf(v)));
            }
        }
        m
    }

    /// One random edit by `side` (`o` or `t`); `serial` makes every new key, id and value
    /// this side's own.
    fn edit(rng: &mut Rng, items: &mut Vec<Vec<(String, J)>>, side: &str, serial: &mut usize) {
        *serial += 1;
        let tag = format!("{side}{serial}");
        if items.is_empty() || rng.below(8) == 0 {
            let at = rng.below(items.len() + 1);
            let k = 100 + *serial + if side == "o" { 0 } else { 50 };
            let it = base_item(rng, k, &format!("new-{tag}"));
            items.insert(at, it);
            return;
        }
        let i = rng.below(items.len());
        match rng.below(9) {
            // Remove an item, or it and its neighbour.
            0 => {
                items.remove(i);
            }
            1 => {
                let n = 2.min(items.len() - i);
                items.drain(i..i + n);
            }
            // Change a member of the item or of its `run`.
            2 | 3 => {
                let it = &mut items[i];
                if it.len() < 2 {
                    return;
                }
                let id = it_id(&it[0].1);
                let k = 1 + rng.below(it.len() - 1);
                let (key, v) = &mut it[k];
                match v {
                    J::Obj(run) if !run.is_empty() => {
                        let r = rng.below(run.len());
                        let salt = id.bytes().map(i64::from).sum::<i64>();
                        let side = if side == "o" { 0 } else { 500_000 };
                        run[r].1 =
                            J::Leaf(json!(FEB26_MS + 1_000_000 * *serial as i64 + side + salt));
                    }
                    _ if key == "status" => {
                        *v = J::Leaf(json!(["running", "done", "failed", "stale"][rng.below(4)]))
                    }
                    _ => *v = J::Leaf(json!(format!("{tag} {id}"))),
                }
            }
            // Remove one member, two neighbours, or the last two (never the id).
            4 | 5 => {
                let it = &mut items[i];
                if it.len() < 2 {
                    return;
                }
                let n = 1 + rng.below(2);
                let start = if rng.below(2) == 0 {
                    it.len().saturating_sub(n).max(1)
                } else {
                    1 + rng.below(it.len() - 1)
                };
                let end = (start + n).min(it.len());
                it.drain(start..end);
            }
            // Remove the trailing members of `run`.
            6 => {
                if let Some((_, J::Obj(run))) = items[i].iter_mut().find(|(k, _)| k == "run") {
                    let n = (1 + rng.below(2)).min(run.len());
                    run.truncate(run.len() - n);
                }
            }
            // Add a member at the end of the item or of its `run`.
            _ => {
                let it = &mut items[i];
                let in_run = rng.below(2) == 0;
                match it.iter_mut().find(|(k, _)| k == "run") {
                    Some((_, J::Obj(run))) if in_run => {
                        run.push((format!("x{tag}"), J::Leaf(json!(*serial))))
                    }
                    _ => it.push((format!("x{tag}"), J::Leaf(json!(tag)))),
                }
            }
        }
    }

    fn it_id(j: &J) -> String {
        match j {
            J::Leaf(Value::String(s)) => s.clone(),
            _ => String::new(),
        }
    }

    /// The items of a merged text by id: `None` when it is not JSON or repeats an id.
    fn by_id(text: &[u8]) -> Option<BTreeMap<String, Value>> {
        let v: Value = serde_json::from_slice(text).ok()?;
        let mut out = BTreeMap::new();
        for it in v.get("items")?.as_array()? {
            let id = it.get("id")?.as_str()?.to_string();
            if out.insert(id, it.clone()).is_some() {
                return None;
            }
        }
        Some(out)
    }

    #[test]
    fn where_git_merges_cleanly_the_driver_merges_the_same_items() {
        let mut rng = Rng(SEED);
        let (mut compared, mut conflicted_in_git) = (0, 0);
        for case in 0..CASES {
            let n = 1 + rng.below(6);
            let base: Vec<_> = (0..n)
                .map(|k| base_item(&mut rng, k, &format!("i{k}")))
                .collect();
            let (mut o, mut t) = (base.clone(), base.clone());
            let (mut so, mut st) = (0, 0);
            for _ in 0..1 + rng.below(3) {
                edit(&mut rng, &mut o, "o", &mut so);
            }
            for _ in 0..1 + rng.below(3) {
                edit(&mut rng, &mut t, "t", &mut st);
            }
            let (b, o, t) = (document(&base), document(&o), document(&t));
            let (git_out, conflicted) = line_merge(b.as_bytes(), o.as_bytes(), t.as_bytes());
            if conflicted {
                conflicted_in_git += 1;
                continue;
            }
            let Some(want) = by_id(&git_out) else {
                continue;
            };
            compared += 1;
            let m = driver(&b, &o, &t);
            let why = || {
                format!(
                    "case {case}\n--- base\n{b}--- ours\n{o}--- theirs\n{t}--- git\n{}--- driver {:?}\n{}",
                    String::from_utf8_lossy(&git_out),
                    m.run,
                    m.text
                )
            };
            assert_eq!(m.run.code, 0, "{}", why());
            assert_eq!(by_id(m.text.as_bytes()).as_ref(), Some(&want), "{}", why());
        }
        // The comparison is not vacuous: most cases are clean in git, and some are not.
        assert!(compared >= CASES / 4, "only {compared} of {CASES} compared");
        assert!(conflicted_in_git > 0);
    }
}
