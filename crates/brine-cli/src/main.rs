//! `brine`: the reference codec on the command line.
//!
//! ```text
//! brine dis FILE                 listing in the manner of `python3 -m pickletools FILE`
//! brine dis --json FILE...       one line per file: {"file": PATH, "ops": [...]}
//! brine decode FILE...           one line per file: {"file": PATH, "result": NODE}
//! brine decode --quiet FILE...   decode fully, print a one-line summary per file
//! brine decode --python 3.14 FILE...   as that CPython's C unpickler (default 3.11)
//! brine globals [--buffers N] [--extensions JSON] FILE...
//!                                one line per file: {"file": PATH, "globals": [[module, name]...]}
//!                                (the find_class calls CPython would make; see globals.rs)
//! brine encode [--protocol N] [--python X.Y]   JSON lines {"value","protocol"} -> {"pickle": HEX} lines
//! brine encode --protocol N FILE.json   the raw pickle on stdout
//! brine compare [--buffers N] [--python X.Y] FILE...   codec vs CPython C and Python (see compare.rs)
//! brine conformance [...]        the whole suite and coverage (cargo xtask conformance)
//! ```
//! A rejected pickle is an error node, not a failed command; the exit status is non-zero
//! only when a file cannot be read or the arguments are wrong.

mod compare;
mod conformance;
mod encode;
mod globals;
mod input;

use brine_codec::json::write::write_json_str;
use brine_codec::{decode_shared, DecodeOptions, Python};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage:
  brine dis [--json] FILE...
  brine decode [--quiet] [--buffers N] [--python X.Y] FILE...
  brine globals [--buffers N] [--extensions '[[module,name,code],...]'] [--python X.Y] FILE...
  brine encode [--protocol N] [--python X.Y] [FILE.json]
  brine compare [--buffers N] [--python X.Y] FILE...
  brine conformance [--seed N] [--count N] [--time SECS] [--no-generated] [--python X.Y]
  brine check-impl --decoder CMD [--encoder CMD] [--timeout S] [--jobs N] [--json OUT]
  brine matrix [--only NAME,...] [--jobs N] [--render-only]
  brine campaign --impl NAME [--time 10m] [--seed N] [--cases N]
  brine findings
  brine versions [--reuse] [--only X.Y,...] [--generated N] [--check-only]
  brine adapter decode|encode [--python X.Y]
--python X.Y: the CPython version the codec reproduces (3.9, 3.11, 3.13, 3.14, 3.15; default 3.11)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Decoding never recurses deeply, but printing huge results is easier on a big stack.
    brine_codec::with_big_stack(move || match run(args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("brine: {msg}\n{USAGE}");
            ExitCode::from(2)
        }
    })
}

struct Flags {
    json: bool,
    quiet: bool,
    buffers: Option<usize>,
    python: Python,
    files: Vec<String>,
}

/// The value of `--python X.Y`: a supported CPython version.
pub(crate) fn parse_python(v: Option<&String>) -> Result<Python, String> {
    let v = v.ok_or("--python needs a version (3.9, 3.11, 3.13, 3.14, 3.15)")?;
    v.parse().map_err(|e: brine_codec::ParsePythonError| e.to_string())
}

fn parse_flags(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags { json: false, quiet: false, buffers: None, python: Python::default(), files: vec![] };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => f.json = true,
            "--quiet" | "-q" => f.quiet = true,
            "--buffers" => {
                let n = it.next().ok_or("--buffers needs a number")?;
                f.buffers = Some(n.parse().map_err(|_| format!("bad --buffers value {n:?}"))?);
            }
            "--python" => f.python = parse_python(it.next())?,
            s if s.starts_with("--") => return Err(format!("unknown flag {s}")),
            _ => f.files.push(a.clone()),
        }
    }
    if f.files.is_empty() {
        return Err("no FILE given".into());
    }
    Ok(f)
}

fn run(args: Vec<String>) -> Result<ExitCode, String> {
    let Some((cmd, rest)) = args.split_first() else {
        return Err("no command given".into());
    };
    if cmd == "encode" {
        return encode::run(rest);
    }
    if cmd == "compare" {
        return compare::run(rest);
    }
    if cmd == "globals" {
        return globals::run(rest);
    }
    match cmd.as_str() {
        "check-impl" => return brine_harness::impls::cli::check_impl(rest),
        "matrix" => return brine_harness::impls::cli::matrix(rest),
        "adapter" => return brine_harness::impls::cli::adapter(rest),
        "campaign" => return brine_harness::impls::cli::campaign(rest),
        "findings" => return brine_harness::impls::cli::findings(rest),
        "versions" => return brine_harness::versions::cli(rest),
        _ => {}
    }
    if cmd == "conformance" {
        return conformance::run(rest);
    }
    let flags = parse_flags(rest)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut status = ExitCode::SUCCESS;
    let last = flags.files.len().saturating_sub(1);
    for (i, path) in flags.files.iter().enumerate() {
        let source = match input::load(path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("brine: {path}: {e}");
                status = ExitCode::from(1);
                continue;
            }
        };
        let data = source.as_bytes();
        let mut line = String::new();
        match cmd.as_str() {
            "dis" => {
                let d = brine_codec::dis::genops(data);
                if flags.json {
                    line.push_str(r#"{"file":"#);
                    write_json_str(&mut line, path);
                    line.push_str(r#","ops":"#);
                    line.push_str(&d.to_json());
                    line.push_str("}\n");
                } else {
                    line = d.to_text();
                }
            }
            "decode" => {
                let opts = DecodeOptions { buffers: flags.buffers, python: flags.python, ..Default::default() };
                let t = std::time::Instant::now();
                let r = decode_shared(&source, &opts);
                let dt = t.elapsed();
                if flags.quiet {
                    match &r {
                        Ok(d) => {
                            line = format!(
                                "{path}: ok, {} objects from {} bytes in {:.3} ms ({:.1} MB/s)\n",
                                d.heap.objs.len(),
                                data.len(),
                                dt.as_secs_f64() * 1e3,
                                data.len() as f64 / dt.as_secs_f64().max(1e-9) / 1e6
                            )
                        }
                        Err(e) => line = format!("{path}: {e}\n"),
                    }
                } else {
                    line.push_str(r#"{"file":"#);
                    write_json_str(&mut line, path);
                    line.push_str(r#","result":"#);
                    line.push_str(&brine_codec::json::result_to_json(&r));
                    line.push_str("}\n");
                }
                // The process is about to exit: freeing the last file's values one by one
                // would only cost time (a large share of a one-shot decode's).
                if i == last {
                    std::mem::forget(r);
                }
            }
            other => return Err(format!("unknown command {other:?}")),
        }
        out.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(status)
}
