//! str, bytes and bytearray payloads, as `save_unicode` (`write_unicode_binary`,
//! `raw_unicode_escape`), `_save_bytes_data` and `_save_bytearray_data` write them.

use super::framing::Output;
use super::EncodeErrorCode;
use crate::opcodes::Opcode;
use crate::value::Blob;

/// A str (its surrogatepass UTF-8): SHORT_BINUNICODE (4+, up to 255 bytes), BINUNICODE,
/// BINUNICODE8 (4+); at protocol 0 UNICODE with the C pickler's raw-unicode-escape.
/// `lent`, when given, is `s` borrowed from the heap (see [`Output::write_payload`]).
#[inline(never)]
fn write_str<'h>(out: &mut Output<'h>, proto: u8, s: &[u8], lent: Option<&'h [u8]>) -> Result<(), EncodeErrorCode> {
    if proto == 0 {
        out.op(Opcode::UNICODE);
        out.write(&raw_unicode_escape(s));
        out.write(b"\n");
        return Ok(());
    }
    let n = s.len();
    let mut h = [0u8; LONGEST_HEADER];
    let hl = if n <= 0xff && proto >= 4 {
        put_header(&mut h, &header!(SHORT_BINUNICODE, n))
    } else if n <= 0xffff_ffff {
        put_header(&mut h, &header!(BINUNICODE, n))
    } else if proto >= 4 {
        put_header(&mut h, &header!(BINUNICODE8, n))
    } else {
        return Err(EncodeErrorCode::Overflow(
            "serializing a string larger than 4 GiB requires pickle protocol 4 or higher".into(),
        ));
    };
    out.write_payload(&h[..hl], s, lent);
    Ok(())
}

/// [`write_str`] of a str stored as a [`Blob`]: a short one (inline, so under 256 bytes)
/// at protocol 1+ is its header and its fixed-size inline block in one write.
#[inline]
pub(crate) fn write_str_blob<'h>(out: &mut Output<'h>, proto: u8, s: &Blob, lent: Option<&'h [u8]>) -> Result<(), EncodeErrorCode> {
    match s.inline_block() {
        Some((block, n)) if proto >= 4 => {
            const H: usize = header_len!(SHORT_BINUNICODE);
            out.put_prefix(with_header::<H, { H + Blob::INLINE }>(header!(SHORT_BINUNICODE, n), block), H + n)
        }
        Some((block, n)) if proto >= 1 => {
            const H: usize = header_len!(BINUNICODE);
            out.put_prefix(with_header::<H, { H + Blob::INLINE }>(header!(BINUNICODE, n), block), H + n)
        }
        _ => return write_str(out, proto, s, lent),
    }
    Ok(())
}

/// [`write_bytes`] of a bytes object stored as a [`Blob`] (protocol 3+): a short one is
/// SHORT_BINBYTES and its inline block in one write.
#[inline]
pub(crate) fn write_bytes_blob<'h>(out: &mut Output<'h>, proto: u8, b: &Blob, lent: Option<&'h [u8]>) -> Result<(), EncodeErrorCode> {
    match b.inline_block() {
        Some((block, n)) => {
            const H: usize = header_len!(SHORT_BINBYTES);
            out.put_prefix(with_header::<H, { H + Blob::INLINE }>(header!(SHORT_BINBYTES, n), block), H + n)
        }
        None => return write_bytes(out, proto, b, lent),
    }
    Ok(())
}

/// `header` followed by `block`, as one array of `H + Blob::INLINE` bytes.
#[inline(always)]
fn with_header<const H: usize, const N: usize>(header: [u8; H], block: &[u8; Blob::INLINE]) -> [u8; N] {
    const { assert!(N == H + Blob::INLINE) };
    let mut a = [0u8; N];
    a[..H].copy_from_slice(&header);
    a[H..].copy_from_slice(block);
    a
}

/// A bytes object from protocol 3: SHORT_BINBYTES, BINBYTES, BINBYTES8 (4+).
/// `lent`, when given, is `b` borrowed from the heap (see [`Output::write_payload`]).
#[inline(never)]
fn write_bytes<'h>(out: &mut Output<'h>, proto: u8, b: &[u8], lent: Option<&'h [u8]>) -> Result<(), EncodeErrorCode> {
    let n = b.len();
    let mut h = [0u8; LONGEST_HEADER];
    let hl = if n <= 0xff {
        put_header(&mut h, &header!(SHORT_BINBYTES, n))
    } else if n <= 0xffff_ffff {
        put_header(&mut h, &header!(BINBYTES, n))
    } else if proto >= 4 {
        put_header(&mut h, &header!(BINBYTES8, n))
    } else {
        return Err(EncodeErrorCode::Overflow(
            "serializing a bytes object larger than 4 GiB requires pickle protocol 4 or higher".into(),
        ));
    };
    out.write_payload(&h[..hl], b, lent);
    Ok(())
}

/// A bytearray at protocol 5: BYTEARRAY8.
pub(crate) fn write_bytearray(out: &mut Output, b: &[u8]) {
    out.write_payload(&header!(BYTEARRAY8, b.len()), b, None);
}

/// The longest header of a str or bytes: an 8-byte length (BINUNICODE8, BINBYTES8).
const LONGEST_HEADER: usize = header_len!(BINUNICODE8);

/// Copies `header` to the start of `h`; its length.
#[inline(always)]
fn put_header(h: &mut [u8; LONGEST_HEADER], header: &[u8]) -> usize {
    h[..header.len()].copy_from_slice(header);
    header.len()
}

/// The code points of surrogatepass UTF-8 (lone surrogates included).
pub(crate) fn code_points(s: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b0 = *s.get(i)? as u32;
        let (n, init) = match b0 {
            0..=0x7F => (1, b0),
            0xC0..=0xDF => (2, b0 & 0x1F),
            0xE0..=0xEF => (3, b0 & 0x0F),
            _ => (4, b0 & 0x07),
        };
        let mut c = init;
        for k in 1..n {
            c = (c << 6) | (s.get(i + k).copied().unwrap_or(0x80) as u32 & 0x3F);
        }
        i += n;
        Some(c)
    })
}

/// `raw_unicode_escape` of Modules/_pickle.c: `\Uxxxxxxxx` above the BMP, `\uxxxx` from
/// U+0100 and for backslash, NUL, newline, carriage return and U+001A; latin-1 bytes
/// otherwise. Hex digits are lowercase.
pub(crate) fn raw_unicode_escape(s: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let plain = |b: u8| b < 0x80 && !matches!(b, b'\\' | 0 | b'\n' | b'\r' | 0x1A);
    if s.iter().all(|&b| plain(b)) {
        return s.to_vec();
    }
    let mut out = Vec::with_capacity(s.len() + 16);
    for c in code_points(s) {
        if c >= 0x10000 {
            out.extend_from_slice(b"\\U");
            for k in (0..8).rev() {
                out.push(HEX[((c >> (4 * k)) & 0xF) as usize]);
            }
        } else if c >= 0x100 || matches!(c, 0x5C | 0 | 0x0A | 0x0D | 0x1A) {
            out.extend_from_slice(b"\\u");
            for k in (0..4).rev() {
                out.push(HEX[((c >> (4 * k)) & 0xF) as usize]);
            }
        } else {
            out.push(c as u8);
        }
    }
    out
}

/// The str `bytes.decode('latin-1')` makes: each byte one code point, as UTF-8.
pub(crate) fn latin1_to_utf8(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + b.len() / 2);
    for &x in b {
        if x < 0x80 {
            out.push(x);
        } else {
            out.push(0xC0 | (x >> 6));
            out.push(0x80 | (x & 0x3F));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_c_pickler() {
        let s = "a\\b\nc\rd\0e\u{1a}f\u{100}g\u{12345}h\u{e9}";
        assert_eq!(
            raw_unicode_escape(s.as_bytes()),
            b"a\\u005cb\\u000ac\\u000dd\\u0000e\\u001af\\u0100g\\U00012345h\xe9".to_vec()
        );
        // a lone surrogate (surrogatepass UTF-8 ed a0 80)
        assert_eq!(raw_unicode_escape(b"\xed\xa0\x80"), b"\\ud800".to_vec());
    }
}
