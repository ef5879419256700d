//! Loading the checked-in cases: conformance/decode/*.jsonl and conformance/encode/*.jsonl
//! (made by scripts/gen_conformance.py from CPython) and the corpus (corpus/*.pkl with the
//! expected outcome beside each in a .json file, listed in corpus/manifest.json).

use serde_json::Value as J;
use std::path::{Path, PathBuf};

/// A decode case: a pickle and what CPython made of it.
#[derive(Clone, Debug)]
pub struct DecodeCase {
    /// Where it came from, e.g. `decode/values.jsonl` or `corpus`.
    pub origin: String,
    /// Its name.
    pub name: String,
    /// The pickle.
    pub pickle: Vec<u8>,
    /// Out-of-band buffers supplied, if any.
    pub buffers: Option<usize>,
    /// CPython C's document (the reference).
    pub c: J,
    /// CPython pure-Python's document, when recorded.
    pub python: Option<J>,
    /// pickletools.genops' stream, when recorded.
    pub genops: Option<J>,
    /// Whether CPython's answer was a limit (MemoryError, RecursionError, timeout).
    pub limit: bool,
    /// The copyreg extension registry the case is loaded with, `(module, name, code)`
    /// (`extensions` of a JSONL line or NAME.json; empty for most cases).
    pub extensions: Vec<(String, String, i64)>,
}

/// An encode case: a document, a protocol and CPython's bytes.
#[derive(Clone, Debug)]
pub struct EncodeCase {
    /// Where it came from.
    pub origin: String,
    /// Its name.
    pub name: String,
    /// The protocol.
    pub protocol: u8,
    /// The document (set items in CPython's iteration order).
    pub value: J,
    /// `pickle.dumps(obj, protocol)`.
    pub pickle: Vec<u8>,
}

/// A case line's `"pickle"`: hex (an error, naming the case, when it is missing or not hex).
pub fn pickle_of(v: &J) -> Result<Vec<u8>, String> {
    let name = v["name"].as_str().unwrap_or("?");
    let h = v["pickle"].as_str().ok_or_else(|| format!("{name}: no \"pickle\""))?;
    brine_codec::hex::decode(h).map_err(|e| format!("{name}: \"pickle\" is not hex: {e}"))
}

fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    v.sort();
    v
}

fn for_lines(path: &Path, mut f: impl FnMut(J) -> Result<(), String>) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: J = brine_codec::json::parse_deep(line).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        if v.get("header").is_none() {
            f(v).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
        }
    }
    Ok(())
}

/// All decode cases under `root/conformance/decode`.
pub fn decode_cases(root: &Path) -> Result<Vec<DecodeCase>, String> {
    let mut out = vec![];
    for f in jsonl_files(&root.join("conformance/decode")) {
        let origin = format!("decode/{}", f.file_name().unwrap().to_string_lossy());
        for_lines(&f, |v| {
            out.push(DecodeCase {
                origin: origin.clone(),
                name: v["name"].as_str().unwrap_or("?").to_string(),
                pickle: pickle_of(&v)?,
                buffers: v.get("buffers").and_then(J::as_u64).map(|n| n as usize),
                c: v["c"].clone(),
                python: v.get("python").cloned(),
                genops: v.get("genops").cloned(),
                limit: v.get("limit").and_then(J::as_bool).unwrap_or(false),
                extensions: crate::impls::corpus::extensions_of(v.get("extensions")),
            });
            Ok(())
        })?;
    }
    Ok(out)
}

/// All encode cases under `root/conformance/encode`.
pub fn encode_cases(root: &Path) -> Result<Vec<EncodeCase>, String> {
    let mut out = vec![];
    for f in jsonl_files(&root.join("conformance/encode")) {
        let origin = format!("encode/{}", f.file_name().unwrap().to_string_lossy());
        for_lines(&f, |v| {
            out.push(EncodeCase {
                origin: origin.clone(),
                name: v["name"].as_str().unwrap_or("?").to_string(),
                protocol: v["protocol"].as_u64().unwrap_or(0) as u8,
                value: v["value"].clone(),
                pickle: pickle_of(&v)?,
            });
            Ok(())
        })?;
    }
    Ok(out)
}

/// The corpus as decode cases (one loader for the corpus: [`crate::impls::corpus`]); a case
/// listed in corpus/manifest.json but missing is reported as lost (the second list).
pub fn corpus_cases(root: &Path) -> Result<(Vec<DecodeCase>, Vec<String>), String> {
    let (corpus, lost) = crate::impls::corpus::load_keeping_lost(root)?;
    let cases = corpus
        .cases
        .into_iter()
        .map(|c| DecodeCase {
            origin: "corpus".into(),
            limit: c.expect == crate::impls::corpus::Expect::Either && c.limit,
            name: c.name,
            pickle: c.pickle,
            buffers: (c.buffers > 0).then_some(c.buffers),
            c: c.result,
            python: Some(c.python),
            genops: Some(c.ops),
            extensions: c.extensions,
        })
        .collect();
    Ok((cases, lost))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pickle_that_is_not_hex_is_an_error() {
        assert_eq!(pickle_of(&serde_json::json!({"name": "a", "pickle": "4b012e"})), Ok(vec![0x4b, 1, 0x2e]));
        // Each of these once loaded as some other pickle (a bad digit as 0, an odd digit dropped).
        for bad in ["4b0x2e", "4b012", "+b012e"] {
            let e = pickle_of(&serde_json::json!({"name": "a", "pickle": bad})).unwrap_err();
            assert!(e.starts_with("a: \"pickle\" is not hex"), "{e}");
        }
        assert_eq!(pickle_of(&serde_json::json!({"name": "a"})), Err("a: no \"pickle\"".into()));
    }

    #[test]
    fn a_bad_line_names_its_file_and_line() {
        let dir = std::env::temp_dir().join(format!("brine-cases-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conformance/decode")).unwrap();
        std::fs::write(dir.join("conformance/decode/x.jsonl"), "{\"header\": 1}\n{\"name\": \"ok\", \"pickle\": \"4e2e\", \"c\": null}\n{\"name\": \"bad\", \"pickle\": \"4e2\"}\n").unwrap();
        let e = decode_cases(&dir).unwrap_err();
        assert!(e.ends_with("x.jsonl:3: bad: \"pickle\" is not hex: odd number of hex digits (3)"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
