use super::{Check, Context, Def, Facts, Finding, Level, Pair, Rule, Side};
use crate::text::quote;

pub(super) const RULE: Def = Def {
    name: "terminal-status-changed",
    default: Level::Error,
    doc: DOC,
    check: Check::History(check),
};

const DOC: &str = r#"# terminal-status-changed

An item that was terminal (`done`, `failed`, `canceled`) in the base version has another
status now.

## What it does
Compares each item with the item of the same `id` in the base version (HEAD for a plain
check, HEAD for `--staged`, the given revision for `--base`). When the base status was
terminal and the current status differs, it reports the current `status` value.

## Why is this bad?
A terminal status is history: the run happened and ended. Rewriting `failed` to `done`, or
reopening a finished item as `queued`, destroys the record the queue exists to keep, and the
dispatcher may run the same work twice under one id.

## Example
```diff
-  {"id": "run-3", "status": "failed"}
+  {"id": "run-3", "status": "queued"}
```

## How to fix
Restore the base status. To run the work again, append a new `queued` item with a new id and
`"requeuedFrom": "run-3"` (`runqlint fix --requeue` does this).
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
        if was.is_terminal() && was != now {
            sink.push(
                Finding::new(
                    Rule::TerminalStatusChanged,
                    format!("{}/status", item.pointer()),
                    format!(
                        "item {} was `{}` in {} and is `{}` now; a terminal status never changes",
                        quote(id),
                        was.as_str(),
                        ctx.base_name,
                        now.as_str()
                    ),
                )
                .item(item)
                .related(Side::Base, format!("{}/status", old.pointer()))
                .help(format!(
                    "restore `\"status\": \"{}\"`; to run it again, append a new item with `\"requeuedFrom\"`",
                    was.as_str()
                )),
            );
        }
    }
}
