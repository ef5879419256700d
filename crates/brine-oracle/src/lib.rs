//! brine's differential oracle: the reference codec against CPython 3.11.
//!
//! - [`engine`]: the [`Engine`] trait and the codec engine; outcomes and poisons.
//! - [`cpython`]: CPython's C and pure-Python unpicklers, embedded and sandboxed
//!   (`None` when no interpreter can start, or without the `cpython` feature).
//! - [`guard`]: inputs that would make CPython allocate gigabytes or hang, found first.
//! - [`verdict`]: comparing two outcomes or opcode streams: same, same error, three kinds
//!   of disagreement with a readable diff, or poisoned.
//! - [`differential`]: one pickle through codec, guard and CPython, with verdicts.
//! - [`roundtrip`]: CPython-pickled documents through the codec, encoder output through
//!   CPython (`None` without an interpreter).
//! - [`render`]: pretty-printing and unified diffs for people.
//! - `to_json` (private): the unpickled object graph as pickle JSON, in Rust, for
//!   `cpython::Sandbox::loads` (the same document as the sandbox's Python `to_json`).
//!
//! Documents nest as deep as pickles do, and dropping or comparing a deep
//! `serde_json::Value` recurses: callers handling untrusted pickles run on a big stack
//! ([`brine_codec::with_big_stack`]). CPython itself runs on its own big-stack thread.
#![deny(missing_docs)]

#[cfg(feature = "cpython")]
pub mod cpython;
#[cfg(not(feature = "cpython"))]
#[path = "no_cpython.rs"]
pub mod cpython;
pub mod differential;
pub mod engine;
pub mod guard;
mod python_info;
pub mod render;
pub mod roundtrip;
#[cfg(feature = "cpython")]
mod to_json;
pub mod verdict;

pub use cpython::{CPython, CPythonC, CPythonPy};
pub use differential::{Check, Differential};
pub use engine::{Codec, Engine, Outcome, Poison, PoisonKind};
pub use verdict::{Diff, Verdict};
