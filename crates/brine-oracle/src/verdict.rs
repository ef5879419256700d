//! Verdicts: what two engines' outcomes for one pickle say about each other.
//!
//! Agreement has two forms ([`Verdict::Same`], [`Verdict::SameError`]), disagreement three
//! ([`Verdict::DifferentErrors`], [`Verdict::OneRejects`], [`Verdict::ValuesDiffer`]), and a
//! poisoned comparison ([`Verdict::Poisoned`]) is neither: an engine hit a resource limit,
//! which says nothing about correctness. Every disagreement carries a [`Diff`].
//! Documents are compared with [`brine_codec::json::compare`] (the spec's equality: ids up to
//! renaming, sets unordered, error nodes by class); opcode streams by op, position and
//! argument, errors by class and position.

use crate::engine::{Outcome, Poison};
use crate::render;
use serde_json::Value as J;

/// Where and how two outcomes differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diff {
    /// The first difference: a path into the documents and what differs there.
    pub first: String,
    /// A unified diff of the two pretty-printed documents (or listings).
    pub text: String,
}

/// The comparison of two outcomes, `a` and `b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Equal documents.
    Same,
    /// Both rejected the pickle with this exception class.
    SameError(String),
    /// Both rejected it, with different exception classes.
    DifferentErrors {
        /// `a`'s class.
        a: String,
        /// `b`'s class.
        b: String,
        /// The two error nodes, diffed.
        diff: Diff,
    },
    /// One accepted and the other rejected.
    OneRejects {
        /// The engine that built a value.
        accepting: String,
        /// The engine that raised.
        rejecting: String,
        /// The exception class it raised.
        error: String,
        /// The document against the error node.
        diff: Diff,
    },
    /// Both built values, and they differ.
    ValuesDiffer(Diff),
    /// An engine died (a process adapter's crash): a disagreement with any answer.
    Crashed {
        /// The engine that died.
        engine: String,
        /// How (exit status, signal, stderr tail).
        detail: String,
    },
    /// At least one side hit a resource limit: no verdict.
    Poisoned(Poison),
}

impl Verdict {
    /// Whether the engines disagree (Poisoned is not a disagreement).
    pub fn is_disagreement(&self) -> bool {
        matches!(
            self,
            Verdict::DifferentErrors { .. } | Verdict::OneRejects { .. } | Verdict::ValuesDiffer(_) | Verdict::Crashed { .. }
        )
    }

    /// A short stable name: `same`, `same-error`, `different-errors`, `one-rejects`,
    /// `values-differ`, `crashed`, `poisoned`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::SameError(_) => "same-error",
            Verdict::DifferentErrors { .. } => "different-errors",
            Verdict::OneRejects { .. } => "one-rejects",
            Verdict::ValuesDiffer(_) => "values-differ",
            Verdict::Crashed { .. } => "crashed",
            Verdict::Poisoned(_) => "poisoned",
        }
    }

    /// The diff, for disagreements.
    pub fn diff(&self) -> Option<&Diff> {
        match self {
            Verdict::DifferentErrors { diff, .. } | Verdict::OneRejects { diff, .. } | Verdict::ValuesDiffer(diff) => Some(diff),
            _ => None,
        }
    }

    /// One line saying what the verdict is.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Same => "same".into(),
            Verdict::SameError(c) => format!("same error ({c})"),
            Verdict::DifferentErrors { a, b, .. } => format!("different errors: {a} vs {b}"),
            Verdict::OneRejects { accepting, rejecting, error, .. } => {
                format!("{accepting} accepts, {rejecting} raises {error}")
            }
            Verdict::ValuesDiffer(d) => format!("values differ at {}", d.first),
            Verdict::Crashed { engine, detail } => format!("{engine} crashed: {detail}"),
            Verdict::Poisoned(p) => format!("poisoned ({p})"),
        }
    }

    /// As JSON for reports: `{"verdict": name, "summary": .., "diff": ..}`.
    pub fn to_json(&self) -> J {
        let mut m = serde_json::Map::new();
        m.insert("verdict".into(), J::from(self.name()));
        m.insert("summary".into(), J::from(self.summary()));
        if let Some(d) = self.diff() {
            m.insert("first".into(), J::from(d.first.clone()));
            m.insert("diff".into(), J::from(d.text.clone()));
        }
        J::Object(m)
    }
}

/// The diff of two documents; with `render` false only where they first differ (the text
/// is then empty: rendering costs more than a small check).
fn diff_nodes(a_name: &str, a: &J, b_name: &str, b: &J, first: String, render: bool) -> Diff {
    if !render {
        return Diff { first, text: String::new() };
    }
    Diff { first, text: render::unified(a_name, &render::pretty(a), b_name, &render::pretty(b)) }
}

/// Compares two decode outcomes: `a` from engine `a_name`, `b` from `b_name`.
pub fn compare(a_name: &str, a: &Outcome, b_name: &str, b: &Outcome) -> Verdict {
    compare_rendered(a_name, a, b_name, b, true)
}

/// [`compare`], with the diffs of disagreements rendered or not (`render`).
pub fn compare_rendered(a_name: &str, a: &Outcome, b_name: &str, b: &Outcome, render: bool) -> Verdict {
    match (a, b) {
        (Outcome::Crashed(d), _) => Verdict::Crashed { engine: a_name.into(), detail: d.clone() },
        (_, Outcome::Crashed(d)) => Verdict::Crashed { engine: b_name.into(), detail: d.clone() },
        (Outcome::Poisoned(p), _) | (_, Outcome::Poisoned(p)) => Verdict::Poisoned(p.clone()),
        // A bare acceptance agrees with any value.
        (Outcome::Accepted, Outcome::Ok(_) | Outcome::Accepted) | (Outcome::Ok(_), Outcome::Accepted) => Verdict::Same,
        // Identical documents (ids numbered alike) are the common case: skip the walk.
        (Outcome::Ok(x), Outcome::Ok(y)) if x == y => Verdict::Same,
        (Outcome::Ok(x), Outcome::Ok(y)) => match brine_codec::json::compare(x, y) {
            Ok(()) => Verdict::Same,
            Err(m) => Verdict::ValuesDiffer(diff_nodes(a_name, x, b_name, y, format!("{}: {}", m.path, m.what), render)),
        },
        (Outcome::Err { class: ca, .. }, Outcome::Err { class: cb, .. }) => {
            if ca == cb {
                Verdict::SameError(ca.clone())
            } else {
                Verdict::DifferentErrors {
                    a: ca.clone(),
                    b: cb.clone(),
                    diff: diff_nodes(a_name, &a.to_node(), b_name, &b.to_node(), format!("/: {ca} vs {cb}"), render),
                }
            }
        }
        (Outcome::Ok(_) | Outcome::Accepted, Outcome::Err { class, .. })
        | (Outcome::Err { class, .. }, Outcome::Ok(_) | Outcome::Accepted) => {
            let a_accepts = a.accepted();
            let (acc, rej) = if a_accepts { (a_name, b_name) } else { (b_name, a_name) };
            Verdict::OneRejects {
                accepting: acc.to_string(),
                rejecting: rej.to_string(),
                error: class.clone(),
                diff: diff_nodes(a_name, &a.to_node(), b_name, &b.to_node(), format!("/: {acc} accepts, {rej} raises {class}"), render),
            }
        }
    }
}

/// Compares two opcode streams (pickle JSON opcode-stream arrays in [`Outcome::Ok`]).
pub fn compare_genops(a_name: &str, a: &Outcome, b_name: &str, b: &Outcome) -> Verdict {
    let (x, y) = match (a, b) {
        (Outcome::Poisoned(p), _) | (_, Outcome::Poisoned(p)) => return Verdict::Poisoned(p.clone()),
        (Outcome::Ok(x), Outcome::Ok(y)) => (x, y),
        _ => return compare(a_name, a, b_name, b),
    };
    let empty = vec![];
    let (xa, ya) = (x.as_array().unwrap_or(&empty), y.as_array().unwrap_or(&empty));
    let mut first = None;
    for i in 0..xa.len().max(ya.len()) {
        let (p, q) = (xa.get(i), ya.get(i));
        let differs = match (p, q) {
            (Some(p), Some(q)) => !entry_eq(p, q),
            _ => true,
        };
        if differs {
            first = Some(format!("op {i}: {} vs {}", p.map_or("(end)".into(), |v| v.to_string()), q.map_or("(end)".into(), |v| v.to_string())));
            break;
        }
    }
    let Some(first) = first else { return Verdict::Same };
    let diff = Diff { first, text: render::unified(a_name, &render::listing(x), b_name, &render::listing(y)) };
    let err = |v: &[J]| v.last().filter(|e| e.get("t").and_then(J::as_str) == Some("error")).and_then(|e| e.get("type")).and_then(J::as_str).map(str::to_string);
    match (err(xa), err(ya)) {
        (Some(ea), Some(eb)) if ea != eb => Verdict::DifferentErrors { a: ea, b: eb, diff },
        (Some(e), None) => Verdict::OneRejects { accepting: b_name.into(), rejecting: a_name.into(), error: e, diff },
        (None, Some(e)) => Verdict::OneRejects { accepting: a_name.into(), rejecting: b_name.into(), error: e, diff },
        _ => Verdict::ValuesDiffer(diff),
    }
}

/// One opcode-stream entry against another: op, pos and arg; error entries by type and pos.
fn entry_eq(p: &J, q: &J) -> bool {
    let is_err = |v: &J| v.get("t").and_then(J::as_str) == Some("error");
    match (is_err(p), is_err(q)) {
        (true, true) => p.get("type") == q.get("type") && p.get("pos") == q.get("pos"),
        (false, false) => {
            p.get("op") == q.get("op")
                && p.get("pos") == q.get("pos")
                && match (p.get("arg"), q.get("arg")) {
                    (Some(J::Null) | None, Some(J::Null) | None) => true,
                    (Some(x), Some(y)) => x == y || brine_codec::json::compare(x, y).is_ok(),
                    _ => false,
                }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(c: &str) -> Outcome {
        Outcome::Err { class: c.into(), message: String::new() }
    }

    #[test]
    fn verdict_kinds() {
        let one = Outcome::Ok(json!({"t":"int","v":"1"}));
        let two = Outcome::Ok(json!({"t":"int","v":"2"}));
        assert_eq!(compare("a", &one, "b", &one.clone()), Verdict::Same);
        assert!(matches!(compare("a", &one, "b", &two), Verdict::ValuesDiffer(_)));
        assert_eq!(compare("a", &err("KeyError"), "b", &err("KeyError")), Verdict::SameError("KeyError".into()));
        assert!(matches!(compare("a", &err("KeyError"), "b", &err("IndexError")), Verdict::DifferentErrors { .. }));
        match compare("a", &err("KeyError"), "b", &one) {
            Verdict::OneRejects { accepting, rejecting, diff, .. } => {
                assert_eq!((accepting.as_str(), rejecting.as_str()), ("b", "a"));
                assert!(diff.text.contains("KeyError"), "{}", diff.text);
            }
            v => panic!("{v:?}"),
        }
        let p = Outcome::Poisoned(Poison::new(crate::engine::PoisonKind::MemoryError, "x"));
        assert!(!compare("a", &p, "b", &one).is_disagreement());
    }

    #[test]
    fn genops_verdicts() {
        let a = Outcome::Ok(json!([{"op":"NONE","arg":null,"pos":0},{"op":"STOP","arg":null,"pos":1}]));
        let b = Outcome::Ok(json!([{"op":"NONE","arg":null,"pos":0},{"t":"error","type":"ValueError","message":"m","pos":1}]));
        assert_eq!(compare_genops("x", &a, "y", &a.clone()), Verdict::Same);
        let v = compare_genops("x", &a, "y", &b);
        assert!(matches!(v, Verdict::OneRejects { ref rejecting, .. } if rejecting == "y"), "{v:?}");
        assert!(v.diff().unwrap().text.contains("raises ValueError"));
    }
}
