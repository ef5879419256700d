//! `decode`: see crates/brine-fuzz/src/decode.rs for the property.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| brine_fuzz::decode::run(data));
