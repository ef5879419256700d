//! Pickle JSON (docs/pickle-json.md): writing it from the value model, reading it back into
//! one, and comparing two documents under the spec's equality.

pub mod compare;
pub mod read;
pub mod write;

pub use compare::{collect_defs, compare, Mismatch};
pub use write::{float_repr, result_to_json, write_value};

/// Parses JSON text without serde_json's nesting limit of 128: pickle documents nest as
/// deep as the pickle does. Call it (and drop the result) on a big stack
/// ([`crate::with_big_stack`]) when the input is untrusted.
pub fn parse_deep(s: &str) -> serde_json::Result<serde_json::Value> {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_str(s);
    de.disable_recursion_limit();
    let v = serde_json::Value::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}
