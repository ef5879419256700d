//! Out-of-band buffers and bytearrays: NEXT_BUFFER and READONLY_BUFFER, and what APPENDS
//! and SETITEMS do to a bytearray or a writable supplied buffer (CPython refuses to resize
//! one that a read-only view still exports: BufferError).

use super::machine::hash_err;
use super::{Machine, R};
use crate::error::ErrorCode;
use crate::value::{Heap, Obj, ObjId, Value};

impl Machine<'_> {
    /// NEXT_BUFFER: the next supplied buffer.
    #[inline(never)]
    pub(super) fn load_next_buffer(&mut self) -> R<()> {
        let Some(count) = self.opts.buffers else {
            return Err(ErrorCode::Unpickling(
                "pickle stream refers to out-of-band data but no *buffers* argument was given".into(),
            ));
        };
        if self.next_buffer >= count {
            return Err(ErrorCode::Unpickling("not enough out-of-band buffers".into()));
        }
        let v = self.obj(Obj::Buffer { index: self.next_buffer, readonly: false });
        self.next_buffer += 1;
        self.push(v);
        Ok(())
    }

    /// READONLY_BUFFER: a read-only view of the top item (bytes and read-only buffers are
    /// already that).
    #[inline(never)]
    pub(super) fn load_readonly_buffer(&mut self) -> R<()> {
        let v = self.top()?;
        let replacement = match self.obj_of(v) {
            Some(Obj::Bytes(_)) | Some(Obj::Buffer { readonly: true, .. }) | Some(Obj::View(_)) => None,
            Some(Obj::ByteArray(_)) => Some(Obj::View(match v {
                Value::Obj(id) => id,
                _ => unreachable!(),
            })),
            Some(Obj::Buffer { index, readonly: false }) => Some(Obj::Buffer { index: *index, readonly: true }),
            _ => {
                return Err(ErrorCode::Type(format!(
                    "memoryview: a bytes-like object is required, not '{}'",
                    self.type_name(v)
                )))
            }
        };
        if let Some(o) = replacement {
            let nv = self.obj(o);
            if let Value::Obj(view) = nv {
                self.views.push(view);
            }
            *self.stack.last_mut().unwrap() = nv;
        }
        Ok(())
    }

    /// BufferError when bytearray (or writable supplied buffer) `id` has a live export: a
    /// view READONLY_BUFFER made of it that CPython still holds a reference to. Live here
    /// means reachable from the stack or the memo, which is what a reference count comes
    /// to while nothing is collected (CPython's cycle collector could free an unreachable
    /// cycle holding a view mid-load; brine treats every unreachable view as freed). An
    /// unreachable view can never be reached again, so it is forgotten: each view costs at
    /// most one search, and a search that finds a live one ends the load.
    pub(super) fn check_exports(&mut self, id: ObjId) -> R<()> {
        let exports_of = |heap: &Heap, v: ObjId| match (heap.get(v), heap.get(id)) {
            (Obj::View(b), _) => *b == id,
            (Obj::Buffer { index: i, readonly: true }, Obj::Buffer { index: j, readonly: false }) => i == j,
            _ => false,
        };
        if !self.views.iter().any(|&v| exports_of(&self.heap, v)) {
            return Ok(());
        }
        let mut seen = vec![false; self.heap.objs.len()];
        let mut work: Vec<Value> = self.stack.clone();
        work.extend((0..self.memo.dense.len()).filter_map(|i| self.memo.get(i as u64)));
        work.extend(self.memo.others.values().copied());
        let mut kids = Vec::new();
        while let Some(v) = work.pop() {
            let Value::Obj(o) = v else { continue };
            if std::mem::replace(&mut seen[o as usize], true) {
                continue;
            }
            self.heap.spend().map_err(|e| hash_err(e, &self.opts.limits))?;
            kids.clear();
            crate::json::write::children(self.heap.get(o), &mut kids);
            work.extend_from_slice(&kids);
        }
        if self.views.iter().any(|&v| seen[v as usize] && exports_of(&self.heap, v)) {
            return Err(ErrorCode::Buffer("Existing exports of data: object cannot be re-sized".into()));
        }
        self.views.retain(|&v| seen[v as usize]);
        Ok(())
    }

    /// The contents of a bytearray or of a writable supplied buffer.
    pub(super) fn bytearray_mut(&mut self, id: ObjId) -> &mut Vec<u8> {
        match self.heap.objs[id as usize] {
            Obj::Buffer { index, .. } => &mut self.heap.buffers[index],
            Obj::ByteArray(ref mut b) => b,
            _ => unreachable!("not a bytearray"),
        }
    }

    /// A bytearray element: an int in range(256) (bool counts), as `bytearray.extend` wants.
    pub(super) fn byte_value(&self, v: Value) -> R<u8> {
        match v {
            Value::Bool(b) => Ok(b as u8),
            Value::Int(i) => u8::try_from(i).map_err(|_| ErrorCode::Value("byte must be in range(0, 256)".into())),
            Value::Obj(id) if matches!(self.heap.get(id), Obj::Int(_)) => {
                Err(ErrorCode::Value("byte must be in range(0, 256)".into()))
            }
            _ => Err(ErrorCode::Type(format!(
                "'{}' object cannot be interpreted as an integer",
                self.type_name(v)
            ))),
        }
    }
}
