//! brine's own codec as an adapter (`brine adapter decode|encode`), so that the matrix has a
//! column for it and the protocol has an implementation that needs no install.
//!
//! `decode`: the pickle on stdin through `brine_codec::decode_with` (BRINE_BUFFERS supplies
//! buffers, BRINE_EXTENSIONS `[[MODULE, NAME, CODE], ...]` the copyreg extension registry);
//! the node on stdout, exit 0, or the error node, exit 1. `encode`: the node on stdin through
//! `brine_codec::encode_document` at BRINE_PROTOCOL (default 4); the bytes on stdout, exit 0,
//! or the reason on stderr, exit 1.
//!
//! `--python X.Y` makes it the codec in that CPython version's mode (`DecodeOptions::python`,
//! `EncodeOptions::python`): an adapter for another version's expectations.
//!
//! With BRINE_PERSISTENT=1 either side serves many cases (conformance/README.md, "Persistent
//! adapters"): one JSON request per stdin line, one answer line per request, flushed, each
//! computed by the same function as the per-case answer. A request line that is not a
//! request ends the process (exit 3: the harness counts a crash and restarts it); a panic
//! is not caught and ends it too.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};

/// Runs the adapter side named by `mode`; returns the exit status. Call on a big stack.
pub fn run(mode: &str, python: brine_codec::Python) -> Result<u8, String> {
    if mode != "decode" && mode != "encode" {
        return Err(format!("brine adapter: unknown mode {mode:?} (decode or encode)"));
    }
    if std::env::var("BRINE_PERSISTENT").as_deref() == Ok("1") {
        return serve(mode == "encode", python);
    }
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).map_err(|e| format!("stdin: {e}"))?;
    let env_num = |k: &str| std::env::var(k).ok().and_then(|s| s.trim().parse::<usize>().ok());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if mode == "decode" {
        let extensions = match std::env::var("BRINE_EXTENSIONS") {
            Ok(s) if !s.trim().is_empty() => {
                let reg = serde_json::from_str(&s).map_err(|e| e.to_string()).and_then(|v| extension_registry(&v));
                match reg {
                    Ok(reg) => reg,
                    Err(e) => {
                        // the case cannot be set up: a crash by the protocol, as persistent
                        eprintln!("brine adapter: BRINE_EXTENSIONS: {e}");
                        return Ok(3);
                    }
                }
            }
            _ => HashMap::new(),
        };
        let (code, mut text) = decode_case(&input, env_num("BRINE_BUFFERS").unwrap_or(0), extensions, python);
        text.push('\n');
        out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| e.to_string())?;
        return Ok(code);
    }
    let text = String::from_utf8(input).map_err(|_| "stdin is not UTF-8".to_string())?;
    let doc = match brine_codec::json::parse_deep(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bad JSON: {e}");
            return Ok(1);
        }
    };
    let protocol = env_num("BRINE_PROTOCOL").unwrap_or(4).min(255) as u8;
    match encode_case(&doc, protocol, python) {
        Ok(bytes) => {
            out.write_all(&bytes).and_then(|_| out.flush()).map_err(|e| e.to_string())?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(1)
        }
    }
}

/// One decoder case: the exit status and the node (value or error node) as JSON text.
/// `buffers` 0 means no `buffers=` argument, as the per-case BRINE_BUFFERS does.
fn decode_case(input: &[u8], buffers: usize, extensions: HashMap<i64, (String, String)>, python: brine_codec::Python) -> (u8, String) {
    let opts =
        brine_codec::DecodeOptions { buffers: Some(buffers).filter(|n| *n > 0), extensions, python, ..Default::default() };
    let r = brine_codec::decode_with(input, &opts);
    (if r.is_ok() { 0 } else { 1 }, brine_codec::json::result_to_json(&r))
}

/// One encoder case: the pickle bytes, or why the codec refuses the document.
fn encode_case(doc: &serde_json::Value, protocol: u8, python: brine_codec::Python) -> Result<Vec<u8>, String> {
    brine_codec::encode::encode_document_with(doc, protocol, python).map_err(|e| e.to_string())
}

/// `[[MODULE, NAME, CODE], ...]` as `DecodeOptions::extensions` (code -> (module, name)),
/// checked as `copyreg.add_extension` checks each entry (code in 1..=0x7fffffff, neither the
/// code nor the pair registered otherwise; a repeat is harmless). A registry CPython would
/// refuse cannot set up the case: an error, which ends the adapter (a crash of that case).
fn extension_registry(v: &serde_json::Value) -> Result<HashMap<i64, (String, String)>, String> {
    let mut reg: HashMap<i64, (String, String)> = HashMap::new();
    let mut codes: HashMap<(String, String), i64> = HashMap::new();
    let Some(entries) = v.as_array() else {
        return Err("not a list of [module, name, code]".into());
    };
    for e in entries {
        let (m, n, c) = match e.as_array().map(Vec::as_slice) {
            Some([m, n, c]) => match (m.as_str(), n.as_str(), c.as_i64()) {
                (Some(m), Some(n), Some(c)) => (m.to_string(), n.to_string(), c),
                _ => return Err(format!("bad entry {e}")),
            },
            _ => return Err(format!("bad entry {e}")),
        };
        if !(1..=0x7fff_ffff).contains(&c) {
            return Err(format!("code {c} out of range"));
        }
        let key = (m, n);
        if reg.get(&c).is_some_and(|k| *k != key) || codes.get(&key).is_some_and(|k| *k != c) {
            return Err(format!("{e} conflicts with an earlier entry"));
        }
        codes.insert(key.clone(), c);
        reg.insert(c, key);
    }
    Ok(reg)
}

/// The persistent loop; returns 0 at end of input, 3 on a line that is not a request.
fn serve(encoding: bool, python: brine_codec::Python) -> Result<u8, String> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).map_err(|e| format!("stdin: {e}"))? == 0 {
            return Ok(0);
        }
        let answer = match std::str::from_utf8(&line) {
            Ok(t) if t.trim().is_empty() => continue,
            Ok(t) => answer(t, encoding, python),
            Err(_) => Err("a request line is not UTF-8".to_string()),
        };
        let mut answer = match answer {
            Ok(a) => a,
            Err(e) => {
                eprintln!("brine adapter: {e}");
                return Ok(3);
            }
        };
        answer.push('\n');
        let mut out = stdout.lock();
        out.write_all(answer.as_bytes()).and_then(|_| out.flush()).map_err(|e| e.to_string())?;
    }
}

/// The answer line (without its newline) for one request line.
fn answer(line: &str, encoding: bool, python: brine_codec::Python) -> Result<String, String> {
    let req = brine_codec::json::parse_deep(line.trim_end()).map_err(|e| format!("bad request: {e}"))?;
    let case = req.get("case").cloned().unwrap_or(serde_json::Value::Null);
    let mut out = format!(r#"{{"case":{},"exit":"#, case);
    if encoding {
        let doc = req.get("document").ok_or("request without \"document\"")?;
        let protocol = req.get("protocol").and_then(|p| p.as_u64()).unwrap_or(4).min(255) as u8;
        match encode_case(doc, protocol, python) {
            Ok(bytes) => {
                out.push_str(r#"0,"pickle":""#);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for b in bytes {
                    out.push(HEX[usize::from(b >> 4)] as char);
                    out.push(HEX[usize::from(b & 15)] as char);
                }
                out.push_str("\"}");
            }
            Err(e) => {
                out.push_str(r#"1,"message":"#);
                out.push_str(&serde_json::Value::String(e).to_string());
                out.push('}');
            }
        }
    } else {
        let pickle = req.get("pickle").and_then(|p| p.as_str()).ok_or("request without a hex \"pickle\"")?;
        let data = brine_codec::hex::decode(pickle).map_err(|e| format!("request without a hex \"pickle\" ({e})"))?;
        let buffers = req.get("buffers").and_then(|b| b.as_u64()).unwrap_or(0) as usize;
        let extensions = match req.get("extensions") {
            Some(v) if !v.is_null() => extension_registry(v)?,
            _ => HashMap::new(),
        };
        let (code, node) = decode_case(&data, buffers, extensions, python);
        out.push_str(&format!(r#"{code},"node":{node}}}"#));
    }
    Ok(out)
}
