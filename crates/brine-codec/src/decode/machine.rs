//! The machine every opcode runs on: its state, reading arguments (through the opcode
//! table's [`Layout`] and [`split_arg`], with 3.14's frame boundaries), the stack and its
//! marks, the stack opcodes (MARK, POP, POP_MARK, DUP, STOP), and making objects within the
//! size budget.

use super::memo::{Memo, SplitMemo};
use super::{DecodeOptions, Decoded, FindClass, Limits, R};
use crate::error::{Error, ErrorCode};
use crate::opcodes::{split_arg, ArgBytes, ArgError, Layout, Opcode};
use crate::pytext::PyInt;
use crate::value::{Blob, Dict, HashError, Heap, Obj, ObjId, ObjOp, PyStr, Source, Value};
use std::collections::HashMap;

pub(super) struct Machine<'a> {
    pub(super) data: &'a [u8],
    /// What reads may take from: `data`, or, inside a frame of a CPython that enforces
    /// frames (3.14+), `data` up to the frame's end (see [`Machine::arg`]). Every read goes
    /// through it, so the frame costs the fast path nothing; `pos` never passes its end.
    pub(super) readable: &'a [u8],
    pub(super) pos: usize,
    pub(super) op_start: usize,
    pub(super) opts: &'a DecodeOptions,
    pub(super) heap: Heap,
    pub(super) stack: Vec<Value>,
    /// Stack positions of the MARKs, innermost last.
    pub(super) marks: Vec<usize>,
    /// The innermost mark's position, or 0: nothing below it may be popped.
    fence: usize,
    pub(super) memo: Memo,
    /// CPython 3.15's memo bookkeeping ([`crate::Python::split_memo`]); `None` before 3.15.
    pub(super) split_memo: Option<Box<SplitMemo>>,
    pub(super) proto: u8,
    pub(super) globals: HashMap<(PyStr, PyStr), ObjId>,
    pub(super) next_buffer: usize,
    alloc_left: usize,
    pub(super) op_counts: Option<Box<[u32; 256]>>,
    /// An empty dict that stands in the heap for a dict being filled (taken out so that
    /// its keys can be hashed against the heap): a key that is the dict itself is then
    /// still an unhashable dict. Made on first use.
    pub(super) spare_dict: Option<Box<Dict>>,
    /// The read-only views READONLY_BUFFER made of bytearrays and supplied buffers that
    /// may still be alive: each holds an export, and CPython refuses to resize a bytearray
    /// with live exports (BufferError). See [`Machine::check_exports`].
    pub(super) views: Vec<ObjId>,
    /// The shared input of [`super::decode_shared`]: long blobs are windows into it.
    pub(super) source: Option<&'a Source>,
    /// What EXT1/2/4 pushed per code: CPython caches an extension's object by code
    /// (`copyreg._extension_cache`, which the sandbox empties before each load), so a code
    /// seen again in the same load pushes the same object without calling `find_class`,
    /// even after a PROTO that would rename it differently.
    pub(super) ext_cache: HashMap<i64, Value>,
    /// The `find_class` calls so far, when [`super::globals`] asked for them (`None`
    /// otherwise, so that a plain decode pays one never-taken branch per global and nothing
    /// else).
    pub(super) calls: Option<Vec<FindClass>>,
    /// Where the current frame ends, for a CPython that enforces frames (3.14+, see
    /// [`crate::Python::enforces_frames`]); 0 otherwise. Reading inside a frame
    /// (`pos < frame_end`) may not cross its end; a read starting at its end is unframed.
    pub(super) frame_end: usize,
}

pub(super) fn hash_err(e: HashError, limits: &Limits) -> ErrorCode {
    match e {
        HashError::Unhashable(t) => ErrorCode::Type(format!("unhashable type: '{t}'")),
        HashError::TooDeep => ErrorCode::DepthLimit(limits.max_depth),
        HashError::Budget => ErrorCode::WorkLimit,
    }
}

impl<'a> Machine<'a> {
    pub(super) fn new(data: &'a [u8], opts: &'a DecodeOptions) -> Self {
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

    /// Runs to STOP and hands over the result.
    pub(super) fn finish(mut self) -> Result<Decoded, Error> {
        let r = self.run();
        self.conclude(r)
    }

    /// The result of a run that ended with `r`.
    pub(super) fn conclude(self, r: R<Value>) -> Result<Decoded, Error> {
        match r {
            Ok(root) => Ok(Decoded { heap: self.heap, root, end: self.pos, op_counts: self.op_counts }),
            Err(code) => Err(Error { code, offset: self.op_start }),
        }
    }

    // ---- input ----

    /// The argument of the opcode just read, laid out as `layout` (the table's, see
    /// [`split_arg`]); `pos` moves past it.
    ///
    /// CPython's C unpickler reads a counted argument's length and its body, and the two
    /// lines of GLOBAL/INST, with separate reads, and from 3.14 a read that starts at a
    /// frame's end goes on unframed (gh-154848, PR #154893, "Enforce frame boundaries in the
    /// C unpickler"). So the argument is split within the frame first, and when the part
    /// that did not fit starts at the frame's end, split again with the frame left.
    #[inline(always)]
    pub(super) fn arg(&mut self, layout: Layout) -> Result<ArgBytes<'a>, ArgError> {
        match split_arg(self.readable, self.pos, layout) {
            Ok(a) => {
                self.pos = a.end;
                Ok(a)
            }
            Err(e) => self.arg_unframed(layout, e),
        }
    }

    /// [`Machine::arg`] when the argument is not all readable: at the end of a frame
    /// (3.14+ only), reading goes on unframed; anywhere else (inside a frame, or with no
    /// frame: always so before 3.14), the error stands.
    #[cold]
    fn arg_unframed(&mut self, layout: Layout, e: ArgError) -> Result<ArgBytes<'a>, ArgError> {
        let (ArgError::Truncated { at, .. } | ArgError::NoNewline { at }) = e else { return Err(e) };
        if at != self.readable.len() || self.readable.len() == self.data.len() {
            return Err(e);
        }
        self.readable = self.data;
        let a = split_arg(self.data, self.pos, layout)?;
        self.pos = a.end;
        Ok(a)
    }

    /// The error of a read that cannot be satisfied (a short read or a missing newline at
    /// `at`): inside a frame (3.14+), crossing its end is checked first (gh-154848), whether
    /// or not the input goes on; else the input ran out. A length error has no meaning
    /// here: the callers handle those their layouts have.
    #[cold]
    pub(super) fn arg_error(&self, e: ArgError) -> ErrorCode {
        match e {
            ArgError::Truncated { at, .. } | ArgError::NoNewline { at } => self.short_read(at),
            ArgError::NegativeLength(_) | ArgError::AboveMaxsize(_) => {
                unreachable!("no such length in this opcode's layout: {e:?}")
            }
        }
    }

    /// See [`Machine::arg_error`].
    #[cold]
    pub(super) fn short_read(&self, at: usize) -> ErrorCode {
        if at < self.frame_end {
            ErrorCode::Unpickling("pickle exhausted before end of frame".into())
        } else {
            ErrorCode::Truncated
        }
    }

    /// At the end of a frame (3.14+), reading goes on unframed: makes the rest of the
    /// input readable and says whether `n` more bytes now are. Anywhere else, false. (For
    /// the opcode byte; arguments go through [`Machine::arg`].)
    #[cold]
    pub(super) fn leave_frame(&mut self, n: usize) -> bool {
        if self.pos != self.readable.len() || self.readable.len() == self.data.len() {
            return false;
        }
        self.readable = self.data;
        n <= self.data.len() - self.pos
    }

    /// The fixed-size argument of `op`, as the array its value is read from (`N` is the
    /// table's width: the caller's type names the value, e.g. `i32::from_le_bytes`).
    #[inline(always)]
    pub(super) fn fixed<const N: usize>(&mut self, op: Opcode) -> R<[u8; N]> {
        match self.arg(op.layout()) {
            Ok(a) => Ok(a.bytes.try_into().expect("the table's width")),
            Err(e) => Err(self.arg_error(e)),
        }
    }

    /// The one-line argument of `op`, newline included (`_Unpickler_Readline`).
    pub(super) fn line(&mut self, op: Opcode) -> R<&'a [u8]> {
        match self.arg(op.layout()) {
            Ok(a) => Ok(a.bytes),
            Err(e) => Err(self.arg_error(e)),
        }
    }

    /// The two-line argument of `op` (GLOBAL, INST), newlines included: the first line, and
    /// the second or why it is missing. CPython checks the first line before it reads the
    /// second, so its errors come first.
    pub(super) fn two_lines(&mut self, op: Opcode) -> R<(&'a [u8], R<&'a [u8]>)> {
        let start = self.pos;
        match self.arg(op.layout()) {
            Ok(a) => Ok((a.bytes, Ok(a.second))),
            Err(ArgError::NoNewline { at }) if at > start => Ok((&self.data[start..at], Err(self.short_read(at)))),
            Err(e) => Err(self.arg_error(e)),
        }
    }

    /// The [`Blob::INLINE`] input bytes from `start`, when an argument of `len` bytes there
    /// fits inline and the input goes on that far (see [`Blob::from_window`]).
    #[inline(always)]
    pub(super) fn window(&self, start: usize, len: usize) -> Option<&'a [u8; Blob::INLINE]> {
        if len > Blob::INLINE {
            return None;
        }
        self.data.get(start..start + Blob::INLINE).map(|w| w.try_into().expect("INLINE bytes"))
    }

    // ---- the stack ----

    #[inline(always)]
    pub(super) fn fence(&self) -> usize {
        self.fence
    }

    /// MARK.
    #[inline]
    pub(super) fn push_mark(&mut self) {
        self.fence = self.stack.len();
        self.marks.push(self.fence);
    }

    pub(super) fn underflow(&self) -> ErrorCode {
        ErrorCode::StackUnderflow { at_mark: !self.marks.is_empty() }
    }

    #[inline(always)]
    pub(super) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    #[inline(always)]
    pub(super) fn pop(&mut self) -> R<Value> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        Ok(self.stack.pop().unwrap())
    }

    #[inline(always)]
    pub(super) fn top(&self) -> R<Value> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        Ok(*self.stack.last().unwrap())
    }

    /// `marker()`: pops the topmost mark and returns its stack position.
    #[inline]
    pub(super) fn marker(&mut self) -> R<usize> {
        let m = self.marks.pop().ok_or(ErrorCode::NoMark)?;
        self.fence = self.marks.last().copied().unwrap_or(0);
        Ok(m)
    }

    /// `Pdata_poptuple`/`Pdata_poplist`: the items from `start` up.
    pub(super) fn pop_from(&mut self, start: usize) -> R<Vec<Value>> {
        if start < self.fence() || start > self.stack.len() {
            return Err(self.underflow());
        }
        Ok(self.stack.split_off(start))
    }

    /// POP: the top item, or, when the topmost mark is on top, that mark.
    #[inline(never)]
    pub(super) fn load_pop(&mut self) -> R<()> {
        let len = self.stack.len();
        if self.marks.last() == Some(&len) {
            self.marker()?;
        } else if len <= self.fence() {
            return Err(self.underflow());
        } else {
            self.stack.pop();
        }
        Ok(())
    }

    /// POP_MARK.
    #[inline(never)]
    pub(super) fn load_pop_mark(&mut self) -> R<()> {
        let i = self.marker()?;
        self.stack.truncate(i);
        Ok(())
    }

    /// DUP.
    #[inline(never)]
    pub(super) fn load_dup(&mut self) -> R<()> {
        let v = self.top()?;
        self.push(v);
        Ok(())
    }

    // ---- objects ----

    /// Takes `n` bytes from the size budget ([`Limits::max_alloc`]).
    #[inline(always)]
    pub(super) fn charge(&mut self, n: usize) -> R<()> {
        if n > self.alloc_left {
            return Err(ErrorCode::SizeLimit(self.opts.limits.max_alloc));
        }
        self.alloc_left -= n;
        Ok(())
    }

    #[inline]
    pub(super) fn obj(&mut self, o: Obj) -> Value {
        Value::Obj(self.heap.alloc(o))
    }

    pub(super) fn new_str(&mut self, s: Vec<u8>) -> R<Value> {
        self.charge(s.len() + 16)?;
        Ok(self.obj(Obj::Str(PyStr(s.into()))))
    }

    /// Whether a str or bytes of `len` bytes will be a window into the input.
    #[inline]
    fn shares(&self, len: usize) -> bool {
        self.source.is_some() && len >= self.opts.share_min
    }

    /// The `len` input bytes from `start` (just read), too many to go inline, as a blob: a
    /// window into the shared input when long enough (see [`super::decode_shared`]), else a
    /// copy. Charged to the size budget as what it allocates. (Short ones are made in place
    /// by the callers: a blob returned through a `Result` is one copy more, which costs
    /// short strs a third of their decode time.)
    #[inline(never)]
    pub(super) fn long_blob(&mut self, start: usize, len: usize) -> R<Blob> {
        if let Some(source) = self.source.filter(|_| self.shares(len)) {
            if let Some(b) = Blob::shared(source, start, len) {
                self.charge(64)?;
                return Ok(b);
            }
        }
        self.charge(len + 16)?;
        Ok(Blob::new(&self.data[start..start + len]))
    }

    pub(super) fn new_tuple(&mut self, items: Vec<Value>) -> R<Value> {
        self.charge(16 * items.len() + 16)?;
        Ok(self.obj(Obj::Tuple(items)))
    }

    pub(super) fn int_value(&mut self, v: PyInt) -> R<Value> {
        Ok(match v {
            PyInt::Small(i) => Value::Int(i),
            PyInt::Big(b) => {
                self.charge(b.bits() as usize / 8 + 16)?;
                self.obj(Obj::Int(Box::new(b)))
            }
        })
    }

    pub(super) fn obj_of(&self, v: Value) -> Option<&Obj> {
        match v {
            Value::Obj(id) => Some(self.heap.get(id)),
            _ => None,
        }
    }

    pub(super) fn is_global(&self, v: Value) -> bool {
        matches!(self.obj_of(v), Some(Obj::Global { .. }))
    }

    pub(super) fn is_record(&self, v: Value) -> bool {
        matches!(self.obj_of(v), Some(Obj::Object { .. }))
    }

    pub(super) fn type_name(&self, v: Value) -> &'static str {
        self.heap.type_name(v)
    }

    pub(super) fn record_op(&mut self, target: Value, op: ObjOp) {
        if let Value::Obj(id) = target {
            if let Obj::Object(o) = self.heap.get_mut(id) {
                o.ops.push(op);
            }
        }
    }
}
