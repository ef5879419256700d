//! `cargo xtask bench`: builds and runs crates/brine-bench in release mode: decode and
//! encode MB/s for brine, CPython's C pickle and serde-pickle on the same bytes, ratios,
//! memcpy bandwidth, peak decode memory, the first-call and whole-process regimes (the
//! release `brine` CLI, built first), oracle checks/s and fuzz execs/s. Writes
//! target/bench/report.{md,json}.

use crate::util::{cargo, run_cmd, wants_help};

pub fn run(args: &[String]) -> Result<(), String> {
    if wants_help(args) {
        println!("usage: cargo xtask bench\n\nPrints the results table; writes target/bench/report.md and report.json.");
        return Ok(());
    }
    // The CLI whose whole-process `brine decode --quiet` the bench times.
    let mut build = cargo();
    build.args(["build", "--quiet", "--release", "-p", "brine-cli"]);
    run_cmd(&mut build)?;
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-bench", "--"]);
    cmd.args(args);
    run_cmd(&mut cmd)
}
