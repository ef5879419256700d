//! `brine check-impl`: every corpus case through an implementation's adapters.
//!
//! Decoding, per case (conformance/README.md has the protocol and the statuses):
//!
//! | case | adapter accepts | adapter rejects |
//! |---|---|---|
//! | y_ | `pass` (value equal or none printed), `wrong-value` | `should-accept` |
//! | n_ | `should-reject` | `pass`, or `wrong-error` when it names another class |
//! | i_ | `accepted` | `rejected` |
//!
//! plus `crash` (any other exit status, a signal, or output that is not one node) and
//! `timeout`. Encoding, per y_ case without out-of-band buffers: the case's document goes to
//! the encoder (BRINE_PROTOCOL = the case's protocol) and its bytes are read back by CPython's
//! C unpickler, embedded and sandboxed (the oracle's `CPython` engine): `pass`,
//! `wrong-value`, `unloadable` (CPython rejects the bytes), `refused` (the encoder exit 1),
//! `crash`, `timeout`. The read-back is compared under the `builtins` leniency (plus the
//! implementation's own): below protocols 3, 4 and 5 CPython writes bytes, sets and
//! bytearrays as calls of builtins, which the sandbox reads back as recorded calls.

use super::adapter::{AdapterEngine, EncodeFailure, Encoded};
use super::corpus::{Case, Corpus, Expect};
use super::lenient::Lenient;
use super::process::Limits;
use brine_codec::json::compare;
use brine_oracle::engine::{Answer, Engine, Input, Outcome};
use serde_json::Value as J;
use std::path::Path;
use std::time::{Duration, Instant};

/// What to check and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// The implementation's name in reports.
    pub name: String,
    /// Its exact version, when known.
    pub version: String,
    /// The decoder adapter command (a shell string), if any.
    pub decoder: Option<String>,
    /// The encoder adapter command, if any.
    pub encoder: Option<String>,
    /// Per-case time limit.
    pub timeout: Duration,
    /// Address-space limit of an adapter process, MiB (0: none).
    pub memory_mb: u64,
    /// Worker threads.
    pub jobs: usize,
    /// Normalizations for a narrower value model.
    pub lenient: Lenient,
    /// Only cases whose name contains this.
    pub only: Option<String>,
    /// Progress on stderr.
    pub progress: bool,
    /// The adapters speak the persistent protocol (one process per worker, JSON lines).
    pub persistent: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            name: "implementation".into(),
            version: String::new(),
            decoder: None,
            encoder: None,
            timeout: Duration::from_secs(10),
            memory_mb: 4096,
            jobs: 2,
            lenient: Lenient::default(),
            only: None,
            progress: true,
            persistent: false,
        }
    }
}

/// The outcome of one decode case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// As CPython: a y_ case accepted (with an equal value, or none printed), an n_ case
    /// rejected with the same exception class (or none named).
    Pass,
    /// An n_ case rejected, naming another exception class: still a correct rejection.
    WrongError,
    /// A y_ case rejected.
    ShouldAccept,
    /// An n_ case accepted.
    ShouldReject,
    /// A y_ case accepted with a value that differs from CPython's.
    WrongValue,
    /// Any exit status but 0 and 1, a signal, or unreadable output.
    Crash,
    /// Out of time.
    Timeout,
    /// An i_ case accepted.
    Accepted,
    /// An i_ case rejected.
    Rejected,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 9] = [
        Status::Pass,
        Status::WrongError,
        Status::ShouldAccept,
        Status::ShouldReject,
        Status::WrongValue,
        Status::Crash,
        Status::Timeout,
        Status::Accepted,
        Status::Rejected,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::WrongError => "wrong-error",
            Status::ShouldAccept => "should-accept",
            Status::ShouldReject => "should-reject",
            Status::WrongValue => "wrong-value",
            Status::Crash => "crash",
            Status::Timeout => "timeout",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
        }
    }

    /// Whether it is a failure to conform (i_ outcomes and wrong-error are not).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::ShouldAccept | Status::ShouldReject | Status::WrongValue | Status::Crash | Status::Timeout
        )
    }
}

/// The outcome of one encode case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EncodeStatus {
    /// CPython reads the bytes back as an equal document.
    Pass,
    /// CPython reads back another document.
    WrongValue,
    /// CPython rejects the bytes.
    Unloadable,
    /// The encoder declined (exit 1): the document is outside its model.
    Refused,
    /// Any other exit status or a signal.
    Crash,
    /// Out of time.
    Timeout,
}

impl EncodeStatus {
    /// Every status, in report order.
    pub const ALL: [EncodeStatus; 6] = [
        EncodeStatus::Pass,
        EncodeStatus::WrongValue,
        EncodeStatus::Unloadable,
        EncodeStatus::Refused,
        EncodeStatus::Crash,
        EncodeStatus::Timeout,
    ];

    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            EncodeStatus::Pass => "pass",
            EncodeStatus::WrongValue => "wrong-value",
            EncodeStatus::Unloadable => "unloadable",
            EncodeStatus::Refused => "refused",
            EncodeStatus::Crash => "crash",
            EncodeStatus::Timeout => "timeout",
        }
    }
}

/// One decode case's result.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The case.
    pub name: String,
    /// y, n or i.
    pub expect: Expect,
    /// The outcome.
    pub status: Status,
    /// Whether a value was printed and compared (accepted cases).
    pub value_checked: bool,
    /// The exception class the adapter named, when it rejected.
    pub error_type: Option<String>,
    /// For i_ cases: which CPython unpickler the outcome agrees with ("c", "python", "both",
    /// "neither"), when it can be told.
    pub agrees_with: Option<&'static str>,
    /// One line: exit status, stderr tail, first difference.
    pub detail: String,
    /// A unified diff (CPython's document vs the adapter's), for wrong values.
    pub diff: Option<String>,
    /// Wall time of the adapter run, ms.
    pub ms: u64,
}

/// One encode case's result.
#[derive(Clone, Debug)]
pub struct EncodeResult {
    /// The case whose document was encoded.
    pub name: String,
    /// The protocol asked for.
    pub protocol: u8,
    /// The outcome.
    pub status: EncodeStatus,
    /// One line.
    pub detail: String,
    /// A unified diff (the document vs what CPython read back), for wrong values.
    pub diff: Option<String>,
    /// The encoder's bytes, hex (for failures, to reproduce).
    pub pickle_hex: Option<String>,
    /// Wall time of the adapter run, ms.
    pub ms: u64,
}

/// Everything a check produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// The options it ran with.
    pub options: Options,
    /// The corpus interpreter (`sys.version`).
    pub corpus_python: String,
    /// Date (UTC).
    pub date: String,
    /// Wall time of the whole check.
    pub elapsed: Duration,
    /// Decode results, corpus order.
    pub decode: Vec<CaseResult>,
    /// Encode results, corpus order.
    pub encode: Vec<EncodeResult>,
}

impl Report {
    /// Decode cases per status.
    pub fn decode_counts(&self) -> Vec<(Status, usize)> {
        Status::ALL.iter().map(|s| (*s, self.decode.iter().filter(|r| r.status == *s).count())).collect()
    }

    /// Encode cases per status.
    pub fn encode_counts(&self) -> Vec<(EncodeStatus, usize)> {
        EncodeStatus::ALL.iter().map(|s| (*s, self.encode.iter().filter(|r| r.status == *s).count())).collect()
    }

    /// Decode cases whose value was compared.
    pub fn values_checked(&self) -> usize {
        self.decode.iter().filter(|r| r.value_checked).count()
    }

    /// Conformance failures (decode failures plus encode wrong values, unloadable output,
    /// crashes and timeouts).
    pub fn failures(&self) -> usize {
        self.decode.iter().filter(|r| r.status.is_failure()).count()
            + self.encode.iter().filter(|r| !matches!(r.status, EncodeStatus::Pass | EncodeStatus::Refused)).count()
    }
}

/// Runs the check. Call on a big stack: documents nest 10,000 deep.
pub fn run(root: &Path, corpus: &Corpus, opts: &Options) -> Result<Report, String> {
    let start = Instant::now();
    let cases: Vec<&Case> =
        corpus.cases.iter().filter(|c| opts.only.as_ref().is_none_or(|p| c.name.contains(p.as_str()))).collect();
    let limits = Limits { timeout: opts.timeout, memory_mb: opts.memory_mb };
    let decode = match &opts.decoder {
        Some(cmd) => {
            let engine = AdapterEngine::new(&opts.name, cmd, root, opts.persistent, limits.clone(), opts.jobs);
            let inputs: Vec<Input<'_>> = cases.iter().map(|c| c.input()).collect();
            let answers = in_chunks(opts, "decode", &inputs, |chunk| engine.run_batch(chunk));
            cases.iter().zip(answers).map(|(c, a)| judge(c, &a, &opts.lenient)).collect()
        }
        None => vec![],
    };
    let encode = match &opts.encoder {
        Some(cmd) => {
            let enc_cases: Vec<&Case> = cases.iter().copied().filter(|c| encodable(c)).collect();
            let engine = AdapterEngine::new(&opts.name, cmd, root, opts.persistent, limits, opts.jobs);
            let docs: Vec<(&str, &J, u8)> = enc_cases.iter().map(|c| (c.name.as_str(), &c.result, c.protocol)).collect();
            let encoded = in_chunks(opts, "encode", &docs, |chunk| engine.encode_batch(chunk));
            let cpython = brine_oracle::CPython::c();
            enc_cases
                .iter()
                .zip(encoded)
                .map(|(c, e)| judge_encoded(c, e, cpython.as_ref(), &opts.lenient))
                .collect()
        }
        None => vec![],
    };
    Ok(Report {
        options: opts.clone(),
        corpus_python: corpus.python.clone(),
        date: super::today(),
        elapsed: start.elapsed(),
        decode,
        encode,
    })
}

/// Runs `f` over `items` a chunk at a time, with a progress bar when asked.
fn in_chunks<T, R>(opts: &Options, what: &str, items: &[T], f: impl Fn(&[T]) -> Vec<R>) -> Vec<R> {
    let bar = if opts.progress {
        let b = indicatif::ProgressBar::new(items.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap()
                .progress_chars("=> "),
        );
        b.set_prefix(format!("{} {what}", opts.name));
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(256) {
        out.extend(f(chunk));
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    out
}

/// A decode case's status from the adapter's answer (the table at the top of this module).
pub fn judge(case: &Case, answer: &Answer, lenient: &Lenient) -> CaseResult {
    let mut r = CaseResult {
        name: case.name.clone(),
        expect: case.expect,
        status: Status::Crash,
        value_checked: false,
        error_type: None,
        agrees_with: None,
        detail: String::new(),
        diff: None,
        ms: answer.ms.round() as u64,
    };
    let stderr = &answer.detail;
    let with_stderr = |d: String| if stderr.is_empty() { d } else { format!("{d}; stderr: {stderr}") };
    // accepted: Some(value or None); rejected: None with error_type
    let accepted: Option<Option<&J>> = match &answer.outcome {
        Outcome::Poisoned(p) => {
            r.status = Status::Timeout;
            r.detail = p.detail.clone();
            return r;
        }
        Outcome::Crashed(d) => {
            r.detail = d.clone();
            return r;
        }
        Outcome::Accepted => Some(None),
        Outcome::Ok(v) => Some(Some(v)),
        Outcome::Err { class, .. } => {
            r.error_type = (!class.is_empty()).then(|| class.clone());
            None
        }
    };
    let expected_type = case.result.get("type").and_then(J::as_str);
    match (case.expect, accepted) {
        (Expect::Accept, Some(None)) => r.status = Status::Pass,
        (Expect::Accept, Some(Some(got))) => {
            r.value_checked = true;
            let (want, got) = (lenient.apply(&case.result), lenient.apply(got));
            match compare(&want, &got) {
                Ok(()) => r.status = Status::Pass,
                Err(m) => {
                    r.status = Status::WrongValue;
                    r.detail = format!("at {}: {}", m.path, m.what);
                    r.diff = Some(super::render::diff_docs(&want, &got, "CPython", "implementation"));
                }
            }
        }
        (Expect::Accept, None) => {
            r.status = Status::ShouldAccept;
            r.detail = with_stderr(format!("rejected: {}", r.error_type.as_deref().unwrap_or("(no error node)")));
        }
        (Expect::Reject, Some(_)) => {
            r.status = Status::ShouldReject;
            r.detail = format!("CPython: {}", expected_type.unwrap_or("?"));
        }
        (Expect::Reject, None) => match (&r.error_type, expected_type) {
            (Some(got), Some(want)) if got != want => {
                r.status = Status::WrongError;
                r.detail = format!("{got}, CPython {want}");
            }
            _ => r.status = Status::Pass,
        },
        (Expect::Either, acc) => {
            let (c, py) = (&case.result, &case.python);
            let is_err = |n: &J| n.get("t").and_then(J::as_str) == Some("error");
            let agree = |n: &J| match &acc {
                Some(Some(v)) => !is_err(n) && compare(&lenient.apply(n), &lenient.apply(v)).is_ok(),
                Some(None) => false,
                None => {
                    is_err(n) && r.error_type.as_deref().is_none_or(|t| n.get("type").and_then(J::as_str) == Some(t))
                }
            };
            r.status = if acc.is_some() { Status::Accepted } else { Status::Rejected };
            r.value_checked = matches!(acc, Some(Some(_)));
            if matches!(acc, Some(Some(_))) || (acc.is_none() && r.error_type.is_some()) {
                r.agrees_with = Some(match (agree(c), agree(py)) {
                    (true, true) => "both",
                    (true, false) => "c",
                    (false, true) => "python",
                    (false, false) => "neither",
                });
            }
            r.detail =
                format!("CPython C: {}, Python: {}", super::render::short_outcome(c), super::render::short_outcome(py));
        }
    }
    r
}

/// A y_ case whose document an encoder can be asked for: no out-of-band buffers, no
/// resource limit, no buffer nodes.
fn encodable(c: &Case) -> bool {
    c.expect == Expect::Accept && c.buffers == 0 && !c.limit && !c.result.to_string().contains(r#""t":"buffer""#)
}

/// An encode case's status: the encoder's bytes read back by CPython's C unpickler,
/// embedded and sandboxed (the oracle's engine, guarded against hostile bytes).
fn judge_encoded(case: &Case, e: Encoded, cpython: Option<&brine_oracle::CPython>, lenient: &Lenient) -> EncodeResult {
    let mut r = EncodeResult {
        name: case.name.clone(),
        protocol: case.protocol,
        status: EncodeStatus::Crash,
        detail: String::new(),
        diff: None,
        pickle_hex: None,
        ms: e.ms.round() as u64,
    };
    let bytes = match e.result {
        Ok(b) => b,
        Err(EncodeFailure::Timeout) => {
            r.status = EncodeStatus::Timeout;
            return r;
        }
        Err(EncodeFailure::Refused(why)) => {
            r.status = EncodeStatus::Refused;
            r.detail = why;
            return r;
        }
        Err(EncodeFailure::Crash(why)) => {
            r.detail = why;
            return r;
        }
    };
    r.pickle_hex = Some(brine_codec::hex::encode(&bytes[..bytes.len().min(4096)]));
    let Some(cpython) = cpython else {
        r.status = EncodeStatus::Unloadable;
        r.detail = "CPython could not be embedded: the bytes were not checked".into();
        return r;
    };
    let got = match cpython.decode(&bytes, None) {
        Outcome::Ok(v) => v,
        Outcome::Err { class, message } => {
            r.status = EncodeStatus::Unloadable;
            r.detail = format!("CPython: {class}: {message}");
            return r;
        }
        other => {
            r.status = EncodeStatus::Unloadable;
            r.detail = format!("CPython: {}", other.to_node());
            return r;
        }
    };
    // Below protocols 3, 4 and 5 CPython itself spells bytes, sets and bytearrays as calls of
    // builtins, which the sandbox reads back as stand-in calls: compare those as the values.
    let lenient = Lenient { builtins: true, ..lenient.clone() };
    let (want, got) = (lenient.apply(&case.result), lenient.apply(&got));
    match compare(&want, &got) {
        Ok(()) => {
            r.status = EncodeStatus::Pass;
            r.pickle_hex = None;
        }
        Err(m) => {
            r.status = EncodeStatus::WrongValue;
            r.detail = format!("at {}: {}", m.path, m.what);
            r.diff = Some(super::render::diff_docs(&want, &got, "document", "CPython reads back"));
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(name: &str, result: J) -> Case {
        let expect = match &name[..1] {
            "y" => Expect::Accept,
            "n" => Expect::Reject,
            _ => Expect::Either,
        };
        Case {
            name: name.into(),
            expect,
            pickle: vec![],
            buffers: 0,
            python: result.clone(),
            ops: J::Null,
            result,
            protocol: 0,
            limit: false,
            extensions: vec![],
            versions: Default::default(),
            python_versions: Default::default(),
        }
    }

    fn status(cmd: &str, c: &Case) -> (Status, Option<String>) {
        let limits = Limits { timeout: Duration::from_secs(5), memory_mb: 0 };
        let engine = AdapterEngine::new("t", cmd, Path::new("/"), false, limits, 1);
        let answer = engine.run_batch(&[c.input()]).pop().unwrap();
        let r = judge(c, &answer, &Lenient::default());
        (r.status, r.error_type)
    }

    #[test]
    fn statuses_follow_the_protocol() {
        let y = case("y_one", json!({"t":"int","v":"1"}));
        let n = case("n_bad", json!({"t":"error","type":"EOFError","message":""}));
        let i = case("i_either", json!({"t":"error","type":"UnpicklingError","message":""}));
        assert_eq!(status(r#"echo '{"t":"int","v":"1"}'"#, &y).0, Status::Pass);
        assert_eq!(status("true", &y).0, Status::Pass); // accept-only adapter
        assert_eq!(status(r#"echo '{"t":"int","v":"2"}'"#, &y).0, Status::WrongValue);
        assert_eq!(status("exit 1", &y).0, Status::ShouldAccept);
        assert_eq!(status("echo not json", &y).0, Status::Crash);
        assert_eq!(status("exit 2", &y).0, Status::Crash);
        assert_eq!(status("true", &n).0, Status::ShouldReject);
        assert_eq!(status(r#"echo '{"t":"error","type":"EOFError"}'; exit 1"#, &n).0, Status::Pass);
        assert_eq!(
            status(r#"echo '{"t":"error","type":"ValueError"}'; exit 1"#, &n),
            (Status::WrongError, Some("ValueError".into()))
        );
        assert_eq!(status("exit 1", &i).0, Status::Rejected);
        assert_eq!(status("true", &i).0, Status::Accepted);
    }
}
