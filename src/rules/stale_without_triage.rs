use super::{Check, Context, Def, Facts, Finding, Level, Rule};
use crate::fields::Field;
use crate::queue::Status;

pub(super) const RULE: Def = Def {
    name: "stale-without-triage",
    default: Level::Warn,
    doc: DOC,
    check: Check::Items(check),
};

const DOC: &str = r#"# stale-without-triage

An item is `stale` but has no `triage` object.

## What it does
Reports every item whose `status` is `stale` and that has no `triage` object, at its
`status` value.

## Why is this bad?
`stale` means "not executing, needs a human": it is never dispatched and never ends on its
own. Without `triage` (`status`, `reason`, `flaggedAtMs`) nobody knows why it was parked or
that it is waiting for review, and it rots exactly like a stuck `running` item.

## Example
```json
{"id": "run-10", "status": "stale"}
```

## How to fix
Add `"triage": {"status": "needs_review", "reason": "stale_running", "flaggedAtMs": <now>}`
(`runqlint fix --mark stale` writes exactly this), then resolve the item to a terminal
status once reviewed.
"#;

fn check(ctx: &Context, _: &Facts, sink: &mut Vec<Finding>) {
    for item in &ctx.current.items {
        if item.status == Some(Status::Stale) && !item.has(Field::Triage) {
            sink.push(
                Finding::new(
                    Rule::StaleWithoutTriage,
                    format!("{}/status", item.pointer()),
                    "item is `stale` but has no `triage` object",
                )
                .item(item)
                .help("add `\"triage\": {\"status\": \"needs_review\", \"reason\": \"stale_running\", \"flaggedAtMs\": …}`"),
            );
        }
    }
}
