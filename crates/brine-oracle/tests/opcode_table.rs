//! The codec's opcode table (crates/brine-codec/src/opcodes.rs), which everything in brine
//! derives from, against CPython's own: `pickletools.opcodes`, read live from the embedded
//! interpreter. Every opcode's name, byte, protocol, argument descriptor and stack effect
//! must be pickletools', and the two tables must list the same opcodes (both are
//! compared in byte order).
#![cfg(feature = "cpython")]

use brine_codec::opcodes::{Opcode, OPCODES};
use brine_oracle::cpython::interpreter;
use pyo3::prelude::*;

/// (name, byte, proto, argument descriptor name, "before -> after") per pickletools opcode.
type Row = (String, u8, u8, String, String);

fn pickletools_table() -> Vec<Row> {
    interpreter()
        .expect("CPython")
        .run(|py, _sb| {
            let code = c"
import pickletools
rows = []
for o in pickletools.opcodes:
    arg = o.arg.name if o.arg is not None else 'none'
    text = ' '.join(x.name for x in o.stack_before) + ' -> ' + ' '.join(x.name for x in o.stack_after)
    rows.append((o.name, o.code.encode('latin-1')[0], o.proto, arg, text.strip()))
";
            let locals = pyo3::types::PyDict::new(py);
            py.run(code, None, Some(&locals)).map_err(|e| e.to_string())?;
            let rows = locals.get_item("rows").map_err(|e| e.to_string())?.ok_or("no rows")?;
            rows.extract::<Vec<Row>>().map_err(|e| e.to_string())
        })
        .expect("pickletools.opcodes")
}

#[test]
fn opcode_table_is_pickletools() {
    if std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty()) {
        return;
    }
    let mut theirs = pickletools_table();
    theirs.sort_by_key(|r| r.1);
    let mut ours: Vec<Row> = OPCODES
        .iter()
        .map(|o| (o.name.to_string(), o.code.0, o.proto, o.arg.name().to_string(), o.stack.text.trim().to_string()))
        .collect();
    ours.sort_by_key(|r| r.1);
    let mut wrong = vec![];
    for (a, b) in ours.iter().zip(&theirs) {
        if a != b {
            wrong.push(format!("ours {a:?}\n  pickletools {b:?}"));
        }
    }
    assert_eq!(ours.len(), theirs.len(), "opcode count");
    assert!(wrong.is_empty(), "{} opcodes differ from pickletools:\n{}", wrong.len(), wrong.join("\n"));
    // Lookups by name and byte agree with the table.
    for (name, byte, ..) in &theirs {
        assert_eq!(Opcode::from_name(name), Some(Opcode(*byte)), "{name}");
        assert_eq!(Opcode(*byte).name(), Some(name.as_str()));
    }
}
