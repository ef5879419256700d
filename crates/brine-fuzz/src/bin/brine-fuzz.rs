//! `brine-fuzz`: the helpers `cargo xtask fuzz` and `cargo xtask triage` shell out to.
//!
//! ```text
//! brine-fuzz list                                   targets: name, input, needs-cpython
//! brine-fuzz seed --target T --out DIR [--count N]  writes T's seed corpus into DIR
//! brine-fuzz classify --target T --out DIR [--case-only] FILE...
//! brine-fuzz dict                                   the libFuzzer dictionary, on stdout
//! ```
//!
//! `classify` writes, for each input FILE, `DIR/<file name>.json` (the finding, panics
//! caught, and the case the input stands for) and `DIR/<file name>.pkl` (that case's pickle,
//! when it has one), and prints one tab-separated line for the caller:
//! `file, reproduced (0/1), kind, key, buffers, pickle path or -`. With `--case-only` the
//! checks are not run (for timeout and out-of-memory artifacts, which would hang or blow up
//! again): only the case is written.

use brine_fuzz::{finding::hex, target, Input, Kind, TARGETS};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Mutex, OnceLock};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("list") => {
            for t in TARGETS {
                println!("{} {} {}", t.name, if t.input == Input::Pickle { "pickle" } else { "smith" }, t.needs_cpython);
            }
            Ok(())
        }
        Some("seed") => seed(&args[1..]),
        Some("classify") => classify(&args[1..]),
        Some("dict") => {
            print!("{}", brine_fuzz::dict::dictionary());
            Ok(())
        }
        _ => Err("usage: brine-fuzz list | seed --target T --out DIR [--count N] | classify --target T --out DIR [--case-only] FILE... | dict".into()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("brine-fuzz: {e}");
            ExitCode::FAILURE
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn positional(args: &[String]) -> Vec<&str> {
    let mut out = vec![];
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--case-only" {
            i += 1;
        } else if args[i].starts_with("--") {
            i += 2;
        } else {
            out.push(args[i].as_str());
            i += 1;
        }
    }
    out
}

fn seed(args: &[String]) -> Result<(), String> {
    let t = flag(args, "--target").and_then(target).ok_or("seed: --target NAME (see `brine-fuzz list`)")?;
    let out = PathBuf::from(flag(args, "--out").ok_or("seed: --out DIR")?);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut n = 0;
    match t.input {
        Input::Pickle => {
            let dir = flag(args, "--corpus").map(PathBuf::from).unwrap_or_else(brine_fuzz::seeds::corpus_dir);
            for p in brine_fuzz::seeds::pickles(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
                std::fs::copy(&p, out.join(p.file_name().unwrap())).map_err(|e| e.to_string())?;
                n += 1;
            }
        }
        Input::Smith => {
            let count = flag(args, "--count").map_or(Ok(256), str::parse).map_err(|e| format!("--count: {e}"))?;
            for (i, s) in brine_fuzz::seeds::smith_seeds(t.name, count).into_iter().enumerate() {
                std::fs::write(out.join(format!("seed-{i:04}")), s).map_err(|e| e.to_string())?;
                n += 1;
            }
        }
    }
    println!("{}: {n} seeds in {}", t.name, out.display());
    Ok(())
}

/// The last panic's message and location, recorded by the hook instead of printed.
static PANIC: OnceLock<Mutex<Option<(String, String)>>> = OnceLock::new();

fn classify(args: &[String]) -> Result<(), String> {
    let t = flag(args, "--target").and_then(target).ok_or("classify: --target NAME")?;
    PANIC.get_or_init(|| Mutex::new(None));
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let loc = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        *PANIC.get().unwrap().lock().unwrap() = Some((msg, loc));
    }));
    let out = PathBuf::from(flag(args, "--out").ok_or("classify: --out DIR")?);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let case_only = args.iter().any(|a| a == "--case-only");
    for file in positional(args) {
        let data = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        let v = if case_only {
            let case = std::panic::catch_unwind(|| (t.case)(&data)).ok().flatten();
            json!({"file": file, "target": t.name, "reproduced": false, "case": case.map(|c| c.to_json())})
        } else {
            classify_one(t, Path::new(file), &data)
        };
        let base = Path::new(file).file_name().unwrap().to_string_lossy().to_string();
        let json_path = out.join(format!("{base}.json"));
        std::fs::write(&json_path, serde_json::to_string_pretty(&v).unwrap()).map_err(|e| e.to_string())?;
        let mut pkl = "-".to_string();
        let mut buffers = 0;
        if let Some(h) = v.pointer("/case/pickle_hex").and_then(|h| h.as_str()) {
            let bytes: Vec<u8> = (0..h.len() / 2).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect();
            let p = out.join(format!("{base}.pkl"));
            std::fs::write(&p, bytes).map_err(|e| e.to_string())?;
            pkl = p.display().to_string();
            buffers = v.pointer("/case/buffers").and_then(|b| b.as_u64()).unwrap_or(0);
        }
        let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("-").replace(['\t', '\n'], " ");
        let reproduced = v.get("reproduced").and_then(|x| x.as_bool()).unwrap_or(false);
        println!("{file}\t{}\t{}\t{}\t{buffers}\t{pkl}", reproduced as u8, field("kind"), field("key"));
    }
    Ok(())
}

fn classify_one(t: &brine_fuzz::Target, file: &Path, data: &[u8]) -> serde_json::Value {
    let case = std::panic::catch_unwind(|| (t.case)(data)).ok().flatten();
    // The differential target's own classification covers C-vs-Python and poisons too.
    let observed = if t.name == "differential" {
        std::panic::catch_unwind(|| brine_fuzz::differential::observe(data).and_then(|(_, c)| brine_fuzz::differential::finding_of(&c)))
            .ok()
            .flatten()
    } else {
        None
    };
    let result = std::panic::catch_unwind(|| (t.check)(data));
    let (kind, what, at, detail) = match result {
        Ok(Err(f)) => (f.kind, f.what.clone(), f.at.clone(), f.detail.clone()),
        Ok(Ok(())) => match observed {
            Some(f) => (f.kind, f.what.clone(), f.at.clone(), f.detail.clone()),
            None => {
                return json!({"file": file, "target": t.name, "reproduced": false, "case": case.map(|c| c.to_json())});
            }
        },
        Err(_) => {
            let (msg, loc) = PANIC.get().unwrap().lock().unwrap().take().unwrap_or_default();
            (Kind::Panic, "panic".to_string(), loc, msg)
        }
    };
    let f = brine_fuzz::Finding { target: t.name, kind, what, at, detail };
    json!({
        "file": file,
        "target": t.name,
        "reproduced": true,
        "kind": f.kind.name(),
        "what": f.what,
        "at": f.at,
        "key": f.key(),
        "detail": f.detail,
        "input_hex": if data.len() <= 4096 { hex(data) } else { String::new() },
        "case": case.map(|c| c.to_json()),
    })
}
