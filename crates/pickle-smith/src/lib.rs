//! pickle-smith: the wasm-smith of Python pickles.
//!
//! Three generators, all driven by an [`arbitrary::Unstructured`] byte source (a fuzzer's
//! input, or a seeded buffer in tests), both bounded in every size:
//!
//! - [`GeneratedPickle`]: an opcode stream that CPython 3.11's unpickler accepts, valid by
//!   construction. The generator keeps a model of the unpickler's stack, mark stack and memo,
//!   and picks each next opcode from one table of `(predicate, emit, family, weight)` entries,
//!   one per opcode of [`brine_codec::OPCODES`] (which it reads for each opcode's byte,
//!   protocol and argument layout instead of keeping its own list). It reaches every opcode
//!   in every protocol where the opcode exists, text-protocol argument forms, frames,
//!   out-of-band buffers and the extension registry included. Invalid pickles are opt-in,
//!   one [`Config`] knob per kind of invalidity.
//! - [`GeneratedValue`]: a pickle JSON document (docs/pickle-json.md) of builtin values,
//!   with sharing and cycles, for encoder and round-trip testing.
//! - [`HiddenGlobal`]: a file that makes CPython resolve a dangerous global (`os.system`,
//!   `builtins.eval`...) the way real scanner bypasses hide one (memo tricks, frames, INST,
//!   OBJ, EXT, a payload before a parse error, a second pickle after STOP: see
//!   [`Technique`]), for fuzzing pickle scanners.
//!
//! Each has two entry points, as in wasm-smith: `impl Arbitrary` with the default
//! configuration, and `new(&config, &mut u)`. `impl Arbitrary for Config` and
//! `impl Arbitrary for ValueConfig` are swarm testing: they pick random maximums and random
//! subsets of the opcodes, so that a fuzzer explores corners a single fixed configuration
//! makes rare. With the `proptest` feature (on by default), [`strategies`] wraps both
//! generators as proptest strategies.
//!
//! ```
//! use arbitrary::Unstructured;
//! use pickle_smith::{Config, GeneratedPickle};
//!
//! let seed = [7u8; 512];
//! let mut u = Unstructured::new(&seed);
//! let p = GeneratedPickle::new(&Config::default(), &mut u).unwrap();
//! assert!(p.expect_valid);
//! assert!(brine_codec::decode_with(&p.bytes, &p.decode_options()).is_ok());
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

/// Declares a config struct with each field's default next to it (documented "Defaults to
/// ..."), and `Default` from those, as wasm-smith does.
macro_rules! config {
    ($(#[doc = $sdoc:literal])* $name:ident { $( $(#[doc = $doc:literal])* $field:ident : $ty:ty = $default:expr, )* }) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> $name {
                $name { $( $field: $default, )* }
            }
        }
    };
}

mod bypass;
mod config;
mod pickle;
#[cfg(feature = "proptest")]
pub mod strategies;
mod value;

pub use bypass::{BypassConfig, HiddenGlobal, Technique};
pub use config::{Config, Family, OpcodeSet};
pub use pickle::GeneratedPickle;
pub use value::{GeneratedValue, ValueConfig};
