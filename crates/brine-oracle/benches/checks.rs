//! Differential checks per second on small pickles, and where the time goes.
//!
//! ~5,000 small varied pickles are made inside the embedded interpreter (`pickle.dumps` of
//! seeded random builtin values at protocols 0-5), then checked codec vs CPython C, and
//! codec vs C vs Python. The breakdown times each stage on its own over the same inputs:
//! the codec (decode + JSON), the guard, one CPython C load as the oracle calls it (a trip
//! to the interpreter thread, the sandboxed load, its JSON), the same loads timed inside
//! Python (so the trip and JSON parse are the difference), and the document comparison.
//!
//! `cargo bench -p brine-oracle` (std::time only; BRINE_BENCH_N=... to change the count).

use brine_oracle::cpython::interpreter;
use brine_oracle::{guard, Codec, Differential, Engine, Outcome};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use std::time::{Duration, Instant};

const GEN: &std::ffi::CStr = cr#"
import pickle, random
def make(n, seed=20240611):
    rnd = random.Random(seed)
    def atom():
        k = rnd.randrange(9)
        if k == 0: return None
        if k == 1: return rnd.random() < 0.5
        if k == 2: return rnd.randrange(-300, 300)
        if k == 3: return rnd.randrange(-2**70, 2**70)
        if k == 4: return rnd.choice([0.0, -0.0, 1.5, 1e300, float('inf'), rnd.random()])
        if k == 5: return ''.join(rnd.choice('ab\u00e9\u20ac\U0001f600 \n') for _ in range(rnd.randrange(8)))
        if k == 6: return bytes(rnd.randrange(256) for _ in range(rnd.randrange(8)))
        if k == 7: return rnd.randrange(2**31)
        return rnd.choice(['key', 'name', 'id', 'value'])
    def value(depth):
        if depth > 2 or rnd.random() < 0.4:
            return atom()
        k = rnd.randrange(7)
        n = rnd.randrange(5)
        if k == 0: return [value(depth + 1) for _ in range(n)]
        if k == 1: return tuple(value(depth + 1) for _ in range(n))
        if k == 2: return {atom() if rnd.random() < 0.5 else rnd.choice(['a', 'b', 'c']): value(depth + 1) for _ in range(n)}
        if k == 3: return {rnd.randrange(50) for _ in range(n)}
        if k == 4: return frozenset(rnd.choice(['x', 'y', 1, 2.5]) for _ in range(n))
        if k == 5: return bytearray(rnd.randrange(256) for _ in range(n))
        shared = [value(depth + 1)]
        return [shared, shared, (shared,)]
    out = []
    for i in range(n):
        v = value(0)
        out.append(pickle.dumps(v, i % 6))
    return out
"#;

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

/// CPU time of all the process's threads (Linux schedstat, ns resolution), if readable.
fn cpu_time() -> Option<Duration> {
    let mut ns = 0u64;
    for t in std::fs::read_dir("/proc/self/task").ok()? {
        let s = std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok()?;
        ns += s.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

fn time<F: FnMut(&[u8])>(inputs: &[Vec<u8>], mut f: F) -> Duration {
    let t = Instant::now();
    for p in inputs {
        f(p);
    }
    t.elapsed()
}

fn main() {
    brine_codec::with_big_stack(run);
}

fn run() {
    let Some(interp) = interpreter() else {
        println!("checks: no CPython interpreter; nothing to measure");
        return;
    };
    let n: usize = std::env::var("BRINE_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(5000);
    let inputs: Vec<Vec<u8>> = interp.run(move |py, _| {
        let m = PyModule::from_code(py, GEN, c"bench_gen.py", c"bench_gen").unwrap();
        let l = m.getattr("make").unwrap().call1((n,)).unwrap();
        let l = l.cast::<PyList>().unwrap();
        l.iter().map(|b| b.cast::<PyBytes>().unwrap().as_bytes().to_vec()).collect()
    });
    let bytes: usize = inputs.iter().map(Vec::len).sum();
    println!("checks: {} pickles, {} bytes total, mean {:.0} bytes; {}", inputs.len(), bytes, bytes as f64 / n as f64, interp.info().version.lines().next().unwrap_or(""));

    let diff = Differential::new();
    let diff3 = Differential::new().with_python();
    // Warm up (imports, caches) and check the inputs agree.
    let mut disagree = 0;
    for p in &inputs {
        let c = diff3.check(p, None);
        disagree += c.codec_disagrees() as usize;
    }

    let t2 = time(&inputs, |p| {
        diff.check(p, None);
    });
    let t3 = time(&inputs, |p| {
        diff3.check(p, None);
    });
    let batched = |d: &Differential| {
        let (t, cpu) = (Instant::now(), cpu_time());
        for chunk in inputs.chunks(256) {
            let b: Vec<(&[u8], Option<usize>)> = chunk.iter().map(|p| (p.as_slice(), None)).collect();
            std::hint::black_box(d.check_batch(&b));
        }
        (t.elapsed(), cpu.zip(cpu_time()).map(|(a, b)| b - a))
    };
    let (b2, b3) = (batched(&diff), batched(&diff3));
    let line = |what: &str, d: Duration, cpu: Option<Duration>| {
        print!("  {what:<36} {:>8.0} checks/s ({:.1} us/check)", per_sec(n, d), d.as_secs_f64() * 1e6 / n as f64);
        match cpu {
            Some(c) => println!(", {:.0} checks per CPU-second", per_sec(n, c)),
            None => println!(),
        }
    };
    line("codec vs C, check():", t2, None);
    line("codec vs C, check_batch(256):", b2.0, b2.1);
    line("codec vs C vs Py, check():", t3, None);
    line("codec vs C vs Py, check_batch(256):", b3.0, b3.1);
    println!("  (codec/C disagreements among the inputs: {disagree})");

    // Breakdown.
    let codec = Codec::new();
    let c = diff.c.as_ref().unwrap();
    let py = diff3.py.as_ref().unwrap();
    let t_codec = time(&inputs, |p| {
        std::hint::black_box(codec.decode(p, None));
    });
    let raws: Vec<_> = inputs.iter().map(|p| codec.decode_raw(p, None)).collect();
    let t0 = Instant::now();
    for (p, raw) in inputs.iter().zip(&raws) {
        std::hint::black_box(guard::screen(&codec, p, None, raw));
    }
    let t_guard = t0.elapsed();
    drop(raws);
    let t_c = time(&inputs, |p| {
        std::hint::black_box(c.decode_unguarded(p, None));
    });
    let t_py = time(&inputs, |p| {
        std::hint::black_box(py.decode_unguarded(p, None));
    });
    let t_trip = time(&inputs, |_| {
        interp.run(|_, _| ());
    });
    let ins = inputs.clone();
    let (t_in_py, t_in_py_raw, t_in_py_json) = interp.run(move |py, sb| {
        let m = sb.module.bind(py);
        let loads_c = m.getattr("loads_c").unwrap();
        let dumps = m.getattr("dumps_json").unwrap();
        let objs: Vec<_> = ins.iter().map(|p| PyBytes::new(py, p)).collect();
        let t = Instant::now();
        for o in &objs {
            let node = loads_c.call1((o, 0, 20.0)).unwrap();
            dumps.call1((node,)).unwrap();
        }
        let all = t.elapsed();
        let pk = py.import("pickle").unwrap();
        let raw = pk.getattr("loads").unwrap();
        let t = Instant::now();
        for o in &objs {
            let _ = raw.call1((o,));
        }
        let rawt = t.elapsed();
        let nodes: Vec<_> = objs.iter().map(|o| loads_c.call1((o, 0, 20.0)).unwrap()).collect();
        let t = Instant::now();
        for nd in &nodes {
            dumps.call1((nd,)).unwrap();
        }
        (all, rawt, t.elapsed())
    });
    let outs: Vec<Outcome> = inputs.iter().map(|p| codec.decode(p, None)).collect();
    let refs: Vec<Outcome> = inputs.iter().map(|p| c.decode_unguarded(p, None)).collect();
    let t0 = Instant::now();
    for (a, b) in outs.iter().zip(&refs) {
        std::hint::black_box(brine_oracle::verdict::compare("codec", a, "cpython-c", b));
    }
    let t_cmp = t0.elapsed();
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!("  where the time goes (us per pickle):");
    println!("    codec decode + JSON write/parse   {:>7.2}", us(t_codec));
    println!("    guard (prescan, key costs)        {:>7.2}", us(t_guard));
    println!("    CPython C load as the oracle does {:>7.2}", us(t_c));
    println!("      of which: inside Python (sandboxed load + to_json + dumps_json) {:.2}", us(t_in_py));
    println!("                plain pickle.loads, no sandbox {:.2}; dumps_json alone {:.2}", us(t_in_py_raw), us(t_in_py_json));
    println!("                empty trip to the interpreter thread {:.2}", us(t_trip));
    println!("    CPython Python load               {:>7.2}", us(t_py));
    println!("    verdict (document comparison)     {:>7.2}", us(t_cmp));
}
