//! Equality of pickle JSON documents, as the spec defines it: equal up to a renaming of
//! ids, set/frozenset items compared without order, and a str/bytes `ref` treated as the
//! value it refers to. Error nodes are equal when their exception classes are.
//!
//! Documents can nest as deep as a pickle can; callers comparing untrusted documents run
//! this on a thread with a large stack (see [`crate::with_big_stack`]).

use serde_json::Value as J;
use std::collections::HashMap;

/// Where two documents first differ: a JSON-pointer-like path and a description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Path from the root, e.g. `/items/3/v`.
    pub path: String,
    /// What differs.
    pub what: String,
}

#[derive(Clone, Default)]
struct State<'a> {
    defs_a: HashMap<u64, &'a J>,
    defs_b: HashMap<u64, &'a J>,
    ab: HashMap<u64, u64>,
    ba: HashMap<u64, u64>,
}

/// Every node of `root` that carries an `id` (refs aside), by id: what a `ref` stands for.
pub fn collect_defs<'a>(root: &'a J, defs: &mut HashMap<u64, &'a J>) {
    let mut work = vec![root];
    while let Some(v) = work.pop() {
        match v {
            J::Object(m) => {
                if m.get("t").and_then(J::as_str) != Some("ref") {
                    if let Some(id) = m.get("id").and_then(J::as_u64) {
                        defs.insert(id, v);
                    }
                }
                work.extend(m.values());
            }
            J::Array(a) => work.extend(a.iter()),
            _ => {}
        }
    }
}

/// Compares two pickle JSON documents under the spec's equality.
pub fn compare(a: &J, b: &J) -> Result<(), Mismatch> {
    let mut st = State::default();
    collect_defs(a, &mut st.defs_a);
    collect_defs(b, &mut st.defs_b);
    let mut path = String::new();
    eq(a, b, &mut st, &mut path)
}

fn tag(v: &J) -> &str {
    v.get("t").and_then(J::as_str).unwrap_or("")
}

fn fail(path: &str, what: impl Into<String>) -> Result<(), Mismatch> {
    Err(Mismatch { path: if path.is_empty() { "/".into() } else { path.to_string() }, what: what.into() })
}

/// Resolves a ref to its definition: (node, id, was_ref).
fn resolve<'a>(v: &'a J, defs: &HashMap<u64, &'a J>) -> (&'a J, Option<u64>) {
    if tag(v) == "ref" {
        let id = v.get("id").and_then(J::as_u64);
        if let Some(d) = id.and_then(|i| defs.get(&i)) {
            return (d, id);
        }
        return (v, id);
    }
    (v, v.get("id").and_then(J::as_u64))
}

fn eq<'a>(a: &'a J, b: &'a J, st: &mut State<'a>, path: &mut String) -> Result<(), Mismatch> {
    let (na, ia) = resolve(a, &st.defs_a);
    let (nb, ib) = resolve(b, &st.defs_b);
    let (ta, tb) = (tag(na), tag(nb));
    if ta != tb {
        return fail(path, format!("{} vs {}", short(na), short(nb)));
    }
    match ta {
        "str" | "bytes" | "int" | "float" | "bool" | "none" | "global" | "error" => {
            return atom_eq(na, nb, path);
        }
        "tuple" if na.get("items").and_then(J::as_array).is_some_and(|v| v.is_empty()) => {
            return atom_eq_items_len(na, nb, path);
        }
        "ref" => return fail(path, "dangling ref"),
        _ => {}
    }
    // Shared containers must be shared the same way.
    match (ia, ib) {
        (Some(x), Some(y)) => match (st.ab.get(&x), st.ba.get(&y)) {
            (Some(&y2), _) => {
                return if y2 == y { Ok(()) } else { fail(path, format!("sharing differs (id {x} vs {y})")) };
            }
            (None, Some(_)) => return fail(path, format!("sharing differs (id {x} vs {y})")),
            (None, None) => {
                st.ab.insert(x, y);
                st.ba.insert(y, x);
            }
        },
        (None, None) => {}
        _ => return fail(path, format!("one side shares this {ta}, the other does not")),
    }
    match ta {
        "tuple" | "list" => seq_eq(arr(na, "items"), arr(nb, "items"), st, path, "items"),
        "dict" => {
            let (xa, xb) = (arr(na, "items"), arr(nb, "items"));
            if xa.len() != xb.len() {
                return fail(path, format!("dict of {} vs {} entries", xa.len(), xb.len()));
            }
            for (i, (pa, pb)) in xa.iter().zip(xb).enumerate() {
                let l = path.len();
                path.push_str(&format!("/items/{i}"));
                seq_eq(pa.as_array().map_or(&[][..], |v| v), pb.as_array().map_or(&[][..], |v| v), st, path, "")?;
                path.truncate(l);
            }
            Ok(())
        }
        "set" | "frozenset" => set_eq(arr(na, "items"), arr(nb, "items"), st, path),
        "bytearray" => atom_eq(na, nb, path),
        "buffer" => {
            for k in ["index", "readonly", "v"] {
                if na.get(k) != nb.get(k) {
                    return fail(path, format!("buffer {k} differs"));
                }
            }
            match (na.get("view"), nb.get("view")) {
                (Some(x), Some(y)) => field(x, y, st, path, "view"),
                (None, None) => Ok(()),
                _ => fail(path, "buffer view differs"),
            }
        }
        "object" => {
            let (ca, cb) = (na.get("new").unwrap_or(&J::Null), nb.get("new").unwrap_or(&J::Null));
            let kind = |c: &J| ["call", "newobj", "persid"].into_iter().find(|k| c.get(*k).is_some());
            if kind(ca) != kind(cb) {
                return fail(path, format!("constructed by {:?} vs {:?}", kind(ca), kind(cb)));
            }
            let k = kind(ca).unwrap_or("call");
            field(&ca[k], &cb[k], st, path, &format!("new/{k}"))?;
            if k != "persid" {
                let l = path.len();
                path.push_str("/new");
                seq_eq(arr(ca, "args"), arr(cb, "args"), st, path, "args")?;
                let (ka, kb) = (arr(ca, "kwargs"), arr(cb, "kwargs"));
                if ka.len() != kb.len() {
                    return fail(path, "kwargs differ");
                }
                for (pa, pb) in ka.iter().zip(kb) {
                    seq_eq(pa.as_array().map_or(&[][..], |v| v), pb.as_array().map_or(&[][..], |v| v), st, path, "kwargs")?;
                }
                path.truncate(l);
            }
            let (oa, ob) = (arr(na, "ops"), arr(nb, "ops"));
            if oa.len() != ob.len() {
                return fail(path, format!("{} ops vs {}", oa.len(), ob.len()));
            }
            for (i, (x, y)) in oa.iter().zip(ob).enumerate() {
                let opn = x.get("op").and_then(J::as_str).unwrap_or("");
                if Some(opn) != y.get("op").and_then(J::as_str) {
                    return fail(path, format!("op {i}: {} vs {}", x, y));
                }
                for k in ["item", "key", "value", "state"] {
                    if let (Some(p), Some(q)) = (x.get(k), y.get(k)) {
                        field(p, q, st, path, &format!("ops/{i}/{k}"))?;
                    }
                }
            }
            Ok(())
        }
        other => fail(path, format!("unknown node type {other:?}")),
    }
}

fn arr<'a>(v: &'a J, k: &str) -> &'a [J] {
    v.get(k).and_then(J::as_array).map_or(&[][..], |v| v.as_slice())
}

fn short(v: &J) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}...", &s[..s.char_indices().nth(117).map_or(s.len(), |c| c.0)])
    } else {
        s
    }
}

fn field<'a>(a: &'a J, b: &'a J, st: &mut State<'a>, path: &mut String, name: &str) -> Result<(), Mismatch> {
    let l = path.len();
    path.push('/');
    path.push_str(name);
    eq(a, b, st, path)?;
    path.truncate(l);
    Ok(())
}

fn seq_eq<'a>(xa: &'a [J], xb: &'a [J], st: &mut State<'a>, path: &mut String, name: &str) -> Result<(), Mismatch> {
    if xa.len() != xb.len() {
        return fail(path, format!("{} items vs {}", xa.len(), xb.len()));
    }
    for (i, (p, q)) in xa.iter().zip(xb).enumerate() {
        let l = path.len();
        if name.is_empty() {
            path.push_str(&format!("/{i}"));
        } else {
            path.push_str(&format!("/{name}/{i}"));
        }
        eq(p, q, st, path)?;
        path.truncate(l);
    }
    Ok(())
}

fn set_eq<'a>(xa: &'a [J], xb: &'a [J], st: &mut State<'a>, path: &str) -> Result<(), Mismatch> {
    if xa.len() != xb.len() {
        return fail(path, format!("set of {} items vs {}", xa.len(), xb.len()));
    }
    // Fast path: the same order.
    let mut trial = st.clone();
    if seq_eq(xa, xb, &mut trial, &mut path.to_string(), "items").is_ok() {
        *st = trial;
        return Ok(());
    }
    // Items without ids or nested sets compare by canonical text; the rest by search.
    let plain = |v: &J| {
        let t = v.to_string();
        !t.contains("\"id\"") && !t.contains("set\"")
    };
    if xa.iter().all(plain) && xb.iter().all(plain) {
        let canon = |xs: &[J]| {
            let mut v: Vec<String> = xs.iter().map(|x| x.to_string()).collect();
            v.sort();
            v
        };
        return if canon(xa) == canon(xb) { Ok(()) } else { fail(path, "set items differ") };
    }
    let mut used = vec![false; xb.len()];
    'outer: for (i, x) in xa.iter().enumerate() {
        for (j, y) in xb.iter().enumerate() {
            if used[j] {
                continue;
            }
            let mut trial = st.clone();
            if eq(x, y, &mut trial, &mut path.to_string()).is_ok() {
                *st = trial;
                used[j] = true;
                continue 'outer;
            }
        }
        return fail(path, format!("set item {i} has no equal: {}", short(x)));
    }
    Ok(())
}

fn atom_eq(a: &J, b: &J, path: &str) -> Result<(), Mismatch> {
    let t = tag(a);
    let keys: &[&str] = match t {
        "str" => &["v", "hex"],
        "bytes" | "int" | "float" | "bool" | "bytearray" => &["v"],
        "global" => &["module", "name", "module_hex", "name_hex"],
        "error" => &["type"],
        _ => &[],
    };
    for k in keys {
        if a.get(*k) != b.get(*k) {
            return fail(path, format!("{} vs {}", short(a), short(b)));
        }
    }
    Ok(())
}

fn atom_eq_items_len(a: &J, b: &J, path: &str) -> Result<(), Mismatch> {
    if arr(b, "items").is_empty() {
        Ok(())
    } else {
        fail(path, format!("{} vs {}", short(a), short(b)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_rename_and_sets_are_unordered() {
        let a = json!({"t":"list","id":1,"items":[{"t":"ref","id":1},{"t":"set","items":[{"t":"int","v":"1"},{"t":"int","v":"2"}]}]});
        let b = json!({"t":"list","id":7,"items":[{"t":"ref","id":7},{"t":"set","items":[{"t":"int","v":"2"},{"t":"int","v":"1"}]}]});
        assert!(compare(&a, &b).is_ok());
        let c = json!({"t":"list","items":[{"t":"list","items":[]},{"t":"set","items":[{"t":"int","v":"2"},{"t":"int","v":"1"}]}]});
        assert!(compare(&a, &c).is_err());
    }

    #[test]
    fn nested_sets_are_unordered_too() {
        let a = json!({"t":"frozenset","items":[{"t":"str","v":"a"},{"t":"tuple","items":[{"t":"frozenset","items":[{"t":"int","v":"1"},{"t":"int","v":"2"}]}]}]});
        let b = json!({"t":"frozenset","items":[{"t":"tuple","items":[{"t":"frozenset","items":[{"t":"int","v":"2"},{"t":"int","v":"1"}]}]},{"t":"str","v":"a"}]});
        assert!(compare(&a, &b).is_ok());
    }

    #[test]
    fn str_refs_are_values() {
        let a = json!({"t":"list","items":[{"t":"str","id":1,"v":"x"},{"t":"ref","id":1}]});
        let b = json!({"t":"list","items":[{"t":"str","v":"x"},{"t":"str","v":"x"}]});
        assert!(compare(&a, &b).is_ok());
        let c = json!({"t":"list","items":[{"t":"str","v":"x"},{"t":"str","v":"y"}]});
        assert!(compare(&a, &c).is_err());
    }

    #[test]
    fn errors_compare_by_class() {
        let a = json!({"t":"error","type":"ValueError","message":"a"});
        let b = json!({"t":"error","type":"ValueError","message":"b","offset":3});
        let c = json!({"t":"error","type":"TypeError","message":"a"});
        assert!(compare(&a, &b).is_ok());
        assert!(compare(&a, &c).is_err());
    }
}
