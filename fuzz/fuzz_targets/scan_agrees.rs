//! Differential target for the fast path: whenever `scan::scan` accepts a text, the slow
//! path (serde_json + jsonschema) must find it strict JSON, without repeated keys, valid
//! for the schema, with integer times, and build the same view: every item's index, id,
//! status, every integer field of the field table and which fields are present, and the
//! item's bytes must parse to the item's value (`scan::verify`). A disagreement panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runqlint::scan;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(why) = scan::verify(text) {
        panic!("{why}");
    }
});
