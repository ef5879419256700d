//! `cargo xtask triage`: turns fuzz/artifacts/<target>/ into findings and proposed corpus
//! cases.
//!
//! 1. Collect `crash-*`, `oom-*`, `timeout-*`, `slow-unit-*` and `leak-*` artifacts.
//! 2. Classify each with the `brine-fuzz classify` helper, which reruns the target's check
//!    with panics caught, and regenerates what a structured target's input stands for (the
//!    pickle pickle-smith made from it; for value targets the document and its pickle):
//!    `codec-bug` (a codec-vs-C disagreement or a broken codec property), `panic`,
//!    `c-vs-python`, `limit` (timeouts, out-of-memory, poisoned comparisons). Timeout and
//!    out-of-memory artifacts are not rerun (they would hang again): they are `limit`.
//! 3. Deduplicate by key: target, class, property, and the first differing path with its
//!    numbers blurred (or the panic's location). The smallest input represents a key.
//! 4. Minimize each reproduced representative with `cargo fuzz tmin` (time-bounded), and
//!    keep the minimized input if it still has the same key.
//! 5. Propose: the finding's pickle goes to target/triage/proposed/ as NAME.pkl + NAME.json
//!    in corpus/'s format, with its expected outcome made by CPython (fuzz/expect_case.py,
//!    through scripts/brine_sandbox.py and gen_corpus.classify), ready for
//!    `cp target/triage/proposed/NAME.* corpus/`.
//!
//! Writes target/triage/findings.json and findings.md (which the fuzz report includes).

use crate::fuzz::{helper_bin, require_cargo_fuzz, sanitizer_args};
use crate::util::{cargo, parser, root, shown, value, wants_help};
use lexopt::Arg::Long;
use serde_json::{json, Value as J};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const HELP: &str = "usage: cargo xtask triage [--target T]... [--tmin-time DURATION] [--no-tmin] [--asan]

  --target T       only T's artifacts (repeatable; default every target with artifacts)
  --tmin-time D    time budget for minimizing one finding with `cargo fuzz tmin` (default 60s)
  --no-tmin        do not minimize (also the case when cargo-fuzz is missing)
  --asan           minimize with the AddressSanitizer build (as `cargo xtask fuzz --asan` built)

Writes target/triage/findings.{json,md} and proposed corpus cases in target/triage/proposed/.";

/// Triage options.
pub struct Opts {
    pub targets: Vec<String>,
    pub tmin_secs: u64,
    pub tmin: bool,
    pub asan: bool,
    /// When set (by `cargo xtask fuzz`), findings with an artifact from after this time are
    /// marked new.
    pub since: Option<SystemTime>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts { targets: vec![], tmin_secs: 60, tmin: true, asan: false, since: None }
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    if wants_help(args) {
        println!("{HELP}");
        return Ok(());
    }
    let mut o = Opts::default();
    let mut p = parser(args);
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("target") => o.targets.push(value(&mut p, "--target needs a value")?),
            Long("tmin-time") => o.tmin_secs = crate::fuzz::parse_duration(&value(&mut p, "--tmin-time needs a value")?)?,
            Long("no-tmin") => o.tmin = false,
            Long("asan") => o.asan = true,
            other => return Err(format!("unknown flag {}\n\n{HELP}", shown(&other))),
        }
    }
    triage(&o)?;
    crate::fuzz::write_report()
}

/// One classified input (a line of `brine-fuzz classify`).
#[derive(Clone, Debug)]
struct Classified {
    file: PathBuf,
    reproduced: bool,
    kind: String,
    key: String,
    buffers: u32,
    pickle: Option<PathBuf>,
    size: u64,
}

struct Found {
    target: String,
    rep: Classified,
    files: Vec<PathBuf>,
    minimized: bool,
    proposed: Vec<String>,
    new: bool,
}

const ARTIFACT_PREFIXES: &[&str] = &["crash-", "oom-", "timeout-", "slow-unit-", "leak-"];

/// Runs the triage; returns the number of findings.
pub fn triage(o: &Opts) -> Result<usize, String> {
    let art_root = root().join("fuzz/artifacts");
    let out = root().join("target/triage");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(out.join("proposed")).map_err(|e| e.to_string())?;
    let mut targets: Vec<String> = fs::read_dir(&art_root)
        .map(|d| d.flatten().filter(|e| e.path().is_dir()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    targets.sort();
    if !o.targets.is_empty() {
        targets.retain(|t| o.targets.contains(t));
    }
    let tmin = o.tmin && require_cargo_fuzz().is_ok();
    if o.tmin && !tmin {
        eprintln!("triage: cargo-fuzz missing (scripts/install-fuzz-tools.sh): not minimizing");
    }
    let mut helper: Option<PathBuf> = None;
    let mut found: Vec<Found> = vec![];
    for t in &targets {
        let mut arts: Vec<PathBuf> = fs::read_dir(art_root.join(t))
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| ARTIFACT_PREFIXES.iter().any(|x| n.starts_with(x))))
            .collect();
        if arts.is_empty() {
            continue;
        }
        arts.sort_by_key(|p| fs::metadata(p).map_or(0, |m| m.len()));
        arts.truncate(500);
        let h = match &helper {
            Some(h) => h.clone(),
            None => helper.insert(helper_bin()?).clone(),
        };
        println!("triage: {t}: {} artifact(s)", arts.len());
        let work = out.join("classified").join(t);
        let (hang, crash): (Vec<PathBuf>, Vec<PathBuf>) = arts.into_iter().partition(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("oom-") || n.starts_with("timeout-") || n.starts_with("slow-unit-")
        });
        let mut all = classify(&h, t, &work, &crash, false)?;
        for mut c in classify(&h, t, &work, &hang, true)? {
            let n = c.file.file_name().unwrap().to_string_lossy().into_owned();
            let what = n.split('-').next().unwrap_or("limit").to_string();
            c.kind = "limit".into();
            c.key = format!("{t}/limit/{what}");
            c.reproduced = true;
            all.push(c);
        }
        let mut by_key: BTreeMap<String, Vec<Classified>> = BTreeMap::new();
        for c in all {
            let key = if c.reproduced { c.key.clone() } else { format!("{t}/not-reproduced") };
            by_key.entry(key).or_default().push(c);
        }
        for (key, mut group) in by_key {
            group.sort_by_key(|c| c.size);
            let files = group.iter().map(|c| c.file.clone()).collect();
            let mut rep = group[0].clone();
            let mut minimized = false;
            if tmin && rep.reproduced && (rep.kind == "codec-bug" || rep.kind == "panic") {
                if let Some(m) = minimize(t, &rep.file, o)? {
                    let again = classify(&h, t, &work, std::slice::from_ref(&m), false)?;
                    if let Some(c) = again.into_iter().next().filter(|c| c.key == key && c.size < rep.size) {
                        rep = c;
                        minimized = true;
                    }
                }
            }
            let new = o.since.is_some_and(|since| {
                group.iter().any(|c| fs::metadata(&c.file).and_then(|m| m.modified()).is_ok_and(|m| m >= since))
            });
            found.push(Found { target: t.clone(), rep, files, minimized, proposed: vec![], new });
        }
    }
    for (i, f) in found.iter_mut().enumerate() {
        propose(f, i, &out)?;
    }
    write_findings(&found, &out, o.asan)?;
    println!("triage: {} finding(s); see {}", found.len(), out.join("findings.md").display());
    Ok(found.len())
}

fn classify(helper: &Path, t: &str, work: &Path, files: &[PathBuf], case_only: bool) -> Result<Vec<Classified>, String> {
    if files.is_empty() {
        return Ok(vec![]);
    }
    let mut c = Command::new(helper);
    c.args(["classify", "--target", t, "--out"]).arg(work);
    if case_only {
        c.arg("--case-only");
    }
    let o = c.args(files).stderr(Stdio::inherit()).output().map_err(|e| format!("brine-fuzz classify: {e}"))?;
    if !o.status.success() {
        return Err(format!("brine-fuzz classify failed ({})", o.status));
    }
    Ok(String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() != 6 {
                return None;
            }
            let file = PathBuf::from(f[0]);
            Some(Classified {
                size: fs::metadata(&file).map_or(0, |m| m.len()),
                file,
                reproduced: f[1] == "1",
                kind: f[2].into(),
                key: f[3].into(),
                buffers: f[4].parse().unwrap_or(0),
                pickle: (f[5] != "-").then(|| PathBuf::from(f[5])),
            })
        })
        .collect())
}

/// `cargo fuzz tmin`, bounded by `o.tmin_secs` (libFuzzer's own -max_total_time, and a
/// kill a minute later); the newest `minimized-from-*` it left, if any.
fn minimize(t: &str, file: &Path, o: &Opts) -> Result<Option<PathBuf>, String> {
    let dir = root().join("fuzz/artifacts").join(t);
    let before = SystemTime::now();
    println!("triage: {t}: minimizing {} ({}s budget)", file.display(), o.tmin_secs);
    let mut c = cargo();
    c.current_dir(root())
        .args(["fuzz", "tmin"])
        .args(sanitizer_args(o.asan))
        .args(["-r", "100000", t])
        .arg(file)
        .arg("--")
        .arg(format!("-max_total_time={}", o.tmin_secs))
        .arg("-timeout=30")
        .env("ASAN_OPTIONS", "detect_leaks=0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if o.asan {
        c.env("RUSTC_BOOTSTRAP", "1");
    }
    let mut child = c.spawn().map_err(|e| format!("cargo fuzz tmin: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(o.tmin_secs + 60);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(300)),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("minimized-from-"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .filter(|(m, _)| *m >= before)
        .max()
        .map(|(_, p)| p))
}

fn slug(s: &str) -> String {
    let mut out: String = s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    out.trim_matches('_').chars().take(80).collect()
}

/// Writes the proposed corpus case (pickle-level findings) or document (value findings).
fn propose(f: &mut Found, i: usize, out: &Path) -> Result<(), String> {
    let dir = out.join("proposed");
    // NAME: fuzz_<target>_<property>_<n>; the full key goes into the case's note.
    let what = f.rep.key.split('/').nth(2).unwrap_or("finding");
    let hint = format!("fuzz_{}_{}_{i}", f.target, slug(what));
    if let Some(pkl) = &f.rep.pickle {
        let o = Command::new("/usr/bin/python3.11")
            .arg(root().join("fuzz/expect_case.py"))
            .arg("--pkl")
            .arg(pkl)
            .args(["--hint", &hint, "--buffers", &f.rep.buffers.to_string(), "--note"])
            .arg(format!("{} ({})", f.rep.key, f.rep.kind))
            .arg("--out")
            .arg(&dir)
            .env("PYTHONHASHSEED", "0")
            .stderr(Stdio::inherit())
            .output();
        match o {
            Ok(o) if o.status.success() => {
                let name = String::from_utf8_lossy(&o.stdout).trim().to_string();
                f.proposed.push(format!("{name}.pkl"));
                f.proposed.push(format!("{name}.json"));
            }
            Ok(o) => eprintln!("triage: expect_case.py failed for {} ({})", pkl.display(), o.status),
            Err(e) => eprintln!("triage: /usr/bin/python3.11: {e}"),
        }
    }
    // Value targets: the document and protocol the input stands for, as the helper wrote it.
    let classified = out.join("classified").join(&f.target).join(format!("{}.json", f.rep.file.file_name().unwrap().to_string_lossy()));
    if matches!(f.target.as_str(), "roundtrip" | "encode_exact") && classified.exists() {
        let name = format!("{hint}.case.json");
        fs::copy(&classified, dir.join(&name)).map_err(|e| e.to_string())?;
        f.proposed.push(name);
    }
    Ok(())
}

/// The hex of the first 512 bytes of a classified input's pickle: `pickle_hex` of the case
/// that `brine-fuzz classify` wrote beside it (`detail`), the same bytes as its .pkl.
fn pickle_hex_of(detail: &Path) -> String {
    let j: J = fs::read_to_string(detail).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    let h = j.pointer("/case/pickle_hex").and_then(J::as_str).unwrap_or("");
    h.get(..1024).unwrap_or(h).to_string()
}

fn write_findings(found: &[Found], out: &Path, asan: bool) -> Result<(), String> {
    let rel = |p: &Path| p.strip_prefix(root()).unwrap_or(p).display().to_string();
    let mut md = String::new();
    let mut js_items = vec![];
    if found.is_empty() {
        md.push_str("No crash artifacts: nothing to triage.\n");
    }
    for f in found {
        let r = &f.rep;
        let san = if asan { "--target-dir fuzz/target/asan" } else { "--sanitizer none" };
        let repro = [
            format!("cargo fuzz run {san} {} {}", f.target, rel(&r.file)),
            format!("target/release/brine-fuzz classify --target {} --out /tmp/brine-classify {}", f.target, rel(&r.file)),
        ];
        let detail = out.join("classified").join(&f.target).join(format!("{}.json", r.file.file_name().unwrap().to_string_lossy()));
        let pickle_hex = if r.pickle.is_some() { pickle_hex_of(&detail) } else { String::new() };
        let _ = writeln!(md, "### `{}`{}\n", r.key, if f.new { " (new in this run)" } else { "" });
        let _ = writeln!(md, "- class: **{}**; {} artifact(s), e.g. `{}`", r.kind, f.files.len(), rel(&f.files[0]));
        let _ = writeln!(md, "- representative: `{}` ({} bytes{})", rel(&r.file), r.size, if f.minimized { ", minimized by cargo fuzz tmin" } else { "" });
        if !pickle_hex.is_empty() {
            let _ = writeln!(md, "- pickle (hex): `{pickle_hex}`{}", if r.buffers > 0 { format!(" with {} buffer(s)", r.buffers) } else { String::new() });
        }
        if detail.exists() {
            let _ = writeln!(md, "- details: `{}`", rel(&detail));
        }
        if !f.proposed.is_empty() {
            let names: Vec<String> = f.proposed.iter().map(|p| format!("target/triage/proposed/{p}")).collect();
            let _ = writeln!(md, "- proposed: `{}`", names.join("`, `"));
            let pk: Vec<&String> = names.iter().filter(|n| n.ends_with(".pkl") || n.ends_with(".json") && !n.ends_with(".case.json")).collect();
            if !pk.is_empty() {
                let _ = writeln!(md, "  - add to the corpus: `cp {} corpus/` (and add the name to corpus/manifest.json)", pk.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "));
            }
        }
        let _ = writeln!(md, "- reproduce:\n  ```\n  {}\n  ```\n", repro.join("\n  "));
        let item = json!({
            "key": r.key,
            "target": f.target,
            "class": r.kind,
            "count": f.files.len(),
            "representative": rel(&r.file),
            "size": r.size,
            "minimized": f.minimized,
            "new": f.new,
            "pickle_hex": pickle_hex,
            "buffers": r.buffers,
            "proposed": f.proposed,
            "reproduce": repro,
        });
        js_items.push(item.to_string());
    }
    fs::write(out.join("findings.md"), md).map_err(|e| e.to_string())?;
    // One finding a line.
    fs::write(out.join("findings.json"), format!("[{}]\n", js_items.join(",\n"))).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_json_has_one_finding_a_line() {
        let out = std::env::temp_dir().join(format!("xtask-triage-test-{}", std::process::id()));
        let work = out.join("classified/decode");
        fs::create_dir_all(&work).unwrap();
        // What `brine-fuzz classify` writes beside the input: the case, its pickle as hex.
        let long = "ab".repeat(600);
        fs::write(work.join("crash-1.json"), json!({"case": {"pickle_hex": long}}).to_string()).unwrap();
        let rep = Classified {
            file: PathBuf::from("fuzz/artifacts/decode/crash-1"),
            reproduced: true,
            kind: "panic".into(),
            key: "decode/panic/panic/src/x.rs:1".into(),
            buffers: 0,
            pickle: Some(work.join("crash-1.pkl")),
            size: 600,
        };
        let found = [Found {
            target: "decode".into(),
            rep: rep.clone(),
            files: vec![rep.file.clone()],
            minimized: false,
            proposed: vec!["fuzz_decode_x_0.pkl".into()],
            new: true,
        }];
        write_findings(&found, &out, false).unwrap();
        let text = fs::read_to_string(out.join("findings.json")).unwrap();
        assert_eq!(text.lines().count(), 1);
        let j: J = serde_json::from_str(&text).unwrap();
        let f = &j[0];
        assert_eq!(f["key"], "decode/panic/panic/src/x.rs:1");
        assert_eq!((f["count"].as_u64(), f["size"].as_u64(), &f["new"]), (Some(1), Some(600), &json!(true)));
        // The first 512 bytes of the pickle.
        assert_eq!(f["pickle_hex"].as_str().unwrap(), &long[..1024]);
        assert_eq!(f["proposed"], json!(["fuzz_decode_x_0.pkl"]));
        assert_eq!(f["reproduce"].as_array().unwrap().len(), 2);
        let _ = fs::remove_dir_all(&out);
    }
}
