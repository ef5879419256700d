//! brine adapter for candle-core 0.11.1's pickle reader, `candle_core::pickle`
//! (conformance/README.md has the protocol).
//!
//! `decode`: the pickle on stdin through `Stack::empty()`, `read_loop` (opcodes until STOP)
//! and `finalize` (the top of the stack), as candle's own `read_pth_tensor_info` does. Ok is
//! an accept (exit 0), an error a rejection (exit 1, with an error node whose type is the
//! `candle_core::Error` variant and whose message is the first line of its text: candle
//! appends a backtrace when RUST_BACKTRACE is set). Bytes after STOP are never read.
//! Decoder only: the module has no writer.
//!
//! The per-case and persistent protocols, and crashes (a panic or an allocation failure in
//! candle is not caught: status 101, or SIGABRT), are `brine_adapter_common`'s
//! (conformance/adapters/rust-common); candle takes no out-of-band buffers or extension
//! registry.
//!
//! candle's model (33 opcodes: no FRAME, text opcodes, SHORT_BINUNICODE, BINBYTES, sets, ...):
//! `Object` is None, Bool, Int (i32), Long (i64, LONG1 read unsigned and wrapping), Float,
//! Unicode, Tuple, List, Dict (a `Vec` of pairs: keys never merged, and DICT and SETITEMS
//! add their pairs in reverse order), Class (a global), Reduce (REDUCE and NEWOBJ alike,
//! except that `collections.OrderedDict`/`defaultdict` calls become an empty Dict), Build,
//! PersistentLoad and Mark. Written as pickle JSON: atoms, tuples, lists and dicts as
//! themselves (dict items in candle's order, not merged), a Class as a global, a Reduce as an
//! object node made by `call` (so a NEWOBJ reads as a call), a PersistentLoad as an object
//! made by `persid`, a Build of such an object as a `build` op on it. Memo GETs are copies:
//! compared with the `sharing` leniency. A value holding a Mark, a Build of anything else or
//! a Reduce whose args are not a tuple is accepted with no node (judged on accept/reject).

use brine_adapter_common::{bool_node, error_node, float_node, int_node, json_str, str_node, Adapter, NONE_NODE};
use candle_core::pickle::{Object, Stack};

fn main() {
    Adapter { name: "candle-core", decode: decode_case, encode: None }.main()
}

/// The innermost variant of a candle error, e.g. `Msg` or `Io`.
fn error_type(e: &candle_core::Error) -> String {
    match e {
        candle_core::Error::WithBacktrace { inner, .. }
        | candle_core::Error::Context { inner, .. }
        | candle_core::Error::WithPath { inner, .. } => error_type(inner),
        candle_core::Error::Io(io) => format!("Io({:?})", io.kind()),
        candle_core::Error::Msg(_) => "Msg".into(),
        candle_core::Error::Wrapped(_) => "Wrapped".into(),
        candle_core::Error::WrappedContext { .. } => "WrappedContext".into(),
        // candle's Debug of an error is its message: name the rest generically.
        _ => "Error".into(),
    }
}

/// One case: the exit status and the node (the value, the error node, or none).
fn decode_case(data: &[u8]) -> (i32, Option<String>) {
    let mut stack = Stack::empty();
    let mut r = std::io::Cursor::new(data);
    let result = stack.read_loop(&mut r).and_then(|()| stack.finalize());
    match result {
        Ok(obj) => {
            let mut out = String::new();
            (0, write(&mut out, &obj).map(|()| out))
        }
        Err(e) => {
            let text = e.to_string();
            let mut first = text.lines().next().unwrap_or("").to_string();
            if first.len() > 1000 {
                let cut = (0..=1000).rev().find(|&i| first.is_char_boundary(i)).unwrap_or(0);
                first.truncate(cut);
                first.push_str("...");
            }
            (1, Some(error_node(&error_type(&e), &first)))
        }
    }
}

/// Writes an object as pickle JSON; `None` when it has no pickle JSON form.
fn write(out: &mut String, o: &Object) -> Option<()> {
    match o {
        Object::None => out.push_str(NONE_NODE),
        Object::Bool(b) => out.push_str(&bool_node(*b)),
        Object::Int(i) => out.push_str(&int_node(i)),
        Object::Long(i) => out.push_str(&int_node(i)),
        Object::Float(f) => out.push_str(&float_node(*f)),
        Object::Unicode(s) => out.push_str(&str_node(s)),
        Object::Tuple(xs) => seq(out, "tuple", xs)?,
        Object::List(xs) => seq(out, "list", xs)?,
        Object::Dict(kvs) => {
            out.push_str(r#"{"t":"dict","items":["#);
            for (i, (k, v)) in kvs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                write(out, k)?;
                out.push(',');
                write(out, v)?;
                out.push(']');
            }
            out.push_str("]}");
        }
        Object::Class { module_name, class_name } => out.push_str(&format!(
            r#"{{"t":"global","module":{},"name":{}}}"#,
            json_str(module_name),
            json_str(class_name)
        )),
        Object::Reduce { .. } | Object::PersistentLoad(_) | Object::Build { .. } => {
            let mut ops = Vec::new();
            object(out, o, &mut ops)?;
            out.push_str(r#","ops":["#);
            for (i, state) in ops.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"op":"build","state":"#);
                write(out, state)?;
                out.push('}');
            }
            out.push_str("]}");
        }
        Object::Mark => return None,
    }
    Some(())
}

/// The start of an object node (up to its construction) for a Reduce or PersistentLoad,
/// collecting the states of the Builds wrapped around it, innermost first, into `ops`.
fn object<'a>(out: &mut String, o: &'a Object, ops: &mut Vec<&'a Object>) -> Option<()> {
    match o {
        Object::Build { callable, args } => {
            object(out, callable, ops)?;
            ops.push(args);
        }
        Object::Reduce { callable, args } => {
            let Object::Tuple(args) = args.as_ref() else { return None };
            out.push_str(r#"{"t":"object","new":{"call":"#);
            write(out, callable)?;
            out.push_str(r#","args":["#);
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, a)?;
            }
            out.push_str("]}");
        }
        Object::PersistentLoad(pid) => {
            out.push_str(r#"{"t":"object","new":{"persid":"#);
            write(out, pid)?;
            out.push('}');
        }
        _ => return None,
    }
    Some(())
}

fn seq(out: &mut String, t: &str, xs: &[Object]) -> Option<()> {
    out.push_str(&format!(r#"{{"t":"{t}","items":["#));
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(out, x)?;
    }
    out.push_str("]}");
    Some(())
}
