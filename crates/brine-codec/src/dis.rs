//! The disassembler: the opcode stream exactly as `pickletools.genops` yields it.
//!
//! genops is what most pickle scanners are built on, and it reads arguments differently
//! from the unpicklers (Python's `int()`/`float()`, escape-decoded GLOBAL lines, no FRAME
//! checks), so brine reproduces it separately rather than deriving it from the decoder.
//! Streams stop at the first STOP, like genops.

use crate::json::write::{float_repr, write_json_str};
use crate::opcodes::{ArgKind, Opcode};
use crate::pytext::{self, PyInt};
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

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len() - self.pos);
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        s
    }
    fn fixed(&mut self, n: usize, what: &str) -> R<&'a [u8]> {
        let s = self.take(n);
        if s.len() != n {
            return verr(format!("not enough data in stream to read {what}"));
        }
        Ok(s)
    }
    fn uint(&mut self, n: usize, what: &str) -> R<u64> {
        let s = self.fixed(n, what)?;
        let mut x = 0u64;
        for (i, &b) in s.iter().enumerate() {
            x |= (b as u64) << (8 * i);
        }
        Ok(x)
    }
    fn int4(&mut self) -> R<i64> {
        Ok(self.uint(4, "int4")? as u32 as i32 as i64)
    }
    /// `f.readline()` then the newline check.
    fn line(&mut self, what: &str) -> R<&'a [u8]> {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => {
                self.pos = self.data.len();
                verr(format!("no newline found when trying to read {what}"))
            }
        }
    }
    fn counted(&mut self, n: u64, what: &str) -> R<&'a [u8]> {
        let s = self.take(n.min(usize::MAX as u64) as usize);
        if s.len() as u64 != n {
            return verr(format!("expected {n} bytes in a {what}, but only {} remain", s.len()));
        }
        Ok(s)
    }
}

/// `codecs.escape_decode(data)[0].decode("ascii")`.
fn escape_ascii(data: &[u8]) -> R<Vec<u8>> {
    let d = pytext::bytes_decode_escape(data).map_err(|e| ("ValueError", format!("{e:?}")))?;
    if !d.is_ascii() {
        return Err(("UnicodeDecodeError", "'ascii' codec can't decode byte".into()));
    }
    Ok(d)
}

/// pickletools' `read_stringnl(f, decode=True, stripquotes)`.
fn read_stringnl(r: &mut Reader, stripquotes: bool) -> R<Vec<u8>> {
    let mut data = r.line("stringnl")?;
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

fn read_arg(r: &mut Reader, kind: ArgKind) -> R<Arg> {
    Ok(match kind {
        ArgKind::None => Arg::None,
        ArgKind::Uint1 => Arg::Int(PyInt::Small(r.uint(1, "uint1")? as i64)),
        ArgKind::Uint2 => Arg::Int(PyInt::Small(r.uint(2, "uint2")? as i64)),
        ArgKind::Int4 => Arg::Int(PyInt::Small(r.int4()?)),
        ArgKind::Uint4 => Arg::Int(PyInt::Small(r.uint(4, "uint4")? as i64)),
        ArgKind::Uint8 => {
            let v = r.uint(8, "uint8")?;
            Arg::Int(match i64::try_from(v) {
                Ok(i) => PyInt::Small(i),
                Err(_) => PyInt::Big(v.into()),
            })
        }
        ArgKind::StringNl => Arg::Str(read_stringnl(r, true)?),
        ArgKind::StringNlNoescape => Arg::Str(read_stringnl(r, false)?),
        ArgKind::StringNlNoescapePair => {
            let mut a = read_stringnl(r, false)?;
            let b = read_stringnl(r, false)?;
            a.push(b' ');
            a.extend_from_slice(&b);
            Arg::Str(a)
        }
        ArgKind::String1 => {
            let n = r.uint(1, "uint1")?;
            Arg::Str(pytext::latin1_decode(r.counted(n, "string1")?))
        }
        ArgKind::String4 => {
            let n = r.int4()?;
            if n < 0 {
                return verr(format!("string4 byte count < 0: {n}"));
            }
            Arg::Str(pytext::latin1_decode(r.counted(n as u64, "string4")?))
        }
        ArgKind::Bytes1 => {
            let n = r.uint(1, "uint1")?;
            Arg::Bytes(r.counted(n, "bytes1")?.to_vec())
        }
        ArgKind::Bytes4 => {
            let n = r.uint(4, "uint4")?;
            Arg::Bytes(r.counted(n, "bytes4")?.to_vec())
        }
        ArgKind::Bytes8 | ArgKind::Bytearray8 => {
            let n = r.uint(8, "uint8")?;
            if n > i64::MAX as u64 {
                return verr(format!("bytes8 byte count > sys.maxsize: {n}"));
            }
            let b = r.counted(n, "bytes8")?.to_vec();
            if kind == ArgKind::Bytearray8 {
                Arg::ByteArray(b)
            } else {
                Arg::Bytes(b)
            }
        }
        ArgKind::UnicodeStringNl => {
            let l = r.line("unicodestringnl")?;
            Arg::Str(pytext::raw_unicode_escape_decode(l).map_err(|m| ("UnicodeDecodeError", m.to_string()))?)
        }
        ArgKind::UnicodeString1 | ArgKind::UnicodeString4 | ArgKind::UnicodeString8 => {
            let (w, what) = match kind {
                ArgKind::UnicodeString1 => (1, "unicodestring1"),
                ArgKind::UnicodeString4 => (4, "unicodestring4"),
                _ => (8, "unicodestring8"),
            };
            let n = r.uint(w, if w == 1 { "uint1" } else if w == 4 { "uint4" } else { "uint8" })?;
            if n > i64::MAX as u64 {
                return verr(format!("{what} byte count > sys.maxsize: {n}"));
            }
            let b = r.counted(n, what)?;
            if !pytext::utf8_surrogatepass_ok(b) {
                return Err(("UnicodeDecodeError", "'utf-8' codec can't decode bytes".into()));
            }
            Arg::Str(b.to_vec())
        }
        ArgKind::DecimalNlShort => {
            let l = r.line("stringnl")?;
            match l {
                b"00" => Arg::Bool(false),
                b"01" => Arg::Bool(true),
                _ => int_arg(l)?,
            }
        }
        ArgKind::DecimalNlLong => {
            let l = r.line("stringnl")?;
            int_arg(l.strip_suffix(b"L").unwrap_or(l))?
        }
        ArgKind::FloatNl => {
            let l = r.line("stringnl")?;
            match pytext::py_float_from_bytes(l) {
                Ok(f) => Arg::Float(f),
                Err(_) => return verr("could not convert string to float"),
            }
        }
        ArgKind::Float8 => {
            let s = r.fixed(8, "float8")?;
            Arg::Float(f64::from_be_bytes(s.try_into().unwrap()))
        }
        ArgKind::Long1 | ArgKind::Long4 => {
            let n = if kind == ArgKind::Long1 {
                r.uint(1, "uint1")? as i64
            } else {
                let n = r.int4()?;
                if n < 0 {
                    return verr(format!("long4 byte count < 0: {n}"));
                }
                n
            };
            let s = r.take(n as usize);
            if s.len() as i64 != n {
                return verr("not enough data in stream to read long");
            }
            let b = num_bigint::BigInt::from_signed_bytes_le(s);
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

fn write_pystr_json(out: &mut String, s: &[u8]) {
    match std::str::from_utf8(s) {
        Ok(t) => {
            out.push_str(r#"{"t":"str","v":"#);
            write_json_str(out, t);
            out.push('}');
        }
        Err(_) => {
            out.push_str(r#"{"t":"str","hex":""#);
            for b in s {
                let _ = write!(out, "{b:02x}");
            }
            out.push_str("\"}");
        }
    }
}

/// Appends an argument as a pickle JSON atom (or `null`).
pub fn write_arg_json(out: &mut String, arg: &Arg) {
    match arg {
        Arg::None => out.push_str("null"),
        Arg::Int(PyInt::Small(i)) => {
            let _ = write!(out, r#"{{"t":"int","v":"{i}"}}"#);
        }
        Arg::Int(PyInt::Big(b)) => {
            let _ = write!(out, r#"{{"t":"int","v":"{b}"}}"#);
        }
        Arg::Bool(b) => {
            let _ = write!(out, r#"{{"t":"bool","v":{b}}}"#);
        }
        Arg::Str(s) => write_pystr_json(out, s),
        Arg::Bytes(b) | Arg::ByteArray(b) => {
            out.push_str(if matches!(arg, Arg::Bytes(_)) { r#"{"t":"bytes","v":""# } else { r#"{"t":"bytearray","v":""# });
            for x in b {
                let _ = write!(out, "{x:02x}");
            }
            out.push_str("\"}");
        }
        Arg::Float(f) => {
            let _ = write!(out, r#"{{"t":"float","v":"{}"}}"#, float_repr(*f));
        }
    }
}

impl Disassembly {
    /// The spec's opcode-stream JSON array.
    pub fn to_json(&self) -> String {
        let mut out = String::from("[");
        for (i, o) in self.ops.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(r#"{"op":""#);
            out.push_str(o.op.name().unwrap_or("?"));
            out.push_str(r#"","arg":"#);
            write_arg_json(&mut out, &o.arg);
            let _ = write!(out, r#","pos":{}}}"#, o.pos);
        }
        if let Some(e) = &self.error {
            if !self.ops.is_empty() {
                out.push(',');
            }
            out.push_str(r#"{"t":"error","type":""#);
            out.push_str(e.kind);
            out.push_str(r#"","message":"#);
            write_json_str(&mut out, &e.message);
            let _ = write!(out, r#","pos":{}}}"#, e.pos);
        }
        out.push(']');
        out
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
            if matches!(o.op, Opcode::MEMOIZE | Opcode::PUT | Opcode::BINPUT | Opcode::LONG_BINPUT) {
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
