//! `roundtrip`: see crates/brine-fuzz/src/roundtrip.rs for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| brine_fuzz::roundtrip::run(data));
