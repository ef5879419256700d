//! Reading pickle JSON (docs/pickle-json.md) into the value model: the inverse of
//! [`super::write`], and the encoder's input.
//!
//! A document becomes a [`Heap`] and a root [`Value`] the way CPython would build the object
//! it describes: one object per node (a `ref` is the object its `id` names, so cycles and
//! sharing survive), one global per (module, name), dict entries and set items inserted in
//! document order with Python's key merging (1, 1.0 and True are one key; an unhashable key is
//! an error; each NaN node is its own float object, so two NaN keys stay two keys). Set
//! items keep document order, which the byte-exact encoder relies on.
//!
//! The walk is iterative (documents nest as deep as pickles do) and runs in two phases:
//! first every node becomes an object and every slot is filled (tuples, lists, objects are then
//! complete), then frozensets are filled children-first, and last dicts and sets, so hashing a
//! key never looks at an unfinished tuple or frozenset. Every error names the JSON path of the
//! offending node, e.g. `/items/3/v`.

use crate::hex;
use crate::pytext;
use crate::value::{Construction, Dict, HashError, Heap, Obj, ObjId, ObjOp, Object, PyStr, Set, Value};
use num_bigint::BigInt;
use serde_json::Value as J;
use std::collections::HashMap;
use std::fmt;

/// Nesting limit for hashing/comparing tuple and frozenset keys (as the decoder's default).
const MAX_KEY_DEPTH: usize = 5_000;
/// Work budget for hashing/comparing keys (as the decoder's default).
const MAX_KEY_WORK: u64 = 100_000_000;

/// A malformed or unrepresentable document: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// JSON-pointer-like path of the offending node or field, e.g. `/items/3/v` (`/` is the root).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for ReadError {}

/// Parses a pickle JSON document into a fresh heap and its root value.
pub fn read(doc: &J) -> Result<(Heap, Value), ReadError> {
    let mut r = Reader::new();
    let root = r.run(doc)?;
    Ok((r.heap, root))
}

// ---- paths ----

/// One step of a path from a node to a child node.
#[derive(Clone, Copy, Debug)]
enum Seg {
    /// The root.
    Root,
    /// `/name`.
    Key(&'static str),
    /// `/name/i`.
    Item(&'static str, u32),
    /// `/name/i/j` (dict entries and kwargs pairs).
    Pair(&'static str, u32, u8),
    /// `/ops/i/name`.
    Op(u32, &'static str),
}

impl Seg {
    fn render(self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Seg::Root => Ok(()),
            Seg::Key(k) => write!(out, "/{k}"),
            Seg::Item(k, i) => write!(out, "/{k}/{i}"),
            Seg::Pair(k, i, j) => write!(out, "/{k}/{i}/{j}"),
            Seg::Op(i, k) => write!(out, "/ops/{i}/{k}"),
        };
    }
}

/// Parent-linked path steps: a node's path is its step plus its parent's path.
#[derive(Default)]
struct Paths {
    steps: Vec<(u32, Seg)>,
}

const NO_PARENT: u32 = u32::MAX;

impl Paths {
    fn push(&mut self, parent: u32, seg: Seg) -> u32 {
        self.steps.push((parent, seg));
        (self.steps.len() - 1) as u32
    }

    fn render(&self, parent: u32, seg: Seg, suffix: &str) -> String {
        let mut segs = vec![seg];
        let mut p = parent;
        while p != NO_PARENT {
            let (pp, s) = self.steps[p as usize];
            segs.push(s);
            p = pp;
        }
        let mut out = String::new();
        for s in segs.iter().rev() {
            s.render(&mut out);
        }
        out.push_str(suffix);
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

// ---- the walk ----

/// Where a node's value goes.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Root,
    /// Item i of a tuple or list.
    Seq(ObjId, u32),
    /// Key or value (0/1) of pending dict entry i.
    Dict(u32, u32, u8),
    /// Item i of a pending set or frozenset.
    Set(u32, u32),
    /// The callable / class / pid of an object.
    New(ObjId),
    /// Positional argument i.
    Arg(ObjId, u32),
    /// Key or value (0/1) of keyword argument i.
    Kw(ObjId, u32, u8),
    /// The first (item/key/state) or second (setitem value) value of op i.
    Op(ObjId, u32, u8),
    /// The bytearray a read-only view shows.
    View(ObjId),
}

/// Children of an array node, visited one at a time (a list of a million items does not
/// put a million entries on the work stack).
#[derive(Clone, Copy, Debug)]
enum Kids {
    Seq(ObjId),
    Dict(u32),
    Set(u32),
}

enum Task<'a> {
    Node { node: &'a J, slot: Slot, parent: u32, seg: Seg },
    Items { arr: &'a [J], next: u32, kids: Kids, path: u32 },
}

struct PendingDict {
    id: ObjId,
    entries: Vec<(Value, Value)>,
    path: u32,
}

struct PendingSet {
    id: ObjId,
    items: Vec<Value>,
    path: u32,
    frozen: bool,
}

struct Reader {
    heap: Heap,
    paths: Paths,
    ids: HashMap<u64, Value>,
    /// Refs met before their definition: resolved after the walk.
    forward: Vec<(Slot, u64, u32, Seg)>,
    globals: HashMap<(PyStr, PyStr), ObjId>,
    dicts: Vec<PendingDict>,
    sets: Vec<PendingSet>,
    root: Value,
}

type R<T> = Result<T, ReadError>;

fn field<'a>(node: &'a J, k: &str) -> Option<&'a J> {
    node.as_object().and_then(|m| m.get(k))
}

impl Reader {
    fn new() -> Self {
        Reader {
            heap: Heap::new(MAX_KEY_DEPTH, MAX_KEY_WORK),
            paths: Paths::default(),
            ids: HashMap::new(),
            forward: Vec::new(),
            globals: HashMap::new(),
            dicts: Vec::new(),
            sets: Vec::new(),
            root: Value::None,
        }
    }

    fn err(&self, parent: u32, seg: Seg, suffix: &str, message: impl Into<String>) -> ReadError {
        ReadError { path: self.paths.render(parent, seg, suffix), message: message.into() }
    }

    fn run(&mut self, doc: &J) -> R<Value> {
        let mut tasks = vec![Task::Node { node: doc, slot: Slot::Root, parent: NO_PARENT, seg: Seg::Root }];
        while let Some(t) = tasks.pop() {
            match t {
                Task::Node { node, slot, parent, seg } => self.node(node, slot, parent, seg, &mut tasks)?,
                Task::Items { arr, next, kids, path } => {
                    let i = next as usize;
                    if i >= arr.len() {
                        continue;
                    }
                    tasks.push(Task::Items { arr, next: next + 1, kids, path });
                    let child = &arr[i];
                    match kids {
                        Kids::Seq(id) => tasks.push(Task::Node {
                            node: child,
                            slot: Slot::Seq(id, next),
                            parent: path,
                            seg: Seg::Item("items", next),
                        }),
                        Kids::Set(p) => tasks.push(Task::Node {
                            node: child,
                            slot: Slot::Set(p, next),
                            parent: path,
                            seg: Seg::Item("items", next),
                        }),
                        Kids::Dict(p) => {
                            let pair = match child.as_array() {
                                Some(a) if a.len() == 2 => a,
                                _ => {
                                    return Err(self.err(path, Seg::Item("items", next), "", "a dict entry must be a [key, value] pair"))
                                }
                            };
                            for (j, n) in pair.iter().enumerate().rev() {
                                tasks.push(Task::Node {
                                    node: n,
                                    slot: Slot::Dict(p, next, j as u8),
                                    parent: path,
                                    seg: Seg::Pair("items", next, j as u8),
                                });
                            }
                        }
                    }
                }
            }
        }
        for (slot, id, parent, seg) in std::mem::take(&mut self.forward) {
            match self.ids.get(&id) {
                Some(&v) => self.put(slot, v, parent, seg)?,
                None => return Err(self.err(parent, seg, "", format!("ref to id {id}, which no node defines"))),
            }
        }
        self.fill_frozensets()?;
        self.fill_mutables()?;
        Ok(self.root)
    }

    /// Stores a child's value in its slot.
    fn put(&mut self, slot: Slot, v: Value, parent: u32, seg: Seg) -> R<()> {
        match slot {
            Slot::Root => self.root = v,
            Slot::Seq(id, i) => match self.heap.get_mut(id) {
                Obj::Tuple(items) | Obj::List(items) => items[i as usize] = v,
                _ => unreachable!(),
            },
            Slot::Dict(p, i, j) => {
                let e = &mut self.dicts[p as usize].entries[i as usize];
                if j == 0 {
                    e.0 = v
                } else {
                    e.1 = v
                }
            }
            Slot::Set(p, i) => self.sets[p as usize].items[i as usize] = v,
            Slot::New(id) => {
                if let Obj::Object(o) = self.heap.get_mut(id) {
                    match &mut o.new {
                        Construction::Call { callable: c, .. } => *c = v,
                        Construction::NewObj { cls: c, .. } => *c = v,
                        Construction::PersId(p) => *p = v,
                    }
                }
            }
            Slot::Arg(id, i) => {
                if let Obj::Object(o) = self.heap.get_mut(id) {
                    if let Construction::Call { args, .. } | Construction::NewObj { args, .. } = &mut o.new {
                        args[i as usize] = v;
                    }
                }
            }
            Slot::Kw(id, i, j) => {
                if let Obj::Object(o) = self.heap.get_mut(id) {
                    if let Construction::NewObj { kwargs, .. } = &mut o.new {
                        let e = &mut kwargs[i as usize];
                        if j == 0 {
                            e.0 = v
                        } else {
                            e.1 = v
                        }
                    }
                }
            }
            Slot::Op(id, i, j) => {
                if let Obj::Object(o) = self.heap.get_mut(id) {
                    match (&mut o.ops[i as usize], j) {
                        (ObjOp::Append(x) | ObjOp::Add(x) | ObjOp::Build(x), _) => *x = v,
                        (ObjOp::SetItem(k, _), 0) => *k = v,
                        (ObjOp::SetItem(_, x), _) => *x = v,
                    }
                }
            }
            Slot::View(id) => {
                let target = match v {
                    Value::Obj(t) if matches!(self.heap.get(t), Obj::ByteArray(_)) => t,
                    _ => {
                        return Err(self.err(parent, seg, "", format!("a buffer view must show a bytearray, not {}", self.heap.type_name(v))))
                    }
                };
                *self.heap.get_mut(id) = Obj::View(target);
            }
        }
        Ok(())
    }

    fn alloc(&mut self, o: Obj) -> ObjId {
        self.heap.alloc(o)
    }

    /// Registers a node's "id" (if any) for the value it made.
    fn define(&mut self, node: &J, v: Value, parent: u32, seg: Seg) -> R<()> {
        let Some(idv) = field(node, "id") else { return Ok(()) };
        let Some(id) = idv.as_u64() else {
            return Err(self.err(parent, seg, "/id", "an id must be a non-negative integer"));
        };
        if self.ids.insert(id, v).is_some() {
            return Err(self.err(parent, seg, "/id", format!("id {id} is defined twice")));
        }
        Ok(())
    }

    fn node<'a>(&mut self, node: &'a J, slot: Slot, parent: u32, seg: Seg, tasks: &mut Vec<Task<'a>>) -> R<()> {
        let Some(m) = node.as_object() else {
            return Err(self.err(parent, seg, "", "a node must be a JSON object"));
        };
        let Some(t) = m.get("t").and_then(J::as_str) else {
            return Err(self.err(parent, seg, "/t", "a node needs a string \"t\""));
        };
        let v = match t {
            "ref" => {
                let Some(id) = m.get("id").and_then(J::as_u64) else {
                    return Err(self.err(parent, seg, "/id", "a ref needs a non-negative integer id"));
                };
                match self.ids.get(&id) {
                    Some(&v) => return self.put(slot, v, parent, seg),
                    None => {
                        self.forward.push((slot, id, parent, seg));
                        return Ok(());
                    }
                }
            }
            "none" => Value::None,
            "bool" => match m.get("v").and_then(J::as_bool) {
                Some(b) => Value::Bool(b),
                None => return Err(self.err(parent, seg, "/v", "a bool needs \"v\": true or false")),
            },
            "int" => self.int(m.get("v"), parent, seg)?,
            "float" => match self.float(m.get("v"), parent, seg)? {
                // A NaN has identity (a dict finds a NaN key only by identity): each node is
                // its own object, as float('nan') makes a new one.
                f if f.is_nan() => Value::Obj(self.alloc(Obj::Float(f))),
                f => Value::Float(f),
            },
            "str" => {
                let s = self.str_field(m, "v", "hex", parent, seg)?;
                Value::Obj(self.alloc(Obj::Str(s)))
            }
            "bytes" => {
                let b = self.hex_field(m.get("v"), parent, seg, "/v")?;
                Value::Obj(self.alloc(Obj::Bytes(b.into())))
            }
            "bytearray" => {
                let b = self.hex_field(m.get("v"), parent, seg, "/v")?;
                Value::Obj(self.alloc(Obj::ByteArray(b)))
            }
            "global" => {
                let module = self.str_field(m, "module", "module_hex", parent, seg)?;
                let name = self.str_field(m, "name", "name_hex", parent, seg)?;
                let key = (module, name);
                let id = match self.globals.get(&key) {
                    Some(&id) => id,
                    None => {
                        let id = self.alloc(Obj::global(key.0.clone(), key.1.clone()));
                        self.globals.insert(key, id);
                        id
                    }
                };
                Value::Obj(id)
            }
            "tuple" | "list" => {
                let items = self.array(m.get("items"), parent, seg, "/items")?;
                let vals = vec![Value::None; items.len()];
                let id = self.alloc(if t == "tuple" { Obj::Tuple(vals) } else { Obj::List(vals) });
                let v = Value::Obj(id);
                self.define(node, v, parent, seg)?;
                self.put(slot, v, parent, seg)?;
                let path = self.paths.push(parent, seg);
                tasks.push(Task::Items { arr: items, next: 0, kids: Kids::Seq(id), path });
                return Ok(());
            }
            "set" | "frozenset" => {
                let items = self.array(m.get("items"), parent, seg, "/items")?;
                let frozen = t == "frozenset";
                let id = self.alloc(if frozen { Obj::FrozenSet(Box::default()) } else { Obj::Set(Box::default()) });
                let v = Value::Obj(id);
                self.define(node, v, parent, seg)?;
                self.put(slot, v, parent, seg)?;
                let path = self.paths.push(parent, seg);
                let p = self.sets.len() as u32;
                self.sets.push(PendingSet { id, items: vec![Value::None; items.len()], path, frozen });
                tasks.push(Task::Items { arr: items, next: 0, kids: Kids::Set(p), path });
                return Ok(());
            }
            "dict" => {
                let items = self.array(m.get("items"), parent, seg, "/items")?;
                let id = self.alloc(Obj::Dict(Box::default()));
                let v = Value::Obj(id);
                self.define(node, v, parent, seg)?;
                self.put(slot, v, parent, seg)?;
                let path = self.paths.push(parent, seg);
                let p = self.dicts.len() as u32;
                self.dicts.push(PendingDict { id, entries: vec![(Value::None, Value::None); items.len()], path });
                tasks.push(Task::Items { arr: items, next: 0, kids: Kids::Dict(p), path });
                return Ok(());
            }
            "buffer" => {
                if let Some(view) = m.get("view") {
                    if m.get("readonly").and_then(J::as_bool) == Some(false) {
                        return Err(self.err(parent, seg, "/readonly", "a buffer view is read-only"));
                    }
                    let id = self.alloc(Obj::View(0));
                    let v = Value::Obj(id);
                    self.define(node, v, parent, seg)?;
                    self.put(slot, v, parent, seg)?;
                    let path = self.paths.push(parent, seg);
                    tasks.push(Task::Node { node: view, slot: Slot::View(id), parent: path, seg: Seg::Key("view") });
                    return Ok(());
                }
                let Some(index) = m.get("index").and_then(J::as_u64) else {
                    return Err(self.err(parent, seg, "/index", "a buffer needs a non-negative integer index"));
                };
                let Some(readonly) = m.get("readonly").and_then(J::as_bool) else {
                    return Err(self.err(parent, seg, "/readonly", "a buffer needs \"readonly\": true or false"));
                };
                // The buffer's contents ("v", when the pickle wrote into it) are kept for
                // round trips; the encoder never looks at them (they travel out of band).
                if let Some(hex) = m.get("v") {
                    let data = self.hex_field(Some(hex), parent, seg, "/v")?;
                    if index < 1 << 16 {
                        let i = index as usize;
                        if self.heap.buffers.len() <= i {
                            self.heap.buffers.resize(i + 1, Vec::new());
                        }
                        self.heap.buffers[i] = data;
                    }
                }
                Value::Obj(self.alloc(Obj::Buffer { index: index as usize, readonly }))
            }
            "object" => return self.object(node, slot, parent, seg, tasks),
            "error" => return Err(self.err(parent, seg, "", "an error node describes no value")),
            other => return Err(self.err(parent, seg, "/t", format!("unknown node type {other:?}"))),
        };
        self.define(node, v, parent, seg)?;
        self.put(slot, v, parent, seg)
    }

    fn object<'a>(&mut self, node: &'a J, slot: Slot, parent: u32, seg: Seg, tasks: &mut Vec<Task<'a>>) -> R<()> {
        let Some(new) = field(node, "new").filter(|n| n.is_object()) else {
            return Err(self.err(parent, seg, "/new", "an object needs a \"new\" object"));
        };
        let kinds: Vec<&str> = ["call", "newobj", "persid"].into_iter().filter(|k| field(new, k).is_some()).collect();
        if kinds.len() != 1 {
            return Err(self.err(parent, seg, "/new", "\"new\" needs exactly one of call, newobj, persid"));
        }
        let kind = kinds[0];
        let no_items: &[J] = &[];
        let args = match field(new, "args") {
            None => no_items,
            Some(a) => self.array(Some(a), parent, seg, "/new/args")?,
        };
        let kwargs = match field(new, "kwargs") {
            None => no_items,
            Some(a) => self.array(Some(a), parent, seg, "/new/kwargs")?,
        };
        if kind != "newobj" && !kwargs.is_empty() {
            return Err(self.err(parent, seg, "/new/kwargs", "only newobj takes kwargs"));
        }
        if kind == "persid" && !args.is_empty() {
            return Err(self.err(parent, seg, "/new/args", "persid takes no args"));
        }
        let ops_json = match field(node, "ops") {
            None => no_items,
            Some(a) => self.array(Some(a), parent, seg, "/ops")?,
        };
        // Op shapes are checked now so that slots have the right variant.
        let mut ops = Vec::with_capacity(ops_json.len());
        let mut op_nodes: Vec<(&'a J, u32, u8, &'static str)> = Vec::new();
        for (i, op) in ops_json.iter().enumerate() {
            let i32_ = i as u32;
            let name = field(op, "op").and_then(J::as_str).unwrap_or("");
            let need = |r: &Self, k: &'static str| -> R<&'a J> {
                field(op, k).ok_or_else(|| r.err(parent, seg, &format!("/ops/{i}/{k}"), format!("a {name} op needs \"{k}\"")))
            };
            match name {
                "append" | "add" | "build" => {
                    let k = if name == "build" { "state" } else { "item" };
                    op_nodes.push((need(self, k)?, i32_, 0, k));
                    ops.push(match name {
                        "append" => ObjOp::Append(Value::None),
                        "add" => ObjOp::Add(Value::None),
                        _ => ObjOp::Build(Value::None),
                    });
                }
                "setitem" => {
                    op_nodes.push((need(self, "key")?, i32_, 0, "key"));
                    op_nodes.push((need(self, "value")?, i32_, 1, "value"));
                    ops.push(ObjOp::SetItem(Value::None, Value::None));
                }
                _ => {
                    return Err(self.err(parent, seg, &format!("/ops/{i}/op"), "op must be append, setitem, add or build"))
                }
            }
        }
        let construction = match kind {
            "call" => Construction::Call { callable: Value::None, args: vec![Value::None; args.len()] },
            "newobj" => Construction::NewObj {
                cls: Value::None,
                args: vec![Value::None; args.len()],
                kwargs: vec![(Value::None, Value::None); kwargs.len()],
            },
            _ => Construction::PersId(Value::None),
        };
        let id = self.alloc(Obj::Object(Box::new(Object { new: construction, ops })));
        let v = Value::Obj(id);
        self.define(node, v, parent, seg)?;
        self.put(slot, v, parent, seg)?;
        let path = self.paths.push(parent, seg);
        // Pushed in reverse so that they are visited in document order.
        for &(n, i, j, k) in op_nodes.iter().rev() {
            tasks.push(Task::Node { node: n, slot: Slot::Op(id, i, j), parent: path, seg: Seg::Op(i, k) });
        }
        for (i, pair) in kwargs.iter().enumerate().rev() {
            let Some(pair) = pair.as_array().filter(|a| a.len() == 2) else {
                return Err(self.err(path, Seg::Item("new/kwargs", i as u32), "", "a kwargs entry must be a [key, value] pair"));
            };
            for j in (0..2).rev() {
                tasks.push(Task::Node {
                    node: &pair[j],
                    slot: Slot::Kw(id, i as u32, j as u8),
                    parent: path,
                    seg: Seg::Pair("new/kwargs", i as u32, j as u8),
                });
            }
        }
        for (i, a) in args.iter().enumerate().rev() {
            tasks.push(Task::Node { node: a, slot: Slot::Arg(id, i as u32), parent: path, seg: Seg::Item("new/args", i as u32) });
        }
        let head = field(new, kind).unwrap();
        let k: &'static str = match kind {
            "call" => "new/call",
            "newobj" => "new/newobj",
            _ => "new/persid",
        };
        tasks.push(Task::Node { node: head, slot: Slot::New(id), parent: path, seg: Seg::Key(k) });
        Ok(())
    }

    fn array<'a>(&self, v: Option<&'a J>, parent: u32, seg: Seg, suffix: &str) -> R<&'a [J]> {
        match v.and_then(J::as_array) {
            Some(a) => Ok(a.as_slice()),
            None => Err(self.err(parent, seg, suffix, "expected an array")),
        }
    }

    fn int(&mut self, v: Option<&J>, parent: u32, seg: Seg) -> R<Value> {
        let text = match v {
            Some(J::String(s)) => s.clone(),
            Some(J::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
            _ => return Err(self.err(parent, seg, "/v", "an int needs \"v\": a decimal string")),
        };
        let digits = text.strip_prefix('-').unwrap_or(&text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.err(parent, seg, "/v", format!("not a decimal integer: {text:?}")));
        }
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Int(i));
        }
        let b: BigInt = text.parse().map_err(|_| self.err(parent, seg, "/v", format!("not a decimal integer: {text:?}")))?;
        Ok(Value::Obj(self.alloc(Obj::Int(Box::new(b)))))
    }

    fn float(&self, v: Option<&J>, parent: u32, seg: Seg) -> R<f64> {
        let text = match v {
            Some(J::String(s)) => s.as_str(),
            _ => return Err(self.err(parent, seg, "/v", "a float needs \"v\": its Python repr")),
        };
        match text {
            "nan" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => {
                let ok = !text.is_empty()
                    && text.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
                match text.parse::<f64>() {
                    Ok(f) if ok => Ok(f),
                    _ => Err(self.err(parent, seg, "/v", format!("not a float repr: {text:?}"))),
                }
            }
        }
    }

    /// A str from field `plain` (JSON text) or `hex` (surrogatepass UTF-8, lowercase hex).
    fn str_field(&self, m: &serde_json::Map<String, J>, plain: &str, hex: &str, parent: u32, seg: Seg) -> R<PyStr> {
        if let Some(v) = m.get(plain) {
            return match v.as_str() {
                Some(s) => Ok(PyStr::from_str(s)),
                None => Err(self.err(parent, seg, &format!("/{plain}"), "expected a JSON string")),
            };
        }
        let suffix = format!("/{hex}");
        let Some(h) = m.get(hex) else {
            return Err(self.err(parent, seg, &format!("/{plain}"), format!("needs \"{plain}\" or \"{hex}\"")));
        };
        let b = self.hex_field(Some(h), parent, seg, &suffix)?;
        if !pytext::utf8_surrogatepass_ok(&b) {
            return Err(self.err(parent, seg, &suffix, "not UTF-8 (surrogates allowed)"));
        }
        Ok(PyStr(b.into()))
    }

    fn hex_field(&self, v: Option<&J>, parent: u32, seg: Seg, suffix: &str) -> R<Vec<u8>> {
        let Some(s) = v.and_then(J::as_str) else {
            return Err(self.err(parent, seg, suffix, "expected a hex string"));
        };
        hex::decode(s).map_err(|e| self.err(parent, seg, suffix, format!("not an even-length hex string ({e})")))
    }

    fn hash_error(&self, e: HashError, path: u32, suffix: &str) -> ReadError {
        let message = match e {
            HashError::Unhashable(t) => format!("TypeError: unhashable type: '{t}'"),
            HashError::TooDeep => format!("key nests deeper than {MAX_KEY_DEPTH} tuples/frozensets"),
            HashError::Budget => "work budget exhausted hashing keys (exponential sharing?)".into(),
        };
        ReadError { path: self.paths.render(path, Seg::Root, suffix), message }
    }

    /// Fills frozensets children-first: a frozenset's hash is computed from its items'
    /// hashes when they are added, so inner frozensets must be complete first.
    fn fill_frozensets(&mut self) -> R<()> {
        let index: HashMap<ObjId, usize> =
            self.sets.iter().enumerate().filter(|(_, s)| s.frozen).map(|(i, s)| (s.id, i)).collect();
        if index.is_empty() {
            return Ok(());
        }
        // 0 = unvisited, 1 = open, 2 = done, for tuples and frozensets.
        let mut color: HashMap<ObjId, u8> = HashMap::new();
        let order: Vec<usize> = (0..self.sets.len()).filter(|&i| self.sets[i].frozen).collect();
        for start in order {
            let sid = self.sets[start].id;
            if color.get(&sid).copied().unwrap_or(0) != 0 {
                continue;
            }
            // (object, next child index)
            let mut stack: Vec<(ObjId, usize)> = vec![(sid, 0)];
            color.insert(sid, 1);
            while let Some(&mut (id, ref mut next)) = stack.last_mut() {
                let kids: &[Value] = match index.get(&id) {
                    Some(&p) => &self.sets[p].items,
                    None => match self.heap.get(id) {
                        Obj::Tuple(t) => t,
                        _ => &[],
                    },
                };
                if *next < kids.len() {
                    let child = kids[*next];
                    *next += 1;
                    if let Value::Obj(c) = child {
                        let is_node = index.contains_key(&c) || matches!(self.heap.get(c), Obj::Tuple(_));
                        if is_node {
                            match color.get(&c).copied().unwrap_or(0) {
                                0 => {
                                    color.insert(c, 1);
                                    stack.push((c, 0));
                                }
                                1 if index.contains_key(&c) => {
                                    let p = index[&c];
                                    return Err(ReadError {
                                        path: self.paths.render(self.sets[p].path, Seg::Root, ""),
                                        message: "a frozenset cannot contain itself".into(),
                                    });
                                }
                                _ => {}
                            }
                        }
                    }
                    continue;
                }
                stack.pop();
                color.insert(id, 2);
                if let Some(&p) = index.get(&id) {
                    self.fill_set(p)?;
                }
            }
        }
        Ok(())
    }

    fn fill_set(&mut self, p: usize) -> R<()> {
        let items = std::mem::take(&mut self.sets[p].items);
        let (id, path) = (self.sets[p].id, self.sets[p].path);
        let mut s = Set::default();
        for (i, &it) in items.iter().enumerate() {
            if let Err(e) = s.add(&mut self.heap, it) {
                return Err(self.hash_error(e, path, &format!("/items/{i}")));
            }
        }
        *self.heap.get_mut(id) = if self.sets[p].frozen { Obj::FrozenSet(Box::new(s)) } else { Obj::Set(Box::new(s)) };
        Ok(())
    }

    fn fill_mutables(&mut self) -> R<()> {
        for p in 0..self.sets.len() {
            if !self.sets[p].frozen {
                self.fill_set(p)?;
            }
        }
        for p in 0..self.dicts.len() {
            let entries = std::mem::take(&mut self.dicts[p].entries);
            let (id, path) = (self.dicts[p].id, self.dicts[p].path);
            let mut d = Dict::default();
            for (i, &(k, v)) in entries.iter().enumerate() {
                if let Err(e) = d.set_item(&mut self.heap, k, v) {
                    return Err(self.hash_error(e, path, &format!("/items/{i}/0")));
                }
            }
            *self.heap.get_mut(id) = Obj::Dict(Box::new(d));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{compare, write_value};
    use serde_json::json;

    fn round_trip(doc: J) {
        let (heap, root) = read(&doc).unwrap();
        let mut out = String::new();
        write_value(&mut out, &heap, root);
        let back: J = serde_json::from_str(&out).unwrap();
        compare(&doc, &back).unwrap_or_else(|m| panic!("{m:?}\n{doc}\n{back}"));
    }

    #[test]
    fn documents_round_trip_through_the_writer() {
        round_trip(json!({"t":"list","id":1,"items":[{"t":"ref","id":1},{"t":"int","v":"-123456789012345678901234567890"}]}));
        round_trip(json!({"t":"dict","items":[[{"t":"str","v":"a"},{"t":"float","v":"nan"}],[{"t":"tuple","items":[]},{"t":"bytes","v":"00ff"}]]}));
        round_trip(json!({"t":"object","new":{"newobj":{"t":"global","module":"m","name":"C"},"args":[{"t":"int","v":"1"}],
            "kwargs":[[{"t":"str","v":"k"},{"t":"none"}]]},"ops":[{"op":"append","item":{"t":"bool","v":true}},
            {"op":"setitem","key":{"t":"int","v":"2"},"value":{"t":"str","hex":"eda080"}},{"op":"build","state":{"t":"none"}}]}));
        round_trip(json!({"t":"frozenset","items":[{"t":"frozenset","items":[{"t":"int","v":"1"}]},{"t":"tuple","items":[{"t":"frozenset","items":[]}]}]}));
    }

    #[test]
    fn forward_refs_and_globals_are_shared() {
        let doc = json!({"t":"list","items":[{"t":"ref","id":4},{"t":"list","id":4,"items":[]},
            {"t":"global","module":"m","name":"n"},{"t":"global","module":"m","name":"n"}]});
        let (heap, root) = read(&doc).unwrap();
        let Value::Obj(id) = root else { panic!() };
        let Obj::List(items) = heap.get(id) else { panic!() };
        assert_eq!(items[0], items[1]);
        assert_eq!(items[2], items[3]);
    }

    #[test]
    fn keys_merge_and_errors_name_paths() {
        let doc = json!({"t":"dict","items":[[{"t":"int","v":"1"},{"t":"int","v":"1"}],[{"t":"float","v":"1.0"},{"t":"int","v":"2"}]]});
        let (heap, root) = read(&doc).unwrap();
        let Value::Obj(id) = root else { panic!() };
        let Obj::Dict(d) = heap.get(id) else { panic!() };
        assert_eq!(d.entries, vec![(Value::Int(1), Value::Int(2))]);

        let bad = json!({"t":"list","items":[{"t":"none"},{"t":"dict","items":[[{"t":"list","items":[]},{"t":"none"}]]}]});
        let e = read(&bad).unwrap_err();
        assert_eq!(e.path, "/items/1/items/0/0");
        assert!(e.message.contains("unhashable type: 'list'"), "{e}");

        let bad = json!({"t":"tuple","items":[{"t":"int","v":"1"},{"t":"str","v":5}]});
        assert_eq!(read(&bad).unwrap_err().path, "/items/1/v");
        let bad = json!({"t":"object","new":{"call":{"t":"global","module":"m","name":"f"},"args":[{"t":"bogus"}]},"ops":[]});
        assert_eq!(read(&bad).unwrap_err().path, "/new/args/0/t");
        let bad = json!({"t":"list","items":[{"t":"ref","id":9}]});
        assert_eq!(read(&bad).unwrap_err().path, "/items/0");
    }

    #[test]
    fn deep_documents_do_not_recurse() {
        let mut s = String::new();
        let n = 50_000;
        for _ in 0..n {
            s.push_str(r#"{"t":"list","items":["#);
        }
        for _ in 0..n {
            s.push_str("]}");
        }
        crate::with_big_stack(move || {
            let doc: J = crate::json::parse_deep(&s).unwrap();
            let (heap, _) = read(&doc).unwrap();
            assert_eq!(heap.objs.len(), n);
            drop(doc);
        });
    }
}
