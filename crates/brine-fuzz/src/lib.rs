//! The bodies of brine's fuzz targets, as library functions.
//!
//! Each module is one target of `fuzz/` (a cargo-fuzz workspace whose targets are a line
//! each) and offers the same two functions:
//!
//! - `check(data) -> Result<(), Finding>`: runs the input and says what property broke;
//! - `run(data)`: `check`, panicking with the [`Finding`] (what libFuzzer records as a crash).
//!
//! The same functions run as ordinary `#[test]`s: over the committed corpus/ for the targets
//! that take pickle bytes, over [`seeds`] for the targets that take generator bytes. Oracles
//! (here: the properties each target checks) live in the target modules; generators are
//! pickle-smith's.
//!
//! | target | input | property |
//! |---|---|---|
//! | [`decode`] | pickle bytes | no panic; the decoded value stays within a linear size bound; its JSON reads back |
//! | [`dis`] | pickle bytes | the decoder walks the opcode boundaries `genops` reports |
//! | [`roundtrip`] | generator bytes | value -> encode -> decode gives the same document |
//! | [`differential`] | generator bytes | codec and CPython's C unpickler agree |
//! | [`encode_exact`] | generator bytes | codec bytes == CPython's `pickle.dumps` bytes |
//!
//! The `brine-fuzz` binary (src/bin) serves `cargo xtask fuzz` and `cargo xtask triage`: it
//! writes seed corpora and classifies crash artifacts, regenerating the pickle a structured
//! target's input stands for.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod decode;
pub mod dict;
pub mod differential;
pub mod dis;
pub mod encode_exact;
pub mod finding;
pub mod roundtrip;
pub mod seeds;

pub use finding::{Case, Finding, Kind};

/// What a target takes as input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Raw pickle bytes: seeded from corpus/*.pkl, a crash artifact is the pickle.
    Pickle,
    /// Bytes pickle-smith turns into a value or a pickle: seeded from [`seeds`], a crash
    /// artifact is regenerated into the pickle (or document) it stands for.
    Smith,
}

/// One fuzz target.
#[derive(Clone, Copy)]
pub struct Target {
    /// Its name (the file fuzz/fuzz_targets/NAME.rs).
    pub name: &'static str,
    /// What it takes.
    pub input: Input,
    /// Whether it embeds CPython (does nothing without an interpreter).
    pub needs_cpython: bool,
    /// The check.
    pub check: fn(&[u8]) -> Result<(), Finding>,
    /// The pickle or document an input stands for (for triage).
    pub case: fn(&[u8]) -> Option<Case>,
}

/// Every target, in the order reports list them.
pub const TARGETS: &[Target] = &[
    Target { name: "decode", input: Input::Pickle, needs_cpython: false, check: decode::check, case: finding::pickle_case },
    Target { name: "dis", input: Input::Pickle, needs_cpython: false, check: dis::check, case: finding::pickle_case },
    Target { name: "roundtrip", input: Input::Smith, needs_cpython: false, check: roundtrip::check, case: roundtrip::case },
    Target { name: "differential", input: Input::Smith, needs_cpython: true, check: differential::check, case: differential::case },
    Target { name: "encode_exact", input: Input::Smith, needs_cpython: true, check: encode_exact::check, case: encode_exact::case },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Called once before the first input (the fuzz targets' `init:`): when the binary sits in
/// an OSS-Fuzz `$OUT` next to the CPython it carries (`python/lib/python3.11/os.py`, see
/// scripts/oss-fuzz-build.sh), points `PYTHONHOME` there, since the interpreter the binary
/// was built against does not exist on the fuzzing machines. Elsewhere it does nothing.
pub fn init() {
    if std::env::var_os("PYTHONHOME").is_some() {
        return;
    }
    let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("python"))) else {
        return;
    };
    if dir.join("lib/python3.11/os.py").is_file() {
        std::env::set_var("PYTHONHOME", dir);
    }
}
