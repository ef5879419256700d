//! The value model: what a pickle builds, as a graph in an arena.
//!
//! Pickles share objects (the memo) and build cycles, so a tree would be wrong and `Rc`
//! graphs would leak and recurse on drop. Everything with identity lives in a [`Heap`] and
//! is referred to by [`ObjId`]; small immutable atoms (None, bool, small int, float) are
//! stored inline in [`Value`]. Dicts and sets keep Python's key semantics (1, 1.0 and True
//! are one key; unhashable keys are a TypeError), with a seeded hash so hostile keys cannot
//! force quadratic behaviour.

use hashbrown::HashTable;
use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};
use std::hash::{BuildHasher, Hash, Hasher};

/// Index of an object in its [`Heap`].
pub type ObjId = u32;

/// A value on the unpickler's stack or inside a container.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int that fits in i64 (bigger ones are [`Obj::Int`]).
    Int(i64),
    /// A float.
    Float(f64),
    /// Anything with identity: str, bytes, big ints, containers, globals, objects.
    Obj(ObjId),
}

/// A Python str: its code points encoded one by one as UTF-8, lone surrogates included
/// (what Python's `'utf-8', 'surrogatepass'` writes). Valid UTF-8 exactly when the string
/// has no surrogate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PyStr(pub Box<[u8]>);

impl PyStr {
    /// The text, when it has no lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
    /// From Rust text.
    pub fn from_str(s: &str) -> PyStr {
        PyStr(s.as_bytes().into())
    }
    /// Number of code points.
    pub fn char_len(&self) -> usize {
        self.0.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
    }
}

/// How an [`Obj::Object`] came to be.
#[derive(Clone, Debug)]
pub enum Construction {
    /// `callable(*args)`: REDUCE, or INST/OBJ with arguments.
    Call {
        /// What was called.
        callable: Value,
        /// Positional arguments.
        args: Vec<Value>,
    },
    /// `cls.__new__(cls, *args, **kwargs)`: NEWOBJ, NEWOBJ_EX, INST/OBJ without arguments.
    NewObj {
        /// The class (always a global).
        cls: Value,
        /// Positional arguments.
        args: Vec<Value>,
        /// Keyword arguments, in order.
        kwargs: Vec<(Value, Value)>,
    },
    /// `persistent_load(pid)`.
    PersId(Value),
}

/// An operation recorded on a stand-in object after it was made.
#[derive(Clone, Debug)]
pub enum ObjOp {
    /// APPEND/APPENDS, one per item.
    Append(Value),
    /// SETITEM/SETITEMS.
    SetItem(Value, Value),
    /// ADDITEMS, one per item.
    Add(Value),
    /// BUILD.
    Build(Value),
}

/// A dict: entries in insertion order plus a hash index over the keys.
#[derive(Clone, Debug, Default)]
pub struct Dict {
    /// (key, value) in insertion order; the first key object of a merged key stays.
    pub entries: Vec<(Value, Value)>,
    index: HashTable<u32>,
    hashes: Vec<u64>,
}

/// A set or frozenset: items in insertion order plus a hash index.
#[derive(Clone, Debug, Default)]
pub struct Set {
    /// Items in insertion order (CPython's iteration order is not modelled).
    pub items: Vec<Value>,
    index: HashTable<u32>,
    hashes: Vec<u64>,
}

/// An object with identity.
#[derive(Clone, Debug)]
pub enum Obj {
    /// str.
    Str(PyStr),
    /// bytes.
    Bytes(Vec<u8>),
    /// An int too big for i64.
    Int(BigInt),
    /// A NaN float. NaN is the one float whose identity matters (a dict finds a NaN key
    /// only by identity, e.g. when the memo hands back the same object), so NaNs live in
    /// the heap; every other float is a [`Value::Float`].
    Float(f64),
    /// tuple (the empty tuple is an atom in pickle JSON).
    Tuple(Vec<Value>),
    /// list.
    List(Vec<Value>),
    /// dict.
    Dict(Dict),
    /// set.
    Set(Set),
    /// frozenset.
    FrozenSet(Set),
    /// bytearray.
    ByteArray(Vec<u8>),
    /// Out-of-band buffer `index` (NEXT_BUFFER), or a read-only view of it (READONLY_BUFFER).
    /// The supplied buffers are writable bytearrays, initially empty; their contents live in
    /// [`Heap::buffers`] (a pickle can APPEND to one).
    Buffer {
        /// Which supplied buffer.
        index: usize,
        /// Whether this is the read-only view.
        readonly: bool,
    },
    /// A read-only view of an in-band bytearray (READONLY_BUFFER on BYTEARRAY8's result).
    View(ObjId),
    /// A class/function reference: one object per (module, name).
    Global {
        /// Module, after fix_imports mapping.
        module: PyStr,
        /// Name (possibly dotted).
        name: PyStr,
    },
    /// A stand-in object: how it was made and what was done to it.
    Object {
        /// Its construction.
        new: Construction,
        /// Operations applied later.
        ops: Vec<ObjOp>,
    },
}

/// Why a value cannot be a dict key or set item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashError {
    /// CPython's `TypeError: unhashable type: 'list'`.
    Unhashable(&'static str),
    /// Nesting deeper than the limit while hashing or comparing.
    TooDeep,
    /// The work budget ran out (exponentially shared keys).
    Budget,
}

/// The arena holding every object a decode made.
#[derive(Debug, Default)]
pub struct Heap {
    /// Objects by [`ObjId`].
    pub objs: Vec<Obj>,
    /// Contents of the supplied out-of-band buffers, by index.
    pub buffers: Vec<Vec<u8>>,
    hasher: hashbrown::DefaultHashBuilder,
    /// Cached hashes of tuples/frozensets (immutable, so a hash never changes).
    hash_cache: hashbrown::HashMap<ObjId, u64>,
    /// Hash/compare nesting limit.
    pub max_depth: usize,
    /// Remaining work for hashing/comparison (decremented per visited node).
    pub work_left: u64,
}

const TAG_INT: u8 = 1;
const TAG_FLOAT: u8 = 2;
const TAG_STR: u8 = 3;
const TAG_BYTES: u8 = 4;
const TAG_TUPLE: u8 = 5;
const TAG_FROZENSET: u8 = 6;
const TAG_ID: u8 = 7;
const TAG_NAN: u8 = 8;

impl Heap {
    /// An empty heap with the given hash nesting limit and work budget.
    pub fn new(max_depth: usize, work: u64) -> Heap {
        Heap { max_depth, work_left: work, ..Default::default() }
    }

    /// Adds an object and returns its id.
    #[inline]
    pub fn alloc(&mut self, o: Obj) -> ObjId {
        let id = self.objs.len() as ObjId;
        self.objs.push(o);
        id
    }

    /// The object `id`.
    #[inline]
    pub fn get(&self, id: ObjId) -> &Obj {
        &self.objs[id as usize]
    }

    /// The object `id`, mutably.
    #[inline]
    pub fn get_mut(&mut self, id: ObjId) -> &mut Obj {
        &mut self.objs[id as usize]
    }

    /// Python's type name of a value, for error messages.
    pub fn type_name(&self, v: Value) -> &'static str {
        match v {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Obj(id) => match self.get(id) {
                Obj::Str(_) => "str",
                Obj::Bytes(_) => "bytes",
                Obj::Int(_) => "int",
                Obj::Float(_) => "float",
                Obj::Tuple(_) => "tuple",
                Obj::List(_) => "list",
                Obj::Dict(_) => "dict",
                Obj::Set(_) => "set",
                Obj::FrozenSet(_) => "frozenset",
                Obj::ByteArray(_) => "bytearray",
                Obj::Buffer { readonly: false, .. } => "bytearray",
                Obj::Buffer { readonly: true, .. } | Obj::View(_) => "memoryview",
                Obj::Global { .. } => "type",
                Obj::Object { .. } => "Record",
            },
        }
    }

    /// The integer value of an int or bool, as a BigInt (None for other values).
    pub fn int_value(&self, v: Value) -> Option<BigInt> {
        match v {
            Value::Bool(b) => Some(BigInt::from(b as i64)),
            Value::Int(i) => Some(BigInt::from(i)),
            Value::Obj(id) => match self.get(id) {
                Obj::Int(b) => Some(b.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    fn spend(&mut self) -> Result<(), HashError> {
        if self.work_left == 0 {
            return Err(HashError::Budget);
        }
        self.work_left -= 1;
        Ok(())
    }

    /// A hash consistent with [`Heap::key_eq`] (Python's `hash`/`==` for keys), or why the
    /// value is unhashable.
    pub fn key_hash(&mut self, v: Value) -> Result<u64, HashError> {
        self.key_hash_at(v, 0)
    }

    fn key_hash_at(&mut self, v: Value, depth: usize) -> Result<u64, HashError> {
        if depth > self.max_depth {
            return Err(HashError::TooDeep);
        }
        self.spend()?;
        let mut h = self.hasher.build_hasher();
        match v {
            Value::None => {
                TAG_ID.hash(&mut h);
                u64::MAX.hash(&mut h);
            }
            Value::Bool(b) => hash_i64(&mut h, b as i64),
            Value::Int(i) => hash_i64(&mut h, i),
            Value::Float(f) => hash_float(&mut h, f),
            Value::Obj(id) => {
                if let Some(&c) = self.hash_cache.get(&id) {
                    return Ok(c);
                }
                match self.get(id) {
                    Obj::Str(s) => {
                        TAG_STR.hash(&mut h);
                        s.0.hash(&mut h);
                    }
                    Obj::Bytes(b) => {
                        TAG_BYTES.hash(&mut h);
                        b.hash(&mut h);
                    }
                    Obj::Int(b) => hash_bigint(&mut h, b),
                    Obj::Tuple(items) => {
                        let items = items.clone();
                        TAG_TUPLE.hash(&mut h);
                        items.len().hash(&mut h);
                        for it in items {
                            self.key_hash_at(it, depth + 1)?.hash(&mut h);
                        }
                        let r = h.finish();
                        self.hash_cache.insert(id, r);
                        return Ok(r);
                    }
                    Obj::FrozenSet(s) => {
                        // Order-independent: the same hash for equal sets whatever their order.
                        let hs = s.hashes.clone();
                        let acc = hs.iter().fold(0u64, |a, &x| a.wrapping_add(x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (x >> 29)));
                        TAG_FROZENSET.hash(&mut h);
                        hs.len().hash(&mut h);
                        acc.hash(&mut h);
                        let r = h.finish();
                        self.hash_cache.insert(id, r);
                        return Ok(r);
                    }
                    Obj::List(_) => return Err(HashError::Unhashable("list")),
                    Obj::Dict(_) => return Err(HashError::Unhashable("dict")),
                    Obj::Set(_) => return Err(HashError::Unhashable("set")),
                    Obj::ByteArray(_) => return Err(HashError::Unhashable("bytearray")),
                    // A memoryview hashes its base object: here always a bytearray.
                    Obj::Buffer { .. } | Obj::View(_) => return Err(HashError::Unhashable("bytearray")),
                    Obj::Float(_) | Obj::Global { .. } | Obj::Object { .. } => {
                        TAG_ID.hash(&mut h);
                        id.hash(&mut h);
                    }
                }
            }
        }
        Ok(h.finish())
    }

    /// Python `==` between two hashable keys (identity first, as CPython's dict does).
    pub fn key_eq(&mut self, a: Value, b: Value) -> Result<bool, HashError> {
        self.key_eq_at(a, b, 0)
    }

    fn key_eq_at(&mut self, a: Value, b: Value, depth: usize) -> Result<bool, HashError> {
        if depth > self.max_depth {
            return Err(HashError::TooDeep);
        }
        self.spend()?;
        if let (Value::Obj(x), Value::Obj(y)) = (a, b) {
            if x == y {
                return Ok(true);
            }
        }
        if let (Some(x), Some(y)) = (self.num(a), self.num(b)) {
            return Ok(num_eq(&x, &y));
        }
        let (Value::Obj(x), Value::Obj(y)) = (a, b) else {
            return Ok(matches!((a, b), (Value::None, Value::None)));
        };
        match (self.get(x), self.get(y)) {
            (Obj::Str(p), Obj::Str(q)) => Ok(p == q),
            (Obj::Bytes(p), Obj::Bytes(q)) => Ok(p == q),
            (Obj::Tuple(p), Obj::Tuple(q)) => {
                if p.len() != q.len() {
                    return Ok(false);
                }
                let (p, q) = (p.clone(), q.clone());
                for (i, j) in p.into_iter().zip(q) {
                    if !self.key_eq_at(i, j, depth + 1)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (Obj::FrozenSet(p), Obj::FrozenSet(q)) => {
                if p.items.len() != q.items.len() {
                    return Ok(false);
                }
                let (pi, q) = (p.items.clone(), q.clone());
                for it in pi {
                    if q.find(self, it, depth + 1)?.is_none() {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn num(&self, v: Value) -> Option<Num> {
        match v {
            Value::Bool(b) => Some(Num::I(b as i64)),
            Value::Int(i) => Some(Num::I(i)),
            Value::Float(f) => Some(Num::F(f)),
            Value::Obj(id) => match self.get(id) {
                Obj::Int(b) => Some(Num::B(b.clone())),
                Obj::Float(f) => Some(Num::F(*f)),
                _ => None,
            },
            Value::None => None,
        }
    }
}

enum Num {
    I(i64),
    B(BigInt),
    F(f64),
}

fn float_to_bigint(f: f64) -> Option<BigInt> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    num_traits::FromPrimitive::from_f64(f)
}

fn num_eq(a: &Num, b: &Num) -> bool {
    use Num::*;
    match (a, b) {
        (I(x), I(y)) => x == y,
        (F(x), F(y)) => x == y,
        (B(x), B(y)) => x == y,
        (I(x), B(y)) | (B(y), I(x)) => BigInt::from(*x) == *y,
        (I(x), F(y)) | (F(y), I(x)) => float_to_bigint(*y).is_some_and(|b| b == BigInt::from(*x)),
        (B(x), F(y)) | (F(y), B(x)) => float_to_bigint(*y).is_some_and(|b| b == *x),
    }
}

fn hash_i64<H: Hasher>(h: &mut H, i: i64) {
    TAG_INT.hash(h);
    i.hash(h);
}

fn hash_bigint<H: Hasher>(h: &mut H, b: &BigInt) {
    match b.to_i64() {
        Some(i) => hash_i64(h, i),
        None => {
            TAG_INT.hash(h);
            b.to_signed_bytes_le().hash(h);
        }
    }
}

fn hash_float<H: Hasher>(h: &mut H, f: f64) {
    if f.is_nan() {
        // NaN equals nothing (not even another NaN object), so any hash will do.
        TAG_NAN.hash(h);
        return;
    }
    if f.fract() == 0.0 && f.is_finite() {
        if f == 0.0 {
            return hash_i64(h, 0);
        }
        if f.abs() < 9.0e18 {
            return hash_i64(h, f as i64);
        }
        if let Some(b) = float_to_bigint(f) {
            return hash_bigint(h, &b);
        }
    }
    TAG_FLOAT.hash(h);
    f.to_bits().hash(h);
}

impl Dict {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether the dict is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// `d[key] = value` with Python's key merging.
    pub fn set_item(&mut self, heap: &mut Heap, key: Value, value: Value) -> Result<(), HashError> {
        let h = heap.key_hash(key)?;
        let mut err = None;
        let found = {
            let entries = &self.entries;
            self.index.find(h, |&i| {
                if err.is_some() || self.hashes[i as usize] != h {
                    return false;
                }
                match heap.key_eq(entries[i as usize].0, key) {
                    Ok(e) => e,
                    Err(e) => {
                        err = Some(e);
                        false
                    }
                }
            })
        }
        .copied();
        if let Some(e) = err {
            return Err(e);
        }
        match found {
            Some(i) => self.entries[i as usize].1 = value,
            None => {
                let i = self.entries.len() as u32;
                self.entries.push((key, value));
                self.hashes.push(h);
                let hashes = &self.hashes;
                self.index.insert_unique(h, i, |&j| hashes[j as usize]);
            }
        }
        Ok(())
    }
}

impl Set {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    fn find(&self, heap: &mut Heap, item: Value, depth: usize) -> Result<Option<u32>, HashError> {
        let h = heap.key_hash_at(item, depth)?;
        let mut err = None;
        let found = self
            .index
            .find(h, |&i| {
                if err.is_some() || self.hashes[i as usize] != h {
                    return false;
                }
                match heap.key_eq_at(self.items[i as usize], item, depth) {
                    Ok(e) => e,
                    Err(e) => {
                        err = Some(e);
                        false
                    }
                }
            })
            .copied();
        match err {
            Some(e) => Err(e),
            None => Ok(found),
        }
    }
    /// `s.add(item)`: keeps the first equal item.
    pub fn add(&mut self, heap: &mut Heap, item: Value) -> Result<(), HashError> {
        let h = heap.key_hash(item)?;
        if self.find(heap, item, 0)?.is_some() {
            return Ok(());
        }
        let i = self.items.len() as u32;
        self.items.push(item);
        self.hashes.push(h);
        let hashes = &self.hashes;
        self.index.insert_unique(h, i, |&j| hashes[j as usize]);
        Ok(())
    }
}

/// Whether a BigInt is zero (re-exported helper for callers without num-traits).
pub fn bigint_is_zero(b: &BigInt) -> bool {
    b.is_zero()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_keys_merge_like_python() {
        let mut heap = Heap::new(100, u64::MAX);
        let mut d = Dict::default();
        let big = heap.alloc(Obj::Int(BigInt::from(1u64 << 62) * 4));
        d.set_item(&mut heap, Value::Int(1), Value::Int(10)).unwrap();
        d.set_item(&mut heap, Value::Float(1.0), Value::Int(11)).unwrap();
        d.set_item(&mut heap, Value::Bool(true), Value::Int(12)).unwrap();
        d.set_item(&mut heap, Value::Float(-0.0), Value::Int(13)).unwrap();
        d.set_item(&mut heap, Value::Int(0), Value::Int(14)).unwrap();
        d.set_item(&mut heap, Value::Obj(big), Value::Int(15)).unwrap();
        d.set_item(&mut heap, Value::Float(2f64.powi(64)), Value::Int(16)).unwrap();
        d.set_item(&mut heap, Value::Float(f64::NAN), Value::Int(17)).unwrap();
        d.set_item(&mut heap, Value::Float(f64::NAN), Value::Int(18)).unwrap();
        let vals: Vec<_> = d.entries.iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(vals.len(), 5);
        assert_eq!(vals[0], (Value::Int(1), Value::Int(12)));
        assert_eq!(vals[1], (Value::Float(-0.0), Value::Int(14)));
        assert_eq!(vals[2], (Value::Obj(big), Value::Int(16)));
    }

    #[test]
    fn unhashable_and_tuple_keys() {
        let mut heap = Heap::new(100, u64::MAX);
        let l = heap.alloc(Obj::List(vec![]));
        let s1 = heap.alloc(Obj::Str(PyStr::from_str("a")));
        let s2 = heap.alloc(Obj::Str(PyStr::from_str("a")));
        let t1 = heap.alloc(Obj::Tuple(vec![Value::Obj(s1), Value::Int(1)]));
        let t2 = heap.alloc(Obj::Tuple(vec![Value::Obj(s2), Value::Float(1.0)]));
        let bad = heap.alloc(Obj::Tuple(vec![Value::Obj(l)]));
        let mut d = Dict::default();
        assert_eq!(d.set_item(&mut heap, Value::Obj(l), Value::None), Err(HashError::Unhashable("list")));
        assert_eq!(d.set_item(&mut heap, Value::Obj(bad), Value::None), Err(HashError::Unhashable("list")));
        d.set_item(&mut heap, Value::Obj(t1), Value::Int(1)).unwrap();
        d.set_item(&mut heap, Value::Obj(t2), Value::Int(2)).unwrap();
        assert_eq!(d.len(), 1);
    }
}
