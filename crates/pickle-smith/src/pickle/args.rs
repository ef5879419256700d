//! Opcode arguments: the values and text forms CPython's unpickler accepts, generated, and
//! their layout in the stream, read from the opcode table's [`ArgKind`].

use arbitrary::{Result, Unstructured};
use brine_codec::opcodes::{ArgKind, Layout};
use brine_codec::pytext::push_char;

/// An argument before layout; [`encode`] lays it out as the opcode's [`ArgKind`] says.
#[derive(Clone, Copy)]
pub(crate) enum Arg<'a> {
    None,
    /// A fixed-width integer (uint1/2/4/8, int4).
    Int(i64),
    /// A counted string/bytes/long body, or a line's text (without its newline).
    Data(&'a [u8]),
    /// Two lines (GLOBAL, INST).
    Lines(&'a [u8], &'a [u8]),
    /// An 8-byte float.
    Float(f64),
}

/// Appends `arg` laid out as `kind` says (its [`Layout`] in the opcode table). `claimed`
/// overrides a counted argument's length prefix (for the bad-length invalidity).
pub(crate) fn encode(out: &mut Vec<u8>, kind: ArgKind, arg: Arg, claimed: Option<i64>) {
    // A fixed integer or a length: its low `width` bytes, little-endian (two's complement,
    // so a negative claimed length is written as the unpicklers would read it back).
    let int = |out: &mut Vec<u8>, v: i64, width: u8| out.extend_from_slice(&v.to_le_bytes()[..width as usize]);
    match (kind.layout(), arg) {
        (Layout::None, Arg::None) => {}
        (Layout::Fixed { width, .. }, Arg::Int(v)) => int(out, v, width),
        (Layout::Fixed { width: 8, .. }, Arg::Float(f)) if kind == ArgKind::Float8 => out.extend_from_slice(&f.to_be_bytes()),
        (Layout::Counted { width, .. }, Arg::Data(d)) => {
            int(out, claimed.unwrap_or(d.len() as i64), width);
            out.extend_from_slice(d);
        }
        (Layout::Lines(1), Arg::Data(d)) => {
            out.extend_from_slice(d);
            out.push(b'\n');
        }
        (Layout::Lines(2), Arg::Lines(a, b)) => {
            for l in [a, b] {
                out.extend_from_slice(l);
                out.push(b'\n');
            }
        }
        _ => panic!("argument does not fit {}", kind.name()),
    }
}

/// True with probability about `n/d`; false once the input is used up (unlike
/// [`Unstructured::ratio`], which then says true), so loops on it end.
pub(crate) fn chance(u: &mut Unstructured, n: u32, d: u32) -> Result<bool> {
    Ok(!u.is_empty() && u.ratio(n, d)?)
}

/// A length in `0..=max`.
pub(crate) fn len(u: &mut Unstructured, max: usize) -> Result<usize> {
    u.int_in_range(0..=max)
}

/// One code point: mostly ASCII, some latin-1, BMP and astral, and lone surrogates when
/// `surrogates`.
pub(crate) fn code_point(u: &mut Unstructured, surrogates: bool) -> Result<u32> {
    Ok(match u.int_in_range(0..=15u8)? {
        0..=7 => u.int_in_range(0x20..=0x7e)?,
        8 => u.int_in_range(0..=0x1f)?,
        9 | 10 => u.int_in_range(0x7f..=0xff)?,
        11 | 12 => {
            let c = u.int_in_range(0x100..=0xf7ff)?;
            if c >= 0xd800 {
                c + 0x800
            } else {
                c
            }
        }
        13 | 14 => u.int_in_range(0x1_0000..=0x10_ffff)?,
        _ if surrogates => u.int_in_range(0xd800..=0xdfff)?,
        _ => 0xe9,
    })
}

/// A str in generalized UTF-8 (lone surrogates encoded one by one, as 'surrogatepass'
/// writes them), of at most `max_chars` code points and `max_bytes` bytes.
pub(crate) fn text(
    u: &mut Unstructured,
    max_chars: usize,
    max_bytes: usize,
    surrogates: bool,
) -> Result<Vec<u8>> {
    let n = len(u, max_chars)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let mut one = Vec::with_capacity(4);
        push_char(&mut one, code_point(u, surrogates)?);
        if out.len() + one.len() > max_bytes {
            break;
        }
        out.extend_from_slice(&one);
    }
    Ok(out)
}

/// Arbitrary bytes, at most `max`.
pub(crate) fn bytes(u: &mut Unstructured, max: usize) -> Result<Vec<u8>> {
    let n = len(u, max)?;
    let mut b = vec![0; n];
    u.fill_buffer(&mut b)?;
    Ok(b)
}

/// ASCII bytes (any of 0..=0x7f), at most `max`.
pub(crate) fn ascii(u: &mut Unstructured, max: usize) -> Result<Vec<u8>> {
    Ok(bytes(u, max)?.into_iter().map(|b| b & 0x7f).collect())
}

/// Decimal digits, the first non-zero, at most `max` (at least 1).
fn digits(u: &mut Unstructured, max: usize) -> Result<String> {
    let n = u.int_in_range(1..=max.max(1))?;
    let mut s = String::with_capacity(n);
    s.push(char::from(b'1' + u.int_in_range(0..=8u8)?));
    for _ in 1..n {
        s.push(char::from(b'0' + u.int_in_range(0..=9u8)?));
    }
    Ok(s)
}

/// Most decimal digits for an int of `max_bytes` bytes, within CPython's 4,300-digit limit
/// on int <-> str conversion.
pub(crate) fn max_digits(max_bytes: usize) -> usize {
    (max_bytes.saturating_mul(24) / 10 + 1).clamp(1, 4300)
}

/// An i64 drawn from small values, boundaries and the whole range.
pub(crate) fn int64(u: &mut Unstructured) -> Result<i64> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 | 1 => u.int_in_range(-5..=300)?,
        2 => u.int_in_range(-100_000..=100_000)?,
        3 => *u.choose(&[
            i64::MIN,
            i64::MAX,
            i32::MIN as i64,
            i32::MAX as i64,
            1 << 31,
            -(1 << 31) - 1,
            255,
            256,
            65535,
            65536,
        ])?,
        _ => u.arbitrary()?,
    })
}

/// Sign-extends a little-endian two's complement body of at most 8 bytes.
pub(crate) fn long_value(b: &[u8]) -> Option<i64> {
    if b.is_empty() {
        return Some(0);
    }
    if b.len() > 8 {
        return None;
    }
    let mut buf = [if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 }; 8];
    buf[..b.len()].copy_from_slice(b);
    Some(i64::from_le_bytes(buf))
}

/// What an INT line loads as.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Loads {
    /// An int, with its value when it fits an i64.
    Int(Option<i64>),
    /// A bool.
    Bool(bool),
}

/// An INT line (without its newline) and what it loads as.
///
/// The C unpickler reads it with `strtol(s, &end, 0)` (so hex, C octal, leading blanks and
/// signs), calls a two-character line of value 0 or 1 a bool ("00", "01", "+1", "-0"), and
/// falls back to `int(s, 0)` when strtol overflows or stops early (big ints, `1_000`,
/// `0b101`, trailing blanks).
pub(crate) fn int_line(u: &mut Unstructured, max_digits: usize) -> Result<(String, Loads)> {
    use Loads::{Bool, Int};
    let fixed = |s: &str, l: Loads| (s.to_string(), l);
    Ok(match u.int_in_range(0..=15u8)? {
        0..=6 => {
            let x = int64(u)?;
            (x.to_string(), Int(Some(x)))
        }
        7 => fixed("00", Bool(false)),
        8 => fixed("01", Bool(true)),
        9 => {
            let neg = u.arbitrary::<bool>()?;
            let d = digits(u, max_digits)?;
            let val = d.parse::<i64>().ok().map(|x| if neg { -x } else { x });
            (format!("{}{d}", if neg { "-" } else { "" }), Int(val))
        }
        10 => {
            let x = (u.int_in_range(2..=i64::MAX)? >> u.int_in_range(0..=62)?).max(2);
            (
                if u.arbitrary()? {
                    format!("0x{x:x}")
                } else {
                    format!("0X{x:X}")
                },
                Int(Some(x)),
            )
        }
        11 => {
            let x = u.int_in_range(2..=0o7777777)?;
            (format!("0{x:o}"), Int(Some(x)))
        }
        12 => {
            let (s, x) = *u.choose(&[
                (" 5", 5i64),
                ("\t7", 7),
                ("+42", 42),
                ("5 ", 5),
                ("-17 ", -17),
                ("  -3", -3),
            ])?;
            fixed(s, Int(Some(x)))
        }
        13 => {
            let (s, b) = *u.choose(&[("+1", true), ("-0", false), (" 1", true), ("+0", false)])?;
            fixed(s, Bool(b))
        }
        14 => {
            let (s, x) = *u.choose(&[
                ("1_000", 1000),
                ("0b101", 5),
                ("0o17", 15),
                ("0x_ff", 255),
                ("1 ", 1),
                ("0 ", 0),
            ])?;
            fixed(s, Int(Some(x)))
        }
        _ => {
            let x = *u.choose(&[i64::MIN, i64::MAX, i64::MIN + 1, 0, -1])?;
            (x.to_string(), Int(Some(x)))
        }
    })
}

/// A LONG line (without its newline) and its value when it fits an i64. CPython drops one
/// trailing `L` and reads the rest with `int(s, 0)`: no leading zeros, but signs, blanks,
/// underscores and 0x/0o/0b prefixes.
pub(crate) fn long_line(u: &mut Unstructured, max_digits: usize) -> Result<(String, Option<i64>)> {
    let (s, v) = match u.int_in_range(0..=10u8)? {
        0..=5 => {
            let x = int64(u)?;
            (x.to_string(), Some(x))
        }
        6 | 7 => {
            let neg = u.arbitrary::<bool>()?;
            let d = digits(u, max_digits)?;
            let val = d.parse::<i64>().ok().map(|x| if neg { -x } else { x });
            (format!("{}{d}", if neg { "-" } else { "" }), val)
        }
        8 => {
            let x = u.int_in_range(0..=i64::MAX)? >> u.int_in_range(0..=62)?;
            let s = match u.int_in_range(0..=2u8)? {
                0 => format!("0x{x:x}"),
                1 => format!("0o{x:o}"),
                _ => format!("0b{x:b}"),
            };
            (s, Some(x))
        }
        9 => {
            let (s, x) = *u.choose(&[
                ("00", 0i64),
                ("-0", 0),
                ("+7", 7),
                (" 5", 5),
                ("1_000_000", 1_000_000),
                ("0_0", 0),
            ])?;
            (s.to_string(), Some(x))
        }
        _ => {
            let x = *u.choose(&[i64::MIN, i64::MAX, 0])?;
            (x.to_string(), Some(x))
        }
    };
    Ok((if !chance(u, 1, 4)? { s + "L" } else { s }, v))
}

/// A double: special values, integers, subnormals, round decimals and arbitrary bits.
pub(crate) fn float(u: &mut Unstructured) -> Result<f64> {
    Ok(match u.int_in_range(0..=11u8)? {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => -0.0,
        4 => 0.0,
        5 => u.int_in_range(-1000i32..=1000)? as f64,
        6 => f64::from_bits(u.int_in_range(1..=0x000f_ffff_ffff_ffff)?),
        7 => *u.choose(&[
            1e16,
            1e22,
            1e-7,
            0.1,
            1.5,
            2.5e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            9007199254740993.0,
        ])?,
        8 => u.int_in_range(-1_000_000i32..=1_000_000)? as f64 / 1000.0,
        _ => f64::from_bits(u.arbitrary()?),
    })
}

/// A FLOAT line (without its newline): usually Python's `repr`, sometimes another spelling
/// `float()` accepts and the C unpickler's `PyOS_string_to_double` does too.
pub(crate) fn float_line(u: &mut Unstructured) -> Result<String> {
    if chance(u, 1, 6)? {
        return Ok(u
            .choose(&[
                "NaN", "-nan", "Infinity", "-INF", "+inf", ".5", "5.", "1E5", "-1e-5", "+1.25",
                "1e308", "4.9e-324", "00.5",
            ])?
            .to_string());
    }
    // Finite values that repr would write with an exponent too large for float() never occur:
    // repr round-trips.
    Ok(brine_codec::json::float_repr(float(u)?))
}

/// A STRING line, and whether the str it loads is non-empty (every piece of the literal
/// decodes to at least one character): a quoted literal whose escape-decoded body is ASCII. Only the first and
/// last characters are checked for quotes, so the other quote and even the same one may
/// appear unescaped inside.
pub(crate) fn string_literal(u: &mut Unstructured, max: usize) -> Result<(Vec<u8>, bool)> {
    let q = if u.arbitrary()? { b'\'' } else { b'"' };
    let mut s = vec![q];
    let n = len(u, max)?;
    for _ in 0..n {
        match u.int_in_range(0..=15u8)? {
            0..=8 => {
                let c = u.int_in_range(0x20..=0x7e)?;
                s.extend_from_slice(if c == b'\\' {
                    b"\\\\"
                } else {
                    std::slice::from_ref(&c)
                });
            }
            9 => {
                let c = u.int_in_range(0..=0x1fu8)?;
                s.push(if c == b'\n' { 0x7f } else { c });
            }
            10 | 11 => s.extend_from_slice(u.choose(&[
                &b"\\\\"[..],
                b"\\'",
                b"\\\"",
                b"\\n",
                b"\\t",
                b"\\r",
                b"\\a",
                b"\\b",
                b"\\f",
                b"\\v",
            ])?),
            12 => {
                let c = u.int_in_range(0..=0x7fu8)?;
                s.extend_from_slice(
                    if u.arbitrary()? {
                        format!("\\x{c:02x}")
                    } else {
                        format!("\\x{c:02X}")
                    }
                    .as_bytes(),
                );
            }
            13 => {
                let c = u.int_in_range(0..=0x7fu8)?;
                s.extend_from_slice(format!("\\{c:03o}").as_bytes());
            }
            14 => s.push(q),
            // An escape CPython does not know keeps its backslash (with a DeprecationWarning).
            _ => {
                s.push(b'\\');
                s.push(*u.choose(b"qzNcdegyw!#")?);
            }
        }
    }
    s.push(q);
    Ok((s, n > 0))
}

/// A UNICODE line, and whether its str is non-empty: raw-unicode-escape, i.e. latin-1 bytes with `\uXXXX` and `\UXXXXXXXX`
/// escapes (lone surrogates included); a backslash before anything else is itself. Never
/// holds a raw newline.
pub(crate) fn raw_unicode_escape(u: &mut Unstructured, max: usize) -> Result<(Vec<u8>, bool)> {
    let mut s = Vec::new();
    let n = len(u, max)?;
    let hex = |u: &mut Unstructured, v: u32, w: usize| -> Result<String> {
        Ok(if u.arbitrary()? {
            format!("{v:0w$x}")
        } else {
            format!("{v:0w$X}")
        })
    };
    for _ in 0..n {
        match u.int_in_range(0..=11u8)? {
            0..=4 => {
                let c = u.int_in_range(0x20..=0x7e)?;
                s.push(if c == b'\\' { b'/' } else { c });
            }
            5 => s.push(u.int_in_range(0x80..=0xff)?),
            6 => {
                let c = u.int_in_range(0..=0x1fu8)?;
                s.push(if c == b'\n' { b'\r' } else { c });
            }
            7 => {
                let v = u.int_in_range(0..=0xffff)?;
                let h = hex(u, v, 4)?;
                s.extend_from_slice(format!("\\u{h}").as_bytes());
            }
            8 => {
                let v = u.int_in_range(0..=0x10_ffff)?;
                let h = hex(u, v, 8)?;
                s.extend_from_slice(format!("\\U{h}").as_bytes());
            }
            9 => {
                let c = *u.choose(b"\\nxtN0a\"' ")?;
                s.push(b'\\');
                s.push(c);
            }
            // What CPython's protocol 0 writes for \, NUL, LF, CR and ^Z.
            _ => s.extend_from_slice(u.choose(&[
                &b"\\u005c"[..],
                b"\\u0000",
                b"\\u000a",
                b"\\u000d",
                b"\\u001a",
            ])?),
        }
    }
    if chance(u, 1, 20)? {
        s.push(b'\\');
    }
    let nonempty = !s.is_empty();
    Ok((s, nonempty))
}

/// A memo index line for PUT/GET (`int(s, 10)`: leading zeros, signs, blanks and
/// underscores are all fine).
pub(crate) fn memo_line(u: &mut Unstructured, idx: u32) -> Result<String> {
    Ok(match u.int_in_range(0..=11u8)? {
        0..=6 => idx.to_string(),
        7 => format!("00{idx}"),
        8 => format!("+{idx}"),
        9 => format!(" {idx} "),
        10 if idx >= 10 => {
            let d = idx.to_string();
            format!("{}_{}", &d[..1], &d[1..])
        }
        _ => format!("{idx}\t"),
    })
}

/// Python 3 and Python 2 names (the latter mapped by fix_imports below protocol 3).
const NAMES: &[(&str, &str)] = &[
    ("builtins", "list"),
    ("builtins", "set"),
    ("builtins", "getattr"),
    ("copyreg", "_reconstructor"),
    ("collections", "OrderedDict"),
    ("__main__", "Point"),
    ("__main__", "Outer.Inner"),
    ("os.path", "join"),
    ("__builtin__", "set"),
    ("__builtin__", "unicode"),
    ("copy_reg", "_reconstructor"),
    ("UserDict", "UserDict"),
    ("exceptions", "ValueError"),
    ("Queue", "Queue"),
];

/// Non-ASCII names (GLOBAL reads UTF-8; INST only ASCII).
const NAMES_UTF8: &[(&str, &str)] = &[
    ("modulé", "Naïve"),
    ("__main__", "λ"),
    ("пакет", "Класс.метод"),
];

/// A module and name for GLOBAL (`utf8`) or INST (ASCII): never empty, never a newline,
/// never `<locals>` (which protocol 4's find_class refuses).
pub(crate) fn global_name(u: &mut Unstructured, utf8: bool) -> Result<(String, String)> {
    Ok(match u.int_in_range(0..=9u8)? {
        0..=5 => {
            let (m, n) = *u.choose(NAMES)?;
            (m.into(), n.into())
        }
        6 if utf8 => {
            let (m, n) = *u.choose(NAMES_UTF8)?;
            (m.into(), n.into())
        }
        _ => (dotted(u)?, dotted(u)?),
    })
}

/// `ident(.ident)*`.
fn dotted(u: &mut Unstructured) -> Result<String> {
    let mut s = ident(u)?;
    while chance(u, 1, 4)? {
        s.push('.');
        s.push_str(&ident(u)?);
    }
    Ok(s)
}

fn ident(u: &mut Unstructured) -> Result<String> {
    const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
    const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    let mut s = String::new();
    s.push(char::from(*u.choose(FIRST)?));
    for _ in 0..len(u, 8)? {
        s.push(char::from(*u.choose(REST)?));
    }
    Ok(s)
}
