//! Shared by the tests: a seeded byte source, so every run (and every failure) replays.

#![allow(dead_code)]

/// splitmix64: a small deterministic PRNG.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A buffer of `lo..=hi` random bytes, to feed an `Unstructured`.
    pub fn bytes(&mut self, lo: usize, hi: usize) -> Vec<u8> {
        let n = lo + (self.next() % (hi - lo + 1) as u64) as usize;
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}
