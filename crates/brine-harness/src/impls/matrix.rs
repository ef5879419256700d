//! `brine matrix`: every adapter under conformance/adapters installed (unless it already is),
//! checked against the corpus, and tabulated: target/matrix/NAME.json per implementation,
//! then docs/matrix.md (summary table, then cases down and implementations across) and
//! docs/matrix.html (one coloured cell per result, in the manner of JSONTestSuite's page).
//!
//! An adapter is a directory with `adapter.json` (name, version, language, package, values,
//! lenient, encoder, order, notes), an executable `run` (the decoder), optionally `encode`,
//! and `install.sh`, which installs pinned versions under target/adapters/NAME. The install
//! is skipped while target/adapters/NAME/.installed holds the stamp of the files in the
//! adapter's directory (name, version, content hash). The tables are rendered from the JSON reports, so a subset
//! (`--only`) re-checks some implementations and keeps the others' last results.

use super::check::{self, Options};
use super::corpus::Corpus;
use super::lenient::Lenient;
use super::render;
use serde_json::{json, Value as J};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How to run the matrix.
#[derive(Clone, Debug)]
pub struct MatrixOptions {
    /// Only these adapters are installed and checked (the others' last reports are reused).
    pub only: Option<Vec<String>>,
    /// Worker threads per check.
    pub jobs: usize,
    /// Per-case time limit.
    pub timeout: Duration,
    /// Adapter address-space limit, MiB.
    pub memory_mb: u64,
    /// Re-render the tables from target/matrix/*.json without installing or checking.
    pub render_only: bool,
    /// Run install.sh even when the stamp says it is done.
    pub reinstall: bool,
    /// Run every adapter once per case even when it offers the persistent protocol.
    pub per_case: bool,
}

/// One adapter directory.
#[derive(Clone, Debug)]
pub struct Adapter {
    /// Directory name (the implementation's name in the matrix).
    pub name: String,
    /// conformance/adapters/NAME.
    pub dir: PathBuf,
    /// adapter.json.
    pub meta: J,
}

impl Adapter {
    fn field(&self, k: &str) -> String {
        self.meta.get(k).and_then(J::as_str).unwrap_or("").to_string()
    }
}

/// The adapters, by adapter.json "order" then name.
pub fn adapters(root: &Path) -> Result<Vec<Adapter>, String> {
    adapters_in(&root.join("conformance/adapters"))
}

/// The adapter directories under `base` (each with an adapter.json).
pub fn adapters_in(base: &Path) -> Result<Vec<Adapter>, String> {
    let base = base.to_path_buf();
    let mut out = vec![];
    for e in std::fs::read_dir(&base).map_err(|e| format!("{}: {e}", base.display()))? {
        let dir = e.map_err(|e| e.to_string())?.path();
        let meta_path = dir.join("adapter.json");
        if !meta_path.is_file() {
            continue;
        }
        let meta: J = serde_json::from_str(&std::fs::read_to_string(&meta_path).map_err(|e| e.to_string())?)
            .map_err(|e| format!("{}: {e}", meta_path.display()))?;
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        out.push(Adapter { name, dir, meta });
    }
    out.sort_by_key(|a| (a.meta.get("order").and_then(J::as_i64).unwrap_or(100), a.name.clone()));
    Ok(out)
}

fn fnv(data: &[u8], mut h: u64) -> u64 {
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// The adapter's name, version and a hash of every file in its directory (so that editing
/// an adapter crate's source rebuilds it).
fn stamp(a: &Adapter) -> String {
    let mut files = vec![];
    let mut work = vec![a.dir.clone()];
    while let Some(d) = work.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                work.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut h = 0xcbf2_9ce4_8422_2325;
    for f in files {
        h = fnv(f.strip_prefix(&a.dir).unwrap_or(&f).to_string_lossy().as_bytes(), h);
        h = fnv(&std::fs::read(&f).unwrap_or_default(), h);
    }
    format!("{} {} {h:016x}\n", a.name, a.field("version"))
}

/// Installs an adapter unless its stamp is current; Err with the log's tail on failure.
pub fn install(root: &Path, a: &Adapter, force: bool) -> Result<bool, String> {
    let dest = root.join("target/adapters").join(&a.name);
    let stamp_path = dest.join(".installed");
    let want = stamp(a);
    if !force && std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(want.as_str()) {
        return Ok(false);
    }
    std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&stamp_path);
    eprintln!("matrix: installing {} ({})", a.name, a.field("package"));
    let limits = super::process::Limits { timeout: Duration::from_secs(1800), memory_mb: 0 };
    let script = a.dir.join("install.sh");
    let out = super::process::run(&format!("sh '{}'", script.display()), root, &[], &[], &limits);
    let mut log = out.stdout.clone();
    log.extend_from_slice(&out.stderr);
    let _ = std::fs::write(dest.join("install.log"), &log);
    if out.exit != super::process::Exit::Code(0) {
        let text = String::from_utf8_lossy(&log);
        let tail: Vec<&str> = text.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(format!("install.sh failed ({}): {}", out.describe(), tail.join(" | ")));
    }
    std::fs::write(&stamp_path, want).map_err(|e| e.to_string())?;
    Ok(true)
}

/// The check options for an adapter.
pub fn options_for(root: &Path, a: &Adapter, m: &MatrixOptions) -> Result<Options, String> {
    let rel = |f: &str| {
        let p = a.dir.join(f);
        p.strip_prefix(root).map(|r| r.display().to_string()).unwrap_or_else(|_| p.display().to_string())
    };
    let lenient_names: Vec<String> = a
        .meta
        .get("lenient")
        .and_then(J::as_array)
        .map(|v| v.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    Ok(Options {
        name: a.name.clone(),
        version: a.field("version"),
        decoder: a.dir.join("run").is_file().then(|| rel("run")),
        encoder: a.meta.get("encoder").and_then(J::as_str).map(rel),
        timeout: m.timeout,
        // An adapter may need more address space than the default limit: PyPy's GC reserves
        // it up front and segfaults under a 4 GiB `ulimit -v` (adapter.json `"memory_mb"`).
        memory_mb: a.meta.get("memory_mb").and_then(J::as_u64).unwrap_or(m.memory_mb),
        jobs: m.jobs,
        lenient: Lenient::parse(lenient_names.iter().map(String::as_str))?,
        only: None,
        progress: true,
        persistent: !m.per_case && a.meta.get("persistent").and_then(J::as_bool).unwrap_or(false),
    })
}

/// Runs the matrix; returns a short summary for the terminal.
pub fn run(root: &Path, m: &MatrixOptions) -> Result<String, String> {
    let start = Instant::now();
    let all = adapters(root)?;
    if let Some(only) = &m.only {
        for n in only {
            if !all.iter().any(|a| &a.name == n) {
                return Err(format!("no adapter {n:?} under conformance/adapters"));
            }
        }
    }
    let out_dir = root.join("target/matrix");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let corpus = if m.render_only { None } else { Some(super::corpus::load(root)?) };
    let mut log = String::new();
    for a in &all {
        if m.render_only || m.only.as_ref().is_some_and(|o| !o.contains(&a.name)) {
            continue;
        }
        let corpus: &Corpus = corpus.as_ref().expect("loaded");
        let report_path = out_dir.join(format!("{}.json", a.name));
        let t = Instant::now();
        if let Err(e) = install(root, a, m.reinstall) {
            eprintln!("matrix: {}: {e}", a.name);
            let _ = writeln!(log, "{:<16} not installed: {e}", a.name);
            let j = json!({"implementation": a.name, "version": a.field("version"), "install_error": e, "date": super::today()});
            std::fs::write(&report_path, serde_json::to_string_pretty(&j).unwrap()).map_err(|e| e.to_string())?;
            continue;
        }
        let opts = options_for(root, a, m)?;
        // An interpreter of another CPython version is judged by that version's expectations.
        let own;
        let corpus = match a.meta.get("python").and_then(J::as_str) {
            Some(v) if v != crate::versions::BASELINE => {
                own = corpus.as_of(v);
                &own
            }
            _ => corpus,
        };
        let report = check::run(root, corpus, &opts)?;
        let j = render::to_json(&report);
        std::fs::write(&report_path, serde_json::to_string(&j).unwrap()).map_err(|e| e.to_string())?;
        let counts: Vec<String> =
            report.decode_counts().iter().filter(|(_, n)| *n > 0).map(|(s, n)| format!("{} {n}", s.name())).collect();
        let _ = writeln!(
            log,
            "{:<16} {:<10} {} ({:.0} s)",
            a.name,
            a.field("version"),
            counts.join(", "),
            t.elapsed().as_secs_f64()
        );
    }
    let reports: Vec<(Adapter, J)> = all
        .iter()
        .filter_map(|a| {
            let p = out_dir.join(format!("{}.json", a.name));
            let text = std::fs::read_to_string(p).ok()?;
            Some((a.clone(), brine_codec::json::parse_deep(&text).ok()?))
        })
        .collect();
    let corpus_counts = corpus_counts(root)?;
    let md = markdown(&reports, &corpus_counts);
    let html = html(&reports, &corpus_counts);
    std::fs::write(root.join("docs/matrix.md"), md).map_err(|e| e.to_string())?;
    std::fs::write(root.join("docs/matrix.html"), html).map_err(|e| e.to_string())?;
    let _ = writeln!(
        log,
        "matrix: {} implementations -> docs/matrix.md, docs/matrix.html, target/matrix/*.json ({:.1} s)",
        reports.len(),
        start.elapsed().as_secs_f64()
    );
    if !m.render_only {
        let timing = json!({"date": super::today(), "elapsed_s": start.elapsed().as_secs_f64(), "only": m.only,
            "per_case": m.per_case, "jobs": m.jobs});
        let _ = std::fs::write(out_dir.join("last-run.json"), serde_json::to_string_pretty(&timing).unwrap());
    }
    Ok(log)
}

/// (count, y, n, i, python) of corpus/manifest.json.
fn corpus_counts(root: &Path) -> Result<(u64, u64, u64, u64, String), String> {
    let text = std::fs::read_to_string(root.join("corpus/manifest.json")).map_err(|e| e.to_string())?;
    let m: J = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let g = |k: &str| m.pointer(k).and_then(J::as_u64).unwrap_or(0);
    let py = m["python"].as_str().unwrap_or("?").split_whitespace().next().unwrap_or("?").to_string();
    Ok((g("/count"), g("/counts/y"), g("/counts/n"), g("/counts/i"), py))
}

// ---------------------------------------------------------------------------------------
// Rendering

/// (status name, short cell text, colour, legend text).
const LEGEND: &[(&str, &str, &str, &str)] = &[
    ("pass", "ok", "#44bb44", "as CPython (y_ accepted with an equal value or none printed; n_ rejected)"),
    ("wrong-error", "ok≠", "#99dd77", "n_ rejected, naming another exception class (a correct rejection)"),
    ("should-accept", "REJ", "#ffcc00", "y_ rejected: CPython accepts it"),
    ("should-reject", "ACC", "#ee3333", "n_ accepted: CPython rejects it"),
    ("wrong-value", "VAL", "#ff8800", "y_ accepted with a value that differs from CPython's"),
    ("crash", "CRASH", "#222222", "crashed: exit status other than 0/1, a signal, or unreadable output"),
    ("timeout", "TIME", "#888888", "no answer within the time limit"),
    ("accepted", "acc", "#77aaff", "i_ (implementation-defined) accepted"),
    ("rejected", "rej", "#aa88dd", "i_ (implementation-defined) rejected"),
];

/// The decoding statuses, in the legend's order (docs/matrix.html's cell classes s0, s1, ...).
pub const STATUSES: [&str; 9] = {
    let mut out = [""; 9];
    let mut k = 0;
    while k < LEGEND.len() {
        out[k] = LEGEND[k].0;
        k += 1;
    }
    out
};

const ENCODE_STATUSES: &[(&str, &str)] = &[
    ("pass", "CPython reads the bytes back as an equal document"),
    ("wrong-value", "CPython reads back another document"),
    ("unloadable", "CPython rejects the bytes"),
    ("refused", "the encoder declined the document (outside its model)"),
    ("crash", "crashed"),
    ("timeout", "no answer within the time limit"),
];

fn legend(status: &str) -> (&'static str, &'static str) {
    LEGEND.iter().find(|l| l.0 == status).map(|l| (l.1, l.2)).unwrap_or(("?", "#ffffff"))
}

fn count(j: &J, section: &str, status: &str) -> u64 {
    j.get(section).and_then(|c| c.get(status)).and_then(J::as_u64).unwrap_or(0)
}

fn values_col(a: &Adapter) -> String {
    a.meta.get("values").and_then(J::as_str).unwrap_or("?").to_string()
}

fn lenient_col(j: &J) -> String {
    let l: Vec<&str> =
        j.get("lenient").and_then(J::as_array).map(|v| v.iter().filter_map(J::as_str).collect()).unwrap_or_default();
    if l.is_empty() {
        "-".into()
    } else {
        l.join(", ")
    }
}

/// Per case: (name, expect, [(status, detail)] per implementation).
type Row = (String, String, Vec<Option<(String, String)>>);

fn rows(reports: &[(Adapter, J)]) -> Vec<Row> {
    let mut order: Vec<(String, String)> = vec![];
    let mut seen = std::collections::HashSet::new();
    let mut per: Vec<std::collections::HashMap<String, (String, String)>> = vec![];
    for (_, j) in reports {
        let mut h = std::collections::HashMap::new();
        for c in j.get("decode").and_then(J::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            let name = c["name"].as_str().unwrap_or("?").to_string();
            if seen.insert(name.clone()) {
                order.push((name.clone(), c["expect"].as_str().unwrap_or("?").to_string()));
            }
            let detail = c.get("detail").and_then(J::as_str).unwrap_or("").to_string();
            h.insert(name, (c["status"].as_str().unwrap_or("?").to_string(), detail));
        }
        per.push(h);
    }
    // y_ first, then n_, then i_, each by name.
    order.sort_by_key(|(n, e)| {
        (
            match e.as_str() {
                "y" => 0,
                "n" => 1,
                _ => 2,
            },
            n.clone(),
        )
    });
    order
        .into_iter()
        .map(|(n, e)| {
            let cells = per.iter().map(|h| h.get(&n).cloned()).collect();
            (n, e, cells)
        })
        .collect()
}

fn markdown(reports: &[(Adapter, J)], corpus: &(u64, u64, u64, u64, String)) -> String {
    let (count_all, y, n, i, py) = corpus;
    let mut s = String::new();
    let date = reports.iter().filter_map(|(_, j)| j.get("date").and_then(J::as_str)).max().unwrap_or("?");
    let _ = writeln!(s, "# Pickle implementations on brine's corpus\n");
    let _ = writeln!(
        s,
        "Made by `cargo xtask matrix` on {date} (do not edit: run it again). Every case of `corpus/` \
         ({count_all}: {y} y_, {n} n_, {i} i_; expected outcomes from CPython {py}'s C unpickler, sandboxed) \
         went through each implementation's adapter under `conformance/adapters/` \
         (protocol: `conformance/README.md`). The same results, coloured: `docs/matrix.html`; \
         per case with details and diffs: `target/matrix/NAME.json`.\n"
    );
    let _ = writeln!(s, "## Decoding\n");
    let _ = writeln!(s, "| implementation | version | language | values | leniencies | pass | wrong error | should accept | should reject | wrong value | crash | timeout | i_ accepted | i_ rejected | values compared | time |");
    let _ = writeln!(s, "|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (a, j) in reports {
        if let Some(e) = j.get("install_error").and_then(J::as_str) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | | | not installed: {} |||||||||||",
                a.name,
                a.field("version"),
                a.field("language"),
                e.replace('|', "\\|")
            );
            continue;
        }
        let c = |st: &str| count(j, "decode_counts", st);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} s |",
            a.name,
            a.field("version"),
            a.field("language"),
            values_col(a),
            lenient_col(j),
            c("pass"),
            c("wrong-error"),
            c("should-accept"),
            c("should-reject"),
            c("wrong-value"),
            c("crash"),
            c("timeout"),
            c("accepted"),
            c("rejected"),
            j.get("values_checked").and_then(J::as_u64).unwrap_or(0),
            j.get("elapsed_s").and_then(J::as_f64).unwrap_or(0.0)
        );
    }
    let _ = writeln!(s, "\n\"values\": `full` when the adapter writes every value it builds as pickle JSON, `scalars` when only \
        values whose Python type its result tells apart, `none` when it is judged on accept/reject only (an accepted y_ case \
        without a value is a pass). Leniencies are the normalizations of `crates/brine-harness/src/impls/lenient.rs` applied \
        to both documents for an implementation whose value model lacks something.\n");
    let encoders: Vec<&(Adapter, J)> =
        reports.iter().filter(|(_, j)| j.get("encode").and_then(J::as_array).is_some_and(|e| !e.is_empty())).collect();
    if !encoders.is_empty() {
        let _ = writeln!(s, "## Encoding\n");
        let _ = writeln!(s, "Each y_ case's document without out-of-band buffers went to the encoder with BRINE_PROTOCOL set to the case's protocol; CPython's C unpickler (sandboxed) read the bytes back.\n");
        let _ = write!(s, "| implementation | version |");
        for (st, _) in ENCODE_STATUSES {
            let _ = write!(s, " {st} |");
        }
        let _ = writeln!(s, "\n|---|---|{}", "---:|".repeat(ENCODE_STATUSES.len()));
        for (a, j) in encoders {
            let _ = write!(s, "| {} | {} |", a.name, a.field("version"));
            for (st, _) in ENCODE_STATUSES {
                let _ = write!(s, " {} |", count(j, "encode_counts", st));
            }
            s.push('\n');
        }
        s.push('\n');
        for (st, what) in ENCODE_STATUSES {
            let _ = writeln!(s, "- `{st}`: {what}");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Implementations\n");
    for (a, _) in reports {
        let _ = writeln!(
            s,
            "- **{}** {} ({}; {}): {}",
            a.name,
            a.field("version"),
            a.field("language"),
            a.field("package"),
            a.field("notes")
        );
    }
    let _ = writeln!(s, "\n## Per case\n");
    for (st, short, _, what) in LEGEND {
        let _ = writeln!(s, "- `{short}` {st}: {what}");
    }
    s.push('\n');
    let _ = write!(s, "| case |");
    for (a, _) in reports {
        let _ = write!(s, " {} |", a.name);
    }
    let _ = writeln!(s, "\n|---|{}", "---|".repeat(reports.len()));
    for (name, _, cells) in rows(reports) {
        let _ = write!(s, "| {name} |");
        for c in cells {
            match c {
                Some((st, _)) => {
                    let (short, _) = legend(&st);
                    if matches!(st.as_str(), "pass" | "accepted" | "rejected" | "wrong-error") {
                        let _ = write!(s, " {short} |");
                    } else {
                        let _ = write!(s, " **{short}** |");
                    }
                }
                None => s.push_str("  |"),
            }
        }
        s.push('\n');
    }
    s
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn html(reports: &[(Adapter, J)], corpus: &(u64, u64, u64, u64, String)) -> String {
    let (count_all, y, n, i, py) = corpus;
    let date = reports.iter().filter_map(|(_, j)| j.get("date").and_then(J::as_str)).max().unwrap_or("?");
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>brine: pickle implementations on the corpus</title>\n<style>\n");
    s.push_str("body{font-family:sans-serif;font-size:13px;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}\n");
    // Wide tables scroll inside their own box, so that a phone shows the page's text at its
    // width and the tables under a finger's swipe; the per-case table keeps its header row.
    s.push_str(".wide{overflow-x:auto;max-width:100%}.cases{max-height:90vh;overflow:auto}.cases tr:first-child th{position:sticky;top:0;background:#fff}\n");
    s.push_str(".bar{display:flex;width:220px;height:12px;border:1px solid #999}.bar span{display:block;height:100%}\n");
    s.push_str("@media (max-width:700px){body{margin:.5em}.legend>span{display:block}.bar{width:110px}.sum .lang{display:none}}\n");
    s.push_str("th.impl{writing-mode:sideways-lr;vertical-align:bottom;white-space:nowrap;font-weight:normal;padding:6px 2px}\n");
    // Per-case cells are bare `<td class=sK>` (100,000 of them: every byte counts toward the
    // page's size); the case name's cell is `td.n`.
    s.push_str(".cases td{width:18px;min-width:18px;padding:0}.cases td.n{width:auto;padding:2px 6px;font-family:monospace;white-space:nowrap}tr.sec td{background:#eee;font-weight:bold}\n");
    s.push_str(".sum td{text-align:right}.sum td:first-child,.sum td.v,.sum td.lang{text-align:left}\n");
    for (k, (st, _, colour, _)) in LEGEND.iter().enumerate() {
        let _ = writeln!(s, ".s{k}{{background:{colour}}} /* {st} */");
    }
    s.push_str("</style></head><body>\n");
    let _ = writeln!(s, "<h1>Pickle implementations on brine's corpus</h1>");
    let _ = writeln!(
        s,
        "<p>{date}. {count_all} cases ({y} y_, {n} n_, {i} i_); expected outcomes from CPython {py}'s C unpickler \
         (sandboxed). Made by <code>cargo xtask matrix</code>; protocol in <code>conformance/README.md</code>.</p>"
    );
    // One row per implementation (`data-impl`), with its results as a bar: the proportion
    // of each status over the corpus, in the legend's colours, reads faster than the counts.
    s.push_str("<div class=\"wide\"><table class=\"sum\"><tr><th>implementation</th><th>profile</th><th>version</th><th class=\"lang\">language</th>");
    for (st, _, colour, _) in LEGEND {
        let _ = write!(s, "<th style=\"border-bottom:4px solid {colour}\">{st}</th>");
    }
    s.push_str("<th>values compared</th><th>leniencies</th></tr>\n");
    for (a, j) in reports {
        let _ = write!(s, "<tr data-impl=\"{}\"><td>{}</td>", esc(&a.name), esc(&a.name));
        let (version, language) = (esc(&a.field("version")), esc(&a.field("language")));
        if let Some(e) = j.get("install_error").and_then(J::as_str) {
            let _ = writeln!(
                s,
                "<td>not installed</td><td class=\"v\">{version}</td><td class=\"lang\">{language}</td><td colspan=\"{}\">{}</td></tr>",
                LEGEND.len() + 2,
                esc(e)
            );
            continue;
        }
        let total: u64 = LEGEND.iter().map(|l| count(j, "decode_counts", l.0)).sum();
        s.push_str("<td><div class=\"bar\">");
        for (k, (st, _, _, _)) in LEGEND.iter().enumerate() {
            let n = count(j, "decode_counts", st);
            if n > 0 {
                let _ = write!(s, "<span class=\"s{k}\" style=\"width:{:.2}%\" title=\"{st}: {n}\"></span>", 100.0 * n as f64 / total.max(1) as f64);
            }
        }
        let _ = write!(s, "</div></td><td class=\"v\">{version}</td><td class=\"lang\">{language}</td>");
        for (st, _, _, _) in LEGEND {
            let _ = write!(s, "<td>{}</td>", count(j, "decode_counts", st));
        }
        let _ = writeln!(
            s,
            "<td>{}</td><td>{}</td></tr>",
            j.get("values_checked").and_then(J::as_u64).unwrap_or(0),
            esc(&lenient_col(j))
        );
    }
    s.push_str("</table></div>\n<p class=\"legend\">");
    for (k, (st, _, _, what)) in LEGEND.iter().enumerate() {
        let _ = write!(
            s,
            "<span data-status=\"{st}\" style=\"margin-right:1.2em\"><span class=\"s{k}\" \
             style=\"display:inline-block;width:14px;height:14px;vertical-align:middle\"></span> <b>{st}</b>: {}</span> ",
            esc(what)
        );
    }
    s.push_str("</p>\n");
    let encoders: Vec<&(Adapter, J)> =
        reports.iter().filter(|(_, j)| j.get("encode").and_then(J::as_array).is_some_and(|e| !e.is_empty())).collect();
    if !encoders.is_empty() {
        s.push_str("<p>Encoders (each y_ document, read back by CPython's C unpickler):</p>\n<div class=\"wide\"><table class=\"sum\"><tr><th>implementation</th><th>version</th>");
        for (st, _) in ENCODE_STATUSES {
            let _ = write!(s, "<th>{st}</th>");
        }
        s.push_str("</tr>\n");
        for (a, j) in encoders {
            let _ = write!(s, "<tr><td>{}</td><td class=\"v\">{}</td>", esc(&a.name), esc(&a.field("version")));
            for (st, _) in ENCODE_STATUSES {
                let _ = write!(s, "<td>{}</td>", count(j, "encode_counts", st));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</table></div>\n<p>Decoding, per case:</p>\n");
    }
    s.push_str("<div class=\"wide cases\"><table>\n<tr><th>case</th>");
    for (a, _) in reports {
        let _ = write!(s, "<th class=\"impl\">{} {}</th>", esc(&a.name), esc(&a.field("version")));
    }
    s.push_str("</tr>\n");
    let mut section = String::new();
    for (name, expect, cells) in rows(reports) {
        if expect != section {
            section = expect.clone();
            let title = match expect.as_str() {
                "y" => "y_: CPython accepts",
                "n" => "n_: CPython rejects",
                _ => "i_: implementation-defined",
            };
            let _ = writeln!(s, "<tr class=\"sec\"><td colspan=\"{}\">{title}</td></tr>", reports.len() + 1);
        }
        let _ = write!(s, "<tr><td class=\"n\">{}</td>", esc(&name));
        for c in cells {
            match c {
                Some((st, detail)) => {
                    let k = LEGEND.iter().position(|l| l.0 == st).unwrap_or(0);
                    if matches!(st.as_str(), "pass") {
                        let _ = write!(s, "<td class=s{k}></td>");
                    } else {
                        let d: String = detail.chars().take(160).collect();
                        // The colour says the status; the title says what happened.
                        let _ = write!(s, "<td class=s{k} title=\"{}\"></td>", esc(&d));
                    }
                }
                None => s.push_str("<td></td>"),
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></div>\n</body></html>\n");
    s
}
