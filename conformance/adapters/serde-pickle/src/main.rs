//! brine adapter for serde-pickle 1.2.0 (conformance/README.md has the protocol).
//!
//! `decode`: the pickle on stdin through `serde_pickle::value_from_slice` with default
//! `DeOptions`; its `Value` written as pickle JSON (exit 0) or its error as an error node
//! (exit 1). `encode`: a pickle JSON node on stdin made into a `Value` and written with
//! `value_to_vec` (protocol 2 when BRINE_PROTOCOL < 3, else its default 3); a node its model
//! cannot hold (globals, objects, buffers, cycles, lone surrogates) is refused (exit 1).
//!
//! The per-case and persistent protocols, and crashes (a panic is not caught: status 101),
//! are `brine_adapter_common`'s (conformance/adapters/rust-common); serde-pickle takes no
//! out-of-band buffers or extension registry.
//!
//! serde-pickle's model: no globals or objects (only a few builtins such as `set` and
//! `bytearray` are resolved), no identity (memo references are copies, a cycle is an
//! error), dicts are `BTreeMap`s (sorted, not in insertion order), bytearray is bytes. The
//! matrix compares it with the `sharing`, `dict-order`, `bytearray` and `builtins`
//! leniencies its adapter.json lists.

use brine_adapter_common::{
    bool_node, bytes_node, collect_defs, error_node, first_word, float_node, int_node, items, str_node, unhex, Adapter,
    NONE_NODE,
};
use serde_json::Value as J;
use serde_pickle::{DeOptions, HashableValue, SerOptions, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn main() {
    Adapter { name: "serde-pickle", decode: decode_case, encode: Some(encode_doc) }.main()
}

/// One case: the exit status and the node (the value, or the error node).
fn decode_case(data: &[u8]) -> (i32, Option<String>) {
    match serde_pickle::value_from_slice(data, DeOptions::new()) {
        Ok(v) => {
            let mut out = String::new();
            write_value(&mut out, &v);
            (0, Some(out))
        }
        Err(e) => (1, Some(error_node(&error_type(&e), &e.to_string()))),
    }
}

/// The error's variant and code, e.g. `Eval(UnresolvedGlobal)`.
fn error_type(e: &serde_pickle::Error) -> String {
    match e {
        serde_pickle::Error::Io(io) => format!("Io({:?})", io.kind()),
        serde_pickle::Error::Eval(code, _) => format!("Eval({})", first_word(&format!("{code:?}"))),
        serde_pickle::Error::Syntax(code) => format!("Syntax({})", first_word(&format!("{code:?}"))),
    }
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::None => out.push_str(NONE_NODE),
        Value::Bool(b) => out.push_str(&bool_node(*b)),
        Value::I64(i) => out.push_str(&int_node(i)),
        Value::Int(i) => out.push_str(&int_node(i)),
        Value::F64(f) => out.push_str(&float_node(*f)),
        Value::Bytes(b) => out.push_str(&bytes_node(b)),
        Value::String(s) => out.push_str(&str_node(s)),
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
        HashableValue::None => out.push_str(NONE_NODE),
        HashableValue::Bool(b) => out.push_str(&bool_node(*b)),
        HashableValue::I64(i) => out.push_str(&int_node(i)),
        HashableValue::Int(i) => out.push_str(&int_node(i)),
        HashableValue::F64(f) => out.push_str(&float_node(*f)),
        HashableValue::Bytes(b) => out.push_str(&bytes_node(b)),
        HashableValue::String(s) => out.push_str(&str_node(s)),
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

/// One document: the pickle bytes, or why serde-pickle's model cannot hold it.
fn encode_doc(doc: &J, proto: u8) -> Result<Vec<u8>, String> {
    let mut defs = HashMap::new();
    collect_defs(doc, &mut defs);
    let mut budget = 10_000_000u64;
    let value = to_value(doc, &defs, &mut Vec::new(), &mut budget)?;
    let opts = if proto < 3 { SerOptions::new().proto_v2() } else { SerOptions::new() };
    serde_pickle::value_to_vec(&value, opts).map_err(|e| format!("serde-pickle: {e}"))
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
