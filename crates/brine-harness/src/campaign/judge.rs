//! Judging one case: the reference's answer (brine's codec, which agrees with CPython 3.11's C
//! unpickler; every finding is later confirmed live) against the implementation's, and the
//! signature that deduplicates discrepancies.
//!
//! Decoders are judged as `check-impl` judges corpus cases: `should-accept`,
//! `should-reject`, `wrong-value` (under the adapter's leniencies, and only when it prints
//! values), `crash`, `timeout`. A rejection naming another exception class is not a
//! discrepancy (it is `wrong-error` in the matrix). Scanners are judged on what they exist
//! for, not on accept/reject: a `miss` is a global CPython's `find_class` receives that the
//! scanner does not report, a `fail-open` a clean verdict on a pickle that makes CPython
//! resolve a global the scanner flags when it sees it plainly; scanners can `crash` and
//! `timeout` too.

use crate::impls::lenient::Lenient;
use brine_oracle::engine::{Answer, Outcome, PoisonKind, ScanVerdict};
use serde_json::Value as J;
use std::collections::BTreeSet;

/// A discrepancy, before minimization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discrepancy {
    /// `should-accept`, `should-reject`, `wrong-value`, `crash`, `timeout`, `miss`,
    /// `fail-open`.
    pub status: &'static str,
    /// What kept it apart, blurred of case-specific numbers: the implementation's exception
    /// class (should-accept), CPython's (should-reject), the first differing path
    /// (wrong-value), the crash's first words, the missed global.
    pub class: String,
    /// One line for people.
    pub detail: String,
}

impl Discrepancy {
    /// What minimization keeps fixed: status and class.
    pub fn kind(&self) -> String {
        format!("{}/{}", self.status, self.class)
    }
}

/// How much of a value an adapter prints (adapter.json `values`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Every value it builds.
    Full,
    /// Only some (a value it cannot write is not printed).
    Scalars,
    /// None: judged on accept/reject only.
    None,
}

/// A decoder's answer against the reference outcome. `python` is CPython's pure-Python
/// unpickler's outcome when known: agreeing with it is implementation-defined, not a
/// discrepancy.
pub fn decoder(reference: &Outcome, python: Option<&Outcome>, answer: &Answer, values: Values, lenient: &Lenient) -> Option<Discrepancy> {
    if matches!(reference, Outcome::Poisoned(_) | Outcome::Crashed(_)) {
        return None;
    }
    let d = |status, class: String, detail: String| Some(Discrepancy { status, class, detail });
    let got = match &answer.outcome {
        Outcome::Crashed(detail) => return d("crash", blur_words(detail), detail.clone()),
        Outcome::Poisoned(p) if p.kind == PoisonKind::Time => return d("timeout", String::new(), p.detail.clone()),
        Outcome::Poisoned(_) => return None,
        o => o,
    };
    let agrees_with_python = |o: &Outcome| python.is_some_and(|p| same_class(p, o, lenient));
    match (reference, got) {
        (Outcome::Ok(_), Outcome::Err { class, message }) => {
            (!agrees_with_python(got)).then(|| Discrepancy {
                status: "should-accept",
                class: if class.is_empty() { "(unnamed)".into() } else { class.clone() },
                detail: format!("rejected: {class}: {}", first_line(message)),
            })
        }
        (Outcome::Err { class, .. }, Outcome::Ok(_) | Outcome::Accepted) => {
            (!agrees_with_python(got)).then(|| Discrepancy {
                status: "should-reject",
                class: class.clone(),
                detail: format!("accepted; CPython raises {class}"),
            })
        }
        (Outcome::Ok(want), Outcome::Ok(have)) if values != Values::None => {
            let (w, h) = (lenient.apply(want), lenient.apply(have));
            match brine_codec::json::compare(&w, &h) {
                Ok(()) => None,
                Err(m) if !agrees_with_python(got) => {
                    d("wrong-value", value_class(&w, &h, &m.path), format!("at {}: {}", m.path, m.what))
                }
                Err(_) => None,
            }
        }
        _ => None,
    }
}

/// A wrong value's class: the node types where the documents part (`str≠bytes`, or
/// `int value` when the types agree), which does not change as minimization moves the place.
fn value_class(want: &J, have: &J, path: &str) -> String {
    let type_at = |doc: &J| -> String {
        // The deepest node on the path that has a type.
        let mut p = path.trim_end_matches('/').to_string();
        loop {
            if let Some(t) = doc.pointer(&p).and_then(|n| n.get("t")).and_then(J::as_str) {
                return t.to_string();
            }
            match p.rfind('/') {
                Some(i) => p.truncate(i),
                None => return doc.get("t").and_then(J::as_str).unwrap_or("?").to_string(),
            }
        }
    };
    let (a, b) = (type_at(want), type_at(have));
    if a == b {
        format!("{a} value")
    } else {
        format!("{a}≠{b}")
    }
}

/// Whether two outcomes are alike enough for the i_ rule: both accept with equal values
/// (or one shows none), or both reject.
fn same_class(a: &Outcome, b: &Outcome, lenient: &Lenient) -> bool {
    match (a, b) {
        (Outcome::Ok(x), Outcome::Ok(y)) => brine_codec::json::compare(&lenient.apply(x), &lenient.apply(y)).is_ok(),
        (Outcome::Ok(_) | Outcome::Accepted, Outcome::Ok(_) | Outcome::Accepted) => true,
        (Outcome::Err { .. }, Outcome::Err { .. }) => true,
        _ => false,
    }
}

/// A module name as scanners and CPython may spell it: the Python 2 `__builtin__` is
/// `builtins` (fix_imports maps it, and scanners map it themselves).
pub fn normalize_module(m: &str) -> &str {
    match m {
        "__builtin__" => "builtins",
        m => m,
    }
}

/// A scanner's answer against the globals CPython resolves (`resolved`, in `find_class`
/// order) and the globals the scanner flags when it sees them plainly (`flags`).
pub fn scanner(resolved: &[(String, String)], flags: &BTreeSet<(String, String)>, answer: &Answer) -> Option<Discrepancy> {
    let d = |status, class: String, detail: String| Some(Discrepancy { status, class, detail });
    match &answer.outcome {
        Outcome::Crashed(detail) => return d("crash", blur_words(detail), detail.clone()),
        Outcome::Poisoned(p) if p.kind == PoisonKind::Time => return d("timeout", String::new(), p.detail.clone()),
        _ => {}
    }
    let norm = |(m, n): &(String, String)| (normalize_module(m).to_string(), n.clone());
    let reported: BTreeSet<(String, String)> = answer.globals.iter().flatten().map(norm).collect();
    // A fail-open is the graver of the two: the file gets through.
    if answer.verdict == Some(ScanVerdict::Clean) {
        if let Some(g) = resolved.iter().map(norm).find(|g| flags.contains(g)) {
            return d(
                "fail-open",
                String::new(),
                format!("verdict clean; CPython resolves {}.{}, which the scanner flags in a plain pickle", g.0, g.1),
            );
        }
    }
    if answer.globals.is_some() {
        if let Some(missed) = resolved.iter().map(norm).find(|g| !reported.contains(g)) {
            return d(
                "miss",
                String::new(),
                format!("CPython resolves {}.{}; the scanner reports {}", missed.0, missed.1, list(&reported)),
            );
        }
    }
    None
}

fn list(g: &BTreeSet<(String, String)>) -> String {
    if g.is_empty() {
        return "nothing".into();
    }
    g.iter().map(|(m, n)| format!("{m}.{n}")).collect::<Vec<_>>().join(", ")
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(160).collect()
}

pub use brine_oracle::render::blur_numbers as blur;

/// The first few words of a crash message, blurred (`exit N; stderr: thread 'main'
/// panicked at src/de.rs:N:N`), as a crash's class.
fn blur_words(s: &str) -> String {
    let s = s.split(" | ").next().unwrap_or(s);
    blur(&s.chars().take(120).collect::<String>())
}

/// The opcodes of a (minimized) pickle, in order of first appearance, STOP left out: the
/// part of a signature that says where the outcomes part (`PROTO+FRAME+SHORT_BINUNICODE`).
/// Bytes that are no opcode end the list as `?`.
pub fn ops_of(data: &[u8]) -> String {
    let d = brine_codec::dis::genops(data);
    let mut seen: Vec<String> = vec![];
    for op in &d.ops {
        let name = op.op.name().unwrap_or("?").to_string();
        if name != "STOP" && !seen.contains(&name) {
            seen.push(name);
        }
    }
    if d.error.is_some() {
        seen.push("?".into());
    }
    if seen.is_empty() {
        "(empty)".into()
    } else {
        seen.join("+")
    }
}

/// The deduplication signature: `status/opcodes/class`; for a scanner's miss or fail-open,
/// `status/features` (see [`features_of`]), since a scanner is bypassed by a way of naming a
/// global, whatever the global and whatever filler minimization could not remove.
pub fn signature(d: &Discrepancy, minimized: &[u8]) -> String {
    match d.status {
        "miss" | "fail-open" => format!("{}/{}", d.status, features_of(minimized)),
        _ => format!("{}/{}/{}", d.status, ops_of(minimized), d.class),
    }
}

/// How a pickle names its globals, as the ways scanners are bypassed: the resolving opcodes
/// (GLOBAL, STACK_GLOBAL, INST, OBJ, EXT), and what feeds them (memo fetches, DUP, str
/// opcodes other than the ones picklers write, frames, non-ASCII names), whether the stream
/// ends without STOP (`no-stop`: the payload runs before the error) and whether bytes follow
/// STOP (`after-stop`).
pub fn features_of(data: &[u8]) -> String {
    let d = brine_codec::dis::genops(data);
    let mut f: BTreeSet<&'static str> = BTreeSet::new();
    for op in &d.ops {
        let name = op.op.name().unwrap_or("?");
        let feature = match name {
            "GLOBAL" | "STACK_GLOBAL" | "INST" | "OBJ" | "REDUCE" | "NEWOBJ" | "NEWOBJ_EX" | "BUILD" | "DUP" | "FRAME" => name,
            "EXT1" | "EXT2" | "EXT4" => "EXT",
            "GET" | "BINGET" | "LONG_BINGET" => "memo-get",
            "STRING" | "BINSTRING" | "SHORT_BINSTRING" => "bytes-str",
            "UNICODE" => "unicode-line",
            _ => continue,
        };
        f.insert(feature);
    }
    // An opcode the disassembler stopped at (pickletools rejects a GLOBAL line that is not
    // ASCII-decodable, which CPython's unpickler reads as UTF-8).
    if let Some(e) = &d.error {
        match data.get(e.pos) {
            Some(b'c') => {
                f.insert("GLOBAL");
            }
            Some(b'i') => {
                f.insert("INST");
            }
            _ => {}
        }
    }
    if (f.contains("GLOBAL") || f.contains("INST")) && !data.is_ascii() {
        f.insert("non-ascii");
    }
    match (&d.error, d.ops.last()) {
        (Some(_), _) => {
            f.insert("no-stop");
        }
        (None, Some(stop)) if stop.pos + 1 < data.len() => {
            f.insert("after-stop");
        }
        _ => {}
    }
    if f.is_empty() {
        "(none)".into()
    } else {
        f.into_iter().collect::<Vec<_>>().join("+")
    }
}

/// What an answer was, as a node for KEY.json and reports.
pub fn answer_node(a: &Answer) -> J {
    let mut n = a.outcome.to_node();
    if let (Some(g), J::Object(m)) = (&a.globals, &mut n) {
        m.insert("globals".into(), J::Array(g.iter().map(|(x, y)| serde_json::json!([x, y])).collect()));
    }
    if let (Some(v), J::Object(m)) = (a.verdict, &mut n) {
        m.insert("verdict".into(), J::from(v.name()));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use brine_oracle::engine::Poison;
    use serde_json::json;

    fn err(c: &str) -> Outcome {
        Outcome::Err { class: c.into(), message: String::new() }
    }

    #[test]
    fn decoder_statuses() {
        let one = Outcome::Ok(json!({"t":"int","v":"1"}));
        let two = Outcome::Ok(json!({"t":"int","v":"2"}));
        let l = Lenient::default();
        let st = |r: &Outcome, py: Option<&Outcome>, a: Outcome, v: Values| {
            decoder(r, py, &Answer::of(a), v, &l).map(|d| d.status)
        };
        assert_eq!(st(&one, None, one.clone(), Values::Full), None);
        assert_eq!(st(&one, None, Outcome::Accepted, Values::Full), None);
        assert_eq!(st(&one, None, two.clone(), Values::Full), Some("wrong-value"));
        assert_eq!(st(&one, None, two.clone(), Values::None), None);
        assert_eq!(st(&one, None, err("ValueError"), Values::Full), Some("should-accept"));
        // Agreeing with CPython's pure-Python unpickler is implementation-defined.
        assert_eq!(st(&one, Some(&err("KeyError")), err("ValueError"), Values::Full), None);
        assert_eq!(st(&err("EOFError"), None, Outcome::Accepted, Values::None), Some("should-reject"));
        assert_eq!(st(&err("EOFError"), None, err("ValueError"), Values::Full), None);
        assert_eq!(st(&one, None, Outcome::Crashed("signal 11".into()), Values::Full), Some("crash"));
        let time = Outcome::Poisoned(Poison::new(PoisonKind::Time, "10 s"));
        assert_eq!(st(&one, None, time.clone(), Values::Full), Some("timeout"));
        // A reference that hit a limit judges nothing.
        assert_eq!(st(&time, None, err("X"), Values::Full), None);
    }

    #[test]
    fn scanner_misses_and_fail_opens() {
        let resolved = vec![("__builtin__".to_string(), "eval".to_string())];
        let flags: BTreeSet<_> = [("builtins".to_string(), "eval".to_string())].into();
        let mut a = Answer::of(Outcome::Accepted);
        a.globals = Some(vec![("builtins".into(), "eval".into())]);
        a.verdict = Some(ScanVerdict::Flagged);
        assert_eq!(scanner(&resolved, &flags, &a), None, "old names are equal");
        a.globals = Some(vec![]);
        assert_eq!(scanner(&resolved, &flags, &a).map(|d| d.status), Some("miss"));
        a.globals = Some(vec![("builtins".into(), "eval".into())]);
        a.verdict = Some(ScanVerdict::Clean);
        assert_eq!(scanner(&resolved, &flags, &a).map(|d| d.status), Some("fail-open"));
        a.verdict = Some(ScanVerdict::Error);
        assert_eq!(scanner(&resolved, &flags, &a), None);
    }

    #[test]
    fn signatures() {
        assert_eq!(ops_of(b"\x80\x04N."), "PROTO+NONE");
        assert_eq!(ops_of(b"N\xff"), "NONE+?");
        assert_eq!(blur("/items/12/v"), "/items/N/v");
    }
}
