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

use std::collections::HashMap;
use std::sync::Arc;

use crate::cli::AuditArgs;
use crate::error::{Error, Result};
use crate::history::{self, Change, Git, Objects};
use crate::lint::{self, Diagnostic, FileReport, Settings};
use crate::output::{self, Summary};
use crate::rules::{Rule, Side};

use super::{file_history, now_ms, stale_after_ms, Workspace};

/// What one finding is, whatever its position: rule, item, place inside the item, and the
/// how-manieth such finding of its version it is.
type Key = (Rule, Option<String>, String, usize);

/// The report of one commit's new findings.
pub struct CommitReport {
    pub change: Change,
    pub report: FileReport,
}

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
    let (git, shown, history) = file_history(&ws, args.path.as_deref(), args.since.as_deref())?;
    let total = history.changes.len();
    let reports = audit(&git, history.changes, ws.config.max_file_size, |time| {
        Settings {
            levels: ws.config.levels.clone(),
            now_ms: fixed_now.unwrap_or(time * 1000),
            stale_after_ms: stale_after,
        }
    })?;
    let summary = Summary::of(&reports.iter().map(|r| r.report.clone()).collect::<Vec<_>>());
    output::stdout(&output::history::render_audit(
        args.format,
        &shown,
        total,
        &reports,
    ))
    .map_err(|e| Error::Io(format!("stdout: {e}")))?;
    Ok(summary)
}

/// The history rules: the ones that compare a version with its parent.
fn is_history(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::TerminalStatusChanged
            | Rule::ItemDeleted
            | Rule::InvalidTransition
            | Rule::TerminalItemChanged
    )
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
) -> Result<Vec<CommitReport>> {
    // Each blob is read once, in the order it is first needed; a version is kept only
    // until the last change that needs it.
    let mut order: Vec<String> = Vec::new();
    let mut uses: HashMap<String, usize> = HashMap::new();
    for c in &changes {
        for blob in needed(c) {
            let n = uses.entry(blob.clone()).or_insert(0);
            if *n == 0 {
                order.push(blob.clone());
            }
            *n += 1;
        }
    }
    let mut objects = Objects::stream(git, order.clone(), limit)?;
    let mut next = order.into_iter();
    let mut texts: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
    // The keys of each version's single-file findings.
    let mut keys: HashMap<String, Vec<Key>> = HashMap::new();
    let mut out = Vec::new();

    for change in changes {
        let needed: Vec<String> = needed(&change).into_iter().cloned().collect();
        for blob in &needed {
            while !texts.contains_key(blob) {
                let id = next.next().expect("every needed blob is in the order");
                let bytes = objects.next(&format!("{} in {}", change.path, id))?;
                texts.insert(id, Arc::new(bytes));
            }
        }
        let settings = settings_at(change.commit.time);
        let text_of = |p: &history::Parent| p.blob.as_ref().map(|b| texts[b].clone());
        let current = change.blob.as_ref().map(|b| texts[b].clone());
        let current_bytes: &[u8] = current.as_deref().map_or(&[], |b| &b[..]);
        let with_file: Vec<(&history::Parent, Arc<Vec<u8>>)> = change
            .parents
            .iter()
            .filter_map(|p| Some((p, text_of(p)?)))
            .collect();

        // The version against each parent that has the file (or alone).
        let mut linted: Vec<FileReport> = with_file
            .iter()
            .map(|(parent, bytes)| {
                lint::lint_owned(
                    &change.path,
                    current.as_ref().map(|c| c.to_vec()),
                    Some((history::short(&parent.commit), bytes.to_vec())),
                    &settings,
                )
            })
            .collect();
        if linted.is_empty() {
            linted.push(lint::lint_owned(
                &change.path,
                current.as_ref().map(|c| c.to_vec()),
                None,
                &settings,
            ));
        }

        // What the parents' versions already had.
        let mut had: Vec<Key> = Vec::new();
        for (parent, bytes) in &with_file {
            let blob = parent.blob.as_ref().expect("filtered");
            if !keys.contains_key(blob) {
                let alone = lint::lint_owned(&parent.path, Some(bytes.to_vec()), None, &settings);
                keys.insert(blob.clone(), single_file_keys(&alone, bytes));
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
                let base_text = text_of(base);
                with_file
                    .iter()
                    .map(|(parent, bytes)| {
                        let Some(base_text) = &base_text else {
                            return Vec::new();
                        };
                        let side = lint::lint_owned(
                            &parent.path,
                            Some(bytes.to_vec()),
                            Some((history::short(&base.commit), base_text.to_vec())),
                            &settings,
                        );
                        keyed(&side, bytes, is_history_finding)
                            .into_iter()
                            .map(|(_, k)| k)
                            .collect()
                    })
                    .collect()
            }
            _ => Vec::new(),
        };

        let mut new: Vec<Diagnostic> = Vec::new();
        let mut taken: Vec<Key> = Vec::new();
        for (d, key) in keyed(&linted[0], current_bytes, is_single_file) {
            if !had.contains(&key) {
                new.push(d.clone());
            }
        }
        for (p, report) in linted.iter().enumerate() {
            for (d, key) in keyed(report, current_bytes, is_history_finding) {
                let explained = brought
                    .iter()
                    .enumerate()
                    .any(|(q, keys)| q != p && keys.contains(&key));
                if !explained && !taken.contains(&key) {
                    taken.push(key);
                    new.push(d.clone());
                }
            }
        }
        // Release versions no later change needs.
        for blob in &needed {
            let n = uses.get_mut(blob).expect("counted");
            *n -= 1;
            if *n == 0 {
                texts.remove(blob);
            }
        }
        if new.is_empty() {
            continue;
        }
        for d in &mut new {
            d.commit = Some(change.commit.id.clone());
        }
        new.sort_by_key(|d| (d.location.side == Side::Base, d.location.span.start, d.rule));
        let mut report = linted.swap_remove(0);
        report.diagnostics = new;
        if let Some(v) = &mut report.current {
            v.name = format!("{} ({})", change.path, change.commit.short());
        }
        out.push(CommitReport { change, report });
    }
    Ok(out)
}

fn is_single_file(d: &Diagnostic) -> bool {
    d.location.side == Side::Current && !is_history(d.rule)
}

fn is_history_finding(d: &Diagnostic) -> bool {
    is_history(d.rule)
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
