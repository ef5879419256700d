//! brine's reference codec: CPython 3.11's pickle, protocols 0-5, in safe Rust; other
//! CPython versions (3.9, 3.13, 3.14, 3.15) on request ([`Python`], in [`DecodeOptions`] and
//! [`EncodeOptions`]).
//!
//! - [`opcodes`]: the one opcode table everything else reads.
//! - [`decode`]: the pickle machine, accepting and rejecting exactly as CPython's C
//!   unpickler does, into the symbolic [`value`] model (nothing is ever imported or called).
//! - [`encode`]: the pickler, byte-identical to CPython 3.11's C pickler (`pickle.dumps`).
//! - [`dis`]: the opcode stream as `pickletools.genops` yields it.
//! - [`json`]: pickle JSON, the harness's value contract, and its equality.
//! - [`pytext`]: CPython's text-argument parsers (strtol, PyLong_FromString, dtoa, escapes).
//! - [`hex`]: hex, as pickle JSON and every brine file and message writes it.
//!
//! [`globals`] decodes and also lists the `find_class(module, name)` calls CPython would
//! make, in order, errors included: what a pickle imports, without importing it.
//!
//! Large pickles need not be copied: [`decode_shared`] makes long strs and bytes windows
//! into a reference-counted [`Source`] (a `Vec<u8>`, an `Arc<[u8]>`, a memory map), and
//! [`encode_parts`] borrows payloads of 64 KiB or more from the value instead of copying
//! them into the output, as CPython's `Pickler.dump` writes them straight to its file.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod decode;
pub mod dis;
pub mod encode;
pub mod error;
pub mod hex;
pub mod json;
pub mod opcodes;
pub mod python;
pub mod pytext;
pub mod value;
mod blob;
mod utf8;

pub use decode::{decode, decode_shared, decode_with, globals, DecodeOptions, Decoded, FindClass, Globals, Limits};
pub use encode::{
    encode, encode_document, encode_document_with, encode_parts, encode_parts_with, encode_with, EncodeError,
    EncodeOptions, Encoded,
};
pub use error::{Category, Error, ErrorCode};
pub use opcodes::{Opcode, OPCODES};
pub use python::{ParsePythonError, Python};
pub use value::{Blob, Heap, Obj, ObjId, Source, Value};

/// Runs `f` on a thread with a 1 GiB stack (reserved, not committed) and returns its result.
///
/// Comparing or dropping `serde_json` documents recurses once per nesting level, and a
/// pickle can nest 100,000 deep; the decoder itself never recurses that way.
pub fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(f)
        .expect("spawn big-stack thread")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}
