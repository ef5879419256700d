//! Numbers, bools and None: INT, BININT, BININT1, BININT2, LONG, LONG1, LONG4, FLOAT and
//! BINFLOAT (NONE, NEWTRUE and NEWFALSE are pushed by the dispatch itself).

use super::{Machine, R};
use crate::error::ErrorCode;
use crate::opcodes::{ArgError, Opcode};
use crate::pytext::{self, PyInt};
use crate::python::Python;
use crate::value::{Obj, Value};
use num_bigint::BigInt;

impl Machine<'_> {
    /// BININT: a signed 4-byte int.
    #[inline]
    pub(super) fn load_binint(&mut self) -> R<()> {
        let v = i32::from_le_bytes(self.fixed(Opcode::BININT)?);
        self.push(Value::Int(v as i64));
        Ok(())
    }

    /// BININT1: an unsigned byte.
    #[inline]
    pub(super) fn load_binint1(&mut self) -> R<()> {
        let v = u8::from_le_bytes(self.fixed(Opcode::BININT1)?);
        self.push(Value::Int(v as i64));
        Ok(())
    }

    /// BININT2: an unsigned 2-byte int.
    #[inline]
    pub(super) fn load_binint2(&mut self) -> R<()> {
        let v = u16::from_le_bytes(self.fixed(Opcode::BININT2)?);
        self.push(Value::Int(v as i64));
        Ok(())
    }

    /// BINFLOAT: a big-endian double.
    #[inline]
    pub(super) fn load_binfloat(&mut self) -> R<()> {
        let f = f64::from_be_bytes(self.fixed(Opcode::BINFLOAT)?);
        let v = self.float(f);
        self.push(v);
        Ok(())
    }

    /// INT: a decimal line, which may be a bool.
    #[inline(never)]
    pub(super) fn load_int(&mut self) -> R<()> {
        let line = self.line(Opcode::INT)?;
        if line.len() < 2 {
            return Err(ErrorCode::Truncated);
        }
        let py = self.opts.python;
        // `strtol(s, &end, 0)` then `PyLong_FromString(s, NULL, 0)`; from 3.14 both in base
        // 10 (gh-126992, PR #127042), so `010` is 10 and `0x10` an error.
        let base0 = !py.text_ints_base10();
        let r = pytext::c_strtol(line, if base0 { 0 } else { 10 });
        let end_ok = matches!(line.get(r.end).copied().unwrap_or(0), b'\n' | 0);
        let v = if r.overflow || !end_ok {
            // 3.9 has no digit limit (gh-95778 came later), so long texts decode there.
            match pytext::py_long_from_string_limited(line, base0, py.int_max_str_digits()) {
                Ok((v, end)) if end >= line.len() || line[end] == 0 => self.int_value(v)?,
                _ => return Err(ErrorCode::Value("could not convert string to int".into())),
            }
        } else if if py.exact_int_bools() {
            // 3.15: only the texts `00` and `01` are bools, as in pickle.py (gh-135241,
            // PR #135242); `+1`, ` 0`, `-0` are ints.
            line == b"00\n" || line == b"01\n"
        } else {
            line.len() == 3 && (r.value == 0 || r.value == 1)
        } {
            Value::Bool(r.value == 1)
        } else {
            Value::Int(r.value)
        };
        self.push(v);
        Ok(())
    }

    /// LONG: a decimal line with an optional trailing `L`.
    #[inline(never)]
    pub(super) fn load_long(&mut self) -> R<()> {
        let line = self.line(Opcode::LONG)?;
        if line.len() < 2 {
            return Err(ErrorCode::Truncated);
        }
        // A trailing 'L' is replaced by the string's end.
        let text = if line[line.len() - 2] == b'L' { &line[..line.len() - 2] } else { line };
        // `PyLong_FromString(s, NULL, 0)`; base 10 from 3.14 (gh-126992, PR #127042), where
        // `010` is 10 rather than an error.
        let py = self.opts.python;
        let v = parse_long_text(text, !py.text_ints_base10(), py)?;
        let v = self.int_value(v)?;
        self.push(v);
        Ok(())
    }

    /// LONG1 and LONG4: a counted little-endian two's complement int (LONG4's count is
    /// signed).
    #[inline(never)]
    pub(super) fn load_counted_long<const OP: u8>(&mut self) -> R<()> {
        let op = Opcode(OP);
        let bytes = match self.arg(op.layout()) {
            Ok(a) => a.bytes,
            Err(ArgError::NegativeLength(_)) => {
                return Err(ErrorCode::Unpickling("LONG pickle has negative byte count".into()))
            }
            Err(e) => return Err(self.arg_error(e)),
        };
        let v = if bytes.is_empty() {
            Value::Int(0)
        } else if bytes.len() <= 8 {
            let neg = bytes[bytes.len() - 1] & 0x80 != 0;
            let mut buf = [if neg { 0xff } else { 0 }; 8];
            buf[..bytes.len()].copy_from_slice(bytes);
            Value::Int(i64::from_le_bytes(buf))
        } else {
            let b = BigInt::from_signed_bytes_le(bytes);
            self.int_value(match i64::try_from(&b) {
                Ok(i) => PyInt::Small(i),
                Err(_) => PyInt::Big(b),
            })?
        };
        self.push(v);
        Ok(())
    }

    /// FLOAT: a float line.
    #[inline(never)]
    pub(super) fn load_float(&mut self) -> R<()> {
        let line = self.line(Opcode::FLOAT)?;
        if line.len() < 2 {
            return Err(ErrorCode::Truncated);
        }
        let f = pytext::c_load_float(line).map_err(|e| match e {
            pytext::FloatError::Invalid => ErrorCode::Value("could not convert string to float".into()),
            pytext::FloatError::Overflow => ErrorCode::Overflow("value too large to convert to float".into()),
        })?;
        let v = self.float(f);
        self.push(v);
        Ok(())
    }

    /// A float value; NaNs get identity (see [`Obj::Float`]).
    #[inline]
    pub(super) fn float(&mut self, f: f64) -> Value {
        if f.is_nan() {
            self.obj(Obj::Float(f))
        } else {
            Value::Float(f)
        }
    }
}

/// `PyLong_FromString(s, NULL, base)` with its errors as CPython raises them (the decimal
/// digit limit is `py`'s: none for 3.9.2, which predates gh-95778's limit).
pub(super) fn parse_long_text(text: &[u8], base0: bool, py: Python) -> R<PyInt> {
    match pytext::py_long_from_string_limited(text, base0, py.int_max_str_digits()) {
        Ok((v, end)) if end >= text.len() || text[end] == 0 => Ok(v),
        Err(pytext::IntError::TooManyDigits) => Err(ErrorCode::Value(
            "Exceeds the limit (4300 digits) for integer string conversion".into(),
        )),
        _ if pytext::long_error_is_unicode(text) => {
            Err(ErrorCode::UnicodeDecode("'utf-8' codec can't decode bytes in int() error message".into()))
        }
        _ => Err(ErrorCode::Value("invalid literal for int()".into())),
    }
}
