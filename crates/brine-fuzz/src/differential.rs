//! `differential`: a generated pickle through the codec, CPython's C unpickler and its
//! pure-Python one ([`brine_oracle::Differential`]).
//!
//! The input drives pickle-smith: a swarm [`Config`] (random maximums and opcode subsets),
//! narrowed so that every engine must agree:
//! - the extension opcodes are off and the registry empty: the oracle loads with CPython's
//!   fresh, empty copyreg registry, where EXT1/2/4 can only fail;
//! - each invalidity knob is on with probability 1/4, so error paths are compared too
//!   (exception classes must match).
//!
//! Only a codec-vs-C disagreement is a finding. C-vs-Python differences are CPython's
//! business and a poisoned comparison (MemoryError, RecursionError, a timeout, brine's own
//! limits) says nothing; [`observe`] reports both for triage. The pure-Python unpickler
//! costs several times the rest of a check and finds nothing the target fails on, so under
//! the fuzzer ([`check`]) it runs on one input in [`PYTHON_ONE_IN`] (by a hash of the input,
//! [`crate::decode::sampled`]); triage ([`observe`]) always runs it. The fuzzer's checks are
//! [`Differential::quick`]: a codec-vs-C disagreement is checked again in full to report it.

use crate::finding::{Case, Finding, Kind};
use arbitrary::{Arbitrary, Unstructured};
use brine_oracle::{Check, Differential};
use pickle_smith::{Config, Family, GeneratedPickle, OpcodeSet};
use std::sync::OnceLock;

const NAME: &str = "differential";

/// The pickle an input stands for (`None` when the input is too short to make one).
pub fn generate(data: &[u8]) -> Option<GeneratedPickle> {
    let mut u = Unstructured::new(data);
    let mut config = Config::arbitrary(&mut u).ok()?;
    config.opcodes = config.opcodes.without(OpcodeSet::family(Family::Extensions));
    config.extensions.clear();
    config.invalid_truncation = u.ratio(1, 4).ok()?;
    config.invalid_stack_shape = u.ratio(1, 4).ok()?;
    config.invalid_missing_mark = u.ratio(1, 4).ok()?;
    config.invalid_memo_index = u.ratio(1, 4).ok()?;
    config.invalid_length = u.ratio(1, 4).ok()?;
    config.invalid_text = u.ratio(1, 4).ok()?;
    config.invalid_opcode = u.ratio(1, 4).ok()?;
    GeneratedPickle::new(&config, &mut u).ok()
}

/// The pure-Python unpickler runs on one fuzzed input in this many (see the module doc).
pub const PYTHON_ONE_IN: u64 = 8;

/// The oracle, built once per process (CPython starts once).
pub fn oracle() -> &'static Differential {
    static D: OnceLock<Differential> = OnceLock::new();
    D.get_or_init(|| Differential::new().with_python())
}

/// The fuzzer's oracles, with and without the pure-Python unpickler (the same embedded
/// interpreter): [`Differential::quick`], verdicts without rendered diffs.
fn quick_oracle(with_python: bool) -> &'static Differential {
    static BOTH: OnceLock<Differential> = OnceLock::new();
    static C_ONLY: OnceLock<Differential> = OnceLock::new();
    if with_python {
        BOTH.get_or_init(|| Differential::new().with_python().quick())
    } else {
        C_ONLY.get_or_init(|| Differential::new().quick())
    }
}

/// The full check of the pickle an input stands for (`None` when there is none, or no
/// interpreter).
pub fn observe(data: &[u8]) -> Option<(GeneratedPickle, Check)> {
    let p = generate(data)?;
    let d = oracle();
    d.c.as_ref()?;
    let c = d.check(&p.bytes, p.buffers);
    Some((p, c))
}

/// What a check says, as a finding: the codec-vs-C disagreement, else a C-vs-Python one,
/// else a poison; `None` when all is well.
pub fn finding_of(c: &Check) -> Option<Finding> {
    if let Some(v) = c.codec_vs_c.as_ref().filter(|v| v.is_disagreement()) {
        let d = v.diff().expect("disagreements carry a diff");
        return Some(Finding::bug(NAME, v.name(), d.first.clone(), format!("{}\n{}", v.summary(), d.text)));
    }
    if let Some(v) = c.c_vs_py.as_ref().filter(|v| v.is_disagreement()) {
        let d = v.diff().expect("disagreements carry a diff");
        return Some(Finding { target: NAME, kind: Kind::CVsPython, what: v.name().into(), at: d.first.clone(), detail: v.summary() });
    }
    if let Some(brine_oracle::Verdict::Poisoned(p)) = &c.codec_vs_c {
        return Some(Finding { target: NAME, kind: Kind::Limit, what: p.kind.name().into(), at: "/".into(), detail: p.to_string() });
    }
    None
}

/// Checks one input: an error only for a codec-vs-C disagreement. Checked quickly (no
/// diffs rendered); a disagreement is checked again in full for the finding's detail.
pub fn check(data: &[u8]) -> Result<(), Finding> {
    let Some(p) = generate(data) else { return Ok(()) };
    let d = quick_oracle(crate::decode::sampled(data, PYTHON_ONE_IN));
    if d.c.is_none() || !d.check(&p.bytes, p.buffers).codec_disagrees() {
        return Ok(());
    }
    match observe(data).and_then(|(_, c)| finding_of(&c)) {
        Some(f) if f.kind == Kind::CodecBug => Err(f),
        _ => Ok(()),
    }
}

/// [`check`], panicking on a finding.
pub fn run(data: &[u8]) {
    if let Err(f) = check(data) {
        f.fail()
    }
}

/// The case an input stands for: the generated pickle and its buffers.
pub fn case(data: &[u8]) -> Option<Case> {
    let p = generate(data)?;
    Some(Case { pickle: Some((p.bytes, p.buffers)), document: None })
}
