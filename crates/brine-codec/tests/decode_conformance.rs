//! The decoder and disassembler against CPython's own results, checked in under
//! conformance/decode/ by scripts/gen_conformance.py (run with the interpreter the oracle
//! embeds). Every case must agree with CPython's C unpickler (same document under the spec's
//! equality, or a rejection with the same exception class) and with `pickletools.genops`,
//! except cases CPython itself could only answer with a limit (MemoryError, RecursionError,
//! a timeout), where a brine limit error or any answer is accepted.

use brine_codec::{decode_with, json, DecodeOptions};
use serde_json::Value as J;
use std::path::{Path, PathBuf};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/decode")
}

struct Case {
    file: String,
    name: String,
    pickle: Vec<u8>,
    buffers: Option<usize>,
    c: J,
    genops: J,
    limit: bool,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn load_cases() -> Vec<Case> {
    let mut files: Vec<_> = std::fs::read_dir(conformance_dir())
        .expect("conformance/decode exists (run scripts/gen_conformance.py)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: J = json::parse_deep(line).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            if v.get("header").is_some() {
                continue;
            }
            out.push(Case {
                file: f.file_name().unwrap().to_string_lossy().into_owned(),
                name: v["name"].as_str().unwrap().to_string(),
                pickle: unhex(v["pickle"].as_str().unwrap()),
                buffers: v.get("buffers").and_then(J::as_u64).map(|n| n as usize),
                c: v["c"].clone(),
                genops: v["genops"].clone(),
                limit: v.get("limit").and_then(J::as_bool).unwrap_or(false),
            });
        }
    }
    out
}

fn is_limit_node(v: &J) -> bool {
    matches!(v.get("type").and_then(J::as_str), Some("MemoryError" | "RecursionError" | "Timeout"))
}

/// Compares the genops stream entry by entry: op names, positions, args; error class/pos.
fn compare_ops(ours: &J, theirs: &J) -> Result<(), String> {
    let (a, b) = (ours.as_array().unwrap(), theirs.as_array().unwrap());
    if a.len() != b.len() {
        return Err(format!("{} entries vs genops {}", a.len(), b.len()));
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x.get("t").is_some() || y.get("t").is_some() {
            if x.get("type") != y.get("type") || x.get("pos") != y.get("pos") {
                return Err(format!("entry {i}: {x} vs {y}"));
            }
            continue;
        }
        if x["op"] != y["op"] || x["pos"] != y["pos"] {
            return Err(format!("entry {i}: {x} vs {y}"));
        }
        match (&x["arg"], &y["arg"]) {
            (J::Null, J::Null) => {}
            (p, q) => json::compare(p, q).map_err(|m| format!("entry {i} arg: {} {}", m.path, m.what))?,
        }
    }
    Ok(())
}

#[test]
fn decoder_and_dis_agree_with_cpython() {
    brine_codec::with_big_stack(|| {
        let cases = load_cases();
        assert!(cases.len() > 1000, "expected thousands of cases, found {}", cases.len());
        let mut failures = Vec::new();
        let (mut values, mut errors, mut limits) = (0, 0, 0);
        for case in &cases {
            let opts = DecodeOptions { buffers: case.buffers, ..Default::default() };
            let r = decode_with(&case.pickle, &opts);
            let ours: J = json::parse_deep(&json::result_to_json(&r)).unwrap();
            let codec_limit = matches!(&r, Err(e) if e.classify() == brine_codec::Category::Limit);
            if case.limit || is_limit_node(&case.c) || codec_limit {
                limits += 1;
                if !(case.limit || is_limit_node(&case.c)) {
                    failures.push(format!("{}/{}: brine limit {:?} where CPython answered", case.file, case.name, r.err()));
                }
            } else if let Err(m) = json::compare(&ours, &case.c) {
                failures.push(format!(
                    "{}/{} [{}]: {} {}\n    brine:   {}\n    CPython: {}",
                    case.file,
                    case.name,
                    hex(&case.pickle),
                    m.path,
                    m.what,
                    trunc(&ours.to_string()),
                    trunc(&case.c.to_string())
                ));
            } else if r.is_ok() {
                values += 1;
            } else {
                errors += 1;
            }
            let dis: J = json::parse_deep(&brine_codec::dis::genops(&case.pickle).to_json()).unwrap();
            if let Err(m) = compare_ops(&dis, &case.genops) {
                failures.push(format!("{}/{} [{}]: dis: {m}", case.file, case.name, hex(&case.pickle)));
            }
        }
        println!(
            "{} cases: {values} equal values, {errors} equal rejections, {limits} limit cases, {} failures",
            cases.len(),
            failures.len()
        );
        for f in failures.iter().take(40) {
            println!("FAIL {f}");
        }
        assert!(failures.is_empty(), "{} disagreements with CPython", failures.len());
    });
}

fn hex(b: &[u8]) -> String {
    let s: String = b.iter().take(80).map(|x| format!("{x:02x}")).collect();
    if b.len() > 80 {
        format!("{s}...")
    } else {
        s
    }
}

fn trunc(s: &str) -> String {
    if s.len() > 300 {
        format!("{}...", &s[..s.char_indices().nth(300).map_or(s.len(), |c| c.0)])
    } else {
        s.to_string()
    }
}
