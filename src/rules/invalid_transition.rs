use super::{Check, Context, Def, Facts, Finding, Level, Pair, Rule, Side};
use crate::text::quote;

pub(super) const RULE: Def = Def {
    name: "invalid-transition",
    default: Level::Error,
    doc: DOC,
    check: Check::History(check),
};

const DOC: &str = r#"# invalid-transition

An item's status moved backwards.

## What it does
Compares each item's status with its status in the base version. The allowed moves are:

| base      | may become                         |
|-----------|------------------------------------|
| `queued`  | anything                           |
| `running` | `running`, `stale`, or terminal    |
| `stale`   | `stale` or terminal                |
| terminal  | itself only (see `terminal-status-changed`) |

A new item may have any status. Moves out of a terminal status are reported by
`terminal-status-changed`, not here.

## Why is this bad?
`running` → `queued` makes the dispatcher start the same work again under the same id, and
the first run's record is lost. A re-run is a new item; the old one keeps its history.

## Example
```diff
-  {"id": "run-4", "status": "running", "run": {"startedAtMs": 1772064000000}}
+  {"id": "run-4", "status": "queued"}
```

## How to fix
Restore the base status, then move forward: mark the old item `failed` or `stale`
(`runqlint fix`), and append a new `queued` item with `"requeuedFrom": "run-4"`
(`runqlint fix --requeue`).
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
        if !was.is_terminal() && !was.may_become(now) {
            sink.push(
                Finding::new(
                    Rule::InvalidTransition,
                    format!("{}/status", item.pointer()),
                    format!(
                        "item {} moved from `{}` (in {}) back to `{}`",
                        quote(id),
                        was.as_str(),
                        ctx.base_name,
                        now.as_str()
                    ),
                )
                .item(item)
                .related(Side::Base, format!("{}/status", old.pointer()))
                .help("a re-run is a new item with `requeuedFrom`; the old item keeps its history"),
            );
        }
    }
}
