//! Stand-in for [`crate::cpython`] in builds without the `cpython` feature: the CPython
//! engines exist as types but never construct, so callers need no `cfg` of their own.

use crate::engine::{Engine, Outcome};
use brine_codec::{DecodeOptions, FindClass};

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
