use super::{Check, Context, Def, Facts, Finding, Level, Pair, Rule, Side};
use crate::document::escape_segment;
use crate::text::quote;

pub(super) const RULE: Def = Def {
    name: "terminal-item-changed",
    default: Level::Warn,
    doc: DOC,
    check: Check::History(check),
};

const DOC: &str = r#"# terminal-item-changed

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

fn check(ctx: &Context, facts: &Facts, sink: &mut Vec<Finding>) {
    for &Pair {
        id,
        item,
        old,
        now,
        was,
    } in &facts.pairs
    {
        if was != now || !now.is_terminal() || item.body.same_bytes_outside_triage(&old.body) {
            continue;
        }
        let (Some(cur), Some(was)) = (item.body.to_value(), old.body.to_value()) else {
            continue;
        };
        let (Some(cur), Some(was)) = (cur.as_object(), was.as_object()) else {
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
                format!("{}/{}", item.pointer(), escape_segment(&field))
            } else {
                item.pointer()
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
            sink.push(f.related(Side::Base, old.pointer()));
        }
    }
}
