use super::{Check, Context, Def, Facts, Finding, Level, Rule};
use crate::text::quote;

pub(super) const RULE: Def = Def {
    name: "duplicate-id",
    default: Level::Error,
    doc: DOC,
    check: Check::Items(check),
};

const DOC: &str = r#"# duplicate-id

Two items share an `id`.

## What it does
Reports every item whose `id` was already used by an earlier item in the same file, at the
later item's `id` value.

## Why is this bad?
The id is how the dispatcher, the history rules and humans refer to an item. With two items
behind one id, "is run-7 done?" has two answers, and a requeue that reused the id would
rewrite history instead of adding to it.

## Example
```json
{"items": [
  {"id": "run-7", "status": "failed"},
  {"id": "run-7", "status": "queued"}
]}
```

## How to fix
Give the newer item a fresh id. A re-run is a new item with `requeuedFrom` naming the old id.
"#;

fn check(ctx: &Context, facts: &Facts, sink: &mut Vec<Finding>) {
    for &(pos, first) in &facts.ids.repeats {
        let (item, first) = (&ctx.current.items[pos], &ctx.current.items[first]);
        if let Some(id) = item.id {
            let first = first.pointer();
            sink.push(
                Finding::new(
                    Rule::DuplicateId,
                    format!("{}/id", item.pointer()),
                    format!("id {} is already used by an earlier item", quote(id)),
                )
                .item(item)
                .related(super::Side::Current, format!("{first}/id"))
                .help("give the newer item a fresh id; a re-run is a new item with `requeuedFrom`")
                .at_line(|at| Some(format!("the first is at line {}", at.related?))),
            );
        }
    }
}
