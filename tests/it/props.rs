//! Property tests over the library: generated queues and random edits never make `lint`
//! panic, every location is inside the text, and the history rules agree with a model of
//! the allowed transitions.

use proptest::prelude::*;
use serde_json::{json, Value};

use runqlint::config::Levels;
use runqlint::lint::{lint, Input, Settings};
use runqlint::queue::Status;

use crate::support::{FEB26_MS, NOW_MS};

const STATUSES: [&str; 6] = ["queued", "running", "done", "failed", "canceled", "stale"];

fn settings() -> Settings {
    Settings {
        levels: Levels::default(),
        now_ms: NOW_MS,
        stale_after_ms: 6 * 3_600_000,
    }
}

fn arb_item(i: usize) -> impl Strategy<Value = Value> {
    (
        0..6usize,
        proptest::option::of(0i64..400 * 86_400_000),
        any::<bool>(),
        "[ -~\\n\\u{1b}\\u{9b}é]{0,12}",
    )
        .prop_map(move |(s, started, title, text)| {
            let mut v = json!({"id": format!("item-{i}"), "status": STATUSES[s]});
            if let Some(age) = started {
                v["run"] = json!({"startedAtMs": NOW_MS - age, "childSessionKey": text});
            }
            if title {
                v["title"] = json!(text);
            }
            if STATUSES[s] == "stale" {
                v["triage"] = json!({"status": "needs_review", "flaggedAtMs": FEB26_MS});
            }
            v
        })
}

fn arb_queue() -> impl Strategy<Value = Vec<Value>> {
    (0..12usize).prop_flat_map(|n| (0..n).map(arb_item).collect::<Vec<_>>())
}

fn render(items: &[Value], style: u8) -> String {
    let doc = if style % 3 == 2 {
        Value::Array(items.to_vec())
    } else {
        json!({"items": items})
    };
    match style % 3 {
        0 => serde_json::to_string_pretty(&doc).unwrap() + "\n",
        1 => serde_json::to_string(&doc).unwrap(),
        _ => serde_json::to_string_pretty(&doc)
            .unwrap()
            .replace('\n', "\r\n"),
    }
}

fn errors_of(base: Option<&str>, current: &str) -> Vec<(String, Option<String>)> {
    let input = Input {
        path: "run_queue.json",
        current: Some(current.as_bytes()),
        base: base.map(|b| ("HEAD", b.as_bytes())),
    };
    let report = lint(&input, &settings());
    for d in &report.diagnostics {
        let text = if d.location.side == runqlint::rules::Side::Current {
            current
        } else {
            base.unwrap()
        };
        assert!(d.location.span.end <= text.len(), "{d:?}");
        assert!(
            d.location.line >= 1 && d.location.line <= text.lines().count().max(1),
            "{d:?}"
        );
    }
    report
        .diagnostics
        .iter()
        .map(|d| (d.rule.name().to_string(), d.item_id.clone()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(base in proptest::collection::vec(any::<u8>(), 0..300), new in proptest::collection::vec(any::<u8>(), 0..300)) {
        let input = Input { path: "q.json", current: Some(&new), base: Some(("HEAD", &base)) };
        let _ = lint(&input, &settings());
    }

    #[test]
    fn random_edits_of_a_valid_queue_never_panic(items in arb_queue(), style in 0u8..3, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)) {
        let base = render(&items, style);
        let mut bytes = base.clone().into_bytes();
        for (at, byte, op) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => { bytes.remove(i); }
                _ => bytes.insert(i, byte),
            }
        }
        let input = Input { path: "q.json", current: Some(&bytes), base: Some(("HEAD", base.as_bytes())) };
        let report = lint(&input, &settings());
        for d in &report.diagnostics {
            prop_assert!(d.location.line >= 1);
        }
    }

    #[test]
    fn history_rules_match_the_transition_model(base in arb_queue(), moves in proptest::collection::vec(0..6usize, 12), keep in proptest::collection::vec(any::<bool>(), 12), style in 0u8..3) {
        let mut now: Vec<Value> = Vec::new();
        let mut expect: Vec<(String, String)> = Vec::new();
        for (i, item) in base.iter().enumerate() {
            let id = item["id"].as_str().unwrap().to_string();
            if !keep[i] && i % 2 == 0 {
                expect.push(("item-deleted".into(), id));
                continue;
            }
            let mut next = item.clone();
            let was = Status::parse(item["status"].as_str().unwrap()).unwrap();
            let to = Status::parse(STATUSES[moves[i]]).unwrap();
            next["status"] = json!(to.as_str());
            if to == Status::Stale && next.get("triage").is_none() {
                next["triage"] = json!({"status": "needs_review"});
            }
            if was.is_terminal() && was != to {
                expect.push(("terminal-status-changed".into(), id));
            } else if !was.may_become(to) {
                expect.push(("invalid-transition".into(), id));
            }
            now.push(next);
        }
        let base_text = render(&base, style);
        let now_text = render(&now, style);
        let mut got: Vec<(String, String)> = errors_of(Some(&base_text), &now_text)
            .into_iter()
            .filter(|(r, _)| ["item-deleted", "terminal-status-changed", "invalid-transition"].contains(&r.as_str()))
            .map(|(r, id)| (r, id.unwrap()))
            .collect();
        got.sort();
        expect.sort();
        prop_assert_eq!(got, expect);
    }
}
