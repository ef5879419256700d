//! Encode throughput in MB/s (of pickle written) on the five standard workloads at
//! protocols 2 and 5: 1,000,000 small ints in a list; 200,000 ten-character strs; a
//! 100,000-entry str -> float dict; 50,000 six-field records (dicts of int, str, float, list,
//! bool, bytes sharing their key strs); one 64 MiB bytes. Plus a linearity check (each
//! workload at half size: time should halve).
//!
//! The values are the CPython-written workload pickles of scripts/bench_workloads.py
//! (cached under target/bench-data, shared with the decode bench), decoded; before timing,
//! each is checked to encode back to CPython's exact bytes. Timing is std::time only.
//! Run with `cargo bench -p brine-codec --bench encode [-- WORKLOAD...]`.

mod common;

use common::{best_secs, data_dir};
use std::path::Path;

/// Seconds per encode (best of several).
fn time_encode(d: &brine_codec::Decoded, proto: u8) -> f64 {
    best_secs(|| brine_codec::encode(&d.heap, d.root, proto).expect("workload encodes"))
}

fn load(dir: &Path, file: &str, proto: u8) -> (Vec<u8>, brine_codec::Decoded) {
    let data = std::fs::read(dir.join(file)).unwrap();
    let d = brine_codec::decode(&data).expect("workload decodes");
    let again = brine_codec::encode(&d.heap, d.root, proto).expect("workload encodes");
    assert!(again == data, "{file}: encode(decode(p)) != p");
    (data, d)
}

fn main() {
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let names = ["ints_1m", "strs_200k", "dict_100k", "records_50k", "bytes_64m"]
        .into_iter()
        .filter(|n| only.is_empty() || only.iter().any(|o| o == n));
    let full = data_dir("1.0");
    let half = data_dir("0.5");
    println!("{:<14} {:>5} {:>10} {:>10} {:>10} {:>12}", "workload", "proto", "size MB", "ms", "MB/s", "half-size ratio");
    for name in names {
        for proto in [2u8, 5] {
            let file = format!("{name}.p{proto}.pkl");
            let (data, d) = load(&full, &file, proto);
            let t = time_encode(&d, proto);
            drop(d);
            let (_, dh) = load(&half, &file, proto);
            let th = time_encode(&dh, proto);
            println!(
                "{:<14} {:>5} {:>10.2} {:>10.2} {:>10.1} {:>12.2}",
                name,
                proto,
                data.len() as f64 / 1e6,
                t * 1e3,
                data.len() as f64 / t / 1e6,
                t / th
            );
        }
    }
    println!("(every workload encodes to CPython's exact bytes; half-size ratio: time(full)/time(half), 2.0 is linear)");
}
