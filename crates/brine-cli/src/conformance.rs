//! `brine conformance`: the run behind `cargo xtask conformance` (see brine-harness).
//! Prints the summary and coverage table, writes target/conformance/report.{json,md} and
//! coverage.svg, and exits 1 on any regression.

use brine_harness::{report, run};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: &[String]) -> Result<ExitCode, String> {
    let root = workspace_root()?;
    let mut cfg = run::RunConfig {
        root: root.clone(),
        seed: 1,
        count: 100_000,
        time_budget: Duration::from_secs(45),
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |what: &str| -> Result<u64, String> {
            let v = it.next().ok_or(format!("{what} needs a number"))?;
            v.parse().map_err(|_| format!("bad {what} value {v:?}"))
        };
        match a.as_str() {
            "--seed" => cfg.seed = num("--seed")?,
            "--count" => cfg.count = num("--count")? as usize,
            "--time" => cfg.time_budget = Duration::from_secs(num("--time")?),
            "--no-generated" => cfg.count = 0,
            "--progress" => cfg.progress = true,
            other => return Err(format!("unknown flag {other}")),
        }
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
