//! The decoder and disassembler against CPython's own results, checked in under
//! conformance/decode/ by scripts/gen_conformance.py (run with the interpreter the oracle
//! embeds). Every case must agree with CPython's C unpickler (same document under the spec's
//! equality, or a rejection with the same exception class) and with `pickletools.genops`,
//! except cases CPython itself could only answer with a limit (MemoryError, RecursionError,
//! a timeout), where a brine limit error or any answer is accepted.

use brine_codec::{decode_with, hex, json, DecodeOptions};
use serde_json::Value as J;
use std::path::{Path, PathBuf};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/decode")
}

struct Case {
    file: String,
    name: String,
    pickle: Vec<u8>,
    buffers: Option<usize>,
    c: J,
    genops: J,
    limit: bool,
    /// The copyreg registry the case is loaded with: code -> (module, name).
    extensions: std::collections::HashMap<i64, (String, String)>,
}

fn load_cases() -> Vec<Case> {
    let mut files: Vec<_> = std::fs::read_dir(conformance_dir())
        .expect("conformance/decode exists (run scripts/gen_conformance.py)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: J = json::parse_deep(line).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            if v.get("header").is_some() {
                continue;
            }
            let name = v["name"].as_str().unwrap().to_string();
            let pickle = hex::decode(v["pickle"].as_str().unwrap())
                .unwrap_or_else(|e| panic!("{}: {name}: \"pickle\" is not hex: {e}", f.display()));
            out.push(Case {
                file: f.file_name().unwrap().to_string_lossy().into_owned(),
                name,
                pickle,
                buffers: v.get("buffers").and_then(J::as_u64).map(|n| n as usize),
                c: v["c"].clone(),
                genops: v["genops"].clone(),
                limit: v.get("limit").and_then(J::as_bool).unwrap_or(false),
                extensions: v
                    .get("extensions")
                    .and_then(J::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|e| (e[2].as_i64().unwrap(), (e[0].as_str().unwrap().to_string(), e[1].as_str().unwrap().to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    }
    out
}

fn is_limit_node(v: &J) -> bool {
    matches!(v.get("type").and_then(J::as_str), Some("MemoryError" | "RecursionError" | "Timeout"))
}

/// Compares the genops stream entry by entry: op names, positions, args; error class/pos.
fn compare_ops(ours: &J, theirs: &J) -> Result<(), String> {
    let (a, b) = (ours.as_array().unwrap(), theirs.as_array().unwrap());
    if a.len() != b.len() {
        return Err(format!("{} entries vs genops {}", a.len(), b.len()));
    }
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x.get("t").is_some() || y.get("t").is_some() {
            if x.get("type") != y.get("type") || x.get("pos") != y.get("pos") {
                return Err(format!("entry {i}: {x} vs {y}"));
            }
            continue;
        }
        if x["op"] != y["op"] || x["pos"] != y["pos"] {
            return Err(format!("entry {i}: {x} vs {y}"));
        }
        match (&x["arg"], &y["arg"]) {
            (J::Null, J::Null) => {}
            (p, q) => json::compare(p, q).map_err(|m| format!("entry {i} arg: {} {}", m.path, m.what))?,
        }
    }
    Ok(())
}

#[test]
fn decoder_and_dis_agree_with_cpython() {
    check(|_| true, 20_000);
}

/// One test per opcode family of the hand-written cases, so a regression names its family.
macro_rules! families {
    ($($test:ident => $prefix:expr,)*) => {$(
        #[test]
        fn $test() {
            check(|c| c.name.starts_with(concat!("handwritten/", $prefix)), 1);
        }
    )*};
}

families! {
    family_int_text => "int_text",
    family_long_text => "long_text",
    family_float_text => "float_text",
    family_binary_numbers => "bin",
    family_long1_long4 => "long",
    family_string_and_unicode => "string",
    family_unicode => "unicode",
    family_memo => "memo",
    family_frame => "frame",
    family_proto_and_stop => "pro",
    family_build => "build",
    family_container_ops => "container_op",
    family_dict_and_set_keys => "keys",
    family_global_and_stack_global => "global",
    family_stack_global => "stack_global",
    family_fix_imports => "fix_imports",
    family_reduce => "reduce",
    family_newobj => "newobj",
    family_inst_and_obj => "inst",
    family_ext => "ext",
    family_persid => "persid",
    family_buffers => "buffer",
    family_truncated => "truncated",
    family_stack_underflow => "underflow",
    family_missing_mark => "no_mark",
    family_resource_shapes => "resource",
    family_parser_confusion => "confusion",
    family_cpython_quirks => "quirk",
    family_each_opcode => "opcode/",
}

/// The cases, parsed once for all tests of this binary (on a big stack: some nest 100,000
/// deep).
fn all_cases() -> &'static [Case] {
    static CASES: std::sync::OnceLock<Vec<Case>> = std::sync::OnceLock::new();
    CASES.get_or_init(|| brine_codec::with_big_stack(load_cases))
}

fn check(filter: impl Fn(&Case) -> bool + Send + 'static, min_cases: usize) {
    brine_codec::with_big_stack(move || {
        let cases: Vec<&Case> = all_cases().iter().filter(|c| filter(c)).collect();
        assert!(cases.len() >= min_cases, "expected at least {min_cases} cases, found {}", cases.len());
        let mut failures = Vec::new();
        let (mut values, mut errors, mut limits) = (0, 0, 0);
        for case in cases.iter() {
            let opts = DecodeOptions { buffers: case.buffers, extensions: case.extensions.clone(), ..Default::default() };
            let r = decode_with(&case.pickle, &opts);
            let ours_text = json::result_to_json(&r);
            // Sharing every blob past the inline ones must not change a thing.
            let source = brine_codec::Source::new(case.pickle.clone());
            let shared = brine_codec::decode_shared(
                &source,
                &DecodeOptions {
                    share_min: 0,
                    ..opts.clone()
                },
            );
            if json::result_to_json(&shared) != ours_text {
                failures.push(format!(
                    "{}/{}: decode_shared differs from decode_with",
                    case.file, case.name
                ));
            }
            let ours: J = json::parse_deep(&ours_text).unwrap();
            let codec_limit = matches!(&r, Err(e) if e.classify() == brine_codec::Category::Limit);
            if case.limit || is_limit_node(&case.c) || codec_limit {
                limits += 1;
                if !(case.limit || is_limit_node(&case.c)) {
                    failures.push(format!("{}/{}: brine limit {:?} where CPython answered", case.file, case.name, r.err()));
                }
            } else if let Err(m) = json::compare(&ours, &case.c) {
                failures.push(format!(
                    "{}/{} [{}]: {} {}\n    brine:   {}\n    CPython: {}",
                    case.file,
                    case.name,
                    short_hex(&case.pickle),
                    m.path,
                    m.what,
                    trunc(&ours.to_string()),
                    trunc(&case.c.to_string())
                ));
            } else if r.is_ok() {
                values += 1;
            } else {
                errors += 1;
            }
            let dis = brine_codec::dis::genops(&case.pickle).to_value();
            if let Err(m) = compare_ops(&dis, &case.genops) {
                failures.push(format!("{}/{} [{}]: dis: {m}", case.file, case.name, short_hex(&case.pickle)));
            }
        }
        println!(
            "{} cases: {values} equal values, {errors} equal rejections, {limits} limit cases, {} failures",
            cases.len(),
            failures.len()
        );
        for f in failures.iter().take(40) {
            println!("FAIL {f}");
        }
        assert!(failures.is_empty(), "{} disagreements with CPython", failures.len());
    });
}

/// The first 80 bytes as hex, `...` after them when there are more.
fn short_hex(b: &[u8]) -> String {
    let s = hex::encode(&b[..b.len().min(80)]);
    if b.len() > 80 {
        format!("{s}...")
    } else {
        s
    }
}

fn trunc(s: &str) -> String {
    if s.len() > 300 {
        format!("{}...", &s[..s.char_indices().nth(300).map_or(s.len(), |c| c.0)])
    } else {
        s.to_string()
    }
}
