//! The generator's model of the unpickler: what each stack item is (as far as validity
//! cares), where the marks are, and which memo slot holds which item.
//!
//! Items have identity, as in the unpickler: a GET pushes the very object a PUT stored, so
//! appending to a list through one reference lengthens it through all of them.

use std::collections::BTreeMap;

/// What kind of object an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    None,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    ByteArray,
    Tuple,
    List,
    Dict,
    Set,
    FrozenSet,
    /// A class or function reference (GLOBAL, STACK_GLOBAL, EXT*).
    Global,
    /// An object the unpickler made by calling or instantiating something, or from a
    /// persistent id: a stand-in that takes append, setitem, add, setstate and calls.
    Object,
    /// An out-of-band buffer (writable), or its read-only view.
    Buffer,
    /// A read-only memoryview of a bytearray.
    View,
}

/// Tuples and frozensets larger than this (counting shared parts once per use) are not
/// used as keys: comparing two equal but distinct ones costs that much, and CPython (like
/// brine's work budget) gives up on exponentially shared keys.
const KEY_SIZE_MAX: u64 = 2_000;

/// One object of the model.
#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub kind: Kind,
    /// The value of an int or bool, when it fits an i64.
    pub int: Option<i64>,
    /// Length of a list or bytearray (for SETITEM indices); for a str, 0 when empty
    /// (STACK_GLOBAL's names must not be).
    pub len: usize,
    /// Usable as a dict key or set item (hashable, and cheap to compare).
    pub key: bool,
    /// A dict whose keys are all str (NEWOBJ_EX's kwargs).
    pub str_keys: bool,
    /// A bytearray READONLY_BUFFER made a memoryview of: CPython refuses to resize it while
    /// the view lives (BufferError), so it takes no more appends.
    pub exported: bool,
    /// Nesting depth as built.
    pub depth: usize,
    /// Tree size, shared parts counted once per use (saturating).
    pub size: u64,
}

impl Item {
    pub fn atom(kind: Kind) -> Item {
        let key = !matches!(
            kind,
            Kind::ByteArray | Kind::List | Kind::Dict | Kind::Set | Kind::Buffer | Kind::View
        );
        Item {
            kind,
            int: None,
            len: 0,
            key,
            str_keys: kind == Kind::Dict,
            exported: false,
            depth: 0,
            size: 1,
        }
    }

    pub fn int(v: Option<i64>) -> Item {
        Item {
            int: v,
            ..Item::atom(Kind::Int)
        }
    }

    pub fn str(nonempty: bool) -> Item {
        Item {
            len: nonempty as usize,
            ..Item::atom(Kind::Str)
        }
    }

    pub fn boolean(b: bool) -> Item {
        Item {
            int: Some(b as i64),
            ..Item::atom(Kind::Bool)
        }
    }

    /// A byte for bytearray.append/extend/setitem: an int in range(256), or a bool.
    pub fn is_byte(&self) -> bool {
        matches!(self.kind, Kind::Int | Kind::Bool)
            && self.int.is_some_and(|v| (0..256).contains(&v))
    }
}

/// An entry of the unpickler's stack: a mark or an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Mark,
    Val(usize),
}

/// Stack, marks and memo.
#[derive(Clone, Debug, Default)]
pub(crate) struct Model {
    pub items: Vec<Item>,
    pub stack: Vec<Slot>,
    pub memo: BTreeMap<u32, usize>,
}

impl Model {
    /// Adds an item to the model (not to the stack) and returns its id.
    pub fn add(&mut self, it: Item) -> usize {
        self.items.push(it);
        self.items.len() - 1
    }

    /// Pushes a new item.
    pub fn push(&mut self, it: Item) -> usize {
        let id = self.add(it);
        self.stack.push(Slot::Val(id));
        id
    }

    pub fn item(&self, id: usize) -> &Item {
        &self.items[id]
    }

    pub fn marks(&self) -> usize {
        self.stack.iter().filter(|s| **s == Slot::Mark).count()
    }

    /// Stack position of the topmost mark.
    pub fn last_mark(&self) -> Option<usize> {
        self.stack.iter().rposition(|s| *s == Slot::Mark)
    }

    /// The ids of the top `n` entries, bottom first, when all are items above the topmost
    /// mark.
    pub fn top(&self, n: usize) -> Option<Ids> {
        if self.stack.len() < n {
            return None;
        }
        Ids::of(&self.stack[self.stack.len() - n..])
    }

    /// The kinds of the top `n` items (see [`Model::top`]).
    pub fn top_kinds(&self, n: usize) -> Option<Vec<Kind>> {
        self.top(n)
            .map(|ids| ids.iter().map(|&i| self.items[i].kind).collect())
    }

    /// The items above the topmost mark, when there is one.
    pub fn above_mark(&self) -> Option<Ids> {
        let m = self.last_mark()?;
        Some(Ids::of(&self.stack[m + 1..]).expect("no mark above the topmost mark"))
    }

    /// [`Model::depth_of`] the items above the topmost mark, when there is one (without
    /// collecting them: every step asks this of several candidate opcodes).
    pub fn above_mark_depth(&self) -> Option<usize> {
        let m = self.last_mark()?;
        let deepest = self.stack[m + 1..]
            .iter()
            .map(|s| match s {
                Slot::Val(id) => self.items[*id].depth,
                Slot::Mark => unreachable!("above the topmost mark"),
            })
            .max();
        Some(1 + deepest.unwrap_or(0))
    }

    /// The item just below the topmost mark: APPENDS/SETITEMS/ADDITEMS's target. `None`
    /// when there is no mark, or the mark sits on the stack's bottom or on another mark
    /// (where CPython finds no target above the previous mark).
    pub fn below_mark(&self) -> Option<usize> {
        let m = self.last_mark()?;
        match self.stack.get(m.checked_sub(1)?) {
            Some(Slot::Val(id)) => Some(*id),
            _ => None,
        }
    }

    /// Pops the topmost mark and everything above it, returning the items.
    pub fn pop_mark(&mut self) -> Ids {
        let items = self.above_mark().expect("a mark");
        let m = self.last_mark().unwrap();
        self.stack.truncate(m);
        items
    }

    /// Pops `n` items.
    pub fn pop_n(&mut self, n: usize) -> Ids {
        let ids = self.top(n).expect("n items");
        self.stack.truncate(self.stack.len() - n);
        ids
    }

    /// A new container of `kind` holding `ids`.
    pub fn container(&self, kind: Kind, ids: &[usize]) -> Item {
        let mut it = Item::atom(kind);
        it.len = ids.len();
        it.depth = 1 + ids.iter().map(|&i| self.items[i].depth).max().unwrap_or(0);
        it.size = ids
            .iter()
            .fold(1u64, |a, &i| a.saturating_add(self.items[i].size));
        match kind {
            Kind::Tuple => {
                it.key = ids.iter().all(|&i| self.items[i].key) && it.size <= KEY_SIZE_MAX
            }
            Kind::FrozenSet => it.key = it.size <= KEY_SIZE_MAX,
            Kind::Dict => {
                it.str_keys = ids
                    .iter()
                    .step_by(2)
                    .all(|&i| self.items[i].kind == Kind::Str)
            }
            _ => {}
        }
        it
    }

    /// Records that `target` now also holds `ids` (APPEND, SETITEM, ADDITEMS...).
    pub fn fill(&mut self, target: usize, ids: &[usize]) {
        let depth = 1 + ids.iter().map(|&i| self.items[i].depth).max().unwrap_or(0);
        let size = ids
            .iter()
            .fold(0u64, |a, &i| a.saturating_add(self.items[i].size));
        let t = &mut self.items[target];
        t.depth = t.depth.max(depth);
        t.size = t.size.saturating_add(size);
    }

    /// The depth `target` would have after holding `ids`.
    pub fn depth_with(&self, target: usize, ids: &[usize]) -> usize {
        let d = 1 + ids.iter().map(|&i| self.items[i].depth).max().unwrap_or(0);
        d.max(self.items[target].depth)
    }

    /// The depth of a new container of `ids`.
    pub fn depth_of(&self, ids: &[usize]) -> usize {
        1 + ids.iter().map(|&i| self.items[i].depth).max().unwrap_or(0)
    }
}

/// Item ids read off the stack: inline when there are few (the predicates every step
/// evaluates for every candidate opcode look at one to three items, and allocating for
/// each made generation the larger part of a differential check).
#[derive(Clone, Debug)]
pub enum Ids {
    /// Up to [`Ids::INLINE`] ids.
    Inline([usize; Ids::INLINE], u8),
    /// More.
    Heap(Vec<usize>),
}

impl Ids {
    const INLINE: usize = 4;

    /// The ids of `slots`; `None` if one is a mark.
    fn of(slots: &[Slot]) -> Option<Ids> {
        let id = |s: &Slot| match s {
            Slot::Val(id) => Some(*id),
            Slot::Mark => None,
        };
        if slots.len() <= Ids::INLINE {
            let mut a = [0; Ids::INLINE];
            for (d, s) in a.iter_mut().zip(slots) {
                *d = id(s)?;
            }
            Some(Ids::Inline(a, slots.len() as u8))
        } else {
            slots.iter().map(id).collect::<Option<Vec<_>>>().map(Ids::Heap)
        }
    }
}

impl std::ops::Deref for Ids {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        match self {
            Ids::Inline(a, n) => &a[..*n as usize],
            Ids::Heap(v) => v,
        }
    }
}
