//! Hostile input to `check`: every case is a located finding (exit 1) or a clear one-line
//! reason (exit 2); never a panic, never a hang, never a change to the file.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

/// What one run on hostile input may cost in CPU time (user + system of the process and
/// the children it waited for). CPU time, unlike the wall clock, does not grow when other
/// builds load the machine, so the bound can stay tight enough to catch work that grows
/// with the square of the input.
const CPU_LIMIT: Duration = Duration::from_secs(20);

/// A hang guard, never a measurement: a run still alive after this long is killed and the
/// test fails saying so (instead of the suite never ending).
const HANG: Duration = Duration::from_secs(300);

/// Runs `cmd` to its end (or kills it at [`HANG`]) and returns the run and the CPU time it
/// used, read from `wait4`'s resource usage of that one child (`wait4` reaps it, which
/// `Child::wait` would do without the usage).
#[allow(clippy::zombie_processes)]
fn guarded(mut cmd: Command) -> (Run, Duration) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                p.read_to_end(&mut buf).unwrap();
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    let mut killed = false;
    // Polled, so the process is killed only while it is certainly not yet reaped.
    loop {
        let flags = if killed { 0 } else { libc::WNOHANG };
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break;
        }
        if start.elapsed() > HANG {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        } else {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        !killed,
        "still running after {HANG:?} (killed): {}",
        String::from_utf8_lossy(&err)
    );
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = tv(usage.ru_utime) + tv(usage.ru_stime);
    let status = std::os::unix::process::ExitStatusExt::from_raw(status);
    let run = Run::from(std::process::Output {
        status,
        stdout: out,
        stderr: err,
    });
    (run, cpu)
}

/// Runs `runqlint ARGS` in `repo` through [`guarded`], asserts it stayed within
/// [`CPU_LIMIT`] and printed no panic, and returns the run.
fn run_bounded(repo: &Repo, args: &[&str]) -> Run {
    let (run, cpu) = guarded(repo.runqlint_cmd(args));
    assert!(cpu < CPU_LIMIT, "used {cpu:?} of CPU time: {args:?}");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// Runs `check --format json` on `bytes` written as `run_queue.json` in a fresh repo (no
/// base), asserts the file is untouched and the run stayed within its CPU bound, and
/// returns the run.
fn check_bytes(bytes: &[u8]) -> Run {
    let repo = Repo::new();
    repo.write("run_queue.json", bytes);
    let run = run_bounded(&repo, &["check", "--format", "json", "--now", NOW]);
    assert_eq!(repo.read("run_queue.json"), bytes, "the file was changed");
    run
}

/// The single finding of an invalid document: (rule, line, column, message).
fn syntax(bytes: &[u8]) -> (String, u64, u64, String) {
    let run = check_bytes(bytes);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let d = run.json()["diagnostics"][0].clone();
    (
        d["rule"].as_str().unwrap().to_string(),
        d["line"].as_u64().unwrap(),
        d["column"].as_u64().unwrap(),
        d["message"].as_str().unwrap().to_string(),
    )
}

#[test]
fn broken_documents_are_located_invalid_json_findings() {
    let cases: &[(&[u8], u64, u64, &str)] = &[
        (b"", 1, 1, "empty"),
        (b"  \n\t\n", 1, 1, "whitespace"),
        (b"\xef\xbb\xbf{\"items\": []}", 1, 1, "byte order mark"),
        (b"{\"items\": [\n  {\"id\": \"\xff\"}]}", 2, 11, "UTF-8"),
        (b"{\"items\": [\x00]}", 1, 12, "expected value"),
        (b"{\"items\": [\n<<<<<<< HEAD\n]}", 2, 1, "merge-conflict"),
        (b"{\"items\": [\n  {\"id\": \"a\"", 2, 12, "EOF"),
        (b"{\"items\": []} trailing", 1, 15, "trailing characters"),
        (b"{\"items\": [] // note\n}", 1, 14, "expected"),
        (b"{\"items\": [1,]}", 1, 14, "trailing comma"),
        (b"[NaN]", 1, 2, "expected value"),
        (b"[-Infinity]", 1, 2, "invalid number"),
        (b"[1e400]", 1, 2, "out of range"),
        (b"null x", 1, 6, "trailing"),
    ];
    for (bytes, line, col, needle) in cases {
        let (rule, l, c, message) = syntax(bytes);
        assert_eq!(rule, "invalid-json", "{bytes:?}");
        assert_eq!((l, c), (*line, *col), "{bytes:?}: {message}");
        assert!(message.contains(needle), "{bytes:?}: {message}");
    }
}

#[test]
fn a_merge_conflict_gets_a_specific_hint() {
    let run = Repo::new();
    run.write("run_queue.json", "{\"items\": [\n<<<<<<< HEAD\n  {\"id\": \"a\", \"status\": \"done\"}\n=======\n  {\"id\": \"a\", \"status\": \"failed\"}\n>>>>>>> other\n]}\n");
    let human = run.run(&["check"]);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains("resolve the merge conflict"),
        "{}",
        human.stdout
    );
}

#[test]
fn numbers_and_types_where_they_do_not_belong_are_schema_findings() {
    let cases = [
        json!([{"id": "a", "status": "running", "run": {"startedAtMs": -0.0}}]),
        json!([{"id": "a", "status": "running", "run": {"startedAtMs": 1.5}}]),
        json!([{"id": "a", "status": "running", "run": {"startedAtMs": 18446744073709551616.0}}]),
        json!([{"id": "a", "status": "running", "run": "soon"}]),
        json!({"items": {"a": 1}}),
        json!([1, "x", null]),
        json!([{"id": 5, "status": "done"}]),
        json!([{"id": "", "status": "done"}]),
        json!(null),
        json!(42),
    ];
    for doc in cases {
        let run = check_bytes(pretty(&doc).as_bytes());
        assert_eq!(run.code, 1, "{doc}");
        assert!(
            run.rules().contains(&"schema".to_string()),
            "{doc}: {:?}",
            run.rules()
        );
    }
    // 2^64 written as an integer literal: serde_json reads it as a float; still a schema finding.
    let run = check_bytes(
        b"[{\"id\": \"a\", \"status\": \"done\", \"createdAtMs\": 18446744073709551616}]",
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.findings()[0].0, "schema");
    // serde_json reads the literal -0 as a float: not integer milliseconds.
    let run = check_bytes(b"[{\"id\": \"a\", \"status\": \"done\", \"createdAtMs\": -0}]");
    assert_eq!(run.findings(), [("schema".to_string(), 1, 47)]);
}

#[test]
fn a_ten_megabyte_id_is_reported_without_being_echoed() {
    let id = "x".repeat(10 * 1024 * 1024);
    let doc = format!("[{{\"id\": \"{id}\", \"status\": \"running\"}}, {{\"id\": \"{id}\", \"status\": \"done\"}}]");
    let run = check_bytes(doc.as_bytes());
    assert_eq!(run.code, 1);
    assert!(run.rules().contains(&"duplicate-id".to_string()));
    // JSON output carries the id verbatim (it is data); messages and human output do not.
    for d in run.json()["diagnostics"].as_array().unwrap() {
        assert!(d["message"].as_str().unwrap().len() < 500);
    }
    let repo = Repo::new();
    repo.write("run_queue.json", &doc);
    let human = run_bounded(&repo, &["check"]);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.len() < 10_000,
        "human output is {} bytes",
        human.stdout.len()
    );
}

#[test]
fn deep_nesting_is_a_finding_not_a_stack_overflow() {
    let doc = "[".repeat(100_000) + &"]".repeat(100_000);
    let (rule, line, _, message) = syntax(doc.as_bytes());
    assert_eq!((rule.as_str(), line), ("invalid-json", 1));
    assert!(message.contains("recursion limit"), "{message}");
}

#[test]
fn duplicate_keys_at_every_level_are_each_reported() {
    let doc = "{\"items\": [{\"id\": \"a\", \"status\": \"done\", \"run\": {\"error\": \"x\", \"error\": \"y\"}, \"id\": \"b\"}], \"items\": []}";
    let run = check_bytes(doc.as_bytes());
    let dups: Vec<_> = run
        .findings()
        .into_iter()
        .filter(|f| f.0 == "duplicate-key")
        .collect();
    assert_eq!(dups.len(), 3, "{dups:?}");
    let cols: Vec<_> = dups.iter().map(|f| f.2).collect();
    assert_eq!(
        cols,
        [
            doc.match_indices("\"error\"").nth(1).unwrap().0 as u64 + 1,
            doc.match_indices("\"id\"").nth(1).unwrap().0 as u64 + 1,
            doc.match_indices("\"items\"").nth(1).unwrap().0 as u64 + 1,
        ]
    );
}

#[test]
fn crlf_files_are_located_on_the_right_line_and_column() {
    let doc = queue(vec![item("a", "running", json!({}))]).replace('\n', "\r\n");
    let run = check_bytes(doc.as_bytes());
    let (line, col) = pos_of_nth(&doc, "\"running\"", 0);
    assert_eq!(
        run.findings(),
        [("running-without-start".to_string(), line, col)]
    );
}

#[test]
fn files_that_are_not_regular_files_are_refused_in_one_line() {
    let repo = Repo::new();
    // A directory.
    std::fs::create_dir(repo.root.join("run_queue.json")).unwrap();
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    std::fs::remove_dir(repo.root.join("run_queue.json")).unwrap();
    // A symbolic link (to a valid queue): git would commit the link, not the queue.
    repo.write("real.json", queue(vec![]));
    std::os::unix::fs::symlink("real.json", repo.root.join("run_queue.json")).unwrap();
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    repo.add("run_queue.json");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    std::fs::remove_file(repo.root.join("run_queue.json")).unwrap();
    repo.git(&["rm", "-q", "--cached", "run_queue.json"]);
    // A FIFO would block a reader forever.
    let fifo = repo.root.join("run_queue.json");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    // A blocking read would never end: the hang guard fails the test instead.
    let run = run_bounded(&repo, &["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
}

#[test]
fn an_oversized_file_is_refused_with_a_configurable_limit() {
    let repo = Repo::new();
    // 200 MB, sparse: refused from its size before a byte is read.
    let f = std::fs::File::create(repo.root.join("run_queue.json")).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap();
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("max-file-size"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1);
    // The limit applies to git blobs too, and is configurable.
    repo.write(
        "run_queue.json",
        queue(vec![item("a", "done", json!({"notes": "n".repeat(4096)}))]),
    );
    repo.commit_all("big item");
    repo.write("runqlint.toml", "max-file-size = \"1KiB\"\n");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("over the limit of 1024"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_broken_base_is_reported_and_the_new_version_still_checked() {
    let repo = Repo::new();
    repo.write("run_queue.json", "{\"items\": [\n<<<<<<< HEAD\n");
    repo.commit_all("broken");
    repo.write(
        "run_queue.json",
        queue(vec![item("a", "running", json!({}))]),
    );
    let run = repo.run(&["check", "--format", "json", "--now", NOW]);
    assert_eq!(run.code, 1);
    let d = run.json()["diagnostics"].clone();
    let rules: Vec<_> = d
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["rule"].clone(), d["severity"].clone()))
        .collect();
    assert_eq!(
        rules,
        [
            (json!("running-without-start"), json!("error")),
            (json!("invalid-json"), json!("warning"))
        ]
    );
    assert!(d[1]["message"]
        .as_str()
        .unwrap()
        .starts_with("HEAD version is not valid JSON"));
}

#[test]
fn a_merge_in_progress_is_a_clear_reason() {
    let repo = Repo::new();
    repo.write(
        "run_queue.json",
        queue(vec![item("a", "queued", json!({}))]),
    );
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("run_queue.json", queue(vec![item("a", "done", json!({}))]));
    repo.commit_all("other");
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        "run_queue.json",
        queue(vec![item("a", "failed", json!({}))]),
    );
    repo.commit_all("main");
    assert_ne!(
        repo.git_run(&["merge", "-q", "other"]).code,
        0,
        "the merge must conflict"
    );
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unresolved merge conflicts"),
        "{}",
        run.stderr
    );
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.findings()[0].0, "invalid-json");
}

#[test]
fn bare_repositories_worktrees_and_odd_paths_work() {
    // A bare repository: single-file rules on a plain path, a clear reason for --staged.
    let bare = Repo::init(&["--bare"]);
    bare.write("q.json", queue(vec![item("a", "running", json!({}))]));
    assert_eq!(
        bare.run(&["check", "q.json", "--format", "json"]).rules(),
        ["running-without-start"]
    );
    let run = bare.run(&["check", "q.json", "--staged"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bare repository"), "{}", run.stderr);

    // A linked worktree compares with its own HEAD.
    let repo = Repo::new();
    repo.write("run_queue.json", queue(vec![item("a", "done", json!({}))]));
    repo.commit_all("base");
    let wt = repo.scratch().join("wt dir");
    repo.git(&["worktree", "add", "-q", "-b", "side", wt.to_str().unwrap()]);
    std::fs::write(
        wt.join("run_queue.json"),
        queue(vec![item("a", "queued", json!({}))]),
    )
    .unwrap();
    let run = repo.run_in(&wt, &["check", "--format", "json"]);
    assert_eq!(run.rules(), ["terminal-status-changed"], "{}", run.stderr);

    // Paths with spaces and non-ASCII characters.
    let name = "queues/ünïcode dir/run queue.json";
    repo.write(name, queue(vec![item("a", "done", json!({}))]));
    repo.commit_all("odd path");
    repo.write(name, queue(vec![item("a", "canceled", json!({}))]));
    let run = repo.run(&["check", "--format", "json", name]);
    assert_eq!(run.rules(), ["terminal-status-changed"], "{}", run.stderr);
    assert_eq!(run.json()["diagnostics"][0]["path"], name);
    repo.add(name);
    assert_eq!(repo.run(&["check", "--staged", name]).code, 1);
}

#[test]
fn a_submodule_path_is_refused() {
    let sub = Repo::new();
    sub.write("x", "x");
    sub.commit_all("sub");
    let repo = Repo::new();
    let url = sub.root.to_str().unwrap().to_string();
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        &url,
        "run_queue.json",
    ]);
    repo.git(&["commit", "-q", "-m", "submodule"]);
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("directory"), "{}", run.stderr);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("submodule"), "{}", run.stderr);
}

#[test]
fn item_data_never_reaches_the_terminal_or_a_workflow_command_unescaped() {
    let evil =
        "x\u{1b}]0;pwned\u{7}\u{1b}[31m\n::set-env name=A::B\r\n::add-mask::x\u{9b}2J\u{202e}";
    let doc = queue(vec![
        item(evil, "running", json!({"title": evil})),
        item(evil, "queued", json!({})),
    ]);
    let repo = Repo::new();
    repo.write("run_queue.json", &doc);
    for format in ["human", "json", "github", "sarif"] {
        let run = repo.run(&["check", "--now", NOW, "--format", format]);
        assert_eq!(run.code, 1, "{format}");
        for (name, out) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !out.contains('\u{1b}')
                    && !out.contains('\u{9b}')
                    && !out.contains('\u{7}')
                    && !out.contains('\u{202e}'),
                "{format} {name}: {out:?}"
            );
            for line in out.lines() {
                assert!(
                    !line.starts_with("::set-env") && !line.starts_with("::add-mask"),
                    "{format} {name}: {line:?}"
                );
            }
        }
    }
}

/// Inputs the fuzzer (`fuzz/fuzz_targets/lint_pair.rs`) once crashed on, split into base and
/// new version exactly as the fuzz target splits them.
#[test]
fn fuzz_regressions_do_not_panic() {
    use runqlint::lint::{lint, Input, Settings};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let Some((&split, rest)) = data.split_first() else {
            continue;
        };
        let at = (split as usize * rest.len()) / 255;
        let (base, new) = rest.split_at(at.min(rest.len()));
        let settings = Settings {
            levels: runqlint::config::Levels::default(),
            now_ms: NOW_MS,
            stale_after_ms: 21_600_000,
        };
        let report = lint(
            &Input {
                path: "q.json",
                current: Some(new),
                base: Some(("HEAD", base)),
            },
            &settings,
        );
        for format in [
            runqlint::output::Format::Human,
            runqlint::output::Format::Json,
            runqlint::output::Format::Github,
            runqlint::output::Format::Sarif,
        ] {
            let _ = runqlint::output::render(format, std::slice::from_ref(&report));
        }
        seen += 1;
    }
    assert!(seen >= 1, "no regression inputs in {dir}");
}
