use super::{Check, Def, Level};

pub(super) const RULE: Def = Def {
    name: "schema",
    default: Level::Error,
    doc: DOC,
    check: Check::Document,
};

const DOC: &str = r#"# schema

The document violates the run-queue JSON Schema (`runqlint schema` prints it).

## What it does
Validates the document against the embedded JSON Schema (draft 2020-12) and reports one
finding per violation, located at the offending value: a missing required property at the
object that lacks it, an unknown status at the status value, a wrong type at the value.

The schema accepts an object with an `items` array (other top-level keys allowed) or a bare
array of items. An item needs a non-empty string `id` and a `status` of `queued`, `running`,
`done`, `failed`, `canceled` or `stale`. Times are integer milliseconds since the Unix
epoch. Unknown fields are allowed everywhere.

## Why is this bad?
The dispatcher, the dashboards and this tool's other rules all read the same fields. A
status spelled `runing` is never dispatched and never reported as stale; a time stored as a
string or a float is silently ignored.

## Example
```json
{"items": [{"id": "a", "status": "runing", "run": {"startedAtMs": "2026-02-26"}}]}
```

## How to fix
Correct the value to the form the schema describes. If the value is right and the schema is
wrong, open an issue: the schema is the contract between the dispatcher and its readers.
"#;
