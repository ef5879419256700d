//! Round trips between the codec and CPython, from a pickle JSON document of builtin values.
//!
//! - [`cpython_dumps_codec_loads`]: `pickle.dumps(doc_to_object(doc), protocol)` decoded by
//!   the codec, checked against CPython C decoding the same bytes.
//! - [`check_encoded`]: bytes any encoder wrote for a document, loaded by CPython C, and
//!   compared byte for byte with what `pickle.dumps` writes for the object the document
//!   describes (the spec's "exactly one right answer").
//! - [`codec_roundtrip`]: brine's encoder (`brine_codec::encode_document`) writes the
//!   document, and [`check_encoded`] judges the bytes.
//!
//! Byte equality needs the document's set items in the order this interpreter iterates the
//! set: the hash seed is fixed, but `hash(None)` (and so of tuples holding it) is an address
//! in 3.11. So [`codec_roundtrip`] first builds the object in CPython and takes its document
//! back ([`cpython_dumps`] returns both), as the spec says the oracle does.
//!
//! The document crosses into Python as JSON text; parsing and pickling raise the recursion
//! limit for the call (the interpreter thread's stack is 1 GiB), since documents nest as
//! deep as pickles do.

use crate::cpython::{interpreter, CPython, Interpreter};
use crate::differential::{Check, Differential};
use crate::engine::{Engine, Outcome};
use crate::render;
use crate::verdict::{self, Diff, Verdict};
#[cfg(feature = "cpython")]
use pyo3::{prelude::*, sync::PyOnceLock, types::PyBytes};
use serde_json::Value as J;

#[cfg(feature = "cpython")]
const HELPERS: &std::ffi::CStr = cr#"
import json, pickle, sys
import brine_sandbox

def _deep(f, *a):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 250000))
    try:
        return f(*a)
    finally:
        sys.setrecursionlimit(old)

def dumps_doc(text, protocol):
    obj = brine_sandbox.doc_to_object(_deep(json.loads, text))
    ordered = brine_sandbox.dumps_json(brine_sandbox.to_json(obj))
    return ordered, _deep(pickle.dumps, obj, protocol)
"#;

#[cfg(feature = "cpython")]
static DUMPS_DOC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `pickle.dumps(doc_to_object(doc), protocol)` on the interpreter thread, with the
/// document of that object (set items in this interpreter's iteration order); the error
/// text when the document is not one of builtin values (or CPython cannot pickle it).
#[cfg(feature = "cpython")]
pub fn cpython_dumps(interp: &Interpreter, doc: &J, protocol: u8) -> Result<(J, Vec<u8>), String> {
    let text = doc.to_string();
    interp.run(move |py, _sb| {
        let f = DUMPS_DOC
            .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
                let m = PyModule::from_code(py, HELPERS, c"brine_roundtrip.py", c"brine_roundtrip")?;
                Ok(m.getattr("dumps_doc")?.unbind())
            })
            .map_err(|e| e.to_string())?;
        let r = f.bind(py).call1((text, protocol)).map_err(|e| e.to_string())?;
        let (ordered, b): (String, Bound<'_, PyBytes>) = r.extract().map_err(|e: PyErr| e.to_string())?;
        Ok((crate::engine::parse_json(&ordered)?, b.as_bytes().to_vec()))
    })
}

/// `pickle.dumps` on the interpreter thread: unreachable without the `cpython` feature,
/// where no [`Interpreter`] exists.
#[cfg(not(feature = "cpython"))]
pub fn cpython_dumps(interp: &Interpreter, _doc: &J, _protocol: u8) -> Result<(J, Vec<u8>), String> {
    match *interp {}
}

/// A round trip's bytes and verdict.
#[derive(Clone, Debug)]
pub struct RoundTrip {
    /// The pickle that crossed over.
    pub pickle: Vec<u8>,
    /// The full differential check of those bytes (codec vs CPython C).
    pub check: Check,
}

/// CPython pickles `doc`, the codec unpickles the bytes: checked against CPython C reading
/// them. `None` without an interpreter; `Err` when CPython cannot pickle the document.
pub fn cpython_dumps_codec_loads(diff: &Differential, doc: &J, protocol: u8) -> Option<Result<RoundTrip, String>> {
    let interp = interpreter()?;
    Some(cpython_dumps(interp, doc, protocol).map(|(_, pickle)| {
        let check = diff.check(&pickle, None);
        RoundTrip { pickle, check }
    }))
}

/// What CPython makes of bytes an encoder wrote for a document.
#[derive(Clone, Debug)]
pub struct EncodedCheck {
    /// CPython C loading the encoded bytes, against CPython C loading `pickle.dumps`' bytes
    /// (against the document when CPython cannot build it).
    pub loads: Verdict,
    /// The encoded bytes against `pickle.dumps` of the object the document describes:
    /// [`Verdict::Same`] when identical, else a diff of the two disassemblies; `None` when
    /// CPython cannot build the object (the document holds globals or objects).
    pub bytes: Option<Verdict>,
    /// What `pickle.dumps` wrote (empty when it could not pickle the document).
    pub cpython_pickle: Vec<u8>,
}

/// Checks `encoded`, the bytes an encoder wrote for `doc` at `protocol`. `None` without an
/// interpreter.
///
/// The sandboxed load is compared with the sandboxed load of `pickle.dumps`' own bytes, not
/// with `doc`: below protocol 3 bytes are pickled as a call of `_codecs.encode` (and sets,
/// bytearrays below 4 and 5 as calls too), which the sandbox records instead of making.
/// Only when CPython cannot build the object (a document with globals or objects) is the
/// load compared with `doc` itself.
pub fn check_encoded(doc: &J, protocol: u8, encoded: &[u8]) -> Option<EncodedCheck> {
    let c = CPython::c()?;
    let loaded = c.decode(encoded, None);
    let theirs = cpython_dumps(c.interpreter(), doc, protocol);
    let loads = match &theirs {
        Ok((_, p)) => verdict::compare("cpython-c(encoded)", &loaded, "cpython-c(pickle.dumps)", &c.decode(p, None)),
        Err(_) => verdict::compare("document", &Outcome::Ok(doc.clone()), "cpython-c(encoded)", &loaded),
    };
    let (bytes, cpython_pickle) = match theirs {
        Ok((_, p)) if p == encoded => (Some(Verdict::Same), p),
        Ok((_, p)) => {
            let codec = crate::engine::Codec::new();
            let (ours, theirs) = (codec.genops(encoded), codec.genops(&p));
            let listing = |o: Option<Outcome>| match o {
                Some(Outcome::Ok(j)) => render::listing(&j),
                _ => String::new(),
            };
            let first = encoded
                .iter()
                .zip(&p)
                .position(|(a, b)| a != b)
                .unwrap_or(encoded.len().min(p.len()));
            let diff = Diff {
                first: format!("byte {first} ({} vs {} bytes)", encoded.len(), p.len()),
                text: render::unified("encoded", &listing(ours), "pickle.dumps", &listing(theirs)),
            };
            (Some(Verdict::ValuesDiffer(diff)), p)
        }
        Err(_) => (None, vec![]),
    };
    Some(EncodedCheck { loads, bytes, cpython_pickle })
}

/// A document through brine's encoder and CPython.
#[derive(Clone, Debug)]
pub struct CodecRoundTrip {
    /// The document encoded (set items in this interpreter's order).
    pub document: J,
    /// brine's bytes.
    pub pickle: Vec<u8>,
    /// What CPython made of them.
    pub check: EncodedCheck,
}

/// brine's encoder writes `doc` at `protocol` (after CPython put its sets in this
/// interpreter's order, when it can build the object); CPython loads the bytes and pickles
/// the same object ([`check_encoded`]). `None` without an interpreter; `Err` when the
/// encoder refuses the document.
pub fn codec_roundtrip(doc: &J, protocol: u8) -> Option<Result<CodecRoundTrip, String>> {
    let interp = interpreter()?;
    let ordered = match cpython_dumps(interp, doc, protocol) {
        Ok((ordered, _)) => ordered,
        Err(_) => doc.clone(),
    };
    Some(match brine_codec::encode_document(&ordered, protocol) {
        Ok(pickle) => {
            let check = check_encoded(&ordered, protocol, &pickle)?;
            Ok(CodecRoundTrip { document: ordered, pickle, check })
        }
        Err(e) => Err(e.to_string()),
    })
}
