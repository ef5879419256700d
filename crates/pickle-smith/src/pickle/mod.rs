//! The pickle generator: [`GeneratedPickle`].
//!
//! Generation runs in four phases:
//! 1. PROTO (protocol 2 and up), then up to `max_ops` steps; each step gathers the entries
//!    of [`TABLE`] whose opcode is enabled, exists in the protocol and whose predicate holds
//!    on the model, and runs one of them, chosen by weight (boosted for pushers that
//!    continue a pattern a rarer opcode needs, see `Gen::boost`).
//! 2. Closing: entries that shrink the stack (by the opcode table's stack effect) bring it
//!    down to one item, then STOP.
//! 3. Framing (protocol 4 and up): the ops after PROTO are cut into frames of whole ops.
//! 4. Opt-in invalidity: one defect injected at a random step (the pickle then ends there
//!    with STOP), or the bytes truncated.

pub(crate) mod args;
pub(crate) mod model;
mod ops;

pub(crate) use ops::TABLE;

use crate::config::Config;
use arbitrary::{Arbitrary, Result, Unstructured};
use args::{chance, encode, Arg};
use brine_codec::opcodes::{Layout, Pops, HIGHEST_PROTOCOL};
use brine_codec::{DecodeOptions, Opcode};
use model::{Item, Kind, Model, Slot};
use std::collections::BTreeMap;

/// A generated pickle and what loading it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedPickle {
    /// The pickle.
    pub bytes: Vec<u8>,
    /// The protocol it is written in: it uses only opcodes of this protocol or below, and
    /// starts with `PROTO protocol` when that is 2 or more (unless PROTO was disabled).
    pub protocol: u8,
    /// `Some(k)` when it consumes k out-of-band buffers (NEXT_BUFFER): load it with k
    /// buffers. `None` when it uses none.
    pub buffers: Option<usize>,
    /// The extension registry entries (code -> (module, name)) its EXT opcodes use: load it
    /// with these registered.
    pub extensions: BTreeMap<i32, (String, String)>,
    /// Whether CPython's unpickler (and so `brine_codec::decode_with` with
    /// [`GeneratedPickle::decode_options`]) accepts it. False only when the config enabled
    /// an invalidity knob and a defect was injected.
    pub expect_valid: bool,
}

impl GeneratedPickle {
    /// Generates a pickle as `config` allows, drawing every choice from `u`. An exhausted
    /// `u` makes the remaining choices the smallest ones, so the pickle just ends early.
    pub fn new(config: &Config, u: &mut Unstructured) -> Result<GeneratedPickle> {
        let lo = config.min_protocol.min(HIGHEST_PROTOCOL);
        let hi = config.max_protocol.clamp(lo, HIGHEST_PROTOCOL);
        let protocol = u.int_in_range(lo..=hi)?;
        let mut g = Gen::new(config, protocol);
        if protocol >= 2 && g.enabled(Opcode::PROTO) {
            g.op(Opcode::PROTO, Arg::Int(protocol as i64));
        }
        let body = g.starts.len();
        let steps = u.int_in_range(0..=config.max_ops)?;
        let inject = if config.any_invalid_op() && chance(u, 1, 2)? {
            Some(u.int_in_range(0..=steps)?)
        } else {
            None
        };
        for i in 0..=steps {
            if inject == Some(i) {
                g.inject(u)?;
                break;
            }
            if i == steps || u.is_empty() || !g.step(u)? {
                break;
            }
        }
        if g.valid {
            g.finish(u)?;
        }
        if protocol >= 4 && config.framing && g.enabled(Opcode::FRAME) {
            g.frame(u, body)?;
        }
        if config.invalid_truncation && !g.out.is_empty() && chance(u, 1, 2)? {
            let cut = u.int_in_range(0..=g.out.len() - 1)?;
            g.out.truncate(cut);
            g.valid = false;
        }
        Ok(GeneratedPickle {
            bytes: g.out,
            protocol,
            buffers: (g.buffers_used > 0).then_some(g.buffers_used),
            extensions: g.extensions,
            expect_valid: g.valid,
        })
    }

    /// The options to decode it with: its buffers and extension registry, other options
    /// at their defaults.
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            buffers: self.buffers,
            extensions: self
                .extensions
                .iter()
                .map(|(&c, mn)| (c as i64, mn.clone()))
                .collect(),
            ..DecodeOptions::default()
        }
    }
}

/// Generates with the default [`Config`].
impl<'a> Arbitrary<'a> for GeneratedPickle {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        GeneratedPickle::new(&Config::default(), u)
    }
}

/// Whether `e` shrinks the stack or closes a mark (reducing entries + marks, so a loop of
/// them ends).
fn shrinks(e: &ops::Entry) -> bool {
    let s = e.op.info().unwrap().stack;
    match s.pops {
        Pops::Mark(_) => true,
        Pops::Fixed(n) => n > s.pushes,
    }
}

/// Generation state: the config, the model and the bytes so far.
pub(crate) struct Gen<'c> {
    config: &'c Config,
    pub(crate) protocol: u8,
    pub(crate) m: Model,
    pub(crate) out: Vec<u8>,
    /// Offset of each opcode emitted, for framing.
    pub(crate) starts: Vec<usize>,
    pub(crate) buffers_used: usize,
    extensions: BTreeMap<i32, (String, String)>,
    valid: bool,
    /// Index of the first op of an injected defect.
    defect_at: Option<usize>,
    /// The [`TABLE`] entries this pickle may ever emit (weighted, enabled, in its
    /// protocol), in table order: a step weighs only these (swarm configs disable most).
    live: Vec<u8>,
}

/// The kinds of invalidity [`Gen::inject`] can make (truncation is done on the bytes).
#[derive(Clone, Copy)]
enum Defect {
    StackShape,
    MissingMark,
    MemoIndex,
    Length,
    Text,
    Opcode,
}

impl<'c> Gen<'c> {
    pub(crate) fn new(config: &'c Config, protocol: u8) -> Self {
        let mut g = Gen {
            config,
            protocol,
            m: Model::default(),
            out: Vec::new(),
            starts: Vec::new(),
            buffers_used: 0,
            extensions: BTreeMap::new(),
            valid: true,
            defect_at: None,
            live: Vec::new(),
        };
        g.set_config(config);
        g
    }

    /// Generates under `config` from now on (the bypass generator switches between the
    /// configs of its filler), with the entries it allows.
    pub(crate) fn set_config(&mut self, config: &'c Config) {
        self.config = config;
        self.live = (0..TABLE.len()).filter(|&i| TABLE[i].weight > 0 && self.enabled(TABLE[i].op)).map(|i| i as u8).collect();
    }

    /// Whether `op` may be emitted: enabled, and part of the pickle's protocol.
    fn enabled(&self, op: Opcode) -> bool {
        self.config.opcodes.contains(op) && self.exists(op)
    }

    /// Whether `op` exists in the pickle's protocol.
    fn exists(&self, op: Opcode) -> bool {
        op.info().is_some_and(|i| i.proto <= self.protocol)
    }

    /// Appends `op` with `arg`, laid out as the opcode table says.
    pub(crate) fn op(&mut self, op: Opcode, arg: Arg) {
        self.op_claimed(op, arg, None);
    }

    /// [`Gen::op`] with a length prefix that may lie.
    fn op_claimed(&mut self, op: Opcode, arg: Arg, claimed: Option<i64>) {
        self.starts.push(self.out.len());
        self.out.push(op.0);
        encode(
            &mut self.out,
            op.info().expect("a known opcode").arg,
            arg,
            claimed,
        );
    }

    fn depth_ok(&self, d: usize) -> bool {
        d <= self.config.max_depth
    }

    /// One step: a weighted choice among the applicable entries. False when none applies.
    fn step(&mut self, u: &mut Unstructured) -> Result<bool> {
        self.choose_and_run(u, |_| true)
    }

    fn choose_and_run(
        &mut self,
        u: &mut Unstructured,
        filter: impl Fn(&ops::Entry) -> bool,
    ) -> Result<bool> {
        let mut cands = [(0u8, 0u32); 80];
        let (mut n, mut total) = (0, 0u32);
        let boosts = Boosts::of(self);
        for &i in &self.live {
            let e = &TABLE[i as usize];
            if filter(e) && (e.pred)(self) {
                total += e.weight * boosts.of_op(e.op);
                cands[n] = (i, total);
                n += 1;
            }
        }
        if total == 0 {
            return Ok(false);
        }
        let r = u.int_in_range(1..=total)?;
        let i = cands[..n].iter().find(|c| c.1 >= r).expect("r <= total").0;
        (TABLE[i as usize].emit)(self, u)?;
        Ok(true)
    }

    /// Brings the stack down to one item (usually: sometimes more are left, which CPython
    /// accepts too), makes sure an item is on top, and emits STOP.
    fn finish(&mut self, u: &mut Unstructured) -> Result<()> {
        if !chance(u, 1, 10)? {
            // Every entry that shrinks the stack (or closes a mark) reduces
            // entries + marks, so this ends.
            while self.m.stack.len() > 1 || self.m.stack.last() == Some(&Slot::Mark) {
                if !self.choose_and_run(u, shrinks)? {
                    break;
                }
            }
        }
        if !matches!(self.m.stack.last(), Some(Slot::Val(_))) {
            self.op(Opcode::NONE, Arg::None);
            self.m.push(Item::atom(Kind::None));
        }
        self.op(Opcode::STOP, Arg::None);
        Ok(())
    }

    /// Up to `steps` steps on a stack of their own, closed down to exactly one item, which
    /// is then pushed on the real stack: a run of whole ops that leaves one more value and
    /// touches nothing below it (the memo and every object stay shared with the rest of the
    /// pickle). For [`crate::bypass`], which puts such runs between the ops it hides a
    /// global with.
    pub(crate) fn filler(&mut self, u: &mut Unstructured, steps: usize) -> Result<()> {
        let below = std::mem::take(&mut self.m.stack);
        for _ in 0..steps {
            if u.is_empty() || !self.step(u)? {
                break;
            }
        }
        while self.m.stack.len() > 1 || self.m.stack.last() == Some(&Slot::Mark) {
            if self.choose_and_run(u, shrinks)? {
                continue;
            }
            // Nothing enabled closes what is open: POP_MARK (LIST in protocol 0, which has
            // no POP_MARK) and POP always do.
            if self.m.last_mark().is_some() {
                if self.exists(Opcode::POP_MARK) {
                    self.op(Opcode::POP_MARK, Arg::None);
                    self.m.pop_mark();
                } else {
                    self.op(Opcode::LIST, Arg::None);
                    let ids = self.m.pop_mark();
                    let it = self.m.container(Kind::List, &ids);
                    self.m.push(it);
                }
            } else {
                self.op(Opcode::POP, Arg::None);
                self.m.stack.pop();
            }
        }
        if self.m.stack.is_empty() {
            self.op(Opcode::NONE, Arg::None);
            self.m.push(Item::atom(Kind::None));
        }
        let top = self.m.stack.pop().expect("one item");
        self.m.stack = below;
        self.m.stack.push(top);
        Ok(())
    }

    /// Cuts the ops from index `body` on into frames of whole ops (some ops left unframed,
    /// some frames empty), as protocol 4's framing allows. An injected defect and what
    /// follows it stay out of frames, where a FRAME header could pad out a lying length.
    fn frame(&mut self, u: &mut Unstructured, body: usize) -> Result<()> {
        let total = self.starts.len();
        let n = self.defect_at.unwrap_or(total);
        let end = |i: usize, s: &Self| {
            if i + 1 < total {
                s.starts[i + 1]
            } else {
                s.out.len()
            }
        };
        let head = self.starts.get(body).copied().unwrap_or(self.out.len());
        let mut res = self.out[..head].to_vec();
        let mut starts = self.starts[..body].to_vec();
        let frame_kind = Opcode::FRAME.info().unwrap().arg;
        let mut i = body;
        while i < n {
            if chance(u, 1, 6)? {
                starts.push(res.len());
                res.extend_from_slice(&self.out[self.starts[i]..end(i, self)]);
                i += 1;
                continue;
            }
            let k = if chance(u, 1, 25)? {
                0
            } else if u.is_empty() {
                n - i
            } else {
                u.int_in_range(1..=n - i)?
            };
            let (a, b) = (
                self.starts[i],
                if k == 0 {
                    self.starts[i]
                } else {
                    end(i + k - 1, self)
                },
            );
            starts.push(res.len());
            res.push(Opcode::FRAME.0);
            encode(&mut res, frame_kind, Arg::Int((b - a) as i64), None);
            for j in i..i + k {
                starts.push(res.len() + self.starts[j] - a);
            }
            res.extend_from_slice(&self.out[a..b]);
            i += k;
        }
        if n < total {
            let a = self.starts[n];
            starts.extend(self.starts[n..].iter().map(|&s| res.len() + s - a));
            res.extend_from_slice(&self.out[a..]);
        }
        self.out = res;
        self.starts = starts;
        Ok(())
    }

    /// Emits one defect of an enabled kind, then STOP; the pickle is then invalid.
    fn inject(&mut self, u: &mut Unstructured) -> Result<()> {
        let c = self.config;
        // Protocol 0 has no counted argument to lie about.
        let kinds: Vec<Defect> = [
            (c.invalid_stack_shape, Defect::StackShape),
            (c.invalid_missing_mark, Defect::MissingMark),
            (c.invalid_memo_index, Defect::MemoIndex),
            (c.invalid_length && self.protocol >= 1, Defect::Length),
            (c.invalid_text, Defect::Text),
            (c.invalid_opcode, Defect::Opcode),
        ]
        .into_iter()
        .filter_map(|(on, d)| on.then_some(d))
        .collect();
        if kinds.is_empty() {
            return Ok(());
        }
        self.defect_at = Some(self.starts.len());
        match *u.choose(&kinds)? {
            Defect::StackShape => self.bad_stack_shape(u)?,
            Defect::MissingMark => self.missing_mark(u)?,
            Defect::MemoIndex => self.bad_memo_index(u)?,
            Defect::Length => self.bad_length(u)?,
            Defect::Text => self.bad_text(u)?,
            Defect::Opcode => {
                let unknown: Vec<u8> = (0..=255u8)
                    .filter(|&b| Opcode(b).info().is_none())
                    .collect();
                let b = *u.choose(&unknown)?;
                self.starts.push(self.out.len());
                self.out.push(b);
            }
        }
        self.op(Opcode::STOP, Arg::None);
        self.valid = false;
        Ok(())
    }

    /// Emits one of `recipes` (op sequences) whose ops all exist in the protocol.
    fn recipe(&mut self, u: &mut Unstructured, recipes: &[&[(Opcode, Arg)]]) -> Result<()> {
        let ok: Vec<_> = recipes
            .iter()
            .filter(|r| r.iter().all(|(op, _)| self.exists(*op)))
            .collect();
        for &(op, arg) in u.choose(&ok)?.iter() {
            self.op(op, arg);
        }
        Ok(())
    }

    fn bad_stack_shape(&mut self, u: &mut Unstructured) -> Result<()> {
        use Arg::{Int, None as N};
        use Opcode as O;
        if self.m.stack.is_empty() && chance(u, 1, 2)? {
            self.op(O::POP, N);
            return Ok(());
        }
        self.recipe(
            u,
            &[
                &[(O::MARK, N), (O::DUP, N)],
                &[(O::MARK, N)],
                &[(O::NONE, N), (O::NONE, N), (O::APPEND, N)],
                &[(O::NONE, N), (O::MARK, N), (O::TUPLE, N), (O::REDUCE, N)],
                &[(O::MARK, N), (O::NONE, N), (O::NONE, N), (O::SETITEM, N)],
                &[(O::MARK, N), (O::NONE, N), (O::DICT, N)],
                &[(O::NONE, N), (O::INT, Arg::Data(b"5")), (O::BUILD, N)],
                &[(O::MARK, N), (O::NONE, N), (O::OBJ, N)],
                &[
                    (O::EMPTY_LIST, N),
                    (O::NONE, N),
                    (O::NONE, N),
                    (O::SETITEM, N),
                ],
                &[
                    (O::EMPTY_DICT, N),
                    (O::EMPTY_LIST, N),
                    (O::NONE, N),
                    (O::SETITEM, N),
                ],
                &[
                    (O::EMPTY_LIST, N),
                    (O::BININT1, Int(0)),
                    (O::NONE, N),
                    (O::SETITEM, N),
                ],
                &[(O::MARK, N), (O::TUPLE1, N)],
                &[(O::NONE, N), (O::EMPTY_TUPLE, N), (O::NEWOBJ, N)],
                &[(O::NONE, N), (O::NONE, N), (O::STACK_GLOBAL, N)],
                &[(O::NONE, N), (O::NONE, N), (O::NONE, N), (O::NEWOBJ_EX, N)],
                &[
                    (O::EMPTY_SET, N),
                    (O::MARK, N),
                    (O::EMPTY_LIST, N),
                    (O::ADDITEMS, N),
                ],
                &[(O::MARK, N), (O::EMPTY_DICT, N), (O::FROZENSET, N)],
                &[(O::NONE, N), (O::READONLY_BUFFER, N)],
            ],
        )
    }

    fn missing_mark(&mut self, u: &mut Unstructured) -> Result<()> {
        use Arg::None as N;
        use Opcode as O;
        while self.m.last_mark().is_some() {
            self.op(O::POP_MARK, N);
            self.m.pop_mark();
        }
        self.recipe(
            u,
            &[
                &[(O::LIST, N)],
                &[(O::TUPLE, N)],
                &[(O::DICT, N)],
                &[(O::POP_MARK, N)],
                &[(O::INST, Arg::Lines(b"builtins", b"list"))],
                &[(O::EMPTY_LIST, N), (O::APPENDS, N)],
                &[(O::EMPTY_DICT, N), (O::SETITEMS, N)],
                &[(O::GLOBAL, Arg::Lines(b"builtins", b"list")), (O::OBJ, N)],
                &[(O::FROZENSET, N)],
                &[(O::EMPTY_SET, N), (O::ADDITEMS, N)],
            ],
        )
    }

    fn bad_memo_index(&mut self, u: &mut Unstructured) -> Result<()> {
        let start = u.int_in_range(0..=255u32)?;
        let missing = (start..).find(|i| !self.m.memo.contains_key(i)).unwrap();
        match u.int_in_range(0..=3u8)? {
            0 if self.exists(Opcode::BINGET) && missing <= 255 => {
                self.op(Opcode::BINGET, Arg::Int(missing as i64))
            }
            1 if self.exists(Opcode::LONG_BINGET) => {
                self.op(Opcode::LONG_BINGET, Arg::Int(missing as i64))
            }
            2 => {
                if self.m.top(1).is_none() {
                    self.op(Opcode::NONE, Arg::None);
                }
                self.op(Opcode::PUT, Arg::Data(b"-1"));
            }
            _ => self.op(Opcode::GET, Arg::Data(missing.to_string().as_bytes())),
        }
        Ok(())
    }

    fn bad_length(&mut self, u: &mut Unstructured) -> Result<()> {
        use Opcode as O;
        let counted: Vec<Opcode> = [
            O::SHORT_BINSTRING,
            O::BINSTRING,
            O::BINUNICODE,
            O::LONG1,
            O::LONG4,
            O::SHORT_BINBYTES,
            O::BINBYTES,
            O::SHORT_BINUNICODE,
            O::BINUNICODE8,
            O::BINBYTES8,
            O::BYTEARRAY8,
            O::FRAME,
        ]
        .into_iter()
        .filter(|&op| self.exists(op))
        .collect();
        let op = *u.choose(&counted)?;
        let data = args::ascii(u, 40)?;
        // What follows the length is the data and STOP: one byte short of the claim at
        // least. BINSTRING and LONG4 take a signed length: a negative one is refused too.
        let over = data.len() as i64 + 2 + u.int_in_range(0..=200)?;
        let kind = op.info().unwrap().arg;
        if op == O::FRAME {
            self.op(op, Arg::Int(over.min(200)));
        } else if matches!(kind.layout(), Layout::Counted { signed: true, .. }) && chance(u, 1, 3)? {
            self.op_claimed(
                op,
                Arg::Data(&data),
                Some(-u.int_in_range(1..=i32::MAX as i64)?),
            );
        } else {
            // At most what the length prefix holds.
            let width = kind.layout().width();
            let over = if width < 8 { over.min((1 << (8 * width)) - 1) } else { over };
            self.op_claimed(op, Arg::Data(&data), Some(over));
        }
        Ok(())
    }

    fn bad_text(&mut self, u: &mut Unstructured) -> Result<()> {
        use Arg::{Data as D, Lines as L};
        use Opcode as O;
        self.recipe(
            u,
            &[
                &[(O::INT, D(b"12x"))],
                &[(O::INT, D(b""))],
                &[(O::INT, D(b"1.5"))],
                &[(O::INT, D(b"099999999999999999999"))],
                &[(O::LONG, D(b"12.5L"))],
                &[(O::LONG, D(b"010L"))],
                &[(O::LONG, D(b"L"))],
                &[(O::FLOAT, D(b"1.5.5"))],
                &[(O::FLOAT, D(b" 1.5"))],
                &[(O::FLOAT, D(b"1e999"))],
                &[(O::FLOAT, D(b"abc"))],
                &[(O::STRING, D(b"abc"))],
                &[(O::STRING, D(b"'abc\""))],
                &[(O::STRING, D(b"'"))],
                &[(O::STRING, D(b"'\\xff'"))],
                &[(O::STRING, D(b"'ab\\'"))],
                &[(O::STRING, D(b"'\\x4'"))],
                &[(O::STRING, D(b"'\xe9'"))],
                &[(O::UNICODE, D(b"\\u12"))],
                &[(O::UNICODE, D(b"\\U00110000"))],
                &[(O::UNICODE, D(b"a\\uZZZZ"))],
                &[(O::GLOBAL, L(b"\xff\xfe", b"name"))],
                &[(O::GLOBAL, L(b"", b"name"))],
                &[(O::PERSID, D(b"\xe9t\xe9"))],
                &[(O::GET, D(b"x"))],
                &[(O::NONE, Arg::None), (O::PUT, D(b"1.0"))],
                &[(O::BINUNICODE, D(b"\xff"))],
                &[(O::SHORT_BINUNICODE, D(b"a\xed\xa0"))],
                &[(O::BINUNICODE8, D(b"\xc0\x80"))],
                &[(O::SHORT_BINSTRING, D(b"caf\xe9"))],
                &[(O::BINSTRING, D(b"\x80"))],
            ],
        )
    }
}

/// Weight multipliers for pushers that continue a pattern some rarer opcode needs on top of
/// the stack: a class then an args tuple then a kwargs dict (REDUCE, NEWOBJ, NEWOBJ_EX), a
/// class just above a mark (OBJ), a second str (STACK_GLOBAL). Read off the stack once per
/// step, not once per candidate opcode.
struct Boosts {
    /// The kinds of the top items (up to 3, as many as are above the topmost mark).
    top: Vec<Kind>,
    /// Whether the top item is a non-empty str.
    nonempty_str: bool,
    /// Whether a mark is on top.
    mark_on_top: bool,
}

impl Boosts {
    fn of(g: &Gen) -> Boosts {
        // The kinds of the longest run of items (at most 3) on top of the stack.
        let run = g.m.stack.iter().rev().take(3).take_while(|s| matches!(s, Slot::Val(_))).count();
        let top = g.m.top_kinds(run).unwrap_or_default();
        let nonempty_str = g.m.top(1).is_some_and(|t| g.m.item(t[0]).kind == Kind::Str && g.m.item(t[0]).len > 0);
        Boosts { top, nonempty_str, mark_on_top: g.m.stack.last() == Some(&Slot::Mark) }
    }

    fn of_op(&self, op: Opcode) -> u32 {
        use Kind::{Global, Tuple};
        let ends = |pat: &[Kind]| self.top.ends_with(pat);
        match op {
            Opcode::EMPTY_TUPLE if ends(&[Global]) => 6,
            Opcode::MARK if ends(&[Global]) => 3,
            Opcode::EMPTY_DICT if ends(&[Global, Tuple]) => 8,
            Opcode::NEWOBJ_EX => 4,
            Opcode::GLOBAL | Opcode::STACK_GLOBAL if self.mark_on_top => 4,
            Opcode::SHORT_BINUNICODE | Opcode::BINUNICODE if self.nonempty_str => 4,
            _ => 1,
        }
    }
}
