//! Validation of UTF-8 with Python's `surrogatepass` handler: valid UTF-8, plus encoded
//! lone surrogates (ED A0..BF 80..BF), which is what BINUNICODE carries.
//!
//! Text is checked 16 bytes at a time, in safe code:
//!
//! - a block of ASCII is skipped with one test;
//! - a block holding only ASCII and two-byte sequences (Latin-1, Greek, Cyrillic, Hebrew,
//!   Arabic... and protocol 2's `_codecs.encode(text, 'latin1')` bytes) is checked with a
//!   few word-wide bit operations (SWAR);
//! - anything else goes through a byte-at-a-time automaton ([`step`]), which is exact for
//!   every input and is what the fast paths fall back to.

/// Automaton states, as bit offsets into a [`TABLE`] row (multiples of 6). `ERR` is 0 so
/// that every row sends it to itself.
const ERR: u32 = 0;
/// Between characters: the only accepting state.
const ACC: u32 = 6;
/// One more continuation byte (80..BF) to go.
const CONT1: u32 = 12;
/// Two more continuation bytes to go.
const CONT2: u32 = 18;
/// After E0: A0..BF (no overlong forms), then one more.
const AFTER_E0: u32 = 24;
/// After F0: 90..BF (no overlong forms), then two more.
const AFTER_F0: u32 = 30;
/// After F1..F3: three continuation bytes.
const CONT3: u32 = 36;
/// After F4: 80..8F (nothing above U+10FFFF), then two more.
const AFTER_F4: u32 = 42;

/// `TABLE[byte] >> state & 63` is the next state. Surrogates are allowed, so ED is an
/// ordinary three-byte lead (E1..EF).
static TABLE: [u64; 256] = build_table();

const fn row(pairs: &[(u32, u32)]) -> u64 {
    let mut r = 0u64;
    let mut i = 0;
    while i < pairs.len() {
        r |= (pairs[i].1 as u64) << pairs[i].0;
        i += 1;
    }
    r
}

const fn build_table() -> [u64; 256] {
    let mut t = [0u64; 256];
    let mut b = 0usize;
    while b < 256 {
        t[b] = match b {
            0x00..=0x7F => row(&[(ACC, ACC)]),
            0x80..=0x8F => row(&[(CONT1, ACC), (CONT2, CONT1), (AFTER_F0, ERR), (CONT3, CONT2), (AFTER_F4, CONT2)]),
            0x90..=0x9F => row(&[(CONT1, ACC), (CONT2, CONT1), (AFTER_F0, CONT2), (CONT3, CONT2)]),
            0xA0..=0xBF => row(&[(CONT1, ACC), (CONT2, CONT1), (AFTER_E0, CONT1), (AFTER_F0, CONT2), (CONT3, CONT2)]),
            0xC2..=0xDF => row(&[(ACC, CONT1)]),
            0xE0 => row(&[(ACC, AFTER_E0)]),
            0xE1..=0xEF => row(&[(ACC, CONT2)]),
            0xF0 => row(&[(ACC, AFTER_F0)]),
            0xF1..=0xF3 => row(&[(ACC, CONT3)]),
            0xF4 => row(&[(ACC, AFTER_F4)]),
            _ => 0, // C0, C1, F5..FF: never valid
        };
        b += 1;
    }
    t
}

#[inline(always)]
fn step(state: u32, b: u8) -> u32 {
    ((TABLE[b as usize] >> state) & 63) as u32
}

const HI: u128 = u128::from_ne_bytes([0x80; 16]);
const LOW_1E: u128 = u128::from_ne_bytes([0x1E; 16]);
const ADD_7F: u128 = u128::from_ne_bytes([0x7F; 16]);

/// One 16-byte block holding only ASCII and two-byte sequences, from `state` (ACC or
/// CONT1); the state after it, or `None` when the block needs the automaton.
#[inline(always)]
fn two_byte_block(w: u128, state: u32) -> Option<u32> {
    // Bit 7 of each byte lane, then bits 6 and 5 moved up to bit 7 of the same lane.
    let b7 = w & HI;
    let b6 = (w << 1) & HI;
    let b5 = (w << 2) & HI;
    let cont = b7 & !b6; // 80..BF
    let lead = b7 & b6; // C0..FF
    let lead2 = lead & !b5; // C0..DF
    // Lanes whose bits 1..4 are all clear: among the C0..DF leads, the overlong C0 and C1.
    let nonzero_1_4 = ((w & LOW_1E) + ADD_7F) & HI;
    if lead & b5 != 0 || lead2 & !nonzero_1_4 != 0 {
        return None;
    }
    // Little-endian lanes: each lead's continuation is the lane above it; a block that
    // starts mid-character owes its first lane one.
    let carried = if state == CONT1 { 0x80 } else { 0 };
    if cont != (lead2 << 8) | carried {
        return None;
    }
    Some(if lead2 >> 127 != 0 { CONT1 } else { ACC })
}

/// Whether `s` is UTF-8 with encoded surrogates allowed.
pub fn surrogatepass_ok(s: &[u8]) -> bool {
    let mut state = ACC;
    let mut blocks = s.chunks_exact(16);
    for block in &mut blocks {
        let w = u128::from_le_bytes(block.try_into().expect("16 bytes"));
        if w & HI == 0 && state == ACC {
            continue;
        }
        if state == ACC || state == CONT1 {
            if let Some(next) = two_byte_block(w, state) {
                state = next;
                continue;
            }
        }
        for &b in block {
            state = step(state, b);
        }
        if state == ERR {
            return false;
        }
    }
    for &b in blocks.remainder() {
        state = step(state, b);
    }
    state == ACC
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: std's validator, skipping encoded surrogates.
    fn reference(s: &[u8]) -> bool {
        let mut rest = s;
        loop {
            match std::str::from_utf8(rest) {
                Ok(_) => return true,
                Err(e) => {
                    let t = &rest[e.valid_up_to()..];
                    if t.len() >= 3 && t[0] == 0xED && (0xA0..=0xBF).contains(&t[1]) && (0x80..=0xBF).contains(&t[2]) {
                        rest = &t[3..];
                    } else {
                        return false;
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_with_the_definition() {
        // Every 1-, 2- and 3-byte string, each at several offsets inside ASCII and Latin-1
        // context (so the block fast paths and block boundaries are crossed).
        let contexts: [&[u8]; 3] = [b"abcdefghijklmnopqrstuvwxyz0123", "é".repeat(15).as_bytes().to_vec().leak(), b""];
        let check = |mid: &[u8]| {
            for ctx in contexts {
                for cut in [0, 1, 7, 14, 15, 16, 17].into_iter().filter(|&c| c <= ctx.len()) {
                    let mut s = ctx[..cut].to_vec();
                    s.extend_from_slice(mid);
                    s.extend_from_slice(&ctx[cut..]);
                    assert_eq!(surrogatepass_ok(&s), reference(&s), "{s:x?}");
                }
            }
        };
        for a in 0..=255u8 {
            check(&[a]);
            for b in 0..=255u8 {
                check(&[a, b]);
            }
        }
        for a in [0x41, 0x80, 0xBF, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5] {
            for b in 0..=255u8 {
                for c in [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC3, 0xE0, 0xFF] {
                    check(&[a, b, c]);
                    check(&[a, b, c, 0x80]);
                    check(&[a, b, c, 0x80, 0x80]);
                }
            }
        }
    }

    #[test]
    fn agrees_on_random_mixtures() {
        // Valid pieces of every length (surrogates included) and stray bytes, in random
        // order, so characters straddle block boundaries at every offset.
        let pieces: [&[u8]; 10] =
            [b"a", b"\x7f", b"\xc3\xa9", b"\xdf\xbf", b"\xe2\x82\xac", b"\xed\xa0\x80", b"\xf0\x9f\x8e\x89", b"\xf4\x8f\xbf\xbf", b"\x80", b"\xc2"];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..50_000 {
            let mut s = vec![];
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (n, stray) = ((x % 40) as usize, x % 3 == 0);
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = (x % if stray { 10 } else { 8 }) as usize;
                s.extend_from_slice(pieces[k]);
            }
            assert_eq!(surrogatepass_ok(&s), reference(&s), "{s:x?}");
        }
    }

    #[test]
    fn long_mixed_text() {
        let text = "Grüße, Ελληνικά, русский, עברית, 中文, 🎉 and plain ASCII ".repeat(50);
        assert!(surrogatepass_ok(text.as_bytes()));
        let latin1: Vec<u8> = (0..=255u8).cycle().take(5000).flat_map(|b| (b as char).to_string().into_bytes()).collect();
        assert!(surrogatepass_ok(&latin1));
        let mut bad = latin1.clone();
        for i in (0..bad.len()).step_by(97) {
            let saved = bad[i];
            bad[i] = 0xC0;
            assert!(!surrogatepass_ok(&bad));
            bad[i] = saved;
        }
        assert!(surrogatepass_ok(b"\xed\xa0\x80 lone surrogate, \xed\xbf\xbf"));
    }
}
