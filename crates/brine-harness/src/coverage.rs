//! Opcode coverage: how often each opcode ran, per protocol, on success paths and on each
//! kind of error path (by the exception class the failing opcode raised).
//!
//! The protocol of a stream is its first PROTO argument; a stream without PROTO is protocol
//! 1 if it uses any protocol-1 opcode, else 0. An opcode "exists" in a protocol when it was
//! introduced at or before it; the target is every existing (opcode, protocol) cell reached
//! on a success path, and every opcode that can fail reached on an error path.

use brine_codec::opcodes::{Opcode, HIGHEST_PROTOCOL, OPCODES};
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Opcodes that cannot fail once read (no argument, no stack requirement, nothing else
/// used: [`brine_codec::opcodes::OpInfo::cannot_fail`]), by name.
pub static CANNOT_FAIL: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| OPCODES.iter().filter(|o| o.cannot_fail()).map(|o| o.name).collect());

/// Protocols 0 to [`HIGHEST_PROTOCOL`]: the columns of the coverage tables.
pub const PROTOCOLS: usize = HIGHEST_PROTOCOL as usize + 1;

/// Counts per (opcode index, protocol).
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    /// success[op index][protocol]: executions inside streams that decoded.
    pub success: Vec<[u64; PROTOCOLS]>,
    /// Failures: (op index, protocol) -> exception class -> count.
    pub errors: BTreeMap<(usize, u8), BTreeMap<String, u64>>,
}

/// The protocol a stream is written in (see the module docs).
pub fn stream_protocol(data: &[u8]) -> u8 {
    if data.len() >= 2 && data[0] == Opcode::PROTO.0 {
        return data[1].min(HIGHEST_PROTOCOL);
    }
    let d = brine_codec::dis::genops(data);
    d.ops.iter().filter_map(|o| o.op.info()).map(|i| i.proto).max().unwrap_or(0).min(1)
}

impl Coverage {
    /// Empty coverage for all 68 opcodes.
    pub fn new() -> Self {
        Coverage { success: vec![[0; PROTOCOLS]; OPCODES.len()], errors: BTreeMap::new() }
    }

    /// Decodes `data` with counting and records what ran (and what failed, and how).
    pub fn record(&mut self, data: &[u8], opts: &brine_codec::DecodeOptions) {
        let proto = stream_protocol(data);
        let (r, counts) = brine_codec::decode::decode_counted(data, opts);
        match r {
            Ok(_) => {
                for (b, &n) in counts.iter().enumerate() {
                    if n > 0 {
                        if let Some(i) = Opcode(b as u8).index() {
                            self.success[i][proto as usize] += n as u64;
                        }
                    }
                }
            }
            Err(e) => {
                if let Some(i) = data.get(e.offset).and_then(|&b| Opcode(b).index()) {
                    *self.errors.entry((i, proto)).or_default().entry(e.code.py_exception().to_string()).or_default() += 1;
                }
            }
        }
    }

    /// Adds another run's counts.
    pub fn merge(&mut self, o: &Coverage) {
        for (a, b) in self.success.iter_mut().zip(&o.success) {
            for p in 0..PROTOCOLS {
                a[p] += b[p];
            }
        }
        for (k, m) in &o.errors {
            let e = self.errors.entry(*k).or_default();
            for (c, n) in m {
                *e.entry(c.clone()).or_default() += n;
            }
        }
    }

    /// Error-path executions of opcode `i` in protocol `p`.
    pub fn error_count(&self, i: usize, p: u8) -> u64 {
        self.errors.get(&(i, p)).map_or(0, |m| m.values().sum())
    }

    /// Existing (opcode, protocol) cells never reached on a success path.
    pub fn missing_success(&self) -> Vec<(&'static str, u8)> {
        let mut out = vec![];
        for (i, info) in OPCODES.iter().enumerate() {
            for p in info.proto..=HIGHEST_PROTOCOL {
                if self.success[i][p as usize] == 0 {
                    out.push((info.name, p));
                }
            }
        }
        out
    }

    /// Opcodes that can fail but were never seen failing (in any protocol).
    pub fn missing_error(&self) -> Vec<&'static str> {
        OPCODES
            .iter()
            .enumerate()
            .filter(|(_, info)| !CANNOT_FAIL.contains(&info.name))
            .filter(|(i, _)| (0..=HIGHEST_PROTOCOL).all(|p| self.error_count(*i, p) == 0))
            .map(|(_, info)| info.name)
            .collect()
    }

    /// Fraction of existing cells reached on success paths, and of failable opcodes seen
    /// failing: the two numbers the checked-in floor guards.
    pub fn ratios(&self) -> (f64, f64) {
        let cells: usize = OPCODES.iter().map(|o| PROTOCOLS - o.proto as usize).sum();
        let failable = OPCODES.len() - CANNOT_FAIL.len();
        (
            1.0 - self.missing_success().len() as f64 / cells as f64,
            1.0 - self.missing_error().len() as f64 / failable as f64,
        )
    }
}
