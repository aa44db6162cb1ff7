//! `runqlint fix` and `runqlint stale` on real repositories, with real git and real
//! liveness scripts.
use std::process::Command;

use serde_json::{json, Value};

use crate::support::*;

fn doc(repo: &Repo) -> Value {
    serde_json::from_slice(&repo.read(Q)).unwrap()
}

fn items(v: &Value) -> &Vec<Value> {
    v.get("items").unwrap_or(v).as_array().unwrap()
}

fn find<'a>(v: &'a Value, id: &str) -> &'a Value {
    items(v)
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

fn backups(repo: &Repo) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(&repo.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("run_queue.backup."))
        .collect();
    v.sort();
    v
}

/// Temporary files left beside the queue file (a staged backup, a replace's new bytes).
fn temporaries(repo: &Repo) -> Vec<String> {
    std::fs::read_dir(&repo.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".runqlint-tmp."))
        .collect()
}

fn commits(repo: &Repo) -> usize {
    repo.git(&["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

/// Splits 2-space pretty `{"items": [...]}` text into (prefix, item blocks, suffix) by the
/// lines that open and close items (4 spaces of indentation).
fn blocks(text: &str) -> (String, Vec<String>, String) {
    let mut prefix = String::new();
    let mut blocks: Vec<String> = Vec::new();
    let mut suffix = String::new();
    let mut cur: Option<String> = None;
    let mut done = false;
    for line in text.split_inclusive('\n') {
        if let Some(c) = cur.as_mut() {
            c.push_str(line);
            if line.starts_with("    }") {
                blocks.push(cur.take().unwrap());
            }
        } else if line == "    {\n" && !done {
            cur = Some(line.to_string());
        } else if blocks.is_empty() {
            prefix.push_str(line);
        } else {
            done = true;
            suffix.push_str(line);
        }
    }
    (prefix, blocks, suffix)
}

fn assert_only_changed(before: &str, after: &str, changed: &[usize]) {
    let (p0, b0, s0) = blocks(before);
    let (p1, b1, s1) = blocks(after);
    assert_eq!(p0, p1, "text before the items changed");
    assert_eq!(s0, s1, "text after the items changed");
    assert_eq!(b0.len(), b1.len());
    for (i, (x, y)) in b0.iter().zip(&b1).enumerate() {
        if changed.contains(&i) {
            assert_ne!(x, y, "item {i} should have changed");
        } else {
            assert_eq!(x, y, "item {i} should be byte-identical");
        }
    }
}

/// A liveness script: logs its argument count and each argument on its own line, then
/// answers by the key's prefix.
fn alive_script(repo: &Repo) -> (String, std::path::PathBuf) {
    let log = repo.scratch().join("alive.log");
    let script = repo.scratch().join("alive.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf 'argc=%s\\n' \"$#\" >> '{log}'\nfor a in \"$@\"; do printf 'arg=%s\\n' \"$a\" >> '{log}'; done\ncase \"$2\" in\n  alive*) exit 0;;\n  dead*|*pwned*) exit 1;;\n  hang*) sleep 5; exit 0;;\n  *) exit 3;;\nesac\n",
            log = log.display()
        ),
    )
    .unwrap();
    (format!("sh {} --probe", script.display()), log)
}

#[test]
fn seed_is_repaired_in_one_commit_touching_only_the_repaired_items() {
    let repo = setup(&seed_queue());
    let before = String::from_utf8(repo.read(Q)).unwrap();
    repo.write("notes.txt", "staged work\n");
    repo.add("notes.txt");
    let head = repo.head();

    let r = fix(&repo, &["--run-id", "run_6f9a966b"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(commits(&repo), 2);
    assert_eq!(repo.git(&["rev-parse", "HEAD~1"]).trim(), head);
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "run_queue.json\n"
    );
    let numstat = repo.git(&["diff", "--numstat", "HEAD~1", "HEAD"]);
    let parts: Vec<&str> = numstat.split_whitespace().collect();
    assert_eq!(parts[2], Q, "{numstat}");
    // status, the run's last member and the item's last member change on each item.
    assert_eq!(parts[1], "6", "{numstat}");

    // The other staged file is still staged and not in the commit.
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]),
        "notes.txt\n"
    );
    // The queue file is clean: working tree, index and HEAD agree.
    assert_eq!(repo.git(&["status", "--porcelain", "--", Q]), "");

    let after = String::from_utf8(repo.read(Q)).unwrap();
    assert_only_changed(&before, &after, &[1, 3]);
    let d = doc(&repo);
    for id in ["run_stuck_1", "run_stuck_2"] {
        let i = find(&d, id);
        assert_eq!(i["status"], "failed");
        assert_eq!(i["run"]["finishedAtMs"], NOW_MS);
        assert_eq!(
            i["run"]["error"],
            "Marked failed by runqlint fix: stale running (no active child session / exceeded threshold)."
        );
        assert_eq!(
            i["triage"],
            json!({"status": "needs_review", "reason": "stale_running", "flaggedAtMs": NOW_MS})
        );
    }
    assert_eq!(find(&d, "run_fresh")["status"], "running");

    let msg = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        msg.starts_with("runqlint fix: mark 2 stale running items failed\n\n"),
        "{msg}"
    );
    assert!(
        msg.contains("- run_stuck_1 \"Ship-ready review\": started 2026-02-26T00:00:00Z"),
        "{msg}"
    );
    let trailers = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Repaired-Item,valueonly)",
    ]);
    assert_eq!(trailers.trim(), "run_stuck_1\nrun_stuck_2");
    let backup = backups(&repo);
    assert_eq!(backup.len(), 1);
    assert!(msg.contains(&format!("\nBackup: {}\n", backup[0])), "{msg}");
    assert_eq!(
        repo.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Receipt-Run-Id,valueonly)"
        ])
        .trim(),
        "run_6f9a966b"
    );

    // The result passes check against its parent, and against HEAD.
    assert_eq!(
        repo.run(&["check", "--now", NOW, "--base", "HEAD~1"]).code,
        0
    );
    assert_eq!(repo.run(&["check", "--now", NOW]).code, 0);

    // A second run changes nothing.
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("nothing to repair"), "{}", r.stdout);
    assert_eq!(commits(&repo), 2);
    assert_eq!(String::from_utf8(repo.read(Q)).unwrap(), after);
    assert_eq!(backups(&repo).len(), 1);
}

#[test]
fn backup_holds_the_original_bytes_and_is_never_staged() {
    let text = seed_queue();
    let repo = setup(&text);
    let r = fix(&repo, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let b = backups(&repo);
    assert_eq!(b.len(), 1);
    assert!(
        b[0].len() == "run_queue.backup.20261125T000000Z.json".len() && b[0].ends_with("Z.json"),
        "{b:?}"
    );
    assert_eq!(repo.read(&b[0]), text.as_bytes());
    assert_eq!(r.json()["backup"], b[0].as_str());
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        format!("?? {}\n", b[0])
    );
    assert_eq!(repo.git(&["ls-files"]), "run_queue.json\n");

    let repo = setup(&text);
    let r = fix(&repo, &["--no-backup", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(backups(&repo).is_empty());
    assert_eq!(r.json()["backup"], Value::Null);
    assert!(!repo.git(&["log", "-1", "--format=%B"]).contains("Backup:"));
}

/// An item running since 2026-02-26 whose child session is `key`.
fn keyed(id: &str, key: &str) -> Value {
    item(
        id,
        "running",
        json!({"run": {"startedAtMs": FEB26_MS, "childSessionKey": key}}),
    )
}

#[test]
fn alive_dead_and_unknown_via_a_real_command_never_through_a_shell() {
    let evil = "$(touch pwned); rm -rf x; `touch pwned2`";
    let text = queue(vec![
        keyed("a", "alive:1"),
        keyed("b", "dead:1"),
        keyed("c", "weird:1"),
        keyed("d", evil),
        keyed("e", "hang:1"),
        item("f", "running", json!({"run": {"startedAtMs": FEB26_MS}})),
    ]);
    let repo = setup(&text);
    repo.write("x/keep", "keep");
    let (cmd, log) = alive_script(&repo);
    let r = fix(
        &repo,
        &[
            "--alive-cmd",
            &cmd,
            "--alive-timeout",
            "700ms",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let s = r.json();
    assert_eq!(s["checked"], 6);
    assert_eq!(s["alive"], json!(["a"]));
    assert_eq!(s["unknown"], json!(["c", "e"]));
    assert_eq!(s["repaired"], json!(["b", "d", "f"]));
    assert_eq!(s["heartbeat"], json!(["a"]));

    for marker in ["pwned", "pwned2"] {
        assert!(
            !repo.root.join(marker).exists() && !repo.scratch().join(marker).exists(),
            "{marker} was created"
        );
    }
    assert!(repo.root.join("x/keep").exists());
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains(&format!("argc=2\narg=--probe\narg={evil}\n")),
        "{log}"
    );
    // f has no childSessionKey: the command is not asked about it.
    assert_eq!(log.matches("argc=").count(), 5, "{log}");

    let d = doc(&repo);
    assert_eq!(find(&d, "a")["status"], "running");
    assert_eq!(find(&d, "a")["run"]["lastHeartbeatAtMs"], NOW_MS);
    assert_eq!(find(&d, "b")["status"], "failed");
    assert_eq!(find(&d, "d")["status"], "failed");
    assert_eq!(find(&d, "f")["status"], "failed");
    let before: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(find(&d, "c"), find(&before, "c"));
    assert_eq!(find(&d, "e"), find(&before, "e"));
    assert_only_changed(
        &text,
        &String::from_utf8(repo.read(Q)).unwrap(),
        &[0, 1, 3, 5],
    );
    let msg = repo.git(&["log", "-1", "--format=%B"]);
    assert!(msg.contains("Heartbeat-Item: a\n"), "{msg}");
    assert!(
        msg.contains("- e: started") && msg.contains("timed out"),
        "{msg}"
    );
}

#[test]
fn alive_sessions_in_both_formats() {
    let text = queue(vec![
        keyed("a", "agent:hq:sub:1"),
        keyed("b", "agent:hq:sub:2"),
    ]);
    for (name, content) in [
        ("live.txt", "# live\nagent:hq:sub:1\n\n"),
        ("live.json", "[\"agent:hq:sub:1\", \"other\"]"),
    ] {
        let repo = setup(&text);
        let file = repo.scratch().join(name);
        std::fs::write(&file, content).unwrap();
        let r = fix(
            &repo,
            &[
                "--alive-sessions",
                file.to_str().unwrap(),
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.json()["alive"], json!(["a"]), "{name}");
        assert_eq!(r.json()["repaired"], json!(["b"]), "{name}");
        let d = doc(&repo);
        assert_eq!(find(&d, "a")["run"]["lastHeartbeatAtMs"], NOW_MS);
        assert_eq!(find(&d, "b")["status"], "failed");
    }
}

#[test]
fn item_data_cannot_forge_a_trailer() {
    let text = queue(vec![
        item(
            "evil\nReceipt-Run-Id: forged-by-id",
            "running",
            json!({"title": "Harmless\n\nReceipt-Run-Id: forged-by-title\nRepaired-Item: nope", "run": {"startedAtMs": FEB26_MS}}),
        ),
        item(
            "ok",
            "running",
            json!({"title": "Receipt-Run-Id: x", "run": {"startedAtMs": FEB26_MS}}),
        ),
    ]);
    let repo = setup(&text);
    let r = fix(
        &repo,
        &[
            "--run-id",
            "real_run_1",
            "--artifact",
            "brain/hq/ship-ready-run_6f9a966b.md",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let ids = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Receipt-Run-Id,valueonly)",
    ]);
    assert_eq!(ids.trim_end(), "real_run_1");
    let msg = repo.git(&["log", "-1", "--format=%B"]);
    let mut parse = repo.git_cmd(&["interpret-trailers", "--parse"]);
    parse
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = parse.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(msg.as_bytes())
        .unwrap();
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(
        out,
        "Receipt-Run-Id: real_run_1\nReceipt-Artifact: brain/hq/ship-ready-run_6f9a966b.md\nRepaired-Item: evil\\u{000a}Receipt-Run-Id: forged-by-id\nRepaired-Item: ok\n"
            .to_string()
            + &format!("Backup: {}\n", backups(&repo)[0])
    );
    assert_eq!(
        msg.lines().next().unwrap(),
        "runqlint fix: mark 2 stale running items failed"
    );

    // A receipt flag with a line break is refused before anything happens.
    let repo = setup(&text);
    let r = fix(&repo, &["--run-id", "a\nRepaired-Item: b"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--run-id"), "{}", r.stderr);
    assert_eq!(commits(&repo), 1);
}

fn stuck(id: &str) -> Value {
    item(
        id,
        "running",
        json!({"title": "T", "run": {"startedAtMs": FEB26_MS}}),
    )
}

#[test]
fn keeps_the_files_own_style() {
    let done = item(
        "d",
        "done",
        json!({"run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 1}}),
    );
    let value = json!({"items": [done, stuck("s")], "owner": "hq"});
    // 4-space indentation, no final newline.
    let mut four = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut four,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    serde::Serialize::serialize(&value, &mut ser).unwrap();
    let four = String::from_utf8(four).unwrap();
    let tabs = four.replace("    ", "\t");
    let crlf = format!("{}\r\n", four.replace('\n', "\r\n"));
    let minified = format!("{}\n", serde_json::to_string(&value).unwrap());
    let array = pretty(&json!([stuck("s"), item("q", "queued", json!({}))]));
    let cases: [(&str, &str, &str); 5] = [
        (&four, "\n                \"flaggedAtMs\": 1795564800000\n            }\n        }\n    ],", "            \"triage\": {\n                \"status\""),
        (&tabs, "\n\t\t\t\t\"flaggedAtMs\": 1795564800000\n\t\t\t}\n\t\t}\n\t],", "\t\t\t\"triage\": {\n\t\t\t\t\"status\""),
        (&crlf, "\r\n                \"flaggedAtMs\": 1795564800000\r\n            }\r\n        }\r\n    ],", "            \"triage\": {\r\n"),
        (&minified, ",\"triage\":{\"status\":\"needs_review\",\"reason\":\"stale_running\",\"flaggedAtMs\":1795564800000}}", "\"status\":\"failed\""),
        (&array, "\n      \"flaggedAtMs\": 1795564800000\n    }\n  },\n  {\n    \"id\": \"q\"", "\n    \"triage\": {\n"),
    ];
    for (text, want1, want2) in cases {
        let repo = setup(text);
        let r = fix(&repo, &[]);
        assert_eq!(r.code, 0, "{r:?}");
        let after = String::from_utf8(repo.read(Q)).unwrap();
        assert!(
            after.contains(want1) && after.contains(want2),
            "{text}\n=>\n{after}"
        );
        assert_eq!(after.ends_with('\n'), text.ends_with('\n'), "{after}");
        assert_eq!(
            after.matches('\n').count() == 1,
            text.matches('\n').count() == 1
        );
        assert_eq!(after.starts_with('['), text.starts_with('['));
        if text.contains("\r\n") {
            assert_eq!(
                after.matches('\n').count(),
                after.matches("\r\n").count(),
                "bare LF added"
            );
        }
        let d = doc(&repo);
        assert_eq!(find(&d, "s")["status"], "failed");
        if d.is_object() {
            assert_eq!(d["owner"], "hq");
        }
        // Everything before the repaired item is untouched.
        let at = text.find("\"s\"").unwrap();
        assert_eq!(after[..at], text[..at]);
        assert_eq!(
            repo.run(&["check", "--now", NOW, "--base", "HEAD~1"]).code,
            0
        );
    }
}

/// A file the scanner declines (here for an escaped key) takes the whole-document path:
/// parsed whole, spliced with a span index of all of it, re-parsed and compared. It gets
/// exactly the bytes the item-by-item path writes for the same queue.
#[test]
fn a_file_the_scanner_declines_is_repaired_byte_for_byte_as_a_scanned_one() {
    let mut triaged = stuck("t");
    triaged["triage"] = json!({"status": "needs_review", "x-note": "kept"});
    let done = item(
        "d",
        "done",
        json!({"run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 1}}),
    );
    let scanned = pretty(&json!({"items": [stuck("s"), done, triaged], "owner": "hq"}));
    let declined = scanned.replace("\"owner\"", "\"own\\u0065r\"");
    assert!(runqlint::scan::scan(&scanned).is_some());
    assert!(runqlint::scan::scan(&declined).is_none(), "{declined}");
    let mut after = Vec::new();
    for text in [&scanned, &declined] {
        let repo = setup(text);
        let r = fix(&repo, &["--requeue"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(commits(&repo), 2);
        after.push(String::from_utf8(repo.read(Q)).unwrap());
    }
    assert_ne!(after[0], scanned);
    assert_eq!(after[1], after[0].replace("\"owner\"", "\"own\\u0065r\""));
    // The untouched item and the text around the items keep their bytes.
    let (prefix, blocks, suffix) = blocks(&scanned);
    assert!(after[0].starts_with(&prefix) && after[0].ends_with(&suffix));
    assert!(after[0].contains(&blocks[1]), "{}", after[0]);
    let d: Value = serde_json::from_str(&after[0]).unwrap();
    assert_eq!(find(&d, "s")["status"], "failed");
    assert_eq!(find(&d, "t")["triage"]["x-note"], "kept");
    assert_eq!(items(&d).len(), 5);
}

#[test]
fn mark_stale_sets_status_and_triage_only() {
    let repo = setup(&queue(vec![stuck("s")]));
    let r = fix(&repo, &["--mark", "stale"]);
    assert_eq!(r.code, 0, "{r:?}");
    let d = doc(&repo);
    let s = find(&d, "s");
    assert_eq!(s["status"], "stale");
    assert_eq!(s["triage"]["reason"], "stale_running");
    assert_eq!(s["run"], json!({"startedAtMs": FEB26_MS}));
    assert!(repo
        .git(&["log", "-1", "--format=%s"])
        .contains("mark 1 stale running item stale"));
    let c = repo.run(&[
        "check", "--now", NOW, "--base", "HEAD~1", "--format", "json",
    ]);
    assert_eq!(c.code, 0);
    assert!(c.rules().is_empty(), "{:?}", c.rules());
}

#[test]
fn requeue_appends_new_items_up_to_max_attempts() {
    let text = queue(vec![
        item(
            "a",
            "running",
            json!({"title": "A", "notes": "n", "taskIds": ["t1", "t2"], "extra": 1, "run": {"startedAtMs": FEB26_MS, "attempt": 1}}),
        ),
        item(
            "b",
            "running",
            json!({"title": "B", "run": {"startedAtMs": FEB26_MS, "attempt": 2}}),
        ),
        item("b-r3", "done", json!({})),
        item("c", "running", json!({"run": {"startedAtMs": FEB26_MS}})),
    ]);
    let repo = setup(&text);
    let r = fix(
        &repo,
        &["--requeue", "--max-attempts", "2", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let s = r.json();
    assert_eq!(
        s["requeued"],
        json!([{"from": "a", "id": "a-r2"}, {"from": "c", "id": "c-r2"}])
    );
    assert_eq!(
        s["requeueRefused"],
        json!([{"id": "b", "attempt": 3, "maxAttempts": 2}])
    );
    assert_eq!(s["repaired"], json!(["a", "b", "c"]));
    let d = doc(&repo);
    assert_eq!(items(&d).len(), 6);
    assert_eq!(
        find(&d, "a-r2"),
        &json!({"id": "a-r2", "status": "queued", "title": "A", "notes": "n", "taskIds": ["t1", "t2"], "requeuedFrom": "a", "createdAtMs": NOW_MS, "run": {"attempt": 2}})
    );
    assert_eq!(find(&d, "c-r2")["run"]["attempt"], 2);
    assert_eq!(find(&d, "b")["status"], "failed");

    // Ids stay unique: b-r3 is taken.
    let repo = setup(&text);
    let r = fix(&repo, &["--requeue", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.json()["requeued"][1],
        json!({"from": "b", "id": "b-r3-2"})
    );
    assert_eq!(
        repo.run(&["check", "--now", NOW, "--base", "HEAD~1"]).code,
        0
    );
    let msg = repo.git(&["log", "-1", "--format=%B"]);
    assert!(msg.contains("Requeued-Item: b-r3-2\n"), "{msg}");
}

#[test]
fn refuses_uncommitted_changes_unless_allowed() {
    let text = seed_queue();
    let repo = setup(&text);
    let dirty = text.replace("Later", "Later, edited");
    repo.write(Q, &dirty);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("run_queue.json (dirty)"), "{}", r.stderr);
    assert_eq!(repo.read(Q), dirty.as_bytes());
    assert!(backups(&repo).is_empty());

    repo.add(Q);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("run_queue.json (staged)"), "{}", r.stderr);
    assert_eq!(commits(&repo), 1);

    let r = fix(&repo, &["--allow-dirty"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(commits(&repo), 2);
    let committed = repo.git(&["show", "HEAD:run_queue.json"]);
    assert!(committed.contains("Later, edited") && committed.contains("\"failed\""));
}

#[test]
fn refuses_a_detached_head_unless_no_commit() {
    let text = seed_queue();
    let repo = setup(&text);
    repo.git(&["checkout", "-q", "--detach"]);
    let head = repo.head();
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("detached"), "{}", r.stderr);
    assert_eq!(repo.read(Q), text.as_bytes());
    let r = fix(&repo, &["--no-commit", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["commit"], Value::Null);
    assert_eq!(repo.head(), head);
    assert_eq!(find(&doc(&repo), "run_stuck_1")["status"], "failed");
    assert_eq!(
        repo.git(&["status", "--porcelain", "--", Q]),
        " M run_queue.json\n"
    );
}

#[test]
fn a_held_index_lock_stops_everything() {
    for format in Format::ALL {
        let text = seed_queue();
        let repo = setup_as(format, &text);
        let lock = repo.root.join(".git/index.lock");
        std::fs::write(&lock, "").unwrap();
        let r = fix(&repo, &[]);
        assert_eq!(r.code, 2, "{format:?}: {r:?}");
        assert!(r.stderr.contains("index.lock"), "{}", r.stderr);
        assert!(lock.exists(), "someone else's lock was removed");
        assert_eq!(commits(&repo), 1);
        assert_eq!(repo.read(Q), text.as_bytes());
        assert!(backups(&repo).is_empty());
        assert_eq!(temporaries(&repo), Vec::<String>::new());
    }
}

#[test]
fn a_branch_that_moved_or_a_file_that_changed_is_not_overwritten() {
    // The liveness command edits the queue file while fix is running.
    let text = queue(vec![keyed("a", "k")]);
    let repo = setup(&text);
    let script = repo.scratch().join("meddle.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf ' ' >> '{}'\nexit 1\n",
            repo.root.join(Q).display()
        ),
    )
    .unwrap();
    let r = fix(&repo, &["--alive-cmd", &format!("sh {}", script.display())]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("changed on disk"), "{}", r.stderr);
    assert_eq!(repo.read(Q), format!("{text} ").as_bytes());
    assert_eq!(commits(&repo), 1);
    assert!(backups(&repo).is_empty());
    assert_eq!(temporaries(&repo), Vec::<String>::new());
}

#[test]
fn dry_run_prints_the_diff_and_message_and_writes_nothing() {
    let text = seed_queue();
    let repo = setup(&text);
    let r = fix(&repo, &["--dry-run", "--run-id", "r1"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("--- a/run_queue.json\n+++ b/run_queue.json\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\n-      \"status\": \"running\",\n+      \"status\": \"failed\",\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Receipt-Run-Id: r1"), "{}", r.stdout);
    assert!(r
        .stdout
        .contains("runqlint fix: mark 2 stale running items failed"));
    assert_eq!(repo.read(Q), text.as_bytes());
    assert!(backups(&repo).is_empty());
    assert_eq!(commits(&repo), 1);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let r = fix(&repo, &["--dry-run", "--format", "json"]);
    assert_eq!(r.json()["dryRun"], true);
    assert_eq!(r.json()["commit"], Value::Null);
}

#[test]
fn json_summary_lists_every_kind_of_item() {
    let mut items_v = match serde_json::from_str::<Value>(&seed_queue()).unwrap() {
        Value::Object(mut o) => o.remove("items").unwrap(),
        _ => unreachable!(),
    };
    let a = items_v.as_array_mut().unwrap();
    a.push(item(
        "future",
        "running",
        json!({"run": {"startedAtMs": NOW_MS + 86_400_000}}),
    ));
    a.push(item(
        "ancient",
        "running",
        json!({"run": {"startedAtMs": 1_000_000}}),
    ));
    let repo = setup(&pretty(&json!({"items": items_v})));
    let live = repo.scratch().join("live.txt");
    std::fs::write(&live, "agent:hq:sub:2\n").unwrap();
    let r = fix(
        &repo,
        &[
            "--alive-sessions",
            live.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let s = r.json();
    assert_eq!(s["version"], 1);
    assert_eq!(s["checked"], 5);
    assert_eq!(s["stale"], json!(["run_stuck_1", "run_stuck_2"]));
    assert_eq!(s["alive"], json!(["run_stuck_2"]));
    assert_eq!(s["unknown"], json!([]));
    assert_eq!(s["repaired"], json!(["run_stuck_1"]));
    assert_eq!(s["requeued"], json!([]));
    assert_eq!(
        s["unageable"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].clone())
            .collect::<Vec<_>>(),
        [json!("future"), json!("ancient")]
    );
    assert_eq!(s["commit"].as_str().unwrap(), repo.head());
    assert_eq!(s["dryRun"], false);
    let d = doc(&repo);
    assert_eq!(find(&d, "future")["status"], "running");
    assert!(find(&d, "ancient").get("triage").is_none());
}

#[test]
fn nothing_stale_means_nothing_written() {
    let text = queue(vec![item(
        "f",
        "running",
        json!({"run": {"startedAtMs": NOW_MS - 60_000}}),
    )]);
    let repo = setup(&text);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("nothing to repair"), "{}", r.stdout);
    assert_eq!(commits(&repo), 1);
    assert!(backups(&repo).is_empty());
    assert_eq!(repo.read(Q), text.as_bytes());
    // The same item is stale with a shorter threshold (flag), or its own staleAfterMs.
    let r = fix(&repo, &["--stale-after", "30s", "--format", "json"]);
    assert_eq!(r.json()["repaired"], json!(["f"]));
    let repo = setup(&queue(vec![item(
        "f",
        "running",
        json!({"run": {"startedAtMs": NOW_MS - 60_000, "staleAfterMs": 1000}}),
    )]));
    assert_eq!(
        fix(&repo, &["--format", "json"]).json()["repaired"],
        json!(["f"])
    );
}

#[test]
fn errors_already_in_the_file_neither_block_the_repair_nor_are_touched() {
    // `n` is running without a start time: an error already committed, for a person to
    // triage. The stale item is still repaired; `n` is reported and left as it was.
    let text = queue(vec![stuck("s"), item("n", "running", json!({}))]);
    let repo = setup(&text);
    let r = fix(&repo, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    assert_eq!(j["repaired"], json!(["s"]));
    assert_eq!(j["unageable"].as_array().unwrap().len(), 1, "{j}");
    assert_eq!(commits(&repo), 2);
    let after: Value = serde_json::from_slice(&repo.read(Q)).unwrap();
    assert_eq!(after["items"][1], json!({"id": "n", "status": "running"}));
    // The committed file has exactly the errors it had before, no new one.
    let check = repo.run(&[
        "check", "--now", NOW, "--base", "HEAD~1", "--format", "json",
    ]);
    assert_eq!(check.rules(), ["running-without-start"], "{}", check.stdout);
}

#[test]
fn stale_reports_in_human_and_json() {
    let repo = setup(&seed_queue());
    let r = repo.run(&["stale", "--now", NOW, "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s = r.json();
    assert_eq!(s["version"], 1);
    assert_eq!(s["now"], NOW_MS);
    let stale = s["stale"].as_array().unwrap();
    assert_eq!(stale.len(), 2);
    assert_eq!(stale[0]["id"], "run_stuck_1");
    assert_eq!(stale[0]["title"], "Ship-ready review");
    assert_eq!(stale[0]["startedAtMs"], FEB26_MS);
    assert_eq!(stale[0]["lastHeartbeatAtMs"], Value::Null);
    assert_eq!(stale[0]["ageMs"], NOW_MS - FEB26_MS);
    assert_eq!(stale[0]["thresholdMs"], 21_600_000);
    assert_eq!(s["unageable"], json!([]));

    let r = repo.run(&["stale", "--now", NOW]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("2 of 3 running items stale"),
        "{}",
        r.stdout
    );
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("run_stuck_2"))
        .unwrap();
    assert!(
        line.contains("\"Research notes\"")
            && line.contains("2026-02-24T00:00:00Z")
            && line.contains("6h 0m"),
        "{line}"
    );
    // The file is not touched and the threshold flag applies.
    let r = repo.run(&[
        "stale",
        "--now",
        NOW,
        "--stale-after",
        "5m",
        "--format",
        "json",
    ]);
    assert_eq!(r.json()["stale"].as_array().unwrap().len(), 3);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    // Titles are escaped.
    let repo = setup(&queue(vec![item(
        "x",
        "running",
        json!({"title": "a\u{1b}[31mb", "run": {"startedAtMs": FEB26_MS}}),
    )]));
    let r = repo.run(&["stale", "--now", NOW]);
    assert!(
        !r.stdout.contains('\u{1b}') && r.stdout.contains("\\u{001b}"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_branch_that_moves_while_fix_runs_is_left_alone() {
    for format in Format::ALL {
        branch_moves_while_fix_runs(format);
    }
}

fn branch_moves_while_fix_runs(format: Format) {
    let text = queue(vec![keyed("a", "k")]);
    let repo = setup_as(format, &text);
    let script = repo.scratch().join("commit.sh");
    std::fs::write(&script, "#!/bin/sh\ngit commit -q --allow-empty --no-verify -m moved >/dev/null 2>&1 || exit 7\nexit 1\n").unwrap();
    let r = fix(&repo, &["--alive-cmd", &format!("sh {}", script.display())]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("moved while fix ran; nothing was written"),
        "{}",
        r.stderr
    );
    assert_eq!(repo.git(&["log", "-1", "--format=%s"]), "moved\n");
    assert_eq!(commits(&repo), 2);
    assert_eq!(repo.read(Q), text.as_bytes());
    assert!(backups(&repo).is_empty());
}

/// `runqlint fix` with no identity in the environment: git config must provide it.
fn fix_without_identity_env(repo: &Repo) -> std::process::Output {
    repo.runqlint_cmd(&["fix", "--now", NOW])
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .output()
        .unwrap()
}

#[test]
fn a_missing_git_identity_is_a_clear_refusal() {
    let text = seed_queue();
    let repo = setup(&text);
    // Nothing to guess an identity from either (git would take the host's name).
    std::fs::write(
        repo.home().join("gitconfig"),
        "[core]\n\tautocrlf = false\n[user]\n\tuseConfigOnly = true\n",
    )
    .unwrap();
    let out = fix_without_identity_env(&repo);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("user.name") && err.contains("--no-commit"),
        "{err}"
    );
    assert_eq!(repo.read(Q), text.as_bytes());
    assert!(backups(&repo).is_empty());
    // The identity comes from git config when the environment does not name one.
    std::fs::write(
        repo.home().join("gitconfig"),
        "[user]\n\tname = Config Person\n\temail = config@example.invalid\n",
    )
    .unwrap();
    let out = fix_without_identity_env(&repo);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae> / %cn <%ce>"]),
        "Config Person <config@example.invalid> / Config Person <config@example.invalid>\n"
    );
}

#[test]
fn config_defaults_apply_and_flags_override_them() {
    let repo = Repo::new();
    let rel = "brain/hq/run_queue.json";
    repo.write(rel, queue(vec![stuck("s"), stuck("t")]));
    repo.write("runqlint.toml", "paths = [\"brain/hq/run_queue.json\"]\n[fix]\nmark = \"stale\"\nbackup = false\nrequeue = true\n");
    repo.commit_all("queue");
    let r = repo.run(&["fix", "--now", NOW, "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["path"], rel);
    assert_eq!(r.json()["backup"], Value::Null);
    assert_eq!(r.json()["requeued"].as_array().unwrap().len(), 2);
    let d: Value = serde_json::from_slice(&repo.read(rel)).unwrap();
    assert_eq!(find(&d, "s")["status"], "stale");
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        format!("{rel}\n")
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    let repo = Repo::new();
    repo.write(rel, queue(vec![stuck("s")]));
    repo.write(
        "runqlint.toml",
        "paths = [\"brain/hq/run_queue.json\"]\n[fix]\nmark = \"stale\"\n",
    );
    repo.commit_all("queue");
    let r = repo.run_in(
        &repo.root.join("brain"),
        &["fix", "--now", NOW, "--mark", "failed", "hq/run_queue.json"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let d: Value = serde_json::from_slice(&repo.read(rel)).unwrap();
    assert_eq!(find(&d, "s")["status"], "failed");
    assert!(repo.root.join("brain/hq").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("run_queue.backup.")));
}

#[test]
fn a_fix_killed_mid_run_leaves_everything_as_it_was() {
    let text = queue(vec![keyed("a", "k")]);
    let repo = setup(&text);
    let script = repo.scratch().join("kill.sh");
    std::fs::write(&script, "#!/bin/sh\nkill -9 $PPID\nsleep 1\nexit 1\n").unwrap();
    let r = fix(&repo, &["--alive-cmd", &format!("sh {}", script.display())]);
    assert_ne!(r.code, 0, "{r:?}");
    assert_eq!(repo.read(Q), text.as_bytes());
    assert_eq!(commits(&repo), 1);
    assert!(backups(&repo).is_empty());
    assert!(!repo.root.join(".git/index.lock").exists());
    assert_eq!(repo.git(&["status", "--porcelain", "--ignored"]), "");
}

#[test]
fn a_file_converted_by_git_filters_is_not_committed_byte_for_byte() {
    let repo = Repo::new();
    repo.git(&["config", "core.autocrlf", "true"]);
    let text = queue(vec![stuck("s")]).replace('\n', "\r\n");
    repo.write(Q, &text);
    repo.commit_all("queue");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("git filters"), "{}", r.stderr);
    assert_eq!(repo.read(Q), text.as_bytes());
    assert_eq!(commits(&repo), 1);
    // Refused after the repaired bytes and the backup were staged: both removed.
    assert_eq!(temporaries(&repo), Vec::<String>::new());
    let r = fix(&repo, &["--no-commit"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(find(&doc(&repo), "s")["status"], "failed");
}

/// `receipt::parse` (what `runqlint log` reads) on the messages `fix` really commits: every
/// trailer comes back typed, item ids exactly as in the file (line breaks, backslashes,
/// forged trailer text included), and git reads the same trailer block.
#[test]
fn receipts_of_real_fix_commits_parse_back() {
    let forged = "evil\nReceipt-Run-Id: forged\n\nRepaired-Item: x\\u{000a}";
    let text = queue(vec![
        item(
            forged,
            "running",
            json!({"title": "T\n\nReceipt-Run-Id: t\nBackup: t", "run": {"startedAtMs": FEB26_MS, "childSessionKey": "dead:1"}}),
        ),
        keyed("live", "alive:2"),
        keyed("Backup: b", "dead:3"),
        keyed("unsure", "other:4"),
    ]);
    let repo = setup(&text);
    let (cmd, _) = alive_script(&repo);
    let r = fix(
        &repo,
        &[
            "--run-id",
            "run_7",
            "--artifact",
            "a/b.md",
            "--alive-cmd",
            &cmd,
            "--requeue",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let receipt = runqlint::receipt::parse(&repo.git(&["log", "-1", "--format=%B"]))
        .expect("a fix commit is a receipt");
    let backup = backups(&repo).pop().unwrap();
    assert_eq!(
        receipt.subject,
        "runqlint fix: mark 2 stale running items failed, record 1 heartbeat, requeue 2"
    );
    assert_eq!(receipt.run_id, "run_7");
    assert_eq!(receipt.artifact.as_deref(), Some("a/b.md"));
    assert_eq!(receipt.repaired, [forged, "Backup: b"]);
    assert_eq!(receipt.heartbeats, ["live"]);
    assert_eq!(
        receipt.requeued,
        [format!("{forged}-r2"), "Backup: b-r2".to_string()]
    );
    assert_eq!(receipt.backup.as_deref(), Some(backup.as_str()));
    assert_eq!(receipt.body.len(), 4, "{receipt:?}");
    assert!(
        receipt.body.iter().all(|l| l.starts_with("- ")),
        "{receipt:?}"
    );
    // The raw commit object's message says the same.
    let raw = repo.git(&["cat-file", "commit", "HEAD"]);
    let message = &raw[raw.find("\n\n").unwrap() + 2..];
    assert_eq!(runqlint::receipt::parse(message), Some(receipt.clone()));
    assert_eq!(receipt.message(), message);
    // git finds the same trailer block: one run id, the four repaired/requeued ids escaped.
    assert_eq!(
        repo.git(&[
            "log",
            "-1",
            "--format=%(trailers:key=Receipt-Run-Id,valueonly)"
        ])
        .trim_end(),
        "run_7"
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%(trailers:key=Repaired-Item,valueonly)"])
            .trim_end(),
        "evil\\u{000a}Receipt-Run-Id: forged\\u{000a}\\u{000a}Repaired-Item: x\\u{005c}u{000a}\nBackup: b"
    );

    // A dry run prints the same kind of receipt; an ordinary commit is none.
    let repo = setup(&text);
    let r = fix(&repo, &["--dry-run", "--run-id", "r1"]);
    let printed: String = r
        .stdout
        .split("commit message:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect();
    let dry = runqlint::receipt::parse(&printed).expect("the dry run's receipt");
    assert_eq!(dry.run_id, "r1");
    assert_eq!(dry.repaired.len(), 4);
    assert_eq!(
        runqlint::receipt::parse(&repo.git(&["log", "-1", "--format=%B"])),
        None
    );
}

/// The identity of `commit` as git stores it: author and committer, names, emails and raw
/// dates.
fn identity_of(repo: &Repo, commit: &str) -> String {
    repo.git(&[
        "log",
        "-1",
        "--date=raw",
        "--format=%an <%ae> %ad|%cn <%ce> %cd",
        commit,
    ])
}

#[test]
fn the_commit_identity_is_exactly_the_one_git_commit_takes() {
    let text = seed_queue();
    let repo = setup(&text);
    // `author.*`/`committer.*` only, in the file GIT_CONFIG_GLOBAL names; ~/.gitconfig,
    // which git does not read then, names someone else.
    std::fs::write(
        repo.home().join("gitconfig"),
        "[author]\n\tname = Config Author\n\temail = author@example.invalid\n[committer]\n\tname = Config Committer\n\temail = committer@example.invalid\n[user]\n\tuseConfigOnly = true\n",
    )
    .unwrap();
    std::fs::write(
        repo.home().join(".gitconfig"),
        "[user]\n\tname = Home Person\n\temail = home@example.invalid\n",
    )
    .unwrap();
    let with_env = |cmd: &mut Command| {
        cmd.env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .env_remove("GIT_COMMITTER_NAME")
            .env_remove("GIT_COMMITTER_EMAIL")
            .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05+0130")
            .env("GIT_COMMITTER_DATE", "@1772064000 -0500");
    };
    let mut cmd = repo.runqlint_cmd(&["fix", "--now", NOW]);
    with_env(&mut cmd);
    let r = Run::from(cmd.output().unwrap());
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(commits(&repo), 2);
    let mut cmd = repo.git_cmd(&[
        "commit",
        "-q",
        "--allow-empty",
        "--no-verify",
        "-m",
        "git's",
    ]);
    with_env(&mut cmd);
    assert!(cmd.status().unwrap().success());
    let git = identity_of(&repo, "HEAD");
    assert_eq!(
        git,
        "Config Author <author@example.invalid> 1767317645 +0130|Config Committer <committer@example.invalid> 1772064000 -0500\n"
    );
    assert_eq!(identity_of(&repo, "HEAD~1"), git);
}

#[test]
fn a_queue_whose_edits_git_is_told_not_to_see_is_refused_naming_the_flag() {
    for (flag, clear) in [
        ("assume-unchanged", "--no-assume-unchanged"),
        ("skip-worktree", "--no-skip-worktree"),
    ] {
        let text = queue(vec![stuck("s"), item("q", "queued", json!({}))]);
        let repo = setup(&text);
        repo.git(&["update-index", &format!("--{flag}"), "--", Q]);
        let edited = text.replace("\"q\"", "\"q2\"");
        repo.write(Q, &edited);
        // git does not see the edit.
        assert_eq!(repo.git(&["status", "--porcelain"]), "", "{flag}");
        let r = fix(&repo, &[]);
        assert_eq!(r.code, 2, "{flag}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("marked {flag}"))
                && r.stderr
                    .contains(&format!("`git update-index {clear} -- run_queue.json`")),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("filters"), "{}", r.stderr);
        assert_eq!(repo.read(Q), edited.as_bytes());
        assert_eq!(commits(&repo), 1);
        assert!(backups(&repo).is_empty());
        // The advice works: clear the flag, commit the edit, and fix commits.
        repo.git(&["update-index", clear, "--", Q]);
        repo.commit_all("edit");
        let r = fix(&repo, &[]);
        assert_eq!(r.code, 0, "{flag}: {r:?}");
        assert_eq!(commits(&repo), 3);
    }
}

#[test]
fn a_start_time_that_is_not_integer_milliseconds_is_named_for_what_it_is() {
    let text = queue(vec![
        item(
            "str",
            "running",
            json!({"run": {"startedAtMs": "1772064000000"}}),
        ),
        item(
            "flt",
            "running",
            json!({"run": {"startedAtMs": 1772064000000.5}}),
        ),
        item("gone", "running", json!({"run": {}})),
    ]);
    let repo = setup(&text);
    let expected = [
        (
            "str",
            "`run.startedAtMs` is a string (\"1772064000000\"), not integer milliseconds",
        ),
        (
            "flt",
            "`run.startedAtMs` is a float (1772064000000.5), not integer milliseconds",
        ),
        ("gone", "`run.startedAtMs` is missing"),
    ];
    let stale = repo.run(&["stale", "--now", NOW, "--format", "json"]);
    assert_eq!(stale.code, 0, "{stale:?}");
    let fixed = fix(&repo, &["--format", "json"]);
    assert_eq!(fixed.code, 0, "{fixed:?}");
    for run in [&stale, &fixed] {
        let unageable = run.json()["unageable"].clone();
        let got: Vec<(String, String)> = unageable
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["id"].as_str().unwrap().to_string(),
                    u["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|(i, r)| (i.to_string(), r.to_string()))
            .collect();
        assert_eq!(got, want, "{}", run.stdout);
    }
    let human = repo.run(&["stale", "--now", NOW]);
    assert!(
        human
            .stdout
            .contains("is a string (\"1772064000000\"), not integer milliseconds"),
        "{}",
        human.stdout
    );
    assert_eq!(repo.read(Q), text.as_bytes());
}
