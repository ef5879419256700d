//! Inputs for the targets outside libFuzzer: seed corpora and the `#[test]` inputs.
//!
//! Pickle-input targets take corpus/*.pkl as they are. Smith-input targets take bytes that
//! pickle-smith turns into values or pickles: [`smith_seeds`] makes them from a fixed
//! SplitMix64 stream (no fuzzer bytes are committed: they would rot whenever the generator
//! changes, while these are made afresh from the generator of the day).

use std::path::{Path, PathBuf};

/// `n` deterministic generator inputs for `target`, of lengths 16 bytes to 8 KiB (small
/// ones make small values, which libFuzzer grows; large ones exercise the maximums).
pub fn smith_seeds(target: &str, n: usize) -> Vec<Vec<u8>> {
    let mut state = target.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| h.rotate_left(5) ^ b as u64);
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..n)
        .map(|i| {
            let len = 16usize << (i % 10);
            (0..len).map(|_| next() as u8).collect()
        })
        .collect()
}

/// The workspace's corpus/ directory.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus")
}

/// Every `*.pkl` under `dir`, sorted by name.
pub fn pickles(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pkl"))
        .collect();
    v.sort();
    Ok(v)
}
