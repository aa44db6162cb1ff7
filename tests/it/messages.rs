//! What runqlint says when it cannot do what was asked: one line, `runqlint: error: …`, exit
//! 2, naming the real cause; and tables that line up whatever the item data's script.

use serde_json::json;

use crate::support::*;

/// Asserts `run` is a usage error: exit 2, nothing on stdout, one `runqlint: error:` line.
fn assert_one_line_error(run: &Run, what: &str) {
    assert_eq!(run.code, 2, "{what}: {}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "{what}");
    assert_eq!(run.stderr.lines().count(), 1, "{what}: {}", run.stderr);
    assert!(
        run.stderr.starts_with("runqlint: error: ") && run.stderr.ends_with('\n'),
        "{what}: {}",
        run.stderr
    );
}

#[test]
fn every_usage_error_is_one_line_with_exit_2() {
    let repo = setup(&queue(vec![item("a", "queued", json!({}))]));
    let cases: &[(&[&str], &str)] = &[
        (&[], "no command given"),
        (&["nosuch"], "'nosuch'"),
        (&["--bogus"], "'--bogus'"),
        (&["check", "--bogus"], "'--bogus'"),
        (
            &["check", "--format", "nope"],
            "possible values: human, json",
        ),
        (&["check", "--base"], "'--base <REV>'"),
        (&["fix", "--mark", "x"], "possible values: failed, stale"),
        (&["fix", "--max-attempts", "many"], "'--max-attempts <N>'"),
        (&["explain"], "<RULE>"),
        (&["rules", "extra"], "'extra'"),
        (
            &["rules", "--format", "sarif"],
            "possible values: human, json",
        ),
        (&["stale", "--now"], "'--now <TIME>'"),
        (&["schema", "x"], "'x'"),
        (&["install-hook", "--force=yes"], "--force"),
        (&["trust", "--show", "--revoke"], "--revoke"),
        (&["trust"], "nothing to approve"),
        // Errors found after parsing keep the same shape.
        (&["explain", "no-such-rule"], "unknown rule"),
        (&["check", "--deny", "no-such-rule"], "unknown rule"),
        (&["check", "--now", "yesterday"], "--now"),
    ];
    for (args, needle) in cases {
        let run = repo.run(args);
        assert_one_line_error(&run, &format!("{args:?}"));
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
    // A clap error names the help of the command it is about.
    let run = repo.run(&["fix", "--mark", "x"]);
    assert!(
        run.stderr.contains("(see `runqlint fix --help`)"),
        "{}",
        run.stderr
    );
    // An argument's control characters are escaped, not sent to the terminal.
    let run = repo.run(&["check", "--\x1b[31mred"]);
    assert_one_line_error(&run, "escape");
    assert!(!run.stderr.contains('\x1b'), "{:?}", run.stderr);
    // Asking for help or the version is not an error.
    for args in [
        &["--help"][..],
        &["check", "--help"],
        &["--version"],
        &["help"],
    ] {
        let run = repo.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(!run.stdout.is_empty() && run.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn every_command_has_help_text() {
    let repo = Repo::new();
    let help = repo.run(&["--help"]).stdout;
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .collect();
    assert!(commands.len() >= 7, "{help}");
    for line in commands {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap();
        assert!(
            words.next().is_some(),
            "`{name}` has no description: {help}"
        );
        if name == "help" {
            continue;
        }
        let own = repo.run(&[name, "--help"]);
        assert_eq!(own.code, 0);
        assert!(
            !own.stdout.starts_with("Usage:"),
            "`runqlint {name} --help` starts with no description:\n{}",
            own.stdout
        );
    }
    let schema = repo.run(&["schema", "--help"]).stdout;
    assert!(schema.contains("JSON Schema"), "{schema}");
}

#[test]
fn a_path_outside_the_repository_is_named_as_such() {
    let repo = setup(&queue(vec![item("a", "queued", json!({}))]));
    let outside = repo.scratch().join("outside.json");
    std::fs::write(&outside, queue(vec![item("a", "running", json!({}))])).unwrap();
    let gone = repo.scratch().join("gone.json");
    std::fs::create_dir_all(repo.root.join("sub")).unwrap();
    for (dir, path) in [
        (repo.root.clone(), "../outside.json".to_string()),
        (repo.root.join("sub"), "../../outside.json".to_string()),
        (repo.root.clone(), outside.display().to_string()),
        (repo.root.clone(), gone.display().to_string()),
    ] {
        for command in [
            &["check"][..],
            &["check", "--staged"],
            &["stale"],
            &["fix", "--dry-run"],
        ] {
            let mut args = command.to_vec();
            args.push(&path);
            let run = repo.run_in(&dir, &args);
            let what = format!("{args:?} in {}", dir.display());
            assert_one_line_error(&run, &what);
            assert!(
                run.stderr
                    .contains(&format!("{path} is outside the repository at ")),
                "{what}: {}",
                run.stderr
            );
        }
    }
    // Inside the repository, a missing file is still just missing.
    let run = repo.run(&["check", "nosub/run_queue.json"]);
    assert_one_line_error(&run, "missing inside");
    assert!(run.stderr.contains("no such file"), "{}", run.stderr);
    // Outside any repository, a file is checked on its own, as before.
    let run = repo.run_in(
        repo.scratch(),
        &["check", "outside.json", "--format", "json"],
    );
    assert_eq!(run.rules(), ["running-without-start"]);
}

/// Display columns of `s` where every character is ASCII (one column), kana or a CJK
/// ideograph (two columns).
fn columns(s: &str) -> usize {
    let wide =
        |c: &char| ('\u{3040}'..='\u{30ff}').contains(c) || ('\u{4e00}'..='\u{9fff}').contains(c);
    s.chars().map(|c| if wide(&c) { 2 } else { 1 }).sum()
}

#[test]
fn the_stale_table_aligns_wide_titles() {
    let started = json!({"run": {"startedAtMs": FEB26_MS}});
    let titled = |id: &str, title: &str| {
        let mut v = item(id, "running", started.clone());
        v["title"] = json!(title);
        v
    };
    let repo = setup(&queue(vec![
        titled("run-1", "Digest"),
        titled("run-2", "週報の作成"),
        titled("run-3", "研究笔记整理与总结"),
        titled("run-4", "Mixed 中文 title"),
    ]));
    let run = repo.run(&["stale", "--now", NOW]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  run-") || l.starts_with("  ID"))
        .collect();
    assert_eq!(rows.len(), 5, "{}", run.stdout);
    // The column after TITLE starts at the same display column on every row.
    let started_at: Vec<usize> = rows
        .iter()
        .map(|r| {
            let at = r.find("2026-").or_else(|| r.find("STARTED")).unwrap();
            columns(&r[..at])
        })
        .collect();
    assert!(
        started_at.windows(2).all(|w| w[0] == w[1]),
        "{started_at:?}\n{}",
        run.stdout
    );
}

/// The command a "fetch it with" hint prints, and the revision to use after it.
fn fetch_hint(stderr: &str, rev: &str) -> (String, String) {
    let hint = stderr
        .trim_end()
        .split_once("fetch it with: ")
        .unwrap_or_else(|| panic!("{rev}: no fetch hint: {stderr}"))
        .1;
    match hint.split_once(", then use --base ") {
        Some((command, then)) => (command.to_string(), then.to_string()),
        None => (hint.to_string(), rev.to_string()),
    }
}

#[test]
fn a_shallow_clones_fetch_hint_brings_the_revision() {
    let origin = Repo::new();
    let mut items = vec![item("a", "done", json!({}))];
    let mut commits = Vec::new();
    for n in 0..3 {
        origin.write(Q, queue(items.clone()));
        origin.commit_all(&format!("commit {n}"));
        commits.push(origin.head());
        items.push(item(&format!("n{n}"), "queued", json!({})));
    }
    origin.git(&["checkout", "-q", "-b", "feature", &commits[1]]);
    origin.write(Q, queue(vec![item("a", "done", json!({"title": "f"}))]));
    origin.commit_all("feature");
    origin.git(&["checkout", "-q", "main"]);
    let url = format!("file://{}", origin.root.display());
    let short = &commits[1][..9];
    for (n, rev) in [
        "HEAD~1",
        "HEAD^",
        "main~2",
        "origin/main~1",
        short,
        commits[0].as_str(),
        "origin/feature",
        "feature",
    ]
    .into_iter()
    .enumerate()
    {
        let clone = origin.scratch().join(format!("clone{n}"));
        origin.git(&["clone", "-q", "--depth=1", &url, clone.to_str().unwrap()]);
        let run = origin.run_in(&clone, &["check", "--base", rev]);
        assert_one_line_error(&run, rev);
        assert!(
            run.stderr.contains("(this clone is shallow)"),
            "{rev}: {}",
            run.stderr
        );
        let (command, then) = fetch_hint(&run.stderr, rev);
        let mut sh = std::process::Command::new("sh");
        sh.args(["-c", &command]).current_dir(&clone);
        isolate(&mut sh, origin.home());
        let fetched = Run::from(sh.output().unwrap());
        assert_eq!(fetched.code, 0, "{rev}: `{command}`: {}", fetched.stderr);
        let run = origin.run_in(&clone, &["check", "--base", &then]);
        assert_ne!(run.code, 2, "{rev}: after `{command}`: {}", run.stderr);
    }
}
