//! Pickles that hide a global the way real scanner bypasses do: [`HiddenGlobal`], generated
//! as a [`BypassConfig`] allows, with the [`Technique`]s it names.
//!
//! Scanners (picklescan, fickling, modelscan) are meant to report every global
//! `pickle.loads` would resolve: every (module, name) CPython's C unpickler passes to
//! `find_class`. Each file here makes CPython resolve one dangerous target (`os.system`,
//! `builtins.eval`...) in a way some scanner has missed: STACK_GLOBAL operands fetched from
//! the memo or duplicated, memo slots overwritten, names in odd str opcodes or split across
//! frames, INST, OBJ or EXT instead of GLOBAL, a payload called before a parse error, a
//! second pickle after STOP. Techniques combine (one file may take its module name from an
//! overwritten memo slot, in a frame of its own, inside an OBJ), and runs of benign ops from
//! the pickle generator go between the ops that matter.
//!
//! Every file is valid for CPython 3.11's C unpickler up to the point its techniques intend
//! (only opcodes of the declared protocol; stack shapes, marks and memo slots as the
//! unpickler needs them), kept so by the pickle generator's model of the stack and memo.
//! `tests/bypass_cpython.rs` checks with CPython itself that the target is resolved.
//!
//! ```
//! use arbitrary::Unstructured;
//! use pickle_smith::{BypassConfig, HiddenGlobal};
//!
//! let seed = [3u8; 256];
//! let h = HiddenGlobal::new(&BypassConfig::default(), &mut Unstructured::new(&seed)).unwrap();
//! assert_eq!(h.techniques[0], h.technique);
//! assert_eq!(brine_codec::decode_with(&h.bytes, &h.decode_options()).is_ok(), h.loads_ok);
//! ```

mod frames;
mod hide;

use crate::config::{Config, Family, OpcodeSet};
use crate::pickle::args::chance;
use crate::pickle::Gen;
use crate::GeneratedPickle;
use arbitrary::{Arbitrary, Result, Unstructured};
use brine_codec::opcodes::HIGHEST_PROTOCOL;
use brine_codec::{DecodeOptions, Opcode};
use hide::{Consumer, Dup, Hider, Plan, Producer, Source};
use std::collections::BTreeMap;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(m, n)| (m.to_string(), n.to_string()))
        .collect()
}

config! {
    /// What [`HiddenGlobal::new`] may generate.
    BypassConfig {
        /// The globals to hide, as (module, name), resolved at any protocol. Defaults to
        /// os.system, posix.system, nt.system, builtins.eval, builtins.exec,
        /// builtins.__import__, builtins.getattr, subprocess.Popen and runpy._run_code.
        targets: Vec<(String, String)> = pairs(&[
            ("os", "system"),
            ("posix", "system"),
            ("nt", "system"),
            ("builtins", "eval"),
            ("builtins", "exec"),
            ("builtins", "__import__"),
            ("builtins", "getattr"),
            ("subprocess", "Popen"),
            ("runpy", "_run_code"),
        ]),
        /// Python 2 spellings of dangerous globals, which CPython's `fix_imports` maps to
        /// Python 3 ones in protocol 0-2 pickles only (so they are hidden only there).
        /// Defaults to __builtin__.eval, __builtin__.exec, __builtin__.__import__,
        /// __builtin__.getattr (all mapped to builtins) and commands.getoutput (mapped to
        /// subprocess.getoutput).
        py2_targets: Vec<(String, String)> = pairs(&[
            ("__builtin__", "eval"),
            ("__builtin__", "exec"),
            ("__builtin__", "__import__"),
            ("__builtin__", "getattr"),
            ("commands", "getoutput"),
        ]),
        /// The techniques a file may use, as the one it is generated for or combined with it.
        /// Defaults to all of [`Technique::ALL`].
        techniques: Vec<Technique> = Technique::ALL.to_vec(),
        /// Lowest protocol of the pickle that carries the target. Defaults to 0.
        min_protocol: u8 = 0,
        /// Highest protocol of the pickle that carries the target (at most 5). Defaults to 5.
        max_protocol: u8 = HIGHEST_PROTOCOL,
        /// Most techniques combined with the one a file is generated for (each joins with
        /// probability 1/3 while this allows). Defaults to 3.
        max_combined: usize = 3,
        /// Most steps of one run of benign filler ops (the pickle generator's, with no
        /// globals, calls, extensions or persistent ids). Defaults to 8.
        max_filler_ops: usize = 8,
        /// Size in bytes past which no more filler is added. The hiding ops themselves (a few
        /// hundred bytes at most) are always written whole. Defaults to 2048.
        max_size: usize = 2048,
        /// How many out-of-band buffers filler may consume (NEXT_BUFFER, protocol 5): a file
        /// using k of them reports `buffers: Some(k)`. Defaults to 0.
        buffers: usize = 0,
    }
}

/// Swarm testing: a random protocol range, a random subset of the targets and techniques,
/// random maximums.
impl<'a> Arbitrary<'a> for BypassConfig {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let d = BypassConfig::default();
        let (a, b) = (
            u.int_in_range(0..=HIGHEST_PROTOCOL)?,
            u.int_in_range(0..=HIGHEST_PROTOCOL)?,
        );
        let mut targets: Vec<_> = d
            .targets
            .iter()
            .filter(|_| u.ratio(2, 3).unwrap_or(true))
            .cloned()
            .collect();
        if targets.is_empty() {
            targets.push(u.choose(&d.targets)?.clone());
        }
        let py2_targets = d
            .py2_targets
            .iter()
            .filter(|_| u.ratio(1, 2).unwrap_or(true))
            .cloned()
            .collect();
        let mut techniques: Vec<Technique> = Technique::ALL
            .into_iter()
            .filter(|_| u.ratio(3, 4).unwrap_or(true))
            .collect();
        if techniques.is_empty() {
            techniques.push(*u.choose(&Technique::ALL)?);
        }
        let mut c = BypassConfig {
            targets,
            py2_targets,
            techniques,
            min_protocol: a.min(b),
            max_protocol: a.max(b),
            max_combined: u.int_in_range(0..=6)?,
            max_filler_ops: u.int_in_range(0..=40)?,
            max_size: u.int_in_range(0..=8192)?,
            buffers: u.int_in_range(0..=2)?,
        };
        // Every technique needs some protocol: keep one that fits the range.
        if !c
            .techniques
            .iter()
            .any(|&t| t.min_protocol() <= c.max_protocol)
        {
            c.techniques.push(Technique::Global);
        }
        Ok(c)
    }
}

/// A way of hiding a global from scanners. Every file is generated for one (its
/// [`HiddenGlobal::technique`]) and may combine others with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Technique {
    /// Control: `GLOBAL module\nname\n` (protocol 0 and up), as CPython's pickler writes
    /// protocols 0-3, maybe called by REDUCE; nothing else between.
    Global,
    /// Control: two SHORT_BINUNICODEs and STACK_GLOBAL (protocol 4 and up), as CPython's
    /// pickler writes protocols 4-5 (MEMOIZE after each), maybe called by REDUCE.
    StackGlobal,
    /// STACK_GLOBAL operands stored in the memo (BINPUT, LONG_BINPUT, PUT or MEMOIZE),
    /// popped, and fetched back (BINGET, LONG_BINGET or GET) later, filler between.
    MemoOperands,
    /// STACK_GLOBAL's module operand duplicated by DUP: the copy feeds a decoy
    /// STACK_GLOBAL (module.__name__...) and the original the target's, or the copy feeds
    /// the target's and the original stays below it (or is dropped through the memo).
    DupOperands,
    /// A memo slot holding a benign str, overwritten with a target operand before it is
    /// fetched: PUT over PUT at the same index, or MEMOIZE over a filled slot (MEMOIZE
    /// writes index `len(memo)`, which a gap in the memo makes an existing one).
    MemoAlias,
    /// STACK_GLOBAL operands in str opcodes the pickler never writes for them: STRING (with
    /// `\x` and octal escapes or without), BINSTRING, SHORT_BINSTRING, UNICODE (with `\u`
    /// escapes or without). With the default encoding all load as str.
    StrForms,
    /// Protocol 4-5 frames cut between the ops that resolve the target (between
    /// STACK_GLOBAL's two operands, before the STACK_GLOBAL, the memo fetches, the call...);
    /// sometimes a frame's declared length ends inside an op (see
    /// [`HiddenGlobal::straddles_frames`]).
    FrameSplit,
    /// INST (protocol 0): MARK, arguments, `i module\nname\n`, resolving and calling at once.
    Inst,
    /// OBJ (protocol 1): MARK, the class (GLOBAL, STACK_GLOBAL or EXT, with their own
    /// techniques), arguments, OBJ.
    Obj,
    /// EXT1, EXT2 or EXT4 (protocol 2) of a code that [`HiddenGlobal::extensions`] maps to
    /// the target.
    Ext,
    /// The target called (REDUCE, OBJ or INST) and then the stream broken: cut short, an
    /// opcode that does not exist, a missing memo slot or mark, a length past the end, a
    /// stack underflow, an unquoted STRING. `pickle.loads` raises, after the call.
    PayloadThenError,
    /// A benign pickle first (no globals at all), and the target in a second pickle after
    /// its STOP. `pickle.loads` reads only the first and resolves nothing of the target; a
    /// reader that loads pickle after pickle from one file resolves it.
    AfterStop,
}

impl Technique {
    /// Every technique.
    pub const ALL: [Technique; 12] = [
        Technique::Global,
        Technique::StackGlobal,
        Technique::MemoOperands,
        Technique::DupOperands,
        Technique::MemoAlias,
        Technique::StrForms,
        Technique::FrameSplit,
        Technique::Inst,
        Technique::Obj,
        Technique::Ext,
        Technique::PayloadThenError,
        Technique::AfterStop,
    ];

    /// A short kebab-case name ("memo-alias").
    pub fn name(self) -> &'static str {
        match self {
            Technique::Global => "global",
            Technique::StackGlobal => "stack-global",
            Technique::MemoOperands => "memo-operands",
            Technique::DupOperands => "dup-operands",
            Technique::MemoAlias => "memo-alias",
            Technique::StrForms => "str-forms",
            Technique::FrameSplit => "frame-split",
            Technique::Inst => "inst",
            Technique::Obj => "obj",
            Technique::Ext => "ext",
            Technique::PayloadThenError => "payload-then-error",
            Technique::AfterStop => "after-stop",
        }
    }

    /// The lowest protocol whose opcodes it can be written with.
    pub fn min_protocol(self) -> u8 {
        match self {
            Technique::Global | Technique::Inst => 0,
            Technique::PayloadThenError | Technique::AfterStop => 0,
            Technique::Obj => 1,
            Technique::Ext => 2,
            Technique::StackGlobal
            | Technique::MemoOperands
            | Technique::DupOperands
            | Technique::MemoAlias
            | Technique::StrForms
            | Technique::FrameSplit => 4,
        }
    }
}

impl std::fmt::Display for Technique {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A file that makes CPython resolve a dangerous global in a way scanners may miss, and
/// what loading it needs and does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HiddenGlobal {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// The copyreg extension registry its EXT opcodes need, as (module, name, code):
    /// `copyreg.add_extension` each before loading and `copyreg.remove_extension` after
    /// (CPython caches what a code resolved to until then, and calls `find_class` for it
    /// only the first time).
    pub extensions: Vec<(String, String, i64)>,
    /// `Some(k)` when it consumes k out-of-band buffers (NEXT_BUFFER, only when
    /// [`BypassConfig::buffers`] allows): load it with k buffers. `None` when it uses none.
    pub buffers: Option<usize>,
    /// The technique it was generated for (always `techniques[0]`).
    pub technique: Technique,
    /// Every technique it uses, the one it was generated for first.
    pub techniques: Vec<Technique>,
    /// The global meant to be resolved, as (module, name) written in the pickle (or in
    /// the extension registry), before any `fix_imports` mapping.
    pub target: (String, String),
    /// The protocol of the pickle that carries the target (for [`Technique::AfterStop`],
    /// the second one).
    pub protocol: u8,
    /// Whether `pickle.loads` returns. False for [`Technique::PayloadThenError`] (it raises
    /// after the call), unless [`Technique::AfterStop`] put that in the second pickle.
    pub loads_ok: bool,
    /// When `pickle.loads` returns: the offset just past the STOP it stops at (the first
    /// pickle's for [`Technique::AfterStop`], otherwise the end of the file).
    pub stop: Option<usize>,
    /// Whether some frame's declared length ends inside an op. CPython's `pickle.loads`
    /// (and brine) accept that: the C unpickler only checks a frame's bytes are there. The
    /// pure-Python unpickler refuses it ("pickle exhausted before end of frame"), and the C
    /// unpickler reading from a file object without `peek` (a bare `io.BytesIO`) misreads
    /// it: it drops the rest of the frame when an op runs past it.
    pub straddles_frames: bool,
}

impl HiddenGlobal {
    /// Generates a file as `config` allows, drawing every choice from `u`: first the
    /// technique (among the enabled ones some target and protocol allow), then the target,
    /// the protocol, the techniques combined with it, and the ops. Fails with
    /// [`arbitrary::Error::IncorrectFormat`] when no enabled technique fits any target in
    /// the protocol range.
    pub fn new(config: &BypassConfig, u: &mut Unstructured) -> Result<HiddenGlobal> {
        let lo = config.min_protocol.min(HIGHEST_PROTOCOL);
        let hi = config.max_protocol.clamp(lo, HIGHEST_PROTOCOL);
        let feasible: Vec<Technique> = Technique::ALL
            .into_iter()
            .filter(|t| config.techniques.contains(t) && !choices(config, *t, lo, hi).is_empty())
            .collect();
        if feasible.is_empty() {
            return Err(arbitrary::Error::IncorrectFormat);
        }
        let technique = *u.choose(&feasible)?;
        let options = choices(config, technique, lo, hi);
        let &(target, (tlo, thi)) = u.choose(&options)?;
        let protocol = u.int_in_range(tlo..=thi)?;
        let plan = Plan::draw(config, technique, protocol, u)?;

        let mut out = Vec::new();
        if plan.after_stop {
            let first = GeneratedPickle::new(&benign(config, lo, hi), u)?;
            out = first.bytes;
        }
        let stop_first = out.len();
        let (free, held) = filler_configs(config);
        let mut h = Hider::new(
            Gen::new(&free, protocol),
            &free,
            &held,
            config,
            &plan,
            out.len(),
        );
        let (body, garbage) = h.pickle(u, target)?;
        let split = if plan.frame_split {
            Some(h.split_points(u, body)?)
        } else {
            None
        };
        let framed = frames::lay_out(u, &h.g.out, &h.g.starts, body, protocol, split)?;
        out.extend_from_slice(&framed.bytes);
        let stop = if plan.after_stop {
            Some(stop_first)
        } else if plan.payload_error {
            None
        } else {
            Some(out.len())
        };
        out.extend_from_slice(&garbage);
        let techniques = plan.techniques(technique, &h);
        Ok(HiddenGlobal {
            bytes: out,
            extensions: h.extensions.clone(),
            buffers: (h.g.buffers_used > 0).then_some(h.g.buffers_used),
            technique,
            techniques,
            target: target.clone(),
            protocol,
            loads_ok: stop.is_some(),
            stop,
            straddles_frames: framed.straddles,
        })
    }

    /// Whether `pickle.loads` resolves the target: always, except for
    /// [`Technique::AfterStop`], where only a second load from the same file does.
    pub fn resolved_by_loads(&self) -> bool {
        !self.techniques.contains(&Technique::AfterStop)
    }

    /// The options to decode it with: its buffers and extension registry, others at their
    /// defaults.
    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions {
            buffers: self.buffers,
            extensions: self
                .extensions
                .iter()
                .map(|(m, n, c)| (*c, (m.clone(), n.clone())))
                .collect(),
            ..DecodeOptions::default()
        }
    }
}

/// Generates with the default [`BypassConfig`].
impl<'a> Arbitrary<'a> for HiddenGlobal {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        HiddenGlobal::new(&BypassConfig::default(), u)
    }
}

/// A target and the protocols (lowest, highest) it may be hidden in.
type Choice<'a> = (&'a (String, String), (u8, u8));

/// The targets technique `t` can hide within protocols `lo..=hi`, each with the protocols
/// it can use: Python 3 spellings any from `t`'s lowest up, Python 2 spellings only up to
/// protocol 2.
fn choices(config: &BypassConfig, t: Technique, lo: u8, hi: u8) -> Vec<Choice<'_>> {
    let from = lo.max(t.min_protocol());
    let py3 = config.targets.iter().map(|x| (x, (from, hi)));
    let py2 = config.py2_targets.iter().map(|x| (x, (from, hi.min(2))));
    py3.chain(py2).filter(|(_, (a, b))| a <= b).collect()
}

/// The filler's configs: the pickle generator's, with nothing that resolves, calls or
/// refers outside the pickle (no Objects, Extensions or Persistence families; no buffers
/// beyond the config's), and no PROTO, FRAME or STOP. The second also stores nothing in
/// the memo, for while the hiding holds memo slots.
fn filler_configs(config: &BypassConfig) -> (Config, Config) {
    let mut ops = OpcodeSet::all();
    for f in [
        Family::Objects,
        Family::Extensions,
        Family::Persistence,
        Family::Structure,
    ] {
        ops = ops.without(OpcodeSet::family(f));
    }
    if config.buffers == 0 {
        ops = ops.without(OpcodeSet::family(Family::Buffers));
    }
    let free = Config {
        max_ops: config.max_filler_ops,
        max_depth: 8,
        max_memo: 32,
        max_str_len: 12,
        max_bytes_len: 16,
        max_int_bytes: 12,
        opcodes: ops,
        framing: false,
        buffers: config.buffers,
        extensions: BTreeMap::new(),
        ..Config::default()
    };
    let mut held_ops = ops;
    for op in [
        Opcode::PUT,
        Opcode::BINPUT,
        Opcode::LONG_BINPUT,
        Opcode::MEMOIZE,
    ] {
        held_ops.remove(op);
    }
    let held = Config {
        opcodes: held_ops,
        ..free.clone()
    };
    (free, held)
}

/// The config of [`Technique::AfterStop`]'s first pickle: the pickle generator's, in the
/// protocol range, resolving nothing (no Objects, Extensions or Persistence families) and
/// needing no buffers.
fn benign(config: &BypassConfig, lo: u8, hi: u8) -> Config {
    let mut ops = OpcodeSet::all();
    for f in [
        Family::Objects,
        Family::Extensions,
        Family::Persistence,
        Family::Buffers,
    ] {
        ops = ops.without(OpcodeSet::family(f));
    }
    Config {
        min_protocol: lo,
        max_protocol: hi,
        max_ops: config.max_filler_ops.max(1) * 2,
        opcodes: ops,
        buffers: 0,
        extensions: BTreeMap::new(),
        ..Config::default()
    }
}

impl Plan {
    /// Draws how a file generated for `primary` in `protocol` is built: its producer and
    /// consumer of the target, and which other enabled techniques join.
    fn draw(
        config: &BypassConfig,
        primary: Technique,
        protocol: u8,
        u: &mut Unstructured,
    ) -> Result<Plan> {
        use Technique as T;
        let on = |t: Technique| config.techniques.contains(&t) && t.min_protocol() <= protocol;
        let mut left = config.max_combined;
        let mut join = |t: Technique, u: &mut Unstructured| -> Result<bool> {
            if t == primary {
                return Ok(true);
            }
            let j = on(t) && left > 0 && chance(u, 1, 3)?;
            left -= j as usize;
            Ok(j)
        };
        let mut plan = Plan {
            producer: Producer::Global,
            consumer: Consumer::Bare,
            module: Source::Fresh,
            name: Source::Fresh,
            dup: None,
            str_forms: false,
            frame_split: false,
            payload_error: false,
            after_stop: false,
            plain: matches!(primary, T::Global | T::StackGlobal),
        };
        let call = |u: &mut Unstructured| -> Result<Consumer> {
            Ok(if u.arbitrary()? {
                Consumer::Reduce
            } else {
                Consumer::Bare
            })
        };
        match primary {
            T::Global => plan.consumer = call(u)?,
            T::StackGlobal => {
                plan.producer = Producer::StackGlobal;
                plan.consumer = call(u)?;
            }
            _ => {
                plan.producer = match primary {
                    T::Ext => Producer::Ext,
                    T::Inst => Producer::Inst,
                    T::MemoOperands | T::DupOperands | T::MemoAlias | T::StrForms => {
                        Producer::StackGlobal
                    }
                    _ => {
                        let mut p = vec![Producer::Global];
                        if protocol >= 4 {
                            p.push(Producer::StackGlobal);
                        }
                        if join(T::Ext, u)? {
                            p = vec![Producer::Ext];
                        } else if primary != T::Obj && join(T::Inst, u)? {
                            p = vec![Producer::Inst];
                        }
                        *u.choose(&p)?
                    }
                };
                if plan.producer == Producer::StackGlobal {
                    let memo = join(T::MemoOperands, u)?;
                    let alias = join(T::MemoAlias, u)?;
                    (plan.module, plan.name) = match (memo, alias) {
                        (true, true) if u.arbitrary()? => (Source::Memo, Source::Alias),
                        (true, true) => (Source::Alias, Source::Memo),
                        (false, false) => (Source::Fresh, Source::Fresh),
                        _ => {
                            let s = if memo { Source::Memo } else { Source::Alias };
                            let other = if u.arbitrary()? { s } else { Source::Fresh };
                            if u.arbitrary()? {
                                (s, other)
                            } else {
                                (other, s)
                            }
                        }
                    };
                    if join(T::DupOperands, u)? {
                        plan.dup = Some(if u.arbitrary()? {
                            Dup::DecoyFirst
                        } else {
                            Dup::CopyToTarget
                        });
                    }
                    plan.str_forms = join(T::StrForms, u)?;
                }
                plan.payload_error = join(T::PayloadThenError, u)?;
                plan.consumer = if plan.producer == Producer::Inst {
                    Consumer::Inst
                } else if join(T::Obj, u)? {
                    Consumer::Obj
                } else if plan.payload_error {
                    Consumer::Reduce
                } else {
                    call(u)?
                };
                plan.frame_split = join(T::FrameSplit, u)?;
                plan.after_stop = join(T::AfterStop, u)?;
            }
        }
        Ok(plan)
    }

    /// The techniques the plan uses, `primary` first.
    fn techniques(&self, primary: Technique, h: &Hider) -> Vec<Technique> {
        use Technique as T;
        let used = |t: Technique| match t {
            T::Global | T::StackGlobal => false,
            T::MemoOperands => self.module == Source::Memo || self.name == Source::Memo,
            T::MemoAlias => self.module == Source::Alias || self.name == Source::Alias,
            T::DupOperands => self.dup.is_some(),
            T::StrForms => self.str_forms,
            T::FrameSplit => self.frame_split && h.g.protocol >= 4,
            T::Inst => self.producer == Producer::Inst,
            T::Obj => self.consumer == Consumer::Obj,
            T::Ext => self.producer == Producer::Ext,
            T::PayloadThenError => self.payload_error,
            T::AfterStop => self.after_stop,
        };
        std::iter::once(primary)
            .chain(
                Technique::ALL
                    .into_iter()
                    .filter(|&t| t != primary && used(t)),
            )
            .collect()
    }
}
