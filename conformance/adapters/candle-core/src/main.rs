//! brine adapter for candle-core 0.11.1's pickle reader, `candle_core::pickle`
//! (conformance/README.md has the protocol).
//!
//! `decode`: the pickle on stdin through `Stack::empty()`, `read_loop` (opcodes until STOP)
//! and `finalize` (the top of the stack), as candle's own `read_pth_tensor_info` does. Ok is
//! an accept (exit 0), an error a rejection (exit 1, with an error node whose type is the
//! `candle_core::Error` variant and whose message is the first line of its text: candle
//! appends a backtrace when RUST_BACKTRACE is set). Bytes after STOP are never read.
//! Decoder only: the module has no writer.
//!
//! With BRINE_PERSISTENT=1 it speaks the persistent protocol: JSON request lines on stdin
//! (`{"case","pickle":HEX,...}`), one answer line per request on stdout
//! (`{"case","exit","node"?}`), computed by the same function as the per-case answer. candle
//! takes no out-of-band buffers or extension registry, so those fields are ignored. A panic
//! or an allocation failure in candle is not caught in either mode: it ends the process
//! (status 101, or SIGABRT), which the harness reports as a crash of the case (and,
//! persistent, restarts the adapter); an endless loop is the harness's timeout. A request
//! line that is not JSON ends it with status 3.
//!
//! candle's model (33 opcodes: no FRAME, text opcodes, SHORT_BINUNICODE, BINBYTES, sets, ...):
//! `Object` is None, Bool, Int (i32), Long (i64, LONG1 read unsigned and wrapping), Float,
//! Unicode, Tuple, List, Dict (a `Vec` of pairs: keys never merged, and DICT and SETITEMS
//! add their pairs in reverse order), Class (a global), Reduce (REDUCE and NEWOBJ alike,
//! except that `collections.OrderedDict`/`defaultdict` calls become an empty Dict), Build,
//! PersistentLoad and Mark. Written as pickle JSON: atoms, tuples, lists and dicts as
//! themselves (dict items in candle's order, not merged), a Class as a global, a Reduce as an
//! object node made by `call` (so a NEWOBJ reads as a call), a PersistentLoad as an object
//! made by `persid`, a Build of such an object as a `build` op on it. Memo GETs are copies:
//! compared with the `sharing` leniency. A value holding a Mark, a Build of anything else or
//! a Reduce whose args are not a tuple is accepted with no node (judged on accept/reject).

use candle_core::pickle::{Object, Stack};
use serde_json::Value as J;
use std::io::{BufRead, Read, Write};

fn main() {
    let persistent = std::env::var("BRINE_PERSISTENT").as_deref() == Ok("1");
    // Values nest as deep as the pickle (100,000 levels in the corpus): decode, convert and
    // drop them on a big stack, as the other Rust adapters do. A panic in the thread is not
    // caught: join reports it and the process exits with status 101.
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

/// The innermost variant of a candle error, e.g. `Msg` or `Io`.
fn error_type(e: &candle_core::Error) -> String {
    match e {
        candle_core::Error::WithBacktrace { inner, .. }
        | candle_core::Error::Context { inner, .. }
        | candle_core::Error::WithPath { inner, .. } => error_type(inner),
        candle_core::Error::Io(io) => format!("Io({:?})", io.kind()),
        candle_core::Error::Msg(_) => "Msg".into(),
        candle_core::Error::Wrapped(_) => "Wrapped".into(),
        candle_core::Error::WrappedContext { .. } => "WrappedContext".into(),
        // candle's Debug of an error is its message: name the rest generically.
        _ => "Error".into(),
    }
}

/// One case: the exit status and the node (the value, the error node, or none).
fn decode_case(data: &[u8]) -> (i32, Option<String>) {
    let mut stack = Stack::empty();
    let mut r = std::io::Cursor::new(data);
    let result = stack.read_loop(&mut r).and_then(|()| stack.finalize());
    match result {
        Ok(obj) => {
            let mut out = String::new();
            (0, write(&mut out, &obj).map(|()| out))
        }
        Err(e) => {
            let text = e.to_string();
            let mut first = text.lines().next().unwrap_or("").to_string();
            if first.len() > 1000 {
                let cut = (0..=1000).rev().find(|&i| first.is_char_boundary(i)).unwrap_or(0);
                first.truncate(cut);
                first.push_str("...");
            }
            (1, Some(error_node(&error_type(&e), &first)))
        }
    }
}

/// Writes an object as pickle JSON; `None` when it has no pickle JSON form.
fn write(out: &mut String, o: &Object) -> Option<()> {
    match o {
        Object::None => out.push_str(r#"{"t":"none"}"#),
        Object::Bool(b) => out.push_str(&format!(r#"{{"t":"bool","v":{b}}}"#)),
        Object::Int(i) => out.push_str(&format!(r#"{{"t":"int","v":"{i}"}}"#)),
        Object::Long(i) => out.push_str(&format!(r#"{{"t":"int","v":"{i}"}}"#)),
        Object::Float(f) => out.push_str(&format!(r#"{{"t":"float","v":"{}"}}"#, float_repr(*f))),
        Object::Unicode(s) => out.push_str(&format!(r#"{{"t":"str","v":{}}}"#, json_str(s))),
        Object::Tuple(xs) => seq(out, "tuple", xs)?,
        Object::List(xs) => seq(out, "list", xs)?,
        Object::Dict(kvs) => {
            out.push_str(r#"{"t":"dict","items":["#);
            for (i, (k, v)) in kvs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                write(out, k)?;
                out.push(',');
                write(out, v)?;
                out.push(']');
            }
            out.push_str("]}");
        }
        Object::Class { module_name, class_name } => out.push_str(&format!(
            r#"{{"t":"global","module":{},"name":{}}}"#,
            json_str(module_name),
            json_str(class_name)
        )),
        Object::Reduce { .. } | Object::PersistentLoad(_) | Object::Build { .. } => {
            let mut ops = Vec::new();
            object(out, o, &mut ops)?;
            out.push_str(r#","ops":["#);
            for (i, state) in ops.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"op":"build","state":"#);
                write(out, state)?;
                out.push('}');
            }
            out.push_str("]}");
        }
        Object::Mark => return None,
    }
    Some(())
}

/// The start of an object node (up to its construction) for a Reduce or PersistentLoad,
/// collecting the states of the Builds wrapped around it, innermost first, into `ops`.
fn object<'a>(out: &mut String, o: &'a Object, ops: &mut Vec<&'a Object>) -> Option<()> {
    match o {
        Object::Build { callable, args } => {
            object(out, callable, ops)?;
            ops.push(args);
        }
        Object::Reduce { callable, args } => {
            let Object::Tuple(args) = args.as_ref() else { return None };
            out.push_str(r#"{"t":"object","new":{"call":"#);
            write(out, callable)?;
            out.push_str(r#","args":["#);
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, a)?;
            }
            out.push_str("]}");
        }
        Object::PersistentLoad(pid) => {
            out.push_str(r#"{"t":"object","new":{"persid":"#);
            write(out, pid)?;
            out.push('}');
        }
        _ => return None,
    }
    Some(())
}

fn seq(out: &mut String, t: &str, xs: &[Object]) -> Option<()> {
    out.push_str(&format!(r#"{{"t":"{t}","items":["#));
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(out, x)?;
    }
    out.push_str("]}");
    Some(())
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
            eprintln!("candle-core adapter: a request line is not UTF-8");
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
                eprintln!("candle-core adapter: bad request line: {e}");
                return 3;
            }
        };
        let case = req.get("case").cloned().unwrap_or(J::Null);
        let Some(data) = req.get("pickle").and_then(J::as_str).and_then(unhex) else {
            eprintln!("candle-core adapter: request without a hex \"pickle\"");
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
