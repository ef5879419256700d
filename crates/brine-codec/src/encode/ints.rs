//! Numbers and bools, as `save_long`, `save_float` and `save_bool` write them.
//!
//! - an int in the signed 32-bit range: BININT1 (0..=255), BININT2 (256..=65535) or BININT
//!   from protocol 1, `I<decimal>\n` at protocol 0;
//! - a larger int: LONG1/LONG4 with the shortest two's-complement bytes from protocol 2,
//!   `L<decimal>L\n` below (and, like CPython 3.11, a ValueError beyond 4300 digits; 3.9
//!   has no limit);
//! - a float: BINFLOAT (big-endian IEEE 754, NaN payloads kept) from protocol 1,
//!   `F<repr>\n` at protocol 0;
//! - a bool: NEWTRUE/NEWFALSE from protocol 2, `I01\n`/`I00\n` below.

use super::framing::Output;
use super::EncodeErrorCode;
use crate::json::float_repr;
use crate::opcodes::Opcode;
use crate::value::Value;
use num_bigint::BigInt;

use crate::python::Python;

#[inline]
pub(crate) fn write_bool(out: &mut Output, proto: u8, b: bool) {
    if proto >= 2 {
        out.op(if b { Opcode::NEWTRUE } else { Opcode::NEWFALSE });
    } else {
        out.put(if b { *b"I01\n" } else { *b"I00\n" });
    }
}

#[inline(always)]
pub(crate) fn write_float(out: &mut Output, proto: u8, f: f64) {
    if proto >= 1 {
        // The double's big-endian bytes.
        out.put(header!(BINFLOAT, u64::from_le_bytes(f.to_be_bytes())));
    } else {
        write_float_text(out, f);
    }
}

/// Protocol 0's FLOAT: `F`, the repr, a newline.
#[cold]
fn write_float_text(out: &mut Output, f: f64) {
    out.write(format!("F{}\n", float_repr(f)).as_bytes());
}

#[inline(always)]
pub(crate) fn write_i64(out: &mut Output, proto: u8, i: i64) {
    if proto >= 1 && (0..=0xFFFF).contains(&i) {
        // BININT1 / BININT2: the opcode, then the value's low bytes.
        if i <= 0xFF {
            out.put(header!(BININT1, i));
        } else {
            out.put(header!(BININT2, i));
        }
        return;
    }
    write_i64_wide(out, proto, i);
}

/// `write_i64` beyond BININT1/BININT2.
fn write_i64_wide(out: &mut Output, proto: u8, i: i64) {
    if let Ok(v) = i32::try_from(i) {
        if proto >= 1 {
            out.put(header!(BININT, v));
        } else {
            out.write(format!("I{v}\n").as_bytes());
        }
    } else if proto >= 2 {
        let b = i.to_le_bytes();
        let n = shortest_twos_complement(&b);
        let h = header!(LONG1, n);
        let mut buf = [0u8; ATOM_MAX];
        buf[..h.len()].copy_from_slice(&h);
        buf[h.len()..h.len() + n].copy_from_slice(&b[..n]);
        out.put_prefix(buf, h.len() + n);
    } else {
        out.write(format!("L{i}L\n").as_bytes());
    }
}

/// Most bytes [`atom_binary`] writes.
pub(crate) const ATOM_MAX: usize = 10;

/// An int in 0..=0xFFFF as BININT1 or BININT2 (protocol 1+): four bytes of which the
/// first two or three are the opcode, chosen without a branch (in a list of small numbers
/// the two are mixed at random, and a mispredicted branch costs more than the rest).
#[inline(always)]
pub(crate) fn small_int_binary(v: Value) -> Option<([u8; 4], usize)> {
    // The opcode and its argument's width, from the table: BININT2 is BININT1 + 2, with
    // one byte more.
    const ONE: usize = 1 + Opcode::BININT1.layout().width();
    const TWO: usize = 1 + Opcode::BININT2.layout().width();
    const _: () = assert!(Opcode::BININT2.0 == Opcode::BININT1.0 + 2 && TWO == ONE + 1 && TWO <= 4);
    match v {
        Value::Int(i) if i as u64 <= 0xFFFF => {
            let wide = (i > 0xFF) as u32;
            let word = (Opcode::BININT1.0 as u32 + 2 * wide) | ((i as u32) << 8);
            Some((word.to_le_bytes(), ONE + wide as usize))
        }
        _ => None,
    }
}

/// The bytes `save()` writes for an atom at protocol 2 or higher (where every atom has a
/// fixed binary form), in a fixed-size array with their length; `None` for an object.
#[inline(always)]
pub(crate) fn atom_binary(v: Value) -> Option<([u8; ATOM_MAX], usize)> {
    let mut b = [0u8; ATOM_MAX];
    if let Some((word, n)) = small_int_binary(v) {
        b[..4].copy_from_slice(&word);
        return Some((b, n));
    }
    let n = match v {
        Value::Int(i) => {
            if let Ok(x) = i32::try_from(i) {
                let h = header!(BININT, x);
                b[..h.len()].copy_from_slice(&h);
                h.len()
            } else {
                let le = i.to_le_bytes();
                let n = shortest_twos_complement(&le);
                let h = header!(LONG1, n);
                b[..h.len()].copy_from_slice(&h);
                b[h.len()..h.len() + le.len()].copy_from_slice(&le);
                h.len() + n
            }
        }
        Value::Float(f) => {
            // The double's big-endian bytes.
            let h = header!(BINFLOAT, u64::from_le_bytes(f.to_be_bytes()));
            b[..h.len()].copy_from_slice(&h);
            h.len()
        }
        Value::Bool(t) => {
            b[0] = if t { Opcode::NEWTRUE.0 } else { Opcode::NEWFALSE.0 };
            1
        }
        Value::None => {
            b[0] = Opcode::NONE.0;
            1
        }
        Value::Obj(_) => return None,
    };
    Some((b, n))
}

/// Length of the shortest prefix of little-endian two's-complement `b` with the same value.
fn shortest_twos_complement(b: &[u8]) -> usize {
    let mut n = b.len();
    while n > 1 {
        let (top, next) = (b[n - 1], b[n - 2]);
        if (top == 0 && next & 0x80 == 0) || (top == 0xFF && next & 0x80 != 0) {
            n -= 1;
        } else {
            break;
        }
    }
    n
}

/// An int held as a BigInt (any size). Its protocol 0-1 text is subject to `python`'s
/// int/str digit limit (none in 3.9, which predates gh-95778).
pub(crate) fn write_bigint(out: &mut Output, proto: u8, v: &BigInt, python: Python) -> Result<(), EncodeErrorCode> {
    if let Ok(i) = i64::try_from(v) {
        write_i64(out, proto, i);
        return Ok(());
    }
    if proto >= 2 {
        let mut b = v.to_signed_bytes_le();
        let n = shortest_twos_complement(&b);
        b.truncate(n);
        if n > 0x7fff_ffff {
            return Err(EncodeErrorCode::Overflow("int too large to pickle".into()));
        }
        if n < 256 {
            out.write(&header!(LONG1, n));
        } else {
            out.write(&header!(LONG4, n));
        }
        out.write(&b);
    } else {
        let text = v.to_string();
        let digits = text.len() - text.starts_with('-') as usize;
        if let Some(max) = python.int_max_str_digits().filter(|&m| digits > m) {
            return Err(EncodeErrorCode::Value(format!(
                "Exceeds the limit ({max} digits) for integer string conversion; \
                 use sys.set_int_max_str_digits() to increase the limit"
            )));
        }
        out.write(b"L");
        out.write(text.as_bytes());
        out.write(b"L\n");
    }
    Ok(())
}

/// `str(int)` for protocol 0 persistent ids, with the same digit limit.
pub(crate) fn int_text(v: &BigInt, python: Python) -> Result<String, EncodeErrorCode> {
    let text = v.to_string();
    if let Some(max) = python.int_max_str_digits().filter(|&m| text.len() - text.starts_with('-') as usize > m) {
        return Err(EncodeErrorCode::Value(format!(
            "Exceeds the limit ({max} digits) for integer string conversion"
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long1(i: i64) -> Vec<u8> {
        let mut o = Output::new();
        write_i64(&mut o, 2, i);
        o.finish()
    }

    #[test]
    fn long1_bytes_are_shortest() {
        assert_eq!(long1(1 << 31), b"\x8a\x05\x00\x00\x00\x80\x00");
        assert_eq!(long1(-(1 << 31) - 1), b"\x8a\x05\xff\xff\xff\x7f\xff");
        assert_eq!(long1(i64::MIN), b"\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80");
        assert_eq!(long1(-1), b"J\xff\xff\xff\xff");
    }
}
