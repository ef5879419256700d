//! `dis`: the disassembler (`genops`) and the decoder agree on the stream's structure.
//!
//! Both read an opcode byte, then its argument, whose extent (fixed width, one or two
//! newline-terminated lines, or a length prefix and that many bytes) depends only on the
//! opcode and the bytes, never on how the argument is then interpreted; both stop at the
//! first STOP. (CPython's C unpickler does not enforce FRAME boundaries: it reads the frame
//! and rewinds, so framing does not move opcode boundaries either.) They differ only in
//! what they reject: genops rejects argument *contents* the unpickler accepts (a `0x10` INT
//! line, a non-ASCII GLOBAL), the unpickler rejects stack and memo misuse genops never
//! checks. So the decoder walks a prefix of genops' opcode boundaries, up to where the
//! first of them stops. Let `F` be genops' frontier: the position of its error, or of its
//! STOP. Then, with `hist(S)` the multiset of opcode bytes at positions `S`:
//!
//! 1. decoder success, genops reached STOP: the decoder's STOP is genops' STOP, and it
//!    executed exactly genops' ops (`decode_counted` counts = `hist(all genops ops)`);
//! 2. decoder success, genops failed at `F`: the decoder's STOP is past `F` (genops cannot
//!    fail on STOP, which has no argument);
//! 3. decoder ran out of input (EOFError, at the end): genops failed too;
//! 4. decoder failed at offset `o <= F`: `o` is an opcode position genops reported (or its
//!    error position), and the decoder executed exactly `hist(genops ops before o)` plus the
//!    byte at `o`;
//! 5. decoder failed at `o > F`: no claim (genops gave up on an argument's contents first).
//!
//! Also: genops' positions start at 0 and increase, its listing renders, and its JSON parses.

use crate::finding::Finding;
use brine_codec::decode::decode_counted;
use brine_codec::dis::genops;
use brine_codec::error::ErrorCode;
use brine_codec::{DecodeOptions, Opcode};

const NAME: &str = "dis";

/// Checks one input.
pub fn check(data: &[u8]) -> Result<(), Finding> {
    let g = genops(data);
    let bug = |what: &str, at: usize, detail: String| Err(Finding::bug(NAME, what, format!("byte {at}"), detail));

    // genops on its own.
    let mut next = 0;
    for o in &g.ops {
        if o.pos < next || o.pos >= data.len() || data[o.pos] != o.op.0 {
            return bug("genops-positions", o.pos, format!("{:?}", o.op));
        }
        next = o.pos + 1;
    }
    let stop = match (&g.error, g.ops.last()) {
        (None, Some(last)) if last.op == Opcode::STOP => Some(last.pos),
        (None, _) => return bug("genops-no-stop", data.len(), "genops ended without STOP or error".into()),
        (Some(e), _) if e.pos < next || e.pos > data.len() => return bug("genops-error-pos", e.pos, e.message.clone()),
        (Some(_), _) => None,
    };
    let _ = g.to_text();
    if let Err(e) = brine_codec::json::parse_deep(&g.to_json()) {
        return bug("genops-json", 0, e.to_string());
    }

    let frontier = g.error.as_ref().map_or_else(|| stop.unwrap(), |e| e.pos);
    let hist_before = |limit: usize| {
        let mut h = [0u32; 256];
        for o in g.ops.iter().filter(|o| o.pos < limit) {
            h[o.op.0 as usize] += 1;
        }
        h
    };
    let (r, counts) = decode_counted(data, &DecodeOptions::default());
    match r {
        Ok(d) => {
            let at = d.end - 1;
            match stop {
                Some(s) if s != at => bug("stop", at, format!("decoder's STOP at {at}, genops' at {s}")),
                Some(_) if *counts != hist_before(usize::MAX) => bug("ops-executed", at, diff_hist(&counts, &hist_before(usize::MAX))),
                None if at <= frontier => bug("stop-before-genops-error", at, format!("genops failed at {frontier}: {:?}", g.error)),
                _ => Ok(()),
            }
        }
        Err(e) if e.code == ErrorCode::Eof => match &g.error {
            None => bug("eof", e.offset, format!("decoder ran out of input, genops read to STOP at {frontier}")),
            Some(_) => Ok(()),
        },
        Err(e) if e.offset <= frontier => {
            let o = e.offset;
            let boundary = g.ops.iter().any(|op| op.pos == o) || g.error.as_ref().is_some_and(|ge| ge.pos == o);
            if !boundary {
                return bug("boundary", o, format!("decoder failed ({e}) inside an opcode genops read"));
            }
            let mut want = hist_before(o);
            if let Some(&b) = data.get(o) {
                want[b as usize] += 1;
            }
            if *counts != want {
                return bug("ops-executed", o, format!("decoder failed ({e}); {}", diff_hist(&counts, &want)));
            }
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

/// [`check`], panicking on a finding.
pub fn run(data: &[u8]) {
    if let Err(f) = check(data) {
        f.fail()
    }
}

fn diff_hist(decoder: &[u32; 256], genops: &[u32; 256]) -> String {
    let mut out = String::from("opcode counts differ (opcode: decoder vs genops):");
    for i in 0..256 {
        if decoder[i] != genops[i] {
            let name = Opcode(i as u8).name().unwrap_or("?");
            out.push_str(&format!(" {name}: {} vs {};", decoder[i], genops[i]));
        }
    }
    out
}
