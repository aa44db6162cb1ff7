//! `--alive openclaw`: OpenClaw's task ledger answers for its sub-agent runs.
//!
//! One `openclaw tasks list --json` process answers for every key (Node starts in about a
//! second, so one process per key would not do for a hundred stale items). The CLI runs
//! without a shell, stdin closed, its environment passed through (`OPENCLAW_STATE_DIR`,
//! `OPENCLAW_HOME`, profiles), so it reads the ledger the dispatcher writes, plus
//! `OPENCLAW_DISABLE_ROUTE_FIRST=1`: OpenClaw 2026.9.x answers `tasks list --json` by
//! default from a fast route that prints the stored records as they are
//! (`tasksListJsonCommand`), while the full command (`tasksListCommand`) prints them
//! through the same reconciliation as `tasks show` (`reconcileInspectableTasks`: a
//! running task whose backing session is gone past the 5-minute grace is reported `lost`,
//! "backing session missing"). That reconciliation is a read-only projection; nothing is
//! written to the ledger. See ARCHITECTURE.md, "OpenClaw".
//!
//! Per key, the newest task (by `createdAt`) whose `childSessionKey` is the key decides:
//!
//! * `queued`/`running`: active, last heard of at `lastEventAt` (else `startedAt`, else
//!   `createdAt`, OpenClaw's own reference time);
//! * `succeeded` → done, `cancelled` → canceled, `failed`/`timed_out`/`lost` → failed, at
//!   `endedAt`, with `error`;
//! * no such task: no record, so the policy applies (`--mark`);
//! * a key not of OpenClaw's sub-agent shape (`agent:<agentId>:subagent:<id>`), an
//!   unknown status, or a task without the times it needs: cannot tell.
//!
//! The whole batch cannot tell when the CLI times out (it is killed, with its process
//! group), exits non-zero (its message is quoted), or prints something that is not the
//! expected JSON. A CLI that cannot be started at all is an error (exit 2).

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::repair::{Ended, Finish, Liveness};
use crate::rules::fmt_ms;
use crate::text;
use crate::trust::Program;

use super::{fmt_timeout, Provider};

/// The executable looked up on `PATH` when none is configured.
pub const DEFAULT_BIN: &str = "openclaw";
/// Node's start-up plus reading the ledger; generous for a loaded machine.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// More output than this is not an answer.
const MAX_OUTPUT: u64 = 256 * 1024 * 1024;

pub struct OpenClaw {
    bin: Program,
    timeout: Duration,
}

/// Whether `key` has OpenClaw's sub-agent session key shape.
pub fn is_subagent_key(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("agent:") else {
        return false;
    };
    let Some((agent, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(id) = rest.strip_prefix("subagent:") else {
        return false;
    };
    !agent.trim().is_empty()
        && !id.is_empty()
        && !key.chars().any(|c| c.is_whitespace() || text::is_unsafe(c))
}

impl OpenClaw {
    pub fn new(bin: Program, timeout: Duration) -> OpenClaw {
        OpenClaw { bin, timeout }
    }

    /// Runs `openclaw tasks list --json`: its stdout, or why there is no answer.
    fn list(&self) -> Result<std::result::Result<Vec<u8>, String>> {
        let hint = "(install OpenClaw, or set `[fix] openclaw-bin` / --openclaw-bin)";
        let mut command = self
            .bin
            .command()
            .map_err(|e| Error::Usage(format!("--alive openclaw: {e} {hint}")))?;
        command
            .args(["tasks", "list", "--json"])
            .env("OPENCLAW_DISABLE_ROUTE_FIRST", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let mut child = command.spawn().map_err(|e| {
            Error::Usage(format!(
                "--alive openclaw: cannot run {}: {e} {hint}",
                text::quote(&self.bin.name())
            ))
        })?;
        let out = reader(child.stdout.take());
        let err = reader(child.stderr.take());
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() >= self.timeout => {
                    kill(&mut child);
                    return Ok(Err(format!(
                        "OpenClaw did not answer within {}",
                        fmt_timeout(self.timeout)
                    )));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => {
                    kill(&mut child);
                    return Ok(Err(format!("OpenClaw could not be waited for: {e}")));
                }
            }
        };
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        if !status.success() {
            let what = status.code().map_or_else(
                || "was killed by a signal".to_string(),
                |c| format!("exited {c}"),
            );
            let said = failure_message(&stdout, &stderr);
            return Ok(Err(match said {
                Some(m) => format!("OpenClaw {what}: {m}"),
                None => format!("OpenClaw {what}"),
            }));
        }
        Ok(Ok(stdout))
    }
}

impl Provider for OpenClaw {
    fn ask(&self, keys: &[Option<&str>]) -> Result<Vec<Liveness>> {
        let mut answers: Vec<Option<Liveness>> = keys
            .iter()
            .map(|k| match k {
                None => Some(Liveness::Dead("no run.childSessionKey to check".into())),
                Some(k) if !is_subagent_key(k) => Some(Liveness::Unknown(format!(
                    "OpenClaw: cannot tell: {} is not an OpenClaw sub-agent session key (agent:<agentId>:subagent:<id>)",
                    text::quote(k)
                ))),
                Some(_) => None,
            })
            .collect();
        if answers.iter().all(Option::is_some) {
            return Ok(answers.into_iter().flatten().collect());
        }
        let tasks = match self.list()?.and_then(|out| parse(&out)) {
            Ok(tasks) => tasks,
            Err(why) => {
                let why = format!("OpenClaw: cannot tell: {why}");
                return Ok(answers
                    .into_iter()
                    .map(|a| a.unwrap_or_else(|| Liveness::Unknown(why.clone())))
                    .collect());
            }
        };
        for (answer, key) in answers.iter_mut().zip(keys) {
            if answer.is_none() {
                let key = key.expect("keys without an answer are present");
                *answer = Some(decide(&tasks, key));
            }
        }
        Ok(answers.into_iter().flatten().collect())
    }
}

/// Reads a pipe to its end (at most [`MAX_OUTPUT`] bytes) on its own thread, so that a
/// chatty child never blocks on a full pipe.
fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = pipe {
            let _ = p.take(MAX_OUTPUT).read_to_end(&mut buf);
        }
        buf
    })
}

/// Kills the child and everything in its process group (a wrapper script's `node` too),
/// then reaps it. The reader threads are left to end when the pipes close.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) with a negative pid signals the process group the child leads
            // (set by `process_group(0)`); it touches no memory.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// OpenClaw's own words for a failure: the JSON failure's `error.message` on stdout, else
/// the last line of stderr that is not a log line; on one line, cut to 300 characters.
fn failure_message(stdout: &[u8], stderr: &[u8]) -> Option<String> {
    let from_json = serde_json::from_slice::<Value>(stdout).ok().and_then(|v| {
        v.pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let text = from_json.or_else(|| {
        String::from_utf8_lossy(stderr)
            .lines()
            .map(|l| strip_ansi(l).trim().to_string())
            .rfind(|l| !l.is_empty() && !l.starts_with('['))
    })?;
    let text = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Some(cap(&text, 300))
}

/// Removes ANSI colour sequences (`ESC [ ... letter`); what is left is escaped when shown.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// How OpenClaw says a sub-agent session ended (`subagent_ended`'s `outcome`), given to
/// `fix --session KEY --ended OUTCOME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Outcome {
    Ok,
    Error,
    Timeout,
    Killed,
    Reset,
    Deleted,
}

impl Outcome {
    /// ok → done; error, timeout → failed (as the ledger's failed/timed_out); killed (the
    /// ledger's cancelled), reset, deleted (the session was ended from outside) → canceled.
    pub fn finish(self) -> Finish {
        match self {
            Outcome::Ok => Finish::Done,
            Outcome::Error | Outcome::Timeout => Finish::Failed,
            Outcome::Killed | Outcome::Reset | Outcome::Deleted => Finish::Canceled,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Timeout => "timeout",
            Outcome::Killed => "killed",
            Outcome::Reset => "reset",
            Outcome::Deleted => "deleted",
        }
    }
}

/// A session's end as the runtime's event reported it (`--ended`, `--ended-at`,
/// `--ended-error`).
#[derive(Debug, Clone)]
pub struct EndEvent {
    pub outcome: Outcome,
    pub ended_ms: i64,
    /// The event's error text, verbatim (untrusted).
    pub error: Option<String>,
}

impl EndEvent {
    /// The answer for an item whose liveness answer recorded no end (`asked` says what it
    /// was): the ledger may not have recorded an end the event already reports. An end the
    /// ledger recorded wins (it is the stored record, with its own error text).
    pub fn answer(&self, asked: Liveness) -> Liveness {
        if matches!(asked, Liveness::Ended(_)) {
            return asked;
        }
        let finish = self.outcome.finish();
        let error = match (&self.error, finish) {
            (Some(e), _) => Some(cap(e, 2000)),
            (None, Finish::Failed) => Some(format!("OpenClaw: {}", self.outcome.as_str())),
            (None, _) => None,
        };
        let said = self
            .error
            .as_deref()
            .map(|e| format!(" ({})", cap(e, 120)))
            .unwrap_or_default();
        Liveness::Ended(Ended {
            why: format!(
                "OpenClaw: sub-agent ended {} {}{said}; the ledger said: {}",
                self.outcome.as_str(),
                fmt_ms(self.ended_ms),
                asked.why()
            ),
            finish,
            finished_ms: self.ended_ms,
            error,
        })
    }
}

/// One task record, as much of it as the answer needs.
#[derive(Debug)]
struct Task {
    key: String,
    status: String,
    created: i64,
    started: Option<i64>,
    ended: Option<i64>,
    last_event: Option<i64>,
    error: Option<String>,
}

/// The `{"tasks":[...]}` object `tasks list --json` prints.
fn parse(out: &[u8]) -> std::result::Result<Vec<Task>, String> {
    let value: Value = serde_json::from_slice(out)
        .map_err(|e| format!("its answer is not the JSON of `tasks list --json` ({e})"))?;
    let list = value
        .get("tasks")
        .and_then(Value::as_array)
        .ok_or("its answer has no `tasks` array")?;
    let ms = |t: &Value, k: &str| t.get(k).and_then(Value::as_i64);
    Ok(list
        .iter()
        .filter_map(|t| {
            let key = t.get("childSessionKey")?.as_str()?.trim().to_string();
            Some(Task {
                key,
                status: t.get("status")?.as_str()?.to_string(),
                created: ms(t, "createdAt").unwrap_or(0),
                started: ms(t, "startedAt"),
                ended: ms(t, "endedAt"),
                last_event: ms(t, "lastEventAt"),
                error: t
                    .get("error")
                    .and_then(Value::as_str)
                    .filter(|e| !e.trim().is_empty())
                    .map(str::to_string),
            })
        })
        .collect())
}

/// The answer for one key from the reconciled task list.
fn decide(tasks: &[Task], key: &str) -> Liveness {
    // Newest first, as OpenClaw picks for a session key; a later entry wins a tie.
    let Some(task) = tasks
        .iter()
        .filter(|t| t.key == key)
        .max_by_key(|t| t.created)
    else {
        return Liveness::Dead("OpenClaw: no task for this session".into());
    };
    let reference = task.last_event.or(task.started).unwrap_or(task.created);
    let status = task.status.as_str();
    let finish = match status {
        "queued" | "running" => {
            return Liveness::Active {
                why: format!("OpenClaw: {status}, last event {}", fmt_ms(reference)),
                last_event_ms: reference,
            }
        }
        "succeeded" => Finish::Done,
        "cancelled" => Finish::Canceled,
        "failed" | "timed_out" | "lost" => Finish::Failed,
        other => {
            return Liveness::Unknown(format!(
                "OpenClaw: cannot tell: unknown task status {}",
                text::quote(other)
            ))
        }
    };
    let Some(ended) = task.ended else {
        return Liveness::Unknown(format!("OpenClaw: cannot tell: {status} with no end time"));
    };
    let error = match (&task.error, finish) {
        (Some(e), _) => Some(cap(e, 2000)),
        (None, Finish::Failed) => Some(format!("OpenClaw: {status}")),
        (None, _) => None,
    };
    let said = task
        .error
        .as_deref()
        .map(|e| format!(" ({})", cap(e, 120)))
        .unwrap_or_default();
    Liveness::Ended(Ended {
        why: format!("OpenClaw: {status} {}{said}", fmt_ms(ended)),
        finish,
        finished_ms: ended,
        error,
    })
}

fn cap(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shape() {
        assert!(is_subagent_key("agent:main:subagent:3f2a"));
        assert!(is_subagent_key("agent:ops:subagent:a:subagent:b"));
        for bad in [
            "",
            "main:subagent:x",
            "agent::subagent:x",
            "agent:main:subagent:",
            "agent:main:cron:x",
            "agent:main:subagent:x y",
            "agent:main:subagent:x\u{1b}[2J",
        ] {
            assert!(!is_subagent_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn newest_task_decides_and_statuses_map() {
        let json = br#"{"tasks":[
            {"childSessionKey":"agent:a:subagent:1","status":"failed","createdAt":1,"endedAt":1772064000000,"error":"old"},
            {"childSessionKey":"agent:a:subagent:1","status":"succeeded","createdAt":2,"endedAt":1772064060000},
            {"childSessionKey":"agent:a:subagent:2","status":"timed_out","createdAt":1,"endedAt":1772064000000},
            {"childSessionKey":"agent:a:subagent:3","status":"running","createdAt":1,"startedAt":1772064000000},
            {"childSessionKey":"agent:a:subagent:4","status":"paused","createdAt":1},
            {"status":"running","createdAt":1}
        ]}"#;
        let tasks = parse(json).unwrap();
        match decide(&tasks, "agent:a:subagent:1") {
            Liveness::Ended(e) => {
                assert_eq!(e.finish, Finish::Done);
                assert_eq!(e.finished_ms, 1772064060000);
                assert_eq!(e.error, None);
                assert_eq!(e.why, "OpenClaw: succeeded 2026-02-26T00:01:00Z");
            }
            other => panic!("{other:?}"),
        }
        match decide(&tasks, "agent:a:subagent:2") {
            Liveness::Ended(e) => {
                assert_eq!(e.finish, Finish::Failed);
                assert_eq!(e.error.as_deref(), Some("OpenClaw: timed_out"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decide(&tasks, "agent:a:subagent:3"),
            Liveness::Active {
                last_event_ms: 1772064000000,
                ..
            }
        ));
        assert!(matches!(
            decide(&tasks, "agent:a:subagent:4"),
            Liveness::Unknown(_)
        ));
        assert!(matches!(
            decide(&tasks, "agent:a:subagent:5"),
            Liveness::Dead(_)
        ));
    }

    #[test]
    fn an_event_answers_only_where_the_ledger_recorded_no_end() {
        let event = EndEvent {
            outcome: Outcome::Killed,
            ended_ms: 1772064060000,
            error: None,
        };
        let recorded = Liveness::Ended(Ended {
            why: "OpenClaw: failed".into(),
            finish: Finish::Failed,
            finished_ms: 1,
            error: Some("e".into()),
        });
        assert_eq!(event.answer(recorded.clone()), recorded);
        match event.answer(Liveness::Dead("OpenClaw: no task for this session".into())) {
            Liveness::Ended(e) => {
                assert_eq!(e.finish, Finish::Canceled);
                assert_eq!(e.finished_ms, 1772064060000);
                assert_eq!(e.error, None);
                assert!(e
                    .why
                    .ends_with("the ledger said: OpenClaw: no task for this session"));
            }
            other => panic!("{other:?}"),
        }
        for (o, f) in [
            (Outcome::Ok, Finish::Done),
            (Outcome::Error, Finish::Failed),
            (Outcome::Timeout, Finish::Failed),
            (Outcome::Reset, Finish::Canceled),
            (Outcome::Deleted, Finish::Canceled),
        ] {
            assert_eq!(o.finish(), f);
        }
    }

    #[test]
    fn failure_messages() {
        let json =
            br#"{"ok":false,"error":{"type":"cli_error","message":"Task store needs migration"}}"#;
        assert_eq!(
            failure_message(json, b"").as_deref(),
            Some("Task store needs migration")
        );
        let stderr = b"\x1b[31m[sqlite/transaction]\x1b[39m slow\nError: database is locked\n";
        assert_eq!(
            failure_message(b"", stderr).as_deref(),
            Some("Error: database is locked")
        );
        assert!(parse(b"not json").is_err());
        assert!(parse(b"{}").is_err());
    }
}
