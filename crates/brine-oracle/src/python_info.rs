//! What both builds of [`crate::cpython`] name, with or without the embedded interpreter.

/// The interpreter's identity, reported with every comparison.
#[derive(Clone, Debug)]
pub struct PythonInfo {
    /// `sys.version`.
    pub version: String,
    /// `sys.version_info[:3]`.
    pub version_info: (u32, u32, u32),
    /// `sys.executable` (what the embedded interpreter believes it is).
    pub executable: String,
    /// `sys.prefix`.
    pub prefix: String,
    /// `sys.base_prefix`.
    pub base_prefix: String,
    /// Where `_pickle` comes from (`"built-in"` when compiled in).
    pub c_pickle: String,
    /// Whether per-load timeouts work (the interpreter thread is Python's main thread).
    pub timeouts: bool,
    /// `sys.flags.hash_randomization == 0` (hash seed 0, as the conformance data was made).
    pub fixed_hash_seed: bool,
}

impl PythonInfo {
    /// As a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "version": self.version,
            "executable": self.executable,
            "prefix": self.prefix,
            "base_prefix": self.base_prefix,
            "_pickle": self.c_pickle,
            "timeouts": self.timeouts,
            "hash_seed_0": self.fixed_hash_seed,
        })
    }
}

/// Which of CPython's unpicklers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unpickler {
    /// `_pickle.Unpickler`, what `pickle.loads` uses: the reference.
    C,
    /// `pickle._Unpickler`, the pure-Python one.
    Python,
}

/// Inputs shorter than this load without a timeout. Once the guard has passed an input,
/// CPython's work is linear in it (the output graph is at most linear in the input, and the
/// superlinear cases are what the guard rejects), so a small input cannot approach any
/// timeout, and arming SIGALRM costs 6 us of a 35 us load.
pub const TIMEOUT_MIN_INPUT: usize = 16 << 10;
