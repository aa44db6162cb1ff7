//! `fix` never loses a byte: killed at every step (a real SIGKILL through the
//! `RUNQLINT_FAILPOINT` test hook) a plain rerun finishes the job; backup names that are
//! taken or are symbolic links are never followed; a full disk or a read-only directory is
//! a clean exit 2; a writer racing the last check is not overwritten; and, over generated
//! queues, the repair is minimal, idempotent and lint-clean.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use crate::support::*;

/// The bytes an uninterrupted `fix --now NOW` makes of `text`, in a repository of its own.
fn reference(text: &str) -> Vec<u8> {
    let repo = setup(text);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    repo.read(Q)
}

fn commits(repo: &Repo) -> usize {
    repo.git(&["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn backups(repo: &Repo) -> Vec<String> {
    names_in(&repo.root)
        .into_iter()
        .filter(|n| n.starts_with("run_queue.backup."))
        .collect()
}

/// No journal, no index.lock, no temporary file anywhere.
fn assert_no_leftovers(repo: &Repo) {
    let git_dir = repo.root.join(".git");
    assert!(!git_dir.join("runqlint-fix.json").exists(), "journal left");
    assert!(!git_dir.join("index.lock").exists(), "index.lock left");
    for dir in [&repo.root, &git_dir] {
        let temps: Vec<String> = names_in(dir)
            .into_iter()
            .filter(|n| n.contains("runqlint-tmp") || n.ends_with(".tmp"))
            .collect();
        assert!(temps.is_empty(), "temporary files left: {temps:?}");
    }
}

fn assert_repository_sound(repo: &Repo) {
    let fsck = repo.git_run(&["fsck", "--strict", "--no-progress"]);
    assert_eq!(fsck.code, 0, "git fsck: {fsck:?}");
    let status = repo.git_run(&["status", "--porcelain"]);
    assert_eq!(status.code, 0, "git status: {status:?}");
}

/// The end state of a completed fix: the repaired bytes in the working tree, in HEAD and
/// in the index; HEAD is one commit on `base` changing only the queue file; other staged
/// work still staged; every backup holds the original bytes.
fn assert_done(repo: &Repo, base: &str, original: &str, repaired: &[u8]) {
    assert_eq!(repo.read(Q), repaired, "working tree");
    assert_eq!(
        repo.git_cmd(&["show", "HEAD:run_queue.json"])
            .output()
            .unwrap()
            .stdout,
        repaired,
        "HEAD"
    );
    assert_eq!(repo.git(&["rev-parse", "HEAD~1"]).trim(), base);
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "run_queue.json\n"
    );
    assert_eq!(
        repo.git(&["rev-parse", ":run_queue.json"]),
        repo.git(&["rev-parse", "HEAD:run_queue.json"]),
        "index entry"
    );
    assert_eq!(repo.git(&["status", "--porcelain", "--", Q]), "");
    assert_eq!(
        repo.git(&["diff", "--cached", "--name-only"]),
        "notes.txt\n"
    );
    let msg = repo.git(&["log", "-1", "--format=%B"]);
    assert!(
        msg.starts_with("runqlint fix: mark 2 stale running items failed\n"),
        "{msg}"
    );
    let b = backups(repo);
    assert!(!b.is_empty());
    for name in &b {
        assert_eq!(repo.read(name), original.as_bytes(), "{name}");
    }
    assert!(msg.contains("\nBackup: run_queue.backup."), "{msg}");
    assert_no_leftovers(repo);
    assert_repository_sound(repo);
}

/// The points `RUNQLINT_FAILPOINT` kills `fix` at, in the order `fix` reaches them.
const POINTS: [&str; 5] = [
    "after-backup",
    "mid-write",
    "before-rename",
    "after-rename",
    "after-commit",
];

/// Kills `fix` at `point` in a repository of `format`, checks what it left, reruns it
/// plainly, checks the job is done, and that one more run changes nothing.
fn killed_at(format: Format, point: &str) {
    let text = seed_queue();
    let repaired = reference(&text);
    let repo = setup_as(format, &text);
    repo.write("notes.txt", "staged work\n");
    repo.add("notes.txt");
    let base = repo.head();

    let out = repo
        .runqlint_cmd(&["fix", "--now", NOW])
        .env("RUNQLINT_FAILPOINT", point)
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(9),
        "{format:?}: not killed at {point}: {out:?}"
    );
    let left = repo.read(Q);
    assert!(
        left == text.as_bytes() || left == repaired,
        "{format:?} {point}: the queue file is neither the old nor the new bytes:\n{}",
        String::from_utf8_lossy(&left)
    );
    serde_json::from_slice::<Value>(&left).unwrap();
    assert_repository_sound(&repo);
    if point == "mid-write" {
        let temps = names_in(&repo.root)
            .into_iter()
            .filter(|n| n.starts_with(".run_queue.json.runqlint-tmp."))
            .count();
        assert_eq!(
            temps, 1,
            "the half-written temporary file is the only trace"
        );
    }

    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{format:?} {point}: {r:?}");
    assert_done(&repo, &base, &text, &repaired);
    format.assert_is(&repo);

    let head = repo.head();
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{format:?} {point}: {r:?}");
    assert!(r.stdout.contains("nothing to repair"), "{}", r.stdout);
    assert_eq!(repo.head(), head);
    assert_eq!(repo.read(Q), repaired);
    assert_no_leftovers(&repo);
}

#[test]
fn killed_after_the_backup_a_rerun_finishes_the_job() {
    killed_at(Format::Plain, "after-backup");
}

#[test]
fn killed_mid_write_a_rerun_finishes_the_job() {
    killed_at(Format::Plain, "mid-write");
}

#[test]
fn killed_before_the_rename_a_rerun_finishes_the_job() {
    killed_at(Format::Plain, "before-rename");
}

#[test]
fn killed_after_the_rename_a_rerun_commits() {
    killed_at(Format::Plain, "after-rename");
}

#[test]
fn killed_after_the_commit_a_rerun_updates_the_index() {
    killed_at(Format::Plain, "after-commit");
}

/// Killed at every step in a repository libgit2 cannot open or whose index it cannot
/// read, `fix` is finished by a rerun as in a plain one: the same journal, the same
/// recovery, through git.
fn killed_at_every_step(format: Format) {
    for point in POINTS {
        killed_at(format, point);
    }
    killed_while_recovering(format);
}

#[test]
fn killed_at_every_step_in_a_sha256_repository_a_rerun_finishes_the_job() {
    killed_at_every_step(Format::Sha256);
}

#[test]
fn killed_at_every_step_in_a_reftable_repository_a_rerun_finishes_the_job() {
    killed_at_every_step(Format::Reftable);
}

#[test]
fn killed_at_every_step_with_a_split_index_a_rerun_finishes_the_job() {
    killed_at_every_step(Format::SplitIndex);
}

#[test]
fn a_rerun_killed_while_recovering_is_finished_by_the_next() {
    killed_while_recovering(Format::Plain);
}

fn killed_while_recovering(format: Format) {
    let text = seed_queue();
    let repaired = reference(&text);
    let repo = setup_as(format, &text);
    repo.write("notes.txt", "staged work\n");
    repo.add("notes.txt");
    let base = repo.head();
    for point in ["after-rename", "after-commit"] {
        let out = repo
            .runqlint_cmd(&["fix", "--now", NOW])
            .env("RUNQLINT_FAILPOINT", point)
            .output()
            .unwrap();
        assert_eq!(out.status.signal(), Some(9), "{format:?} {point}: {out:?}");
    }
    // The second run was killed while committing the first run's job.
    assert_eq!(commits(&repo), 2);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{format:?}: {r:?}");
    assert!(
        r.stderr.contains("finished an interrupted fix"),
        "{}",
        r.stderr
    );
    assert_done(&repo, &base, &text, &repaired);
}

#[test]
fn a_journal_in_an_unexpected_state_is_refused_and_kept() {
    let text = seed_queue();
    let repo = setup(&text);
    let out = repo
        .runqlint_cmd(&["fix", "--now", NOW])
        .env("RUNQLINT_FAILPOINT", "after-rename")
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(9));
    // Someone edits the file before the rerun: neither the original nor the repaired bytes.
    let edited = format!("{text} ");
    repo.write(Q, &edited);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("runqlint-fix.json") && r.stderr.contains("holds other bytes"),
        "{}",
        r.stderr
    );
    assert_eq!(repo.read(Q), edited.as_bytes());
    assert_eq!(commits(&repo), 1);
    assert!(repo.root.join(".git/runqlint-fix.json").exists());
    // The killed run's own lock is released; git works.
    assert!(!repo.root.join(".git/index.lock").exists());
    assert_repository_sound(&repo);
}

#[test]
fn temporary_files_of_dead_writers_are_removed_and_live_ones_kept() {
    let text = seed_queue();
    let repo = setup(&text);
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let live = std::process::id();
    let names = [
        format!(".run_queue.json.runqlint-tmp.{dead}.aaaaaa"),
        format!(".run_queue.backup.20260101T000000Z.json.runqlint-tmp.{dead}.bbbbbb"),
        format!(".run_queue.json.runqlint-tmp.{live}.cccccc"),
    ];
    for n in &names {
        repo.write(n, "half");
    }
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!repo.root.join(&names[0]).exists());
    assert!(!repo.root.join(&names[1]).exists());
    assert!(
        repo.root.join(&names[2]).exists(),
        "a live writer's file was removed"
    );
}

fn finish(child: Child, go: &Path) -> Run {
    std::fs::write(go, "").unwrap();
    let out = child.wait_with_output().unwrap();
    Run::from(out)
}

#[test]
fn a_writer_racing_the_last_check_before_the_rename_is_not_overwritten() {
    let text = seed_queue();
    let repo = setup(&text);
    let (child, go) = spawn_paused(&repo, "before-rename", &[]);
    // The temporary file is complete; another writer changes the queue file now.
    let theirs = format!("{text}\n");
    repo.write(Q, &theirs);
    let r = finish(child, &go);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("changed on disk"), "{}", r.stderr);
    assert_eq!(repo.read(Q), theirs.as_bytes());
    assert_eq!(commits(&repo), 1);
    // The backup taken before the race still holds the bytes fix read.
    for b in backups(&repo) {
        assert_eq!(repo.read(&b), text.as_bytes());
    }
    assert_no_leftovers(&repo);
    assert_repository_sound(&repo);
}

#[test]
fn a_second_fix_while_one_is_running_is_refused() {
    let text = seed_queue();
    let repo = setup(&text);
    let (child, go) = spawn_paused(&repo, "before-rename", &[]);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("another runqlint fix is running"),
        "{}",
        r.stderr
    );
    let r = finish(child, &go);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(commits(&repo), 2);
    assert_eq!(repo.read(Q), reference(&text));
    assert_no_leftovers(&repo);
}

#[test]
fn a_branch_moved_under_the_lock_is_never_overwritten_in_any_format() {
    // Moved after fix checked it (under index.lock) and replaced the file: only the
    // compare-and-swap of the ref stands between the two, libgit2's or `git update-ref`'s.
    for format in Format::ALL {
        let text = seed_queue();
        let repo = setup_as(format, &text);
        repo.git(&[
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            "other",
        ]);
        let other = repo.head();
        repo.git(&["reset", "-q", "--soft", "HEAD~1"]);
        let (child, go) = spawn_paused(&repo, "after-rename", &[]);
        repo.git(&["update-ref", "refs/heads/main", &other]);
        let r = finish(child, &go);
        assert_eq!(r.code, 2, "{format:?}: {r:?}");
        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(
            r.stderr.contains("refs/heads/main moved while fix ran")
                && r.stderr.contains("the file was written but not committed"),
            "{format:?}: {}",
            r.stderr
        );
        assert_eq!(repo.head(), other, "{format:?}");
        assert_eq!(repo.read(Q), reference(&text), "{format:?}");
        assert!(!repo.root.join(".git/runqlint-fix.json").exists());
        assert!(!repo.root.join(".git/index.lock").exists());
        assert_repository_sound(&repo);
    }
}

/// Backup names for the seconds around now (`fix` takes its stamp from the wall clock).
fn stamps_around_now() -> Vec<String> {
    let now = chrono::Utc::now();
    (-1..6)
        .map(|s| {
            (now + chrono::Duration::seconds(s))
                .format("%Y%m%dT%H%M%SZ")
                .to_string()
        })
        .collect()
}

#[test]
fn taken_backup_names_and_symlinks_are_never_followed_or_overwritten() {
    let text = seed_queue();
    let repo = setup(&text);
    let sentinel = repo.scratch().join("sentinel");
    std::fs::write(&sentinel, "sentinel\n").unwrap();
    let nowhere = repo.scratch().join("nowhere");
    for stamp in stamps_around_now() {
        let name = |suffix: &str| {
            repo.root
                .join(format!("run_queue.backup.{stamp}{suffix}.json"))
        };
        std::fs::write(name(""), "someone else's\n").unwrap();
        std::os::unix::fs::symlink(&sentinel, name("-2")).unwrap();
        std::os::unix::fs::symlink(&nowhere, name("-3")).unwrap();
    }
    let before = backups(&repo);
    let r = fix(&repo, &["--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let made = r.json()["backup"].as_str().unwrap().to_string();
    assert!(made.ends_with("-4.json"), "{made}");
    assert!(!before.contains(&made));
    let meta = std::fs::symlink_metadata(repo.root.join(&made)).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(repo.read(&made), text.as_bytes());
    assert!(repo
        .git(&["log", "-1", "--format=%B"])
        .contains(&format!("\nBackup: {made}\n")));
    // Nothing that was there changed: files, links and their targets.
    assert_eq!(std::fs::read(&sentinel).unwrap(), b"sentinel\n");
    assert!(!nowhere.exists());
    for name in &before {
        let p = repo.root.join(name);
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if name.ends_with("-2.json") || name.ends_with("-3.json") {
            assert!(meta.file_type().is_symlink(), "{name}");
        } else {
            assert_eq!(std::fs::read(&p).unwrap(), b"someone else's\n", "{name}");
        }
    }
    assert_eq!(backups(&repo).len(), before.len() + 1);
}

#[test]
fn two_quick_runs_get_two_backups() {
    let text = seed_queue();
    let repo = setup(&text);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let b = backups(&repo);
    assert_eq!(b.len(), 2, "{b:?}");
    for name in &b {
        assert_eq!(repo.read(name), text.as_bytes());
    }
}

#[test]
fn write_new_refuses_a_symlink_or_a_file_at_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let sentinel = dir.path().join("sentinel");
    std::fs::write(&sentinel, "keep").unwrap();
    let link = dir.path().join("q.backup.x.json");
    std::os::unix::fs::symlink(&sentinel, &link).unwrap();
    let e = runqlint::atomic::write_new(&link, b"new").unwrap_err();
    assert!(e.to_string().contains("never overwritten"), "{e}");
    assert_eq!(std::fs::read(&sentinel).unwrap(), b"keep");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let file = dir.path().join("q.backup.y.json");
    std::fs::write(&file, "theirs").unwrap();
    assert!(runqlint::atomic::write_new(&file, b"new").is_err());
    assert_eq!(std::fs::read(&file).unwrap(), b"theirs");
    // Nothing else was left in the directory.
    assert_eq!(names_in(dir.path()).len(), 3);
}

/// A queue whose file is large but compresses well, so that the journal and the blob fit
/// under a small file-size limit and the backup and the new file do not.
fn big_queue() -> String {
    let mut v: Value = serde_json::from_str(&seed_queue()).unwrap();
    v["items"][0]["notes"] = json!("x".repeat(300_000));
    pretty(&v)
}

/// `runqlint fix ARGS` with RLIMIT_FSIZE at 100 blocks and SIGXFSZ ignored: a write past
/// the limit fails with EFBIG, as on a full disk.
fn fix_with_small_disk(repo: &Repo, extra: &[&str]) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 100; exec \"$0\" \"$@\"")
        .arg(bin())
        .args(["fix", "--now", NOW])
        .args(extra)
        .current_dir(&repo.root)
        .stdin(Stdio::null());
    isolate(&mut cmd, repo.home());
    let out = cmd.output().unwrap();
    Run::from(out)
}

#[test]
fn a_full_disk_is_a_clean_exit_2_with_the_original_intact() {
    let text = big_queue();
    let repo = setup(&text);
    let head = repo.head();
    for extra in [&[][..], &["--no-backup"][..]] {
        let r = fix_with_small_disk(&repo, extra);
        assert_eq!(r.code, 2, "{extra:?}: {r:?}");

        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains("File too large"), "{}", r.stderr);
        assert!(!r.stderr.contains("runqlint-tmp"), "{}", r.stderr);
        assert_eq!(repo.read(Q), text.as_bytes());
        assert_eq!(repo.head(), head);
        assert!(backups(&repo).is_empty());
        assert_eq!(repo.git(&["status", "--porcelain"]), "");
        assert_no_leftovers(&repo);
        assert_repository_sound(&repo);
    }
    // With room, the same command works.
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(commits(&repo), 2);
}

/// Makes a directory read-only even for root: the immutable attribute (`chattr +i`), which
/// refuses creating, renaming and removing entries in it. Removed on drop.
struct Immutable(PathBuf);

impl Immutable {
    fn set(dir: &Path) -> Option<Immutable> {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Immutable(dir.to_path_buf()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// The queue's directory is made immutable with `chattr +i` (root ignores permission
/// bits, not this attribute). Where `chattr` is missing or the file system does not support
/// the attribute, the test says so on stderr and checks nothing.
#[test]
fn a_read_only_directory_is_a_clean_exit_2_with_the_original_intact() {
    let text = seed_queue();
    let repo = Repo::new();
    let rel = "brain/run_queue.json";
    repo.write(rel, &text);
    repo.commit_all("queue");
    let head = repo.head();
    let Some(guard) = Immutable::set(&repo.root.join("brain")) else {
        eprintln!("chattr +i is not available here; read-only directory not tested");
        return;
    };
    for extra in [&[][..], &["--no-backup"][..]] {
        let mut args = vec!["fix", "--now", NOW, rel];
        args.extend_from_slice(extra);
        let r = repo.run(&args);
        assert_eq!(r.code, 2, "{extra:?}: {r:?}");

        assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
        assert!(r.stderr.contains("Operation not permitted"), "{}", r.stderr);
        assert!(!r.stderr.contains("runqlint-tmp"), "{}", r.stderr);
        assert_eq!(repo.read(rel), text.as_bytes());
        assert_eq!(repo.head(), head);
        assert_eq!(names_in(&repo.root.join("brain")), ["run_queue.json"]);
        assert_no_leftovers(&repo);
        assert_repository_sound(&repo);
    }
    drop(guard);
    let r = repo.run(&["fix", "--now", NOW, rel]);
    assert_eq!(r.code, 0, "{r:?}");
}

mod props {
    //! The repair over generated queues, through the library as `fix` drives it.

    use std::collections::{HashMap, HashSet};

    use proptest::prelude::*;
    use serde_json::{json, Value};

    use runqlint::config::{Levels, Mark};
    use runqlint::document::{self, SpanIndex};
    use runqlint::edit::{apply_items, Changed, Edit};
    use runqlint::lint::{lint, Input, Settings, Severity};
    use runqlint::queue::{Running, Status, ValueQueue};
    use runqlint::repair::{self, Action, Ended, Finish, Liveness, Options};
    use runqlint::rules::{Level, Rule};
    use runqlint::scan;

    use crate::support::{FEB26_MS, NOW_MS};

    const STATUSES: [&str; 6] = ["queued", "running", "done", "failed", "canceled", "stale"];
    const HOUR: i64 = 3_600_000;
    const STALE_AFTER: i64 = 6 * HOUR;

    fn arb_item(i: usize) -> impl Strategy<Value = Value> {
        (
            0..6usize,
            proptest::option::of(0i64..400 * 86_400_000),
            proptest::option::of(0.0f64..1.0),
            proptest::option::of(1i64..48 * HOUR),
            any::<bool>(),
            "[ -~é]{0,10}",
        )
            .prop_map(move |(s, age, beat, stale_after, extra, text)| {
                let status = if i % 2 == 0 { "running" } else { STATUSES[s] };
                let mut v = json!({"id": format!("item-{i}"), "status": status, "title": text});
                if let Some(age) = age {
                    let started = NOW_MS - age;
                    let mut run =
                        json!({"startedAtMs": started, "childSessionKey": format!("k{i}")});
                    if let Some(f) = beat {
                        run["lastHeartbeatAtMs"] = json!(started + (age as f64 * f) as i64);
                    }
                    if let Some(ms) = stale_after {
                        run["staleAfterMs"] = json!(ms);
                    }
                    if ["done", "failed", "canceled"].contains(&status) {
                        run["finishedAtMs"] = json!(NOW_MS);
                    }
                    if extra {
                        run["x-unknown"] = json!({"keep": [1, 2]});
                    }
                    v["run"] = run;
                }
                if status == "stale" {
                    v["triage"] = json!({"status": "needs_review", "flaggedAtMs": FEB26_MS});
                }
                v
            })
    }

    fn arb_queue() -> impl Strategy<Value = Vec<Value>> {
        (1..10usize).prop_flat_map(|n| (0..n).map(arb_item).collect::<Vec<_>>())
    }

    /// 0: 2-space, 1: 4-space, 2: minified, 3: 2-space with CRLF; bare array or object.
    fn render(items: &[Value], style: u8, bare: bool) -> String {
        let doc = if bare {
            Value::Array(items.to_vec())
        } else {
            json!({"version": 3, "items": items, "meta": {"k": "v"}})
        };
        match style {
            0 => serde_json::to_string_pretty(&doc).unwrap() + "\n",
            1 => {
                let mut out = Vec::new();
                let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
                let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
                serde::Serialize::serialize(&doc, &mut ser).unwrap();
                String::from_utf8(out).unwrap() + "\n"
            }
            2 => serde_json::to_string(&doc).unwrap(),
            _ => {
                serde_json::to_string_pretty(&doc)
                    .unwrap()
                    .replace('\n', "\r\n")
                    + "\r\n"
            }
        }
    }

    fn settings() -> Settings {
        let mut levels = Levels::default();
        levels.set(Rule::StaleRunning, Level::Warn);
        Settings {
            levels,
            now_ms: NOW_MS,
            stale_after_ms: STALE_AFTER,
        }
    }

    fn errors(base: &str, current: &str) -> HashSet<(Rule, String)> {
        let input = Input {
            path: "run_queue.json",
            current: Some(current.as_bytes()),
            base: Some(("HEAD", base.as_bytes())),
        };
        lint(&input, &settings())
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| (d.rule, d.pointer))
            .collect()
    }

    /// One round of `fix` on `text`: the plan and the repaired text. `answer` gives each
    /// candidate's liveness by id.
    fn repair_once(
        text: &str,
        answer: &dyn Fn(&str) -> Liveness,
        opts: &Options,
    ) -> (repair::Plan, String) {
        let parsed = document::parse(text.as_bytes()).unwrap();
        let queue = ValueQueue::new(&parsed.value);
        let survey = repair::survey(&queue, opts.now_ms, STALE_AFTER);
        let liveness: Vec<Liveness> = survey.stale.iter().map(|c| answer(&c.id)).collect();
        let plan = repair::plan(text, &parsed.value, &survey, &liveness, opts);
        let new = runqlint::edit::apply(text, &plan.edits).unwrap();
        let reparsed = document::parse(new.as_bytes()).unwrap();
        assert_eq!(
            reparsed.value,
            plan.intended.document(&parsed.value),
            "the splice is not the plan"
        );
        (plan, new)
    }

    /// Any answer a provider gives, by `pick`.
    fn any_answer(pick: u8, now: i64) -> Liveness {
        match pick % 7 {
            0 => Liveness::Dead("test".into()),
            1 => Liveness::Alive("test".into()),
            2 => Liveness::Unknown("test".into()),
            3 => Liveness::Active {
                why: "queued".into(),
                last_event_ms: now - HOUR,
            },
            4 => Liveness::Active {
                why: "old".into(),
                last_event_ms: FEB26_MS,
            },
            5 => Liveness::Ended(Ended {
                why: "lost \u{202e}".into(),
                finish: Finish::Failed,
                finished_ms: now - 2 * HOUR,
                error: Some("gone \"away\"\n".into()),
            }),
            _ => Liveness::Ended(Ended {
                why: "succeeded".into(),
                finish: Finish::Done,
                finished_ms: now,
                error: None,
            }),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, .. ProptestConfig::default() })]

        /// The path `fix` takes for a file the scanner reads (only the running items
        /// parsed, only the edited items indexed, the splice verified item by item) plans
        /// exactly what the whole-document path plans, and writes the same bytes.
        #[test]
        fn item_path_and_whole_document_path_agree(
            items in arb_queue(),
            style in 0u8..4,
            bare in any::<bool>(),
            triaged in proptest::collection::vec(any::<bool>(), 10),
            answers in proptest::collection::vec(0u8..7, 10),
            stale_mark in any::<bool>(),
            requeue in any::<bool>(),
            max_attempts in 1u32..4,
        ) {
            // Non-empty titles, and a triage object on some running items, so that the
            // scanner reads every document and both ways of setting triage are taken.
            let items: Vec<Value> = items
                .into_iter()
                .enumerate()
                .map(|(i, mut v)| {
                    v["title"] = json!(format!("t{}", v["title"].as_str().unwrap_or("")));
                    if v["status"] == "running" && triaged[i % triaged.len()] {
                        v["triage"] = json!({"status": "needs_review", "x-note": [1]});
                    }
                    v
                })
                .collect();
            let text = render(&items, style, bare);
            let opts = Options {
                now_ms: NOW_MS,
                mark: if stale_mark { Mark::Stale } else { Mark::Failed },
                requeue,
                max_attempts,
            };
            let answer = |id: &str| {
                let i: usize = id.trim_start_matches("item-").parse().unwrap_or(0);
                any_answer(answers[i % answers.len()], NOW_MS)
            };

            // The whole document.
            let parsed = document::parse(text.as_bytes()).unwrap();
            let whole_q = ValueQueue::new(&parsed.value);
            let whole_s = repair::survey(&whole_q, NOW_MS, STALE_AFTER);
            let live: Vec<Liveness> = whole_s.stale.iter().map(|c| answer(&c.id)).collect();
            let whole = repair::plan(&text, &parsed.value, &whole_s, &live, &opts);

            // The items.
            let scanned = scan::scan(&text);
            prop_assert!(scanned.is_some(), "the scanner declined {}", text);
            let scanned = scanned.unwrap();
            let running = Running::parse(&scanned).unwrap();
            let items_q = ValueQueue::running(&running);
            let items_s = repair::survey(&items_q, NOW_MS, STALE_AFTER);
            let plan = repair::plan_items(&text, &scanned, &items_q, &items_s, &live, &opts);

            // The same survey and plan (a candidate's slot indexes its own queue).
            let strip = |s: &repair::Survey| {
                let mut s = s.clone();
                s.stale.iter_mut().for_each(|c| c.slot = 0);
                format!("{s:?}")
            };
            prop_assert_eq!(strip(&items_s), strip(&whole_s));
            prop_assert_eq!(&plan.edits, &whole.edits);
            prop_assert_eq!(plan.outcomes.len(), whole.outcomes.len());
            for (a, b) in plan.outcomes.iter().zip(&whole.outcomes) {
                prop_assert_eq!(&a.action, &b.action);
                prop_assert_eq!(&a.requeue, &b.requeue);
                prop_assert_eq!(&a.candidate.pointer, &b.candidate.pointer);
            }
            prop_assert_eq!(&plan.intended.appended, &whole.intended.appended);
            prop_assert_eq!(plan.intended.changed.len(), whole.intended.changed.len());
            for (a, b) in plan.intended.changed.iter().zip(&whole.intended.changed) {
                prop_assert_eq!(&a.pointer, &b.pointer);
                prop_assert_eq!(&a.value, &b.value);
                prop_assert!(a.span.is_some());
            }

            // The same bytes, verified item by item; and what they parse to is the plan.
            let whole_text = runqlint::edit::apply(&text, &whole.edits).unwrap();
            let changed: Vec<Changed> = plan
                .intended
                .changed
                .iter()
                .map(|c| Changed { span: c.span.unwrap(), value: &c.value })
                .collect();
            let end = scanned.items.last().and_then(|i| i.body.span()).map(|s| s.1);
            let item_text =
                apply_items(&text, &plan.edits, &changed, end, &plan.intended.appended).unwrap();
            prop_assert_eq!(&item_text, &whole_text);
            let reparsed = document::parse(item_text.as_bytes()).unwrap();
            prop_assert_eq!(reparsed.value, whole.intended.document(&parsed.value));

            // One more edit that leaves the document's value alone but touches a byte
            // outside the changed items (whitespace before the first item) is refused.
            let first = scanned.items[0].body.span().unwrap().0;
            let mut more = plan.edits.clone();
            more.push(Edit { start: first, end: first, text: " ".into() });
            let harmless = runqlint::edit::apply(&text, &more).unwrap();
            prop_assert_eq!(
                document::parse(harmless.as_bytes()).unwrap().value,
                whole.intended.document(&parsed.value)
            );
            prop_assert!(apply_items(&text, &more, &changed, end, &plan.intended.appended).is_err());
        }

        #[test]
        fn repair_is_lint_clean_idempotent_and_minimal(
            items in arb_queue(),
            style in 0u8..4,
            bare in any::<bool>(),
            answers in proptest::collection::vec(0u8..3, 10),
            stale_mark in any::<bool>(),
            requeue in any::<bool>(),
            max_attempts in 1u32..4,
        ) {
            let text = render(&items, style, bare);
            let answer = |id: &str| {
                let i: usize = id.trim_start_matches("item-").parse().unwrap_or(0);
                match answers[i % answers.len()] {
                    0 => Liveness::Dead("test".into()),
                    1 => Liveness::Alive("test".into()),
                    _ => Liveness::Unknown("test".into()),
                }
            };
            let opts = Options {
                now_ms: NOW_MS,
                mark: if stale_mark { Mark::Stale } else { Mark::Failed },
                requeue,
                max_attempts,
            };
            let (plan, new) = repair_once(&text, &answer, &opts);

            // No new error against the old version.
            let before = errors(&text, &text);
            let after = errors(&text, &new);
            let added: Vec<_> = after.difference(&before).collect();
            prop_assert!(added.is_empty(), "new errors {:?}\n{}", added, new);

            // Idempotent: the same answers plan nothing on the result.
            let (again, same) = repair_once(&new, &answer, &opts);
            prop_assert!(!again.changes_anything(), "second round: {:?}", again.edits);
            prop_assert_eq!(&same, &new);

            // No item removed or moved, terminal items untouched.
            let old_doc = document::parse(text.as_bytes()).unwrap().value;
            let new_doc = document::parse(new.as_bytes()).unwrap().value;
            let old_q = ValueQueue::new(&old_doc);
            let new_q = ValueQueue::new(&new_doc);
            prop_assert!(new_q.items.len() >= old_q.items.len());
            for (o, n) in old_q.entries().zip(new_q.entries()) {
                prop_assert_eq!(o.view.id, n.view.id);
                if o.view.status.is_some_and(Status::is_terminal) {
                    prop_assert_eq!(o.object, n.object);
                }
            }

            // Every byte outside the repaired items is unchanged: the gaps between items,
            // the text before the first and after the last, and each untouched item.
            let repaired: HashSet<usize> = plan
                .outcomes
                .iter()
                .filter(|o| o.action != Action::Left)
                .map(|o| o.candidate.slot)
                .collect();
            let old_idx = SpanIndex::build(&text);
            let new_idx = SpanIndex::build(&new);
            let ptr = old_q.items_pointer;
            let spans = |idx: &SpanIndex, n: usize| -> Vec<(usize, usize)> {
                (0..n)
                    .map(|i| {
                        let s = idx.value_span(&format!("{ptr}/{i}"));
                        (s.start, s.end)
                    })
                    .collect()
            };
            let n = old_q.items.len();
            let os = spans(&old_idx, n);
            let ns = spans(&new_idx, new_q.items.len());
            prop_assert_eq!(&text[..os[0].0], &new[..ns[0].0]);
            for i in 0..n {
                if !repaired.contains(&i) {
                    prop_assert_eq!(&text[os[i].0..os[i].1], &new[ns[i].0..ns[i].1], "item {}", i);
                }
                if i + 1 < n {
                    prop_assert_eq!(&text[os[i].1..os[i + 1].0], &new[ns[i].1..ns[i + 1].0]);
                }
            }
            let last_new = ns.last().unwrap().1;
            prop_assert_eq!(&text[os[n - 1].1..], &new[last_new..]);

            // What changed is exactly the plan: repaired ids, appended requeues.
            let by_id: HashMap<&str, &serde_json::Map<String, Value>> = new_q.entries().filter_map(|i| Some((i.view.id?, i.object))).collect();
            for o in &plan.outcomes {
                let v = by_id[o.candidate.id.as_str()];
                match &o.action {
                    Action::Marked(Mark::Failed) => prop_assert_eq!(&v["status"], "failed"),
                    Action::Marked(Mark::Stale) => prop_assert_eq!(&v["status"], "stale"),
                    Action::Heartbeat => prop_assert_eq!(v["run"]["lastHeartbeatAtMs"].as_i64(), Some(NOW_MS)),
                    Action::Left | Action::Kept => prop_assert_eq!(&v["status"], "running"),
                    Action::Reconciled(f) => prop_assert_eq!(&v["status"], f.as_str()),
                }
            }
            prop_assert_eq!(new_q.items.len() - n, plan.appended().count());
        }
    }
}
