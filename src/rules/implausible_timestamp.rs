use super::{fmt_ms, Check, Context, Def, Facts, Finding, Level, Rule};
use crate::fields::{Field, Kind};

pub(super) const RULE: Def = Def {
    name: "implausible-timestamp",
    default: Level::Warn,
    doc: DOC,
    check: Check::Items(check),
};

const DOC: &str = r#"# implausible-timestamp

A time is before 2020-01-01 or more than five minutes in the future.

## What it does
Checks `createdAtMs`, `run.startedAtMs`, `run.finishedAtMs`, `run.lastHeartbeatAtMs` and
`triage.flaggedAtMs`. A value before 2020-01-01T00:00:00Z is almost always seconds stored
where milliseconds belong (1772064000 is January 1970 in milliseconds); a value more than
five minutes after now (`--now`, default the clock) comes from a wrong clock or a typo. Zero
is allowed as "not set" for `lastHeartbeatAtMs` and `flaggedAtMs`.

## Why is this bad?
The dispatcher and `runqlint fix` age running items from these times. A start time in
seconds makes a fresh run look 56 years old; a future heartbeat keeps a dead run alive.

## Example
```json
{"id": "run-8", "status": "running", "run": {"startedAtMs": 1772064000}}
```

## How to fix
Store integer milliseconds since the Unix epoch (multiply seconds by 1000) from a correct
clock.
"#;

/// 2020-01-01T00:00:00Z.
pub const EARLIEST_MS: i64 = 1_577_836_800_000;
/// How far in the future a time may be (clock skew).
pub const FUTURE_SLACK_MS: i64 = 5 * 60 * 1000;

/// Why a time cannot be trusted, if it cannot.
pub fn is_implausible(ms: i64, now_ms: i64) -> Option<&'static str> {
    if ms < EARLIEST_MS {
        Some("before 2020-01-01 (seconds stored as milliseconds?)")
    } else if ms > now_ms.saturating_add(FUTURE_SLACK_MS) {
        Some("more than 5 minutes in the future")
    } else {
        None
    }
}

fn check(ctx: &Context, _: &Facts, sink: &mut Vec<Finding>) {
    // Every time of the field table; zero means "not set" where the dispatcher writes it.
    let times = || Field::ALL.iter().filter(|f| f.kind() == Kind::EpochMs);
    for item in &ctx.current.items {
        for &field in times() {
            let Some(ms) = item.int(field) else { continue };
            let zero_ok = matches!(field, Field::LastHeartbeatAtMs | Field::FlaggedAtMs);
            if zero_ok && ms == 0 {
                continue;
            }
            if let Some(why) = is_implausible(ms, ctx.now_ms) {
                sink.push(
                    Finding::new(
                        Rule::ImplausibleTimestamp,
                        item.pointer_to(field),
                        format!("{} is {why}", fmt_ms(ms)),
                    )
                    .item(item),
                );
            }
        }
    }
}
