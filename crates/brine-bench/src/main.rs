//! `cargo xtask bench`: brine's codec, CPython's C pickle (timed inside the embedded
//! interpreter: `pickle.loads`/`pickle.dumps` only) and serde-pickle on the same bytes.
//!
//! Workloads are CPython-written pickles (scripts/bench_workloads.py): 1,000,000 small ints;
//! 200,000 ~10-char strings; a 100,000-entry str->float dict; 50,000 six-field records; one
//! 64 MiB bytes; at protocols 2 and 5, plus half-size copies for the linearity check. Every
//! figure is the best of several runs (the machine is shared), and ratios compare peers
//! measured in the same run. Peers are timed alike: the call alone, its result dropped (or,
//! in CPython, deallocated) after the clock stops. Also: memcpy bandwidth, the ceiling for
//! the bytes workload (warm: into an already-touched buffer; fresh: into a newly allocated
//! one, paying allocation and page faults as any owned copy must, and the one the bytes
//! decode is held against), peak memory of each decode, and the oracle's differential
//! checks per second. brine is timed twice more through its zero-copy API: `decode_shared`
//! (long strs and bytes are windows into the input) and `encode_parts` (payloads of 64 KiB
//! or more spliced in by reference), the peers' nearest equivalents being none.
//! `BRINE_BENCH_ONLY=ints_1m,strs_200k` limits the workloads. Then the adapters
//! (`adapters.rs`): persistent against per-case cases/s, campaign cases/s, and the matrix's
//! last wall time.
//! Writes target/bench/report.{md,json}.

mod adapters;
mod alloc;
mod regimes;
/// The workload files and the best-of timing loop, shared with brine-codec's own benches.
#[path = "../../brine-codec/benches/common/mod.rs"]
mod common;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyModule};
use serde_json::json;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

const WORKLOADS: &[&str] = &["ints_1m", "strs_200k", "dict_100k", "records_50k", "bytes_64m"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const PY_HELPERS: &str = r#"
import pickle, time, tracemalloc

def best(f):
    # The call alone: its result is freed after the clock stops, as brine's is; as many runs
    # as brine's timing loop (benches/common): at least 3, up to 50 within 3 s.
    b = float("inf"); t0 = time.perf_counter(); runs = 0
    while runs < 3 or (time.perf_counter() - t0 < 3.0 and runs < 50):
        t = time.perf_counter(); r = f(); b = min(b, time.perf_counter() - t); del r; runs += 1
    return b

def bench(data, proto):
    obj = pickle.loads(data)
    tl = best(lambda: pickle.loads(data))
    td = best(lambda: pickle.dumps(obj, proto))
    del obj
    tracemalloc.start()
    obj = pickle.loads(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return tl, td, peak
"#;

struct Row {
    name: String,
    proto: u8,
    size: usize,
    brine_dec: f64,
    brine_enc: f64,
    brine_peak: usize,
    brine_retained: usize,
    /// `decode_shared`, `encode_parts` and the shared decode's peak and retained memory.
    shared_dec: f64,
    parts_enc: f64,
    shared_peak: usize,
    shared_retained: usize,
    brine_half: f64,
    cpy_dec: f64,
    cpy_enc: f64,
    cpy_peak: usize,
    serde_dec: Option<f64>,
    serde_enc: Option<f64>,
    /// First call, whole process and memory floor (`regimes.rs`); `None` when skipped.
    regimes: Option<regimes::Regimes>,
}

fn mbps(size: usize, secs: f64) -> f64 {
    size as f64 / secs / 1e6
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if regimes::child(&args) {
        return;
    }
    // The CLI whose whole-process decode is timed (`cargo xtask bench` builds it first).
    let brine_bin = std::env::var_os("BRINE_BIN").map(PathBuf::from).unwrap_or_else(|| root().join("target/release/brine"));
    let with_regimes = std::env::var("BRINE_BENCH_REGIMES").as_deref() != Ok("0") && brine_bin.is_file();
    if !with_regimes {
        eprintln!("bench: no first-call/whole-process regimes ({} missing or BRINE_BENCH_REGIMES=0)", brine_bin.display());
    }
    let empty = root().join("target/bench/empty.pkl");
    std::fs::create_dir_all(empty.parent().unwrap()).unwrap();
    std::fs::write(&empty, b"\x80\x02K\x01.").unwrap();
    let interp = brine_oracle::cpython::interpreter().expect("embedded CPython");
    let info = interp.info().clone();
    let full = common::data_dir("1.0");
    let half = common::data_dir("0.5");
    let mut rows = vec![];
    let only = std::env::var("BRINE_BENCH_ONLY").unwrap_or_default();
    let selected = WORKLOADS.iter().filter(|n| only.is_empty() || only.split(',').any(|o| o == **n));
    for name in selected {
        for proto in [2u8, 5] {
            let file = format!("{name}.p{proto}.pkl");
            let data = std::fs::read(full.join(&file)).unwrap();
            let small = std::fs::read(half.join(&file)).unwrap();
            eprintln!("bench {file} ({} bytes)", data.len());
            // brine
            let brine_dec = common::best_secs(|| brine_codec::decode(&data).unwrap());
            let brine_half = common::best_secs(|| brine_codec::decode(&small).unwrap());
            let base = alloc::reset_peak();
            let decoded = brine_codec::decode(&data).unwrap();
            let brine_peak = alloc::peak() - base;
            let brine_retained = alloc::current() - base;
            let brine_enc = common::best_secs(|| brine_codec::encode(&decoded.heap, decoded.root, proto).unwrap());
            drop(decoded);
            // brine, zero-copy: the same bytes as a shared source.
            let source = brine_codec::Source::new(data.clone());
            let shared_opts = brine_codec::DecodeOptions::default();
            let shared_dec = common::best_secs(|| brine_codec::decode_shared(&source, &shared_opts).unwrap());
            let base = alloc::reset_peak();
            let decoded = brine_codec::decode_shared(&source, &shared_opts).unwrap();
            let shared_peak = alloc::peak() - base;
            let shared_retained = alloc::current() - base;
            let parts_enc = common::best_secs(|| brine_codec::encode_parts(&decoded.heap, decoded.root, proto).unwrap());
            let parts = brine_codec::encode_parts(&decoded.heap, decoded.root, proto).unwrap();
            assert_eq!(parts.to_vec(), brine_codec::encode(&decoded.heap, decoded.root, proto).unwrap());
            drop(parts);
            drop(decoded);
            // CPython
            let d2 = data.clone();
            let (cpy_dec, cpy_enc, cpy_peak) = interp.run(move |py, _sb| -> (f64, f64, usize) {
                let m = PyModule::from_code(py, &std::ffi::CString::new(PY_HELPERS).unwrap(), c"brine_bench.py", c"brine_bench").unwrap();
                let r = m.getattr("bench").unwrap().call1((PyBytes::new(py, &d2), proto)).unwrap();
                r.extract().unwrap()
            });
            // serde-pickle: where it can read the pickle.
            let opts = || serde_pickle::DeOptions::new();
            let (serde_dec, serde_enc) = match serde_pickle::value_from_slice(&data, opts()) {
                Ok(v) => {
                    let dec = common::best_secs(|| serde_pickle::value_from_slice(&data, opts()).unwrap());
                    let ser = || if proto == 2 { serde_pickle::SerOptions::new().proto_v2() } else { serde_pickle::SerOptions::new() };
                    let enc = serde_pickle::value_to_vec(&v, ser()).ok().map(|_| common::best_secs(|| serde_pickle::value_to_vec(&v, ser()).unwrap()));
                    (Some(dec), enc)
                }
                Err(e) => {
                    eprintln!("  serde-pickle cannot read {file}: {e}");
                    (None, None)
                }
            };
            let regimes = with_regimes.then(|| regimes::measure(&brine_bin, &full.join(&file), &empty));
            rows.push(Row {
                regimes,
                name: name.to_string(),
                proto,
                size: data.len(),
                brine_dec,
                brine_enc,
                brine_peak,
                brine_retained,
                shared_dec,
                parts_enc,
                shared_peak,
                shared_retained,
                brine_half,
                cpy_dec,
                cpy_enc,
                cpy_peak,
                serde_dec,
                serde_enc,
            });
        }
    }
    let memcpy = memcpy_bandwidth();
    let checks = if std::env::var_os("BRINE_BENCH_NO_CHECKS").is_some() { (0.0, 0.0) } else { oracle_checks_per_second() };
    let fuzz = fuzz_execs();
    let adapters = brine_codec::with_big_stack(|| adapters::measure(&root()));
    write_report(&info.version, &rows, memcpy, checks, &fuzz, adapters);
}

/// memcpy bandwidth on 64 MiB, MB/s.
struct Memcpy {
    /// Into a buffer already allocated and touched: the cache/DRAM copy rate alone.
    warm: f64,
    /// Into a freshly allocated buffer (allocation, page faults, copy; freed after the clock
    /// stops): what producing any owned copy of the bytes costs at least.
    fresh: f64,
}

fn memcpy_bandwidth() -> Memcpy {
    let src: Vec<u8> = (0..64u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut dst = vec![0u8; src.len()];
    let warm = common::best_secs(|| {
        dst.copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&mut dst);
    });
    drop(dst);
    let fresh = common::best_secs(|| std::hint::black_box(&src).to_vec());
    Memcpy { warm: mbps(src.len(), warm), fresh: mbps(src.len(), fresh) }
}

/// Differential checks per second (codec vs CPython C) on small generated pickles.
fn oracle_checks_per_second() -> (f64, f64) {
    let mut inputs = vec![];
    let mut x = 0x1234_5678_9abc_def1u64;
    let config = pickle_smith::Config { extensions: Default::default(), max_ops: 30, ..Default::default() };
    while inputs.len() < 5000 {
        let bytes: Vec<u8> = (0..512)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        if let Ok(p) = pickle_smith::GeneratedPickle::new(&config, &mut arbitrary::Unstructured::new(&bytes)) {
            inputs.push((p.bytes, p.buffers));
        }
    }
    let refs: Vec<(&[u8], Option<usize>)> = inputs.iter().map(|(b, n)| (&b[..], *n)).collect();
    let c_only = brine_oracle::Differential::new();
    let both = brine_oracle::Differential::new().with_python();
    let t = Instant::now();
    for chunk in refs.chunks(256) {
        std::hint::black_box(c_only.check_batch(chunk));
    }
    let a = refs.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for chunk in refs.chunks(256) {
        std::hint::black_box(both.check_batch(chunk));
    }
    let b = refs.len() as f64 / t.elapsed().as_secs_f64();
    (a, b)
}

/// Execs/s per fuzz target from the last campaign's report (`cargo xtask fuzz`).
fn fuzz_execs() -> Vec<(String, f64)> {
    let p = root().join("target/fuzz/report.json");
    let Ok(text) = std::fs::read_to_string(&p) else { return vec![] };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { return vec![] };
    let mut out = vec![];
    if let Some(ts) = v.get("targets").and_then(|t| t.as_array()) {
        for t in ts {
            if let (Some(n), Some(e)) = (t.get("target").and_then(|x| x.as_str()), t.get("execs_per_sec").and_then(|x| x.as_f64())) {
                out.push((n.to_string(), e));
            }
        }
    }
    out
}

fn write_report(
    py: &str,
    rows: &[Row],
    memcpy: Memcpy,
    checks: (f64, f64),
    fuzz: &[(String, f64)],
    adapters: Option<(Vec<adapters::AdapterRow>, Option<serde_json::Value>)>,
) {
    let mut md = String::new();
    let machine = format!(
        "{} cores, {}; CPython {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
            .unwrap_or_default(),
        py.split_whitespace().next().unwrap_or("")
    );
    let _ = writeln!(
        md,
        "Machine: {machine}. memcpy of 64 MiB: {:.0} MB/s into a fresh buffer (allocation + page faults + copy), {:.0} MB/s warm.\n",
        memcpy.fresh, memcpy.warm
    );
    let opt = |x: Option<f64>, s: usize| x.map_or("n/a".to_string(), |t| format!("{:.0}", mbps(s, t)));
    let ratio = |a: f64, b: Option<f64>| b.map_or("n/a".to_string(), |b| format!("{:.1}x", b / a));
    let _ = writeln!(md, "Decode (MB/s of pickle; ratios are speed-ups; brine shared = `decode_shared`, long strs and bytes borrowed from the input):\n");
    let _ = writeln!(md, "| workload | proto | MB | brine | brine shared | CPython | serde-pickle | brine/CPython | shared/CPython | brine/serde | 2x size time ratio | peak mem / (pickle+value) | shared peak / (pickle+value) | CPython peak MB |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut js = vec![];
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {} | {:.1}x | {:.1}x | {} | {:.2} | {:.2} | {:.2} | {:.0} |",
            r.name,
            r.proto,
            r.size as f64 / 1e6,
            mbps(r.size, r.brine_dec),
            mbps(r.size, r.shared_dec),
            mbps(r.size, r.cpy_dec),
            opt(r.serde_dec, r.size),
            r.cpy_dec / r.brine_dec,
            r.cpy_dec / r.shared_dec,
            ratio(r.brine_dec, r.serde_dec),
            r.brine_dec / r.brine_half,
            r.brine_peak as f64 / (r.size + r.brine_retained) as f64,
            r.shared_peak as f64 / (r.size + r.shared_retained) as f64,
            r.cpy_peak as f64 / 1e6,
        );
        js.push(json!({"workload": r.name, "protocol": r.proto, "bytes": r.size,
            "decode_s": {"brine": r.brine_dec, "brine_shared": r.shared_dec, "cpython": r.cpy_dec, "serde_pickle": r.serde_dec},
            "encode_s": {"brine": r.brine_enc, "brine_parts": r.parts_enc, "cpython": r.cpy_enc, "serde_pickle": r.serde_enc},
            "brine_half_size_decode_s": r.brine_half,
            "brine_peak_bytes": r.brine_peak, "brine_retained_bytes": r.brine_retained,
            "brine_shared_peak_bytes": r.shared_peak, "brine_shared_retained_bytes": r.shared_retained,
            "cpython_peak_bytes": r.cpy_peak,
            "regimes_s": r.regimes.as_ref().map(|g| json!({
                "cpython_first_call": g.cpython_first, "brine_first_call": g.brine_first, "brine_shared_first_call": g.shared_first,
                "brine_decode_process": g.brine_process, "python_load_process": g.python_process,
                "empty_brine_process": g.empty_process, "touched_bytes": g.touched, "touch_touched_bytes": g.floor,
            }))}));
    }
    if rows.iter().any(|r| r.regimes.is_some()) {
        let _ = writeln!(md, "\nDecode regimes (ms; ratios are CPython's time over brine's). Best of: CPython's `pickle.loads` and brine's `decode` looped in one process, warm memory (the table above). First call: the first decode in a fresh process, file already read (brine shared = `decode_shared`). Process: `brine decode --quiet FILE` from spawn to exit (mapped, `decode_shared`), against CPython's best-of `pickle.loads` in a running interpreter, and a whole `python3.11` process loading the file. Floor: a fresh `brine decode` of a 5-byte pickle plus allocating and touching as many bytes as the first shared decode touched (value MB, resident set growth): no decoder keeping that representation does a whole process faster, so its ratio is the most the process ratio can reach.\n");
        let _ = writeln!(md, "| workload | proto | CPython best-of | brine best-of | ratio | CPython first call | brine first call | shared first call | ratio (shared) | brine process | ratio vs CPython best-of | python3.11 process | value MB | floor | floor ratio |");
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in rows {
            let Some(g) = &r.regimes else { continue };
            let ms = |s: f64| s * 1e3;
            let floor = g.empty_process + g.floor;
            let _ = writeln!(
                md,
                "| {} | {} | {:.2} | {:.2} | {:.1}x | {:.2} | {:.2} | {:.2} | {:.1}x | {:.2} | {:.1}x | {:.1} | {:.1} | {:.2} | {:.1}x |",
                r.name,
                r.proto,
                ms(r.cpy_dec),
                ms(r.brine_dec),
                r.cpy_dec / r.brine_dec,
                ms(g.cpython_first),
                ms(g.brine_first),
                ms(g.shared_first),
                g.cpython_first / g.shared_first,
                ms(g.brine_process),
                r.cpy_dec / g.brine_process,
                ms(g.python_process),
                g.touched as f64 / 1e6,
                ms(floor),
                r.cpy_dec / floor,
            );
        }
        if let Some(g) = rows.iter().find_map(|r| r.regimes.as_ref()) {
            let _ = writeln!(md, "\nAn empty `brine decode --quiet` process (5-byte pickle) takes {:.2} ms on this machine.", g.empty_process * 1e3);
        }
    }
    let _ = writeln!(md, "\nEncode (MB/s of pickle; brine parts = `encode_parts`, payloads of 64 KiB or more spliced in by reference, of the value `decode_shared` made):\n");
    let _ = writeln!(md, "| workload | proto | brine | brine parts | CPython | serde-pickle | brine/CPython | parts/CPython | brine/serde |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {:.0} | {:.0} | {} | {:.1}x | {:.1}x | {} |",
            r.name,
            r.proto,
            mbps(r.size, r.brine_enc),
            mbps(r.size, r.parts_enc),
            mbps(r.size, r.cpy_enc),
            opt(r.serde_enc, r.size),
            r.cpy_enc / r.brine_enc,
            r.cpy_enc / r.parts_enc,
            ratio(r.brine_enc, r.serde_enc),
        );
    }
    let vs = |proto: u8, bw: f64, shared: bool| {
        rows.iter()
            .find(|r| r.name == "bytes_64m" && r.proto == proto)
            .map_or(0.0, |r| bw / mbps(r.size, if shared { r.shared_dec } else { r.brine_dec }))
    };
    let _ = writeln!(
        md,
        "\nbytes_64m decode time vs memcpy of the pickle into a fresh buffer (the floor for an owned copy): p2 {:.2}x, p5 {:.2}x; vs warm memcpy: p2 {:.2}x, p5 {:.2}x. Shared (no copy): p2 {:.2}x, p5 {:.3}x of fresh memcpy.",
        vs(2, memcpy.fresh, false),
        vs(5, memcpy.fresh, false),
        vs(2, memcpy.warm, false),
        vs(5, memcpy.warm, false),
        vs(2, memcpy.fresh, true),
        vs(5, memcpy.fresh, true),
    );
    let _ = writeln!(md, "\nOracle differential checks/s (5,000 small generated pickles, one core for CPython): codec vs C {:.0}/s; codec vs C vs Python {:.0}/s.", checks.0, checks.1);
    if fuzz.is_empty() {
        let _ = writeln!(md, "\nFuzz targets: no campaign report yet (run `cargo xtask fuzz --all`).");
    } else {
        let _ = writeln!(md, "\nFuzz targets (last `cargo xtask fuzz` campaign): {}", fuzz.iter().map(|(n, e)| format!("{n} {e:.0} execs/s")).collect::<Vec<_>>().join(", "));
    }
    let adapters_json = adapters.map(|(rows, last)| {
        let (text, j) = adapters::report(&rows, &last);
        md.push_str(&text);
        j
    });
    println!("{md}");
    let out = root().join("target/bench");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), &md).unwrap();
    let j = json!({"machine": machine, "memcpy_mbps": {"fresh": memcpy.fresh, "warm": memcpy.warm}, "rows": js,
        "oracle_checks_per_s": {"codec_vs_c": checks.0, "codec_vs_c_vs_python": checks.1},
        "fuzz_execs_per_s": fuzz.iter().map(|(n, e)| json!({"target": n, "execs_per_s": e})).collect::<Vec<_>>(),
        "adapters": adapters_json});
    std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&j).unwrap()).unwrap();
    eprintln!("wrote target/bench/report.md and report.json");
}
