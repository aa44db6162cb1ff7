//! Whether this process runs under `git commit --amend`.
//!
//! An amended commit replaces `HEAD`: its parent is `HEAD`'s parent, so that is what the
//! change must be judged against. git tells the `pre-commit` hook nothing about it (git
//! 2.47 exports `GIT_INDEX_FILE`, `GIT_EDITOR=:` and the author variables, the same for a
//! plain commit and an amend; `GIT_REFLOG_ACTION` is not set), so the command line of the
//! nearest `git` ancestor process is read (Linux `/proc`): after git's own options, a
//! `commit` (or an alias for it, looked up with `git config alias.NAME`) whose options
//! say `--amend` (or an unambiguous abbreviation, cancelled by a later `--no-amend`).
//! Elsewhere, or when no ancestor is git, it is not an amend.

use std::path::Path;

/// git's own options that take their value as the next argument.
const GIT_VALUE_OPTIONS: &[&str] = &[
    "-c",
    "-C",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--config-env",
    "--super-prefix",
    "--list-cmds",
    "--attr-source",
];

/// `git commit` options whose value may be the next argument.
const COMMIT_VALUE_OPTIONS: &[&str] = &[
    "message",
    "file",
    "reuse-message",
    "reedit-message",
    "template",
    "author",
    "date",
    "cleanup",
    "fixup",
    "squash",
    "trailer",
    "pathspec-from-file",
];

/// Short `git commit` options that take a value (attached or the next argument).
const COMMIT_VALUE_SHORT: &str = "mFCct";

/// Whether the nearest `git` process above this one is running `git commit --amend`.
pub fn amending() -> bool {
    match nearest_git() {
        Some(args) => amends(&args, &|name| alias(name)),
        None => false,
    }
}

/// The arguments (after the program name) of the nearest ancestor whose program is `git`
/// or `git-commit`, the latter given as `["commit", ...]`.
#[cfg(target_os = "linux")]
fn nearest_git() -> Option<Vec<String>> {
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..32 {
        if pid <= 1 {
            return None;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<String> = cmdline
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let program = args.first().map(|a| {
            Path::new(a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        });
        match program.flatten().as_deref() {
            Some("git") => return Some(args[1..].to_vec()),
            Some("git-commit") => {
                let mut all = vec!["commit".to_string()];
                all.extend(args[1..].iter().cloned());
                return Some(all);
            }
            _ => {}
        }
        pid = parent_of(pid)?;
    }
    None
}

#[cfg(not(target_os = "linux"))]
fn nearest_git() -> Option<Vec<String>> {
    None
}

/// The parent of `pid`: the field after the command name in `/proc/PID/stat`.
#[cfg(target_os = "linux")]
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// What `git config alias.NAME` says, if anything.
fn alias(name: &str) -> Option<String> {
    if name.starts_with('-') || name.is_empty() {
        return None;
    }
    crate::gitcli::Git::at(std::path::Path::new("."))
        .config_value(&format!("alias.{name}"))
        .ok()
        .flatten()
}

/// Whether git's arguments `args` (after the program name) are a `commit --amend`.
/// `alias` expands a command name git does not know (one level, as words).
pub fn amends(args: &[String], alias: &dyn Fn(&str) -> Option<String>) -> bool {
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if !a.starts_with('-') {
            break;
        }
        i += if GIT_VALUE_OPTIONS.contains(&a) { 2 } else { 1 };
    }
    let Some(command) = args.get(i) else {
        return false;
    };
    if command == "commit" {
        return commit_amends(&args[i + 1..]);
    }
    if BUILTINS.contains(&command.as_str()) {
        return false;
    }
    match alias(command) {
        // A shell alias runs git again, as a child: that process is the one looked at.
        Some(expansion) if !expansion.starts_with('!') => {
            let mut words: Vec<String> = expansion.split_whitespace().map(String::from).collect();
            words.extend(args[i + 1..].iter().cloned());
            amends(&words, &|_| None)
        }
        _ => false,
    }
}

/// Commands that run hooks and are not `commit`: no alias lookup for them.
const BUILTINS: &[&str] = &[
    "merge",
    "am",
    "rebase",
    "cherry-pick",
    "revert",
    "pull",
    "stash",
    "push",
    "checkout",
    "switch",
];

/// Whether `git commit`'s arguments ask for `--amend`, the last word winning.
fn commit_amends(args: &[String]) -> bool {
    let mut amend = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if a == "--" {
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            if name.len() >= 2 && "amend".starts_with(name) {
                amend = true;
            } else if name.len() >= 5 && "no-amend".starts_with(name) {
                amend = false;
            } else if !attached
                && name.len() >= 2
                && COMMIT_VALUE_OPTIONS.iter().any(|o| o.starts_with(name))
            {
                i += 1;
            }
        } else if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            // `-am MSG`: flags, then the first option that takes a value ends the cluster.
            if let Some((at, _)) = cluster
                .char_indices()
                .find(|(_, c)| COMMIT_VALUE_SHORT.contains(*c))
            {
                if at + 1 == cluster.len() {
                    i += 1;
                }
            }
        }
    }
    amend
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn check(s: &str) -> bool {
        amends(&words(s), &|name| match name {
            "ca" => Some("commit --amend".into()),
            "cm" => Some("commit -m".into()),
            "sh" => Some("!git commit --amend".into()),
            _ => None,
        })
    }

    #[test]
    fn reads_amend_the_way_git_parses_it() {
        assert!(check("commit --amend"));
        assert!(check("commit -q --amend -m msg"));
        assert!(check("-c user.name=x -C /repo commit --amen"));
        assert!(check("--no-pager commit -a --am"));
        assert!(check("ca"));
        assert!(check("ca --no-edit"));
        assert!(!check("commit"));
        assert!(!check("commit -m --amend"));
        assert!(!check("commit --message --amend"));
        assert!(!check("commit -am --amend"));
        assert!(!check("commit --amend --no-amend"));
        assert!(!check("commit -- --amend"));
        assert!(!check("merge --amend"));
        assert!(!check("cm --amend"));
        assert!(!check("sh"));
        assert!(!check("-c commit.x=1 status"));
        assert!(check("commit -m x --amend"));
        assert!(check("commit -mx --amend"));
    }
}
