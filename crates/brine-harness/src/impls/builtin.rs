//! brine's own codec as an adapter (`brine adapter decode|encode`), so that the matrix has a
//! column for it and the protocol has an implementation that needs no install.
//!
//! `decode`: the pickle on stdin through `brine_codec::decode_with` (BRINE_BUFFERS supplies
//! buffers); the node on stdout, exit 0, or the error node, exit 1. `encode`: the node on
//! stdin through `brine_codec::encode_document` at BRINE_PROTOCOL (default 4); the bytes on
//! stdout, exit 0, or the reason on stderr, exit 1.

use std::io::{Read, Write};

/// Runs the adapter side named by `mode`; returns the exit status. Call on a big stack.
pub fn run(mode: &str) -> Result<u8, String> {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).map_err(|e| format!("stdin: {e}"))?;
    let env_num = |k: &str| std::env::var(k).ok().and_then(|s| s.trim().parse::<usize>().ok());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match mode {
        "decode" => {
            let opts = brine_codec::DecodeOptions {
                buffers: env_num("BRINE_BUFFERS").filter(|n| *n > 0),
                ..Default::default()
            };
            let r = brine_codec::decode_with(&input, &opts);
            let mut text = brine_codec::json::result_to_json(&r);
            text.push('\n');
            out.write_all(text.as_bytes()).and_then(|_| out.flush()).map_err(|e| e.to_string())?;
            Ok(if r.is_ok() { 0 } else { 1 })
        }
        "encode" => {
            let text = String::from_utf8(input).map_err(|_| "stdin is not UTF-8".to_string())?;
            let doc = match brine_codec::json::parse_deep(&text) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("bad JSON: {e}");
                    return Ok(1);
                }
            };
            let protocol = env_num("BRINE_PROTOCOL").unwrap_or(4).min(255) as u8;
            match brine_codec::encode_document(&doc, protocol) {
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
        other => Err(format!("brine adapter: unknown mode {other:?} (decode or encode)")),
    }
}
