//! The value generator: [`GeneratedValue`], a pickle JSON document (docs/pickle-json.md) of
//! builtin values, for encoders and round trips.
//!
//! Documents are canonical as the spec wants them: dict keys and set items are hashable and
//! already merged the way Python merges them (1, 1.0 and True are one key), ids are numbered
//! 1, 2, 3... in order of first occurrence and appear only on nodes referred to again, and
//! every cycle passes through a list or a dict (the only way Python can build one from
//! these types).

use crate::pickle::args::{chance, code_point, len};
use arbitrary::{Arbitrary, Result, Unstructured};
use brine_codec::hex;
use brine_codec::json::float_repr;
use brine_codec::pytext::push_char;
use serde_json::{json, Map, Value as J};
use std::collections::{BTreeSet, HashMap, HashSet};

config! {
    /// What [`GeneratedValue::new`] may generate.
    ValueConfig {
        /// Deepest nesting of containers. Defaults to 5.
        max_depth: usize = 5,
        /// Most nodes in the document (atoms, containers and refs). Defaults to 48.
        max_nodes: usize = 48,
        /// Most items (or dict entries) of one container. Defaults to 6.
        max_len: usize = 6,
        /// Longest str, in code points. Defaults to 16.
        max_str_len: usize = 16,
        /// Longest bytes or bytearray. Defaults to 16.
        max_bytes_len: usize = 16,
        /// Most decimal digits of an int. Defaults to 40.
        max_int_digits: usize = 40,
        /// Whether containers, str and bytes may be referred to again (ids and refs). Defaults
        /// to true.
        sharing: bool = true,
        /// Whether lists and dicts may hold (directly or through other containers) their own
        /// ancestors. Defaults to true.
        cycles: bool = true,
    }
}

/// Swarm testing: random maximums, sharing and cycles on or off.
impl<'a> Arbitrary<'a> for ValueConfig {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ValueConfig {
            max_depth: u.int_in_range(0..=12)?,
            max_nodes: u.int_in_range(1..=400)?,
            max_len: u.int_in_range(0..=32)?,
            max_str_len: u.int_in_range(0..=64)?,
            max_bytes_len: u.int_in_range(0..=64)?,
            max_int_digits: u.int_in_range(1..=400)?,
            sharing: u.arbitrary()?,
            cycles: u.arbitrary()?,
        })
    }
}

/// A generated pickle JSON document.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedValue {
    /// The document.
    pub document: J,
}

impl GeneratedValue {
    /// Generates a document as `config` allows, drawing every choice from `u`.
    pub fn new(config: &ValueConfig, u: &mut Unstructured) -> Result<GeneratedValue> {
        let mut g = VGen {
            config,
            nodes: Vec::new(),
            path: Vec::new(),
            budget: config.max_nodes.max(1),
            interned: HashMap::new(),
        };
        let root = g.gen(u, false, false, 0)?;
        Ok(GeneratedValue {
            document: g.write(root),
        })
    }
}

/// Generates with the default [`ValueConfig`].
impl<'a> Arbitrary<'a> for GeneratedValue {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        GeneratedValue::new(&ValueConfig::default(), u)
    }
}

/// A place in a container: a node written there, or a ref to one written earlier.
#[derive(Clone, Copy)]
enum Child {
    Own(usize),
    Ref(usize),
}

enum Body {
    None,
    Bool(bool),
    Int(String),
    Float(f64),
    /// Generalized UTF-8.
    Str(Vec<u8>),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    Tuple(Vec<Child>),
    List(Vec<Child>),
    Dict(Vec<(Child, Child)>),
    Set(Vec<Child>),
    FrozenSet(Vec<Child>),
}

struct Node {
    body: Body,
    /// Python equality class for hashable nodes (equal values, equal strings); `None` for
    /// unhashable ones.
    key: Option<String>,
    /// May be referred to: has identity (containers, str, bytes; not the empty tuple), is
    /// finished, and made it into the document.
    shareable: bool,
}

struct VGen<'c> {
    config: &'c ValueConfig,
    nodes: Vec<Node>,
    /// Containers being built, outermost first, and whether each is a list or dict.
    /// (Sets and frozensets never are ancestors of a ref: their items are hashable.)
    path: Vec<(usize, bool)>,
    budget: usize,
    /// Composite keys (tuples', frozensets') interned to short names, so that a key names
    /// its items' keys rather than spelling them out: with shared tuples nested a few deep,
    /// spelled-out keys grow exponentially (a fuzz-found out-of-memory).
    interned: HashMap<String, usize>,
}

#[derive(Clone, Copy)]
enum Shape {
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
}

impl VGen<'_> {
    /// The short name of a composite key: equal keys, equal names.
    fn intern(&mut self, key: String) -> String {
        let next = self.interned.len();
        format!("#{}", self.interned.entry(key).or_insert(next))
    }

    fn add(&mut self, body: Body, key: Option<String>, shareable: bool) -> usize {
        self.nodes.push(Node {
            body,
            key,
            shareable,
        });
        self.nodes.len() - 1
    }

    fn key_of(&self, c: Child) -> Option<&String> {
        match c {
            Child::Own(i) | Child::Ref(i) => self.nodes[i].key.as_ref(),
        }
    }

    /// One node for a place that must hold a hashable value when `hashable`; `slot` when
    /// the place is a list item or a dict value.
    fn gen(
        &mut self,
        u: &mut Unstructured,
        hashable: bool,
        slot: bool,
        depth: usize,
    ) -> Result<Child> {
        self.budget = self.budget.saturating_sub(1);
        if self.config.sharing && chance(u, 1, 6)? {
            if let Some(r) = self.pick_ref(u, hashable, slot)? {
                return Ok(Child::Ref(r));
            }
        }
        let containers = depth < self.config.max_depth && self.budget > 0;
        let pick = u.int_in_range(0..=if containers { 15u8 } else { 8 })?;
        let atom = |g: &mut Self, body: Body, key: Option<String>, shareable: bool| {
            Ok(Child::Own(g.add(body, key, shareable)))
        };
        let shape = match pick {
            0 => return atom(self, Body::None, Some("n".into()), false),
            1 => {
                let b: bool = u.arbitrary()?;
                return atom(self, Body::Bool(b), Some(format!("i:{}", b as u8)), false);
            }
            2 | 3 => {
                let s = self.int(u)?;
                let k = format!("i:{s}");
                return atom(self, Body::Int(s), Some(k), false);
            }
            4 => {
                let f = crate::pickle::args::float(u)?;
                return atom(self, Body::Float(f), Some(float_key(f)), false);
            }
            5 | 6 => {
                let mut s = Vec::new();
                for _ in 0..len(u, self.config.max_str_len)? {
                    push_char(&mut s, code_point(u, true)?);
                }
                let k = format!("s:{}", hex::encode(&s));
                return atom(self, Body::Str(s), Some(k), true);
            }
            7 => {
                let b = self.bytes(u)?;
                let k = format!("b:{}", hex::encode(&b));
                return atom(self, Body::Bytes(b), Some(k), true);
            }
            8 if hashable => return atom(self, Body::Int("0".into()), Some("i:0".into()), false),
            8 => {
                let b = self.bytes(u)?;
                return atom(self, Body::ByteArray(b), None, true);
            }
            9..=12 if hashable => Shape::Tuple,
            _ if hashable => Shape::FrozenSet,
            9 => Shape::Tuple,
            10 | 11 => Shape::List,
            12 | 13 => Shape::Dict,
            14 => Shape::Set,
            _ => Shape::FrozenSet,
        };
        self.container(u, shape, hashable, depth)
    }

    fn container(
        &mut self,
        u: &mut Unstructured,
        shape: Shape,
        hashable: bool,
        depth: usize,
    ) -> Result<Child> {
        let id = self.add(Body::None, None, false);
        self.path
            .push((id, matches!(shape, Shape::List | Shape::Dict)));
        let n = len(u, self.config.max_len)?;
        let mut items = Vec::new();
        let mut pairs = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        for _ in 0..n {
            if self.budget == 0 {
                break;
            }
            match shape {
                Shape::Tuple => items.push(self.gen(u, hashable, false, depth + 1)?),
                Shape::List => items.push(self.gen(u, false, true, depth + 1)?),
                Shape::Set | Shape::FrozenSet => {
                    let c = self.gen(u, true, false, depth + 1)?;
                    if seen.insert(self.key_of(c).cloned().expect("hashable")) {
                        items.push(c);
                    } else {
                        self.kill(c);
                    }
                }
                Shape::Dict => {
                    let k = self.gen(u, true, false, depth + 1)?;
                    let v = self.gen(u, false, true, depth + 1)?;
                    if seen.insert(self.key_of(k).cloned().expect("hashable")) {
                        pairs.push((k, v));
                    } else {
                        self.kill(k);
                        self.kill(v);
                    }
                }
            }
        }
        self.path.pop();
        let all_keys = |g: &Self, items: &[Child]| -> Option<Vec<String>> {
            items.iter().map(|&c| g.key_of(c).cloned()).collect()
        };
        let (body, key, shareable) = match shape {
            Shape::Tuple if items.is_empty() => {
                (Body::Tuple(items), Some("t()".to_string()), false)
            }
            Shape::Tuple => {
                // A ref to an unfinished ancestor has no key yet: such a tuple is in a cycle,
                // through a list or dict, and unhashable.
                let key = all_keys(self, &items).map(|ks| self.intern(format!("t({})", ks.join(","))));
                debug_assert!(!hashable || key.is_some());
                (Body::Tuple(items), key, true)
            }
            Shape::FrozenSet => {
                let ks: BTreeSet<String> = all_keys(self, &items)
                    .expect("hashable items")
                    .into_iter()
                    .collect();
                let key = self.intern(format!("f{{{}}}", ks.into_iter().collect::<Vec<_>>().join(",")));
                (Body::FrozenSet(items), Some(key), true)
            }
            Shape::Set => (Body::Set(items), None, true),
            Shape::List => (Body::List(items), None, true),
            Shape::Dict => (Body::Dict(pairs), None, true),
        };
        self.nodes[id] = Node {
            body,
            key,
            shareable,
        };
        Ok(Child::Own(id))
    }

    /// A node to refer to again: a finished one (hashable when the place needs it), or,
    /// when cycles are on and the place may be unhashable, an ancestor: a list or dict
    /// anywhere below it, a tuple only from a list item or dict value. (Python could also
    /// build a tuple whose own tuples refer back to it through a list, but the harness
    /// builds documents depth first, patching only list items and dict values:
    /// scripts/brine_sandbox.py's doc_to_object.)
    fn pick_ref(
        &mut self,
        u: &mut Unstructured,
        hashable: bool,
        slot: bool,
    ) -> Result<Option<usize>> {
        let mut cands: Vec<usize> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.shareable && (!hashable || n.key.is_some()))
            .map(|(i, _)| i)
            .collect();
        if self.config.cycles && !hashable {
            cands.extend(
                self.path
                    .iter()
                    .filter(|&&(_, mutable)| mutable || slot)
                    .map(|&(a, _)| a),
            );
        }
        if cands.is_empty() {
            return Ok(None);
        }
        Ok(Some(*u.choose(&cands)?))
    }

    /// Takes a dropped node (a duplicate key) and what it holds out of reach of refs.
    fn kill(&mut self, c: Child) {
        let Child::Own(i) = c else { return };
        self.nodes[i].shareable = false;
        let kids: Vec<Child> = match &self.nodes[i].body {
            Body::Tuple(v) | Body::List(v) | Body::Set(v) | Body::FrozenSet(v) => v.clone(),
            Body::Dict(p) => p.iter().flat_map(|&(k, v)| [k, v]).collect(),
            _ => vec![],
        };
        for k in kids {
            self.kill(k);
        }
    }

    fn bytes(&self, u: &mut Unstructured) -> Result<Vec<u8>> {
        crate::pickle::args::bytes(u, self.config.max_bytes_len)
    }

    /// An int's decimal text: small, boundary or many-digit.
    fn int(&self, u: &mut Unstructured) -> Result<String> {
        Ok(match u.int_in_range(0..=3u8)? {
            0 | 1 => crate::pickle::args::int64(u)?.to_string(),
            2 => (*u.choose(&[
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775809",
                "340282366920938463463374607431768211456",
                "4294967296",
                "-2147483649",
            ])?)
            .to_string(),
            _ => {
                let n = u.int_in_range(1..=self.config.max_int_digits.max(1))?;
                let mut s = String::new();
                if u.arbitrary()? {
                    s.push('-');
                }
                s.push(char::from(b'1' + u.int_in_range(0..=8u8)?));
                for _ in 1..n {
                    s.push(char::from(b'0' + u.int_in_range(0..=9u8)?));
                }
                s
            }
        })
    }

    /// The document: ids on the nodes referred to, numbered in order of first occurrence.
    fn write(&self, root: Child) -> J {
        // Refs in the document (not in dropped duplicate keys).
        let mut referred = vec![false; self.nodes.len()];
        let mut work = vec![root];
        while let Some(c) = work.pop() {
            match c {
                Child::Ref(i) => referred[i] = true,
                Child::Own(i) => work.extend(children(&self.nodes[i].body)),
            }
        }
        let mut ids = vec![0u64; self.nodes.len()];
        let mut next = 1;
        let mut work = vec![root];
        while let Some(c) = work.pop() {
            if let Child::Own(i) = c {
                if referred[i] {
                    ids[i] = next;
                    next += 1;
                }
                let mut kids = children(&self.nodes[i].body);
                kids.reverse();
                work.extend(kids);
            }
        }
        self.node_json(root, &ids)
    }

    fn node_json(&self, c: Child, ids: &[u64]) -> J {
        let i = match c {
            Child::Ref(i) => return json!({"t": "ref", "id": ids[i]}),
            Child::Own(i) => i,
        };
        let mut m = Map::new();
        let tag = |m: &mut Map<String, J>, t: &str| {
            m.insert("t".into(), J::from(t));
            if ids[i] != 0 {
                m.insert("id".into(), J::from(ids[i]));
            }
        };
        let seq =
            |items: &[Child]| J::Array(items.iter().map(|&c| self.node_json(c, ids)).collect());
        match &self.nodes[i].body {
            Body::None => tag(&mut m, "none"),
            Body::Bool(b) => {
                tag(&mut m, "bool");
                m.insert("v".into(), J::from(*b));
            }
            Body::Int(s) => {
                tag(&mut m, "int");
                m.insert("v".into(), J::from(s.as_str()));
            }
            Body::Float(f) => {
                tag(&mut m, "float");
                m.insert("v".into(), J::from(float_repr(*f)));
            }
            Body::Str(s) => {
                tag(&mut m, "str");
                match std::str::from_utf8(s) {
                    Ok(t) => m.insert("v".into(), J::from(t)),
                    Err(_) => m.insert("hex".into(), J::from(hex::encode(s))),
                };
            }
            Body::Bytes(b) => {
                tag(&mut m, "bytes");
                m.insert("v".into(), J::from(hex::encode(b)));
            }
            Body::ByteArray(b) => {
                tag(&mut m, "bytearray");
                m.insert("v".into(), J::from(hex::encode(b)));
            }
            Body::Tuple(v) | Body::List(v) | Body::Set(v) | Body::FrozenSet(v) => {
                let t = match &self.nodes[i].body {
                    Body::Tuple(_) => "tuple",
                    Body::List(_) => "list",
                    Body::Set(_) => "set",
                    _ => "frozenset",
                };
                tag(&mut m, t);
                m.insert("items".into(), seq(v));
            }
            Body::Dict(p) => {
                tag(&mut m, "dict");
                let items = p
                    .iter()
                    .map(|&(k, v)| J::Array(vec![self.node_json(k, ids), self.node_json(v, ids)]))
                    .collect();
                m.insert("items".into(), J::Array(items));
            }
        }
        J::Object(m)
    }
}

fn children(b: &Body) -> Vec<Child> {
    match b {
        Body::Tuple(v) | Body::List(v) | Body::Set(v) | Body::FrozenSet(v) => v.clone(),
        Body::Dict(p) => p.iter().flat_map(|&(k, v)| [k, v]).collect(),
        _ => vec![],
    }
}

/// The equality class of a float as a key: integral values as the int they equal (so
/// 1.0 merges with 1 and True, -0.0 with 0), every NaN one class (two NaN keys in one dict
/// would depend on object identity, which a document does not carry).
fn float_key(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_finite() && f.fract() == 0.0 {
        return format!("i:{}", integral_decimal(f));
    }
    format!("f:{}", float_repr(f))
}

/// The exact decimal value of an integral finite double.
fn integral_decimal(f: f64) -> String {
    if f.abs() < 9.0e18 {
        return (f as i64).to_string();
    }
    // f = mantissa * 2^exp with exp > 0: multiply out in base 10^9 limbs.
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1075;
    let mant = (bits & 0x000f_ffff_ffff_ffff) | (1 << 52);
    let mut limbs: Vec<u64> = vec![
        mant % 1_000_000_000,
        (mant / 1_000_000_000) % 1_000_000_000,
        mant / 1_000_000_000_000_000_000,
    ];
    for _ in 0..exp {
        let mut carry = 0;
        for l in limbs.iter_mut() {
            let v = *l * 2 + carry;
            *l = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && *limbs.last().unwrap() == 0 {
        limbs.pop();
    }
    let mut s = String::new();
    if f < 0.0 {
        s.push('-');
    }
    s.push_str(&limbs.last().unwrap().to_string());
    for l in limbs.iter().rev().skip(1) {
        s.push_str(&format!("{l:09}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys stay short however deeply hashable values are shared: a composite key names its
    /// items' keys (interned), so its length is bounded by its item count, not by the size
    /// of the tree its shared items unfold to. (Spelled-out keys made a fuzz input of 1 KiB
    /// ask for gigabytes.) The seeds favour tuples in tuples with heavy sharing.
    #[test]
    fn composite_keys_do_not_unfold_sharing() {
        let config = ValueConfig { max_depth: 8, max_nodes: 400, max_len: 8, max_str_len: 4, max_bytes_len: 4, ..ValueConfig::default() };
        let mut seed = 0x5eed_u64;
        let mut longest = 0;
        for _ in 0..3000 {
            let data: Vec<u8> = (0..4096)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 56) as u8
                })
                .collect();
            let mut u = Unstructured::new(&data);
            let mut g = VGen { config: &config, nodes: Vec::new(), path: Vec::new(), budget: config.max_nodes, interned: HashMap::new() };
            if g.gen(&mut u, true, false, 0).is_err() {
                continue;
            }
            for k in g.interned.keys() {
                // "t(" or "f{", the names, commas, the closer; a name is at most "i:", a
                // sign and the 309 digits of an integral float near f64::MAX (ints' 40
                // digits, "s:" and 4 code points' UTF-8 hex, "#" and an index are shorter).
                assert!(k.len() <= 3 + config.max_len * 313, "a composite key of {} chars: {k}", k.len());
                longest = longest.max(k.len());
            }
        }
        assert!(longest > 0, "no composite key was generated");
    }
}
