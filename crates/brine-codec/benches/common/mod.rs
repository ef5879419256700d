//! What the decode and encode benches (and brine-bench, `cargo xtask bench`) share: the
//! workload pickles and the timing loop.
//! (A directory module, so that cargo does not take it for a bench of its own.)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// target/bench-data/SCALE: the CPython-written workload pickles of
/// scripts/bench_workloads.py at `scale` (1.0, or 0.5 for the linearity check), made on
/// first use.
pub fn data_dir(scale: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data").join(scale);
    if !root.join("bytes_64m.p5.pkl").exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench_workloads.py");
        let st = Command::new("/usr/bin/python3.11")
            .arg(&script)
            .arg(&root)
            .args(["--scale", scale])
            .status()
            .expect("run scripts/bench_workloads.py with /usr/bin/python3.11");
        assert!(st.success());
    }
    root
}

/// Best of several runs of `f` (the machine is shared and noisy), in seconds: at least 3,
/// and up to 50 within 3 s. The result is dropped after the clock stops.
pub fn best_secs<T>(mut f: impl FnMut() -> T) -> f64 {
    let mut best = Duration::MAX;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut runs = 0;
    while runs < 3 || (Instant::now() < deadline && runs < 50) {
        let t = Instant::now();
        let out = std::hint::black_box(f());
        best = best.min(t.elapsed());
        drop(out);
        runs += 1;
    }
    best.as_secs_f64()
}
