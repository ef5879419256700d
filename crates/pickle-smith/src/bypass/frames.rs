//! Protocol 4-5 frames over the pickle that carries the target: none, one over the whole
//! body (as CPython's pickler writes them), or [`super::Technique::FrameSplit`]'s cuts.

use crate::pickle::args::chance;
use arbitrary::{Result, Unstructured};
use brine_codec::Opcode;

/// A pickle laid out in frames.
pub(super) struct Framed {
    pub bytes: Vec<u8>,
    /// Whether a frame's declared length ends inside an op.
    pub straddles: bool,
}

/// Lays out `out` (ops starting at `starts`) in frames from op `body` on; the ops before
/// (PROTO) stay unframed. Without `split`, either no frames or one over everything; with
/// `split = (cuts, key)`, a frame begins at each cut (op index), sometimes with an empty
/// frame first, and the frame holding op `key` declares a length that ends inside it (the
/// C unpickler only checks that the declared bytes are there, then reads on).
pub(super) fn lay_out(
    u: &mut Unstructured,
    out: &[u8],
    starts: &[usize],
    body: usize,
    protocol: u8,
    split: Option<(Vec<usize>, Option<usize>)>,
) -> Result<Framed> {
    let n = starts.len();
    let unframed = Framed {
        bytes: out.to_vec(),
        straddles: false,
    };
    if protocol < 4 || body >= n {
        return Ok(unframed);
    }
    let is_split = split.is_some();
    let (cuts, key) = match split {
        Some(s) => s,
        None if chance(u, 1, 3)? => return Ok(unframed),
        None => (Vec::new(), None),
    };
    let at = |i: usize| if i < n { starts[i] } else { out.len() };
    let mut firsts: Vec<usize> = std::iter::once(body)
        .chain(cuts.into_iter().filter(|&c| c > body && c < n))
        .collect();
    firsts.sort_unstable();
    firsts.dedup();
    let mut res = out[..starts[body]].to_vec();
    let mut straddles = false;
    for (k, &a) in firsts.iter().enumerate() {
        let b = firsts.get(k + 1).copied().unwrap_or(n);
        let (x, y) = (at(a), at(b));
        let mut declared = y - x;
        if let Some(key) = key.filter(|&key| a <= key && key < b) {
            let len = at(key + 1) - at(key);
            if len >= 2 {
                declared = at(key) + u.int_in_range(1..=len - 1)? - x;
                straddles = true;
            }
        }
        if is_split && chance(u, 1, 12)? {
            res.push(Opcode::FRAME.0);
            res.extend_from_slice(&0u64.to_le_bytes());
        }
        res.push(Opcode::FRAME.0);
        res.extend_from_slice(&(declared as u64).to_le_bytes());
        res.extend_from_slice(&out[x..y]);
    }
    Ok(Framed {
        bytes: res,
        straddles,
    })
}
