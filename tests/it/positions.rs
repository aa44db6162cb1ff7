//! Lines and columns, held to counting by hand: a line is one plus the newlines before the
//! offset, a column one plus the characters (Unicode scalar values) since the last of them.
//! Random queues on one line and on many (LF, CRLF, tabs, non-ASCII text before the
//! findings, many findings on one line) are linted, and every position the diagnostics and
//! the JSON, SARIF, GitHub and human outputs report is compared with that count; then
//! `audit` on a history of one-line versions, through the binary.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::{json, Value};

use runqlint::config::Levels;
use runqlint::document::{Span, SpanIndex};
use runqlint::lint::{lint, FileReport, Input, Location, Settings};
use runqlint::output::{github, human, json as json_out, sarif};
use runqlint::rules::Side;

use crate::support::{Repo, NOW, NOW_MS, Q};

const DAY_MS: i64 = 86_400_000;
const STATUSES: [&str; 6] = ["queued", "running", "done", "failed", "canceled", "stale"];

/// Line and column of `offset` the slow way (an offset inside a character is that
/// character).
fn counted(text: &str, offset: usize) -> (usize, usize) {
    let mut cut = offset.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = &text[..cut];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() + 1;
    (line, column)
}

fn item(i: usize, status: usize, started_days_ago: Option<i64>, title: &str, twin: bool) -> Value {
    let id = if twin {
        "twin".to_string()
    } else {
        format!("é週-{i}")
    };
    let mut v = json!({"id": id, "status": STATUSES[status], "title": title});
    if let Some(days) = started_days_ago {
        v["run"] = json!({"startedAtMs": NOW_MS - days * DAY_MS});
    }
    if STATUSES[status] == "stale" {
        v["triage"] = json!({"status": "needs_review"});
    }
    v
}

fn arb_items() -> impl Strategy<Value = Vec<Value>> {
    proptest::collection::vec(
        (
            0..6usize,
            proptest::option::weighted(0.8, 1i64..60),
            "[a-z é週😀\\t\\u{1b}\\u{202e}]{0,16}",
            proptest::bool::weighted(0.05),
        ),
        0..40,
    )
    .prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, (status, started, title, twin))| item(i, status, started, &title, twin))
            .collect()
    })
}

/// `v` on one line with tabs and spaces between its tokens.
fn spaced(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push_str("{\t");
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(" ,\t");
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push_str(" :\t");
                spaced(v, out);
            }
            out.push_str(" }");
        }
        Value::Array(list) => {
            out.push_str("[ ");
            for (i, v) in list.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\t");
                }
                spaced(v, out);
            }
            out.push_str("\t]");
        }
        _ => out.push_str(&serde_json::to_string(v).unwrap()),
    }
}

/// The queue in one of six layouts: pretty (LF, CRLF, tab-indented), one line (as
/// `JSON.stringify` writes it, or with tabs and spaces), or one item per CRLF line.
fn layout(items: &[Value], style: u8) -> String {
    let doc = json!({ "items": items });
    let indented = |indent: &[u8]| {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(indent);
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        serde::Serialize::serialize(&doc, &mut ser).unwrap();
        String::from_utf8(out).unwrap()
    };
    match style % 6 {
        0 => indented(b"  ") + "\n",
        1 => indented(b"  ").replace('\n', "\r\n") + "\r\n",
        2 => indented(b"\t"),
        3 => serde_json::to_string(&doc).unwrap(),
        4 => {
            let mut out = String::new();
            spaced(&doc, &mut out);
            out
        }
        _ => {
            let lines: Vec<String> = items
                .iter()
                .map(|i| serde_json::to_string(i).unwrap())
                .collect();
            format!("{{\"items\": [\r\n{}\r\n]}}\r\n", lines.join(",\r\n"))
        }
    }
}

fn settings() -> Settings {
    Settings {
        levels: Levels::default(),
        now_ms: NOW_MS,
        stale_after_ms: 6 * 3_600_000,
    }
}

/// The start and end of `l`, counted by hand in its version.
fn expected(report: &FileReport, l: &Location) -> ((usize, usize), (usize, usize)) {
    let text = &report.version(l.side).expect("the version is there").text;
    (counted(text, l.span.start), counted(text, l.span.end))
}

/// Every position `report` carries and its four outputs print, against counting by hand.
/// Returns how many diagnostics were compared.
fn positions_agree(report: &FileReport) -> Result<usize, TestCaseError> {
    let diags = &report.diagnostics;
    for d in diags {
        let ((line, column), (end_line, end_column)) = expected(report, &d.location);
        prop_assert_eq!(
            (
                d.location.line,
                d.location.column,
                d.location.end_line,
                d.location.end_column
            ),
            (line, column, end_line, end_column),
            "{:?}",
            d
        );
        if let Some(r) = &d.related {
            let ((line, column), (end_line, end_column)) = expected(report, r);
            prop_assert_eq!(
                (r.line, r.column, r.end_line, r.end_column),
                (line, column, end_line, end_column),
                "{:?}",
                d
            );
        }
    }
    let reports = std::slice::from_ref(report);

    // JSON: the start and end of each finding, the base line of a related place in the base.
    let out: Value = serde_json::from_str(&json_out::render(reports)).unwrap();
    let shown = out["diagnostics"].as_array().unwrap();
    prop_assert_eq!(shown.len(), diags.len());
    for (o, d) in shown.iter().zip(diags) {
        let ((line, column), (end_line, end_column)) = expected(report, &d.location);
        prop_assert_eq!(
            [&o["line"], &o["column"], &o["endLine"], &o["endColumn"]],
            [
                &json!(line),
                &json!(column),
                &json!(end_line),
                &json!(end_column)
            ]
        );
        let base_line = d
            .related
            .filter(|r| r.side == Side::Base)
            .map(|r| json!(expected(report, &r).0 .0));
        prop_assert_eq!(o.get("baseLine"), base_line.as_ref());
    }

    // SARIF: a region for a finding in the checked version, its end never before its start.
    let out: Value = serde_json::from_str(&sarif::render(reports)).unwrap();
    let results = out["runs"][0]["results"].as_array().unwrap();
    prop_assert_eq!(results.len(), diags.len());
    for (o, d) in results.iter().zip(diags) {
        let region = &o["locations"][0]["physicalLocation"]["region"];
        if d.location.side == Side::Base {
            prop_assert!(region.is_null());
            continue;
        }
        let ((line, column), (end_line, end_column)) = expected(report, &d.location);
        let end_column = if end_line > line {
            end_column
        } else {
            end_column.max(column)
        };
        prop_assert_eq!(
            region,
            &json!({"startLine": line, "startColumn": column, "endLine": end_line.max(line), "endColumn": end_column})
        );
    }

    // GitHub: the log line of every finding (errors first), and the annotation after it.
    let mut sorted: Vec<_> = diags.iter().collect();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.severity));
    let out = github::render(reports);
    let mut current = None;
    let mut logged = 0;
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("run_queue.json:") {
            let d = sorted[logged];
            let ((l, c), _) = expected(report, &d.location);
            prop_assert!(
                rest.starts_with(&format!("{l}:{c}: ")),
                "{} for {:?}",
                line,
                d
            );
            current = Some(d);
            logged += 1;
        } else if line.starts_with("::error ") || line.starts_with("::warning ") {
            let d = current.expect("an annotation follows its log line");
            let ((l, c), (el, ec)) = expected(report, &d.location);
            let properties = if d.location.side == Side::Base {
                "file=run_queue.json".to_string()
            } else if el == l {
                format!(
                    "file=run_queue.json,line={l},col={c},endLine={el},endColumn={}",
                    ec.max(c)
                )
            } else {
                format!("file=run_queue.json,line={l},endLine={el}")
            };
            prop_assert!(
                line.contains(&format!(" {properties},title=")),
                "{} for {:?}",
                line,
                d
            );
        }
    }
    prop_assert_eq!(logged, diags.len());

    // Human: a finding on a long line is shown as `at NAME:LINE:COLUMN` and an excerpt; those
    // places are the findings' starts, in order.
    let out = human::render(
        reports,
        human::Style {
            color: false,
            width: 100,
        },
    );
    let mut places = diags.iter().map(|d| {
        let name = &report.version(d.location.side).unwrap().name;
        let ((l, c), _) = expected(report, &d.location);
        format!("  at {name}:{l}:{c}")
    });
    for line in out.lines().filter(|l| l.starts_with("  at ")) {
        prop_assert!(
            places.any(|p| p == line),
            "{} is not a finding's start, in order",
            line
        );
    }
    Ok(diags.len())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 160,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(23),
        ..ProptestConfig::default()
    })]

    /// Random queues in every layout, alone and against a base in another layout in which
    /// some items were finished (so the history rules point into the base too).
    #[test]
    fn positions_in_every_format_agree_with_counting_by_hand(
        items in arb_items(),
        style in 0u8..6,
        base_style in 0u8..6,
        finished in proptest::collection::vec(any::<bool>(), 40),
    ) {
        let current = layout(&items, style);
        let alone = lint(
            &Input { path: Q, current: Some(current.as_bytes()), base: None },
            &settings(),
        );
        positions_agree(&alone)?;
        let base_items: Vec<Value> = items
            .iter()
            .zip(&finished)
            .map(|(item, &done)| {
                let mut item = item.clone();
                if done {
                    item["status"] = json!("done");
                }
                item
            })
            .collect();
        let base = layout(&base_items, base_style);
        let against = lint(
            &Input { path: Q, current: Some(current.as_bytes()), base: Some(("HEAD", base.as_bytes())) },
            &settings(),
        );
        positions_agree(&against)?;
    }
}

/// The fixed cases the random ones may miss: a long one-line queue with non-ASCII text and
/// tabs before a hundred findings on its one line (each shown as an excerpt), the same queue
/// with CRLF lines, and against a base with a terminal item reopened.
#[test]
fn many_findings_on_one_long_line_agree_with_counting_by_hand() {
    let items: Vec<Value> = (0..300)
        .map(|i| {
            item(
                i,
                if i % 3 == 0 { 1 } else { 2 },
                Some(2 + (i as i64 % 9)),
                "週報\t😀 é",
                false,
            )
        })
        .collect();
    let mut base_items = items.clone();
    base_items[7]["status"] = json!("done");
    base_items[9]["status"] = json!("failed");
    let mut compared = 0;
    for style in 0..6 {
        let current = layout(&items, style);
        for base_style in [3, style] {
            let base = layout(&base_items, base_style);
            let report = lint(
                &Input {
                    path: Q,
                    current: Some(current.as_bytes()),
                    base: Some(("HEAD", base.as_bytes())),
                },
                &settings(),
            );
            compared += positions_agree(&report).unwrap();
            if style == 3 {
                let out = human::render(
                    std::slice::from_ref(&report),
                    human::Style {
                        color: false,
                        width: 100,
                    },
                );
                assert!(
                    out.matches("\n  at run_queue.json:1:").count() >= 100,
                    "{out}"
                );
            }
        }
    }
    assert!(compared > 6 * 2 * 100, "{compared}");
}

/// `audit` on a history of one-line versions: every finding's line and columns, in every
/// format, are those counted by hand in the version of the commit that introduced it.
#[test]
fn audit_of_one_line_versions_reports_positions_counted_by_hand() {
    let repo = Repo::new();
    let mut items: Vec<Value> = (0..60)
        .map(|i| item(i, 2, Some(40), &format!("Résumé\t週 {i} 😀"), false))
        .collect();
    let mut versions = Vec::new();
    for step in 0..4 {
        // More items left running each time (stale), one finished item reopened, one
        // twin id: single-file and history findings, all on the one line.
        for k in 0..8 {
            items[step * 12 + k]["status"] = json!("running");
        }
        if step > 0 {
            items.push(item(100 + step, 0, None, "週", true));
        }
        let text = serde_json::to_string(&json!({ "items": items })).unwrap();
        assert!(!text.contains('\n'));
        repo.write(Q, &text);
        repo.commit_all(&format!("version {step}"));
        versions.push((repo.head(), text));
    }
    let text_of = |commit: &str| {
        &versions
            .iter()
            .find(|(c, _)| c == commit)
            .unwrap_or_else(|| panic!("{commit} is not a commit of the history"))
            .1
    };
    // What each finding must report: the start and end of the value (or key) its pointer
    // names in its commit's version, counted by hand.
    let places = |commit: &str, pointer: &str| -> Vec<((usize, usize), (usize, usize))> {
        let text = text_of(commit);
        let index = SpanIndex::build(text);
        let at = |s: Span| (counted(text, s.start), counted(text, s.end));
        vec![at(index.value_span(pointer)), at(index.key_span(pointer))]
    };

    let run = repo.run(&["audit", "--now", NOW, "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let diags = run.json()["diagnostics"].as_array().unwrap().clone();
    let mut rules: Vec<&str> = diags.iter().map(|d| d["rule"].as_str().unwrap()).collect();
    rules.sort_unstable();
    rules.dedup();
    assert_eq!(
        rules,
        ["duplicate-id", "stale-running", "terminal-status-changed"]
    );
    let mut expected = Vec::new();
    for d in &diags {
        let commit = d["commit"].as_str().unwrap();
        let got = (
            (
                d["line"].as_u64().unwrap() as usize,
                d["column"].as_u64().unwrap() as usize,
            ),
            (
                d["endLine"].as_u64().unwrap() as usize,
                d["endColumn"].as_u64().unwrap() as usize,
            ),
        );
        assert_eq!(got.0 .0, 1, "{d}");
        assert!(
            places(commit, d["pointer"].as_str().unwrap()).contains(&got),
            "{d}: {got:?}"
        );
        expected.push((commit.to_string(), got));
    }
    assert!(expected.iter().filter(|(_, ((_, c), _))| *c > 1000).count() > 20);

    // SARIF and GitHub report the same places, in the same order as JSON.
    let run = repo.run(&["audit", "--now", NOW, "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    let regions: Vec<_> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let g = &r["locations"][0]["physicalLocation"]["region"];
            let n = |k: &str| g[k].as_u64().unwrap() as usize;
            (
                r["properties"]["commit"].as_str().unwrap().to_string(),
                (
                    (n("startLine"), n("startColumn")),
                    (n("endLine"), n("endColumn")),
                ),
            )
        })
        .collect();
    assert_eq!(regions, expected);
    let run = repo.run(&["audit", "--now", NOW, "--format", "github"]);
    for (commit, ((l, c), _)) in &expected {
        let log = format!("run_queue.json:{l}:{c}: ");
        assert!(
            run.stdout.lines().any(|line| line.starts_with(&log)
                && line.contains(&format!("(commit {})", &commit[..12]))),
            "{log} {commit}\n{}",
            run.stdout
        );
    }
    // The human output shows each finding on the long line as an excerpt at its place.
    let run = repo.run(&["audit", "--now", NOW, "--format", "human"]);
    for (commit, ((l, c), _)) in &expected {
        let at = format!("  at run_queue.json ({}):{l}:{c}\n", &commit[..12]);
        assert!(run.stdout.contains(&at), "{at}\n{}", run.stdout);
    }
}
