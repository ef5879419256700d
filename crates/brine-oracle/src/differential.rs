//! The differential check: one pickle through the codec and CPython, in the order that keeps
//! CPython alive, and the verdicts.
//!
//! 1. The codec decodes first. A [`brine_codec::Category::Limit`] error (brine's depth, memo,
//!    size or work limit, or a MemoryError CPython is known to raise) poisons the check:
//!    CPython is not called, since it would exhaust memory or hang where brine stopped.
//! 2. [`crate::guard`] scans the stream with C semantics and weighs the codec's keys. A
//!    hazard at one opcode still lets CPython run the prefix before it: an error there is
//!    the answer for the whole input.
//! 3. CPython's C unpickler (and, when asked, the pure-Python one, in the same trip to the
//!    interpreter thread) runs in the sandbox; MemoryError, RecursionError and timeouts
//!    poison.
//!
//! codec vs C is the check (a disagreement is a codec bug, or a CPython quirk to model);
//! C vs Python is a finding about CPython, never a failure.

use crate::cpython::CPython;
use crate::engine::{Codec, Engine, Outcome};
use crate::guard::{self, Screen};
use crate::verdict::{self, Verdict};
use serde_json::Value as J;

/// The engines of a differential run.
pub struct Differential {
    /// brine's codec.
    pub codec: Codec,
    /// CPython's C unpickler (`None` when no interpreter).
    pub c: Option<CPython>,
    /// CPython's pure-Python unpickler, when enabled and available.
    pub py: Option<CPython>,
    /// Only what a verdict is, as cheaply as it can be known (see [`Differential::quick`]).
    pub quick: bool,
}

/// The codec's outcome, or in a quick check its document's JSON text, not yet parsed.
enum Lazy {
    Done(Outcome),
    Text(String),
}

/// Everything one check found.
#[derive(Clone, Debug)]
pub struct Check {
    /// The codec's outcome.
    pub codec: Outcome,
    /// CPython C's outcome (`None` without an interpreter).
    pub c: Option<Outcome>,
    /// CPython Python's outcome (`None` when not run).
    pub py: Option<Outcome>,
    /// codec vs C.
    pub codec_vs_c: Option<Verdict>,
    /// C vs Python.
    pub c_vs_py: Option<Verdict>,
}

impl Check {
    /// Whether the codec disagrees with CPython's C unpickler (the failing condition).
    pub fn codec_disagrees(&self) -> bool {
        self.codec_vs_c.as_ref().is_some_and(Verdict::is_disagreement)
    }

    /// As one JSON object: each engine's outcome node and the verdicts.
    pub fn to_json(&self) -> J {
        let mut m = serde_json::Map::new();
        m.insert("codec".into(), self.codec.to_node());
        if let Some(c) = &self.c {
            m.insert("cpython-c".into(), c.to_node());
        }
        if let Some(p) = &self.py {
            m.insert("cpython-py".into(), p.to_node());
        }
        if let Some(v) = &self.codec_vs_c {
            m.insert("codec_vs_c".into(), v.to_json());
        }
        if let Some(v) = &self.c_vs_py {
            m.insert("c_vs_py".into(), v.to_json());
        }
        J::Object(m)
    }
}

impl Default for Differential {
    fn default() -> Self {
        Differential::new()
    }
}

impl Differential {
    /// Codec and CPython C (when an interpreter can start).
    pub fn new() -> Differential {
        Differential { codec: Codec::new(), c: CPython::c(), py: None, quick: false }
    }

    /// Also runs CPython's pure-Python unpickler (when an interpreter can start).
    pub fn with_python(mut self) -> Differential {
        self.py = CPython::python();
        self
    }

    /// Verdicts without their diffs and documents, for a fuzzer that only needs to know
    /// whether the engines agree: disagreements carry no rendered diff (rendering one costs
    /// more than a small check), and a codec document whose JSON text is C's, byte for
    /// byte, is not parsed (the codec's outcome is then [`Outcome::Accepted`]). Run a
    /// default differential on an input to see what a disagreement is.
    pub fn quick(mut self) -> Differential {
        self.quick = true;
        self
    }

    /// Checks one pickle. `buffers` as in [`Engine::decode`].
    pub fn check(&self, data: &[u8], buffers: Option<usize>) -> Check {
        self.check_batch(&[(data, buffers)]).pop().unwrap()
    }

    /// Checks many pickles with one trip to the interpreter thread (a trip costs about as
    /// much as decoding a small pickle with the codec twice).
    pub fn check_batch(&self, inputs: &[(&[u8], Option<usize>)]) -> Vec<Check> {
        // Codec and guard first, for every input.
        let mut codec = Vec::with_capacity(inputs.len());
        let mut screens = Vec::with_capacity(inputs.len());
        for &(data, buffers) in inputs {
            let raw = self.codec.decode_raw(data, buffers);
            codec.push(match &raw {
                Ok(_) if self.quick => Lazy::Text(brine_codec::json::result_to_json(&raw)),
                _ => Lazy::Done(Codec::outcome(&raw)),
            });
            screens.push(guard::screen(&self.codec, data, buffers, &raw));
        }
        // CPython for the inputs (or the safe prefixes) that passed.
        let mut cpy: Vec<Option<(Outcome, Option<Outcome>)>> = vec![None; inputs.len()];
        if let Some(c) = &self.c {
            let mut todo = vec![];
            let mut batch = vec![];
            for (i, s) in screens.iter().enumerate() {
                let (data, buffers) = inputs[i];
                match s {
                    Screen::Clear => batch.push((data.to_vec(), buffers)),
                    Screen::Prefix(at, _) => batch.push((data[..*at].to_vec(), buffers)),
                    Screen::Poisoned(_) => continue,
                }
                todo.push(i);
            }
            for (i, r) in todo.into_iter().zip(c.decode_batch_unguarded(batch, self.py.is_some())) {
                cpy[i] = Some(r);
            }
        }
        let has_py = self.py.is_some();
        codec
            .into_iter()
            .zip(screens)
            .zip(cpy)
            .map(|((codec, screen), r)| {
                let (c, py) = match (screen, r) {
                    _ if self.c.is_none() => (None, None),
                    (Screen::Poisoned(p), _) => (Some(Outcome::Poisoned(p.clone())), has_py.then(|| Outcome::Poisoned(p))),
                    (Screen::Clear, Some((a, b))) => (Some(a), b),
                    (Screen::Prefix(_, p), Some((a, b))) => {
                        (Some(guard::prefix_outcome(a, &p)), b.map(|b| guard::prefix_outcome(b, &p)))
                    }
                    (_, None) => unreachable!("every unpoisoned input was loaded"),
                };
                let codec = match codec {
                    Lazy::Done(o) => o,
                    // The same JSON text is the same document: no need to parse it.
                    Lazy::Text(t) if matches!(&c, Some(Outcome::Ok(j)) if serde_json::to_string(j).is_ok_and(|cj| cj == t)) => {
                        Outcome::Accepted
                    }
                    Lazy::Text(t) => Codec::text_outcome(&t),
                };
                let render = !self.quick;
                let codec_vs_c = c.as_ref().map(|c| verdict::compare_rendered("codec", &codec, "cpython-c", c, render));
                let c_vs_py = match (&c, &py) {
                    (Some(c), Some(p)) => Some(verdict::compare_rendered("cpython-c", c, "cpython-py", p, render)),
                    _ => None,
                };
                Check { codec, c, py, codec_vs_c, c_vs_py }
            })
            .collect()
    }

    /// Compares brine's disassembler with pickletools.genops (`None` without an
    /// interpreter).
    pub fn check_genops(&self, data: &[u8]) -> Option<(Outcome, Outcome, Verdict)> {
        self.check_genops_batch(&[data]).pop()
    }

    /// [`Differential::check_genops`] for many pickles, with one trip to the interpreter
    /// (empty without an interpreter).
    pub fn check_genops_batch(&self, inputs: &[&[u8]]) -> Vec<(Outcome, Outcome, Verdict)> {
        let Some(c) = self.c.as_ref() else { return vec![] };
        let theirs = c.genops_batch(inputs);
        inputs
            .iter()
            .zip(theirs)
            .filter_map(|(d, theirs)| {
                let ours = self.codec.genops(d)?;
                let v = verdict::compare_genops("brine-dis", &ours, "pickletools", &theirs);
                Some((ours, theirs, v))
            })
            .collect()
    }
}
