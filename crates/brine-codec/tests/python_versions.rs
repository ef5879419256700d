//! The codec in each CPython version's mode (`DecodeOptions::python`, `EncodeOptions::python`)
//! against what that version does, on tests/data/python_versions.json: outcomes recorded by
//! scripts/gen_version_fixtures.py running under CPython 3.9, 3.11, 3.13, 3.14 and 3.15 (the
//! C unpickler in the sandbox, and `pickle.dumps`). Nothing here comes from the codec.
//!
//! Every case must agree in every version (same document under the spec's equality, or a
//! rejection with the same exception class; the same bytes, or the same exception when
//! pickling). And wherever a version's expectation differs from 3.11's, the codec's own
//! outputs for the two versions must differ too: without the version logic these tests fail.

use brine_codec::{decode_with, encode_document_with, hex, json, DecodeOptions, Python};
use serde_json::Value as J;
use std::path::Path;

fn fixture() -> J {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/python_versions.json");
    let text = std::fs::read_to_string(&path).expect("tests/data/python_versions.json (scripts/gen_version_fixtures.py)");
    json::parse_deep(&text).expect("valid JSON")
}

/// A case's `"pickle"`, hex (a fixture that is not fails the test, naming the case).
fn pickle_of(case: &J) -> Vec<u8> {
    let h = case["pickle"].as_str().unwrap_or_else(|| panic!("{}: no \"pickle\"", case["name"]));
    hex::decode(h).unwrap_or_else(|e| panic!("{}: \"pickle\" is not hex: {e}", case["name"]))
}

fn fnv1a64(data: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn version(v: &str) -> Python {
    v.parse().unwrap_or_else(|e| panic!("fixture version {v}: {e}"))
}

/// The codec's decode outcome as a pickle-JSON node.
fn decode_node(pickle: &[u8], buffers: Option<usize>, python: Python) -> J {
    let opts = DecodeOptions { buffers, python, ..Default::default() };
    json::parse_deep(&json::result_to_json(&decode_with(pickle, &opts))).unwrap()
}

/// The spec's equality (error nodes: same class).
fn same(a: &J, b: &J) -> bool {
    json::compare(a, b).is_ok()
}

#[test]
fn fixture_covers_every_supported_version() {
    let f = fixture();
    for p in Python::SUPPORTED {
        let v = p.to_string();
        assert!(f["interpreters"][&v].as_str().is_some_and(|s| s.starts_with(&format!("{v}."))), "no {v} in the fixture");
    }
}

#[test]
fn decode_matches_each_version() {
    let f = fixture();
    let mut failures = vec![];
    let mut checked = 0;
    for case in f["decode"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let pickle = pickle_of(case);
        let buffers = case.get("buffers").and_then(J::as_u64).map(|n| n as usize);
        for (v, expect) in case["expect"].as_object().unwrap() {
            let ours = decode_node(&pickle, buffers, version(v));
            checked += 1;
            if !same(&ours, expect) {
                failures.push(format!("{name} [{v}]: codec {ours}\n    CPython {v}: {expect}"));
            }
        }
    }
    assert!(checked > 1000, "only {checked} checks");
    assert!(failures.is_empty(), "{} of {checked} disagree:\n{}", failures.len(), failures.join("\n"));
}

/// Where a version does something else than 3.11, the codec's two modes differ as well, and
/// every version but 3.13 has such cases in the fixture (3.13.5 decodes as 3.11 does).
#[test]
fn decode_version_differences_are_modelled() {
    let f = fixture();
    let mut differing = std::collections::BTreeMap::<String, usize>::new();
    let mut failures = vec![];
    for case in f["decode"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let pickle = pickle_of(case);
        let buffers = case.get("buffers").and_then(J::as_u64).map(|n| n as usize);
        let base = &case["expect"]["3.11"];
        let ours_base = decode_node(&pickle, buffers, Python::V3_11);
        for (v, expect) in case["expect"].as_object().unwrap() {
            if same(expect, base) {
                continue;
            }
            *differing.entry(v.clone()).or_default() += 1;
            let ours = decode_node(&pickle, buffers, version(v));
            if same(&ours, &ours_base) {
                failures.push(format!("{name}: CPython {v} differs from 3.11 but the codec's {v} mode does not"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for v in ["3.9", "3.14", "3.15"] {
        assert!(differing.get(v).copied().unwrap_or(0) > 0, "the fixture has no case where {v} differs: {differing:?}");
    }
    assert_eq!(differing.get("3.13"), None, "3.13.5 was measured to decode as 3.11");
}

/// The document a recipe stands for (as scripts/gen_version_fixtures.py's recipe_doc).
fn recipe_doc(recipe: &J) -> J {
    let n = recipe["n"].as_u64().unwrap() as usize;
    let int = |i: usize| serde_json::json!({"t": "int", "v": i.to_string()});
    match recipe["kind"].as_str().unwrap() {
        "list_none" => serde_json::json!({"t": "list", "items": vec![serde_json::json!({"t": "none"}); n]}),
        "dict_none" => serde_json::json!({"t": "dict", "items": (0..n).map(|i| serde_json::json!([int(i), {"t": "none"}])).collect::<Vec<_>>()}),
        "set_int" => serde_json::json!({"t": "set", "items": (0..n).map(int).collect::<Vec<_>>()}),
        "frozenset_int" => serde_json::json!({"t": "frozenset", "items": (0..n).map(int).collect::<Vec<_>>()}),
        k => panic!("unknown recipe kind {k}"),
    }
}

/// The codec's encode outcome, in the fixture's terms.
fn encode_outcome(doc: &J, protocol: u8, python: Python) -> Result<Vec<u8>, String> {
    encode_document_with(doc, protocol, python).map_err(|e| match e {
        brine_codec::encode::DocumentError::Encode(e) => e.code.py_exception().unwrap_or("unwritable").to_string(),
        brine_codec::encode::DocumentError::Read(e) => format!("bad document: {e}"),
    })
}

fn encode_matches(ours: &Result<Vec<u8>, String>, expect: &J) -> bool {
    match (ours, expect.get("pickle"), expect.get("fnv1a64"), expect.get("error")) {
        (Ok(b), Some(h), _, _) => hex::encode(b) == h.as_str().unwrap(),
        (Ok(b), _, Some(h), _) => b.len() as u64 == expect["len"].as_u64().unwrap() && fnv1a64(b) == h.as_str().unwrap(),
        (Err(class), _, _, Some(c)) => class == c.as_str().unwrap(),
        _ => false,
    }
}

#[test]
fn encode_matches_each_version() {
    let f = fixture();
    let mut failures = vec![];
    let mut checked = 0;
    let mut differing = std::collections::BTreeSet::new();
    for case in f["encode"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let protocol = case["protocol"].as_u64().unwrap() as u8;
        let doc = match case.get("recipe") {
            Some(r) => recipe_doc(r),
            None => case["value"].clone(),
        };
        let groups = case["expect"].as_array().unwrap();
        let base = encode_outcome(&doc, protocol, Python::V3_11);
        for group in groups {
            for v in group["versions"].as_array().unwrap() {
                let v = v.as_str().unwrap();
                let ours = encode_outcome(&doc, protocol, version(v));
                checked += 1;
                if !encode_matches(&ours, group) {
                    let ours = ours.as_ref().map(|b| format!("{} bytes {}", b.len(), fnv1a64(b)));
                    failures.push(format!("{name} [{v}]: codec {ours:?}\n    CPython {v}: {group}"));
                }
                // A version pickling otherwise than 3.11 must get other bytes from the codec.
                if !group["versions"].as_array().unwrap().iter().any(|x| x == "3.11") {
                    differing.insert(v.to_string());
                    if ours == base {
                        failures.push(format!("{name} [{v}]: CPython {v} differs from 3.11, the codec's modes do not"));
                    }
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} checks");
    assert!(failures.is_empty(), "{} of {checked} disagree:\n{}", failures.len(), failures.join("\n"));
    // 3.9 (no digit limit), 3.14 (`<locals>`) and 3.15 (batching) pickle otherwise.
    for v in ["3.9", "3.14", "3.15"] {
        assert!(differing.contains(v), "the fixture has no encode case where {v} differs: {differing:?}");
    }
}

/// Where a version changed only the message at sizes a test can hold: BINSTRING's length is
/// signed from 3.13.5 (a 2 GiB string loads in 3.11 but not in 3.13.5+; below that, both
/// are UnpicklingErrors, with different messages).
#[test]
fn binstring_length_messages_match() {
    let f = fixture();
    let mut seen = 0;
    for case in f["decode"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if !name.starts_with("huge/binstring_") {
            continue;
        }
        let pickle = pickle_of(case);
        for (v, expect) in case["expect"].as_object().unwrap() {
            let ours = decode_node(&pickle, None, version(v));
            assert_eq!(ours["message"], expect["message"], "{name} [{v}]");
            seen += 1;
        }
    }
    assert_eq!(seen, 10);
}
