//! `cargo xtask findings`: builds `brine` in release mode and runs `brine findings`, which
//! writes docs/findings.md from the last campaigns (target/campaigns/) and the last matrix
//! (target/matrix/).

use crate::util::{cargo, run_cmd};

/// Forwards every argument to `brine findings`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-cli", "--bin", "brine", "--", "findings"]);
    cmd.args(args);
    run_cmd(&mut cmd)
}
