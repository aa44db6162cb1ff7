use super::{Context, Finding, Rule, Side};
use crate::document::escape_segment;
use crate::text::quote;

pub(super) const DOC: &str = r#"# terminal-item-changed

A terminal item's fields (other than `triage`) differ from the base version.

## What it does
For every item whose status was terminal in the base version and still is, compares all of
its fields except `triage` with the base version and reports the first field that was
changed, added or removed.

## Why is this bad?
A finished item is a record of what happened. Editing its `run.finishedAtMs`, `run.error` or
`title` afterwards rewrites history. Adding or updating `triage` is how a finished item is
annotated for review, so that one field may change.

## Example
```diff
-  {"id": "run-5", "status": "failed", "run": {"error": "timeout"}}
+  {"id": "run-5", "status": "failed", "run": {"error": "flaky network"}}
```

## How to fix
Restore the field. Put review notes in `triage`, or requeue the work as a new item.
"#;

pub(super) fn check(ctx: &Context, sink: &mut Vec<Finding>) {
    let Some(base) = ctx.base else { return };
    let base_items = base.by_id();
    for item in &ctx.current.items {
        let (Some(id), Some(now)) = (item.id, item.status) else {
            continue;
        };
        let Some(old) = base_items.get(id) else {
            continue;
        };
        if old.status != Some(now) || !now.is_terminal() {
            continue;
        }
        let (Some(cur), Some(was)) = (item.value.as_object(), old.value.as_object()) else {
            continue;
        };
        let changed = cur
            .iter()
            .filter(|(k, _)| k.as_str() != "triage")
            .find(|(k, v)| was.get(k.as_str()) != Some(v))
            .map(|(k, _)| (k.clone(), true))
            .or_else(|| {
                was.keys()
                    .filter(|k| k.as_str() != "triage")
                    .find(|k| !cur.contains_key(k.as_str()))
                    .map(|k| (k.clone(), false))
            });
        if let Some((field, present)) = changed {
            let pointer = if present {
                format!("{}/{}", item.pointer, escape_segment(&field))
            } else {
                item.pointer.clone()
            };
            let what = if present {
                if was.contains_key(field.as_str()) {
                    "changed"
                } else {
                    "added"
                }
            } else {
                "removed"
            };
            let mut f = Finding::new(
                Rule::TerminalItemChanged,
                pointer,
                format!(
                    "field {} of `{}` item {} was {} since {}",
                    quote(&field),
                    now.as_str(),
                    quote(id),
                    what,
                    ctx.base_name
                ),
            )
            .item(item)
            .help(
                "a finished item is history: restore the field, and put review notes in `triage`",
            );
            if present {
                f = f.key();
            }
            sink.push(f.related(Side::Base, old.pointer.clone()));
        }
    }
}
