//! `corpus-cells`: the corpus's (opcode, protocol) cell coverage and failing opcodes
//! ([`brine_harness::corpus_cells`]), checked against conformance/corpus-cells-floor.json.
//! Run by `cargo xtask conformance` after the conformance run.
//!
//!     corpus-cells [--root DIR] [--corpus DIR] [--floor FILE] [--out FILE]
//!
//! Exit status 1 when a figure falls below its floor (a lost cell is a regression).

use brine_harness::args::{self, Arg};
use brine_harness::corpus_cells::CellReport;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("corpus-cells: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mut root = std::env::current_dir().map_err(|e| e.to_string())?;
    let (mut corpus, mut floor, mut out) = (None, None, None);
    let mut p = args::Parser::from_env();
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        let flag = args::shown(&arg);
        let path = |p: &mut args::Parser| p.value().map(PathBuf::from).map_err(|_| format!("{flag} needs a path"));
        match arg {
            Arg::Long("root") => root = path(&mut p)?,
            Arg::Long("corpus") => corpus = Some(path(&mut p)?),
            Arg::Long("floor") => floor = Some(path(&mut p)?),
            Arg::Long("out") => out = Some(path(&mut p)?),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let corpus = corpus.unwrap_or_else(|| root.join("corpus"));
    let floor = floor.unwrap_or_else(|| root.join("conformance/corpus-cells-floor.json"));
    let out = out.unwrap_or_else(|| root.join("target/conformance/corpus-cells.json"));
    let r = CellReport::of_dir(&corpus)?;
    print!("{}", r.summary());
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(&r.to_json()).map_err(|e| e.to_string())?;
    std::fs::write(&out, text + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
    let floor_json: serde_json::Value = std::fs::read_to_string(&floor)
        .map_err(|e| format!("{}: {e}", floor.display()))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("{}: {e}", floor.display())))?;
    let regressions = r.below_floor(&floor_json);
    for g in &regressions {
        println!("REGRESSION (corpus cells): {g}");
    }
    println!("corpus cells: {} regressions against {}; report {}", regressions.len(), floor.display(), out.display());
    Ok(if regressions.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
