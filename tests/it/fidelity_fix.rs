//! `fix` agrees with git about what may be committed and how: signing (`commit.gpgsign`,
//! with a real gpg key), the states in which git refuses a partial commit, files git would
//! not commit, the index entry of the file it wrote, and paths in the config. Every case
//! is built with the real `git` (and `gpg`).
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

fn commits(repo: &Repo) -> usize {
    repo.git(&["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

fn backups(repo: &Repo) -> Vec<String> {
    std::fs::read_dir(&repo.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("run_queue.backup."))
        .collect()
}

fn status_of(repo: &Repo, id: &str) -> Value {
    let doc: Value = serde_json::from_slice(&repo.read(Q)).unwrap();
    doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap()
        .clone()
}

/// Nothing written: the file, HEAD, the index and the git directory are as they were.
fn assert_untouched(repo: &Repo, text: &str, head: &str) {
    assert_eq!(repo.read(Q), text.as_bytes());
    assert_eq!(repo.head(), head);
    assert!(backups(repo).is_empty(), "{:?}", backups(repo));
    let git_dir = repo.root.join(".git");
    assert!(!git_dir.join("index.lock").exists());
    assert!(!git_dir.join("runqlint-fix.json").exists());
}

// --- commit.gpgsign ----------------------------------------------------------------

/// A gpg home with a passphrase-less signing key for the tests' identity; its agent is
/// stopped on drop.
struct GpgHome(PathBuf);

impl GpgHome {
    /// `None` (the test is skipped, see [`tool`]) when gpg is missing.
    fn new(repo: &Repo) -> Option<GpgHome> {
        let gpg = tool("gpg")?;
        let dir = repo.scratch().join("gnupg");
        std::fs::create_dir(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let home = GpgHome(dir);
        let out = Command::new(gpg)
            .env("GNUPGHOME", &home.0)
            .args([
                "--batch",
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-gen-key",
                "Runq Tester <tester@example.invalid>",
                "ed25519",
                "sign",
                "never",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(home)
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.0)
            .args(["--kill", "all"])
            .output();
    }
}

#[test]
fn fix_signs_its_commit_as_git_commit_would_when_commit_gpgsign_is_set() {
    let text = seed_queue();
    let repo = setup(&text);
    let Some(gpg) = GpgHome::new(&repo) else {
        return;
    };
    repo.git(&["config", "commit.gpgsign", "true"]);
    repo.git(&["config", "gpg.format", "openpgp"]);
    let out = repo
        .runqlint_cmd(&["fix", "--now", NOW, "--run-id", "signed_1"])
        .env("GNUPGHOME", &gpg.0)
        .output()
        .unwrap();
    let r = Run::from(out);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(commits(&repo), 2);
    let verify = repo
        .git_cmd(&["verify-commit", "--raw", "HEAD"])
        .env("GNUPGHOME", &gpg.0)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(String::from_utf8_lossy(&verify.stderr).contains("GOODSIG"));
    // Still exactly the receipt, the one path, and git's view of the index is clean.
    let receipt = runqlint::receipt::parse(&repo.git(&["log", "-1", "--format=%B"])).unwrap();
    assert_eq!(receipt.run_id, "signed_1");
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "run_queue.json\n"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>"])
            .trim(),
        "Runq Tester <tester@example.invalid>|Runq Tester <tester@example.invalid>"
    );
}

#[test]
fn fix_signs_with_an_ssh_key_when_gpg_format_is_ssh() {
    signs_with_an_ssh_key(Format::Plain);
}

#[test]
fn fix_signs_in_sha256_reftable_and_split_index_repositories() {
    for format in [Format::Sha256, Format::Reftable, Format::SplitIndex] {
        signs_with_an_ssh_key(format);
    }
}

/// `gpg.format=ssh`: git signs the fix commit with the key git is configured with.
fn signs_with_an_ssh_key(format: Format) {
    let Some(ssh_keygen) = tool("ssh-keygen") else {
        return;
    };
    let text = seed_queue();
    let repo = setup_as(format, &text);
    let key = repo.scratch().join("id_ed25519");
    let out = Command::new(ssh_keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "tester", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let allowed = repo.scratch().join("allowed_signers");
    std::fs::write(&allowed, format!("tester@example.invalid {public}")).unwrap();
    repo.git(&["config", "commit.gpgsign", "true"]);
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&["config", "user.signingkey", key.to_str().unwrap()]);
    repo.git(&[
        "config",
        "gpg.ssh.allowedSignersFile",
        allowed.to_str().unwrap(),
    ]);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{format:?}: {r:?}");
    assert_eq!(commits(&repo), 2);
    let verify = repo.git_run(&["verify-commit", "HEAD"]);
    assert_eq!(verify.code, 0, "{format:?}: {verify:?}");
    assert!(
        verify.stderr.contains("Good \"git\" signature"),
        "{verify:?}"
    );
    assert_eq!(
        repo.git(&["show", "--name-only", "--format=", "HEAD"]),
        "run_queue.json\n"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
}

#[test]
fn fix_refuses_before_writing_anything_when_git_cannot_sign() {
    let text = seed_queue();
    let repo = setup(&text);
    let head = repo.head();
    repo.git(&["config", "commit.gpgsign", "true"]);
    // A gpg that fails, as one without the key or without an agent would.
    let gpg = repo.scratch().join("failing-gpg.sh");
    std::fs::write(
        &gpg,
        "#!/bin/sh\necho 'gpg: signing failed: No secret key' >&2\nexit 2\n",
    )
    .unwrap();
    repo.git(&["config", "gpg.program", &format!("sh {}", gpg.display())]);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("commit.gpgsign"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert_untouched(&repo, &text, &head);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
    // --no-commit still repairs the file.
    let r = fix(&repo, &["--no-commit"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(status_of(&repo, "run_stuck_1")["status"], "failed");
}

// --- states in which git makes no partial commit -----------------------------------

#[test]
fn fix_refuses_in_the_same_states_in_sha256_and_reftable_repositories() {
    // libgit2 cannot open these: git's own state files are read instead.
    for format in [Format::Sha256, Format::Reftable] {
        refused_during_a_merge(format);
        refused_during_a_cherry_pick(format);
        refused_during_a_revert(format);
        refused_during_a_rebase_of_either_backend(format);
        refused_during_a_bisect(format);
    }
}

/// The seed queue committed in a repository of `format`, then `notes.txt` changed
/// differently on `main` and `other`.
fn diverged(format: Format) -> (Repo, String) {
    let text = seed_queue();
    let repo = setup_as(format, &text);
    repo.write("notes.txt", "base\n");
    repo.commit_all("notes");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("notes.txt", "other\n");
    repo.commit_all("other notes");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("notes.txt", "main\n");
    repo.commit_all("main notes");
    (repo, text)
}

fn assert_refused_in(repo: &Repo, text: &str, what: &str) {
    let head = repo.head();
    let r = fix(repo, &[]);
    assert_eq!(r.code, 2, "{what}: {r:?}");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{what} is in progress")),
        "{}",
        r.stderr
    );
    assert_untouched(repo, text, &head);
}

#[test]
fn fix_refuses_during_a_merge() {
    refused_during_a_merge(Format::Plain);
}

fn refused_during_a_merge(format: Format) {
    let (repo, text) = diverged(format);
    let m = repo.git_run(&["merge", "other"]);
    assert_ne!(m.code, 0, "the merge should stop on the conflict");
    assert!(repo.root.join(".git/MERGE_HEAD").exists());
    assert_refused_in(&repo, &text, "a merge");
    // A merge with no conflict that was not committed yet is the same state.
    repo.git(&["merge", "--abort"]);
    repo.git(&["checkout", "-q", "-b", "side", "HEAD~1"]);
    repo.write("side.txt", "side\n");
    repo.commit_all("side");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "--no-commit", "--no-ff", "side"]);
    assert_refused_in(&repo, &text, "a merge");
}

#[test]
fn fix_refuses_during_a_cherry_pick() {
    refused_during_a_cherry_pick(Format::Plain);
}

fn refused_during_a_cherry_pick(format: Format) {
    let (repo, text) = diverged(format);
    assert_ne!(repo.git_run(&["cherry-pick", "other"]).code, 0);
    assert_eq!(
        repo.git_run(&["rev-parse", "-q", "--verify", "CHERRY_PICK_HEAD"])
            .code,
        0
    );
    assert_refused_in(&repo, &text, "a cherry-pick");
}

#[test]
fn fix_refuses_during_a_revert() {
    refused_during_a_revert(Format::Plain);
}

fn refused_during_a_revert(format: Format) {
    let (repo, text) = diverged(format);
    repo.write("notes.txt", "later\n");
    repo.commit_all("later notes");
    assert_ne!(repo.git_run(&["revert", "--no-edit", "HEAD~1"]).code, 0);
    assert_eq!(
        repo.git_run(&["rev-parse", "-q", "--verify", "REVERT_HEAD"])
            .code,
        0
    );
    assert_refused_in(&repo, &text, "a revert");
}

#[test]
fn fix_refuses_during_a_rebase_of_either_backend() {
    refused_during_a_rebase_of_either_backend(Format::Plain);
}

fn refused_during_a_rebase_of_either_backend(format: Format) {
    for backend in ["--merge", "--apply"] {
        let (repo, text) = diverged(format);
        repo.git(&["checkout", "-q", "other"]);
        let r = repo.git_run(&["rebase", backend, "main"]);
        assert_ne!(
            r.code, 0,
            "{backend}: the rebase should stop on the conflict"
        );
        let dir = if backend == "--merge" {
            "rebase-merge"
        } else {
            "rebase-apply"
        };
        assert!(repo.root.join(".git").join(dir).exists(), "{backend}");
        assert_refused_in(&repo, &text, "a rebase");
    }
}

#[test]
fn fix_refuses_during_a_bisect() {
    refused_during_a_bisect(Format::Plain);
}

fn refused_during_a_bisect(format: Format) {
    let (repo, text) = diverged(format);
    // `git bisect start` without revisions keeps HEAD on the branch.
    repo.git(&["bisect", "start"]);
    assert_eq!(
        repo.git(&["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/main"
    );
    assert_refused_in(&repo, &text, "a bisect");
    // Found the culprit and back on the branch mid-bisect: still refused.
    repo.git(&["bisect", "bad"]);
    repo.git(&["bisect", "good", "HEAD~2"]);
    repo.git(&["checkout", "-q", "main"]);
    assert_refused_in(&repo, &text, "a bisect");
    repo.git(&["bisect", "reset"]);
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
}

// --- files git would not commit ------------------------------------------------------

#[test]
fn an_ignored_never_tracked_queue_is_refused_like_an_untracked_one() {
    let repo = Repo::new();
    repo.write(".gitignore", "run_queue.json\n");
    repo.commit_all("ignore the queue");
    let text = seed_queue();
    repo.write(Q, &text);
    let head = repo.head();
    for extra in [&[][..], &["--allow-dirty"][..]] {
        let r = fix(&repo, extra);
        assert_eq!(r.code, 2, "{extra:?}: {r:?}");
        assert!(
            r.stderr
                .contains("run_queue.json is not tracked by git (untracked, ignored)"),
            "{}",
            r.stderr
        );
        assert_untouched(&repo, &text, &head);
        assert_eq!(
            repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]),
            ".gitignore\n"
        );
    }
    // The same for a plain untracked one, --allow-dirty or not.
    repo.write(".gitignore", "");
    repo.add(".gitignore");
    repo.git(&["commit", "-q", "-m", "stop ignoring it"]);
    assert_eq!(repo.git(&["status", "--porcelain"]), "?? run_queue.json\n");
    let head = repo.head();
    for extra in [&[][..], &["--allow-dirty"][..]] {
        let r = fix(&repo, extra);
        assert_eq!(r.code, 2, "{extra:?}: {r:?}");
        assert!(
            r.stderr
                .contains("run_queue.json is not tracked by git (untracked)"),
            "{}",
            r.stderr
        );
        assert_untouched(&repo, &text, &head);
    }
    // Repairing it without a commit is allowed.
    let r = fix(&repo, &["--no-commit", "--allow-dirty"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(status_of(&repo, "run_stuck_1")["status"], "failed");
}

#[test]
fn allow_dirty_never_bypasses_the_line_ending_and_filter_guard() {
    // core.autocrlf and an `eol` attribute: both make git store other bytes than the
    // working tree's.
    for setup_filters in [
        (|repo: &Repo| repo.git(&["config", "core.autocrlf", "true"])) as fn(&Repo) -> String,
        |repo: &Repo| {
            repo.write(".gitattributes", "*.json text eol=crlf\n");
            repo.git(&["add", ".gitattributes"]);
            String::new()
        },
        // A clean filter that rewrites what git stores.
        |repo: &Repo| {
            repo.write(".gitattributes", "*.json filter=upper\n");
            repo.git(&["add", ".gitattributes"]);
            repo.git(&["config", "filter.upper.clean", "sed -e s/running/RUNNING/"])
        },
    ] {
        let repo = Repo::new();
        setup_filters(&repo);
        let text = seed_queue().replace('\n', "\r\n");
        repo.write(Q, &text);
        repo.commit_all("queue");
        assert_eq!(
            repo.git(&["status", "--porcelain", "--untracked-files=no"]),
            ""
        );
        // An uncommitted edit, so --allow-dirty is what lets fix past the dirty guard.
        let dirty = text.replace("Later", "Later, edited");
        repo.write(Q, &dirty);
        let head = repo.head();
        let r = fix(&repo, &["--allow-dirty"]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("git filters"), "{}", r.stderr);
        assert_untouched(&repo, &dirty, &head);
        let r = fix(&repo, &["--allow-dirty", "--no-commit"]);
        assert_eq!(r.code, 0, "{r:?}");
    }
    // Attributes that convert nothing (`-text`, an identity filter) do not stop a fix.
    let repo = Repo::new();
    repo.write(".gitattributes", "*.json -text filter=same\n");
    repo.git(&["config", "filter.same.clean", "cat"]);
    let text = seed_queue().replace('\n', "\r\n");
    repo.write(Q, &text);
    repo.commit_all("queue");
    repo.write(Q, text.replace("Later", "Later, edited"));
    let r = fix(&repo, &["--allow-dirty"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(commits(&repo), 2);
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
}

// --- the index entry describes the bytes fix wrote -----------------------------------

#[test]
fn a_write_landing_after_fix_replaced_the_file_shows_in_git_status() {
    for point in ["after-rename", "after-commit"] {
        let text = seed_queue();
        let repo = setup(&text);
        let (child, go) = spawn_paused(&repo, point, &[]);
        let ours = repo.read(Q);
        assert_ne!(
            ours,
            text.as_bytes(),
            "{point}: the file is repaired by now"
        );
        // Someone else rewrites the file in place. A second later (so that git's racy-entry
        // check, which compares with the index file's time, cannot rescue it), fix goes on.
        let mut theirs = ours.clone();
        theirs.extend_from_slice(b"\n");
        std::fs::OpenOptions::new()
            .write(true)
            .open(repo.root.join(Q))
            .and_then(|mut f| std::io::Write::write_all(&mut f, &theirs))
            .unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        std::fs::write(&go, "").unwrap();
        let r = Run::from(child.wait_with_output().unwrap());
        assert_eq!(r.code, 0, "{point}: {r:?}");
        assert_eq!(
            repo.git(&["show", "HEAD:run_queue.json"]).as_bytes(),
            &ours[..],
            "{point}"
        );
        assert_eq!(repo.read(Q), theirs, "{point}");
        assert_eq!(
            repo.git(&["status", "--porcelain", "--untracked-files=no"]),
            " M run_queue.json\n",
            "{point}: the other write must not be hidden from git"
        );
        assert_eq!(
            repo.git(&["diff", "--cached", "--name-only"]),
            "",
            "{point}"
        );
    }
}

#[test]
fn without_another_write_the_index_entry_is_clean_and_needs_no_refresh() {
    let repo = setup(&seed_queue());
    let r = fix(&repo, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    // `diff-files` trusts the index's stat data (no refresh): it matches the file.
    assert_eq!(repo.git(&["diff-files", "--name-only"]), "");
    assert_eq!(
        repo.git(&["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
}

// --- paths in the config -------------------------------------------------------------

#[test]
fn config_paths_resolve_against_the_repository_root_from_any_directory() {
    for cmd in ["sh scripts/alive.sh", "scripts/alive.sh"] {
        let text = queue(vec![
            keyed("listed", "listed:1"),
            keyed("answered", "alive:2"),
            keyed("gone", "dead:3"),
        ]);
        let repo = Repo::new();
        repo.write(Q, &text);
        repo.write(
            "scripts/alive.sh",
            "#!/bin/sh\ncase \"$1\" in alive*) exit 0;; *) exit 1;; esac\n",
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                repo.root.join("scripts/alive.sh"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
        }
        repo.write("live.txt", "listed:1\n");
        repo.write(
            "runqlint.toml",
            format!("[fix]\nalive-cmd = \"{cmd}\"\nalive-sessions = \"live.txt\"\n"),
        );
        repo.write("deep/er/README", "a subdirectory\n");
        repo.commit_all("queue");
        let approved = repo.run(&["trust"]);
        assert_eq!(approved.code, 0, "{approved:?}");
        let r = repo.run_in(
            &repo.root.join("deep/er"),
            &["fix", "--now", NOW, "--format", "json"],
        );
        assert_eq!(r.code, 0, "{cmd}: {r:?}");
        assert_eq!(r.json()["alive"], json!(["listed", "answered"]), "{cmd}");
        assert_eq!(r.json()["repaired"], json!(["gone"]), "{cmd}");
        assert_eq!(
            status_of(&repo, "answered")["run"]["lastHeartbeatAtMs"],
            NOW_MS
        );
        assert_eq!(status_of(&repo, "gone")["status"], "failed");
    }
}

fn keyed(id: &str, key: &str) -> Value {
    item(
        id,
        "running",
        json!({"run": {"startedAtMs": FEB26_MS, "childSessionKey": key}}),
    )
}
