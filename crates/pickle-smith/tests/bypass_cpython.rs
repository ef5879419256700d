//! The hidden globals against CPython 3.11 itself: tests/bypass_find_class.py loads every
//! file with the C unpickler, recording `find_class` instead of importing, and this checks
//! that the target is resolved (for every technique but after-stop, in at least 99% of the
//! files using it: so far, all), that `pickle.loads` returns or raises as the file says and
//! stops at the same STOP, that after-stop's first pickle loads without the target and the
//! second resolves it, and that brine's codec accepts exactly what CPython accepts.
//!
//! Skipped, with a message, where /usr/bin/python3.11 is missing.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use brine_codec::decode_with;
use brine_codec::hex;
use common::Rng;
use pickle_smith::{BypassConfig, HiddenGlobal, Technique};
use serde_json::{json, Value as J};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

const PYTHON: &str = "/usr/bin/python3.11";
const COUNT: usize = 2_000;

fn generate(rng: &mut Rng, i: usize) -> HiddenGlobal {
    let config = if i % 2 == 0 {
        BypassConfig::default()
    } else {
        let seed = rng.bytes(32, 128);
        BypassConfig::arbitrary(&mut Unstructured::new(&seed)).unwrap()
    };
    let data = rng.bytes(0, 2048);
    HiddenGlobal::new(&config, &mut Unstructured::new(&data)).unwrap()
}

/// Runs the script on `files`: one JSON result per file.
fn cpython(files: &[HiddenGlobal]) -> Vec<J> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bypass_find_class.py");
    let mut child = Command::new(PYTHON)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python3.11");
    let input: String = files
        .iter()
        .map(|h| {
            json!({
                "hex": hex::encode(&h.bytes),
                "target": [h.target.0, h.target.1],
                "ext": h.extensions,
                "buffers": h.buffers,
                "tail": !h.resolved_by_loads(),
            })
            .to_string()
                + "\n"
        })
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let results: Vec<J> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    writer.join().unwrap().unwrap();
    assert!(
        child.wait().unwrap().success(),
        "{} failed",
        script.display()
    );
    assert_eq!(results.len(), files.len());
    results
}

#[derive(Default)]
struct Tally {
    files: usize,
    resolved: usize,
}

#[test]
fn targets_resolve_in_cpython() {
    if !Path::new(PYTHON).exists() {
        eprintln!("skipped: {PYTHON} not found (the CPython validation of pickle-smith's hidden globals needs it)");
        return;
    }
    let mut rng = Rng(0x5eed_c9c9);
    let files: Vec<HiddenGlobal> = (0..COUNT).map(|i| generate(&mut rng, i)).collect();
    let results = cpython(&files);

    let mut tally: BTreeMap<Technique, Tally> = BTreeMap::new();
    let (mut failures, mut misses) = (Vec::new(), Vec::new());
    let (mut straddling, mut bytesio_differs) = (0, 0);
    for (i, (h, r)) in files.iter().zip(&results).enumerate() {
        let loads = &r["loads"];
        let what = || {
            format!(
                "#{i} {:?} {:?} protocol {}\n  {}\n  {r}",
                h.techniques,
                h.target,
                h.protocol,
                hex::encode(&h.bytes)
            )
        };
        let ok = loads["ok"].as_bool().unwrap();
        if ok != h.loads_ok {
            failures.push(format!(
                "loads_ok={} but CPython ok={ok}: {}",
                h.loads_ok,
                what()
            ));
        }
        if ok && loads["stop"].as_u64().map(|s| s as usize) != h.stop {
            failures.push(format!("stop {:?}: {}", h.stop, what()));
        }
        let brine = decode_with(&h.bytes, &h.decode_options());
        if brine.is_ok() != ok {
            failures.push(format!("brine {:?}: {}", brine.err(), what()));
        }
        let resolved = if h.resolved_by_loads() {
            loads["resolved"].as_bool().unwrap()
        } else {
            if loads["resolved"].as_bool().unwrap() || !ok {
                failures.push(format!("after-stop's first pickle: {}", what()));
            }
            r["tail"]["resolved"].as_bool() == Some(true)
        };
        for &t in &h.techniques {
            let e = tally.entry(t).or_default();
            e.files += 1;
            e.resolved += resolved as usize;
        }
        if !resolved {
            misses.push(what());
        }
        if h.straddles_frames {
            straddling += 1;
            bytesio_differs += (r["bytesio"] != r["loads"]) as usize;
        } else if r["bytesio"] != r["loads"] {
            failures.push(format!(
                "io.BytesIO differs without straddling frames: {}",
                what()
            ));
        }
    }
    println!("{COUNT} files; target resolved by CPython (after-stop: by a second load after the first STOP)");
    println!(
        "{:<20} {:>6} {:>9} {:>8}",
        "technique", "files", "resolved", "%"
    );
    for (t, n) in &tally {
        println!(
            "{:<20} {:>6} {:>9} {:>8.2}",
            t.name(),
            n.files,
            n.resolved,
            100.0 * n.resolved as f64 / n.files as f64
        );
    }
    println!("{straddling} files straddle frames; over a bare io.BytesIO, CPython's outcome differs for {bytesio_differs}");
    for m in misses.iter().take(20) {
        println!("target missed: {m}");
    }
    for f in failures.iter().take(20) {
        println!("{f}");
    }
    for (t, n) in &tally {
        assert!(
            n.resolved * 100 >= n.files * 99,
            "{t}: target resolved in only {} of {} files",
            n.resolved,
            n.files
        );
    }
    assert!(failures.is_empty(), "{} disagreements", failures.len());
}
