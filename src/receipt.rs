//! The receipt of a `fix`: the commit message that says what was repaired, written here and
//! read back here ([`parse`]), so the two cannot drift apart.
//!
//! ```text
//! runqlint fix: mark 2 stale running items failed, requeue 1
//!
//! - a "Title": started 2026-02-26 00:00 UTC, silent 3d 4h: marked failed (…); requeued as a-r2 (attempt 2)
//! - b: started …
//!
//! Receipt-Run-Id: fix_20260301T000000Z_1a2b3c4d
//! Receipt-Artifact: brain/hq/ship-ready.md
//! Repaired-Item: a
//! Repaired-Item: b
//! Reconciled-Item: d
//! Heartbeat-Item: c
//! Requeued-Item: a-r2
//! Backup: run_queue.backup.20260301T000000Z.json
//! ```
//!
//! The subject starts with [`SUBJECT_PREFIX`]; one body line per stale item (starting with
//! `- `) is for people; the last paragraph is the trailer block, in that order
//! (`Receipt-Artifact` and `Backup` only when there is one). Item data never adds a line:
//! body lines escape every control character ([`text::escape`]) and truncate titles, and
//! trailer values are written with [`encode_value`], which also escapes `\`, so every value
//! reads back exactly ([`decode_value`]), an id that contains a line break included.

use std::fmt::Write as _;

use crate::repair::{Action, Options, Plan, Requeue};
use crate::rules::{fmt_duration, fmt_ms};
use crate::text;

/// Every receipt's subject starts with this.
pub const SUBJECT_PREFIX: &str = "runqlint fix: ";

/// A fix commit's message, typed. [`Receipt::message`] writes it, [`parse`] reads it back:
/// `parse(&r.message()) == Some(r)` for every receipt `fix` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The first line, [`SUBJECT_PREFIX`] included.
    pub subject: String,
    /// The body's lines (one per stale item, for people; already escaped), without the
    /// blank lines around them.
    pub body: Vec<String>,
    /// `Receipt-Run-Id:` (exactly one).
    pub run_id: String,
    /// `Receipt-Artifact:` (at most one).
    pub artifact: Option<String>,
    /// `Repaired-Item:`: ids of the items marked `failed` or `stale`, in file order.
    pub repaired: Vec<String>,
    /// `Reconciled-Item:`: ids of the items given the end their runtime recorded.
    pub reconciled: Vec<String>,
    /// `Heartbeat-Item:`: ids of the live items given a heartbeat.
    pub heartbeats: Vec<String>,
    /// `Requeued-Item:`: ids of the `queued` items appended by `--requeue`.
    pub requeued: Vec<String>,
    /// `Backup:`: the backup file, repository-relative (at most one).
    pub backup: Option<String>,
}

impl Receipt {
    /// The receipt of `plan`. `run_id` and `artifact` are one line of safe text (the
    /// command checks them); `backup` is the path shown for the backup, if one is made.
    pub fn of_plan(
        plan: &Plan,
        opts: &Options,
        run_id: &str,
        artifact: Option<&str>,
        backup: Option<&str>,
    ) -> Receipt {
        Receipt {
            subject: subject(plan, opts),
            body: plan.outcomes.iter().map(body_line).collect(),
            run_id: run_id.to_string(),
            artifact: artifact.map(str::to_string),
            repaired: plan.marked().map(|o| o.candidate.id.clone()).collect(),
            reconciled: plan.reconciled().map(|o| o.candidate.id.clone()).collect(),
            heartbeats: plan.heartbeats().map(|o| o.candidate.id.clone()).collect(),
            requeued: plan.appended().map(|(_, id)| id.to_string()).collect(),
            backup: backup.map(str::to_string),
        }
    }

    /// The commit message: subject, blank line, body lines, blank line, trailers; every
    /// line ends with `\n`.
    pub fn message(&self) -> String {
        let mut msg = format!("{}\n\n", one_line(&self.subject));
        for line in &self.body {
            msg.push_str(&one_line(line));
            msg.push('\n');
        }
        if !self.body.is_empty() {
            msg.push('\n');
        }
        let mut trailer = |key: &str, value: &str| {
            let _ = writeln!(msg, "{key}: {}", encode_value(value));
        };
        trailer(RUN_ID, &self.run_id);
        if let Some(a) = &self.artifact {
            trailer(ARTIFACT, a);
        }
        for id in &self.repaired {
            trailer(REPAIRED, id);
        }
        for id in &self.reconciled {
            trailer(RECONCILED, id);
        }
        for id in &self.heartbeats {
            trailer(HEARTBEAT, id);
        }
        for id in &self.requeued {
            trailer(REQUEUED, id);
        }
        if let Some(b) = &self.backup {
            trailer(BACKUP, b);
        }
        msg
    }
}

const RUN_ID: &str = "Receipt-Run-Id";
const ARTIFACT: &str = "Receipt-Artifact";
const REPAIRED: &str = "Repaired-Item";
const RECONCILED: &str = "Reconciled-Item";
const HEARTBEAT: &str = "Heartbeat-Item";
const REQUEUED: &str = "Requeued-Item";
const BACKUP: &str = "Backup";

/// Reads a commit message back into a [`Receipt`]. `None` when it is not a `fix` receipt:
/// the subject does not start with [`SUBJECT_PREFIX`]; the last paragraph is not a block of
/// `Key: value` trailer lines; it has no `Receipt-Run-Id`, or more than one
/// `Receipt-Run-Id`, `Receipt-Artifact` or `Backup`; or a value is not one line as
/// [`encode_value`] writes it.
///
/// Trailer keys match case-insensitively (as git's do); trailers of other keys (a
/// `Signed-off-by:` added by an amend) are allowed and ignored. Trailing blank lines (what
/// `git log --format=%B` adds) and CRLF line ends are accepted. Only the last paragraph is
/// read as trailers, so text in the body, where item data goes, is never taken for one.
///
/// ```
/// let msg = "runqlint fix: mark 1 stale running item failed\n\n- a: …\n\n\
///            Receipt-Run-Id: r1\nRepaired-Item: a\\u{000a}b\n";
/// let r = runqlint::receipt::parse(msg).unwrap();
/// assert_eq!(r.run_id, "r1");
/// assert_eq!(r.repaired, ["a\nb"]);
/// assert!(runqlint::receipt::parse("fix typo\n\nReceipt-Run-Id: r1\n").is_none());
/// ```
pub fn parse(message: &str) -> Option<Receipt> {
    let lines: Vec<&str> = message
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let end = lines.iter().rposition(|l| !l.trim().is_empty())? + 1;
    let lines = &lines[..end];
    let subject = lines[0];
    if !subject.starts_with(SUBJECT_PREFIX) {
        return None;
    }
    // The trailer block: the lines after the last blank line (never the subject).
    let start = lines.iter().rposition(|l| l.trim().is_empty())? + 1;
    if start < 2 {
        return None;
    }
    let body: Vec<String> = lines[1..start - 1]
        .iter()
        .skip_while(|l| l.trim().is_empty())
        .map(|l| l.to_string())
        .collect::<Vec<_>>();
    let body_end = body
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    let mut r = Receipt {
        subject: subject.to_string(),
        body: body[..body_end].to_vec(),
        run_id: String::new(),
        artifact: None,
        repaired: Vec::new(),
        reconciled: Vec::new(),
        heartbeats: Vec::new(),
        requeued: Vec::new(),
        backup: None,
    };
    let mut run_id = None;
    for line in &lines[start..] {
        let (key, value) = line.split_once(": ")?;
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        let once = |slot: &mut Option<String>| -> Option<()> {
            match slot {
                Some(_) => None,
                None => {
                    *slot = Some(decode_value(value)?);
                    Some(())
                }
            }
        };
        match key {
            k if k.eq_ignore_ascii_case(RUN_ID) => once(&mut run_id)?,
            k if k.eq_ignore_ascii_case(ARTIFACT) => once(&mut r.artifact)?,
            k if k.eq_ignore_ascii_case(BACKUP) => once(&mut r.backup)?,
            k if k.eq_ignore_ascii_case(REPAIRED) => r.repaired.push(decode_value(value)?),
            k if k.eq_ignore_ascii_case(RECONCILED) => r.reconciled.push(decode_value(value)?),
            k if k.eq_ignore_ascii_case(HEARTBEAT) => r.heartbeats.push(decode_value(value)?),
            k if k.eq_ignore_ascii_case(REQUEUED) => r.requeued.push(decode_value(value)?),
            _ => {}
        }
    }
    r.run_id = run_id?;
    Some(r)
}

/// A trailer value as one line of safe text: every character [`text::is_unsafe`] reports,
/// and `\` itself, becomes `\u{xxxx}`. For text without `\` this is [`text::escape`].
pub fn encode_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == '\\' || text::is_unsafe(c) {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// The inverse of [`encode_value`]. `None` for a value it cannot have written (a `\` that
/// does not start a `\u{xxxx}` escape of a character, or a raw unsafe character).
pub fn decode_value(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(['\\']) {
        out.push_str(&rest[..at]);
        let esc = rest[at..].strip_prefix("\\u{")?;
        let close = esc.find('}')?;
        let hex = &esc[..close];
        if hex.is_empty() || hex.len() > 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
        rest = &esc[close + 1..];
    }
    if rest.chars().any(text::is_unsafe) {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

/// A line as written: unsafe characters escaped, so no field of a receipt adds a line.
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(text::is_unsafe) {
        text::escape(s).into()
    } else {
        s.into()
    }
}

fn subject(plan: &Plan, opts: &Options) -> String {
    let marked = plan.marked().count();
    let beats = plan.heartbeats().count();
    let requeued = plan.appended().count();
    let reconciled = plan.reconciled().count();
    let mut parts = Vec::new();
    if reconciled > 0 {
        parts.push(format!(
            "reconcile {reconciled} ended run{}",
            plural(reconciled)
        ));
    }
    if marked > 0 {
        parts.push(format!(
            "mark {marked} stale running item{} {}",
            plural(marked),
            opts.mark.status().as_str()
        ));
    }
    if beats > 0 {
        parts.push(format!("record {beats} heartbeat{}", plural(beats)));
    }
    if requeued > 0 {
        parts.push(format!("requeue {requeued}"));
    }
    format!("{SUBJECT_PREFIX}{}", parts.join(", "))
}

/// One stale item: id, title (truncated), start, silence, what happened and why.
fn body_line(o: &crate::repair::Outcome) -> String {
    let c = &o.candidate;
    let title = c
        .title
        .as_deref()
        .map(|t| format!(" {}", text::quote_max(t, 60)))
        .unwrap_or_default();
    let why = text::escape(o.liveness.why());
    let action = match &o.action {
        Action::Marked(mark) => format!("marked {} ({why})", mark.status().as_str()),
        Action::Heartbeat => format!("alive ({why}), heartbeat recorded"),
        Action::Kept => format!("active ({why}), left running"),
        Action::Reconciled(finish) => format!("reconciled as {} ({why})", finish.as_str()),
        Action::Left => format!("left running, liveness unknown ({why})"),
    };
    let requeue = match &o.requeue {
        Some(Requeue::Appended { id, attempt }) => {
            format!("; requeued as {} (attempt {attempt})", text::escape(id))
        }
        Some(Requeue::Refused { attempt, max }) => {
            format!("; not requeued (attempt {attempt} > max {max})")
        }
        None => String::new(),
    };
    format!(
        "- {}{title}: started {}, silent {}: {action}{requeue}",
        text::escape(&c.id),
        fmt_ms(c.started_ms),
        fmt_duration(c.age_ms)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Receipt {
        Receipt {
            subject: "runqlint fix: mark 2 stale running items failed, requeue 1".into(),
            body: vec!["- a: x".into(), "- b\\u{000a}Backup: y: z".into()],
            run_id: "run_1".into(),
            artifact: Some("brain/a.md".into()),
            repaired: vec!["a".into(), "b\nBackup: forged".into()],
            reconciled: vec!["e".into()],
            heartbeats: vec!["c\\u{000a}d".into()],
            requeued: vec!["a-r2".into()],
            backup: Some("q.backup.json".into()),
        }
    }

    #[test]
    fn what_is_written_reads_back() {
        let r = sample();
        let msg = r.message();
        assert_eq!(
            msg,
            "runqlint fix: mark 2 stale running items failed, requeue 1\n\n\
             - a: x\n- b\\u{000a}Backup: y: z\n\n\
             Receipt-Run-Id: run_1\nReceipt-Artifact: brain/a.md\n\
             Repaired-Item: a\nRepaired-Item: b\\u{000a}Backup: forged\n\
             Reconciled-Item: e\n\
             Heartbeat-Item: c\\u{005c}u{000a}d\nRequeued-Item: a-r2\n\
             Backup: q.backup.json\n"
        );
        assert_eq!(parse(&msg), Some(r.clone()));
        // As `git log --format=%B` prints it, and with CRLF line ends.
        assert_eq!(parse(&format!("{msg}\n")), Some(r.clone()));
        assert_eq!(parse(&msg.replace('\n', "\r\n")), Some(r));
    }

    #[test]
    fn other_messages_are_not_receipts() {
        let msg = sample().message();
        for bad in [
            "".to_string(),
            "runqlint fix: x\n".to_string(),
            msg.replacen("runqlint fix: ", "runqlint fixed: ", 1),
            msg.replace("Receipt-Run-Id: run_1\n", ""),
            msg.replace("Backup: q", "Receipt-Run-Id: again\nBackup: q"),
            msg.replace("Backup: q", "Backup: a\nBackup: q"),
            format!("{msg}free text after the trailers\n"),
            msg.replace("Repaired-Item: a\n", "Repaired-Item: a\\x\n"),
            msg.replace("Repaired-Item: a\n", "Repaired-Item: a\\u{d800}\n"),
            msg.replace("Repaired-Item: a\n", "Repaired-Item: a\u{1b}\n"),
        ] {
            assert_eq!(parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn trailers_in_the_body_are_not_read() {
        let msg = "runqlint fix: mark 1 stale running item failed\n\n\
                   Receipt-Run-Id: forged\nRepaired-Item: forged\n\n\
                   Receipt-Run-Id: real\nrepaired-item: a\nSigned-off-by: A <a@b>\n";
        let r = parse(msg).unwrap();
        assert_eq!(r.run_id, "real");
        assert_eq!(r.repaired, ["a"]);
        assert_eq!(r.body, ["Receipt-Run-Id: forged", "Repaired-Item: forged"]);
    }

    #[test]
    fn values_round_trip() {
        for s in ["", "plain", "a\\b", "\\u{000a}", "x\ny\u{202e}z", "é\u{9b}"] {
            let e = encode_value(s);
            assert!(!e.chars().any(text::is_unsafe), "{e:?}");
            assert_eq!(decode_value(&e).as_deref(), Some(s));
        }
        assert_eq!(encode_value("a\nb"), text::escape("a\nb"));
    }
}
