use super::{Check, Def, Level};

pub(super) const RULE: Def = Def {
    name: "duplicate-key",
    default: Level::Error,
    doc: DOC,
    check: Check::Document,
};

const DOC: &str = r#"# duplicate-key

One JSON object holds the same key twice.

## What it does
Reports every repeated key in every object of the document, at the repeated key, naming the
line of the first one.

## Why is this bad?
RFC 8259 leaves the meaning of a repeated key open: serde_json and JavaScript keep the last
value, other readers keep the first or fail. A queue with `"status": "done"` followed by
`"status": "running"` says two things at once, and a reviewer reading the diff sees only one.

## Example
```json
{"id": "run-7", "status": "done", "status": "running"}
```

## How to fix
Delete one of the two members, keeping the value that is true.
"#;
