//! brine adapter for pytorch-reader 0.22.1, Burn's reader of PyTorch checkpoints
//! (conformance/README.md has the protocol).
//!
//! `decode`: the pickle is written to a temporary file (one per adapter process, rewritten
//! for every case and removed afterwards) and read with
//! `pytorch_reader::PytorchReader::read_pickle_data(path, None)`, the crate's API for the
//! non-tensor data of a checkpoint. It detects the container from the file's first bytes
//! (ZIP, TAR, legacy magic, else a plain pickle, which must start with `0x80`, `(`, `}`, `]`
//! or `c`), so a bare pickle starting with any other opcode is refused as "not a PyTorch
//! checkpoint". Ok is an accept (exit 0), an error a rejection (exit 1, with an error node
//! naming the `PytorchError` variant). Decoder only: the crate has no writer.
//!
//! The per-case and persistent protocols, and crashes (a panic in the crate is not caught:
//! status 101), are `brine_adapter_common`'s (conformance/adapters/rust-common); the crate
//! takes no out-of-band buffers or extension registry. A panic leaves its case's temporary file behind.
//!
//! The crate's model: `PickleValue` is None, bool, i64, f64, String, bytes, List (lists,
//! tuples, sets and frozensets alike), Dict (`HashMap` with str keys only: any other key is
//! an error) and `Unsupported(type name)` for classes, objects, tensors and ints wider than
//! i64. Only a scalar result (None, bool, int, float, str, bytes) is written and compared;
//! containers and `Unsupported` are accepted with no node, judged on accept/reject only. Its
//! bytes stand for bytes, bytearray (BYTEARRAY8) and a BINSTRING that is not UTF-8: compared
//! with the `bytearray` leniency.

use brine_adapter_common::{
    bool_node, bytes_node, error_node, first_word, float_node, int_node, str_node, Adapter, NONE_NODE,
};
use pytorch_reader::{PickleValue, PytorchError, PytorchReader};
use std::path::PathBuf;

fn main() {
    Adapter { name: "pytorch-reader", decode: decode_case, encode: None }.main()
}

/// The temporary file this process reads its cases from.
fn temp_path() -> PathBuf {
    std::env::temp_dir().join(format!("brine-pytorch-reader-{}.pkl", std::process::id()))
}

/// The variant of a `PytorchError`, e.g. `Pickle(InvalidOpCode)`.
fn error_type(e: &PytorchError) -> String {
    match e {
        PytorchError::Pickle(p) => format!("Pickle({})", first_word(&format!("{p:?}"))),
        PytorchError::Io(io) => format!("Io({:?})", io.kind()),
        _ => first_word(&format!("{e:?}")),
    }
}

/// One case: the exit status and the node (a scalar value, the error node, or none).
fn decode_case(data: &[u8]) -> (i32, Option<String>) {
    let path = temp_path();
    std::fs::write(&path, data).expect("write the temporary pickle file");
    let result = PytorchReader::read_pickle_data(&path, None);
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(v) => (0, scalar(&v)),
        Err(e) => (1, Some(error_node(&error_type(&e), &e.to_string()))),
    }
}

/// A scalar value as a pickle JSON node; `None` for anything else.
fn scalar(v: &PickleValue) -> Option<String> {
    Some(match v {
        PickleValue::None => NONE_NODE.to_string(),
        PickleValue::Bool(b) => bool_node(*b),
        PickleValue::Int(i) => int_node(i),
        PickleValue::Float(f) => float_node(*f),
        PickleValue::String(s) => str_node(s),
        PickleValue::Bytes(b) => bytes_node(b),
        _ => return None,
    })
}
