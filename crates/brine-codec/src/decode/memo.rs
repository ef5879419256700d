//! The memo: GET, BINGET, LONG_BINGET, PUT, BINPUT, LONG_BINPUT and MEMOIZE, the memo
//! itself, and CPython 3.15's memo bookkeeping.

use super::ints::parse_long_text;
use super::{Machine, R};
use crate::error::ErrorCode;
use crate::opcodes::Opcode;
use crate::python::Python;
use crate::pytext::PyInt;
use crate::value::Value;
use std::collections::{HashMap, HashSet};

/// The memo: a dense vector for indices below a bound, a hash map beyond (so a huge PUT
/// index costs nothing). The bound grows with the input, so a pickle with millions of
/// memoized objects stays on the dense path, while a hostile index can make the vector at
/// most a few times the input's size.
///
/// Nearly everything memoized is an object, so a dense slot is just its id (4 bytes, not
/// the 16 of a [`Value`]: the memo of a big pickle is a large part of the memory a decode
/// touches); any other value sits in `others` with [`OTHER`] in its slot.
pub(super) struct Memo {
    pub(super) dense: Vec<u32>,
    /// Values of the [`OTHER`] slots, and every entry at `dense_max` or beyond.
    pub(super) others: HashMap<u64, Value>,
    /// Indices below this are dense.
    dense_max: u64,
    /// Number of entries (MEMOIZE's next index).
    pub(super) len: usize,
}

/// A dense memo slot with no entry.
const EMPTY: u32 = u32::MAX;
/// A dense memo slot whose value is in [`Memo::others`].
const OTHER: u32 = u32::MAX - 1;

impl Memo {
    pub(super) fn new(input_len: usize) -> Memo {
        Memo { dense: Vec::new(), others: HashMap::new(), dense_max: (1 << 20).max(input_len as u64), len: 0 }
    }

    #[inline(always)]
    pub(super) fn get(&self, idx: u64) -> Option<Value> {
        if idx < self.dense_max {
            match self.dense.get(idx as usize) {
                Some(&id) if id < OTHER => Some(Value::Obj(id)),
                Some(&OTHER) => self.others.get(&idx).copied(),
                _ => None,
            }
        } else {
            self.others.get(&idx).copied()
        }
    }

    /// Sets entry `idx`: `Some(true)` if it is new, `Some(false)` if it replaced one, `None`
    /// (and nothing set) when that would make more than `max` entries.
    #[inline(always)]
    pub(super) fn put(&mut self, idx: u64, v: &Value, max: usize) -> Option<bool> {
        let i = idx as usize;
        let slot = match *v {
            Value::Obj(id) if id < OTHER => id,
            _ => OTHER,
        };
        if idx == self.dense.len() as u64 && idx < self.dense_max && slot != OTHER {
            // The usual case: MEMOIZE, or PUT of the next index, of an object.
            if self.len >= max {
                return None;
            }
            self.dense.push(slot);
            self.len += 1;
            return Some(true);
        }
        self.put_slow(idx, i, slot, *v, max)
    }

    /// `put` of a value that is not an object, or past the dense vector's end.
    fn put_slow(&mut self, idx: u64, i: usize, slot: u32, v: Value, max: usize) -> Option<bool> {
        let fresh = self.get(idx).is_none();
        if fresh && self.len >= max {
            return None;
        }
        self.len += fresh as usize;
        if idx < self.dense_max {
            if i >= self.dense.len() {
                self.dense.resize(i + 1, EMPTY);
            }
            self.dense[i] = slot;
            if slot != OTHER {
                self.others.remove(&idx);
                return Some(fresh);
            }
        }
        self.others.insert(idx, v);
        Some(fresh)
    }
}

/// Where CPython 3.15's C unpickler keeps each memo entry, which decides where MEMOIZE
/// stores (gh-115952, PR #119204, 3.15: "a dict is used for too sparse keys").
///
/// Before 3.15 the memo is one array (32 slots to start with, grown to twice the index by
/// a PUT past its end) and `memo_len` counts its entries, so MEMOIZE stores at the number
/// of entries: [`Memo::len`]. From 3.15 a PUT past the array's end whose index is more
/// than twice `memo_len` goes into a dict instead, and `memo_len` counts only the array
/// slots a PUT filled, so MEMOIZE then stores at a smaller index than the number of
/// entries (often over an existing one). As measured on 3.15.2 (the values are the same
/// either way: the array is looked in first, then the dict):
///
/// - a PUT below the array's end, or one that grows it (to twice the index), fills an
///   array slot, and adds one to `memo_len` if the slot was empty, also when the index had
///   an entry in the dict only;
/// - growing the array moves nothing out of the dict;
/// - a GET of an index below the array's end that finds its entry in the dict moves it
///   into the array, without adding to `memo_len` (so a later PUT there does not either).
///
/// The values themselves stay in [`Memo`]; this only follows the bookkeeping.
pub(super) struct SplitMemo {
    /// `memo_size`: the array's length.
    size: u64,
    /// `memo_len`: MEMOIZE's index.
    pub(super) len: u64,
    /// Indices whose entry is in the dict and not (yet) in the array.
    in_dict: HashSet<u64>,
}

impl SplitMemo {
    pub(super) fn new() -> SplitMemo {
        SplitMemo { size: 32, len: 0, in_dict: HashSet::new() }
    }

    /// A PUT (or MEMOIZE) of `idx`, where `fresh` says the memo had no entry there.
    #[inline(always)]
    pub(super) fn put(&mut self, idx: u64, fresh: bool) {
        if idx >= self.size {
            if idx > 2 * self.len {
                self.in_dict.insert(idx);
                return;
            }
            self.size = idx * 2;
        }
        let from_dict = !self.in_dict.is_empty() && self.in_dict.remove(&idx);
        if fresh || from_dict {
            self.len += 1;
        }
    }

    /// A GET of `idx` that found an entry.
    #[inline(always)]
    pub(super) fn got(&mut self, idx: u64) {
        if idx < self.size && !self.in_dict.is_empty() {
            self.in_dict.remove(&idx);
        }
    }
}

impl Machine<'_> {
    /// `memo[idx] = top of stack`. The top is matched where it lies rather than copied
    /// out: it was usually pushed by the opcode just before, and reading all 16 bytes of a
    /// value so freshly (and partly) written stalls the processor.
    #[inline(always)]
    pub(super) fn memo_put_top(&mut self, idx: u64) -> R<()> {
        if self.stack.len() <= self.fence() {
            return Err(self.underflow());
        }
        let top = self.stack.last().expect("above the fence");
        // _Unpickler_MemoPut grows its array to idx*2 slots; beyond PY_SSIZE_T_MAX/8 bytes
        // that is a MemoryError on any machine. From 3.15 too sparse an index goes into a
        // dict instead (gh-115952, PR #119204), so any index works.
        if idx > (i64::MAX as u64) / 16 && self.split_memo.is_none() {
            return Err(ErrorCode::Memory("memo index too large for the C unpickler's memo".into()));
        }
        let Some(fresh) = self.memo.put(idx, top, self.opts.limits.max_memo) else {
            return Err(ErrorCode::MemoLimit(self.opts.limits.max_memo));
        };
        if let Some(split) = &mut self.split_memo {
            split.put(idx, fresh);
        }
        Ok(())
    }

    /// The index MEMOIZE stores at: CPython's `memo_len`.
    #[inline(always)]
    fn memoize_index(&self) -> u64 {
        match &self.split_memo {
            Some(split) => split.len,
            None => self.memo.len as u64,
        }
    }

    #[inline(always)]
    fn memo_get(&mut self, idx: u64) -> R<()> {
        match self.memo.get(idx) {
            Some(v) => {
                if let Some(split) = &mut self.split_memo {
                    split.got(idx);
                }
                self.push(v);
                Ok(())
            }
            None => Err(ErrorCode::MemoMissing(idx)),
        }
    }

    /// BINGET.
    #[inline]
    pub(super) fn load_binget(&mut self) -> R<()> {
        let i = u8::from_le_bytes(self.fixed(Opcode::BINGET)?);
        self.memo_get(i as u64)
    }

    /// LONG_BINGET.
    #[inline]
    pub(super) fn load_long_binget(&mut self) -> R<()> {
        let i = u32::from_le_bytes(self.fixed(Opcode::LONG_BINGET)?);
        self.memo_get(i as u64)
    }

    /// BINPUT.
    #[inline]
    pub(super) fn load_binput(&mut self) -> R<()> {
        let i = u8::from_le_bytes(self.fixed(Opcode::BINPUT)?);
        self.memo_put_top(i as u64)
    }

    /// LONG_BINPUT.
    #[inline]
    pub(super) fn load_long_binput(&mut self) -> R<()> {
        let i = u32::from_le_bytes(self.fixed(Opcode::LONG_BINPUT)?);
        self.memo_put_top(i as u64)
    }

    /// MEMOIZE.
    #[inline]
    pub(super) fn load_memoize(&mut self) -> R<()> {
        let idx = self.memoize_index();
        self.memo_put_top(idx)
    }

    /// GET: the index is a decimal line.
    #[inline(never)]
    pub(super) fn load_get(&mut self) -> R<()> {
        let line = self.line(Opcode::GET)?;
        if line.len() < 2 {
            return Err(ErrorCode::Truncated);
        }
        let idx = parse_memo_index(line, self.opts.python)?;
        if idx < 0 {
            return Err(ErrorCode::MemoMissing(idx as u64));
        }
        self.memo_get(idx as u64)
    }

    /// PUT: the index is a decimal line, read before the stack is looked at.
    #[inline(never)]
    pub(super) fn load_put(&mut self) -> R<()> {
        let line = self.line(Opcode::PUT)?;
        if line.len() < 2 {
            return Err(ErrorCode::Truncated);
        }
        self.top()?;
        let idx = parse_memo_index(line, self.opts.python)?;
        if idx < 0 {
            return Err(ErrorCode::Value("negative PUT argument".into()));
        }
        self.memo_put_top(idx as u64)
    }
}

/// PUT/GET's `PyLong_FromString(s, NULL, 10)` then `PyLong_AsSsize_t`.
fn parse_memo_index(line: &[u8], py: Python) -> R<i64> {
    match parse_long_text(line, false, py)? {
        PyInt::Small(i) => Ok(i),
        PyInt::Big(_) => Err(ErrorCode::Overflow("Python int too large to convert to C ssize_t".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_holds_objects_and_other_values_alike() {
        let mut m = Memo::new(0);
        let far = m.dense_max + 5;
        assert_eq!(m.put(0, &Value::Obj(7), 10), Some(true));
        assert_eq!(m.put(1, &Value::Int(-3), 10), Some(true));
        assert_eq!(m.put(5, &Value::Obj(OTHER + 1), 10), Some(true)); // an id too big for a slot
        assert_eq!(m.put(far, &Value::Obj(9), 10), Some(true));
        assert_eq!(m.len, 4);
        assert_eq!(m.get(0), Some(Value::Obj(7)));
        assert_eq!(m.get(1), Some(Value::Int(-3)));
        assert_eq!(m.get(2), None);
        assert_eq!(m.get(5), Some(Value::Obj(OTHER + 1)));
        assert_eq!(m.get(far), Some(Value::Obj(9)));
        // Overwrites keep the count and may change the kind of value.
        assert_eq!(m.put(1, &Value::Obj(2), 10), Some(false));
        assert_eq!(m.put(0, &Value::Float(1.5), 10), Some(false));
        assert_eq!((m.get(0), m.get(1), m.len), (Some(Value::Float(1.5)), Some(Value::Obj(2)), 4));
        // The limit counts entries, not indices.
        assert_eq!(m.put(3, &Value::None, 5), Some(true));
        assert_eq!(m.put(4, &Value::Obj(1), 5), None);
        assert_eq!(m.put(far + 1, &Value::None, 5), None);
        assert_eq!(m.put(3, &Value::Obj(1), 5), Some(false));
        assert_eq!(m.len, 5);
    }

    #[test]
    fn split_memo_follows_cpython_3_15() {
        // memo_len counts array slots a PUT filled; sparse indices go to the dict.
        let mut s = SplitMemo::new();
        s.put(0, true);
        s.put(24, true); // below the array's 32 slots
        s.put(40, true); // 40 > 2 * 2: the dict
        assert_eq!((s.size, s.len), (32, 2));
        s.put(4, true); // 4 < 32: the array
        assert_eq!(s.len, 3);
        s.put(6, true);
        s.put(7, true);
        s.put(12, true);
        assert_eq!(s.len, 6);
        s.put(12, false); // an overwrite
        assert_eq!(s.len, 6);
        s.put(33, true); // 33 > 12: the dict
        s.put(34, true);
        assert_eq!((s.size, s.len, s.in_dict.len()), (32, 6, 3));
        for i in (8..12).chain(13..21) {
            s.put(i, true);
        }
        assert_eq!(s.len, 18);
        s.put(36, true); // 36 <= 2 * 18: grows the array to 72 slots; the dict stays
        assert_eq!((s.size, s.len, s.in_dict.len()), (72, 19, 3));
        s.put(200, true); // the dict
        s.got(33); // moved into the array, uncounted
        s.got(200); // beyond the array: stays in the dict
        assert_eq!((s.len, s.in_dict.len()), (19, 3));
        s.put(33, false); // already in the array: not counted again
        assert_eq!(s.len, 19);
        s.put(34, false); // from the dict into the array: counted
        assert_eq!((s.len, s.in_dict.len()), (20, 2));
    }
}
