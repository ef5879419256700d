//! Which globals a pickle asks for: the `find_class(module, name)` calls CPython 3.11's C
//! unpickler makes while loading it, in order, including those before an error.
//!
//! This is what a scanner wants to know of a pickle without loading it. The calls are
//! exactly what an overriding `Unpickler.find_class` method receives (checked against
//! CPython by `scripts/gen_globals_cases.py` and, live, by the harness's `globals` check):
//! - GLOBAL, STACK_GLOBAL and INST call it; so do EXT1/2/4, with the pair the extension
//!   registry holds for the code, but only the first time a code occurs in a load (CPython
//!   caches the object per code). OBJ, REDUCE, NEWOBJ and NEWOBJ_EX call it never: their
//!   class is whatever an earlier opcode pushed.
//! - Names are as the pickle spells them. The protocol < 3 `fix_imports` renaming
//!   (`__builtin__` to `builtins`...) happens inside CPython's default `find_class`, so a
//!   call is recorded before it, as an override sees it.
//! - A call is recorded when it is made, whatever happens next: a `find_class` that fails
//!   (an empty module name, a `<locals>` component at protocol 4) still counts; operands
//!   that fail before the call (a GLOBAL line that is not UTF-8, STACK_GLOBAL operands that
//!   are not str) give none. Nothing after STOP is read.

use super::{DecodeOptions, Decoded, Machine};
use crate::error::Error;
use crate::hex;
use crate::value::PyStr;
use serde_json::{json, Value as J};

/// One `find_class(module, name)` call: the module and the name, Python strs. A
/// [`PyStr`] is surrogatepass UTF-8, so it holds any str, including the lone surrogates a
/// STACK_GLOBAL operand may carry; [`PyStr::as_str`] is the text when there is none.
pub type FindClass = (PyStr, PyStr);

/// The `find_class` calls of one decode, and the decode's result.
#[derive(Debug)]
pub struct Globals {
    /// Every call, in order, up to STOP or the error that ended the load.
    pub calls: Vec<FindClass>,
    /// What [`super::decode_with`] gives for the same input and options.
    pub result: Result<Decoded, Error>,
}

/// Decodes `data` and records every `find_class` call CPython's C unpickler would make
/// (see the module docs). [`super::decode_with`] does not record: this is the only entry
/// point that pays for it (a clone of two short strs per global).
pub fn globals(data: &[u8], opts: &DecodeOptions) -> Globals {
    let mut m = Machine::new(data, opts);
    m.calls = Some(Vec::new());
    let r = m.run();
    let calls = m.calls.take().unwrap_or_default();
    Globals { calls, result: m.conclude(r) }
}

/// The calls as JSON, `[[module, name], ...]`, each name a JSON string, or, when it holds
/// a lone surrogate, `{"hex": HEX}` of its surrogatepass UTF-8 (as a str node writes it,
/// `docs/pickle-json.md`).
pub fn calls_to_json(calls: &[FindClass]) -> J {
    let name = |s: &PyStr| match s.as_str() {
        Some(t) => J::from(t),
        None => json!({"hex": hex::encode(s.as_bytes())}),
    };
    calls.iter().map(|(module, n)| json!([name(module), name(n)])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(data: &[u8]) -> Vec<(String, String)> {
        let g = globals(data, &DecodeOptions::default());
        g.calls.iter().map(|(m, n)| (m.as_str().unwrap().to_string(), n.as_str().unwrap().to_string())).collect()
    }

    #[test]
    fn plain_decodes_record_nothing() {
        let opts = DecodeOptions::default();
        let mut m = Machine::new(b"cos\nsystem\n.", &opts);
        assert!(m.run().is_ok());
        assert!(m.calls.is_none());
    }

    #[test]
    fn a_failing_find_class_still_counts() {
        // An empty module name is find_class's own ValueError; <locals> at protocol 4 its
        // AttributeError.
        let e = globals(b"\x80\x04\x8c\x00\x8c\x01a\x93.", &DecodeOptions::default());
        assert_eq!(e.calls.len(), 1);
        assert!(e.result.is_err());
        assert_eq!(calls(b"\x80\x04\x8c\x01m\x8c\x0aa.<locals>\x93."), [("m".into(), "a.<locals>".into())]);
    }

    #[test]
    fn lone_surrogates_are_hex() {
        // STACK_GLOBAL of "m\ud800" (surrogatepass UTF-8 ed a0 80) and "n".
        let g = globals(b"\x80\x04\x8c\x04m\xed\xa0\x80\x8c\x01n\x93.", &DecodeOptions::default());
        assert_eq!(calls_to_json(&g.calls).to_string(), r#"[[{"hex":"6deda080"},"n"]]"#);
        assert_eq!(calls_to_json(&[]).to_string(), "[]");
    }
}
