//! Other pickle implementations against the corpus (issue 7): the adapter protocol of
//! conformance/README.md, `brine check-impl` and `brine matrix`.
//!
//! - [`corpus`]: the corpus as the checks read it (y/n/i cases, expected nodes).
//! - [`process`]: running one adapter command on one input, with a timeout, a memory limit and
//!   its process group killed on the way out.
//! - [`adapter`]: an adapter (per case or persistent) as an [`brine_oracle::Engine`], like the
//!   codec and CPython's unpicklers.
//! - [`lenient`]: the documented normalizations for implementations whose value model lacks
//!   identity, dict order, bytearray or resolves builtins itself.
//! - [`check`]: every case through a decoder (and an encoder) adapter, one status per case.
//! - [`render`]: the terminal summary, unified diffs and the JSON report of a check.
//! - [`matrix`]: every adapter under conformance/adapters installed, checked, and tabulated
//!   in docs/matrix.md, docs/matrix.html and target/matrix/*.json.
//! - [`builtin`]: brine's own codec speaking the adapter protocol (`brine adapter`).
//! - [`cli`]: argument parsing for the three `brine` subcommands.

pub mod adapter;
pub mod builtin;
pub mod check;
pub mod cli;
pub mod corpus;
pub mod lenient;
pub mod matrix;
pub mod process;
pub mod render;

use std::path::{Path, PathBuf};

/// The workspace root: the nearest ancestor of the current directory holding
/// corpus/manifest.json (so `brine` works from any subdirectory of a checkout).
pub fn find_root() -> Result<PathBuf, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    cwd.ancestors()
        .find(|d| d.join("corpus/manifest.json").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no corpus/manifest.json in {} or above: run from a brine checkout", cwd.display()))
}

/// Today's date (UTC) as YYYY-MM-DD, from the system clock (no date crate).
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = (secs / 86_400) as i64;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
