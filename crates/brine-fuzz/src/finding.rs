//! What a target reports when a property breaks, and what triage proposes from it.

use serde_json::Value as J;
use std::fmt;

/// How a finding is classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The codec is wrong: it disagrees with CPython's C pickle module (or with itself:
    /// encode/decode, decoder/disassembler), or breaks one of its own guarantees.
    CodecBug,
    /// A panic inside brine (triage's class for a crash whose message is no [`Finding`]).
    Panic,
    /// CPython's C and pure-Python unpicklers differ (a finding about CPython, never a
    /// failure of the target).
    CVsPython,
    /// A resource limit: a timeout or out-of-memory artifact, or a poisoned comparison.
    Limit,
}

impl Kind {
    /// A short stable name for reports and keys.
    pub fn name(self) -> &'static str {
        match self {
            Kind::CodecBug => "codec-bug",
            Kind::Panic => "panic",
            Kind::CVsPython => "c-vs-python",
            Kind::Limit => "limit",
        }
    }
}

/// A broken property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The target that found it.
    pub target: &'static str,
    /// Its class.
    pub kind: Kind,
    /// Which property or verdict, e.g. `one-rejects`, `bytes-differ`, `boundary`.
    pub what: String,
    /// Where: the first differing path, or a byte offset.
    pub at: String,
    /// Everything else worth reading (a diff, the two outcomes).
    pub detail: String,
}

impl Finding {
    /// A codec bug.
    pub fn bug(target: &'static str, what: impl Into<String>, at: impl Into<String>, detail: impl Into<String>) -> Finding {
        Finding { target, kind: Kind::CodecBug, what: what.into(), at: at.into(), detail: detail.into() }
    }

    /// The deduplication key: target, class, property and the place with its numbers
    /// blurred (the same bug at item 3 and at item 7 is one finding).
    pub fn key(&self) -> String {
        format!("{}/{}/{}/{}", self.target, self.kind.name(), self.what, blur(&self.at))
    }

    /// Panics with this finding (how a target reports it to libFuzzer).
    pub fn fail(&self) -> ! {
        panic!("{self}")
    }
}

/// Replaces each run of digits by `N`, and cuts at the first `:` after the path (what
/// follows is a description of values, not a place).
pub fn blur(s: &str) -> String {
    brine_oracle::render::blur_numbers(s.split(": ").next().unwrap_or(s))
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "brine-fuzz {}: {}: {} at {}", self.target, self.kind.name(), self.what, self.at)?;
        if !self.detail.is_empty() {
            write!(f, "\n{}", self.detail)?;
        }
        Ok(())
    }
}

/// What an input stands for, in the corpus's terms.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Case {
    /// A pickle and the out-of-band buffers to load it with.
    pub pickle: Option<(Vec<u8>, Option<usize>)>,
    /// A pickle JSON document and the protocol it was encoded at (value targets).
    pub document: Option<(J, u8)>,
}

impl Case {
    /// As JSON: `{"pickle_hex", "buffers", "document", "protocol"}` (fields present when set).
    pub fn to_json(&self) -> J {
        let mut m = serde_json::Map::new();
        if let Some((p, b)) = &self.pickle {
            m.insert("pickle_hex".into(), J::from(brine_codec::hex::encode(p)));
            m.insert("buffers".into(), J::from(b.unwrap_or(0)));
        }
        if let Some((d, p)) = &self.document {
            m.insert("document".into(), d.clone());
            m.insert("protocol".into(), J::from(*p));
        }
        J::Object(m)
    }
}

/// For the targets whose input is the pickle itself.
pub fn pickle_case(data: &[u8]) -> Option<Case> {
    Some(Case { pickle: Some((data.to_vec(), None)), document: None })
}
