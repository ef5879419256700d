//! The opcode table: the single source of truth for all 68 pickle opcodes.
//!
//! Every other part of brine (the decoder's dispatch, the disassembler, the encoder, the
//! generator in pickle-smith and the coverage report in xtask) reads this table instead of
//! keeping its own list, so adding or correcting an opcode happens in exactly one place.
//! Names are the ones `pickletools` uses; argument kinds are pickletools' argument
//! descriptors; stack effects are pickletools' `stack_before -> stack_after` in short form.

use std::fmt;

/// How an opcode's inline argument is laid out in the stream (pickletools' ArgumentDescriptor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// No inline argument.
    None,
    /// One unsigned byte.
    Uint1,
    /// Two bytes, little-endian unsigned.
    Uint2,
    /// Four bytes, little-endian signed.
    Int4,
    /// Four bytes, little-endian unsigned.
    Uint4,
    /// Eight bytes, little-endian unsigned.
    Uint8,
    /// A quoted, backslash-escaped line (STRING).
    StringNl,
    /// A raw line, escape-decoded by pickletools but not by the unpicklers (PERSID).
    StringNlNoescape,
    /// Two raw lines: module and name (GLOBAL, INST).
    StringNlNoescapePair,
    /// Length byte then that many latin-1 bytes (SHORT_BINSTRING).
    String1,
    /// Signed 4-byte length then latin-1 bytes (BINSTRING).
    String4,
    /// Length byte then bytes.
    Bytes1,
    /// Unsigned 4-byte length then bytes.
    Bytes4,
    /// Unsigned 8-byte length then bytes.
    Bytes8,
    /// Unsigned 8-byte length then bytes, made into a bytearray.
    Bytearray8,
    /// A raw-unicode-escape line (UNICODE).
    UnicodeStringNl,
    /// Length byte then UTF-8.
    UnicodeString1,
    /// Unsigned 4-byte length then UTF-8.
    UnicodeString4,
    /// Unsigned 8-byte length then UTF-8.
    UnicodeString8,
    /// A decimal line ("00"/"01" are False/True for pickletools).
    DecimalNlShort,
    /// A decimal line with an optional trailing `L`.
    DecimalNlLong,
    /// A float line.
    FloatNl,
    /// Eight bytes, big-endian IEEE 754 double.
    Float8,
    /// Length byte then little-endian two's complement integer.
    Long1,
    /// Signed 4-byte length then little-endian two's complement integer.
    Long4,
}

impl ArgKind {
    /// pickletools' name for the argument descriptor.
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::None => "none",
            ArgKind::Uint1 => "uint1",
            ArgKind::Uint2 => "uint2",
            ArgKind::Int4 => "int4",
            ArgKind::Uint4 => "uint4",
            ArgKind::Uint8 => "uint8",
            ArgKind::StringNl => "stringnl",
            ArgKind::StringNlNoescape => "stringnl_noescape",
            ArgKind::StringNlNoescapePair => "stringnl_noescape_pair",
            ArgKind::String1 => "string1",
            ArgKind::String4 => "string4",
            ArgKind::Bytes1 => "bytes1",
            ArgKind::Bytes4 => "bytes4",
            ArgKind::Bytes8 => "bytes8",
            ArgKind::Bytearray8 => "bytearray8",
            ArgKind::UnicodeStringNl => "unicodestringnl",
            ArgKind::UnicodeString1 => "unicodestring1",
            ArgKind::UnicodeString4 => "unicodestring4",
            ArgKind::UnicodeString8 => "unicodestring8",
            ArgKind::DecimalNlShort => "decimalnl_short",
            ArgKind::DecimalNlLong => "decimalnl_long",
            ArgKind::FloatNl => "floatnl",
            ArgKind::Float8 => "float8",
            ArgKind::Long1 => "long1",
            ArgKind::Long4 => "long4",
        }
    }

    /// Whether the argument ends at a newline (text protocol) rather than by a length.
    pub fn is_line(self) -> bool {
        matches!(
            self,
            ArgKind::StringNl
                | ArgKind::StringNlNoescape
                | ArgKind::StringNlNoescapePair
                | ArgKind::UnicodeStringNl
                | ArgKind::DecimalNlShort
                | ArgKind::DecimalNlLong
                | ArgKind::FloatNl
        )
    }
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

/// An opcode's stack effect, as pickletools documents it.
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
}

macro_rules! opcodes {
    ($( $name:ident = $byte:expr, proto $proto:expr, $arg:ident, $pops:expr => $pushes:expr, $text:expr; )*) => {
        impl Opcode {
            $(
                #[doc = concat!("`", stringify!($name), "` (", $text, ").")]
                pub const $name: Opcode = Opcode($byte);
            )*
        }

        /// All 68 opcodes, in the order pickletools lists them by byte.
        pub static OPCODES: &[OpInfo] = &[
            $( OpInfo {
                code: Opcode($byte),
                name: stringify!($name),
                proto: $proto,
                arg: ArgKind::$arg,
                stack: StackEffect { pops: $pops, pushes: $pushes, text: $text },
            }, )*
        ];
    };
}

use Pops::{Fixed, Mark};

opcodes! {
    MARK = b'(', proto 0, None, Fixed(0) => 1, "-> mark";
    STOP = b'.', proto 0, None, Fixed(1) => 0, "any ->";
    POP = b'0', proto 0, None, Fixed(1) => 0, "any ->";
    POP_MARK = b'1', proto 0, None, Mark(0) => 0, "mark stackslice ->";
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
    STRING = b'S', proto 0, StringNl, Fixed(0) => 1, "-> bytes_or_unicode";
    BINSTRING = b'T', proto 1, String4, Fixed(0) => 1, "-> bytes_or_unicode";
    SHORT_BINSTRING = b'U', proto 1, String1, Fixed(0) => 1, "-> bytes_or_unicode";
    UNICODE = b'V', proto 0, UnicodeStringNl, Fixed(0) => 1, "-> str";
    BINUNICODE = b'X', proto 1, UnicodeString4, Fixed(0) => 1, "-> str";
    APPEND = b'a', proto 0, None, Fixed(2) => 1, "list any -> list";
    BUILD = b'b', proto 0, None, Fixed(2) => 1, "any any -> any";
    GLOBAL = b'c', proto 0, StringNlNoescapePair, Fixed(0) => 1, "-> any";
    DICT = b'd', proto 0, None, Mark(0) => 1, "mark stackslice -> dict";
    EMPTY_DICT = b'}', proto 1, None, Fixed(0) => 1, "-> dict";
    APPENDS = b'e', proto 1, None, Mark(1) => 1, "list mark stackslice -> list";
    GET = b'g', proto 0, DecimalNlShort, Fixed(0) => 1, "-> any";
    BINGET = b'h', proto 1, Uint1, Fixed(0) => 1, "-> any";
    INST = b'i', proto 0, StringNlNoescapePair, Mark(0) => 1, "mark stackslice -> any";
    LONG_BINGET = b'j', proto 1, Uint4, Fixed(0) => 1, "-> any";
    LIST = b'l', proto 0, None, Mark(0) => 1, "mark stackslice -> list";
    EMPTY_LIST = b']', proto 1, None, Fixed(0) => 1, "-> list";
    OBJ = b'o', proto 1, None, Mark(0) => 1, "mark any stackslice -> any";
    PUT = b'p', proto 0, DecimalNlShort, Fixed(1) => 1, "any -> any";
    BINPUT = b'q', proto 1, Uint1, Fixed(1) => 1, "any -> any";
    LONG_BINPUT = b'r', proto 1, Uint4, Fixed(1) => 1, "any -> any";
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
    MEMOIZE = 0x94, proto 4, None, Fixed(1) => 1, "any -> any";
    FRAME = 0x95, proto 4, Uint8, Fixed(0) => 0, "->";
    BYTEARRAY8 = 0x96, proto 5, Bytearray8, Fixed(0) => 1, "-> bytearray";
    NEXT_BUFFER = 0x97, proto 5, None, Fixed(0) => 1, "-> any";
    READONLY_BUFFER = 0x98, proto 5, None, Fixed(1) => 1, "any -> any";
}

/// Byte -> index into [`OPCODES`], built once from the table.
static INDEX: std::sync::LazyLock<[u8; 256]> = std::sync::LazyLock::new(|| {
    let mut idx = [u8::MAX; 256];
    for (i, info) in OPCODES.iter().enumerate() {
        idx[info.code.0 as usize] = i as u8;
    }
    idx
});

impl Opcode {
    /// The table entry, or `None` for a byte that is not an opcode.
    #[inline]
    pub fn info(self) -> Option<&'static OpInfo> {
        let i = INDEX[self.0 as usize];
        OPCODES.get(i as usize)
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
        assert_eq!(per_proto, vec![23, 18, 12, 2, 10, 3]);
        assert!(Opcode(0xff).info().is_none());
    }
}
