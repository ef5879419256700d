//! Pickle JSON (docs/pickle-json.md): writing it from the value model, and comparing two
//! documents under the spec's equality.

pub mod compare;
pub mod write;

pub use compare::{compare, Mismatch};
pub use write::{float_repr, result_to_json, write_value};
