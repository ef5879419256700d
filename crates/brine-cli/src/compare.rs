//! `brine compare`: each pickle through the codec and CPython's C and Python unpicklers.
//!
//! ```text
//! brine compare [--buffers N] [--python X.Y] FILE...
//! ```
//! `--python X.Y` makes the codec reproduce that CPython's C unpickler; the CPython side is
//! still the embedded interpreter (3.11), so the verdicts then show where the two versions
//! differ. The header line says which version the codec modelled (`codec_python`).
//! stdout: a header line `{"interpreter": {...}}` naming the embedded CPython, then one JSON
//! line per file: `{"file", "codec", "cpython-c", "cpython-py", "codec_vs_c", "c_vs_py"}`
//! (outcome nodes and verdicts, disagreements with a unified diff). stderr: a summary for
//! people, counts per verdict, codec disagreements with their diffs, and C-vs-Python
//! differences listed separately (findings about CPython, not failures).
//! Exit status: 1 when the codec disagrees with CPython C on any file (a poisoned check is
//! no disagreement) or a file cannot be read, 2 on bad arguments or without CPython.

use brine_harness::args::{self, Arg};
use brine_oracle::{Check, Differential, Verdict};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

/// Files per trip to the interpreter thread.
const BATCH: usize = 64;

pub(crate) fn run(a: &[String]) -> Result<ExitCode, String> {
    let mut buffers = None;
    let mut python = None;
    let mut files = vec![];
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        match arg {
            Arg::Long("buffers") => buffers = Some(crate::parse_buffers(&mut p)?),
            Arg::Long("python") => python = Some(crate::parse_python(&mut p)?),
            Arg::Value(v) => files.push(args::operand(v)?),
            other => return Err(format!("unknown flag {}", args::shown(&other))),
        }
    }
    if files.is_empty() {
        return Err("no FILE given".into());
    }
    let mut diff = Differential::new().with_python();
    if let Some(p) = python {
        diff.codec.options.python = p;
    }
    let Some(c) = &diff.c else {
        eprintln!("brine compare: CPython could not start (built without the cpython feature, or BRINE_NO_CPYTHON set)");
        return Ok(ExitCode::from(2));
    };
    let info = c.interpreter().info();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut header = serde_json::json!({ "interpreter": info.to_json() });
    if let Some(p) = python {
        header["codec_python"] = J::from(p.to_string());
    }
    writeln!(out, "{header}").map_err(|e| e.to_string())?;

    let mut summary = Summary::default();
    for chunk in files.chunks(BATCH) {
        let mut datas = vec![];
        for path in chunk {
            match std::fs::read(path) {
                Ok(d) => datas.push((path, d)),
                Err(e) => {
                    eprintln!("brine: {path}: {e}");
                    summary.unreadable += 1;
                }
            }
        }
        let inputs: Vec<(&[u8], Option<usize>)> = datas.iter().map(|(_, d)| (d.as_slice(), buffers)).collect();
        for ((path, _), check) in datas.iter().zip(diff.check_batch(&inputs)) {
            let mut line = check.to_json();
            if let J::Object(m) = &mut line {
                let mut with_file = serde_json::Map::new();
                with_file.insert("file".into(), J::from(path.as_str()));
                with_file.extend(std::mem::take(m));
                *m = with_file;
            }
            writeln!(out, "{line}").map_err(|e| e.to_string())?;
            summary.add(path, &check);
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    summary.print(&info.version, &info.executable, python);
    Ok(if summary.disagreements.is_empty() && summary.unreadable == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[derive(Default)]
struct Summary {
    counts: BTreeMap<&'static str, usize>,
    disagreements: Vec<(String, Verdict)>,
    findings: Vec<(String, Verdict)>,
    unreadable: usize,
}

impl Summary {
    fn add(&mut self, path: &str, check: &Check) {
        if let Some(v) = &check.codec_vs_c {
            *self.counts.entry(v.name()).or_default() += 1;
            if v.is_disagreement() {
                self.disagreements.push((path.to_string(), v.clone()));
            }
        }
        if let Some(v) = check.c_vs_py.as_ref().filter(|v| v.is_disagreement()) {
            self.findings.push((path.to_string(), v.clone()));
        }
    }

    fn print(&self, version: &str, executable: &str, python: Option<brine_codec::Python>) {
        let n: usize = self.counts.values().sum();
        let mut e = std::io::stderr().lock();
        let _ = writeln!(e, "\nbrine compare: {n} files against CPython {} ({executable})", version.split_whitespace().next().unwrap_or(version));
        if let Some(p) = python {
            let _ = writeln!(
                e,
                "  the codec modelled CPython {p} ({}); the CPython side is the embedded interpreter above",
                p.measured()
            );
        }
        let counts: Vec<String> = self.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(e, "  codec vs C: {}", counts.join(", "));
        if self.unreadable > 0 {
            let _ = writeln!(e, "  unreadable files: {}", self.unreadable);
        }
        if !self.disagreements.is_empty() {
            let _ = writeln!(e, "\ncodec disagrees with CPython C on {} files:", self.disagreements.len());
            for (path, v) in &self.disagreements {
                let _ = writeln!(e, "  {path}: {}", v.summary());
                if let Some(d) = v.diff() {
                    for l in d.text.lines().take(30) {
                        let _ = writeln!(e, "      {l}");
                    }
                }
            }
        }
        if !self.findings.is_empty() {
            let _ = writeln!(e, "\nC vs Python differences (findings about CPython, not failures): {}", self.findings.len());
            for (path, v) in &self.findings {
                let _ = writeln!(e, "  {path}: {}", v.summary());
            }
        }
    }
}
