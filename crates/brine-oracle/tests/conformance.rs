//! The codec against CPython's C unpickler, live, over every case in conformance/decode.
//!
//! Each case runs through [`Differential::check`] (codec first, guard, then CPython C in the
//! sandbox); every verdict must be an agreement or Poisoned. Also listed, never failing:
//! where CPython's C and pure-Python unpicklers differ (from the recorded "python" nodes),
//! and where live CPython differs from the recorded "c" node (stale data).
//!
//! Known codec disagreements, once found, go to tests/known-disagreements.txt (one case
//! name per line, `#` comments) until the codec is fixed: they are printed, not failed on,
//! and a listed case that agrees again is reported so the list shrinks.
#![cfg(feature = "cpython")]

use brine_codec::hex;
use brine_oracle::verdict::{self, Verdict};
use brine_oracle::{Differential, Outcome};
use serde_json::Value as J;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// BRINE_NO_CPYTHON=1 turns the engines off on purpose: nothing to test then.
fn no_cpython() -> bool {
    std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty())
}

/// The first 96 bytes as hex, with the length when there are more.
fn short_hex(p: &[u8]) -> String {
    let h = hex::encode(&p[..p.len().min(96)]);
    if p.len() > 96 {
        format!("{h}... ({} bytes)", p.len())
    } else {
        h
    }
}

fn parse(line: &str) -> J {
    let mut de = serde_json::Deserializer::from_str(line);
    de.disable_recursion_limit();
    serde::Deserialize::deserialize(&mut de).expect("a JSON line")
}

/// "C vs Python" grouping key: the verdict with the classes involved.
fn finding_key(v: &Verdict) -> String {
    match v {
        Verdict::DifferentErrors { a, b, .. } => format!("different errors: C {a} / Python {b}"),
        Verdict::OneRejects { accepting, error, .. } => {
            if accepting == "cpython-c" {
                format!("C accepts, Python raises {error}")
            } else {
                format!("Python accepts, C raises {error}")
            }
        }
        Verdict::ValuesDiffer(_) => "values differ".into(),
        other => other.name().into(),
    }
}

#[test]
fn codec_agrees_with_cpython_c() {
    if no_cpython() {
        return;
    }
    brine_codec::with_big_stack(run);
}

fn run() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/decode");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&root) {
        Ok(d) => d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "jsonl")).collect(),
        Err(_) => vec![],
    };
    files.sort();
    assert!(!files.is_empty(), "no conformance/decode/*.jsonl (run scripts/gen_conformance.py)");
    let known_text = include_str!("known-disagreements.txt");
    let known: BTreeSet<&str> = known_text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();

    let diff = Differential::new();
    assert!(diff.c.is_some(), "CPython did not start");
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failures = vec![];
    let mut known_seen = vec![];
    let mut findings: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    let mut stale = vec![];
    let mut poisoned_ok: Vec<(String, String, String)> = vec![];
    let mut total = 0;
    let t0 = std::time::Instant::now();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines() {
            let case = parse(line);
            if case.get("header").is_some() {
                continue;
            }
            total += 1;
            let name = case["name"].as_str().unwrap_or("?").to_string();
            let pickle = hex::decode(case["pickle"].as_str().unwrap_or(""))
                .unwrap_or_else(|e| panic!("{name}: \"pickle\" is not hex: {e}"));
            let buffers = case.get("buffers").and_then(J::as_u64).map(|n| n as usize);
            let check = diff.check(&pickle, buffers);
            let v = check.codec_vs_c.clone().unwrap();
            *counts.entry(v.name()).or_default() += 1;
            if v.is_disagreement() {
                if known.contains(name.as_str()) {
                    known_seen.push(name.clone());
                } else {
                    failures.push((name.clone(), pickle.clone(), v.clone()));
                }
            } else if known.contains(name.as_str()) && !matches!(v, Verdict::Poisoned(_)) {
                println!("known disagreement now agrees: {name}");
            }
            // Live C against the recorded C node.
            let recorded_c = Outcome::from_node(case["c"].clone());
            if let (Verdict::Poisoned(p), false) = (&v, matches!(recorded_c, Outcome::Poisoned(_))) {
                // The guard (or a brine limit) kept a case CPython answers normally.
                let what = match &recorded_c {
                    Outcome::Err { class, .. } => class.clone(),
                    _ => "value".into(),
                };
                poisoned_ok.push((name.clone(), p.to_string(), what));
            }
            if let Some(live) = &check.c {
                let sv = verdict::compare("recorded-c", &recorded_c, "live-c", live);
                if sv.is_disagreement() {
                    stale.push((name.clone(), sv.summary()));
                }
            }
            // C vs Python, from the recorded nodes.
            if let Some(py) = case.get("python") {
                let pv = verdict::compare("cpython-c", &recorded_c, "cpython-py", &Outcome::from_node(py.clone()));
                if pv.is_disagreement() {
                    findings.entry(finding_key(&pv)).or_default().push((name.clone(), pickle.clone()));
                }
            }
        }
    }
    println!("{total} cases from {} files in {:.1?}: {counts:?}", files.len(), t0.elapsed());
    println!("\nC vs Python differences (findings about CPython, not failures): {} cases", findings.values().map(Vec::len).sum::<usize>());
    for (k, v) in &findings {
        println!("  {k}: {} cases", v.len());
        for (n, p) in v.iter().take(3) {
            println!("      {n}  {}", short_hex(p));
        }
    }
    if !poisoned_ok.is_empty() {
        println!("\npoisoned although the recorded CPython answer is no limit ({}):", poisoned_ok.len());
        for (n, p, what) in poisoned_ok.iter().take(40) {
            println!("  {n} (CPython: {what}): {p}");
        }
    }
    if !stale.is_empty() {
        println!("\nlive CPython differs from the recorded C node in {} cases (regenerate?):", stale.len());
        for (n, s) in stale.iter().take(20) {
            println!("  {n}: {s}");
        }
    }
    if !known_seen.is_empty() {
        println!("\n{} known codec disagreements (tests/known-disagreements.txt)", known_seen.len());
    }
    for (n, p, v) in failures.iter().take(30) {
        println!("\nDISAGREEMENT {n}\n  pickle {}\n  {}", short_hex(p), v.summary());
        if let Some(d) = v.diff() {
            for l in d.text.lines().take(40) {
                println!("    {l}");
            }
        }
    }
    assert!(failures.is_empty(), "{} cases where the codec disagrees with CPython C (listed above)", failures.len());
}
