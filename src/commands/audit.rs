//! `runqlint audit`: every version of the file in history, checked, each finding reported
//! once at the commit that introduced it.
//!
//! For each commit that changed the file (oldest first), its version is linted against each
//! parent's version ([`crate::lint`], the same check as `check --base PARENT`). A finding is
//! new at a commit when:
//!
//! - single-file rules: no parent's version had it (same rule, same item, same place in the
//!   item; repeats counted), so a finding a branch brought in is reported on that branch,
//!   not again at the merge;
//! - history rules: it is found against a parent, and the other side of a merge did not
//!   already bring it (it is not found between the merge base and another parent). So a
//!   merge is blamed for what it decided itself (an edit of its own, or a resolution that
//!   undoes one side's change), not for what a branch brought, which is blamed on that
//!   branch.
//!
//! Where a shallow clone's history is cut (git has not fetched the commit's parents), the
//! version's findings may be older than its commit: none is blamed on it, and they count
//! as already there for its children, as a `--since` boundary's are. The report says where
//! the history is cut and how many findings that leaves unattributed.

use std::collections::HashMap;

use crate::cli::AuditArgs;
use crate::error::{Error, Result};
use crate::gitcli::Git;
use crate::history::{self, Change, Objects};
use crate::lint::{self, Diagnostic, FileReport, Prepared, Settings};
use crate::output::history::{Audit, CommitReport, Cut};
use crate::output::{self, progress::Progress, Summary};
use crate::rules::{Rule, Side};

use super::{file_history, now_ms, stale_after_ms, Workspace};

/// What one finding is, whatever its position: rule, item, place inside the item, and the
/// how-manieth such finding of its version it is.
pub(crate) type Key = (Rule, Option<String>, String, usize);

pub fn run(args: &AuditArgs) -> Result<Summary> {
    let ws = Workspace::open(args.path.as_deref(), args.common.config.as_deref())?;
    if ws.repo.is_none() {
        return Err(Error::Usage(if ws.bare {
            "audit needs a working tree, and this is a bare repository".into()
        } else {
            format!(
                "audit needs a git repository, and {} is not in one",
                ws.root.display()
            )
        }));
    }
    let fixed_now = match &args.common.now {
        Some(_) => Some(now_ms(&args.common)?),
        None => None,
    };
    let stale_after = stale_after_ms(&args.common, &ws.config)?;
    let progress = Progress::spinner("reading the history");
    let (git, shown, history) = file_history(&ws, args.path.as_deref(), args.since.as_deref())?;
    for note in history.link_notes() {
        output::stderr(&note);
    }
    let total = history.changes.len();
    progress.count("checking commits", total as u64);
    let found = audit(
        &git,
        history.changes,
        ws.config.max_file_size,
        |time| Settings {
            levels: ws.config.levels.clone(),
            now_ms: fixed_now.unwrap_or(time * 1000),
            stale_after_ms: stale_after,
        },
        &progress,
    )?;
    progress.clear();
    if !found.cuts.is_empty() {
        let commits: Vec<String> = found.cuts.iter().map(|c| c.commit.clone()).collect();
        let findings = found.cuts.iter().map(|c| c.findings).sum();
        output::stderr(&output::history::cut_note(&shown, &commits, Some(findings)));
    }
    let summary = Summary::of(
        &found
            .reports
            .iter()
            .map(|r| r.report.clone())
            .collect::<Vec<_>>(),
    );
    output::stdout(&output::history::render_audit(
        args.format,
        &shown,
        total,
        &found,
    ))
    .map_err(|e| Error::Io(format!("stdout: {e}")))?;
    Ok(summary)
}

/// The blobs a change needs: its parents', its merge base's, its own.
fn needed(c: &Change) -> Vec<&String> {
    c.parents
        .iter()
        .chain(&c.base)
        .filter_map(|p| p.blob.as_ref())
        .chain(c.blob.as_ref())
        .collect()
}

/// Checks every change, oldest first, and keeps the commits with new findings.
pub fn audit(
    git: &Git,
    changes: Vec<Change>,
    limit: u64,
    settings_at: impl Fn(i64) -> Settings,
    progress: &Progress,
) -> Result<Audit> {
    // Each blob is read once, in the order it is first needed; a version is kept only
    // until the last change that needs it.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut uses: HashMap<String, usize> = HashMap::new();
    for c in &changes {
        for blob in needed(c) {
            let n = uses.entry(blob.clone()).or_insert(0);
            if *n == 0 {
                order.push((blob.clone(), c.path.clone()));
            }
            *n += 1;
        }
    }
    // Reading a version (from git, UTF-8 checked, scanned) runs on its own thread, a
    // version or two ahead of the checking on this one.
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(String, Prepared)>>(2);
        s.spawn(move || {
            let ids = order.iter().map(|(id, _)| id.clone()).collect();
            let mut objects = match Objects::stream(git, ids, limit) {
                Ok(objects) => objects,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            for (id, path) in order {
                let read = objects
                    .next(&format!("{path} in {id}"))
                    .map(|bytes| (id, Prepared::new(bytes)));
                let failed = read.is_err();
                if tx.send(read).is_err() || failed {
                    return;
                }
            }
        });
        check_all(changes, &rx, &mut uses, settings_at, progress)
    })
}

/// [`audit`]'s loop: the versions arrive through `versions_in`, in the order they are
/// first needed.
fn check_all(
    changes: Vec<Change>,
    versions_in: &std::sync::mpsc::Receiver<Result<(String, Prepared)>>,
    uses: &mut HashMap<String, usize>,
    settings_at: impl Fn(i64) -> Settings,
    progress: &Progress,
) -> Result<Audit> {
    // Each version read (UTF-8 checked, scanned or parsed) once, for all its uses.
    let mut versions: HashMap<String, Prepared> = HashMap::new();
    // The keys of each version's single-file findings.
    let mut keys: HashMap<String, Vec<Key>> = HashMap::new();
    let mut out = Vec::new();
    let mut cuts = Vec::new();

    for change in changes {
        progress.step();
        let needed: Vec<String> = needed(&change).into_iter().cloned().collect();
        for blob in &needed {
            while !versions.contains_key(blob) {
                let (id, version) = versions_in.recv().map_err(|_| {
                    Error::Git("git cat-file: stopped before the last version".into())
                })??;
                versions.insert(id, version);
            }
        }
        let new = if change.link {
            // Not a queue: nothing to check here, and its children start afresh.
            None
        } else {
            new_findings(
                &change,
                &versions,
                &mut keys,
                &settings_at(change.commit.time),
            )
        };
        // Release versions no later change needs.
        for blob in &needed {
            let n = uses.get_mut(blob).expect("counted");
            *n -= 1;
            if *n == 0 {
                versions.remove(blob);
                keys.remove(blob);
            }
        }
        if change.cut {
            // What came before is unknown: the findings are this version's, not this
            // commit's (their keys, noted above, make them known to its children).
            cuts.push(Cut {
                commit: change.commit.id.clone(),
                path: change.path.clone(),
                findings: new.map_or(0, |r| r.diagnostics.len()),
            });
            continue;
        }
        let Some(mut report) = new else {
            continue;
        };
        for d in &mut report.diagnostics {
            d.commit = Some(change.commit.id.clone());
        }
        if let Some(v) = &mut report.current {
            v.name = format!("{} ({})", change.path, change.commit.short());
        }
        out.push(CommitReport { change, report });
    }
    Ok(Audit { reports: out, cuts })
}

/// The report of `change`'s version with only the findings new at that commit; `None` when
/// there are none. `keys` holds (and gains) each version's single-file findings.
fn new_findings(
    change: &Change,
    versions: &HashMap<String, Prepared>,
    keys: &mut HashMap<String, Vec<Key>>,
    settings: &Settings,
) -> Option<FileReport> {
    let version_of = |p: &history::Parent| p.blob.as_ref().map(|b| &versions[b]);
    let current = change.blob.as_ref().map(|b| &versions[b]);
    let current_bytes: &[u8] = current.map_or(&[], |c| c.bytes());
    let with_file: Vec<(&history::Parent, &Prepared)> = change
        .parents
        .iter()
        .filter_map(|p| Some((p, version_of(p)?)))
        .collect();

    // The version against each parent that has the file (or alone).
    let mut linted: Vec<FileReport> = with_file
        .iter()
        .map(|(parent, version)| {
            lint::lint_prepared(
                &change.path,
                current,
                Some((history::short(&parent.commit), version)),
                settings,
            )
        })
        .collect();
    if linted.is_empty() {
        linted.push(lint::lint_prepared(&change.path, current, None, settings));
    }

    // What the parents' versions already had.
    let mut had: Vec<Key> = Vec::new();
    for (parent, version) in &with_file {
        let blob = parent.blob.as_ref().expect("filtered");
        if !keys.contains_key(blob) {
            let alone = lint::lint_prepared(&parent.path, Some(version), None, settings);
            keys.insert(blob.clone(), single_file_keys(&alone, version.bytes()));
        }
        had.extend(keys[blob].iter().cloned());
    }
    if let Some(blob) = &change.blob {
        keys.entry(blob.clone())
            .or_insert_with(|| single_file_keys(&linted[0], current_bytes));
    }

    // A merge's history findings that one side already brought: found on that side
    // between the merge base and that parent.
    let brought: Vec<Vec<Key>> = match (&change.base, with_file.len() > 1) {
        (Some(base), true) => {
            let base_version = version_of(base);
            with_file
                .iter()
                .map(|(parent, version)| {
                    let Some(base_version) = base_version else {
                        return Vec::new();
                    };
                    let side = lint::lint_prepared(
                        &parent.path,
                        Some(version),
                        Some((history::short(&base.commit), base_version)),
                        settings,
                    );
                    history_keys(&side, version.bytes())
                })
                .collect()
        }
        _ => Vec::new(),
    };

    let mut new: Vec<Diagnostic> = Vec::new();
    for (d, key) in keyed(&linted[0], current_bytes, is_single_file) {
        if !had.contains(&key) {
            new.push(d.clone());
        }
    }
    new.extend(
        own_history(&linted, current_bytes, &brought)
            .into_iter()
            .flatten()
            .cloned(),
    );
    if new.is_empty() {
        return None;
    }
    new.sort_by_key(|d| (d.location.side == Side::Base, d.location.span.start, d.rule));
    let mut report = linted.swap_remove(0);
    report.diagnostics = new;
    Some(report)
}

/// A merge's own history findings, by parent: `linted[p]` is the merge's version
/// (`current`) checked against parent `p`'s version, `brought[q]` the [`history_keys`] of
/// parent `q`'s version checked against the merge base (empty without one). A finding is
/// the merge's own unless another parent's side already had it; each is kept once, at the
/// first parent that finds it. `check` judges a merge in progress with the same function
/// (giving it only HEAD's side), so the gate refuses whatever `audit` would blame on the
/// merge.
pub(crate) fn own_history<'r>(
    linted: &'r [FileReport],
    current: &[u8],
    brought: &[Vec<Key>],
) -> Vec<Vec<&'r Diagnostic>> {
    let mut taken: Vec<Key> = Vec::new();
    let mut own = Vec::with_capacity(linted.len());
    for (p, report) in linted.iter().enumerate() {
        let mut kept = Vec::new();
        for (d, key) in keyed(report, current, is_history_finding) {
            let explained = brought
                .iter()
                .enumerate()
                .any(|(q, keys)| q != p && keys.contains(&key));
            if !explained && !taken.contains(&key) {
                taken.push(key);
                kept.push(d);
            }
        }
        own.push(kept);
    }
    own
}

/// The keys of a report's history findings; `bytes` is its checked version.
pub(crate) fn history_keys(report: &FileReport, bytes: &[u8]) -> Vec<Key> {
    keyed(report, bytes, is_history_finding)
        .into_iter()
        .map(|(_, k)| k)
        .collect()
}

fn is_single_file(d: &Diagnostic) -> bool {
    d.location.side == Side::Current && !d.rule.is_history()
}

fn is_history_finding(d: &Diagnostic) -> bool {
    d.rule.is_history()
}

/// The keys of a version's single-file findings.
fn single_file_keys(report: &FileReport, bytes: &[u8]) -> Vec<Key> {
    keyed(report, bytes, is_single_file)
        .into_iter()
        .map(|(_, k)| k)
        .collect()
}

/// The diagnostics `keep` selects, each with its key. `bytes` is the version the
/// diagnostics' item pointers point into, read again only when a finding names an item by
/// position alone (a schema finding).
fn keyed<'r>(
    report: &'r FileReport,
    bytes: &[u8],
    keep: impl Fn(&Diagnostic) -> bool,
) -> Vec<(&'r Diagnostic, Key)> {
    let mut ids: Option<Vec<Option<String>>> = None;
    let mut count: HashMap<(Rule, Option<String>, String), usize> = HashMap::new();
    let mut out = Vec::new();
    for d in report.diagnostics.iter().filter(|d| keep(d)) {
        let (index, rest) = item_place(&d.pointer);
        let item = match (&d.item_id, index) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(i)) => ids
                .get_or_insert_with(|| item_ids(bytes))
                .get(i)
                .cloned()
                .flatten(),
            (None, None) => None,
        };
        // Without an id, the item is named by its position.
        let place = match (&item, index) {
            (None, Some(_)) => d.pointer.clone(),
            _ => rest.to_string(),
        };
        let base = (d.rule, item, place);
        let n = count.entry(base.clone()).or_insert(0);
        out.push((d, (base.0, base.1, base.2, *n)));
        *n += 1;
    }
    out
}

/// `/items/3/run/x` → `(Some(3), "/run/x")`; a bare-array document's `/3/x` likewise.
fn item_place(pointer: &str) -> (Option<usize>, &str) {
    let rest = pointer.strip_prefix("/items").unwrap_or(pointer);
    let Some(rest) = rest.strip_prefix('/') else {
        return (None, pointer);
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].parse::<usize>() {
        Ok(i) if !rest[..end].starts_with('+') => (Some(i), &rest[end..]),
        _ => (None, pointer),
    }
}

/// The id of every item of a version, by position (empty when it is not valid JSON).
fn item_ids(bytes: &[u8]) -> Vec<Option<String>> {
    let Ok(parsed) = crate::document::parse(bytes) else {
        return Vec::new();
    };
    crate::queue::ValueQueue::new(&parsed.value)
        .items
        .iter()
        .map(|i| i.id.map(str::to_string))
        .collect()
}
