//! The generator's table: one entry per opcode of [`brine_codec::OPCODES`], saying when the
//! opcode may come next (its predicate on the model), how to emit it and update the model,
//! its family and its weight.
//!
//! What an opcode is (byte, protocol, argument layout, stack effect) is the codec's table;
//! this one holds only what generation needs on top. A test checks the two list the same
//! opcodes.

use super::args::{self, Arg, Loads};
use super::model::{Item, Kind, Slot};
use super::Gen;
use crate::config::Family;
use arbitrary::{Result, Unstructured};
use brine_codec::Opcode;

/// How the generator uses one opcode.
pub(crate) struct Entry {
    /// The opcode (a constant of the codec's table).
    pub op: Opcode,
    /// Its family, for [`crate::OpcodeSet::family`].
    pub family: Family,
    /// Relative likelihood when applicable; 0 for the opcodes the driver places itself
    /// (STOP, PROTO, FRAME).
    pub weight: u32,
    /// Whether the opcode is valid on the current model.
    pub pred: fn(&Gen) -> bool,
    /// Emits the opcode (and its argument) and updates the model.
    pub emit: fn(&mut Gen, &mut Unstructured) -> Result<()>,
}

/// Pushers: always applicable.
fn always(_: &Gen) -> bool {
    true
}

/// For the opcodes the driver places itself.
fn never(_: &Gen) -> bool {
    false
}

fn driver(_: &mut Gen, _: &mut Unstructured) -> Result<()> {
    unreachable!("emitted by the driver")
}

macro_rules! entry {
    ($op:ident, $family:ident, $weight:expr, $pred:expr, $emit:expr) => {
        Entry {
            op: Opcode::$op,
            family: Family::$family,
            weight: $weight,
            pred: $pred,
            emit: $emit,
        }
    };
}

/// The table, in the codec table's order.
pub(crate) static TABLE: &[Entry] = &[
    entry!(
        MARK,
        Stack,
        10,
        |g| g.m.marks() < g.config.max_depth,
        |g, _| {
            g.op(Opcode::MARK, Arg::None);
            g.m.stack.push(Slot::Mark);
            Ok(())
        }
    ),
    entry!(STOP, Structure, 0, never, driver),
    entry!(POP, Stack, 2, |g| !g.m.stack.is_empty(), |g, _| {
        g.op(Opcode::POP, Arg::None);
        g.m.stack.pop();
        Ok(())
    }),
    entry!(POP_MARK, Stack, 3, |g| g.m.last_mark().is_some(), |g, _| {
        g.op(Opcode::POP_MARK, Arg::None);
        g.m.pop_mark();
        Ok(())
    }),
    entry!(DUP, Stack, 3, |g| g.m.top(1).is_some(), |g, _| {
        g.op(Opcode::DUP, Arg::None);
        let id = g.m.top(1).unwrap()[0];
        g.m.stack.push(Slot::Val(id));
        Ok(())
    }),
    entry!(FLOAT, Scalars, 3, always, |g, u| {
        let line = args::float_line(u)?;
        g.op(Opcode::FLOAT, Arg::Data(line.as_bytes()));
        g.m.push(Item::atom(Kind::Float));
        Ok(())
    }),
    entry!(INT, Scalars, 4, always, |g, u| {
        let (line, loads) = args::int_line(u, args::max_digits(g.config.max_int_bytes))?;
        g.op(Opcode::INT, Arg::Data(line.as_bytes()));
        g.m.push(match loads {
            Loads::Int(v) => Item::int(v),
            Loads::Bool(b) => Item::boolean(b),
        });
        Ok(())
    }),
    entry!(BININT, Scalars, 3, always, |g, u| {
        let v = args::int64(u)? as i32;
        g.op(Opcode::BININT, Arg::Int(v as i64));
        g.m.push(Item::int(Some(v as i64)));
        Ok(())
    }),
    entry!(BININT1, Scalars, 4, always, |g, u| {
        let v = u.arbitrary::<u8>()? as i64;
        g.op(Opcode::BININT1, Arg::Int(v));
        g.m.push(Item::int(Some(v)));
        Ok(())
    }),
    entry!(LONG, Scalars, 2, always, |g, u| {
        let (line, v) = args::long_line(u, args::max_digits(g.config.max_int_bytes))?;
        g.op(Opcode::LONG, Arg::Data(line.as_bytes()));
        g.m.push(Item::int(v));
        Ok(())
    }),
    entry!(BININT2, Scalars, 2, always, |g, u| {
        let v = u.arbitrary::<u16>()? as i64;
        g.op(Opcode::BININT2, Arg::Int(v));
        g.m.push(Item::int(Some(v)));
        Ok(())
    }),
    entry!(NONE, Scalars, 3, always, |g, _| {
        g.op(Opcode::NONE, Arg::None);
        g.m.push(Item::atom(Kind::None));
        Ok(())
    }),
    entry!(PERSID, Persistence, 2, always, |g, u| {
        let pid: Vec<u8> = args::ascii(u, g.config.max_str_len)?
            .into_iter()
            .map(|b| if b == b'\n' { b' ' } else { b })
            .collect();
        g.op(Opcode::PERSID, Arg::Data(&pid));
        g.m.push(Item::atom(Kind::Object));
        Ok(())
    }),
    entry!(
        BINPERSID,
        Persistence,
        3,
        |g| g.m.top(1).is_some(),
        |g, _| {
            g.op(Opcode::BINPERSID, Arg::None);
            g.m.pop_n(1);
            g.m.push(Item::atom(Kind::Object));
            Ok(())
        }
    ),
    entry!(
        REDUCE,
        Objects,
        40,
        |g| matches!(
            g.m.top_kinds(2).as_deref(),
            Some([Kind::Global | Kind::Object, Kind::Tuple])
        ),
        |g, _| {
            g.op(Opcode::REDUCE, Arg::None);
            g.collapse_top(2, Kind::Object);
            Ok(())
        }
    ),
    entry!(STRING, Strings, 3, always, |g, u| {
        let (lit, nonempty) = args::string_literal(u, g.config.max_str_len)?;
        g.op(Opcode::STRING, Arg::Data(&lit));
        g.m.push(Item::str(nonempty));
        Ok(())
    }),
    entry!(BINSTRING, Strings, 2, always, |g, u| {
        let s = args::ascii(u, g.config.max_str_len)?;
        g.op(Opcode::BINSTRING, Arg::Data(&s));
        g.m.push(Item::str(!s.is_empty()));
        Ok(())
    }),
    entry!(SHORT_BINSTRING, Strings, 3, always, |g, u| {
        let s = args::ascii(u, g.config.max_str_len.min(255))?;
        g.op(Opcode::SHORT_BINSTRING, Arg::Data(&s));
        g.m.push(Item::str(!s.is_empty()));
        Ok(())
    }),
    entry!(UNICODE, Strings, 3, always, |g, u| {
        let (s, nonempty) = args::raw_unicode_escape(u, g.config.max_str_len)?;
        g.op(Opcode::UNICODE, Arg::Data(&s));
        g.m.push(Item::str(nonempty));
        Ok(())
    }),
    entry!(BINUNICODE, Strings, 3, always, |g, u| {
        let s = args::text(u, g.config.max_str_len, usize::MAX, true)?;
        g.op(Opcode::BINUNICODE, Arg::Data(&s));
        g.m.push(Item::str(!s.is_empty()));
        Ok(())
    }),
    entry!(APPEND, Containers, 30, |g| g.append_ok(), |g, _| {
        g.op(Opcode::APPEND, Arg::None);
        let ids = g.m.pop_n(1);
        let t = g.m.top(1).unwrap()[0];
        g.grow(t, &ids);
        Ok(())
    }),
    entry!(BUILD, Objects, 30, |g| g.build_ok(), |g, _| {
        g.op(Opcode::BUILD, Arg::None);
        let ids = g.m.pop_n(1);
        let t = g.m.top(1).unwrap()[0];
        g.m.fill(t, &ids);
        Ok(())
    }),
    entry!(GLOBAL, Objects, 4, always, |g, u| {
        let (m, n) = args::global_name(u, true)?;
        g.op(Opcode::GLOBAL, Arg::Lines(m.as_bytes(), n.as_bytes()));
        g.m.push(Item::atom(Kind::Global));
        Ok(())
    }),
    entry!(
        DICT,
        Containers,
        25,
        |g| g.m.above_mark().is_some_and(|ids| g.dict_items_ok(&ids)),
        |g, _| {
            g.op(Opcode::DICT, Arg::None);
            g.collapse_mark(Kind::Dict);
            Ok(())
        }
    ),
    entry!(EMPTY_DICT, Containers, 4, always, |g, _| {
        g.op(Opcode::EMPTY_DICT, Arg::None);
        g.m.push(Item::atom(Kind::Dict));
        Ok(())
    }),
    entry!(APPENDS, Containers, 25, |g| g.appends_ok(), |g, _| {
        g.op(Opcode::APPENDS, Arg::None);
        let ids = g.m.pop_mark();
        let t = g.m.top(1).unwrap()[0];
        g.grow(t, &ids);
        Ok(())
    }),
    entry!(GET, Memo, 4, |g| !g.m.memo.is_empty(), |g, u| {
        let idx = g.memo_slot(u, u32::MAX)?;
        let line = args::memo_line(u, idx)?;
        g.op(Opcode::GET, Arg::Data(line.as_bytes()));
        g.m.stack.push(Slot::Val(g.m.memo[&idx]));
        Ok(())
    }),
    entry!(
        BINGET,
        Memo,
        5,
        |g| g.m.memo.range(..=255).next().is_some(),
        |g, u| {
            let idx = g.memo_slot(u, 255)?;
            g.op(Opcode::BINGET, Arg::Int(idx as i64));
            g.m.stack.push(Slot::Val(g.m.memo[&idx]));
            Ok(())
        }
    ),
    entry!(
        INST,
        Objects,
        15,
        |g| g.mark_fits(),
        |g, u| {
            let (m, n) = args::global_name(u, false)?;
            g.op(Opcode::INST, Arg::Lines(m.as_bytes(), n.as_bytes()));
            g.collapse_mark(Kind::Object);
            Ok(())
        }
    ),
    entry!(LONG_BINGET, Memo, 3, |g| !g.m.memo.is_empty(), |g, u| {
        let idx = g.memo_slot(u, u32::MAX)?;
        g.op(Opcode::LONG_BINGET, Arg::Int(idx as i64));
        g.m.stack.push(Slot::Val(g.m.memo[&idx]));
        Ok(())
    }),
    entry!(
        LIST,
        Containers,
        20,
        |g| g.mark_fits(),
        |g, _| {
            g.op(Opcode::LIST, Arg::None);
            g.collapse_mark(Kind::List);
            Ok(())
        }
    ),
    entry!(EMPTY_LIST, Containers, 4, always, |g, _| {
        g.op(Opcode::EMPTY_LIST, Arg::None);
        g.m.push(Item::atom(Kind::List));
        Ok(())
    }),
    entry!(OBJ, Objects, 20, |g| g.obj_ok(), |g, _| {
        g.op(Opcode::OBJ, Arg::None);
        g.collapse_mark(Kind::Object);
        Ok(())
    }),
    entry!(PUT, Memo, 3, |g| g.put_ok(1 << 16), |g, u| {
        let idx = g.put_slot(u, 1 << 16)?;
        let line = args::memo_line(u, idx)?;
        g.op(Opcode::PUT, Arg::Data(line.as_bytes()));
        g.memo_put(idx);
        Ok(())
    }),
    entry!(BINPUT, Memo, 5, |g| g.put_ok(255), |g, u| {
        let idx = g.put_slot(u, 255)?;
        g.op(Opcode::BINPUT, Arg::Int(idx as i64));
        g.memo_put(idx);
        Ok(())
    }),
    entry!(LONG_BINPUT, Memo, 3, |g| g.put_ok(1 << 16), |g, u| {
        let idx = g.put_slot(u, 1 << 16)?;
        g.op(Opcode::LONG_BINPUT, Arg::Int(idx as i64));
        g.memo_put(idx);
        Ok(())
    }),
    entry!(
        SETITEM,
        Containers,
        30,
        |g| g
            .m
            .top(3)
            .is_some_and(|ids| g.setitems_ok(ids[0], &ids[1..])),
        |g, _| {
            g.op(Opcode::SETITEM, Arg::None);
            let ids = g.m.pop_n(2);
            let t = g.m.top(1).unwrap()[0];
            g.set_items(t, &ids);
            Ok(())
        }
    ),
    entry!(
        TUPLE,
        Containers,
        20,
        |g| g.mark_fits(),
        |g, _| {
            g.op(Opcode::TUPLE, Arg::None);
            g.collapse_mark(Kind::Tuple);
            Ok(())
        }
    ),
    entry!(EMPTY_TUPLE, Containers, 5, always, |g, _| {
        g.op(Opcode::EMPTY_TUPLE, Arg::None);
        g.m.push(Item::atom(Kind::Tuple));
        Ok(())
    }),
    entry!(
        SETITEMS,
        Containers,
        25,
        |g| g
            .m
            .below_mark()
            .is_some_and(|t| g.setitems_ok(t, &g.m.above_mark().unwrap())),
        |g, _| {
            g.op(Opcode::SETITEMS, Arg::None);
            let ids = g.m.pop_mark();
            let t = g.m.top(1).unwrap()[0];
            g.set_items(t, &ids);
            Ok(())
        }
    ),
    entry!(BINFLOAT, Scalars, 3, always, |g, u| {
        let f = args::float(u)?;
        g.op(Opcode::BINFLOAT, Arg::Float(f));
        g.m.push(Item::atom(Kind::Float));
        Ok(())
    }),
    entry!(PROTO, Structure, 0, never, driver),
    entry!(
        NEWOBJ,
        Objects,
        40,
        |g| matches!(
            g.m.top_kinds(2).as_deref(),
            Some([Kind::Global, Kind::Tuple])
        ),
        |g, _| {
            g.op(Opcode::NEWOBJ, Arg::None);
            g.collapse_top(2, Kind::Object);
            Ok(())
        }
    ),
    entry!(EXT1, Extensions, 3, |g| g.ext_ok(0xff), |g, u| g.ext(
        u,
        Opcode::EXT1,
        0xff
    )),
    entry!(EXT2, Extensions, 3, |g| g.ext_ok(0xffff), |g, u| g.ext(
        u,
        Opcode::EXT2,
        0xffff
    )),
    entry!(EXT4, Extensions, 3, |g| g.ext_ok(i32::MAX), |g, u| g.ext(
        u,
        Opcode::EXT4,
        i32::MAX
    )),
    entry!(
        TUPLE1,
        Containers,
        8,
        |g| g.m.top(1).is_some_and(|ids| g.depth_ok(g.m.depth_of(&ids))),
        |g, _| g.tuple_n(1)
    ),
    entry!(
        TUPLE2,
        Containers,
        8,
        |g| g.m.top(2).is_some_and(|ids| g.depth_ok(g.m.depth_of(&ids))),
        |g, _| g.tuple_n(2)
    ),
    entry!(
        TUPLE3,
        Containers,
        8,
        |g| g.m.top(3).is_some_and(|ids| g.depth_ok(g.m.depth_of(&ids))),
        |g, _| g.tuple_n(3)
    ),
    entry!(NEWTRUE, Scalars, 2, always, |g, _| {
        g.op(Opcode::NEWTRUE, Arg::None);
        g.m.push(Item::boolean(true));
        Ok(())
    }),
    entry!(NEWFALSE, Scalars, 2, always, |g, _| {
        g.op(Opcode::NEWFALSE, Arg::None);
        g.m.push(Item::boolean(false));
        Ok(())
    }),
    entry!(LONG1, Scalars, 2, always, |g, u| {
        let b = args::bytes(u, g.config.max_int_bytes.min(255))?;
        g.op(Opcode::LONG1, Arg::Data(&b));
        g.m.push(Item::int(args::long_value(&b)));
        Ok(())
    }),
    entry!(LONG4, Scalars, 2, always, |g, u| {
        let b = args::bytes(u, g.config.max_int_bytes)?;
        g.op(Opcode::LONG4, Arg::Data(&b));
        g.m.push(Item::int(args::long_value(&b)));
        Ok(())
    }),
    entry!(BINBYTES, Bytes, 3, always, |g, u| g.bytes(
        u,
        Opcode::BINBYTES,
        usize::MAX,
        Kind::Bytes
    )),
    entry!(SHORT_BINBYTES, Bytes, 3, always, |g, u| g.bytes(
        u,
        Opcode::SHORT_BINBYTES,
        255,
        Kind::Bytes
    )),
    entry!(SHORT_BINUNICODE, Strings, 5, always, |g, u| {
        let s = args::text(u, g.config.max_str_len, 255, true)?;
        g.op(Opcode::SHORT_BINUNICODE, Arg::Data(&s));
        g.m.push(Item::str(!s.is_empty()));
        Ok(())
    }),
    entry!(BINUNICODE8, Strings, 2, always, |g, u| {
        let s = args::text(u, g.config.max_str_len, usize::MAX, true)?;
        g.op(Opcode::BINUNICODE8, Arg::Data(&s));
        g.m.push(Item::str(!s.is_empty()));
        Ok(())
    }),
    entry!(BINBYTES8, Bytes, 2, always, |g, u| g.bytes(
        u,
        Opcode::BINBYTES8,
        usize::MAX,
        Kind::Bytes
    )),
    entry!(EMPTY_SET, Containers, 4, always, |g, _| {
        g.op(Opcode::EMPTY_SET, Arg::None);
        g.m.push(Item::atom(Kind::Set));
        Ok(())
    }),
    entry!(ADDITEMS, Containers, 25, |g| g.additems_ok(), |g, _| {
        g.op(Opcode::ADDITEMS, Arg::None);
        let ids = g.m.pop_mark();
        let t = g.m.top(1).unwrap()[0];
        g.m.fill(t, &ids);
        Ok(())
    }),
    entry!(
        FROZENSET,
        Containers,
        15,
        |g| g.m.above_mark().is_some_and(|ids| g.set_items_ok(&ids)),
        |g, _| {
            g.op(Opcode::FROZENSET, Arg::None);
            g.collapse_mark(Kind::FrozenSet);
            Ok(())
        }
    ),
    entry!(NEWOBJ_EX, Objects, 40, |g| g.newobj_ex_ok(), |g, _| {
        g.op(Opcode::NEWOBJ_EX, Arg::None);
        g.collapse_top(3, Kind::Object);
        Ok(())
    }),
    entry!(
        STACK_GLOBAL,
        Objects,
        40,
        |g| g.stack_global_ok(),
        |g, _| {
            g.op(Opcode::STACK_GLOBAL, Arg::None);
            g.m.pop_n(2);
            g.m.push(Item::atom(Kind::Global));
            Ok(())
        }
    ),
    entry!(
        MEMOIZE,
        Memo,
        6,
        |g| g.m.top(1).is_some() && g.memoize_ok(),
        |g, _| {
            g.op(Opcode::MEMOIZE, Arg::None);
            g.memo_put(g.m.memo.len() as u32);
            Ok(())
        }
    ),
    entry!(FRAME, Structure, 0, never, driver),
    entry!(BYTEARRAY8, Bytes, 3, always, |g, u| g.bytes(
        u,
        Opcode::BYTEARRAY8,
        usize::MAX,
        Kind::ByteArray
    )),
    entry!(
        NEXT_BUFFER,
        Buffers,
        3,
        |g| g.buffers_used < g.config.buffers,
        |g, _| {
            g.op(Opcode::NEXT_BUFFER, Arg::None);
            g.buffers_used += 1;
            g.m.push(Item::atom(Kind::Buffer));
            Ok(())
        }
    ),
    entry!(
        READONLY_BUFFER,
        Buffers,
        12,
        |g| matches!(
            g.m.top_kinds(1).as_deref(),
            Some([Kind::Bytes | Kind::ByteArray | Kind::Buffer | Kind::View])
        ),
        |g, _| {
            g.op(Opcode::READONLY_BUFFER, Arg::None);
            let id = g.m.top(1).unwrap()[0];
            if g.m.item(id).kind == Kind::ByteArray {
                g.m.items[id].exported = true;
                g.m.pop_n(1);
                g.m.push(Item::atom(Kind::View));
            }
            Ok(())
        }
    ),
];

/// Predicates and model updates shared by several entries.
impl Gen<'_> {
    /// APPEND: a list or object under any item, or a bytearray under a byte.
    fn append_ok(&self) -> bool {
        let Some(ids) = self.m.top(2) else {
            return false;
        };
        self.append_items_ok(ids[0], &ids[1..])
    }

    /// APPENDS: a target just below the mark (above any earlier mark) taking the items.
    fn appends_ok(&self) -> bool {
        match (self.m.below_mark(), self.m.above_mark()) {
            (Some(t), Some(ids)) => ids.is_empty() || self.append_items_ok(t, &ids),
            _ => false,
        }
    }

    fn append_items_ok(&self, t: usize, ids: &[usize]) -> bool {
        match self.m.item(t).kind {
            Kind::List | Kind::Object => self.depth_ok(self.m.depth_with(t, ids)),
            Kind::ByteArray => {
                !self.m.item(t).exported && ids.iter().all(|&i| self.m.item(i).is_byte())
            }
            _ => false,
        }
    }

    /// Records items appended to a list, bytearray or object.
    fn grow(&mut self, t: usize, ids: &[usize]) {
        self.m.fill(t, ids);
        self.m.items[t].len += ids.len();
    }

    /// BUILD: any state on an object (its stand-in records it); None on a builtin value
    /// (no `__setstate__`, and None means no state). Not on a global: a stand-in class
    /// would find its instances' `__setstate__`.
    fn build_ok(&self) -> bool {
        let Some(ids) = self.m.top(2) else {
            return false;
        };
        let (t, s) = (self.m.item(ids[0]), self.m.item(ids[1]));
        match t.kind {
            Kind::Object => self.depth_ok(self.m.depth_with(ids[0], &ids[1..])),
            Kind::Global | Kind::Buffer | Kind::View => false,
            _ => s.kind == Kind::None,
        }
    }

    /// OBJ: a mark, then a class or callable object, then the arguments.
    fn obj_ok(&self) -> bool {
        self.m.above_mark().is_some_and(|ids| {
            ids.first()
                .is_some_and(|&c| matches!(self.m.item(c).kind, Kind::Global | Kind::Object))
                && self.depth_ok(self.m.depth_of(&ids))
        })
    }

    /// DICT: key/value pairs with usable keys.
    fn dict_items_ok(&self, ids: &[usize]) -> bool {
        ids.len() % 2 == 0
            && ids.iter().step_by(2).all(|&k| self.m.item(k).key)
            && self.depth_ok(self.m.depth_of(ids))
    }

    /// FROZENSET / ADDITEMS on a set: usable items.
    fn set_items_ok(&self, ids: &[usize]) -> bool {
        ids.iter().all(|&i| self.m.item(i).key) && self.depth_ok(self.m.depth_of(ids))
    }

    /// ADDITEMS: a set or object just below the mark, or no items at all.
    fn additems_ok(&self) -> bool {
        let (Some(t), Some(ids)) = (self.m.below_mark(), self.m.above_mark()) else {
            return false;
        };
        ids.is_empty()
            || match self.m.item(t).kind {
                Kind::Set => self.set_items_ok(&ids) && self.depth_ok(self.m.depth_with(t, &ids)),
                Kind::Object => self.depth_ok(self.m.depth_with(t, &ids)),
                _ => false,
            }
    }

    /// SETITEM(S) of key/value pairs `ids` on `t`: usable keys on a dict, in-range indices
    /// on a list (bytes as values on a bytearray), anything on an object; no pairs at all
    /// on anything.
    fn setitems_ok(&self, t: usize, ids: &[usize]) -> bool {
        if ids.is_empty() {
            return true;
        }
        if ids.len() % 2 != 0 || !self.depth_ok(self.m.depth_with(t, ids)) {
            return false;
        }
        let target = self.m.item(t);
        let index_ok = |k: usize| {
            let n = target.len as i64;
            let k = self.m.item(k);
            matches!(k.kind, Kind::Int | Kind::Bool) && k.int.is_some_and(|i| -n <= i && i < n)
        };
        let pairs = || ids.chunks_exact(2);
        match target.kind {
            Kind::Dict => pairs().all(|p| self.m.item(p[0]).key),
            Kind::Object => true,
            Kind::List => pairs().all(|p| index_ok(p[0])),
            Kind::ByteArray => pairs().all(|p| index_ok(p[0]) && self.m.item(p[1]).is_byte()),
            _ => false,
        }
    }

    /// Records SETITEM(S) on `t`.
    fn set_items(&mut self, t: usize, ids: &[usize]) {
        if self.m.item(t).kind == Kind::Dict
            && ids
                .iter()
                .step_by(2)
                .any(|&k| self.m.item(k).kind != Kind::Str)
        {
            self.m.items[t].str_keys = false;
        }
        self.m.fill(t, ids);
    }

    /// STACK_GLOBAL: two non-empty strs (an empty module name fails the import that
    /// comes after find_class's mapping; an empty name, the getattr).
    fn stack_global_ok(&self) -> bool {
        self.m.top(2).is_some_and(|ids| {
            ids.iter()
                .all(|&i| self.m.item(i).kind == Kind::Str && self.m.item(i).len > 0)
        })
    }

    /// NEWOBJ_EX: a class, an args tuple and a kwargs dict of str keys.
    fn newobj_ex_ok(&self) -> bool {
        let Some(ids) = self.m.top(3) else {
            return false;
        };
        let k: Vec<Kind> = ids.iter().map(|&i| self.m.item(i).kind).collect();
        k == [Kind::Global, Kind::Tuple, Kind::Dict] && self.m.item(ids[2]).str_keys
    }

    /// The items above the topmost mark become one new container of `kind` (LIST, TUPLE,
    /// DICT, FROZENSET, OBJ, INST).
    fn collapse_mark(&mut self, kind: Kind) {
        let ids = self.m.pop_mark();
        let it = self.m.container(kind, &ids);
        self.m.push(it);
    }

    /// The top `n` items become one new container of `kind` (TUPLE1-3, REDUCE, NEWOBJ...).
    fn collapse_top(&mut self, n: usize, kind: Kind) {
        let ids = self.m.pop_n(n);
        let it = self.m.container(kind, &ids);
        self.m.push(it);
    }

    /// Whether the items above the topmost mark may go into one more level of nesting.
    fn mark_fits(&self) -> bool {
        self.m.above_mark_depth().is_some_and(|d| self.depth_ok(d))
    }

    fn tuple_n(&mut self, n: usize) -> Result<()> {
        let op = [Opcode::TUPLE1, Opcode::TUPLE2, Opcode::TUPLE3][n - 1];
        self.op(op, Arg::None);
        self.collapse_top(n, Kind::Tuple);
        Ok(())
    }

    fn bytes(&mut self, u: &mut Unstructured, op: Opcode, max: usize, kind: Kind) -> Result<()> {
        let b = args::bytes(u, self.config.max_bytes_len.min(max))?;
        self.op(op, Arg::Data(&b));
        self.m.push(Item {
            len: b.len(),
            ..Item::atom(kind)
        });
        Ok(())
    }

    /// An existing memo slot at most `max`.
    fn memo_slot(&self, u: &mut Unstructured, max: u32) -> Result<u32> {
        let slots: Vec<u32> = self.m.memo.range(..=max).map(|(&k, _)| k).collect();
        Ok(*u.choose(&slots)?)
    }

    /// PUT-like: an item on top, and a slot to fill (a new one within `max_memo`, or one to
    /// redefine).
    fn put_ok(&self, max: u32) -> bool {
        self.m.top(1).is_some()
            && (self.m.memo.len() < self.config.max_memo
                || self.m.memo.range(..=max).next().is_some())
    }

    /// The slot a PUT-like opcode fills: usually the next one (as CPython's pickler does),
    /// sometimes a sparse or an already filled one.
    fn put_slot(&self, u: &mut Unstructured, max: u32) -> Result<u32> {
        let can_new = self.m.memo.len() < self.config.max_memo;
        let has_old = self.m.memo.range(..=max).next().is_some();
        if has_old && (!can_new || args::chance(u, 1, 5)?) {
            return self.memo_slot(u, max);
        }
        let next = (self.m.memo.len() as u32..)
            .find(|i| !self.m.memo.contains_key(i))
            .unwrap();
        if next <= max && !args::chance(u, 1, 4)? {
            return Ok(next);
        }
        u.int_in_range(0..=max.min(1 << 16))
    }

    /// MEMOIZE fills slot `len(memo)`: fine when that is a redefinition or within `max_memo`.
    fn memoize_ok(&self) -> bool {
        let n = self.m.memo.len();
        n < self.config.max_memo || self.m.memo.contains_key(&(n as u32))
    }

    fn memo_put(&mut self, idx: u32) {
        let id = self.m.top(1).expect("an item on top")[0];
        self.m.memo.insert(idx, id);
    }

    fn ext_ok(&self, max: i32) -> bool {
        self.config.extensions.range(1..=max).next().is_some()
    }

    fn ext(&mut self, u: &mut Unstructured, op: Opcode, max: i32) -> Result<()> {
        let codes: Vec<i32> = self
            .config
            .extensions
            .range(1..=max)
            .map(|(&c, _)| c)
            .collect();
        let code = *u.choose(&codes)?;
        self.extensions
            .insert(code, self.config.extensions[&code].clone());
        self.op(op, Arg::Int(code as i64));
        self.m.push(Item::atom(Kind::Global));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TABLE;
    use brine_codec::OPCODES;

    /// One entry per opcode of the codec's table, in its order; only the driver's own
    /// opcodes have no weight.
    #[test]
    fn table_follows_the_opcode_table() {
        assert_eq!(TABLE.len(), OPCODES.len());
        for (e, info) in TABLE.iter().zip(OPCODES) {
            assert_eq!(e.op, info.code, "{} out of place", info.name);
            let driver = matches!(info.name, "STOP" | "PROTO" | "FRAME");
            assert_eq!(e.weight == 0, driver, "{}", info.name);
        }
    }
}
