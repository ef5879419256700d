//! The disassembler: the opcode stream exactly as `pickletools.genops` yields it.
//!
//! genops is what most pickle scanners are built on, and it reads arguments differently
//! from the unpicklers (Python's `int()`/`float()`, escape-decoded GLOBAL lines, no FRAME
//! checks), so brine reproduces it separately rather than deriving it from the decoder.
//! Streams stop at the first STOP, like genops.

use crate::hex;
use crate::json::write::float_repr;
use crate::opcodes::{split_arg, ArgError, ArgKind, Layout, Opcode};
use crate::pytext::{self, PyInt};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt::Write;

/// An opcode argument as genops yields it.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// No argument.
    None,
    /// An int.
    Int(PyInt),
    /// `True`/`False` (INT/GET/PUT lines "01"/"00").
    Bool(bool),
    /// A str (generalized UTF-8, lone surrogates allowed).
    Str(Vec<u8>),
    /// bytes.
    Bytes(Vec<u8>),
    /// bytearray (BYTEARRAY8).
    ByteArray(Vec<u8>),
    /// A float.
    Float(f64),
}

/// One opcode of the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct DisOp {
    /// The opcode.
    pub op: Opcode,
    /// Its argument.
    pub arg: Arg,
    /// Offset of the opcode byte.
    pub pos: usize,
}

/// Why genops stopped early: the exception class, message and position.
#[derive(Clone, Debug, PartialEq)]
pub struct DisError {
    /// `ValueError` or `UnicodeDecodeError`.
    pub kind: &'static str,
    /// genops' message (informative).
    pub message: String,
    /// Offset of the opcode being read (the input length when it ran out before STOP).
    pub pos: usize,
}

/// A disassembly: the ops read, and the error that ended it early, if any.
#[derive(Clone, Debug, Default)]
pub struct Disassembly {
    /// Ops in stream order, up to and including STOP.
    pub ops: Vec<DisOp>,
    /// Set when genops raised.
    pub error: Option<DisError>,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

type R<T> = Result<T, (&'static str, String)>;

fn verr<T>(m: impl Into<String>) -> R<T> {
    Err(("ValueError", m.into()))
}

/// `codecs.escape_decode(data)[0].decode("ascii")`.
fn escape_ascii(data: &[u8]) -> R<Vec<u8>> {
    let d = pytext::bytes_decode_escape(data).map_err(|e| ("ValueError", format!("{e:?}")))?;
    if !d.is_ascii() {
        return Err(("UnicodeDecodeError", "'ascii' codec can't decode byte".into()));
    }
    Ok(d)
}

/// pickletools' `read_stringnl(f, decode=True, stripquotes)` of a line (newline dropped).
fn stringnl(mut data: &[u8], stripquotes: bool) -> R<Vec<u8>> {
    if stripquotes {
        let q = match data.first() {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return verr("no string quotes around the argument"),
        };
        if data.last() != Some(&q) {
            return verr("string quote not found at both ends");
        }
        data = if data.len() >= 2 { &data[1..data.len() - 1] } else { &[] };
    }
    escape_ascii(data)
}

fn int_arg(b: &[u8]) -> R<Arg> {
    match pytext::py_int_from_bytes(b) {
        Ok(v) => Ok(Arg::Int(v)),
        Err(_) => verr("invalid literal for int() with base 10"),
    }
}

/// A line without its newline.
fn text(line: &[u8]) -> &[u8] {
    &line[..line.len() - 1]
}

/// The pickletools reader of an integer of `width` bytes (a fixed argument or a length).
fn int_reader(width: usize, signed: bool) -> &'static str {
    match (width, signed) {
        (1, _) => "uint1",
        (2, _) => "uint2",
        (4, true) => "int4",
        (4, false) => "uint4",
        _ => "uint8",
    }
}

/// genops' error for an argument [`split_arg`] could not find, as pickletools words it.
fn arg_error(kind: ArgKind, e: ArgError, start: usize, data_len: usize) -> (&'static str, String) {
    let name = kind.name();
    let m = match (e, kind.layout()) {
        (ArgError::Truncated { .. }, Layout::Fixed { .. }) => format!("not enough data in stream to read {name}"),
        // The length itself ran out.
        (ArgError::Truncated { at, .. }, Layout::Counted { width, signed }) if at == start => {
            format!("not enough data in stream to read {}", int_reader(width as usize, signed))
        }
        (ArgError::Truncated { .. }, _) if matches!(kind, ArgKind::Long1 | ArgKind::Long4) => {
            format!("not enough data in stream to read {name}")
        }
        (ArgError::Truncated { at, needed }, _) => {
            format!("expected {needed} bytes in a {name}, but only {} remain", data_len - at)
        }
        (ArgError::NegativeLength(n), _) => format!("{name} byte count < 0: {n}"),
        (ArgError::AboveMaxsize(n), _) => format!("{name} byte count > sys.maxsize: {n}"),
        (ArgError::NoNewline { .. }, _) => {
            let what = if kind == ArgKind::UnicodeStringNl { "unicodestringnl" } else { "stringnl" };
            format!("no newline found when trying to read {what}")
        }
    };
    ("ValueError", m)
}

fn read_arg(r: &mut Reader, kind: ArgKind) -> R<Arg> {
    let layout = kind.layout();
    let a = match split_arg(r.data, r.pos, layout) {
        Ok(a) => a,
        Err(e) => {
            // GLOBAL/INST: genops decodes the first line before it reads the second.
            if let (ArgError::NoNewline { at }, ArgKind::StringNlNoescapePair) = (e, kind) {
                if at > r.pos {
                    stringnl(text(&r.data[r.pos..at]), false)?;
                }
            }
            let err = arg_error(kind, e, r.pos, r.data.len());
            r.pos = r.data.len();
            return Err(err);
        }
    };
    r.pos = a.end;
    let int = |b: &[u8]| -> PyInt {
        let v = layout.int_value(b);
        match i64::try_from(v) {
            Ok(i) => PyInt::Small(i),
            Err(_) => PyInt::Big(v.into()),
        }
    };
    Ok(match kind {
        ArgKind::None => Arg::None,
        ArgKind::Uint1 | ArgKind::Uint2 | ArgKind::Int4 | ArgKind::Uint4 | ArgKind::Uint8 => Arg::Int(int(a.bytes)),
        ArgKind::StringNl => Arg::Str(stringnl(text(a.bytes), true)?),
        ArgKind::StringNlNoescape => Arg::Str(stringnl(text(a.bytes), false)?),
        ArgKind::StringNlNoescapePair => {
            let mut m = stringnl(text(a.bytes), false)?;
            let n = stringnl(text(a.second), false)?;
            m.push(b' ');
            m.extend_from_slice(&n);
            Arg::Str(m)
        }
        ArgKind::String1 | ArgKind::String4 => Arg::Str(pytext::latin1_decode(a.bytes)),
        ArgKind::Bytes1 | ArgKind::Bytes4 | ArgKind::Bytes8 => Arg::Bytes(a.bytes.to_vec()),
        ArgKind::Bytearray8 => Arg::ByteArray(a.bytes.to_vec()),
        ArgKind::UnicodeStringNl => Arg::Str(
            pytext::raw_unicode_escape_decode(text(a.bytes)).map_err(|m| ("UnicodeDecodeError", m.to_string()))?,
        ),
        ArgKind::UnicodeString1 | ArgKind::UnicodeString4 | ArgKind::UnicodeString8 => {
            if !pytext::utf8_surrogatepass_ok(a.bytes) {
                return Err(("UnicodeDecodeError", "'utf-8' codec can't decode bytes".into()));
            }
            Arg::Str(a.bytes.to_vec())
        }
        ArgKind::DecimalNlShort => match text(a.bytes) {
            b"00" => Arg::Bool(false),
            b"01" => Arg::Bool(true),
            l => int_arg(l)?,
        },
        ArgKind::DecimalNlLong => {
            let l = text(a.bytes);
            int_arg(l.strip_suffix(b"L").unwrap_or(l))?
        }
        ArgKind::FloatNl => match pytext::py_float_from_bytes(text(a.bytes)) {
            Ok(f) => Arg::Float(f),
            Err(_) => return verr("could not convert string to float"),
        },
        ArgKind::Float8 => Arg::Float(f64::from_be_bytes(a.bytes.try_into().expect("the table's width"))),
        ArgKind::Long1 | ArgKind::Long4 => {
            let b = num_bigint::BigInt::from_signed_bytes_le(a.bytes);
            Arg::Int(match i64::try_from(&b) {
                Ok(i) => PyInt::Small(i),
                Err(_) => PyInt::Big(b),
            })
        }
    })
}

/// `pickletools.genops(data)`, collected.
pub fn genops(data: &[u8]) -> Disassembly {
    let mut r = Reader { data, pos: 0 };
    let mut out = Disassembly::default();
    loop {
        let pos = r.pos;
        let Some(&code) = data.get(pos) else {
            out.error = Some(DisError { kind: "ValueError", message: "pickle exhausted before seeing STOP".into(), pos });
            return out;
        };
        r.pos += 1;
        let op = Opcode(code);
        let Some(info) = op.info() else {
            out.error = Some(DisError {
                kind: "ValueError",
                message: format!("at position {pos}, opcode b'\\x{code:02x}' unknown"),
                pos,
            });
            return out;
        };
        match read_arg(&mut r, info.arg) {
            Ok(arg) => out.ops.push(DisOp { op, arg, pos }),
            Err((kind, message)) => {
                out.error = Some(DisError { kind, message, pos });
                return out;
            }
        }
        if op == Opcode::STOP {
            return out;
        }
    }
}

// JSON. The types serialize themselves (serde, written out by serde_json) rather than
// through a `serde_json::Value`: a disassembly can have millions of ops, and a value tree
// of them costs 20-40 times the serialization itself.

/// A [`Display`](std::fmt::Display) value serialized as a JSON string.
struct Text<T>(T);

impl<T: std::fmt::Display> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A pickle JSON atom, `{"t": t, key: v}`.
fn atom<S: Serializer, V: Serialize + ?Sized>(s: S, t: &str, key: &str, v: &V) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(2))?;
    m.serialize_entry("t", t)?;
    m.serialize_entry(key, v)?;
    m.end()
}

/// An argument as a pickle JSON atom (or `null`). A str holding a lone surrogate (not
/// UTF-8) is `"hex"` of its bytes, as a str node is written.
impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::None => s.serialize_unit(),
            Arg::Int(PyInt::Small(i)) => atom(s, "int", "v", &Text(i)),
            Arg::Int(PyInt::Big(b)) => atom(s, "int", "v", &Text(b)),
            Arg::Bool(b) => atom(s, "bool", "v", b),
            Arg::Str(b) => match std::str::from_utf8(b) {
                Ok(t) => atom(s, "str", "v", t),
                Err(_) => atom(s, "str", "hex", &hex::encode(b)),
            },
            Arg::Bytes(b) => atom(s, "bytes", "v", &hex::encode(b)),
            Arg::ByteArray(b) => atom(s, "bytearray", "v", &hex::encode(b)),
            Arg::Float(f) => atom(s, "float", "v", &float_repr(*f)),
        }
    }
}

/// `{"op", "arg", "pos"}`.
impl Serialize for DisOp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("op", self.op.name().unwrap_or("?"))?;
        m.serialize_entry("arg", &self.arg)?;
        m.serialize_entry("pos", &self.pos)?;
        m.end()
    }
}

/// `{"t": "error", "type", "message", "pos"}`.
impl Serialize for DisError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("t", "error")?;
        m.serialize_entry("type", self.kind)?;
        m.serialize_entry("message", &self.message)?;
        m.serialize_entry("pos", &self.pos)?;
        m.end()
    }
}

/// The spec's opcode-stream JSON array: the ops, then the error when genops raised.
impl Serialize for Disassembly {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.ops.len() + usize::from(self.error.is_some())))?;
        for o in &self.ops {
            seq.serialize_element(o)?;
        }
        if let Some(e) = &self.error {
            seq.serialize_element(e)?;
        }
        seq.end()
    }
}

impl Disassembly {
    /// The opcode-stream JSON array (see the [`Serialize`] impl) as text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a disassembly serializes")
    }

    /// The opcode-stream JSON array as a value.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a disassembly serializes")
    }

    /// A listing in the manner of `python3 -m pickletools`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut marks: Vec<usize> = Vec::new();
        let mut memo_len = 0usize;
        let mut maxproto = 0u8;
        for o in &self.ops {
            let info = o.op.info().unwrap();
            maxproto = maxproto.max(info.proto);
            let code = py_byte_repr(o.op.0);
            let closes_mark = matches!(info.stack.pops, crate::opcodes::Pops::Mark(_));
            let mut note = None;
            if closes_mark {
                note = Some(match marks.pop() {
                    Some(p) => format!("(MARK at {p})"),
                    None => "no MARK exists on stack".into(),
                });
            }
            if o.op == Opcode::MEMOIZE {
                note = Some(format!("(as {memo_len})"));
            }
            if info.writes_memo() {
                memo_len += 1;
            }
            let _ = write!(out, "{:5}: {:<4} {}{}", o.pos, code, "    ".repeat(marks.len()), info.name);
            if o.arg != Arg::None || note.is_some() {
                out.push_str(&" ".repeat(10usize.saturating_sub(info.name.len())));
                if o.arg != Arg::None {
                    out.push(' ');
                    out.push_str(&py_arg_repr(&o.arg));
                }
                if let Some(n) = note {
                    out.push(' ');
                    out.push_str(&n);
                }
            }
            out.push('\n');
            if o.op == Opcode::MARK {
                marks.push(o.pos);
            }
        }
        if let Some(e) = &self.error {
            let _ = writeln!(out, "{}: {} (at byte {})", e.kind, e.message, e.pos);
        } else {
            let _ = writeln!(out, "highest protocol among opcodes = {maxproto}");
        }
        out
    }
}

fn py_byte_repr(b: u8) -> String {
    match b {
        b'\\' => "\\\\".into(),
        b'\'' => "\\'".into(),
        b'\n' => "\\n".into(),
        b'\r' => "\\r".into(),
        b'\t' => "\\t".into(),
        0x20..=0x7e => (b as char).to_string(),
        _ => format!("\\x{b:02x}"),
    }
}

/// Python's `repr()` of a genops argument.
pub fn py_arg_repr(a: &Arg) -> String {
    match a {
        Arg::None => "None".into(),
        Arg::Int(PyInt::Small(i)) => i.to_string(),
        Arg::Int(PyInt::Big(b)) => b.to_string(),
        Arg::Bool(b) => if *b { "True" } else { "False" }.into(),
        Arg::Float(f) => float_repr(*f),
        Arg::Bytes(b) => format!("b'{}'", b.iter().map(|&x| py_byte_repr(x)).collect::<String>()),
        Arg::ByteArray(b) => format!("bytearray(b'{}')", b.iter().map(|&x| py_byte_repr(x)).collect::<String>()),
        Arg::Str(s) => {
            let t = String::from_utf8_lossy(s);
            let q = if t.contains('\'') && !t.contains('"') { '"' } else { '\'' };
            let mut out = String::new();
            out.push(q);
            for c in t.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c == q => {
                        out.push('\\');
                        out.push(c);
                    }
                    c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                        let _ = write!(out, "\\x{:02x}", c as u32);
                    }
                    c => out.push(c),
                }
            }
            out.push(q);
            out
        }
    }
}
