//! `dis`: see crates/brine-fuzz/src/dis.rs for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| brine_fuzz::dis::run(data));
