//! `cargo xtask versions`: every CPython from 3.9 to 3.15 as a reference. Builds the
//! interpreters when missing (scripts/pythons.sh: Debian chroots under target/pythons/, needs
//! root), then builds `brine` in release mode and runs `brine versions`, which observes each
//! interpreter over the conformance cases, regenerates conformance/versions/X.Y.jsonl, the
//! corpus's per-version fields and docs/versions.md, and checks the codec in each version's
//! mode. Exit status non-zero on any disagreement. Not part of CI (`.ci/run` needs no chroot).

use crate::util::{cargo, has_flag, run_cmd, wants_help};
use std::process::Command;

const HELP: &str = "usage: cargo xtask versions [--reuse] [--only X.Y,...] [--check-only]

  --reuse        keep each interpreter's raw observations (target/versions/raw/) when present
  --only LIST    only these versions, e.g. --only 3.14,3.15
  --check-only   no interpreter: check the codec against conformance/versions/ as checked in
Needs root for the chroots (scripts/pythons.sh), except with --check-only.";

pub fn run(args: &[String]) -> Result<(), String> {
    if wants_help(args) {
        println!("{HELP}");
        return Ok(());
    }
    if !has_flag(args, "check-only") {
        run_cmd(&mut Command::new("scripts/pythons.sh"))?;
    }
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--release", "-p", "brine-cli", "--bin", "brine", "--", "versions"]);
    cmd.args(args);
    run_cmd(&mut cmd)
}
