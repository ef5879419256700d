//! Delta debugging on bytes, keeping a discrepancy's kind (status and class).
//!
//! Pickles are opcode streams that build a tree, so reduction works on that first: every
//! run of opcodes that leaves one item on the stack (a subtree, found from the opcode
//! table's stack effects) is tried replaced by `NONE` or by one of its own subtrees
//! (hoisting, as tree reducers do), which keeps a valid pickle valid where byte deletion
//! would break it. Then whole opcodes go (the disassembler's boundaries: removing an opcode
//! with its argument keeps the rest parseable), then ever smaller byte ranges (ddmin's
//! complements), then single bytes. Candidates are tested in batches, since a
//! test is a round trip to an adapter process and a batch spreads over its workers.

/// A reduction pass: the smaller candidates it proposes for a pickle.
type Pass = fn(&[u8], usize) -> Vec<Vec<u8>>;

/// How many candidates a pass may make from a `len`-byte pickle: each is a copy of about
/// that size, and some passes are quadratic (ddmin makes two per byte, hoisting pairs every
/// subtree with each one inside it), which for a 64 KiB mutated pickle asked for gigabytes
/// (a campaign process was killed at 23 GB). At most 64 MiB of copies per pass; the
/// passes make their coarse candidates first, and the loop restarts on the smaller pickle
/// after any success, so the fine ones come when they are cheap.
fn max_candidates(len: usize) -> usize {
    ((64usize << 20) / len.max(1)).clamp(256, 1 << 16)
}

/// Candidates tested per round trip: enough to keep every adapter worker busy, few enough
/// that the first success is not paid for by many wasted tests.
const CHUNK: usize = 16;

/// Shrinks `data` while `keeps` says a candidate still shows the discrepancy. `keeps` gets a
/// batch and answers for each. At most `budget` candidates are tested, and no batch starts
/// after `deadline` (a hang's candidates each cost the adapter's whole time limit).
pub fn minimize(
    data: &[u8],
    budget: usize,
    deadline: std::time::Instant,
    mut keeps: impl FnMut(&[Vec<u8>]) -> Vec<bool>,
) -> Vec<u8> {
    let mut best = data.to_vec();
    let mut spent = 0usize;
    // Passes, coarse to fine; after any success the first pass starts again.
    let passes: [Pass; 5] = [subtree_candidates, truncations, op_deletions, arg_shrinks, ddmin_candidates];
    'outer: while spent < budget {
        for pass in passes {
            let mut cands = pass(&best, max_candidates(best.len()));
            cands.retain(|c| c.len() < best.len());
            for chunk in cands.chunks(CHUNK) {
                if spent >= budget || std::time::Instant::now() >= deadline {
                    break 'outer;
                }
                let chunk = &chunk[..chunk.len().min(budget - spent)];
                spent += chunk.len();
                let ok = keeps(chunk);
                if let Some(c) = chunk.iter().zip(ok).filter(|(_, k)| *k).map(|(c, _)| c).min_by_key(|c| c.len()) {
                    best = c.clone();
                    continue 'outer;
                }
            }
        }
        break;
    }
    best
}

/// Every prefix ending at an opcode boundary, closed with STOP, shortest first.
fn truncations(b: &[u8], max: usize) -> Vec<Vec<u8>> {
    let d = brine_codec::dis::genops(b);
    d.ops
        .iter()
        .take(max)
        .map(|o| {
            let mut v = b[..o.pos].to_vec();
            v.push(b'.');
            v
        })
        .collect()
}

/// The pickle without one of its opcodes (or its unparsed tail), largest removals first.
fn op_deletions(b: &[u8], max: usize) -> Vec<Vec<u8>> {
    let mut spans = op_spans(b);
    spans.sort_by_key(|&(s, e)| std::cmp::Reverse(e - s));
    spans.into_iter().take(max).map(|(s, e)| cut(b, s, e)).collect()
}

/// Length-prefixed arguments (strs, bytes) with part of their payload removed and the length
/// rewritten: halves, then quarters, ... down to single bytes, at most 64 per opcode.
fn arg_shrinks(b: &[u8], max: usize) -> Vec<Vec<u8>> {
    use brine_codec::opcodes::ArgKind;
    let d = brine_codec::dis::genops(b);
    let mut out = vec![];
    for op in &d.ops {
        if out.len() >= max {
            break;
        }
        let Some(info) = op.op.info() else { continue };
        let width = match info.arg {
            ArgKind::String1 | ArgKind::Bytes1 | ArgKind::UnicodeString1 => 1,
            ArgKind::String4 | ArgKind::Bytes4 | ArgKind::UnicodeString4 => 4,
            ArgKind::Bytes8 | ArgKind::Bytearray8 | ArgKind::UnicodeString8 => 8,
            _ => continue,
        };
        let at = op.pos + 1;
        let Some(len_bytes) = b.get(at..at + width) else { continue };
        let len = len_bytes.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)) as usize;
        let start = at + width;
        if len == 0 || start + len > b.len() {
            continue;
        }
        let mut size = len.div_ceil(2);
        let mut made = 0;
        'sizes: while size >= 1 {
            for i in 0..len.div_ceil(size) {
                let (s, e) = (start + i * size, (start + (i + 1) * size).min(start + len));
                let new_len = (len - (e - s)) as u64;
                let mut v = b[..at].to_vec();
                v.extend_from_slice(&new_len.to_le_bytes()[..width]);
                v.extend_from_slice(&b[start..s]);
                v.extend_from_slice(&b[e..]);
                out.push(v);
                made += 1;
                if made >= 64 {
                    break 'sizes;
                }
            }
            if size == 1 {
                break;
            }
            size = size.div_ceil(2);
        }
    }
    out
}

/// ddmin's complements: the pickle without one chunk, chunks of half its length, then a
/// quarter, ... down to single bytes.
fn ddmin_candidates(b: &[u8], max: usize) -> Vec<Vec<u8>> {
    let mut out = vec![];
    let mut size = b.len().div_ceil(2);
    while size >= 1 && out.len() < max {
        let room = max - out.len();
        out.extend((0..b.len().div_ceil(size)).take(room).map(|i| cut(b, i * size, ((i + 1) * size).min(b.len()))));
        if size == 1 {
            break;
        }
        size = size.div_ceil(2);
    }
    out
}

/// Candidates replacing one subtree (a run of opcodes leaving one item) by `NONE` or by a
/// subtree inside it, smallest results first.
fn subtree_candidates(b: &[u8], cap: usize) -> Vec<Vec<u8>> {
    use brine_codec::opcodes::Pops;
    let d = brine_codec::dis::genops(b);
    let ops = &d.ops;
    let end = |i: usize| ops.get(i + 1).map_or_else(|| d.error.as_ref().map_or(b.len(), |e| e.pos), |o| o.pos);
    // Each stack entry: (first op index of the run that produced it, is a mark).
    let mut stack: Vec<(usize, bool)> = vec![];
    // (first op, last op) of every subtree of more than one op.
    let mut trees: Vec<(usize, usize)> = vec![];
    // (first op, POP or POP_MARK): a value made and thrown away, removable as a whole.
    let mut drops: Vec<(usize, usize)> = vec![];
    for (i, op) in ops.iter().enumerate() {
        let Some(info) = op.op.info() else { break };
        if op.op == brine_codec::Opcode::MARK {
            stack.push((i, true));
            continue;
        }
        let mut first = i;
        match info.stack.pops {
            Pops::Fixed(n) => {
                for _ in 0..n {
                    match stack.pop() {
                        Some((s, _)) => first = first.min(s),
                        None => return vec![],
                    }
                }
            }
            Pops::Mark(k) => {
                loop {
                    match stack.pop() {
                        Some((s, mark)) => {
                            first = first.min(s);
                            if mark {
                                break;
                            }
                        }
                        None => return vec![],
                    }
                }
                for _ in 0..k {
                    match stack.pop() {
                        Some((s, _)) => first = first.min(s),
                        None => return vec![],
                    }
                }
            }
        }
        for _ in 0..info.stack.pushes {
            stack.push((first, false));
        }
        if info.stack.pushes == 1 && first < i {
            trees.push((first, i));
        }
        if matches!(info.name, "POP" | "POP_MARK") {
            drops.push((first, i));
        }
    }
    let bytes_of = |(s, e): (usize, usize)| (ops[s].pos, end(e));
    let mut cands = vec![];
    for &d in drops.iter().take(cap) {
        let (s, e) = bytes_of(d);
        cands.push(cut(b, s, e));
    }
    for &t in &trees {
        if cands.len() >= cap {
            break;
        }
        let (s, e) = bytes_of(t);
        let mut none = b[..s].to_vec();
        none.push(b'N');
        none.extend_from_slice(&b[e..]);
        cands.push(none);
        for &inner in trees.iter().filter(|&&u| u != t && u.0 >= t.0 && u.1 <= t.1) {
            if cands.len() >= cap {
                break;
            }
            let (is, ie) = bytes_of(inner);
            let mut hoisted = b[..s].to_vec();
            hoisted.extend_from_slice(&b[is..ie]);
            hoisted.extend_from_slice(&b[e..]);
            cands.push(hoisted);
        }
    }
    cands.sort_by_key(Vec::len);
    cands.dedup();
    cands.truncate(256);
    cands
}

fn cut(b: &[u8], s: usize, e: usize) -> Vec<u8> {
    let mut v = b[..s].to_vec();
    v.extend_from_slice(&b[e..]);
    v
}

/// (start, end) of each opcode the disassembler reads, then of the unparsed tail.
fn op_spans(b: &[u8]) -> Vec<(usize, usize)> {
    let d = brine_codec::dis::genops(b);
    let mut starts: Vec<usize> = d.ops.iter().map(|o| o.pos).collect();
    if let Some(e) = &d.error {
        if !starts.contains(&e.pos) && e.pos < b.len() {
            starts.push(e.pos);
        }
    }
    let end_of_ops = d.ops.last().map(|_| {
        // After the last op: STOP ends it (1 byte); an error position ends it otherwise.
        d.error.as_ref().map_or(b.len(), |e| e.pos)
    });
    let mut spans = vec![];
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or_else(|| end_of_ops.unwrap_or(b.len()).max(s + 1).min(b.len()));
        if e > s {
            spans.push((s, e));
        }
    }
    if let Some(&(_, last)) = spans.last() {
        if last < b.len() {
            spans.push((last, b.len()));
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64 KiB pickle of 20,000 nested subtrees: every pass's candidates together stay
    /// within 64 MiB (unbounded, ddmin alone made 8 GB of copies and hoisting far more).
    #[test]
    fn candidates_of_a_big_pickle_are_bounded() {
        let mut b = vec![0x80, 2];
        for _ in 0..10_000 {
            b.extend_from_slice(b"(K\x01");
        }
        b.extend(std::iter::repeat_n(b't', 10_000));
        b.push(b'.');
        let passes: [(&str, Pass); 5] = [
            ("subtree", subtree_candidates),
            ("truncations", truncations),
            ("op_deletions", op_deletions),
            ("arg_shrinks", arg_shrinks),
            ("ddmin", ddmin_candidates),
        ];
        for (name, pass) in passes {
            let cands = pass(&b, max_candidates(b.len()));
            let bytes: usize = cands.iter().map(Vec::len).sum();
            assert!(bytes <= (64 << 20) + b.len(), "{name}: {} candidates, {bytes} bytes", cands.len());
        }
        assert!(!ddmin_candidates(&b, max_candidates(b.len())).is_empty());
    }

    fn far() -> std::time::Instant {
        std::time::Instant::now() + std::time::Duration::from_secs(3600)
    }

    #[test]
    fn keeps_only_what_matters() {
        // The "bug": any pickle holding a FRAME opcode byte (0x95) followed later by 'N'.
        let data = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86N.";
        let shows = |c: &[u8]| c.iter().position(|&b| b == 0x95).is_some_and(|i| c[i..].contains(&b'N'));
        let m = minimize(data, 10_000, far(), |cs| cs.iter().map(|c| shows(c)).collect());
        assert_eq!(m, b"\x95N");
    }

    #[test]
    fn hoists_subtrees_of_valid_pickles() {
        // The "bug": a SHORT_BINSTRING anywhere, in a valid pickle (byte deletions break it).
        let data = b"\x80\x02]q\x00(K\x01K\x02U\x01a\x86e.";
        let valid = |c: &[u8]| brine_codec::decode(c).is_ok();
        let m = minimize(data, 10_000, far(), |cs| cs.iter().map(|c| valid(c) && c.contains(&b'U')).collect());
        assert_eq!(m, b"U\x00.");
    }

    #[test]
    fn respects_the_budget() {
        let data = vec![b'N'; 200];
        let mut tested = 0;
        let m = minimize(&data, 50, far(), |cs| {
            tested += cs.len();
            cs.iter().map(|c| !c.is_empty()).collect()
        });
        assert!(tested <= 50, "{tested}");
        assert!(m.len() < 200);
    }
}
