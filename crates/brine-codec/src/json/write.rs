//! Writing pickle JSON (docs/pickle-json.md) from the value model.
//!
//! The walk is iterative (an explicit task stack), because pickles nest as deep as their
//! length allows and a recursive writer would overflow the stack on a 100,000-deep tuple.
//! Ids are assigned only to objects reached more than once, in depth-first order of first
//! occurrence, as the spec's Sharing section says.

use crate::error::Error;
use crate::hex;
use crate::value::{Construction, Global, Heap, Obj, ObjId, ObjOp, Object, Value};
use std::fmt::Write;

/// Python's `repr(float)`: shortest round-trip digits, exponent form when the decimal
/// exponent is below -4 or at least 16.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddde[-]x".
    let e = format!("{:e}", f);
    let (mant, exp) = e.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    let neg = mant.starts_with('-');
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    if let Some(d) = half_even_digits(f.abs(), &digits, exp) {
        digits = d;
    }
    let decpt = exp + 1; // position of the decimal point relative to the digits
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if !(-3..=16).contains(&decpt) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    } else if decpt <= 0 {
        out.push_str("0.");
        for _ in 0..(-decpt) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let d = decpt as usize;
        if digits.len() <= d {
            out.push_str(&digits);
            for _ in digits.len()..d {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..d]);
            out.push('.');
            out.push_str(&digits[d..]);
        }
    }
    out
}

/// Resolves ties the way CPython's dtoa does. Rust and CPython both produce the shortest
/// digit string that reads back as `f`; when the exact binary value lies exactly halfway
/// between two such strings (e.g. 1.50006866455078125 at 17 digits), CPython rounds half to
/// even and Rust rounds half up. A tie needs an exact decimal expansion only one digit
/// longer than the shortest form, which only short expansions have: those fit in u128.
fn half_even_digits(f: f64, digits: &str, exp: i32) -> Option<String> {
    let bits = f.to_bits();
    let (mut m, mut e) = ((bits & ((1 << 52) - 1)) as u128, ((bits >> 52) & 0x7ff) as i32);
    if e == 0 {
        e = 1;
    } else {
        m |= 1 << 52;
    }
    e -= 1075;
    while m & 1 == 0 {
        m >>= 1;
        e += 1;
    }
    let exact = if e >= 0 {
        if e > 74 {
            return None;
        }
        m << e
    } else {
        if -e > 27 {
            return None;
        }
        m * 5u128.pow((-e) as u32)
    };
    let s = exact.to_string();
    let sig = s.trim_end_matches('0');
    let n = digits.len();
    if sig.len() != n + 1 || !sig.ends_with('5') {
        return None;
    }
    // Both neighbours are n-digit candidates; take the one with an even last digit.
    let down: u128 = sig[..n].parse().ok()?;
    let cand = if down % 2 == 0 { down } else { down + 1 };
    let cand_s = cand.to_string();
    if cand_s.len() != n {
        return None;
    }
    let back: f64 = format!("{}.{}e{}", &cand_s[..1], &cand_s[1..], exp).parse().ok()?;
    (back == f).then_some(cand_s)
}

/// Appends `s` as a JSON string literal.
pub fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends an error node for a decoding failure.
pub fn write_error(out: &mut String, e: &Error) {
    out.push_str(r#"{"t":"error","type":"#);
    write_json_str(out, e.code.py_exception());
    out.push_str(r#","message":"#);
    write_json_str(out, &e.code.to_string());
    let _ = write!(out, r#","offset":{}}}"#, e.offset);
}

enum Task {
    Val(Value),
    Raw(&'static str),
}

/// Whether an object can be shared in pickle JSON (carries an id when reached twice).
fn shareable(o: &Obj) -> bool {
    match o {
        Obj::Tuple(t) => !t.is_empty(),
        Obj::Int(_) | Obj::Float(_) | Obj::Global { .. } => false,
        _ => true,
    }
}

/// Pushes an object's children in visit order onto `out` (used by both passes, and by the
/// decoder's liveness check of buffer exports).
pub(crate) fn children(o: &Obj, out: &mut Vec<Value>) {
    match o {
        Obj::Tuple(v) | Obj::List(v) => out.extend_from_slice(v),
        Obj::Dict(d) => {
            for &(k, v) in &d.entries {
                out.push(k);
                out.push(v);
            }
        }
        Obj::Set(s) | Obj::FrozenSet(s) => out.extend_from_slice(&s.items),
        Obj::View(id) => out.push(Value::Obj(*id)),
        Obj::Object(o) => {
            let Object { new, ops } = &**o;
            match new {
                Construction::Call { callable, args } => {
                    out.push(*callable);
                    out.extend_from_slice(args);
                }
                Construction::NewObj { cls, args, kwargs } => {
                    out.push(*cls);
                    out.extend_from_slice(args);
                    for &(k, v) in kwargs {
                        out.push(k);
                        out.push(v);
                    }
                }
                Construction::PersId(p) => out.push(*p),
            }
            for op in ops {
                match *op {
                    ObjOp::Append(v) | ObjOp::Add(v) | ObjOp::Build(v) => out.push(v),
                    ObjOp::SetItem(k, v) => {
                        out.push(k);
                        out.push(v);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Appends the pickle JSON node for `root`.
pub fn write_value(out: &mut String, heap: &Heap, root: Value) {
    // Pass 1: which objects are reached more than once.
    let n = heap.objs.len();
    let mut seen = vec![0u8; n];
    let mut work = vec![root];
    let mut kids = Vec::new();
    while let Some(v) = work.pop() {
        let Value::Obj(id) = v else { continue };
        let o = heap.get(id);
        if !shareable(o) {
            continue;
        }
        let s = &mut seen[id as usize];
        if *s >= 2 {
            continue;
        }
        *s += 1;
        if *s == 1 {
            kids.clear();
            children(o, &mut kids);
            work.extend(kids.iter().rev());
        }
    }
    // Pass 2: write, numbering shared objects at first occurrence.
    let mut ids: Vec<u32> = vec![0; n];
    let mut next_id = 1u32;
    let mut tasks = vec![Task::Val(root)];
    while let Some(t) = tasks.pop() {
        let v = match t {
            Task::Raw(s) => {
                out.push_str(s);
                continue;
            }
            Task::Val(v) => v,
        };
        match v {
            Value::None => out.push_str(r#"{"t":"none"}"#),
            Value::Bool(b) => out.push_str(if b { r#"{"t":"bool","v":true}"# } else { r#"{"t":"bool","v":false}"# }),
            Value::Int(i) => {
                let _ = write!(out, r#"{{"t":"int","v":"{i}"}}"#);
            }
            Value::Float(f) => {
                let _ = write!(out, r#"{{"t":"float","v":"{}"}}"#, float_repr(f));
            }
            Value::Obj(id) => {
                let o = heap.get(id);
                if shareable(o) && seen[id as usize] >= 2 {
                    let cur = ids[id as usize];
                    if cur != 0 {
                        let _ = write!(out, r#"{{"t":"ref","id":{cur}}}"#);
                        continue;
                    }
                    ids[id as usize] = next_id;
                    next_id += 1;
                }
                write_obj(out, heap, id, ids[id as usize], &mut tasks);
            }
        }
    }
}

fn write_obj(out: &mut String, heap: &Heap, id: ObjId, my_id: u32, tasks: &mut Vec<Task>) {
    let o = heap.get(id);
    let idf = |out: &mut String| {
        if my_id != 0 {
            let _ = write!(out, r#","id":{my_id}"#);
        }
    };
    // Pushes `vals` as a comma-separated sequence (in reverse, since tasks is a stack).
    fn seq(tasks: &mut Vec<Task>, vals: &[Value]) {
        for (i, v) in vals.iter().enumerate().rev() {
            tasks.push(Task::Val(*v));
            if i > 0 {
                tasks.push(Task::Raw(","));
            }
        }
    }
    match o {
        Obj::Str(s) => {
            out.push_str(r#"{"t":"str""#);
            idf(out);
            match s.as_str() {
                Some(t) => {
                    out.push_str(r#","v":"#);
                    write_json_str(out, t);
                }
                None => {
                    out.push_str(r#","hex":""#);
                    hex::encode_into(out, &s.0);
                    out.push('"');
                }
            }
            out.push('}');
        }
        Obj::Bytes(_) | Obj::ByteArray(_) => {
            let b: &[u8] = match o {
                Obj::Bytes(b) => b,
                Obj::ByteArray(b) => b,
                _ => unreachable!(),
            };
            out.push_str(if matches!(o, Obj::Bytes(_)) { r#"{"t":"bytes""# } else { r#"{"t":"bytearray""# });
            idf(out);
            out.push_str(r#","v":""#);
            hex::encode_into(out, b);
            out.push_str("\"}");
        }
        Obj::Int(b) => {
            let _ = write!(out, r#"{{"t":"int","v":"{b}"}}"#);
        }
        Obj::Float(f) => {
            let _ = write!(out, r#"{{"t":"float","v":"{}"}}"#, float_repr(*f));
        }
        Obj::Global(g) => {
            let Global { module, name } = &**g;
            out.push_str(r#"{"t":"global""#);
            write_name(out, "module", &module.0);
            write_name(out, "name", &name.0);
            out.push('}');
        }
        Obj::Tuple(items) | Obj::List(items) => {
            out.push_str(if matches!(o, Obj::Tuple(_)) { r#"{"t":"tuple""# } else { r#"{"t":"list""# });
            idf(out);
            out.push_str(r#","items":["#);
            tasks.push(Task::Raw("]}"));
            seq(tasks, items);
        }
        Obj::Set(s) | Obj::FrozenSet(s) => {
            out.push_str(if matches!(o, Obj::Set(_)) { r#"{"t":"set""# } else { r#"{"t":"frozenset""# });
            idf(out);
            out.push_str(r#","items":["#);
            tasks.push(Task::Raw("]}"));
            seq(tasks, &s.items);
        }
        Obj::Dict(d) => {
            out.push_str(r#"{"t":"dict""#);
            idf(out);
            out.push_str(r#","items":["#);
            tasks.push(Task::Raw("]}"));
            for (i, &(k, v)) in d.entries.iter().enumerate().rev() {
                tasks.push(Task::Raw("]"));
                tasks.push(Task::Val(v));
                tasks.push(Task::Raw(","));
                tasks.push(Task::Val(k));
                tasks.push(Task::Raw(if i > 0 { ",[" } else { "[" }));
            }
        }
        Obj::Buffer { index, readonly } => {
            out.push_str(r#"{"t":"buffer""#);
            idf(out);
            let _ = write!(out, r#","index":{index},"readonly":{readonly}"#);
            // Supplied buffers start empty; a pickle that wrote into one shows its bytes.
            if let Some(b) = heap.buffers.get(*index).filter(|b| !b.is_empty()) {
                out.push_str(r#","v":""#);
                hex::encode_into(out, b);
                out.push('"');
            }
            out.push('}');
        }
        Obj::View(of) => {
            out.push_str(r#"{"t":"buffer""#);
            idf(out);
            out.push_str(r#","readonly":true,"view":"#);
            tasks.push(Task::Raw("}"));
            tasks.push(Task::Val(Value::Obj(*of)));
        }
        Obj::Object(o) => {
            let Object { new, ops } = &**o;
            out.push_str(r#"{"t":"object""#);
            idf(out);
            out.push_str(r#","new":"#);
            tasks.push(Task::Raw("]}"));
            for (i, op) in ops.iter().enumerate().rev() {
                match *op {
                    ObjOp::Append(v) => {
                        tasks.push(Task::Raw("}"));
                        tasks.push(Task::Val(v));
                        tasks.push(Task::Raw(r#"{"op":"append","item":"#));
                    }
                    ObjOp::Add(v) => {
                        tasks.push(Task::Raw("}"));
                        tasks.push(Task::Val(v));
                        tasks.push(Task::Raw(r#"{"op":"add","item":"#));
                    }
                    ObjOp::Build(v) => {
                        tasks.push(Task::Raw("}"));
                        tasks.push(Task::Val(v));
                        tasks.push(Task::Raw(r#"{"op":"build","state":"#));
                    }
                    ObjOp::SetItem(k, v) => {
                        tasks.push(Task::Raw("}"));
                        tasks.push(Task::Val(v));
                        tasks.push(Task::Raw(r#","value":"#));
                        tasks.push(Task::Val(k));
                        tasks.push(Task::Raw(r#"{"op":"setitem","key":"#));
                    }
                }
                if i > 0 {
                    tasks.push(Task::Raw(","));
                }
            }
            tasks.push(Task::Raw(r#","ops":["#));
            match new {
                Construction::Call { callable, args } => {
                    tasks.push(Task::Raw("]}"));
                    seq(tasks, args);
                    tasks.push(Task::Raw(r#","args":["#));
                    tasks.push(Task::Val(*callable));
                    out.push_str(r#"{"call":"#);
                }
                Construction::NewObj { cls, args, kwargs } => {
                    tasks.push(Task::Raw("}"));
                    if !kwargs.is_empty() {
                        tasks.push(Task::Raw("]"));
                        for (i, &(k, v)) in kwargs.iter().enumerate().rev() {
                            tasks.push(Task::Raw("]"));
                            tasks.push(Task::Val(v));
                            tasks.push(Task::Raw(","));
                            tasks.push(Task::Val(k));
                            tasks.push(Task::Raw(if i > 0 { ",[" } else { "[" }));
                        }
                        tasks.push(Task::Raw(r#","kwargs":["#));
                    }
                    tasks.push(Task::Raw("]"));
                    seq(tasks, args);
                    tasks.push(Task::Raw(r#","args":["#));
                    tasks.push(Task::Val(*cls));
                    out.push_str(r#"{"newobj":"#);
                }
                Construction::PersId(p) => {
                    tasks.push(Task::Raw("}"));
                    tasks.push(Task::Val(*p));
                    out.push_str(r#"{"persid":"#);
                }
            }
        }
    }
}

/// A global's module or name: `"module": text`, or, when it holds a lone surrogate (a
/// STACK_GLOBAL operand can), `"module_hex": hex` of its surrogatepass UTF-8, as str does.
fn write_name(out: &mut String, key: &str, s: &[u8]) {
    match std::str::from_utf8(s) {
        Ok(t) => {
            let _ = write!(out, r#","{key}":"#);
            write_json_str(out, t);
        }
        Err(_) => {
            let _ = write!(out, r#","{key}_hex":""#);
            hex::encode_into(out, s);
            out.push('"');
        }
    }
}

/// The pickle JSON of a decode result: the value, or an error node.
pub fn result_to_json(r: &Result<crate::decode::Decoded, Error>) -> String {
    let mut out = String::new();
    match r {
        Ok(d) => write_value(&mut out, &d.heap, d.root),
        Err(e) => write_error(&mut out, e),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::float_repr;

    #[test]
    fn float_repr_like_python() {
        for (f, s) in [
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0, "-0.0"),
            (1.0 / 3.0, "0.3333333333333333"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (100.0, "100.0"),
            (-2.5e-7, "-2.5e-07"),
            // Exact ties at the 17th digit: 1.50006866455078125 and 2.50040435791015625,
            // written as the quotients they are so that no digit is lost in the literal.
            (196617.0 / 131072.0, "1.5000686645507812"),
            (327733.0 / 131072.0, "2.5004043579101562"),
        ] {
            assert_eq!(float_repr(f), s, "{f}");
        }
    }
}
