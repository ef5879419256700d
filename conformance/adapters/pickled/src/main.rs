//! brine adapter for pickled 2.0.0-alpha9 (conformance/README.md has the protocol).
//!
//! `decode`: the pickle on stdin through `pickled::value_from_slice` with default
//! `DeOptions`; its `Value` written as pickle JSON (exit 0) or its error as an error node
//! (exit 1). `encode`: a pickle JSON node on stdin made into a `Value` and written with
//! `value_to_vec` (protocol 2 when BRINE_PROTOCOL < 3, else its default 3); a node its model
//! cannot hold (bare globals, calls, buffers, cycles, lone surrogates) is refused (exit 1).
//!
//! The per-case and persistent protocols, and crashes (a panic in pickled is not caught:
//! status 101), are `brine_adapter_common`'s (conformance/adapters/rust-common); pickled
//! takes no out-of-band buffers or extension registry.
//!
//! pickled's model, as written here:
//! - None, bool, int (i64 or BigInt), float, str, bytes, list, tuple, set, frozenset and dict
//!   as themselves. It resolves `builtins.set`/`frozenset`/`bytearray`/`list`/`int` and
//!   `_codecs.encode` calls itself, reads bytearray as bytes and keeps dicts sorted by key
//!   (a `Vec` kept sorted): compared with the `builtins`, `bytearray` and `dict-order`
//!   leniencies.
//! - Its values share containers through `Rc` (and deduplicate equal tuples and strings by
//!   content), but dict keys and set items are copies: written as a tree, compared with the
//!   `sharing` leniency. A value holding a cycle (pickled's `Value::Weak` back-edge), which
//!   the `sharing` leniency can never match, is accepted with no node printed.
//! - A class instance is a `DictObject` (module, class, one merged state dict; its
//!   constructor arguments are dropped): written as what its own `__reduce__` says, an object
//!   made by `newobj` of the global with its (empty) args, then a `build` op with the state
//!   when the state is not empty.
//! - A value too big to write as a tree (a DAG sharing containers at every level) is
//!   accepted with no node printed rather than expanded without bound.

use brine_adapter_common::{
    bool_node, bytes_node, collect_defs, error_node, first_word, float_node, int_node, items, items_of, json_str,
    str_node, unhex, Adapter, NONE_NODE,
};
use pickled::num_bigint::BigInt;
use pickled::object::DictObject;
use pickled::value::{Shared, SharedFrozen};
use pickled::{DeOptions, Dict, HashableValue, PickleObject, SerOptions, Value};
use serde_json::Value as J;
use std::collections::{BTreeSet, HashMap};

fn main() {
    Adapter { name: "pickled", decode: decode_case, encode: Some(encode_doc) }.main()
}

/// One case: the exit status and the node (the value, the error node, or none when the
/// value cannot be written as pickle JSON).
fn decode_case(data: &[u8]) -> (i32, Option<String>) {
    match pickled::value_from_slice(data, DeOptions::new()) {
        Ok(v) => {
            let mut w = Writer { out: String::new(), budget: 2_000_000 };
            let node = w.value(&v).ok().map(|_| w.out);
            (0, node)
        }
        Err(e) => (1, Some(error_node(&error_type(&e), &e.to_string()))),
    }
}

/// The error's variant and code, e.g. `Eval(UnresolvedGlobal)`.
fn error_type(e: &pickled::Error) -> String {
    match e {
        pickled::Error::Io(io) => format!("Io({:?})", io.kind()),
        pickled::Error::Eval(code, _) => format!("Eval({})", first_word(&format!("{code:?}"))),
        pickled::Error::Syntax(code) => format!("Syntax({})", first_word(&format!("{code:?}"))),
    }
}

/// Writes a value as a pickle JSON tree. `Err(())`: not writable (a cycle, or more nodes
/// than the budget).
struct Writer {
    out: String,
    budget: u64,
}

type W = Result<(), ()>;

impl Writer {
    fn tick(&mut self) -> W {
        if self.budget == 0 {
            return Err(());
        }
        self.budget -= 1;
        Ok(())
    }

    fn atom(&mut self, node: &str) -> W {
        self.out.push_str(node);
        Ok(())
    }

    fn value(&mut self, v: &Value) -> W {
        self.tick()?;
        match v {
            Value::None => self.atom(NONE_NODE),
            Value::Bool(b) => self.atom(&bool_node(*b)),
            Value::I64(i) => self.atom(&int_node(i)),
            Value::Int(i) => self.atom(&int_node(i)),
            Value::F64(f) => self.atom(&float_node(*f)),
            Value::Bytes(b) => self.atom(&bytes_node(b.inner())),
            Value::String(s) => self.atom(&str_node(s.inner())),
            Value::List(xs) => self.seq("list", xs.inner().iter(), Self::value),
            Value::Tuple(xs) => self.seq("tuple", xs.inner().iter(), Self::value),
            Value::Set(xs) => self.seq("set", xs.inner().iter(), Self::hashable),
            Value::FrozenSet(xs) => self.seq("frozenset", xs.inner().iter(), Self::hashable),
            Value::Dict(d) => self.dict(&d.inner()),
            Value::Object(o) => self.object(o.inner().as_ref()),
            Value::Weak(_) => Err(()),
        }
    }

    fn hashable(&mut self, v: &HashableValue) -> W {
        self.tick()?;
        match v {
            HashableValue::None => self.atom(NONE_NODE),
            HashableValue::Bool(b) => self.atom(&bool_node(*b)),
            HashableValue::I64(i) => self.atom(&int_node(i)),
            HashableValue::Int(i) => self.atom(&int_node(i)),
            HashableValue::F64(f) => self.atom(&float_node(*f)),
            HashableValue::Bytes(b) => self.atom(&bytes_node(b.inner())),
            HashableValue::String(s) => self.atom(&str_node(s.inner())),
            HashableValue::Tuple(xs) => self.seq("tuple", xs.inner().iter(), Self::hashable),
            HashableValue::FrozenSet(xs) => self.seq("frozenset", xs.inner().iter(), Self::hashable),
        }
    }

    fn seq<'a, T: 'a>(&mut self, t: &str, xs: impl Iterator<Item = &'a T>, f: fn(&mut Self, &T) -> W) -> W {
        self.out.push_str(&format!(r#"{{"t":"{t}","items":["#));
        for (i, x) in xs.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            f(self, x)?;
        }
        self.out.push_str("]}");
        Ok(())
    }

    fn dict(&mut self, d: &Dict) -> W {
        self.out.push_str(r#"{"t":"dict","items":["#);
        for (i, (k, v)) in d.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push('[');
            self.hashable(k)?;
            self.out.push(',');
            self.value(v)?;
            self.out.push(']');
        }
        self.out.push_str("]}");
        Ok(())
    }

    /// An object as its `__reduce__` describes it: newobj of the class with its args, then
    /// appends, setitems and a build of its state (omitted when the state is an empty dict,
    /// which a `DictObject` that was never built has).
    fn object(&mut self, o: &dyn PickleObject) -> W {
        let r = o.__reduce__();
        self.out.push_str(r#"{"t":"object","new":{"newobj":{"t":"global","module":"#);
        self.out.push_str(&json_str(&r.module));
        self.out.push_str(r#","name":"#);
        self.out.push_str(&json_str(&r.class));
        self.out.push_str(r#"},"args":["#);
        let args: Vec<Value> = match &r.args {
            Value::Tuple(t) => t.inner().clone(),
            Value::None => vec![],
            other => vec![other.clone()],
        };
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.value(a)?;
        }
        self.out.push_str(r#"]},"ops":["#);
        let mut first = true;
        let mut sep = |out: &mut String| {
            if !first {
                out.push(',');
            }
            first = false;
        };
        for item in r.list_items.iter().flatten() {
            sep(&mut self.out);
            self.out.push_str(r#"{"op":"append","item":"#);
            self.value(item)?;
            self.out.push('}');
        }
        for (k, v) in r.dict_items.iter().flatten() {
            sep(&mut self.out);
            self.out.push_str(r#"{"op":"setitem","key":"#);
            self.hashable(k)?;
            self.out.push_str(r#","value":"#);
            self.value(v)?;
            self.out.push('}');
        }
        let empty = matches!(&r.state, Some(Value::Dict(d)) if d.inner().is_empty());
        if let (Some(state), false) = (&r.state, empty) {
            sep(&mut self.out);
            self.out.push_str(r#"{"op":"build","state":"#);
            self.value(state)?;
            self.out.push('}');
        }
        self.out.push_str("]}");
        Ok(())
    }
}

// ----------------------------------------------------------------------------------------
// encode

/// One document: the pickle bytes, or why pickled's model cannot hold it.
fn encode_doc(doc: &J, proto: u8) -> Result<Vec<u8>, String> {
    let mut defs = HashMap::new();
    collect_defs(doc, &mut defs);
    let mut budget = 10_000_000u64;
    let value = to_value(doc, &defs, &mut Vec::new(), &mut budget)?;
    let opts = if proto < 3 { SerOptions::new().proto_v2() } else { SerOptions::new() };
    pickled::value_to_vec(&value, opts).map_err(|e| format!("pickled: {e}"))
}

fn hashable(v: Value) -> Result<HashableValue, String> {
    v.into_hashable().map_err(|e| e.to_string())
}

/// A document node as pickled's Value. pickled's serializer keeps no memo (every shared
/// object is written again), so refs become copies; a cycle cannot be written.
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
            return Err("a cycle: pickled's serializer writes no memo, so it cannot write one".into());
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
            Err(_) => Value::Int(Box::new(sv("v").parse::<BigInt>().map_err(|e| e.to_string())?)),
        },
        "float" => Value::F64(match sv("v") {
            "nan" => f64::NAN,
            "-nan" => -f64::NAN,
            s => s.parse().map_err(|_| format!("bad float {s}"))?,
        }),
        "str" if n.get("v").is_some() => Value::String(SharedFrozen::new(sv("v").to_string())),
        "str" => return Err("a str with a lone surrogate: Rust strings cannot hold one".into()),
        // pickled reads a bytearray as bytes: the closest value its model has.
        "bytes" | "bytearray" => Value::Bytes(SharedFrozen::new(unhex(sv("v")).ok_or("bad hex")?)),
        "list" => Value::List(Shared::new(list(open, budget)?)),
        "tuple" => Value::Tuple(SharedFrozen::new(list(open, budget)?)),
        "set" | "frozenset" => {
            let mut s = BTreeSet::new();
            for x in list(open, budget)? {
                s.insert(hashable(x)?);
            }
            if t == "set" {
                Value::Set(Shared::new(s))
            } else {
                Value::FrozenSet(SharedFrozen::new(s))
            }
        }
        "dict" => {
            let mut m = Dict::new();
            for pair in items(n) {
                let kv = pair.as_array().ok_or("bad dict item")?;
                let (k, v) = (kv.first().ok_or("bad dict item")?, kv.get(1).ok_or("bad dict item")?);
                let k = hashable(to_value(k, defs, open, budget)?)?;
                m.insert(k, to_value(v, defs, open, budget)?);
            }
            Value::Dict(Shared::new(m))
        }
        "object" => object_value(n, defs, open, budget)?,
        other => return Err(format!("pickled's model has no {other:?}")),
    };
    if id.is_some() {
        open.pop();
    }
    Ok(v)
}

/// The one kind of object pickled's model holds: a `DictObject`, `cls.__new__(cls)` with at
/// most a build of a dict state (what its serializer writes: GLOBAL, EMPTY_TUPLE, NEWOBJ,
/// state, BUILD).
fn object_value(n: &J, defs: &HashMap<u64, &J>, open: &mut Vec<u64>, budget: &mut u64) -> Result<Value, String> {
    let new = n.get("new").unwrap_or(&J::Null);
    let cls = new.get("newobj").ok_or("an object not made by newobj: pickled's objects are DictObjects")?;
    if cls.get("t").and_then(J::as_str) != Some("global") {
        return Err("newobj of something other than a global".into());
    }
    if !items_of(new, "args").is_empty() || !items_of(new, "kwargs").is_empty() {
        return Err("newobj with arguments: pickled's DictObject has none".into());
    }
    let module = cls.get("module").and_then(J::as_str).ok_or("a global module with a lone surrogate")?;
    let name = cls.get("name").and_then(J::as_str).ok_or("a global name with a lone surrogate")?;
    let mut obj = DictObject::new(module.to_string(), name.to_string());
    for op in items_of(n, "ops") {
        match (op.get("op").and_then(J::as_str), op.get("state")) {
            (Some("build"), Some(state)) => {
                let state = to_value(state, defs, open, budget)?;
                if !matches!(state, Value::Dict(_)) {
                    return Err("a build with a state that is not a dict".into());
                }
                obj.__setstate__(state);
            }
            _ => return Err("an object op other than build: pickled's DictObject has none".into()),
        }
    }
    Ok(Value::Object(Shared::new(Box::new(obj) as Box<dyn PickleObject>)))
}
