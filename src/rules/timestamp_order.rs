use super::{fmt_ms, Check, Context, Def, Facts, Finding, Level, Rule};
use crate::fields::Field;

pub(super) const RULE: Def = Def {
    name: "timestamp-order",
    default: Level::Error,
    doc: DOC,
    check: Check::Items(check),
};

const DOC: &str = r#"# timestamp-order

An item's times contradict each other.

## What it does
Reports, at the later-named field:

* `run.finishedAtMs` earlier than `run.startedAtMs`;
* `run.lastHeartbeatAtMs` earlier than `run.startedAtMs`;
* `createdAtMs` later than `run.startedAtMs`.

## Why is this bad?
Staleness is computed from these times. A heartbeat before the start, or a finish before
it, usually means seconds were mixed with milliseconds or a field was copied from another
item, and the age of the run is then wrong.

## Example
```json
{"id": "run-6", "status": "done",
 "run": {"startedAtMs": 1772064000000, "finishedAtMs": 1772063000000}}
```

## How to fix
Correct the wrong time (all times are integer milliseconds since the Unix epoch, UTC).
"#;

fn check(ctx: &Context, _: &Facts, sink: &mut Vec<Finding>) {
    for item in &ctx.current.items {
        let Some(start) = item.int(Field::StartedAtMs) else {
            continue;
        };
        for (field, later) in [
            (Field::FinishedAtMs, "finished"),
            (Field::LastHeartbeatAtMs, "last heartbeat"),
        ] {
            if let Some(t) = item.int(field) {
                if t < start {
                    sink.push(
                        Finding::new(
                            Rule::TimestampOrder,
                            item.pointer_to(field),
                            format!(
                                "{later} ({}) is before the start ({})",
                                fmt_ms(t),
                                fmt_ms(start)
                            ),
                        )
                        .item(item),
                    );
                }
            }
        }
        if let Some(created) = item.int(Field::CreatedAtMs) {
            if created > start {
                sink.push(
                    Finding::new(
                        Rule::TimestampOrder,
                        item.pointer_to(Field::CreatedAtMs),
                        format!(
                            "created ({}) after the run started ({})",
                            fmt_ms(created),
                            fmt_ms(start)
                        ),
                    )
                    .item(item),
                );
            }
        }
    }
}
