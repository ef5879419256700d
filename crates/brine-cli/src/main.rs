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

use brine_codec::{decode_shared, DecodeOptions, Python};
use brine_harness::args::{self, Arg};
use serde_json::Value as J;
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
pub(crate) fn parse_python(p: &mut args::Parser) -> Result<Python, String> {
    let v = args::value(p, "--python needs a version (3.9, 3.11, 3.13, 3.14, 3.15)")?;
    v.parse().map_err(|e: brine_codec::ParsePythonError| e.to_string())
}

/// The value of `--buffers N`.
pub(crate) fn parse_buffers(p: &mut args::Parser) -> Result<usize, String> {
    args::parse(p, "--buffers", "--buffers needs a number")
}

fn parse_flags(a: &[String]) -> Result<Flags, String> {
    let mut f = Flags { json: false, quiet: false, buffers: None, python: Python::default(), files: vec![] };
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        match arg {
            Arg::Long("json") => f.json = true,
            Arg::Long("quiet") | Arg::Short('q') => f.quiet = true,
            Arg::Long("buffers") => f.buffers = Some(parse_buffers(&mut p)?),
            Arg::Long("python") => f.python = parse_python(&mut p)?,
            Arg::Value(v) => f.files.push(args::operand(v)?),
            other => return Err(format!("unknown flag {}", args::shown(&other))),
        }
    }
    if f.files.is_empty() {
        return Err("no FILE given".into());
    }
    Ok(f)
}

/// A line `{"file": PATH, KEY: JSON}` of `dis --json` or `decode`, around JSON the codec
/// wrote (a document or an opcode stream can be hundreds of MB: it is not parsed into a
/// `serde_json::Value` only to be written out again).
fn file_line(out: &mut impl Write, path: &str, key: &str, json: &str) -> std::io::Result<()> {
    writeln!(out, r#"{{"file":{},"{key}":{json}}}"#, J::from(path))
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
        let written = match cmd.as_str() {
            "dis" => {
                let d = brine_codec::dis::genops(data);
                if flags.json {
                    file_line(&mut out, path, "ops", &d.to_json())
                } else {
                    out.write_all(d.to_text().as_bytes())
                }
            }
            "decode" => {
                let opts = DecodeOptions { buffers: flags.buffers, python: flags.python, ..Default::default() };
                let t = std::time::Instant::now();
                let r = decode_shared(&source, &opts);
                let dt = t.elapsed();
                let written = match &r {
                    Ok(d) if flags.quiet => writeln!(
                        out,
                        "{path}: ok, {} objects from {} bytes in {:.3} ms ({:.1} MB/s)",
                        d.heap.objs.len(),
                        data.len(),
                        dt.as_secs_f64() * 1e3,
                        data.len() as f64 / dt.as_secs_f64().max(1e-9) / 1e6
                    ),
                    Err(e) if flags.quiet => writeln!(out, "{path}: {e}"),
                    _ => file_line(&mut out, path, "result", &brine_codec::json::result_to_json(&r)),
                };
                // The process is about to exit: freeing the last file's values one by one
                // would only cost time (a large share of a one-shot decode's).
                if i == last {
                    std::mem::forget(r);
                }
                written
            }
            other => return Err(format!("unknown command {other:?}")),
        };
        written.map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(status)
}
