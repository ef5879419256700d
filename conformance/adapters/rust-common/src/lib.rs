//! What brine's Rust adapters share (conformance/README.md has the protocol). An adapter's
//! `main` is `Adapter { name, decode, encode }.main()`, with its implementation's side of
//! one case in two functions:
//!
//! - `decode`: one pickle's answer, `(exit, node)`: exit 0 accepts and 1 rejects; the node is
//!   the value as pickle JSON, an error node (`error_node`), or `None` when nothing is printed
//!   (the case is then judged on accept/reject only).
//! - `encode` (adapters with an encoder): a pickle JSON document and the protocol asked for,
//!   to the pickle bytes, or why the implementation's model cannot hold the document (a
//!   refusal: exit 1, the reason on stderr or in the answer's `message`).
//!
//! `main` takes the side from its first argument (`decode` or `encode`; an adapter without an
//! encoder always decodes) and the protocol from BRINE_PERSISTENT. Per case: the pickle (or
//! the document, with BRINE_PROTOCOL, default 3) on stdin, the node (or the pickle bytes) on
//! stdout and the exit status. With BRINE_PERSISTENT=1, the persistent loop (`serve`): JSON
//! request lines on stdin (`{"case","pickle":HEX,...}` / `{"case","document","protocol"}`),
//! one answer line per request on stdout (`{"case","exit","node"?}` /
//! `{"case","exit","pickle"|"message"}`), flushed, computed by the same functions as the
//! per-case answers. No adapter here takes out-of-band buffers or an extension registry, so
//! `buffers` and `extensions` are ignored. The loop exits 0 at the end of its input, and 3 (a
//! reason on stderr) at a request line that is not UTF-8 or not JSON, or a decoder request
//! without a hex `pickle`.
//!
//! Crashes: values nest as deep as the pickle (100,000 levels in the corpus), so every case
//! is decoded, converted and dropped on a thread with a 1 GiB stack. A panic there is not
//! caught: `main` sees it at `join` and exits with status 101, which the harness reports as
//! a crash of the case (and, persistent, restarts the adapter); an allocation failure aborts
//! the process (SIGABRT); an endless loop is the harness's timeout.

use serde_json::Value as J;
use std::io::{BufRead, Read, Write};

/// One pickle: the exit status and the node printed, if any.
pub type Decode = fn(&[u8]) -> (i32, Option<String>);

/// One document and protocol: the pickle bytes, or why it is refused.
pub type Encode = fn(&J, u8) -> Result<Vec<u8>, String>;

/// One decoder adapter (and its encoder, if any).
#[derive(Clone, Copy)]
pub struct Adapter {
    /// The adapter's name in its messages on stderr ("NAME adapter: ...").
    pub name: &'static str,
    pub decode: Decode,
    pub encode: Option<Encode>,
}

impl Adapter {
    /// Runs the adapter as its arguments and environment say, and exits.
    pub fn main(self) -> ! {
        let encode = self.encode.filter(|_| std::env::args().nth(1).as_deref() == Some("encode"));
        let persistent = std::env::var("BRINE_PERSISTENT").as_deref() == Ok("1");
        let code = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || match (encode, persistent) {
                (None, false) => self.decode_one(),
                (Some(encode), false) => encode_one(encode),
                (encode, true) => self.serve(encode),
            })
            .expect("spawn")
            .join()
            .unwrap_or(101);
        std::process::exit(code);
    }

    /// The per-case decoder: the pickle on stdin, the node (if any) on stdout.
    fn decode_one(self) -> i32 {
        let mut data = Vec::new();
        std::io::stdin().read_to_end(&mut data).expect("read stdin");
        let (code, node) = (self.decode)(&data);
        if let Some(mut node) = node {
            node.push('\n');
            write_stdout(node.as_bytes());
        }
        code
    }

    /// The persistent loop: one answer line per request line, flushed; exit 0 at end of
    /// input. `encode`: requests are documents to encode, else pickles to decode.
    fn serve(self, encode: Option<Encode>) -> i32 {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut line = Vec::new();
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line).expect("read stdin") == 0 {
                return 0;
            }
            let Ok(text) = std::str::from_utf8(&line) else {
                eprintln!("{} adapter: a request line is not UTF-8", self.name);
                return 3;
            };
            if text.trim().is_empty() {
                continue;
            }
            let req = match parse_json(text) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{} adapter: bad request line: {e}", self.name);
                    return 3;
                }
            };
            let case = req.get("case").cloned().unwrap_or(J::Null);
            let mut answer = format!(r#"{{"case":{},"exit":"#, serde_json::to_string(&case).expect("case"));
            if let Some(encode) = encode {
                let doc = req.get("document").unwrap_or(&J::Null);
                let proto = req.get("protocol").and_then(J::as_u64).map_or(3, |p| p.min(255) as u8);
                match encode(doc, proto) {
                    Ok(bytes) => {
                        answer.push_str(r#"0,"pickle":""#);
                        answer.push_str(&hex(&bytes));
                        answer.push_str("\"}");
                    }
                    Err(why) => {
                        answer.push_str(r#"1,"message":"#);
                        answer.push_str(&json_str(&why));
                        answer.push('}');
                    }
                }
            } else {
                let Some(data) = req.get("pickle").and_then(J::as_str).and_then(unhex) else {
                    eprintln!("{} adapter: request without a hex \"pickle\"", self.name);
                    return 3;
                };
                let (code, node) = (self.decode)(&data);
                answer.push_str(&code.to_string());
                if let Some(node) = node {
                    answer.push_str(r#","node":"#);
                    answer.push_str(&node);
                }
                answer.push('}');
            }
            answer.push('\n');
            write_stdout(answer.as_bytes());
        }
    }
}

/// The per-case encoder: the document on stdin, BRINE_PROTOCOL, the pickle on stdout.
fn encode_one(encode: Encode) -> i32 {
    let refuse = |why: &str| {
        eprintln!("{why}");
        1
    };
    let mut text = String::new();
    if std::io::stdin().read_to_string(&mut text).is_err() {
        return refuse("stdin is not UTF-8");
    }
    let doc = match parse_json(&text) {
        Ok(d) => d,
        Err(e) => return refuse(&format!("bad JSON: {e}")),
    };
    let proto: u8 = std::env::var("BRINE_PROTOCOL").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    match encode(&doc, proto) {
        Ok(bytes) => {
            write_stdout(&bytes);
            0
        }
        Err(why) => refuse(&why),
    }
}

fn write_stdout(bytes: &[u8]) {
    let mut so = std::io::stdout().lock();
    so.write_all(bytes).and_then(|_| so.flush()).expect("write stdout");
}

/// One JSON value from the start of `text`, nested as deep as it is (documents may nest
/// 10,000 deep); what follows it is not looked at.
pub fn parse_json(text: &str) -> Result<J, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    serde::Deserialize::deserialize(&mut de)
}

/// A string as a JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

/// Lowercase hex, two digits a byte.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The bytes of a hex string (either case); `None` when it is not one.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 == 1 {
        return None;
    }
    (0..s.len() / 2).map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

/// The first word (run of alphanumerics) of a text, e.g. of an enum's `Debug` form: its
/// variant's name.
pub fn first_word(s: &str) -> String {
    s.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("").to_string()
}

/// An error node: `{"t":"error","type":T,"message":M}`.
pub fn error_node(t: &str, message: &str) -> String {
    format!(r#"{{"t":"error","type":{},"message":{}}}"#, json_str(t), json_str(message))
}

/// Pickle JSON's `None`.
pub const NONE_NODE: &str = r#"{"t":"none"}"#;

pub fn bool_node(b: bool) -> String {
    format!(r#"{{"t":"bool","v":{b}}}"#)
}

/// An int node from any integer's decimal `Display`.
pub fn int_node(i: impl std::fmt::Display) -> String {
    format!(r#"{{"t":"int","v":"{i}"}}"#)
}

pub fn float_node(f: f64) -> String {
    format!(r#"{{"t":"float","v":"{}"}}"#, float_repr(f))
}

pub fn str_node(s: &str) -> String {
    format!(r#"{{"t":"str","v":{}}}"#, json_str(s))
}

pub fn bytes_node(b: &[u8]) -> String {
    format!(r#"{{"t":"bytes","v":"{}"}}"#, hex(b))
}

/// Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let s = format!("{:e}", x.abs());
    let (mant, exp) = s.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent");
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if x < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let point = exp as usize + 1;
            let mut int = digits.clone();
            while int.len() < point {
                int.push('0');
            }
            let frac = &int[point..];
            let frac = if frac.is_empty() { "0".to_string() } else { frac.to_string() };
            format!("{sign}{}.{frac}", &int[..point])
        } else {
            format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
        }
    } else {
        let rest = if digits.len() > 1 { format!(".{}", &digits[1..]) } else { String::new() };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{}{rest}e{esign}{:02}", &digits[..1], exp.abs())
    }
}

// ----------------------------------------------------------------------------------------
// pickle JSON documents (encoders)

/// Every node of a document that carries an `id` (refs aside), by id: what a `ref` names.
/// (A copy of `brine_codec::json::compare::collect_defs` on purpose: an adapter links only
/// the implementation it runs, never brine's codec, which it is judged against.)
pub fn collect_defs<'a>(root: &'a J, defs: &mut std::collections::HashMap<u64, &'a J>) {
    let mut work = vec![root];
    while let Some(v) = work.pop() {
        match v {
            J::Object(m) => {
                if m.get("t").and_then(J::as_str) != Some("ref") {
                    if let Some(id) = m.get("id").and_then(J::as_u64) {
                        defs.insert(id, v);
                    }
                }
                work.extend(m.values());
            }
            J::Array(a) => work.extend(a.iter()),
            _ => {}
        }
    }
}

/// A node's array field `k` (empty when missing).
pub fn items_of<'a>(n: &'a J, k: &str) -> &'a [J] {
    n.get(k).and_then(J::as_array).map_or(&[][..], |v| v.as_slice())
}

/// A container node's `items`.
pub fn items(n: &J) -> &[J] {
    items_of(n, "items")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(hex(&[0, 0x7f, 0xff]), "007fff");
        assert_eq!(unhex("007fFF"), Some(vec![0, 0x7f, 0xff]));
        assert_eq!(unhex(""), Some(vec![]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é"), None);
        // u8::from_str_radix takes a sign, so "+f" is 0x0f: kept as it was (brine's
        // requests never hold one).
        assert_eq!(unhex("+f"), Some(vec![0x0f]));
    }

    #[test]
    fn float_repr_is_pythons() {
        for (x, want) in [
            (1.0, "1.0"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(float_repr(x), want, "{x:e}");
        }
    }

    #[test]
    fn nodes() {
        assert_eq!(error_node("E", "a\"b"), r#"{"t":"error","type":"E","message":"a\"b"}"#);
        assert_eq!(int_node(-3i64), r#"{"t":"int","v":"-3"}"#);
        assert_eq!(str_node("é\n"), "{\"t\":\"str\",\"v\":\"é\\n\"}");
        assert_eq!(bytes_node(b"\x01"), r#"{"t":"bytes","v":"01"}"#);
        assert_eq!(first_word("InvalidOpCode(7)"), "InvalidOpCode");
    }
}
