//! Where an object sits in its document, for error messages: the JSON path of its first
//! occurrence in the depth-first, items-in-order walk that pickle JSON is written in.

use crate::value::{Construction, Heap, Obj, ObjId, ObjOp, Object, Value};
use std::collections::HashMap;
use std::fmt::Write;

/// One step from a node to a child, rendered as JSON path components.
#[derive(Clone, Copy)]
enum Step {
    Items(usize),
    Entry(usize, u8),
    Head(&'static str),
    Arg(usize),
    Kwarg(usize, u8),
    Op(usize, &'static str),
    View,
}

fn render(out: &mut String, s: Step) {
    let _ = match s {
        Step::Items(i) => write!(out, "/items/{i}"),
        Step::Entry(i, j) => write!(out, "/items/{i}/{j}"),
        Step::Head(k) => write!(out, "/new/{k}"),
        Step::Arg(i) => write!(out, "/new/args/{i}"),
        Step::Kwarg(i, j) => write!(out, "/new/kwargs/{i}/{j}"),
        Step::Op(i, k) => write!(out, "/ops/{i}/{k}"),
        Step::View => write!(out, "/view"),
    };
}

fn children(o: &Obj, out: &mut Vec<(Value, Step)>) {
    match o {
        Obj::Tuple(v) | Obj::List(v) => out.extend(v.iter().enumerate().map(|(i, &x)| (x, Step::Items(i)))),
        Obj::Set(s) | Obj::FrozenSet(s) => out.extend(s.items.iter().enumerate().map(|(i, &x)| (x, Step::Items(i)))),
        Obj::Dict(d) => {
            for (i, &(k, v)) in d.entries.iter().enumerate() {
                out.push((k, Step::Entry(i, 0)));
                out.push((v, Step::Entry(i, 1)));
            }
        }
        Obj::View(id) => out.push((Value::Obj(*id), Step::View)),
        Obj::Object(o) => {
            let Object { new, ops } = &**o;
            match new {
                Construction::Call { callable, args } => {
                    out.push((*callable, Step::Head("call")));
                    out.extend(args.iter().enumerate().map(|(i, &x)| (x, Step::Arg(i))));
                }
                Construction::NewObj { cls, args, kwargs } => {
                    out.push((*cls, Step::Head("newobj")));
                    out.extend(args.iter().enumerate().map(|(i, &x)| (x, Step::Arg(i))));
                    for (i, &(k, v)) in kwargs.iter().enumerate() {
                        out.push((k, Step::Kwarg(i, 0)));
                        out.push((v, Step::Kwarg(i, 1)));
                    }
                }
                Construction::PersId(p) => out.push((*p, Step::Head("persid"))),
            }
            for (i, op) in ops.iter().enumerate() {
                match *op {
                    ObjOp::Append(v) => out.push((v, Step::Op(i, "item"))),
                    ObjOp::Add(v) => out.push((v, Step::Op(i, "item"))),
                    ObjOp::Build(v) => out.push((v, Step::Op(i, "state"))),
                    ObjOp::SetItem(k, v) => {
                        out.push((k, Step::Op(i, "key")));
                        out.push((v, Step::Op(i, "value")));
                    }
                }
            }
        }
        _ => {}
    }
}

/// The path of `target`'s first occurrence below `root` (`/` for the root itself).
pub(crate) fn path_of(heap: &Heap, root: Value, target: ObjId) -> Option<String> {
    let Value::Obj(r) = root else { return None };
    let mut parent: HashMap<ObjId, (ObjId, Step)> = HashMap::new();
    let mut seen = vec![false; heap.objs.len()];
    // Depth-first pre-order: an object is visited (and gets its parent) when popped, so
    // its first occurrence in document order wins.
    let mut stack: Vec<(ObjId, Option<(ObjId, Step)>)> = vec![(r, None)];
    let mut kids = Vec::new();
    while let Some((id, from)) = stack.pop() {
        if seen[id as usize] {
            continue;
        }
        seen[id as usize] = true;
        if let Some(f) = from {
            parent.insert(id, f);
        }
        if id == target {
            let mut steps = Vec::new();
            let mut cur = target;
            while let Some(&(p, s)) = parent.get(&cur) {
                steps.push(s);
                cur = p;
            }
            let mut out = String::new();
            for s in steps.iter().rev() {
                render(&mut out, *s);
            }
            if out.is_empty() {
                out.push('/');
            }
            return Some(out);
        }
        kids.clear();
        children(heap.get(id), &mut kids);
        for &(v, step) in kids.iter().rev() {
            if let Value::Obj(c) = v {
                if !seen[c as usize] {
                    stack.push((c, Some((id, step))));
                }
            }
        }
    }
    None
}
