//! Hex, the one implementation every brine crate uses: pickle JSON's bytes and surrogate
//! strs, the `"pickle"` fields of conformance cases and adapter messages, reports.
//!
//! [`encode`] writes lowercase, as docs/pickle-json.md requires of every writer. [`decode`]
//! is strict about what it accepts (an even number of hex digits, nothing else: no sign, no
//! whitespace, no `0x`) but takes upper case as well as lower case, as brine's pickle JSON
//! reader always has: a document from another implementation that wrote `"v": "FF"` means
//! the byte 0xff, and rejecting it would only make that implementation's bug look like a
//! disagreement about the value.

use std::fmt;

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `bytes` as lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::new();
    encode_into(&mut s, bytes);
    s
}

/// Appends `bytes` as lowercase hex to `out` (the pickle JSON writer's path: megabytes of
/// bytes objects go through it).
pub fn encode_into(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    if bytes.len() <= 16 {
        for &b in bytes {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 15)]));
        }
        return;
    }
    // Longer runs are staged in a stack buffer and appended a chunk at a time: one length
    // update and one copy per 256 bytes instead of per digit (1.5-2x the speed of pushing
    // chars from 40 bytes on; the ASCII check costs little). Short ones do better without
    // the buffer.
    let mut buf = [0u8; 512];
    for chunk in bytes.chunks(buf.len() / 2) {
        for (pair, &b) in buf.chunks_exact_mut(2).zip(chunk) {
            pair[0] = DIGITS[usize::from(b >> 4)];
            pair[1] = DIGITS[usize::from(b & 15)];
        }
        out.push_str(std::str::from_utf8(&buf[..2 * chunk.len()]).expect("hex digits are ASCII"));
    }
}

/// Why a string is not hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HexError {
    /// An odd number of characters (the length is given).
    OddLength(usize),
    /// A character that is not a hex digit, at this byte offset.
    InvalidDigit {
        /// Byte offset of the character in the string.
        offset: usize,
        /// The character.
        found: char,
    },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HexError::OddLength(n) => write!(f, "odd number of hex digits ({n})"),
            HexError::InvalidDigit { offset, found } => write!(f, "not a hex digit: {found:?} at offset {offset}"),
        }
    }
}

impl std::error::Error for HexError {}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Hex (either case) to bytes; an error for an odd length or any character that is not a
/// hex digit.
pub fn decode(s: &str) -> Result<Vec<u8>, HexError> {
    let b = s.as_bytes();
    // A bad digit is reported before an odd length: it says more about what the text is.
    let bad = |offset: usize| HexError::InvalidDigit { offset, found: s[offset..].chars().next().unwrap_or('?') };
    let mut out = Vec::with_capacity(b.len() / 2);
    for (i, pair) in b.chunks(2).enumerate() {
        let hi = nibble(pair[0]).ok_or_else(|| bad(2 * i))?;
        let Some(&lo) = pair.get(1) else {
            return Err(HexError::OddLength(b.len()));
        };
        let lo = nibble(lo).ok_or_else(|| bad(2 * i + 1))?;
        out.push(hi << 4 | lo);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let all: Vec<u8> = (0..=255).collect();
        let h = encode(&all);
        assert_eq!(h.len(), 512);
        assert!(h.starts_with("000102") && h.ends_with("fdfeff"));
        assert_eq!(decode(&h).unwrap(), all);
        assert_eq!(encode(b""), "");
        assert_eq!(decode("").unwrap(), b"");
        // Longer than one staging chunk, not a multiple of it.
        let long: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        assert_eq!(decode(&encode(&long)).unwrap(), long);
    }

    #[test]
    fn encode_into_appends() {
        let mut s = String::from("x=");
        encode_into(&mut s, b"\x00\xab");
        encode_into(&mut s, b"");
        assert_eq!(s, "x=00ab");
    }

    #[test]
    fn upper_case_is_accepted_and_never_written() {
        assert_eq!(decode("ABcdEf").unwrap(), [0xab, 0xcd, 0xef]);
        assert_eq!(encode(&[0xab, 0xcd, 0xef]), "abcdef");
    }

    #[test]
    fn odd_length_is_an_error() {
        assert_eq!(decode("abc"), Err(HexError::OddLength(3)));
        assert_eq!(decode("0"), Err(HexError::OddLength(1)));
    }

    #[test]
    fn bad_digits_are_errors() {
        assert_eq!(decode("0g"), Err(HexError::InvalidDigit { offset: 1, found: 'g' }));
        // What `u8::from_str_radix` would let through: a sign, and blanks.
        assert_eq!(decode("+f"), Err(HexError::InvalidDigit { offset: 0, found: '+' }));
        assert_eq!(decode("00 1"), Err(HexError::InvalidDigit { offset: 2, found: ' ' }));
        assert_eq!(decode("0x00"), Err(HexError::InvalidDigit { offset: 1, found: 'x' }));
        // A multi-byte character is named whole, at its first byte.
        assert_eq!(decode("00é0"), Err(HexError::InvalidDigit { offset: 2, found: 'é' }));
        assert_eq!(decode("zzz"), Err(HexError::InvalidDigit { offset: 0, found: 'z' }));
        assert_eq!(decode("00é0").unwrap_err().to_string(), "not a hex digit: 'é' at offset 2");
        assert_eq!(decode("abc").unwrap_err().to_string(), "odd number of hex digits (3)");
    }
}
