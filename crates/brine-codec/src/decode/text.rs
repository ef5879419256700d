//! str and bytes: STRING, BINSTRING, SHORT_BINSTRING (bytes as str, ASCII only: brine
//! decodes with the default `encoding="ASCII"`), UNICODE, BINUNICODE, SHORT_BINUNICODE,
//! BINUNICODE8, BINBYTES, SHORT_BINBYTES, BINBYTES8 and BYTEARRAY8.
//!
//! A short str or bytes is made in place from a fixed-size window of the input (see
//! [`crate::Blob::from_window`]); a long one through [`Machine::long_blob`], which
//! [`super::decode_shared`] turns into a window into the shared input.

use super::{Machine, R};
use crate::error::ErrorCode;
use crate::opcodes::{ArgError, Opcode};
use crate::pytext;
use crate::value::{Blob, Obj, PyStr};

impl Machine<'_> {
    /// STRING: a quoted, escaped line.
    #[inline(never)]
    pub(super) fn load_string(&mut self) -> R<()> {
        let line = self.line(Opcode::STRING)?;
        let body = &line[..line.len() - 1];
        let n = body.len();
        if !(n >= 2 && body[0] == body[n - 1] && (body[0] == b'\'' || body[0] == b'"')) {
            return Err(ErrorCode::Unpickling("the STRING opcode argument must be quoted".into()));
        }
        let bytes = pytext::bytes_decode_escape(&body[1..n - 1]).map_err(|e| match e {
            pytext::EscapeError::TrailingBackslash => ErrorCode::Value("Trailing \\ in string".into()),
            pytext::EscapeError::BadHex => ErrorCode::Value("invalid \\x escape".into()),
        })?;
        let s = ascii_bytes(bytes)?;
        let v = self.new_str(s)?;
        self.push(v);
        Ok(())
    }

    /// BINSTRING and SHORT_BINSTRING.
    #[inline(never)]
    pub(super) fn load_counted_binstring<const OP: u8>(&mut self) -> R<()> {
        let op = Opcode(OP);
        // BINSTRING's 4-byte length is signed from 3.14 (and 3.13.5, by backport), as
        // pickletools documents it (gh-135321, PR #135322): 2 GiB or more is a negative
        // count. Before, the C unpickler reads it unsigned.
        let layout = if self.opts.python.signed_binstring_size() { op.layout() } else { op.layout().unsigned() };
        let body = match self.arg(layout) {
            Ok(a) => a.bytes,
            Err(ArgError::NegativeLength(_)) => {
                return Err(ErrorCode::Unpickling("BINSTRING pickle has negative byte count".into()))
            }
            Err(ArgError::AboveMaxsize(_)) => {
                return Err(ErrorCode::Unpickling("BINSTRING exceeds system's maximum size".into()))
            }
            Err(e) => return Err(self.arg_error(e)),
        };
        let s = ascii_bytes(body.to_vec())?;
        let v = self.new_str(s)?;
        self.push(v);
        Ok(())
    }

    /// UNICODE: a raw-unicode-escape line.
    #[inline(never)]
    pub(super) fn load_unicode(&mut self) -> R<()> {
        let line = self.line(Opcode::UNICODE)?;
        let s = pytext::raw_unicode_escape_decode(&line[..line.len() - 1])
            .map_err(|m| ErrorCode::UnicodeDecode(format!("'rawunicodeescape' codec can't decode bytes: {m}")))?;
        let v = self.new_str(s)?;
        self.push(v);
        Ok(())
    }

    /// BINUNICODE, SHORT_BINUNICODE and BINUNICODE8: counted UTF-8 (surrogates pass).
    #[inline]
    pub(super) fn load_counted_binunicode<const OP: u8>(&mut self) -> R<()> {
        let op = Opcode(OP);
        let body = match self.arg(op.layout()) {
            Ok(a) => a.bytes,
            Err(ArgError::AboveMaxsize(_)) => {
                return Err(ErrorCode::Overflow("BINUNICODE exceeds system's maximum size".into()))
            }
            Err(e) => return Err(self.arg_error(e)),
        };
        let (start, size) = (self.pos - body.len(), body.len());
        // Most strs are short and ASCII: one quick test before the general check.
        let valid = (body.len() <= 32 && body.is_ascii()) || pytext::utf8_surrogatepass_ok(body);
        if !valid {
            return Err(ErrorCode::UnicodeDecode("'utf-8' codec can't decode bytes".into()));
        }
        let v = match self.window(start, size) {
            Some(w) => {
                self.charge(size + 16)?;
                self.obj(Obj::Str(PyStr(Blob::from_window(w, size))))
            }
            None => {
                let b = self.long_blob(start, size)?;
                self.obj(Obj::Str(PyStr(b)))
            }
        };
        self.push(v);
        Ok(())
    }

    /// BINBYTES, SHORT_BINBYTES, BINBYTES8 and (as a bytearray) BYTEARRAY8.
    #[inline]
    pub(super) fn load_counted_binbytes<const OP: u8>(&mut self) -> R<()> {
        let op = Opcode(OP);
        let bytearray = op == Opcode::BYTEARRAY8;
        let body = match self.arg(op.layout()) {
            Ok(a) => a.bytes,
            Err(e) => return Err(self.binbytes_error(e, bytearray)),
        };
        // `_Unpickler_ReadInto` copies what the buffer holds and, when that was nothing,
        // reports truncation even for a read of zero bytes: an empty BINBYTES as the very
        // last bytes of the input is "pickle data was truncated".
        if body.is_empty() && self.pos == self.data.len() {
            return Err(ErrorCode::Truncated);
        }
        let (start, size) = (self.pos - body.len(), body.len());
        let v = if bytearray {
            self.charge(size + 16)?;
            self.obj(Obj::ByteArray(body.to_vec()))
        } else {
            match self.window(start, size) {
                Some(w) => {
                    self.charge(size + 16)?;
                    self.obj(Obj::Bytes(Blob::from_window(w, size)))
                }
                None => {
                    let b = self.long_blob(start, size)?;
                    self.obj(Obj::Bytes(b))
                }
            }
        };
        self.push(v);
        Ok(())
    }

    /// Why a BINBYTES-family argument cannot be read.
    #[cold]
    fn binbytes_error(&self, e: ArgError, bytearray: bool) -> ErrorCode {
        match e {
            ArgError::AboveMaxsize(_) => ErrorCode::Overflow(format!(
                "{} exceeds system's maximum size",
                if bytearray { "BYTEARRAY8" } else { "BINBYTES" }
            )),
            // CPython allocates the body before reading it; brine checks the input first. A
            // size beyond any 64-bit address space (2^47) fails CPython's malloc on every
            // machine, so that much of its behaviour is deterministic and mirrored. From 3.15
            // a large argument is read in chunks instead (gh-115952, PR #119204): missing
            // input is then "pickle data was truncated" (or, in a frame, crossing its end),
            // whatever the size.
            ArgError::Truncated { at, needed }
                if needed > (self.data.len() - at) as u64
                    && needed >= 1 << 47
                    && !self.opts.python.reads_incrementally() =>
            {
                ErrorCode::Memory("declared length beyond the address space".into())
            }
            e => self.arg_error(e),
        }
    }
}

fn ascii_bytes(s: Vec<u8>) -> R<Vec<u8>> {
    if s.is_ascii() {
        Ok(s)
    } else {
        Err(ErrorCode::UnicodeDecode("'ascii' codec can't decode bytes".into()))
    }
}
