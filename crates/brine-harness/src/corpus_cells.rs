//! Corpus cell coverage (issue 17): which (opcode, protocol) cells the corpus's y_ cases
//! reach, and at which opcodes its n_ cases fail, counted from corpus/ alone. This is what
//! other implementations face, unlike [`crate::coverage`], which counts everything one
//! conformance run decodes (generated pickles included).
//!
//! The counting rule (the same as `scripts/check_corpus_cells.py`, which counts with
//! `pickletools`):
//! - every `corpus/*.pkl` is disassembled ([`brine_codec::dis::genops`], checked equal to
//!   `pickletools.genops` by every conformance run); a stream's protocol is the argument of its
//!   first PROTO opcode, 0 when it has none (a PROTO above 5 puts it in no cell);
//! - a cell is (opcode, protocol) for every opcode of the codec's table
//!   ([`brine_codec::opcodes::OPCODES`]) and every protocol from the opcode's own `proto` up
//!   to 5 (304 cells, as pickletools counts them: the table's protocols are pickletools',
//!   which crates/brine-oracle/tests/opcode_table.rs checks); a y_ case reaches the cell of
//!   every opcode its disassembly holds;
//! - an opcode that can fail (all but [`crate::coverage::CANNOT_FAIL`]) is covered by an n_
//!   case whose NAME.json says `"fails_at": {"op": NAME, "pos": N}` (the opcode CPython's
//!   pure-Python unpickler raised in), where the disassembly has NAME at byte N (or stops
//!   before N and byte N is NAME's). The opcodes of [`IMPLEMENTATION_DEFINED`] cannot fail alike
//!   in CPython's two unpicklers, so an i_ case failing at them stands in.
//!
//! The floor (conformance/corpus-cells-floor.json) makes a lost cell a regression.

use crate::coverage::CANNOT_FAIL;
use brine_codec::opcodes::{Opcode, OPCODES};
use serde_json::{json, Value as J};
use std::collections::BTreeSet;
use std::path::Path;

/// Failable opcodes every failure of which gives different exception classes in CPython's C
/// and pure-Python unpicklers (stack underflow or no MARK: UnpicklingError vs IndexError; a
/// one-byte argument cut: UnpicklingError vs IndexError; NEWOBJ's operand checks:
/// UnpicklingError vs TypeError; OBJ on a non-callable: TypeError vs AttributeError), so no
/// n_ case can fail at them (scripts/gen_corpus_cells.py tries; docs in corpus/README.md).
pub const IMPLEMENTATION_DEFINED: &[&str] = &[
    "LIST", "TUPLE", "POP_MARK", "TUPLE1", "TUPLE2", "TUPLE3", "POP", "DUP", "MEMOIZE", "STOP", "BINPERSID", "BINPUT",
    "BININT1", "NEWOBJ", "OBJ",
];

/// The corpus's cell coverage.
#[derive(Clone, Debug, Default)]
pub struct CellReport {
    /// Cases counted: y, n, i.
    pub cases: [usize; 3],
    /// Every cell: (opcode index, protocol).
    pub cells: BTreeSet<(usize, u8)>,
    /// Cells some y_ case reaches.
    pub reached: BTreeSet<(usize, u8)>,
    /// Failable opcodes (indices).
    pub failable: BTreeSet<usize>,
    /// Opcodes some n_ case fails at.
    pub failing_n: BTreeSet<usize>,
    /// Opcodes some i_ case fails at.
    pub failing_i: BTreeSet<usize>,
    /// Cases whose `fails_at` does not match their disassembly.
    pub bad_fails_at: Vec<String>,
}

/// The protocol a stream declares: its first PROTO's argument, 0 without one.
pub fn declared_protocol(data: &[u8]) -> u8 {
    protocol_of(&brine_codec::dis::genops(data), data)
}

fn protocol_of(d: &brine_codec::dis::Disassembly, data: &[u8]) -> u8 {
    d.ops.iter().find(|o| o.op == Opcode::PROTO).and_then(|o| data.get(o.pos + 1).copied()).unwrap_or(0)
}

/// NAME.json's `fails_at` (op, pos), read without parsing the (possibly very deep) rest.
fn fails_at(meta: &str) -> Option<(String, usize)> {
    let at = meta.find("\"fails_at\":")? + "\"fails_at\":".len();
    let mut it = serde_json::Deserializer::from_str(&meta[at..]).into_iter::<J>();
    let v = it.next()?.ok()?;
    Some((v["op"].as_str()?.to_string(), v["pos"].as_u64()? as usize))
}

impl CellReport {
    /// Counts the cases in `dir` (a corpus directory: NAME.pkl with NAME.json beside it).
    pub fn of_dir(dir: &Path) -> Result<CellReport, String> {
        let mut r = CellReport::default();
        for (i, info) in OPCODES.iter().enumerate() {
            for p in info.proto..=5 {
                r.cells.insert((i, p));
            }
            if !CANNOT_FAIL.contains(&info.name) {
                r.failable.insert(i);
            }
        }
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|f| f.ends_with(".json") && ["y_", "n_", "i_"].iter().any(|p| f.starts_with(p)))
            .map(|f| f.trim_end_matches(".json").to_string())
            .collect();
        names.sort();
        for name in names {
            let meta = std::fs::read_to_string(dir.join(format!("{name}.json"))).map_err(|e| format!("{name}.json: {e}"))?;
            let data = std::fs::read(dir.join(format!("{name}.pkl"))).map_err(|e| format!("{name}.pkl: {e}"))?;
            let class = name.as_bytes()[0];
            r.cases[match class {
                b'y' => 0,
                b'n' => 1,
                _ => 2,
            }] += 1;
            let d = brine_codec::dis::genops(&data);
            if class == b'y' {
                let p = protocol_of(&d, &data);
                if p <= 5 {
                    for o in &d.ops {
                        if let Some(i) = o.op.index() {
                            if r.cells.contains(&(i, p)) {
                                r.reached.insert((i, p));
                            }
                        }
                    }
                }
            } else if let Some((op, pos)) = fails_at(&meta) {
                let Some(want) = Opcode::from_name(&op) else {
                    r.bad_fails_at.push(format!("{name}: unknown opcode {op}"));
                    continue;
                };
                let at: Vec<Opcode> = d.ops.iter().filter(|o| o.pos == pos).map(|o| o.op).collect();
                // NAME at byte N; or the disassembly stopped (raised) before N, where the
                // unpickler went on (pickletools is stricter about some arguments), and N
                // holds NAME's byte
                let stopped_before = d.error.is_some() && d.ops.last().is_none_or(|o| o.pos < pos);
                let ok = at == [want] || (at.is_empty() && stopped_before && data.get(pos) == Some(&want.0));
                match (ok, want.index()) {
                    (true, Some(i)) if class == b'n' => drop(r.failing_n.insert(i)),
                    (true, Some(i)) => drop(r.failing_i.insert(i)),
                    _ => r.bad_fails_at.push(format!("{name}: fails_at {op}@{pos} is not where the disassembly has it")),
                }
            }
        }
        Ok(r)
    }

    /// Cells no y_ case reaches, as (opcode name, protocol).
    pub fn missing_cells(&self) -> Vec<(&'static str, u8)> {
        self.cells.difference(&self.reached).map(|&(i, p)| (OPCODES[i].name, p)).collect()
    }

    /// Failable opcodes covered only by an i_ case, being [`IMPLEMENTATION_DEFINED`].
    pub fn failing_i_only(&self) -> Vec<&'static str> {
        self.failable
            .iter()
            .filter(|i| !self.failing_n.contains(i) && self.failing_i.contains(i))
            .map(|&i| OPCODES[i].name)
            .filter(|n| IMPLEMENTATION_DEFINED.contains(n))
            .collect()
    }

    /// Failable opcodes with no n_ case failing at them (nor, for [`IMPLEMENTATION_DEFINED`]
    /// ones, an i_ case).
    pub fn missing_failing(&self) -> Vec<&'static str> {
        let i_only = self.failing_i_only();
        self.failable
            .iter()
            .filter(|i| !self.failing_n.contains(i))
            .map(|&i| OPCODES[i].name)
            .filter(|n| !i_only.contains(n))
            .collect()
    }

    /// The figures the floor guards.
    pub fn figures(&self) -> J {
        json!({
            "y_cells": self.reached.len(),
            "n_failing_opcodes": self.failing_n.intersection(&self.failable).count(),
            "i_only_failing_opcodes": self.failing_i_only().len(),
        })
    }

    /// The JSON report (target/conformance/corpus-cells.json).
    pub fn to_json(&self) -> J {
        json!({
            "cases": {"y": self.cases[0], "n": self.cases[1], "i": self.cases[2]},
            "cells": self.cells.len(),
            "failable": self.failable.len(),
            "figures": self.figures(),
            "missing_cells": self.missing_cells().iter().map(|(n, p)| json!([n, p])).collect::<Vec<_>>(),
            "failing_i_only": self.failing_i_only(),
            "missing_failing": self.missing_failing(),
            "bad_fails_at": self.bad_fails_at,
        })
    }

    /// A few lines for the terminal.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "corpus cells ({} y_, {} n_, {} i_ cases): y_ reaches {} of {} (opcode, protocol) cells; n_ cases fail at {} of {} failable opcodes, i_ cases at {} more ({})",
            self.cases[0],
            self.cases[1],
            self.cases[2],
            self.reached.len(),
            self.cells.len(),
            self.failing_n.intersection(&self.failable).count(),
            self.failable.len(),
            self.failing_i_only().len(),
            self.failing_i_only().join(", ")
        );
        for (n, p) in self.missing_cells() {
            let _ = writeln!(s, "  missing y_ cell: {n} at protocol {p}");
        }
        for n in self.missing_failing() {
            let _ = writeln!(s, "  missing case failing at: {n}");
        }
        for b in &self.bad_fails_at {
            let _ = writeln!(s, "  {b}");
        }
        s
    }

    /// Regressions against a floor `{"y_cells": N, "n_failing_opcodes": N,
    /// "i_only_failing_opcodes": N}` (a figure below its floor), plus any `fails_at` that
    /// does not match its pickle.
    pub fn below_floor(&self, floor: &J) -> Vec<String> {
        let mut out = vec![];
        let fig = self.figures();
        for key in ["y_cells", "n_failing_opcodes", "i_only_failing_opcodes"] {
            let (have, want) = (fig[key].as_u64().unwrap_or(0), floor[key].as_u64().unwrap_or(0));
            if have < want {
                out.push(format!("corpus {key} {have} fell below the floor {want}"));
            }
        }
        out.extend(self.bad_fails_at.iter().cloned());
        out
    }
}
