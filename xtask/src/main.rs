//! brine's task runner: `cargo xtask <command>` (a cargo alias in .cargo/config.toml).
//!
//! main.rs only dispatches; each command is a module. The heavy work lives in library
//! crates and the `brine` binary, which the commands build in release mode and run, so this
//! crate stays small and quick to compile: its only dependencies are lexopt (arguments, read
//! as `brine` reads them) and serde_json (the fuzz and triage reports).

mod bench;
mod check_impl;
mod conformance;
mod findings;
mod fuzz;
mod matrix;
mod promote;
mod triage;
mod util;
mod versions;

use std::process::ExitCode;

/// (name, one-line description, entry point).
type Command = (&'static str, &'static str, fn(&[String]) -> Result<(), String>);

const COMMANDS: &[Command] = &[
    (
        "conformance",
        "the whole suite + generated cases through every engine, opcode coverage, reports (CI's job)",
        conformance::run,
    ),
    ("bench", "brine vs CPython's C pickle vs serde-pickle: MB/s, ratios, memory, checks/s", bench::run),
    ("check-impl", "another pickle implementation's adapter against the corpus (conformance/README.md)", check_impl::run),
    ("matrix", "install and check every adapter in conformance/adapters: docs/matrix.md and .html", matrix::run),
    ("fuzz", "build and run the cargo-fuzz targets for a time budget, triage, morning report", fuzz::run),
    ("triage", "classify, deduplicate and minimize fuzz crashes; propose corpus cases", triage::run),
    ("findings", "docs/findings.md from the campaigns (fuzz --impl) and the matrix", findings::run),
    ("versions", "CPython 3.9-3.15 as references: per-version expectations, docs/versions.md, the codec per version", versions::run),
    ("promote", "campaign findings the corpus lacks become corpus cases (CPython-made expectations)", promote::run),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((name, rest)) = args.split_first() else {
        print_help();
        return ExitCode::SUCCESS;
    };
    if matches!(name.as_str(), "help" | "-h" | "--help") {
        print_help();
        return ExitCode::SUCCESS;
    }
    let Some((_, _, f)) = COMMANDS.iter().find(|(n, _, _)| n == name) else {
        eprintln!("xtask: unknown command {name:?}\n");
        print_help();
        return ExitCode::from(2);
    };
    match f(rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!("usage: cargo xtask <command> [args]\n\ncommands:");
    for (n, d, _) in COMMANDS {
        println!("  {n:<14} {d}");
    }
    println!("\n`cargo xtask <command> --help` shows a command's flags.");
}
