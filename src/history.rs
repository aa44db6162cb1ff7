//! A file's history, read through the `git` command: the commits that changed it (following
//! renames as `git log --follow` does) and each version's bytes, each blob read once.
//!
//! Everything here goes through `git` itself rather than libgit2, so every repository git
//! can read (SHA-256 object format, reftable refs, alternates, partial clones) is read the
//! same way `git log` would read it. Three long-lived processes do the work:
//!
//! - `git log --topo-order` lists every commit reachable from `HEAD` (minus `--since`) with
//!   its parents and metadata, without touching any tree;
//! - `git cat-file --batch-check` answers `<commit>:<path>` with the path's blob id in that
//!   commit: a commit changed the file when its blob id differs from every parent's. No tree
//!   is diffed, except `git diff-tree -M` at the few commits where the path appears, to
//!   find the name it had before (a rename);
//! - `git cat-file --batch` inflates the versions, streamed in the order they are used so
//!   that git inflates the next one while the caller reads this one.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::error::{Error, Result};

/// Runs `git` in one repository.
#[derive(Debug, Clone)]
pub struct Git {
    root: PathBuf,
}

impl Git {
    /// `git` run in `root` (the working tree's top); `GIT_DIR` and the rest of git's
    /// environment are inherited, as a hook expects.
    pub fn new(root: &Path) -> Git {
        Git {
            root: root.to_path_buf(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.root)
            // No pager, no colour, no replacement of what the user asked git to show.
            .env("GIT_PAGER", "cat")
            .env_remove("GIT_EXTERNAL_DIFF")
            .args([
                "-c",
                "core.quotePath=false",
                "-c",
                "log.showSignature=false",
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs git to completion and returns its stdout; a failure is one line of its stderr.
    fn output(&self, args: &[&str]) -> Result<Vec<u8>> {
        let out = self
            .command(args)
            .output()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            return Err(git_failed(args, &out.stderr));
        }
        Ok(out.stdout)
    }

    fn spawn(&self, args: &[&str]) -> Result<Child> {
        self.command(args)
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))
    }

    /// The full id of the commit `rev` names, or `None` for an unborn `HEAD`.
    pub fn commit_id(&self, rev: &str) -> Result<Option<String>> {
        let spec = format!("{rev}^{{commit}}");
        let out = self
            .command(&[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ])
            .output()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(Some(
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        ))
    }
}

fn git_failed(args: &[&str], stderr: &[u8]) -> Error {
    let msg = String::from_utf8_lossy(stderr);
    let line = msg
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("failed");
    Error::Git(format!(
        "git {}: {}",
        args.first().copied().unwrap_or(""),
        crate::text::escape(line)
    ))
}

/// A commit's identity and what `git log` says about it.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Full id (40 hex digits, 64 in a SHA-256 repository).
    pub id: String,
    pub parents: Vec<String>,
    /// `Name <email>`.
    pub author: String,
    /// Author date, strict ISO 8601 (`%aI`).
    pub date: String,
    /// Committer time, epoch seconds.
    pub time: i64,
    pub subject: String,
}

impl Commit {
    /// The first 12 digits of the id, for people.
    pub fn short(&self) -> &str {
        short(&self.id)
    }
}

/// The first 12 digits of a commit id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// The file in one parent of a changed commit.
#[derive(Debug, Clone)]
pub struct Parent {
    pub commit: String,
    /// The file's name in that parent (differs from the child's after a rename).
    pub path: String,
    /// `None`: the parent has no such file.
    pub blob: Option<String>,
}

/// A commit whose version of the file differs from its parent's; for a merge, from a
/// parent that had itself changed the file since the merge base, or from every parent.
#[derive(Debug, Clone)]
pub struct Change {
    pub commit: Commit,
    /// The file's name in this commit.
    pub path: String,
    /// `None`: the file was deleted by this commit.
    pub blob: Option<String>,
    pub parents: Vec<Parent>,
    /// For a merge: the file at the parents' merge base (`git merge-base --octopus`), to
    /// tell what each side changed from what the merge decided itself.
    pub base: Option<Parent>,
}

/// The commits that changed a file, oldest first (every parent before its children).
#[derive(Debug, Default)]
pub struct History {
    pub changes: Vec<Change>,
}

/// Lists the commits reachable from `HEAD`, and not from `since`, that changed `path`.
pub fn walk(git: &Git, path: &str, since: Option<&str>) -> Result<History> {
    if path.contains('\n') {
        return Err(Error::Usage(format!(
            "{}: a path with a newline cannot be followed through history",
            crate::text::escape(path)
        )));
    }
    let Some(head) = git.commit_id("HEAD")? else {
        return Ok(History::default());
    };
    let mut args = vec![
        "log",
        "--topo-order",
        "--no-color",
        "--encoding=UTF-8",
        "-z",
        "--format=%H%x00%P%x00%an <%ae>%x00%aI%x00%ct%x00%s",
    ];
    let since_id;
    args.push(&head);
    if let Some(rev) = since {
        since_id = git.commit_id(rev)?.ok_or_else(|| {
            Error::Usage(format!(
                "--since: `{}` is not a commit in this repository",
                crate::text::escape(rev)
            ))
        })?;
        args.push("--not");
        args.push(&since_id);
    }
    let out = git.output(&args)?;
    let commits = parse_log(&out)?;

    // Every commit's blob at `path`, streamed through one process; parents outside the
    // walk (the `--since` boundary) too.
    let mut wanted: Vec<String> = commits.iter().map(|c| c.id.clone()).collect();
    let known: std::collections::HashSet<&str> = commits.iter().map(|c| c.id.as_str()).collect();
    for c in &commits {
        for p in &c.parents {
            if !known.contains(p.as_str()) {
                wanted.push(p.clone());
            }
        }
    }
    let mut blobs = BlobIds::default();
    blobs.prefetch(git, &wanted, path)?;

    let mut names: HashMap<String, String> = HashMap::new();
    names.insert(head, path.to_string());
    let mut changes = Vec::new();
    for commit in commits {
        let Some(name) = names.get(&commit.id).cloned() else {
            continue;
        };
        let blob = blobs.get(git, &commit.id, &name)?;
        let mut parents = Vec::with_capacity(commit.parents.len());
        for p in &commit.parents {
            let mut parent = Parent {
                commit: p.clone(),
                path: name.clone(),
                blob: blobs.get(git, p, &name)?,
            };
            if parent.blob.is_none() && blob.is_some() {
                if let Some(old) = rename_source(git, p, &commit.id, &name)? {
                    parent.blob = blobs.get(git, p, &old)?;
                    parent.path = old;
                }
            }
            names
                .entry(p.clone())
                .or_insert_with(|| parent.path.clone());
            parents.push(parent);
        }
        // A merge that equals one parent may still have undone the other side's change
        // (`-s ours`, a resolution): it is a change unless every other side left the file
        // as it was at the merge base.
        let mut base = None;
        let changed = match parents.len() {
            0 => blob.is_some(),
            1 => parents[0].blob != blob,
            _ if parents.iter().all(|p| p.blob != blob) => {
                base = merge_base(git, &mut blobs, &parents)?;
                true
            }
            _ if parents.iter().any(|p| p.blob != blob) => {
                base = merge_base(git, &mut blobs, &parents)?;
                let base_blob = base.as_ref().and_then(|b| b.blob.clone());
                parents
                    .iter()
                    .any(|p| p.blob != blob && (base.is_none() || p.blob != base_blob))
            }
            _ => false,
        };
        if changed {
            changes.push(Change {
                commit,
                path: name,
                blob,
                parents,
                base,
            });
        }
    }
    changes.reverse();
    Ok(History { changes })
}

fn parse_log(out: &[u8]) -> Result<Vec<Commit>> {
    let text = String::from_utf8_lossy(out);
    let fields: Vec<&str> = text.split('\0').collect();
    let mut commits = Vec::new();
    for record in fields.chunks(6) {
        if record.len() < 6 {
            // The trailing empty field after the last terminator.
            if record.iter().all(|f| f.trim().is_empty()) {
                break;
            }
            return Err(Error::Git("git log: unexpected output".into()));
        }
        let id = record[0].trim_start_matches('\n').to_string();
        commits.push(Commit {
            id,
            parents: record[1].split_whitespace().map(str::to_string).collect(),
            author: record[2].to_string(),
            date: record[3].to_string(),
            time: record[4].trim().parse().unwrap_or(0),
            subject: record[5].to_string(),
        });
    }
    Ok(commits)
}

/// The file at the merge base of `parents`, under the first name a parent has it by.
fn merge_base(git: &Git, blobs: &mut BlobIds, parents: &[Parent]) -> Result<Option<Parent>> {
    let mut args = vec!["merge-base", "--octopus"];
    args.extend(parents.iter().map(|p| p.commit.as_str()));
    let out = match git.output(&args) {
        Ok(out) => out,
        // No common ancestor (unrelated histories, or a shallow clone).
        Err(_) => return Ok(None),
    };
    let Some(commit) = String::from_utf8_lossy(&out)
        .split_whitespace()
        .next()
        .map(str::to_string)
    else {
        return Ok(None);
    };
    for p in parents {
        if let Some(blob) = blobs.get(git, &commit, &p.path)? {
            return Ok(Some(Parent {
                commit,
                path: p.path.clone(),
                blob: Some(blob),
            }));
        }
    }
    Ok(Some(Parent {
        commit,
        path: parents[0].path.clone(),
        blob: None,
    }))
}

/// The name the file had in `parent` when `commit` renamed it to `name`, as `git diff-tree
/// -M` (the rename detection `git log --follow` uses) sees it.
fn rename_source(git: &Git, parent: &str, commit: &str, name: &str) -> Result<Option<String>> {
    let out = git.output(&[
        "diff-tree",
        "-r",
        "-M",
        "--no-ext-diff",
        "--name-status",
        "-z",
        parent,
        commit,
    ])?;
    let text = String::from_utf8_lossy(&out);
    let mut fields = text.split('\0');
    while let Some(status) = fields.next() {
        if status.starts_with('R') {
            let (Some(old), Some(new)) = (fields.next(), fields.next()) else {
                break;
            };
            if new == name {
                return Ok(Some(old.to_string()));
            }
        } else if status.starts_with('C') {
            fields.next();
            fields.next();
        } else if !status.is_empty() {
            fields.next();
        }
    }
    Ok(None)
}

/// `<commit>:<path>` → blob id, answered by `git cat-file --batch-check`.
#[derive(Default)]
struct BlobIds {
    known: HashMap<(String, String), Option<String>>,
    /// A process for the lookups the prefetch did not cover (after a rename).
    more: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
}

impl BlobIds {
    const ARGS: [&'static str; 2] = ["cat-file", "--batch-check=%(objectname) %(objecttype)"];

    /// Asks for every commit's blob at `path` in one stream: a thread writes the questions
    /// while this one reads the answers.
    fn prefetch(&mut self, git: &Git, commits: &[String], path: &str) -> Result<()> {
        let mut child = git.spawn(&Self::ARGS)?;
        let mut stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let questions: Vec<u8> = commits
            .iter()
            .flat_map(|c| format!("{c}:{path}\n").into_bytes())
            .collect();
        let writer = std::thread::spawn(move || stdin.write_all(&questions));
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        for c in commits {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            self.known
                .insert((c.clone(), path.to_string()), answer(&line));
        }
        let _ = writer.join();
        let _ = child.kill();
        let _ = child.wait();
        if self.known.len() < commits.len() {
            return Err(Error::Git(
                "git cat-file: answered fewer lookups than asked".into(),
            ));
        }
        Ok(())
    }

    fn get(&mut self, git: &Git, commit: &str, path: &str) -> Result<Option<String>> {
        let key = (commit.to_string(), path.to_string());
        if let Some(b) = self.known.get(&key) {
            return Ok(b.clone());
        }
        if self.more.is_none() {
            let mut child = git.spawn(&Self::ARGS)?;
            let stdin = child.stdin.take().expect("piped");
            let stdout = BufReader::new(child.stdout.take().expect("piped"));
            self.more = Some((child, stdin, stdout));
        }
        let (_, stdin, stdout) = self.more.as_mut().expect("just set");
        let mut line = String::new();
        stdin
            .write_all(format!("{commit}:{path}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .and_then(|()| stdout.read_line(&mut line))
            .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
        let blob = answer(&line);
        self.known.insert(key, blob.clone());
        Ok(blob)
    }
}

impl Drop for BlobIds {
    fn drop(&mut self) {
        if let Some((mut child, stdin, _)) = self.more.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// The blob id in a `--batch-check` answer; anything but a blob (missing, a directory, a
/// submodule) is no version of the file.
fn answer(line: &str) -> Option<String> {
    let mut parts = line.split_whitespace();
    let (id, kind) = (parts.next()?, parts.next()?);
    (kind == "blob").then(|| id.to_string())
}

/// Objects read by `git cat-file --batch`, in an order given up front: git inflates the
/// next object while the caller works on this one.
pub struct Objects {
    child: Child,
    stdout: BufReader<ChildStdout>,
    writer: Option<std::thread::JoinHandle<()>>,
    limit: u64,
}

impl Objects {
    /// Starts reading `ids`, in that order; [`Objects::next`] returns them one by one.
    pub fn stream(git: &Git, ids: Vec<String>, limit: u64) -> Result<Objects> {
        let mut child = git.spawn(&["cat-file", "--batch"])?;
        let mut stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::with_capacity(1 << 16, child.stdout.take().expect("piped"));
        let writer = std::thread::spawn(move || {
            for id in ids {
                if stdin.write_all(format!("{id}\n").as_bytes()).is_err() {
                    return;
                }
            }
        });
        Ok(Objects {
            child,
            stdout,
            writer: Some(writer),
            limit,
        })
    }

    /// The next object's content.
    pub fn next(&mut self, what: &str) -> Result<Vec<u8>> {
        let mut header = String::new();
        self.stdout
            .read_line(&mut header)
            .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
        let mut parts = header.split_whitespace();
        let (Some(_id), Some(_kind), Some(size)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Git(format!(
                "git cat-file: cannot read {what}: {}",
                crate::text::escape(header.trim())
            )));
        };
        let size: u64 = size
            .parse()
            .map_err(|_| Error::Git("git cat-file: unexpected output".into()))?;
        if size > self.limit {
            return Err(Error::Io(format!(
                "{what}: {size} bytes is over the limit of {} (`max-file-size` in runqlint.toml)",
                self.limit
            )));
        }
        let mut buf = vec![0; size as usize + 1];
        self.stdout
            .read_exact(&mut buf)
            .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
        buf.pop();
        Ok(buf)
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        // Unread objects are abandoned: stop git rather than read them.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// Reads single objects on demand (commit messages), one process for all of them.
pub struct Lookup {
    git: Git,
    process: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
}

impl Lookup {
    pub fn new(git: &Git) -> Lookup {
        Lookup {
            git: git.clone(),
            process: None,
        }
    }

    /// The raw object `id` (for a commit: headers, a blank line, the message).
    pub fn read(&mut self, id: &str) -> Result<Vec<u8>> {
        if self.process.is_none() {
            let mut child = self.git.spawn(&["cat-file", "--batch"])?;
            let stdin = child.stdin.take().expect("piped");
            let stdout = BufReader::new(child.stdout.take().expect("piped"));
            self.process = Some((child, stdin, stdout));
        }
        let (_, stdin, stdout) = self.process.as_mut().expect("just set");
        let fail = |e: std::io::Error| Error::Git(format!("git cat-file: {e}"));
        stdin
            .write_all(format!("{id}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(fail)?;
        let mut header = String::new();
        stdout.read_line(&mut header).map_err(fail)?;
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Git(format!("git cat-file: cannot read {id}")))?;
        let mut buf = vec![0; size + 1];
        stdout.read_exact(&mut buf).map_err(fail)?;
        buf.pop();
        Ok(buf)
    }

    /// A commit's message (everything after its headers).
    pub fn message(&mut self, commit: &str) -> Result<String> {
        let raw = self.read(commit)?;
        let start = raw
            .windows(2)
            .position(|w| w == b"\n\n")
            .map_or(raw.len(), |i| i + 2);
        Ok(String::from_utf8_lossy(&raw[start..]).into_owned())
    }
}

impl Drop for Lookup {
    fn drop(&mut self) {
        if let Some((mut child, stdin, _)) = self.process.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}
