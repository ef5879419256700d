//! The Rust conversion of unpickled object graphs (`Sandbox::to_json`, used by
//! `Sandbox::loads`) gives exactly the document the sandbox's Python `to_json` +
//! `dumps_json` + JSON parse gives, byte for byte after `serde_json::to_string`, and the same
//! error (class and message) where the Python one raises.
//!
//! Every case of corpus/ and conformance/decode/*.jsonl is screened by the guard as the
//! engines screen it, loaded with CPython's C unpickler and with the pure-Python one, and
//! each object graph a load built is converted both ways. Loads that fail give
//! an error node: the outcome read from it directly must equal the outcome of its JSON.
//! Then hand-built graphs: 100,000-deep nesting, cycles, shared objects of every shareable
//! type (and CPython's unshared singletons), lone surrogates, big ints, NaN/inf/-0.0,
//! supplied and in-band buffers, Records with every construction and op, stand-in globals
//! with lone surrogates, and each error `to_json` raises, in its order.
//!
//! `cargo test -p brine-oracle --release --test to_json -- --ignored --nocapture timing`
//! prints the time of `Sandbox::loads` with either conversion on a few pickles.
#![cfg(feature = "cpython")]

use brine_oracle::cpython::{interpreter, Sandbox, Unpickler, TIMEOUT_MIN_INPUT};
use brine_oracle::guard::{self, Screen};
use brine_oracle::{Codec, Outcome};
use brine_codec::{hex, DecodeOptions};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use serde_json::Value as J;
use std::path::PathBuf;
use std::time::Instant;

/// BRINE_NO_CPYTHON=1 turns the engines off on purpose: nothing to test then.
fn no_cpython() -> bool {
    std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty())
}

fn parse(text: &str) -> J {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    serde::Deserialize::deserialize(&mut de).expect("JSON")
}

type Extensions = Vec<(String, String, i64)>;

/// One pickle to load: name, bytes, buffers, extension registry.
struct Case {
    name: String,
    data: Vec<u8>,
    buffers: Option<usize>,
    extensions: Option<Extensions>,
}

fn extensions_of(j: &J) -> Option<Extensions> {
    let list = j.get("extensions")?.as_array()?;
    Some(
        list.iter()
            .map(|e| {
                let e = e.as_array().expect("[module, name, code]");
                (e[0].as_str().unwrap().to_string(), e[1].as_str().unwrap().to_string(), e[2].as_i64().unwrap())
            })
            .collect(),
    )
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every case of corpus/manifest.json (NAME.pkl, with NAME.json's buffers and extensions).
fn corpus_cases() -> Vec<Case> {
    let dir = repo().join("corpus");
    let manifest = parse(&std::fs::read_to_string(dir.join("manifest.json")).expect("corpus/manifest.json"));
    let names = manifest["cases"].as_array().expect("cases");
    names
        .iter()
        .map(|n| {
            let name = n.as_str().unwrap();
            let data = std::fs::read(dir.join(format!("{name}.pkl"))).expect("NAME.pkl");
            let meta = parse(&std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("NAME.json"));
            let buffers = meta.get("buffers").and_then(J::as_u64).map(|b| b as usize);
            Case { name: format!("corpus/{name}"), data, buffers, extensions: extensions_of(&meta) }
        })
        .collect()
}

/// Every case of conformance/decode/*.jsonl.
fn conformance_cases() -> Vec<Case> {
    let dir = repo().join("conformance/decode");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("conformance/decode")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = vec![];
    for f in &files {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let case = parse(line);
            if case.get("header").is_some() {
                continue;
            }
            out.push(Case {
                name: format!("{stem}/{}", case["name"].as_str().unwrap_or("?")),
                data: hex::decode(case["pickle"].as_str().unwrap_or(""))
                    .unwrap_or_else(|e| panic!("{stem}/{}: \"pickle\" is not hex: {e}", case["name"])),
                buffers: case.get("buffers").and_then(J::as_u64).map(|b| b as usize),
                extensions: extensions_of(&case),
            });
        }
    }
    out
}

/// What CPython may safely load of a case: the guard's screen, as the engines apply it.
fn screened(codec: &Codec, case: &Case) -> Option<Vec<u8>> {
    let with_registry;
    let codec = match &case.extensions {
        Some(ext) if !ext.is_empty() => {
            let extensions = ext.iter().map(|(m, n, c)| (*c, (m.clone(), n.clone()))).collect();
            with_registry = Codec { options: DecodeOptions { extensions, ..DecodeOptions::default() } };
            &with_registry
        }
        _ => codec,
    };
    let raw = codec.decode_raw(&case.data, case.buffers);
    match guard::screen(codec, &case.data, case.buffers, &raw) {
        Screen::Clear => Some(case.data.clone()),
        Screen::Prefix(at, _) => Some(case.data[..at].to_vec()),
        Screen::Poisoned(_) => None,
    }
}

/// A conversion's answer, comparable: the document's JSON text, or the exception.
fn answer(py: Python<'_>, r: PyResult<J>) -> Result<String, String> {
    match r {
        Ok(j) => Ok(serde_json::to_string(&j).expect("serializable")),
        Err(e) => Err(format!("{}: {}", e.get_type(py).name().map(|n| n.to_string()).unwrap_or_default(), e)),
    }
}

/// The first difference of two texts, for a failure message.
fn first_difference(a: &str, b: &str) -> String {
    let at = a.bytes().zip(b.bytes()).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let from = at.saturating_sub(80);
    let cut = |s: &str| s.get(from..(at + 80).min(s.len())).unwrap_or("<not on a char boundary>").to_string();
    format!("at byte {at} (lengths {} / {}):\n      rust:   ...{}\n      python: ...{}", a.len(), b.len(), cut(a), cut(b))
}

#[derive(Default, Debug)]
struct Tally {
    documents: usize,
    deep_or_big: usize,
    conversion_errors: usize,
    error_nodes: usize,
    escaped: usize,
    poisoned: usize,
    mismatches: Vec<String>,
}

/// Converts one graph both ways and records the comparison.
fn compare_graph(py: Python<'_>, sb: &Sandbox, what: &str, result: &Bound<'_, PyAny>, standins: &Bound<'_, PyAny>, t: &mut Tally) {
    let rust = answer(py, sb.to_json(py, result, standins));
    let python = answer(py, sb.to_json_py(py, result, standins));
    match (&rust, &python) {
        (Ok(a), Ok(b)) if a == b => {
            t.documents += 1;
            if a.len() > 100_000 {
                t.deep_or_big += 1;
            }
        }
        (Err(a), Err(b)) if a == b => t.conversion_errors += 1,
        (Ok(a), Ok(b)) => t.mismatches.push(format!("{what}: documents differ {}", first_difference(a, b))),
        _ => t.mismatches.push(format!("{what}: rust {rust:.300?}\n      python {python:.300?}")),
    }
}

/// Loads one case with one unpickler and compares the conversions of what it built.
fn check_load(py: Python<'_>, sb: &Sandbox, which: Unpickler, case: &Case, data: &[u8], timeouts: bool, t: &mut Tally) {
    let what = format!("{} ({which:?})", case.name);
    let timeout = (timeouts && data.len() >= TIMEOUT_MIN_INPUT).then_some(20.0);
    let raw = match sb.load_raw(py, which, data, case.buffers, case.extensions.clone(), timeout) {
        Ok(raw) => raw,
        Err(e) => {
            t.escaped += 1;
            println!("{what}: exception escaping the sandbox: {e}");
            return;
        }
    };
    if let Ok(pair) = raw.cast::<PyTuple>() {
        let (result, standins) = (pair.get_item(0).unwrap(), pair.get_item(1).unwrap());
        compare_graph(py, sb, &what, &result, &standins, t);
        return;
    }
    // An error node: read directly (Sandbox::raw_outcome) == through its JSON.
    let direct = sb.raw_outcome(py, &raw);
    let json = Outcome::from_node(sb.json_of(py, &raw).expect("an error node's JSON"));
    if let Outcome::Poisoned(_) = json {
        t.poisoned += 1;
    } else {
        t.error_nodes += 1;
    }
    if direct != json {
        t.mismatches.push(format!("{what}: error outcome {direct:?} / from its JSON {json:?}"));
    }
}

fn check_cases(cases: Vec<Case>) -> Tally {
    let codec = Codec::new();
    let interp = interpreter().expect("CPython");
    let timeouts = interp.info().timeouts;
    let mut tally = Tally::default();
    let mut skipped = 0;
    let mut todo = vec![];
    for case in cases {
        match screened(&codec, &case) {
            Some(data) => todo.push((case, data)),
            None => skipped += 1,
        }
    }
    println!("{} cases to load, {skipped} poisoned by the guard (not loaded)", todo.len());
    while !todo.is_empty() {
        let chunk: Vec<(Case, Vec<u8>)> = todo.drain(..todo.len().min(500)).collect();
        let t = interp.run(move |py, sb| {
            let mut t = Tally::default();
            for (case, data) in &chunk {
                check_load(py, sb, Unpickler::C, case, data, timeouts, &mut t);
                check_load(py, sb, Unpickler::Python, case, data, timeouts, &mut t);
            }
            t
        });
        tally.documents += t.documents;
        tally.deep_or_big += t.deep_or_big;
        tally.conversion_errors += t.conversion_errors;
        tally.error_nodes += t.error_nodes;
        tally.escaped += t.escaped;
        tally.poisoned += t.poisoned;
        tally.mismatches.extend(t.mismatches);
    }
    tally
}

fn report(what: &str, t: &Tally, t0: Instant) {
    println!(
        "{what}: {} documents equal ({} over 100 kB), {} conversion errors equal, {} error nodes, {} poisoned loads, {} escaped exceptions, {} mismatches, in {:.1?}",
        t.documents,
        t.deep_or_big,
        t.conversion_errors,
        t.error_nodes,
        t.poisoned,
        t.escaped,
        t.mismatches.len(),
        t0.elapsed()
    );
    for m in t.mismatches.iter().take(20) {
        println!("  MISMATCH {m}");
    }
}

#[test]
fn corpus_documents_match_python_to_json() {
    if no_cpython() {
        return;
    }
    brine_codec::with_big_stack(|| {
        let t0 = Instant::now();
        let cases = corpus_cases();
        assert!(cases.len() > 2000, "corpus/ has {} cases", cases.len());
        let t = check_cases(cases);
        report("corpus (C and Python unpicklers)", &t, t0);
        assert!(t.mismatches.is_empty(), "{} conversions differ (listed above)", t.mismatches.len());
        assert!(t.documents > 2000, "{t:?}");
    });
}

#[test]
fn conformance_documents_match_python_to_json() {
    if no_cpython() {
        return;
    }
    brine_codec::with_big_stack(|| {
        let t0 = Instant::now();
        let cases = conformance_cases();
        assert!(cases.len() > 20_000, "conformance/decode has {} cases", cases.len());
        let t = check_cases(cases);
        report("conformance/decode (C and Python unpicklers)", &t, t0);
        assert!(t.mismatches.is_empty(), "{} conversions differ (listed above)", t.mismatches.len());
        assert!(t.documents > 5000, "{t:?}");
    });
}

/// Hand-built object graphs: `cases` is a list of (name, result, standins).
const GRAPHS: &std::ffi::CStr = cr#"
import array, sys
Record, StandIns = bs.Record, bs.StandIns

cases = []
def case(name, obj, standins=None):
    cases.append((name, obj, standins if standins is not None else StandIns(0)))

# -- nesting 100,000 deep
N = 100_000
x = []
for _ in range(N): x = [x]
case("list 100k deep", x)
x = ()
for _ in range(N): x = (x,)
case("tuple 100k deep", x)
# (the Python conversion takes seconds per 100k-deep graph: 20k for the next ones)
M = 20_000
st = StandIns(0)
cls = st.standin("m", "f")
x = Record(("call", cls, []))
for i in range(M): x = Record(("call", x, [i]))
case("record call chain 20k deep", x, st)
x = {}
for i in range(M): x = {i: x}
case("dict 20k deep", x)
x = None
for i in range(M): x = frozenset([x, i]) if i % 2 else (x, "shared", x)
case("alternating frozenset/tuple 20k deep, items reached twice", [x])
l = []
for i in range(M): l = [l, l]
case("list of itself twice, 20k deep (2^20000 paths: refs)", l)

# -- cycles
l = []; l.append(l); case("list holding itself", l)
d = {}; d["self"] = d; d[1] = [d, d]; case("dict holding itself", d)
l = []; t = (l, l); l.append(t); case("tuple inside a list cycle", [t, l])
st = StandIns(0)
r = Record(("newobj", st.standin("m", "C"), [], []))
r.append(r); r.__setstate__({"me": r}); r[r] = r; r.add(r)
case("record whose ops hold itself", [r, r], st)

# -- sharing: every shareable type, and CPython's unshared singletons
s2, s1, s255, s256, e = "ab", "a", "\xff", "\u0100", ""
b2, b1, b0 = b"ab", b"a", b""
t1, t0 = (1,), ()
ba, fs, se = bytearray(b"xy"), frozenset({1, 2}), {3}
dd, ll = {"k": 1}, [1]
case("shared atoms and containers",
     [s2, s2, s1, s1, s255, s255, s256, s256, e, e, b2, b2, b1, b1, b0, b0, t1, t1, t0, t0,
      ba, ba, fs, fs, se, se, dd, dd, ll, ll, [ll, dd], ll])
case("ids in order of first reach", [[ll], dd, [dd, ll], s2, (s2, b2), b2])
case("shared only once reached: no id", [["x" * 3], ("y" * 3,)])

# -- lone surrogates
sur = "a\ud800b"
case("lone surrogates",
     ["\ud800", "\udfff", sur, sur, {sur: "\udc80"}, "\U0001f600", "\x00\n\"\\", "caf\xe9", "\ud83d\ude00"])
st = StandIns(0)
case("globals with lone surrogates",
     [st.standin("m\ud800", "n"), st.standin("m", "n\udc00"), st.standin("\udfff", "\udfff"),
      st.standin("os", "system"), st.standin("os", "system"), st.standin("a\x00b", "c d")], st)

# -- ints and floats
sys.set_int_max_str_digits(4300)
big = 10 ** 5000
case("ints", [0, 1, -1, 2**31, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 2**64, 2**64 + 1,
              -(2**64), 10**4299, -(10**4299), 10**4300, big, -big, big, True, False, None])
nan = float("nan")
case("floats", [nan, nan, -nan, float("inf"), float("-inf"), -0.0, 0.0, 1e16, 1e-7, 5e-324,
                1.7976931348623157e308, 0.1, 1.0, 123456789.0, 1e22, 2.5e-5])

# -- buffers
st = StandIns(3)
b0, b1, b2 = st.buffers
b1.extend(b"xy")
inband = bytearray(b"\x00\xff")
ro_bytes = memoryview(b"abc")
view_shared = memoryview(inband).toreadonly()
case("buffers",
     [b0, b0, b1, memoryview(b1).toreadonly(), memoryview(b0), memoryview(b2).toreadonly(),
      view_shared, view_shared, inband, memoryview(inband).toreadonly(), ro_bytes,
      memoryview(bytearray()).toreadonly(), bytearray()], st)
st = StandIns(1)
case("bare supplied buffer", st.buffers[0], st)
st = StandIns(2)
case("view first, then its bytearray", [memoryview(inband).toreadonly(), inband, st.buffers[1]], st)

# -- records with every construction and op
st = StandIns(0)
C = st.standin("mod", "Cls")
call = Record(("call", C, [1, "two", (3,)]))
newobj = Record(("newobj", C, ["a"], [("k", 1), ("k2", [2])]))
newobj_nokw = Record(("newobj", C, [], []))
persid = Record(("persid", ("pid", 7)))
on_record = Record(("call", call, []))
for r in (call, newobj, newobj_nokw, persid, on_record):
    r.__setstate__({"state": r is call})
    r.extend([1, 2])
    r.append("x" * 5)
    r[("key",)] = {"v": None}
    r.add(frozenset())
    r.__setstate__(None)
case("records", [call, newobj, newobj_nokw, persid, on_record, call, C, C], st)
st = StandIns(0)
k = "shared-key"
case("record kwargs sharing", Record(("newobj", st.standin("m", "n"), [k], [(k, k), ("other", [k])])), st)

# -- errors to_json raises, and which one wins
other = StandIns(0)
st = StandIns(0)
mine = st.standin("m", "mine")
class MyInt(int): pass
class MyList(list): pass
arr_view = memoryview(array.array("b", [1, 2]))
case("error: unexpected complex", [1, 1j], st)
case("error: unexpected int subclass", [MyInt(3)], st)
case("error: unexpected list subclass", MyList([1]), st)
case("error: unexpected type object", [int], st)
case("error: stand-in class of another load", [mine, other.standin("m", "theirs")], st)
case("error: memoryview over array", [arr_view], st)
case("error: memoryview after complex (memoryview wins)", [1j, [arr_view]], st)
case("error: complex before object (first wins)", [1j, object()], st)
case("error: complex inside a shared list", [[1j], "x"], st)
"#;

#[test]
fn hand_built_graphs_match_python_to_json() {
    if no_cpython() {
        return;
    }
    let interp = interpreter().expect("CPython");
    let (t, names) = interp.run(|py, sb| {
        let globals = PyDict::new(py);
        globals.set_item("bs", sb.module.bind(py)).unwrap();
        let old = py.import("sys").unwrap().getattr("get_int_max_str_digits").unwrap().call0().unwrap();
        py.run(GRAPHS, Some(&globals), None).unwrap_or_else(|e| panic!("{e}"));
        let cases = globals.get_item("cases").unwrap().unwrap();
        let cases = cases.cast::<PyList>().unwrap();
        let mut t = Tally::default();
        let mut names = vec![];
        for c in cases.iter() {
            let c = c.cast::<PyTuple>().unwrap();
            let name: String = c.get_item(0).unwrap().extract().unwrap();
            let before = (t.documents, t.conversion_errors);
            let t0 = Instant::now();
            compare_graph(py, sb, &name, &c.get_item(1).unwrap(), &c.get_item(2).unwrap(), &mut t);
            let took = t0.elapsed();
            let kind = if t.documents > before.0 {
                "same document"
            } else if t.conversion_errors > before.1 {
                "same error"
            } else {
                "MISMATCH"
            };
            names.push(format!("{name}: {kind} ({took:.1?})"));
        }
        // The conversion leaves the int digit limit as it found it.
        let now = py.import("sys").unwrap().getattr("get_int_max_str_digits").unwrap().call0().unwrap();
        assert!(now.eq(&old).unwrap(), "int digit limit changed: {old} -> {now}");
        (t, names)
    });
    for n in &names {
        println!("  {n}");
    }
    report("hand-built graphs", &t, Instant::now());
    assert!(t.mismatches.is_empty(), "{} conversions differ (listed above)", t.mismatches.len());
    assert_eq!(t.conversion_errors, names.iter().filter(|n| n.starts_with("error:")).count());
}

/// Whole loads, new conversion against the Python one: `Sandbox::loads` ==
/// `Sandbox::loads_with_py_json` (two loads of the same bytes: no NaN in any set here).
#[test]
fn loads_equals_the_python_conversion() {
    if no_cpython() {
        return;
    }
    // (100,000-deep graphs are in hand_built_graphs_match_python_to_json: the Python
    // conversion of one takes seconds)
    let deep_lists = [b"\x80\x02".as_slice(), &[b']'; 20_000], &[b'a'; 19_999], b"."].concat();
    let deep_tuples = [b"\x80\x02)".as_slice(), &[0x85; 20_000], b"."].concat();
    let cases: Vec<(&str, Vec<u8>, Option<usize>)> = vec![
        ("small", b"\x80\x04\x95\x0f\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01\x8c\x01a\x94C\x01\x00\x94e.".to_vec(), None),
        ("reduce + build", b"\x80\x02cfoo\nBar\nK\x01\x85R}X\x01\x00\x00\x00aK\x02sb.".to_vec(), None),
        ("newobj_ex with kwargs", b"\x80\x04\x8c\x01m\x8c\x01C\x93)}\x8c\x01k\x94K\x01s\x92.".to_vec(), None),
        ("persid + appends + setitems", b"\x80\x02K\x07Q(K\x01K\x02e(K\x03K\x04u.".to_vec(), None),
        ("stack_global with a lone surrogate", b"\x80\x04X\x03\x00\x00\x00\xed\xa0\x80\x8c\x01n\x93.".to_vec(), None),
        ("buffers", b"\x80\x05\x97\x98\x97\x96\x02\x00\x00\x00\x00\x00\x00\x00ab\x98\x87.".to_vec(), Some(2)),
        ("next_buffer appended to", b"\x80\x05\x97(K\x01K\x02e.".to_vec(), Some(1)),
        ("truncated", b"\x80\x04\x95\x0e\x00\x00".to_vec(), None),
        ("stack underflow", b"\x80\x02a.".to_vec(), None),
        ("20k nested lists", deep_lists, None),
        ("20k nested tuples", deep_tuples, None),
    ];
    let interp = interpreter().expect("CPython");
    let lines = interp.run(move |py, sb| {
        let mut lines = vec![];
        for (name, data, buffers) in &cases {
            for which in [Unpickler::C, Unpickler::Python] {
                let new = sb.loads(py, which, data, *buffers, None);
                let old = sb.loads_with_py_json(py, which, data, *buffers, None, None);
                let show = |o: &Outcome| match o {
                    Outcome::Ok(j) => {
                        let s = serde_json::to_string(j).unwrap();
                        if s.len() > 120 { format!("{}... ({} bytes)", &s[..120], s.len()) } else { s }
                    }
                    o => format!("{o:?}"),
                };
                let same = match (&new, &old) {
                    (Outcome::Ok(a), Outcome::Ok(b)) => serde_json::to_string(a).unwrap() == serde_json::to_string(b).unwrap(),
                    (a, b) => a == b,
                };
                lines.push((same, format!("{name} ({which:?}): {}", show(&new))));
                if !same {
                    lines.push((false, format!("    python conversion: {}", show(&old))));
                }
            }
        }
        lines
    });
    for (_, l) in &lines {
        println!("  {l}");
    }
    assert!(lines.iter().all(|(same, _)| *same), "Sandbox::loads differs from the Python conversion (above)");
}

const SAMPLES: &std::ffi::CStr = cr#"
import pickle, random
rec = {"name": "x", "id": 12345, "tags": ["a", "bc", "def"], "score": 1.5, "ok": True, "data": b"\x00\x01\x02"}
small = pickle.dumps([1, "a", b"\x00"], 4)
rnd = random.Random(5)
samples = [
    ("small list [1,'a',b'\\0'] p4", small),
    ("dict record p4", pickle.dumps(rec, 4)),
    ("100 records p4", pickle.dumps([dict(rec, id=i) for i in range(100)], 4)),
    ("1000 ints p2", pickle.dumps(list(range(1000)), 2)),
    ("1000 floats p4", pickle.dumps([rnd.random() for _ in range(1000)], 4)),
    ("REDUCE+BUILD on a global", b"\x80\x02cfoo\nBar\nK\x01\x85R}X\x01\x00\x00\x00aK\x02sb."),
    ("truncated (error)", small[:-3]),
    ("1,000 nested lists p2", b"\x80\x02" + b"]" * 1000 + b"a" * 999 + b"."),
]
"#;

/// CPU time of the calling thread (Linux schedstat, ns), if readable: the machine may be
/// busy, so the figures are CPU time of the interpreter thread, not wall time.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e3)
}

/// `Sandbox::loads` (Rust conversion) against `Sandbox::loads_with_py_json` (the Python
/// one, as before), C unpickler: CPU us per load on the interpreter thread; then plain
/// `pickle.loads`, the sandboxed load alone (`load_raw`) and the Rust conversion alone.
#[test]
#[ignore]
fn timing() {
    let interp = interpreter().expect("CPython");
    interp.run(|py, sb| {
        let m = PyModule::from_code(py, SAMPLES, c"samples.py", c"samples").unwrap();
        let l = m.getattr("samples").unwrap();
        let l = l.cast::<PyList>().unwrap();
        let pickle_loads = py.import("pickle").unwrap().getattr("loads").unwrap();
        let clock = if thread_cpu().is_some() { "CPU" } else { "wall" };
        println!("{clock} us per call:");
        println!(
            "{:<30} {:>6}  {:>10} {:>10} {:>9} {:>12} {:>10} {:>12}",
            "pickle", "bytes", "before", "after", "speed-up", "pickle.loads", "load_raw", "rust to_json"
        );
        for item in l.iter() {
            let (name, data): (String, Bound<'_, PyBytes>) = item.extract().unwrap();
            let bytes = data.as_bytes().to_vec();
            let n = if bytes.len() > 1000 { 1000 } else { 20_000 };
            let time = |f: &dyn Fn()| {
                for _ in 0..n / 10 {
                    f();
                }
                let (t, c) = (Instant::now(), thread_cpu());
                for _ in 0..n {
                    f();
                }
                let us = match (c, thread_cpu()) {
                    (Some(a), Some(b)) => b - a,
                    _ => t.elapsed().as_secs_f64() * 1e6,
                };
                us / n as f64
            };
            let before = time(&|| drop(std::hint::black_box(sb.loads_with_py_json(py, Unpickler::C, &bytes, None, None, None))));
            let after = time(&|| drop(std::hint::black_box(sb.loads(py, Unpickler::C, &bytes, None, None))));
            let plain = time(&|| drop(std::hint::black_box(pickle_loads.call1((&data,)))));
            let raw_load = time(&|| drop(std::hint::black_box(sb.load_raw(py, Unpickler::C, &bytes, None, None, None))));
            let raw = sb.load_raw(py, Unpickler::C, &bytes, None, None, None).unwrap();
            let convert = match raw.cast::<PyTuple>() {
                Ok(pair) => {
                    let (result, standins) = (pair.get_item(0).unwrap(), pair.get_item(1).unwrap());
                    time(&|| drop(std::hint::black_box(sb.to_json(py, &result, &standins))))
                }
                Err(_) => 0.0,
            };
            println!(
                "{name:<30} {:>6}  {before:>10.2} {after:>10.2} {:>8.1}x {plain:>12.2} {raw_load:>10.2} {convert:>12.2}",
                bytes.len(),
                before / after
            );
        }
    });
}

