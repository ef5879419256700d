//! Decode throughput in MB/s on the five standard workloads at protocols 2 and 5, plus a
//! linearity check (each workload at half size: time should halve).
//!
//! The workloads are CPython-written pickles made by scripts/bench_workloads.py (so the
//! bytes are exactly what real users decode); they are cached under target/bench-data.
//! Run with `cargo bench -p brine-codec --bench decode`.

mod common;

use common::{best_secs, data_dir};

/// Seconds per decode (best of several).
fn time_decode(data: &[u8]) -> f64 {
    best_secs(|| brine_codec::decode(data).expect("workload decodes"))
}

fn main() {
    let names = ["ints_1m", "strs_200k", "dict_100k", "records_50k", "bytes_64m"];
    let full = data_dir("1.0");
    let half = data_dir("0.5");
    println!("{:<14} {:>5} {:>10} {:>10} {:>10} {:>12}", "workload", "proto", "size MB", "ms", "MB/s", "half-size ratio");
    for name in names {
        for proto in [2, 5] {
            let file = format!("{name}.p{proto}.pkl");
            let data = std::fs::read(full.join(&file)).unwrap();
            let small = std::fs::read(half.join(&file)).unwrap();
            let t = time_decode(&data);
            let th = time_decode(&small);
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
    println!("(half-size ratio: time(full)/time(half); 2.0 is linear)");
}
