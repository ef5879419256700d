//! brine adapter for repugnant-pickle 0.0.1 (conformance/README.md has the protocol).
//!
//! `decode`: the pickle on stdin through the crate's documented two steps,
//! `repugnant_pickle::parse_ops` (nom, with `nom::error::Error`) and then
//! `repugnant_pickle::evaluate(&ops, true)` (memo references resolved). Both succeeding is an
//! accept (exit 0), either failing a rejection (exit 1, with an error node naming the step).
//! Decoder only: the crate has no writer.
//!
//! The per-case and persistent protocols, and crashes (a panic in the crate is not caught:
//! status 101), are `brine_adapter_common`'s (conformance/adapters/rust-common); the crate
//! takes no out-of-band buffers or extension registry.
//!
//! The crate's model: `evaluate` returns the whole stack at STOP (or at the end of the ops)
//! as `Value`s, a "low effort scraping" model: containers are `Seq(kind, items)` (a dict's
//! SETITEMS appends one tuple of pairs), calls `Global`/`Object`/`Build`, many opcodes left
//! `Raw`. Only the top of that stack is looked at, and only when it is a scalar the crate
//! decoded (None, bool, int, big int, float, str, bytes) is it written and compared; anything
//! else (containers, calls, `Raw` ops, the text numbers it leaves as `RawNum`, an empty
//! stack) is accepted with no node, judged on accept/reject only. Its bytes stand for bytes,
//! bytearray (BYTEARRAY8) and a BINSTRING that is not UTF-8: compared with the `bytearray`
//! leniency.

use brine_adapter_common::{bool_node, bytes_node, error_node, float_node, int_node, str_node, Adapter, NONE_NODE};
use repugnant_pickle::Value;

fn main() {
    Adapter { name: "repugnant-pickle", decode: decode_case, encode: None }.main()
}

/// One case: the exit status and the node (a scalar value, the error node, or none).
fn decode_case(data: &[u8]) -> (i32, Option<String>) {
    let ops = match repugnant_pickle::parse_ops::<nom::error::Error<&[u8]>>(data) {
        Ok((_rest, ops)) => ops,
        Err(e) => {
            let kind = match &e {
                nom::Err::Incomplete(_) => "parse_ops(Incomplete)".to_string(),
                nom::Err::Error(x) => format!("parse_ops(Error,{:?})", x.code),
                nom::Err::Failure(x) => format!("parse_ops(Failure,{:?})", x.code),
            };
            let message = match &e {
                nom::Err::Incomplete(n) => format!("incomplete: {n:?}"),
                nom::Err::Error(x) | nom::Err::Failure(x) => {
                    format!("{:?} at offset {}", x.code, data.len() - x.input.len())
                }
            };
            return (1, Some(error_node(&kind, &message)));
        }
    };
    match repugnant_pickle::evaluate(&ops, true) {
        Ok((values, _memo)) => (0, values.last().and_then(scalar)),
        Err(e) => (1, Some(error_node("evaluate", &format!("{e:#}")))),
    }
}

/// A scalar value as a pickle JSON node; `None` for anything else.
fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::None => NONE_NODE.to_string(),
        Value::Bool(b) => bool_node(*b),
        Value::Int(i) => int_node(i),
        Value::BigInt(i) => int_node(i),
        Value::Float(f) => float_node(*f),
        Value::String(s) => str_node(s),
        Value::Bytes(b) => bytes_node(b),
        _ => return None,
    })
}
