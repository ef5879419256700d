//! The regimes a decode is timed in, beyond the best-of loop in `main.rs`.
//!
//! A best-of run inside one process measures the codec with warm memory: the allocator hands
//! back pages freed by the previous run. A user who runs `brine decode FILE`, and every
//! program that decodes one big pickle, pays for first-touching the memory its value needs.
//! On this project's machine (a VM) that costs about 0.4-0.7 ms per MB, more than decoding
//! those bytes does. So each workload is also timed:
//! - **first call**: the first decode in a fresh process (`brine-bench --first-call`), the
//!   file already read, for brine (owned and shared) and for CPython (`pickle.loads` once
//!   in a fresh `python3.11`);
//! - **whole process**: `brine decode --quiet FILE` from spawn to exit (the file mapped,
//!   decoded with `decode_shared`), against CPython's best-of `pickle.loads` in a running
//!   interpreter (the bar issue 18 sets) and against a whole `python3.11` process that
//!   loads the file;
//! - **memory floor**: a fresh process that only allocates and touches as many bytes as
//!   brine's first shared decode touched (its resident set growth): what no decoder keeping
//!   that representation can beat.
//!
//! Each figure is the best of several fresh processes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// How many fresh processes each figure is the best of.
const RUNS: usize = 9;

/// One workload's figures, in seconds.
pub struct Regimes {
    pub brine_first: f64,
    pub shared_first: f64,
    pub cpython_first: f64,
    pub brine_process: f64,
    pub python_process: f64,
    /// Memory the first shared decode touched (resident set growth), bytes.
    pub touched: usize,
    /// In a fresh process, allocating and touching `touched` bytes.
    pub floor: f64,
    /// `brine decode --quiet` of a 5-byte pickle: the process's own cost.
    pub empty_process: f64,
}

/// The child modes of brine-bench (`--first-call owned|shared FILE`, `--touch BYTES`): each
/// prints seconds on stdout. Returns false when the arguments are not a child mode.
pub fn child(args: &[String]) -> bool {
    match args {
        [mode, kind, file] if mode == "--first-call" => {
            let data = std::fs::read(file).unwrap();
            let rss = resident_bytes();
            let t = Instant::now();
            let decoded = if kind == "shared" {
                let source = brine_codec::Source::new(data);
                brine_codec::decode_shared(&source, &brine_codec::DecodeOptions::default())
            } else {
                brine_codec::decode(&data)
            };
            let secs = t.elapsed().as_secs_f64();
            let grown = resident_bytes().saturating_sub(rss);
            std::mem::forget(decoded.unwrap());
            println!("{secs} {grown}");
            true
        }
        [mode, bytes] if mode == "--touch" => {
            let n: usize = bytes.parse().unwrap();
            let t = Instant::now();
            // Written a word at a time, as a decoder fills its value: every page touched.
            let mut v: Vec<u64> = Vec::with_capacity(n / 8);
            for i in 0..n / 8 {
                v.push(i as u64);
            }
            std::hint::black_box(&v);
            println!("{}", t.elapsed().as_secs_f64());
            std::mem::forget(v);
            true
        }
        _ => false,
    }
}

/// Resident memory of this process (/proc/self/statm), in bytes: what has been touched.
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0) * 4096
}

/// The best of [`RUNS`] fresh processes by the first number each prints, with the rest of
/// that line.
fn best_printed(mut cmd: impl FnMut() -> Command) -> (f64, Vec<f64>) {
    (0..RUNS)
        .map(|_| {
            let out = cmd().stderr(Stdio::inherit()).output().expect("spawn a timing child");
            assert!(out.status.success(), "timing child failed");
            let nums: Vec<f64> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(|w| w.parse().expect("a number")).collect();
            (nums[0], nums[1..].to_vec())
        })
        .fold((f64::INFINITY, vec![]), |a, b| if b.0 < a.0 { b } else { a })
}

/// The best of [`RUNS`] wall times of a whole process, spawn to exit.
fn best_wall(mut cmd: impl FnMut() -> Command) -> f64 {
    (0..RUNS)
        .map(|_| {
            let mut c = cmd();
            c.stdout(Stdio::null()).stderr(Stdio::null());
            let t = Instant::now();
            let st = c.status().expect("spawn a timed process");
            let secs = t.elapsed().as_secs_f64();
            assert!(st.success(), "timed process failed: {c:?}");
            secs
        })
        .fold(f64::INFINITY, f64::min)
}

const PY_FIRST: &str = "import pickle, sys, time\nd = open(sys.argv[1], 'rb').read()\nt = time.perf_counter(); o = pickle.loads(d); print(time.perf_counter() - t)\n";
const PY_PROCESS: &str = "import pickle, sys\nwith open(sys.argv[1], 'rb') as f: pickle.load(f)\n";

/// Times `file` in every regime.
pub fn measure(brine: &Path, file: &Path, empty: &Path) -> Regimes {
    let me = std::env::current_exe().unwrap();
    let first = |kind: &'static str| {
        best_printed(|| {
            let mut c = Command::new(&me);
            c.args(["--first-call", kind]).arg(file);
            c
        })
    };
    let brine_first = first("owned").0;
    let (shared_first, rest) = first("shared");
    let touched = rest.first().copied().unwrap_or(0.0) as usize;
    let (cpython_first, _) = best_printed(|| {
        let mut c = Command::new("/usr/bin/python3.11");
        c.args(["-c", PY_FIRST]).arg(file);
        c
    });
    let decode = |f: &Path| {
        let f = f.to_path_buf();
        move || {
            let mut c = Command::new(brine);
            c.args(["decode", "--quiet"]).arg(&f);
            c
        }
    };
    let brine_process = best_wall(decode(file));
    let empty_process = best_wall(decode(empty));
    let python_process = best_wall(|| {
        let mut c = Command::new("/usr/bin/python3.11");
        c.args(["-c", PY_PROCESS]).arg(file);
        c
    });
    let (floor, _) = best_printed(|| {
        let mut c = Command::new(&me);
        c.args(["--touch", &touched.to_string()]);
        c
    });
    Regimes { brine_first, shared_first, cpython_first, brine_process, python_process, touched, floor, empty_process }
}
