//! `differential`: see crates/brine-fuzz/src/differential.rs for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(init: brine_fuzz::init(), |data: &[u8]| brine_fuzz::differential::run(data));
