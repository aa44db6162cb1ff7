//! A file's history, read through the `git` command: the commits that changed it (following
//! renames as `git log --follow` does) and each version's bytes, each blob read once.
//!
//! Everything here goes through `git` itself rather than libgit2, so every repository git
//! can read (SHA-256 object format, reftable refs, alternates, partial clones) is read the
//! same way `git log` would read it. Three long-lived processes do the work:
//!
//! - `git log --topo-order` lists every commit reachable from `HEAD` (minus `--since`) with
//!   its parents and metadata (authors through the mailmap where `git log` shows them so),
//!   without touching any tree;
//! - `git cat-file --batch-check` answers `<commit>:<path>` with the path's blob id in that
//!   commit: a commit changed the file when its blob id differs from every parent's. No tree
//!   is diffed, except `git diff-tree --follow` at the few commits where the path appears,
//!   to find the name it had before (a rename or a copy, as `git log --follow` finds it);
//! - `git cat-file --batch` inflates the versions, streamed in the order they are used so
//!   that git inflates the next one while the caller reads this one.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout};

use crate::error::{Error, Result};
use crate::gitcli::Git;

/// A commit's identity and what `git log` says about it.
#[derive(Debug, Clone)]
pub struct Commit {
    /// Full id (40 hex digits, 64 in a SHA-256 repository).
    pub id: String,
    pub parents: Vec<String>,
    /// `Name <email>`, through the mailmap when `git log` shows it so (`log.mailmap`).
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
    /// `None`: the parent has no such file, or has a symbolic link there.
    pub blob: Option<String>,
    /// The path is a symbolic link in that commit (`blob` is `None`).
    pub link: bool,
}

/// A commit whose version of the file differs from its parent's; for a merge, from a
/// parent that had itself changed the file since the merge base, or from every parent.
#[derive(Debug, Clone)]
pub struct Change {
    pub commit: Commit,
    /// The file's name in this commit.
    pub path: String,
    /// `None`: the file was deleted by this commit, or made a symbolic link.
    pub blob: Option<String>,
    /// The path is a symbolic link in this commit (`blob` is `None`): a link holds no
    /// queue, so it is read as no file, the way `check` reads a link at its base.
    pub link: bool,
    pub parents: Vec<Parent>,
    /// For a merge: the file at the parents' merge base (`git merge-base --octopus`), to
    /// tell what each side changed from what the merge decided itself.
    pub base: Option<Parent>,
    /// The commit is where a shallow clone's history is cut: git has not fetched its
    /// parents (`parents` is empty), so what came before this version is unknown.
    pub cut: bool,
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
    let (head, shallow) = git.head_and_shallow()?;
    let Some(head) = head else {
        return Ok(History::default());
    };
    let shallow: std::collections::HashSet<String> = shallow.into_iter().collect();
    let mut args = vec![
        "log",
        "--topo-order",
        "--no-color",
        "--no-show-signature",
        "--encoding=UTF-8",
        "-z",
        "--format=%H%x00%P%x00%an <%ae>%x00%aN <%aE>%x00%aI%x00%ct%x00%s",
    ];
    let since_id;
    args.push(&head);
    if let Some(rev) = since {
        since_id = git.commit_of(rev)?.ok_or_else(|| {
            Error::Usage(format!(
                "--since: `{}` is not a commit in this repository",
                crate::text::escape(rev)
            ))
        })?;
        args.push("--not");
        args.push(&since_id);
    }
    let out = git.checked(&args)?;
    let parsed = parse_log(&out)?;
    // `%aN <%aE>` is the author through the mailmap (`.mailmap`, `mailmap.file`,
    // `mailmap.blob`), which `git log` shows unless `log.mailmap` is false: only a history
    // the mailmap changes needs to ask which.
    let mailmap = parsed.iter().any(|(c, mapped)| c.author != *mapped) && git.log_mailmap()?;
    let commits: Vec<Commit> = parsed
        .into_iter()
        .map(|(mut c, mapped)| {
            if mailmap {
                c.author = mapped;
            }
            c
        })
        .collect();

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
                link: false,
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
            let cut = commit.parents.is_empty() && shallow.contains(&commit.id);
            changes.push(Change {
                cut,
                commit,
                path: name,
                blob,
                link: false,
                parents,
                base,
            });
        }
    }
    changes.reverse();
    unlink(git, &mut blobs, &mut changes)?;
    Ok(History { changes })
}

impl History {
    /// The changes where a shallow clone's history is cut: the file is there, and what came
    /// before it was not fetched.
    pub fn cuts(&self) -> Vec<&Change> {
        self.changes.iter().filter(|c| c.cut).collect()
    }

    /// One line for each commit whose version is a symbolic link: it was read as no file.
    pub fn link_notes(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter(|c| c.link)
            .map(|c| {
                format!(
                    "runqlint: note: {} is a symbolic link in commit {}, not a queue: read as no file there",
                    crate::text::escape(&c.path),
                    c.commit.short()
                )
            })
            .collect()
    }
}

/// The longest symbolic link [`unlink`] looks for: a link's blob is its target's path, and
/// no system git runs on makes a longer one (Linux's `PATH_MAX`).
const LONGEST_LINK: u64 = 4096;

/// Marks the versions that are symbolic links (tree mode 120000) and takes their blob away.
/// `--batch-check` does not tell a link's blob from a file's, so each version small enough
/// to be a link is looked up in its directory's tree, all through one `cat-file` process.
fn unlink(git: &Git, blobs: &mut BlobIds, changes: &mut [Change]) -> Result<()> {
    let mut trees = Lookup::new(git);
    let mut modes: HashMap<(String, String), bool> = HashMap::new();
    let mut is_link = |commit: &str, path: &str, blob: &Option<String>| -> Result<bool> {
        let Some(blob) = blob else {
            return Ok(false);
        };
        if blobs.size.get(blob).is_none_or(|&n| n > LONGEST_LINK) {
            return Ok(false);
        }
        let key = (commit.to_string(), path.to_string());
        if let Some(&link) = modes.get(&key) {
            return Ok(link);
        }
        let link = trees.mode(commit, path)? == Some(0o120000);
        modes.insert(key, link);
        Ok(link)
    };
    for c in changes.iter_mut() {
        if is_link(&c.commit.id, &c.path, &c.blob)? {
            c.blob = None;
            c.link = true;
        }
        for p in c.parents.iter_mut().chain(c.base.as_mut()) {
            if is_link(&p.commit, &p.path, &p.blob)? {
                p.blob = None;
                p.link = true;
            }
        }
    }
    Ok(())
}

/// The commits of the walk's `git log`, each with its author through the mailmap.
fn parse_log(out: &[u8]) -> Result<Vec<(Commit, String)>> {
    let text = String::from_utf8_lossy(out);
    let fields: Vec<&str> = text.split('\0').collect();
    let mut commits = Vec::new();
    for record in fields.chunks(7) {
        if record.len() < 7 {
            // The trailing empty field after the last terminator.
            if record.iter().all(|f| f.trim().is_empty()) {
                break;
            }
            return Err(Error::Git("git log: unexpected output".into()));
        }
        let id = record[0].trim_start_matches('\n').to_string();
        let commit = Commit {
            id,
            parents: record[1].split_whitespace().map(str::to_string).collect(),
            author: record[2].to_string(),
            date: record[4].to_string(),
            time: record[5].trim().parse().unwrap_or(0),
            subject: record[6].to_string(),
        };
        commits.push((commit, record[3].to_string()));
    }
    Ok(commits)
}

/// The file at the merge base of `parents`, under the first name a parent has it by.
fn merge_base(git: &Git, blobs: &mut BlobIds, parents: &[Parent]) -> Result<Option<Parent>> {
    let mut args = vec!["merge-base", "--octopus"];
    args.extend(parents.iter().map(|p| p.commit.as_str()));
    let out = match git.checked(&args) {
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
                link: false,
            }));
        }
    }
    Ok(Some(Parent {
        commit,
        path: parents[0].path.clone(),
        blob: None,
        link: false,
    }))
}

/// The name the file had in `parent` when `commit` renamed or copied it to `name`: `git
/// diff-tree --follow`, the very search `git log --follow` makes where its path appears
/// (renames and copies, from any file of the parent, `--find-copies-harder`).
fn rename_source(git: &Git, parent: &str, commit: &str, name: &str) -> Result<Option<String>> {
    let out = git.checked(&[
        "diff-tree",
        "-r",
        "--follow",
        "--no-ext-diff",
        "--name-status",
        "-z",
        parent,
        commit,
        "--",
        name,
    ])?;
    let text = String::from_utf8_lossy(&out);
    let mut fields = text.split('\0');
    while let Some(status) = fields.next() {
        if status.starts_with('R') || status.starts_with('C') {
            let (Some(old), Some(new)) = (fields.next(), fields.next()) else {
                break;
            };
            if new == name {
                return Ok(Some(old.to_string()));
            }
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
    /// Each blob's size in bytes.
    size: HashMap<String, u64>,
    /// A process for the lookups the prefetch did not cover (after a rename).
    more: Option<(Child, ChildStdin, BufReader<ChildStdout>)>,
}

impl BlobIds {
    const ARGS: [&'static str; 2] = [
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
    ];

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
        let mut answered = 0;
        for c in commits {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            answered += 1;
            let blob = self.answer(&line);
            self.known.insert((c.clone(), path.to_string()), blob);
        }
        let _ = writer.join();
        let _ = child.kill();
        let _ = child.wait();
        if answered < commits.len() {
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
        let blob = self.answer(&line);
        self.known.insert(key, blob.clone());
        Ok(blob)
    }

    /// The blob id in a `--batch-check` answer, its size noted; anything but a blob
    /// (missing, a directory, a submodule) is no version of the file.
    fn answer(&mut self, line: &str) -> Option<String> {
        let mut parts = line.split_whitespace();
        let (id, kind, size) = (parts.next()?, parts.next()?, parts.next());
        if kind != "blob" {
            return None;
        }
        if let Some(n) = size.and_then(|s| s.parse().ok()) {
            self.size.insert(id.to_string(), n);
        }
        Some(id.to_string())
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

/// The reader's buffer on a `cat-file` pipe, and the most copied out of it at a time.
/// Versions are megabytes, yet reading them from the pipe in pieces through a buffer that
/// stays in the CPU's cache costs half the system time of reading each straight into its
/// destination (measured: BENCHMARKS.md, history section).
const PIPE_BUFFER: usize = 1 << 16;
const PIECE: u64 = 1 << 15;

/// The header of the next `--batch` answer: the object's type and size; `None` when it
/// is missing.
fn read_header(stdout: &mut BufReader<ChildStdout>) -> Result<Option<(String, u64)>> {
    let mut header = String::new();
    stdout
        .read_line(&mut header)
        .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
    let mut parts = header.split_whitespace();
    let (Some(_id), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let size = size
        .parse()
        .map_err(|_| Error::Git("git cat-file: unexpected output".into()))?;
    Ok(Some((kind.to_string(), size)))
}

/// The content of a `--batch` answer whose header said `size`, and the newline after it,
/// read into `buf` (cleared first; its allocation is reused and never zeroed).
fn read_body(stdout: &mut BufReader<ChildStdout>, buf: &mut Vec<u8>, size: u64) -> Result<()> {
    let fail = |e: std::io::Error| Error::Git(format!("git cat-file: {e}"));
    buf.clear();
    buf.reserve(size as usize + 1);
    // Into the reserved space, which `read_to_end` fills without zeroing it first.
    while (buf.len() as u64) < size + 1 {
        let piece = PIECE.min(size + 1 - buf.len() as u64);
        if stdout.by_ref().take(piece).read_to_end(buf).map_err(fail)? == 0 {
            return Err(Error::Git("git cat-file: output ended early".into()));
        }
    }
    buf.pop();
    Ok(())
}

/// Why [`Objects`] gave no more.
enum Stop {
    /// The object is missing, or is not what was asked.
    Missing,
    /// Its size, over the limit.
    TooBig(u64),
    Failed(Error),
}

/// Objects read by `git cat-file --batch`, in an order given up front. Three things run at
/// once: git inflating, a thread copying git's answers out of the pipe, and the caller
/// working on an earlier version, so that neither side waits on the other's work.
pub struct Objects {
    child: Child,
    got: Option<std::sync::mpsc::Receiver<std::result::Result<Vec<u8>, Stop>>>,
    /// Buffers the caller is done with, for the reading thread to fill again.
    spare: std::sync::mpsc::Sender<Vec<u8>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    limit: u64,
}

impl Objects {
    /// Starts reading `ids`, in that order; [`Objects::next`] returns them one by one.
    pub fn stream(git: &Git, ids: Vec<String>, limit: u64) -> Result<Objects> {
        let mut child = git.spawn(&["cat-file", "--batch"])?;
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::with_capacity(PIPE_BUFFER, child.stdout.take().expect("piped"));
        let count = ids.len();
        let writer = std::thread::spawn(move || {
            let mut questions = BufWriter::new(&mut stdin);
            for id in ids {
                if writeln!(questions, "{id}").is_err() {
                    return;
                }
            }
            let _ = questions.flush();
        });
        // Two versions ahead at most: memory stays a few versions whatever the history.
        let (tx, got) = std::sync::mpsc::sync_channel(2);
        let (spare, spares) = std::sync::mpsc::channel::<Vec<u8>>();
        let reader = std::thread::spawn(move || {
            for _ in 0..count {
                let mut buf = spares.try_recv().unwrap_or_default();
                let answer = match read_header(&mut stdout) {
                    Err(e) => Err(Stop::Failed(e)),
                    Ok(None) => Err(Stop::Missing),
                    Ok(Some((_, size))) if size > limit => Err(Stop::TooBig(size)),
                    Ok(Some((_, size))) => read_body(&mut stdout, &mut buf, size)
                        .map(|()| buf)
                        .map_err(Stop::Failed),
                };
                let stop = answer.is_err();
                if tx.send(answer).is_err() || stop {
                    return;
                }
            }
        });
        Ok(Objects {
            child,
            got: Some(got),
            spare,
            threads: vec![writer, reader],
            limit,
        })
    }

    /// The next object's content, in a new buffer.
    pub fn next(&mut self, what: &str) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.next_into(what, &mut buf)?;
        Ok(buf)
    }

    /// The next object's content, put into `buf`; the buffer `buf` held goes back to be
    /// filled again.
    pub fn next_into(&mut self, what: &str, buf: &mut Vec<u8>) -> Result<()> {
        let got = self.got.as_ref().expect("until dropped");
        match got.recv() {
            Ok(Ok(bytes)) => {
                let old = std::mem::replace(buf, bytes);
                if old.capacity() > 0 {
                    let _ = self.spare.send(old);
                }
                Ok(())
            }
            Ok(Err(Stop::TooBig(size))) => Err(Error::too_big(what, size, self.limit)),
            Ok(Err(Stop::Failed(e))) => Err(e),
            Ok(Err(Stop::Missing)) | Err(_) => {
                Err(Error::Git(format!("git cat-file: cannot read {what}")))
            }
        }
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        // Unread objects are abandoned: stop git rather than read them, and the reading
        // thread with it (its pipe ends, or its next answer has nobody to go to).
        self.got = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Reads single objects on demand (commit messages, trees), one process for all of them.
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

    /// The raw object `spec` names and its type; `None` when there is no such object.
    fn object(&mut self, spec: &str) -> Result<Option<(String, Vec<u8>)>> {
        if self.process.is_none() {
            let mut child = self.git.spawn(&["cat-file", "--batch"])?;
            let stdin = child.stdin.take().expect("piped");
            let stdout = BufReader::with_capacity(PIPE_BUFFER, child.stdout.take().expect("piped"));
            self.process = Some((child, stdin, stdout));
        }
        let (_, stdin, stdout) = self.process.as_mut().expect("just set");
        stdin
            .write_all(format!("{spec}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| Error::Git(format!("git cat-file: {e}")))?;
        let Some((kind, size)) = read_header(stdout)? else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        read_body(stdout, &mut buf, size)?;
        Ok(Some((kind, buf)))
    }

    /// The raw object `id` (for a commit: headers, a blank line, the message).
    pub fn read(&mut self, id: &str) -> Result<Vec<u8>> {
        self.object(id)?
            .map(|(_, bytes)| bytes)
            .ok_or_else(|| Error::Git(format!("git cat-file: cannot read {id}")))
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

    /// The tree mode of `path` in `commit` (`0o100644`, `0o120000` for a symbolic link),
    /// read from its directory's tree; `None` when the path is not there.
    pub fn mode(&mut self, commit: &str, path: &str) -> Result<Option<u32>> {
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (format!("{commit}:{dir}"), name),
            None => (format!("{commit}^{{tree}}"), path),
        };
        let Some((kind, tree)) = self.object(&dir)? else {
            return Ok(None);
        };
        if kind != "tree" {
            return Ok(None);
        }
        // A commit id's digits are twice its object format's hash length in bytes.
        Ok(tree_mode(&tree, name.as_bytes(), commit.len() / 2))
    }
}

/// The mode of entry `name` in a raw tree object (`<octal mode> SP <name> NUL <hash>`...).
fn tree_mode(tree: &[u8], name: &[u8], hash_len: usize) -> Option<u32> {
    let mut rest = tree;
    while !rest.is_empty() {
        let space = memchr::memchr(b' ', rest)?;
        let nul = space + memchr::memchr(0, &rest[space..])?;
        if &rest[space + 1..nul] == name {
            let mode = std::str::from_utf8(&rest[..space]).ok()?;
            return u32::from_str_radix(mode, 8).ok();
        }
        rest = rest.get(nul + 1 + hash_len..)?;
    }
    None
}

impl Drop for Lookup {
    fn drop(&mut self) {
        if let Some((mut child, stdin, _)) = self.process.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tree_mode;

    #[test]
    fn tree_mode_finds_the_entry_by_its_whole_name() {
        let hash = [7u8; 20];
        let mut tree = Vec::new();
        for (mode, name) in [
            ("100644", "run_queue.json.bak"),
            ("120000", "run_queue.json"),
        ] {
            tree.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            tree.extend_from_slice(&hash);
        }
        assert_eq!(tree_mode(&tree, b"run_queue.json", 20), Some(0o120000));
        assert_eq!(tree_mode(&tree, b"run_queue.json.bak", 20), Some(0o100644));
        assert_eq!(tree_mode(&tree, b"run_queue", 20), None);
        assert_eq!(tree_mode(&tree[..30], b"run_queue.json", 20), None);
    }
}
