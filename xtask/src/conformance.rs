//! `cargo xtask conformance`: builds `brine` in release mode and runs its conformance
//! command, which checks every case in conformance/ and corpus/ plus a seeded batch of
//! generated pickles and values against CPython (C and pure-Python) and pickletools,
//! prints the summary and coverage table, and writes target/conformance/report.{json,md}
//! and coverage.svg. Exit status is non-zero on any regression.

use crate::util::{cargo, run_cmd, wants_help};

const HELP: &str = "usage: cargo xtask conformance [--seed N] [--count N] [--time SECS] [--no-generated]

  --seed N        seed of the generated batch (default: 1; printed for replay)
  --count N       generated pickles and values to check (default: 100000)
  --time SECS     stop generating after this many seconds (default: 45)
  --no-generated  only the checked-in cases
  --python X.Y    the codec in CPython X.Y's mode against that version's checked-in
                  expectations (conformance/versions/X.Y.jsonl; see cargo xtask versions)
Reports go to target/conformance/.";

pub fn run(args: &[String]) -> Result<(), String> {
    if wants_help(args) {
        println!("{HELP}");
        return Ok(());
    }
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-cli", "--bin", "brine", "--", "conformance"]);
    cmd.args(args);
    run_cmd(&mut cmd)
}
