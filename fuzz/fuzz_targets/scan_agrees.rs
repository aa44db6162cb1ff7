//! Differential target for the fast path: whenever `scan::scan` accepts a text, the slow
//! path (serde_json + jsonschema) must find it strict JSON, without repeated keys, valid
//! for the schema, with integer times. A disagreement panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runqlint::{document, queue::Queue, scan, schema};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(fast) = scan::scan(text) else { return };
    let parsed = document::parse(data).unwrap_or_else(|e| panic!("scan accepted invalid JSON: {e:?}"));
    assert!(!parsed.has_duplicate_keys, "scan accepted a repeated key");
    let mut findings = Vec::new();
    schema::check(&parsed.value, &mut findings);
    let slow = Queue::new(&parsed.value);
    schema::check_integers(&slow, &mut findings);
    assert!(findings.is_empty(), "scan accepted what the schema rejects: {findings:?}");
    assert_eq!(fast.items.len(), slow.items.len(), "different number of items");
    for (f, s) in fast.items.iter().zip(&slow.items) {
        assert_eq!((f.id, f.status), (s.id, s.status), "different item");
    }
});
