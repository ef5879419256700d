//! The `brine` subcommands of this module: argument parsing and output.
//!
//! ```text
//! brine check-impl --decoder CMD [--encoder CMD] [--name N] [--version V] [--timeout S]
//!                  [--jobs N] [--memory MB] [--lenient a,b] [--only SUBSTR] [--json OUT]
//!                  [--failures N] [--strict] [--quiet]
//! brine matrix [--only a,b] [--jobs N] [--timeout S] [--memory MB] [--render-only] [--reinstall]
//! brine adapter decode|encode
//! ```

use super::check::{self, Options};
use super::lenient::Lenient;
use super::matrix::{self, MatrixOptions};
use crate::args::{self, Arg, Parser};
use std::process::ExitCode;
use std::time::Duration;

/// Usage lines for `brine`'s help.
pub const USAGE: &str = "  brine check-impl --decoder CMD [--encoder CMD] [--timeout S] [--jobs N] [--persistent] [--json OUT] [...]
  brine matrix [--only NAME,...] [--jobs N] [--timeout S] [--render-only] [--reinstall]
  brine campaign --impl NAME [--time 10m] [--seed N] [--cases N]
  brine findings [--verify]
  brine adapter decode|encode";

const CHECK_HELP: &str = "usage: brine check-impl --decoder CMD [--encoder CMD] [options]

Runs every corpus case through an implementation's adapter (conformance/README.md) and
reports per case: pass, wrong-error, should-accept, should-reject, wrong-value, crash,
timeout (y_/n_ cases), accepted/rejected (i_ cases); and, with --encoder, per y_ document:
pass, wrong-value, unloadable, refused, crash, timeout.

  --decoder CMD     decoder adapter: a shell command, pickle on stdin
  --encoder CMD     encoder adapter: a shell command, pickle JSON on stdin
  --persistent      the adapters speak the persistent protocol (BRINE_PERSISTENT=1, one
                    process per worker, JSON lines; conformance/README.md)
  --name NAME       the implementation's name in reports (default: implementation)
  --version V       its version, recorded in the JSON report
  --timeout S       seconds per case (default 10)
  --jobs N          cases run in parallel (default 2)
  --memory MB       address-space limit per adapter process (default 4096; 0: none)
  --lenient A,B     normalizations for a narrower value model: builtins, bytearray,
                    sharing, dict-order (see conformance/README.md)
  --only SUBSTR     only cases whose name contains SUBSTR
  --json OUT        write the full report (every case, diffs) to OUT
  --failures N      failures listed on the terminal (default 20)
  --strict          exit 1 when any case fails (default: exit 0 once the check ran)
  --quiet           no progress on stderr";

/// The value of `flag`, as text.
fn value(p: &mut Parser, flag: &str) -> Result<String, String> {
    args::value(p, &format!("{flag} needs a value"))
}

/// The value of `flag`, parsed.
fn number<T: std::str::FromStr>(p: &mut Parser, flag: &str) -> Result<T, String> {
    args::parse(p, flag, &format!("{flag} needs a value"))
}

/// `brine check-impl`.
pub fn check_impl(a: &[String]) -> Result<ExitCode, String> {
    let mut o = Options::default();
    let (mut json_out, mut max_failures, mut strict) = (None, 20usize, false);
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        let flag = args::shown(&arg);
        match arg {
            Arg::Short('h') | Arg::Long("help") => {
                println!("{CHECK_HELP}");
                return Ok(ExitCode::SUCCESS);
            }
            Arg::Long("decoder") => o.decoder = Some(value(&mut p, &flag)?),
            Arg::Long("encoder") => o.encoder = Some(value(&mut p, &flag)?),
            Arg::Long("name") => o.name = value(&mut p, &flag)?,
            Arg::Long("version") => o.version = value(&mut p, &flag)?,
            Arg::Long("timeout") => o.timeout = Duration::from_secs_f64(number(&mut p, &flag)?),
            Arg::Long("jobs") | Arg::Short('j') => o.jobs = number(&mut p, &flag)?,
            Arg::Long("memory") => o.memory_mb = number(&mut p, &flag)?,
            Arg::Long("lenient") => o.lenient = Lenient::parse(value(&mut p, &flag)?.split(','))?,
            Arg::Long("only") => o.only = Some(value(&mut p, &flag)?),
            Arg::Long("json") => json_out = Some(value(&mut p, &flag)?),
            Arg::Long("failures") => max_failures = number(&mut p, &flag)?,
            Arg::Long("strict") => strict = true,
            Arg::Long("persistent") => o.persistent = true,
            Arg::Long("quiet") | Arg::Short('q') => o.progress = false,
            _ => return Err(format!("check-impl: unknown argument {flag:?}\n\n{CHECK_HELP}")),
        }
    }
    if o.decoder.is_none() && o.encoder.is_none() {
        return Err(format!("check-impl: give --decoder and/or --encoder\n\n{CHECK_HELP}"));
    }
    let root = super::find_root()?;
    let corpus = super::corpus::load(&root)?;
    let report = check::run(&root, &corpus, &o)?;
    print!("{}", super::render::summary_text(&report, max_failures));
    if let Some(path) = json_out {
        let j = super::render::to_json(&report);
        std::fs::write(&path, serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?)
            .map_err(|e| format!("{path}: {e}"))?;
        println!("\nreport: {path}");
    }
    Ok(if strict && report.failures() > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

const MATRIX_HELP: &str = "usage: brine matrix [options]

Installs every adapter under conformance/adapters (install.sh, skipped when already done),
checks each against the corpus, and writes target/matrix/NAME.json, docs/matrix.md and
docs/matrix.html.

  --only A,B        install and check only these adapters (tables keep the others' last results)
  --jobs N          cases run in parallel per implementation (default 2)
  --timeout S       seconds per case (default 10)
  --memory MB       address-space limit per adapter process (default 4096)
  --render-only     rewrite the tables from target/matrix/*.json
  --reinstall       run install.sh even when installed
  --per-case        one process per case even for adapters that offer persistent mode";

/// `brine matrix`.
pub fn matrix(a: &[String]) -> Result<ExitCode, String> {
    let mut m = MatrixOptions {
        only: None,
        jobs: 2,
        timeout: Duration::from_secs(10),
        memory_mb: 4096,
        render_only: false,
        reinstall: false,
        per_case: false,
    };
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        let flag = args::shown(&arg);
        match arg {
            Arg::Short('h') | Arg::Long("help") => {
                println!("{MATRIX_HELP}");
                return Ok(ExitCode::SUCCESS);
            }
            Arg::Long("only") => m.only = Some(value(&mut p, &flag)?.split(',').map(|s| s.trim().to_string()).collect()),
            Arg::Long("jobs") | Arg::Short('j') => m.jobs = number(&mut p, &flag)?,
            Arg::Long("timeout") => m.timeout = Duration::from_secs_f64(number(&mut p, &flag)?),
            Arg::Long("memory") => m.memory_mb = number(&mut p, &flag)?,
            Arg::Long("render-only") => m.render_only = true,
            Arg::Long("reinstall") => m.reinstall = true,
            Arg::Long("per-case") => m.per_case = true,
            _ => return Err(format!("matrix: unknown argument {flag:?}\n\n{MATRIX_HELP}")),
        }
    }
    let root = super::find_root()?;
    print!("{}", matrix::run(&root, &m)?);
    Ok(ExitCode::SUCCESS)
}

const CAMPAIGN_HELP: &str = "usage: brine campaign --impl NAME [options]

A differential campaign against one adapter under conformance/adapters: generated, near-valid
and mutated pickles (and, for scanners, pickles that hide globals) judged against brine's
codec, every discrepancy confirmed by live CPython, minimized, deduplicated by signature.
Writes target/campaigns/NAME/findings/KEY.{pkl,json}, report.md and report.json.

  --impl NAME       the adapter (conformance/adapters/NAME)
  --time D          wall-clock budget: 30s, 10m, 2h (default 10m)
  --cases N         stop after N cases
  --seed N          seed of the case stream (default 1)
  --jobs N          adapter processes (default 2)
  --timeout S       seconds per case (default 10)
  --memory MB       address-space limit per adapter process (default 4096)
  --per-kind N      minimizations per discrepancy kind (default 16)
  --out DIR         write there instead of target/campaigns/NAME
  --quiet           no progress on stderr";

/// `90`, `90s`, `10m`, `2h` as a duration.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?} (try 30s, 10m, 2h)"))?;
    let mult = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("bad duration unit in {s:?} (s, m or h)")),
    };
    Ok(Duration::from_secs_f64(n * mult))
}

/// `brine campaign`.
pub fn campaign(a: &[String]) -> Result<ExitCode, String> {
    let mut o = crate::campaign::CampaignOptions::default();
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        let flag = args::shown(&arg);
        match arg {
            Arg::Short('h') | Arg::Long("help") => {
                println!("{CAMPAIGN_HELP}");
                return Ok(ExitCode::SUCCESS);
            }
            Arg::Long("impl") => o.adapter = value(&mut p, &flag)?,
            Arg::Long("time") => o.time = parse_duration(&value(&mut p, &flag)?)?,
            Arg::Long("cases") => o.max_cases = Some(number(&mut p, &flag)?),
            Arg::Long("seed") => o.seed = number(&mut p, &flag)?,
            Arg::Long("jobs") | Arg::Short('j') => o.jobs = number(&mut p, &flag)?,
            Arg::Long("timeout") => o.timeout = Duration::from_secs_f64(number(&mut p, &flag)?),
            Arg::Long("memory") => o.memory_mb = number(&mut p, &flag)?,
            Arg::Long("per-kind") => o.per_kind = number(&mut p, &flag)?,
            Arg::Long("out") => o.out = Some(value(&mut p, &flag)?.into()),
            Arg::Long("quiet") | Arg::Short('q') => o.progress = false,
            _ => return Err(format!("campaign: unknown argument {flag:?}\n\n{CAMPAIGN_HELP}")),
        }
    }
    if o.adapter.is_empty() {
        return Err(format!("campaign: give --impl NAME\n\n{CAMPAIGN_HELP}"));
    }
    let root = super::find_root()?;
    let r = crate::campaign::run(&root, &o)?;
    print!("{}", crate::campaign::report::markdown(&r));
    println!("\nreport: target/campaigns/{}/report.md (and report.json, findings/)", r.implementation);
    Ok(ExitCode::SUCCESS)
}

/// `brine findings [--verify]`: writes docs/findings.md, or checks that every campaign
/// finding reproduces from its files alone.
pub fn findings(a: &[String]) -> Result<ExitCode, String> {
    let root = super::find_root()?;
    // Only the first argument counts (as it always has).
    match args::next(&mut args::parser(a))? {
        None => {
            println!("{}", crate::findings::write(&root)?);
            Ok(ExitCode::SUCCESS)
        }
        Some(Arg::Long("verify")) => {
            let (text, ok) = crate::findings::verify(&root)?;
            print!("{text}");
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Some(arg) => {
            println!(
                "usage: brine findings [--verify]\n\nWrites docs/findings.md from target/campaigns/*/ and target/matrix/*.json;\n\
                 --verify re-runs every campaign finding (CPython live, the adapter in a fresh process) instead."
            );
            Ok(if matches!(arg, Arg::Short('h') | Arg::Long("help")) { ExitCode::SUCCESS } else { ExitCode::from(2) })
        }
    }
}

/// `brine adapter decode|encode`: brine's codec speaking the adapter protocol.
pub fn adapter(a: &[String]) -> Result<ExitCode, String> {
    let mode = a.first().map(String::as_str).unwrap_or("");
    let mut python = brine_codec::Python::default();
    let mut p = args::parser(a.get(1..).unwrap_or_default());
    while let Some(arg) = args::next(&mut p)? {
        match arg {
            Arg::Long("python") => {
                let v = args::value(&mut p, "--python needs a version, e.g. 3.14")?;
                python = v.parse().map_err(|e| format!("--python: {e}"))?;
            }
            other => return Err(format!("brine adapter: unknown argument {:?}", args::shown(&other))),
        }
    }
    Ok(ExitCode::from(super::builtin::run(mode, python)?))
}
