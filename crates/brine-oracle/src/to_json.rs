//! The unpickled object graph as pickle JSON, converted in Rust: exactly the
//! `serde_json::Value` that `parse_json(dumps_json(to_json(result, standins)))` gives with
//! scripts/brine_sandbox.py's `to_json`, built without running the Python-level conversion
//! (which took about 85% of the CPython side of a differential check).
//!
//! The rules are `to_json`'s and `_expand`'s (docs/sandbox.md, "to_json and the spec
//! extensions"), with the same node shapes and key order (serde_json keeps insertion order
//! here: the workspace enables `preserve_order`), the same ids and the same errors:
//! - one depth-first walk in document order (items in order; dict key then value; an
//!   object's construction, then its ops) records a token per node reached: an atom, the
//!   first reach of a shareable object (with how many child nodes follow it), or a repeated
//!   reach; shareable objects are counted by identity, and only they are expanded twice in
//!   Python (its pass 1 counts, pass 2 builds), which this walk does once;
//! - ids 1, 2, 3... go to the shareable objects reached twice or more, in order of first
//!   reach; repeats become `{"t":"ref","id":N}`;
//! - the nodes are then assembled from the tokens, last to first, children popped off a
//!   value stack, so neither step recurses (documents nest 100,000+ deep).
//!
//! Errors are `to_json`'s `TypeError("brine to_json: ...")`, raised where Python raises
//! them: `to_json`'s pass 1 expands only shareable objects, so a bad memoryview anywhere
//! wins; otherwise the first bad non-shareable object in document order (its pass 2).
//!
//! Nothing a pickle named is called: only exact type checks (`type(o) is T`, and
//! `isinstance` of the stand-in metaclass, checked on the object's type), reads of the
//! sandbox's own Record slots, stand-in table and supplied buffers, the attributes of
//! builtin memoryviews, `str()` of exact ints outside the i64 range (inside it, the decimal
//! text is written here) and `repr()` of exact floats.

use brine_codec::hex;
use pyo3::exceptions::{PyAssertionError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PyMemoryView, PySet, PyString, PyTuple,
    PyType,
};
use serde_json::{Map, Value as J};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The sandbox classes the conversion recognizes by identity.
pub(crate) struct SandboxTypes {
    /// `brine_sandbox.Record`.
    pub record: Py<PyType>,
    /// `brine_sandbox._StandInMeta`.
    pub standin_meta: Py<PyType>,
}

/// What `_expand` dispatches on, in its order.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    Tuple,
    List,
    Set,
    FrozenSet,
    Dict,
    ByteArray,
    MemoryView,
    Record,
    StandIn,
    Other,
}

fn kind(o: &Bound<'_, PyAny>, record: *mut ffi::PyTypeObject, meta: *mut ffi::PyTypeObject) -> Kind {
    if o.is_none() {
        Kind::None
    } else if o.is_exact_instance_of::<PyBool>() {
        Kind::Bool
    } else if o.is_exact_instance_of::<PyInt>() {
        Kind::Int
    } else if o.is_exact_instance_of::<PyFloat>() {
        Kind::Float
    } else if o.is_exact_instance_of::<PyString>() {
        Kind::Str
    } else if o.is_exact_instance_of::<PyBytes>() {
        Kind::Bytes
    } else if o.is_exact_instance_of::<PyTuple>() {
        Kind::Tuple
    } else if o.is_exact_instance_of::<PyList>() {
        Kind::List
    } else if o.is_exact_instance_of::<PySet>() {
        Kind::Set
    } else if o.is_exact_instance_of::<PyFrozenSet>() {
        Kind::FrozenSet
    } else if o.is_exact_instance_of::<PyDict>() {
        Kind::Dict
    } else if o.is_exact_instance_of::<PyByteArray>() {
        Kind::ByteArray
    } else if o.is_exact_instance_of::<PyMemoryView>() {
        Kind::MemoryView
    } else {
        // SAFETY: o is a live object; the type pointers are the sandbox's classes, kept
        // alive by SandboxTypes.
        let tp = unsafe { ffi::Py_TYPE(o.as_ptr()) };
        if tp == record {
            Kind::Record
        } else if unsafe { ffi::PyType_IsSubtype(tp, meta) } != 0 {
            // isinstance(o, _StandInMeta), from o's type (no `__class__` lookup: only an
            // object that lies about its class could tell the two apart, and none is made
            // by a load)
            Kind::StandIn
        } else {
            Kind::Other
        }
    }
}

/// `_shareable(o)`.
fn shareable(o: &Bound<'_, PyAny>, k: Kind) -> bool {
    match k {
        Kind::Str => {
            // SAFETY: o is an exact str.
            let n = unsafe { ffi::PyUnicode_GetLength(o.as_ptr()) };
            n > 1 || (n == 1 && unsafe { ffi::PyUnicode_ReadChar(o.as_ptr(), 0) } > 0xff)
        }
        Kind::Bytes => o.cast::<PyBytes>().map(|b| b.as_bytes().len() > 1).unwrap_or(false),
        Kind::Tuple => o.cast::<PyTuple>().map(|t| !t.is_empty()).unwrap_or(false),
        Kind::List | Kind::Dict | Kind::Set | Kind::FrozenSet | Kind::ByteArray | Kind::MemoryView | Kind::Record => true,
        _ => false,
    }
}

/// How the child nodes that follow an [`Tok::Open`] are assembled into its node.
enum Shape {
    /// No children: `fields` after "t" (and "id").
    Leaf(Vec<(&'static str, J)>),
    /// "items": the next `n` nodes.
    Items(usize),
    /// "items": `n` [key, value] pairs of the next 2n nodes.
    Pairs(usize),
    /// A buffer view: "readonly", then "view": the next node.
    View(bool),
    /// An object: the construction's nodes, then each op's.
    Object(Construction, Vec<Op>),
}

enum Construction {
    /// callee, then `n` args.
    Call(usize),
    /// class, `n` args, `k` kwargs pairs.
    NewObj(usize, usize),
    /// the pid.
    Persid,
}

#[derive(Clone, Copy)]
enum Op {
    Build,
    Append,
    Add,
    SetItem,
}

enum Tok {
    /// A node written in full (not shareable).
    Atom(J),
    /// The first reach of shareable object `entry`.
    Open { entry: usize, t: &'static str, shape: Shape },
    /// A later reach of shareable object `entry`.
    Ref(usize),
}

struct Entry<'py> {
    count: u32,
    id: u64,
    /// Keeps the object (and so its address, the identity key) alive during the walk.
    _obj: Bound<'py, PyAny>,
}

/// A hasher for object addresses (FxHash-style multiply, folded).
#[derive(Default)]
struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Restores `sys.set_int_max_str_digits` after a conversion that lifted it (`_IntDigits`).
struct DigitLimit<'py> {
    py: Python<'py>,
    old: Option<Bound<'py, PyAny>>,
}

impl<'py> DigitLimit<'py> {
    fn lift(&mut self) -> PyResult<()> {
        if self.old.is_none() {
            let sys = self.py.import("sys")?;
            let old = sys.getattr("get_int_max_str_digits")?.call0()?;
            sys.getattr("set_int_max_str_digits")?.call1((0,))?;
            self.old = Some(old);
        }
        Ok(())
    }
}

impl Drop for DigitLimit<'_> {
    fn drop(&mut self) {
        if let Some(old) = self.old.take() {
            let r = self.py.import("sys").and_then(|sys| sys.getattr("set_int_max_str_digits")?.call1((old,)).map(drop));
            // setting an int the interpreter gave back cannot fail; nothing to report if it did
            drop(r);
        }
    }
}

fn type_error(msg: String) -> PyErr {
    PyTypeError::new_err(msg)
}

fn type_name(o: &Bound<'_, PyAny>) -> String {
    o.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// The text of a str: `Ok(text)`, or `Err(surrogatepass UTF-8 hex)` when it holds a lone
/// surrogate (`s.encode("utf-8")` fails).
fn str_text(s: &Bound<'_, PyAny>) -> PyResult<Result<String, String>> {
    let s = s.cast::<PyString>()?;
    if let Ok(t) = s.to_str() {
        return Ok(Ok(t.to_owned()));
    }
    // SAFETY: s is a str; the result is a new reference or NULL with an exception set.
    let b = unsafe {
        Bound::from_owned_ptr_or_err(
            s.py(),
            ffi::PyUnicode_AsEncodedString(s.as_ptr(), c"utf-8".as_ptr(), c"surrogatepass".as_ptr()),
        )?
    };
    Ok(Err(hex::encode(b.cast::<PyBytes>()?.as_bytes())))
}

/// `_str_node` without "t" and "id": ("v", text) or ("hex", ...).
fn str_field(o: &Bound<'_, PyAny>) -> PyResult<(&'static str, J)> {
    Ok(match str_text(o)? {
        Ok(t) => ("v", J::String(t)),
        Err(h) => ("hex", J::String(h)),
    })
}

fn node(t: &'static str, id: Option<u64>, fields: impl IntoIterator<Item = (&'static str, J)>) -> J {
    let mut m = Map::new();
    m.insert("t".into(), J::String(t.into()));
    if let Some(id) = id {
        m.insert("id".into(), J::from(id));
    }
    for (k, v) in fields {
        m.insert(k.into(), v);
    }
    J::Object(m)
}

/// The walk's state.
struct Walk<'a, 'py> {
    py: Python<'py>,
    record: *mut ffi::PyTypeObject,
    meta: *mut ffi::PyTypeObject,
    standins: &'a Bound<'py, PyAny>,
    /// `standins.buffers` (read on first use) and their addresses.
    buffers: Option<(Bound<'py, PyAny>, Vec<usize>)>,
    limit: DigitLimit<'py>,
}

impl<'py> Walk<'_, 'py> {
    fn buffer_index(&mut self, o: &Bound<'py, PyAny>) -> PyResult<Option<usize>> {
        if self.buffers.is_none() {
            let list = self.standins.getattr("buffers")?;
            let addrs = list.try_iter()?.map(|b| b.map(|b| b.as_ptr() as usize)).collect::<PyResult<Vec<_>>>()?;
            self.buffers = Some((list, addrs));
        }
        let addrs = &self.buffers.as_ref().expect("just read").1;
        Ok(addrs.iter().position(|&a| a == o.as_ptr() as usize))
    }

    /// The decimal text of an exact int, with no digit limit.
    fn int_text(&mut self, o: &Bound<'py, PyAny>) -> PyResult<String> {
        let mut overflow = 0;
        // SAFETY: o is an exact int (no __index__ is called).
        let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(o.as_ptr(), &mut overflow) };
        if overflow == 0 {
            if v == -1 {
                if let Some(e) = PyErr::take(self.py) {
                    return Err(e);
                }
            }
            return Ok(v.to_string());
        }
        match o.str() {
            Ok(s) => Ok(s.to_str()?.to_owned()),
            Err(e) if e.is_instance_of::<PyValueError>(self.py) && self.limit.old.is_none() => {
                // past sys.int_info.str_digits_check_threshold: lift the limit, as
                // _IntDigits does for the whole conversion, until the conversion ends
                self.limit.lift()?;
                Ok(o.str()?.to_str()?.to_owned())
            }
            Err(e) => Err(e),
        }
    }

    /// The node of a non-shareable object (`_expand` of one: none of them has children).
    fn atom(&mut self, o: &Bound<'py, PyAny>, k: Kind) -> PyResult<J> {
        Ok(match k {
            Kind::None => node("none", None, []),
            Kind::Bool => node("bool", None, [("v", J::Bool(o.is_truthy()?))]),
            Kind::Int => node("int", None, [("v", J::String(self.int_text(o)?))]),
            Kind::Float => node("float", None, [("v", J::String(o.repr()?.to_str()?.to_owned()))]),
            Kind::Str => node("str", None, [str_field(o)?]),
            Kind::Bytes => node("bytes", None, [("v", J::String(hex::encode(o.cast::<PyBytes>()?.as_bytes())))]),
            // the empty tuple
            Kind::Tuple => node("tuple", None, [("items", J::Array(vec![]))]),
            Kind::StandIn => {
                let names = self.standins.getattr("names")?;
                let names = names.cast::<PyDict>()?;
                let Some(key) = names.get_item(o)? else {
                    return Err(type_error("brine to_json: stand-in class of another load".into()));
                };
                let key = key.cast::<PyTuple>()?;
                let (module, name) = (key.get_item(0)?, key.get_item(1)?);
                let module = match str_text(&module)? {
                    Ok(t) => ("module", J::String(t)),
                    Err(h) => ("module_hex", J::String(h)),
                };
                let name = match str_text(&name)? {
                    Ok(t) => ("name", J::String(t)),
                    Err(h) => ("name_hex", J::String(h)),
                };
                node("global", None, [module, name])
            }
            _ => return Err(type_error(format!("brine to_json: unexpected {}", type_name(o)))),
        })
    }

    /// `_expand` of a shareable object: its node's name and shape; its children are pushed
    /// on `stack` so that the first child is popped first.
    fn expand(&mut self, o: &Bound<'py, PyAny>, k: Kind, stack: &mut Vec<Bound<'py, PyAny>>) -> PyResult<(&'static str, Shape)> {
        let start = stack.len();
        let r = match k {
            Kind::Str => ("str", Shape::Leaf(vec![str_field(o)?])),
            Kind::Bytes => ("bytes", Shape::Leaf(vec![("v", J::String(hex::encode(o.cast::<PyBytes>()?.as_bytes())))])),
            Kind::Tuple => {
                let t = o.cast::<PyTuple>()?;
                stack.extend(t.iter());
                ("tuple", Shape::Items(t.len()))
            }
            Kind::List => {
                let l = o.cast::<PyList>()?;
                stack.extend(l.iter());
                ("list", Shape::Items(stack.len() - start))
            }
            Kind::Set | Kind::FrozenSet => {
                for x in o.try_iter()? {
                    stack.push(x?);
                }
                (if k == Kind::Set { "set" } else { "frozenset" }, Shape::Items(stack.len() - start))
            }
            Kind::Dict => {
                let d = o.cast::<PyDict>()?;
                for (key, v) in d.iter() {
                    stack.push(key);
                    stack.push(v);
                }
                ("dict", Shape::Pairs((stack.len() - start) / 2))
            }
            Kind::ByteArray => {
                // SAFETY: no Python code runs while the slice is read.
                let contents = hex::encode(unsafe { o.cast::<PyByteArray>()?.as_bytes() });
                match self.buffer_index(o)? {
                    Some(i) => {
                        let mut fields = vec![("index", J::from(i as u64)), ("readonly", J::Bool(false))];
                        if !contents.is_empty() {
                            fields.push(("v", J::String(contents)));
                        }
                        ("buffer", Shape::Leaf(fields))
                    }
                    None => ("bytearray", Shape::Leaf(vec![("v", J::String(contents))])),
                }
            }
            Kind::MemoryView => {
                let base = o.getattr("obj")?;
                let readonly = o.getattr("readonly")?.is_truthy()?;
                if let Some(i) = self.buffer_index(&base)? {
                    let mut fields = vec![("index", J::from(i as u64)), ("readonly", J::Bool(readonly))];
                    // the supplied buffers are bytearrays: `bytes(base).hex()`
                    // SAFETY: no Python code runs while the slice is read.
                    let contents = hex::encode(unsafe { base.cast::<PyByteArray>()?.as_bytes() });
                    if !contents.is_empty() {
                        fields.push(("v", J::String(contents)));
                    }
                    ("buffer", Shape::Leaf(fields))
                } else if base.is_exact_instance_of::<PyByteArray>() || base.is_exact_instance_of::<PyBytes>() {
                    stack.push(base);
                    ("buffer", Shape::View(readonly))
                } else {
                    return Err(type_error(format!("brine to_json: memoryview over {}", type_name(&base))));
                }
            }
            Kind::Record => {
                let new = o.getattr("_brine_new")?;
                let new = new.cast::<PyTuple>()?;
                let what = new.get_item(0)?;
                let new_shape = match what.cast::<PyString>().ok().and_then(|s| s.to_str().ok()) {
                    Some("call") => {
                        stack.push(new.get_item(1)?);
                        let args = new.get_item(2)?;
                        let args = args.cast::<PyList>()?;
                        stack.extend(args.iter());
                        Construction::Call(args.len())
                    }
                    Some("newobj") => {
                        stack.push(new.get_item(1)?);
                        let args = new.get_item(2)?;
                        let args = args.cast::<PyList>()?;
                        stack.extend(args.iter());
                        let kwargs = new.get_item(3)?;
                        let kwargs = kwargs.cast::<PyList>()?;
                        for pair in kwargs.iter() {
                            let pair = pair.cast::<PyTuple>()?;
                            stack.push(pair.get_item(0)?);
                            stack.push(pair.get_item(1)?);
                        }
                        Construction::NewObj(args.len(), kwargs.len())
                    }
                    Some("persid") => {
                        stack.push(new.get_item(1)?);
                        Construction::Persid
                    }
                    _ => return Err(PyAssertionError::new_err(what.str()?.unbind())),
                };
                let ops_list = o.getattr("_brine_ops")?;
                let ops_list = ops_list.cast::<PyList>()?;
                let mut ops = Vec::with_capacity(ops_list.len());
                for op in ops_list.iter() {
                    let op = op.cast::<PyTuple>()?;
                    let name = op.get_item(0)?;
                    let which = match name.cast::<PyString>().ok().and_then(|s| s.to_str().ok()) {
                        Some("build") => Op::Build,
                        Some("append") => Op::Append,
                        Some("add") => Op::Add,
                        Some("setitem") => Op::SetItem,
                        _ => return Err(PyAssertionError::new_err(name.str()?.unbind())),
                    };
                    stack.push(op.get_item(1)?);
                    if let Op::SetItem = which {
                        stack.push(op.get_item(2)?);
                    }
                    ops.push(which);
                }
                ("object", Shape::Object(new_shape, ops))
            }
            _ => unreachable!("not shareable"),
        };
        stack[start..].reverse();
        Ok(r)
    }
}

fn ref_node(id: u64) -> J {
    let mut m = Map::new();
    m.insert("t".into(), J::String("ref".into()));
    m.insert("id".into(), J::from(id));
    J::Object(m)
}

/// `to_json(obj, standins)` as the `serde_json::Value` its JSON text parses to. `types` are
/// the sandbox's Record class and stand-in metaclass; `standins` the load's `StandIns`.
pub(crate) fn to_json<'py>(
    py: Python<'py>,
    types: &SandboxTypes,
    obj: &Bound<'py, PyAny>,
    standins: &Bound<'py, PyAny>,
) -> PyResult<J> {
    let record = types.record.bind(py);
    let meta = types.standin_meta.bind(py);
    let mut walk = Walk {
        py,
        record: record.as_type_ptr(),
        meta: meta.as_type_ptr(),
        standins,
        buffers: None,
        limit: DigitLimit { py, old: None },
    };
    let mut seen: HashMap<usize, usize, BuildHasherDefault<AddrHasher>> = HashMap::default();
    let mut entries: Vec<Entry<'py>> = Vec::new();
    let mut toks: Vec<Tok> = Vec::new();
    // The first error of a non-shareable object: Python's pass 2 raises it, unless an error
    // in a shareable object (its pass 1) comes first, wherever it is.
    let mut deferred: Option<PyErr> = None;
    let mut stack = vec![obj.clone()];
    while let Some(o) = stack.pop() {
        let k = kind(&o, walk.record, walk.meta);
        if !shareable(&o, k) {
            match walk.atom(&o, k) {
                Ok(v) => toks.push(Tok::Atom(v)),
                Err(e) => {
                    deferred.get_or_insert(e);
                    toks.push(Tok::Atom(J::Null));
                }
            }
            continue;
        }
        let addr = o.as_ptr() as usize;
        if let Some(&e) = seen.get(&addr) {
            entries[e].count += 1;
            toks.push(Tok::Ref(e));
            continue;
        }
        let (t, shape) = walk.expand(&o, k, &mut stack)?;
        let entry = entries.len();
        seen.insert(addr, entry);
        entries.push(Entry { count: 1, id: 0, _obj: o });
        toks.push(Tok::Open { entry, t, shape });
    }
    if let Some(e) = deferred {
        return Err(e);
    }
    drop(walk);
    // Ids in order of first reach, for the objects reached more than once.
    let mut next = 1;
    for tok in &toks {
        if let Tok::Open { entry, .. } = tok {
            let e = &mut entries[*entry];
            if e.count > 1 {
                e.id = next;
                next += 1;
            }
        }
    }
    // Assemble, last token first: a node's children are on top of `vals`, first child on top.
    let mut vals: Vec<J> = Vec::new();
    let pop = |vals: &mut Vec<J>| vals.pop().expect("a child node");
    for tok in toks.into_iter().rev() {
        let v = match tok {
            Tok::Atom(v) => v,
            Tok::Ref(e) => ref_node(entries[e].id),
            Tok::Open { entry, t, shape } => {
                let id = Some(entries[entry].id).filter(|&i| i != 0);
                match shape {
                    Shape::Leaf(fields) => node(t, id, fields),
                    Shape::Items(n) => {
                        let items = (0..n).map(|_| pop(&mut vals)).collect();
                        node(t, id, [("items", J::Array(items))])
                    }
                    Shape::Pairs(n) => {
                        let items = (0..n).map(|_| J::Array(vec![pop(&mut vals), pop(&mut vals)])).collect();
                        node(t, id, [("items", J::Array(items))])
                    }
                    Shape::View(readonly) => node(t, id, [("readonly", J::Bool(readonly)), ("view", pop(&mut vals))]),
                    Shape::Object(new, ops) => {
                        let mut m = Map::new();
                        match new {
                            Construction::Call(n) => {
                                m.insert("call".into(), pop(&mut vals));
                                m.insert("args".into(), J::Array((0..n).map(|_| pop(&mut vals)).collect()));
                            }
                            Construction::NewObj(n, k) => {
                                m.insert("newobj".into(), pop(&mut vals));
                                m.insert("args".into(), J::Array((0..n).map(|_| pop(&mut vals)).collect()));
                                if k > 0 {
                                    let kw = (0..k).map(|_| J::Array(vec![pop(&mut vals), pop(&mut vals)])).collect();
                                    m.insert("kwargs".into(), J::Array(kw));
                                }
                            }
                            Construction::Persid => {
                                m.insert("persid".into(), pop(&mut vals));
                            }
                        }
                        let ops = ops
                            .into_iter()
                            .map(|op| {
                                let mut n = Map::new();
                                let (name, keys): (&str, &[&str]) = match op {
                                    Op::Build => ("build", &["state"]),
                                    Op::Append => ("append", &["item"]),
                                    Op::Add => ("add", &["item"]),
                                    Op::SetItem => ("setitem", &["key", "value"]),
                                };
                                n.insert("op".into(), J::String(name.into()));
                                for &key in keys {
                                    n.insert(key.into(), pop(&mut vals));
                                }
                                J::Object(n)
                            })
                            .collect();
                        node(t, id, [("new", J::Object(m)), ("ops", J::Array(ops))])
                    }
                }
            }
        };
        vals.push(v);
    }
    debug_assert_eq!(vals.len(), 1);
    Ok(vals.pop().expect("the root node"))
}
