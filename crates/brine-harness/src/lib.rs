//! The conformance run behind `cargo xtask conformance` (issue 6): every checked-in case and
//! a seeded batch of generated ones through every engine, opcode coverage, and reports.
//!
//! - [`args`]: command-line arguments, read the same way by every `brine` subcommand.
//! - [`cases`]: loading conformance/ and corpus/.
//! - [`campaign`]: differential campaigns against another implementation's adapter.
//! - [`findings`]: docs/findings.md from campaigns and the matrix.
//! - [`coverage`]: which opcodes ran, per protocol, on success and error paths.
//! - [`corpus_cells`]: which (opcode, protocol) cells the corpus alone reaches.
//! - [`report`]: terminal, JSON, markdown and SVG output.
//! - [`run`]: one conformance run over every check.
#![deny(missing_docs)]

pub mod args;
pub mod campaign;
pub mod cases;
pub mod corpus_cells;
pub mod coverage;
pub mod findings;
pub mod impls;
pub mod report;
pub mod run;
pub mod versions;

use std::collections::BTreeMap;

/// Tallies of one kind of check.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CheckCount {
    /// Cases run.
    pub cases: u64,
    /// Both sides agreed.
    pub agree: u64,
    /// A disagreement (a regression for codec-vs-CPython checks).
    pub disagree: u64,
    /// Skipped as an implementation limit (MemoryError, RecursionError, time, brine limit).
    pub poisoned: u64,
}

/// One disagreement or finding, with what is needed to reproduce it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Which check (e.g. "decode: codec vs CPython C").
    pub check: String,
    /// The case name.
    pub case: String,
    /// Whether this fails the run (codec vs CPython) or is informative (C vs Python).
    pub regression: bool,
    /// One line.
    pub summary: String,
    /// A unified diff of the two documents or listings.
    pub diff: String,
    /// The pickle, hex.
    pub pickle_hex: String,
    /// A shell command that reproduces it.
    pub repro: String,
}

/// One poisoned comparison.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Poisoned {
    /// Which check.
    pub check: String,
    /// The case name.
    pub case: String,
    /// The limit that was hit, as the verdict says it.
    pub reason: String,
    /// The pickle, hex (the first 64 bytes' worth for long ones).
    pub pickle_hex: String,
}

/// Everything a run produced.
#[derive(Clone, Debug, Default)]
pub struct RunReport {
    /// The embedded interpreter (version and path), or why there is none.
    pub interpreter: String,
    /// The seed of the generated batch.
    pub seed: u64,
    /// Wall time.
    pub elapsed_s: f64,
    /// Tallies per check.
    pub checks: BTreeMap<String, CheckCount>,
    /// Disagreements and findings.
    pub findings: Vec<Finding>,
    /// Comparisons skipped because an engine hit a resource limit: which, and why (so a
    /// reader can tell a CPython MemoryError from an over-cautious oracle guard).
    pub poisoned: Vec<Poisoned>,
    /// Opcode coverage over all decoded cases.
    pub coverage: coverage::Coverage,
    /// Wall time per phase, in seconds.
    pub phases: Vec<(String, f64)>,
}

impl RunReport {
    /// Number of findings that fail the run.
    pub fn regressions(&self) -> usize {
        self.findings.iter().filter(|f| f.regression).count()
    }
}
