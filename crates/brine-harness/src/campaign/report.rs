//! A campaign's files: findings/KEY.pkl with KEY.json beside it (signature, CPython's and
//! the implementation's answers, how to reproduce), and the morning report (report.md,
//! report.json: cases, cases/s, findings by signature, brine bugs).

use super::{CampaignReport, Finding};
use brine_codec::hex;
use crate::impls::matrix::Adapter;
use serde_json::{json, Value as J};
use std::fmt::Write as _;
use std::path::Path;

/// A file stem for a signature: its words, then a hash of the whole (two signatures that
/// slug alike stay apart).
pub fn key_of(signature: &str) -> String {
    let mut slug = String::new();
    for ch in signature.chars() {
        let c = if ch.is_ascii_alphanumeric() { ch.to_ascii_lowercase() } else { '-' };
        if !(c == '-' && slug.ends_with('-')) {
            slug.push(c);
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(60).collect();
    let h = signature.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("{}-{:08x}", slug.trim_end_matches('-'), h as u32)
}

/// KEY.json of a finding.
pub fn finding_json(f: &Finding, r: &CampaignReport, adapter: &Adapter) -> J {
    let mut j = json!({
        "signature": f.signature,
        "status": f.discrepancy.status,
        "class": f.discrepancy.class,
        "detail": f.discrepancy.detail,
        "implementation": r.implementation,
        "version": r.version,
        "cpython": f.cpython,
        "cpython_python": f.cpython_python,
        "impl": f.implementation,
        "pickle": hex::encode(&f.pickle),
        "dis": brine_codec::dis::genops(&f.pickle).to_text(),
        "reproduced_alone": f.reproduced_alone,
        "alone_runs": {"showed": f.alone_runs.0, "runs": f.alone_runs.1,
            "reading": match f.alone_runs { (a, b) if a == b => "reproducible", (0, _) => "needs earlier cases (state kept between cases)", _ => "nondeterministic" }},
        "found_by": {"campaign": format!("target/campaigns/{}", r.implementation), "seed": r.seed,
                     "case": f.case_index, "source": f.origin, "original_bytes": f.original_len},
        "hits": f.hits,
        "covered_by": f.covered_by,
        "reproduce": reproduce(f, adapter),
    });
    if let Some(n) = f.buffers {
        j["buffers"] = json!(n);
    }
    if !f.extensions.is_empty() {
        j["extensions"] = crate::impls::adapter::extensions_json(&f.extensions);
    }
    if let Some(g) = &f.cpython_globals {
        j["cpython_globals"] = J::Array(g.iter().map(|(m, n)| json!([m, n])).collect());
    }
    j
}

/// Shell lines that reproduce a finding from its files alone.
fn reproduce(f: &Finding, adapter: &Adapter) -> Vec<String> {
    let mut env = String::new();
    if let Some(n) = f.buffers {
        let _ = write!(env, "BRINE_BUFFERS={n} ");
    }
    if !f.extensions.is_empty() {
        let _ = write!(env, "BRINE_EXTENSIONS='{}' ", crate::impls::adapter::extensions_json(&f.extensions));
    }
    let here = format!("conformance/adapters/{}", adapter.name);
    let run = if adapter.dir.ends_with(&here) { Path::new(&here).join("run") } else { adapter.dir.join("run") };
    let mut req = json!({"case": f.key, "pickle": hex::encode(&f.pickle)});
    if let Some(n) = f.buffers {
        req["buffers"] = json!(n);
    }
    if !f.extensions.is_empty() {
        req["extensions"] = crate::impls::adapter::extensions_json(&f.extensions);
    }
    vec![
        format!("{env}{} < {}.pkl; echo \"exit $?\"", run.display(), f.key),
        format!("echo '{req}' | BRINE_PERSISTENT=1 {}", run.display()),
        format!("brine compare{} {}.pkl   # CPython C and Python, and the codec", f.buffers.map_or(String::new(), |n| format!(" --buffers {n}")), f.key),
    ]
}

/// Writes findings/, report.json and report.md under `out`. Findings accumulate across
/// runs (an overnight campaign resumed with another seed keeps what the last one found): a
/// signature found again is rewritten, the others are kept.
pub fn write(out: &Path, r: &CampaignReport, adapter: &Adapter) -> Result<(), String> {
    let dir = out.join("findings");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for f in &r.findings {
        std::fs::write(dir.join(format!("{}.pkl", f.key)), &f.pickle).map_err(|e| e.to_string())?;
        let j = finding_json(f, r, adapter);
        std::fs::write(dir.join(format!("{}.json", f.key)), serde_json::to_string_pretty(&j).unwrap()).map_err(|e| e.to_string())?;
    }
    let j = to_json(r);
    std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&j).unwrap()).map_err(|e| e.to_string())?;
    std::fs::write(out.join("report.md"), markdown(r)).map_err(|e| e.to_string())?;
    Ok(())
}

/// report.json.
pub fn to_json(r: &CampaignReport) -> J {
    json!({
        "implementation": r.implementation,
        "version": r.version,
        "date": crate::impls::today(),
        "scanner": r.scanner,
        "persistent": r.persistent,
        "seed": r.seed,
        "python": r.python,
        "elapsed_s": round(r.elapsed_s),
        "running_s": round(r.running_s),
        "cases": r.cases,
        "cases_per_s": round(r.cases_per_s()),
        "sources": r.sources,
        "fuzz_corpus_seeds": r.fuzz_corpus_seeds,
        "discrepancies": r.discrepancies,
        "kinds": r.kinds,
        "implementation_defined": r.implementation_defined,
        "unconfirmed_limits": r.unconfirmed_limits,
        "uninvestigated": r.uninvestigated,
        "adapter_starts": r.adapter_starts,
        "scanner_flags": r.scanner_flags.iter().map(|(m, n)| format!("{m}.{n}")).collect::<Vec<_>>(),
        "findings": r.findings.iter().map(|f| json!({
            "key": f.key, "signature": f.signature, "status": f.discrepancy.status, "hits": f.hits,
            "bytes": f.pickle.len(), "reproduced_alone": f.reproduced_alone, "covered_by": f.covered_by,
            "source": f.origin,
        })).collect::<Vec<_>>(),
        "brine_bugs": r.brine_bugs.iter().map(|b| json!({"pickle": hex::encode(&b.pickle), "summary": b.summary})).collect::<Vec<_>>(),
    })
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// report.md: the morning report.
pub fn markdown(r: &CampaignReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Campaign: {} {}\n", r.implementation, r.version);
    let _ = writeln!(
        s,
        "{} cases in {:.0} s of running ({:.0} cases/s; {:.0} s in all, with confirmation and minimization), seed {}, {} mode{}. \
         Reference: brine's codec, every finding confirmed live by CPython {}'s C unpickler{}.\n",
        r.cases,
        r.running_s,
        r.cases_per_s(),
        r.elapsed_s,
        r.seed,
        if r.persistent { "persistent" } else { "per-case" },
        if r.scanner { ", judged as a scanner (misses and fail-opens)" } else { "" },
        r.python,
        if r.python == crate::versions::BASELINE { " (embedded)" } else { " (its adapter, in its chroot)" }
    );
    let _ = writeln!(s, "| | |\n|---|---:|");
    let _ = writeln!(s, "| discrepancies (unconfirmed, all kinds) | {} |", r.discrepancies);
    let _ = writeln!(s, "| distinct findings | {} |", r.findings.len());
    let _ = writeln!(s, "| implementation-defined (as CPython's pure-Python unpickler) | {} |", r.implementation_defined);
    let _ = writeln!(s, "| not confirmable (CPython hit a limit) | {} |", r.unconfirmed_limits);
    let _ = writeln!(s, "| not investigated (confirmation and minimization had used their half of the time) | {} |", r.uninvestigated);
    let _ = writeln!(s, "| brine bugs (codec vs CPython) | {} |", r.brine_bugs.len());
    let _ = writeln!(s, "| adapter processes started | {} |", r.adapter_starts);
    let _ = writeln!(s, "\nSources: {}.", r.sources.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "));
    if r.scanner {
        let flags: Vec<String> = r.scanner_flags.iter().map(|(m, n)| format!("`{m}.{n}`")).collect();
        let _ = writeln!(s, "\nGlobals the scanner flags in a plain pickle (what a fail-open is measured against): {}.", if flags.is_empty() { "none".into() } else { flags.join(", ") });
    }
    let _ = writeln!(s, "\n## Findings\n");
    if r.findings.is_empty() {
        let _ = writeln!(s, "None.");
    } else {
        let _ = writeln!(s, "| signature | hits | bytes | alone | corpus | reproducer |\n|---|---:|---:|---|---|---|");
        for f in &r.findings {
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} | `findings/{}.pkl` |",
                f.signature,
                f.hits,
                f.pickle.len(),
                if f.reproduced_alone { "yes".to_string() } else { format!("{}/{}", f.alone_runs.0, f.alone_runs.1) },
                f.covered_by.as_deref().unwrap_or("new"),
                f.key
            );
        }
    }
    let _ = writeln!(s, "\n## Discrepancy kinds (before confirmation)\n");
    for (k, n) in &r.kinds {
        let _ = writeln!(s, "- `{k}`: {n}");
    }
    if !r.brine_bugs.is_empty() {
        let _ = writeln!(s, "\n## Brine bugs\n");
        for b in &r.brine_bugs {
            let _ = writeln!(s, "- `{}`: {}", hex::encode(&b.pickle[..b.pickle.len().min(64)]), b.summary);
        }
    }
    s
}
