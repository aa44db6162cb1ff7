//! Reading through the installed `git`, for what libgit2 reads differently or not at all,
//! and the runner every `git` command of `fix`'s writes goes through (`git::write`).
//!
//! The hook runs inside git and CI runs beside it, so the `git` on PATH is the reference.
//! libgit2 (`src/git/`) stays the fast path for a plain repository; this module answers
//! where libgit2 lags: repositories it cannot open (SHA-256 objects, reftable refs, unknown
//! extensions), indexes it cannot read (split index, sparse index), objects it cannot fetch
//! (blobless partial clones: `git cat-file` fetches a missing blob from the promisor remote
//! as git would), files git converts on checkout (`.gitattributes` filters, `eol`, Git
//! LFS), and queue files inside submodules.
//!
//! Every command inherits the environment, so a hook's `GIT_DIR`, `GIT_WORK_TREE` and
//! `GIT_INDEX_FILE` apply; relative values are made absolute first, because the commands
//! run in the repository's top directory. Commands for a submodule run without them (git
//! clears them for submodules too). Paths are passed with `--literal-pathspecs`, revisions
//! are refused when they could be read as options, and nothing goes through a shell.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::error::{Error, Result};

/// The variables git clears when it runs a command in a submodule (`git rev-parse
/// --local-env-vars`, less the ones that cannot apply here).
const LOCAL_ENV: &[&str] = &[
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_DIR",
    "GIT_GRAFT_FILE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
    "GIT_REPLACE_REF_BASE",
    "GIT_SHALLOW_FILE",
    "GIT_WORK_TREE",
];

/// Variables holding paths that a hook may export relative to its directory.
const PATH_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_COMMON_DIR",
];

/// A repository as the `git` program sees it: commands run in `top`.
#[derive(Debug, Clone)]
pub struct Git {
    top: PathBuf,
    /// A submodule: run without the superproject's repository variables.
    isolated: bool,
}

/// A path's entry in a tree or the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub mode: u32,
    pub oid: String,
}

impl Git {
    /// The repository of the current process (its environment and directory), if `git`
    /// knows one with a working tree: `git rev-parse --show-toplevel`.
    pub fn discover(start: &Path) -> Result<Option<Git>> {
        let dir = if start.is_dir() {
            start
        } else {
            start.parent().unwrap_or(start)
        };
        let mut cmd = Command::new("git");
        cmd.args(["rev-parse", "--show-toplevel"])
            .current_dir(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
            .stdin(Stdio::null());
        absolutize_env(&mut cmd);
        let out = run(cmd, "find the repository")?;
        if !out.status.success() {
            return Ok(None);
        }
        let top = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
        if top.is_empty() {
            return Ok(None);
        }
        Ok(Some(Git {
            top: PathBuf::from(top),
            isolated: false,
        }))
    }

    /// The repository of the working tree at `top` (a submodule's), ignoring the
    /// superproject's `GIT_DIR` and friends.
    pub fn submodule(top: &Path) -> Git {
        Git {
            top: top.to_path_buf(),
            isolated: true,
        }
    }

    /// The repository of the environment, run in `top` (the working tree's root).
    pub fn at(top: &Path) -> Git {
        Git {
            top: top.to_path_buf(),
            isolated: false,
        }
    }

    pub fn top(&self) -> &Path {
        &self.top
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("--literal-pathspecs")
            .args(args)
            .current_dir(&self.top)
            .stdin(Stdio::null());
        if self.isolated {
            for var in LOCAL_ENV {
                cmd.env_remove(var);
            }
        } else {
            absolutize_env(&mut cmd);
        }
        cmd
    }

    /// Runs `git ARGS`; `Ok(None)` when git exits non-zero.
    fn output(&self, args: &[&str], what: &str) -> Result<Option<Vec<u8>>> {
        let out = run(self.cmd(args), what)?;
        Ok(out.status.success().then_some(out.stdout))
    }

    /// `git config --get KEY`, every config source git reads; `None` when it is unset.
    pub fn config_value(&self, key: &str) -> Result<Option<String>> {
        refuse_option(key)?;
        Ok(self
            .output(&["config", "--get", key], "read git's config")?
            .map(|o| String::from_utf8_lossy(&o).trim().to_string()))
    }

    /// Runs `git ARGS` to completion and returns its stdout; a failure is git's last line
    /// of stderr, after the subcommand's name.
    pub fn checked(&self, args: &[&str]) -> Result<Vec<u8>> {
        let name = args.first().copied().unwrap_or("");
        let out = run(self.cmd(args), &format!("run `git {name}`"))?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "git {name}: {}",
                last_line(&out.stderr)
            )));
        }
        Ok(out.stdout)
    }

    /// Runs `git ARGS` with the variables `env` set and `input` fed to its stdin, to
    /// completion, and returns what it printed and its status: for callers that word a
    /// failure themselves. `-c KEY=VALUE` pairs may come before the subcommand.
    pub fn run_with(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        input: Option<&[u8]>,
    ) -> Result<std::process::Output> {
        use std::io::Write;
        let name = subcommand(args);
        let mut cmd = self.cmd(args);
        for (var, value) in env {
            cmd.env(var, value);
        }
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let cannot = |e: std::io::Error| Error::Git(format!("cannot run `git {name}`: {e}"));
        let mut child = cmd.spawn().map_err(cannot)?;
        let stdin = child.stdin.take();
        std::thread::scope(|scope| {
            // Fed on a thread of its own, so a large input never waits on unread output. A
            // failed write shows as git's own failure.
            if let (Some(mut stdin), Some(bytes)) = (stdin, input) {
                scope.spawn(move || {
                    let _ = stdin.write_all(bytes);
                });
            }
            child.wait_with_output().map_err(cannot)
        })
    }

    /// [`Git::run_with`], its failure one line: the subcommand and git's last line of
    /// stderr. Returns stdout.
    pub fn checked_with(
        &self,
        args: &[&str],
        env: &[(&str, &std::ffi::OsStr)],
        input: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        let out = self.run_with(args, env, input)?;
        if !out.status.success() {
            return Err(Error::Git(format!(
                "git {}: {}",
                subcommand(args),
                last_line(&out.stderr)
            )));
        }
        Ok(out.stdout)
    }

    /// Starts `git ARGS` with its stdin and stdout piped and its stderr dropped: a
    /// long-lived process fed questions and read as it answers (`cat-file --batch`).
    pub fn spawn(&self, args: &[&str]) -> Result<Child> {
        let name = args.first().copied().unwrap_or("");
        self.cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::Git(format!("cannot run `git {name}`: {e}")))
    }

    /// `git merge-file -p`: the line merge git makes of a file without a merge driver,
    /// `ours` against `base` with `theirs` (paths relative to `top`), conflict markers of
    /// `marker_size` labelled `labels` (ours, base, theirs); git reads `merge.conflictStyle`
    /// as for its own merges. The merged bytes and whether conflicts remain.
    pub fn merge_file(
        &self,
        [ours, base, theirs]: [&Path; 3],
        labels: [&str; 3],
        marker_size: usize,
    ) -> Result<(Vec<u8>, bool)> {
        let size = format!("--marker-size={marker_size}");
        let mut cmd = self.cmd(&["merge-file", "-p", &size]);
        for label in labels {
            cmd.arg("-L").arg(label);
        }
        cmd.arg("--").args([ours, base, theirs]);
        let out = run(cmd, "run `git merge-file`")?;
        match out.status.code() {
            // The number of conflicts, at most 127; a failure is negative (or a signal).
            Some(n @ 0..=127) => Ok((out.stdout, n > 0)),
            _ => Err(Error::Git(format!(
                "git merge-file: {}",
                last_line(&out.stderr)
            ))),
        }
    }

    /// Where git runs hooks: `git rev-parse --git-path hooks`, which reads `core.hooksPath`
    /// from every config source git reads (system, global, local, worktree, includes,
    /// `GIT_CONFIG_*`).
    pub fn hooks_dir(&self) -> Result<PathBuf> {
        let out = self
            .output(
                &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
                "find the hooks directory",
            )?
            .ok_or_else(|| Error::Git("git could not name its hooks directory".into()))?;
        let dir = String::from_utf8_lossy(&out).trim_end().to_string();
        Ok(PathBuf::from(dir))
    }

    /// The repository's git directory (a linked worktree's own), absolute:
    /// `git rev-parse --absolute-git-dir`.
    pub fn git_dir(&self) -> Result<PathBuf> {
        let out = self.checked(&["rev-parse", "--absolute-git-dir"])?;
        Ok(PathBuf::from(
            String::from_utf8_lossy(&out).trim_end_matches('\n'),
        ))
    }

    /// The commit `rev` names: `Ok(None)` when it names none.
    pub fn commit_of(&self, rev: &str) -> Result<Option<String>> {
        refuse_option(rev)?;
        let spec = format!("{rev}^{{commit}}");
        Ok(self
            .output(
                &["rev-parse", "--verify", "--quiet", &spec],
                "resolve a revision",
            )?
            .map(|o| String::from_utf8_lossy(&o).trim().to_string())
            .filter(|s| !s.is_empty()))
    }

    /// The commits a merge in progress brings into HEAD ([`merge_heads`]):
    /// `$GIT_DIR/MERGE_HEAD`, found by `git rev-parse --git-path`, and `GITHEAD_*`.
    pub fn merge_heads(&self) -> Result<Vec<MergeHead>> {
        let out = self.checked(&[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            "MERGE_HEAD",
        ])?;
        let file = PathBuf::from(String::from_utf8_lossy(&out).trim_end());
        match std::fs::read(&file) {
            Ok(bytes) => Ok(merge_heads(Some(&bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(merge_heads(None)),
            Err(e) => Err(crate::error::io(&file, "read", e)),
        }
    }

    /// The best common ancestor of `commits` (`git merge-base --octopus`, as `audit` asks
    /// of a merge's parents); `None` when they have none.
    pub fn merge_base(&self, commits: &[&str]) -> Result<Option<String>> {
        for c in commits {
            refuse_option(c)?;
        }
        let mut args = vec!["merge-base", "--octopus"];
        args.extend_from_slice(commits);
        Ok(self.output(&args, "find the merge base")?.and_then(|o| {
            String::from_utf8_lossy(&o)
                .split_whitespace()
                .next()
                .map(str::to_string)
        }))
    }

    /// The short names of the branches (local first, then remote-tracking) and tags that
    /// point at `commit`: `git for-each-ref --points-at`.
    pub fn names_of(&self, commit: &str) -> Result<Vec<String>> {
        refuse_option(commit)?;
        let points_at = format!("--points-at={commit}");
        let out = self.checked(&[
            "for-each-ref",
            &points_at,
            "--format=%(refname:short)",
            "refs/heads",
            "refs/remotes",
            "refs/tags",
        ])?;
        Ok(String::from_utf8_lossy(&out)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// The value git gives `attr` at `rel` (`unspecified`, `unset`, `set` or the value):
    /// `git check-attr -z ATTR -- REL`.
    pub fn attribute(&self, rel: &str, attr: &str) -> Result<String> {
        let out = self.checked(&["check-attr", "-z", attr, "--", rel])?;
        // `<path> NUL <attribute> NUL <info> NUL`
        let fields: Vec<&[u8]> = out.split(|&b| b == 0).collect();
        Ok(fields
            .get(2)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_else(|| "unspecified".into()))
    }

    /// The attributes set (or unset, or given a value) at `rel` when `file` is the global
    /// attributes file: `git -c core.attributesFile=FILE check-attr -z -a -- REL`.
    pub fn attributes_set(&self, rel: &str, file: &Path) -> Result<Vec<String>> {
        let setting = format!("core.attributesFile={}", file.display());
        let out = self
            .output(
                &["-c", &setting, "check-attr", "-z", "-a", "--", rel],
                "read attributes",
            )?
            .ok_or_else(|| Error::Git(format!("git could not read the attributes of {rel}")))?;
        let fields: Vec<&[u8]> = out.split(|&b| b == 0).collect();
        Ok(fields
            .chunks(3)
            .filter(|c| c.len() == 3)
            .map(|c| String::from_utf8_lossy(c[1]).into_owned())
            .collect())
    }

    /// `git rev-parse --git-path REL`, absolute: where git keeps `REL` of its directory.
    pub fn git_path(&self, rel: &str) -> Result<Option<PathBuf>> {
        Ok(self
            .output(
                &["rev-parse", "--path-format=absolute", "--git-path", rel],
                "find a file of the git directory",
            )?
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o).trim_end()))
            .filter(|p| !p.as_os_str().is_empty()))
    }

    /// A path `git var` names (`GIT_ATTR_GLOBAL`, `GIT_ATTR_SYSTEM`); `None` when git has
    /// none (`GIT_ATTR_NOSYSTEM`).
    pub fn var_path(&self, var: &str) -> Result<Option<PathBuf>> {
        Ok(self
            .output(&["var", var], "read a git variable")?
            .map(|o| PathBuf::from(String::from_utf8_lossy(&o).trim_end()))
            .filter(|p| !p.as_os_str().is_empty()))
    }

    /// `HEAD`'s commit (`None` on an unborn branch) and, in a shallow clone, the commits
    /// whose parents were not fetched (git shows them without parents), in one `git
    /// rev-parse --is-shallow-repository --git-path shallow --verify HEAD^{commit}`; the
    /// list is git's own, `$GIT_DIR/shallow` (or `GIT_SHALLOW_FILE`, which git reads in its
    /// place).
    pub fn head_and_shallow(&self) -> Result<(Option<String>, Vec<String>)> {
        let out = run(
            self.cmd(&[
                "rev-parse",
                "--is-shallow-repository",
                "--git-path",
                "shallow",
                "--verify",
                "--quiet",
                "HEAD^{commit}",
            ]),
            "resolve HEAD",
        )?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut lines = text.lines().map(str::trim);
        let (shallow, path) = (lines.next() == Some("true"), lines.next());
        let head = lines
            .next()
            .filter(|h| out.status.success() && !h.is_empty())
            .map(str::to_string);
        let mut cut = Vec::new();
        if let (true, Some(path)) = (shallow && head.is_some(), path) {
            // Relative to where git ran: `top` (joining an absolute path replaces it).
            let file = match std::env::var_os("GIT_SHALLOW_FILE").filter(|v| !v.is_empty()) {
                Some(f) if !self.isolated => self.top.join(f),
                _ => self.top.join(path),
            };
            let list = std::fs::read_to_string(&file).map_err(|e| {
                Error::Git(format!(
                    "cannot read git's list of shallow commits {}: {e}",
                    file.display()
                ))
            })?;
            cut = list
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>();
        }
        Ok((head, cut))
    }

    /// Whether `git log` shows authors through the mailmap (`log.mailmap`, true unless
    /// set otherwise, read from every config source git reads).
    pub fn log_mailmap(&self) -> Result<bool> {
        let out = run(
            self.cmd(&["config", "--type=bool", "--get", "log.mailmap"]),
            "read log.mailmap",
        )?;
        match out.status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&out.stdout).trim() == "true"),
            // Not set: git's default.
            Some(1) => Ok(true),
            _ => Err(Error::Git(format!(
                "git config: {}",
                last_line(&out.stderr)
            ))),
        }
    }

    /// `rel`'s entry in the tree of `commit` (a full object id), if any.
    pub fn tree_entry(&self, commit: &str, rel: &str) -> Result<Option<Entry>> {
        let out = self
            .output(
                &["ls-tree", "-z", "--full-tree", commit, "--", rel],
                "read a tree",
            )?
            .ok_or_else(|| Error::Git(format!("git could not read the tree of {commit}")))?;
        // `<mode> SP <type> SP <oid> TAB <path> NUL`
        Ok(records_for(&out, rel)
            .into_iter()
            .next()
            .map(|[mode, _, oid]| Entry {
                mode: u32::from_str_radix(&mode, 8).unwrap_or(0),
                oid,
            }))
    }

    /// `rel`'s entries in the index, by stage (0 merged, 1–3 conflicted). A sparse index is
    /// expanded by git, so a path outside the sparse cone is listed too.
    pub fn index_entries(&self, rel: &str) -> Result<Vec<(u8, Entry)>> {
        let out = self
            .output(&["ls-files", "-z", "--stage", "--", rel], "read the index")?
            .ok_or_else(|| Error::Git("git could not read the index".into()))?;
        // `<mode> SP <oid> SP <stage> TAB <path> NUL`
        Ok(records_for(&out, rel)
            .into_iter()
            .map(|[mode, oid, stage]| {
                (
                    stage.parse().unwrap_or(0),
                    Entry {
                        mode: u32::from_str_radix(&mode, 8).unwrap_or(0),
                        oid,
                    },
                )
            })
            .collect())
    }

    /// Whether `rel`'s index entry is only an intent to add (`git add -N`): git records
    /// nothing for it in a commit. Asked only for an entry holding the empty blob.
    pub fn intent_to_add(&self, rel: &str) -> Result<bool> {
        // `--debug` prints the entry's flags; CE_INTENT_TO_ADD is bit 29.
        let out = self
            .output(&["ls-files", "--debug", "--", rel], "read the index")?
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        Ok(text
            .lines()
            .filter_map(|l| l.split("flags: ").nth(1))
            .filter_map(|f| u32::from_str_radix(f.trim(), 16).ok())
            .any(|flags| flags & (1 << 29) != 0))
    }

    /// Whether `rel` is marked skip-worktree in the index (outside a sparse checkout).
    pub fn skip_worktree(&self, rel: &str) -> Result<bool> {
        let out = self
            .output(&["ls-files", "-z", "-t", "--", rel], "read the index")?
            .unwrap_or_default();
        Ok(out
            .split(|&b| b == 0)
            .any(|r| r.starts_with(b"S ") && &r[2..] == rel.as_bytes()))
    }

    /// How `rel` differs from `HEAD`, in the words of [`crate::git::Writer::path_state`]
    /// (`staged`, `dirty`, `untracked`, `untracked, ignored`, `conflicted`; empty when
    /// clean): `git status --porcelain -z --ignored`, without taking optional locks.
    pub fn path_state(&self, rel: &str) -> Result<Vec<&'static str>> {
        let out = self
            .output(
                &[
                    "--no-optional-locks",
                    "status",
                    "--porcelain=v1",
                    "-z",
                    "--ignored=matching",
                    "--untracked-files=all",
                    "--no-renames",
                    "--",
                    rel,
                ],
                "read the file's status",
            )?
            .ok_or_else(|| Error::Git(format!("git could not tell the status of {rel}")))?;
        let mut states = Vec::new();
        for record in out.split(|&b| b == 0).filter(|r| r.len() > 3) {
            if &record[3..] != rel.as_bytes() {
                continue;
            }
            match (record[0], record[1]) {
                (b'?', b'?') => states.push("untracked"),
                (b'!', b'!') => states.push("untracked, ignored"),
                (b'U', _) | (_, b'U') | (b'A', b'A') | (b'D', b'D') => states.push("conflicted"),
                (x, y) => {
                    if x != b' ' {
                        states.push("staged");
                    }
                    if y != b' ' {
                        states.push("dirty");
                    }
                }
            }
        }
        Ok(states)
    }

    /// The blob `oid` as git would check it out at `rel`: through the path's filters
    /// (`.gitattributes` `filter`, `eol`, `ident`, Git LFS), fetched first from the
    /// promisor remote if a partial clone lacks it. Over `limit` bytes is refused.
    pub fn checkout_bytes(&self, rel: &str, oid: &str, limit: u64) -> Result<Vec<u8>> {
        let path_arg = format!("--path={rel}");
        self.cat_blob(rel, &["cat-file", "--filters", &path_arg, oid], oid, limit)
    }

    /// The blob `oid` as stored (no filter), for the file at `rel`: what a byte-exact
    /// commit is compared with. Over `limit` bytes is refused.
    pub fn stored_bytes(&self, rel: &str, oid: &str, limit: u64) -> Result<Vec<u8>> {
        self.cat_blob(rel, &["cat-file", "blob", oid], oid, limit)
    }

    fn cat_blob(&self, rel: &str, args: &[&str], oid: &str, limit: u64) -> Result<Vec<u8>> {
        refuse_option(oid)?;
        let mut cmd = self.cmd(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::Git(format!("cannot run `git` to read {rel}: {e}")))?;
        let mut bytes = Vec::new();
        let stdout = child.stdout.take().expect("piped");
        let read = stdout.take(limit + 1).read_to_end(&mut bytes);
        if read.is_ok() && bytes.len() as u64 > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Refused(format!(
                "{rel}: more than {limit} bytes once checked out (`max-file-size` in runqlint.toml)"
            )));
        }
        let mut err = Vec::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_end(&mut err);
        }
        let status = child
            .wait()
            .map_err(|e| Error::Git(format!("`git cat-file` for {rel}: {e}")))?;
        read.map_err(|e| Error::Git(format!("`git cat-file` for {rel}: {e}")))?;
        if !status.success() {
            return Err(Error::Git(format!(
                "{rel}: git could not check out blob {oid}: {}",
                last_line(&err)
            )));
        }
        Ok(bytes)
    }

    /// The file at `rel` in revision `rev`, as git would check it out.
    pub fn blob_at(&self, rev: &str, rel: &str, limit: u64) -> Result<Blob> {
        let Some(commit) = self.commit_of(rev)? else {
            if rev == "HEAD" {
                return Ok(Blob::Missing);
            }
            return Err(Error::Git(format!(
                "base revision `{}` is not in this repository; fetch it (for example `git fetch origin {}`) or name another",
                crate::text::escape(rev),
                crate::text::escape(rev)
            )));
        };
        match self.tree_entry(&commit, rel)? {
            None => Ok(Blob::Missing),
            Some(e) => self.entry_blob(&e, rel, &format!("in {rev}"), limit),
        }
    }

    /// The staged version of `rel`, as git would check it out.
    pub fn blob_in_index(&self, rel: &str, limit: u64) -> Result<Blob> {
        let entries = self.index_entries(rel)?;
        if entries.iter().any(|(stage, _)| *stage != 0) {
            return Err(conflicted(rel));
        }
        match entries.into_iter().next() {
            None => Ok(Blob::Missing),
            Some((_, e)) if e.mode == 0o120000 => Err(staged_symlink(rel)),
            Some((_, e)) if is_empty_blob(&e.oid) && self.intent_to_add(rel)? => Ok(Blob::Missing),
            Some((_, e)) => self.entry_blob(&e, rel, "in the index", limit),
        }
    }

    /// The file at `rel` in `commit` (a full object id), as git would check it out; an
    /// error naming `what` when the commit is not here (a submodule not fetched).
    pub fn blob_in_commit(&self, commit: &str, rel: &str, what: &str, limit: u64) -> Result<Blob> {
        if self.commit_of(commit)?.is_none() {
            return Err(Error::Git(format!(
                "{what} records commit {commit}, which is not in its repository; fetch it with `git -C {} fetch`",
                crate::text::escape(&self.top.to_string_lossy())
            )));
        }
        match self.tree_entry(commit, rel)? {
            None => Ok(Blob::Missing),
            Some(e) => self.entry_blob(&e, rel, &format!("in {commit}"), limit),
        }
    }

    fn entry_blob(&self, e: &Entry, rel: &str, where_: &str, limit: u64) -> Result<Blob> {
        match e.mode {
            // A symbolic link at the base: the regular file now is new.
            0o120000 => Ok(Blob::Missing),
            0o160000 => Err(Error::Usage(format!(
                "{rel} is a submodule {where_}, not a file"
            ))),
            0o040000 => Err(Error::Usage(format!(
                "{rel} is a directory {where_}, not a file"
            ))),
            _ => self.checkout_bytes(rel, &e.oid, limit).map(Blob::Found),
        }
    }
}

/// The three space-separated fields before the TAB of each NUL-terminated record in `out`
/// (`ls-tree -z`, `ls-files -z --stage`) whose path is exactly `rel`, in order.
fn records_for(out: &[u8], rel: &str) -> Vec<[String; 3]> {
    let mut records = Vec::new();
    for record in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let text = String::from_utf8_lossy(record);
        let Some((meta, path)) = text.split_once('\t') else {
            continue;
        };
        if path != rel {
            continue;
        }
        let mut parts = meta.split(' ');
        if let (Some(a), Some(b), Some(c)) = (parts.next(), parts.next(), parts.next()) {
            records.push([a.to_string(), b.to_string(), c.to_string()]);
        }
    }
    records
}

pub fn conflicted(rel: &str) -> Error {
    Error::Git(format!(
        "{rel} has unresolved merge conflicts in the index; resolve them and `git add` the result"
    ))
}

pub fn staged_symlink(rel: &str) -> Error {
    Error::Usage(format!(
        "{rel} is staged as a symbolic link; runqlint checks regular files only"
    ))
}

/// The empty blob in SHA-1 and SHA-256 repositories (what `git add -N` records).
pub fn is_empty_blob(oid: &str) -> bool {
    oid == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        || oid == "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"
}

fn refuse_option(arg: &str) -> Result<()> {
    if arg.starts_with('-') || arg.is_empty() || arg.contains('\0') {
        return Err(Error::Usage(format!(
            "`{}` is not a revision",
            crate::text::escape(arg)
        )));
    }
    Ok(())
}

/// The subcommand of `args`, past any leading `-c KEY=VALUE` pairs: how a failure is named.
fn subcommand<'a>(args: &[&'a str]) -> &'a str {
    let mut rest = args;
    while let ["-c", _, tail @ ..] = rest {
        rest = tail;
    }
    rest.first().copied().unwrap_or("")
}

fn run(mut cmd: Command, what: &str) -> Result<std::process::Output> {
    cmd.stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::Git(format!("cannot run `git` to {what}: {e}")))
}

/// The last non-empty line git wrote to stderr, escaped (it may quote file content): the
/// one-line reason of every failed `git` command, here and in `git::write`.
pub(crate) fn last_line(err: &[u8]) -> String {
    let text = String::from_utf8_lossy(err);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no reason given");
    crate::text::escape(line.trim())
}

/// Makes the hook's relative repository variables absolute (they are relative to the
/// directory the hook runs in, and the commands here may run elsewhere).
fn absolutize_env(cmd: &mut Command) {
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    for var in PATH_ENV {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let p = Path::new(&value);
            if p.is_relative() {
                cmd.env(var, cwd.join(p));
            }
        }
    }
}

/// A blob read from git, or the reason there is none.
pub enum Blob {
    Found(Vec<u8>),
    /// The path does not exist in that version, or there is no such version: `HEAD` of a
    /// repository with no commit yet holds no file.
    Missing,
}

/// A commit a merge in progress brings into HEAD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeHead {
    /// Its full id.
    pub id: String,
    /// The name it was merged by (`git merge b`: `b`), when git tells it.
    pub name: Option<String>,
}

/// The commits being merged into HEAD, each once, in git's order: the lines of
/// `$GIT_DIR/MERGE_HEAD` (`merge_head`: its content), which git writes when a merge stops
/// before its commit (conflicts, `--no-commit`) and `git commit` then reads; and the
/// `GITHEAD_<id>=<name>` variables `git merge` exports to its hooks, because while
/// `pre-merge-commit` runs git has not written `MERGE_HEAD` (2.47). Anything that is not
/// an object id is ignored.
pub fn merge_heads(merge_head: Option<&[u8]>) -> Vec<MergeHead> {
    let is_id = |s: &str| {
        matches!(s.len(), 40 | 64)
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let mut heads: Vec<MergeHead> = Vec::new();
    let mut add = |id: &str, name: Option<String>| {
        if !is_id(id) {
            return;
        }
        match heads.iter_mut().find(|h| h.id == id) {
            Some(h) => {
                if h.name.is_none() {
                    h.name = name;
                }
            }
            None => heads.push(MergeHead {
                id: id.to_string(),
                name,
            }),
        }
    };
    for line in String::from_utf8_lossy(merge_head.unwrap_or_default()).lines() {
        add(line.trim(), None);
    }
    for (var, value) in std::env::vars_os() {
        let Some(id) = var.to_str().and_then(|v| v.strip_prefix("GITHEAD_")) else {
            continue;
        };
        let name = value.to_string_lossy().into_owned();
        add(id, Some(name).filter(|n| !n.is_empty()));
    }
    heads
}
