//! Property tests over the library: generated queues and random edits never make `lint`
//! panic, every location is inside the text, the history rules agree with a model of the
//! allowed transitions, and the fast-path scanner never accepts what the schema rejects,
//! whichever field of the schema is mutated and how.

use proptest::prelude::*;
use serde_json::{json, Value};

use runqlint::config::Levels;
use runqlint::lint::{lint, Input, Settings};
use runqlint::queue::{Status, ValueQueue};
use runqlint::scan;

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

/// Values to put in a field: right and wrong types, integers and floats, negative, zero and
/// out-of-range numbers, empty and escaped strings, arrays and objects of either.
const MUTATIONS: [&str; 26] = [
    "5",
    "0",
    "1",
    "-1",
    "1.5",
    "1.0",
    "-0",
    "1e3",
    "1772064000000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "\"\"",
    "\"x\"",
    "\"\\u0078\"",
    "\"running\"",
    "\"needs_review\"",
    "null",
    "true",
    "[]",
    "[\"a\"]",
    "[\"\"]",
    "[1]",
    "{}",
    "{\"a\": 1}",
    "{\"startedAtMs\": -1}",
];

/// Every field of `$defs/item`, `$defs/run` and `$defs/triage` as `(object, name)`, read
/// from the schema itself (not from the scanner's field table, which it checks).
fn schema_fields() -> Vec<(&'static str, String)> {
    let schema: Value = serde_json::from_str(runqlint::schema::SCHEMA_TEXT).unwrap();
    let mut fields = Vec::new();
    for place in ["item", "run", "triage"] {
        let properties = schema["$defs"][place]["properties"].as_object().unwrap();
        fields.extend(properties.keys().map(|name| (place, name.clone())));
    }
    fields
}

/// A queue whose first item has the given fields (`(object, name, value)`), plus a plain
/// second item. `id` and `status` are valid unless given.
fn queue_with(fields: &[(&str, &str, &str)], wrap: bool) -> String {
    let given = |name: &str| fields.iter().any(|&(p, n, _)| p == "item" && n == name);
    let mut members: Vec<String> = Vec::new();
    if !given("id") {
        members.push("\"id\": \"a\"".into());
    }
    if !given("status") {
        members.push("\"status\": \"running\"".into());
    }
    let inner = |place: &str| -> Vec<String> {
        fields
            .iter()
            .filter(|&&(p, _, _)| p == place)
            .map(|(_, name, value)| format!("\"{name}\": {value}"))
            .collect()
    };
    members.extend(inner("item"));
    for place in ["run", "triage"] {
        let of = inner(place);
        if !of.is_empty() {
            members.push(format!("\"{place}\": {{{}}}", of.join(", ")));
        }
    }
    let list = format!(
        "[{{{}}}, {{\"id\": \"b\", \"status\": \"done\"}}]",
        members.join(", ")
    );
    if wrap {
        format!("{{\"items\": {list}}}")
    } else {
        list
    }
}

/// The slow path's verdict on valid JSON: jsonschema, and integer literals where the schema
/// wants integers.
fn schema_accepts(text: &str) -> bool {
    let doc: Value = serde_json::from_str(text).unwrap();
    let mut findings = Vec::new();
    runqlint::schema::check(&doc, &mut findings);
    runqlint::schema::check_integers(&ValueQueue::new(&doc), &mut findings);
    findings.is_empty()
}

/// Every field of the schema, set to every mutation, in both shapes: whenever the scanner
/// accepts, jsonschema accepts and the views agree (`scan::verify`). Each field has a
/// mutation the schema rejects (so the test can fail) and a value the scanner accepts (so
/// the fast path really reads that field).
#[test]
fn no_mutation_of_any_field_fools_the_scanner() {
    let fields = schema_fields();
    assert!(fields.len() >= 21, "{fields:?}");
    for (place, name) in &fields {
        let (mut rejected, mut fast) = (0, 0);
        for value in MUTATIONS {
            for wrap in [false, true] {
                let text = queue_with(&[(place, name, value)], wrap);
                let accepted = scan::verify(&text)
                    .unwrap_or_else(|why| panic!("{place}.{name} = {value}: {why}\n{text}"));
                let valid = schema_accepts(&text);
                assert!(valid || !accepted, "{text}");
                rejected += usize::from(!valid);
                fast += usize::from(accepted);
            }
        }
        assert!(rejected > 0, "no mutation of {place}.{name} is invalid");
        assert!(fast > 0, "no value of {place}.{name} takes the fast path");
    }
}

/// For each field of the schema, the mutations it accepts on their own.
type Valid = Vec<(&'static str, String, Vec<&'static str>)>;
static VALID: std::sync::LazyLock<Valid> = std::sync::LazyLock::new(|| {
    schema_fields()
        .into_iter()
        .map(|(place, name)| {
            let valid = MUTATIONS
                .into_iter()
                .filter(|v| schema_accepts(&queue_with(&[(place, &name, v)], false)))
                .collect();
            (place, name, valid)
        })
        .collect()
});

/// A field left out (often), given a value the schema accepts (mostly), or any mutation.
fn arb_choice() -> impl Strategy<Value = (u8, prop::sample::Index)> {
    (0u8..10, any::<prop::sample::Index>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, .. ProptestConfig::default() })]

    /// Items with many fields at once, mostly valid, some mutated: the scanner still never
    /// accepts what the schema rejects, and builds the same view when it accepts.
    #[test]
    fn mutated_items_never_fool_the_scanner(choices in proptest::collection::vec(arb_choice(), VALID.len()), wrap in any::<bool>()) {
        let mut fields: Vec<(&str, &str, &str)> = Vec::new();
        for ((place, name, valid), (roll, pick)) in VALID.iter().zip(&choices) {
            match roll {
                0..=3 => {}
                4..=8 if !valid.is_empty() => fields.push((place, name, valid[pick.index(valid.len())])),
                _ => fields.push((place, name, MUTATIONS[pick.index(MUTATIONS.len())])),
            }
        }
        let text = queue_with(&fields, wrap);
        if let Err(why) = scan::verify(&text) {
            prop_assert!(false, "{}: {}", why, text);
        }
    }
}
