//! The pickle machine: decodes a stream exactly as CPython 3.11's C unpickler
//! (`Modules/_pickle.c`) does, into the symbolic [`Value`] model; or, with
//! [`DecodeOptions::python`], as another CPython version's does (each difference is modelled
//! where it arises, citing the upstream change; see [`crate::python`]).
//!
//! Each `load_*` method mirrors the C function of the same name, in the same order of
//! checks, because the order decides which exception a malformed stream raises. Where the
//! C unpickler would import or call something, the decoder records it instead (globals are
//! [`Obj::Global`], calls and `__new__` are [`Obj::Object`]); nothing a pickle names is ever
//! resolved. Hostile input is bounded: every length is checked against the remaining input
//! before allocating, and [`Limits`] bound the memo, the decoded size and hash nesting.

mod compat_table;
mod globals;

pub use globals::{calls_to_json, globals, FindClass, Globals};

use crate::error::{Error, ErrorCode};
use crate::opcodes::{Opcode, HIGHEST_PROTOCOL};
use crate::python::Python;
use crate::pytext::{self, PyInt};
use crate::value::{Blob, Construction, Dict, HashError, Heap, Obj, ObjId, ObjOp, PyStr, Set, Source, Value};
use num_bigint::BigInt;
use std::collections::{HashMap, HashSet};

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
/// [`Blob::shared`]), so decoding a pickle of large arrays or texts costs little more than
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

/// The memo: a dense vector for indices below a bound, a hash map beyond (so a huge PUT
/// index costs nothing). The bound grows with the input, so a pickle with millions of
/// memoized objects stays on the dense path, while a hostile index can make the vector at
/// most a few times the input's size.
///
/// Nearly everything memoized is an object, so a dense slot is just its id (4 bytes, not
/// the 16 of a [`Value`]: the memo of a big pickle is a large part of the memory a decode
/// touches); any other value sits in `others` with [`OTHER`] in its slot.
struct Memo {
    dense: Vec<u32>,
    /// Values of the [`OTHER`] slots, and every entry at `dense_max` or beyond.
    others: HashMap<u64, Value>,
    /// Indices below this are dense.
    dense_max: u64,
    /// Number of entries (MEMOIZE's next index).
    len: usize,
}

/// A dense memo slot with no entry.
const EMPTY: u32 = u32::MAX;
/// A dense memo slot whose value is in [`Memo::others`].
const OTHER: u32 = u32::MAX - 1;

impl Memo {
    fn new(input_len: usize) -> Memo {
        Memo { dense: Vec::new(), others: HashMap::new(), dense_max: (1 << 20).max(input_len as u64), len: 0 }
    }

    #[inline(always)]
    fn get(&self, idx: u64) -> Option<Value> {
        if idx < self.dense_max {
            match self.dense.get(idx as usize) {
                Some(&id) if id < OTHER => Some(Value::Obj(id)),
                Some(&OTHER) => self.others.get(&idx).copied(),
                _ => None,
            }
        } else {
            self.others.get(&idx).copied()
        }
    }

    /// Sets entry `idx`: `Some(true)` if it is new, `Some(false)` if it replaced one, `None`
    /// (and nothing set) when that would make more than `max` entries.
    #[inline(always)]
    fn put(&mut self, idx: u64, v: &Value, max: usize) -> Option<bool> {
        let i = idx as usize;
        let slot = match *v {
            Value::Obj(id) if id < OTHER => id,
            _ => OTHER,
        };
        if idx == self.dense.len() as u64 && idx < self.dense_max && slot != OTHER {
            // The usual case: MEMOIZE, or PUT of the next index, of an object.
            if self.len >= max {
                return None;
            }
            self.dense.push(slot);
            self.len += 1;
            return Some(true);
        }
        self.put_slow(idx, i, slot, *v, max)
    }

    /// `put` of a value that is not an object, or past the dense vector's end.
    fn put_slow(&mut self, idx: u64, i: usize, slot: u32, v: Value, max: usize) -> Option<bool> {
        let fresh = self.get(idx).is_none();
        if fresh && self.len >= max {
            return None;
        }
        self.len += fresh as usize;
        if idx < self.dense_max {
            if i >= self.dense.len() {
                self.dense.resize(i + 1, EMPTY);
            }
            self.dense[i] = slot;
            if slot != OTHER {
                self.others.remove(&idx);
                return Some(fresh);
            }
        }
        self.others.insert(idx, v);
        Some(fresh)
    }
}

/// Where CPython 3.15's C unpickler keeps each memo entry, which decides where MEMOIZE
/// stores (gh-115952, PR #119204, 3.15: "a dict is used for too sparse keys").
///
/// Before 3.15 the memo is one array (32 slots to start with, grown to twice the index by
/// a PUT past its end) and `memo_len` counts its entries, so MEMOIZE stores at the number
/// of entries: [`Memo::len`]. From 3.15 a PUT past the array's end whose index is more
/// than twice `memo_len` goes into a dict instead, and `memo_len` counts only the array
/// slots a PUT filled, so MEMOIZE then stores at a smaller index than the number of
/// entries (often over an existing one). As measured on 3.15.2 (the values are the same
/// either way: the array is looked in first, then the dict):
///
/// - a PUT below the array's end, or one that grows it (to twice the index), fills an
///   array slot, and adds one to `memo_len` if the slot was empty, also when the index had
///   an entry in the dict only;
/// - growing the array moves nothing out of the dict;
/// - a GET of an index below the array's end that finds its entry in the dict moves it
///   into the array, without adding to `memo_len` (so a later PUT there does not either).
///
/// The values themselves stay in [`Memo`]; this only follows the bookkeeping.
struct SplitMemo {
    /// `memo_size`: the array's length.
    size: u64,
    /// `memo_len`: MEMOIZE's index.
    len: u64,
    /// Indices whose entry is in the dict and not (yet) in the array.
    in_dict: HashSet<u64>,
}

impl SplitMemo {
    fn new() -> SplitMemo {
        SplitMemo { size: 32, len: 0, in_dict: HashSet::new() }
    }

    /// A PUT (or MEMOIZE) of `idx`, where `fresh` says the memo had no entry there.
    #[inline(always)]
    fn put(&mut self, idx: u64, fresh: bool) {
        if idx >= self.size {
            if idx > 2 * self.len {
                self.in_dict.insert(idx);
                return;
            }
            self.size = idx * 2;
        }
        let from_dict = !self.in_dict.is_empty() && self.in_dict.remove(&idx);
        if fresh || from_dict {
            self.len += 1;
        }
    }

    /// A GET of `idx` that found an entry.
    #[inline(always)]
    fn got(&mut self, idx: u64) {
        if idx < self.size && !self.in_dict.is_empty() {
            self.in_dict.remove(&idx);
        }
    }
}

struct Machine<'a> {
    data: &'a [u8],
    /// What reads may take from: `data`, or, inside a frame of a CPython that enforces
    /// frames (3.14+), `data` up to the frame's end (see [`Machine::leave_frame`]). Every
    /// read goes through it, so the frame costs the fast path nothing; `pos` never passes
    /// its end.
    readable: &'a [u8],
    pos: usize,
    op_start: usize,
    opts: &'a DecodeOptions,
    heap: Heap,
    stack: Vec<Value>,
    /// Stack positions of the MARKs, innermost last.
    marks: Vec<usize>,
    /// The innermost mark's position, or 0: nothing below it may be popped.
    fence: usize,
    memo: Memo,
    /// CPython 3.15's memo bookkeeping ([`Python::split_memo`]); `None` before 3.15.
    split_memo: Option<Box<SplitMemo>>,
    proto: u8,
    globals: HashMap<(PyStr, PyStr), ObjId>,
    next_buffer: usize,
    alloc_left: usize,
    op_counts: Option<Box<[u32; 256]>>,
    /// An empty dict that stands in the heap for a dict being filled (taken out so that
    /// its keys can be hashed against the heap): a key that is the dict itself is then
    /// still an unhashable dict. Made on first use.
    spare_dict: Option<Box<Dict>>,
    /// The read-only views READONLY_BUFFER made of bytearrays and supplied buffers that
    /// may still be alive: each holds an export, and CPython refuses to resize a bytearray
    /// with live exports (BufferError). See [`Machine::check_exports`].
    views: Vec<ObjId>,
    /// The shared input of [`decode_shared`]: long blobs are windows into it.
    source: Option<&'a Source>,
    /// What EXT1/2/4 pushed per code: CPython caches an extension's object by code
    /// (`copyreg._extension_cache`, which the sandbox empties before each load), so a code
    /// seen again in the same load pushes the same object without calling `find_class`,
    /// even after a PROTO that would rename it differently.
    ext_cache: HashMap<i64, Value>,
    /// The `find_class` calls so far, when [`globals`] asked for them (`None` otherwise,
    /// so that a plain decode pays one never-taken branch per global and nothing else).
    calls: Option<Vec<FindClass>>,
    /// Where the current frame ends, for a CPython that enforces frames (3.14+, see
    /// [`Python::enforces_frames`]); 0 otherwise. Reading inside a frame (`pos < frame_end`)
    /// may not cross its end; a read starting at its end is unframed.
    frame_end: usize,
}

fn hash_err(e: HashError, limits: &Limits) -> ErrorCode {
    match e {
        HashError::Unhashable(t) => ErrorCode::Type(format!("unhashable type: '{t}'")),
        HashError::TooDeep => ErrorCode::DepthLimit(limits.max_depth),
        HashError::Budget => ErrorCode::WorkLimit,
    }
}

impl<'a> Machine<'a> {
    fn new(data: &'a [u8], opts: &'a DecodeOptions) -> Self {
        Machine {
            data,
            readable: data,
            pos: 0,
            op_start: 0,
            opts,
            heap: {
                let mut heap = Heap::new(opts.limits.max_depth, opts.limits.max_work.saturating_add(16 * data.len() as u64));
                // Room for one object per 16 input bytes (a short str with its memo PUT
                // takes about that), so that the arena of a big pickle is not copied and
                // faulted in again at every doubling; capped at 32 MiB of slots.
                heap.objs.reserve((data.len() / 16).min(1 << 20));
                heap
            },
            stack: Vec::with_capacity(64),
            marks: Vec::new(),
            fence: 0,
            memo: Memo::new(data.len()),
            split_memo: opts.python.split_memo().then(|| Box::new(SplitMemo::new())),
            proto: 0,
            globals: HashMap::new(),
            next_buffer: 0,
            alloc_left: opts.limits.max_alloc,
            op_counts: opts.count_ops.then(|| Box::new([0u32; 256])),
            spare_dict: None,
            views: Vec::new(),
            source: None,
            ext_cache: HashMap::new(),
            calls: None,
            frame_end: 0,
        }
        .with_buffers()
    }

    fn with_buffers(mut self) -> Self {
        self.heap.buffers = vec![Vec::new(); self.opts.buffers.unwrap_or(0)];
        self
    }

    // ---- input ----

    #[inline(always)]
    fn read(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.readable.len() - self.pos && !self.leave_frame(n) {
            return Err(self.short_read());
        }
        let s = &self.readable[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The next `N` bytes (an opcode's fixed-size argument).
    #[inline(always)]
    fn read_array<const N: usize>(&mut self) -> R<[u8; N]> {
        match self.readable.get(self.pos..self.pos + N) {
            Some(s) => {
                self.pos += N;
                Ok(s.try_into().expect("N bytes"))
            }
            None => self.read_array_slow(),
        }
    }

    /// [`Machine::read_array`] when the bytes are not all readable.
    #[cold]
    fn read_array_slow<const N: usize>(&mut self) -> R<[u8; N]> {
        if !self.leave_frame(N) {
            return Err(self.short_read());
        }
        let s = &self.readable[self.pos..self.pos + N];
        self.pos += N;
        Ok(s.try_into().expect("N bytes"))
    }

    /// At the end of a frame (3.14+ only: gh-154848, PR #154893, "Enforce frame boundaries
    /// in the C unpickler"), reading goes on unframed: makes the rest of the input readable
    /// and says whether `n` more bytes now are. Anywhere else (inside a frame, or with no
    /// frame: always so before 3.14), false.
    #[cold]
    fn leave_frame(&mut self, n: usize) -> bool {
        if self.pos != self.readable.len() || self.readable.len() == self.data.len() {
            return false;
        }
        self.readable = self.data;
        n <= self.data.len() - self.pos
    }

    /// The error of a read that cannot be satisfied: inside a frame (3.14+), crossing its
    /// end is checked first (gh-154848), whether or not the input goes on; else the input
    /// ran out.
    #[cold]
    fn short_read(&self) -> ErrorCode {
        if self.pos < self.frame_end {
            ErrorCode::Unpickling("pickle exhausted before end of frame".into())
        } else {
            ErrorCode::Truncated
        }
    }

    #[inline(always)]
    fn read_u8(&mut self) -> R<u8> {
        Ok(self.read_array::<1>()?[0])
    }

    /// `_Unpickler_Readline`: the line including its newline; no newline is "truncated".
    /// Inside a frame (3.14+), the newline must come before the frame's end (gh-154848).
    fn readline(&mut self) -> R<&'a [u8]> {
        let mut rest = &self.readable[self.pos..];
        if rest.is_empty() && self.leave_frame(1) {
            rest = &self.readable[self.pos..];
        }
        match memchr(b'\n', rest) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..=i])
            }
            None => Err(self.short_read()),
        }
    }

    /// The [`Blob::INLINE`] input bytes from `start`, when an argument of `len` bytes there
    /// fits inline and the input goes on that far (see [`Blob::from_window`]).
    #[inline(always)]
    fn window(&self, start: usize, len: usize) -> Option<&'a [u8; Blob::INLINE]> {
        if len > Blob::INLINE {
            return None;
        }
        self.data.get(start..start + Blob::INLINE).map(|w| w.try_into().expect("INLINE bytes"))
    }

    /// `calc_binsize`: little-endian unsigned; `None` when above `PY_SSIZE_T_MAX`.
    fn binsize(s: &[u8]) -> Option<usize> {
        let mut x: u64 = 0;
        for (i, &b) in s.iter().enumerate() {
            x |= (b as u64) << (8 * i);
        }
        (x <= i64::MAX as u64).then_some(x as usize)
    }

    /// `calc_binint`: little-endian, sign-extended for 4 bytes.
    fn binint(s: &[u8]) -> i64 {
        let mut x: u64 = 0;
        for (i, &b) in s.iter().enumerate() {
            x |= (b as u64) << (8 * i);
        }
        if s.len() == 4 {
            x as u32 as i32 as i64
        } else {
            x as i64
        }
    }

    // ---- stack ----

    #[inline(always)]
    fn fence(&self) -> usize {
        self.fence
    }

    /// MARK.
    #[inline]
    fn push_mark(&mut self) {
        self.fence = self.stack.len();
        self.marks.push(self.fence);
    }

    fn underflow(&self) -> ErrorCode {
        ErrorCode::StackUnderflow { at_mark: !self.marks.is_empty() }
    }

    #[inline(always)]
    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    #[inline(always)]
    fn pop(&mut self) -> R<Value> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        Ok(self.stack.pop().unwrap())
    }

    #[inline(always)]
    fn top(&self) -> R<Value> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        Ok(*self.stack.last().unwrap())
    }

    /// `marker()`: pops the topmost mark and returns its stack position.
    #[inline]
    fn marker(&mut self) -> R<usize> {
        let m = self.marks.pop().ok_or(ErrorCode::NoMark)?;
        self.fence = self.marks.last().copied().unwrap_or(0);
        Ok(m)
    }

    /// `Pdata_poptuple`/`Pdata_poplist`: the items from `start` up.
    fn pop_from(&mut self, start: usize) -> R<Vec<Value>> {
        if start < self.fence() || start > self.stack.len() {
            return Err(self.underflow());
        }
        Ok(self.stack.split_off(start))
    }

    // ---- objects ----

    #[inline(always)]
    fn charge(&mut self, n: usize) -> R<()> {
        if n > self.alloc_left {
            return Err(ErrorCode::SizeLimit(self.opts.limits.max_alloc));
        }
        self.alloc_left -= n;
        Ok(())
    }

    #[inline]
    fn obj(&mut self, o: Obj) -> Value {
        Value::Obj(self.heap.alloc(o))
    }

    fn new_str(&mut self, s: Vec<u8>) -> R<Value> {
        self.charge(s.len() + 16)?;
        Ok(self.obj(Obj::Str(PyStr(s.into()))))
    }

    /// Whether a str or bytes of `len` bytes will be a window into the input.
    #[inline]
    fn shares(&self, len: usize) -> bool {
        self.source.is_some() && len >= self.opts.share_min
    }

    /// The `len` input bytes from `start` (just read), too many to go inline, as a blob: a
    /// window into the shared input when long enough (see [`decode_shared`]), else a copy.
    /// Charged to the size budget as what it allocates. (Short ones are made in place by
    /// the callers: a blob returned through a `Result` is one copy more, which costs short
    /// strs a third of their decode time.)
    #[inline(never)]
    fn long_blob(&mut self, start: usize, len: usize) -> R<Blob> {
        if let Some(source) = self.source.filter(|_| self.shares(len)) {
            if let Some(b) = Blob::shared(source, start, len) {
                self.charge(64)?;
                return Ok(b);
            }
        }
        self.charge(len + 16)?;
        Ok(Blob::new(&self.data[start..start + len]))
    }

    fn new_tuple(&mut self, items: Vec<Value>) -> R<Value> {
        self.charge(16 * items.len() + 16)?;
        Ok(self.obj(Obj::Tuple(items)))
    }

    fn int_value(&mut self, v: PyInt) -> R<Value> {
        Ok(match v {
            PyInt::Small(i) => Value::Int(i),
            PyInt::Big(b) => {
                self.charge(b.bits() as usize / 8 + 16)?;
                self.obj(Obj::Int(Box::new(b)))
            }
        })
    }

    fn obj_of(&self, v: Value) -> Option<&Obj> {
        match v {
            Value::Obj(id) => Some(self.heap.get(id)),
            _ => None,
        }
    }

    fn is_global(&self, v: Value) -> bool {
        matches!(self.obj_of(v), Some(Obj::Global { .. }))
    }

    fn is_record(&self, v: Value) -> bool {
        matches!(self.obj_of(v), Some(Obj::Object { .. }))
    }

    fn type_name(&self, v: Value) -> &'static str {
        self.heap.type_name(v)
    }

    fn record_op(&mut self, target: Value, op: ObjOp) {
        if let Value::Obj(id) = target {
            if let Obj::Object(o) = self.heap.get_mut(id) {
                o.ops.push(op);
            }
        }
    }

    /// `PyObject_CallObject(callable, args)` with stand-ins: globals and records record the
    /// call; anything else is not callable.
    fn call(&mut self, callable: Value, args: Vec<Value>) -> R<Value> {
        if self.is_global(callable) || self.is_record(callable) {
            self.charge(16 * args.len() + 32)?;
            return Ok(self.obj(Obj::object(Construction::Call { callable, args })));
        }
        Err(ErrorCode::Type(format!("'{}' object is not callable", self.type_name(callable))))
    }

    fn newobj(&mut self, cls: Value, args: Vec<Value>, kwargs: Vec<(Value, Value)>) -> R<Value> {
        self.charge(16 * (args.len() + 2 * kwargs.len()) + 32)?;
        Ok(self.obj(Obj::object(Construction::NewObj { cls, args, kwargs })))
    }

    /// `instantiate()`: no arguments and a class means `cls.__new__(cls)`.
    fn instantiate(&mut self, cls: Value, args: Vec<Value>) -> R<Value> {
        if args.is_empty() && self.is_global(cls) {
            return self.newobj(cls, args, vec![]);
        }
        self.call(cls, args)
    }

    /// The default `find_class`, minus the import: fix_imports mapping for protocol < 3,
    /// the dotted-path `<locals>` rule for protocol >= 4, one object per (module, name).
    ///
    /// This is the method CPython calls; the renaming happens inside it (in
    /// `_pickle_Unpickler_find_class_impl`), so a recorded call (see [`globals`]) holds the
    /// names as the pickle spelled them.
    fn find_class(&mut self, module: PyStr, name: PyStr) -> R<Value> {
        if let Some(calls) = self.calls.as_mut() {
            calls.push((module.clone(), name.clone()));
        }
        let (mut module, mut name) = (module, name);
        if self.proto < 3 && self.opts.fix_imports {
            if let (Some(m), Some(n)) = (module.as_str(), name.as_str()) {
                if let Ok(i) = compat_table::NAME_MAPPING.binary_search_by(|e| e.0.cmp(&(m, n))) {
                    let (m2, n2) = compat_table::NAME_MAPPING[i].1;
                    module = PyStr::from_str(m2);
                    name = PyStr::from_str(n2);
                } else if let Ok(i) = compat_table::IMPORT_MAPPING.binary_search_by(|e| e.0.cmp(m)) {
                    module = PyStr::from_str(compat_table::IMPORT_MAPPING[i].1);
                }
            }
        }
        // The import comes next in CPython: an empty module name is its ValueError.
        if module.0.is_empty() {
            return Err(ErrorCode::Value("Empty module name".into()));
        }
        // 3.14's find_class walks a dotted path with plain getattr, `<locals>` included (its
        // `_getattribute` lost the check in the gh-122311 rework of pickle's errors; the
        // exact PR for the unpickler side: upstream reference not found).
        if self.proto >= 4
            && !self.opts.python.resolves_locals()
            && name.0.split(|&b| b == b'.').any(|part| part == b"<locals>")
        {
            return Err(ErrorCode::Attribute(format!(
                "Can't get local attribute {:?}",
                String::from_utf8_lossy(&name.0)
            )));
        }
        let key = (module, name);
        if let Some(&id) = self.globals.get(&key) {
            return Ok(Value::Obj(id));
        }
        self.charge(key.0 .0.len() + key.1 .0.len() + 32)?;
        let id = self.heap.alloc(Obj::global(key.0.clone(), key.1.clone()));
        self.globals.insert(key, id);
        Ok(Value::Obj(id))
    }

    /// `memo[idx] = top of stack`. The top is matched where it lies rather than copied
    /// out: it was usually pushed by the opcode just before, and reading all 16 bytes of a
    /// value so freshly (and partly) written stalls the processor.
    #[inline(always)]
    fn memo_put_top(&mut self, idx: u64) -> R<()> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        let top = self.stack.last().expect("above the fence");
        // _Unpickler_MemoPut grows its array to idx*2 slots; beyond PY_SSIZE_T_MAX/8 bytes
        // that is a MemoryError on any machine. From 3.15 too sparse an index goes into a
        // dict instead (gh-115952, PR #119204), so any index works.
        if idx > (i64::MAX as u64) / 16 && self.split_memo.is_none() {
            return Err(ErrorCode::Memory("memo index too large for the C unpickler's memo".into()));
        }
        let Some(fresh) = self.memo.put(idx, top, self.opts.limits.max_memo) else {
            return Err(ErrorCode::MemoLimit(self.opts.limits.max_memo));
        };
        if let Some(split) = &mut self.split_memo {
            split.put(idx, fresh);
        }
        Ok(())
    }

    /// The index MEMOIZE stores at: CPython's `memo_len`.
    #[inline(always)]
    fn memoize_index(&self) -> u64 {
        match &self.split_memo {
            Some(split) => split.len,
            None => self.memo.len as u64,
        }
    }

    #[inline(always)]
    fn memo_get(&mut self, idx: u64) -> R<()> {
        match self.memo.get(idx) {
            Some(v) => {
                if let Some(split) = &mut self.split_memo {
                    split.got(idx);
                }
                self.push(v);
                Ok(())
            }
            None => Err(ErrorCode::MemoMissing(idx)),
        }
    }

    // ---- the loop ----

    /// Runs to STOP and hands over the result.
    fn finish(mut self) -> Result<Decoded, Error> {
        let r = self.run();
        self.conclude(r)
    }

    /// The result of a run that ended with `r`.
    fn conclude(self, r: R<Value>) -> Result<Decoded, Error> {
        match r {
            Ok(root) => Ok(Decoded { heap: self.heap, root, end: self.pos, op_counts: self.op_counts }),
            Err(code) => Err(Error { code, offset: self.op_start }),
        }
    }

    /// Runs to STOP. The opcodes that make up nearly every real pickle are handled here, in
    /// the loop; [`Machine::step`] has the rest.
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
            let op = Opcode(byte);
            match op {
                Opcode::STOP => return self.pop(),
                Opcode::MARK => self.push_mark(),
                Opcode::BININT => {
                    let s = self.read_array::<4>()?;
                    self.push(Value::Int(i32::from_le_bytes(s) as i64));
                }
                Opcode::BININT1 => {
                    let b = self.read_u8()?;
                    self.push(Value::Int(b as i64));
                }
                Opcode::BININT2 => {
                    let s = self.read_array::<2>()?;
                    self.push(Value::Int(u16::from_le_bytes(s) as i64));
                }
                Opcode::NONE => self.push(Value::None),
                Opcode::NEWTRUE => self.push(Value::Bool(true)),
                Opcode::NEWFALSE => self.push(Value::Bool(false)),
                Opcode::REDUCE => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let args = match self.obj_of(args) {
                        Some(Obj::Tuple(items)) => items.clone(),
                        _ => return Err(ErrorCode::Type("argument list must be a tuple".into())),
                    };
                    let v = self.call(callable, args)?;
                    self.push(v);
                }
                Opcode::BINUNICODE => self.load_counted_binunicode(4)?,
                Opcode::SHORT_BINUNICODE => self.load_counted_binunicode(1)?,
                Opcode::SHORT_BINBYTES => self.load_counted_binbytes(1, false)?,
                Opcode::BINFLOAT => {
                    let f = f64::from_be_bytes(self.read_array::<8>()?);
                    let v = self.float(f);
                    self.push(v);
                }
                Opcode::EMPTY_TUPLE => {
                    let v = self.new_tuple(vec![])?;
                    self.push(v);
                }
                Opcode::TUPLE => {
                    let i = self.marker()?;
                    let items = self.pop_from(i)?;
                    let v = self.new_tuple(items)?;
                    self.push(v);
                }
                Opcode::TUPLE1 | Opcode::TUPLE2 | Opcode::TUPLE3 => {
                    let n = (op.0 - Opcode::TUPLE1.0 + 1) as usize;
                    if self.stack.len() < n {
                        return Err(self.underflow());
                    }
                    let items = self.pop_from(self.stack.len() - n)?;
                    let v = self.new_tuple(items)?;
                    self.push(v);
                }
                Opcode::EMPTY_LIST => {
                    self.charge(16)?;
                    let v = self.obj(Obj::List(Vec::new()));
                    self.push(v);
                }
                Opcode::EMPTY_DICT => {
                    self.charge(16)?;
                    let v = self.obj(Obj::Dict(Box::default()));
                    self.push(v);
                }
                Opcode::APPEND => {
                    if self.stack.len().saturating_sub(1) <= self.fence() {
                        return Err(self.underflow());
                    }
                    self.do_append(self.stack.len() - 1)?;
                }
                Opcode::APPENDS => {
                    let i = self.marker()?;
                    self.do_append(i)?;
                }
                Opcode::SETITEM => {
                    let x = self.stack.len() as isize - 2;
                    self.do_setitems(x)?;
                }
                Opcode::SETITEMS => {
                    let i = self.marker()?;
                    self.do_setitems(i as isize)?;
                }
                Opcode::BINGET => {
                    let i = self.read_u8()?;
                    self.memo_get(i as u64)?;
                }
                Opcode::LONG_BINGET => {
                    let i = u32::from_le_bytes(self.read_array::<4>()?);
                    self.memo_get(i as u64)?;
                }
                Opcode::BINPUT => {
                    let i = self.read_u8()?;
                    self.memo_put_top(i as u64)?;
                }
                Opcode::LONG_BINPUT => {
                    let i = u32::from_le_bytes(self.read_array::<4>()?);
                    self.memo_put_top(i as u64)?;
                }
                Opcode::MEMOIZE => {
                    let idx = self.memoize_index();
                    self.memo_put_top(idx)?;
                }
                Opcode::FRAME => {
                    let s = self.read_array::<8>()?;
                    // 3.14+ (gh-154848, PR #154893): a FRAME whose argument ends before the
                    // current frame does is an error, checked before the length itself.
                    // (frame_end is 0 for earlier versions.)
                    if self.pos < self.frame_end {
                        return Err(ErrorCode::Unpickling(
                            "beginning of a new frame before end of current frame".into(),
                        ));
                    }
                    let Some(n) = Self::binsize(&s) else {
                        return Err(ErrorCode::Overflow("FRAME length exceeds system's maximum".into()));
                    };
                    // The C unpickler checks that the frame's bytes are there, then reads on;
                    // before 3.14 frame boundaries are not enforced at all.
                    if n > self.data.len() - self.pos {
                        return Err(ErrorCode::Truncated);
                    }
                    if self.opts.python.enforces_frames() {
                        self.frame_end = self.pos + n;
                        self.readable = &self.data[..self.frame_end];
                    }
                }
                _ => self.step(op)?,
            }
        }
    }

    /// One of the less common opcodes.
    #[inline(never)]
    fn step(&mut self, op: Opcode) -> R<()> {
        match op {
            Opcode::POP => {
                let len = self.stack.len();
                if self.marks.last() == Some(&len) {
                    self.marker()?;
                } else if len <= self.fence() {
                    return Err(self.underflow());
                } else {
                    self.stack.pop();
                }
            }
            Opcode::POP_MARK => {
                let i = self.marker()?;
                self.stack.truncate(i);
            }
            Opcode::DUP => {
                let v = self.top()?;
                self.push(v);
            }
            Opcode::FLOAT => self.load_float()?,
            Opcode::INT => self.load_int()?,
            Opcode::LONG => self.load_long()?,
            Opcode::LONG1 => self.load_counted_long(1)?,
            Opcode::LONG4 => self.load_counted_long(4)?,
            Opcode::PERSID => {
                let line = self.readline()?;
                let body = &line[..line.len() - 1];
                if !body.is_ascii() {
                    return Err(ErrorCode::Unpickling(
                        "persistent IDs in protocol 0 must be ASCII strings".into(),
                    ));
                }
                let pid = self.new_str(body.to_vec())?;
                let v = self.obj(Obj::object(Construction::PersId(pid)));
                self.push(v);
            }
            Opcode::BINPERSID => {
                let pid = self.pop()?;
                let v = self.obj(Obj::object(Construction::PersId(pid)));
                self.push(v);
            }
            Opcode::STRING => self.load_string()?,
            Opcode::BINSTRING => self.load_counted_binstring(4)?,
            Opcode::SHORT_BINSTRING => self.load_counted_binstring(1)?,
            Opcode::UNICODE => {
                let line = self.readline()?;
                let s = pytext::raw_unicode_escape_decode(&line[..line.len() - 1])
                    .map_err(|m| ErrorCode::UnicodeDecode(format!("'rawunicodeescape' codec can't decode bytes: {m}")))?;
                let v = self.new_str(s)?;
                self.push(v);
            }
            Opcode::BINUNICODE8 => self.load_counted_binunicode(8)?,
            Opcode::BINBYTES => self.load_counted_binbytes(4, false)?,
            Opcode::BINBYTES8 => self.load_counted_binbytes(8, false)?,
            Opcode::BYTEARRAY8 => self.load_counted_binbytes(8, true)?,
            Opcode::LIST => {
                let i = self.marker()?;
                let items = self.pop_from(i)?;
                self.charge(16 * items.len() + 16)?;
                let v = self.obj(Obj::List(items));
                self.push(v);
            }
            Opcode::DICT => {
                let i = self.marker()?;
                let j = self.stack.len();
                if (j - i) % 2 != 0 {
                    return Err(ErrorCode::Unpickling("odd number of items for DICT".into()));
                }
                self.charge(24 * (j - i) + 16)?;
                let mut d = Box::new(Dict::with_capacity((j - i) / 2));
                for kv in self.stack[i..].chunks_exact(2) {
                    d.set_item(&mut self.heap, kv[0], kv[1]).map_err(|e| hash_err(e, &self.opts.limits))?;
                }
                self.stack.truncate(i);
                let v = self.obj(Obj::Dict(d));
                self.push(v);
            }
            Opcode::EMPTY_SET => {
                self.charge(16)?;
                let v = self.obj(Obj::Set(Box::default()));
                self.push(v);
            }
            Opcode::FROZENSET => {
                let i = self.marker()?;
                let items = self.pop_from(i)?;
                self.charge(24 * items.len() + 16)?;
                let mut s = Box::new(Set::default());
                for it in items {
                    s.add(&mut self.heap, it).map_err(|e| hash_err(e, &self.opts.limits))?;
                }
                let v = self.obj(Obj::FrozenSet(s));
                self.push(v);
            }
            Opcode::ADDITEMS => self.load_additems()?,
            Opcode::BUILD => self.load_build()?,
            Opcode::GLOBAL => {
                let line = self.readline()?;
                if line.len() < 2 {
                    return Err(ErrorCode::Truncated);
                }
                let module = utf8_strict(&line[..line.len() - 1])?;
                let line = self.readline()?;
                if line.len() < 2 {
                    return Err(ErrorCode::Truncated);
                }
                let name = utf8_strict(&line[..line.len() - 1])?;
                let v = self.find_class(module, name)?;
                self.push(v);
            }
            Opcode::STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                match (self.obj_of(module), self.obj_of(name)) {
                    (Some(Obj::Str(m)), Some(Obj::Str(n))) => {
                        let (m, n) = (m.clone(), n.clone());
                        let v = self.find_class(m, n)?;
                        self.push(v);
                    }
                    _ => return Err(ErrorCode::Unpickling("STACK_GLOBAL requires str".into())),
                }
            }
            Opcode::INST => {
                let i = self.marker()?;
                let line = self.readline()?;
                if line.len() < 2 {
                    return Err(ErrorCode::Truncated);
                }
                let module = ascii_strict(&line[..line.len() - 1])?;
                let line = self.readline()?;
                if line.len() < 2 {
                    return Err(ErrorCode::Truncated);
                }
                let name = ascii_strict(&line[..line.len() - 1])?;
                let cls = self.find_class(module, name)?;
                let args = self.pop_from(i)?;
                let v = self.instantiate(cls, args)?;
                self.push(v);
            }
            Opcode::OBJ => {
                let i = self.marker()?;
                if self.stack.len() < i + 1 {
                    return Err(self.underflow());
                }
                let args = self.pop_from(i + 1)?;
                let cls = self.pop()?;
                let v = self.instantiate(cls, args)?;
                self.push(v);
            }
            Opcode::NEWOBJ => {
                let args = self.pop()?;
                let args = match self.obj_of(args) {
                    Some(Obj::Tuple(items)) => Some(items.clone()),
                    _ => None,
                };
                let Some(args) = args else {
                    return Err(ErrorCode::Unpickling("NEWOBJ expected an arg tuple.".into()));
                };
                let cls = self.pop()?;
                if !self.is_global(cls) {
                    return Err(ErrorCode::Unpickling(format!(
                        "NEWOBJ class argument must be a type, not {}",
                        self.type_name(cls)
                    )));
                }
                let v = self.newobj(cls, args, vec![])?;
                self.push(v);
            }
            Opcode::NEWOBJ_EX => {
                let kwargs = self.pop()?;
                let args = self.pop()?;
                let cls = self.pop()?;
                if !self.is_global(cls) {
                    return Err(ErrorCode::Unpickling(format!(
                        "NEWOBJ_EX class argument must be a type, not {}",
                        self.type_name(cls)
                    )));
                }
                let Some(Obj::Tuple(args)) = self.obj_of(args) else {
                    return Err(ErrorCode::Unpickling(format!(
                        "NEWOBJ_EX args argument must be a tuple, not {}",
                        self.type_name(args)
                    )));
                };
                let args = args.clone();
                let Some(Obj::Dict(kw)) = self.obj_of(kwargs) else {
                    return Err(ErrorCode::Unpickling(format!(
                        "NEWOBJ_EX kwargs argument must be a dict, not {}",
                        self.type_name(kwargs)
                    )));
                };
                let kw = kw.entries.clone();
                for (k, _) in &kw {
                    if !matches!(self.obj_of(*k), Some(Obj::Str(_))) {
                        return Err(ErrorCode::Type("keywords must be strings".into()));
                    }
                }
                let v = self.newobj(cls, args, kw)?;
                self.push(v);
            }
            Opcode::GET => {
                let line = self.readline()?;
                if line.len() < 2 {
                    return Err(ErrorCode::Truncated);
                }
                let idx = parse_memo_index(line, self.opts.python)?;
                if idx < 0 {
                    return Err(ErrorCode::MemoMissing(idx as u64));
                }
                self.memo_get(idx as u64)?;
            }
            Opcode::PUT => {
                let line = self.readline()?;
                if line.len() < 2 {
                    return Err(ErrorCode::Truncated);
                }
                self.top()?;
                let idx = parse_memo_index(line, self.opts.python)?;
                if idx < 0 {
                    return Err(ErrorCode::Value("negative PUT argument".into()));
                }
                self.memo_put_top(idx as u64)?;
            }
            Opcode::PROTO => {
                let p = self.read_u8()?;
                if p > HIGHEST_PROTOCOL {
                    return Err(ErrorCode::Value(format!("unsupported pickle protocol: {p}")));
                }
                self.proto = p;
            }
            Opcode::EXT1 | Opcode::EXT2 | Opcode::EXT4 => {
                let n = match op {
                    Opcode::EXT1 => 1,
                    Opcode::EXT2 => 2,
                    _ => 4,
                };
                let s = self.read(n)?;
                let code = Self::binint(s);
                if code <= 0 {
                    return Err(ErrorCode::Unpickling("EXT specifies code <= 0".into()));
                }
                if let Some(&v) = self.ext_cache.get(&code) {
                    self.push(v);
                    return Ok(());
                }
                let Some((m, n)) = self.opts.extensions.get(&code) else {
                    return Err(ErrorCode::Value(format!("unregistered extension code {code}")));
                };
                let (m, n) = (PyStr::from_str(m), PyStr::from_str(n));
                let v = self.find_class(m, n)?;
                self.ext_cache.insert(code, v);
                self.push(v);
            }
            Opcode::NEXT_BUFFER => {
                let Some(count) = self.opts.buffers else {
                    return Err(ErrorCode::Unpickling(
                        "pickle stream refers to out-of-band data but no *buffers* argument was given".into(),
                    ));
                };
                if self.next_buffer >= count {
                    return Err(ErrorCode::Unpickling("not enough out-of-band buffers".into()));
                }
                let v = self.obj(Obj::Buffer { index: self.next_buffer, readonly: false });
                self.next_buffer += 1;
                self.push(v);
            }
            Opcode::READONLY_BUFFER => {
                let v = self.top()?;
                let replacement = match self.obj_of(v) {
                    Some(Obj::Bytes(_)) | Some(Obj::Buffer { readonly: true, .. }) | Some(Obj::View(_)) => None,
                    Some(Obj::ByteArray(_)) => Some(Obj::View(match v {
                        Value::Obj(id) => id,
                        _ => unreachable!(),
                    })),
                    Some(Obj::Buffer { index, readonly: false }) => Some(Obj::Buffer { index: *index, readonly: true }),
                    _ => {
                        return Err(ErrorCode::Type(format!(
                            "memoryview: a bytes-like object is required, not '{}'",
                            self.type_name(v)
                        )))
                    }
                };
                if let Some(o) = replacement {
                    let nv = self.obj(o);
                    if let Value::Obj(view) = nv {
                        self.views.push(view);
                    }
                    *self.stack.last_mut().unwrap() = nv;
                }
            }
            other => return Err(ErrorCode::UnknownOpcode(other.0)),
        }
        Ok(())
    }

    // ---- opcode families ----

    fn load_int(&mut self) -> R<()> {
        let line = self.readline()?;
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

    fn load_long(&mut self) -> R<()> {
        let line = self.readline()?;
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

    fn load_counted_long(&mut self, n: usize) -> R<()> {
        let s = self.read(n)?;
        let size = Self::binint(s);
        if size < 0 {
            return Err(ErrorCode::Unpickling("LONG pickle has negative byte count".into()));
        }
        let v = if size == 0 {
            Value::Int(0)
        } else {
            let bytes = self.read(size as usize)?;
            if bytes.len() <= 8 {
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
            }
        };
        self.push(v);
        Ok(())
    }

    fn load_float(&mut self) -> R<()> {
        let line = self.readline()?;
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
    fn float(&mut self, f: f64) -> Value {
        if f.is_nan() {
            self.obj(Obj::Float(f))
        } else {
            Value::Float(f)
        }
    }

    fn load_string(&mut self) -> R<()> {
        let line = self.readline()?;
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

    fn load_counted_binstring(&mut self, n: usize) -> R<()> {
        let s = self.read(n)?;
        // From 3.14 (and 3.13.5, by backport) BINSTRING's 4-byte length is signed, as
        // pickletools documents it (gh-135321, PR #135322): 2 GiB or more is a negative count.
        if n == 4 && self.opts.python.signed_binstring_size() && s[3] & 0x80 != 0 {
            return Err(ErrorCode::Unpickling("BINSTRING pickle has negative byte count".into()));
        }
        let Some(size) = Self::binsize(s) else {
            return Err(ErrorCode::Unpickling("BINSTRING exceeds system's maximum size".into()));
        };
        let body = self.read(size)?;
        let s = ascii_bytes(body.to_vec())?;
        let v = self.new_str(s)?;
        self.push(v);
        Ok(())
    }

    fn load_counted_binunicode(&mut self, n: usize) -> R<()> {
        let s = self.read(n)?;
        let Some(size) = Self::binsize(s) else {
            return Err(ErrorCode::Overflow("BINUNICODE exceeds system's maximum size".into()));
        };
        let start = self.pos;
        let body = self.read(size)?;
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

    fn load_counted_binbytes(&mut self, n: usize, bytearray: bool) -> R<()> {
        let s = self.read(n)?;
        let Some(size) = Self::binsize(s) else {
            return Err(ErrorCode::Overflow(format!(
                "{} exceeds system's maximum size",
                if bytearray { "BYTEARRAY8" } else { "BINBYTES" }
            )));
        };
        // CPython allocates `size` bytes before reading; brine checks the input first. A
        // size beyond any 64-bit address space (2^47) fails CPython's malloc on every
        // machine, so that much of its behaviour is deterministic and mirrored. From 3.15 a
        // large argument is read in chunks instead (gh-115952, PR #119204): missing input is
        // then "pickle data was truncated" (or, in a frame, crossing its end), whatever the
        // size.
        if size > self.data.len() - self.pos && size >= 1 << 47 && !self.opts.python.reads_incrementally() {
            return Err(ErrorCode::Memory("declared length beyond the address space".into()));
        }
        // `_Unpickler_ReadInto` copies what the buffer holds and, when that was nothing,
        // reports truncation even for a read of zero bytes: an empty BINBYTES as the very
        // last bytes of the input is "pickle data was truncated".
        if size == 0 && self.pos == self.data.len() {
            return Err(ErrorCode::Truncated);
        }
        let start = self.pos;
        let body = self.read(size)?;
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

    /// `do_append(self, x)`: items from `x` go into the object just below them, which must
    /// lie above the current fence (the topmost remaining MARK).
    fn do_append(&mut self, x: usize) -> R<()> {
        let len = self.stack.len();
        if x > len || x <= self.fence() {
            return Err(self.underflow());
        }
        // An empty batch is a no-op before 3.15; from 3.15 the target must still be
        // something with `extend`/`append` (gh-135573, PR #144950).
        if len == x && !self.opts.python.empty_batches_check_target() {
            return Ok(());
        }
        let target = self.stack[x - 1];
        let id = match target {
            Value::Obj(id) => Some(id),
            _ => None,
        };
        match id.map(|i| self.heap.get(i)) {
            Some(Obj::List(_)) => {
                self.charge(16 * (len - x))?;
                if let Obj::List(l) = &mut self.heap.objs[id.unwrap() as usize] {
                    l.extend_from_slice(&self.stack[x..]);
                }
                self.stack.truncate(x);
            }
            Some(Obj::Object(_)) => {
                self.charge(16 * (len - x))?;
                if let Obj::Object(o) = &mut self.heap.objs[id.unwrap() as usize] {
                    o.ops.extend(self.stack[x..].iter().map(|&it| ObjOp::Append(it)));
                }
                self.stack.truncate(x);
            }
            Some(Obj::ByteArray(_)) | Some(Obj::Buffer { readonly: false, .. }) => {
                // (3.15's empty batch: `extend([])` resizes nothing, so live exports are
                // no BufferError.)
                if len == x {
                    return Ok(());
                }
                let items = self.stack.split_off(x);
                let mut bytes = Vec::with_capacity(items.len());
                for it in items {
                    bytes.push(self.byte_value(it)?);
                }
                self.charge(bytes.len())?;
                self.check_exports(id.unwrap())?;
                self.bytearray_mut(id.unwrap()).extend(bytes);
            }
            _ => {
                return Err(ErrorCode::Attribute(format!(
                    "'{}' object has no attribute 'append'",
                    self.type_name(target)
                )))
            }
        }
        Ok(())
    }

    /// BufferError when bytearray (or writable supplied buffer) `id` has a live export: a
    /// view READONLY_BUFFER made of it that CPython still holds a reference to. Live here
    /// means reachable from the stack or the memo, which is what a reference count comes
    /// to while nothing is collected (CPython's cycle collector could free an unreachable
    /// cycle holding a view mid-load; brine treats every unreachable view as freed). An
    /// unreachable view can never be reached again, so it is forgotten: each view costs at
    /// most one search, and a search that finds a live one ends the load.
    fn check_exports(&mut self, id: ObjId) -> R<()> {
        let exports_of = |heap: &Heap, v: ObjId| match (heap.get(v), heap.get(id)) {
            (Obj::View(b), _) => *b == id,
            (Obj::Buffer { index: i, readonly: true }, Obj::Buffer { index: j, readonly: false }) => i == j,
            _ => false,
        };
        if !self.views.iter().any(|&v| exports_of(&self.heap, v)) {
            return Ok(());
        }
        let mut seen = vec![false; self.heap.objs.len()];
        let mut work: Vec<Value> = self.stack.clone();
        work.extend((0..self.memo.dense.len()).filter_map(|i| self.memo.get(i as u64)));
        work.extend(self.memo.others.values().copied());
        let mut kids = Vec::new();
        while let Some(v) = work.pop() {
            let Value::Obj(o) = v else { continue };
            if std::mem::replace(&mut seen[o as usize], true) {
                continue;
            }
            self.heap.spend().map_err(|e| hash_err(e, &self.opts.limits))?;
            kids.clear();
            crate::json::write::children(self.heap.get(o), &mut kids);
            work.extend_from_slice(&kids);
        }
        if self.views.iter().any(|&v| seen[v as usize] && exports_of(&self.heap, v)) {
            return Err(ErrorCode::Buffer("Existing exports of data: object cannot be re-sized".into()));
        }
        self.views.retain(|&v| seen[v as usize]);
        Ok(())
    }

    /// The contents of a bytearray or of a writable supplied buffer.
    fn bytearray_mut(&mut self, id: ObjId) -> &mut Vec<u8> {
        match self.heap.objs[id as usize] {
            Obj::Buffer { index, .. } => &mut self.heap.buffers[index],
            Obj::ByteArray(ref mut b) => b,
            _ => unreachable!("not a bytearray"),
        }
    }

    /// A bytearray element: an int in range(256) (bool counts), as `bytearray.extend` wants.
    fn byte_value(&self, v: Value) -> R<u8> {
        match v {
            Value::Bool(b) => Ok(b as u8),
            Value::Int(i) => u8::try_from(i).map_err(|_| ErrorCode::Value("byte must be in range(0, 256)".into())),
            Value::Obj(id) if matches!(self.heap.get(id), Obj::Int(_)) => {
                Err(ErrorCode::Value("byte must be in range(0, 256)".into()))
            }
            _ => Err(ErrorCode::Type(format!(
                "'{}' object cannot be interpreted as an integer",
                self.type_name(v)
            ))),
        }
    }

    /// An index for list/bytearray item assignment (`PyNumber_AsSsize_t(key, IndexError)`).
    fn index_value(&self, key: Value, what: &str) -> R<i64> {
        match key {
            Value::Bool(b) => Ok(b as i64),
            Value::Int(i) => Ok(i),
            Value::Obj(id) if matches!(self.heap.get(id), Obj::Int(_)) => {
                Err(ErrorCode::Index("cannot fit 'int' into an index-sized integer".into()))
            }
            _ => Err(ErrorCode::Type(format!(
                "{what} indices must be integers or slices, not {}",
                self.type_name(key)
            ))),
        }
    }

    /// `do_setitems(self, x)`: key/value pairs from `x` go into the object just below them.
    fn do_setitems(&mut self, x: isize) -> R<()> {
        let len = self.stack.len() as isize;
        if x > len || x <= self.fence() as isize {
            return Err(self.underflow());
        }
        let x = x as usize;
        let len = len as usize;
        if len == x {
            return Ok(());
        }
        if (len - x) % 2 != 0 {
            return Err(ErrorCode::Unpickling("odd number of items for SETITEMS".into()));
        }
        let target = self.stack[x - 1];
        if let Some(Obj::Dict(_)) = self.obj_of(target) {
            let Value::Obj(id) = target else { unreachable!() };
            self.charge(16 * (len - x))?;
            let res = self.fill_dict(id, x);
            self.stack.truncate(x);
            return res;
        }
        let items = self.stack.split_off(x);
        self.charge(16 * items.len())?;
        let Value::Obj(id) = target else {
            return Err(ErrorCode::Type(format!(
                "'{}' object does not support item assignment",
                self.type_name(target)
            )));
        };
        match self.heap.get(id) {
            Obj::Object { .. } => {
                for kv in items.chunks_exact(2) {
                    self.record_op(target, ObjOp::SetItem(kv[0], kv[1]));
                }
            }
            Obj::List(_) | Obj::ByteArray(_) | Obj::Buffer { readonly: false, .. } => {
                let is_list = matches!(self.heap.get(id), Obj::List(_));
                for kv in items.chunks_exact(2) {
                    let what = if is_list { "list" } else { "bytearray" };
                    let i = self.index_value(kv[0], what)?;
                    let byte = if is_list { 0 } else { self.byte_value(kv[1])? };
                    let n = match self.heap.get(id) {
                        Obj::List(l) => l.len(),
                        _ => self.bytearray_mut(id).len(),
                    } as i64;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(ErrorCode::Index(format!("{what} assignment index out of range")));
                    }
                    if let Obj::List(l) = self.heap.get_mut(id) {
                        l[j as usize] = kv[1];
                    } else {
                        self.bytearray_mut(id)[j as usize] = byte;
                    }
                }
            }
            Obj::Buffer { readonly: true, .. } | Obj::View(_) => {
                return Err(ErrorCode::Type("cannot modify read-only memory".into()));
            }
            _ => {
                return Err(ErrorCode::Type(format!(
                    "'{}' object does not support item assignment",
                    self.type_name(target)
                )))
            }
        }
        Ok(())
    }

    /// Sets the key/value pairs on the stack from `from` up into dict `id`.
    fn fill_dict(&mut self, id: ObjId, from: usize) -> R<()> {
        // The dict is filled outside the heap (its keys are hashed against the heap), with
        // the empty spare standing in for it meanwhile.
        self.swap_spare_dict(id);
        let d = self.spare_dict.as_deref_mut().expect("swapped in");
        d.reserve((self.stack.len() - from) / 2);
        let mut res = Ok(());
        for kv in self.stack[from..].chunks_exact(2) {
            if let Err(e) = d.set_item(&mut self.heap, kv[0], kv[1]) {
                res = Err(hash_err(e, &self.opts.limits));
                break;
            }
        }
        self.swap_spare_dict(id);
        res
    }

    fn swap_spare_dict(&mut self, id: ObjId) {
        if let Obj::Dict(d) = &mut self.heap.objs[id as usize] {
            std::mem::swap(d, self.spare_dict.get_or_insert_with(Box::default));
        }
    }

    fn load_additems(&mut self) -> R<()> {
        let mark = self.marker()?;
        let len = self.stack.len();
        if mark > len || mark <= self.fence() {
            return Err(self.underflow());
        }
        // As in do_append: from 3.15 an empty batch still needs a target with `add`
        // (gh-135573, PR #144950).
        if len == mark && !self.opts.python.empty_batches_check_target() {
            return Ok(());
        }
        let target = self.stack[mark - 1];
        let items = self.stack.split_off(mark);
        self.charge(24 * items.len())?;
        match self.obj_of(target) {
            Some(Obj::Set(_)) => {
                let Value::Obj(id) = target else { unreachable!() };
                let Obj::Set(mut s) = std::mem::replace(self.heap.get_mut(id), Obj::List(vec![])) else {
                    unreachable!()
                };
                let mut res = Ok(());
                for it in items {
                    if let Err(e) = s.add(&mut self.heap, it) {
                        res = Err(hash_err(e, &self.opts.limits));
                        break;
                    }
                }
                *self.heap.get_mut(id) = Obj::Set(s);
                res
            }
            Some(Obj::Object { .. }) => {
                for it in items {
                    self.record_op(target, ObjOp::Add(it));
                }
                Ok(())
            }
            _ => Err(ErrorCode::Attribute(format!("'{}' object has no attribute 'add'", self.type_name(target)))),
        }
    }

    fn load_build(&mut self) -> R<()> {
        if self.stack.len() < 2 || self.stack.len() - 2 < self.fence() {
            return Err(self.underflow());
        }
        let state = self.pop()?;
        let inst = self.top()?;
        if self.is_record(inst) {
            self.record_op(inst, ObjOp::Build(state));
            return Ok(());
        }
        // CPython's default __setstate__ logic on an object without __setstate__.
        let (state, slotstate) = match self.obj_of(state) {
            Some(Obj::Tuple(t)) if t.len() == 2 => (t[0], Some(t[1])),
            _ => (state, None),
        };
        let inst_is_global = self.is_global(inst);
        if state != Value::None {
            let Some(Obj::Dict(d)) = self.obj_of(state) else {
                return Err(ErrorCode::Unpickling("state is not a dictionary".into()));
            };
            if !inst_is_global {
                return Err(ErrorCode::Attribute(format!(
                    "'{}' object has no attribute '__dict__'",
                    self.type_name(inst)
                )));
            }
            if !d.is_empty() {
                return Err(ErrorCode::Type("'mappingproxy' object does not support item assignment".into()));
            }
        }
        if let Some(slot) = slotstate {
            let Some(Obj::Dict(d)) = self.obj_of(slot) else {
                return Err(ErrorCode::Unpickling("slot state is not a dictionary".into()));
            };
            if let Some(&(k, _)) = d.entries.first() {
                let key = match self.obj_of(k) {
                    Some(Obj::Str(s)) => s.clone(),
                    _ => {
                        return Err(ErrorCode::Type(format!(
                            "attribute name must be string, not '{}'",
                            self.type_name(k)
                        )))
                    }
                };
                if !inst_is_global && &*key.0 == b"__class__" {
                    return Err(ErrorCode::Type("__class__ assignment only supported for mutable types".into()));
                }
                return Err(ErrorCode::Attribute(format!(
                    "'{}' object has no attribute '{}'",
                    self.type_name(inst),
                    String::from_utf8_lossy(&key.0)
                )));
            }
        }
        Ok(())
    }
}

/// PUT/GET's `PyLong_FromString(s, NULL, 10)` then `PyLong_AsSsize_t`.
fn parse_memo_index(line: &[u8], py: Python) -> R<i64> {
    match parse_long_text(line, false, py)? {
        PyInt::Small(i) => Ok(i),
        PyInt::Big(_) => Err(ErrorCode::Overflow("Python int too large to convert to C ssize_t".into())),
    }
}

/// `PyLong_FromString(s, NULL, base)` with its errors as CPython raises them (the decimal
/// digit limit is `py`'s: none for 3.9.2, which predates gh-95778's limit).
fn parse_long_text(text: &[u8], base0: bool, py: Python) -> R<PyInt> {
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

fn utf8_strict(s: &[u8]) -> R<PyStr> {
    match std::str::from_utf8(s) {
        Ok(_) => Ok(PyStr(s.into())),
        Err(_) => Err(ErrorCode::UnicodeDecode("'utf-8' codec can't decode bytes".into())),
    }
}

fn ascii_strict(s: &[u8]) -> R<PyStr> {
    if s.is_ascii() {
        Ok(PyStr(s.into()))
    } else {
        Err(ErrorCode::UnicodeDecode("'ascii' codec can't decode bytes".into()))
    }
}

fn ascii_bytes(s: Vec<u8>) -> R<Vec<u8>> {
    if s.is_ascii() {
        Ok(s)
    } else {
        Err(ErrorCode::UnicodeDecode("'ascii' codec can't decode bytes".into()))
    }
}

#[inline]
fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
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
    fn memo_holds_objects_and_other_values_alike() {
        let mut m = Memo::new(0);
        let far = m.dense_max + 5;
        assert_eq!(m.put(0, &Value::Obj(7), 10), Some(true));
        assert_eq!(m.put(1, &Value::Int(-3), 10), Some(true));
        assert_eq!(m.put(5, &Value::Obj(OTHER + 1), 10), Some(true)); // an id too big for a slot
        assert_eq!(m.put(far, &Value::Obj(9), 10), Some(true));
        assert_eq!(m.len, 4);
        assert_eq!(m.get(0), Some(Value::Obj(7)));
        assert_eq!(m.get(1), Some(Value::Int(-3)));
        assert_eq!(m.get(2), None);
        assert_eq!(m.get(5), Some(Value::Obj(OTHER + 1)));
        assert_eq!(m.get(far), Some(Value::Obj(9)));
        // Overwrites keep the count and may change the kind of value.
        assert_eq!(m.put(1, &Value::Obj(2), 10), Some(false));
        assert_eq!(m.put(0, &Value::Float(1.5), 10), Some(false));
        assert_eq!((m.get(0), m.get(1), m.len), (Some(Value::Float(1.5)), Some(Value::Obj(2)), 4));
        // The limit counts entries, not indices.
        assert_eq!(m.put(3, &Value::None, 5), Some(true));
        assert_eq!(m.put(4, &Value::Obj(1), 5), None);
        assert_eq!(m.put(far + 1, &Value::None, 5), None);
        assert_eq!(m.put(3, &Value::Obj(1), 5), Some(false));
        assert_eq!(m.len, 5);
    }

    #[test]
    fn split_memo_follows_cpython_3_15() {
        // memo_len counts array slots a PUT filled; sparse indices go to the dict.
        let mut s = SplitMemo::new();
        s.put(0, true);
        s.put(24, true); // below the array's 32 slots
        s.put(40, true); // 40 > 2 * 2: the dict
        assert_eq!((s.size, s.len), (32, 2));
        s.put(4, true); // 4 < 32: the array
        assert_eq!(s.len, 3);
        s.put(6, true);
        s.put(7, true);
        s.put(12, true);
        assert_eq!(s.len, 6);
        s.put(12, false); // an overwrite
        assert_eq!(s.len, 6);
        s.put(33, true); // 33 > 12: the dict
        s.put(34, true);
        assert_eq!((s.size, s.len, s.in_dict.len()), (32, 6, 3));
        for i in (8..12).chain(13..21) {
            s.put(i, true);
        }
        assert_eq!(s.len, 18);
        s.put(36, true); // 36 <= 2 * 18: grows the array to 72 slots; the dict stays
        assert_eq!((s.size, s.len, s.in_dict.len()), (72, 19, 3));
        s.put(200, true); // the dict
        s.got(33); // moved into the array, uncounted
        s.got(200); // beyond the array: stays in the dict
        assert_eq!((s.len, s.in_dict.len()), (19, 3));
        s.put(33, false); // already in the array: not counted again
        assert_eq!(s.len, 19);
        s.put(34, false); // from the dict into the array: counted
        assert_eq!((s.len, s.in_dict.len()), (20, 2));
    }
}
