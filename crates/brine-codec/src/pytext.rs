//! CPython's text parsers, byte for byte: the functions the unpicklers and pickletools call
//! on text-protocol arguments.
//!
//! The C unpickler does not use Python's `int()`/`float()` on INT and FLOAT lines: INT goes
//! through glibc's `strtol(s, &end, 0)` (so `010` is octal 8 and `0x10` is 16) and falls back
//! to `PyLong_FromString(s, NULL, 0)`; FLOAT uses `PyOS_string_to_double`, which rejects
//! leading whitespace and raises OverflowError on `1e500`. pickletools calls Python's own
//! `int(bytes)`/`float(bytes)`, which accept whitespace and underscores. Each parser here
//! names the C function it reproduces; the lines it is given are NUL-terminated in C (the
//! unpickler copies them), so "end of slice" plays the part of the terminating NUL.

use num_bigint::{BigInt, Sign};

/// Python's `Py_ISSPACE` (and C `isspace` in the C locale).
#[inline]
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

#[inline]
fn at(s: &[u8], i: usize) -> u8 {
    // Past the end reads the terminating NUL.
    s.get(i).copied().unwrap_or(0)
}

#[inline]
fn digit_value(b: u8) -> u32 {
    // CPython's _PyLong_DigitValue: 0-9, a-z/A-Z as 10-35, everything else 37.
    match b {
        b'0'..=b'9' => (b - b'0') as u32,
        b'a'..=b'z' => (b - b'a') as u32 + 10,
        b'A'..=b'Z' => (b - b'A') as u32 + 10,
        _ => 37,
    }
}

/// The result of glibc `strtol(s, &end, 0)`.
pub struct Strtol {
    /// The converted value (saturated on overflow).
    pub value: i64,
    /// Index of `*endptr`.
    pub end: usize,
    /// Whether errno was set to ERANGE.
    pub overflow: bool,
}

/// glibc `strtol(s, &end, 0)` (glibc 2.36: no `0b` prefix).
pub fn c_strtol_base0(s: &[u8]) -> Strtol {
    c_strtol(s, 0)
}

/// glibc `strtol(s, &end, base)` for base 0 (C prefixes: `0x` hex, `0` octal; glibc 2.36
/// has no `0b`) or base 10 (CPython 3.14's INT, gh-126992).
pub fn c_strtol(s: &[u8], radix: u32) -> Strtol {
    debug_assert!(radix == 0 || radix == 10, "only bases 0 and 10 are modelled");
    let mut i = 0;
    while is_space(at(s, i)) {
        i += 1;
    }
    let mut neg = false;
    if at(s, i) == b'-' {
        neg = true;
        i += 1;
    } else if at(s, i) == b'+' {
        i += 1;
    }
    let base: u32;
    if radix == 10 {
        base = 10;
    } else if at(s, i) == b'0' {
        if at(s, i + 1).eq_ignore_ascii_case(&b'x') {
            i += 2;
            base = 16;
        } else {
            base = 8;
        }
    } else {
        base = 10;
    }
    let start = i;
    let mut acc: u128 = 0;
    let mut overflow = false;
    while digit_value(at(s, i)) < base {
        if !overflow {
            acc = acc * base as u128 + digit_value(at(s, i)) as u128;
            if acc > (i64::MAX as u128) + 1 {
                overflow = true;
            }
        }
        i += 1;
    }
    if i == start {
        // No digits. "0x" followed by a non-hex digit converts the "0" and ends at the 'x'.
        let end = if base == 16 { start - 1 } else { 0 };
        return Strtol { value: 0, end, overflow: false };
    }
    let limit = if neg { (i64::MAX as u128) + 1 } else { i64::MAX as u128 };
    if overflow || acc > limit {
        return Strtol { value: if neg { i64::MIN } else { i64::MAX }, end: i, overflow: true };
    }
    let v = if neg { (acc as i128).wrapping_neg() as i64 } else { acc as i64 };
    Strtol { value: v, end: i, overflow: false }
}

/// A parsed integer.
#[derive(Clone, Debug, PartialEq)]
pub enum PyInt {
    /// Fits in i64.
    Small(i64),
    /// Does not.
    Big(BigInt),
}

/// Why `PyLong_FromString` failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntError {
    /// `ValueError: invalid literal for int()`.
    Invalid,
    /// `ValueError: Exceeds the limit (4300 digits) for integer string conversion`.
    TooManyDigits,
}

/// CPython's default `sys.int_info.default_max_str_digits`.
pub const INT_MAX_STR_DIGITS: usize = 4300;

/// CPython `PyLong_FromString(s, &end, base)` for base 0 or 10. Returns the value and the
/// index where parsing stopped (after trailing whitespace), which must be the NUL (end of
/// input or an embedded NUL) for success when the caller passes `pend == NULL`.
pub fn py_long_from_string(s: &[u8], base0: bool) -> Result<(PyInt, usize), IntError> {
    py_long_from_string_limited(s, base0, Some(INT_MAX_STR_DIGITS))
}

/// [`py_long_from_string`] with the decimal digit limit given: `None` for an interpreter
/// without one (CPython before gh-95778, such as 3.9.2).
pub fn py_long_from_string_limited(
    s: &[u8],
    base0: bool,
    max_digits: Option<usize>,
) -> Result<(PyInt, usize), IntError> {
    let mut i = 0;
    while at(s, i) != 0 && is_space(at(s, i)) {
        i += 1;
    }
    let mut neg = false;
    if at(s, i) == b'+' {
        i += 1;
    } else if at(s, i) == b'-' {
        neg = true;
        i += 1;
    }
    let mut error_if_nonzero = false;
    let mut base = 10u32;
    if base0 {
        if at(s, i) != b'0' {
            base = 10;
        } else {
            match at(s, i + 1) {
                b'x' | b'X' => base = 16,
                b'o' | b'O' => base = 8,
                b'b' | b'B' => base = 2,
                _ => {
                    error_if_nonzero = true;
                    base = 10;
                }
            }
        }
    }
    if at(s, i) == b'0' {
        let p = at(s, i + 1).to_ascii_lowercase();
        if (base == 16 && p == b'x') || (base == 8 && p == b'o') || (base == 2 && p == b'b') {
            i += 2;
            if at(s, i) == b'_' {
                i += 1;
            }
        }
    }
    if at(s, i) == b'_' {
        return Err(IntError::Invalid);
    }
    let start = i;
    let mut digits = Vec::new();
    let mut prev = 0u8;
    while digit_value(at(s, i)) < base || at(s, i) == b'_' {
        let c = at(s, i);
        if c == b'_' {
            if prev == b'_' {
                return Err(IntError::Invalid);
            }
        } else {
            digits.push(digit_value(c) as u8);
        }
        prev = c;
        i += 1;
    }
    if prev == b'_' {
        return Err(IntError::Invalid);
    }
    if base == 10 && max_digits.is_some_and(|m| digits.len() > m) {
        return Err(IntError::TooManyDigits);
    }
    if i == start {
        return Err(IntError::Invalid);
    }
    let mag = BigInt::from_radix_be(Sign::Plus, &digits, base).unwrap_or_default();
    if error_if_nonzero && mag != BigInt::default() {
        return Err(IntError::Invalid);
    }
    while at(s, i) != 0 && is_space(at(s, i)) {
        i += 1;
    }
    let v = if neg { -mag } else { mag };
    let v = match i64::try_from(&v) {
        Ok(x) => PyInt::Small(x),
        Err(_) => PyInt::Big(v),
    };
    Ok((v, i))
}

/// The exception `PyLong_FromString(s, NULL, base)` raises on a bad literal: its message
/// embeds the first 200 bytes (up to a NUL) decoded as UTF-8, and when that decode fails the
/// UnicodeDecodeError escapes instead of the ValueError.
pub fn long_error_is_unicode(s: &[u8]) -> bool {
    let n = s.iter().position(|&b| b == 0).unwrap_or(s.len()).min(200);
    std::str::from_utf8(&s[..n]).is_err()
}

/// Python's `int(b)` for a bytes object (`_PyLong_FromBytes`, base 10): whitespace,
/// underscores and leading zeros allowed, everything consumed, 4300-digit limit.
pub fn py_int_from_bytes(b: &[u8]) -> Result<PyInt, IntError> {
    match py_long_from_string(b, false) {
        Ok((v, end)) if end == b.len() => Ok(v),
        Ok(_) => Err(IntError::Invalid),
        Err(e) => Err(e),
    }
}

/// Why a float text was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FloatError {
    /// ValueError.
    Invalid,
    /// OverflowError (only where CPython passes an overflow exception).
    Overflow,
}

/// `_PyOS_ascii_strtod`: Python's dtoa grammar, then inf/nan words. Returns the value, the
/// end index (0 when nothing parsed) and whether it overflowed to infinity.
pub fn py_ascii_strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = 0;
    if matches!(at(s, i), b'+' | b'-') {
        i += 1;
    }
    let sign_end = i;
    let mut nd = 0;
    while at(s, i).is_ascii_digit() {
        i += 1;
        nd += 1;
    }
    if at(s, i) == b'.' {
        i += 1;
        while at(s, i).is_ascii_digit() {
            i += 1;
            nd += 1;
        }
    }
    if nd == 0 {
        // Not a number: maybe inf/nan.
        let rest = &s[sign_end.min(s.len())..];
        let neg = at(s, 0) == b'-';
        let lower: Vec<u8> = rest.iter().take(8).map(|b| b.to_ascii_lowercase()).collect();
        if lower.starts_with(b"inf") {
            let n = if lower.starts_with(b"infinity") { 8 } else { 3 };
            let v = if neg { f64::NEG_INFINITY } else { f64::INFINITY };
            return (v, sign_end + n, false);
        }
        if lower.starts_with(b"nan") {
            let v = if neg { -f64::NAN } else { f64::NAN };
            return (v, sign_end + 3, false);
        }
        return (-1.0, 0, false);
    }
    let mantissa_end = i;
    if matches!(at(s, i), b'e' | b'E') {
        let mut j = i + 1;
        if matches!(at(s, j), b'+' | b'-') {
            j += 1;
        }
        let ds = j;
        while at(s, j).is_ascii_digit() {
            j += 1;
        }
        if j > ds {
            i = j;
        }
    }
    let text = std::str::from_utf8(&s[..i]).expect("ascii");
    // Rust's parser is correctly rounded, as dtoa is; it wants a digit before an exponent
    // and no leading '+' issues ("+.5" and "5." parse fine).
    let v: f64 = match text.parse() {
        Ok(v) => v,
        Err(_) => {
            // Forms like "5.e3" are valid for dtoa; Rust accepts them too, so this is only
            // reached on pathological lengths: fall back to the mantissa alone.
            std::str::from_utf8(&s[..mantissa_end]).unwrap().parse().unwrap_or(0.0)
        }
    };
    (v, i, v.is_infinite())
}

/// The C unpickler's FLOAT: `PyOS_string_to_double(s, &end, PyExc_OverflowError)` then the
/// end must be the newline or a NUL.
pub fn c_load_float(line: &[u8]) -> Result<f64, FloatError> {
    let (v, end, overflow) = py_ascii_strtod(line);
    if end == 0 {
        return Err(FloatError::Invalid);
    }
    if overflow {
        return Err(FloatError::Overflow);
    }
    match at(line, end) {
        b'\n' | 0 => Ok(v),
        _ => Err(FloatError::Invalid),
    }
}

/// Python's `float(b)` for bytes: strip whitespace, underscores only between digits, the
/// whole text consumed, overflow gives inf.
pub fn py_float_from_bytes(b: &[u8]) -> Result<f64, FloatError> {
    let mut s = 0;
    let mut e = b.len();
    while s < e && is_space(b[s]) {
        s += 1;
    }
    if s == e {
        return Err(FloatError::Invalid);
    }
    while e > s + 1 && is_space(b[e - 1]) {
        e -= 1;
    }
    let mut t = b[s..e].to_vec();
    if t.contains(&b'_') {
        let mut out = Vec::with_capacity(t.len());
        for (k, &c) in t.iter().enumerate() {
            if c == b'_' {
                let ok = k > 0
                    && t[k - 1].is_ascii_digit()
                    && t.get(k + 1).is_some_and(|n| n.is_ascii_digit());
                if !ok {
                    return Err(FloatError::Invalid);
                }
            } else {
                out.push(c);
            }
        }
        t = out;
    }
    let (v, end, _) = py_ascii_strtod(&t);
    if end == 0 || end != t.len() {
        return Err(FloatError::Invalid);
    }
    Ok(v)
}

/// Why an escape decode failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EscapeError {
    /// A backslash at the very end.
    TrailingBackslash,
    /// `\x` not followed by two hex digits.
    BadHex,
}

/// `_PyBytes_DecodeEscape` (used by STRING and `codecs.escape_decode`).
pub fn bytes_decode_escape(s: &[u8]) -> Result<Vec<u8>, EscapeError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            return Err(EscapeError::TrailingBackslash);
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b't' => out.push(9),
            b'n' => out.push(10),
            b'r' => out.push(13),
            b'v' => out.push(11),
            b'a' => out.push(7),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + (d - b'0') as u32;
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                if i + 1 < s.len() {
                    let (d1, d2) = (digit_value(s[i]), digit_value(s[i + 1]));
                    if d1 < 16 && d2 < 16 {
                        out.push((d1 * 16 + d2) as u8);
                        i += 2;
                        continue;
                    }
                }
                return Err(EscapeError::BadHex);
            }
            _ => {
                out.push(b'\\');
                i -= 1;
            }
        }
    }
    Ok(out)
}

/// `PyUnicode_DecodeRawUnicodeEscape` (strict): latin-1 bytes plus `\uXXXX` and
/// `\UXXXXXXXX` escapes. Returns the str or the error message.
pub fn raw_unicode_escape_decode(s: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != b'\\' {
            push_char(&mut out, c as u32);
            continue;
        }
        let Some(&e) = s.get(i) else {
            push_char(&mut out, b'\\' as u32);
            break;
        };
        i += 1;
        let (count, msg) = match e {
            b'u' => (4, "truncated \\uXXXX escape"),
            b'U' => (8, "truncated \\UXXXXXXXX escape"),
            _ => {
                push_char(&mut out, b'\\' as u32);
                push_char(&mut out, e as u32);
                continue;
            }
        };
        let mut ch: u32 = 0;
        for _ in 0..count {
            let Some(&d) = s.get(i) else { return Err(msg) };
            let v = digit_value(d);
            if v >= 16 {
                return Err(msg);
            }
            ch = (ch << 4) | v;
            i += 1;
        }
        if ch > 0x10FFFF {
            return Err("\\Uxxxxxxxx out of range");
        }
        push_char(&mut out, ch);
    }
    Ok(out)
}

/// Appends one code point (surrogates included) in generalized UTF-8.
pub fn push_char(out: &mut Vec<u8>, c: u32) {
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.extend_from_slice(&[0xC0 | (c >> 6) as u8, 0x80 | (c & 0x3F) as u8]);
    } else if c < 0x10000 {
        out.extend_from_slice(&[
            0xE0 | (c >> 12) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    } else {
        out.extend_from_slice(&[
            0xF0 | (c >> 18) as u8,
            0x80 | ((c >> 12) & 0x3F) as u8,
            0x80 | ((c >> 6) & 0x3F) as u8,
            0x80 | (c & 0x3F) as u8,
        ]);
    }
}

/// Latin-1 bytes as a str.
pub fn latin1_decode(s: &[u8]) -> Vec<u8> {
    if s.is_ascii() {
        return s.to_vec();
    }
    let mut out = Vec::with_capacity(s.len() * 2);
    for &b in s {
        push_char(&mut out, b as u32);
    }
    out
}

/// UTF-8 with the 'surrogatepass' handler: valid UTF-8 plus encoded surrogates
/// (ED A0..BF 80..BF), the generalized-UTF-8 form brine stores strs in.
pub fn utf8_surrogatepass_ok(s: &[u8]) -> bool {
    crate::utf8::surrogatepass_ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtol_matches_glibc_cases() {
        let r = c_strtol_base0(b"010\n");
        assert_eq!((r.value, r.end), (8, 3));
        let r = c_strtol_base0(b"0x10\n");
        assert_eq!((r.value, r.end), (16, 4));
        let r = c_strtol_base0(b"0x\n");
        assert_eq!((r.value, r.end), (0, 1));
        let r = c_strtol_base0(b" -5\n");
        assert_eq!((r.value, r.end), (-5, 3));
        let r = c_strtol_base0(b"-\n");
        assert_eq!(r.end, 0);
        let r = c_strtol_base0(b"99999999999999999999\n");
        assert!(r.overflow);
        let r = c_strtol_base0(b"-9223372036854775808\n");
        assert!(!r.overflow);
        assert_eq!(r.value, i64::MIN);
    }

    #[test]
    fn pylong_rules() {
        assert_eq!(py_long_from_string(b"1_000\n", true).unwrap().0, PyInt::Small(1000));
        assert!(py_long_from_string(b"010\n", true).is_err());
        assert_eq!(py_long_from_string(b"000\n", true).unwrap().0, PyInt::Small(0));
        assert_eq!(py_long_from_string(b"010\n", false).unwrap().0, PyInt::Small(10));
        assert_eq!(py_long_from_string(b"0x_ff\n", true).unwrap().0, PyInt::Small(255));
        assert!(py_long_from_string(b"1__0\n", true).is_err());
        assert!(py_long_from_string(b"1_\n", true).is_err());
        assert_eq!(py_int_from_bytes(b" 12 ").unwrap(), PyInt::Small(12));
        assert!(py_int_from_bytes(b"1\x00").is_err());
        let many = vec![b'1'; 4301];
        assert_eq!(py_int_from_bytes(&many), Err(IntError::TooManyDigits));
    }

    #[test]
    fn floats() {
        assert_eq!(c_load_float(b"1.5\n"), Ok(1.5));
        assert_eq!(c_load_float(b" 1.5\n"), Err(FloatError::Invalid));
        assert_eq!(c_load_float(b"1e500\n"), Err(FloatError::Overflow));
        assert_eq!(c_load_float(b"1e-500\n"), Ok(0.0));
        assert_eq!(c_load_float(b"-Infinity\n"), Ok(f64::NEG_INFINITY));
        assert!(c_load_float(b"nan\n").unwrap().is_nan());
        assert_eq!(c_load_float(b".5\n"), Ok(0.5));
        assert_eq!(c_load_float(b"5.\n"), Ok(5.0));
        assert_eq!(c_load_float(b"1e\n"), Err(FloatError::Invalid));
        assert_eq!(c_load_float(b"1.5\x00junk\n"), Ok(1.5));
        assert_eq!(py_float_from_bytes(b" 1_0.5 "), Ok(10.5));
        assert_eq!(py_float_from_bytes(b"1e500"), Ok(f64::INFINITY));
    }

    #[test]
    fn escapes() {
        assert_eq!(bytes_decode_escape(br"a\n\x41\101\q").unwrap(), b"a\nAA\\q");
        assert_eq!(bytes_decode_escape(br"\x4"), Err(EscapeError::BadHex));
        assert_eq!(bytes_decode_escape(b"\\"), Err(EscapeError::TrailingBackslash));
        assert_eq!(bytes_decode_escape(br"\777").unwrap(), vec![0xff]);
        assert_eq!(raw_unicode_escape_decode(br"\u00e9\\x").unwrap(), "é\\\\x".as_bytes());
        assert!(raw_unicode_escape_decode(br"\u12").is_err());
        assert!(utf8_surrogatepass_ok(b"a\xed\xa0\x80b"));
        assert!(!utf8_surrogatepass_ok(b"\xff"));
    }
}
