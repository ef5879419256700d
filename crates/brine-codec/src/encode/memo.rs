//! The pickler's memo: which objects were written, by identity, and the PUT/GET opcodes.
//!
//! Identity is the heap object, except for CPython's shared singletons: the empty str,
//! every one-character str below U+0100, the empty bytes and every one-byte bytes are one
//! object each, however many nodes spell them. Memo indices count entries in the order
//! they were made, as `PyMemoTable_Size` does.

use super::framing::Output;
use crate::opcodes::Opcode;
use crate::value::ObjId;

const ABSENT: u32 = u32::MAX;
/// Singleton slots: 0..=255 one-char strs, 256 the empty str, 257..=512 one-byte bytes,
/// 513 the empty bytes.
const SINGLETONS: usize = 514;

/// What identifies an object in the memo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// An object of the heap (or one the encoder made).
    Obj(ObjId),
    /// One of CPython's str/bytes singletons.
    Single(u16),
}

impl Key {
    /// The key of a str with this surrogatepass UTF-8: a singleton or its object.
    #[inline]
    pub(crate) fn of_str(id: ObjId, s: &[u8]) -> Key {
        match *s {
            [] => Key::Single(256),
            [c] => Key::Single(c as u16),
            [a @ 0xC2..=0xC3, b] => Key::Single(((a as u16 & 0x1F) << 6) | (b as u16 & 0x3F)),
            _ => Key::Obj(id),
        }
    }

    /// The key of a bytes object: a singleton or its object.
    #[inline]
    pub(crate) fn of_bytes(id: ObjId, b: &[u8]) -> Key {
        match *b {
            [] => Key::Single(513),
            [c] => Key::Single(257 + c as u16),
            _ => Key::Obj(id),
        }
    }
}

/// The memo table.
pub(crate) struct Memo {
    objs: Vec<u32>,
    singles: [u32; SINGLETONS],
    len: u32,
}

impl Memo {
    pub(crate) fn new(objects: usize) -> Self {
        Memo { objs: vec![ABSENT; objects], singles: [ABSENT; SINGLETONS], len: 0 }
    }

    /// Room for one more object id (the encoder made an object).
    pub(crate) fn grow(&mut self) {
        self.objs.push(ABSENT);
    }

    #[inline]
    pub(crate) fn get(&self, k: Key) -> Option<u32> {
        let v = match k {
            Key::Obj(id) => self.objs[id as usize],
            Key::Single(s) => self.singles[s as usize],
        };
        (v != ABSENT).then_some(v)
    }

    /// Records `k` under the next index and returns it, or `None` when the memo is full
    /// (more entries than LONG_BINPUT can number).
    #[inline]
    pub(crate) fn put(&mut self, k: Key) -> Option<u32> {
        let idx = self.len;
        if idx == ABSENT {
            return None;
        }
        match k {
            Key::Obj(id) => self.objs[id as usize] = idx,
            Key::Single(s) => self.singles[s as usize] = idx,
        }
        self.len += 1;
        Some(idx)
    }
}

/// `memo_put`'s opcode for index `idx`: MEMOIZE (4+), BINPUT/LONG_BINPUT (1-3), PUT (0).
#[inline(always)]
pub(crate) fn write_put(out: &mut Output, proto: u8, idx: u32) {
    if proto >= 4 {
        out.op(Opcode::MEMOIZE);
    } else if proto == 0 {
        write_text(out, b'p', idx);
    } else if idx < 256 {
        out.put(header!(BINPUT, idx));
    } else {
        out.put(header!(LONG_BINPUT, idx));
    }
}

/// `memo_get`'s opcode for index `idx`: BINGET/LONG_BINGET (1+), GET (0).
#[inline(always)]
pub(crate) fn write_get(out: &mut Output, proto: u8, idx: u32) {
    if proto == 0 {
        write_text(out, b'g', idx);
    } else if idx < 256 {
        out.put(header!(BINGET, idx));
    } else {
        out.put(header!(LONG_BINGET, idx));
    }
}

/// Protocol 0's PUT/GET: the opcode, the index in decimal, a newline.
#[cold]
fn write_text(out: &mut Output, op: u8, idx: u32) {
    out.write(format!("{}{idx}\n", op as char).as_bytes());
}
