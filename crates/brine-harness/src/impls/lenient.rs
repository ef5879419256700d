//! Leniencies: documented normalizations that let an implementation whose value model lacks
//! a feature be compared on the rest of its values. Each applies to both documents before
//! `brine_codec::json::compare`; an adapter lists the ones its model needs (adapter.json
//! "lenient", or `--lenient a,b` on the command line), and every report says which applied.
//!
//! - `builtins`: the implementation builds real sets, frozensets, bytearrays and bytes from the
//!   protocol 0-3 spellings `builtins.set(list)`, `builtins.frozenset(list)`,
//!   `builtins.bytearray(bytes)` / `(str, "latin-1")` / `()`, `builtins.bytes()` and
//!   `_codecs.encode(str, "latin1")` (and their `__builtin__` names), where CPython's sandbox records a call on a
//!   stand-in: such an object node (no ops) is compared as the value the call returns.
//! - `bytearray`: bytearray is read as bytes.
//! - `sharing`: no identity: a ref to a finished node is compared as a copy of it, and ids
//!   are dropped (a cycle stays a ref, which matches nothing).
//! - `dict-order`: dict items are compared in a canonical order, not insertion order.

use serde_json::{json, Map, Value as J};
use std::collections::HashMap;

/// The leniencies that exist, with one line each for reports.
pub const ALL: &[(&str, &str)] = &[
    ("builtins", "set/frozenset/bytearray/_codecs.encode calls compared as the values they build"),
    ("bytearray", "bytearray compared as bytes"),
    ("sharing", "identity not modelled: shared objects compared as copies"),
    ("dict-order", "dict items compared in a canonical order"),
];

/// A set of leniencies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lenient {
    /// `builtins`.
    pub builtins: bool,
    /// `bytearray`.
    pub bytearray: bool,
    /// `sharing`.
    pub sharing: bool,
    /// `dict-order`.
    pub dict_order: bool,
}

impl Lenient {
    /// Parses a comma-separated list (or a list of names).
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Lenient, String> {
        let mut l = Lenient::default();
        for n in names {
            match n.trim() {
                "" => {}
                "builtins" => l.builtins = true,
                "bytearray" => l.bytearray = true,
                "sharing" => l.sharing = true,
                "dict-order" => l.dict_order = true,
                other => {
                    let known: Vec<&str> = ALL.iter().map(|(n, _)| *n).collect();
                    return Err(format!("unknown leniency {other:?} (known: {})", known.join(", ")));
                }
            }
        }
        Ok(l)
    }

    /// The names, in the order of [`ALL`].
    pub fn names(&self) -> Vec<&'static str> {
        let on = [self.builtins, self.bytearray, self.sharing, self.dict_order];
        ALL.iter().zip(on).filter(|(_, on)| *on).map(|((n, _), _)| *n).collect()
    }

    /// Whether none applies.
    pub fn is_strict(&self) -> bool {
        self.names().is_empty()
    }

    /// `doc` normalized by these leniencies (a copy; `doc` itself when none applies).
    pub fn apply(&self, doc: &J) -> J {
        let mut d = doc.clone();
        if self.builtins {
            d = map_nodes(d, &builtin_value);
        }
        if self.bytearray {
            d = map_nodes(d, &|mut n| {
                if tag(&n) == "bytearray" {
                    n["t"] = json!("bytes");
                    if let Some(m) = n.as_object_mut() {
                        m.remove("id");
                    }
                }
                n
            });
        }
        if self.sharing {
            d = unshare(&d).unwrap_or(d);
        }
        if self.dict_order {
            d = map_nodes(d, &|mut n| {
                if tag(&n) == "dict" {
                    if let Some(items) = n.get_mut("items").and_then(J::as_array_mut) {
                        items.sort_by_cached_key(|kv| kv.get(0).map(J::to_string).unwrap_or_default());
                    }
                }
                n
            });
        }
        d
    }
}

fn tag(n: &J) -> &str {
    n.get("t").and_then(J::as_str).unwrap_or("")
}

/// Rebuilds every node bottom-up through `f` (children first).
fn map_nodes(n: J, f: &dyn Fn(J) -> J) -> J {
    let n = match n {
        J::Object(m) => J::Object(m.into_iter().map(|(k, v)| (k, map_nodes(v, f))).collect::<Map<_, _>>()),
        J::Array(a) => J::Array(a.into_iter().map(|v| map_nodes(v, f)).collect()),
        other => other,
    };
    if n.get("t").is_some() {
        f(n)
    } else {
        n
    }
}

fn is_global(n: &J, modules: &[&str], name: &str) -> bool {
    tag(n) == "global"
        && n.get("name").and_then(J::as_str) == Some(name)
        && n.get("module").and_then(J::as_str).is_some_and(|m| modules.contains(&m))
}

/// An object node that calls one of the builtins, as the value the call returns.
fn builtin_value(n: J) -> J {
    if tag(&n) != "object" || n.get("ops").and_then(J::as_array).is_some_and(|o| !o.is_empty()) {
        return n;
    }
    let Some(callee) = n.pointer("/new/call") else { return n };
    let args = n.pointer("/new/args").and_then(J::as_array).cloned().unwrap_or_default();
    let b = ["builtins", "__builtin__"];
    let text = |x: &J, t: &str| (tag(x) == t).then(|| x.get("v").and_then(J::as_str).unwrap_or("").to_string());
    let id = n.get("id").cloned();
    let with_id = |mut v: J| {
        if let Some(id) = &id {
            v["id"] = id.clone();
        }
        v
    };
    for (name, t) in [("set", "set"), ("frozenset", "frozenset")] {
        if is_global(callee, &b, name) {
            if let [arg] = args.as_slice() {
                if tag(arg) == "list" && arg.get("id").is_none() {
                    return with_id(json!({"t": t, "items": arg["items"].clone()}));
                }
            }
        }
    }
    if is_global(callee, &b, "bytearray") {
        match args.as_slice() {
            [] => return with_id(json!({"t": "bytearray", "v": ""})),
            [x] if tag(x) == "bytes" => return with_id(json!({"t": "bytearray", "v": x["v"].clone()})),
            [s, enc] => {
                if let (Some(s), Some(e)) = (text(s, "str"), text(enc, "str")) {
                    if let Some(h) = latin1_hex(&s, &e) {
                        return with_id(json!({"t": "bytearray", "v": h}));
                    }
                }
            }
            _ => {}
        }
    }
    if is_global(callee, &b, "bytes") && args.is_empty() {
        return with_id(json!({"t": "bytes", "v": ""}));
    }
    if is_global(callee, &["_codecs"], "encode") {
        if let [s, enc] = args.as_slice() {
            if let (Some(s), Some(e)) = (text(s, "str"), text(enc, "str")) {
                if let Some(h) = latin1_hex(&s, &e) {
                    return with_id(json!({"t": "bytes", "v": h}));
                }
            }
        }
    }
    n
}

fn latin1_hex(s: &str, encoding: &str) -> Option<String> {
    if !matches!(encoding, "latin1" | "latin-1" | "latin_1" | "iso-8859-1") {
        return None;
    }
    let bytes: Option<Vec<u8>> = s.chars().map(|c| u8::try_from(c).ok()).collect();
    Some(brine_codec::hex::encode(&bytes?))
}

/// Expands refs to finished nodes into copies and drops ids; `None` when the expansion
/// would exceed a size bound (a DAG sharing can double per level).
fn unshare(doc: &J) -> Option<J> {
    let mut defs: HashMap<u64, &J> = HashMap::new();
    brine_codec::json::collect_defs(doc, &mut defs);
    let mut budget: i64 = 2_000_000;
    let mut open = vec![];
    expand(doc, &defs, &mut open, &mut budget)
}

fn expand(n: &J, defs: &HashMap<u64, &J>, open: &mut Vec<u64>, budget: &mut i64) -> Option<J> {
    *budget -= 1;
    if *budget < 0 {
        return None;
    }
    match n {
        J::Object(m) => {
            if m.get("t").and_then(J::as_str) == Some("ref") {
                let id = m.get("id").and_then(J::as_u64);
                if let Some(def) = id.filter(|i| !open.contains(i)).and_then(|i| defs.get(&i)) {
                    return expand(def, defs, open, budget);
                }
                return Some(n.clone()); // a cycle (or dangling): left as a ref
            }
            let id = m.get("id").and_then(J::as_u64);
            if let Some(i) = id {
                open.push(i);
            }
            let mut out = Map::new();
            for (k, v) in m {
                if k == "id" {
                    continue;
                }
                out.insert(k.clone(), expand(v, defs, open, budget)?);
            }
            if id.is_some() {
                open.pop();
            }
            Some(J::Object(out))
        }
        J::Array(a) => Some(J::Array(a.iter().map(|v| expand(v, defs, open, budget)).collect::<Option<_>>()?)),
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_become_values() {
        let l = Lenient::parse(["builtins"]).unwrap();
        let set = json!({"t":"object","new":{"call":{"t":"global","module":"builtins","name":"set"},
            "args":[{"t":"list","items":[{"t":"int","v":"1"}]}]},"ops":[]});
        assert_eq!(l.apply(&set), json!({"t":"set","items":[{"t":"int","v":"1"}]}));
        let enc = json!({"t":"object","new":{"call":{"t":"global","module":"_codecs","name":"encode"},
            "args":[{"t":"str","v":"a\u{e9}"},{"t":"str","v":"latin1"}]},"ops":[]});
        assert_eq!(l.apply(&enc), json!({"t":"bytes","v":"61e9"}));
    }

    #[test]
    fn sharing_expands_refs_but_not_cycles() {
        let l = Lenient::parse(["sharing"]).unwrap();
        let d = json!({"t":"list","items":[{"t":"list","id":1,"items":[]},{"t":"ref","id":1}]});
        assert_eq!(l.apply(&d), json!({"t":"list","items":[{"t":"list","items":[]},{"t":"list","items":[]}]}));
        let c = json!({"t":"list","id":1,"items":[{"t":"ref","id":1}]});
        assert_eq!(l.apply(&c), json!({"t":"list","items":[{"t":"ref","id":1}]}));
    }

    #[test]
    fn dict_order_sorts_both_sides_alike() {
        let l = Lenient::parse(["dict-order"]).unwrap();
        let a = json!({"t":"dict","items":[[{"t":"str","v":"b"},{"t":"none"}],[{"t":"str","v":"a"},{"t":"none"}]]});
        let b = json!({"t":"dict","items":[[{"t":"str","v":"a"},{"t":"none"}],[{"t":"str","v":"b"},{"t":"none"}]]});
        assert_eq!(l.apply(&a), l.apply(&b));
        assert!(Lenient::parse(["nope"]).is_err());
    }
}
