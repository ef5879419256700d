//! `brine conformance`: the run behind `cargo xtask conformance` (see brine-harness).
//! Prints the summary and coverage table, writes target/conformance/report.{json,md} and
//! coverage.svg, and exits 1 on any regression.

use brine_harness::args::{self, Arg};
use brine_harness::{report, run};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(a: &[String]) -> Result<ExitCode, String> {
    let root = workspace_root()?;
    let mut cfg = run::RunConfig {
        root: root.clone(),
        seed: 1,
        count: 100_000,
        time_budget: Duration::from_secs(45),
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let mut python: Option<String> = None;
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        let num = |p: &mut args::Parser, what: &str| -> Result<u64, String> { args::parse(p, what, &format!("{what} needs a number")) };
        match arg {
            Arg::Long("seed") => cfg.seed = num(&mut p, "--seed")?,
            Arg::Long("count") => cfg.count = num(&mut p, "--count")? as usize,
            Arg::Long("time") => cfg.time_budget = Duration::from_secs(num(&mut p, "--time")?),
            Arg::Long("no-generated") => cfg.count = 0,
            Arg::Long("progress") => cfg.progress = true,
            Arg::Long("python") => python = Some(args::value(&mut p, "--python needs a version, e.g. 3.14")?),
            other => return Err(format!("unknown flag {}", args::shown(&other))),
        }
    }
    if let Some(v) = python.filter(|v| v != brine_harness::versions::BASELINE) {
        return another_version(&root, &v, cfg.progress);
    }
    let mut r = run::run(&cfg);
    if let Some(f) = report::check_floor(&r, &root) {
        r.findings.push(f);
    }
    let out = root.join("target/conformance");
    report::write_all(&r, &out).map_err(|e| format!("writing {}: {e}", out.display()))?;
    println!("{}", report::summary(&r));
    println!("reports: {0}/report.md, {0}/report.json, {0}/coverage.svg", out.display());
    Ok(if r.regressions() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The directory holding conformance/ (the current directory or an ancestor).
fn workspace_root() -> Result<PathBuf, String> {
    let mut d = std::env::current_dir().map_err(|e| e.to_string())?;
    loop {
        if d.join("conformance").is_dir() && d.join("Cargo.toml").is_file() {
            return Ok(d);
        }
        if !d.pop() {
            return Err("run inside the brine workspace (no conformance/ found)".into());
        }
    }
}

/// `--python X.Y` (another version than the 3.11 baseline): the codec in that version's mode
/// against that version's checked-in expectations (conformance/versions/X.Y.jsonl and the
/// corpus's `versions` fields), with no interpreter. The interpreters themselves are run by
/// `cargo xtask versions`.
fn another_version(root: &std::path::Path, version: &str, progress: bool) -> Result<ExitCode, String> {
    let c = brine_harness::versions::check_codec(root, version, progress)?;
    println!(
        "conformance --python {version}: decode {} agree, {} disagree, {} limit; corpus {} agree, {} disagree, {} limit; encode {} agree, {} disagree",
        c.decode.0, c.decode.1, c.decode.2, c.corpus.0, c.corpus.1, c.corpus.2, c.encode.0, c.encode.1
    );
    for d in &c.disagreements {
        println!("  {d}");
    }
    Ok(if c.failures() == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
