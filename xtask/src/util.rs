//! Shared helpers: the workspace root and running commands with a clear error.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root (the parent of xtask/).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Runs a command in the workspace root, inheriting stdio; an error if it fails.
pub fn run_cmd(cmd: &mut Command) -> Result<(), String> {
    cmd.current_dir(root());
    let shown = format!("{cmd:?}");
    let st = cmd.status().map_err(|e| format!("could not start {shown}: {e}"))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({st})"))
    }
}

/// `cargo` as cargo itself ran us.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Whether `args` asks for help.
pub fn wants_help(args: &[String]) -> bool {
    args.iter().any(|a| a == "--help" || a == "-h")
}

/// Whether arguments passed on to another command hold the flag `--name`, as `--name`,
/// `--name VALUE` or `--name=VALUE`.
pub fn has_flag(args: &[String], name: &str) -> bool {
    args.iter().filter_map(|a| a.strip_prefix("--")).any(|a| a == name || a.strip_prefix(name).is_some_and(|v| v.starts_with('=')))
}

/// A parser over a command's arguments, for the commands that read their own.
pub fn parser(args: &[String]) -> lexopt::Parser {
    lexopt::Parser::from_args(args)
}

/// The value of the flag just read, as text; `missing` is the error when there is none.
pub fn value(p: &mut lexopt::Parser, missing: &str) -> Result<String, String> {
    let v = p.value().map_err(|_| missing.to_string())?;
    v.into_string().map_err(|v| format!("not UTF-8: {v:?}"))
}

/// An argument as it was written, for messages about it.
pub fn shown(a: &lexopt::Arg) -> String {
    match a {
        lexopt::Arg::Long(l) => format!("--{l}"),
        lexopt::Arg::Short(c) => format!("-{c}"),
        lexopt::Arg::Value(v) => v.to_string_lossy().into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_passed_on() {
        let a: Vec<String> = ["--seed", "3", "--python=3.14", "--check-only"].map(String::from).to_vec();
        assert!(has_flag(&a, "python") && has_flag(&a, "check-only") && has_flag(&a, "seed"));
        assert!(!has_flag(&a, "pyth") && !has_flag(&a, "impl") && !has_flag(&a, "3"));
    }
}
