//! Differential campaigns against another pickle implementation (`brine campaign`, `cargo
//! xtask fuzz --impl NAME`): wasmtime's differential fuzzing, aimed at an adapter.
//!
//! 1. Cases come from [`source`]: pickle-smith (valid and near-valid), mutations of the
//!    corpus and of the fuzz corpora, and for scanners pickles that hide a global.
//! 2. Each is judged against the reference in process ([`judge`]): brine's codec, which
//!    agrees with CPython 3.11's C unpickler on every case measured. The adapter answers in
//!    batches through its [`AdapterEngine`] (persistent when it offers it).
//! 3. A discrepancy of a kind not yet seen often is confirmed live ([`confirm`]): CPython's C
//!    and pure-Python unpicklers load it in the embedded, sandboxed interpreter. When the
//!    codec and CPython disagree, that is a brine bug, reported as one and never blamed on
//!    the implementation; when the implementation does what the pure-Python unpickler does,
//!    the case is implementation-defined, not a finding.
//! 4. A confirmed discrepancy is minimized ([`minimize`], keeping status and class),
//!    confirmed again, given a signature (status / opcodes of the reproducer / class) and
//!    deduplicated; the adapter is run alone (one process, per-case protocol) on the
//!    reproducer to show it needs no state from earlier cases.
//! 5. [`report`] writes target/campaigns/NAME/findings/KEY.{pkl,json}, report.md and
//!    report.json; findings the corpus does not already show are proposed as corpus cases.

pub mod confirm;
pub mod judge;
pub mod minimize;
pub mod report;
pub mod source;

use crate::impls::adapter::AdapterEngine;
use crate::impls::corpus::{Corpus, Expect};
use crate::impls::lenient::Lenient;
use crate::impls::matrix::{self, Adapter};
use crate::impls::process::Limits;
use brine_codec::{DecodeOptions, FindClass, Python};
use brine_oracle::engine::{Answer, Engine, Input, Outcome};
use judge::{Discrepancy, Values};
use serde_json::Value as J;
use source::{Candidate, Seeds, Source};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How to run a campaign.
#[derive(Clone, Debug)]
pub struct CampaignOptions {
    /// The adapter (a directory name under conformance/adapters).
    pub adapter: String,
    /// Wall-clock budget for drawing and running cases (confirmation and minimization of the
    /// last batch may run past it).
    pub time: Duration,
    /// Stop after this many cases (for tests and benchmarks).
    pub max_cases: Option<usize>,
    /// Seed of the case stream.
    pub seed: u64,
    /// Adapter processes (worker threads).
    pub jobs: usize,
    /// Per-case time limit of the adapter.
    pub timeout: Duration,
    /// Adapter address-space limit, MiB.
    pub memory_mb: u64,
    /// Minimizations per discrepancy kind (status and class): more finds more signatures
    /// of a common kind, at the cost of adapter time (a case holding every opcode of a
    /// finding of its kind is counted as that finding, not minimized). Defaults to 16.
    pub per_kind: usize,
    /// Adapter calls one minimization may make. Defaults to 6,000.
    pub minimize_budget: usize,
    /// Wall time one minimization may take. Defaults to 60 s.
    pub minimize_time: Duration,
    /// Where to write (default target/campaigns/NAME).
    pub out: Option<PathBuf>,
    /// Where the adapter directory is looked for (default conformance/adapters).
    pub adapters_dir: Option<PathBuf>,
    /// Progress on stderr.
    pub progress: bool,
}

impl Default for CampaignOptions {
    fn default() -> Self {
        CampaignOptions {
            adapter: String::new(),
            time: Duration::from_secs(600),
            max_cases: None,
            seed: 1,
            jobs: 2,
            timeout: Duration::from_secs(10),
            memory_mb: 4096,
            per_kind: 16,
            minimize_budget: 6000,
            minimize_time: Duration::from_secs(60),
            out: None,
            adapters_dir: None,
            progress: true,
        }
    }
}

/// One distinct finding.
#[derive(Clone, Debug)]
pub struct Finding {
    /// File stem under findings/.
    pub key: String,
    /// `status/opcodes/class`.
    pub signature: String,
    /// The discrepancy on the reproducer.
    pub discrepancy: Discrepancy,
    /// The minimized pickle.
    pub pickle: Vec<u8>,
    /// Out-of-band buffers.
    pub buffers: Option<usize>,
    /// Extension registry.
    pub extensions: Vec<(String, String, i64)>,
    /// CPython C's node for the reproducer (live).
    pub cpython: J,
    /// CPython pure-Python's node (live).
    pub cpython_python: J,
    /// CPython C's find_class calls (scanner findings).
    pub cpython_globals: Option<Vec<(String, String)>>,
    /// The implementation's answer (persistent run).
    pub implementation: J,
    /// Whether the adapter, run alone on the reproducer (a fresh process serving only it),
    /// shows the same discrepancy.
    pub reproduced_alone: bool,
    /// (runs showing it, fresh runs): (1, 1) when the first showed it; otherwise out of 5,
    /// where 0 means a state leak between cases and more than 0 nondeterminism.
    pub alone_runs: (u32, u32),
    /// The source of the first case that showed it, and its index in the stream.
    pub origin: String,
    /// Case number in the stream.
    pub case_index: u64,
    /// Original (unminimized) size.
    pub original_len: usize,
    /// Cases whose discrepancy minimized to this signature, plus cases of the same kind that
    /// hold every opcode of the reproducer (taken for the same finding without minimizing):
    /// an estimate of how common it is.
    pub hits: u64,
    /// A corpus case showing the same kind with the same opcodes, if any.
    pub covered_by: Option<String>,
    /// The reproducer's opcode names (for the known-finding filter, which asks for them on
    /// every discrepancy).
    pub ops: BTreeSet<String>,
}

/// A case where the codec and live CPython disagree: brine's bug, not the implementation's.
#[derive(Clone, Debug)]
pub struct BrineBug {
    /// The pickle.
    pub pickle: Vec<u8>,
    /// The verdict's summary.
    pub summary: String,
}

/// Everything a campaign produced.
#[derive(Clone, Debug, Default)]
pub struct CampaignReport {
    /// The adapter.
    pub implementation: String,
    /// Its version.
    pub version: String,
    /// Scanner mode.
    pub scanner: bool,
    /// Persistent mode.
    pub persistent: bool,
    /// Seed.
    pub seed: u64,
    /// The CPython version the implementation was judged by (`"3.11"` unless adapter.json
    /// names another).
    pub python: String,
    /// Wall time of the whole campaign, s.
    pub elapsed_s: f64,
    /// Wall time spent running cases (the rest is confirmation and minimization), s.
    pub running_s: f64,
    /// Cases run.
    pub cases: u64,
    /// Cases per source.
    pub sources: BTreeMap<String, u64>,
    /// Cases with a discrepancy against the reference (before confirmation).
    pub discrepancies: u64,
    /// Discrepancies per kind (status/class).
    pub kinds: BTreeMap<String, u64>,
    /// Confirmed, minimized, deduplicated findings.
    pub findings: Vec<Finding>,
    /// Discrepancies where the implementation did what CPython's pure-Python unpickler does.
    pub implementation_defined: u64,
    /// Discrepancies CPython could not confirm because it hit a limit.
    pub unconfirmed_limits: u64,
    /// Discrepancies left uninvestigated because confirmation and minimization had used
    /// their share of the time (as long as running cases, plus a minute).
    pub uninvestigated: u64,
    /// Codec-vs-CPython disagreements met on the way.
    pub brine_bugs: Vec<BrineBug>,
    /// Adapter processes started (restarts after crashes and timeouts included).
    pub adapter_starts: usize,
    /// Globals the scanner flags in a plain pickle (scanner campaigns).
    pub scanner_flags: Vec<(String, String)>,
    /// Seed pickles from fuzz/corpus.
    pub fuzz_corpus_seeds: usize,
}

impl CampaignReport {
    /// Cases per second of running time.
    pub fn cases_per_s(&self) -> f64 {
        self.cases as f64 / self.running_s.max(1e-9)
    }
}

/// What the campaign knows about its adapter.
struct Target {
    adapter: Adapter,
    engine: AdapterEngine,
    /// The adapter's command and mode, for a fresh process per reproduction check.
    cmd: String,
    persistent: bool,
    limits: Limits,
    root: PathBuf,
    values: Values,
    lenient: Lenient,
    scanner: bool,
    flags: BTreeSet<(String, String)>,
    /// The version the implementation is judged by (adapter.json `"python"`; 3.11 if none).
    python: Python,
}

impl Target {
    /// The adapter run alone on one case: a fresh process that serves nothing else (in the
    /// adapter's own protocol, so a scanner still reports its globals).
    fn alone(&self, c: &Candidate) -> Answer {
        let e = AdapterEngine::new(&self.adapter.name, &self.cmd, &self.root, self.persistent, self.limits.clone(), 1);
        e.run_batch(&[input(c)]).pop().expect("one answer")
    }
}

/// Runs a campaign; writes its files and returns the report. Call on a big stack.
pub fn run(root: &Path, o: &CampaignOptions) -> Result<CampaignReport, String> {
    let start = Instant::now();
    let base = o.adapters_dir.clone().unwrap_or_else(|| root.join("conformance/adapters"));
    let adapter = matrix::adapters_in(&base)?
        .into_iter()
        .find(|a| a.name == o.adapter)
        .ok_or_else(|| format!("no adapter {:?} under {}", o.adapter, base.display()))?;
    if adapter.dir.join("install.sh").is_file() {
        matrix::install(root, &adapter, false)?;
    }
    let meta = |k: &str| adapter.meta.get(k).cloned().unwrap_or(J::Null);
    let values = match meta("values").as_str() {
        Some("full") => Values::Full,
        Some("scalars") => Values::Scalars,
        _ => Values::None,
    };
    let lenient_names: Vec<String> =
        meta("lenient").as_array().map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default();
    let lenient = Lenient::parse(lenient_names.iter().map(String::as_str))?;
    let persistent = meta("persistent").as_bool().unwrap_or(false);
    let scanner = meta("scanner").as_bool().unwrap_or(false);
    let run_cmd = adapter.dir.join("run").display().to_string();
    // adapter.json `"memory_mb"` raises the limit for an implementation that needs more
    // address space (PyPy's GC reserves it up front), as in the matrix.
    let memory_mb = adapter.meta.get("memory_mb").and_then(J::as_u64).map_or(o.memory_mb, |m| m.max(o.memory_mb));
    let limits = Limits { timeout: o.timeout, memory_mb };
    let engine = AdapterEngine::new(&adapter.name, &run_cmd, root, persistent, limits.clone(), o.jobs);
    let mut t = Target {
        adapter,
        engine,
        cmd: run_cmd,
        persistent,
        limits,
        root: root.to_path_buf(),
        values,
        lenient,
        scanner,
        flags: BTreeSet::new(),
        python: Python::V3_11,
    };
    let corpus = crate::impls::corpus::load(root)?;
    // An implementation of another version is judged by that version (codec mode, corpus
    // expectations and live reference alike).
    let version = t.adapter.meta.get("python").and_then(J::as_str).filter(|v| *v != crate::versions::BASELINE).map(str::to_string);
    let (oracle, corpus) = match &version {
        Some(v) => {
            t.python = v.parse().map_err(|e| format!("adapter.json \"python\": {e}"))?;
            (confirm::Oracle::version(root, t.python, &t.limits)?, corpus.as_of(v))
        }
        None => (confirm::Oracle::new()?, corpus),
    };
    let mut report = CampaignReport {
        implementation: t.adapter.name.clone(),
        version: t.adapter.meta.get("version").and_then(J::as_str).unwrap_or("").to_string(),
        scanner,
        persistent,
        seed: o.seed,
        python: t.python.to_string(),
        ..Default::default()
    };
    if scanner {
        t.flags = calibrate(&t);
        report.scanner_flags = t.flags.iter().cloned().collect();
    }
    let known = corpus_kinds(&t, &corpus);
    let seeds = Seeds::load(root, &corpus);
    report.fuzz_corpus_seeds = seeds.from_fuzz_corpus;
    let mut source = Source::new(o.seed, seeds, scanner);
    let bar = progress(o);
    let deadline = Instant::now() + o.time;
    let mut minimized_per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_signature: BTreeMap<String, usize> = BTreeMap::new();
    let mut running = Duration::ZERO;
    let mut investigating = Duration::ZERO;
    while Instant::now() < deadline && o.max_cases.is_none_or(|m| (report.cases as usize) < m) {
        let n = o.max_cases.map_or(256, |m| 256.min(m - report.cases as usize));
        let batch: Vec<Candidate> = (0..n).map(|_| source.draw()).collect();
        let t0 = Instant::now();
        let judged = judge_batch(&t, &batch);
        running += t0.elapsed();
        let first = report.cases;
        report.cases += batch.len() as u64;
        for c in &batch {
            *report.sources.entry(c.origin.clone()).or_default() += 1;
        }
        for (i, (c, j)) in batch.iter().zip(judged).enumerate() {
            let Some((d, answer)) = j else { continue };
            report.discrepancies += 1;
            *report.kinds.entry(d.kind()).or_default() += 1;
            // A decoder case holding every opcode of a finding of the same kind most likely
            // shows that finding again: counted as a hit, not minimized. (Not for scanners:
            // their kind is only the status, and a case may hide a global in several ways.)
            if !t.scanner {
                let ops = op_names(&c.bytes);
                let kind = d.kind();
                let known = report.findings.iter_mut().find(|f| f.ops.is_subset(&ops) && f.discrepancy.kind() == kind);
                if let Some(f) = known {
                    f.hits += 1;
                    continue;
                }
            }
            // Scanner discrepancies share one kind (status), so they are rationed by how the
            // case names its globals instead.
            let bucket = if t.scanner { format!("{}/{}", d.kind(), judge::features_of(&c.bytes)) } else { d.kind() };
            let spent = minimized_per_kind.entry(bucket).or_default();
            if *spent >= o.per_kind {
                continue;
            }
            // Confirming and minimizing may take at most as long as running cases (plus a
            // minute), so that a campaign keeps drawing new cases however many kinds it meets.
            if investigating > running + Duration::from_secs(60) {
                report.uninvestigated += 1;
                continue;
            }
            *spent += 1;
            let t1 = Instant::now();
            let outcome = investigate(&t, &oracle, c, &d, &answer, o);
            investigating += t1.elapsed();
            match outcome {
                Investigation::Finding(f) => {
                    let mut f = *f;
                    f.ops = op_names(&f.pickle);
                    f.case_index = first + i as u64;
                    f.covered_by = known.iter().find(|(k, ops, _)| *k == f.discrepancy.kind() && f.ops.is_subset(ops)).map(|x| x.2.clone());
                    match by_signature.get(&f.signature) {
                        Some(&at) => {
                            let old = &mut report.findings[at];
                            old.hits += 1;
                            if f.pickle.len() < old.pickle.len() {
                                let hits = old.hits;
                                *old = f;
                                old.hits = hits;
                            }
                        }
                        None => {
                            by_signature.insert(f.signature.clone(), report.findings.len());
                            bar.println(format!("finding: {} ({} bytes, from {})", f.signature, f.pickle.len(), f.origin));
                            report.findings.push(f);
                        }
                    }
                }
                Investigation::ImplementationDefined => report.implementation_defined += 1,
                Investigation::Limit => report.unconfirmed_limits += 1,
                Investigation::BrineBug(b) => {
                    bar.println(format!("BRINE BUG (codec vs CPython): {}", b.summary));
                    report.brine_bugs.push(b);
                }
                Investigation::Vanished => {}
            }
        }
        bar.set_position(report.cases);
        bar.set_message(format!("{} findings, {} discrepancies", report.findings.len(), report.discrepancies));
    }
    bar.finish_and_clear();
    report.running_s = running.as_secs_f64();
    report.adapter_starts = t.engine.starts();
    report.elapsed_s = start.elapsed().as_secs_f64();
    let out = o.out.clone().unwrap_or_else(|| root.join("target/campaigns").join(&t.adapter.name));
    report::write(&out, &report, &t.adapter)?;
    Ok(report)
}

fn progress(o: &CampaignOptions) -> indicatif::ProgressBar {
    if !o.progress {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new_spinner();
    b.set_style(
        indicatif::ProgressStyle::with_template("{prefix} {elapsed_precise} {pos} cases ({per_sec}) {msg}").unwrap(),
    );
    b.set_prefix(format!("campaign {}", o.adapter));
    b.enable_steady_tick(Duration::from_millis(500));
    b
}

/// The reference's view of one case: the codec's outcome, its error's opcode offset, and
/// the find_class calls CPython would make.
pub struct Reference {
    /// The codec's outcome (CPython C's, on every case measured).
    pub outcome: Outcome,
    /// The `find_class` calls, module and name as text.
    pub globals: Vec<(String, String)>,
}

/// The codec's answer for a candidate (with its registry and buffers), with the
/// `find_class` calls when `with_globals` asks for them (scanners; recording costs a clone
/// per global, which a decoder campaign's every case need not pay).
pub fn reference(c: &Candidate, with_globals: bool, python: Python) -> Reference {
    let opts = DecodeOptions { python, ..decode_options(c) };
    if !with_globals {
        return Reference { outcome: brine_oracle::Codec::outcome(&brine_codec::decode_with(&c.bytes, &opts)), globals: vec![] };
    }
    let g = brine_codec::globals(&c.bytes, &opts);
    Reference { outcome: brine_oracle::Codec::outcome(&g.result), globals: g.calls.iter().map(text_pair).collect() }
}

/// A find_class call as text (a lone surrogate is written as `\u{fffd}`).
pub fn text_pair((m, n): &FindClass) -> (String, String) {
    (String::from_utf8_lossy(m.as_bytes()).into_owned(), String::from_utf8_lossy(n.as_bytes()).into_owned())
}

fn decode_options(c: &Candidate) -> DecodeOptions {
    DecodeOptions {
        buffers: c.buffers,
        extensions: c.extensions.iter().map(|(m, n, code)| (*code, (m.clone(), n.clone()))).collect(),
        ..DecodeOptions::default()
    }
}

fn input(c: &Candidate) -> Input<'_> {
    Input { name: &c.origin, data: &c.bytes, buffers: c.buffers, extensions: &c.extensions }
}

/// Runs a batch through the adapter and judges each answer against the codec.
fn judge_batch(t: &Target, batch: &[Candidate]) -> Vec<Option<(Discrepancy, Answer)>> {
    let inputs: Vec<Input<'_>> = batch.iter().map(input).collect();
    let answers = t.engine.run_batch(&inputs);
    batch
        .iter()
        .zip(answers)
        .map(|(c, a)| {
            let r = reference(c, t.scanner, t.python);
            let d = if t.scanner {
                judge::scanner(&r.globals, &t.flags, &a)
            } else {
                judge::decoder(&r.outcome, None, &a, t.values, &t.lenient)
            };
            d.map(|d| (d, a))
        })
        .collect()
}

enum Investigation {
    Finding(Box<Finding>),
    ImplementationDefined,
    Limit,
    BrineBug(BrineBug),
    /// The discrepancy did not happen again (a flaky adapter).
    Vanished,
}

/// Confirm with CPython, minimize, confirm again, sign.
fn investigate(
    t: &Target,
    oracle: &confirm::Oracle,
    c: &Candidate,
    d: &Discrepancy,
    first: &Answer,
    o: &CampaignOptions,
) -> Investigation {
    let live = oracle.check(c);
    if let Some(summary) = &live.codec_disagrees {
        return Investigation::BrineBug(BrineBug { pickle: c.bytes.clone(), summary: summary.clone() });
    }
    if live.limited {
        return Investigation::Limit;
    }
    // With CPython's own two answers in hand: the i_ rule.
    if !t.scanner {
        let ans = t.engine.run_batch(&[input(c)]).pop().expect("one answer");
        if judge::decoder(&live.c, Some(&live.py), &ans, t.values, &t.lenient).is_none() {
            return if judge::decoder(&live.c, None, &ans, t.values, &t.lenient).is_some() {
                Investigation::ImplementationDefined
            } else if matches!(d.status, "crash" | "timeout") {
                // A crash that the same case does not repeat depends on what the process did
                // before (heap corruption, a leak) or on chance: kept, unminimized, with how
                // often fresh processes show it.
                unrepeated(t, c, d, first, &live)
            } else {
                Investigation::Vanished
            };
        }
    }
    // Minimize, keeping status and class.
    let kind = d.kind();
    let budget = if t.engine.persistent() { o.minimize_budget } else { o.minimize_budget.min(300) };
    // A hang costs the adapter's time limit per test: timeouts get a tenth of the budget.
    let budget = if d.status == "timeout" { budget / 10 } else { budget };
    let deadline = Instant::now() + o.minimize_time;
    let small = minimize::minimize(&c.bytes, budget, deadline, |cands| {
        let batch: Vec<Candidate> = cands.iter().map(|b| Candidate { bytes: b.clone(), ..c.clone() }).collect();
        judge_batch(t, &batch).into_iter().map(|j| j.is_some_and(|(d, _)| d.kind() == kind)).collect()
    });
    let small_c = Candidate { bytes: small, ..c.clone() };
    // The reproducer must hold up against live CPython too; else keep the original.
    let (repro, live) = {
        let l = oracle.check(&small_c);
        if l.codec_disagrees.is_none() && !l.limited {
            (small_c, l)
        } else {
            (c.clone(), live)
        }
    };
    let ans = t.engine.run_batch(&[input(&repro)]).pop().expect("one answer");
    let d = if t.scanner {
        judge::scanner(&live.globals.clone().unwrap_or_default(), &t.flags, &ans)
    } else {
        judge::decoder(&live.c, Some(&live.py), &ans, t.values, &t.lenient)
    };
    let Some(d) = d else { return Investigation::Vanished };
    // Alone: a fresh process serving only the reproducer. When it does not show the
    // discrepancy, four more fresh runs tell a state leak (never) from nondeterminism (some).
    let shows_alone = || {
        let alone = t.alone(&repro);
        let alone_d = if t.scanner {
            judge::scanner(&live.globals.clone().unwrap_or_default(), &t.flags, &alone)
        } else {
            judge::decoder(&live.c, Some(&live.py), &alone, t.values, &t.lenient)
        };
        alone_d.is_some_and(|a| a.kind() == d.kind())
    };
    let alone_runs = if shows_alone() { (1, 1) } else { ((0..4).filter(|_| shows_alone()).count() as u32, 5) };
    let signature = judge::signature(&d, &repro.bytes);
    Investigation::Finding(Box::new(Finding {
        key: report::key_of(&signature),
        signature,
        reproduced_alone: alone_runs.0 == alone_runs.1,
        alone_runs,
        discrepancy: d,
        original_len: c.bytes.len(),
        pickle: repro.bytes.clone(),
        buffers: repro.buffers,
        extensions: repro.extensions.clone(),
        cpython: live.c.to_node(),
        cpython_python: live.py.to_node(),
        cpython_globals: live.globals.clone(),
        implementation: judge::answer_node(&ans),
        origin: c.origin.clone(),
        case_index: 0,
        hits: 1,
        covered_by: None,
        ops: BTreeSet::new(),
    }))
}

/// A crash or timeout that did not happen again on the same case: the original case as the
/// finding, with five fresh runs alone measuring how often it shows.
fn unrepeated(t: &Target, c: &Candidate, d: &Discrepancy, first: &Answer, live: &confirm::Live) -> Investigation {
    let shows = (0..5)
        .filter(|_| {
            let a = t.alone(c);
            judge::decoder(&live.c, Some(&live.py), &a, t.values, &t.lenient).is_some_and(|x| x.kind() == d.kind())
        })
        .count() as u32;
    let signature = format!("{}/unrepeated/{}", d.status, d.class);
    Investigation::Finding(Box::new(Finding {
        key: report::key_of(&signature),
        signature,
        reproduced_alone: false,
        alone_runs: (shows, 5),
        discrepancy: d.clone(),
        original_len: c.bytes.len(),
        pickle: c.bytes.clone(),
        buffers: c.buffers,
        extensions: c.extensions.clone(),
        cpython: live.c.to_node(),
        cpython_python: live.py.to_node(),
        cpython_globals: live.globals.clone(),
        implementation: judge::answer_node(first),
        origin: c.origin.clone(),
        case_index: 0,
        hits: 1,
        covered_by: None,
        ops: BTreeSet::new(),
    }))
}

/// The discrepancy kinds the corpus already shows for this adapter, with each case's
/// opcodes: (kind, opcode names, case name).
fn corpus_kinds(t: &Target, corpus: &Corpus) -> Vec<(String, BTreeSet<String>, String)> {
    let inputs: Vec<Input<'_>> = corpus.cases.iter().map(|c| c.input()).collect();
    let answers = t.engine.run_batch(&inputs);
    let mut out = vec![];
    for (case, a) in corpus.cases.iter().zip(answers) {
        let d = if t.scanner {
            let cand = Candidate { bytes: case.pickle.clone(), buffers: (case.buffers > 0).then_some(case.buffers), extensions: case.extensions.clone(), origin: String::new() };
            judge::scanner(&reference(&cand, true, t.python).globals, &t.flags, &a)
        } else if case.expect == Expect::Either {
            None
        } else {
            judge::decoder(&Outcome::from_node(case.result.clone()), None, &a, t.values, &t.lenient)
        };
        if let Some(d) = d {
            out.push((d.kind(), op_names(&case.pickle), case.name.clone()));
        }
    }
    out
}

fn op_names(data: &[u8]) -> BTreeSet<String> {
    brine_codec::dis::genops(data).ops.iter().filter_map(|o| o.op.name().map(str::to_string)).collect()
}

/// The globals a scanner flags when it meets them in a plain protocol 0 GLOBAL.
fn calibrate(t: &Target) -> BTreeSet<(String, String)> {
    let targets = pickle_smith::BypassConfig::default().targets;
    let pickles: Vec<(String, Vec<u8>)> = targets
        .iter()
        .map(|(m, n)| (format!("{m}.{n}"), format!("c{m}\n{n}\n)R.").into_bytes()))
        .collect();
    let inputs: Vec<Input<'_>> = pickles.iter().map(|(name, p)| Input::new(name, p)).collect();
    let answers = t.engine.run_batch(&inputs);
    targets
        .iter()
        .zip(answers)
        .filter(|(_, a)| a.verdict == Some(brine_oracle::engine::ScanVerdict::Flagged))
        .map(|((m, n), _)| (judge::normalize_module(m).to_string(), n.clone()))
        .collect()
}
