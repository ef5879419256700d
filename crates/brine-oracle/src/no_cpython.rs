//! Stand-in for [`crate::cpython`] in builds without the `cpython` feature: the same API,
//! but no interpreter ever starts ([`interpreter`] is `None`), so the CPython engines exist
//! as types and never construct, and callers need no `cfg` of their own: everything that
//! needs CPython answers as it does when no interpreter can start (`None`).

use crate::engine::{Engine, Outcome};
use brine_codec::{DecodeOptions, FindClass};

pub use crate::python_info::{PythonInfo, Unpickler, TIMEOUT_MIN_INPUT};

/// The embedded interpreter; uninhabited in this build.
pub enum Interpreter {}

/// Always `None`: built without the `cpython` feature.
pub fn interpreter() -> Option<&'static Interpreter> {
    None
}

impl Interpreter {
    /// Unreachable.
    pub fn info(&self) -> &PythonInfo {
        match *self {}
    }
    /// Unreachable.
    pub fn register_extensions(&self, _: Vec<(i64, String, String)>) -> Result<(), String> {
        match *self {}
    }
}

/// CPython's unpicklers; uninhabited in this build.
pub enum CPython {}

/// CPython's C unpickler (never constructed in this build).
pub type CPythonC = CPython;
/// CPython's pure-Python unpickler (never constructed in this build).
pub type CPythonPy = CPython;

impl CPython {
    /// Always `None`: built without the `cpython` feature.
    pub fn c() -> Option<CPython> {
        None
    }
    /// Always `None`: built without the `cpython` feature.
    pub fn python() -> Option<CPython> {
        None
    }
    /// Always `None`: built without the `cpython` feature.
    pub fn new(_: Unpickler) -> Option<CPython> {
        None
    }
    /// Unreachable.
    pub fn which(&self) -> Unpickler {
        match *self {}
    }
    /// Unreachable.
    pub fn interpreter(&self) -> &'static Interpreter {
        match *self {}
    }
    /// Unreachable.
    pub fn decode_unguarded(&self, _: &[u8], _: Option<usize>) -> Outcome {
        match *self {}
    }
    /// Unreachable.
    pub fn decode_batch_unguarded(&self, _: Vec<(Vec<u8>, Option<usize>)>, _: bool) -> Vec<(Outcome, Option<Outcome>)> {
        match *self {}
    }
    /// Unreachable.
    pub fn genops_batch(&self, _: &[&[u8]]) -> Vec<Outcome> {
        match *self {}
    }
    /// Unreachable.
    pub fn globals_batch(&self, _: &[(&[u8], &DecodeOptions)]) -> Vec<Result<Vec<FindClass>, Outcome>> {
        match *self {}
    }
    /// Unreachable.
    pub fn decode_both_unguarded(&self, _: &[u8], _: Option<usize>) -> (Outcome, Outcome) {
        match *self {}
    }
}

impl Engine for CPython {
    fn name(&self) -> &'static str {
        match *self {}
    }
    fn decode(&self, _: &[u8], _: Option<usize>) -> Outcome {
        match *self {}
    }
}
