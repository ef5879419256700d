//! `cargo xtask fuzz`: builds the cargo-fuzz targets in fuzz/ and runs them across the cores
//! for a time budget, then triages the crashes and writes the morning report.
//!
//! - Build: `cargo fuzz build --sanitizer none` (stable Rust), or with `--asan`
//!   `RUSTC_BOOTSTRAP=1 cargo fuzz build` (AddressSanitizer needs -Z flags).
//! - Seeds: a target's working corpus is fuzz/corpus/<target> (gitignored, kept between runs,
//!   so a stopped campaign resumes). When empty, the `brine-fuzz seed` helper fills it: the
//!   corpus/*.pkl for the pickle targets, generator bytes for the others.
//! - Before running, each working corpus is minimized (`cargo fuzz cmin`, skipped when it has
//!   not grown by a quarter since the last one), and the pickle-input targets get a libFuzzer
//!   dictionary made from the opcode table (`brine-fuzz dict`, target/fuzz/pickle.dict).
//! - Run: a target on one core is one plain libFuzzer process, restarted when it stops on a
//!   crash (saved to fuzz/artifacts/<target>/), so fuzzing goes on; its status lines get the
//!   campaign's elapsed time and a running exec count across restarts. Plain mode runs 10x
//!   the executions of fork mode here: fork mode's jobs restart the process, re-run their
//!   seeds and merge, every few seconds. A target given several cores (the last, smaller
//!   wave) runs in fork mode (`-fork=N -ignore_crashes=1`). `-max_total_time` stops both.
//!   `--time` is the whole campaign's wall clock, because that is what
//!   someone starting one in the evening plans around: every target gets the same core time
//!   (`time x jobs / targets`), one core each while at least as many targets wait as there
//!   are cores; the last, smaller wave waits for every core and forks over them for
//!   proportionally less wall time. A
//!   process that overstays its budget by two minutes is killed. One target crashing or
//!   failing to start does not stop the others.
//! - Then `cargo xtask triage` (crates/brine-fuzz classifies, `cargo fuzz tmin` minimizes)
//!   and the report: target/fuzz/report.md, report.json and one SVG chart per target, from
//!   libFuzzer's status lines in target/fuzz/logs/<target>.log.

use crate::util::{cargo, has_flag, parser, root, run_cmd, shown, value, wants_help};
use lexopt::Arg::Long;
use serde_json::{json, Value as J};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const HELP: &str = "usage: cargo xtask fuzz [--target T]... | [--all] [--time DURATION] [--jobs N] [--asan] [--no-triage]
       cargo xtask fuzz --report
       cargo xtask fuzz --impl NAME [--time DURATION] [brine campaign options]

  --impl NAME   a differential campaign against the adapter conformance/adapters/NAME instead
                of fuzzing brine: `brine campaign --impl NAME ...` (see `brine campaign --help`),
                findings in target/campaigns/NAME/

  --target T    fuzz target T (repeatable); --all (the default) runs every target in fuzz/fuzz_targets
  --time D      the campaign's wall-clock budget: 30s, 10m, 2h (default 10m). Each target gets
                an equal share of the core time (D x jobs / targets); targets beyond --jobs
                queue, and the last wave forks more to use the freed cores
  --jobs N      cores to use: libFuzzer processes (forks) at once over all targets (default:
                the number of cores)
  --asan        build with AddressSanitizer (RUSTC_BOOTSTRAP=1 on stable) instead of --sanitizer none
  --no-triage   skip triage (the report then lists raw artifacts)
  --no-cmin     keep the working corpora as they are (by default each is minimized with
                `cargo fuzz cmin` first when it grew by a quarter since its last minimization)
  --report      only rewrite target/fuzz/report.{md,json} from the last run's logs

Needs cargo-fuzz: scripts/install-fuzz-tools.sh installs the pinned version.";

const INSTALL_HINT: &str = "cargo-fuzz is not installed (`cargo fuzz` failed).\n\
     Install the pinned version with:\n\n    scripts/install-fuzz-tools.sh\n\n\
     then run `cargo xtask fuzz` again. (xtask never installs tools by itself.)";

struct Opts {
    targets: Vec<String>,
    secs: u64,
    jobs: usize,
    asan: bool,
    triage: bool,
    report_only: bool,
    cmin: bool,
}

fn parse(args: &[String]) -> Result<Opts, String> {
    let mut o = Opts {
        targets: vec![],
        secs: 600,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        asan: false,
        triage: true,
        report_only: false,
        cmin: true,
    };
    let mut p = parser(args);
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        let flag = shown(&arg);
        let missing = format!("{flag} needs a value");
        match arg {
            Long("target") => o.targets.push(value(&mut p, &missing)?),
            Long("all") => {}
            Long("time") => o.secs = parse_duration(&value(&mut p, &missing)?)?,
            Long("jobs") => o.jobs = value(&mut p, &missing)?.parse().map_err(|e| format!("--jobs: {e}"))?,
            Long("asan") => o.asan = true,
            Long("no-triage") => o.triage = false,
            Long("report") => o.report_only = true,
            Long("no-cmin") => o.cmin = false,
            _ => return Err(format!("unknown flag {flag}\n\n{HELP}")),
        }
    }
    o.jobs = o.jobs.max(1);
    Ok(o)
}

/// `90`, `90s`, `10m`, `2h` as seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| format!("bad duration {s:?} (try 30s, 10m, 2h)"))?;
    match unit {
        "s" => Ok(n),
        "m" => Ok(n * 60),
        "h" => Ok(n * 3600),
        _ => Err(format!("bad duration unit in {s:?} (s, m or h)")),
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    if wants_help(args) {
        println!("{HELP}");
        return Ok(());
    }
    if has_flag(args, "impl") {
        return impl_campaign(args);
    }
    let o = parse(args)?;
    if o.report_only {
        return write_report();
    }
    require_cargo_fuzz()?;
    let all = fuzz_targets()?;
    let targets = if o.targets.is_empty() { all.clone() } else { o.targets.clone() };
    for t in &targets {
        if !all.contains(t) {
            return Err(format!("no fuzz target {t:?} (have: {})", all.join(", ")));
        }
    }
    build_targets(o.asan)?;
    let helper = helper_bin()?;
    for t in &targets {
        seed(&helper, t)?;
        if o.cmin {
            cmin(t, o.asan)?;
        }
    }
    let dict = root().join("target/fuzz/pickle.dict");
    let out = Command::new(&helper).arg("dict").output().map_err(|e| format!("brine-fuzz dict: {e}"))?;
    fs::create_dir_all(root().join("target/fuzz")).map_err(|e| e.to_string())?;
    fs::write(&dict, &out.stdout).map_err(|e| e.to_string())?;
    let since = SystemTime::now();
    campaign(&o, &targets)?;
    if o.triage {
        crate::triage::triage(&crate::triage::Opts { asan: o.asan, since: Some(since), ..Default::default() })?;
    }
    write_report()
}

/// `--impl NAME`: builds `brine` in release mode and runs `brine campaign` with the same
/// arguments (the campaign engine lives in crates/brine-harness).
fn impl_campaign(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-cli", "--bin", "brine", "--", "campaign"]);
    cmd.args(args);
    run_cmd(&mut cmd)
}

/// An error naming scripts/install-fuzz-tools.sh when cargo-fuzz is missing.
pub fn require_cargo_fuzz() -> Result<(), String> {
    let ok = cargo().args(["fuzz", "--version"]).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
    if ok {
        Ok(())
    } else {
        Err(INSTALL_HINT.into())
    }
}

/// The targets: fuzz/fuzz_targets/*.rs, sorted.
pub fn fuzz_targets() -> Result<Vec<String>, String> {
    let dir = root().join("fuzz/fuzz_targets");
    let mut v: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".rs")).map(str::to_string))
        .collect();
    v.sort();
    Ok(v)
}

/// `cargo fuzz build` for every target, with the sanitizer asked for. Also the sanitizer
/// flags `cargo fuzz tmin` must repeat so as not to rebuild.
pub fn build_targets(asan: bool) -> Result<(), String> {
    let mut c = cargo();
    c.args(["fuzz", "build"]).args(sanitizer_args(asan));
    if asan {
        c.env("RUSTC_BOOTSTRAP", "1");
    }
    run_cmd(&mut c)
}

/// `--sanitizer none`, or ASan's build in a target directory of its own (fuzz/target/asan),
/// so that switching never rebuilds the other or swaps binaries under a running campaign.
pub fn sanitizer_args(asan: bool) -> Vec<String> {
    if asan {
        vec!["--target-dir".into(), root().join("fuzz/target/asan").display().to_string()]
    } else {
        vec!["--sanitizer".into(), "none".into()]
    }
}

/// Where cargo fuzz puts a built target.
pub fn target_bin(name: &str, asan: bool) -> PathBuf {
    let dir = if asan { root().join("fuzz/target/asan") } else { root().join("fuzz/target") };
    dir.join(host_triple()).join("release").join(name)
}

fn host_triple() -> String {
    Command::new("rustc")
        .arg("-vV")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("host: ").map(str::to_string)))
        .unwrap_or_else(|| "x86_64-unknown-linux-gnu".into())
}

/// Builds the `brine-fuzz` helper (release) and returns its path.
pub fn helper_bin() -> Result<PathBuf, String> {
    run_cmd(cargo().args(["build", "--release", "-q", "-p", "brine-fuzz", "--bin", "brine-fuzz"]))?;
    let dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    Ok(dir.join("release/brine-fuzz"))
}

/// Fills fuzz/corpus/<t> from the helper when it is empty or missing.
fn seed(helper: &Path, t: &str) -> Result<(), String> {
    let dir = root().join("fuzz/corpus").join(t);
    let empty = fs::read_dir(&dir).map_or(true, |mut d| d.next().is_none());
    if empty {
        run_cmd(Command::new(helper).args(["seed", "--target", t, "--out"]).arg(&dir))?;
    } else {
        println!("{t}: resuming from {} ({} inputs)", dir.display(), count_files(&dir).0);
    }
    Ok(())
}

/// Per-target libFuzzer flags: input size, per-input time limit, dictionary.
///
/// `-max_len` is fitted to what the inputs are: 99% of corpus/*.pkl are under 4.3 KB (the
/// median is 12 bytes), so 4096 for the pickle-input targets; generator bytes drive
/// pickle-smith, whose pickles grow with them, and CPython's cost grows with the pickle,
/// so `differential` gets 2048.
fn target_flags(t: &str, dict: &Path) -> Vec<String> {
    let timeout = if matches!(t, "differential" | "encode_exact") { 30 } else { 10 };
    let max_len = match t {
        "decode" | "dis" => 4096,
        "differential" => 2048,
        _ => 8192,
    };
    let mut v = vec![format!("-max_len={max_len}"), format!("-timeout={timeout}"), "-rss_limit_mb=2048".into()];
    if matches!(t, "decode" | "dis") && dict.is_file() {
        v.push(format!("-dict={}", dict.display()));
    }
    v
}

/// `cargo fuzz cmin` on a target's working corpus when it has grown by a quarter (in files)
/// since the last minimization (target/fuzz/cmin/<target>: the count after it).
fn cmin(t: &str, asan: bool) -> Result<(), String> {
    let dir = root().join("fuzz/corpus").join(t);
    let stamp = root().join("target/fuzz/cmin").join(t);
    let (files, _) = count_files(&dir);
    let last: u64 = fs::read_to_string(&stamp).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    if last > 0 && files * 4 < last * 5 {
        return Ok(());
    }
    let started = Instant::now();
    let mut c = cargo();
    c.args(["fuzz", "cmin"]).args(sanitizer_args(asan)).arg(t).arg("--").args(target_flags(t, Path::new("")));
    c.env("ASAN_OPTIONS", "detect_leaks=0").stdout(Stdio::null()).stderr(Stdio::null());
    if asan {
        c.env("RUSTC_BOOTSTRAP", "1");
    }
    run_cmd(&mut c)?;
    let (after, bytes) = count_files(&dir);
    println!("{t}: cmin {files} -> {after} inputs ({} KiB) in {:.0} s", bytes / 1024, started.elapsed().as_secs_f64());
    fs::create_dir_all(stamp.parent().expect("has a parent")).map_err(|e| e.to_string())?;
    fs::write(&stamp, after.to_string()).map_err(|e| e.to_string())
}

struct Running {
    target: String,
    child: Child,
    started: Instant,
    start_unix: u64,
    forks: usize,
    secs: u64,
    /// Plain mode: executions of the processes before this one (status lines add it).
    execs_before: Arc<AtomicU64>,
    /// Plain mode: the thread copying the process's output into the log.
    copier: Option<std::thread::JoinHandle<()>>,
    restarts: u32,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn campaign(o: &Opts, targets: &[String]) -> Result<(), String> {
    let logs = root().join("target/fuzz/logs");
    fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    // Core-seconds per target; a target on `forks` cores runs share / forks seconds.
    let share = o.secs * o.jobs as u64 / targets.len().max(1) as u64;
    println!(
        "fuzz: {} target(s) on {} core(s) for about {}s: {}s of core time each",
        targets.len(),
        o.jobs,
        o.secs,
        share
    );
    let mut queue: Vec<String> = targets.iter().rev().cloned().collect();
    let full_waves = targets.len() - targets.len() % o.jobs;
    let mut started = 0;
    let mut running: Vec<Running> = vec![];
    let mut runs: Vec<J> = vec![];
    let mut last_print = Instant::now();
    loop {
        loop {
            let busy: usize = running.iter().map(|r| r.forks).sum();
            let free = o.jobs.saturating_sub(busy);
            if free == 0 || queue.is_empty() {
                break;
            }
            // Whole waves (as many targets as cores) take one core each, as cores free up;
            // the last, smaller wave waits for every core and spreads over them (its first
            // targets get the remainder).
            let wave: Vec<(String, usize)> = if started < full_waves {
                started += 1;
                vec![(queue.pop().expect("not empty"), 1)]
            } else {
                if !running.is_empty() {
                    break;
                }
                let n = queue.len();
                started += n;
                (0..n).map(|k| (queue.pop().expect("n left"), o.jobs / n + usize::from(k < o.jobs % n))).collect()
            };
            for (t, forks) in wave {
                let secs = (share / forks as u64).max(1);
                let execs_before = Arc::new(AtomicU64::new(0));
                let now = Instant::now();
                match start(o, &t, forks, secs, &logs, now, &execs_before, false) {
                    Ok((child, copier)) => running.push(Running {
                        target: t,
                        child,
                        started: now,
                        start_unix: unix_now(),
                        forks,
                        secs,
                        execs_before,
                        copier,
                        restarts: 0,
                    }),
                    Err(e) => {
                        eprintln!("fuzz: {t} did not start: {e}");
                        runs.push(run_json(&t, unix_now(), 0, 0, 0, &format!("did not start: {e}"), o));
                    }
                }
            }
        }
        if running.is_empty() {
            break;
        }
        let mut i = 0;
        while i < running.len() {
            let r = &mut running[i];
            let status = match r.child.try_wait() {
                Ok(Some(st)) => Some(st.to_string()),
                Ok(None) if r.started.elapsed() > Duration::from_secs(r.secs + 120) => {
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    Some("killed after overstaying its budget".into())
                }
                Ok(None) => None,
                Err(e) => Some(format!("wait failed: {e}")),
            };
            // A plain-mode process that stopped early (a crash, a timeout, an out-of-memory
            // input: saved as an artifact) is restarted for the rest of its time.
            if let Some(st) = &status {
                let left = r.secs.saturating_sub(r.started.elapsed().as_secs());
                if r.forks == 1 && left > 5 && r.restarts < 100 {
                    if let Some(c) = r.copier.take() {
                        let _ = c.join();
                    }
                    println!("fuzz: {} stopped ({st}); restarting for {left}s", r.target);
                    match start(o, &r.target, 1, left, &logs, r.started, &r.execs_before, true) {
                        Ok((child, copier)) => {
                            r.child = child;
                            r.copier = copier;
                            r.restarts += 1;
                            i += 1;
                            continue;
                        }
                        Err(e) => eprintln!("fuzz: {} did not restart: {e}", r.target),
                    }
                }
            }
            if let Some(st) = status {
                let mut r = running.remove(i);
                if let Some(c) = r.copier.take() {
                    let _ = c.join();
                }
                let st = if r.restarts > 0 { format!("{st} after {} restart(s)", r.restarts) } else { st };
                let secs = r.started.elapsed().as_secs();
                println!("fuzz: {} finished after {secs}s ({st})", r.target);
                runs.push(run_json(&r.target, r.start_unix, secs, r.secs, r.forks, &st, o));
            } else {
                i += 1;
            }
        }
        if last_print.elapsed() > Duration::from_secs(30) {
            last_print = Instant::now();
            for r in &running {
                let last = parse_log(&logs.join(format!("{}.log", r.target))).last().cloned();
                if let Some(p) = last {
                    println!("  {:<14} {:>5}s  #{} cov {} ft {} corp {} exec/s {}", r.target, r.started.elapsed().as_secs(), p.execs, p.cov, p.ft, p.corp, p.exec_s);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    // One run a line.
    let lines: Vec<String> = runs.iter().map(J::to_string).collect();
    let out = root().join("target/fuzz/runs.json");
    fs::write(&out, format!("[\n{}\n]\n", lines.join(",\n"))).map_err(|e| e.to_string())
}

/// Starts target `t`'s libFuzzer process: fork mode over `forks` cores, or (one core) a
/// plain process whose output a thread copies into the log, stamping each status line with
/// the time since `since` and adding `execs_before` to its exec count. `append` continues
/// the log of a restarted process.
#[allow(clippy::too_many_arguments)]
fn start(
    o: &Opts,
    t: &str,
    forks: usize,
    secs: u64,
    logs: &Path,
    since: Instant,
    execs_before: &Arc<AtomicU64>,
    append: bool,
) -> Result<(Child, Option<std::thread::JoinHandle<()>>), String> {
    let bin = target_bin(t, o.asan);
    let artifacts = root().join("fuzz/artifacts").join(t);
    fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
    let path = logs.join(format!("{t}.log"));
    let log = fs::OpenOptions::new().create(true).append(append).write(true).truncate(!append).open(&path).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(&bin);
    cmd.current_dir(root());
    if forks > 1 {
        cmd.arg(format!("-fork={forks}")).args(["-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"]);
    }
    cmd.arg(format!("-max_total_time={secs}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .args(target_flags(t, &root().join("target/fuzz/pickle.dict")))
        .arg(root().join("fuzz/corpus").join(t))
        .env("ASAN_OPTIONS", "detect_leaks=0")
        .stdin(Stdio::null());
    if forks > 1 {
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let child = cmd.stdout(log).stderr(log2).spawn().map_err(|e| format!("{}: {e}", bin.display()))?;
        return Ok((child, None));
    }
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().map_err(|e| format!("{}: {e}", bin.display()))?;
    let err = child.stderr.take().expect("piped");
    let base = Arc::clone(execs_before);
    let copier = std::thread::spawn(move || copy_status(err, log, since, &base));
    Ok((child, Some(copier)))
}

/// Copies a plain libFuzzer process's output into its log, status lines restamped (see
/// [`restamp`]); at the end, adds the process's executions to `base`.
fn copy_status(from: impl std::io::Read, mut log: fs::File, since: Instant, base: &AtomicU64) {
    use std::io::{BufRead, Write};
    let before = base.load(Ordering::Relaxed);
    let mut last = 0;
    for line in std::io::BufReader::new(from).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line);
        let out = match restamp(&line, before, since.elapsed().as_secs()) {
            Some((text, execs)) => {
                last = execs;
                text
            }
            None => line.into_owned(),
        };
        let _ = writeln!(log, "{out}");
    }
    base.store(before + last, Ordering::Relaxed);
}

/// A plain-mode status line with `before` added to its exec count and ` time: Ns` appended
/// (fork mode's lines carry both), and the process's own count; `None` for other lines.
pub fn restamp(line: &str, before: u64, secs: u64) -> Option<(String, u64)> {
    let st = parse_status(line)?;
    if st.time.is_some() {
        return None;
    }
    let rest = line.strip_prefix('#')?;
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    Some((format!("#{}{} time: {secs}s", before + st.execs, &rest[digits..]), st.execs))
}

fn run_json(t: &str, start: u64, secs: u64, budget: u64, forks: usize, status: &str, o: &Opts) -> J {
    let sanitizer = if o.asan { "address" } else { "none" };
    json!({"target": t, "start": start, "secs": secs, "budget": budget, "forks": forks, "sanitizer": sanitizer, "status": status})
}

/// One libFuzzer status line: `#N ... cov: X ft: Y corp: Z ... exec/s: E ... time: Ts`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    pub execs: u64,
    pub cov: u64,
    pub ft: u64,
    pub corp: u64,
    pub exec_s: u64,
    /// Seconds since the start (fork mode prints it; else `None`).
    pub time: Option<u64>,
}

/// Parses a status line (plain `#N\tNEW cov: ..` / `pulse` lines and fork mode's
/// `#N: cov: .. exec/s: ..`, with or without the colon after exec/s).
pub fn parse_status(line: &str) -> Option<Status> {
    let rest = line.strip_prefix('#')?;
    if !line.contains("cov: ") {
        return None;
    }
    let toks: Vec<&str> = rest.split_whitespace().collect();
    let execs = toks.first()?.trim_end_matches(':').parse().ok()?;
    let num = |s: &str| -> Option<u64> {
        let d: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
        d.parse().ok()
    };
    let after = |key: &str| toks.iter().position(|t| *t == key).and_then(|i| toks.get(i + 1)).and_then(|v| num(v));
    Some(Status {
        execs,
        cov: after("cov:")?,
        ft: after("ft:").unwrap_or(0),
        corp: after("corp:").unwrap_or(0),
        exec_s: after("exec/s:").or_else(|| after("exec/s")).unwrap_or(0),
        time: after("time:"),
    })
}

/// Every status line of a log.
pub fn parse_log(path: &Path) -> Vec<Status> {
    fs::read_to_string(path).map(|s| s.lines().filter_map(parse_status).collect()).unwrap_or_default()
}

fn count_files(dir: &Path) -> (u64, u64) {
    let mut n = 0;
    let mut bytes = 0;
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            if let Ok(m) = e.metadata() {
                if m.is_file() {
                    n += 1;
                    bytes += m.len();
                }
            }
        }
    }
    (n, bytes)
}

/// A small line chart of coverage over time, its axis from the run's lowest to its highest
/// `cov` (growth, not the absolute level, is what a morning reader looks for), with
/// features (`ft`) drawn dashed on their own min..max scale.
pub fn svg_chart(title: &str, pts: &[Status]) -> String {
    let (w, h, l, b, top) = (480.0f64, 210.0f64, 52.0f64, 28.0f64, 40.0f64);
    let xs: Vec<f64> = pts.iter().enumerate().map(|(i, p)| p.time.map_or(i as f64, |t| t as f64)).collect();
    let xmax = xs.iter().cloned().fold(1.0, f64::max);
    let range = |v: &[f64]| {
        let lo = v.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() && hi > lo { (lo, hi) } else { (0.0, hi.max(1.0)) }
    };
    let line = |vals: &[f64], (lo, hi): (f64, f64)| -> String {
        xs.iter()
            .zip(vals)
            .map(|(x, v)| format!("{:.1},{:.1}", l + x / xmax * (w - l - 8.0), h - b - (v - lo) / (hi - lo) * (h - b - top)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let cov: Vec<f64> = pts.iter().map(|p| p.cov as f64).collect();
    let ft: Vec<f64> = pts.iter().map(|p| p.ft as f64).collect();
    let (cr, fr) = (range(&cov), range(&ft));
    let unit = if pts.iter().any(|p| p.time.is_some()) { "s" } else { "status lines" };
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="14" font-weight="bold">{title}: coverage over time</text>
<text x="8" y="30" fill="#1f77b4">cov (edges) {c0:.0} to {c1:.0}</text>
<text x="{xe}" y="30" text-anchor="end" fill="#ff7f0e">ft (features, dashed) {f0:.0} to {f1:.0}</text>
<line x1="{l}" y1="{y0}" x2="{xe}" y2="{y0}" stroke="#888"/><line x1="{l}" y1="{top}" x2="{l}" y2="{y0}" stroke="#888"/>
<text x="{l}" y="{yl}">0</text><text x="{xe}" y="{yl}" text-anchor="end">{xmax:.0} {unit}</text>
<text x="{lx}" y="{ty}" text-anchor="end">{c1:.0}</text><text x="{lx}" y="{y0}" text-anchor="end">{c0:.0}</text>
<polyline fill="none" stroke="#ff7f0e" stroke-width="1" stroke-dasharray="4 2" points="{pf}"/>
<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="{pc}"/>
</svg>
"##,
        y0 = h - b,
        xe = w - 8.0,
        yl = h - b + 14.0,
        lx = l - 4.0,
        ty = top + 4.0,
        c0 = cr.0,
        c1 = cr.1,
        f0 = fr.0,
        f1 = fr.1,
        pc = line(&cov, cr),
        pf = line(&ft, fr),
    )
}

/// The `forks` of target `t`'s (first) entry in runs.json (0 when it has none).
fn forks_of(runs: &J, t: &str) -> u64 {
    let entries = runs.as_array().map_or(&[][..], Vec::as_slice);
    entries.iter().find(|r| r["target"] == t).and_then(|r| r["forks"].as_u64()).unwrap_or(0)
}

/// A JSON file written earlier, or `[]` when it is missing or unreadable.
fn read_json_list(path: &Path) -> J {
    fs::read_to_string(path).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_else(|| json!([]))
}

/// Writes target/fuzz/report.md, report.json and <target>.svg from runs.json, the logs,
/// fuzz/corpus and target/triage/findings.{json,md}.
pub fn write_report() -> Result<(), String> {
    let out = root().join("target/fuzz");
    fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let runs = read_json_list(&out.join("runs.json"));
    let targets = fuzz_targets()?;
    let mut md = String::from("# brine fuzzing report\n\n");
    let _ = writeln!(md, "Written by `cargo xtask fuzz` (unix time {}). Budget, status and sanitizer per target are in report.json (`runs`).\n", unix_now());
    md.push_str("Coverage per core-hour is what the run added after loading its seeds (`cov` edges and `ft` features, end minus first status line) over its core time: a faster campaign that finds nothing new shows there, not in execs/s.\n\n");
    md.push_str("| target | fuzzed | cores | execs | execs/s | execs/s per core | corpus | cov start → end | ft | cov / core-hour | ft / core-hour | artifacts |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let mut tj = vec![];
    for t in &targets {
        let log = out.join("logs").join(format!("{t}.log"));
        let pts = parse_log(&log);
        let Some(last) = pts.last() else { continue };
        let first = &pts[0];
        let secs = last.time.unwrap_or(0);
        let rate = last.execs.checked_div(secs).unwrap_or(last.exec_s);
        let cores = forks_of(&runs, t).max(1);
        let (files, bytes) = count_files(&root().join("fuzz/corpus").join(t));
        let arts = fs::read_dir(root().join("fuzz/artifacts").join(t))
            .map(|d| d.flatten().filter(|e| !e.file_name().to_string_lossy().starts_with("minimized-from-")).count())
            .unwrap_or(0);
        fs::write(out.join(format!("{t}.svg")), svg_chart(t, &pts)).map_err(|e| e.to_string())?;
        let core_hours = (secs * cores) as f64 / 3600.0;
        let per_core_hour = |gain: u64| if core_hours > 0.0 { (gain as f64 / core_hours).round() as u64 } else { 0 };
        let (cov_h, ft_h) = (per_core_hour(last.cov.saturating_sub(first.cov)), per_core_hour(last.ft.saturating_sub(first.ft)));
        let _ = writeln!(
            md,
            "| {t} | {secs}s | {cores} | {} | {rate} | {} | {files} inputs, {} KiB | {} → {} | {} | {cov_h} | {ft_h} | {arts} |",
            last.execs,
            rate / cores,
            bytes / 1024,
            first.cov,
            last.cov,
            last.ft
        );
        let series: Vec<J> = pts.iter().map(|p| json!([p.time.unwrap_or(0), p.execs, p.cov, p.ft, p.corp])).collect();
        tj.push(json!({
            "target": t,
            "secs": secs,
            "cores": cores,
            "execs": last.execs,
            "execs_per_sec": rate,
            "execs_per_sec_per_core": rate / cores,
            "cov_per_core_hour": cov_h,
            "ft_per_core_hour": ft_h,
            "corpus_files": files,
            "corpus_bytes": bytes,
            "cov_start": first.cov,
            "cov_end": last.cov,
            "ft_end": last.ft,
            "artifacts": arts,
            "series_columns": ["time_s", "execs", "cov", "ft", "corp"],
            "series": series,
        }));
    }
    md.push_str("\nCoverage growth (blue: libFuzzer's `cov`, edges; orange, dashed: `ft`, features; each from the run's lowest to its highest value):\n\n");
    for t in &targets {
        if out.join(format!("{t}.svg")).exists() {
            let _ = writeln!(md, "![{t}]({t}.svg)");
        }
    }
    let triage = root().join("target/triage");
    let findings_json = read_json_list(&triage.join("findings.json"));
    md.push_str("\n## Findings\n\n");
    match fs::read_to_string(triage.join("findings.md")) {
        Ok(f) => md.push_str(&f),
        Err(_) => md.push_str("No triage ran (`cargo xtask triage` writes target/triage/findings.md).\n"),
    }
    fs::write(out.join("report.md"), md).map_err(|e| e.to_string())?;
    let json = json!({"generated": unix_now(), "runs": runs, "targets": tj, "findings": findings_json});
    fs::write(out.join("report.json"), format!("{json}\n")).map_err(|e| e.to_string())?;
    println!("report: {}", out.join("report.md").display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        let fork = "#11787: cov: 5844 ft: 23837 corp: 1252 exec/s: 488 oom/timeout/crash: 0/0/0 time: 23s job: 5 dft_time: 0";
        assert_eq!(parse_status(fork), Some(Status { execs: 11787, cov: 5844, ft: 23837, corp: 1252, exec_s: 488, time: Some(23) }));
        let old_fork = "#120: cov: 10 ft: 20 corp: 3 exec/s 40 oom/timeout/crash: 0/0/0 time: 3s job: 1 dft_time: 0";
        assert_eq!(parse_status(old_fork).unwrap().exec_s, 40);
        let plain = "#65536\tpulse  cov: 1234 ft: 5678 corp: 90/12Kb lim: 4096 exec/s: 21845 rss: 64Mb";
        assert_eq!(parse_status(plain), Some(Status { execs: 65536, cov: 1234, ft: 5678, corp: 90, exec_s: 21845, time: None }));
        assert_eq!(parse_status("INFO: Seed: 1"), None);
        assert_eq!(parse_status("#2\tINITED exec/s: 0 rss: 30Mb"), None);
    }

    #[test]
    fn plain_status_lines_get_time_and_a_running_count() {
        let plain = "#65536\tpulse  cov: 1234 ft: 5678 corp: 90/12Kb lim: 4096 exec/s: 21845 rss: 64Mb";
        let (text, own) = restamp(plain, 1000, 42).unwrap();
        assert_eq!(own, 65536);
        assert_eq!(parse_status(&text), Some(Status { execs: 66536, cov: 1234, ft: 5678, corp: 90, exec_s: 21845, time: Some(42) }));
        // Fork mode's lines and other output pass unchanged.
        assert_eq!(restamp("#11787: cov: 5844 ft: 23837 corp: 1252 exec/s: 488 oom/timeout/crash: 0/0/0 time: 23s", 5, 1), None);
        assert_eq!(restamp("INFO: Seed: 1", 5, 1), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), 90);
        assert_eq!(parse_duration("2m").unwrap(), 120);
        assert_eq!(parse_duration("1h").unwrap(), 3600);
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn svg_is_well_formed() {
        let pts = [Status { execs: 1, cov: 1, ft: 2, corp: 1, exec_s: 1, time: Some(0) }, Status { execs: 9, cov: 5, ft: 9, corp: 3, exec_s: 9, time: Some(10) }];
        let s = svg_chart("t", &pts);
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
    }
}
