use super::{Check, Context, Def, Facts, Finding, Level, Rule};
use crate::fields::Field;
use crate::queue::Status;

pub(super) const RULE: Def = Def {
    name: "running-without-start",
    default: Level::Error,
    doc: DOC,
    check: Check::Items(check),
};

const DOC: &str = r#"# running-without-start

An item is `running` but has no `run.startedAtMs`.

## What it does
Reports every item whose `status` is `running` and whose `run` object has no `startedAtMs`
(or no `run` object at all), at the item's `status` value.

## Why is this bad?
A running item must say when it started: it is how anyone tells a live run from one whose
child session died months ago. Without it the item can never be aged, so `stale-running`
and `runqlint fix` cannot help, and the item may stay `running` forever.

## Example
```json
{"id": "run-9", "status": "running", "run": {"childSessionKey": "sess-1"}}
```

## How to fix
Add `run.startedAtMs` (integer milliseconds since the Unix epoch) when the item is
dispatched. If the start time is unknown and the run is not alive, mark the item `stale` with
a `triage` object (or `failed`) instead.
"#;

fn check(ctx: &Context, _: &Facts, sink: &mut Vec<Finding>) {
    for item in &ctx.current.items {
        if item.status == Some(Status::Running) && !item.has(Field::StartedAtMs) {
            sink.push(
                Finding::new(
                    Rule::RunningWithoutStart,
                    format!("{}/status", item.pointer()),
                    "item is `running` but `run.startedAtMs` is missing",
                )
                .item(item)
                .help("set `run.startedAtMs` when dispatching; if the run is gone, mark the item `stale` with `triage`"),
            );
        }
    }
}
