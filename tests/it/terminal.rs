//! At a terminal: progress on stderr only when it is a terminal, human output as wide as the
//! terminal, and completion scripts that load in the shells.

use std::io::Read;
use std::process::Stdio;

use crate::support::*;

/// A repository whose queue changed in each of `n` commits (its top-level `cycle` counts
/// them), written with one `git fast-import` so a long history costs one process.
fn long_history(n: usize) -> Repo {
    let repo = Repo::new();
    let items = vec![
        item(
            "run_a",
            "done",
            serde_json::json!({"run": {"startedAtMs": FEB26_MS, "finishedAtMs": FEB26_MS + 1}}),
        ),
        item("run_b", "queued", serde_json::json!({})),
    ];
    let mut stream = String::new();
    for i in 0..n {
        let data = pretty(&serde_json::json!({ "cycle": i, "items": items }));
        let msg = format!("cycle {i}");
        let when = 1_772_064_000 + i as i64 * 60;
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter Runq Tester <tester@example.invalid> {when} +0000\ndata {}\n{msg}\nM 100644 inline run_queue.json\ndata {}\n{data}\n",
            msg.len(),
            data.len()
        ));
    }
    let mut child = repo
        .git_cmd(&["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), stream.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    repo.git(&["reset", "-q", "--hard", "main"]);
    repo
}

#[cfg(unix)]
mod pty {
    use std::fs::File;
    use std::os::fd::{FromRawFd, OwnedFd};

    /// A pseudo-terminal of `cols` columns: (controller, the terminal end a child gets).
    pub fn open(cols: u16) -> (File, OwnedFd) {
        let (mut controller, mut terminal) = (0, 0);
        let size = libc::winsize {
            ws_row: 40,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors it opened into the two integers.
        let rc = unsafe {
            libc::openpty(
                &mut controller,
                &mut terminal,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors are open and owned by nothing else.
        unsafe {
            (
                File::from_raw_fd(controller),
                OwnedFd::from_raw_fd(terminal),
            )
        }
    }
}

/// Everything written to the terminal until the child closes its end (EIO on Linux).
#[cfg(unix)]
fn drain(mut controller: std::fs::File) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match controller.read(&mut buf) {
                Ok(0) | Err(_) => return all,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
}

#[cfg(unix)]
#[test]
fn audit_shows_progress_on_a_terminal_and_nothing_when_piped() {
    let repo = long_history(600);
    let piped = repo.run(&["audit", "--format", "json"]);
    assert_eq!(piped.code, 0, "{}", piped.stderr);
    assert_eq!(piped.stderr, "", "no progress when stderr is a pipe");

    let (controller, terminal) = pty::open(100);
    let mut cmd = repo.runqlint_cmd(&["audit", "--format", "json"]);
    cmd.env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(terminal));
    let mut child = cmd.spawn().unwrap();
    // The child holds the only terminal end now: the reader ends when the child exits.
    drop(cmd);
    let seen = drain(controller);
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let seen = String::from_utf8_lossy(&seen.join().unwrap()).into_owned();
    assert!(
        seen.contains("checking commits") && seen.contains("/600"),
        "no progress on the terminal: {seen:?}"
    );
    // The last thing drawn erases the line: nothing is left behind the result.
    let last = seen.rfind("/600").unwrap();
    assert!(
        seen[last..].contains("\x1b[2K"),
        "the progress line is not cleared: {:?}",
        &seen[last..]
    );
    assert_eq!(
        String::from_utf8(stdout).unwrap(),
        piped.stdout,
        "progress changed stdout"
    );

    // Under CI, a terminal sees nothing either.
    let (controller, terminal) = pty::open(100);
    let mut cmd = repo.runqlint_cmd(&["audit"]);
    cmd.env("CI", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::from(terminal));
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let seen = drain(controller);
    child.wait().unwrap();
    assert_eq!(String::from_utf8_lossy(&seen.join().unwrap()), "");
}

/// The human output of a check whose message is long, on a terminal `cols` wide.
#[cfg(unix)]
fn human_on_terminal(repo: &Repo, cols: u16) -> String {
    let (controller, terminal) = pty::open(cols);
    let mut cmd = repo.runqlint_cmd(&["check"]);
    cmd.stdout(Stdio::from(terminal)).stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let seen = drain(controller);
    assert_eq!(child.wait().unwrap().code(), Some(1));
    String::from_utf8_lossy(&seen.join().unwrap()).replace("\r\n", "\n")
}

#[cfg(unix)]
#[test]
fn human_output_takes_the_terminals_width() {
    let repo = Repo::new();
    let long_id = format!("run_{}", "x".repeat(30));
    repo.write(
        "run_queue.json",
        queue(vec![
            item(&long_id, "running", serde_json::json!({})),
            item(&long_id, "queued", serde_json::json!({})),
        ]),
    );
    // The message of the repeated id wraps at the width: whole on one line when it fits.
    let whole = |text: &str| {
        text.lines()
            .any(|l| l.contains("is already used by an earlier item; the first is at line 4"))
    };
    let narrow = human_on_terminal(&repo, 60);
    assert!(!whole(&narrow), "not wrapped at 60 columns:\n{narrow}");
    assert!(narrow.contains("duplicate-id"), "{narrow}");
    let wide = human_on_terminal(&repo, 200);
    assert!(whole(&wide), "wrapped at 200 columns:\n{wide}");
    // Off a terminal: 100 columns, as before.
    let piped = repo.run(&["check"]);
    assert!(!whole(&piped.stdout), "{}", piped.stdout);
    assert!(
        piped
            .stdout
            .lines()
            .all(|l| unicode_width::UnicodeWidthStr::width(l) <= 100),
        "{}",
        piped.stdout
    );
}

#[test]
fn completion_scripts_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = Repo::new().run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for sub in [
            "check",
            "fix",
            "stale",
            "audit",
            "merge-driver",
            "completions",
        ] {
            assert!(
                run.stdout.contains(sub),
                "{shell}: no {sub}:\n{}",
                run.stdout
            );
        }
    }
    let bad = Repo::new().run(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2);
}

/// Each script is loaded by its shell, where the shell is installed.
#[test]
fn completion_scripts_load_in_their_shells() {
    let repo = Repo::new();
    let cases: [(&str, &str, &[&str]); 2] = [
        (
            "bash",
            "bash",
            &["--noprofile", "--norc", "-c", "source \"$0\" && complete -p runqlint"],
        ),
        (
            "zsh",
            "zsh",
            &["-f", "-c", "autoload -U compinit && compinit -u && source \"$0\" && (( $+functions[_runqlint] ))"],
        ),
    ];
    for (shell, program, args) in cases {
        let Some(program) = tool(program) else {
            continue;
        };
        let script = repo.scratch().join(format!("runqlint.{shell}"));
        std::fs::write(&script, repo.run(&["completions", shell]).stdout).unwrap();
        let out = std::process::Command::new(program)
            .args(args.iter().take(args.len() - 1))
            .arg(args[args.len() - 1])
            .arg(&script)
            .env("HOME", repo.home())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{shell} did not load the script: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
