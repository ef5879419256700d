//! `cargo xtask bench`: builds and runs crates/brine-bench in release mode: decode and
//! encode MB/s for brine, CPython's C pickle and serde-pickle on the same bytes, ratios,
//! memcpy bandwidth, peak decode memory, oracle checks/s and fuzz execs/s. Writes
//! target/bench/report.{md,json}.

use crate::util::{cargo, run_cmd, wants_help};

pub fn run(args: &[String]) -> Result<(), String> {
    if wants_help(args) {
        println!("usage: cargo xtask bench\n\nPrints the results table; writes target/bench/report.md and report.json.");
        return Ok(());
    }
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-bench", "--"]);
    cmd.args(args);
    run_cmd(&mut cmd)
}
