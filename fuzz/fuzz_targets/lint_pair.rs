//! Arbitrary (base, new) byte pairs through the whole check: parse, schema, rules, locate,
//! and every output format. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runqlint::config::Levels;
use runqlint::lint::{lint, Input, Settings};
use runqlint::output::{self, Format};

fuzz_target!(|data: &[u8]| {
    // The first byte splits the input into the base and the new version.
    let Some((&split, rest)) = data.split_first() else { return };
    let at = (split as usize * rest.len()) / 255;
    let (base, new) = rest.split_at(at.min(rest.len()));
    let settings = Settings {
        levels: Levels::default(),
        now_ms: 1_795_564_800_000,
        stale_after_ms: 21_600_000,
    };
    let input = Input {
        path: "run_queue.json",
        current: Some(new),
        base: Some(("HEAD", base)),
    };
    let report = lint(&input, &settings);
    for format in [Format::Human, Format::Json, Format::Github, Format::Sarif] {
        let _ = output::render(format, std::slice::from_ref(&report));
    }
});
