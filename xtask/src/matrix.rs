//! `cargo xtask matrix`: builds `brine` in release mode and runs `brine matrix`, which
//! installs every adapter under conformance/adapters (skipping installed ones), checks each
//! against the corpus, and writes docs/matrix.md, docs/matrix.html and target/matrix/*.json.

use crate::util::{cargo, run_cmd};

/// Forwards every argument (including --help) to `brine matrix`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-cli", "--bin", "brine", "--", "matrix"]);
    cmd.args(args);
    run_cmd(&mut cmd)
}
