//! brine adapter for repugnant-pickle 0.0.1 (conformance/README.md has the protocol).
//!
//! `decode`: the pickle on stdin through the crate's documented two steps,
//! `repugnant_pickle::parse_ops` (nom, with `nom::error::Error`) and then
//! `repugnant_pickle::evaluate(&ops, true)` (memo references resolved). Both succeeding is an
//! accept (exit 0), either failing a rejection (exit 1, with an error node naming the step).
//! Decoder only: the crate has no writer.
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
//! The crate's model: `evaluate` returns the whole stack at STOP (or at the end of the ops)
//! as `Value`s, a "low effort scraping" model: containers are `Seq(kind, items)` (a dict's
//! SETITEMS appends one tuple of pairs), calls `Global`/`Object`/`Build`, many opcodes left
//! `Raw`. Only the top of that stack is looked at, and only when it is a scalar the crate
//! decoded (None, bool, int, big int, float, str, bytes) is it written and compared; anything
//! else (containers, calls, `Raw` ops, the text numbers it leaves as `RawNum`, an empty
//! stack) is accepted with no node, judged on accept/reject only. Its bytes stand for bytes,
//! bytearray (BYTEARRAY8) and a BINSTRING that is not UTF-8: compared with the `bytearray`
//! leniency.

use repugnant_pickle::Value;
use serde_json::Value as J;
use std::io::{BufRead, Read, Write};

fn main() {
    let persistent = std::env::var("BRINE_PERSISTENT").as_deref() == Ok("1");
    // Values nest as deep as the pickle (100,000 levels in the corpus): decode and drop them
    // on a big stack, as the other Rust adapters do. A panic in the thread is not caught:
    // join reports it and the process exits with status 101.
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

/// One case: the exit status and the node (a scalar value, the error node, or none).
fn decode_case(data: &[u8]) -> (i32, Option<String>) {
    let ops = match repugnant_pickle::parse_ops::<nom::error::Error<&[u8]>>(data) {
        Ok((_rest, ops)) => ops,
        Err(e) => {
            let kind = match &e {
                nom::Err::Incomplete(_) => "parse_ops(Incomplete)".to_string(),
                nom::Err::Error(x) => format!("parse_ops(Error,{:?})", x.code),
                nom::Err::Failure(x) => format!("parse_ops(Failure,{:?})", x.code),
            };
            let message = match &e {
                nom::Err::Incomplete(n) => format!("incomplete: {n:?}"),
                nom::Err::Error(x) | nom::Err::Failure(x) => {
                    format!("{:?} at offset {}", x.code, data.len() - x.input.len())
                }
            };
            return (1, Some(error_node(&kind, &message)));
        }
    };
    match repugnant_pickle::evaluate(&ops, true) {
        Ok((values, _memo)) => (0, values.last().and_then(scalar)),
        Err(e) => (1, Some(error_node("evaluate", &format!("{e:#}")))),
    }
}

/// A scalar value as a pickle JSON node; `None` for anything else.
fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::None => r#"{"t":"none"}"#.to_string(),
        Value::Bool(b) => format!(r#"{{"t":"bool","v":{b}}}"#),
        Value::Int(i) => format!(r#"{{"t":"int","v":"{i}"}}"#),
        Value::BigInt(i) => format!(r#"{{"t":"int","v":"{i}"}}"#),
        Value::Float(f) => format!(r#"{{"t":"float","v":"{}"}}"#, float_repr(*f)),
        Value::String(s) => format!(r#"{{"t":"str","v":{}}}"#, json_str(s)),
        Value::Bytes(b) => format!(r#"{{"t":"bytes","v":"{}"}}"#, hex(b)),
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
            eprintln!("repugnant-pickle adapter: a request line is not UTF-8");
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
                eprintln!("repugnant-pickle adapter: bad request line: {e}");
                return 3;
            }
        };
        let case = req.get("case").cloned().unwrap_or(J::Null);
        let Some(data) = req.get("pickle").and_then(J::as_str).and_then(unhex) else {
            eprintln!("repugnant-pickle adapter: request without a hex \"pickle\"");
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
