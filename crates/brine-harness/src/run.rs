//! One conformance run: every checked-in case and a seeded generated batch through every
//! engine, with coverage, findings and tallies.
//!
//! Checks, each tallied separately:
//! - `decode`: codec vs CPython C, live, on conformance/decode, corpus/ and generated pickles.
//! - `dis`: brine's disassembler vs `pickletools.genops`, live.
//! - `globals`: the `find_class` calls the codec reports ([`brine_codec::globals`]) vs the
//!   ones CPython C makes, exactly and in order, live, on conformance/decode and corpus/.
//! - `encode`: codec bytes vs the `pickle.dumps` bytes checked in (conformance/encode).
//! - `encode-live`: codec bytes loaded by CPython C give the document back, and equal
//!   `pickle.dumps` of the object the document describes, live.
//! - `roundtrip`: CPython's bytes decoded by the codec give the document back; and
//!   decode-then-encode gives CPython's bytes back.
//! - `c-vs-python`: CPython's two unpicklers against each other (findings, never failures).
//! - `expectations`: the checked-in CPython results still match live CPython.
//! - `corpus`: every case named in corpus/manifest.json is present.

use crate::cases::{self, DecodeCase};
use crate::coverage::Coverage;
use crate::{CheckCount, Finding, RunReport};
use arbitrary::Unstructured;
use brine_codec::{hex, json, DecodeOptions, FindClass};
use brine_oracle::{Differential, Outcome, Verdict};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The workspace root (holding conformance/ and corpus/).
    pub root: PathBuf,
    /// Seed of the generated batch.
    pub seed: u64,
    /// How many generated pickles and values to check.
    pub count: usize,
    /// Stop generating after this long.
    pub time_budget: Duration,
    /// Whether to show a progress bar.
    pub progress: bool,
}

struct Run {
    report: RunReport,
    /// C-vs-Python pairs already given an example finding.
    c_vs_py_seen: BTreeMap<(String, String), u64>,
    diff: Differential,
}

impl Run {
    fn tally(&mut self, check: &str) -> &mut CheckCount {
        self.report.checks.entry(check.to_string()).or_default()
    }

    fn finding(&mut self, check: &str, case: &str, regression: bool, v: &Verdict, pickle: &[u8], repro: String) {
        self.report.findings.push(Finding {
            check: check.into(),
            case: case.into(),
            regression,
            summary: v.summary(),
            diff: v.diff().map(|d| d.text.clone()).unwrap_or_default(),
            pickle_hex: hex::encode(pickle),
            repro,
        });
    }

    fn poisoned(&mut self, check: &str, case: &str, v: &Verdict, pickle: &[u8]) {
        self.report.poisoned.push(crate::Poisoned {
            check: check.into(),
            case: case.into(),
            reason: v.summary(),
            pickle_hex: hex::encode(&pickle[..pickle.len().min(64)]),
        });
    }

    fn record_verdict(&mut self, check: &str, case: &str, v: &Verdict, pickle: &[u8], repro: impl FnOnce() -> String) {
        let t = self.tally(check);
        t.cases += 1;
        match v {
            Verdict::Poisoned(_) => {
                t.poisoned += 1;
                self.poisoned(check, case, v, pickle);
            }
            v if v.is_disagreement() => {
                t.disagree += 1;
                self.finding(check, case, true, v, pickle, repro());
            }
            _ => t.agree += 1,
        }
    }

    /// Tallies C vs Python, keeping one example finding per (C outcome, Python outcome).
    fn record_c_vs_py(&mut self, case: &str, v: &Verdict, c: &Outcome, py: &Outcome, pickle: &[u8]) {
        let t = self.tally("c-vs-python");
        t.cases += 1;
        match v {
            Verdict::Poisoned(_) => {
                t.poisoned += 1;
                self.poisoned("c-vs-python", case, v, pickle);
            }
            v if v.is_disagreement() => {
                t.disagree += 1;
                let key = (outcome_kind(c), outcome_kind(py));
                let n = self.c_vs_py_seen.entry(key.clone()).or_default();
                *n += 1;
                if *n == 1 {
                    let summary = format!("C {} / Python {}", key.0, key.1);
                    let mut f = Finding {
                        check: "c-vs-python".into(),
                        case: case.into(),
                        regression: false,
                        summary,
                        diff: v.diff().map(|d| d.text.clone()).unwrap_or_default(),
                        pickle_hex: hex::encode(pickle),
                        repro: String::new(),
                    };
                    f.repro = repro_compare(pickle);
                    self.report.findings.push(f);
                }
            }
            _ => t.agree += 1,
        }
    }
}

fn outcome_kind(o: &Outcome) -> String {
    match o.to_node() {
        n if n.get("t").and_then(J::as_str) == Some("error") => {
            n.get("type").and_then(J::as_str).unwrap_or("error").to_string()
        }
        n => format!("value:{}", n.get("t").and_then(J::as_str).unwrap_or("?")),
    }
}

/// A one-line shell command reproducing a decode check on these bytes.
fn repro_compare(pickle: &[u8]) -> String {
    format!("printf '{}' | xxd -r -p > /tmp/case.pkl && cargo run -q -p brine-cli -- compare /tmp/case.pkl", hex::encode(pickle))
}

fn bar(cfg: &RunConfig, len: u64, what: &str) -> ProgressBar {
    if !cfg.progress {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} {elapsed_precise} eta {eta}")
            .unwrap()
            .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

/// Runs everything and returns the report (reports are written by the caller).
pub fn run(cfg: &RunConfig) -> RunReport {
    let start = Instant::now();
    let diff = Differential::new().with_python();
    let interpreter = match &diff.c {
        Some(c) => {
            let i = c.interpreter().info();
            format!("CPython {} ({}, prefix {})", i.version.split_whitespace().next().unwrap_or(""), i.executable, i.prefix)
        }
        None => "none: CPython could not be embedded (codec-only run)".into(),
    };
    let mut r = Run { report: RunReport { interpreter, seed: cfg.seed, coverage: Coverage::new(), ..Default::default() }, c_vs_py_seen: BTreeMap::new(), diff };

    // Checked-in decode cases and the corpus.
    let mut decode = cases::decode_cases(&cfg.root).unwrap_or_else(|e| {
        r.report.findings.push(lost("conformance/decode", &e));
        vec![]
    });
    match cases::corpus_cases(&cfg.root) {
        Ok((c, lost_names)) => {
            let t = r.tally("corpus");
            t.cases = (c.len() + lost_names.len()) as u64;
            t.agree = c.len() as u64;
            t.disagree = lost_names.len() as u64;
            for n in lost_names {
                r.report.findings.push(lost(&n, "listed in corpus/manifest.json but missing"));
            }
            decode.extend(c);
        }
        Err(e) => r.report.findings.push(lost("corpus", &e)),
    }
    let t = Instant::now();
    check_decode_cases(cfg, &mut r, &decode, "checked-in");
    r.report.phases.push(("checked-in decode cases".into(), t.elapsed().as_secs_f64()));

    // Checked-in encode cases.
    let t = Instant::now();
    let encode = cases::encode_cases(&cfg.root).unwrap_or_default();
    check_encode_cases(cfg, &mut r, &encode);
    r.report.phases.push(("checked-in encode cases".into(), t.elapsed().as_secs_f64()));

    // The codec in each other CPython version's mode, against that version's checked-in
    // expectations (conformance/versions/X.Y.jsonl, made by `cargo xtask versions`).
    let t = Instant::now();
    other_versions(cfg, &mut r);
    r.report.phases.push(("other CPython versions".into(), t.elapsed().as_secs_f64()));

    // The generated batch.
    let t = Instant::now();
    generated(cfg, &mut r);
    r.report.phases.push(("generated batch".into(), t.elapsed().as_secs_f64()));

    r.report.elapsed_s = start.elapsed().as_secs_f64();
    r.report
}

/// One check per version with expectations: `versions-3.14` and so on. Each disagreement is a
/// regression (the codec owes every version exactly what that version does).
fn other_versions(cfg: &RunConfig, r: &mut Run) {
    for v in crate::versions::available(&cfg.root) {
        let check = format!("versions-{v}");
        match crate::versions::check_codec(&cfg.root, &v, cfg.progress) {
            Ok(c) => {
                let t = r.tally(&check);
                t.cases = (c.decode.0 + c.decode.1 + c.decode.2 + c.corpus.0 + c.corpus.1 + c.corpus.2 + c.encode.0 + c.encode.1) as u64;
                t.agree = (c.decode.0 + c.corpus.0 + c.encode.0) as u64;
                t.disagree = c.failures() as u64;
                t.poisoned = (c.decode.2 + c.corpus.2) as u64;
                for d in c.disagreements {
                    r.report.findings.push(Finding {
                        check: check.clone(),
                        case: d.clone(),
                        regression: true,
                        summary: format!("the codec in CPython {v} mode disagrees with CPython {v}"),
                        diff: String::new(),
                        pickle_hex: String::new(),
                        repro: format!("cargo xtask conformance --python {v}"),
                    });
                }
            }
            Err(e) => r.report.findings.push(lost(&format!("conformance/versions/{v}.jsonl"), &e)),
        }
    }
}

fn lost(name: &str, why: &str) -> Finding {
    Finding {
        check: "corpus".into(),
        case: name.into(),
        regression: true,
        summary: format!("lost case: {why}"),
        diff: String::new(),
        pickle_hex: String::new(),
        repro: "git status corpus/ conformance/".into(),
    }
}

/// The load arguments a case declares: its buffers, and its copyreg extension registry
/// (`extensions`; the spec's default is empty), which reaches both the codec and CPython.
fn case_options(case: &DecodeCase) -> DecodeOptions {
    DecodeOptions {
        buffers: case.buffers,
        extensions: case.extensions.iter().map(|(m, n, c)| (*c, (m.clone(), n.clone()))).collect(),
        ..Default::default()
    }
}

/// [`Differential::check_batch`] for cases that declare an extension registry: each engine
/// loads with the case's registry (the codec through `DecodeOptions::extensions`, CPython's
/// unpicklers with copyreg's registry exactly that during the load), then the same verdicts.
fn check_with_registry(diff: &brine_oracle::Differential, case: &DecodeCase) -> brine_oracle::differential::Check {
    use brine_oracle::engine::{Engine, Input};
    let input = [Input { name: &case.name, data: &case.pickle, buffers: case.buffers, extensions: &case.extensions }];
    let codec = diff.codec.run_batch(&input).pop().map(|a| a.outcome).expect("one answer");
    let c = diff.c.as_ref().and_then(|e| e.run_batch(&input).pop()).map(|a| a.outcome);
    let py = diff.py.as_ref().and_then(|e| e.run_batch(&input).pop()).map(|a| a.outcome);
    let codec_vs_c = c.as_ref().map(|c| brine_oracle::verdict::compare("codec", &codec, "cpython-c", c));
    let c_vs_py = match (&c, &py) {
        (Some(c), Some(p)) => Some(brine_oracle::verdict::compare("cpython-c", c, "cpython-py", p)),
        _ => None,
    };
    brine_oracle::differential::Check { codec, c, py, codec_vs_c, c_vs_py }
}

fn check_decode_cases(cfg: &RunConfig, r: &mut Run, cases: &[DecodeCase], what: &str) {
    let pb = bar(cfg, cases.len() as u64, what);
    for chunk in cases.chunks(256) {
        let inputs: Vec<(&[u8], Option<usize>)> = chunk.iter().map(|c| (&c.pickle[..], c.buffers)).collect();
        let mut checks = r.diff.check_batch(&inputs);
        for (case, check) in chunk.iter().zip(checks.iter_mut()) {
            if !case.extensions.is_empty() {
                *check = check_with_registry(&r.diff, case);
            }
        }
        let mut dis = r.diff.check_genops_batch(&inputs.iter().map(|x| x.0).collect::<Vec<_>>()).into_iter();
        let options: Vec<DecodeOptions> = chunk.iter().map(case_options).collect();
        let mut globals = match &r.diff.c {
            Some(c) => c.globals_batch(&chunk.iter().zip(&options).map(|(c, o)| (&c.pickle[..], o)).collect::<Vec<_>>()),
            None => vec![], // nothing checked in to compare with: not run
        }
        .into_iter();
        for ((case, check), opts) in chunk.iter().zip(checks).zip(&options) {
            let name = format!("{}:{}", case.origin, case.name);
            if let Some(theirs) = globals.next() {
                check_globals(r, &name, case, opts, theirs);
            }
            r.report.coverage.record(&case.pickle, opts);
            match &check.codec_vs_c {
                Some(v) => {
                    let v = if case.limit && v.is_disagreement() { Verdict::Poisoned(poison_of(v)) } else { v.clone() };
                    r.record_verdict("decode", &name, &v, &case.pickle, || repro_compare(&case.pickle));
                }
                None => {
                    // No interpreter: compare with the checked-in CPython result.
                    let v = brine_oracle::verdict::compare("codec", &check.codec, "cpython-c (checked in)", &Outcome::from_node(case.c.clone()));
                    r.record_verdict("decode", &name, &v, &case.pickle, || repro_compare(&case.pickle));
                }
            }
            if let (Some(c), Some(py), Some(v)) = (&check.c, &check.py, &check.c_vs_py) {
                r.record_c_vs_py(&name, v, c, py, &case.pickle);
            }
            // The checked-in expectation must still be what CPython says.
            if let Some(c) = &check.c {
                if !matches!(c, Outcome::Poisoned(_)) && !case.limit {
                    let v = brine_oracle::verdict::compare("cpython-c (live)", c, "cpython-c (checked in)", &Outcome::from_node(case.c.clone()));
                    let t = r.tally("expectations");
                    t.cases += 1;
                    if v.is_disagreement() {
                        t.disagree += 1;
                        r.finding("expectations", &name, false, &v, &case.pickle, "/usr/bin/python3.11 scripts/gen_conformance.py".into());
                    } else {
                        t.agree += 1;
                    }
                }
            }
            if let Some((_, _, v)) = dis.next() {
                r.record_verdict("dis", &name, &v, &case.pickle, || {
                    format!("printf '{}' | xxd -r -p > /tmp/case.pkl && cargo run -q -p brine-cli -- dis /tmp/case.pkl", hex::encode(&case.pickle))
                });
            }
            pb.inc(1);
        }
    }
    pb.finish_and_clear();
}

/// The `globals` check of one case: the codec's `find_class` calls against CPython C's
/// (`theirs`, from [`brine_oracle::CPython::globals_batch`]), exactly, in order.
fn check_globals(r: &mut Run, name: &str, case: &DecodeCase, opts: &DecodeOptions, theirs: Result<Vec<FindClass>, Outcome>) {
    let ours = brine_codec::globals(&case.pickle, opts).calls;
    let v = match theirs {
        Err(Outcome::Poisoned(p)) => Verdict::Poisoned(p),
        Err(other) => {
            // An exception escaping the sandbox: a bug to see, not a limit.
            let node = other.to_node();
            Verdict::OneRejects {
                accepting: "codec".into(),
                rejecting: "cpython-c (globals_c)".into(),
                error: match &other {
                    Outcome::Err { class, .. } => class.clone(),
                    _ => "?".into(),
                },
                diff: brine_oracle::Diff { first: "/".into(), text: brine_oracle::render::pretty(&node) },
            }
        }
        Ok(theirs) if theirs == ours => Verdict::Same,
        Ok(theirs) => {
            let first = ours.iter().zip(&theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
            Verdict::ValuesDiffer(brine_oracle::Diff {
                first: format!("call {first} ({} vs {} calls)", ours.len(), theirs.len()),
                text: brine_oracle::render::unified("codec", &calls_listing(&ours), "cpython-c", &calls_listing(&theirs)),
            })
        }
    };
    let v = if case.limit && v.is_disagreement() { Verdict::Poisoned(poison_of(&v)) } else { v };
    r.record_verdict("globals", name, &v, &case.pickle, || {
        let buffers = case.buffers.map_or(String::new(), |n| format!(" --buffers {n}"));
        format!(
            "printf '{}' | xxd -r -p > /tmp/case.pkl && cargo run -q -p brine-cli -- globals{buffers} /tmp/case.pkl && \
             /usr/bin/python3.11 -c \"import sys; sys.path.insert(0, 'scripts'); import brine_sandbox as s; \
             print(s.globals_c(open('/tmp/case.pkl', 'rb').read(), {}))\"",
            hex::encode(&case.pickle),
            case.buffers.unwrap_or(0)
        )
    });
}

/// One line per call, `[module, name]` as `brine globals` writes them, for diffs.
fn calls_listing(calls: &[FindClass]) -> String {
    let mut out = String::new();
    for c in calls {
        out.push_str(&brine_codec::decode::calls_to_json(std::slice::from_ref(c))[0].to_string());
        out.push('\n');
    }
    out
}

fn poison_of(v: &Verdict) -> brine_oracle::Poison {
    brine_oracle::Poison::new(brine_oracle::PoisonKind::Limit, format!("CPython's answer was a limit: {}", v.summary()))
}

fn check_encode_cases(cfg: &RunConfig, r: &mut Run, cases: &[cases::EncodeCase]) {
    let pb = bar(cfg, cases.len() as u64, "encode");
    for case in cases {
        let name = format!("{}:{}", case.origin, case.name);
        let repro = || format!("cargo run -q -p brine-cli -- encode --protocol {} <(echo '{}') | xxd", case.protocol, short_doc(&case.value));
        // Checked-in bytes.
        let ours = brine_codec::encode::encode_document(&case.value, case.protocol);
        let v = match &ours {
            Ok(b) if *b == case.pickle => Verdict::Same,
            Ok(b) => bytes_verdict(b, &case.pickle),
            Err(e) => Verdict::OneRejects {
                accepting: "pickle.dumps".into(),
                rejecting: "brine encode".into(),
                error: e.to_string(),
                diff: brine_oracle::Diff { first: "/".into(), text: e.to_string() },
            },
        };
        r.record_verdict("encode", &name, &v, &case.pickle, repro);
        // CPython's bytes back through the codec: the document again, where the protocol
        // has native opcodes for the document's types (below that, bytes and sets come back
        // as REDUCE stand-ins, as they do from CPython).
        let decoded = brine_codec::decode(&case.pickle);
        let native = native_at(&case.value, case.protocol);
        if native {
            let doc = json::parse_deep(&json::result_to_json(&decoded)).unwrap_or(J::Null);
            let v = brine_oracle::verdict::compare("codec(decode)", &Outcome::from_node(doc), "document", &Outcome::Ok(case.value.clone()));
            r.record_verdict("roundtrip", &name, &v, &case.pickle, repro);
        }
        // decode then encode: CPython's bytes again.
        if let Ok(d) = &decoded {
            let v = match brine_codec::encode::encode(&d.heap, d.root, case.protocol) {
                Ok(b) if b == case.pickle => Verdict::Same,
                Ok(b) => bytes_verdict(&b, &case.pickle),
                Err(e) => Verdict::OneRejects {
                    accepting: "pickle.dumps".into(),
                    rejecting: "brine encode(decode)".into(),
                    error: e.to_string(),
                    diff: brine_oracle::Diff { first: "/".into(), text: e.to_string() },
                },
            };
            r.record_verdict("roundtrip", &format!("{name} (re-encode)"), &v, &case.pickle, repro);
        }
        // Live: CPython loads the codec's bytes (and dumps the object) — a sample, since
        // each costs a CPython pickle.dumps of a rebuilt object.
        if let Ok(b) = &ours {
            if r.diff.c.is_some() && fastrand_keep(&name, 8) {
                // Only the loading side (CPython loading our bytes vs CPython loading its
                // own): the bytes were compared with the checked-in pickle.dumps above.
                // Below the protocol that has a type's opcodes, a set is written as a list
                // in iteration order, and an object rebuilt from the document may iterate
                // differently, so those are left to the byte comparison.
                if native {
                    if let Some(ec) = brine_oracle::roundtrip::check_encoded(&case.value, case.protocol, b) {
                        r.record_verdict("encode-live", &name, &ec.loads, b, repro);
                    }
                }
            }
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
}

/// Deterministic 1-in-n sampling by name.
fn fastrand_keep(name: &str, n: u64) -> bool {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    h % n == 0
}

fn short_doc(v: &J) -> String {
    let s = v.to_string();
    if s.len() > 400 {
        "<document: see report.json>".into()
    } else {
        s.replace('\'', "'\\''")
    }
}

fn bytes_verdict(ours: &[u8], theirs: &[u8]) -> Verdict {
    let listing = |b: &[u8]| brine_codec::dis::genops(b).to_text();
    let first = ours.iter().zip(theirs).position(|(a, b)| a != b).unwrap_or(ours.len().min(theirs.len()));
    Verdict::ValuesDiffer(brine_oracle::Diff {
        first: format!("byte {first} ({} vs {} bytes)", ours.len(), theirs.len()),
        text: brine_oracle::render::unified("brine encode", &listing(ours), "pickle.dumps", &listing(theirs)),
    })
}

/// Seeded generated pickles (codec vs C vs Python, dis vs genops, coverage) and values
/// (encode vs CPython), within the count and time budget.
fn generated(cfg: &RunConfig, r: &mut Run) {
    if cfg.count == 0 {
        return;
    }
    let deadline = Instant::now() + cfg.time_budget;
    let pb = bar(cfg, cfg.count as u64, "generated");
    let mut rng = cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // The differential narrows the generator so both sides must agree: the generator's
    // extension codes are registered in CPython's copyreg (this phase runs last, so the
    // checked-in cases above saw the empty registry the spec defines) and given to the codec.
    let config = pickle_smith::Config::default();
    let registered = match r.diff.c.as_ref() {
        Some(c) => c
            .interpreter()
            .register_extensions(config.extensions.iter().map(|(&k, (m, n))| (k as i64, m.clone(), n.clone())).collect())
            .is_ok(),
        None => false,
    };
    if registered {
        r.diff.codec.options.extensions = config.extensions.iter().map(|(&k, v)| (k as i64, v.clone())).collect();
    } else {
        r.diff.codec.options.extensions.clear();
    }
    let config = if registered { config } else { pickle_smith::Config { extensions: Default::default(), ..config } };
    // One pickle in four is generated with every invalidity knob on, for error paths.
    let invalid = config.clone().with_every_invalidity();
    let value_config = pickle_smith::ValueConfig::default();
    let mut c_only = Differential::new();
    c_only.codec = r.diff.codec.clone();
    let mut batches = 0u64;
    let mut done = 0usize;
    let mut batch: Vec<(Vec<u8>, Option<usize>)> = Vec::with_capacity(256);
    let mut seeds: Vec<u64> = Vec::with_capacity(256);
    while done < cfg.count && Instant::now() < deadline {
        batch.clear();
        seeds.clear();
        while batch.len() < 256 && done + batch.len() < cfg.count {
            let s = next();
            let mut bytes = vec![0u8; 2048];
            let mut x = s;
            for b in bytes.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            let mut u = Unstructured::new(&bytes);
            let cfg_here = if s % 4 == 0 { &invalid } else { &config };
            if let Ok(p) = pickle_smith::GeneratedPickle::new(cfg_here, &mut u) {
                batch.push((p.bytes.clone(), p.buffers));
                seeds.push(s);
            } else {
                done += 1;
            }
        }
        let inputs: Vec<(&[u8], Option<usize>)> = batch.iter().map(|(b, n)| (&b[..], *n)).collect();
        // The pure-Python unpickler costs as much as everything else together, and C vs
        // Python is a finding, not the check: it runs on every fourth batch.
        batches += 1;
        let checks = if batches % 4 == 1 { r.diff.check_batch(&inputs) } else { c_only.check_batch(&inputs) };
        let mut dis = r.diff.check_genops_batch(&inputs.iter().map(|x| x.0).collect::<Vec<_>>()).into_iter();
        for ((p, buffers), (check, s)) in batch.iter().zip(checks.into_iter().zip(&seeds)) {
            let name = format!("generated:seed-{s:016x}");
            r.report.coverage.record(p, &DecodeOptions { buffers: *buffers, ..r.diff.codec.options.clone() });
            if let Some(v) = &check.codec_vs_c {
                r.record_verdict("decode", &name, v, p, || repro_compare(p));
            }
            if let (Some(c), Some(py), Some(v)) = (&check.c, &check.py, &check.c_vs_py) {
                r.record_c_vs_py(&name, v, c, py, p);
            }
            if let Some((_, _, v)) = dis.next() {
                r.record_verdict("dis", &name, &v, p, || repro_compare(p));
            }
        }
        done += batch.len();
        // A value per 16 pickles: encode and let CPython load it back.
        for _ in 0..batch.len() / 16 {
            let s = next();
            let bytes: Vec<u8> = (0..1024u64).map(|i| (s.rotate_left((i % 63) as u32) ^ i.wrapping_mul(0x9E37)) as u8).collect();
            let mut u = Unstructured::new(&bytes);
            let Ok(v) = pickle_smith::GeneratedValue::new(&value_config, &mut u) else { continue };
            // A set's iteration order depends on its insertion history when hashes collide,
            // and the oracle rebuilds the object from the document more than once, so the
            // live byte and load checks take set-free documents; sets are byte-checked by the
            // checked-in encode cases, which were made from the original objects.
            if v.document.to_string().contains("set\"") {
                continue;
            }
            let protocol = (s % 6) as u8;
            let name = format!("generated-value:seed-{s:016x}/p{protocol}");
            if let Some(Ok(rt)) = brine_oracle::roundtrip::codec_roundtrip(&v.document, protocol) {
                let (b, ec) = (rt.pickle, rt.check);
                r.record_verdict("encode-live", &name, &ec.loads, &b, || format!("seed {s}"));
                if let Some(bv) = &ec.bytes {
                    r.record_verdict("encode-live", &format!("{name} (bytes)"), bv, &b, || format!("seed {s}"));
                }
            }
        }
        pb.set_position(done as u64);
    }
    pb.finish_and_clear();
    let t = r.tally("generated");
    t.cases = done as u64;
    t.agree = done as u64;
}

/// Whether `protocol` has native opcodes for every type in the document (bytes need 3,
/// set/frozenset 4, bytearray 5), so that loading the pickle gives the document back.
fn native_at(doc: &J, protocol: u8) -> bool {
    let mut work = vec![doc];
    while let Some(v) = work.pop() {
        match v {
            J::Object(m) => {
                let need = match m.get("t").and_then(J::as_str) {
                    Some("bytes") => 3,
                    Some("set" | "frozenset") => 4,
                    Some("bytearray") => 5,
                    _ => 0,
                };
                if protocol < need {
                    return false;
                }
                work.extend(m.values());
            }
            J::Array(a) => work.extend(a.iter()),
            _ => {}
        }
    }
    true
}
