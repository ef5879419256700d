//! `cargo xtask check-impl`: builds `brine` in release mode and runs `brine check-impl`,
//! which puts every corpus case through an implementation's adapter (conformance/README.md)
//! and reports per case, with a summary table, diffs for wrong values and an optional JSON
//! report.

use crate::util::{cargo, run_cmd};

/// Forwards every argument (including --help) to `brine check-impl`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-cli", "--bin", "brine", "--", "check-impl"]);
    cmd.args(args);
    run_cmd(&mut cmd)
}
