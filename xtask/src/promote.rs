//! `cargo xtask promote --impl NAME [--impl NAME]...`: campaign findings the corpus does not
//! already show become conformance cases (scripts/promote_findings.py, expectations made by
//! live CPython) and then corpus cases (scripts/gen_corpus.py).

use crate::util::{parser, root, run_cmd, shown, value, wants_help};
use lexopt::Arg::Long;
use std::process::Command;

const HELP: &str = "usage: cargo xtask promote --impl NAME [--impl NAME]... | --all

Appends the new findings of target/campaigns/NAME/ to conformance/decode/campaigns.jsonl
(CPython computes each expectation) and regenerates corpus/ with scripts/gen_corpus.py.";

pub fn run(args: &[String]) -> Result<(), String> {
    if wants_help(args) || args.is_empty() {
        println!("{HELP}");
        return Ok(());
    }
    let mut dirs = vec![];
    let mut p = parser(args);
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("impl") => {
                let n = value(&mut p, "--impl needs a name")?;
                dirs.push(root().join("target/campaigns").join(n));
            }
            Long("all") => {
                for e in std::fs::read_dir(root().join("target/campaigns")).map_err(|e| format!("target/campaigns: {e}"))? {
                    dirs.push(e.map_err(|e| e.to_string())?.path());
                }
            }
            other => return Err(format!("unknown argument {}\n\n{HELP}", shown(&other))),
        }
    }
    for d in &dirs {
        if !d.join("findings").is_dir() {
            return Err(format!("{} has no findings/: run `cargo xtask fuzz --impl NAME` first", d.display()));
        }
    }
    let python = "/usr/bin/python3.11";
    run_cmd(Command::new(python).arg("scripts/promote_findings.py").args(&dirs).env("PYTHONHASHSEED", "0"))?;
    run_cmd(Command::new(python).arg("scripts/gen_corpus.py"))
}
