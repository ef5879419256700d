//! `cargo xtask conformance`: builds `brine` in release mode and runs its conformance
//! command, which checks every case in conformance/ and corpus/ plus a seeded batch of
//! generated pickles and values against CPython (C and pure-Python) and pickletools,
//! prints the summary and coverage table, and writes target/conformance/report.{json,md}
//! and coverage.svg; then reports the corpus's own cell coverage (brine-harness's
//! `corpus-cells`: (opcode, protocol) cells of y_ cases, failing opcodes of n_ cases) against
//! conformance/corpus-cells-floor.json. Exit status is non-zero on any regression of either.

use crate::util::{cargo, has_flag, run_cmd, wants_help};

const HELP: &str = "usage: cargo xtask conformance [--seed N] [--count N] [--time SECS] [--no-generated]

  --seed N        seed of the generated batch (default: 1; printed for replay)
  --count N       generated pickles and values to check (default: 100000)
  --time SECS     stop generating after this many seconds (default: 45)
  --no-generated  only the checked-in cases
  --python X.Y    the codec in CPython X.Y's mode against that version's checked-in
                  expectations (conformance/versions/X.Y.jsonl; see cargo xtask versions)
Reports go to target/conformance/ (corpus-cells.json: the corpus's own cell coverage,
checked against conformance/corpus-cells-floor.json).";

pub fn run(args: &[String]) -> Result<(), String> {
    if wants_help(args) {
        println!("{HELP}");
        return Ok(());
    }
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-cli", "--bin", "brine", "--", "conformance"]);
    cmd.args(args);
    let run = run_cmd(&mut cmd);
    // The corpus's own cells, separate from what the run decoded (generated pickles included).
    let mut cells = cargo();
    cells.args(["run", "--quiet", "--release", "-p", "brine-harness", "--bin", "corpus-cells"]);
    let cells = if has_flag(args, "python") { Ok(()) } else { run_cmd(&mut cells) };
    run.and(cells)
}
