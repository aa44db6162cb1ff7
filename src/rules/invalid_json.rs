use super::{Check, Def, Level};

pub(super) const RULE: Def = Def {
    name: "invalid-json",
    default: Level::Error,
    doc: DOC,
    check: Check::Document,
};

const DOC: &str = r#"# invalid-json

The file is not a JSON document.

## What it does
Parses the file as strict JSON (RFC 8259) and reports the first place where it stops being
one. It recognises the usual accidents by name: an empty or whitespace-only file, a UTF-8
byte order mark, bytes that are not UTF-8, a merge-conflict marker (`<<<<<<<`, `=======`,
`>>>>>>>`), a truncated file, trailing text after the document, comments, trailing commas,
`NaN`/`Infinity`, numbers too large for a double, and nesting deeper than 127 levels.

When the *base* version (HEAD, the index or `--base`) is the broken one, the finding is a
warning on the base and the checked version is still checked on its own.

## Why is this bad?
The dispatcher cannot read a queue that is not JSON, so nothing is dispatched and nothing can
be audited. Lenient parsers disagree about comments, trailing commas and duplicate keys; the
queue must mean the same thing to every reader.

## Example
```text
<<<<<<< HEAD
{"items": [{"id": "a", "status": "done"}]}
=======
{"items": [{"id": "a", "status": "failed"}]}
>>>>>>> feature
```

## How to fix
Resolve the conflict or edit the file back into JSON. Keep every item from both sides of a
conflict: items are never deleted, and terminal statuses never change.
"#;
