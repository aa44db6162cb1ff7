//! `runqlint log` and `runqlint audit` on real repositories with scripted histories.
//!
//! Commits are made by the git CLI with pinned dates, so their ids (and the snapshot) are
//! the same on every run.

use serde_json::{json, Value};

use crate::support::*;

/// 2026-11-20T10:00:00Z, the first commit's time.
const T0_MS: i64 = 1_795_168_800_000;

/// A repository whose commits are made one minute apart from T0.
struct History {
    repo: Repo,
    minute: i64,
}

impl History {
    fn new() -> History {
        History {
            repo: Repo::new(),
            minute: 0,
        }
    }

    fn date(&self) -> String {
        let ms = T0_MS + self.minute * 60_000;
        format!("@{} +0000", ms / 1000)
    }

    /// `git ARGS` with this history's clock (for commit, merge).
    fn git_at(&mut self, args: &[&str]) -> String {
        self.minute += 1;
        let date = self.date();
        let out = self
            .repo
            .git_cmd(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.head()
    }

    fn head(&self) -> String {
        self.repo.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Writes the queue at `rel` and commits everything; returns the commit id.
    fn commit_queue(&mut self, rel: &str, items: Vec<Value>, message: &str) -> String {
        self.repo.write(rel, queue(items));
        self.repo.git(&["add", "-A"]);
        self.git_at(&["commit", "-q", "--no-verify", "-m", message])
    }

    fn commit(&mut self, items: Vec<Value>, message: &str) -> String {
        self.commit_queue(Q, items, message)
    }

    fn log(&self, args: &[&str]) -> Run {
        let mut all = vec!["log"];
        all.extend_from_slice(args);
        self.repo.run(&all)
    }

    fn log_json(&self, id: &str, more: &[&str]) -> Value {
        let mut args = vec![id, "--format", "json"];
        args.extend_from_slice(more);
        let run = self.log(&args);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        run.json()
    }

    fn audit(&self, args: &[&str]) -> Run {
        let mut all = vec!["audit"];
        all.extend_from_slice(args);
        self.repo.run(&all)
    }

    /// `(rule, commit, item)` of every finding of `audit --format json`.
    fn blamed(&self, args: &[&str]) -> Vec<(String, String, Option<String>)> {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let run = self.audit(&all);
        assert!(
            run.code == 0 || run.code == 1,
            "{}{}",
            run.stdout,
            run.stderr
        );
        run.json()["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["rule"].as_str().unwrap().to_string(),
                    d["commit"].as_str().unwrap().to_string(),
                    d["itemId"].as_str().map(str::to_string),
                )
            })
            .collect()
    }
}

fn at(minutes: i64) -> i64 {
    T0_MS + minutes * 60_000
}

fn queued(id: &str) -> Value {
    json!({"id": id, "status": "queued", "createdAtMs": at(-60), "title": format!("task {id}")})
}

fn running(id: &str, started: i64) -> Value {
    json!({"id": id, "status": "running", "createdAtMs": at(-60), "title": format!("task {id}"),
           "run": {"startedAtMs": at(started), "lastHeartbeatAtMs": at(started)}})
}

fn finished(id: &str, status: &str, started: i64, ended: i64) -> Value {
    json!({"id": id, "status": status, "createdAtMs": at(-60), "title": format!("task {id}"),
           "run": {"startedAtMs": at(started), "lastHeartbeatAtMs": at(started), "finishedAtMs": at(ended)}})
}

/// `(commit, kind, previousStatus, status)` of each event.
fn events(log: &Value) -> Vec<(String, String, Value, Value)> {
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["commit"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
                e["previousStatus"].clone(),
                e["status"].clone(),
            )
        })
        .collect()
}

/// The changed fields of event `n`, as `field: old -> new`.
fn changes(log: &Value, n: usize) -> Vec<String> {
    log["events"][n]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}: {} -> {}",
                c["field"].as_str().unwrap(),
                c["old"],
                c["new"]
            )
        })
        .collect()
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

#[test]
fn log_lists_each_change_of_the_item_deleted_and_readded() {
    let mut h = History::new();
    let c1 = h.commit(vec![queued("a"), queued("b")], "add a and b");
    let c2 = h.commit(vec![running("a", 2), queued("b")], "start a");
    // b changes, a does not: no event for a.
    let mut b = queued("b");
    b["title"] = json!("renamed b");
    h.commit(vec![running("a", 2), b.clone()], "retitle b");
    let c4 = h.commit(vec![finished("a", "done", 2, 4), b.clone()], "a done");
    let c5 = h.commit(vec![b.clone()], "drop a");
    let c6 = h.commit(vec![b, queued("a")], "queue a again");

    let log = h.log_json("a", &[]);
    assert_eq!(log["version"], 1);
    assert_eq!(log["id"], "a");
    assert_eq!(log["path"], Q);
    assert_eq!(
        events(&log),
        vec![
            (c1.clone(), "added".into(), Value::Null, s("queued")),
            (c2.clone(), "changed".into(), s("queued"), s("running")),
            (c4.clone(), "changed".into(), s("running"), s("done")),
            (c5.clone(), "removed".into(), s("done"), Value::Null),
            (c6.clone(), "added".into(), Value::Null, s("queued")),
        ]
    );
    assert_eq!(
        changes(&log, 1),
        vec![
            "status: \"queued\" -> \"running\"".to_string(),
            format!(
                "run: null -> {{\"lastHeartbeatAtMs\":{},\"startedAtMs\":{}}}",
                at(2),
                at(2)
            ),
        ]
    );
    assert_eq!(
        changes(&log, 2),
        vec![
            format!("run.finishedAtMs: null -> {}", at(4)),
            "status: \"running\" -> \"done\"".to_string(),
        ]
    );
    let e = &log["events"][0];
    assert_eq!(e["author"], "Runq Tester <tester@example.invalid>");
    assert_eq!(e["subject"], "add a and b");
    assert_eq!(e["date"], "2026-11-20T10:01:00Z");
    assert_eq!(e["receipt"], Value::Null);

    // The two most recent events, still oldest first.
    let last_two = h.log_json("a", &["--max-count", "2"]);
    assert_eq!(
        events(&last_two).iter().map(|e| &e.0).collect::<Vec<_>>(),
        vec![&c5, &c6]
    );
    // Only what is not reachable from c2.
    let since = h.log_json("a", &["--since", &c2]);
    assert_eq!(
        events(&since).iter().map(|e| &e.0).collect::<Vec<_>>(),
        vec![&c4, &c5, &c6]
    );

    // audit: the deletion is the one error, at the commit that made it.
    assert_eq!(
        h.blamed(&[]),
        vec![("item-deleted".to_string(), c5, Some("a".to_string()))]
    );
    assert_eq!(h.audit(&[]).code, 1);
}

#[test]
fn unknown_id_is_exit_1_with_one_line() {
    let mut h = History::new();
    h.commit(vec![queued("a")], "add a");
    for format in ["human", "json"] {
        let run = h.log(&["nope", "--format", format]);
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(
            run.stderr,
            "runqlint: no item with id \"nope\" in the history of run_queue.json\n"
        );
    }
    // A path never committed is a reason (exit 2), not an unknown id.
    let run = h.log(&["a", "other.json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        "runqlint: error: other.json: not in the history of HEAD\n"
    );
}

#[test]
fn a_rename_is_followed_and_blamed_under_the_old_name() {
    let mut h = History::new();
    let c1 = h.commit(vec![queued("a"), queued("b")], "add");
    let c2 = h.commit(vec![finished("a", "done", 1, 2), queued("b")], "a done");
    let c3 = h.commit(vec![queued("a"), queued("b")], "a queued again");
    // Renamed and edited in one commit (git's rename detection pairs them), then edited.
    h.repo.git(&["mv", Q, "queues-main.json"]);
    let c4 = h.commit_queue(
        "queues-main.json",
        vec![queued("a"), running("b", 4)],
        "move the queue, start b",
    );
    let c5 = h.commit_queue(
        "queues-main.json",
        vec![queued("a"), finished("b", "failed", 4, 5)],
        "b failed",
    );

    let log = h.log_json("a", &["queues-main.json"]);
    assert_eq!(
        events(&log),
        vec![
            (c1.clone(), "added".into(), Value::Null, s("queued")),
            (c2.clone(), "changed".into(), s("queued"), s("done")),
            (c3.clone(), "changed".into(), s("done"), s("queued")),
        ]
    );
    assert_eq!(log["events"][0]["path"], Q);
    let log = h.log_json("b", &["queues-main.json"]);
    assert_eq!(
        events(&log),
        vec![
            (c1, "added".into(), Value::Null, s("queued")),
            (c4.clone(), "changed".into(), s("queued"), s("running")),
            (c5, "changed".into(), s("running"), s("failed")),
        ]
    );
    assert_eq!(log["events"][1]["path"], "queues-main.json");

    let run = h.audit(&["queues-main.json", "--format", "json"]);
    assert_eq!(run.code, 1);
    let d = &run.json()["diagnostics"];
    assert_eq!(d.as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d[0]["rule"], "terminal-status-changed");
    assert_eq!(d[0]["commit"], c3.as_str());
    assert_eq!(
        d[0]["path"], Q,
        "located in that commit's version, by its name there"
    );
    assert_eq!(d[0]["itemId"], "a");
    let _ = c4;
}

#[test]
fn merges_are_blamed_only_for_what_they_decided() {
    let mut h = History::new();
    let items = |a: Value, b: Value, c: Value, extra: Vec<Value>| {
        let mut v = vec![a, b, c];
        v.extend(extra);
        v
    };
    let c1 = h.commit(items(queued("a"), queued("b"), queued("c"), vec![]), "base");
    // A branch: a duplicate id (single-file), and b started.
    h.repo.git(&["checkout", "-q", "-b", "feature"]);
    let f1 = h.commit(
        items(
            queued("a"),
            queued("b"),
            queued("c"),
            vec![queued("d"), queued("d")],
        ),
        "add d twice",
    );
    let f2 = h.commit(
        items(
            queued("a"),
            running("b", 3),
            queued("c"),
            vec![queued("d"), queued("d")],
        ),
        "start b",
    );
    // Main: a started.
    h.repo.git(&["checkout", "-q", "main"]);
    let m1 = h.commit(
        items(running("a", 4), queued("b"), queued("c"), vec![]),
        "start a",
    );
    // A clean merge brings both sides: nothing is its own doing.
    let m2 = h.git_at(&["merge", "-q", "--no-edit", "feature"]);
    assert_eq!(
        h.repo
            .git(&["rev-list", "--parents", "-n1", "HEAD"])
            .split_whitespace()
            .count(),
        3
    );

    // Another branch finishes c; main fails it; the merge resolves c to `done`, which
    // undoes main's `failed` (a terminal status changed by the merge itself).
    let merged = serde_json::from_slice::<Value>(&h.repo.read(Q)).unwrap()["items"]
        .as_array()
        .unwrap()
        .clone();
    let with_c = |c: Value| {
        let mut v = merged.clone();
        v[2] = c;
        v
    };
    h.repo.git(&["checkout", "-q", "-b", "other"]);
    let o1 = h.commit(with_c(finished("c", "done", 6, 7)), "c done");
    h.repo.git(&["checkout", "-q", "main"]);
    let m3 = h.commit(with_c(finished("c", "failed", 6, 8)), "c failed");
    let out = h
        .repo
        .git_cmd(&["merge", "-q", "--no-edit", "other"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the two sides conflict on c");
    h.repo.write(Q, queue(with_c(finished("c", "done", 6, 7))));
    h.repo.git(&["add", Q]);
    let m4 = h.git_at(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "merge other: keep done",
    ]);

    // An evil merge: a third branch and main both leave a alone; the merge deletes it.
    h.repo.git(&["checkout", "-q", "-b", "third"]);
    let mut v = with_c(finished("c", "done", 6, 7));
    v.push(queued("e"));
    let t1 = h.commit(v.clone(), "add e");
    h.repo.git(&["checkout", "-q", "main"]);
    let mut w = with_c(finished("c", "done", 6, 7));
    w[1] = finished("b", "done", 3, 11);
    let m5 = h.commit(w.clone(), "b done");
    let out = h
        .repo
        .git_cmd(&["merge", "-q", "--no-commit", "third"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut evil = w.clone();
    evil.push(queued("e"));
    evil.remove(0);
    h.repo.write(Q, queue(evil));
    h.repo.git(&["add", Q]);
    let m6 = h.git_at(&["commit", "-q", "--no-verify", "-m", "merge third, drop a"]);

    let blamed = h.blamed(&[]);
    assert_eq!(
        blamed,
        vec![
            (
                "duplicate-id".to_string(),
                f1.clone(),
                Some("d".to_string())
            ),
            (
                "terminal-status-changed".to_string(),
                m4.clone(),
                Some("c".to_string())
            ),
            (
                "item-deleted".to_string(),
                m6.clone(),
                Some("a".to_string())
            ),
        ]
    );

    // log: the branch's change is the branch's event; the merges that decided show theirs.
    let log_b = h.log_json("b", &[]);
    assert_eq!(
        events(&log_b)
            .iter()
            .map(|e| e.0.clone())
            .collect::<Vec<_>>(),
        vec![c1.clone(), f2.clone(), m5.clone()]
    );
    let log_c = h.log_json("c", &[]);
    let ev = events(&log_c);
    assert_eq!(ev[0].0, c1);
    let tail: Vec<(String, Value, Value)> = ev[1..]
        .iter()
        .map(|e| (e.0.clone(), e.2.clone(), e.3.clone()))
        .collect();
    assert_eq!(tail.len(), 3, "{ev:?}");
    assert!(tail.contains(&(o1, s("queued"), s("done"))));
    assert!(tail.contains(&(m3, s("queued"), s("failed"))));
    assert_eq!(
        tail[2],
        (m4, s("failed"), s("done")),
        "the resolution is last"
    );
    let log_a = h.log_json("a", &[]);
    assert_eq!(
        events(&log_a),
        vec![
            (c1, "added".into(), Value::Null, s("queued")),
            (m1, "changed".into(), s("queued"), s("running")),
            (m6, "removed".into(), s("running"), Value::Null),
        ]
    );
    let _ = (m2, t1);
}

#[test]
fn an_invalid_version_is_blamed_once_and_says_nothing_about_items() {
    let mut h = History::new();
    let c1 = h.commit(vec![queued("a"), queued("b")], "add");
    h.repo.write(
        Q,
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"\n",
    );
    h.repo.git(&["add", Q]);
    let c2 = h.git_at(&["commit", "-q", "--no-verify", "-m", "truncated"]);
    let c3 = h.commit(vec![queued("a"), running("b", 3)], "repaired, b started");
    let c4 = h.commit(vec![running("a", 4), running("b", 3)], "a started");

    let run = h.audit(&["--format", "json"]);
    assert_eq!(run.code, 1);
    let d = run.json()["diagnostics"].clone();
    assert_eq!(d.as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d[0]["rule"], "invalid-json");
    assert_eq!(d[0]["commit"], c2.as_str());
    assert_eq!(
        (d[0]["line"].as_u64(), d[0]["column"].as_u64()),
        (Some(3), Some(1))
    );

    // b is not spelled in the broken version, a is but cannot be read: neither has an
    // event there.
    let log = h.log_json("b", &[]);
    assert_eq!(
        events(&log),
        vec![
            (c1.clone(), "added".into(), Value::Null, s("queued")),
            (c3, "changed".into(), s("queued"), s("running")),
        ]
    );
    let log = h.log_json("a", &[]);
    assert_eq!(
        events(&log),
        vec![
            (c1, "added".into(), Value::Null, s("queued")),
            (c4, "changed".into(), s("queued"), s("running")),
        ]
    );
}

#[test]
fn audit_formats_carry_the_commit_and_since_limits_the_walk() {
    let mut h = History::new();
    let c1 = h.commit(vec![queued("a"), queued("a")], "two a");
    let c2 = h.commit(vec![queued("a"), queued("a"), queued("b")], "add b");
    let c3 = h.commit(
        vec![queued("a"), queued("a"), queued("b"), queued("b")],
        "two b",
    );
    assert_eq!(
        h.blamed(&[]),
        vec![
            (
                "duplicate-id".to_string(),
                c1.clone(),
                Some("a".to_string())
            ),
            (
                "duplicate-id".to_string(),
                c3.clone(),
                Some("b".to_string())
            ),
        ]
    );
    // Since c2: c1's finding was already there.
    assert_eq!(
        h.blamed(&["--since", &c2]),
        vec![(
            "duplicate-id".to_string(),
            c3.clone(),
            Some("b".to_string())
        )]
    );
    assert_eq!(h.blamed(&["--since", &c3]), vec![]);
    assert_eq!(h.audit(&["--since", &c3]).code, 0);

    let github = h.audit(&["--format", "github"]);
    assert_eq!(github.code, 1);
    assert!(
        github.stdout.contains(&format!(
            "run_queue.json:11:13: error [duplicate-id] (commit {}) ",
            &c1[..12]
        )),
        "{}",
        github.stdout
    );
    assert!(github.stdout.contains(&format!(
        "title=runqlint duplicate-id (commit {})::",
        &c3[..12]
    )));

    let sarif = h.audit(&["--format", "sarif"]);
    let v: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let commits: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["commit"].as_str().unwrap())
        .collect();
    assert_eq!(commits, vec![c1.as_str(), c3.as_str()]);

    let bad = h.audit(&["--since", "no-such-rev"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr,
        "runqlint: error: --since: `no-such-rev` is not a commit in this repository\n"
    );
}

#[test]
fn log_and_audit_never_write() {
    let mut h = History::new();
    h.commit(vec![queued("a")], "add");
    h.commit(vec![running("a", 2)], "start");
    let before = h.repo.git(&["status", "--porcelain", "--ignored"]);
    let refs = h.repo.git(&["for-each-ref"]);
    let objects = h.repo.git(&["count-objects", "-v"]);
    assert_eq!(h.log(&["a"]).code, 0);
    assert_eq!(h.audit(&[]).code, 0);
    assert_eq!(h.repo.git(&["status", "--porcelain", "--ignored"]), before);
    assert_eq!(h.repo.git(&["for-each-ref"]), refs);
    assert_eq!(h.repo.git(&["count-objects", "-v"]), objects);
}

#[test]
fn human_output_reads_in_a_terminal() {
    let mut h = History::new();
    h.commit(
        vec![queued("task-7"), queued("task-8")],
        "queue task-7 and task-8",
    );
    h.commit(
        vec![running("task-7", 2), queued("task-8")],
        "dispatch task-7",
    );
    h.commit(
        vec![finished("task-7", "done", 2, 3), queued("task-8")],
        "task-7 done",
    );
    h.commit(
        vec![queued("task-7"), queued("task-8")],
        "retry task-7 in place",
    );
    let log = h.log(&["task-7"]);
    assert_eq!(log.code, 0, "{}", log.stderr);
    insta::assert_snapshot!("history_log_human", log.stdout);
    let audit = h.audit(&[]);
    assert_eq!(audit.code, 1, "{}", audit.stderr);
    insta::assert_snapshot!("history_audit_human", audit.stdout);
}

#[test]
fn a_fix_commit_shows_its_receipt() {
    let mut h = History::new();
    h.commit(vec![queued("a"), queued("b")], "add");
    h.commit(vec![running("a", 2), queued("b")], "start a");
    // Days later a is silent: the real `fix` marks it failed and commits with a receipt.
    let run = fix(
        &h.repo,
        &["--run-id", "r-42", "--artifact", "logs/fix-42.md"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fixed = h.head();
    let backup = h.repo.git(&["show", "-s", "--format=%B", "HEAD"]);
    let backup = backup
        .lines()
        .find_map(|l| l.strip_prefix("Backup: "))
        .expect("the receipt names its backup")
        .to_string();
    assert!(backup.starts_with("run_queue.backup."), "{backup}");

    let log = h.log_json("a", &[]);
    let ev = events(&log);
    assert_eq!(ev.len(), 3, "{log}");
    assert_eq!(
        ev[2],
        (fixed.clone(), "changed".into(), s("running"), s("failed"))
    );
    let e = &log["events"][2];
    assert!(e["subject"].as_str().unwrap().starts_with("runqlint fix: "));
    assert_eq!(
        e["receipt"],
        json!({
            "runId": "r-42",
            "backup": backup,
            "artifact": "logs/fix-42.md",
            "repaired": ["a"],
            "heartbeats": [],
            "requeued": [],
        })
    );
    let fields: Vec<&str> = e["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"status") && fields.contains(&"triage"),
        "{fields:?}"
    );
    // Events of ordinary commits carry no receipt; b never changed after it was added.
    assert_eq!(log["events"][1]["receipt"], Value::Null);
    assert_eq!(events(&h.log_json("b", &[])).len(), 1);
    let human = h.log(&["a"]);
    assert!(
        human.stdout.contains(&format!(
            "  receipt: run r-42, backup {backup}, artifact logs/fix-42.md\n"
        )),
        "{}",
        human.stdout
    );
    // The repair itself breaks no rule.
    assert!(h.blamed(&[]).iter().all(|(_, commit, _)| *commit != fixed));
}

#[test]
fn a_version_that_is_a_symbolic_link_is_read_as_no_file() {
    for dir in ["", "sub/"] {
        // A repository each: in one, `git log --follow` would follow sub/'s first version
        // back to the top one as a copy.
        let mut h = History::new();
        let path = format!("{dir}{Q}");
        let c1 = h.commit_queue(&path, vec![queued("a"), finished("t", "done", 1, 2)], "add");
        // The queue becomes a link to a valid queue elsewhere; git records the link.
        h.repo
            .write(&format!("{dir}elsewhere.json"), queue(vec![queued("a")]));
        std::fs::remove_file(h.repo.root.join(&path)).unwrap();
        std::os::unix::fs::symlink("elsewhere.json", h.repo.root.join(&path)).unwrap();
        h.repo.git(&["add", "-A"]);
        let c2 = h.git_at(&["commit", "-q", "--no-verify", "-m", "link"]);
        std::fs::remove_file(h.repo.root.join(&path)).unwrap();
        // Back to a regular file, where `t` is queued again: after no file, it is new.
        let c3 = h.commit_queue(&path, vec![queued("a"), queued("t")], "file again");

        let note = format!(
            "runqlint: note: {path} is a symbolic link in commit {}, not a queue: read as no file there\n",
            &c2[..12]
        );
        let run = h.audit(&["--format", "json", &path]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_eq!(run.json()["diagnostics"], json!([]));
        assert_eq!(run.stderr, note);

        let run = h.log(&["a", &path, "--format", "json"]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert_eq!(run.stderr, note);
        assert_eq!(
            events(&run.json()),
            vec![
                (c1, "added".into(), Value::Null, s("queued")),
                (c2, "removed".into(), s("queued"), Value::Null),
                (c3, "added".into(), Value::Null, s("queued")),
            ]
        );
    }
}

#[test]
fn a_version_over_the_size_limit_stops_log_and_audit_with_one_line() {
    let mut h = History::new();
    let big: Vec<Value> = (0..40).map(|i| queued(&format!("item-{i:02}"))).collect();
    h.commit(big, "many items");
    h.commit(vec![queued("item-00")], "few items");
    h.repo.write("runqlint.toml", "max-file-size = \"1KiB\"\n");
    let limit = format!("{Q} in ");
    for run in [h.audit(&["--format", "json"]), h.log(&["item-00"])] {
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert_eq!(run.stdout, "");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(&limit), "{}", run.stderr);
        assert!(
            run.stderr
                .contains("bytes is over the limit of 1024 (`max-file-size` in runqlint.toml)"),
            "{}",
            run.stderr
        );
    }
}

/// The `Author:` line `git log` prints for `commit` in `dir`, as it prints it (its own
/// layout, its own mailmap decision).
fn git_log_author(repo: &Repo, dir: &std::path::Path, commit: &str) -> String {
    let out = repo
        .git_cmd(&["log", "-1", "--no-color", commit])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("Author: "))
        .expect("git log prints an author")
        .to_string()
}

#[test]
fn a_shallow_clone_says_where_its_history_is_cut() {
    let mut h = History::new();
    let dup = || vec![queued("d"), queued("d")];
    let with = |a: Value, b: Value| {
        let mut v = vec![a, b];
        v.extend(dup());
        v
    };
    // duplicate-id from the start; b done, then queued again at c3 (a history finding);
    // e deleted at c4.
    let c1 = h.commit(with(queued("a"), finished("b", "done", 1, 2)), "add");
    let c2 = h.commit(
        with(running("a", 2), finished("b", "done", 1, 2)),
        "start a",
    );
    let mut items = with(running("a", 2), queued("b"));
    items.push(queued("e"));
    let c3 = h.commit(items, "b queued again, add e");
    let c4 = h.commit(
        with(finished("a", "done", 2, 4), queued("b")),
        "a done, drop e",
    );

    let full = h.blamed(&[]);
    assert_eq!(
        full,
        vec![
            (
                "duplicate-id".to_string(),
                c1.clone(),
                Some("d".to_string())
            ),
            (
                "terminal-status-changed".to_string(),
                c3.clone(),
                Some("b".to_string())
            ),
            (
                "item-deleted".to_string(),
                c4.clone(),
                Some("e".to_string())
            ),
        ]
    );

    // Two commits deep: git has c4 and c3, and shows c3 without its parent.
    let clone = h.repo.scratch().join("shallow");
    let url = format!("file://{}", h.repo.root.display());
    h.repo
        .git(&["clone", "-q", "--depth", "2", &url, clone.to_str().unwrap()]);
    let in_clone = |args: &[&str]| {
        let out = h.repo.git_cmd(args).current_dir(&clone).output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        in_clone(&["rev-parse", "--is-shallow-repository"]),
        "true\n"
    );
    let shallow = std::fs::read_to_string(clone.join(".git/shallow")).unwrap();
    assert_eq!(shallow.trim(), c3, "git cut the history at c3");
    assert_eq!(
        in_clone(&["log", "--format=%H %P", "--", Q]),
        format!("{c4} {c3}\n{c3} \n"),
        "git shows c3 as a commit without parents"
    );

    let note = |extra: &str| {
        format!(
            "runqlint: note: the history of {Q} is cut at {} (shallow clone: the commits before it were not fetched){extra}; `git fetch --unshallow` fetches the rest\n",
            &c3[..12]
        )
    };
    // log: a is already there at the cut, not "added" there.
    let run = h.repo.run_in(&clone, &["log", "a", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, note(""));
    let log = run.json();
    assert_eq!(
        events(&log),
        vec![
            (c3.clone(), "present".into(), Value::Null, s("running")),
            (c4.clone(), "changed".into(), s("running"), s("done")),
        ]
    );
    assert_eq!(log["historyCut"], json!([{"commit": c3, "path": Q}]));
    let human = h.repo.run_in(&clone, &["log", "a"]);
    assert!(
        human.stdout.contains(&format!(
            "  present as running when the history starts (shallow clone: history before {} not fetched)\n",
            &c3[..12]
        )),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains("added"), "{}", human.stdout);
    // Even an item the cut commit itself added is only known to be there: git cannot say
    // whether c3 added it.
    let e = h.repo.run_in(&clone, &["log", "e", "--format", "json"]);
    assert_eq!(e.code, 0, "{}", e.stderr);
    assert_eq!(
        events(&e.json()),
        vec![
            (c3.clone(), "present".into(), Value::Null, s("queued")),
            (c4.clone(), "removed".into(), s("queued"), Value::Null),
        ]
    );

    // audit: nothing is blamed on c3, whose parent git does not have; c4 is judged.
    let run = h.repo.run_in(&clone, &["audit", "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let findings_at_cut = 1;
    assert_eq!(
        run.stderr,
        note("; 1 finding already there is blamed on no commit")
    );
    let v = run.json();
    let blamed: Vec<(&str, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["rule"].as_str().unwrap(), d["commit"].as_str().unwrap()))
        .collect();
    assert_eq!(blamed, vec![("item-deleted", c4.as_str())]);
    assert_eq!(v["version"], 1);
    assert_eq!(
        v["historyCut"],
        json!([{"commit": c3, "path": Q, "findings": findings_at_cut}])
    );
    let sarif = h.repo.run_in(&clone, &["audit", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let notes = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes[0]["level"], "note");
    assert_eq!(
        notes[0]["properties"]["historyCut"],
        json!([{"commit": c3, "path": Q, "findings": findings_at_cut}])
    );
    assert!(notes[0]["message"]["text"]
        .as_str()
        .unwrap()
        .starts_with("the history of run_queue.json is cut at "));
    // Nothing before the cut was blamed anywhere, in any format.
    let human = h.repo.run_in(&clone, &["audit"]);
    assert!(!human.stdout.contains(&c3), "{}", human.stdout);

    // The command the note names completes the history: the same answers as the origin.
    in_clone(&["fetch", "-q", "--unshallow"]);
    let run = h.repo.run_in(&clone, &["audit", "--format", "json"]);
    assert_eq!(run.stderr, "");
    assert_eq!(run.json().get("historyCut"), None);
    let log = h
        .repo
        .run_in(&clone, &["log", "a", "--format", "json"])
        .json();
    assert_eq!(
        events(&log)[0],
        (c1, "added".into(), Value::Null, s("queued"))
    );
    assert_eq!(events(&log)[1].0, c2);
    assert_eq!(log.get("historyCut"), None);
}

#[test]
fn a_copy_is_followed_as_git_log_follow_follows_it() {
    let mut h = History::new();
    let main = "queues/main.json";
    let c1 = h.commit_queue(main, vec![queued("a"), queued("d"), queued("d")], "add");
    let c2 = h.commit_queue(
        main,
        vec![running("a", 2), queued("d"), queued("d")],
        "start a",
    );
    // The queue is copied, byte for byte, to its new place; the original stays.
    std::fs::copy(h.repo.root.join(main), h.repo.root.join(Q)).unwrap();
    h.repo.git(&["add", Q]);
    let c3 = h.git_at(&["commit", "-q", "--no-verify", "-m", "copy the queue"]);
    let c4 = h.commit(
        vec![finished("a", "done", 2, 4), queued("d"), queued("d")],
        "a done",
    );

    // What git says: `--follow` follows the copy back into queues/main.json.
    let follow = h
        .repo
        .git(&["log", "--follow", "--format=%H", "--name-status", "--", Q]);
    assert!(
        follow.contains(&format!("C100\t{main}\t{Q}")),
        "git sees a copy: {follow}"
    );
    let commits: Vec<&str> = follow.lines().filter(|l| l.len() == 40).collect();
    assert_eq!(commits, vec![&c4, &c3, &c2, &c1]);

    let log = h.log_json("a", &[]);
    assert_eq!(
        events(&log),
        vec![
            (c1.clone(), "added".into(), Value::Null, s("queued")),
            (c2.clone(), "changed".into(), s("queued"), s("running")),
            (c4.clone(), "changed".into(), s("running"), s("done")),
        ]
    );
    assert_eq!(log["events"][0]["path"], main);
    assert_eq!(log["events"][2]["path"], Q);
    // The copy brought nothing new: the duplicate is blamed where it began.
    assert_eq!(
        h.blamed(&[]),
        vec![("duplicate-id".to_string(), c1, Some("d".to_string()))]
    );
    let _ = c3;
}

#[test]
fn authors_are_shown_through_the_mailmap_as_git_log_shows_them() {
    let mut h = History::new();
    let c1 = h.commit(vec![queued("a")], "add");
    let c2 = h.commit(vec![running("a", 2)], "start a");
    let c3 = h.commit(vec![finished("a", "done", 2, 3)], "a done");
    let root = h.repo.root.clone();
    let authors = |h: &History| -> Vec<String> {
        let json = h.log_json("a", &[]);
        let from_json: Vec<String> = json["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("Author: {}", e["author"].as_str().unwrap()))
            .collect();
        let human = h.log(&["a"]);
        assert_eq!(human.code, 0, "{}", human.stderr);
        let from_human: Vec<String> = human
            .stdout
            .lines()
            .filter(|l| l.starts_with("Author: "))
            .map(str::to_string)
            .collect();
        assert_eq!(from_human, from_json);
        from_json
    };
    let git_says = |h: &History| -> Vec<String> {
        [&c1, &c2, &c3]
            .iter()
            .map(|c| git_log_author(&h.repo, &root, c))
            .collect()
    };
    let mapped = "Author: Queue Owner <owner@example.invalid>".to_string();
    let raw = "Author: Runq Tester <tester@example.invalid>".to_string();

    // `.mailmap` in the working tree, which `git log` applies by default.
    h.repo.write(
        ".mailmap",
        "Queue Owner <owner@example.invalid> Runq Tester <tester@example.invalid>\n",
    );
    assert_eq!(git_says(&h), vec![mapped.clone(); 3]);
    assert_eq!(authors(&h), git_says(&h));
    // audit's commit headers too.
    h.commit(vec![queued("a")], "a queued again");
    let audit = h.audit(&[]);
    assert!(
        audit.stdout.contains(&format!("{mapped}\n")),
        "{}",
        audit.stdout
    );
    assert!(!audit.stdout.contains(&raw), "{}", audit.stdout);

    // `log.mailmap = false`: git log shows the recorded author, and so does runqlint.
    h.repo.git(&["config", "log.mailmap", "false"]);
    assert_eq!(git_says(&h), vec![raw.clone(); 3]);
    assert_eq!(authors(&h)[..3], git_says(&h)[..]);
    h.repo.git(&["config", "--unset", "log.mailmap"]);

    // `mailmap.file`, outside the working tree.
    std::fs::remove_file(root.join(".mailmap")).unwrap();
    let file = h.repo.home().join("people.mailmap");
    std::fs::write(
        &file,
        "Ops Team <ops@example.invalid> <tester@example.invalid>\n",
    )
    .unwrap();
    h.repo
        .git(&["config", "mailmap.file", file.to_str().unwrap()]);
    let ops = "Author: Ops Team <ops@example.invalid>".to_string();
    assert_eq!(git_says(&h), vec![ops.clone(); 3]);
    assert_eq!(authors(&h)[..3], git_says(&h)[..]);
}
