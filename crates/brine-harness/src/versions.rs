//! Per-version expectations: what CPython 3.9, 3.13, 3.14 and 3.15 do where 3.11 (the
//! baseline every other file holds) does otherwise, the codec checked against each version,
//! and docs/versions.md.
//!
//! The data flow, all behind `cargo xtask versions`:
//! 1. scripts/pythons.sh builds the interpreters (target/pythons/bin/pythonX.Y);
//! 2. scripts/gen_versions.py, run by each, records what its C and pure-Python unpicklers make
//!    of every conformance decode case and what its `pickle.dumps` writes for every encode
//!    case (target/versions/raw/X.Y.jsonl);
//! 3. [`regenerate`] compares that with the checked-in 3.11 expectations and writes only the
//!    differences to conformance/versions/X.Y.jsonl (the corpus takes its `versions` fields
//!    from there: scripts/gen_corpus.py);
//! 4. [`check_codec`] runs the codec in that version's mode over every case, expecting the
//!    version's outcome where it differs and 3.11's elsewhere;
//! 5. [`write_docs`] lists every change between consecutive versions.
//!
//! conformance/versions/X.Y.jsonl: a header line, then
//! `{"set": "decode", "name", "c"?: NODE, "python"?: NODE}` (the unpickler whose outcome
//! differs from 3.11's) and `{"set": "encode", "name", "pickle"?: HEX, "error"?: CLASS,
//! "value"?: DOC}` (the bytes `pickle.dumps` writes; "value" when the version holds the value
//! in another set order than the checked-in document, which is then the document owed).

use crate::cases::{self, DecodeCase, EncodeCase};
use brine_codec::{hex, json, DecodeOptions, Python};
use brine_oracle::{verdict, Outcome, Verdict};
use serde_json::{json, Value as J};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The baseline: what conformance/ and corpus/ hold.
pub const BASELINE: &str = "3.11";

/// Every CPython version brine has a reference for, oldest first (the chain docs/versions.md
/// walks). 3.10 and 3.12 are not in it: no Debian suite packages them.
pub const CHAIN: &[&str] = &["3.9", "3.11", "3.13", "3.14", "3.15"];

/// Classes that are resource limits, not behaviour: a difference involving one is counted
/// apart (the interpreters run under the 3 GiB address-space cap the baseline was made with; brine under its own limits).
const LIMIT_CLASSES: &[&str] = &["MemoryError", "RecursionError", "Timeout"];

/// One version's differences from the baseline.
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    /// "3.14".
    pub version: String,
    /// The header line (interpreter, package).
    pub header: J,
    /// Decode case name -> (C node, pure-Python node), each only where it differs.
    pub decode: HashMap<String, (Option<J>, Option<J>)>,
    /// Encode case name -> what this version owes.
    pub encode: HashMap<String, EncodeOwed>,
}

/// What `pickle.dumps` of one version does with an encode case, where it differs.
#[derive(Clone, Debug, Default)]
pub struct EncodeOwed {
    /// Its bytes (None when it raised).
    pub pickle: Option<Vec<u8>>,
    /// The exception class it raised.
    pub error: Option<String>,
    /// The document in this version's set order, when that differs.
    pub value: Option<J>,
}

impl Expectations {
    /// What this version's C (or pure-Python) unpickler makes of a decode case.
    pub fn decode_node<'a>(&'a self, case: &'a DecodeCase, python: bool) -> Option<&'a J> {
        let own = self.decode.get(&case.name).and_then(|(c, p)| if python { p.as_ref() } else { c.as_ref() });
        own.or(if python { case.python.as_ref() } else { Some(&case.c) })
    }

    /// The document and bytes this version owes for an encode case (bytes None: it raises).
    pub fn encode_owed<'a>(&'a self, case: &'a EncodeCase) -> (&'a J, Option<&'a [u8]>) {
        match self.encode.get(&case.name) {
            Some(o) => (o.value.as_ref().unwrap_or(&case.value), o.pickle.as_deref()),
            None => (&case.value, Some(&case.pickle)),
        }
    }
}

/// conformance/versions/X.Y.jsonl.
pub fn path(root: &Path, version: &str) -> PathBuf {
    root.join("conformance/versions").join(format!("{version}.jsonl"))
}

/// The versions with checked-in expectations, in [`CHAIN`] order (the baseline excluded).
pub fn available(root: &Path) -> Vec<String> {
    CHAIN.iter().filter(|v| **v != BASELINE && path(root, v).is_file()).map(|v| v.to_string()).collect()
}

/// Loads one version's expectations; the baseline loads as empty.
pub fn load(root: &Path, version: &str) -> Result<Expectations, String> {
    let mut e = Expectations { version: version.to_string(), ..Default::default() };
    if version == BASELINE {
        return Ok(e);
    }
    let p = path(root, version);
    let text = std::fs::read_to_string(&p).map_err(|err| {
        format!("{}: {err} (run `cargo xtask versions` to make it; it needs the interpreters of scripts/pythons.sh)", p.display())
    })?;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut v = json::parse_deep(line).map_err(|err| format!("{}:{}: {err}", p.display(), i + 1))?;
        if v.get("header").is_some() {
            e.header = v;
            continue;
        }
        let name = v["name"].as_str().unwrap_or("?").to_string();
        match v["set"].as_str() {
            Some("decode") => {
                let c = v.get_mut("c").map(J::take);
                let py = v.get_mut("python").map(J::take);
                e.decode.insert(name, (c, py));
            }
            Some("encode") => {
                let owed = EncodeOwed {
                    pickle: v["pickle"].as_str().map(hex::decode).transpose().map_err(|err| format!("{}:{}: \"pickle\" is not hex: {err}", p.display(), i + 1))?,
                    error: v["error"].as_str().map(str::to_string),
                    value: v.get_mut("value").map(J::take),
                };
                e.encode.insert(name, owed);
            }
            _ => return Err(format!("{}:{}: no \"set\"", p.display(), i + 1)),
        }
    }
    Ok(e)
}

/// Whether two nodes are different outcomes: values by pickle JSON (set items unordered, ids
/// renamed), errors by class. Unlike a verdict, a resource limit (MemoryError) is an outcome
/// here: 3.15 reading a huge BINBYTES8 incrementally instead of failing to allocate it is a
/// change of behaviour.
fn differs(a: &J, b: &J) -> bool {
    match (class_of(a), class_of(b)) {
        (Some(x), Some(y)) => x != y,
        (None, None) => a != b && brine_codec::json::compare(a, b).is_err(),
        _ => true,
    }
}

fn class_of(n: &J) -> Option<&str> {
    (n.get("t").and_then(J::as_str) == Some("error")).then(|| n.get("type").and_then(J::as_str).unwrap_or("?"))
}

fn is_limit(n: &J) -> bool {
    class_of(n).is_some_and(|c| LIMIT_CLASSES.contains(&c))
}

/// What [`regenerate`] found for one version.
#[derive(Clone, Debug, Default)]
pub struct Regenerated {
    /// Decode cases whose C outcome differs from 3.11's (of which involve a limit).
    pub c: (usize, usize),
    /// The same for the pure-Python unpickler.
    pub python: (usize, usize),
    /// Encode cases whose bytes differ, and of those, how many only by set order.
    pub encode: (usize, usize),
    /// Cases the raw file lacked, or named but conformance/ does not hold.
    pub missing: usize,
    /// Decode cases in the raw file.
    pub cases: usize,
}

/// Compares target/versions/raw/X.Y.jsonl (scripts/gen_versions.py's output) with the
/// baseline and writes conformance/versions/X.Y.jsonl.
/// `interpreter` (its target/pythons/manifest.json entry) goes into the header.
pub fn regenerate(root: &Path, raw: &Path, version: &str, interpreter: &J) -> Result<Regenerated, String> {
    let decode: HashMap<String, DecodeCase> =
        cases::decode_cases(root)?.into_iter().map(|c| (c.name.clone(), c)).collect();
    let encode: HashMap<String, EncodeCase> =
        cases::encode_cases(root)?.into_iter().map(|c| (c.name.clone(), c)).collect();
    let text = std::fs::read_to_string(raw).map_err(|e| format!("{}: {e}", raw.display()))?;
    let mut out = String::new();
    let mut r = Regenerated::default();
    let mut seen = 0usize;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut v = json::parse_deep(line).map_err(|e| format!("{}:{}: {e}", raw.display(), i + 1))?;
        if v.get("header").is_some() {
            if v["version"].as_str() != Some(version) {
                return Err(format!("{}: made by Python {}, not {version}", raw.display(), v["version"]));
            }
            let mut h = v.clone();
            h["generator"] = json!("scripts/gen_versions.py, compared by brine versions");
            h["baseline"] = json!(BASELINE);
            for k in ["suite", "package", "package_version"] {
                h[k] = interpreter.get(k).cloned().unwrap_or(J::Null);
            }
            out.push_str(&h.to_string());
            out.push('\n');
            continue;
        }
        let name = v["name"].as_str().unwrap_or("?").to_string();
        match v["set"].as_str() {
            Some("decode") => {
                r.cases += 1;
                let Some(base) = decode.get(&name) else {
                    r.missing += 1;
                    continue;
                };
                seen += 1;
                let c = v.get_mut("c").map(J::take).unwrap_or(J::Null);
                let py = v.get_mut("python").map(J::take).unwrap_or(J::Null);
                let c_differs = differs(&c, &base.c);
                let py_differs = base.python.as_ref().is_some_and(|b| differs(&py, b));
                if !c_differs && !py_differs {
                    continue;
                }
                let mut line = json!({"set": "decode", "name": name});
                if c_differs {
                    r.c.0 += 1;
                    r.c.1 += usize::from(is_limit(&c) || is_limit(&base.c));
                    line["c"] = c;
                }
                if py_differs {
                    r.python.0 += 1;
                    r.python.1 += usize::from(is_limit(&py) || base.python.as_ref().is_some_and(is_limit));
                    line["python"] = py;
                }
                out.push_str(&line.to_string());
                out.push('\n');
            }
            Some("encode") => {
                let Some(base) = encode.get(&name) else {
                    r.missing += 1;
                    continue;
                };
                seen += 1;
                let bytes = v["pickle"].as_str().map(hex::decode).transpose().map_err(|e| format!("{}:{}: \"pickle\" is not hex: {e}", raw.display(), i + 1))?;
                let value = v.get_mut("value").map(J::take).filter(|held| differs(held, &base.value) || held != &base.value);
                if bytes.as_deref() == Some(&base.pickle[..]) && value.is_none() {
                    continue;
                }
                r.encode.0 += 1;
                r.encode.1 += usize::from(value.is_some());
                let mut line = json!({"set": "encode", "name": name});
                match &bytes {
                    Some(b) => line["pickle"] = json!(hex::encode(b)),
                    None => line["error"] = v["error"].clone(),
                }
                if let Some(value) = value {
                    line["value"] = value;
                }
                out.push_str(&line.to_string());
                out.push('\n');
            }
            _ => return Err(format!("{}:{}: no \"set\"", raw.display(), i + 1)),
        }
    }
    r.missing += (decode.len() + encode.len()).saturating_sub(seen);
    let p = path(root, version);
    std::fs::create_dir_all(p.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::write(&p, out).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(r)
}

/// The codec in one version's mode against that version, over every checked-in case.
#[derive(Clone, Debug, Default)]
pub struct CodecCheck {
    /// "3.14".
    pub version: String,
    /// Decode cases: agree, disagree, limit (one side a resource limit).
    pub decode: (usize, usize, usize),
    /// Corpus cases: agree, disagree, limit.
    pub corpus: (usize, usize, usize),
    /// Encode cases: agree, disagree.
    pub encode: (usize, usize),
    /// One line per disagreement: set, case, what differs.
    pub disagreements: Vec<String>,
    /// One line per limit difference (one side a resource limit).
    pub limits: Vec<String>,
}

impl CodecCheck {
    /// Total disagreements.
    pub fn failures(&self) -> usize {
        self.decode.1 + self.corpus.1 + self.encode.1
    }
}

/// The codec's outcome for a pickle in `python`'s mode.
pub fn codec_outcome(data: &[u8], buffers: Option<usize>, extensions: &[(String, String, i64)], python: Python) -> Outcome {
    let mut opts = DecodeOptions { buffers, python, ..Default::default() };
    for (m, n, code) in extensions {
        opts.extensions.insert(*code, (m.clone(), n.clone()));
    }
    let node = json::result_to_json(&brine_codec::decode_with(data, &opts));
    Outcome::from_node(json::parse_deep(&node).unwrap_or(J::Null))
}

/// An outcome as a node, a poison as the error node of its class (MemoryError...).
fn node_of(o: &Outcome) -> J {
    match o {
        Outcome::Poisoned(p) => json!({"t": "error", "type": p.kind.name(), "message": p.detail}),
        other => other.to_node(),
    }
}

/// (disagree, limit, verdict) of the codec's outcome against a version's node. The same
/// class on both sides agrees, MemoryError included (the codec reproduces CPython's
/// deterministic ones); a limit on one side only is a limit difference, not a disagreement.
fn judge_decode(ours: &Outcome, theirs: &J) -> (bool, bool, Verdict) {
    let v = verdict::compare("codec", ours, "cpython", &Outcome::from_node(theirs.clone()));
    let ours_node = node_of(ours);
    if !differs(&ours_node, theirs) {
        return (false, false, v);
    }
    let limit = is_limit(theirs) || is_limit(&ours_node) || matches!(v, Verdict::Poisoned(_));
    (true, limit, v)
}

/// Checks the codec in `version`'s mode (see [`CodecCheck`]).
pub fn check_codec(root: &Path, version: &str, progress: bool) -> Result<CodecCheck, String> {
    let python: Python = version.parse().map_err(|e| format!("{e}"))?;
    let exp = load(root, version)?;
    let mut r = CodecCheck { version: version.to_string(), ..Default::default() };
    let decode = cases::decode_cases(root)?;
    let pb = bar(progress, decode.len() as u64, &format!("{version} decode"));
    for case in &decode {
        let Some(theirs) = exp.decode_node(case, false) else { continue };
        let ours = codec_outcome(&case.pickle, case.buffers, &case.extensions, python);
        let (bad, limit, v) = judge_decode(&ours, theirs);
        if bad && limit {
            r.decode.2 += 1;
            r.limits.push(format!("decode {}: {}", case.name, v.summary()));
        } else if bad {
            r.decode.1 += 1;
            r.disagreements.push(format!("decode {}: {}", case.name, v.summary()));
        } else {
            r.decode.0 += 1;
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let (corpus, _) = crate::impls::corpus::load_keeping_lost(root)?;
    for case in &corpus.cases {
        let theirs = case.expected(version, false);
        let ours = codec_outcome(&case.pickle, case.input().buffers, &case.extensions, python);
        let (bad, limit, v) = judge_decode(&ours, theirs);
        if bad && limit {
            r.corpus.2 += 1;
            r.limits.push(format!("corpus {}: {}", case.name, v.summary()));
        } else if bad {
            r.corpus.1 += 1;
            r.disagreements.push(format!("corpus {}: {}", case.name, v.summary()));
        } else {
            r.corpus.0 += 1;
        }
    }
    let encode = cases::encode_cases(root)?;
    let pb = bar(progress, encode.len() as u64, &format!("{version} encode"));
    for case in &encode {
        let (doc, owed) = exp.encode_owed(case);
        let ours = brine_codec::encode::encode_document_with(doc, case.protocol, python);
        let ok = match (&ours, owed) {
            (Ok(b), Some(owed)) => b[..] == *owed,
            (Err(_), None) => true,
            _ => false,
        };
        if ok {
            r.encode.0 += 1;
        } else {
            r.encode.1 += 1;
            let what = match (&ours, owed) {
                (Ok(b), Some(o)) => format!("bytes differ ({} vs {} bytes)", b.len(), o.len()),
                (Ok(_), None) => "pickle.dumps raises, the codec encodes".into(),
                (Err(e), _) => format!("the codec refuses: {e}"),
            };
            r.disagreements.push(format!("encode {}: {what}", case.name));
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// docs/versions.md

fn bar(show: bool, len: u64, what: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix:>14} [{bar:40}] {pos}/{len} {elapsed_precise}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_prefix(what.to_string());
    pb
}

/// A kind of outcome, for grouping: an exception class, or "value".
fn kind(n: &J) -> String {
    class_of(n).map_or_else(|| "value".to_string(), str::to_string)
}

/// A message with the details that vary between cases blurred (numbers, quoted text).
fn shape(n: &J) -> String {
    let m = n.get("message").and_then(J::as_str).unwrap_or("");
    let mut out = String::new();
    let mut quoted = None;
    let mut prev = ' ';
    for ch in brine_oracle::render::blur_numbers(m).chars() {
        // "Can't" holds no quoted text; b'...' does.
        let opens = !prev.is_alphanumeric() || (prev == 'b' && out.ends_with(" b"));
        prev = ch;
        match quoted {
            Some(q) if ch == q => {
                out.push(ch);
                quoted = None;
            }
            Some(_) => {}
            None => {
                if (ch == '\'' || ch == '"') && opens {
                    quoted = Some(ch);
                    out.push(ch);
                    out.push('…');
                } else {
                    out.push(ch);
                }
            }
        }
    }
    out.chars().take(90).collect()
}

/// Hex of at most the first 96 bytes, with the length when cut.
fn hex_head(b: &[u8]) -> String {
    if b.len() <= 96 {
        hex::encode(b)
    } else {
        format!("{}… ({} bytes in all)", hex::encode(&b[..96]), b.len())
    }
}

struct Change<'a> {
    set: &'static str,
    from: String,
    to: String,
    signature: String,
    message: String,
    cases: Vec<(&'a str, &'a [u8], J, J)>,
}

fn short(n: &J) -> String {
    match class_of(n) {
        Some(c) => {
            let m = n.get("message").and_then(J::as_str).unwrap_or("");
            let m: String = m.chars().take(100).collect();
            if m.is_empty() { c.to_string() } else { format!("{c}: {m}") }
        }
        None => {
            let s = brine_oracle::render::pretty(n).replace('\n', " ");
            let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if s.chars().count() > 110 { format!("{}…", s.chars().take(110).collect::<String>()) } else { s }
        }
    }
}

/// Hand-written remarks on changes (conformance/versions/notes.json: a list of
/// `{"pair": "3.13->3.14", "match": TEXT, "note": TEXT}`), merged into the generated page: what
/// changed upstream, and whether it looks intended. A group takes the first note of its pair
/// whose `match` occurs in its signature.
fn notes(root: &Path) -> Vec<(String, String, String)> {
    let p = root.join("conformance/versions/notes.json");
    let Ok(J::Array(items)) = std::fs::read_to_string(p).map_err(|e| e.to_string()).and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    else {
        return vec![];
    };
    items
        .iter()
        .map(|n| {
            let f = |k: &str| n[k].as_str().unwrap_or("").to_string();
            (f("pair"), f("match"), f("note"))
        })
        .collect()
}

fn note_for<'a>(notes: &'a [(String, String, String)], signature: &str) -> Option<&'a str> {
    notes
        .iter()
        .find(|(pair, m, _)| signature.starts_with(&format!("{pair} ")) && signature.contains(m.as_str()))
        .map(|(_, _, n)| n.as_str())
}

/// Writes docs/versions.md from conformance/versions/*.jsonl and the checked-in cases.
/// `checks` are the codec results to quote (may be empty).
pub fn write_docs(root: &Path, checks: &[CodecCheck]) -> Result<String, String> {
    let decode = cases::decode_cases(root)?;
    let encode = cases::encode_cases(root)?;
    // In CHAIN order (oldest first); a version without expectations is left out.
    let mut exps: Vec<(&str, Expectations)> = vec![];
    for v in CHAIN {
        if *v == BASELINE {
            exps.push((v, Expectations { version: BASELINE.into(), ..Default::default() }));
        } else if path(root, v).is_file() {
            exps.push((v, load(root, v)?));
        }
    }
    let notes = notes(root);
    let mut md = String::new();
    md.push_str("# What changed in pickle between CPython versions\n\n");
    md.push_str(
        "Generated by `cargo xtask versions` from conformance/versions/*.jsonl (do not edit; remarks \
         live in conformance/versions/notes.json). Every interpreter ran brine's sandbox over the same \
         cases: the conformance decode cases (C unpickler = `pickle.loads`, and the pure-Python \
         `pickle._Unpickler`) and the conformance values (`pickle.dumps` at protocols 0-5). Outcomes \
         are compared as everywhere in brine: values by pickle JSON (set items unordered), errors by \
         exception class. 3.11 is the baseline of the corpus; y_/n_/i_ stay 3.11's classes.\n\n",
    );
    md.push_str("## Interpreters\n\n| version | interpreter | Debian package |\n|---|---|---|\n");
    for (v, e) in exps.iter() {
        let (interp, pkg) = if *v == BASELINE {
            ("CPython 3.11.2 (the host's /usr/bin/python3.11)".to_string(), "bookworm python3.11".to_string())
        } else {
            (
                e.header["python"].as_str().unwrap_or("?").split_whitespace().next().map(|s| format!("CPython {s}")).unwrap_or_default(),
                format!("{} {} {}", e.header["suite"].as_str().unwrap_or("?"), e.header["package"].as_str().unwrap_or("?"), e.header["package_version"].as_str().unwrap_or("")),
            )
        };
        let _ = writeln!(md, "| {v} | {interp} | {pkg} |");
    }
    md.push('\n');

    // Summary: how many cases differ from the baseline, and C-vs-Python per version.
    md.push_str("## Differences from 3.11, and C vs pure Python within each version\n\n");
    md.push_str("| version | C unpickler differs from 3.11 | pure-Python differs from 3.11 | `pickle.dumps` bytes differ (of which set order only) | cases where C and Python disagree |\n|---|---|---|---|---|\n");
    for (v, e) in &exps {
        let c = e.decode.values().filter(|(c, _)| c.is_some()).count();
        let p = e.decode.values().filter(|(_, p)| p.is_some()).count();
        let enc = e.encode.len();
        let order = e.encode.values().filter(|o| o.value.is_some()).count();
        let mut c_vs_py = 0;
        for case in &decode {
            if let (Some(c), Some(p)) = (e.decode_node(case, false), e.decode_node(case, true)) {
                c_vs_py += usize::from(differs(c, p) && !is_limit(c) && !is_limit(p));
            }
        }
        let _ = writeln!(md, "| {v} | {c} | {p} | {enc} ({order}) | {c_vs_py} |");
    }
    let _ = writeln!(md, "\nOver {} decode cases and {} encode cases (limit outcomes, MemoryError and RecursionError, excluded from the last column).\n", decode.len(), encode.len());

    if !checks.is_empty() {
        md.push_str("## The codec in each version's mode\n\n`brine decode --python X.Y` / `DecodeOptions::python`, checked against that version by `cargo xtask versions`:\n\n| version | decode: agree / disagree / limit | corpus: agree / disagree / limit | encode: agree / disagree |\n|---|---|---|---|\n");
        for c in checks {
            let _ = writeln!(
                md,
                "| {} | {} / {} / {} | {} / {} / {} | {} / {} |",
                c.version, c.decode.0, c.decode.1, c.decode.2, c.corpus.0, c.corpus.1, c.corpus.2, c.encode.0, c.encode.1
            );
        }
        md.push('\n');
    }

    // Changes between consecutive versions.
    md.push_str("## Changes between consecutive versions\n\n");
    md.push_str(
        "Each change is a group of cases whose outcome moved the same way (same side, same outcome \
         kinds, same message shape in the version that raises). The example is the group's \
         smallest pickle. \"C = Python\" says whether that version's two unpicklers agree on it.\n\n",
    );
    for pair in exps.windows(2) {
        let ((a, ea), (b, eb)) = (&pair[0], &pair[1]);
        let (a, b) = (*a, *b);
        let mut groups: BTreeMap<String, Change> = BTreeMap::new();
        for case in &decode {
            for (set, python) in [("C unpickler", false), ("pure-Python unpickler", true)] {
                let touched = ea.decode.get(&case.name).is_some_and(|(c, p)| if python { p.is_some() } else { c.is_some() })
                    || eb.decode.get(&case.name).is_some_and(|(c, p)| if python { p.is_some() } else { c.is_some() });
                if !touched {
                    continue;
                }
                let (Some(na), Some(nb)) = (ea.decode_node(case, python), eb.decode_node(case, python)) else { continue };
                if !differs(na, nb) {
                    continue;
                }
                let (ka, kb) = (kind(na), kind(nb));
                let msg = if class_of(nb).is_some() { shape(nb) } else { shape(na) };
                let signature = format!("{a}->{b} {set}: {ka} -> {kb}: {msg}");
                groups
                    .entry(signature.clone())
                    .or_insert_with(|| Change { set, from: ka, to: kb, signature, message: msg.clone(), cases: vec![] })
                    .cases
                    .push((&case.name, &case.pickle, na.clone(), nb.clone()));
            }
        }
        let mut enc_groups: BTreeMap<String, Vec<&EncodeCase>> = BTreeMap::new();
        for case in &encode {
            if !ea.encode.contains_key(&case.name) && !eb.encode.contains_key(&case.name) {
                continue;
            }
            let ((da, ba), (db, bb)) = (ea.encode_owed(case), eb.encode_owed(case));
            if ba == bb && da == db {
                continue;
            }
            let what = if da != db && differs(da, db) {
                "the value itself is held differently".to_string()
            } else if da != db {
                "set iteration order (the hash of str or None changed), so set items are written in another order".to_string()
            } else {
                format!("bytes for the same document at protocol {}", case.protocol)
            };
            enc_groups.entry(format!("{a}->{b} pickle.dumps: {what}")).or_default().push(case);
        }
        let _ = writeln!(md, "### {a} → {b}\n");
        if groups.is_empty() && enc_groups.is_empty() {
            md.push_str("No change observed.\n\n");
            continue;
        }
        for g in groups.values_mut() {
            g.cases.sort_by_key(|(n, p, _, _)| (p.len(), *n));
            let (name, pickle, na, nb) = &g.cases[0];
            let case = decode.iter().find(|c| c.name == *name).unwrap();
            let (c_b, p_b) = (eb.decode_node(case, false), eb.decode_node(case, true));
            let agree = match (c_b, p_b) {
                (Some(c), Some(p)) => if differs(c, p) { "no" } else { "yes" },
                _ => "?",
            };
            let n = g.cases.len();
            let cases = if n == 1 { "1 case".to_string() } else { format!("{n} cases") };
            let msg = if g.message.is_empty() { String::new() } else { format!(" ({})", g.message) };
            let _ = writeln!(md, "#### {}: {} → {}{msg}, {cases}\n", g.set, g.from, g.to);
            if let Some(n) = note_for(&notes, &g.signature) {
                let _ = writeln!(md, "{n}\n");
            }
            let _ = writeln!(md, "- example: `{name}`, {} bytes: `{}`", pickle.len(), hex_head(pickle));
            let _ = writeln!(md, "- {a}: {}", short(na));
            let _ = writeln!(md, "- {b}: {}", short(nb));
            let _ = writeln!(md, "- {b}'s C and pure-Python unpicklers agree on it: {agree}");
            let _ = writeln!(md, "- signature: `{}`", g.signature);
            // The listing (pickletools' format), when it is short enough to read.
            let dis = brine_codec::dis::genops(pickle).to_text();
            if pickle.len() <= 200 {
                let lines: Vec<&str> = dis.lines().take(16).collect();
                let _ = writeln!(md, "\n```\n{}\n```\n", lines.join("\n"));
            } else {
                md.push('\n');
            }
        }
        for (sig, cases) in &mut enc_groups {
            cases.sort_by_key(|c| (c.pickle.len(), c.name.clone()));
            let case = cases[0];
            let (_, bb) = eb.encode_owed(case);
            let (_, ba) = ea.encode_owed(case);
            let _ = writeln!(md, "#### pickle.dumps: {}, {} cases\n", sig.split(": ").nth(1).unwrap_or(""), cases.len());
            if let Some(n) = note_for(&notes, sig) {
                let _ = writeln!(md, "{n}\n");
            }
            let _ = writeln!(md, "- example: `{}` at protocol {}", case.name, case.protocol);
            match (ba, bb) {
                (Some(x), Some(y)) if x.len() > 96 || y.len() > 96 => {
                    // Long pickles: the bytes around the first difference.
                    let at = x.iter().zip(y).position(|(p, q)| p != q).unwrap_or(x.len().min(y.len()));
                    let from = at.saturating_sub(16);
                    let _ = writeln!(md, "- {} vs {} bytes; first difference at byte {at}:", x.len(), y.len());
                    let _ = writeln!(md, "- {a}: `…{}…`", hex::encode(&x[from..(at + 24).min(x.len())]));
                    let _ = writeln!(md, "- {b}: `…{}…`", hex::encode(&y[from..(at + 24).min(y.len())]));
                }
                _ => {
                    let _ = writeln!(md, "- {a}: `{}`", ba.map_or("raises".to_string(), hex_head));
                    let _ = writeln!(md, "- {b}: `{}`", bb.map_or("raises".to_string(), hex_head));
                }
            }
            let _ = writeln!(md, "- signature: `{sig}`\n");
        }
    }
    let p = root.join("docs/versions.md");
    std::fs::write(&p, &md).map_err(|e| format!("{}: {e}", p.display()))?;
    Ok(md)
}

// ---------------------------------------------------------------------------------------------
// `brine versions`

const HELP: &str = "usage: brine versions [--reuse] [--only X.Y,...] [--generated N] [--seed N] [--check-only]

Runs scripts/gen_versions.py under every CPython of target/pythons/manifest.json (built by
scripts/pythons.sh), writes conformance/versions/X.Y.jsonl (differences from 3.11), updates the
corpus's per-version fields, checks the codec in each version's mode against every case, and
writes docs/versions.md. Exit status 1 on any codec disagreement.

  --reuse        keep target/versions/raw/X.Y.jsonl when it exists (and no case was added)
  --generated N  pickle-smith pickles (valid and near-valid) run through each version's C
                 unpickler and the codec first (default 20000; 0: none). A kind of difference
                 from 3.11 that no checked-in case shows is minimized and becomes a case
                 (conformance/decode/versions.jsonl); a codec disagreement fails the run
  --seed N       seed of the generated pickles (default 1)
  --only LIST    only these versions (comma-separated)
  --check-only   only check the codec against the checked-in expectations (no interpreter)";

/// One interpreter of target/pythons/manifest.json.
fn manifest(root: &Path) -> Result<Vec<J>, String> {
    let p = root.join("target/pythons/manifest.json");
    let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e} (run scripts/pythons.sh)", p.display()))?;
    match serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))? {
        J::Array(v) => Ok(v),
        _ => Err(format!("{}: not a list", p.display())),
    }
}

/// Runs one interpreter over the conformance cases: target/versions/raw/X.Y.jsonl.
fn observe(root: &Path, entry: &J, raw: &Path) -> Result<(), String> {
    let wrapper = root.join(entry["wrapper"].as_str().ok_or("manifest entry without a wrapper")?);
    let out = std::fs::File::create(raw).map_err(|e| format!("{}: {e}", raw.display()))?;
    let status = std::process::Command::new(&wrapper)
        .arg(root.join("scripts/gen_versions.py"))
        .current_dir(root)
        .stdout(out)
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", wrapper.display()))?;
    if !status.success() {
        return Err(format!("{} scripts/gen_versions.py: {status}", wrapper.display()));
    }
    Ok(())
}

/// `brine versions` (see [`HELP`]).
pub fn cli(a: &[String]) -> Result<std::process::ExitCode, String> {
    use crate::args::{self, Arg};
    let mut reuse = false;
    let mut check_only = false;
    let mut only: Option<Vec<String>> = None;
    let mut count = 20_000usize;
    let mut seed = 1u64;
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        // A missing value and one that does not parse get the same message, as they always have.
        let number = |p: &mut args::Parser, what: &str| -> Result<u64, String> {
            let missing = format!("{what} needs a number");
            args::value(p, &missing)?.parse().map_err(|_| missing)
        };
        match arg {
            Arg::Long("reuse") => reuse = true,
            Arg::Long("check-only") => check_only = true,
            Arg::Long("generated") => count = number(&mut p, "--generated")? as usize,
            Arg::Long("seed") => seed = number(&mut p, "--seed")?,
            Arg::Long("only") => only = Some(args::value(&mut p, "--only needs a list")?.split(',').map(str::to_string).collect()),
            Arg::Short('h') | Arg::Long("help") => {
                println!("{HELP}");
                return Ok(std::process::ExitCode::SUCCESS);
            }
            other => return Err(format!("unknown argument {:?}\n{HELP}", args::shown(&other))),
        }
    }
    let root = crate::impls::find_root()?;
    let mut generated_failures = 0usize;
    let mut generated_report: Vec<J> = vec![];
    let wanted = |v: &str| v != BASELINE && only.as_ref().is_none_or(|o| o.iter().any(|x| x == v));
    let versions: Vec<String>;
    if check_only {
        versions = available(&root).into_iter().filter(|v| wanted(v)).collect();
    } else {
        let entries = manifest(&root)?;
        let raw_dir = root.join("target/versions/raw");
        std::fs::create_dir_all(&raw_dir).map_err(|e| e.to_string())?;
        let mut chosen = vec![];
        for v in CHAIN.iter().filter(|v| wanted(v)) {
            let Some(entry) = entries.iter().find(|e| e["implementation"] == "CPython" && e["language_version"] == *v) else {
                return Err(format!("no CPython {v} in target/pythons/manifest.json (run scripts/pythons.sh)"));
            };
            chosen.push((v.to_string(), entry.clone()));
        }
        // Generated pickles first: what they find becomes a case the interpreters then observe.
        let mut generated_runs = vec![];
        let mut promoted = 0;
        if count > 0 {
            for (v, _) in &chosen {
                let g = generated(&root, v, count, seed, std::io::IsTerminal::is_terminal(&std::io::stderr()))?;
                eprintln!(
                    "versions: {v}: {} generated pickles: codec agrees {}, disagrees {}, limit {}; {} differ from 3.11; {} new kinds promoted",
                    g.cases, g.codec.0, g.codec.1, g.codec.2, g.differ_from_baseline, g.promoted.len()
                );
                for p in &g.promoted {
                    eprintln!("    promoted: {p}");
                }
                promoted += g.promoted.len();
                generated_runs.push(g);
            }
        }
        let reuse = reuse && promoted == 0;
        // Two interpreters at a time (one per core): each is one process over every case.
        let started = std::time::Instant::now();
        let jobs: Vec<_> = chosen
            .iter()
            .filter(|(v, _)| !(reuse && raw_dir.join(format!("{v}.jsonl")).is_file()))
            .collect();
        for pair in jobs.chunks(2) {
            let results: Vec<Result<(), String>> = std::thread::scope(|s| {
                let handles: Vec<_> = pair
                    .iter()
                    .map(|(v, e)| {
                        let raw = raw_dir.join(format!("{v}.jsonl"));
                        let root = &root;
                        eprintln!("versions: observing CPython {v} ({})", e["version"].as_str().unwrap_or("?"));
                        s.spawn(move || observe(root, e, &raw))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("panicked".into()))).collect()
            });
            for r in results {
                r?;
            }
        }
        eprintln!("versions: interpreters ran in {:.0} s", started.elapsed().as_secs_f64());
        for (v, entry) in &chosen {
            let r = regenerate(&root, &raw_dir.join(format!("{v}.jsonl")), v, entry)?;
            eprintln!(
                "versions: {v}: C differs from 3.11 on {} cases ({} limits), pure-Python on {} ({} limits), dumps on {} ({} set order only); {} cases missing",
                r.c.0, r.c.1, r.python.0, r.python.1, r.encode.0, r.encode.1, r.missing
            );
            if r.missing > 0 {
                return Err(format!("{v}: the interpreter's output lacks {} cases", r.missing));
            }
        }
        // New cases: the corpus is rebuilt (it draws on them); else only its version fields.
        let mut corpus_cmd = std::process::Command::new("/usr/bin/python3.11");
        corpus_cmd.arg("scripts/gen_corpus.py");
        if promoted == 0 {
            corpus_cmd.arg("--versions-only");
        }
        let status = corpus_cmd.current_dir(&root).status().map_err(|e| format!("scripts/gen_corpus.py: {e}"))?;
        if !status.success() {
            return Err(format!("scripts/gen_corpus.py: {status}"));
        }
        for g in &generated_runs {
            for (hex, ours, theirs) in &g.disagreements {
                println!("generated, {}: codec {ours} / CPython {}: {theirs}   pickle {hex}", g.version, g.version);
            }
        }
        generated_failures = generated_runs.iter().map(|g| g.codec.1).sum();
        generated_report = generated_runs
            .iter()
            .map(|g| json!({"version": g.version, "cases": g.cases, "codec": [g.codec.0, g.codec.1, g.codec.2],
                "differ_from_baseline": g.differ_from_baseline, "disagreements": g.disagreements, "promoted": g.promoted}))
            .collect();
        versions = chosen.into_iter().map(|(v, _)| v).collect();
    }
    let mut checks = vec![];
    println!("{:<8} {:>28} {:>28} {:>20}", "version", "decode agree/disagree/limit", "corpus agree/disagree/limit", "encode agree/disagree");
    for v in &versions {
        let c = check_codec(&root, v, true)?;
        println!(
            "{:<8} {:>28} {:>28} {:>20}",
            v,
            format!("{}/{}/{}", c.decode.0, c.decode.1, c.decode.2),
            format!("{}/{}/{}", c.corpus.0, c.corpus.1, c.corpus.2),
            format!("{}/{}", c.encode.0, c.encode.1)
        );
        for d in c.disagreements.iter().take(20) {
            println!("    {d}");
        }
        checks.push(c);
    }
    let failures: usize = checks.iter().map(CodecCheck::failures).sum::<usize>() + generated_failures;
    if !check_only {
        write_docs(&root, &checks)?;
        eprintln!("versions: wrote docs/versions.md");
    }
    let report = root.join("target/versions/report.json");
    let checks_json: Vec<J> = checks
        .iter()
        .map(|c| json!({"version": c.version, "decode": [c.decode.0, c.decode.1, c.decode.2], "corpus": [c.corpus.0, c.corpus.1, c.corpus.2], "encode": [c.encode.0, c.encode.1], "disagreements": c.disagreements, "limits": c.limits}))
        .collect();
    let j = json!({"checks": checks_json, "generated": generated_report});
    let _ = std::fs::create_dir_all(report.parent().unwrap());
    let _ = std::fs::write(&report, serde_json::to_string_pretty(&j).unwrap_or_default());
    if failures > 0 {
        println!("versions: {failures} disagreements between the codec and the versions (target/versions/report.json)");
        return Ok(std::process::ExitCode::FAILURE);
    }
    println!("versions: 0 disagreements");
    Ok(std::process::ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// Generated near-valid pickles through every version

/// What [`generated`] found for one version.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// "3.14".
    pub version: String,
    /// Pickles run.
    pub cases: usize,
    /// The codec in this version's mode agrees with the version's C unpickler / disagrees /
    /// one side hit a limit.
    pub codec: (usize, usize, usize),
    /// Cases where this version's C unpickler and 3.11's differ.
    pub differ_from_baseline: usize,
    /// The disagreements, minimized: (hex, codec's outcome, the version's).
    pub disagreements: Vec<(String, String, String)>,
    /// New kinds of difference from 3.11 (no checked-in case shows them), minimized and added
    /// to conformance/decode/versions.jsonl.
    pub promoted: Vec<String>,
}

/// pickle-smith's pickles, valid and (one in four) near-valid, empty extension registry.
fn generate(count: usize, seed: u64) -> Vec<(Vec<u8>, Option<usize>)> {
    use arbitrary::Unstructured;
    let config = pickle_smith::Config { extensions: Default::default(), ..pickle_smith::Config::default() };
    let invalid = config.clone().with_every_invalidity();
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(count);
    let mut tries = 0;
    while out.len() < count && tries < count * 4 {
        tries += 1;
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let s = rng;
        let mut x = s;
        let bytes: Vec<u8> = (0..2048)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut u = Unstructured::new(&bytes);
        let cfg = if s % 4 == 0 { &invalid } else { &config };
        if let Ok(p) = pickle_smith::GeneratedPickle::new(cfg, &mut u) {
            out.push((p.bytes, p.buffers));
        }
    }
    out
}

/// The kind of an outcome for difference signatures: class, or "value".
fn outcome_kind(o: &Outcome) -> String {
    kind(&node_of(o))
}

/// Runs `count` generated pickles through CPython `version`'s C unpickler (its adapter,
/// conformance/adapters/cpython-X.Y-c, persistent), the codec in that version's mode, and the
/// embedded 3.11. Codec disagreements are minimized and reported (they fail the run). A
/// difference from 3.11 of a kind no checked-in case shows (outcome kinds in 3.11 and in
/// `version`) is minimized and appended to conformance/decode/versions.jsonl with 3.11's
/// outcomes, so that the next regeneration carries it.
pub fn generated(root: &Path, version: &str, count: usize, seed: u64, progress: bool) -> Result<Generated, String> {
    use brine_oracle::engine::{Engine, Input};
    let python: Python = version.parse().map_err(|e| format!("{e}"))?;
    let adapter = root.join(format!("conformance/adapters/cpython-{version}-c/run"));
    let limits = crate::impls::process::Limits { timeout: std::time::Duration::from_secs(20), memory_mb: 4096 };
    let engine = crate::impls::adapter::AdapterEngine::new(version, &adapter.to_string_lossy(), root, true, limits, 2);
    let base = brine_oracle::CPython::c().ok_or("CPython 3.11 could not be embedded")?;
    let run_both = |batch: &[Vec<u8>]| -> Vec<(Outcome, Outcome)> {
        let inputs: Vec<Input> = batch.iter().map(|d| Input { name: "g", data: d, buffers: None, extensions: &[] }).collect();
        let theirs = engine.run_batch(&inputs);
        let base = base.run_batch(&inputs);
        theirs.into_iter().zip(base).map(|(t, b)| (t.outcome, b.outcome)).collect()
    };
    // Kinds of difference the checked-in cases already show.
    let exp = load(root, version).unwrap_or_default();
    let decode = cases::decode_cases(root)?;
    let mut known: std::collections::HashSet<(String, String)> = Default::default();
    for case in &decode {
        if let Some((Some(c), _)) = exp.decode.get(&case.name) {
            known.insert((kind(&case.c), kind(c)));
        }
    }
    let pickles = generate(count, seed);
    let mut g = Generated { version: version.to_string(), cases: pickles.len(), ..Default::default() };
    let pb = bar(progress, pickles.len() as u64, &format!("{version} generated"));
    let mut to_minimize: Vec<Vec<u8>> = vec![];
    let mut new_kinds: BTreeMap<(String, String), Vec<u8>> = BTreeMap::new();
    for chunk in pickles.chunks(256) {
        let datas: Vec<Vec<u8>> = chunk.iter().filter(|(_, b)| b.is_none()).map(|(d, _)| d.clone()).collect();
        for (data, (theirs, base)) in datas.iter().zip(run_both(&datas)) {
            pb.inc(1);
            if matches!(theirs, Outcome::Poisoned(_) | Outcome::Crashed(_)) || matches!(base, Outcome::Poisoned(_)) {
                g.codec.2 += 1;
                continue;
            }
            let ours = codec_outcome(data, None, &[], python);
            let (bad, limit, _) = judge_decode(&ours, &node_of(&theirs));
            if !bad {
                g.codec.0 += 1;
            } else if limit {
                g.codec.2 += 1;
            } else {
                g.codec.1 += 1;
                if to_minimize.len() < 8 {
                    to_minimize.push(data.clone());
                }
            }
            let (tn, bn) = (node_of(&theirs), node_of(&base));
            if differs(&bn, &tn) && !is_limit(&tn) && !is_limit(&bn) {
                g.differ_from_baseline += 1;
                let key = (outcome_kind(&base), outcome_kind(&theirs));
                if !known.contains(&key) {
                    new_kinds.entry(key).or_insert_with(|| data.clone());
                }
            }
        }
    }
    pb.finish_and_clear();
    let deadline = || std::time::Instant::now() + std::time::Duration::from_secs(60);
    for data in to_minimize {
        let keeps = |cands: &[Vec<u8>]| -> Vec<bool> {
            run_both(cands)
                .into_iter()
                .zip(cands)
                .map(|((theirs, _), d)| {
                    let (bad, limit, _) = judge_decode(&codec_outcome(d, None, &[], python), &node_of(&theirs));
                    !matches!(theirs, Outcome::Poisoned(_) | Outcome::Crashed(_)) && bad && !limit
                })
                .collect()
        };
        let small = crate::campaign::minimize::minimize(&data, 3000, deadline(), keeps);
        let (theirs, _) = run_both(std::slice::from_ref(&small)).pop().expect("one");
        let ours = codec_outcome(&small, None, &[], python);
        g.disagreements.push((hex::encode(&small), short(&node_of(&ours)), short(&node_of(&theirs))));
    }
    for ((from, to), data) in new_kinds {
        let keeps = |cands: &[Vec<u8>]| -> Vec<bool> {
            run_both(cands)
                .into_iter()
                .map(|(theirs, base)| outcome_kind(&base) == from && outcome_kind(&theirs) == to)
                .collect()
        };
        let small = crate::campaign::minimize::minimize(&data, 3000, deadline(), keeps);
        promote(root, &small, &format!("{version}-{from}-{to}"))?;
        g.promoted.push(format!("3.11 {from} -> {version} {to}: {}", hex::encode(&small)));
    }
    Ok(g)
}

/// Appends a pickle to conformance/decode/versions.jsonl with 3.11's outcomes (C, pure
/// Python, genops), made live by the embedded interpreter, as gen_conformance.py writes cases.
fn promote(root: &Path, data: &[u8], label: &str) -> Result<(), String> {
    use brine_oracle::engine::{Engine, Input};
    let path = root.join("conformance/decode/versions.jsonl");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let h = hex::encode(data);
    let name = format!("versions/{label}/{}", &h[..h.len().min(16)]);
    if existing.contains(&format!("\"pickle\":\"{h}\"")) {
        return Ok(());
    }
    let (c, py) = (brine_oracle::CPython::c().ok_or("no CPython")?, brine_oracle::CPython::python().ok_or("no CPython")?);
    let input = [Input { name: "p", data, buffers: None, extensions: &[] }];
    let cn = c.run_batch(&input).pop().expect("one").outcome.to_node();
    let pn = py.run_batch(&input).pop().expect("one").outcome.to_node();
    let ops = c.genops_batch(&[data]).pop().map(|o| o.to_node()).unwrap_or(J::Null);
    let line = json!({"name": name, "source": "versions", "pickle": h, "c": cn, "python": pn, "genops": ops,
        "note": format!("found by cargo xtask versions (generated, minimized): {label}")});
    let mut text = if existing.is_empty() {
        format!("{}\n", json!({"header": true, "generator": "brine versions (generated pickles whose outcome differs by CPython version, minimized; expectations from the embedded CPython 3.11)"}))
    } else {
        existing
    };
    text.push_str(&line.to_string());
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(class: &str) -> J {
        json!({"t": "error", "type": class, "message": "m"})
    }

    #[test]
    fn limits_are_outcomes_when_versions_are_compared() {
        // A verdict treats MemoryError as a poison (no disagreement); a version change from
        // MemoryError to UnpicklingError (3.15's incremental reads) must still count.
        assert!(differs(&err("MemoryError"), &err("UnpicklingError")));
        assert!(!differs(&err("MemoryError"), &err("MemoryError")));
        assert!(differs(&err("ValueError"), &json!({"t": "int", "v": "1"})));
        // Values compare as pickle JSON: set items unordered.
        let a = json!({"t": "set", "items": [{"t": "int", "v": "1"}, {"t": "int", "v": "2"}]});
        let b = json!({"t": "set", "items": [{"t": "int", "v": "2"}, {"t": "int", "v": "1"}]});
        assert!(!differs(&a, &b));
        assert!(differs(&json!({"t": "int", "v": "8"}), &json!({"t": "int", "v": "10"})));
    }

    #[test]
    fn message_shapes_blur_what_varies_between_cases() {
        let n = |m: &str| json!({"t": "error", "type": "AttributeError", "message": m});
        assert_eq!(shape(&n("Can't get local attribute 'f.<locals>.g' on <module 'm'>")), "Can't get local attribute '…' on <module '…'>");
        assert_eq!(shape(&n("invalid literal for int() with base 10: b'0x10\\n'")), "invalid literal for int() with base N: b'…'");
        assert_eq!(shape(&n("Memo value not found at index 142")), "Memo value not found at index N");
    }

    #[test]
    fn a_version_judges_codec_limits_apart() {
        // The codec's own MemoryError (a poison) against the same class: agreement.
        let poisoned = Outcome::from_node(err("MemoryError"));
        assert!(matches!(poisoned, Outcome::Poisoned(_)));
        assert!(!judge_decode(&poisoned, &err("MemoryError")).0);
        // Against a value: a limit difference, not a disagreement.
        let (bad, limit, _) = judge_decode(&poisoned, &json!({"t": "none"}));
        assert!(bad && limit);
        // A plain class difference is a disagreement.
        let (bad, limit, _) = judge_decode(&Outcome::from_node(err("EOFError")), &err("UnpicklingError"));
        assert!(bad && !limit);
    }

    #[test]
    fn notes_attach_by_pair_and_substring() {
        let notes = vec![
            ("3.13->3.14".to_string(), "frame".to_string(), "frames".to_string()),
            ("3.13->3.14".to_string(), "int".to_string(), "ints".to_string()),
        ];
        assert_eq!(note_for(&notes, "3.13->3.14 C unpickler: value -> UnpicklingError: pickle exhausted before end of frame"), Some("frames"));
        assert_eq!(note_for(&notes, "3.13->3.14 C unpickler: value -> ValueError: could not convert string to int"), Some("ints"));
        assert_eq!(note_for(&notes, "3.14->3.15 C unpickler: value -> ValueError: could not convert string to int"), None);
    }

    #[test]
    fn expectations_override_the_baseline_only_where_they_differ() {
        let case = DecodeCase {
            origin: "t".into(),
            name: "a".into(),
            pickle: vec![],
            buffers: None,
            c: json!({"t": "int", "v": "8"}),
            python: Some(err("ValueError")),
            genops: None,
            limit: false,
            extensions: vec![],
        };
        let mut e = Expectations::default();
        assert_eq!(e.decode_node(&case, false), Some(&case.c));
        e.decode.insert("a".into(), (Some(json!({"t": "int", "v": "10"})), None));
        assert_eq!(e.decode_node(&case, false), Some(&json!({"t": "int", "v": "10"})));
        assert_eq!(e.decode_node(&case, true), case.python.as_ref());
    }
}
