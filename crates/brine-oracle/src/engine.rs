//! Engines: anything that turns pickle bytes into a pickle JSON document (or an error).
//!
//! Every engine sits behind [`Engine`] so the differential check, the CLI and the tests treat
//! brine's codec and CPython's two unpicklers alike. An engine that cannot run on this build
//! or machine is `None` at construction (see [`crate::cpython`]), never a build failure.

use brine_codec::error::ErrorCode;
use brine_codec::{decode_with, Category, DecodeOptions, Decoded, Error};
use serde_json::Value as J;
use std::fmt;

/// What one engine made of one pickle.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The document it built.
    Ok(J),
    /// It rejected the pickle with this exception class (and an informative message).
    Err {
        /// CPython exception class name, e.g. `"UnpicklingError"`.
        class: String,
        /// The message (not compared).
        message: String,
    },
    /// It hit a resource limit (or was not run because it would have): nothing to compare.
    Poisoned(Poison),
    /// It accepted the pickle but showed no value (an adapter whose implementation's values
    /// cannot be written as pickle JSON, or a scanner): judged on accept/reject only.
    Accepted,
    /// The engine itself died: a process adapter exited with another status than 0 or 1,
    /// was killed by a signal, or answered with something that is not one node. (A timeout
    /// is [`PoisonKind::Time`].)
    Crashed(String),
}

/// Why an outcome carries no verdict: the engines' limits differ, which is not a bug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Poison {
    /// Which kind of limit.
    pub kind: PoisonKind,
    /// What exactly (informative).
    pub detail: String,
}

/// The kinds of [`Poison`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PoisonKind {
    /// CPython raised MemoryError (or the codec knows it deterministically would).
    MemoryError,
    /// CPython raised RecursionError.
    RecursionError,
    /// A run took too long, or would (hash or int-to-decimal work CPython cannot bound).
    Time,
    /// brine's own limit (depth, memo, size, work) stopped the codec.
    Limit,
    /// The C-semantics pre-scan found an input that would make CPython allocate gigabytes.
    Hazard,
}

impl PoisonKind {
    /// A short stable name for reports.
    pub fn name(self) -> &'static str {
        match self {
            PoisonKind::MemoryError => "MemoryError",
            PoisonKind::RecursionError => "RecursionError",
            PoisonKind::Time => "time",
            PoisonKind::Limit => "brine-limit",
            PoisonKind::Hazard => "hazard",
        }
    }
}

impl Poison {
    /// A poison of `kind` with a detail message.
    pub fn new(kind: PoisonKind, detail: impl Into<String>) -> Poison {
        Poison { kind, detail: detail.into() }
    }
}

impl fmt::Display for Poison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.detail)
    }
}

impl Outcome {
    /// The outcome for an error node `{"t":"error","type":..,"message":..}` from CPython:
    /// MemoryError, RecursionError and the sandbox's Timeout are poisons, the rest errors.
    pub fn from_error_class(class: &str, message: &str) -> Outcome {
        let kind = match class {
            "MemoryError" => Some(PoisonKind::MemoryError),
            "RecursionError" => Some(PoisonKind::RecursionError),
            "Timeout" => Some(PoisonKind::Time),
            _ => None,
        };
        match kind {
            Some(k) => Outcome::Poisoned(Poison::new(k, message)),
            None => Outcome::Err { class: class.to_string(), message: message.to_string() },
        }
    }

    /// The outcome for a pickle JSON node: an error node becomes [`Outcome::Err`] (or a
    /// poison), anything else [`Outcome::Ok`].
    pub fn from_node(node: J) -> Outcome {
        if node.get("t").and_then(J::as_str) == Some("error") {
            let class = node.get("type").and_then(J::as_str).unwrap_or("?");
            let message = node.get("message").and_then(J::as_str).unwrap_or("");
            return Outcome::from_error_class(class, message);
        }
        Outcome::Ok(node)
    }

    /// The outcome as a pickle JSON node (errors as error nodes, poisons as
    /// `{"t":"poisoned","kind":..,"detail":..}`), for reports and diffs.
    pub fn to_node(&self) -> J {
        match self {
            Outcome::Ok(j) => j.clone(),
            Outcome::Err { class, message } => {
                serde_json::json!({"t": "error", "type": class, "message": message})
            }
            Outcome::Poisoned(p) => {
                serde_json::json!({"t": "poisoned", "kind": p.kind.name(), "detail": p.detail})
            }
            Outcome::Accepted => serde_json::json!({"t": "accepted"}),
            Outcome::Crashed(d) => serde_json::json!({"t": "crash", "detail": d}),
        }
    }

    /// Whether the engine accepted the pickle (with or without a value shown).
    pub fn accepted(&self) -> bool {
        matches!(self, Outcome::Ok(_) | Outcome::Accepted)
    }

    /// The exception class of a rejection (`None` for anything else).
    pub fn error_class(&self) -> Option<&str> {
        match self {
            Outcome::Err { class, .. } => Some(class),
            _ => None,
        }
    }

    /// The poison, if this outcome is one.
    pub fn poison(&self) -> Option<&Poison> {
        match self {
            Outcome::Poisoned(p) => Some(p),
            _ => None,
        }
    }
}

/// One pickle as an engine is given it: the bytes and the load's arguments.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The case's name (for an adapter's logs; not part of the semantics).
    pub name: &'a str,
    /// The pickle.
    pub data: &'a [u8],
    /// `None` for no `buffers=` argument, `Some(n)` for n writable (empty) out-of-band
    /// buffers.
    pub buffers: Option<usize>,
    /// The copyreg extension registry the load runs under, `(module, name, code)`; the
    /// spec's default is empty.
    pub extensions: &'a [(String, String, i64)],
}

impl<'a> Input<'a> {
    /// A pickle with no buffers and an empty extension registry.
    pub fn new(name: &'a str, data: &'a [u8]) -> Input<'a> {
        Input { name, data, buffers: None, extensions: &[] }
    }
}

/// What a scanner tells its callers about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScanVerdict {
    /// It lets the file through (including a scan error its callers treat as clean).
    Clean,
    /// It reports the file as dangerous or suspicious.
    Flagged,
    /// The scan failed in a way its callers see.
    Error,
}

impl ScanVerdict {
    /// The protocol's name: `clean`, `flagged`, `error`.
    pub fn name(self) -> &'static str {
        match self {
            ScanVerdict::Clean => "clean",
            ScanVerdict::Flagged => "flagged",
            ScanVerdict::Error => "error",
        }
    }

    /// From the protocol's name.
    pub fn parse(s: &str) -> Option<ScanVerdict> {
        match s {
            "clean" => Some(ScanVerdict::Clean),
            "flagged" => Some(ScanVerdict::Flagged),
            "error" => Some(ScanVerdict::Error),
            _ => None,
        }
    }
}

/// Everything an engine said about one input: the outcome, and what only some engines
/// report (the globals a scanner lists, its verdict, the process's stderr).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The value, error, poison, bare acceptance or crash.
    pub outcome: Outcome,
    /// The (module, name) globals the engine reports, in its order (a scanner's findings,
    /// or the find_class calls of an unpickler), when it reports them.
    pub globals: Option<Vec<(String, String)>>,
    /// A scanner's verdict.
    pub verdict: Option<ScanVerdict>,
    /// Wall time, ms.
    pub ms: f64,
    /// Informative text (a process's stderr tail).
    pub detail: String,
}

impl Answer {
    /// An answer carrying only an outcome.
    pub fn of(outcome: Outcome) -> Answer {
        Answer { outcome, globals: None, verdict: None, ms: 0.0, detail: String::new() }
    }
}

/// A pickle implementation under test or used as the reference: brine's codec, CPython's
/// two unpicklers, and every adapter process (crates/brine-harness) alike.
pub trait Engine: Sync {
    /// A short name for reports: `"codec"`, `"cpython-c"`, `"cpython-py"`, an adapter's name.
    fn name(&self) -> &str;

    /// Unpickles `data`. `buffers`: `None` for no `buffers=` argument, `Some(n)` for n
    /// writable (empty) out-of-band buffers.
    fn decode(&self, data: &[u8], buffers: Option<usize>) -> Outcome;

    /// The opcode stream as this engine's disassembler sees it (pickle JSON opcode-stream
    /// array in [`Outcome::Ok`]), or `None` when the engine has no disassembler.
    fn genops(&self, data: &[u8]) -> Option<Outcome> {
        let _ = data;
        None
    }

    /// Unpickles many inputs; engines with a per-call cost (a process, a trip to the
    /// interpreter thread) override it to pay that cost once. The default decodes one by
    /// one, ignoring `extensions` (engines that honour a registry override it).
    fn run_batch(&self, inputs: &[Input<'_>]) -> Vec<Answer> {
        inputs
            .iter()
            .map(|i| {
                let t = std::time::Instant::now();
                let mut a = Answer::of(self.decode(i.data, i.buffers));
                a.ms = t.elapsed().as_secs_f64() * 1e3;
                a
            })
            .collect()
    }
}

/// Parses JSON text that may nest as deep as a pickle does. Call on a big stack
/// ([`brine_codec::with_big_stack`]) for untrusted input.
pub(crate) fn parse_json(text: &str) -> Result<J, String> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let v = J::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

/// brine's reference codec ([`brine_codec`]) as an engine.
#[derive(Clone, Debug, Default)]
pub struct Codec {
    /// Options other than `buffers` (limits, extension registry, fix_imports).
    pub options: DecodeOptions,
}

impl Codec {
    /// The codec with default limits.
    pub fn new() -> Codec {
        Codec::default()
    }

    /// Decodes, returning the raw result too (the guard inspects the decoded heap).
    pub fn decode_raw(&self, data: &[u8], buffers: Option<usize>) -> Result<Decoded, Error> {
        if buffers == self.options.buffers {
            return decode_with(data, &self.options);
        }
        let opts = DecodeOptions { buffers, ..self.options.clone() };
        decode_with(data, &opts)
    }

    /// The [`Outcome`] of a raw decode result.
    pub fn outcome(result: &Result<Decoded, Error>) -> Outcome {
        match result {
            Ok(_) => Codec::text_outcome(&brine_codec::json::result_to_json(result)),
            Err(e) => error_outcome(e),
        }
    }

    /// The [`Outcome`] of a decoded document's JSON text ([`brine_codec::json::result_to_json`]).
    pub fn text_outcome(text: &str) -> Outcome {
        match parse_json(text) {
            Ok(j) => Outcome::Ok(j),
            Err(e) => Outcome::Err { class: "brine-json-bug".into(), message: e },
        }
    }
}

/// A codec error as an outcome: brine's limits (and CPython's deterministic MemoryError)
/// are poisons, everything else the exception class CPython would raise.
pub fn error_outcome(e: &Error) -> Outcome {
    if e.classify() == Category::Limit {
        let kind = match e.code {
            ErrorCode::Memory(_) => PoisonKind::MemoryError,
            _ => PoisonKind::Limit,
        };
        return Outcome::Poisoned(Poison::new(kind, e.to_string()));
    }
    Outcome::Err { class: e.code.py_exception().to_string(), message: e.to_string() }
}

impl Engine for Codec {
    fn name(&self) -> &str {
        "codec"
    }

    fn run_batch(&self, inputs: &[Input<'_>]) -> Vec<Answer> {
        inputs
            .iter()
            .map(|i| {
                let t = std::time::Instant::now();
                let opts = DecodeOptions {
                    buffers: i.buffers,
                    extensions: i.extensions.iter().map(|(m, n, c)| (*c, (m.clone(), n.clone()))).collect(),
                    ..self.options.clone()
                };
                let mut a = Answer::of(Codec::outcome(&decode_with(i.data, &opts)));
                a.ms = t.elapsed().as_secs_f64() * 1e3;
                a
            })
            .collect()
    }

    fn decode(&self, data: &[u8], buffers: Option<usize>) -> Outcome {
        Codec::outcome(&self.decode_raw(data, buffers))
    }

    fn genops(&self, data: &[u8]) -> Option<Outcome> {
        Some(match parse_json(&brine_codec::dis::genops(data).to_json()) {
            Ok(j) => Outcome::Ok(j),
            Err(e) => Outcome::Err { class: "brine-json-bug".into(), message: e },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_outcomes() {
        let c = Codec::new();
        assert_eq!(c.decode(b"K\x01.", None), Outcome::Ok(serde_json::json!({"t":"int","v":"1"})));
        match c.decode(b"\xff", None) {
            Outcome::Err { class, .. } => assert_eq!(class, "UnpicklingError"),
            o => panic!("{o:?}"),
        }
        let g = c.genops(b"N.").unwrap();
        assert!(matches!(g, Outcome::Ok(J::Array(ref a)) if a.len() == 2));
    }

    #[test]
    fn error_nodes_map_to_poisons() {
        assert!(matches!(Outcome::from_error_class("MemoryError", ""), Outcome::Poisoned(_)));
        assert!(matches!(Outcome::from_error_class("Timeout", ""), Outcome::Poisoned(_)));
        assert!(matches!(Outcome::from_error_class("KeyError", ""), Outcome::Err { .. }));
    }
}
