//! brine adapter for pytorch-reader 0.22.1, Burn's reader of PyTorch checkpoints
//! (conformance/README.md has the protocol).
//!
//! `decode`: the pickle is written to a temporary file (one per adapter process, rewritten
//! for every case and removed afterwards) and read with
//! `pytorch_reader::PytorchReader::read_pickle_data(path, None)`, the crate's API for the
//! non-tensor data of a checkpoint. It detects the container from the file's first bytes
//! (ZIP, TAR, legacy magic, else a plain pickle, which must start with `0x80`, `(`, `}`, `]`
//! or `c`), so a bare pickle starting with any other opcode is refused as "not a PyTorch
//! checkpoint". Ok is an accept (exit 0), an error a rejection (exit 1, with an error node
//! naming the `PytorchError` variant). Decoder only: the crate has no writer.
//!
//! With BRINE_PERSISTENT=1 it speaks the persistent protocol: JSON request lines on stdin
//! (`{"case","pickle":HEX,...}`), one answer line per request on stdout
//! (`{"case","exit","node"?}`), computed by the same function as the per-case answer. The
//! crate takes no out-of-band buffers or extension registry, so those fields are ignored. A
//! panic in the crate is not caught in either mode: it ends the process (status 101), which
//! the harness reports as a crash of the case (and, persistent, restarts the adapter); an
//! endless loop is the harness's timeout. A request line that is not JSON ends it with
//! status 3.
//!
//! The crate's model: `PickleValue` is None, bool, i64, f64, String, bytes, List (lists,
//! tuples, sets and frozensets alike), Dict (`HashMap` with str keys only: any other key is
//! an error) and `Unsupported(type name)` for classes, objects, tensors and ints wider than
//! i64. Only a scalar result (None, bool, int, float, str, bytes) is written and compared;
//! containers and `Unsupported` are accepted with no node, judged on accept/reject only. Its
//! bytes stand for bytes, bytearray (BYTEARRAY8) and a BINSTRING that is not UTF-8: compared
//! with the `bytearray` leniency.

use pytorch_reader::{PickleValue, PytorchError, PytorchReader};
use serde_json::Value as J;
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;

fn main() {
    let persistent = std::env::var("BRINE_PERSISTENT").as_deref() == Ok("1");
    // Values nest as deep as the pickle: decode and drop them on a big stack, as the other
    // Rust adapters do. A panic in the thread is not caught: join reports it and the
    // process exits with status 101 (the temporary file of that case is left behind).
    let code = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || if persistent { serve() } else { decode() })
        .expect("spawn")
        .join()
        .unwrap_or(101);
    std::process::exit(code);
}

fn decode() -> i32 {
    let mut data = Vec::new();
    std::io::stdin().read_to_end(&mut data).expect("read stdin");
    let (code, out) = decode_case(&data);
    if let Some(mut out) = out {
        out.push('\n');
        let mut so = std::io::stdout().lock();
        so.write_all(out.as_bytes()).and_then(|_| so.flush()).expect("write stdout");
    }
    code
}

fn error_node(t: &str, message: &str) -> String {
    format!(r#"{{"t":"error","type":{},"message":{}}}"#, json_str(t), json_str(message))
}

/// The temporary file this process reads its cases from.
fn temp_path() -> PathBuf {
    std::env::temp_dir().join(format!("brine-pytorch-reader-{}.pkl", std::process::id()))
}

/// The variant of a `PytorchError`, e.g. `Pickle(InvalidOpCode)`.
fn error_type(e: &PytorchError) -> String {
    let first = |s: String| s.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("").to_string();
    let dbg = format!("{e:?}");
    match e {
        PytorchError::Pickle(p) => format!("Pickle({})", first(format!("{p:?}"))),
        PytorchError::Io(io) => format!("Io({:?})", io.kind()),
        _ => first(dbg),
    }
}

/// One case: the exit status and the node (a scalar value, the error node, or none).
fn decode_case(data: &[u8]) -> (i32, Option<String>) {
    let path = temp_path();
    std::fs::write(&path, data).expect("write the temporary pickle file");
    let result = PytorchReader::read_pickle_data(&path, None);
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(v) => (0, scalar(&v)),
        Err(e) => (1, Some(error_node(&error_type(&e), &e.to_string()))),
    }
}

/// A scalar value as a pickle JSON node; `None` for anything else.
fn scalar(v: &PickleValue) -> Option<String> {
    Some(match v {
        PickleValue::None => r#"{"t":"none"}"#.to_string(),
        PickleValue::Bool(b) => format!(r#"{{"t":"bool","v":{b}}}"#),
        PickleValue::Int(i) => format!(r#"{{"t":"int","v":"{i}"}}"#),
        PickleValue::Float(f) => format!(r#"{{"t":"float","v":"{}"}}"#, float_repr(*f)),
        PickleValue::String(s) => format!(r#"{{"t":"str","v":{}}}"#, json_str(s)),
        PickleValue::Bytes(b) => format!(r#"{{"t":"bytes","v":"{}"}}"#, hex(b)),
        _ => return None,
    })
}

/// The persistent loop: one answer line per request line, flushed; exit 0 at end of input.
fn serve() -> i32 {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).expect("read stdin") == 0 {
            return 0;
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            eprintln!("pytorch-reader adapter: a request line is not UTF-8");
            return 3;
        };
        if text.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(text);
        de.disable_recursion_limit();
        let req: J = match serde::Deserialize::deserialize(&mut de) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("pytorch-reader adapter: bad request line: {e}");
                return 3;
            }
        };
        let case = req.get("case").cloned().unwrap_or(J::Null);
        let Some(data) = req.get("pickle").and_then(J::as_str).and_then(unhex) else {
            eprintln!("pytorch-reader adapter: request without a hex \"pickle\"");
            return 3;
        };
        let (code, node) = decode_case(&data);
        let mut answer = format!(r#"{{"case":{},"exit":{code}"#, serde_json::to_string(&case).expect("case"));
        if let Some(node) = node {
            answer.push_str(&format!(r#","node":{node}"#));
        }
        answer.push_str("}\n");
        let mut so = std::io::stdout().lock();
        so.write_all(answer.as_bytes()).and_then(|_| so.flush()).expect("write stdout");
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len() / 2).map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

/// Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16.
fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let s = format!("{:e}", x.abs());
    let (mant, exp) = s.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent");
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let point = exp as usize + 1;
            let mut int = digits.clone();
            while int.len() < point {
                int.push('0');
            }
            let frac = &int[point..];
            let frac = if frac.is_empty() { "0".to_string() } else { frac.to_string() };
            format!("{sign}{}.{frac}", &int[..point])
        } else {
            format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
        }
    } else {
        let rest = if digits.len() > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{}{rest}e{esign}{:02}", &digits[..1], exp.abs())
    }
}
