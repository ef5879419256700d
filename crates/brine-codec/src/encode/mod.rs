//! The reference encoder: writes exactly the bytes CPython 3.11's C pickler
//! (`pickle.dumps(obj, protocol)`, i.e. `_pickle.Pickler`) writes for the object a value
//! describes, protocols 0-5; or, with [`EncodeOptions::python`], another CPython version's
//! (3.15 batches containers differently, see `Task`; 3.9 has no int digit limit; 3.14
//! raises PicklingError for `<locals>` names).
//!
//! It follows `save()` of Modules/_pickle.c call for call, with the recursion replaced by an
//! explicit work stack (documents nest as deep as pickles do):
//!
//! - atoms (None, bool, int, float) are written in place and never memoized;
//! - everything else is looked up in the memo first (`memo`: identity is the heap object,
//!   except CPython's shared empty/one-character str and bytes singletons);
//! - str, bytes, bytearray, list, dict, set, frozenset, non-empty tuples, globals and
//!   objects are memoized (PUT/BINPUT/LONG_BINPUT below protocol 4, MEMOIZE from 4);
//! - types a protocol lacks are written as CPython reduces them: bytes (< 3) as
//!   `_codecs.encode(latin1 text, 'latin1')`, bytearray (< 5) as `bytearray(bytes)`, set and
//!   frozenset (< 4) as `set([items])`; globals as GLOBAL (with the reverse fix_imports
//!   mapping below 3) or STACK_GLOBAL of two memoized strs (4+);
//! - objects ("object" nodes) as `save_reduce` writes their reduce value: the callable and
//!   argument tuple then REDUCE, or NEWOBJ / NEWOBJ_EX, then the list items, dict items and
//!   state (APPENDS, SETITEMS, BUILD), which is the only order of ops CPython can produce;
//! - containers are batched by 1000 with the C pickler's quirks (see `Task`);
//! - frames are placed as `_Pickler_OpcodeBoundary` places them (see `framing`).
//!
//! A document CPython cannot pickle, or that describes no object CPython would pickle this
//! way, gives an [`EncodeError`] naming the path of the offending node; nothing is written.
//! CPython's own recursion limit (deep nesting makes `pickle.dumps` raise RecursionError) is
//! not modelled: brine writes any depth.
//!
//! # What the document leaves open
//!
//! - The module and name strs of a global (STACK_GLOBAL's operands, protocol 4+) are not
//!   nodes. They are taken as CPython has them for classes and functions defined in Python:
//!   every global of one module shares one module str, every global of one qualified name
//!   one name str, and neither is a str node of the document (one-character strs below
//!   U+0100 aside: those are CPython's singletons everywhere). What is defined in C need not
//!   share: `__module__` can be a distinct str per object (`array._array_reconstructor`'s
//!   and `array.array`'s are) and `__qualname__` a new str at every access (builtin
//!   functions), so CPython's pickles of them may repeat the text where brine's do not
//!   (tests/stdlib-reencode-known.txt).
//! - A `newobj` with kwargs below protocol 4 is what `save_reduce` writes for
//!   `copyreg.__newobj_ex__`: at protocols 2-3 `functools.partial(cls.__new__, cls, *args,
//!   **kwargs)()`, taking `cls.__new__` to be `object.__new__` (written as
//!   `getattr(object, '__new__')`), at 0-1 a REDUCE of `copyreg.__newobj_ex__` itself.
//! - A `call` of a global named `__newobj__` / `__newobj_ex__` is NEWOBJ / NEWOBJ_EX from
//!   protocol 2 on, as `save_reduce` decides by the callable's `__name__`.
//! - A persistent object (`persid`) is written by its pid wherever it occurs (persistent_id
//!   runs before the memo) and is never memoized; its ops cannot be written.
//! - An out-of-band `buffer` is NEXT_BUFFER (READONLY_BUFFER when read-only) and must be the
//!   pickle's next buffer: CPython numbers them in writing order.
//! - Identities a document cannot express are not reproduced: the args tuple of a NEWOBJ
//!   that is also part of the state, say.

/// The opcode `$op` then `$v` as its fixed integer argument or length prefix,
/// little-endian: an array of 1 + the width the opcode table gives the argument (see
/// [`Opcode::header`]), so no writer states a width of its own.
macro_rules! header {
    ($op:ident, $v:expr) => {{
        const N: usize = header_len!($op);
        $crate::opcodes::Opcode::$op.header::<N>($v as u64)
    }};
}

/// The length of [`header!`]'s array for `$op`: a constant.
macro_rules! header_len {
    ($op:ident) => {
        1 + $crate::opcodes::Opcode::$op.layout().width()
    };
}

mod compat_reverse;
mod framing;
mod globals;
mod ints;
mod memo;
mod path;
mod text;

use crate::json::read::ReadError;
use crate::opcodes::{Opcode, HIGHEST_PROTOCOL};
use crate::python::Python;
use crate::value::{Construction, Dict, Heap, Obj, ObjId, ObjOp, Object, PyStr, Value};
pub use framing::Encoded;
use framing::Output;
use memo::{write_get, write_put, Key, Memo};
use std::collections::HashMap;
use std::fmt;

/// Why a value cannot be encoded. Each variant says which exception CPython raises, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeErrorCode {
    /// `ValueError: pickle protocol must be <= 5`.
    Protocol(u8),
    /// `_pickle.PicklingError` (an identifier GLOBAL cannot encode, a PickleBuffer below
    /// protocol 5, a non-ASCII protocol 0 persistent id, a malformed reduce value...).
    Pickling(String),
    /// `OverflowError` (a str or bytes of 4 GiB or more below protocol 4).
    Overflow(String),
    /// `ValueError` (an int of more than 4300 digits written as text).
    Value(String),
    /// `AttributeError` (a `<locals>` name).
    Attribute(String),
    /// `RecursionError`: the object is needed to construct itself, so `save()` recurses
    /// forever.
    Recursion,
    /// No CPython exception: the document describes something no object pickles to (ops in
    /// another order than list items, dict items, state; an `add` op; a read-only view of an
    /// in-band bytearray; out-of-band buffers out of order...).
    Unwritable(String),
}

impl EncodeErrorCode {
    /// The CPython exception class, or `None` for [`EncodeErrorCode::Unwritable`].
    pub fn py_exception(&self) -> Option<&'static str> {
        use EncodeErrorCode::*;
        match self {
            Protocol(_) | Value(_) => Some("ValueError"),
            Pickling(_) => Some("PicklingError"),
            Overflow(_) => Some("OverflowError"),
            Attribute(_) => Some("AttributeError"),
            Recursion => Some("RecursionError"),
            Unwritable(_) => None,
        }
    }
}

impl fmt::Display for EncodeErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use EncodeErrorCode::*;
        match self {
            Protocol(p) => write!(f, "pickle protocol must be <= {HIGHEST_PROTOCOL}, not {p}"),
            Pickling(m) | Overflow(m) | Value(m) | Attribute(m) => f.write_str(m),
            Recursion => f.write_str("maximum recursion depth exceeded while pickling an object (it is needed to build itself)"),
            Unwritable(m) => write!(f, "no object pickles this way: {m}"),
        }
    }
}

/// An encoding error: what, and the path of the node in the document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    /// JSON path of the offending node in the document (`/` for the root).
    pub path: String,
    /// What went wrong.
    pub code: EncodeErrorCode,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code.py_exception() {
            Some(e) => write!(f, "{}: {e}: {}", self.path, self.code),
            None => write!(f, "{}: {}", self.path, self.code),
        }
    }
}

impl std::error::Error for EncodeError {}

/// How to encode: which CPython's `pickle.dumps` to reproduce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EncodeOptions {
    /// The CPython whose C pickler to reproduce. Defaults to [`Python::V3_11`].
    pub python: Python,
}

/// The `_with` functions take options as `impl Into<EncodeOptions>`: a [`Python`], an
/// `EncodeOptions` or a reference to one.
impl From<Python> for EncodeOptions {
    fn from(python: Python) -> EncodeOptions {
        EncodeOptions { python }
    }
}

impl From<&EncodeOptions> for EncodeOptions {
    fn from(opts: &EncodeOptions) -> EncodeOptions {
        *opts
    }
}

/// Encodes `root` as CPython 3.11's `pickle.dumps(obj, protocol)` would.
pub fn encode(heap: &Heap, root: Value, protocol: u8) -> Result<Vec<u8>, EncodeError> {
    encode_with(heap, root, protocol, EncodeOptions::default())
}

/// Encodes `root` as `pickle.dumps(obj, protocol)` of [`EncodeOptions::python`] would
/// (`opts`: a [`Python`] or [`EncodeOptions`]).
pub fn encode_with(
    heap: &Heap,
    root: Value,
    protocol: u8,
    opts: impl Into<EncodeOptions>,
) -> Result<Vec<u8>, EncodeError> {
    Ok(encode_into(heap, root, protocol, false, &opts.into())?.finish())
}

/// [`encode`]'s bytes, without copying the str and bytes payloads of 64 KiB or more: the
/// [`Encoded`] parts borrow them from `heap` (as CPython's `Pickler.dump` writes them
/// straight to its file). With [`crate::decode_shared`], a pickle of large blobs
/// re-encodes without its blobs ever being copied.
pub fn encode_parts(heap: &Heap, root: Value, protocol: u8) -> Result<Encoded<'_>, EncodeError> {
    encode_parts_with(heap, root, protocol, EncodeOptions::default())
}

/// [`encode_parts`] for the pickler of [`EncodeOptions::python`] (`opts`: a [`Python`] or
/// [`EncodeOptions`]).
pub fn encode_parts_with(
    heap: &Heap,
    root: Value,
    protocol: u8,
    opts: impl Into<EncodeOptions>,
) -> Result<Encoded<'_>, EncodeError> {
    Ok(encode_into(heap, root, protocol, true, &opts.into())?.finish_parts())
}

fn encode_into<'h>(
    heap: &'h Heap,
    root: Value,
    protocol: u8,
    share: bool,
    opts: &EncodeOptions,
) -> Result<Output<'h>, EncodeError> {
    if protocol > HIGHEST_PROTOCOL {
        return Err(EncodeError { path: "/".into(), code: EncodeErrorCode::Protocol(protocol) });
    }
    let mut e = Encoder::new(heap, protocol, opts.python);
    if share {
        e.out.share_payloads();
    }
    match e.run(root) {
        Ok(()) => Ok(e.out),
        Err(Fail { at, code }) => {
            let origin = at.map(|id| e.origin_of(id));
            let path = origin.and_then(|id| path::path_of(heap, root, id)).unwrap_or_else(|| "/".into());
            Err(EncodeError { path, code })
        }
    }
}

/// Why a pickle JSON document could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentError {
    /// The document is malformed.
    Read(ReadError),
    /// The value cannot be encoded.
    Encode(EncodeError),
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentError::Read(e) => e.fmt(f),
            DocumentError::Encode(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for DocumentError {}

/// Reads a pickle JSON document and encodes it: [`crate::json::read::read`] then [`encode`].
pub fn encode_document(doc: &serde_json::Value, protocol: u8) -> Result<Vec<u8>, DocumentError> {
    encode_document_with(doc, protocol, EncodeOptions::default())
}

/// [`encode_document`] for the pickler of [`EncodeOptions::python`] (`opts`: a [`Python`]
/// or [`EncodeOptions`]).
pub fn encode_document_with(
    doc: &serde_json::Value,
    protocol: u8,
    opts: impl Into<EncodeOptions>,
) -> Result<Vec<u8>, DocumentError> {
    let (heap, root) = crate::json::read::read(doc).map_err(DocumentError::Read)?;
    encode_with(&heap, root, protocol, opts).map_err(DocumentError::Encode)
}

/// The lowest protocol in which CPython writes every node of `doc` with its own opcodes:
/// below it, bytes (3), set and frozenset (4) and bytearray (5) are written as calls
/// (`_codecs.encode`, `builtins.set`...), a dotted qualified name cannot be written by name
/// (4), and a `__reduce_ex__` object made by `cls.__new__` is written as a `copyreg` call
/// instead of NEWOBJ (2; NEWOBJ_EX with keyword arguments: 4). Such calls decode to
/// recorded calls rather than to the document, so a round trip starts here.
pub fn native_protocol(doc: &serde_json::Value) -> u8 {
    use serde_json::Value as J;
    let mut p = 0;
    let mut work = vec![doc];
    while let Some(v) = work.pop() {
        match v {
            J::Object(m) => {
                p = p.max(match m.get("t").and_then(J::as_str) {
                    Some("bytes") => 3,
                    Some("set" | "frozenset") => 4,
                    Some("bytearray") => 5,
                    Some("global") if m.get("name").and_then(J::as_str).is_some_and(|n| n.contains('.')) => 4,
                    _ => 0,
                });
                if let Some(new) = m.get("new").filter(|n| n.get("newobj").is_some()) {
                    let kwargs = new.get("kwargs").and_then(J::as_array).is_some_and(|k| !k.is_empty());
                    p = p.max(if kwargs { 4 } else { 2 });
                }
                work.extend(m.values());
            }
            J::Array(a) => work.extend(a),
            _ => {}
        }
    }
    p
}

/// A failure inside the encoder, located at an object (mapped to the document on the way out).
struct Fail {
    at: Option<ObjId>,
    code: EncodeErrorCode,
}

type R<T> = Result<T, Fail>;

/// C's BATCHSIZE.
const BATCH: u32 = 1000;
const NOT_PENDING: u32 = u32::MAX;

/// One step of the explicit `save()` recursion. Item cursors (`pos`) walk a container one
/// item at a time, writing the batch opcodes between items as the C loops do:
///
/// - `Appends` (list, protocol 1+, `batch_list_exact`): `MARK items APPENDS` per 1000
///   items, so 1001 items end in `MARK item APPENDS`, not APPEND (pickle.py differs);
/// - `SetItems` (dict, protocol 1+, `batch_dict_exact`) and `AddItems` (set, protocol 4+):
///   likewise, but a length that is a multiple of 1000 gets one more, empty,
///   `MARK SETITEMS` / `MARK ADDITEMS`;
/// - from CPython 3.15 (gh-135573, PR #144162) a batch of one list item or dict pair is
///   written with APPEND / SETITEM (no MARK), and no empty batch is written: 1001 items end
///   in `item APPEND`, 1000 in the one full batch (a set's lone last item keeps its
///   `MARK item ADDITEMS`);
/// - `Append0`/`SetItem0` (protocol 0): APPEND/SETITEM after every item;
/// - `Items`: just the items (tuple elements, frozenset items).
#[derive(Clone, Copy, Debug)]
enum Task {
    Save(Value),
    Op(Opcode),
    /// `memo_put` of this object.
    MemoPut(ObjId),
    Items { id: ObjId, pos: u32 },
    Appends { id: ObjId, pos: u32 },
    Append0 { id: ObjId, pos: u32 },
    SetItems { id: ObjId, pos: u32 },
    SetItem0 { id: ObjId, pos: u32 },
    AddItems { id: ObjId, pos: u32 },
    /// After a tuple's elements: TUPLEn/TUPLE and memo_put, or, when saving the elements
    /// memoized the tuple (it is recursive), pop them and fetch it.
    TupleEnd { id: ObjId, len: u32, prev: u32 },
    /// After a frozenset's items (protocol 4+): FROZENSET and memo_put, or POP_MARK and fetch.
    FrozenEnd { id: ObjId, prev: u32 },
    /// After REDUCE/NEWOBJ/NEWOBJ_EX: memo_put (or POP and fetch when the object got
    /// memoized meanwhile), then the object's ops.
    ReduceEnd { id: ObjId, prev: u32 },
    /// A memoized heap container's children are done (see [`Encoder::pending`]).
    EndBarrier,
}

/// A global's (module, name).
type GlobalName = (Box<[u8]>, Box<[u8]>);

/// Which interned strs a text belongs to (see [`Encoder::interned`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Pool {
    Module = 0,
    Name = 1,
    Constant = 2,
}

/// The globals the encoder writes on its own: reductions and `save_global`'s getattr.
#[derive(Clone, Copy, Debug)]
enum Known {
    Bytes,
    Bytearray,
    CodecsEncode,
    Set,
    Frozenset,
    Getattr,
    Object,
    Partial,
    NewObj,
    NewObjEx,
}
const KNOWN: usize = 10;
/// (module, name) of each [`Known`], as the documents and the decoder name them.
const KNOWN_NAMES: [(&str, &str); KNOWN] = [
    ("builtins", "bytes"),
    ("builtins", "bytearray"),
    ("_codecs", "encode"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "getattr"),
    ("builtins", "object"),
    ("functools", "partial"),
    ("copyreg", "__newobj__"),
    ("copyreg", "__newobj_ex__"),
];

struct Encoder<'h> {
    heap: &'h Heap,
    /// Ids from `base` on are objects the encoder made (argument tuples, reduce values...).
    base: u32,
    ext: Vec<Obj>,
    /// For each made object, the heap object it was made for (error paths).
    ext_origin: Vec<ObjId>,
    proto: u8,
    out: Output<'h>,
    memo: Memo,
    tasks: Vec<Task>,
    /// The one global per (module, name): heap globals first, then made ones.
    globals: HashMap<GlobalName, ObjId>,
    /// Heap globals that repeat an earlier (module, name) -> that earlier one.
    global_dups: HashMap<ObjId, ObjId>,
    /// Whether `globals` and `global_dups` hold the heap's globals yet (they are gathered
    /// the first time a global is needed: most documents have none).
    globals_scanned: bool,
    /// Interned strs, one object per (pool, text): module names of globals (every class of
    /// a module shares its `__module__` str), qualified names of globals (identifiers are
    /// interned), other interned constants ("latin1").
    interned: [HashMap<Box<[u8]>, ObjId>; 3],
    /// The globals the encoder itself names, once looked up.
    known: [Option<ObjId>; KNOWN],
    /// Recursion guard. A heap object whose save is under way and that is memoized only
    /// after its children (tuple, frozenset, reduced object) is pending, with the number of
    /// open barriers (memoized heap containers whose children are being saved) at that time.
    /// Meeting a pending object again with no new barrier open means CPython's `save()`
    /// recurses forever: the second pass would take the same path.
    pending: Vec<u32>,
    barriers: u32,
    /// Out-of-band buffers written so far.
    buffers: usize,
    /// The CPython whose pickler this is.
    python: Python,
}

fn obj_in<'a>(heap: &'a Heap, ext: &'a [Obj], base: u32, id: ObjId) -> &'a Obj {
    if id < base {
        heap.get(id)
    } else {
        &ext[(id - base) as usize]
    }
}

/// The bytes of heap str or bytes `id`, borrowed for as long as the heap (for
/// [`encode_parts`] to lend its output); `None` for objects the encoder made itself.
fn lendable(heap: &Heap, base: u32, id: ObjId) -> Option<&[u8]> {
    match (id < base).then(|| heap.get(id))? {
        Obj::Str(s) => Some(&s.0),
        Obj::Bytes(b) => Some(b),
        _ => None,
    }
}

fn fail<T>(at: ObjId, code: EncodeErrorCode) -> R<T> {
    Err(Fail { at: Some(at), code })
}

#[cold]
fn memo_full(at: ObjId) -> R<()> {
    fail(at, EncodeErrorCode::Pickling("memo id too large for LONG_BINPUT".into()))
}

fn is_global(o: &Obj) -> bool {
    matches!(o, Obj::Global { .. })
}

impl<'h> Encoder<'h> {
    fn new(heap: &'h Heap, proto: u8, python: Python) -> Self {
        let base = heap.objs.len() as u32;
        Encoder {
            heap,
            base,
            ext: Vec::new(),
            ext_origin: Vec::new(),
            proto,
            out: Output::with_capacity(1 << 16),
            memo: Memo::new(base as usize),
            tasks: Vec::with_capacity(64),
            globals: HashMap::new(),
            global_dups: HashMap::new(),
            globals_scanned: false,
            interned: Default::default(),
            known: [None; KNOWN],
            pending: vec![NOT_PENDING; base as usize],
            barriers: 0,
            buffers: 0,
            python,
        }
    }

    #[inline]
    fn obj(&self, id: ObjId) -> &Obj {
        obj_in(self.heap, &self.ext, self.base, id)
    }

    /// The heap object `id` stands for in error messages.
    fn origin_of(&self, id: ObjId) -> ObjId {
        if id < self.base {
            id
        } else {
            self.ext_origin[(id - self.base) as usize]
        }
    }

    /// Makes an object on behalf of `origin`.
    fn make(&mut self, o: Obj, origin: ObjId) -> ObjId {
        let id = self.base + self.ext.len() as u32;
        self.ext.push(o);
        self.ext_origin.push(self.origin_of(origin));
        self.memo.grow();
        id
    }

    fn make_tuple(&mut self, items: Vec<Value>, origin: ObjId) -> Value {
        Value::Obj(self.make(Obj::Tuple(items), origin))
    }

    fn scan_globals(&mut self) {
        if self.globals_scanned {
            return;
        }
        self.globals_scanned = true;
        for (i, o) in self.heap.objs.iter().enumerate() {
            if let Obj::Global(g) = o {
                let key: GlobalName = (g.module.as_bytes().into(), g.name.as_bytes().into());
                match self.globals.get(&key) {
                    Some(&first) => {
                        self.global_dups.insert(i as ObjId, first);
                    }
                    None => {
                        self.globals.insert(key, i as ObjId);
                    }
                }
            }
        }
    }

    /// The global (module, name): the document's own if it has one.
    fn global(&mut self, module: &[u8], name: &[u8], origin: ObjId) -> Value {
        self.scan_globals();
        let key: GlobalName = (module.into(), name.into());
        if let Some(&id) = self.globals.get(&key) {
            return Value::Obj(id);
        }
        let id = self.make(Obj::global(PyStr::from_bytes(&key.0), PyStr::from_bytes(&key.1)), origin);
        self.globals.insert(key, id);
        Value::Obj(id)
    }

    fn intern(&mut self, pool: Pool, s: &[u8], origin: ObjId) -> Value {
        if let Some(&id) = self.interned[pool as usize].get(s) {
            return Value::Obj(id);
        }
        let id = self.make(Obj::Str(PyStr(s.into())), origin);
        self.interned[pool as usize].insert(s.into(), id);
        Value::Obj(id)
    }

    /// One of the globals the encoder names itself (cached: bytes below protocol 3 need two
    /// per object).
    fn known(&mut self, k: Known, origin: ObjId) -> Value {
        if let Some(id) = self.known[k as usize] {
            return Value::Obj(id);
        }
        let (m, n) = KNOWN_NAMES[k as usize];
        let v = self.global(m.as_bytes(), n.as_bytes(), origin);
        if let Value::Obj(id) = v {
            self.known[k as usize] = Some(id);
        }
        v
    }

    #[inline]
    fn key_of(&mut self, id: ObjId) -> Key {
        match self.obj(id) {
            Obj::Str(s) => Key::of_str(id, &s.0),
            // The only bytes the encoder makes are a bytearray's contents below protocol 5:
            // `PyBytes_FromObject` copies into a new object, never a singleton.
            Obj::Bytes(b) if id < self.base => Key::of_bytes(id, b),
            Obj::Global { .. } => self.global_key(id),
            _ => Key::Obj(id),
        }
    }

    /// A heap global is the first heap global of its (module, name).
    fn global_key(&mut self, id: ObjId) -> Key {
        if id >= self.base {
            return Key::Obj(id);
        }
        self.scan_globals();
        Key::Obj(self.global_dups.get(&id).copied().unwrap_or(id))
    }

    #[inline(always)]
    fn memo_put(&mut self, key: Key, at: ObjId) -> R<()> {
        match self.memo.put(key) {
            Some(idx) => {
                write_put(&mut self.out, self.proto, idx);
                Ok(())
            }
            None => memo_full(at),
        }
    }

    /// Marks a heap object pending; returns what to restore when its save ends.
    fn enter(&mut self, id: ObjId) -> u32 {
        if id < self.base {
            std::mem::replace(&mut self.pending[id as usize], self.barriers)
        } else {
            NOT_PENDING
        }
    }

    fn leave(&mut self, id: ObjId, prev: u32) {
        if id < self.base {
            self.pending[id as usize] = prev;
        }
    }

    /// A memoized heap container starts saving its children.
    fn open_barrier(&mut self, id: ObjId) {
        if id < self.base {
            self.barriers += 1;
            self.tasks.push(Task::EndBarrier);
        }
    }

    /// Pushes tasks to run in the given order.
    fn push_seq(&mut self, seq: &[Task]) {
        self.tasks.extend(seq.iter().rev());
    }

    fn run(&mut self, root: Value) -> R<()> {
        if self.proto >= 2 {
            self.out.write(&header!(PROTO, self.proto));
            if self.proto >= 4 {
                self.out.start_framing();
            }
        }
        self.save(root)?;
        while let Some(t) = self.tasks.pop() {
            match t {
                Task::Save(v) => self.save(v)?,
                Task::Op(op) => self.out.op(op),
                Task::MemoPut(id) => {
                    let k = self.key_of(id);
                    self.memo_put(k, id)?;
                }
                Task::Items { id, pos } => self.items(id, pos)?,
                Task::Appends { id, pos } => self.appends(id, pos)?,
                Task::Append0 { id, pos } => self.append0(id, pos)?,
                Task::SetItems { id, pos } => self.setitems(id, pos)?,
                Task::SetItem0 { id, pos } => self.setitem0(id, pos)?,
                Task::AddItems { id, pos } => self.additems(id, pos)?,
                Task::TupleEnd { id, len, prev } => self.tuple_end(id, len, prev)?,
                Task::FrozenEnd { id, prev } => self.frozen_end(id, prev)?,
                Task::ReduceEnd { id, prev } => self.reduce_end(id, prev)?,
                Task::EndBarrier => self.barriers -= 1,
            }
        }
        self.out.op(Opcode::STOP);
        self.out.commit_frame();
        Ok(())
    }

    // ---- save() ----

    /// `save(obj)`: a frame boundary, then the object. Children are pushed as tasks, never
    /// saved from here: a cursor calls this for one item and returns to the task loop, so
    /// the native stack stays a few frames deep whatever the nesting.
    #[inline]
    fn save(&mut self, v: Value) -> R<()> {
        match v {
            Value::Obj(id) => {
                self.out.boundary();
                self.save_obj(id)
            }
            atom => {
                self.save_atom(atom);
                Ok(())
            }
        }
    }

    /// `save()` of None, a bool, an int or a float (never memoized, never fails).
    #[inline(always)]
    fn save_atom(&mut self, v: Value) {
        self.out.boundary();
        match v {
            Value::None => self.out.op(Opcode::NONE),
            Value::Bool(b) => ints::write_bool(&mut self.out, self.proto, b),
            Value::Int(i) => ints::write_i64(&mut self.out, self.proto, i),
            Value::Float(f) => ints::write_float(&mut self.out, self.proto, f),
            Value::Obj(_) => unreachable!(),
        }
    }

    #[inline(never)]
    fn save_obj(&mut self, id: ObjId) -> R<()> {
        let proto = self.proto;
        // Atoms, and persistent ids (persistent_id runs before the memo is consulted).
        let key = match obj_in(self.heap, &self.ext, self.base, id) {
            Obj::Str(s) => Key::of_str(id, &s.0),
            Obj::Bytes(b) if id < self.base => Key::of_bytes(id, b),
            Obj::Int(b) => return ints::write_bigint(&mut self.out, proto, b, self.python).or_else(|c| fail(id, c)),
            Obj::Float(f) => {
                ints::write_float(&mut self.out, proto, *f);
                return Ok(());
            }
            Obj::Object(o) if matches!(o.new, Construction::PersId(_)) => {
                let Construction::PersId(pid) = &o.new else { unreachable!() };
                if !o.ops.is_empty() {
                    return fail(id, EncodeErrorCode::Unwritable("ops on a persistent object (CPython never reduces it)".into()));
                }
                return self.save_persid(id, *pid);
            }
            Obj::Global { .. } => self.global_key(id),
            _ => Key::Obj(id),
        };
        if let Some(idx) = self.memo.get(key) {
            write_get(&mut self.out, proto, idx);
            return Ok(());
        }
        if id < self.base && self.pending[id as usize] == self.barriers {
            return fail(id, EncodeErrorCode::Recursion);
        }
        match obj_in(self.heap, &self.ext, self.base, id) {
            Obj::Str(s) => {
                let lent = lendable(self.heap, self.base, id);
                text::write_str_blob(&mut self.out, proto, &s.0, lent).or_else(|c| fail(id, c))?;
                self.memo_put(key, id)
            }
            Obj::Bytes(b) => {
                if proto >= 3 {
                    let lent = lendable(self.heap, self.base, id);
                    text::write_bytes_blob(&mut self.out, proto, b, lent).or_else(|c| fail(id, c))?;
                    return self.memo_put(key, id);
                }
                // save_bytes: bytes() or _codecs.encode(latin1 text, 'latin1'), memoized by
                // save_reduce.
                let (callable, args) = if b.is_empty() {
                    (self.known(Known::Bytes, id), vec![])
                } else {
                    let t = text::latin1_to_utf8(b);
                    let s = self.make(Obj::Str(PyStr(t.into())), id);
                    let enc = self.intern(Pool::Constant, b"latin1", id);
                    (self.known(Known::CodecsEncode, id), vec![Value::Obj(s), enc])
                };
                let args = self.make_tuple(args, id);
                self.save_reduce(callable, args, id);
                Ok(())
            }
            Obj::ByteArray(b) => {
                if proto >= 5 {
                    text::write_bytearray(&mut self.out, b);
                    return self.memo_put(key, id);
                }
                let args = if b.is_empty() {
                    vec![]
                } else {
                    let copy = b.clone();
                    vec![Value::Obj(self.make(Obj::Bytes(copy.into()), id))]
                };
                let callable = self.known(Known::Bytearray, id);
                let args = self.make_tuple(args, id);
                self.save_reduce(callable, args, id);
                Ok(())
            }
            Obj::Tuple(items) => {
                let len = items.len() as u32;
                self.save_tuple(id, len);
                Ok(())
            }
            Obj::List(items) => {
                let len = items.len() as u32;
                if proto >= 1 {
                    self.out.op(Opcode::EMPTY_LIST);
                } else {
                    self.out.write(&[Opcode::MARK.0, Opcode::LIST.0]);
                }
                self.memo_put(key, id)?;
                if len == 0 {
                    return Ok(());
                }
                self.open_barrier(id);
                if proto == 0 {
                    self.tasks.push(Task::Append0 { id, pos: 0 });
                } else if len == 1 {
                    self.push_seq(&[Task::Items { id, pos: 0 }, Task::Op(Opcode::APPEND)]);
                } else {
                    self.tasks.push(Task::Appends { id, pos: 0 });
                }
                Ok(())
            }
            Obj::Dict(d) => {
                let len = d.len() as u32;
                let first = d.entries.first().copied();
                if proto >= 1 {
                    self.out.op(Opcode::EMPTY_DICT);
                } else {
                    self.out.write(&[Opcode::MARK.0, Opcode::DICT.0]);
                }
                self.memo_put(key, id)?;
                if len == 0 {
                    return Ok(());
                }
                self.open_barrier(id);
                if proto == 0 {
                    self.tasks.push(Task::SetItem0 { id, pos: 0 });
                } else if len == 1 {
                    let (k, v) = first.unwrap();
                    self.push_seq(&[Task::Save(k), Task::Save(v), Task::Op(Opcode::SETITEM)]);
                } else {
                    self.tasks.push(Task::SetItems { id, pos: 0 });
                }
                Ok(())
            }
            Obj::Set(s) | Obj::FrozenSet(s) => {
                let frozen = matches!(self.obj(id), Obj::FrozenSet(_));
                if proto < 4 {
                    // set([items]) / frozenset([items]) by save_reduce.
                    let items = s.items.clone();
                    let prev = self.enter(id);
                    let list = Value::Obj(self.make(Obj::List(items), id));
                    let callable = self.known(if frozen { Known::Frozenset } else { Known::Set }, id);
                    let args = self.make_tuple(vec![list], id);
                    self.push_seq(&[
                        Task::Save(callable),
                        Task::Save(args),
                        Task::Op(Opcode::REDUCE),
                        Task::ReduceEnd { id, prev },
                    ]);
                    return Ok(());
                }
                if frozen {
                    self.out.op(Opcode::MARK);
                    let prev = self.enter(id);
                    self.push_seq(&[Task::Items { id, pos: 0 }, Task::FrozenEnd { id, prev }]);
                    return Ok(());
                }
                let len = s.len();
                self.out.op(Opcode::EMPTY_SET);
                self.memo_put(key, id)?;
                if len == 0 {
                    return Ok(());
                }
                self.open_barrier(id);
                self.tasks.push(Task::AddItems { id, pos: 0 });
                Ok(())
            }
            Obj::Buffer { index, readonly } => {
                let (index, readonly) = (*index, *readonly);
                if proto < 5 {
                    // (3.13 fixed the message's grammar: gh-122311, PR #122386.)
                    let be = if self.python >= Python::V3_13 { "be " } else { "" };
                    return fail(
                        id,
                        EncodeErrorCode::Pickling(format!("PickleBuffer can only {be}pickled with protocol >= 5")),
                    );
                }
                if index != self.buffers {
                    return fail(
                        id,
                        EncodeErrorCode::Unwritable(format!(
                            "out-of-band buffer {index} is the pickle's buffer {} (CPython numbers buffers as it writes them)",
                            self.buffers
                        )),
                    );
                }
                self.buffers += 1;
                self.out.op(Opcode::NEXT_BUFFER);
                if readonly {
                    self.out.op(Opcode::READONLY_BUFFER);
                }
                Ok(())
            }
            Obj::View(_) => fail(
                id,
                EncodeErrorCode::Unwritable("a read-only view of an in-band bytearray (BYTEARRAY8 READONLY_BUFFER)".into()),
            ),
            Obj::Global { .. } => self.save_global(id),
            Obj::Object { .. } => self.save_object(id),
            Obj::Int(_) | Obj::Float(_) => unreachable!(),
        }
    }

    fn save_tuple(&mut self, id: ObjId, len: u32) {
        if len == 0 {
            if self.proto >= 1 {
                self.out.op(Opcode::EMPTY_TUPLE);
            } else {
                self.out.write(&[Opcode::MARK.0, Opcode::TUPLE.0]);
            }
            return;
        }
        if !(self.proto >= 2 && len <= 3) {
            self.out.op(Opcode::MARK);
        }
        let prev = self.enter(id);
        self.push_seq(&[Task::Items { id, pos: 0 }, Task::TupleEnd { id, len, prev }]);
    }

    fn tuple_end(&mut self, id: ObjId, len: u32, prev: u32) -> R<()> {
        self.leave(id, prev);
        let key = Key::Obj(id);
        let short = self.proto >= 2 && len <= 3;
        if let Some(idx) = self.memo.get(key) {
            if short {
                for _ in 0..len {
                    self.out.op(Opcode::POP);
                }
            } else if self.proto >= 1 {
                self.out.op(Opcode::POP_MARK);
            } else {
                for _ in 0..=len {
                    self.out.op(Opcode::POP);
                }
            }
            write_get(&mut self.out, self.proto, idx);
            return Ok(());
        }
        self.out.op(if short {
            [Opcode::EMPTY_TUPLE, Opcode::TUPLE1, Opcode::TUPLE2, Opcode::TUPLE3][len as usize]
        } else {
            Opcode::TUPLE
        });
        self.memo_put(key, id)
    }

    fn frozen_end(&mut self, id: ObjId, prev: u32) -> R<()> {
        self.leave(id, prev);
        let key = Key::Obj(id);
        if let Some(idx) = self.memo.get(key) {
            self.out.op(Opcode::POP_MARK);
            write_get(&mut self.out, self.proto, idx);
            return Ok(());
        }
        self.out.op(Opcode::FROZENSET);
        self.memo_put(key, id)
    }

    // ---- item cursors ----

    #[inline]
    fn item(&self, id: ObjId, pos: u32) -> Option<Value> {
        match self.obj(id) {
            Obj::Tuple(v) | Obj::List(v) => v.get(pos as usize).copied(),
            Obj::Set(s) | Obj::FrozenSet(s) => s.items.get(pos as usize).copied(),
            _ => None,
        }
    }

    /// The items of a heap tuple/list/set/frozenset, borrowed from the heap (not from the
    /// encoder), so a cursor can walk them while it writes; `None` for made objects.
    #[inline]
    fn heap_items(&self, id: ObjId) -> Option<&'h [Value]> {
        if id >= self.base {
            return None;
        }
        let heap: &'h Heap = self.heap;
        match heap.get(id) {
            Obj::Tuple(v) | Obj::List(v) => Some(v),
            Obj::Set(s) | Obj::FrozenSet(s) => Some(&s.items),
            _ => None,
        }
    }

    #[inline]
    fn heap_entries(&self, id: ObjId) -> Option<&'h [(Value, Value)]> {
        if id >= self.base {
            return None;
        }
        let heap: &'h Heap = self.heap;
        match heap.get(id) {
            Obj::Dict(d) => Some(&d.entries),
            _ => None,
        }
    }

    #[inline(always)]
    fn fetch(&self, fast: Option<&'h [Value]>, id: ObjId, pos: u32) -> Value {
        match fast {
            Some(items) => items[pos as usize],
            None => self.item(id, pos).unwrap(),
        }
    }

    #[inline(always)]
    fn fetch_entry(&self, fast: Option<&'h [(Value, Value)]>, id: ObjId, pos: u32) -> (Value, Value) {
        match fast {
            Some(e) => e[pos as usize],
            None => self.entry(id, pos),
        }
    }

    #[inline]
    fn len_of(&self, id: ObjId) -> u32 {
        (match self.obj(id) {
            Obj::Tuple(v) | Obj::List(v) => v.len(),
            Obj::Set(s) | Obj::FrozenSet(s) => s.len(),
            Obj::Dict(d) => d.len(),
            _ => 0,
        }) as u32
    }

    #[inline]
    fn entry(&self, id: ObjId, pos: u32) -> (Value, Value) {
        match self.obj(id) {
            Obj::Dict(d) => d.entries.get(pos as usize).copied().unwrap_or((Value::None, Value::None)),
            _ => (Value::None, Value::None),
        }
    }

    /// `save()` of the atoms at the front of `items`, at protocol 2 or higher, written
    /// straight into the output in one run; stops at the first object and where a frame
    /// boundary falls (the next `save()` commits the frame). Returns how many were written.
    /// Lists of numbers are nearly all atoms, and the per-write checks would cost more
    /// than the bytes.
    fn save_atoms(&mut self, items: &[Value]) -> usize {
        if self.proto < 2 || matches!(items.first(), None | Some(Value::Obj(_))) {
            return 0;
        }
        // The first item's save() starts at a boundary like any other.
        self.out.boundary();
        let max = items.len() * ints::ATOM_MAX;
        let (room, until_full) = self.out.begin_run(max);
        // A frame just checked has room: the first item always goes in.
        debug_assert!(until_full > 0);
        let (mut used, mut done) = (0, 0);
        for &v in items {
            if used >= until_full {
                break;
            }
            if let Some((word, n)) = ints::small_int_binary(v) {
                room[used..used + 4].copy_from_slice(&word);
                used += n;
            } else {
                let Some((bytes, n)) = ints::atom_binary(v) else { break };
                room[used..used + ints::ATOM_MAX].copy_from_slice(&bytes);
                used += n;
            }
            done += 1;
        }
        self.out.end_run(max, used);
        done
    }

    /// Saves `v`; when that pushed work, files `resume` beneath it and returns true (the
    /// cursor must stop and let the work run).
    #[inline(always)]
    fn save_then(&mut self, v: Value, resume: Task) -> R<bool> {
        let Value::Obj(id) = v else {
            self.save_atom(v);
            return Ok(false);
        };
        // The resume entry goes first, beneath whatever the save pushes; a save that pushes
        // nothing (a leaf, a memo hit) leaves it on top, and it is taken back.
        self.out.boundary();
        if self.save_leaf(id)? {
            return Ok(false);
        }
        let depth = self.tasks.len();
        self.tasks.push(resume);
        self.save_obj(id)?;
        if self.tasks.len() != depth + 1 {
            return Ok(true);
        }
        self.tasks.pop();
        Ok(false)
    }

    /// `save_obj` of a heap str (or, from protocol 3, bytes): the commonest objects, and
    /// leaves, written here without the general path's setup. False for anything else,
    /// nothing written.
    #[inline(always)]
    fn save_leaf(&mut self, id: ObjId) -> R<bool> {
        if id >= self.base {
            return Ok(false);
        }
        let heap: &'h Heap = self.heap;
        let (key, written) = match heap.get(id) {
            Obj::Str(s) => {
                let key = Key::of_str(id, &s.0);
                if let Some(idx) = self.memo.get(key) {
                    write_get(&mut self.out, self.proto, idx);
                    return Ok(true);
                }
                (key, text::write_str_blob(&mut self.out, self.proto, &s.0, Some(&s.0)))
            }
            Obj::Bytes(b) if self.proto >= 3 => {
                let key = Key::of_bytes(id, b);
                if let Some(idx) = self.memo.get(key) {
                    write_get(&mut self.out, self.proto, idx);
                    return Ok(true);
                }
                (key, text::write_bytes_blob(&mut self.out, self.proto, b, Some(b)))
            }
            _ => return Ok(false),
        };
        written.or_else(|c| fail(id, c))?;
        self.memo_put(key, id)?;
        Ok(true)
    }

    /// Saves a key/value pair, then (unless work was pushed) returns false.
    #[inline(always)]
    fn save_pair_then(&mut self, k: Value, v: Value, resume: Task) -> R<bool> {
        if let Value::Obj(kid) = k {
            self.out.boundary();
            if !self.save_leaf(kid)? {
                let depth = self.tasks.len();
                self.tasks.push(resume);
                self.tasks.push(Task::Save(v));
                self.save_obj(kid)?;
                if self.tasks.len() != depth + 2 {
                    return Ok(true);
                }
                self.tasks.truncate(depth);
            }
        } else {
            self.save_atom(k);
        }
        self.save_then(v, resume)
    }

    fn items(&mut self, id: ObjId, mut pos: u32) -> R<()> {
        let fast = self.heap_items(id);
        let len = self.len_of(id);
        while pos < len {
            let v = self.fetch(fast, id, pos);
            pos += 1;
            if self.save_then(v, Task::Items { id, pos })? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// A batching cursor at `pos` of `len` items: writes the opcodes due there (`op`
    /// closing a batch of [`BATCH`], MARK opening one, and with `empty_tail` the extra empty
    /// `MARK op` after a multiple of [`BATCH`]) and returns where the current batch ends,
    /// or `None` when the container is done. With `single`, a batch of one item has no
    /// MARK and is closed by `single` instead of `op` (3.15's APPEND / SETITEM).
    #[inline]
    fn batch_edge(&mut self, pos: u32, len: u32, op: Opcode, single: Option<Opcode>, empty_tail: bool) -> Option<u32> {
        if pos > 0 && (pos % BATCH == 0 || pos == len) {
            let batch_len = pos - (pos - 1) / BATCH * BATCH;
            match single {
                Some(one) if batch_len == 1 => self.out.op(one),
                _ => self.out.op(op),
            }
        }
        if pos == len {
            if empty_tail && len % BATCH == 0 {
                self.out.put([Opcode::MARK.0, op.0]);
            }
            return None;
        }
        if pos % BATCH == 0 && !(single.is_some() && len - pos == 1) {
            self.out.op(Opcode::MARK);
        }
        Some(len.min((pos / BATCH + 1) * BATCH))
    }

    /// `batch_edge`'s `single` and `empty_tail` for a list or dict (`one` being APPEND or
    /// SETITEM): up to 3.14 a lone last item still gets its own MARK batch and a dict whose
    /// length is a multiple of 1000 one more empty batch; from 3.15 neither (gh-135573,
    /// PR #144162: "Ensure that APPENDS and SETITEMS are never used for a batch of size 1.
    /// Ensure that ADDITEMS and SETITEMS are never used for a batch of size 0.").
    #[inline]
    fn batching(&self, one: Opcode) -> (Option<Opcode>, bool) {
        if self.python.compact_batches() {
            (Some(one), false)
        } else {
            (None, one == Opcode::SETITEM)
        }
    }

    fn appends(&mut self, id: ObjId, mut pos: u32) -> R<()> {
        let len = self.len_of(id);
        let fast = self.heap_items(id);
        let (single, empty_tail) = self.batching(Opcode::APPEND);
        while let Some(end) = self.batch_edge(pos, len, Opcode::APPENDS, single, empty_tail) {
            while pos < end {
                let v = self.fetch(fast, id, pos);
                if let (Some(items), false) = (fast, matches!(v, Value::Obj(_))) {
                    let n = self.save_atoms(&items[pos as usize..end as usize]) as u32;
                    if n > 0 {
                        pos += n;
                        continue;
                    }
                }
                pos += 1;
                if self.save_then(v, Task::Appends { id, pos })? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn append0(&mut self, id: ObjId, mut pos: u32) -> R<()> {
        let len = self.len_of(id);
        let fast = self.heap_items(id);
        loop {
            if pos > 0 {
                self.out.op(Opcode::APPEND);
            }
            if pos == len {
                return Ok(());
            }
            let v = self.fetch(fast, id, pos);
            pos += 1;
            if self.save_then(v, Task::Append0 { id, pos })? {
                return Ok(());
            }
        }
    }

    fn setitems(&mut self, id: ObjId, mut pos: u32) -> R<()> {
        let len = self.len_of(id);
        let fast = self.heap_entries(id);
        let (single, empty_tail) = self.batching(Opcode::SETITEM);
        while let Some(end) = self.batch_edge(pos, len, Opcode::SETITEMS, single, empty_tail) {
            while pos < end {
                let (k, v) = self.fetch_entry(fast, id, pos);
                pos += 1;
                if self.save_pair_then(k, v, Task::SetItems { id, pos })? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    fn setitem0(&mut self, id: ObjId, mut pos: u32) -> R<()> {
        let len = self.len_of(id);
        let fast = self.heap_entries(id);
        loop {
            if pos > 0 {
                self.out.op(Opcode::SETITEM);
            }
            if pos == len {
                return Ok(());
            }
            let (k, v) = self.fetch_entry(fast, id, pos);
            pos += 1;
            if self.save_pair_then(k, v, Task::SetItem0 { id, pos })? {
                return Ok(());
            }
        }
    }

    fn additems(&mut self, id: ObjId, mut pos: u32) -> R<()> {
        let len = self.len_of(id);
        let fast = self.heap_items(id);
        // A set's lone last item stays a MARK batch in 3.15 (there is no single ADD opcode);
        // only the empty trailing batch goes (gh-135573, PR #144162).
        let empty_tail = !self.python.compact_batches();
        while let Some(end) = self.batch_edge(pos, len, Opcode::ADDITEMS, None, empty_tail) {
            while pos < end {
                let v = self.fetch(fast, id, pos);
                pos += 1;
                if self.save_then(v, Task::AddItems { id, pos })? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    // ---- globals ----

    /// `save_global`.
    fn save_global(&mut self, id: ObjId) -> R<()> {
        let (module, name) = match self.obj(id) {
            Obj::Global(g) => (g.module.0.clone(), g.name.0.clone()),
            _ => unreachable!(),
        };
        globals::check_dotted(&module, &name, self.python).or_else(|c| fail(id, c))?;
        if self.proto >= 4 {
            let m = self.intern(Pool::Module, &module, id);
            let n = self.intern(Pool::Name, &name, id);
            self.push_seq(&[Task::Save(m), Task::Save(n), Task::Op(Opcode::STACK_GLOBAL), Task::MemoPut(id)]);
            return Ok(());
        }
        if let Some(dot) = name.iter().rposition(|&b| b == b'.') {
            // A nested name below protocol 4: getattr(parent, last), then memoized.
            let parent = self.global(&module, &name[..dot], id);
            let last = self.make(Obj::Str(PyStr(name[dot + 1..].into())), id);
            let getattr = self.known(Known::Getattr, id);
            let args = self.make_tuple(vec![parent, Value::Obj(last)], id);
            self.push_seq(&[Task::Save(getattr), Task::Save(args), Task::Op(Opcode::REDUCE), Task::MemoPut(id)]);
            return Ok(());
        }
        let (m, n) = if self.proto < 3 { globals::fix_imports(&module, &name) } else { (&module[..], &name[..]) };
        globals::check_identifier("module", m, self.proto).or_else(|c| fail(id, c))?;
        globals::check_identifier("global", n, self.proto).or_else(|c| fail(id, c))?;
        let mut line = Vec::with_capacity(m.len() + n.len() + 3);
        line.push(Opcode::GLOBAL.0);
        line.extend_from_slice(m);
        line.push(b'\n');
        line.extend_from_slice(n);
        line.push(b'\n');
        self.out.write(&line);
        let key = self.key_of(id);
        self.memo_put(key, id)
    }

    // ---- objects ----

    /// `save_pers`: PERSID with `str(pid)` at protocol 0, else the pid and BINPERSID.
    /// Persistent objects are never memoized.
    fn save_persid(&mut self, id: ObjId, pid: Value) -> R<()> {
        if self.proto >= 1 {
            self.push_seq(&[Task::Save(pid), Task::Op(Opcode::BINPERSID)]);
            return Ok(());
        }
        let text: Vec<u8> = match pid {
            Value::None => {
                return fail(id, EncodeErrorCode::Unwritable("a persistent id of None means \"not persistent\"".into()))
            }
            Value::Bool(b) => (if b { "True" } else { "False" }).into(),
            Value::Int(i) => i.to_string().into(),
            Value::Float(f) => crate::json::float_repr(f).into(),
            Value::Obj(p) => match self.obj(p) {
                Obj::Str(s) => {
                    if !s.0.is_ascii() {
                        return fail(p, EncodeErrorCode::Pickling("persistent IDs in protocol 0 must be ASCII strings".into()));
                    }
                    s.0.to_vec()
                }
                Obj::Int(b) => ints::int_text(b, self.python).or_else(|c| fail(p, c))?.into(),
                Obj::Float(f) => crate::json::float_repr(*f).into(),
                _ => {
                    return fail(
                        p,
                        EncodeErrorCode::Unwritable(format!(
                            "a protocol 0 persistent id is str(pid), unknown for a {}",
                            self.heap_type_name(p)
                        )),
                    )
                }
            },
        };
        self.out.op(Opcode::PERSID);
        self.out.write(&text);
        self.out.write(b"\n");
        Ok(())
    }

    fn heap_type_name(&self, id: ObjId) -> &'static str {
        if id < self.base {
            self.heap.type_name(Value::Obj(id))
        } else {
            "object"
        }
    }

    /// An object node: its reduce value written by `save_reduce`.
    fn save_object(&mut self, id: ObjId) -> R<()> {
        let (new, ops) = match self.obj(id) {
            Obj::Object(o) => (o.new.clone(), &o.ops),
            _ => unreachable!(),
        };
        check_ops(ops).or_else(|c| fail(id, c))?;
        let proto = self.proto;
        match new {
            Construction::Call { callable, args } => {
                let dunder = match callable {
                    Value::Obj(c) => match self.obj(c) {
                        Obj::Global(g) if proto >= 2 => Some(globals::last_component(&g.name.0).to_vec()),
                        Obj::Global { .. } | Obj::Object { .. } => None,
                        _ => return fail(id, not_callable()),
                    },
                    _ => return fail(id, not_callable()),
                };
                match dunder.as_deref() {
                    Some(b"__newobj_ex__") => {
                        if args.len() != 3 {
                            return fail(
                                id,
                                EncodeErrorCode::Pickling(format!(
                                    "length of the NEWOBJ_EX argument tuple must be exactly 3, not {}",
                                    args.len()
                                )),
                            );
                        }
                        let (cls, a, kw) = (args[0], args[1], args[2]);
                        self.check_class(id, cls, "first item from NEWOBJ_EX argument tuple must be a class")?;
                        let pos_args = match a {
                            Value::Obj(t) if matches!(self.obj(t), Obj::Tuple(_)) => a,
                            _ => {
                                return fail(
                                    id,
                                    EncodeErrorCode::Pickling(format!(
                                        "second item from NEWOBJ_EX argument tuple must be a tuple, not {}",
                                        self.value_type(a)
                                    )),
                                )
                            }
                        };
                        let kw_dict = match kw {
                            Value::Obj(d) if matches!(self.obj(d), Obj::Dict(_)) => kw,
                            _ => {
                                return fail(
                                    id,
                                    EncodeErrorCode::Pickling(format!(
                                        "third item from NEWOBJ_EX argument tuple must be a dict, not {}",
                                        self.value_type(kw)
                                    )),
                                )
                            }
                        };
                        self.newobj_ex(id, cls, pos_args, kw_dict)
                    }
                    Some(b"__newobj__") => {
                        if args.is_empty() {
                            return fail(id, EncodeErrorCode::Pickling("__newobj__ arglist is empty".into()));
                        }
                        self.check_class(id, args[0], "args[0] from __newobj__ args is not a type")?;
                        let rest = self.make_tuple(args[1..].to_vec(), id);
                        let prev = self.enter(id);
                        self.push_seq(&[
                            Task::Save(args[0]),
                            Task::Save(rest),
                            Task::Op(Opcode::NEWOBJ),
                            Task::ReduceEnd { id, prev },
                        ]);
                        Ok(())
                    }
                    _ => {
                        let argtup = self.make_tuple(args, id);
                        self.save_reduce(callable, argtup, id);
                        Ok(())
                    }
                }
            }
            Construction::NewObj { cls, args, kwargs } => {
                if kwargs.is_empty() {
                    // (copyreg.__newobj__, (cls, *args))
                    if proto >= 2 {
                        self.check_class(id, cls, "args[0] from __newobj__ args is not a type")?;
                        let rest = self.make_tuple(args, id);
                        let prev = self.enter(id);
                        self.push_seq(&[Task::Save(cls), Task::Save(rest), Task::Op(Opcode::NEWOBJ), Task::ReduceEnd { id, prev }]);
                        return Ok(());
                    }
                    let callable = self.known(Known::NewObj, id);
                    let mut all = Vec::with_capacity(args.len() + 1);
                    all.push(cls);
                    all.extend(args);
                    let argtup = self.make_tuple(all, id);
                    self.save_reduce(callable, argtup, id);
                    return Ok(());
                }
                // (copyreg.__newobj_ex__, (cls, args, kwargs))
                let pos_args = self.make_tuple(args, id);
                let mut d = Dict::default();
                d.entries = kwargs;
                let kw_dict = Value::Obj(self.make(Obj::Dict(Box::new(d)), id));
                if proto >= 2 {
                    self.check_class(id, cls, "first item from NEWOBJ_EX argument tuple must be a class")?;
                    return self.newobj_ex(id, cls, pos_args, kw_dict);
                }
                let callable = self.known(Known::NewObjEx, id);
                let argtup = self.make_tuple(vec![cls, pos_args, kw_dict], id);
                self.save_reduce(callable, argtup, id);
                Ok(())
            }
            Construction::PersId(_) => unreachable!(),
        }
    }

    /// NEWOBJ_EX (protocol 4+), or below it what save_reduce does instead:
    /// `functools.partial(cls.__new__, cls, *args, **kwargs)()`, where `cls.__new__` is taken
    /// to be `object.__new__` (a class that does not define `__new__`), which pickles as
    /// `getattr(object, '__new__')`.
    fn newobj_ex(&mut self, id: ObjId, cls: Value, args: Value, kwargs: Value) -> R<()> {
        let prev = self.enter(id);
        if self.proto >= 4 {
            self.push_seq(&[
                Task::Save(cls),
                Task::Save(args),
                Task::Save(kwargs),
                Task::Op(Opcode::NEWOBJ_EX),
                Task::ReduceEnd { id, prev },
            ]);
            return Ok(());
        }
        let mut pargs = vec![cls];
        if let Value::Obj(t) = args {
            if let Obj::Tuple(items) = self.obj(t) {
                pargs.extend_from_slice(items);
            }
        }
        let entries = match kwargs {
            Value::Obj(d) => match self.obj(d) {
                Obj::Dict(d) => d.entries.clone(),
                _ => vec![],
            },
            _ => vec![],
        };
        let getattr = self.known(Known::Getattr, id);
        let object = self.known(Known::Object, id);
        let new_name = self.make(Obj::Str(PyStr::from_str("__new__")), id);
        let func = Value::Obj(self.make(
            Obj::object(Construction::Call { callable: getattr, args: vec![object, Value::Obj(new_name)] }),
            id,
        ));
        let pargs = self.make_tuple(pargs, id);
        let mut kw = Dict::default();
        kw.entries = entries;
        let kw = Value::Obj(self.make(Obj::Dict(Box::new(kw)), id));
        let state = self.make_tuple(vec![func, pargs, kw, Value::None], id);
        let partial = self.known(Known::Partial, id);
        let pobj = self.make(
            Obj::Object(Box::new(Object {
                new: Construction::Call { callable: partial, args: vec![func] },
                ops: vec![ObjOp::Build(state)],
            })),
            id,
        );
        let empty = self.make_tuple(vec![], id);
        self.push_seq(&[Task::Save(Value::Obj(pobj)), Task::Save(empty), Task::Op(Opcode::REDUCE), Task::ReduceEnd { id, prev }]);
        Ok(())
    }

    fn check_class(&self, id: ObjId, cls: Value, msg: &str) -> R<()> {
        match cls {
            Value::Obj(c) if is_global(self.obj(c)) => Ok(()),
            _ => fail(id, EncodeErrorCode::Pickling(format!("{msg}, not {}", self.value_type(cls)))),
        }
    }

    fn value_type(&self, v: Value) -> &'static str {
        match v {
            Value::Obj(id) if id >= self.base => "object",
            _ => self.heap.type_name(v),
        }
    }

    /// `save_reduce(callable, argtup, obj)` for a callable that is not `__newobj__`.
    fn save_reduce(&mut self, callable: Value, argtup: Value, id: ObjId) {
        let prev = self.enter(id);
        self.push_seq(&[Task::Save(callable), Task::Save(argtup), Task::Op(Opcode::REDUCE), Task::ReduceEnd { id, prev }]);
    }

    /// The end of `save_reduce`: memoize the object (or, if building it memoized it, pop
    /// it and fetch the memoized one), then list items, dict items and state.
    fn reduce_end(&mut self, id: ObjId, prev: u32) -> R<()> {
        self.leave(id, prev);
        let key = self.key_of(id);
        if let Some(idx) = self.memo.get(key) {
            self.out.op(Opcode::POP);
            write_get(&mut self.out, self.proto, idx);
            return Ok(());
        }
        self.memo_put(key, id)?;
        let Obj::Object(o) = obj_in(self.heap, &self.ext, self.base, id) else {
            return Ok(());
        };
        let ops = &o.ops;
        if ops.is_empty() {
            return Ok(());
        }
        let seq = ops_tasks(ops, self.proto);
        self.open_barrier(id);
        self.push_seq(&seq);
        Ok(())
    }
}

fn not_callable() -> EncodeErrorCode {
    EncodeErrorCode::Pickling("first item of the tuple returned by __reduce__ must be callable".into())
}

/// The ops CPython can write: list items (appends), then dict items (setitems), then at most
/// one state (build).
fn check_ops(ops: &[ObjOp]) -> Result<(), EncodeErrorCode> {
    let mut phase = 0;
    for (i, op) in ops.iter().enumerate() {
        let p = match op {
            ObjOp::Append(_) => 0,
            ObjOp::SetItem(..) => 1,
            ObjOp::Build(_) => 2,
            ObjOp::Add(_) => {
                return Err(EncodeErrorCode::Unwritable(format!(
                    "op {i} is add: save_reduce writes no ADDITEMS (only a set's own save does)"
                )))
            }
        };
        if p < phase || (p == 2 && phase == 2) {
            return Err(EncodeErrorCode::Unwritable(format!(
                "op {i} is out of order: save_reduce writes list items, then dict items, then one state"
            )));
        }
        phase = p;
    }
    Ok(())
}

/// `batch_list`, `batch_dict` (the generic, iterator-driven loops: 1001 items end in a lone
/// APPEND/SETITEM, a multiple of 1000 gets no empty batch) and the state's BUILD.
fn ops_tasks(ops: &[ObjOp], proto: u8) -> Vec<Task> {
    let appends: Vec<Value> = ops.iter().filter_map(|o| if let ObjOp::Append(v) = o { Some(*v) } else { None }).collect();
    let setitems: Vec<(Value, Value)> =
        ops.iter().filter_map(|o| if let ObjOp::SetItem(k, v) = o { Some((*k, *v)) } else { None }).collect();
    let build = ops.iter().find_map(|o| if let ObjOp::Build(v) = o { Some(*v) } else { None });
    let mut seq = Vec::with_capacity(2 * appends.len() + 3 * setitems.len() + 4);
    if proto == 0 {
        for &v in &appends {
            seq.push(Task::Save(v));
            seq.push(Task::Op(Opcode::APPEND));
        }
        for &(k, v) in &setitems {
            seq.push(Task::Save(k));
            seq.push(Task::Save(v));
            seq.push(Task::Op(Opcode::SETITEM));
        }
    } else {
        for chunk in generic_batches(appends.len()) {
            match chunk {
                (i, 1) => seq.extend([Task::Save(appends[i]), Task::Op(Opcode::APPEND)]),
                (i, n) => {
                    seq.push(Task::Op(Opcode::MARK));
                    seq.extend(appends[i..i + n].iter().map(|&v| Task::Save(v)));
                    seq.push(Task::Op(Opcode::APPENDS));
                }
            }
        }
        for chunk in generic_batches(setitems.len()) {
            match chunk {
                (i, 1) => {
                    let (k, v) = setitems[i];
                    seq.extend([Task::Save(k), Task::Save(v), Task::Op(Opcode::SETITEM)]);
                }
                (i, n) => {
                    seq.push(Task::Op(Opcode::MARK));
                    for &(k, v) in &setitems[i..i + n] {
                        seq.push(Task::Save(k));
                        seq.push(Task::Save(v));
                    }
                    seq.push(Task::Op(Opcode::SETITEMS));
                }
            }
        }
    }
    if let Some(state) = build {
        seq.push(Task::Save(state));
        seq.push(Task::Op(Opcode::BUILD));
    }
    seq
}

/// (start, len) of the generic loops' batches: up to 1000 items each; a lone last item is a
/// batch of 1 (written without MARK).
fn generic_batches(n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let b = (n - i).min(BATCH as usize);
        out.push((i, b));
        i += b;
        if b < BATCH as usize {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enc(doc: serde_json::Value, proto: u8) -> Vec<u8> {
        encode_document(&doc, proto).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn generic_batches_match_batch_list() {
        assert_eq!(generic_batches(1), vec![(0, 1)]);
        assert_eq!(generic_batches(1000), vec![(0, 1000)]);
        assert_eq!(generic_batches(1001), vec![(0, 1000), (1000, 1)]);
        assert_eq!(generic_batches(2500), vec![(0, 1000), (1000, 1000), (2000, 500)]);
    }

    #[test]
    fn object_ops_order_is_checked() {
        let doc = json!({"t":"object","new":{"call":{"t":"global","module":"m","name":"f"},"args":[]},
            "ops":[{"op":"build","state":{"t":"none"}},{"op":"append","item":{"t":"none"}}]});
        let e = encode_document(&doc, 2).unwrap_err();
        assert!(e.to_string().contains("out of order"), "{e}");
    }

    #[test]
    fn self_constructing_objects_are_recursion_errors() {
        let doc = json!({"t":"list","items":[{"t":"object","id":1,"new":{"call":{"t":"global","module":"m","name":"f"},
            "args":[{"t":"tuple","items":[{"t":"ref","id":1}]}]},"ops":[]}]});
        let e = encode_document(&doc, 2).unwrap_err();
        let DocumentError::Encode(e) = e else { panic!() };
        assert_eq!(e.code, EncodeErrorCode::Recursion);
        assert_eq!(e.path, "/items/0");
        // Through a list it terminates, with CPython's POP + GET. The bytes are CPython
        // 3.11's pickle.dumps(r, 2) for an r whose reduce value is (m.f, ([r],)).
        let doc = json!({"t":"object","id":1,"new":{"call":{"t":"global","module":"m","name":"f"},
            "args":[{"t":"list","items":[{"t":"ref","id":1}]}]},"ops":[]});
        assert_eq!(enc(doc, 2), b"\x80\x02cm\nf\nq\x00]q\x01h\x00h\x01\x85q\x02Rq\x03a\x85q\x04R0h\x03.");
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        // 300,000 nested lists, and 200,000 nested tuples and objects, on the test thread's
        // ordinary stack.
        let mut heap = Heap::new(100, u64::MAX);
        let mut v = Value::Int(7);
        for _ in 0..300_000 {
            v = Value::Obj(heap.alloc(Obj::List(vec![v])));
        }
        for proto in [0, 2, 5] {
            let p = encode(&heap, v, proto).unwrap();
            let d = crate::decode(&p).unwrap();
            assert_eq!(d.heap.objs.len(), 300_000);
        }
        let mut heap = Heap::new(100, u64::MAX);
        let f = Value::Obj(heap.alloc(Obj::global(PyStr::from_str("m"), PyStr::from_str("f"))));
        let mut v = Value::None;
        for i in 0..200_000 {
            v = Value::Obj(heap.alloc(if i % 2 == 0 {
                Obj::Tuple(vec![v, Value::Int(i)])
            } else {
                Obj::Object(Box::new(Object { new: Construction::Call { callable: f, args: vec![] }, ops: vec![ObjOp::Build(v)] }))
            }));
        }
        for proto in [1, 4] {
            let p = encode(&heap, v, proto).unwrap();
            assert!(crate::decode(&p).is_ok());
        }
    }

    fn err(doc: serde_json::Value, proto: u8) -> EncodeError {
        match encode_document(&doc, proto) {
            Err(DocumentError::Encode(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_node() {
        let g = |m: &str, n: &str| json!({"t":"global","module":m,"name":n});
        let e = err(json!({"t":"list","items":[{"t":"none"},g("caf\u{e9}", "x")]}), 2);
        assert_eq!((e.path.as_str(), e.code.py_exception()), ("/items/1", Some("PicklingError")));
        assert!(encode_document(&json!({"t":"list","items":[g("caf\u{e9}", "x")]}), 3).is_ok());
        let e = err(json!({"t":"tuple","items":[g("m", "f.<locals>.C")]}), 4);
        assert_eq!((e.path.as_str(), e.code.py_exception()), ("/items/0", Some("AttributeError")));
        let e = err(json!({"t":"dict","items":[[{"t":"int","v":"1"},{"t":"buffer","index":0,"readonly":false}]]}), 4);
        assert_eq!(e.path, "/items/0/1");
        let e = err(json!({"t":"list","items":[{"t":"buffer","index":1,"readonly":false}]}), 5);
        assert_eq!(e.code.py_exception(), None);
        let add = json!({"t":"object","new":{"call":g("m","f"),"args":[]},"ops":[{"op":"add","item":{"t":"none"}}]});
        assert_eq!(err(json!({"t":"list","items":[{"t":"none"}, add]}), 4).path, "/items/1");
        let pid = json!({"t":"object","new":{"persid":{"t":"str","v":"caf\u{e9}"}},"ops":[]});
        assert_eq!(err(json!({"t":"list","items":[pid.clone()]}), 0).path, "/items/0/new/persid");
        assert!(encode_document(&pid, 1).is_ok());
        let big = json!({"t":"int","v":"1".repeat(4301)});
        assert_eq!(err(big.clone(), 1).code.py_exception(), Some("ValueError"));
        assert!(encode_document(&big, 2).is_ok());
    }

    #[test]
    fn protocol_out_of_range() {
        let e = encode_document(&json!({"t":"none"}), 6).unwrap_err();
        assert!(e.to_string().contains("pickle protocol must be <= 5"));
    }
}
