//! `encode_exact`: for a generated value, the codec writes exactly the bytes CPython's
//! `pickle.dumps` writes for the object the document describes (the spec's "exactly one
//! right answer"), at any protocol 0-5.
//!
//! Byte equality needs the order in which CPython iterates each set, which only the
//! original object knows (`hash(None)` is an address in 3.11). So documents go in without
//! multi-item sets ([`without_sets`]): a set becomes a list, a frozenset a tuple tagged with
//! a marker str (so it cannot become equal to another dict key). Sets of zero or one item
//! have no order and stay. The rest of the document is as pickle-smith made it.
//!
//! A finding: different bytes, the codec refusing a document CPython pickles, or CPython
//! refusing a document the codec writes (other than by RecursionError/MemoryError).
//! Without CPython (built without the `cpython` feature, or no interpreter) nothing is
//! checked.

use crate::finding::{Case, Finding};
use arbitrary::{Arbitrary, Unstructured};
use brine_codec::opcodes::HIGHEST_PROTOCOL;
use pickle_smith::{GeneratedValue, ValueConfig};
use serde_json::Value as J;

#[cfg_attr(not(feature = "cpython"), allow(dead_code))]
const NAME: &str = "encode_exact";

/// The marker str a frozenset-turned-tuple starts with.
pub const FROZENSET_MARKER: &str = "brine-fuzz:frozenset";

/// The document (sets rewritten) and protocol an input stands for.
pub fn generate(data: &[u8]) -> Option<(J, u8)> {
    let mut u = Unstructured::new(data);
    let config = ValueConfig::arbitrary(&mut u).ok()?;
    let mut doc = GeneratedValue::new(&config, &mut u).ok()?.document;
    without_sets(&mut doc);
    let p = u.int_in_range(0..=HIGHEST_PROTOCOL).unwrap_or(0);
    Some((doc, p))
}

/// Rewrites every set of two or more items as a list, every such frozenset as a tuple whose
/// first item is [`FROZENSET_MARKER`].
pub fn without_sets(doc: &mut J) {
    let mut work = vec![doc];
    while let Some(v) = work.pop() {
        match v {
            J::Object(m) => {
                let t = m.get("t").and_then(J::as_str).unwrap_or("");
                let n = m.get("items").and_then(J::as_array).map_or(0, Vec::len);
                if n >= 2 && t == "set" {
                    m.insert("t".into(), J::from("list"));
                } else if n >= 2 && t == "frozenset" {
                    m.insert("t".into(), J::from("tuple"));
                    if let Some(J::Array(items)) = m.get_mut("items") {
                        items.insert(0, serde_json::json!({"t": "str", "v": FROZENSET_MARKER}));
                    }
                }
                work.extend(m.values_mut());
            }
            J::Array(a) => work.extend(a.iter_mut()),
            _ => {}
        }
    }
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

/// The case an input stands for: the document, and what `pickle.dumps` writes for it (the
/// right answer) when CPython is there.
pub fn case(data: &[u8]) -> Option<Case> {
    let (doc, p) = generate(data)?;
    let pickle = cpython_pickle(&doc, p).and_then(Result::ok).map(|b| (b, None));
    Some(Case { pickle, document: Some((doc, p)) })
}

#[cfg(feature = "cpython")]
fn cpython_pickle(doc: &J, p: u8) -> Option<Result<Vec<u8>, String>> {
    let interp = brine_oracle::cpython::interpreter()?;
    Some(brine_oracle::roundtrip::cpython_dumps(interp, doc, p).map(|(_, b)| b))
}

#[cfg(not(feature = "cpython"))]
fn cpython_pickle(_doc: &J, _p: u8) -> Option<Result<Vec<u8>, String>> {
    None
}

/// Encodes `doc` at `p` with the codec and with CPython, and compares the bytes.
pub fn check_document(doc: &J, p: u8) -> Result<(), Finding> {
    let Some(theirs) = cpython_pickle(doc, p) else { return Ok(()) };
    let ours = brine_codec::encode_document(doc, p);
    match (ours, theirs) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Ok(a), Ok(b)) => {
            let first = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
            Err(Finding::bug(
                NAME,
                "bytes-differ",
                format!("byte {first}"),
                format!("protocol {p}: {doc}\ncodec:        {}\npickle.dumps: {}\n{}", brine_codec::hex::encode(&a), brine_codec::hex::encode(&b), listing_diff(&a, &b)),
            ))
        }
        (Err(e), Ok(b)) => Err(Finding::bug(NAME, "codec-refuses", e.to_string(), format!("protocol {p}: {doc}\npickle.dumps: {}", brine_codec::hex::encode(&b)))),
        (Ok(_), Err(m)) if !(m.contains("RecursionError") || m.contains("MemoryError")) => {
            Err(Finding::bug(NAME, "cpython-refuses", m.lines().next().unwrap_or("").to_string(), format!("protocol {p}: {doc}\n{m}")))
        }
        _ => Ok(()),
    }
}

#[cfg_attr(not(feature = "cpython"), allow(dead_code))]
fn listing_diff(a: &[u8], b: &[u8]) -> String {
    let (x, y) = (brine_codec::dis::genops(a).to_text(), brine_codec::dis::genops(b).to_text());
    brine_oracle::render::unified("codec", &x, "pickle.dumps", &y)
}
