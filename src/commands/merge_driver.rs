//! `runqlint merge-driver %O %A %B %L %P %S %X %Y`: git's merge-driver contract around
//! [`crate::merge`]. Reads the three versions, merges, writes the result over `%A`
//! atomically (a temporary file beside it, fsync, rename: never a partial file), and prints
//! one line per conflict and per note on stderr. Exit 0 clean, 1 conflicts, 2 nothing
//! written. A version that is not JSON (one holding conflict markers, as `git rerere`
//! hands over its recorded images) is merged line by line by `git merge-file`, with git's
//! labels (`%S %X %Y`, git 2.44 and later) and marker size: what git does without a driver.

use std::io::Write;
use std::path::Path;

use crate::cli::MergeDriverArgs;
use crate::error::{io, Error, Result};
use crate::gitcli::Git;
use crate::merge::{self, Options};
use crate::output;
use crate::text;

/// The `merge.runqlint.driver` command line `install-hook` registers.
pub const DRIVER: &str = "\"${RUNQLINT:-runqlint}\" merge-driver %O %A %B %L %P %S %X %Y";
/// The driver git uses to merge common ancestors (`merge.runqlint.recursive`).
pub const ANCESTOR_DRIVER: &str =
    "\"${RUNQLINT:-runqlint}\" merge-driver --ancestor %O %A %B %L %P %S %X %Y";

pub fn run(args: &MergeDriverArgs) -> Result<bool> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| io(p, "read", e));
    // The three reads overlap: each is mostly the kernel copying a large file.
    let (base, ours, theirs) = std::thread::scope(|s| {
        let joined = |h: std::thread::ScopedJoinHandle<'_, Result<Vec<u8>>>| {
            h.join()
                .unwrap_or_else(|_| Err(Error::Io("a file reader stopped".into())))
        };
        let base = s.spawn(|| read(&args.base));
        let theirs = s.spawn(|| read(&args.theirs));
        let ours = read(&args.ours);
        (joined(base), ours, joined(theirs))
    });
    let (base, ours, theirs) = (base?, ours?, theirs?);
    let opts = Options {
        marker_size: usize::from(args.marker_size),
        ancestor: args.ancestor,
    };
    let outcome = merge::merge(&base, &ours, &theirs, &opts);
    let name = text::escape(
        args.path
            .as_deref()
            .unwrap_or_else(|| args.ours.to_str().unwrap_or("ours")),
    );
    if outcome.unreadable {
        // Not a queue to merge by item (a version holding conflict markers, as rerere
        // hands over): what git does without a driver, a line merge.
        // git before 2.44 leaves `%S %X %Y` as they are: no labels then.
        let label = |i: usize, default: &'static str| {
            args.labels
                .get(i)
                .map(String::as_str)
                .filter(|l| !matches!(*l, "%S" | "%X" | "%Y"))
                .unwrap_or(default)
        };
        let labels = [label(1, "ours"), label(0, "base"), label(2, "theirs")];
        let (bytes, conflicted) = Git::at(Path::new(".")).merge_file(
            [&args.ours, &args.base, &args.theirs],
            labels,
            opts.marker_size,
        )?;
        if bytes != ours {
            write_atomic(&args.ours, &bytes)?;
        }
        let how = if conflicted {
            "with conflicts"
        } else {
            "cleanly"
        };
        output::stderr(&format!(
            "runqlint merge-driver: {name}: note: a version is not JSON; merged line by line as git does without a driver, {how}"
        ));
        return Ok(!conflicted);
    }
    if outcome.bytes != ours {
        write_atomic(&args.ours, &outcome.bytes)?;
    }
    let mut lines = String::new();
    for c in &outcome.conflicts {
        lines.push_str(&format!(
            "runqlint merge-driver: {name}: conflict: {}\n",
            c.describe()
        ));
    }
    for n in &outcome.notes {
        lines.push_str(&format!("runqlint merge-driver: {name}: note: {n}\n"));
    }
    if !lines.is_empty() {
        output::stderr(lines.trim_end());
    }
    Ok(outcome.conflicts.is_empty())
}

/// Replaces `path` by a complete new file: temporary file in the same directory with the
/// same permissions, fsync, rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let perms = std::fs::metadata(path)
        .map_err(|e| io(path, "stat", e))?
        .permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".runqlint-merge")
        .tempfile_in(dir)
        .map_err(|e| io(dir, "create a temporary file in", e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().set_permissions(perms))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io(tmp.path(), "write", e))?;
    tmp.persist(path)
        .map_err(|e| Error::Io(format!("{}: cannot replace: {}", path.display(), e.error)))?;
    Ok(())
}

/// The `.gitattributes` line that routes `path` to the driver.
pub fn attributes_line(path: &str) -> String {
    format!("{path} merge=runqlint")
}

/// Registers the driver in the repository's own config (`git config --local`):
/// `merge.runqlint.{name,driver,recursive}` and the ancestor driver `recursive` names.
/// Says what it did on stdout. `install-hook` then routes the queue files to it.
pub fn register(root: &Path) -> Result<()> {
    let settings = [
        ("merge.runqlint.name", "runqlint: merge queue items by id"),
        ("merge.runqlint.driver", DRIVER),
        ("merge.runqlint.recursive", "runqlint-ancestor"),
        (
            "merge.runqlint-ancestor.name",
            "runqlint: merge common ancestors of queue files",
        ),
        ("merge.runqlint-ancestor.driver", ANCESTOR_DRIVER),
    ];
    for (key, value) in settings {
        crate::gitcli::Git::at(root)
            .checked(&["config", "--local", key, value])
            .map_err(|e| Error::Git(format!("`git config --local {key}`: {e}")))?;
    }
    output::stdout(&format!(
        "registered the merge driver in this repository's config: merge.runqlint.driver = {DRIVER}\n"
    ))
    .map_err(|e| Error::Io(format!("stdout: {e}")))
}
