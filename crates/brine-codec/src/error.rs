//! Decoder errors: a small code plus the byte offset of the opcode that failed.
//!
//! Every rejection the reference decoder makes corresponds to an exception CPython's C
//! unpickler raises for the same stream; [`ErrorCode::py_exception`] names that class, which
//! is what conformance compares. Limits brine imposes on itself (depth, memo, size) have
//! their own codes so the oracle can tell "CPython would accept this, we chose not to"
//! from a real disagreement ([`Category::Limit`]).

use std::fmt;

/// What went wrong. Each variant documents the CPython exception it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The stream ended where an opcode byte was expected (`EOFError: Ran out of input`).
    Eof,
    /// The stream ended inside an opcode's argument, or a line had no newline
    /// (`UnpicklingError: pickle data was truncated`).
    Truncated,
    /// A byte that is no opcode (`UnpicklingError: invalid load key`).
    UnknownOpcode(u8),
    /// Popping below the stack's bottom or its topmost mark (`UnpicklingError`).
    StackUnderflow {
        /// Whether the pop ran into a MARK ("unexpected MARK found").
        at_mark: bool,
    },
    /// An opcode that needs a MARK found none (`UnpicklingError: could not find MARK`).
    NoMark,
    /// A GET of a slot never PUT (`UnpicklingError: Memo value not found`).
    MemoMissing(u64),
    /// Any other `UnpicklingError` CPython raises (message says which).
    Unpickling(String),
    /// A `ValueError` (bad text number, bad escape, unsupported protocol, EXT code...).
    Value(String),
    /// A `UnicodeDecodeError` (a text argument is not valid in its encoding).
    UnicodeDecode(String),
    /// A `TypeError` (not callable, unhashable key, item assignment on an immutable...).
    Type(String),
    /// An `AttributeError` (no `append`/`add`/`__dict__`, `<locals>` in a dotted name).
    Attribute(String),
    /// An `IndexError` (list assignment index out of range).
    Index(String),
    /// A `BufferError` (growing a bytearray that a live memoryview exports).
    Buffer(String),
    /// An `OverflowError` (length or memo index beyond `Py_ssize_t`, float text overflow).
    Overflow(String),
    /// A `MemoryError` CPython raises deterministically (a memo index so large that the
    /// C unpickler's memo array size overflows).
    Memory(String),
    /// brine's own nesting limit (`Limits::max_depth`).
    DepthLimit(usize),
    /// brine's own memo size limit (`Limits::max_memo`).
    MemoLimit(usize),
    /// brine's own size limit on the decoded value (`Limits::max_alloc`).
    SizeLimit(usize),
    /// brine's own work budget, spent on a comparison or hash that CPython would also
    /// take exponential time for (`Limits::max_work`).
    WorkLimit,
}

/// Coarse classes of [`ErrorCode`], in the manner of serde_json's `Category`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// The input ended early (EOFError, truncated data).
    Eof,
    /// The stream is malformed or asks for something CPython refuses.
    Syntax,
    /// A limit: brine's own, or a deterministic CPython MemoryError.
    Limit,
}

impl ErrorCode {
    /// The CPython exception class name the C unpickler raises for this failure.
    pub fn py_exception(&self) -> &'static str {
        use ErrorCode::*;
        match self {
            Eof => "EOFError",
            Truncated | UnknownOpcode(_) | StackUnderflow { .. } | NoMark | MemoMissing(_)
            | Unpickling(_) => "UnpicklingError",
            Value(_) => "ValueError",
            UnicodeDecode(_) => "UnicodeDecodeError",
            Type(_) => "TypeError",
            Attribute(_) => "AttributeError",
            Index(_) => "IndexError",
            Buffer(_) => "BufferError",
            Overflow(_) => "OverflowError",
            Memory(_) => "MemoryError",
            DepthLimit(_) => "RecursionError",
            MemoLimit(_) | SizeLimit(_) | WorkLimit => "MemoryError",
        }
    }

    /// The coarse category.
    pub fn category(&self) -> Category {
        use ErrorCode::*;
        match self {
            Eof | Truncated => Category::Eof,
            Memory(_) | DepthLimit(_) | MemoLimit(_) | SizeLimit(_) | WorkLimit => Category::Limit,
            _ => Category::Syntax,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorCode::*;
        match self {
            Eof => f.write_str("Ran out of input"),
            Truncated => f.write_str("pickle data was truncated"),
            UnknownOpcode(b) => write!(f, "invalid load key, '\\x{b:02x}'"),
            StackUnderflow { at_mark: true } => f.write_str("unexpected MARK found"),
            StackUnderflow { at_mark: false } => f.write_str("unpickling stack underflow"),
            NoMark => f.write_str("could not find MARK"),
            MemoMissing(i) => write!(f, "Memo value not found at index {i}"),
            Unpickling(m) | Value(m) | UnicodeDecode(m) | Type(m) | Attribute(m) | Index(m)
            | Buffer(m) | Overflow(m) | Memory(m) => f.write_str(m),
            DepthLimit(n) => write!(f, "nesting deeper than the limit of {n}"),
            MemoLimit(n) => write!(f, "memo larger than the limit of {n} entries"),
            SizeLimit(n) => write!(f, "decoded value larger than the limit of {n} bytes"),
            WorkLimit => f.write_str("work budget exhausted (exponential sharing?)"),
        }
    }
}

/// A decoding error: what and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub code: ErrorCode,
    /// Byte offset of the opcode that failed (for `Eof`, the end of the input).
    pub offset: usize,
}

impl Error {
    /// The coarse category of [`Error::code`].
    pub fn classify(&self) -> Category {
        self.code.category()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} at byte {}", self.code.py_exception(), self.code, self.offset)
    }
}

impl std::error::Error for Error {}
