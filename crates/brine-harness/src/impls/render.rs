//! Reports of a check: the terminal summary, unified diffs of documents, and the JSON form
//! (`--json OUT`, and target/matrix/NAME.json).

use super::check::{Report, Status};
use serde_json::{json, Value as J};
use std::fmt::Write as _;

/// A unified diff of two documents, each pretty-printed one node per line: the oracle's
/// renderer ([`brine_oracle::render`]), so the conformance run, `brine compare`, the matrix
/// and campaigns show differences alike.
pub fn diff_docs(a: &J, b: &J, a_name: &str, b_name: &str) -> String {
    use brine_oracle::render::{pretty, unified};
    unified(a_name, &pretty(a), b_name, &pretty(b))
}

/// "value", "error:ValueError" ...
pub fn short_outcome(n: &J) -> String {
    match n.get("t").and_then(J::as_str) {
        Some("error") => format!("error:{}", n.get("type").and_then(J::as_str).unwrap_or("?")),
        Some(t) => t.to_string(),
        None => "?".into(),
    }
}

/// The summary table and the failures (with diffs), for a terminal.
pub fn summary_text(r: &Report, max_failures: usize) -> String {
    let o = &r.options;
    let mut s = String::new();
    let version = if o.version.is_empty() { String::new() } else { format!(" {}", o.version) };
    let _ = writeln!(
        s,
        "\n{}{version}: {} decode cases, {} encode cases in {:.1} s ({:.0} cases/s, {})",
        o.name,
        r.decode.len(),
        r.encode.len(),
        r.elapsed.as_secs_f64(),
        (r.decode.len() + r.encode.len()) as f64 / r.elapsed.as_secs_f64().max(1e-9),
        if o.persistent { "persistent" } else { "one process per case" }
    );
    if !o.lenient.is_strict() {
        let _ = writeln!(s, "leniencies: {}", o.lenient.names().join(", "));
    }
    if !r.decode.is_empty() {
        let _ = writeln!(s, "\ndecode ({} values compared)", r.values_checked());
        let _ = writeln!(s, "  {:<14} {:>6} {:>6} {:>6}", "status", "y_", "n_", "i_");
        for st in Status::ALL {
            let count = |e: char| r.decode.iter().filter(|c| c.status == st && c.expect.letter() == e).count();
            let (y, n, i) = (count('y'), count('n'), count('i'));
            if y + n + i > 0 {
                let _ = writeln!(s, "  {:<14} {y:>6} {n:>6} {i:>6}", st.name());
            }
        }
    }
    if !r.encode.is_empty() {
        let _ = writeln!(s, "\nencode (y_ documents, read back by CPython)");
        for (st, n) in r.encode_counts() {
            if n > 0 {
                let _ = writeln!(s, "  {:<14} {n:>6}", st.name());
            }
        }
    }
    let failures: Vec<_> = r.decode.iter().filter(|c| c.status.is_failure()).collect();
    if !failures.is_empty() {
        let _ = writeln!(s, "\ndecode failures ({}; first {}):", failures.len(), max_failures.min(failures.len()));
        for c in failures.iter().take(max_failures) {
            let _ = writeln!(s, "  {:<14} {}  {}", c.status.name(), c.name, c.detail);
            if let Some(d) = &c.diff {
                for line in d.lines() {
                    let _ = writeln!(s, "      {line}");
                }
            }
        }
    }
    let enc_fail: Vec<_> = r.encode.iter().filter(|c| !matches!(c.status.name(), "pass" | "refused")).collect();
    if !enc_fail.is_empty() {
        let _ = writeln!(s, "\nencode failures ({}; first {}):", enc_fail.len(), max_failures.min(enc_fail.len()));
        for c in enc_fail.iter().take(max_failures) {
            let _ = writeln!(s, "  {:<14} {} (protocol {})  {}", c.status.name(), c.name, c.protocol, c.detail);
            if let Some(d) = &c.diff {
                for line in d.lines() {
                    let _ = writeln!(s, "      {line}");
                }
            }
        }
    }
    s
}

/// The JSON report: options, counts, and one entry per case.
pub fn to_json(r: &Report) -> J {
    let o = &r.options;
    let decode_counts: serde_json::Map<String, J> =
        r.decode_counts().into_iter().map(|(s, n)| (s.name().to_string(), json!(n))).collect();
    let encode_counts: serde_json::Map<String, J> =
        r.encode_counts().into_iter().map(|(s, n)| (s.name().to_string(), json!(n))).collect();
    let cases: Vec<J> = r
        .decode
        .iter()
        .map(|c| {
            let mut v = json!({
                "name": c.name, "expect": c.expect.letter().to_string(), "status": c.status.name(),
                "value_checked": c.value_checked, "ms": c.ms,
            });
            if let Some(t) = &c.error_type {
                v["error_type"] = json!(t);
            }
            if let Some(a) = c.agrees_with {
                v["agrees_with"] = json!(a);
            }
            if !c.detail.is_empty() {
                v["detail"] = json!(c.detail);
            }
            if let Some(d) = &c.diff {
                v["diff"] = json!(d);
            }
            v
        })
        .collect();
    let enc: Vec<J> = r
        .encode
        .iter()
        .map(|c| {
            let mut v = json!({"name": c.name, "protocol": c.protocol, "status": c.status.name(), "ms": c.ms});
            if !c.detail.is_empty() {
                v["detail"] = json!(c.detail);
            }
            if let Some(d) = &c.diff {
                v["diff"] = json!(d);
            }
            if let Some(h) = &c.pickle_hex {
                v["pickle"] = json!(h);
            }
            v
        })
        .collect();
    json!({
        "implementation": o.name,
        "version": o.version,
        "decoder": o.decoder,
        "encoder": o.encoder,
        "lenient": o.lenient.names(),
        "timeout_s": o.timeout.as_secs_f64(),
        "memory_mb": o.memory_mb,
        "jobs": o.jobs,
        "persistent": o.persistent,
        "date": r.date,
        "elapsed_s": (r.elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "corpus_python": r.corpus_python,
        "values_checked": r.values_checked(),
        "decode_counts": decode_counts,
        "encode_counts": encode_counts,
        "decode": cases,
        "encode": enc,
    })
}
