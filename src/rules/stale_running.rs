//! The one definition of a stale running item, shared by the rule, `runqlint stale` and
//! `runqlint fix`.

use super::{fmt_duration, fmt_ms, is_implausible, Check, Context, Def, Facts, Finding, Level, Rule};
use crate::fields::Field;
use crate::queue::{Item, Status};

pub(super) const RULE: Def = Def {
    name: "stale-running",
    default: Level::Warn,
    doc: DOC,
    check: Check::Items(check),
};

const DOC: &str = r#"# stale-running

An item has been `running` for longer than its stale threshold with no heartbeat.

## What it does
For every `running` item, takes the last sign of life, the later of `run.startedAtMs` and
`run.lastHeartbeatAtMs`, and reports the item when `now` minus that time exceeds the item's
`run.staleAfterMs`, or the configured default (`stale-after` in `runqlint.toml`,
`--stale-after`, 6h when unset). `now` is the clock, or `--now` for reproducible results.

## Why is this bad?
A child session that crashed or was lost leaves its item `running` forever. The queue then
claims work is in progress that is not, nobody retries it, and "what is actually running?"
can no longer be answered from the single source of truth.

## Example
```json
{"id": "run-2", "status": "running",
 "run": {"startedAtMs": 1772064000000, "childSessionKey": "agent:main:sub:41"}}
```
checked on 2026-11-25, this run has been silent for about nine months.

## How to fix
Run `runqlint fix`: it checks whether the child session is alive (`--alive-cmd`,
`--alive-sessions`), keeps live runs (recording a heartbeat), and marks dead ones `failed`
(or `stale` with `--mark stale`) with a `triage` note, after taking a backup, and commits the
change with a receipt. `--requeue` appends a fresh `queued` item for each.
"#;

/// How old a running item is, by the stale-running definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Age {
    /// Not `running`.
    NotRunning,
    /// `running`, but its times cannot be trusted to age it.
    Unageable(String),
    /// `running` and aged: `last` is the last sign of life.
    Aged { last: i64, age: i64, threshold: i64 },
}

impl Age {
    pub fn is_stale(&self) -> bool {
        matches!(self, Age::Aged { age, threshold, .. } if age > threshold)
    }
}

/// Ages `item` at `now_ms` with `default_after_ms` when it has no `run.staleAfterMs`.
pub fn age(item: &Item, now_ms: i64, default_after_ms: i64) -> Age {
    if item.status != Some(Status::Running) {
        return Age::NotRunning;
    }
    let Some(start) = item.int(Field::StartedAtMs) else {
        return Age::Unageable(match item.has(Field::StartedAtMs) {
            // `repair::survey`, which holds the value, says what it is instead.
            true => "`run.startedAtMs` is not integer milliseconds".into(),
            false => "`run.startedAtMs` is missing".into(),
        });
    };
    if let Some(why) = is_implausible(start, now_ms) {
        return Age::Unageable(format!("`run.startedAtMs` is {why}"));
    }
    let heartbeat = item.int(Field::LastHeartbeatAtMs).filter(|&h| h != 0);
    if let Some(why) = heartbeat.and_then(|h| is_implausible(h, now_ms)) {
        return Age::Unageable(format!("`run.lastHeartbeatAtMs` is {why}"));
    }
    let last = heartbeat.map_or(start, |h| h.max(start));
    let threshold = item
        .int(Field::StaleAfterMs)
        .filter(|&t| t > 0)
        .unwrap_or(default_after_ms);
    Age::Aged {
        last,
        age: now_ms.saturating_sub(last),
        threshold,
    }
}

fn check(ctx: &Context, _: &Facts, sink: &mut Vec<Finding>) {
    for item in &ctx.current.items {
        let aged = age(item, ctx.now_ms, ctx.stale_after_ms);
        if let (
            true,
            Age::Aged {
                last,
                age,
                threshold,
            },
        ) = (aged.is_stale(), aged)
        {
            {
                sink.push(
                    Finding::new(
                        Rule::StaleRunning,
                        format!("{}/status", item.pointer()),
                        format!(
                            "running with no sign of life for {} (since {}; threshold {})",
                            fmt_duration(age),
                            fmt_ms(last),
                            fmt_duration(threshold)
                        ),
                    )
                    .item(item)
                    .help("`runqlint fix` marks dead runs failed (or stale) with a triage note and a backup"),
                );
            }
        }
    }
}
