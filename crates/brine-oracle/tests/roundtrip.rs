//! Round trips: CPython-pickled documents through the codec, and brine-encoded documents
//! through CPython (loads and byte-exact dumps), over handmade documents and the first
//! cases of conformance/encode/values (its first shard).
#![cfg(feature = "cpython")]

use brine_oracle::roundtrip::{check_encoded, codec_roundtrip, cpython_dumps_codec_loads};
use brine_oracle::{Differential, Verdict};
use serde_json::{json, Value as J};
use std::io::BufRead;

/// BRINE_NO_CPYTHON=1 turns the engines off on purpose: nothing to test then.
fn no_cpython() -> bool {
    std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty())
}

/// Cases read from the first file of conformance/encode/values (the first ones span
/// every value kind at every protocol).
const ENCODE_CASES: usize = 3000;

fn docs() -> Vec<J> {
    vec![
        json!({"t":"list","items":[{"t":"int","v":"1"},{"t":"str","v":"a"},{"t":"bytes","v":"00"}]}),
        json!({"t":"list","id":1,"items":[{"t":"ref","id":1}]}),
        json!({"t":"dict","items":[[{"t":"str","v":"key"},{"t":"tuple","items":[{"t":"float","v":"1.5"},{"t":"none"}]}]]}),
        json!({"t":"set","items":[{"t":"int","v":"1"},{"t":"int","v":"2"},{"t":"int","v":"3"}]}),
        json!({"t":"int","v":"-123456789012345678901234567890"}),
        json!({"t":"bytearray","v":"616263"}),
    ]
}

#[test]
fn cpython_pickles_decode_in_the_codec() {
    if no_cpython() {
        return;
    }
    brine_codec::with_big_stack(|| {
        let d = Differential::new();
        for doc in docs() {
            for proto in 0..=5 {
                let rt = cpython_dumps_codec_loads(&d, &doc, proto).unwrap().unwrap();
                assert_eq!(rt.check.codec_vs_c, Some(Verdict::Same), "{doc} p{proto}: {:?}", rt.check);
            }
        }
        // Not a document of builtin values: CPython cannot build it.
        let g = json!({"t":"global","module":"os","name":"system"});
        assert!(cpython_dumps_codec_loads(&d, &g, 2).unwrap().is_err());
    })
}

#[test]
fn encoded_bytes_are_judged() {
    if no_cpython() {
        return;
    }
    let doc = json!({"t":"list","items":[{"t":"int","v":"1"}]});
    // What pickle.dumps([1], 2) writes, and a wrong encoding of the same list.
    let good = b"\x80\x02]q\x00K\x01a.";
    let c = check_encoded(&doc, 2, good).unwrap();
    assert_eq!((c.loads, c.bytes), (Verdict::Same, Some(Verdict::Same)));
    let other = b"\x80\x02]K\x01a.";
    let c = check_encoded(&doc, 2, other).unwrap();
    assert_eq!(c.loads, Verdict::Same);
    match c.bytes.unwrap() {
        Verdict::ValuesDiffer(d) => assert!(d.text.contains("BINPUT"), "{}", d.text),
        v => panic!("{v:?}"),
    }
}

#[test]
fn codec_encoder_round_trips() {
    if no_cpython() {
        return;
    }
    brine_codec::with_big_stack(|| {
        // The set's first file: values.jsonl, or its first shard values-1.jsonl.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../conformance/encode");
        let Some(f) = ["values.jsonl", "values-1.jsonl"].iter().find_map(|n| std::fs::File::open(format!("{dir}/{n}")).ok()) else {
            panic!("no {dir}/values.jsonl or values-1.jsonl (run scripts/gen_conformance.py)");
        };
        let diff = Differential::new();
        let (mut n, mut skipped, mut bad) = (0, 0, vec![]);
        for line in std::io::BufReader::new(f).lines().take(ENCODE_CASES + 1) {
            let line = line.unwrap();
            let mut de = serde_json::Deserializer::from_str(&line);
            de.disable_recursion_limit();
            let case: J = serde::Deserialize::deserialize(&mut de).unwrap();
            if case.get("header").is_some() {
                continue;
            }
            let (name, proto, doc) = (case["name"].as_str().unwrap().to_string(), case["protocol"].as_u64().unwrap() as u8, &case["value"]);
            n += 1;
            // CPython's bytes for it, through the codec.
            match cpython_dumps_codec_loads(&diff, doc, proto).unwrap() {
                Ok(rt) if rt.check.codec_disagrees() => bad.push(format!("{name}: codec on pickle.dumps bytes: {}", rt.check.codec_vs_c.unwrap().summary())),
                Ok(_) => {}
                Err(_) => skipped += 1, // not builtin values (globals, objects)
            }
            // brine's bytes for the document as recorded, against the recorded pickle.dumps.
            match brine_codec::encode_document(doc, proto) {
                Ok(bytes) => {
                    if brine_codec::hex::encode(&bytes) != case["pickle"].as_str().unwrap() {
                        bad.push(format!("{name}: brine's bytes differ from the recorded pickle.dumps"));
                    }
                }
                Err(e) => bad.push(format!("{name}: the encoder refused: {e}")),
            }
            // brine's bytes for it, through live CPython.
            match codec_roundtrip(doc, proto).unwrap() {
                Ok(rt) => {
                    let c = rt.check;
                    if c.loads.is_disagreement() {
                        bad.push(format!("{name}: CPython loading brine's bytes: {}", c.loads.summary()));
                    }
                    if let Some(v) = c.bytes.filter(Verdict::is_disagreement) {
                        bad.push(format!("{name}: brine's bytes vs live pickle.dumps: {}", v.summary()));
                    }
                }
                Err(e) => bad.push(format!("{name}: the encoder refused: {e}")),
            }
        }
        println!("{n} encode cases, {skipped} not buildable from builtins, {} problems", bad.len());
        for b in bad.iter().take(40) {
            println!("  {b}");
        }
        assert!(bad.is_empty(), "{} round-trip problems (listed above)", bad.len());
    })
}
