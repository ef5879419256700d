//! Live confirmation: CPython 3.11's C and pure-Python unpicklers, embedded and sandboxed
//! (brine-oracle), load the case with its buffers and extension registry, and the C
//! unpickler's `find_class` calls are recorded. The codec must agree with the C unpickler;
//! when it does not, the campaign has found a brine bug.

use super::source::Candidate;
use brine_codec::DecodeOptions;
use brine_oracle::engine::{Engine, Input, Outcome};
use brine_oracle::{verdict, CPython};

/// The embedded interpreter's two unpicklers.
pub struct Oracle {
    c: CPython,
    py: CPython,
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
            (Some(c), Some(py)) => Ok(Oracle { c, py }),
            _ => Err("CPython could not be embedded: campaigns confirm every finding live (see README set-up)".into()),
        }
    }

    /// Loads `c` in both unpicklers and records the C one's globals; compares with the codec.
    pub fn check(&self, c: &Candidate) -> Live {
        let input = Input { name: "case", data: &c.bytes, buffers: c.buffers, extensions: &c.extensions };
        let cy = self.c.run_batch(&[input]).pop().expect("one answer").outcome;
        let py = self.py.run_batch(&[input]).pop().expect("one answer").outcome;
        let opts = DecodeOptions {
            buffers: c.buffers,
            extensions: c.extensions.iter().map(|(m, n, code)| (*code, (m.clone(), n.clone()))).collect(),
            ..DecodeOptions::default()
        };
        let globals = self.c.globals_batch(&[(&c.bytes, &opts)]).pop().expect("one answer").ok();
        let globals: Option<Vec<(String, String)>> = globals.map(|g| g.iter().map(super::text_pair).collect());
        let reference = super::reference(c, true);
        let limited = matches!(cy, Outcome::Poisoned(_));
        let v = verdict::compare("codec", &reference.outcome, "cpython-c", &cy);
        let mut codec_disagrees = v.is_disagreement().then(|| v.summary());
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
