//! Live confirmation: CPython 3.11's C and pure-Python unpicklers, embedded and sandboxed
//! (brine-oracle), load the case with its buffers and extension registry, and the C
//! unpickler's `find_class` calls are recorded. The codec must agree with the C unpickler;
//! when it does not, the campaign has found a brine bug.
//!
//! An implementation of another Python version (adapter.json `"python"`, such as CPython
//! 3.9 or PyPy 3.9) is judged by that version: the codec runs in that version's mode and
//! the live reference is that version's own C and pure-Python unpicklers, through their
//! adapters (`cpython-X.Y-c` and `cpython-X.Y-python`, chroots built by scripts/pythons.sh).

use super::source::Candidate;
use crate::impls::adapter::AdapterEngine;
use crate::impls::process::Limits;
use brine_codec::{DecodeOptions, Python};
use brine_oracle::engine::{Engine, Input, Outcome};
use brine_oracle::{verdict, CPython};
use std::path::Path;

/// The live reference: the embedded 3.11 interpreter's two unpicklers, or another
/// version's two unpicklers through their adapters.
pub enum Oracle {
    /// CPython 3.11, embedded (find_class calls recorded).
    Embedded {
        /// `_pickle`.
        c: CPython,
        /// `pickle._Unpickler`.
        py: CPython,
    },
    /// Another CPython version's adapters (no find_class record: not used for scanners).
    Version {
        /// Which version.
        python: Python,
        /// Its `cpython-X.Y-c` adapter.
        c: AdapterEngine,
        /// Its `cpython-X.Y-python` adapter.
        py: AdapterEngine,
    },
}

/// What live CPython said about one case.
#[derive(Clone, Debug)]
pub struct Live {
    /// The C unpickler's outcome (the reference).
    pub c: Outcome,
    /// The pure-Python unpickler's.
    pub py: Outcome,
    /// The C unpickler's find_class calls, when they could be recorded.
    pub globals: Option<Vec<(String, String)>>,
    /// `Some(summary)` when the codec disagrees with the C unpickler (outcome or globals).
    pub codec_disagrees: Option<String>,
    /// CPython (or the guard in front of it) hit a limit: nothing is confirmed.
    pub limited: bool,
}

impl Oracle {
    /// The interpreter, or why there is none (a campaign cannot confirm without it).
    pub fn new() -> Result<Oracle, String> {
        match (CPython::c(), CPython::python()) {
            (Some(c), Some(py)) => Ok(Oracle::Embedded { c, py }),
            _ => Err("CPython could not be embedded: campaigns confirm every finding live (see README set-up)".into()),
        }
    }

    /// `python`'s own unpicklers through the adapters `cpython-X.Y-c` and
    /// `cpython-X.Y-python` (persistent, one process each), or why they cannot run.
    pub fn version(root: &Path, python: Python, limits: &Limits) -> Result<Oracle, String> {
        let engine = |kind: &str| -> Result<AdapterEngine, String> {
            let name = format!("cpython-{python}-{kind}");
            let run = root.join("conformance/adapters").join(&name).join("run");
            let bin = root.join(format!("target/pythons/bin/python{python}"));
            if !run.is_file() || !bin.exists() {
                return Err(format!("{name} is the live reference of a {python} campaign: build it with scripts/pythons.sh"));
            }
            Ok(AdapterEngine::new(&name, &run.display().to_string(), root, true, limits.clone(), 1))
        };
        Ok(Oracle::Version { python, c: engine("c")?, py: engine("python")? })
    }

    /// The version whose behaviour the codec must reproduce.
    pub fn python(&self) -> Python {
        match self {
            Oracle::Embedded { .. } => Python::V3_11,
            Oracle::Version { python, .. } => *python,
        }
    }

    /// Loads `c` in both unpicklers and records the C one's globals; compares with the codec.
    pub fn check(&self, c: &Candidate) -> Live {
        let input = Input { name: "case", data: &c.bytes, buffers: c.buffers, extensions: &c.extensions };
        let reference = super::reference(c, matches!(self, Oracle::Embedded { .. }), self.python());
        let (cy, py, globals) = match self {
            Oracle::Embedded { c: cc, py } => {
                let cy = cc.run_batch(&[input]).pop().expect("one answer").outcome;
                let py = py.run_batch(&[input]).pop().expect("one answer").outcome;
                let opts = DecodeOptions {
                    buffers: c.buffers,
                    extensions: c.extensions.iter().map(|(m, n, code)| (*code, (m.clone(), n.clone()))).collect(),
                    ..DecodeOptions::default()
                };
                let globals = cc.globals_batch(&[(&c.bytes, &opts)]).pop().expect("one answer").ok();
                (cy, py, globals.map(|g| g.iter().map(super::text_pair).collect::<Vec<_>>()))
            }
            Oracle::Version { c: cc, py, .. } => {
                let cy = cc.run_batch(&[input]).pop().expect("one answer").outcome;
                let py = py.run_batch(&[input]).pop().expect("one answer").outcome;
                (cy, py, None)
            }
        };
        // An interpreter that died, timed out or ran out of memory confirms nothing.
        let limited = match &cy {
            Outcome::Poisoned(_) | Outcome::Crashed(_) => true,
            Outcome::Err { class, .. } => matches!(self, Oracle::Version { .. }) && matches!(class.as_str(), "MemoryError" | "RecursionError"),
            _ => false,
        };
        // A limit says nothing about the codec either: another version's MemoryError (a
        // LONG_BINPUT memo grown under the adapter's address-space limit) is a plain error
        // to the verdict, and would otherwise be reported as a brine bug.
        let v = verdict::compare("codec", &reference.outcome, "cpython-c", &cy);
        let mut codec_disagrees = (v.is_disagreement() && !limited).then(|| v.summary());
        if codec_disagrees.is_none() {
            if let Some(g) = &globals {
                if *g != reference.globals {
                    codec_disagrees = Some(format!("globals differ: codec {:?}, CPython {:?}", reference.globals, g));
                }
            }
        }
        Live { c: cy, py, globals, codec_disagrees, limited }
    }
}
