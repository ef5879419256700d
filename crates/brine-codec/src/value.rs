//! The value model: what a pickle builds, as a graph in an arena.
//!
//! Pickles share objects (the memo) and build cycles, so a tree would be wrong and `Rc`
//! graphs would leak and recurse on drop. Everything with identity lives in a [`Heap`] and
//! is referred to by [`ObjId`]; small immutable atoms (None, bool, small int, float) are
//! stored inline in [`Value`]. Dicts and sets keep Python's key semantics (1, 1.0 and True
//! are one key; unhashable keys are a TypeError), with a seeded hash so hostile keys cannot
//! force quadratic behaviour.

pub use crate::blob::{Blob, Source};
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
/// has no surrogate. Short strs are stored inline (see [`Blob`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PyStr(pub Blob);

impl PyStr {
    /// The text, when it has no lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
    /// From Rust text.
    // Not `FromStr`: every `&str` is a valid Python str, so the trait's `Result` (with an
    // uninhabited error) would only add an unwrap at each call site.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(s: &str) -> PyStr {
        PyStr(Blob::new(s.as_bytes()))
    }
    /// From surrogatepass UTF-8 (not checked).
    pub fn from_bytes(b: &[u8]) -> PyStr {
        PyStr(Blob::new(b))
    }
    /// The surrogatepass UTF-8 bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
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

/// A dict: entries in insertion order, plus a hash index over the keys once the dict is
/// no longer small.
///
/// A dict of at most [`Dict::SMALL`] entries whose keys are all plain (not tuples or
/// frozensets, whose hashing and comparison recurse) has no index: a lookup compares the
/// key with each entry, which for so few keys is cheaper than hashing it, and saves the
/// index's allocations. Python's key semantics are the same either way.
#[derive(Clone, Debug, Default)]
pub struct Dict {
    /// (key, value) in insertion order; the first key object of a merged key stays.
    pub entries: Vec<(Value, Value)>,
    index: Option<Box<KeyIndex>>,
}

/// A set or frozenset: items in insertion order plus a hash index.
#[derive(Clone, Debug, Default)]
pub struct Set {
    /// Items in insertion order (CPython's iteration order is not modelled).
    pub items: Vec<Value>,
    index: KeyIndex,
}

/// A hash index over the keys of a [`Dict`] or the items of a [`Set`]: positions in the
/// entry/item vector, found by the keys' hashes.
///
/// Each slot holds the position and the top half of the key's hash: enough to skip
/// nearly every unequal key and to rehash the table, without a look elsewhere (a probe
/// or a rehash that reads a second array misses the cache once more per key).
#[derive(Clone, Debug, Default)]
struct KeyIndex {
    /// (position, [`KeyIndex::short`] of the key's hash).
    table: HashTable<(u32, u32)>,
}

/// A class/function reference: see [`Obj::Global`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Global {
    /// Module, after fix_imports mapping.
    pub module: PyStr,
    /// Name (possibly dotted).
    pub name: PyStr,
}

/// A stand-in object: see [`Obj::Object`].
#[derive(Clone, Debug)]
pub struct Object {
    /// Its construction.
    pub new: Construction,
    /// Operations applied later.
    pub ops: Vec<ObjOp>,
}

/// An object with identity.
///
/// Every variant is at most 24 bytes, so an `Obj` is 32: the arena holds one per object a
/// pickle makes, and its size is most of the memory (and page faults) a decode costs.
/// Big, rarer payloads are boxed.
#[derive(Clone, Debug)]
pub enum Obj {
    /// str.
    Str(PyStr),
    /// bytes.
    Bytes(Blob),
    /// An int too big for i64.
    Int(Box<BigInt>),
    /// A NaN float. NaN is the one float whose identity matters (a dict finds a NaN key
    /// only by identity, e.g. when the memo hands back the same object), so NaNs live in
    /// the heap; every other float is a [`Value::Float`].
    Float(f64),
    /// tuple (the empty tuple is an atom in pickle JSON).
    Tuple(Vec<Value>),
    /// list.
    List(Vec<Value>),
    /// dict.
    Dict(Box<Dict>),
    /// set.
    Set(Box<Set>),
    /// frozenset.
    FrozenSet(Box<Set>),
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
    Global(Box<Global>),
    /// A stand-in object: how it was made and what was done to it.
    Object(Box<Object>),
}

const _: () = assert!(std::mem::size_of::<Obj>() == 32);

impl Obj {
    /// A stand-in object made by `new`, with no ops yet.
    pub fn object(new: Construction) -> Obj {
        Obj::Object(Box::new(Object { new, ops: Vec::new() }))
    }
    /// The global `module.name`.
    pub fn global(module: PyStr, name: PyStr) -> Obj {
        Obj::Global(Box::new(Global { module, name }))
    }
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
                Obj::Int(b) => Some((**b).clone()),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn spend(&mut self) -> Result<(), HashError> {
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
                        if let Some(&c) = self.hash_cache.get(&id) {
                            return Ok(c);
                        }
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
                        if let Some(&c) = self.hash_cache.get(&id) {
                            return Ok(c);
                        }
                        // Order-independent: the same hash for equal sets whatever their order.
                        let acc = s.index.table.iter().fold(0u64, |a, &(_, x)| {
                            let x = KeyIndex::spread(x);
                            a.wrapping_add(x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (x >> 29))
                        });
                        TAG_FROZENSET.hash(&mut h);
                        s.items.len().hash(&mut h);
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

    /// Whether `v` is a plain key: hashable, and hashed and compared without recursion (not
    /// a tuple or frozenset). Unhashable values are the error `key_hash` gives them.
    fn plain_key(&self, v: Value) -> Result<bool, HashError> {
        let Value::Obj(id) = v else { return Ok(true) };
        match self.get(id) {
            Obj::Tuple(_) | Obj::FrozenSet(_) => Ok(false),
            Obj::List(_) => Err(HashError::Unhashable("list")),
            Obj::Dict(_) => Err(HashError::Unhashable("dict")),
            Obj::Set(_) => Err(HashError::Unhashable("set")),
            Obj::ByteArray(_) | Obj::Buffer { .. } | Obj::View(_) => Err(HashError::Unhashable("bytearray")),
            Obj::Str(_) | Obj::Bytes(_) | Obj::Int(_) | Obj::Float(_) | Obj::Global(_) | Obj::Object(_) => Ok(true),
        }
    }

    /// [`Heap::key_eq`] for two plain keys: the same answer, without recursion or budget.
    #[inline]
    fn plain_eq(&self, a: Value, b: Value) -> bool {
        match (a, b) {
            (Value::Obj(x), Value::Obj(y)) => {
                x == y
                    || match (self.get(x), self.get(y)) {
                        (Obj::Str(p), Obj::Str(q)) => p == q,
                        (Obj::Bytes(p), Obj::Bytes(q)) => p == q,
                        (Obj::Int(p), Obj::Int(q)) => p == q,
                        // NaNs, globals and objects are equal only to themselves; other pairs
                        // are of different types.
                        _ => false,
                    }
            }
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::None, Value::None) => true,
            _ => match (self.num(a), self.num(b)) {
                (Some(x), Some(y)) => num_eq(&x, &y),
                _ => false,
            },
        }
    }

    fn num(&self, v: Value) -> Option<Num> {
        match v {
            Value::Bool(b) => Some(Num::I(b as i64)),
            Value::Int(i) => Some(Num::I(i)),
            Value::Float(f) => Some(Num::F(f)),
            Value::Obj(id) => match self.get(id) {
                Obj::Int(b) => Some(Num::B((**b).clone())),
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

impl KeyIndex {
    /// The part of a key's hash the index keeps.
    #[inline]
    fn short(h: u64) -> u32 {
        (h >> 32) as u32
    }

    /// The table hash of a kept part (low bits pick the bucket, the top ones the tag).
    #[inline]
    fn spread(short: u32) -> u64 {
        ((short as u64) << 32) | short as u64
    }

    /// The table's equality test for `key` (whose kept hash part is `short`): Python's key
    /// equality, which can fail (depth, work budget); the first failure is kept in `err`
    /// and every later slot compares unequal, so the probe ends and the caller reports it.
    fn matcher<'a>(
        heap: &'a mut Heap,
        short: u32,
        key: Value,
        depth: usize,
        key_at: impl Fn(u32) -> Value + 'a,
        err: &'a mut Option<HashError>,
    ) -> impl FnMut(&(u32, u32)) -> bool + 'a {
        move |&(i, s)| {
            if err.is_some() || s != short {
                return false;
            }
            match heap.key_eq_at(key_at(i), key, depth) {
                Ok(e) => e,
                Err(e) => {
                    *err = Some(e);
                    false
                }
            }
        }
    }

    /// The position of the entry whose key equals `key` (hash `h`), given each position's
    /// key.
    fn find(
        &self,
        heap: &mut Heap,
        h: u64,
        key: Value,
        depth: usize,
        key_at: impl Fn(u32) -> Value,
    ) -> Result<Option<u32>, HashError> {
        let short = Self::short(h);
        let mut err = None;
        let found = self.table.find(Self::spread(short), Self::matcher(heap, short, key, depth, key_at, &mut err)).map(|&(i, _)| i);
        match err {
            Some(e) => Err(e),
            None => Ok(found),
        }
    }

    /// The position of the entry whose key equals `key` (hash `h`), or, when there is none,
    /// `None` after recording `fresh` as the position of a key of hash `h`: one probe where
    /// [`KeyIndex::find`] then [`KeyIndex::insert`] take two.
    fn find_or_insert(
        &mut self,
        heap: &mut Heap,
        h: u64,
        key: Value,
        fresh: u32,
        key_at: impl Fn(u32) -> Value,
    ) -> Result<Option<u32>, HashError> {
        let short = Self::short(h);
        let mut err = None;
        let entry = self.table.entry(Self::spread(short), Self::matcher(heap, short, key, 0, key_at, &mut err), |&(_, s)| Self::spread(s));
        if let Some(e) = err {
            return Err(e);
        }
        match entry {
            hashbrown::hash_table::Entry::Occupied(o) => Ok(Some(o.get().0)),
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert((fresh, short));
                Ok(None)
            }
        }
    }

    /// Records that position `i` has a key of hash `h`.
    fn insert(&mut self, h: u64, i: u32) {
        let short = Self::short(h);
        self.table.insert_unique(Self::spread(short), (i, short), |&(_, s)| Self::spread(s));
    }

    /// Room for `n` more keys.
    fn reserve(&mut self, n: usize) {
        self.table.reserve(n, |&(_, s)| Self::spread(s));
    }
}

impl Dict {
    /// Most entries a dict holds without a hash index.
    pub const SMALL: usize = 8;

    /// An empty dict with room for `n` entries.
    pub fn with_capacity(n: usize) -> Dict {
        Dict { entries: Vec::with_capacity(n), index: None }
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// Whether the dict is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Room for `n` more entries. An index that must grow for them grows fourfold rather
    /// than doubling: a dict that takes batch after batch (CPython writes SETITEMS of 1000)
    /// is usually big, and every growth rehashes every key (a third of a 100,000-key
    /// decode, doubling).
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
        if let Some(index) = self.index.as_deref_mut() {
            if index.table.capacity() - index.table.len() < n {
                index.reserve(n.max(3 * index.table.len()));
            }
        }
    }
    /// `d[key] = value` with Python's key merging.
    #[inline]
    pub fn set_item(&mut self, heap: &mut Heap, key: Value, value: Value) -> Result<(), HashError> {
        if self.index.is_none() && self.entries.len() < Self::SMALL && heap.plain_key(key)? {
            // Spend one unit of work, as hashing the key would.
            heap.spend()?;
            match self.find_small(heap, key) {
                Some(i) => self.entries[i].1 = value,
                None => self.entries.push((key, value)),
            }
            return Ok(());
        }
        self.set_item_indexed(heap, key, value)
    }

    /// `set_item` through the hash index (built first if the dict has none yet).
    #[inline(never)]
    fn set_item_indexed(&mut self, heap: &mut Heap, key: Value, value: Value) -> Result<(), HashError> {
        if self.index.is_none() {
            self.build_index(heap)?;
        }
        let h = heap.key_hash(key)?;
        let index = self.index.as_deref_mut().expect("built above");
        let entries = &self.entries;
        match index.find_or_insert(heap, h, key, entries.len() as u32, |i| entries[i as usize].0)? {
            Some(i) => self.entries[i as usize].1 = value,
            None => self.entries.push((key, value)),
        }
        Ok(())
    }

    /// The entry whose key equals the plain `key`, in a dict without an index (so every
    /// key is plain). A str or bytes key is read once and compared with the entries of its
    /// own type only; other keys take [`Heap::plain_eq`].
    #[inline]
    fn find_small(&self, heap: &Heap, key: Value) -> Option<usize> {
        if let Value::Obj(x) = key {
            match heap.get(x) {
                Obj::Str(s) => return self.find_text(heap, x, s.as_bytes(), true),
                Obj::Bytes(b) => return self.find_text(heap, x, b, false),
                _ => {}
            }
        }
        self.entries.iter().position(|e| heap.plain_eq(e.0, key))
    }

    /// The entry whose key is object `x`, or a str (`of_str`) or bytes equal to `text`.
    #[inline]
    fn find_text(&self, heap: &Heap, x: ObjId, text: &[u8], of_str: bool) -> Option<usize> {
        self.entries.iter().position(|e| match e.0 {
            Value::Obj(y) => {
                y == x
                    || match heap.get(y) {
                        Obj::Str(t) => of_str && t.as_bytes() == text,
                        Obj::Bytes(t) => !of_str && &t[..] == text,
                        _ => false,
                    }
            }
            _ => false,
        })
    }

    /// Hashes every key into a new index (the dict outgrew the linear scan, or a key needs
    /// hashing).
    fn build_index(&mut self, heap: &mut Heap) -> Result<(), HashError> {
        let mut index = KeyIndex::default();
        index.reserve(self.entries.capacity().max(self.entries.len() + 1));
        for (i, &(k, _)) in self.entries.iter().enumerate() {
            index.insert(heap.key_hash(k)?, i as u32);
        }
        self.index = Some(Box::new(index));
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
        self.index.find(heap, h, item, depth, |i| self.items[i as usize])
    }
    /// `s.add(item)`: keeps the first equal item.
    pub fn add(&mut self, heap: &mut Heap, item: Value) -> Result<(), HashError> {
        let h = heap.key_hash(item)?;
        if self.find(heap, item, 0)?.is_some() {
            return Ok(());
        }
        self.index.insert(h, self.items.len() as u32);
        self.items.push(item);
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
        let big = heap.alloc(Obj::Int(Box::new(BigInt::from(1u64 << 62) * 4)));
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

    /// Small dicts scan, bigger ones (or ones with a tuple key) hash: the same merging
    /// either way, across the switch.
    #[test]
    fn small_and_indexed_dicts_merge_alike() {
        for n in [3, Dict::SMALL - 1, Dict::SMALL, Dict::SMALL + 1, 40] {
            for tuple_first in [false, true] {
                let mut heap = Heap::new(100, u64::MAX);
                let mut d = Dict::default();
                if tuple_first {
                    let t = heap.alloc(Obj::Tuple(vec![Value::Int(7)]));
                    d.set_item(&mut heap, Value::Obj(t), Value::None).unwrap();
                }
                let strs: Vec<ObjId> = (0..n).map(|i| heap.alloc(Obj::Str(PyStr::from_str(&format!("k{i}"))))).collect();
                let bytes: Vec<ObjId> = (0..n).map(|i| heap.alloc(Obj::Bytes(Blob::new(format!("k{i}").as_bytes())))).collect();
                for (i, &s) in strs.iter().enumerate() {
                    d.set_item(&mut heap, Value::Obj(s), Value::Int(1)).unwrap();
                    d.set_item(&mut heap, Value::Int(i as i64), Value::Int(2)).unwrap();
                }
                // Equal strs (other objects), equal numbers of other types, bytes (distinct).
                for (i, &b) in bytes.iter().enumerate() {
                    let again = heap.alloc(Obj::Str(PyStr::from_str(&format!("k{i}"))));
                    d.set_item(&mut heap, Value::Obj(again), Value::Int(3)).unwrap();
                    d.set_item(&mut heap, Value::Float(i as f64), Value::Int(4)).unwrap();
                    d.set_item(&mut heap, Value::Obj(b), Value::Int(5)).unwrap();
                }
                let base = tuple_first as usize;
                assert_eq!(d.len(), base + 3 * n, "n={n}");
                assert_eq!(d.entries[base], (Value::Obj(strs[0]), Value::Int(3)));
                assert_eq!(d.entries[base + 1], (Value::Int(0), Value::Int(4)));
                let l = heap.alloc(Obj::List(vec![]));
                assert_eq!(d.set_item(&mut heap, Value::Obj(l), Value::None), Err(HashError::Unhashable("list")));
            }
        }
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
