use super::{Check, Context, Def, Facts, Finding, Level, Rule, Side};
use crate::text::quote;

pub(super) const RULE: Def = Def {
    name: "item-deleted",
    default: Level::Error,
    doc: DOC,
    check: Check::History(check),
};

const DOC: &str = r#"# item-deleted

An item present in the base version is gone.

## What it does
Reports every `id` of the base version that no item of the checked version has, naming the
line where it was in the base version. Deleting the whole file deletes every item. The
finding is located at the items array of the checked version.

## Why is this bad?
The queue is the single source of truth for what ran. An item that vanishes takes its
history with it: nobody can tell any more that it ran, failed, or was canceled.

## Example
```diff
   {"id": "run-1", "status": "done"},
-  {"id": "run-2", "status": "failed"},
   {"id": "run-3", "status": "queued"}
```

## How to fix
Put the item back as it was. To retire it, give it a terminal status (`canceled`) instead; to
flag it, add a `triage` object.
"#;

fn check(ctx: &Context, facts: &Facts, sink: &mut Vec<Finding>) {
    for old in &facts.deleted {
        let Some(id) = old.id else { continue };
        let mut f = Finding::new(
            Rule::ItemDeleted,
            ctx.current.items_pointer,
            format!("item {} was deleted", quote(id)),
        )
        .item(old)
        .related(Side::Base, old.pointer())
        .help("restore the item; retire it with `\"status\": \"canceled\"` instead of deleting it")
        // Where it was: the base's item, or the finding itself when the file is gone.
        .at_line(|at| {
            let line = at.related.unwrap_or(at.line);
            Some(format!("it was at line {line} in {}", at.base_name))
        });
        f.item_id = Some(id.to_owned());
        sink.push(f);
    }
}
