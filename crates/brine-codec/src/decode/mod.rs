//! The pickle machine: decodes a stream exactly as CPython 3.11's C unpickler
//! (`Modules/_pickle.c`) does, into the symbolic [`Value`] model; or, with
//! [`DecodeOptions::python`], as another CPython version's does (each difference is modelled
//! where it arises, citing the upstream change; see [`crate::python`]).
//!
//! Each `load_*` method mirrors the C function of the same name, in the same order of
//! checks, because the order decides which exception a malformed stream raises. Where the
//! C unpickler would import or call something, the decoder records it instead (globals are
//! [`crate::Obj::Global`], calls and `__new__` are [`crate::Obj::Object`]); nothing a pickle names is ever
//! resolved. Hostile input is bounded: every length is checked against the remaining input
//! before allocating, and [`Limits`] bound the memo, the decoded size and hash nesting.
//!
//! `Machine::run` below is the dispatch: one line per opcode, all 68, grouped by family.
//! The families are modules, mirroring `encode/`:
//!
//! - `machine`: the state, reading arguments as the opcode table lays them out, the stack
//!   and its marks (MARK, POP, POP_MARK, DUP, STOP), making objects within the size budget;
//! - `ints`: numbers, bools and None;
//! - `text`: str and bytes;
//! - `containers`: tuples, lists, dicts, sets, frozensets and filling them;
//! - `memo`: GET/PUT and their binary forms, MEMOIZE;
//! - `objects`: globals, calls, `__new__`, BUILD, extensions and persistent ids;
//! - `framing`: PROTO and FRAME;
//! - `buffers`: out-of-band buffers and bytearray exports;
//! - `globals`: the [`globals`] entry point, which records `find_class` calls.

mod buffers;
mod compat_table;
mod containers;
mod framing;
mod globals;
mod ints;
mod machine;
mod memo;
mod objects;
mod text;

pub use globals::{calls_to_json, globals, FindClass, Globals};

use crate::error::{Error, ErrorCode};
use crate::opcodes::Opcode;
use crate::python::Python;
use crate::value::{Heap, Source, Value};
use machine::Machine;
use std::collections::HashMap;

/// Resource limits of the decoder. Exceeding one is an error of [`crate::Category::Limit`].
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deepest nesting of tuples/frozensets that hashing or comparing keys may walk (the
    /// only recursion in decoding). Defaults to 500: inside a 2 MiB thread stack even in
    /// debug builds, and far beyond any real key.
    pub max_depth: usize,
    /// Most memo entries. Defaults to 16,777,216.
    pub max_memo: usize,
    /// Most bytes the decoded value may take, counted as string/bytes lengths plus 16 bytes
    /// per container slot. Defaults to 8 GiB.
    pub max_alloc: usize,
    /// Most hash/compare steps spent on dict keys and set items, on top of 16 per input
    /// byte (so the budget grows with the input and time stays linear). Exponentially
    /// shared tuple keys make CPython hang; brine stops. Defaults to 10,000,000.
    pub max_work: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 500, max_memo: 1 << 24, max_alloc: 8 << 30, max_work: 10_000_000 }
    }
}

/// How to decode: limits plus what CPython's Unpickler takes as arguments.
#[derive(Clone, Debug)]
pub struct DecodeOptions {
    /// Resource limits.
    pub limits: Limits,
    /// Out-of-band buffers supplied (`buffers=` argument): `None` for no argument, `Some(n)`
    /// for n writable buffers. Defaults to `None`.
    pub buffers: Option<usize>,
    /// The copyreg extension registry: code -> (module, name). Defaults to empty.
    pub extensions: HashMap<i64, (String, String)>,
    /// `fix_imports`: map Python 2 names for protocol < 3. Defaults to true.
    pub fix_imports: bool,
    /// Count executed opcodes into [`Decoded::op_counts`]. Defaults to false.
    pub count_ops: bool,
    /// In [`decode_shared`], strs and bytes at least this long are windows into the input
    /// rather than copies. Defaults to 4096: a window costs one small allocation and keeps
    /// the whole input alive, which pays off for page-sized blobs and up.
    pub share_min: usize,
    /// The CPython whose C unpickler to reproduce. Defaults to [`Python::V3_11`].
    pub python: Python,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            limits: Limits::default(),
            buffers: None,
            extensions: HashMap::new(),
            fix_imports: true,
            count_ops: false,
            share_min: 4096,
            python: Python::V3_11,
        }
    }
}

/// A decoded pickle: the arena and the root value.
#[derive(Debug)]
pub struct Decoded {
    /// Every object made.
    pub heap: Heap,
    /// What STOP returned.
    pub root: Value,
    /// Offset just past STOP.
    pub end: usize,
    /// Executed opcodes by byte, when [`DecodeOptions::count_ops`] is set.
    pub op_counts: Option<Box<[u32; 256]>>,
}

/// Decodes with default options.
pub fn decode(data: &[u8]) -> Result<Decoded, Error> {
    decode_with(data, &DecodeOptions::default())
}

/// Decodes with the given options.
pub fn decode_with(data: &[u8], opts: &DecodeOptions) -> Result<Decoded, Error> {
    Machine::new(data, opts).finish()
}

/// Decodes `source` without copying long blobs: every str and bytes at least
/// [`DecodeOptions::share_min`] bytes long is a window into `source` (see
/// [`crate::Blob::shared`]), so decoding a pickle of large arrays or texts costs little more than
/// validating it. The result is the same value [`decode_with`] gives; the windows keep
/// `source` alive as long as any of them is.
pub fn decode_shared(source: &Source, opts: &DecodeOptions) -> Result<Decoded, Error> {
    let mut m = Machine::new(source.as_bytes(), opts);
    m.source = Some(source);
    m.finish()
}

/// Like [`decode_with`], also returning the opcode counts on failure (for coverage).
pub fn decode_counted(data: &[u8], opts: &DecodeOptions) -> (Result<Decoded, Error>, Box<[u32; 256]>) {
    let mut o = opts.clone();
    o.count_ops = true;
    let mut m = Machine::new(data, &o);
    match m.run() {
        Ok(root) => {
            let counts = m.op_counts.clone().unwrap();
            (Ok(Decoded { heap: m.heap, root, end: m.pos, op_counts: m.op_counts }), counts)
        }
        Err(code) => (Err(Error { code, offset: m.op_start }), m.op_counts.unwrap()),
    }
}

type R<T> = Result<T, ErrorCode>;

impl Machine<'_> {
    /// Runs to STOP: every opcode's semantics are one call away from here. The opcodes
    /// that make up nearly every real pickle are `#[inline]` into this loop; the rest stay
    /// out of it (`#[inline(never)]`), so that the loop stays small. A load shared by
    /// several opcodes takes the opcode as a const parameter: each opcode gets its own
    /// copy, with its argument's layout a constant.
    fn run(&mut self) -> R<Value> {
        loop {
            self.op_start = self.pos;
            let Some(&byte) = self.readable.get(self.pos) else {
                if self.leave_frame(1) {
                    continue;
                }
                return Err(ErrorCode::Eof);
            };
            self.pos += 1;
            if let Some(c) = self.op_counts.as_mut() {
                c[byte as usize] += 1;
            }
            match Opcode(byte) {
                // The stack (machine.rs).
                Opcode::STOP => return self.pop(),
                Opcode::MARK => self.push_mark(),
                Opcode::POP => self.load_pop()?,
                Opcode::POP_MARK => self.load_pop_mark()?,
                Opcode::DUP => self.load_dup()?,
                // Numbers, bools and None (ints.rs).
                Opcode::NONE => self.push(Value::None),
                Opcode::NEWTRUE => self.push(Value::Bool(true)),
                Opcode::NEWFALSE => self.push(Value::Bool(false)),
                Opcode::BININT => self.load_binint()?,
                Opcode::BININT1 => self.load_binint1()?,
                Opcode::BININT2 => self.load_binint2()?,
                Opcode::INT => self.load_int()?,
                Opcode::LONG => self.load_long()?,
                Opcode::LONG1 => self.load_counted_long::<{ Opcode::LONG1.0 }>()?,
                Opcode::LONG4 => self.load_counted_long::<{ Opcode::LONG4.0 }>()?,
                Opcode::BINFLOAT => self.load_binfloat()?,
                Opcode::FLOAT => self.load_float()?,
                // str and bytes (text.rs).
                Opcode::SHORT_BINUNICODE => self.load_counted_binunicode::<{ Opcode::SHORT_BINUNICODE.0 }>()?,
                Opcode::BINUNICODE => self.load_counted_binunicode::<{ Opcode::BINUNICODE.0 }>()?,
                Opcode::BINUNICODE8 => self.load_counted_binunicode::<{ Opcode::BINUNICODE8.0 }>()?,
                Opcode::UNICODE => self.load_unicode()?,
                Opcode::SHORT_BINBYTES => self.load_counted_binbytes::<{ Opcode::SHORT_BINBYTES.0 }>()?,
                Opcode::BINBYTES => self.load_counted_binbytes::<{ Opcode::BINBYTES.0 }>()?,
                Opcode::BINBYTES8 => self.load_counted_binbytes::<{ Opcode::BINBYTES8.0 }>()?,
                Opcode::BYTEARRAY8 => self.load_counted_binbytes::<{ Opcode::BYTEARRAY8.0 }>()?,
                Opcode::SHORT_BINSTRING => self.load_counted_binstring::<{ Opcode::SHORT_BINSTRING.0 }>()?,
                Opcode::BINSTRING => self.load_counted_binstring::<{ Opcode::BINSTRING.0 }>()?,
                Opcode::STRING => self.load_string()?,
                // Containers (containers.rs).
                Opcode::EMPTY_TUPLE => self.load_empty_tuple()?,
                Opcode::TUPLE => self.load_tuple()?,
                Opcode::TUPLE1 => self.load_tuple_n::<{ Opcode::TUPLE1.0 }>()?,
                Opcode::TUPLE2 => self.load_tuple_n::<{ Opcode::TUPLE2.0 }>()?,
                Opcode::TUPLE3 => self.load_tuple_n::<{ Opcode::TUPLE3.0 }>()?,
                Opcode::EMPTY_LIST => self.load_empty_list()?,
                Opcode::LIST => self.load_list()?,
                Opcode::APPEND => self.load_append()?,
                Opcode::APPENDS => self.load_appends()?,
                Opcode::EMPTY_DICT => self.load_empty_dict()?,
                Opcode::DICT => self.load_dict()?,
                Opcode::SETITEM => self.load_setitem()?,
                Opcode::SETITEMS => self.load_setitems()?,
                Opcode::EMPTY_SET => self.load_empty_set()?,
                Opcode::ADDITEMS => self.load_additems()?,
                Opcode::FROZENSET => self.load_frozenset()?,
                // The memo (memo.rs).
                Opcode::BINGET => self.load_binget()?,
                Opcode::LONG_BINGET => self.load_long_binget()?,
                Opcode::GET => self.load_get()?,
                Opcode::BINPUT => self.load_binput()?,
                Opcode::LONG_BINPUT => self.load_long_binput()?,
                Opcode::PUT => self.load_put()?,
                Opcode::MEMOIZE => self.load_memoize()?,
                // Globals and objects (objects.rs).
                Opcode::REDUCE => self.load_reduce()?,
                Opcode::GLOBAL => self.load_global()?,
                Opcode::STACK_GLOBAL => self.load_stack_global()?,
                Opcode::INST => self.load_inst()?,
                Opcode::OBJ => self.load_obj()?,
                Opcode::NEWOBJ => self.load_newobj()?,
                Opcode::NEWOBJ_EX => self.load_newobj_ex()?,
                Opcode::BUILD => self.load_build()?,
                Opcode::EXT1 => self.load_ext::<{ Opcode::EXT1.0 }>()?,
                Opcode::EXT2 => self.load_ext::<{ Opcode::EXT2.0 }>()?,
                Opcode::EXT4 => self.load_ext::<{ Opcode::EXT4.0 }>()?,
                Opcode::PERSID => self.load_persid()?,
                Opcode::BINPERSID => self.load_binpersid()?,
                // Protocol and framing (framing.rs).
                Opcode::PROTO => self.load_proto()?,
                Opcode::FRAME => self.load_frame()?,
                // Out-of-band buffers (buffers.rs).
                Opcode::NEXT_BUFFER => self.load_next_buffer()?,
                Opcode::READONLY_BUFFER => self.load_readonly_buffer()?,
                other => return Err(ErrorCode::UnknownOpcode(other.0)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dict_is_no_key_of_itself() {
        // d = {}; d[d] = 1 (SETITEMS, then SETITEM): unhashable type: 'dict', as in CPython.
        for p in [&b"}q\x00(h\x00K\x01u."[..], b"}q\x00h\x00K\x01s."] {
            let e = decode(p).unwrap_err();
            assert_eq!(e.code, ErrorCode::Type("unhashable type: 'dict'".into()));
        }
    }

    #[test]
    fn the_dispatch_lists_every_opcode() {
        // Every opcode of the table reaches its own arm: none is an unknown opcode.
        for info in crate::OPCODES {
            let e = decode(&[info.code.0]).err();
            assert!(!matches!(e, Some(Error { code: ErrorCode::UnknownOpcode(_), .. })), "{}", info.name);
        }
    }
}
