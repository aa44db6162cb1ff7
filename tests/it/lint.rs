//! `lint` itself, data-driven: every rule with the cases that make it fire and the near
//! misses that must not, `(base, current)` in and located diagnostics out, without git.
//! Each rule's cases render into one snapshot (`snapshots/it__lint__<rule>.snap`).

use runqlint::config::{Levels, DEFAULT_STALE_AFTER_MS};
use runqlint::lint::{lint, Diagnostic, Input, Settings};
use runqlint::rules::{Rule, Side};

use crate::support::NOW_MS;

/// One fixture: the two versions of `run_queue.json`, and whether `rule` must fire.
struct Case {
    rule: &'static str,
    name: &'static str,
    fires: bool,
    /// The base version (`HEAD`); `None` when there is none.
    base: Option<&'static str>,
    /// The checked version; `None` when the file was deleted.
    current: Option<&'static str>,
}

const fn fires(rule: &'static str, name: &'static str, current: &'static str) -> Case {
    Case {
        rule,
        name,
        fires: true,
        base: None,
        current: Some(current),
    }
}

const fn silent(rule: &'static str, name: &'static str, current: &'static str) -> Case {
    Case {
        rule,
        name,
        fires: false,
        base: None,
        current: Some(current),
    }
}

impl Case {
    const fn on(mut self, base: &'static str) -> Case {
        self.base = Some(base);
        self
    }
    const fn deleted(mut self) -> Case {
        self.current = None;
        self
    }
}

// Times: NOW is 2026-11-25T00:00:00Z = 1795564800000.
// 1795564200000 = NOW - 10 min; 1772064000000 = 2026-02-26; 1795560000000 = NOW - 80 min.
const CASES: &[Case] = &[
    // invalid-json
    fires("invalid-json", "unclosed array", "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"}\n"),
    fires("invalid-json", "trailing comma", "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"},\n]}\n"),
    fires("invalid-json", "broken base is a warning", "{\"items\": []}\n").on("{\"items\": [\n"),
    silent("invalid-json", "an empty queue", "{\"items\": []}\n"),
    silent("invalid-json", "a bare array", "[\n  {\"id\": \"a\", \"status\": \"queued\"}\n]\n"),
    // duplicate-key
    fires(
        "duplicate-key",
        "status twice",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\", \"status\": \"done\"}\n]}\n",
    ),
    silent(
        "duplicate-key",
        "same key in two objects",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"},\n  {\"id\": \"b\", \"status\": \"queued\"}\n]}\n",
    ),
    // schema
    fires("schema", "misspelt status", "{\"items\": [\n  {\"id\": \"a\", \"status\": \"runing\"}\n]}\n"),
    fires(
        "schema",
        "time as a string",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": \"2026-02-26\"}}\n]}\n",
    ),
    fires("schema", "missing id", "{\"items\": [\n  {\"status\": \"queued\"}\n]}\n"),
    fires("schema", "float time", "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\", \"createdAtMs\": 1.5}\n]}\n"),
    fires(
        "schema",
        "whole float time",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": 1.0}}\n]}\n",
    ),
    silent(
        "schema",
        "unknown fields are allowed",
        "{\"version\": 2, \"items\": [\n  {\"id\": \"a\", \"status\": \"queued\", \"owner\": \"ops\"}\n]}\n",
    ),
    // duplicate-id
    fires(
        "duplicate-id",
        "two items named a",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"failed\"},\n  {\"id\": \"a\", \"status\": \"queued\"}\n]}\n",
    ),
    silent(
        "duplicate-id",
        "a requeue with a fresh id",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"failed\"},\n  {\"id\": \"a-2\", \"status\": \"queued\", \"requeuedFrom\": \"a\"}\n]}\n",
    ),
    // running-without-start
    fires("running-without-start", "no run object", "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\"}\n]}\n"),
    silent(
        "running-without-start",
        "started",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": 1795564200000}}\n]}\n",
    ),
    silent("running-without-start", "queued needs no start", "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"}\n]}\n"),
    // terminal-status-changed
    fires(
        "terminal-status-changed",
        "done back to queued",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"}\n]}\n",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\"}\n]}\n"),
    silent(
        "terminal-status-changed",
        "done stays done",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\"}\n]}\n",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\"}\n]}\n"),
    silent(
        "terminal-status-changed",
        "no base",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"}\n]}\n",
    ),
    // item-deleted
    fires(
        "item-deleted",
        "b is gone",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\"}\n]}\n",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\"},\n  {\"id\": \"b\", \"status\": \"queued\"}\n]}\n"),
    fires("item-deleted", "the file is gone", "")
        .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\"}\n]}\n")
        .deleted(),
    silent(
        "item-deleted",
        "items moved and one added",
        "{\"items\": [\n  {\"id\": \"b\", \"status\": \"queued\"},\n  {\"id\": \"a\", \"status\": \"done\"},\n  {\"id\": \"c\", \"status\": \"queued\"}\n]}\n",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\"},\n  {\"id\": \"b\", \"status\": \"queued\"}\n]}\n"),
    // invalid-transition
    fires(
        "invalid-transition",
        "running back to queued",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"}\n]}\n",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": 1795564200000}}\n]}\n"),
    silent(
        "invalid-transition",
        "queued to running",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": 1795564200000}}\n]}\n",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\"}\n]}\n"),
    // terminal-item-changed
    fires(
        "terminal-item-changed",
        "title of a done item edited",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\", \"title\": \"Digest v2\"}\n]}\n",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\", \"title\": \"Digest\"}\n]}\n"),
    silent(
        "terminal-item-changed",
        "triage added to a failed item",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"failed\", \"triage\": {\"status\": \"needs_review\"}}\n]}\n",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"failed\"}\n]}\n"),
    silent(
        "terminal-item-changed",
        "reformatted only",
        "{\"items\":[{\"status\":\"done\",\"id\":\"a\",\"title\":\"Digest\"}]}",
    )
    .on("{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\", \"title\": \"Digest\"}\n]}\n"),
    // timestamp-order
    fires(
        "timestamp-order",
        "finished before started",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\", \"run\": {\"startedAtMs\": 1795560000000, \"finishedAtMs\": 1772064000000}}\n]}\n",
    ),
    fires(
        "timestamp-order",
        "created after started",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\", \"createdAtMs\": 1795564200000, \"run\": {\"startedAtMs\": 1795560000000}}\n]}\n",
    ),
    silent(
        "timestamp-order",
        "in order",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\", \"createdAtMs\": 1772064000000, \"run\": {\"startedAtMs\": 1795560000000, \"finishedAtMs\": 1795564200000}}\n]}\n",
    ),
    // implausible-timestamp
    fires(
        "implausible-timestamp",
        "seconds stored as milliseconds",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"done\", \"run\": {\"startedAtMs\": 1795560000}}\n]}\n",
    ),
    fires(
        "implausible-timestamp",
        "an hour in the future",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\", \"createdAtMs\": 1795568400000}\n]}\n",
    ),
    silent(
        "implausible-timestamp",
        "four minutes ahead (clock skew)",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"queued\", \"createdAtMs\": 1795565040000}\n]}\n",
    ),
    // stale-running
    fires(
        "stale-running",
        "running since February",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": 1772064000000}}\n]}\n",
    ),
    fires(
        "stale-running",
        "its own threshold is shorter",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": 1795560000000, \"staleAfterMs\": 600000}}\n]}\n",
    ),
    silent(
        "stale-running",
        "started ten minutes ago",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": 1795564200000}}\n]}\n",
    ),
    silent(
        "stale-running",
        "old start, fresh heartbeat",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"running\", \"run\": {\"startedAtMs\": 1772064000000, \"lastHeartbeatAtMs\": 1795564200000}}\n]}\n",
    ),
    // stale-without-triage
    fires("stale-without-triage", "parked without a reason", "{\"items\": [\n  {\"id\": \"a\", \"status\": \"stale\"}\n]}\n"),
    silent(
        "stale-without-triage",
        "triaged",
        "{\"items\": [\n  {\"id\": \"a\", \"status\": \"stale\", \"triage\": {\"status\": \"needs_review\", \"reason\": \"stale_running\", \"flaggedAtMs\": 1795564200000}}\n]}\n",
    ),
];

/// `lint` on one case with the default levels, at NOW.
fn run(case: &Case) -> Vec<Diagnostic> {
    let settings = Settings {
        levels: Levels::default(),
        now_ms: NOW_MS,
        stale_after_ms: DEFAULT_STALE_AFTER_MS,
    };
    let input = Input {
        path: "run_queue.json",
        current: case.current.map(str::as_bytes),
        base: case.base.map(|b| ("HEAD", b.as_bytes())),
    };
    lint(&input, &settings).diagnostics
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Current => "current",
        Side::Base => "base",
    }
}

/// One line per diagnostic: severity, rule, where, message, and the related place.
fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            let l = &d.location;
            let mut line = format!(
                "{} {} {}:{}:{} {}",
                d.severity.as_str(),
                d.rule.name(),
                side(l.side),
                l.line,
                l.column,
                d.message
            );
            if let Some(r) = &d.related {
                line += &format!(" [related {}:{}:{}]", side(r.side), r.line, r.column);
            }
            line + "\n"
        })
        .collect()
}

#[test]
fn every_rule_fires_on_its_cases_and_not_on_its_near_misses() {
    for rule in Rule::ALL {
        let cases: Vec<&Case> = CASES.iter().filter(|c| c.rule == rule.name()).collect();
        let mut snapshot = String::new();
        for case in &cases {
            let diagnostics = run(case);
            let fired = diagnostics.iter().any(|d| d.rule == rule);
            assert_eq!(
                fired,
                case.fires,
                "{}: {}\n{}",
                rule.name(),
                case.name,
                render(&diagnostics)
            );
            let verdict = if case.fires { "fires" } else { "silent" };
            snapshot += &format!("## {} ({verdict})\n{}\n", case.name, render(&diagnostics));
        }
        insta::assert_snapshot!(rule.name(), snapshot);
    }
}

#[test]
fn every_rule_has_a_case_that_fires_and_one_that_does_not() {
    for rule in Rule::ALL {
        for want in [true, false] {
            assert!(
                CASES
                    .iter()
                    .any(|c| c.rule == rule.name() && c.fires == want),
                "{} has no case with fires = {want}",
                rule.name()
            );
        }
    }
    for case in CASES {
        assert!(
            Rule::from_name(case.rule).is_some(),
            "{}: no rule {}",
            case.name,
            case.rule
        );
    }
}

#[test]
fn a_float_time_is_one_schema_finding() {
    for name in ["float time", "whole float time"] {
        let case = CASES.iter().find(|c| c.name == name).unwrap();
        let diagnostics = run(case);
        let schema: Vec<&Diagnostic> = diagnostics
            .iter()
            .filter(|d| d.rule == Rule::Schema)
            .collect();
        assert_eq!(schema.len(), 1, "{name}\n{}", render(&diagnostics));
    }
}

#[test]
fn a_rule_set_to_off_is_not_reported_and_warn_demotes_an_error() {
    let case = &CASES[CASES
        .iter()
        .position(|c| c.name == "two items named a")
        .unwrap()];
    let mut levels = Levels::default();
    levels.set(Rule::DuplicateId, runqlint::rules::Level::Off);
    let settings = Settings {
        levels: levels.clone(),
        now_ms: NOW_MS,
        stale_after_ms: DEFAULT_STALE_AFTER_MS,
    };
    let input = Input {
        path: "run_queue.json",
        current: case.current.map(str::as_bytes),
        base: None,
    };
    assert!(lint(&input, &settings).diagnostics.is_empty());
    levels.set(Rule::DuplicateId, runqlint::rules::Level::Warn);
    let settings = Settings { levels, ..settings };
    let report = lint(&input, &settings);
    assert_eq!(
        render(&report.diagnostics),
        "warning duplicate-id current:3:10 id \"a\" is already used by an earlier item; the first is at line 2 [related current:2:10]\n"
    );
}
