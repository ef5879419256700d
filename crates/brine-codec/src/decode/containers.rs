//! Tuples, lists, dicts, sets and frozensets: EMPTY_TUPLE, TUPLE, TUPLE1-3, EMPTY_LIST,
//! LIST, APPEND, APPENDS, EMPTY_DICT, DICT, SETITEM, SETITEMS, EMPTY_SET, ADDITEMS and
//! FROZENSET. APPEND(S) and SETITEM(S) also fill what is not a list or dict, as CPython's
//! do: records (calls are recorded), bytearrays and supplied buffers.

use super::machine::hash_err;
use super::{Machine, R};
use crate::error::ErrorCode;
use crate::opcodes::Opcode;
use crate::value::{Dict, Obj, ObjId, ObjOp, Set, Value};

impl Machine<'_> {
    /// EMPTY_TUPLE.
    #[inline]
    pub(super) fn load_empty_tuple(&mut self) -> R<()> {
        let v = self.new_tuple(vec![])?;
        self.push(v);
        Ok(())
    }

    /// TUPLE: the items above the topmost mark.
    #[inline]
    pub(super) fn load_tuple(&mut self) -> R<()> {
        let i = self.marker()?;
        let items = self.pop_from(i)?;
        let v = self.new_tuple(items)?;
        self.push(v);
        Ok(())
    }

    /// TUPLE1, TUPLE2 and TUPLE3: the top items, as many as the table says the opcode pops.
    #[inline]
    pub(super) fn load_tuple_n<const OP: u8>(&mut self) -> R<()> {
        let op = Opcode(OP);
        let n = op.fixed_pops().expect("TUPLE1-3 pop a fixed number");
        if self.stack.len() < n {
            return Err(self.underflow());
        }
        let items = self.pop_from(self.stack.len() - n)?;
        let v = self.new_tuple(items)?;
        self.push(v);
        Ok(())
    }

    /// EMPTY_LIST.
    #[inline]
    pub(super) fn load_empty_list(&mut self) -> R<()> {
        self.charge(16)?;
        let v = self.obj(Obj::List(Vec::new()));
        self.push(v);
        Ok(())
    }

    /// LIST: the items above the topmost mark.
    #[inline(never)]
    pub(super) fn load_list(&mut self) -> R<()> {
        let i = self.marker()?;
        let items = self.pop_from(i)?;
        self.charge(16 * items.len() + 16)?;
        let v = self.obj(Obj::List(items));
        self.push(v);
        Ok(())
    }

    /// APPEND: the top item into the object below it.
    #[inline]
    pub(super) fn load_append(&mut self) -> R<()> {
        if self.stack.len().saturating_sub(1) <= self.fence() {
            return Err(self.underflow());
        }
        self.do_append(self.stack.len() - 1)
    }

    /// APPENDS: the items above the topmost mark into the object below it.
    #[inline]
    pub(super) fn load_appends(&mut self) -> R<()> {
        let i = self.marker()?;
        self.do_append(i)
    }

    /// EMPTY_DICT.
    #[inline]
    pub(super) fn load_empty_dict(&mut self) -> R<()> {
        self.charge(16)?;
        let v = self.obj(Obj::Dict(Box::default()));
        self.push(v);
        Ok(())
    }

    /// DICT: the key/value pairs above the topmost mark.
    #[inline(never)]
    pub(super) fn load_dict(&mut self) -> R<()> {
        let i = self.marker()?;
        let j = self.stack.len();
        if (j - i) % 2 != 0 {
            return Err(ErrorCode::Unpickling("odd number of items for DICT".into()));
        }
        self.charge(24 * (j - i) + 16)?;
        let mut d = Box::new(Dict::with_capacity((j - i) / 2));
        for kv in self.stack[i..].chunks_exact(2) {
            d.set_item(&mut self.heap, kv[0], kv[1]).map_err(|e| hash_err(e, &self.opts.limits))?;
        }
        self.stack.truncate(i);
        let v = self.obj(Obj::Dict(d));
        self.push(v);
        Ok(())
    }

    /// SETITEM: the top key/value pair into the object below it.
    #[inline]
    pub(super) fn load_setitem(&mut self) -> R<()> {
        let x = self.stack.len() as isize - 2;
        self.do_setitems(x)
    }

    /// SETITEMS: the key/value pairs above the topmost mark into the object below it.
    #[inline]
    pub(super) fn load_setitems(&mut self) -> R<()> {
        let i = self.marker()?;
        self.do_setitems(i as isize)
    }

    /// EMPTY_SET.
    #[inline(never)]
    pub(super) fn load_empty_set(&mut self) -> R<()> {
        self.charge(16)?;
        let v = self.obj(Obj::Set(Box::default()));
        self.push(v);
        Ok(())
    }

    /// FROZENSET: the items above the topmost mark.
    #[inline(never)]
    pub(super) fn load_frozenset(&mut self) -> R<()> {
        let i = self.marker()?;
        let items = self.pop_from(i)?;
        self.charge(24 * items.len() + 16)?;
        let mut s = Box::new(Set::default());
        for it in items {
            s.add(&mut self.heap, it).map_err(|e| hash_err(e, &self.opts.limits))?;
        }
        let v = self.obj(Obj::FrozenSet(s));
        self.push(v);
        Ok(())
    }

    /// `do_append(self, x)`: items from `x` go into the object just below them, which must
    /// lie above the current fence (the topmost remaining MARK).
    fn do_append(&mut self, x: usize) -> R<()> {
        let len = self.stack.len();
        if x > len || x <= self.fence() {
            return Err(self.underflow());
        }
        // An empty batch is a no-op before 3.15; from 3.15 the target must still be
        // something with `extend`/`append` (gh-135573, PR #144950).
        if len == x && !self.opts.python.empty_batches_check_target() {
            return Ok(());
        }
        let target = self.stack[x - 1];
        let id = match target {
            Value::Obj(id) => Some(id),
            _ => None,
        };
        match id.map(|i| self.heap.get(i)) {
            Some(Obj::List(_)) => {
                self.charge(16 * (len - x))?;
                if let Obj::List(l) = &mut self.heap.objs[id.unwrap() as usize] {
                    l.extend_from_slice(&self.stack[x..]);
                }
                self.stack.truncate(x);
            }
            Some(Obj::Object(_)) => {
                self.charge(16 * (len - x))?;
                if let Obj::Object(o) = &mut self.heap.objs[id.unwrap() as usize] {
                    o.ops.extend(self.stack[x..].iter().map(|&it| ObjOp::Append(it)));
                }
                self.stack.truncate(x);
            }
            Some(Obj::ByteArray(_)) | Some(Obj::Buffer { readonly: false, .. }) => {
                // (3.15's empty batch: `extend([])` resizes nothing, so live exports are
                // no BufferError.)
                if len == x {
                    return Ok(());
                }
                let items = self.stack.split_off(x);
                let mut bytes = Vec::with_capacity(items.len());
                for it in items {
                    bytes.push(self.byte_value(it)?);
                }
                self.charge(bytes.len())?;
                self.check_exports(id.unwrap())?;
                self.bytearray_mut(id.unwrap()).extend(bytes);
            }
            _ => {
                return Err(ErrorCode::Attribute(format!(
                    "'{}' object has no attribute 'append'",
                    self.type_name(target)
                )))
            }
        }
        Ok(())
    }

    /// An index for list/bytearray item assignment (`PyNumber_AsSsize_t(key, IndexError)`).
    fn index_value(&self, key: Value, what: &str) -> R<i64> {
        match key {
            Value::Bool(b) => Ok(b as i64),
            Value::Int(i) => Ok(i),
            Value::Obj(id) if matches!(self.heap.get(id), Obj::Int(_)) => {
                Err(ErrorCode::Index("cannot fit 'int' into an index-sized integer".into()))
            }
            _ => Err(ErrorCode::Type(format!(
                "{what} indices must be integers or slices, not {}",
                self.type_name(key)
            ))),
        }
    }

    /// `do_setitems(self, x)`: key/value pairs from `x` go into the object just below them.
    fn do_setitems(&mut self, x: isize) -> R<()> {
        let len = self.stack.len() as isize;
        if x > len || x <= self.fence() as isize {
            return Err(self.underflow());
        }
        let x = x as usize;
        let len = len as usize;
        if len == x {
            return Ok(());
        }
        if (len - x) % 2 != 0 {
            return Err(ErrorCode::Unpickling("odd number of items for SETITEMS".into()));
        }
        let target = self.stack[x - 1];
        if let Some(Obj::Dict(_)) = self.obj_of(target) {
            let Value::Obj(id) = target else { unreachable!() };
            self.charge(16 * (len - x))?;
            let res = self.fill_dict(id, x);
            self.stack.truncate(x);
            return res;
        }
        let items = self.stack.split_off(x);
        self.charge(16 * items.len())?;
        let Value::Obj(id) = target else {
            return Err(ErrorCode::Type(format!(
                "'{}' object does not support item assignment",
                self.type_name(target)
            )));
        };
        match self.heap.get(id) {
            Obj::Object { .. } => {
                for kv in items.chunks_exact(2) {
                    self.record_op(target, ObjOp::SetItem(kv[0], kv[1]));
                }
            }
            Obj::List(_) | Obj::ByteArray(_) | Obj::Buffer { readonly: false, .. } => {
                let is_list = matches!(self.heap.get(id), Obj::List(_));
                for kv in items.chunks_exact(2) {
                    let what = if is_list { "list" } else { "bytearray" };
                    let i = self.index_value(kv[0], what)?;
                    let byte = if is_list { 0 } else { self.byte_value(kv[1])? };
                    let n = match self.heap.get(id) {
                        Obj::List(l) => l.len(),
                        _ => self.bytearray_mut(id).len(),
                    } as i64;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(ErrorCode::Index(format!("{what} assignment index out of range")));
                    }
                    if let Obj::List(l) = self.heap.get_mut(id) {
                        l[j as usize] = kv[1];
                    } else {
                        self.bytearray_mut(id)[j as usize] = byte;
                    }
                }
            }
            Obj::Buffer { readonly: true, .. } | Obj::View(_) => {
                return Err(ErrorCode::Type("cannot modify read-only memory".into()));
            }
            _ => {
                return Err(ErrorCode::Type(format!(
                    "'{}' object does not support item assignment",
                    self.type_name(target)
                )))
            }
        }
        Ok(())
    }

    /// Sets the key/value pairs on the stack from `from` up into dict `id`.
    fn fill_dict(&mut self, id: ObjId, from: usize) -> R<()> {
        // The dict is filled outside the heap (its keys are hashed against the heap), with
        // the empty spare standing in for it meanwhile.
        self.swap_spare_dict(id);
        let d = self.spare_dict.as_deref_mut().expect("swapped in");
        d.reserve((self.stack.len() - from) / 2);
        let mut res = Ok(());
        for kv in self.stack[from..].chunks_exact(2) {
            if let Err(e) = d.set_item(&mut self.heap, kv[0], kv[1]) {
                res = Err(hash_err(e, &self.opts.limits));
                break;
            }
        }
        self.swap_spare_dict(id);
        res
    }

    fn swap_spare_dict(&mut self, id: ObjId) {
        if let Obj::Dict(d) = &mut self.heap.objs[id as usize] {
            std::mem::swap(d, self.spare_dict.get_or_insert_with(Box::default));
        }
    }

    /// ADDITEMS.
    #[inline(never)]
    pub(super) fn load_additems(&mut self) -> R<()> {
        let mark = self.marker()?;
        let len = self.stack.len();
        if mark > len || mark <= self.fence() {
            return Err(self.underflow());
        }
        // As in do_append: from 3.15 an empty batch still needs a target with `add`
        // (gh-135573, PR #144950).
        if len == mark && !self.opts.python.empty_batches_check_target() {
            return Ok(());
        }
        let target = self.stack[mark - 1];
        let items = self.stack.split_off(mark);
        self.charge(24 * items.len())?;
        match self.obj_of(target) {
            Some(Obj::Set(_)) => {
                let Value::Obj(id) = target else { unreachable!() };
                let Obj::Set(mut s) = std::mem::replace(self.heap.get_mut(id), Obj::List(vec![])) else {
                    unreachable!()
                };
                let mut res = Ok(());
                for it in items {
                    if let Err(e) = s.add(&mut self.heap, it) {
                        res = Err(hash_err(e, &self.opts.limits));
                        break;
                    }
                }
                *self.heap.get_mut(id) = Obj::Set(s);
                res
            }
            Some(Obj::Object { .. }) => {
                for it in items {
                    self.record_op(target, ObjOp::Add(it));
                }
                Ok(())
            }
            _ => Err(ErrorCode::Attribute(format!("'{}' object has no attribute 'add'", self.type_name(target)))),
        }
    }
}
