//! `brine globals`: what each pickle would import, without importing anything.
//!
//! ```text
//! brine globals [--buffers N] [--extensions JSON] [--python X.Y] FILE...
//! ```
//! One JSON line per file: `{"file": PATH, "globals": [[module, name], ...]}`, every
//! `find_class(module, name)` call CPython 3.11's C unpickler makes loading the file, in
//! order, including the calls before an error (see `brine_codec::decode::globals`). Names are
//! as the pickle spells them (the protocol < 3 `fix_imports` renaming happens inside
//! `find_class`); a name holding a lone surrogate is `{"hex": HEX}` of its surrogatepass
//! UTF-8. `--buffers N` supplies N out-of-band buffers, as `brine decode` does;
//! `--extensions '[[module, name, code], ...]'` is the copyreg extension registry EXT1/2/4
//! resolve through (empty by default); `--python X.Y` makes the calls those of that CPython's
//! C unpickler (default 3.11). A rejected pickle is not a failed command: the exit
//! status is non-zero only when a file cannot be read (1) or the arguments are wrong (2).

use brine_codec::DecodeOptions;
use brine_harness::args::{self, Arg};
use serde_json::{json, Value as J};
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

pub(crate) fn run(a: &[String]) -> Result<ExitCode, String> {
    let mut opts = DecodeOptions::default();
    let mut files = vec![];
    let mut p = args::parser(a);
    while let Some(arg) = args::next(&mut p)? {
        match arg {
            Arg::Long("buffers") => opts.buffers = Some(crate::parse_buffers(&mut p)?),
            Arg::Long("extensions") => {
                let j = args::value(&mut p, "--extensions needs a JSON list [[module, name, code], ...]")?;
                opts.extensions = parse_extensions(&j)?;
            }
            Arg::Long("python") => opts.python = crate::parse_python(&mut p)?,
            Arg::Value(v) => files.push(args::operand(v)?),
            other => return Err(format!("unknown flag {}", args::shown(&other))),
        }
    }
    if files.is_empty() {
        return Err("no FILE given".into());
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut status = ExitCode::SUCCESS;
    for path in &files {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("brine: {path}: {e}");
                status = ExitCode::from(1);
                continue;
            }
        };
        let g = brine_codec::globals(&data, &opts);
        let line = json!({"file": path, "globals": brine_codec::decode::calls_to_json(&g.calls)});
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(status)
}

/// `[[module, name, code], ...]` as copyreg.add_extension would take them: str names, codes
/// 1..=0x7fffffff, no code (or pair) registered twice to different things.
fn parse_extensions(text: &str) -> Result<HashMap<i64, (String, String)>, String> {
    let bad = |why: &str| format!("bad --extensions value: {why} (want [[module, name, code], ...])");
    let j: J = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let mut codes: HashMap<i64, (String, String)> = HashMap::new();
    let mut pairs: HashMap<(String, String), i64> = HashMap::new();
    for e in j.as_array().ok_or_else(|| bad("not a list"))? {
        let (Some(m), Some(n), Some(code), 3) =
            (e.get(0).and_then(J::as_str), e.get(1).and_then(J::as_str), e.get(2).and_then(J::as_i64), e.as_array().map_or(0, Vec::len))
        else {
            return Err(bad(&format!("{e} is not [module, name, code]")));
        };
        if !(1..=0x7fff_ffff).contains(&code) {
            return Err(bad(&format!("code {code} out of range 1..=2147483647")));
        }
        let pair = (m.to_string(), n.to_string());
        if codes.get(&code).is_some_and(|p| *p != pair) || pairs.get(&pair).is_some_and(|&c| c != code) {
            return Err(bad(&format!("{e} conflicts with an earlier entry")));
        }
        codes.insert(code, pair.clone());
        pairs.insert(pair, code);
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_parse_as_copyreg_takes_them() {
        let r = parse_extensions(r#"[["os","system",240],["a","b",2147483647],["os","system",240]]"#).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[&240], ("os".to_string(), "system".to_string()));
        for bad in [
            "{}",
            r#"[["os","system"]]"#,
            r#"[["os","system",0]]"#,
            r#"[["os","system",2147483648]]"#,
            r#"[["os",1,5]]"#,
            r#"[["a","b",5],["c","d",5]]"#,
            r#"[["a","b",5],["a","b",6]]"#,
        ] {
            assert!(parse_extensions(bad).is_err(), "{bad}");
        }
    }
}
