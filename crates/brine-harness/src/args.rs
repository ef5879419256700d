//! Command-line arguments of `brine` and its subcommands: [lexopt] reads them (`--flag`,
//! `--flag VALUE` or `--flag=VALUE`, `-f VALUE`, `--` before operands that start with `-`);
//! these helpers give its answers brine's wording, so that every subcommand reports a
//! missing or bad value, and an unknown flag, the same way.

use std::str::FromStr;

pub use lexopt::{Arg, Parser};

/// A parser over a subcommand's arguments (those after its name).
pub fn parser(args: &[String]) -> Parser {
    Parser::from_args(args)
}

/// The next flag or operand; `None` at the end. A flag given a value it does not take
/// (`--json=1`) is an error.
pub fn next(p: &mut Parser) -> Result<Option<Arg<'_>>, String> {
    p.next().map_err(|e| e.to_string())
}

/// The value of the flag just read, as text; `missing` is the error when there is none.
pub fn value(p: &mut Parser, missing: &str) -> Result<String, String> {
    let v = p.value().map_err(|_| missing.to_string())?;
    v.into_string().map_err(|v| format!("not UTF-8: {v:?}"))
}

/// The value of `flag`, parsed: `missing` when there is none, `bad FLAG value "V"` when it
/// does not parse.
pub fn parse<T: FromStr>(p: &mut Parser, flag: &str, missing: &str) -> Result<T, String> {
    let v = value(p, missing)?;
    v.parse().map_err(|_| format!("bad {flag} value {v:?}"))
}

/// An argument as it was written (`--name`, `-n`, or the operand), for messages about it.
pub fn shown(a: &Arg) -> String {
    match a {
        Arg::Long(l) => format!("--{l}"),
        Arg::Short(c) => format!("-{c}"),
        Arg::Value(v) => v.to_string_lossy().into_owned(),
    }
}

/// An operand as text.
pub fn operand(v: std::ffi::OsString) -> Result<String, String> {
    v.into_string().map_err(|v| format!("not UTF-8: {v:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn values_and_operands() {
        let a = args(&["--jobs", "4", "--only=a,b", "-j", "-3", "file", "--", "--not-a-flag"]);
        let mut p = parser(&a);
        let mut seen = vec![];
        while let Some(arg) = next(&mut p).unwrap() {
            match arg {
                Arg::Long("jobs") => seen.push(format!("jobs {}", parse::<u32>(&mut p, "--jobs", "--jobs needs a number").unwrap())),
                Arg::Long("only") => seen.push(format!("only {}", value(&mut p, "--only needs a list").unwrap())),
                Arg::Short('j') => seen.push(format!("j {}", value(&mut p, "-j needs a number").unwrap())),
                Arg::Value(v) => seen.push(operand(v).unwrap()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(seen, ["jobs 4", "only a,b", "j -3", "file", "--not-a-flag"]);
    }

    #[test]
    fn messages() {
        let a = args(&["--jobs", "x"]);
        let mut p = parser(&a);
        assert_eq!(next(&mut p).unwrap(), Some(Arg::Long("jobs")));
        assert_eq!(parse::<u32>(&mut p, "--jobs", "--jobs needs a number"), Err("bad --jobs value \"x\"".into()));
        let a = args(&["--jobs"]);
        let mut p = parser(&a);
        next(&mut p).unwrap();
        assert_eq!(parse::<u32>(&mut p, "--jobs", "--jobs needs a number"), Err("--jobs needs a number".into()));
        assert_eq!(shown(&Arg::Long("bogus")), "--bogus");
        assert_eq!(shown(&Arg::Short('x')), "-x");
        assert_eq!(shown(&Arg::Value("pos".into())), "pos");
        // A value given to a flag that takes none.
        let a = args(&["--json=1"]);
        let mut p = parser(&a);
        assert_eq!(next(&mut p).unwrap(), Some(Arg::Long("json")));
        assert!(next(&mut p).unwrap_err().contains("--json"));
    }
}
