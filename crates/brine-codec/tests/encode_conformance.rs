//! Encoder conformance against CPython 3.11's C pickler.
//!
//! - `conformance/encode/*.jsonl` (written by scripts/gen_conformance.py): lines
//!   `{"name","protocol","value","pickle"}` where `pickle` is what `pickle.dumps` wrote for
//!   the object `value` describes. For every case:
//!   1. exact: `encode(read(value), protocol) == pickle`;
//!   2. re-encoding identity: `encode(decode(pickle), protocol) == pickle`;
//!   3. round trip: `decode(encode(read(value)))` equals `value` under `json::compare`, once
//!      the reductions a protocol needs for types it lacks (bytes below 3, bytearray below
//!      5, set and frozenset below 4) are folded back into those types: the decoder records
//!      `_codecs.encode(...)` or `set([...])` symbolically, it never calls them.
//! - `conformance/decode/values.jsonl`: CPython pickles of builtin and stdlib values (objects,
//!   globals, persistent ids, out-of-band buffers included). For every one CPython loads,
//!   `encode(decode(pickle)) == pickle` and `encode(read(c)) == pickle` (`c` is the C
//!   unpickler's document). These are CPython's own bytes, but of objects whose identity
//!   (interned strs) a document cannot always express: the differences must be exactly
//!   those listed, with their reasons, in tests/stdlib-reencode-known.txt.
//!
//! The data is committed; a checkout without it fails, naming the script that writes it.

use brine_codec::json::{self, read::read};
use brine_codec::value::{Construction, Obj, Set};
use brine_codec::{decode_with, encode, encode_document, hex, DecodeOptions, Heap, Value};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "jsonl")).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// A case's `"pickle"`, hex (a fixture that is not fails the test, naming the case).
fn pickle_of(case: &J) -> Vec<u8> {
    let h = case["pickle"].as_str().unwrap_or_else(|| panic!("{}: no \"pickle\"", case["name"]));
    hex::decode(h).unwrap_or_else(|e| panic!("{}: \"pickle\" is not hex: {e}", case["name"]))
}

/// The first differing opcode (frames aside, positions ignored), with a few either side.
fn explain(want: &[u8], got: &[u8]) -> String {
    let listing = |data: &[u8]| -> Vec<String> {
        brine_codec::dis::genops(data)
            .to_text()
            .lines()
            .filter(|l| !l.contains(" FRAME "))
            .map(|l| l.split_once(": ").map_or(l, |x| x.1).to_string())
            .collect()
    };
    let (a, b) = (listing(want), listing(got));
    let at = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
    let lo = at.saturating_sub(3);
    let window = |l: &[String]| l[lo.min(l.len())..(at + 4).min(l.len())].join("\n");
    format!(
        "{} vs {} bytes; opcode {at} differs\n--- CPython:\n{}\n--- brine:\n{}",
        want.len(),
        got.len(),
        window(&a),
        window(&b)
    )
}

/// Folds the reductions CPython writes for types a protocol lacks back into those types:
/// `_codecs.encode(s, 'latin1')` and `bytes()` into bytes, `bytearray()`/`bytearray(b)` into
/// bytearray, `set(list)`/`frozenset(list)` into sets. Inner objects have smaller ids (their
/// REDUCE ran first), so one pass in id order folds nested ones first.
fn fold_reductions(heap: &mut Heap) {
    for id in 0..heap.objs.len() as u32 {
        let Obj::Object(o) = heap.get(id) else { continue };
        let Construction::Call { callable: Value::Obj(c), args } = &o.new else { continue };
        if !o.ops.is_empty() {
            continue;
        }
        let Obj::Global(g) = heap.get(*c) else { continue };
        let (module, name) = (&g.module, &g.name);
        let arg = |i: usize| args.get(i).and_then(|v| if let Value::Obj(a) = v { Some(heap.get(*a)) } else { None });
        let folded = match (module.as_str(), name.as_str(), args.len()) {
            (Some("_codecs"), Some("encode"), 2) => match (arg(0), arg(1)) {
                (Some(Obj::Str(s)), Some(Obj::Str(e))) if e.as_str() == Some("latin1") => {
                    Some(Obj::Bytes(s.as_str().unwrap().chars().map(|c| c as u32 as u8).collect::<Vec<u8>>().into()))
                }
                _ => None,
            },
            (Some("builtins"), Some("bytes"), 0) => Some(Obj::Bytes(Default::default())),
            (Some("builtins"), Some("bytearray"), 0) => Some(Obj::ByteArray(vec![])),
            (Some("builtins"), Some("bytearray"), 1) => match arg(0) {
                Some(Obj::Bytes(b)) => Some(Obj::ByteArray(b.to_vec())),
                _ => None,
            },
            (Some("builtins"), Some(n @ ("set" | "frozenset")), 1) => match arg(0) {
                Some(Obj::List(items)) => {
                    let (items, frozen) = (items.clone(), n == "frozenset");
                    let mut s = Set::default();
                    for it in items {
                        s.add(heap, it).unwrap();
                    }
                    Some(if frozen { Obj::FrozenSet(Box::new(s)) } else { Obj::Set(Box::new(s)) })
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(o) = folded {
            *heap.get_mut(id) = o;
        }
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    exact: usize,
    reencode: usize,
    /// Re-encoded from shared blobs into parts, byte-exact.
    shared: usize,
    /// ... of which with at least one payload spliced in uncopied.
    spliced: usize,
    round_trip: usize,
    failures: Vec<String>,
}

fn run_encode_files() -> Tally {
    let dir = repo().join("conformance/encode");
    let files = jsonl_files(&dir);
    assert!(
        !files.is_empty(),
        "no {}/*.jsonl: the encode conformance data is committed (restore it, or regenerate it with scripts/gen_conformance.py)",
        dir.display()
    );
    let mut t = Tally::default();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let case = json::parse_deep(line).expect("JSON line");
            if case.get("header").is_some() {
                continue;
            }
            t.cases += 1;
            let name = case["name"].as_str().unwrap_or("?").to_string();
            let proto = case["protocol"].as_u64().unwrap() as u8;
            let want = pickle_of(&case);
            let value = &case["value"];
            // 1. exact
            match encode_document(value, proto) {
                Ok(got) if got == want => t.exact += 1,
                Ok(got) => t.failures.push(format!("{name}: exact: {}", explain(&want, &got))),
                Err(e) => t.failures.push(format!("{name}: exact: error {e}")),
            }
            // 2. re-encoding identity
            match decode_with(&want, &DecodeOptions::default()) {
                Ok(d) => match encode(&d.heap, d.root, proto) {
                    Ok(got) if got == want => t.reencode += 1,
                    Ok(got) => t.failures.push(format!("{name}: re-encode: {}", explain(&want, &got))),
                    Err(e) => t.failures.push(format!("{name}: re-encode: error {e}")),
                },
                Err(e) => t.failures.push(format!("{name}: re-encode: decode failed: {e}")),
            }
            // 2b. the same with every blob shared with the input and the large payloads
            // spliced in rather than copied
            let source = brine_codec::Source::new(want.clone());
            let shared = brine_codec::decode_shared(
                &source,
                &DecodeOptions {
                    share_min: 0,
                    ..Default::default()
                },
            );
            let shared = shared.map_err(|e| e.to_string());
            match shared.as_ref().map_err(|e| e.clone()).and_then(|d| {
                brine_codec::encode_parts(&d.heap, d.root, proto).map_err(|e| e.to_string())
            }) {
                Ok(parts) if parts.len() == want.len() && parts.to_vec() == want => {
                    t.shared += 1;
                    t.spliced += usize::from(parts.parts().count() > 1);
                }
                Ok(parts) => t.failures.push(format!(
                    "{name}: shared re-encode: {}",
                    explain(&want, &parts.to_vec())
                )),
                Err(e) => t
                    .failures
                    .push(format!("{name}: shared re-encode: error {e}")),
            }
            // 3. round trip through the decoder
            let rt = encode_document(value, proto).ok().and_then(|p| decode_with(&p, &DecodeOptions::default()).ok());
            match rt {
                Some(mut d) => {
                    fold_reductions(&mut d.heap);
                    let mut out = String::new();
                    json::write_value(&mut out, &d.heap, d.root);
                    let back = json::parse_deep(&out).unwrap();
                    match json::compare(value, &back) {
                        Ok(()) => t.round_trip += 1,
                        Err(m) => t.failures.push(format!("{name}: round trip differs at {}: {}", m.path, m.what)),
                    }
                }
                None => t.failures.push(format!("{name}: round trip: no pickle or no decode")),
            }
        }
    }
    t
}

#[test]
fn encode_files_are_byte_exact() {
    let t = brine_codec::with_big_stack(run_encode_files);
    assert!(t.cases > 0, "conformance/encode/*.jsonl holds no case");
    eprintln!(
        "encode conformance: {} cases; exact {}; re-encode identity {}, from shared blobs into parts {} ({} with spliced payloads); round trip {}",
        t.cases, t.exact, t.reencode, t.shared, t.spliced, t.round_trip
    );
    for f in t.failures.iter().take(20) {
        eprintln!("FAIL {f}\n");
    }
    assert!(t.failures.is_empty(), "{} failures", t.failures.len());
    // The 64 KiB str/bytes cases at protocols 4 and 5 must have taken the splicing path.
    assert!(
        t.spliced >= 4,
        "only {} pickles re-encoded with spliced payloads",
        t.spliced
    );
}

/// The files of data set `stem` in `dir`: `stem.jsonl`, or its shards `stem-1.jsonl`,
/// `stem-2.jsonl`... (scripts/gen_conformance.py splits sets over 4 MiB), in order.
fn data_set(dir: &Path, stem: &str) -> Vec<PathBuf> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(stem)?.strip_suffix(".jsonl")?;
            let n = if rest.is_empty() { 0 } else { rest.strip_prefix('-')?.parse().ok()? };
            Some((n, e.path()))
        })
        .collect();
    v.sort();
    v.into_iter().map(|(_, p)| p).collect()
}

/// One re-encoding that differs from CPython's bytes: (case, check) and what differs.
type Difference = ((String, &'static str), String);

fn run_decode_values() -> (usize, usize, usize, Vec<Difference>) {
    let dir = repo().join("conformance/decode");
    let shards = data_set(&dir, "values");
    assert!(
        !shards.is_empty(),
        "no {}/values*.jsonl: the decode conformance data is committed (restore it, or regenerate it with scripts/gen_conformance.py)",
        dir.display()
    );
    let text: String = shards.iter().map(|f| std::fs::read_to_string(f).expect("readable shard")).collect();
    let (mut cases, mut from_decode, mut from_doc) = (0, 0, 0);
    let mut diffs = Vec::new();
    for line in text.lines() {
        let case: J = json::parse_deep(line).expect("JSON line");
        if case.get("header").is_some() || case["c"]["t"] == "error" {
            continue;
        }
        cases += 1;
        let name = case["name"].as_str().unwrap_or("?").to_string();
        let want = pickle_of(&case);
        // Names end in "/p<protocol>".
        let Some(proto) = name.rsplit_once("/p").and_then(|(_, p)| p.parse::<u8>().ok()) else { continue };
        let opts = DecodeOptions { buffers: case.get("buffers").and_then(J::as_u64).map(|n| n as usize), ..Default::default() };
        let mut judge = |check: &'static str, got: Result<Vec<u8>, String>, same: &mut usize| match got {
            Ok(got) if got == want => *same += 1,
            Ok(got) => diffs.push(((name.clone(), check), explain(&want, &got))),
            Err(e) => diffs.push(((name.clone(), check), format!("error {e}"))),
        };
        let from_heap = decode_with(&want, &opts).map_err(|e| e.to_string()).and_then(|d| encode(&d.heap, d.root, proto).map_err(|e| e.to_string()));
        judge("encode(decode(p))", from_heap, &mut from_decode);
        let from_c = read(&case["c"]).map_err(|e| e.to_string()).and_then(|(h, r)| encode(&h, r, proto).map_err(|e| e.to_string()));
        judge("encode(read(c))", from_c, &mut from_doc);
    }
    (cases, from_decode, from_doc, diffs)
}

/// tests/stdlib-reencode-known.txt: (case, check) -> reason.
fn known_reencode_differences() -> BTreeMap<(String, String), String> {
    let mut known = BTreeMap::new();
    for (i, line) in include_str!("stdlib-reencode-known.txt").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("tests/stdlib-reencode-known.txt:{}", i + 1);
        let (key, reason) = line.split_once(" | ").unwrap_or_else(|| panic!("{at}: not `CASE CHECK | REASON`"));
        let (case, check) = key.trim().split_once(' ').unwrap_or_else(|| panic!("{at}: not `CASE CHECK | REASON`"));
        assert!(matches!(check, "encode(decode(p))" | "encode(read(c))"), "{at}: unknown check {check:?}");
        assert!(!reason.trim().is_empty(), "{at}: no reason given");
        let old = known.insert((case.to_string(), check.to_string()), reason.trim().to_string());
        assert!(old.is_none(), "{at}: {case} {check} is listed twice");
    }
    known
}

#[test]
fn cpython_pickles_of_stdlib_values_reencode() {
    let (cases, a, b, diffs) = brine_codec::with_big_stack(run_decode_values);
    eprintln!("decode/values.jsonl: {cases} loadable pickles; encode(decode(p)) == p for {a}; encode(read(c)) == p for {b}");
    assert!(cases > 0, "conformance/decode/values*.jsonl holds no loadable pickle");
    let mut known = known_reencode_differences();
    let mut new = Vec::new();
    for ((case, check), what) in &diffs {
        match known.remove(&(case.clone(), check.to_string())) {
            Some(reason) => eprintln!("known: {case} {check}: {reason}"),
            None => new.push(format!("{case} {check}: {what}")),
        }
    }
    for d in &new {
        eprintln!("DIFF {d}\n");
    }
    for (case, check) in known.keys() {
        eprintln!("NO LONGER DIFFERS {case} {check} (remove it from tests/stdlib-reencode-known.txt)");
    }
    assert!(
        new.is_empty() && known.is_empty(),
        "{} re-encodings differ from CPython's bytes and are not in tests/stdlib-reencode-known.txt; {} listed there no longer differ (all above)",
        new.len(),
        known.len()
    );
}

/// tests/data/encode_objects.jsonl (scripts/gen_encode_fixtures.py): reduced objects,
/// globals, persistent ids and out-of-band buffers, one document (the C unpickler's, of the
/// protocol 5 pickle) against each protocol's CPython bytes.
fn run_object_fixtures() -> Tally {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/encode_objects.jsonl");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: the object fixtures are committed (restore the file, or regenerate it with scripts/gen_encode_fixtures.py)",
            file.display()
        )
    });
    let mut t = Tally::default();
    for line in text.lines() {
        let case = json::parse_deep(line).expect("JSON line");
        if case.get("header").is_some() {
            continue;
        }
        t.cases += 1;
        let name = case["name"].as_str().unwrap_or("?").to_string();
        let proto = case["protocol"].as_u64().unwrap() as u8;
        let want = pickle_of(&case);
        match encode_document(&case["value"], proto) {
            Ok(got) if got == want => t.exact += 1,
            Ok(got) => t.failures.push(format!("{name}: exact: {}", explain(&want, &got))),
            Err(e) => t.failures.push(format!("{name}: exact: error {e}")),
        }
        if case["reencode"] == J::Bool(false) {
            continue;
        }
        let nbuf = case["buffers"].as_u64().unwrap_or(0) as usize;
        let opts = DecodeOptions { buffers: (nbuf > 0).then_some(nbuf), ..Default::default() };
        match decode_with(&want, &opts) {
            Ok(d) => match encode(&d.heap, d.root, proto) {
                Ok(got) if got == want => t.reencode += 1,
                Ok(got) => t.failures.push(format!("{name}: re-encode: {}", explain(&want, &got))),
                Err(e) => t.failures.push(format!("{name}: re-encode: error {e}")),
            },
            Err(e) => t.failures.push(format!("{name}: re-encode: decode failed: {e}")),
        }
    }
    t
}

#[test]
fn object_fixtures_are_byte_exact() {
    let t = brine_codec::with_big_stack(run_object_fixtures);
    assert!(t.cases > 0, "tests/data/encode_objects.jsonl holds no case");
    eprintln!("object fixtures: {} cases; exact {}; re-encode identity {}", t.cases, t.exact, t.reencode);
    for f in t.failures.iter().take(20) {
        eprintln!("FAIL {f}\n");
    }
    assert!(t.failures.is_empty(), "{} failures", t.failures.len());
}
