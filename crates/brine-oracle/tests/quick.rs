//! [`Differential::quick`] (the fuzzer's checks: no rendered diffs, a codec document equal
//! to C's as JSON text left unparsed) must reach the verdicts a full check reaches, on every
//! corpus case, including where the engines disagree: a codec in CPython 3.9's mode against
//! the embedded 3.11 disagrees on the cases whose outcome changed between the versions.

use brine_codec::Python;
use brine_oracle::Differential;
use serde_json::Value as J;
use std::path::PathBuf;

/// A case's metadata: deep documents included (parsed on a big stack, below).
fn parse(text: &str) -> J {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    serde::Deserialize::deserialize(&mut de).expect("JSON")
}

/// (bytes, buffers) of every corpus case that needs no extension registry.
fn corpus() -> Vec<(String, Vec<u8>, Option<usize>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../corpus");
    let manifest = parse(&std::fs::read_to_string(dir.join("manifest.json")).expect("corpus/manifest.json"));
    let mut out = vec![];
    for n in manifest["cases"].as_array().expect("cases") {
        let name = n.as_str().unwrap();
        let meta = parse(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap());
        if meta.get("extensions").is_some_and(|e| !e.is_null()) {
            continue;
        }
        let data = std::fs::read(dir.join(format!("{name}.pkl"))).unwrap();
        out.push((name.to_string(), data, meta.get("buffers").and_then(J::as_u64).map(|b| b as usize)));
    }
    out
}

fn verdicts(d: &Differential, cases: &[(String, Vec<u8>, Option<usize>)]) -> Vec<(String, Option<&'static str>, Option<&'static str>)> {
    let inputs: Vec<(&[u8], Option<usize>)> = cases.iter().map(|(_, b, n)| (&b[..], *n)).collect();
    let mut out = vec![];
    for (chunk, names) in inputs.chunks(64).zip(cases.chunks(64)) {
        for (c, (name, _, _)) in d.check_batch(chunk).into_iter().zip(names) {
            out.push((name.clone(), c.codec_vs_c.map(|v| v.name()), c.c_vs_py.map(|v| v.name())));
        }
    }
    out
}

#[test]
fn quick_checks_reach_the_full_verdicts() {
    brine_codec::with_big_stack(quick_and_full);
}

fn quick_and_full() {
    let full = Differential::new().with_python();
    if full.c.is_none() {
        eprintln!("no embedded CPython: skipped");
        return;
    }
    let cases = corpus();
    assert!(cases.len() > 2000, "corpus has {} cases", cases.len());
    for python in [Python::V3_11, Python::V3_9] {
        let mut full = Differential::new().with_python();
        let mut quick = Differential::new().with_python().quick();
        full.codec.options.python = python;
        quick.codec.options.python = python;
        let (f, q) = (verdicts(&full, &cases), verdicts(&quick, &cases));
        assert_eq!(f, q, "codec in {python} mode");
        let disagreements = f.iter().filter(|(_, v, _)| matches!(v, Some("different-errors" | "one-rejects" | "values-differ"))).count();
        let same = f.iter().filter(|(_, v, _)| *v == Some("same")).count();
        eprintln!("codec in {python} mode: {} cases, {same} same, {disagreements} codec-vs-C disagreements", f.len());
        assert!(same > 1000, "{same} cases agree");
        if python == Python::V3_9 {
            assert!(disagreements > 0, "3.9's codec mode should disagree with 3.11 somewhere");
        } else {
            assert_eq!(disagreements, 0);
        }
    }
}
