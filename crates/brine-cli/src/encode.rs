//! `brine encode`: pickle JSON documents to pickles, as `pickle.dumps(obj, protocol)` writes.
//!
//! ```text
//! brine encode [--protocol N]            JSON lines on stdin: {"value": NODE, "protocol": N}
//!                                        -> one line each: {"pickle": HEX} or {"error": MSG}
//! brine encode --protocol N FILE.json    the raw pickle of the document in FILE on stdout
//! brine encode --python 3.15 ...         as that CPython's pickle.dumps writes (default 3.11)
//! ```
//! In the line mode `--protocol` is the default for lines without one. A document that
//! cannot be encoded is an error line, not a failed command.

use brine_codec::{encode_document_with, EncodeOptions};
use brine_harness::args::{self, Arg};
use brine_codec::hex;
use brine_codec::json::parse_deep;
use serde_json::{json, Value as J};
use std::io::{BufRead, Write};
use std::process::ExitCode;

pub(crate) fn run(a: &[String]) -> Result<ExitCode, String> {
    let mut protocol: Option<u8> = None;
    let mut opts = EncodeOptions::default();
    let mut file: Option<String> = None;
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        match arg {
            Arg::Long("protocol") | Arg::Short('p') => protocol = Some(args::parse(&mut p, "--protocol", "--protocol needs a number")?),
            Arg::Long("python") => opts.python = crate::parse_python(&mut p)?,
            Arg::Value(v) if file.is_none() => file = Some(args::operand(v)?),
            Arg::Value(_) => return Err("encode takes one FILE".into()),
            other => return Err(format!("unknown flag {}", args::shown(&other))),
        }
    }
    match &file {
        Some(path) => encode_file(path, protocol.ok_or("encode FILE needs --protocol N")?, &opts),
        None => encode_lines(protocol, &opts),
    }
}

fn encode_file(path: &str, protocol: u8, opts: &EncodeOptions) -> Result<ExitCode, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let doc = parse_deep(&text).map_err(|e| format!("{path}: {e}"))?;
    // A bare node, or a line-mode object {"value": NODE, ...}.
    let node = match doc.get("value") {
        Some(v) if doc.get("t").is_none() => v,
        _ => &doc,
    };
    match encode_document_with(node, protocol, opts) {
        Ok(bytes) => {
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes).and_then(|()| out.flush()).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("brine: {path}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn encode_lines(default_protocol: Option<u8>, opts: &EncodeOptions) -> Result<ExitCode, String> {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match encode_line(&line, default_protocol, opts) {
            Ok(bytes) => json!({"pickle": hex::encode(&bytes)}),
            Err(msg) => json!({"error": msg}),
        };
        writeln!(out, "{reply}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn encode_line(line: &str, default_protocol: Option<u8>, opts: &EncodeOptions) -> Result<Vec<u8>, String> {
    let req = parse_deep(line).map_err(|e| format!("bad JSON: {e}"))?;
    let node = req.get("value").ok_or("a line needs \"value\"")?;
    let protocol = match req.get("protocol") {
        Some(J::Number(n)) => n.as_u64().filter(|&p| p <= 255).ok_or("\"protocol\" must be a small integer")? as u8,
        Some(_) => return Err("\"protocol\" must be a small integer".into()),
        None => default_protocol.ok_or("a line needs \"protocol\" (or pass --protocol N)")?,
    };
    encode_document_with(node, protocol, opts).map_err(|e| e.to_string())
}
