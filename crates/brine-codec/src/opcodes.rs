//! The opcode table: the single source of truth for all 68 pickle opcodes.
//!
//! Every other part of brine (the decoder's dispatch, the disassembler, the encoder, the
//! generator in pickle-smith and the coverage report in xtask) reads this table instead of
//! keeping its own list, so adding or correcting an opcode happens in exactly one place.
//! Names are the ones `pickletools` uses; argument kinds are pickletools' argument
//! descriptors; stack effects are pickletools' `stack_before -> stack_after` in short form.
//!
//! An argument kind carries its [`Layout`] (a fixed width, a length prefix, or lines), and
//! [`split_arg`] is the one reader of it: the decoder, the disassembler and the oracle's
//! prescan find arguments with it, and the writers (encoder headers through
//! [`Opcode::header`], pickle-smith) take widths from the layout, so no other file states
//! an argument's width. What an opcode touches besides the stack ([`Touches`]: the memo,
//! out-of-band buffers) is here too, so that lists such as "the opcodes that cannot fail"
//! are derived rather than kept.

use std::fmt;

macro_rules! arg_kinds {
    ($( $(#[$doc:meta])* $kind:ident = $name:literal, $layout:expr; )*) => {
        /// How an opcode's inline argument is laid out in the stream (pickletools'
        /// ArgumentDescriptor): its name and its [`Layout`], which [`split_arg`] follows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ArgKind {
            $( $(#[$doc])* $kind, )*
        }

        impl ArgKind {
            /// pickletools' name for the argument descriptor.
            pub const fn name(self) -> &'static str {
                match self {
                    $( ArgKind::$kind => $name, )*
                }
            }

            /// Where the argument's bytes are.
            #[inline(always)]
            pub const fn layout(self) -> Layout {
                match self {
                    $( ArgKind::$kind => $layout, )*
                }
            }
        }
    };
}

arg_kinds! {
    /// No inline argument.
    None = "none", Layout::None;
    /// One unsigned byte.
    Uint1 = "uint1", Layout::Fixed { width: 1, signed: false };
    /// Two bytes, little-endian unsigned.
    Uint2 = "uint2", Layout::Fixed { width: 2, signed: false };
    /// Four bytes, little-endian signed.
    Int4 = "int4", Layout::Fixed { width: 4, signed: true };
    /// Four bytes, little-endian unsigned.
    Uint4 = "uint4", Layout::Fixed { width: 4, signed: false };
    /// Eight bytes, little-endian unsigned.
    Uint8 = "uint8", Layout::Fixed { width: 8, signed: false };
    /// A quoted, backslash-escaped line (STRING).
    StringNl = "stringnl", Layout::Lines(1);
    /// A raw line, escape-decoded by pickletools but not by the unpicklers (PERSID).
    StringNlNoescape = "stringnl_noescape", Layout::Lines(1);
    /// Two raw lines: module and name (GLOBAL, INST).
    StringNlNoescapePair = "stringnl_noescape_pair", Layout::Lines(2);
    /// Length byte then that many latin-1 bytes (SHORT_BINSTRING).
    String1 = "string1", Layout::Counted { width: 1, signed: false };
    /// Signed 4-byte length then latin-1 bytes (BINSTRING; CPython's C unpickler reads the
    /// length unsigned before 3.14, see [`Layout::unsigned`]).
    String4 = "string4", Layout::Counted { width: 4, signed: true };
    /// Length byte then bytes.
    Bytes1 = "bytes1", Layout::Counted { width: 1, signed: false };
    /// Unsigned 4-byte length then bytes.
    Bytes4 = "bytes4", Layout::Counted { width: 4, signed: false };
    /// Unsigned 8-byte length then bytes.
    Bytes8 = "bytes8", Layout::Counted { width: 8, signed: false };
    /// Unsigned 8-byte length then bytes, made into a bytearray.
    Bytearray8 = "bytearray8", Layout::Counted { width: 8, signed: false };
    /// A raw-unicode-escape line (UNICODE).
    UnicodeStringNl = "unicodestringnl", Layout::Lines(1);
    /// Length byte then UTF-8.
    UnicodeString1 = "unicodestring1", Layout::Counted { width: 1, signed: false };
    /// Unsigned 4-byte length then UTF-8.
    UnicodeString4 = "unicodestring4", Layout::Counted { width: 4, signed: false };
    /// Unsigned 8-byte length then UTF-8.
    UnicodeString8 = "unicodestring8", Layout::Counted { width: 8, signed: false };
    /// A decimal line ("00"/"01" are False/True for pickletools).
    DecimalNlShort = "decimalnl_short", Layout::Lines(1);
    /// A decimal line with an optional trailing `L`.
    DecimalNlLong = "decimalnl_long", Layout::Lines(1);
    /// A float line.
    FloatNl = "floatnl", Layout::Lines(1);
    /// Eight bytes, big-endian IEEE 754 double.
    Float8 = "float8", Layout::Fixed { width: 8, signed: false };
    /// Length byte then little-endian two's complement integer.
    Long1 = "long1", Layout::Counted { width: 1, signed: false };
    /// Signed 4-byte length then little-endian two's complement integer.
    Long4 = "long4", Layout::Counted { width: 4, signed: true };
}

impl ArgKind {
    /// Whether the argument ends at a newline (text protocol) rather than by a length.
    pub const fn is_line(self) -> bool {
        matches!(self.layout(), Layout::Lines(_))
    }
}

/// Where an argument's bytes are: what every reader of the stream (decoder, disassembler,
/// the oracle's prescan) and every writer (encoder, pickle-smith) takes from the table
/// instead of stating widths of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// No bytes.
    None,
    /// `width` bytes: a little-endian integer, two's complement when `signed` (FLOAT8's are a
    /// big-endian double).
    Fixed {
        /// Bytes.
        width: u8,
        /// Two's complement.
        signed: bool,
    },
    /// A little-endian length of `width` bytes, then that many bytes. A `signed` length is
    /// two's complement, and a negative one is an error.
    Counted {
        /// Bytes of the length.
        width: u8,
        /// Two's complement length.
        signed: bool,
    },
    /// This many lines (1, or 2 for GLOBAL and INST), each ending with a newline.
    Lines(u8),
}

impl Layout {
    /// The width of a fixed argument or of a length prefix; 0 for none and for lines.
    #[inline(always)]
    pub const fn width(self) -> usize {
        match self {
            Layout::Fixed { width, .. } | Layout::Counted { width, .. } => width as usize,
            Layout::None | Layout::Lines(_) => 0,
        }
    }

    /// A fixed argument's integer: its little-endian bytes, sign-extended when the layout
    /// is signed. (FLOAT8's bytes are a double, not this.)
    pub fn int_value(self, bytes: &[u8]) -> i128 {
        let mut x: u64 = 0;
        for (i, &b) in bytes.iter().enumerate() {
            x |= (b as u64) << (8 * i);
        }
        match self {
            Layout::Fixed { signed: true, .. } | Layout::Counted { signed: true, .. } if !bytes.is_empty() => {
                let shift = 64 - 8 * bytes.len() as u32;
                (((x << shift) as i64) >> shift) as i128
            }
            _ => x as i128,
        }
    }

    /// The same layout with its integer or length read unsigned: how CPython's C unpickler
    /// reads BINSTRING's length before 3.14 (gh-135321), pickletools' `string4` being signed.
    #[inline(always)]
    pub const fn unsigned(self) -> Layout {
        match self {
            Layout::Fixed { width, .. } => Layout::Fixed { width, signed: false },
            Layout::Counted { width, .. } => Layout::Counted { width, signed: false },
            other => other,
        }
    }
}

/// An argument found by [`split_arg`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgBytes<'a> {
    /// A fixed argument's bytes; a counted argument's body (after its length); the first
    /// line, newline included; empty for none.
    pub bytes: &'a [u8],
    /// The second line of a two-line argument, newline included; else empty.
    pub second: &'a [u8],
    /// The offset just past the argument.
    pub end: usize,
}

/// Why an argument cannot be read: every way [`split_arg`] fails, in the order the readers
/// check (CPython's unpicklers and pickletools alike): the length prefix, its sign, its
/// size, then the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgError {
    /// `needed` bytes from `at` go past the end: a fixed argument or a length prefix (`at`
    /// is the argument's start), or a counted body (`at` is just past the length).
    Truncated {
        /// Where the short read starts.
        at: usize,
        /// How many bytes it needed.
        needed: u64,
    },
    /// A signed length prefix holds this negative number.
    NegativeLength(i64),
    /// An unsigned length prefix holds this number, above `sys.maxsize` (`i64::MAX`; only an
    /// 8-byte one can).
    AboveMaxsize(u64),
    /// The line starting at `at` has no newline. For a two-line argument, `at` past the
    /// argument's start means the first line was whole: it is the bytes from the start to
    /// `at` (the readers check it before looking for the second).
    NoNewline {
        /// Where the unterminated line starts.
        at: usize,
    },
}

/// Finds the argument laid out as `layout` that starts at `data[pos..]` (`pos <= data.len()`).
/// The one place that knows how long an argument is: the decoder, the disassembler, the
/// oracle's prescan and the writers all go through the table's [`Layout`] and this.
#[inline(always)]
pub fn split_arg(data: &[u8], pos: usize, layout: Layout) -> Result<ArgBytes<'_>, ArgError> {
    match layout {
        Layout::None => Ok(ArgBytes { bytes: &[], second: &[], end: pos }),
        Layout::Fixed { width, .. } => {
            let w = width as usize;
            match data.get(pos..pos + w) {
                Some(bytes) => Ok(ArgBytes { bytes, second: &[], end: pos + w }),
                None => Err(ArgError::Truncated { at: pos, needed: w as u64 }),
            }
        }
        Layout::Counted { width, signed } => split_counted(data, pos, width as usize, signed),
        Layout::Lines(n) => split_lines(data, pos, n),
    }
}

#[inline(always)]
fn split_counted(data: &[u8], pos: usize, w: usize, signed: bool) -> Result<ArgBytes<'_>, ArgError> {
    let Some(prefix) = data.get(pos..pos + w) else {
        return Err(ArgError::Truncated { at: pos, needed: w as u64 });
    };
    let mut n: u64 = 0;
    for (i, &b) in prefix.iter().enumerate() {
        n |= (b as u64) << (8 * i);
    }
    if signed {
        let shift = 64 - 8 * w as u32;
        let v = ((n << shift) as i64) >> shift;
        if v < 0 {
            return Err(ArgError::NegativeLength(v));
        }
    }
    if n > i64::MAX as u64 {
        return Err(ArgError::AboveMaxsize(n));
    }
    let start = pos + w;
    if n > (data.len() - start) as u64 {
        return Err(ArgError::Truncated { at: start, needed: n });
    }
    let end = start + n as usize;
    Ok(ArgBytes { bytes: &data[start..end], second: &[], end })
}

#[inline]
fn split_lines(data: &[u8], pos: usize, n: u8) -> Result<ArgBytes<'_>, ArgError> {
    let line_at = |at: usize| -> Result<&[u8], ArgError> {
        let rest = data.get(at..).unwrap_or(&[]);
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => Ok(&rest[..=i]),
            None => Err(ArgError::NoNewline { at }),
        }
    };
    let first = line_at(pos)?;
    let mut end = pos + first.len();
    let mut second: &[u8] = &[];
    if n == 2 {
        second = line_at(end)?;
        end += second.len();
    }
    Ok(ArgBytes { bytes: first, second, end })
}

/// What an opcode takes from the stack: a fixed count, or everything down to the topmost
/// MARK (plus, for some opcodes, a fixed count below it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pops {
    /// Exactly this many items.
    Fixed(u8),
    /// The items above the topmost mark, and the mark; then this many items below it.
    Mark(u8),
}

/// An opcode's stack effect, as pickletools documents it (checked live against
/// `pickletools.opcodes` by crates/brine-oracle/tests/opcode_table.rs), except that the
/// PUT family pops and pushes the item it memoizes: pickletools lists no effect, but the
/// unpicklers need a top item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackEffect {
    /// What is popped.
    pub pops: Pops,
    /// How many items are pushed (a MARK counts as one push for MARK itself).
    pub pushes: u8,
    /// pickletools' `stack_before -> stack_after`, for listings.
    pub text: &'static str,
}

/// One pickle opcode: a byte value. Unknown bytes are representable (the decoder reports
/// them), and `info()` returns `None` for them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Opcode(pub u8);

/// Everything the table records about an opcode.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    /// The opcode.
    pub code: Opcode,
    /// pickletools' name, e.g. `"BININT1"`.
    pub name: &'static str,
    /// The protocol that introduced it.
    pub proto: u8,
    /// Its inline argument.
    pub arg: ArgKind,
    /// Its stack effect.
    pub stack: StackEffect,
    /// What else it uses.
    pub touches: Touches,
}

/// What an opcode uses besides the stack and its argument (where that decides what the
/// harness and the generators must know about it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touches {
    /// Nothing else.
    Nothing,
    /// Writes a memo entry (PUT, BINPUT, LONG_BINPUT, MEMOIZE).
    MemoPut,
    /// Reads a memo entry (GET, BINGET, LONG_BINGET).
    MemoGet,
    /// Takes the next out-of-band buffer (NEXT_BUFFER).
    Buffers,
}

impl OpInfo {
    /// Whether it stores into the memo.
    pub const fn writes_memo(&self) -> bool {
        matches!(self.touches, Touches::MemoPut)
    }

    /// Whether it cannot fail once read: no argument, nothing popped, nothing else used.
    pub const fn cannot_fail(&self) -> bool {
        matches!(self.arg, ArgKind::None)
            && matches!(self.stack.pops, Pops::Fixed(0))
            && matches!(self.touches, Touches::Nothing)
    }
}

macro_rules! opcodes {
    ($( $name:ident = $byte:expr, proto $proto:expr, $arg:ident, $pops:expr => $pushes:expr, $text:expr $(, $touches:ident)?; )*) => {
        impl Opcode {
            $(
                #[doc = concat!("`", stringify!($name), "` (", $text, ").")]
                pub const $name: Opcode = Opcode($byte);
            )*
        }

        /// The table, as a constant (so that `const` items can read it: see [`Opcode::entry`]).
        const TABLE: [OpInfo; 68] = [
            $( OpInfo {
                code: Opcode($byte),
                name: stringify!($name),
                proto: $proto,
                arg: ArgKind::$arg,
                stack: StackEffect { pops: $pops, pushes: $pushes, text: $text },
                touches: touches!($($touches)?),
            }, )*
        ];
    };
}

macro_rules! touches {
    () => {
        Touches::Nothing
    };
    ($t:ident) => {
        Touches::$t
    };
}

/// All 68 opcodes, in the order pickletools lists them by byte.
pub static OPCODES: &[OpInfo] = &TABLE;

use Pops::{Fixed, Mark};

opcodes! {
    MARK = b'(', proto 0, None, Fixed(0) => 1, "-> mark";
    STOP = b'.', proto 0, None, Fixed(1) => 0, "any ->";
    POP = b'0', proto 0, None, Fixed(1) => 0, "any ->";
    POP_MARK = b'1', proto 1, None, Mark(0) => 0, "mark stackslice ->";
    DUP = b'2', proto 0, None, Fixed(1) => 2, "any -> any any";
    FLOAT = b'F', proto 0, FloatNl, Fixed(0) => 1, "-> float";
    INT = b'I', proto 0, DecimalNlShort, Fixed(0) => 1, "-> int_or_bool";
    BININT = b'J', proto 1, Int4, Fixed(0) => 1, "-> int";
    BININT1 = b'K', proto 1, Uint1, Fixed(0) => 1, "-> int";
    LONG = b'L', proto 0, DecimalNlLong, Fixed(0) => 1, "-> int";
    BININT2 = b'M', proto 1, Uint2, Fixed(0) => 1, "-> int";
    NONE = b'N', proto 0, None, Fixed(0) => 1, "-> None";
    PERSID = b'P', proto 0, StringNlNoescape, Fixed(0) => 1, "-> any";
    BINPERSID = b'Q', proto 1, None, Fixed(1) => 1, "any -> any";
    REDUCE = b'R', proto 0, None, Fixed(2) => 1, "any any -> any";
    STRING = b'S', proto 0, StringNl, Fixed(0) => 1, "-> bytes_or_str";
    BINSTRING = b'T', proto 1, String4, Fixed(0) => 1, "-> bytes_or_str";
    SHORT_BINSTRING = b'U', proto 1, String1, Fixed(0) => 1, "-> bytes_or_str";
    UNICODE = b'V', proto 0, UnicodeStringNl, Fixed(0) => 1, "-> str";
    BINUNICODE = b'X', proto 1, UnicodeString4, Fixed(0) => 1, "-> str";
    APPEND = b'a', proto 0, None, Fixed(2) => 1, "list any -> list";
    BUILD = b'b', proto 0, None, Fixed(2) => 1, "any any -> any";
    GLOBAL = b'c', proto 0, StringNlNoescapePair, Fixed(0) => 1, "-> any";
    DICT = b'd', proto 0, None, Mark(0) => 1, "mark stackslice -> dict";
    EMPTY_DICT = b'}', proto 1, None, Fixed(0) => 1, "-> dict";
    APPENDS = b'e', proto 1, None, Mark(1) => 1, "list mark stackslice -> list";
    GET = b'g', proto 0, DecimalNlShort, Fixed(0) => 1, "-> any", MemoGet;
    BINGET = b'h', proto 1, Uint1, Fixed(0) => 1, "-> any", MemoGet;
    INST = b'i', proto 0, StringNlNoescapePair, Mark(0) => 1, "mark stackslice -> any";
    LONG_BINGET = b'j', proto 1, Uint4, Fixed(0) => 1, "-> any", MemoGet;
    LIST = b'l', proto 0, None, Mark(0) => 1, "mark stackslice -> list";
    EMPTY_LIST = b']', proto 1, None, Fixed(0) => 1, "-> list";
    OBJ = b'o', proto 1, None, Mark(0) => 1, "mark any stackslice -> any";
    // PUT's family needs the top item (pickletools lists no stack effect): popped and pushed.
    PUT = b'p', proto 0, DecimalNlShort, Fixed(1) => 1, "->", MemoPut;
    BINPUT = b'q', proto 1, Uint1, Fixed(1) => 1, "->", MemoPut;
    LONG_BINPUT = b'r', proto 1, Uint4, Fixed(1) => 1, "->", MemoPut;
    SETITEM = b's', proto 0, None, Fixed(3) => 1, "dict any any -> dict";
    TUPLE = b't', proto 0, None, Mark(0) => 1, "mark stackslice -> tuple";
    EMPTY_TUPLE = b')', proto 1, None, Fixed(0) => 1, "-> tuple";
    SETITEMS = b'u', proto 1, None, Mark(1) => 1, "dict mark stackslice -> dict";
    BINFLOAT = b'G', proto 1, Float8, Fixed(0) => 1, "-> float";
    PROTO = 0x80, proto 2, Uint1, Fixed(0) => 0, "->";
    NEWOBJ = 0x81, proto 2, None, Fixed(2) => 1, "any any -> any";
    EXT1 = 0x82, proto 2, Uint1, Fixed(0) => 1, "-> any";
    EXT2 = 0x83, proto 2, Uint2, Fixed(0) => 1, "-> any";
    EXT4 = 0x84, proto 2, Int4, Fixed(0) => 1, "-> any";
    TUPLE1 = 0x85, proto 2, None, Fixed(1) => 1, "any -> tuple";
    TUPLE2 = 0x86, proto 2, None, Fixed(2) => 1, "any any -> tuple";
    TUPLE3 = 0x87, proto 2, None, Fixed(3) => 1, "any any any -> tuple";
    NEWTRUE = 0x88, proto 2, None, Fixed(0) => 1, "-> bool";
    NEWFALSE = 0x89, proto 2, None, Fixed(0) => 1, "-> bool";
    LONG1 = 0x8a, proto 2, Long1, Fixed(0) => 1, "-> int";
    LONG4 = 0x8b, proto 2, Long4, Fixed(0) => 1, "-> int";
    BINBYTES = b'B', proto 3, Bytes4, Fixed(0) => 1, "-> bytes";
    SHORT_BINBYTES = b'C', proto 3, Bytes1, Fixed(0) => 1, "-> bytes";
    SHORT_BINUNICODE = 0x8c, proto 4, UnicodeString1, Fixed(0) => 1, "-> str";
    BINUNICODE8 = 0x8d, proto 4, UnicodeString8, Fixed(0) => 1, "-> str";
    BINBYTES8 = 0x8e, proto 4, Bytes8, Fixed(0) => 1, "-> bytes";
    EMPTY_SET = 0x8f, proto 4, None, Fixed(0) => 1, "-> set";
    ADDITEMS = 0x90, proto 4, None, Mark(1) => 1, "set mark stackslice -> set";
    FROZENSET = 0x91, proto 4, None, Mark(0) => 1, "mark stackslice -> frozenset";
    NEWOBJ_EX = 0x92, proto 4, None, Fixed(3) => 1, "any any any -> any";
    STACK_GLOBAL = 0x93, proto 4, None, Fixed(2) => 1, "str str -> any";
    MEMOIZE = 0x94, proto 4, None, Fixed(1) => 1, "any -> any", MemoPut;
    FRAME = 0x95, proto 4, Uint8, Fixed(0) => 0, "->";
    BYTEARRAY8 = 0x96, proto 5, Bytearray8, Fixed(0) => 1, "-> bytearray";
    NEXT_BUFFER = 0x97, proto 5, None, Fixed(0) => 1, "-> buffer", Buffers;
    READONLY_BUFFER = 0x98, proto 5, None, Fixed(1) => 1, "buffer -> buffer";
}

/// Byte -> index into [`OPCODES`] (`u8::MAX` for a byte that is no opcode).
const INDEX: [u8; 256] = {
    let mut idx = [u8::MAX; 256];
    let mut i = 0;
    while i < TABLE.len() {
        idx[TABLE[i].code.0 as usize] = i as u8;
        i += 1;
    }
    idx
};

impl Opcode {
    /// The table entry, or `None` for a byte that is not an opcode.
    #[inline]
    pub fn info(self) -> Option<&'static OpInfo> {
        let i = INDEX[self.0 as usize];
        OPCODES.get(i as usize)
    }

    /// The table entry by value, for `const` items (`info` gives a reference).
    pub const fn entry(self) -> Option<OpInfo> {
        let i = INDEX[self.0 as usize];
        if i == u8::MAX {
            None
        } else {
            Some(TABLE[i as usize])
        }
    }

    /// The layout of its argument ([`Layout::None`] for an unknown byte). A constant where
    /// the opcode is.
    #[inline(always)]
    pub const fn layout(self) -> Layout {
        match self.entry() {
            Some(info) => info.arg.layout(),
            None => Layout::None,
        }
    }

    /// How many items it pops, for an opcode that pops a fixed number (a constant where the
    /// opcode is); `None` for one that pops to a mark, or an unknown byte.
    pub const fn fixed_pops(self) -> Option<usize> {
        match self.entry() {
            Some(OpInfo { stack: StackEffect { pops: Pops::Fixed(n), .. }, .. }) => Some(n as usize),
            _ => None,
        }
    }

    /// The opcode then `v` as its fixed integer argument or length prefix, little-endian
    /// (the low bytes: two's complement for a negative `v as u64`). `N` must be 1 + the
    /// argument's width; the check costs nothing where the opcode is a constant.
    #[inline(always)]
    pub fn header<const N: usize>(self, v: u64) -> [u8; N] {
        assert!(N == 1 + self.layout().width(), "header length is not 1 + the argument's width");
        let mut out = [0u8; N];
        if N <= 8 {
            // The opcode and the argument as one little-endian word, cut to length: what
            // an array literal `[op, v as u8, ...]` compiles to.
            out.copy_from_slice(&((v << 8) | self.0 as u64).to_le_bytes()[..N]);
        } else {
            out[0] = self.0;
            out[1..].copy_from_slice(&v.to_le_bytes()[..N - 1]);
        }
        out
    }

    /// pickletools' name, or `None` for an unknown byte.
    pub fn name(self) -> Option<&'static str> {
        self.info().map(|i| i.name)
    }

    /// Looks an opcode up by its pickletools name.
    pub fn from_name(name: &str) -> Option<Opcode> {
        OPCODES.iter().find(|i| i.name == name).map(|i| i.code)
    }

    /// Position of this opcode in [`OPCODES`] (a dense index for coverage tables).
    pub fn index(self) -> Option<usize> {
        let i = INDEX[self.0 as usize];
        (i != u8::MAX).then_some(i as usize)
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "<unknown opcode 0x{:02x}>", self.0),
        }
    }
}

impl fmt::Debug for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The highest protocol brine (and CPython 3.11) knows.
pub const HIGHEST_PROTOCOL: u8 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_arg_reports_failures_in_the_readers_order() {
        // What CPython's C unpickler raises for each is in conformance/ (truncated/*,
        // negative lengths, no newline); here, which failure a stream is, and where.
        let l = |op: Opcode| op.layout();
        // BININT with 2 of its 4 bytes.
        assert_eq!(split_arg(b"\x01\x02", 0, l(Opcode::BININT)), Err(ArgError::Truncated { at: 0, needed: 4 }));
        // LONG4 of -1 bytes, with nothing after: the sign is checked before the body.
        assert_eq!(split_arg(b"\xff\xff\xff\xff", 0, l(Opcode::LONG4)), Err(ArgError::NegativeLength(-1)));
        // BINBYTES reads the same length unsigned: a body of 2^32 - 1 bytes, missing.
        assert_eq!(
            split_arg(b"\xff\xff\xff\xffab", 0, l(Opcode::BINBYTES)),
            Err(ArgError::Truncated { at: 4, needed: 0xffff_ffff })
        );
        // BINSTRING's length, unsigned as 3.11's C unpickler reads it.
        assert_eq!(
            split_arg(b"\x00\x00\x00\x80", 0, l(Opcode::BINSTRING).unsigned()),
            Err(ArgError::Truncated { at: 4, needed: 1 << 31 })
        );
        // BINUNICODE8 of 2^63 bytes: above sys.maxsize, before the body.
        assert_eq!(
            split_arg(b"\x00\x00\x00\x00\x00\x00\x00\x80", 0, l(Opcode::BINUNICODE8)),
            Err(ArgError::AboveMaxsize(1 << 63))
        );
        // GLOBAL's second line has no newline; the first is whole.
        assert_eq!(split_arg(b"cos\nsystem", 1, l(Opcode::GLOBAL)), Err(ArgError::NoNewline { at: 4 }));
        let a = split_arg(b"cos\nsystem\n.", 1, l(Opcode::GLOBAL)).unwrap();
        assert_eq!((a.bytes, a.second, a.end), (&b"os\n"[..], &b"system\n"[..], 11));
        let a = split_arg(b"U\x02hi.", 1, l(Opcode::SHORT_BINSTRING)).unwrap();
        assert_eq!((a.bytes, a.end), (&b"hi"[..], 4));
        assert_eq!(split_arg(b"N.", 1, l(Opcode::NONE)).unwrap().end, 1);
    }

    #[test]
    fn the_table_derives_what_others_listed() {
        let names = |f: fn(&OpInfo) -> bool| OPCODES.iter().filter(|o| f(o)).map(|o| o.name).collect::<Vec<_>>();
        assert_eq!(
            names(OpInfo::cannot_fail),
            ["MARK", "NONE", "EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE", "NEWTRUE", "NEWFALSE", "EMPTY_SET"]
        );
        assert_eq!(names(OpInfo::writes_memo), ["PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"]);
        assert_eq!(Opcode::TUPLE3.fixed_pops(), Some(3));
        assert_eq!(Opcode::BINUNICODE.header::<5>(0x0102_0304), [b'X', 4, 3, 2, 1]);
    }

    #[test]
    fn table_has_68_distinct_opcodes() {
        assert_eq!(OPCODES.len(), 68);
        let mut seen = std::collections::HashSet::new();
        for op in OPCODES {
            assert!(seen.insert(op.code.0), "duplicate byte {}", op.name);
            assert_eq!(op.code.info().unwrap().name, op.name);
            assert_eq!(Opcode::from_name(op.name), Some(op.code));
        }
        let per_proto: Vec<usize> =
            (0..=5).map(|p| OPCODES.iter().filter(|o| o.proto == p).count()).collect();
        // pickletools.opcodes counted by `proto` (CPython 3.11): POP_MARK is protocol 1.
        assert_eq!(per_proto, vec![22, 19, 12, 2, 10, 3]);
        assert!(Opcode(0xff).info().is_none());
    }
}
