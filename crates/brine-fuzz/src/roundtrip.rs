//! `roundtrip`: a generated value, encoded by the codec and decoded by the codec, is the
//! same document.
//!
//! The input drives pickle-smith: first a swarm [`ValueConfig`], then a [`GeneratedValue`]
//! under it, then the protocol, chosen among those with native opcodes for every type the
//! document holds ([`brine_codec::encode::native_protocol`]): below them CPython writes
//! bytes, sets and bytearrays as calls (`_codecs.encode`, `builtins.set`...), which decode
//! to recorded calls rather than the values. No CPython involved: this is the codec against itself.

use crate::finding::{Case, Finding};
use arbitrary::{Arbitrary, Unstructured};
use brine_codec::json::{self, compare};
use brine_codec::opcodes::HIGHEST_PROTOCOL;
use pickle_smith::{GeneratedValue, ValueConfig};
use serde_json::Value as J;

const NAME: &str = "roundtrip";

/// The document and protocol an input stands for (`None` when the input is too short to
/// make one).
pub fn generate(data: &[u8]) -> Option<(J, u8)> {
    let mut u = Unstructured::new(data);
    let config = ValueConfig::arbitrary(&mut u).ok()?;
    let doc = GeneratedValue::new(&config, &mut u).ok()?.document;
    let lo = brine_codec::encode::native_protocol(&doc);
    let p = u.int_in_range(lo..=HIGHEST_PROTOCOL).unwrap_or(lo);
    Some((doc, p))
}


/// Checks one input.
pub fn check(data: &[u8]) -> Result<(), Finding> {
    match generate(data) {
        Some((doc, p)) => check_document(&doc, p),
        None => Ok(()),
    }
}

/// [`check`], panicking on a finding.
pub fn run(data: &[u8]) {
    if let Err(f) = check(data) {
        f.fail()
    }
}

/// The case an input stands for: the document, and the pickle the codec writes for it.
pub fn case(data: &[u8]) -> Option<Case> {
    let (doc, p) = generate(data)?;
    let pickle = brine_codec::encode_document(&doc, p).ok().map(|b| (b, None));
    Some(Case { pickle, document: Some((doc, p)) })
}

/// Encodes `doc` at protocol `p`, decodes the bytes, and compares.
pub fn check_document(doc: &J, p: u8) -> Result<(), Finding> {
    let bytes = brine_codec::encode_document(doc, p)
        .map_err(|e| Finding::bug(NAME, "encode-refused", e.to_string(), format!("protocol {p}: {doc}")))?;
    let r = brine_codec::decode(&bytes);
    if let Err(e) = &r {
        return Err(Finding::bug(NAME, "decode-rejected", format!("byte {}", e.offset), format!("{e}\nprotocol {p}: {doc}\npickle: {}", brine_codec::hex::encode(&bytes))));
    }
    // The parts encoder (large payloads borrowed, not copied) writes the same bytes.
    if let Ok(d) = &r {
        let (whole, parts) = (brine_codec::encode(&d.heap, d.root, p), brine_codec::encode_parts(&d.heap, d.root, p));
        if whole.as_ref().ok() != parts.as_ref().ok().map(|e| e.to_vec()).as_ref() {
            return Err(Finding::bug(NAME, "parts-differ", "/", format!("protocol {p}: {doc}\npickle: {}", brine_codec::hex::encode(&bytes))));
        }
    }
    let back = json::parse_deep(&json::result_to_json(&r)).map_err(|e| Finding::bug(NAME, "json-syntax", "/", e.to_string()))?;
    compare(doc, &back).map_err(|m| {
        Finding::bug(NAME, "values-differ", m.path, format!("{}\nprotocol {p}\nin:  {doc}\nout: {back}\npickle: {}", m.what, brine_codec::hex::encode(&bytes)))
    })
}
