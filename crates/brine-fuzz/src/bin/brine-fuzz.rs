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

use brine_codec::hex;
use brine_fuzz::{target, Input, Kind, Target, TARGETS};
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

/// The flags of `seed` and `classify`, and classify's FILEs.
#[derive(Default)]
struct Flags {
    target: Option<&'static Target>,
    out: Option<PathBuf>,
    count: Option<String>,
    corpus: Option<PathBuf>,
    case_only: bool,
    files: Vec<String>,
}

fn flags(args: &[String]) -> Result<Flags, String> {
    use lexopt::Arg::{Long, Value};
    let text = |v: std::ffi::OsString| v.into_string().map_err(|v| format!("not UTF-8: {v:?}"));
    let mut f = Flags::default();
    let mut p = lexopt::Parser::from_args(args);
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("target") => {
                let name = text(p.value().map_err(|e| e.to_string())?)?;
                f.target = Some(target(&name).ok_or(format!("no target {name:?} (see `brine-fuzz list`)"))?);
            }
            Long("out") => f.out = Some(p.value().map_err(|e| e.to_string())?.into()),
            Long("count") => f.count = Some(text(p.value().map_err(|e| e.to_string())?)?),
            Long("corpus") => f.corpus = Some(p.value().map_err(|e| e.to_string())?.into()),
            Long("case-only") => f.case_only = true,
            Value(v) => f.files.push(text(v)?),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(f)
}

fn seed(args: &[String]) -> Result<(), String> {
    let f = flags(args)?;
    let t = f.target.ok_or("seed: --target NAME (see `brine-fuzz list`)")?;
    let out = f.out.ok_or("seed: --out DIR")?;
    if let Some(file) = f.files.first() {
        return Err(format!("seed takes no FILE ({file:?})"));
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut n = 0;
    match t.input {
        Input::Pickle => {
            let dir = f.corpus.unwrap_or_else(brine_fuzz::seeds::corpus_dir);
            for p in brine_fuzz::seeds::pickles(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
                std::fs::copy(&p, out.join(p.file_name().unwrap())).map_err(|e| e.to_string())?;
                n += 1;
            }
        }
        Input::Smith => {
            let count = f.count.as_deref().map_or(Ok(256), str::parse).map_err(|e| format!("--count: {e}"))?;
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
    let f = flags(args)?;
    let t = f.target.ok_or("classify: --target NAME")?;
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
    let out = f.out.ok_or("classify: --out DIR")?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for file in &f.files {
        let file = file.as_str();
        let data = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
        let v = if f.case_only {
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
            let bytes = hex::decode(h).map_err(|e| format!("{file}: the case's pickle_hex is not hex: {e}"))?;
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
        "input_hex": if data.len() <= 4096 { hex::encode(data) } else { String::new() },
        "case": case.map(|c| c.to_json()),
    })
}
