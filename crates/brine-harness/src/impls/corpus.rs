//! The corpus as the implementation checks read it: corpus/NAME.pkl with NAME.json beside it
//! (written by scripts/gen_corpus.py), every name listed in corpus/manifest.json.
//!
//! Expected documents nest up to 10,000 deep, so they are parsed without serde_json's depth
//! limit; load and drop a corpus on a big stack (`brine_codec::with_big_stack`).

use brine_codec::json::parse_deep;
use serde_json::Value as J;
use std::path::Path;
use std::collections::BTreeMap;

/// What CPython's C unpickler does with a case, as its name's prefix says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Expect {
    /// `y_`: accepts it; the expected document is what it builds.
    Accept,
    /// `n_`: rejects it; the expected node is the error (its class is compared).
    Reject,
    /// `i_`: implementation-defined (C and Python unpicklers disagree, or a resource limit).
    Either,
}

impl Expect {
    /// The prefix letter: y, n or i.
    pub fn letter(self) -> char {
        match self {
            Expect::Accept => 'y',
            Expect::Reject => 'n',
            Expect::Either => 'i',
        }
    }
}

/// One corpus case.
#[derive(Clone, Debug)]
pub struct Case {
    /// The file stem, e.g. `y_list_depth_300_p4`.
    pub name: String,
    /// y, n or i.
    pub expect: Expect,
    /// The pickle.
    pub pickle: Vec<u8>,
    /// Out-of-band buffers the case supplies (0 for none).
    pub buffers: usize,
    /// CPython C's node (a value, or an error node).
    pub result: J,
    /// CPython pure-Python's node.
    pub python: J,
    /// `pickletools.genops` of the pickle, as recorded.
    pub ops: J,
    /// The protocol an encoder is asked for when this case's value is encoded: the case's own
    /// (the PROTO opcode's argument, else 0 when every opcode is a protocol 0 one, else 1),
    /// raised to the lowest protocol that writes every node of the document natively
    /// (NEWOBJ 2, bytes 3, sets, NEWOBJ_EX and dotted names 4, bytearray 5), so that CPython's reading of
    /// a faithful encoding is the document itself.
    pub protocol: u8,
    /// Whether CPython's outcome was a resource limit (MemoryError, RecursionError, time).
    pub limit: bool,
    /// The copyreg extension registry the case is loaded with, `(module, name, code)`
    /// (NAME.json's `extensions`; empty for most cases).
    pub extensions: Vec<(String, String, i64)>,
    /// NAME.json's `versions`: CPython version ("3.14") -> its C unpickler's node, for each
    /// version whose outcome differs from 3.11's (docs/versions.md).
    pub versions: BTreeMap<String, J>,
    /// NAME.json's `python_versions`: the same for the pure-Python unpickler.
    pub python_versions: BTreeMap<String, J>,
}

impl Case {
    /// What CPython `version`'s C unpickler (`python: false`) or pure-Python one makes of the
    /// case: its own node where it differs from 3.11's, else 3.11's.
    pub fn expected(&self, version: &str, python: bool) -> &J {
        let (own, base) = if python { (&self.python_versions, &self.python) } else { (&self.versions, &self.result) };
        own.get(version).unwrap_or(base)
    }

    /// The case as an engine's input.
    pub fn input(&self) -> brine_oracle::engine::Input<'_> {
        brine_oracle::engine::Input {
            name: &self.name,
            data: &self.pickle,
            buffers: (self.buffers > 0).then_some(self.buffers),
            extensions: &self.extensions,
        }
    }
}

/// `[[module, name, code], ...]` as a registry (entries of another shape are skipped).
pub fn extensions_of(v: Option<&J>) -> Vec<(String, String, i64)> {
    v.and_then(J::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| Some((e.get(0)?.as_str()?.to_string(), e.get(1)?.as_str()?.to_string(), e.get(2)?.as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The corpus under `root/corpus` in manifest order, with the generator's interpreter.
pub struct Corpus {
    /// The cases.
    pub cases: Vec<Case>,
    /// `sys.version` of the interpreter that made it.
    pub python: String,
}

impl Corpus {
    /// The corpus as CPython `version` sees it: each case's expectations are that version's
    /// nodes (NAME.json's `versions` / `python_versions`, else 3.11's), and its class is what
    /// those make it (i when C and pure Python disagree or one is a limit, else n for an
    /// error, y for a value). An implementation that targets that version (a matrix row whose
    /// adapter.json says `"python": "3.14"`) is judged by these.
    pub fn as_of(&self, version: &str) -> Corpus {
        let cases = self
            .cases
            .iter()
            .map(|c| {
                let (result, python) = (c.expected(version, false).clone(), c.expected(version, true).clone());
                if result == c.result && python == c.python {
                    return c.clone();
                }
                let error = |n: &J| n.get("t").and_then(J::as_str) == Some("error");
                let limit = |n: &J| {
                    error(n) && matches!(n.get("type").and_then(J::as_str), Some("MemoryError" | "RecursionError" | "Timeout"))
                };
                let same = match (error(&result), error(&python)) {
                    (true, true) => result.get("type") == python.get("type"),
                    (false, false) => brine_codec::json::compare(&result, &python).is_ok(),
                    _ => false,
                };
                let expect = if !same || limit(&result) || limit(&python) {
                    Expect::Either
                } else if error(&result) {
                    Expect::Reject
                } else {
                    Expect::Accept
                };
                Case { expect, limit: limit(&result) || limit(&python), result, python, ..c.clone() }
            })
            .collect();
        Corpus { cases, python: format!("{} (as CPython {version})", self.python) }
    }
}

/// Loads every case the manifest lists; a listed case that is missing is an error.
pub fn load(root: &Path) -> Result<Corpus, String> {
    let (corpus, lost) = load_keeping_lost(root)?;
    match lost.first() {
        Some(name) => Err(format!("corpus/{name}: listed in corpus/manifest.json but missing ({} such)", lost.len())),
        None => Ok(corpus),
    }
}

/// Loads every case the manifest lists that is present, and names the ones that are not
/// (the conformance run reports those as lost; a corpus without a manifest is empty).
pub fn load_keeping_lost(root: &Path) -> Result<(Corpus, Vec<String>), String> {
    let dir = root.join("corpus");
    let Ok(text) = std::fs::read_to_string(dir.join("manifest.json")) else {
        return Ok((Corpus { cases: vec![], python: String::new() }, vec![]));
    };
    let manifest: J = serde_json::from_str(&text).map_err(|e| format!("corpus/manifest.json: {e}"))?;
    let python = manifest["python"].as_str().unwrap_or("?").to_string();
    let mut cases = vec![];
    let mut lost = vec![];
    for name in manifest["cases"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let name = name.as_str().ok_or("corpus/manifest.json: a case name is not a string")?;
        let expect = match name.get(..2) {
            Some("y_") => Expect::Accept,
            Some("n_") => Expect::Reject,
            Some("i_") => Expect::Either,
            _ => return Err(format!("corpus: case {name:?} has no y_/n_/i_ prefix")),
        };
        let (Ok(pickle), Ok(meta_text)) =
            (std::fs::read(dir.join(format!("{name}.pkl"))), std::fs::read_to_string(dir.join(format!("{name}.json"))))
        else {
            lost.push(name.to_string());
            continue;
        };
        let mut meta = parse_deep(&meta_text).map_err(|e| format!("corpus/{name}.json: {e}"))?;
        // NAME.json omits "ops" for long streams ("ops_omitted"): the codec's disassembly
        // (checked equal to pickletools.genops by every conformance run) stands in.
        let ops_protocol = if meta["ops"].is_array() { protocol_of(&meta["ops"]) } else { protocol_of_pickle(&pickle) };
        let protocol = ops_protocol.max(brine_codec::encode::native_protocol(&meta["result"]));
        cases.push(Case {
            name: name.to_string(),
            expect,
            pickle,
            buffers: meta.get("buffers").and_then(J::as_u64).unwrap_or(0) as usize,
            result: meta.get_mut("result").map(J::take).unwrap_or(J::Null),
            python: meta.get_mut("python").map(J::take).unwrap_or(J::Null),
            ops: meta.get_mut("ops").map(J::take).unwrap_or(J::Null),
            protocol,
            limit: meta.get("limit").and_then(J::as_bool).unwrap_or(false),
            extensions: extensions_of(meta.get("extensions")),
            versions: by_version(meta.get_mut("versions")),
            python_versions: by_version(meta.get_mut("python_versions")),
        });
        // The opcode stream can nest no deeper than a list of flat entries: dropping the
        // rest of `meta` here is shallow.
    }
    Ok((Corpus { cases, python }, lost))
}

fn by_version(v: Option<&mut J>) -> BTreeMap<String, J> {
    match v.map(J::take) {
        Some(J::Object(m)) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

/// [`protocol_of`] from the pickle itself.
fn protocol_of_pickle(data: &[u8]) -> u8 {
    let d = brine_codec::dis::genops(data);
    let mut highest = 0;
    for o in &d.ops {
        if o.op == brine_codec::Opcode::PROTO {
            return data.get(o.pos + 1).copied().unwrap_or(0).min(brine_codec::opcodes::HIGHEST_PROTOCOL);
        }
        if let Some(info) = o.op.info() {
            highest = highest.max(info.proto.min(1));
        }
    }
    highest
}

fn protocol_of(ops: &J) -> u8 {
    let ops = ops.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut highest = 0;
    for op in ops {
        let Some(name) = op.get("op").and_then(J::as_str) else { continue };
        if name == "PROTO" {
            if let Some(v) = op.pointer("/arg/v").and_then(J::as_str).and_then(|s| s.parse::<u8>().ok()) {
                return v.min(brine_codec::opcodes::HIGHEST_PROTOCOL);
            }
        }
        if let Some(info) = brine_codec::Opcode::from_name(name).and_then(|o| o.info()) {
            highest = highest.max(info.proto.min(1));
        }
    }
    highest
}


#[cfg(test)]
mod version_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_corpus_as_of_a_version_takes_its_nodes_and_the_class_they_imply() {
        let base = Case {
            name: "y_int_text_0x10".into(),
            expect: Expect::Accept,
            pickle: b"I0x10\n.".to_vec(),
            buffers: 0,
            result: json!({"t": "int", "v": "16"}),
            python: json!({"t": "int", "v": "16"}),
            ops: J::Null,
            protocol: 0,
            limit: false,
            extensions: vec![],
            versions: [("3.14".to_string(), json!({"t": "error", "type": "ValueError", "message": ""}))].into_iter().collect(),
            python_versions: [("3.14".to_string(), json!({"t": "error", "type": "ValueError", "message": ""}))].into_iter().collect(),
        };
        let corpus = Corpus { cases: vec![base], python: "3.11.2".into() };
        let c = &corpus.as_of("3.14").cases[0];
        assert_eq!(c.expect, Expect::Reject);
        assert_eq!(c.result["type"], "ValueError");
        // A version with no entry keeps 3.11's.
        let c = &corpus.as_of("3.13").cases[0];
        assert_eq!(c.expect, Expect::Accept);
        assert_eq!(c.result["v"], "16");
    }
}
