//! `encode_exact`: see crates/brine-fuzz/src/encode_exact.rs for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(init: brine_fuzz::init(), |data: &[u8]| brine_fuzz::encode_exact::run(data));
