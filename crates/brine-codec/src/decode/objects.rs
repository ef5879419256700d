//! Globals and objects: GLOBAL, STACK_GLOBAL, INST, OBJ, REDUCE, BUILD, NEWOBJ, NEWOBJ_EX,
//! EXT1, EXT2, EXT4, PERSID and BINPERSID.
//!
//! Nothing is imported or called: `find_class` makes an [`Obj::Global`] stand-in (one per
//! module and name), and calls, `__new__` and persistent ids make [`Obj::Object`] records
//! of what CPython would have done; what the stand-ins cannot do (be called when they are
//! not a global or record, take a non-empty `__dict__` update...) fails as CPython does.

use super::compat_table;
use super::{Machine, R};
use crate::error::ErrorCode;
use crate::opcodes::Opcode;
use crate::value::{Construction, Obj, ObjOp, PyStr, Value};

impl Machine<'_> {
    /// REDUCE: `callable(*args)`.
    #[inline]
    pub(super) fn load_reduce(&mut self) -> R<()> {
        let args = self.pop()?;
        let callable = self.pop()?;
        let args = match self.obj_of(args) {
            Some(Obj::Tuple(items)) => items.clone(),
            _ => return Err(ErrorCode::Type("argument list must be a tuple".into())),
        };
        let v = self.call(callable, args)?;
        self.push(v);
        Ok(())
    }

    /// GLOBAL: module and name lines, UTF-8.
    #[inline(never)]
    pub(super) fn load_global(&mut self) -> R<()> {
        let (first, second) = self.two_lines(Opcode::GLOBAL)?;
        let module = utf8_strict(line_text(first)?)?;
        let name = utf8_strict(line_text(second?)?)?;
        let v = self.find_class(module, name)?;
        self.push(v);
        Ok(())
    }

    /// STACK_GLOBAL: module and name strs from the stack.
    #[inline(never)]
    pub(super) fn load_stack_global(&mut self) -> R<()> {
        let name = self.pop()?;
        let module = self.pop()?;
        match (self.obj_of(module), self.obj_of(name)) {
            (Some(Obj::Str(m)), Some(Obj::Str(n))) => {
                let (m, n) = (m.clone(), n.clone());
                let v = self.find_class(m, n)?;
                self.push(v);
                Ok(())
            }
            _ => Err(ErrorCode::Unpickling("STACK_GLOBAL requires str".into())),
        }
    }

    /// INST: the mark first, then module and name lines (ASCII), then the class called
    /// with the items above the mark.
    #[inline(never)]
    pub(super) fn load_inst(&mut self) -> R<()> {
        let i = self.marker()?;
        let (first, second) = self.two_lines(Opcode::INST)?;
        let module = ascii_strict(line_text(first)?)?;
        let name = ascii_strict(line_text(second?)?)?;
        let cls = self.find_class(module, name)?;
        let args = self.pop_from(i)?;
        let v = self.instantiate(cls, args)?;
        self.push(v);
        Ok(())
    }

    /// OBJ: the class just above the mark, called with the items above it.
    #[inline(never)]
    pub(super) fn load_obj(&mut self) -> R<()> {
        let i = self.marker()?;
        if self.stack.len() < i + 1 {
            return Err(self.underflow());
        }
        let args = self.pop_from(i + 1)?;
        let cls = self.pop()?;
        let v = self.instantiate(cls, args)?;
        self.push(v);
        Ok(())
    }

    /// NEWOBJ: `cls.__new__(cls, *args)`.
    #[inline(never)]
    pub(super) fn load_newobj(&mut self) -> R<()> {
        let args = self.pop()?;
        let args = match self.obj_of(args) {
            Some(Obj::Tuple(items)) => Some(items.clone()),
            _ => None,
        };
        let Some(args) = args else {
            return Err(ErrorCode::Unpickling("NEWOBJ expected an arg tuple.".into()));
        };
        let cls = self.pop()?;
        if !self.is_global(cls) {
            return Err(ErrorCode::Unpickling(format!(
                "NEWOBJ class argument must be a type, not {}",
                self.type_name(cls)
            )));
        }
        let v = self.newobj(cls, args, vec![])?;
        self.push(v);
        Ok(())
    }

    /// NEWOBJ_EX: `cls.__new__(cls, *args, **kwargs)`.
    #[inline(never)]
    pub(super) fn load_newobj_ex(&mut self) -> R<()> {
        let kwargs = self.pop()?;
        let args = self.pop()?;
        let cls = self.pop()?;
        if !self.is_global(cls) {
            return Err(ErrorCode::Unpickling(format!(
                "NEWOBJ_EX class argument must be a type, not {}",
                self.type_name(cls)
            )));
        }
        let Some(Obj::Tuple(args)) = self.obj_of(args) else {
            return Err(ErrorCode::Unpickling(format!(
                "NEWOBJ_EX args argument must be a tuple, not {}",
                self.type_name(args)
            )));
        };
        let args = args.clone();
        let Some(Obj::Dict(kw)) = self.obj_of(kwargs) else {
            return Err(ErrorCode::Unpickling(format!(
                "NEWOBJ_EX kwargs argument must be a dict, not {}",
                self.type_name(kwargs)
            )));
        };
        let kw = kw.entries.clone();
        for (k, _) in &kw {
            if !matches!(self.obj_of(*k), Some(Obj::Str(_))) {
                return Err(ErrorCode::Type("keywords must be strings".into()));
            }
        }
        let v = self.newobj(cls, args, kw)?;
        self.push(v);
        Ok(())
    }

    /// EXT1, EXT2 and EXT4: the copyreg extension registry's global for a code.
    #[inline(never)]
    pub(super) fn load_ext<const OP: u8>(&mut self) -> R<()> {
        let op = Opcode(OP);
        let layout = op.layout();
        let arg = self.arg(layout).map_err(|e| self.arg_error(e))?;
        let code = layout.int_value(arg.bytes) as i64;
        if code <= 0 {
            return Err(ErrorCode::Unpickling("EXT specifies code <= 0".into()));
        }
        if let Some(&v) = self.ext_cache.get(&code) {
            self.push(v);
            return Ok(());
        }
        let Some((m, n)) = self.opts.extensions.get(&code) else {
            return Err(ErrorCode::Value(format!("unregistered extension code {code}")));
        };
        let (m, n) = (PyStr::from_str(m), PyStr::from_str(n));
        let v = self.find_class(m, n)?;
        self.ext_cache.insert(code, v);
        self.push(v);
        Ok(())
    }

    /// PERSID: a persistent id line (ASCII), recorded.
    #[inline(never)]
    pub(super) fn load_persid(&mut self) -> R<()> {
        let line = self.line(Opcode::PERSID)?;
        let body = &line[..line.len() - 1];
        if !body.is_ascii() {
            return Err(ErrorCode::Unpickling("persistent IDs in protocol 0 must be ASCII strings".into()));
        }
        let pid = self.new_str(body.to_vec())?;
        let v = self.obj(Obj::object(Construction::PersId(pid)));
        self.push(v);
        Ok(())
    }

    /// BINPERSID: a persistent id from the stack, recorded.
    #[inline(never)]
    pub(super) fn load_binpersid(&mut self) -> R<()> {
        let pid = self.pop()?;
        let v = self.obj(Obj::object(Construction::PersId(pid)));
        self.push(v);
        Ok(())
    }

    /// `PyObject_CallObject(callable, args)` with stand-ins: globals and records record the
    /// call; anything else is not callable.
    fn call(&mut self, callable: Value, args: Vec<Value>) -> R<Value> {
        if self.is_global(callable) || self.is_record(callable) {
            self.charge(16 * args.len() + 32)?;
            return Ok(self.obj(Obj::object(Construction::Call { callable, args })));
        }
        Err(ErrorCode::Type(format!("'{}' object is not callable", self.type_name(callable))))
    }

    fn newobj(&mut self, cls: Value, args: Vec<Value>, kwargs: Vec<(Value, Value)>) -> R<Value> {
        self.charge(16 * (args.len() + 2 * kwargs.len()) + 32)?;
        Ok(self.obj(Obj::object(Construction::NewObj { cls, args, kwargs })))
    }

    /// `instantiate()`: no arguments and a class means `cls.__new__(cls)`.
    fn instantiate(&mut self, cls: Value, args: Vec<Value>) -> R<Value> {
        if args.is_empty() && self.is_global(cls) {
            return self.newobj(cls, args, vec![]);
        }
        self.call(cls, args)
    }

    /// The default `find_class`, minus the import: fix_imports mapping for protocol < 3,
    /// the dotted-path `<locals>` rule for protocol >= 4, one object per (module, name).
    ///
    /// This is the method CPython calls; the renaming happens inside it (in
    /// `_pickle_Unpickler_find_class_impl`), so a recorded call (see [`globals`]) holds the
    /// names as the pickle spelled them.
    fn find_class(&mut self, module: PyStr, name: PyStr) -> R<Value> {
        if let Some(calls) = self.calls.as_mut() {
            calls.push((module.clone(), name.clone()));
        }
        let (mut module, mut name) = (module, name);
        if self.proto < 3 && self.opts.fix_imports {
            if let (Some(m), Some(n)) = (module.as_str(), name.as_str()) {
                if let Ok(i) = compat_table::NAME_MAPPING.binary_search_by(|e| e.0.cmp(&(m, n))) {
                    let (m2, n2) = compat_table::NAME_MAPPING[i].1;
                    module = PyStr::from_str(m2);
                    name = PyStr::from_str(n2);
                } else if let Ok(i) = compat_table::IMPORT_MAPPING.binary_search_by(|e| e.0.cmp(m)) {
                    module = PyStr::from_str(compat_table::IMPORT_MAPPING[i].1);
                }
            }
        }
        // The import comes next in CPython: an empty module name is its ValueError.
        if module.0.is_empty() {
            return Err(ErrorCode::Value("Empty module name".into()));
        }
        // 3.14's find_class walks a dotted path with plain getattr, `<locals>` included (its
        // `_getattribute` lost the check in the gh-122311 rework of pickle's errors; the
        // exact PR for the unpickler side: upstream reference not found).
        if self.proto >= 4
            && !self.opts.python.resolves_locals()
            && name.0.split(|&b| b == b'.').any(|part| part == b"<locals>")
        {
            return Err(ErrorCode::Attribute(format!(
                "Can't get local attribute {:?}",
                String::from_utf8_lossy(&name.0)
            )));
        }
        let key = (module, name);
        if let Some(&id) = self.globals.get(&key) {
            return Ok(Value::Obj(id));
        }
        self.charge(key.0 .0.len() + key.1 .0.len() + 32)?;
        let id = self.heap.alloc(Obj::global(key.0.clone(), key.1.clone()));
        self.globals.insert(key, id);
        Ok(Value::Obj(id))
    }

    /// BUILD: the state into the object below it, as CPython's default `__setstate__`
    /// logic does (records record it).
    #[inline(never)]
    pub(super) fn load_build(&mut self) -> R<()> {
        if self.stack.len() < 2 || self.stack.len() - 2 < self.fence() {
            return Err(self.underflow());
        }
        let state = self.pop()?;
        let inst = self.top()?;
        if self.is_record(inst) {
            self.record_op(inst, ObjOp::Build(state));
            return Ok(());
        }
        // CPython's default __setstate__ logic on an object without __setstate__.
        let (state, slotstate) = match self.obj_of(state) {
            Some(Obj::Tuple(t)) if t.len() == 2 => (t[0], Some(t[1])),
            _ => (state, None),
        };
        let inst_is_global = self.is_global(inst);
        if state != Value::None {
            let Some(Obj::Dict(d)) = self.obj_of(state) else {
                return Err(ErrorCode::Unpickling("state is not a dictionary".into()));
            };
            if !inst_is_global {
                return Err(ErrorCode::Attribute(format!(
                    "'{}' object has no attribute '__dict__'",
                    self.type_name(inst)
                )));
            }
            if !d.is_empty() {
                return Err(ErrorCode::Type("'mappingproxy' object does not support item assignment".into()));
            }
        }
        if let Some(slot) = slotstate {
            let Some(Obj::Dict(d)) = self.obj_of(slot) else {
                return Err(ErrorCode::Unpickling("slot state is not a dictionary".into()));
            };
            if let Some(&(k, _)) = d.entries.first() {
                let key = match self.obj_of(k) {
                    Some(Obj::Str(s)) => s.clone(),
                    _ => {
                        return Err(ErrorCode::Type(format!(
                            "attribute name must be string, not '{}'",
                            self.type_name(k)
                        )))
                    }
                };
                if !inst_is_global && &*key.0 == b"__class__" {
                    return Err(ErrorCode::Type("__class__ assignment only supported for mutable types".into()));
                }
                return Err(ErrorCode::Attribute(format!(
                    "'{}' object has no attribute '{}'",
                    self.type_name(inst),
                    String::from_utf8_lossy(&key.0)
                )));
            }
        }
        Ok(())
    }
}

/// A GLOBAL or INST line without its newline; an empty one is "truncated", as CPython's
/// `len < 2` check makes it.
fn line_text(line: &[u8]) -> R<&[u8]> {
    if line.len() < 2 {
        return Err(ErrorCode::Truncated);
    }
    Ok(&line[..line.len() - 1])
}

fn utf8_strict(s: &[u8]) -> R<PyStr> {
    match std::str::from_utf8(s) {
        Ok(_) => Ok(PyStr(s.into())),
        Err(_) => Err(ErrorCode::UnicodeDecode("'utf-8' codec can't decode bytes".into())),
    }
}

fn ascii_strict(s: &[u8]) -> R<PyStr> {
    if s.is_ascii() {
        Ok(PyStr(s.into()))
    } else {
        Err(ErrorCode::UnicodeDecode("'ascii' codec can't decode bytes".into()))
    }
}
