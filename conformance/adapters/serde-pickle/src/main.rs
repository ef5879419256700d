//! brine adapter for serde-pickle 1.2.0 (conformance/README.md has the protocol).
//!
//! `decode`: the pickle on stdin through `serde_pickle::value_from_slice` with default
//! `DeOptions`; its `Value` written as pickle JSON (exit 0) or its error as an error node
//! (exit 1). `encode`: a pickle JSON node on stdin made into a `Value` and written with
//! `value_to_vec` (protocol 2 when BRINE_PROTOCOL < 3, else its default 3); a node its model
//! cannot hold (globals, objects, buffers, cycles, lone surrogates) is refused (exit 1).
//!
//! With BRINE_PERSISTENT=1 both sides speak the persistent protocol: JSON request lines on
//! stdin (`{"case","pickle":HEX,"buffers"?}` / `{"case","document","protocol"}`), one answer
//! line per request on stdout (`{"case","exit","node"?}` / `{"case","exit","pickle"|"message"}`),
//! computed by the same functions as the per-case answers. serde-pickle takes no out-of-band
//! buffers or extension registry, so those fields are ignored. A panic is not caught in
//! either mode: it ends the process (status 101), which the harness reports as a crash of
//! the case (and, persistent, restarts the adapter). A request line that is not JSON ends it
//! with status 3.
//!
//! serde-pickle's model: no globals or objects (only a few builtins such as `set` and
//! `bytearray` are resolved), no identity (memo references are copies, a cycle is an
//! error), dicts are `BTreeMap`s (sorted, not in insertion order), bytearray is bytes. The
//! matrix compares it with the `sharing`, `dict-order`, `bytearray` and `builtins`
//! leniencies its adapter.json lists.

use serde_json::Value as J;
use serde_pickle::{DeOptions, HashableValue, SerOptions, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, Read, Write};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let persistent = std::env::var("BRINE_PERSISTENT").as_deref() == Ok("1");
    // Values nest as deep as the pickle (100,000 levels in the corpus): convert and drop
    // them on a big stack so that the adapter itself never overflows.
    let code = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || match (mode == "encode", persistent) {
            (false, false) => decode(),
            (true, false) => encode(),
            (encoding, true) => serve(encoding),
        })
        .expect("spawn")
        .join()
        .unwrap_or(101);
    std::process::exit(code);
}

fn decode() -> i32 {
    let mut data = Vec::new();
    std::io::stdin().read_to_end(&mut data).expect("read stdin");
    let (code, mut out) = decode_case(&data);
    out.push('\n');
    let mut so = std::io::stdout().lock();
    so.write_all(out.as_bytes()).and_then(|_| so.flush()).expect("write stdout");
    code
}

/// One case: the exit status and the node (the value, or the error node).
fn decode_case(data: &[u8]) -> (i32, String) {
    let mut out = String::new();
    let code = match serde_pickle::value_from_slice(data, DeOptions::new()) {
        Ok(v) => {
            write_value(&mut out, &v);
            0
        }
        Err(e) => {
            out.push_str(r#"{"t":"error","type":"#);
            out.push_str(&json_str(&error_type(&e)));
            out.push_str(r#","message":"#);
            out.push_str(&json_str(&e.to_string()));
            out.push('}');
            1
        }
    };
    (code, out)
}

/// The persistent loop: one answer line per request line, flushed; exit 0 at end of input.
fn serve(encoding: bool) -> i32 {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).expect("read stdin") == 0 {
            return 0;
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            eprintln!("serde-pickle adapter: a request line is not UTF-8");
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
                eprintln!("serde-pickle adapter: bad request line: {e}");
                return 3;
            }
        };
        let case = req.get("case").cloned().unwrap_or(J::Null);
        let mut answer = format!(r#"{{"case":{},"exit":"#, serde_json::to_string(&case).expect("case"));
        if encoding {
            let doc = req.get("document").unwrap_or(&J::Null);
            let proto = req.get("protocol").and_then(J::as_u64).map_or(3, |p| p.min(255) as u8);
            match encode_doc(doc, proto) {
                Ok(bytes) => {
                    answer.push_str(r#"0,"pickle":""#);
                    answer.push_str(&hex(&bytes));
                    answer.push_str("\"}");
                }
                Err(why) => {
                    answer.push_str(r#"1,"message":"#);
                    answer.push_str(&json_str(&why));
                    answer.push('}');
                }
            }
        } else {
            let Some(data) = req.get("pickle").and_then(J::as_str).and_then(unhex) else {
                eprintln!("serde-pickle adapter: request without a hex \"pickle\"");
                return 3;
            };
            let (code, node) = decode_case(&data);
            answer.push_str(&format!(r#"{code},"node":{node}}}"#));
        }
        answer.push('\n');
        let mut so = std::io::stdout().lock();
        so.write_all(answer.as_bytes()).and_then(|_| so.flush()).expect("write stdout");
    }
}

/// The error's variant and code, e.g. `Eval(UnresolvedGlobal)`.
fn error_type(e: &serde_pickle::Error) -> String {
    let first = |s: String| s.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("").to_string();
    match e {
        serde_pickle::Error::Io(io) => format!("Io({:?})", io.kind()),
        serde_pickle::Error::Eval(code, _) => format!("Eval({})", first(format!("{code:?}"))),
        serde_pickle::Error::Syntax(code) => format!("Syntax({})", first(format!("{code:?}"))),
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
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

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::None => out.push_str(r#"{"t":"none"}"#),
        Value::Bool(b) => out.push_str(&format!(r#"{{"t":"bool","v":{b}}}"#)),
        Value::I64(i) => out.push_str(&format!(r#"{{"t":"int","v":"{i}"}}"#)),
        Value::Int(i) => out.push_str(&format!(r#"{{"t":"int","v":"{i}"}}"#)),
        Value::F64(f) => out.push_str(&format!(r#"{{"t":"float","v":"{}"}}"#, float_repr(*f))),
        Value::Bytes(b) => out.push_str(&format!(r#"{{"t":"bytes","v":"{}"}}"#, hex(b))),
        Value::String(s) => {
            out.push_str(r#"{"t":"str","v":"#);
            out.push_str(&json_str(s));
            out.push('}');
        }
        Value::List(xs) => seq(out, "list", xs.iter(), write_value),
        Value::Tuple(xs) => seq(out, "tuple", xs.iter(), write_value),
        Value::Set(xs) => seq(out, "set", xs.iter(), write_hashable),
        Value::FrozenSet(xs) => seq(out, "frozenset", xs.iter(), write_hashable),
        Value::Dict(m) => {
            out.push_str(r#"{"t":"dict","items":["#);
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                write_hashable(out, k);
                out.push(',');
                write_value(out, v);
                out.push(']');
            }
            out.push_str("]}");
        }
    }
}

fn write_hashable(out: &mut String, v: &HashableValue) {
    match v {
        HashableValue::None => write_value(out, &Value::None),
        HashableValue::Bool(b) => write_value(out, &Value::Bool(*b)),
        HashableValue::I64(i) => write_value(out, &Value::I64(*i)),
        HashableValue::Int(i) => out.push_str(&format!(r#"{{"t":"int","v":"{i}"}}"#)),
        HashableValue::F64(f) => write_value(out, &Value::F64(*f)),
        HashableValue::Bytes(b) => out.push_str(&format!(r#"{{"t":"bytes","v":"{}"}}"#, hex(b))),
        HashableValue::String(s) => {
            out.push_str(r#"{"t":"str","v":"#);
            out.push_str(&json_str(s));
            out.push('}');
        }
        HashableValue::Tuple(xs) => seq(out, "tuple", xs.iter(), write_hashable),
        HashableValue::FrozenSet(xs) => seq(out, "frozenset", xs.iter(), write_hashable),
    }
}

fn seq<'a, T: 'a>(out: &mut String, t: &str, xs: impl Iterator<Item = &'a T>, f: fn(&mut String, &T)) {
    out.push_str(&format!(r#"{{"t":"{t}","items":["#));
    for (i, x) in xs.enumerate() {
        if i > 0 {
            out.push(',');
        }
        f(out, x);
    }
    out.push_str("]}");
}

// ----------------------------------------------------------------------------------------
// encode

fn encode() -> i32 {
    let mut text = String::new();
    if std::io::stdin().read_to_string(&mut text).is_err() {
        return refuse("stdin is not UTF-8");
    }
    let mut de = serde_json::Deserializer::from_str(&text);
    de.disable_recursion_limit();
    let doc: J = match serde::Deserialize::deserialize(&mut de) {
        Ok(d) => d,
        Err(e) => return refuse(&format!("bad JSON: {e}")),
    };
    let proto: u8 = std::env::var("BRINE_PROTOCOL").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    match encode_doc(&doc, proto) {
        Ok(bytes) => {
            let mut so = std::io::stdout().lock();
            so.write_all(&bytes).and_then(|_| so.flush()).expect("write stdout");
            0
        }
        Err(why) => refuse(&why),
    }
}

/// One document: the pickle bytes, or why serde-pickle's model cannot hold it.
fn encode_doc(doc: &J, proto: u8) -> Result<Vec<u8>, String> {
    let mut defs = HashMap::new();
    collect_defs(doc, &mut defs);
    let mut budget = 10_000_000u64;
    let value = to_value(doc, &defs, &mut Vec::new(), &mut budget)?;
    let opts = if proto < 3 { SerOptions::new().proto_v2() } else { SerOptions::new() };
    serde_pickle::value_to_vec(&value, opts).map_err(|e| format!("serde-pickle: {e}"))
}

fn refuse(why: &str) -> i32 {
    eprintln!("{why}");
    1
}

fn collect_defs<'a>(root: &'a J, defs: &mut HashMap<u64, &'a J>) {
    let mut work = vec![root];
    while let Some(v) = work.pop() {
        match v {
            J::Object(m) => {
                if m.get("t").and_then(J::as_str) != Some("ref") {
                    if let Some(id) = m.get("id").and_then(J::as_u64) {
                        defs.insert(id, v);
                    }
                }
                work.extend(m.values());
            }
            J::Array(a) => work.extend(a.iter()),
            _ => {}
        }
    }
}

fn items(n: &J) -> &[J] {
    n.get("items").and_then(J::as_array).map_or(&[][..], |v| v.as_slice())
}

/// A document node as serde-pickle's Value; refs become copies (its model has no identity).
/// `budget` bounds the copies: a document that shares a list at every level doubles per level.
fn to_value(n: &J, defs: &HashMap<u64, &J>, open: &mut Vec<u64>, budget: &mut u64) -> Result<Value, String> {
    if *budget == 0 {
        return Err("copying its shared objects would make more than 10,000,000 values".into());
    }
    *budget -= 1;
    let t = n.get("t").and_then(J::as_str).unwrap_or("");
    if t == "ref" {
        let id = n.get("id").and_then(J::as_u64).ok_or("ref without id")?;
        if open.contains(&id) {
            return Err("a cycle: serde-pickle's values are trees".into());
        }
        let def = defs.get(&id).ok_or("dangling ref")?;
        return to_value(def, defs, open, budget);
    }
    let id = n.get("id").and_then(J::as_u64);
    if let Some(id) = id {
        open.push(id);
    }
    let sv = |k: &str| n.get(k).and_then(J::as_str).unwrap_or("");
    let list = |open: &mut Vec<u64>, budget: &mut u64| -> Result<Vec<Value>, String> {
        items(n).iter().map(|x| to_value(x, defs, open, budget)).collect()
    };
    let v = match t {
        "none" => Value::None,
        "bool" => Value::Bool(n.get("v").and_then(J::as_bool).unwrap_or(false)),
        "int" => match sv("v").parse::<i64>() {
            Ok(i) => Value::I64(i),
            Err(_) => Value::Int(sv("v").parse::<num_bigint::BigInt>().map_err(|e| e.to_string())?),
        },
        "float" => Value::F64(match sv("v") {
            "nan" => f64::NAN,
            "-nan" => -f64::NAN,
            s => s.parse().map_err(|_| format!("bad float {s}"))?,
        }),
        "str" if n.get("v").is_some() => Value::String(sv("v").to_string()),
        "str" => return Err("a str with a lone surrogate: Rust strings cannot hold one".into()),
        // serde-pickle reads a bytearray as bytes: the closest value its model has.
        "bytes" | "bytearray" => Value::Bytes(unhex(sv("v")).ok_or("bad hex")?),
        "list" => Value::List(list(open, budget)?),
        "tuple" => Value::Tuple(list(open, budget)?),
        "set" | "frozenset" => {
            let mut s = BTreeSet::new();
            for x in list(open, budget)? {
                s.insert(x.into_hashable().map_err(|e| e.to_string())?);
            }
            if t == "set" {
                Value::Set(s)
            } else {
                Value::FrozenSet(s)
            }
        }
        "dict" => {
            let mut m = BTreeMap::new();
            for pair in items(n) {
                let kv = pair.as_array().ok_or("bad dict item")?;
                let (k, v) = (kv.first().ok_or("bad dict item")?, kv.get(1).ok_or("bad dict item")?);
                let k = to_value(k, defs, open, budget)?.into_hashable().map_err(|e| e.to_string())?;
                m.insert(k, to_value(v, defs, open, budget)?);
            }
            Value::Dict(m)
        }
        other => return Err(format!("serde-pickle's model has no {other:?}")),
    };
    if id.is_some() {
        open.pop();
    }
    Ok(v)
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len() / 2).map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}
