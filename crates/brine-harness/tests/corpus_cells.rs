//! The corpus cell report (brine_harness::corpus_cells) on a tiny synthetic corpus whose
//! counts are known by hand, and on the checked-in corpus against its floor.

use brine_harness::corpus_cells::{declared_protocol, CellReport};
use serde_json::json;
use std::path::{Path, PathBuf};

fn write_case(dir: &Path, name: &str, pickle: &[u8], meta: serde_json::Value) {
    std::fs::write(dir.join(format!("{name}.pkl")), pickle).unwrap();
    std::fs::write(dir.join(format!("{name}.json")), meta.to_string()).unwrap();
}

fn synthetic() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("brine-corpus-cells-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // y_: PROTO 2 BININT1 STOP -> (PROTO,2) (BININT1,2) (STOP,2)
    write_case(&dir, "y_p2", b"\x80\x02K\x01.", json!({"expect": "y"}));
    // y_: no PROTO -> protocol 0: (NONE,0) (STOP,0)
    write_case(&dir, "y_p0", b"N.", json!({"expect": "y"}));
    // y_: PROTO 1 (no PROTO cell below 2) -> (EMPTY_LIST,1) (STOP,1)
    write_case(&dir, "y_p1", b"\x80\x01].", json!({"expect": "y"}));
    // y_: a second PROTO does not change the stream's protocol -> (NEWTRUE,2), nothing at 4
    write_case(&dir, "y_two_protos", b"\x80\x02\x80\x04\x88.", json!({"expect": "y"}));
    // y_: PROTO 6 is in no cell
    write_case(&dir, "y_p6", b"\x80\x06N.", json!({"expect": "y"}));
    // n_ failing at INT (byte 0), and at BININT whose argument is cut (genops stops at 0)
    write_case(&dir, "n_int", b"Iabc\n.", json!({"expect": "n", "result": {"t": "error", "type": "ValueError"}, "fails_at": {"op": "INT", "pos": 0}}));
    write_case(&dir, "n_binint_cut", b"J\x01\x02", json!({"expect": "n", "fails_at": {"op": "BININT", "pos": 0}}));
    // n_ whose fails_at is not where its opcode is: reported, not counted
    write_case(&dir, "n_wrong", b"N}.", json!({"expect": "n", "fails_at": {"op": "DICT", "pos": 1}}));
    // n_ without fails_at: counted as a case only
    write_case(&dir, "n_plain", b"K", json!({"expect": "n"}));
    // i_ failing at POP (implementation-defined), and at INT (not: n_ exists anyway)
    write_case(&dir, "i_pop", b"0.", json!({"expect": "i", "fails_at": {"op": "POP", "pos": 0}}));
    // i_ failing at APPEND: not implementation-defined, so it does not stand in for an n_
    write_case(&dir, "i_append", b"K\x01K\x02a.", json!({"expect": "i", "fails_at": {"op": "APPEND", "pos": 4}}));
    // not a case
    std::fs::write(dir.join("manifest.json"), "{}").unwrap();
    dir
}

#[test]
fn counts_a_synthetic_corpus_exactly() {
    let dir = synthetic();
    let r = CellReport::of_dir(&dir).unwrap();
    assert_eq!(r.cases, [5, 4, 2]);
    // every opcode from its own protocol (the codec's table, pickletools') to 5
    assert_eq!(r.cells.len(), 304, "every opcode from its own protocol to 5");
    assert_eq!(r.failable.len(), 60);
    let mut reached: Vec<(String, u8)> =
        r.reached.iter().map(|&(i, p)| (brine_codec::opcodes::OPCODES[i].name.to_string(), p)).collect();
    reached.sort();
    let want: Vec<(String, u8)> = [
        ("EMPTY_LIST", 1),
        ("NEWTRUE", 2),
        ("NONE", 0),
        ("PROTO", 2),
        ("BININT1", 2),
        ("STOP", 0),
        ("STOP", 1),
        ("STOP", 2),
    ]
    .iter()
    .map(|(n, p)| (n.to_string(), *p))
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect();
    assert_eq!(reached, want);
    assert_eq!(r.missing_cells().len(), 304 - 8);
    assert!(r.missing_cells().contains(&("NEWTRUE", 4)));
    assert!(!r.missing_cells().contains(&("PROTO", 1)), "PROTO has no protocol 1 cell");
    let fig = r.figures();
    assert_eq!(fig["y_cells"], 8);
    assert_eq!(fig["n_failing_opcodes"], 2);
    assert_eq!(fig["i_only_failing_opcodes"], 1);
    assert_eq!(r.failing_i_only(), vec!["POP"]);
    assert!(r.missing_failing().contains(&"APPEND"), "an i_ case does not stand in for APPEND");
    assert!(!r.missing_failing().contains(&"INT"));
    assert!(!r.missing_failing().contains(&"POP"));
    assert_eq!(r.missing_failing().len(), 60 - 3);
    assert_eq!(r.bad_fails_at.len(), 1, "{:?}", r.bad_fails_at);
    assert!(r.bad_fails_at[0].starts_with("n_wrong"));
    // floors: met (only the bad fails_at is reported), and missed by one cell
    let met = r.below_floor(&json!({"y_cells": 8, "n_failing_opcodes": 2, "i_only_failing_opcodes": 1}));
    assert_eq!(met.len(), 1);
    let missed = r.below_floor(&json!({"y_cells": 9, "n_failing_opcodes": 2, "i_only_failing_opcodes": 1}));
    assert_eq!(missed.len(), 2);
    assert!(missed[0].contains("y_cells 8 fell below the floor 9"));
    // losing a case loses its cells
    std::fs::remove_file(dir.join("y_p1.json")).unwrap();
    let r2 = CellReport::of_dir(&dir).unwrap();
    assert_eq!(r2.figures()["y_cells"], 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_streams_protocol_is_its_first_proto() {
    assert_eq!(declared_protocol(b"N."), 0);
    assert_eq!(declared_protocol(b"\x80\x01N."), 1);
    assert_eq!(declared_protocol(b"N\x80\x03."), 3);
    assert_eq!(declared_protocol(b"\x80\x04\x80\x02."), 4);
}

#[test]
fn the_checked_in_corpus_meets_its_floor() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let r = CellReport::of_dir(&root.join("corpus")).unwrap();
    let floor: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("conformance/corpus-cells-floor.json")).unwrap()).unwrap();
    assert_eq!(r.below_floor(&floor), Vec::<String>::new(), "{}", r.summary());
}
