//! `decode`: raw bytes through the reference decoder.
//!
//! Properties, for any input:
//! - the decoder returns (no panic, no hang: libFuzzer's `-timeout` watches that);
//! - an error's offset is inside the input, and "ran out of input" (EOFError) is reported at
//!   its end;
//! - a success ends just past a STOP byte;
//! - it stays within limits: the decoded value, measured as the decoder charges it (string
//!   and bytes lengths, 16 bytes per container slot), is at most [`limits`]' `max_alloc` plus
//!   [`SLACK_PER_BYTE`] bytes per input byte. No opcode copies a container, so every slot
//!   costs the input at least one byte; a value larger than that bound means an
//!   amplification the limit failed to charge;
//! - the value's pickle JSON parses, reads back into a value ([`brine_codec::json::read`])
//!   and writes again to an equal document. This is the dear property (two JSON parses, about
//!   15 µs on a small value against 0.5 µs for the decode), so it runs on one input in
//!   [`READ_BACK_ONE_IN`], chosen by a hash of the input ([`sampled`]): the same input always
//!   gets the same checks, so a finding reproduces, and a campaign of millions of executions
//!   still reads back hundreds of thousands of values;
//! - a limit only ever turns an outcome into a limit error: decoded again under
//!   [`tight_limits`], the input gives the same value or error as under [`limits`], or an
//!   error of [`Category::Limit`] no later than where the first decode failed (limits add
//!   checks, they never change the path up to the one that fires).
//!
//! Inputs holding a NEXT_BUFFER byte are decoded a second time with two out-of-band buffers.

use crate::finding::Finding;
use brine_codec::error::ErrorCode;
use brine_codec::json::{self, compare};
use brine_codec::value::{Construction, Obj, PyStr};
use brine_codec::{decode_with, Category, DecodeOptions, Heap, Limits};

const NAME: &str = "decode";

/// Bytes of decoded value an input byte may account for beyond the limit (see the module
/// doc): generous, since one opcode byte can add a slot and the object around it.
pub const SLACK_PER_BYTE: usize = 64;

/// The decoder's limits under fuzzing: the defaults, with `max_alloc` at 64 MiB (well
/// under libFuzzer's 2 GiB RSS limit).
pub fn limits() -> Limits {
    Limits { max_alloc: 64 << 20, ..Limits::default() }
}

/// Limits small enough for fuzzed inputs to reach: 8 levels of key nesting, 16 memo
/// entries, 4 KiB of value, 1,000 steps of hashing work (plus the per-byte allowance).
pub fn tight_limits() -> Limits {
    Limits { max_depth: 8, max_memo: 16, max_alloc: 4096, max_work: 1000 }
}

/// The JSON read-back runs on one input in this many (see the module doc).
pub const READ_BACK_ONE_IN: u64 = 16;

/// Whether `data` is among the one in `n` inputs an expensive property samples: FNV-1a of
/// the bytes, so the choice is the same in every run.
pub fn sampled(data: &[u8], n: u64) -> bool {
    let h = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
    h % n == 0
}

/// Checks one input, with every property (the JSON read-back included, unsampled): what
/// the `#[test]`s over the corpus and triage run.
pub fn check_all(data: &[u8]) -> Result<(), Finding> {
    check_sampled(data, true)
}

/// Checks one input, as the fuzz target does (the read-back sampled).
pub fn check(data: &[u8]) -> Result<(), Finding> {
    check_sampled(data, sampled(data, READ_BACK_ONE_IN))
}

fn check_sampled(data: &[u8], read_back: bool) -> Result<(), Finding> {
    check_with(data, None, read_back)?;
    if data.contains(&0x97) {
        check_with(data, Some(2), read_back)?;
    }
    Ok(())
}

/// [`check`], panicking on a finding.
pub fn run(data: &[u8]) {
    if let Err(f) = check(data) {
        f.fail()
    }
}

fn check_with(data: &[u8], buffers: Option<usize>, read_back: bool) -> Result<(), Finding> {
    let opts = DecodeOptions { limits: limits(), buffers, ..DecodeOptions::default() };
    let r = decode_with(data, &opts);
    let tight = decode_with(data, &DecodeOptions { limits: tight_limits(), ..opts.clone() });
    limits_only_cut(&r, &tight)?;
    shared_same(data, &opts, &r)?;
    match &r {
        Err(e) => {
            if e.offset > data.len() {
                return Err(Finding::bug(NAME, "error-offset", format!("byte {}", e.offset), format!("{e} (input is {} bytes)", data.len())));
            }
            if e.code == ErrorCode::Eof && e.offset != data.len() {
                return Err(Finding::bug(NAME, "eof-offset", format!("byte {}", e.offset), format!("{e} (input is {} bytes)", data.len())));
            }
            Ok(())
        }
        Ok(d) => {
            if d.end == 0 || d.end > data.len() || data[d.end - 1] != b'.' {
                return Err(Finding::bug(NAME, "end", format!("byte {}", d.end), "success does not end just past a STOP"));
            }
            let size = measure(&d.heap);
            let bound = opts.limits.max_alloc.saturating_add(SLACK_PER_BYTE.saturating_mul(data.len())).saturating_add(4096);
            if size > bound {
                return Err(Finding::bug(NAME, "over-limit", format!("{size} bytes"), format!("decoded value of {size} bytes from {} input bytes (bound {bound})", data.len())));
            }
            if !read_back {
                return Ok(());
            }
            let text = json::result_to_json(&r);
            if data.len() > 2048 {
                brine_codec::with_big_stack(move || json_reads_back(text))
            } else {
                json_reads_back(text)
            }
        }
    }
}

/// `decode_shared`, with every blob that is not inline a window into the input, gives the
/// same outcome (a shared blob is charged less against `max_alloc`, so a limit error may
/// come later or not at all). Values are compared as pickle JSON only when they hold a
/// blob long enough to be shared: otherwise the two decodes ran the same code.
fn shared_same(data: &[u8], opts: &DecodeOptions, r: &Result<brine_codec::Decoded, brine_codec::Error>) -> Result<(), Finding> {
    let source = brine_codec::Source::new(data.to_vec());
    let shared = brine_codec::decode_shared(&source, &DecodeOptions { share_min: 0, ..opts.clone() });
    let limited = |x: &Result<brine_codec::Decoded, brine_codec::Error>| matches!(x, Err(e) if e.classify() == Category::Limit);
    if limited(r) || limited(&shared) {
        return Ok(());
    }
    let same = match (r, &shared) {
        (Err(a), Err(b)) => a == b,
        (Ok(a), Ok(b)) => {
            let long = |o: &Obj| matches!(o, Obj::Str(PyStr(x)) | Obj::Bytes(x) if x.len() > brine_codec::Blob::INLINE);
            a.end == b.end && a.heap.objs.len() == b.heap.objs.len() && (!a.heap.objs.iter().any(long) || json::result_to_json(r) == json::result_to_json(&shared))
        }
        _ => false,
    };
    if !same {
        let (a, b) = (json::result_to_json(r), json::result_to_json(&shared));
        return Err(Finding::bug(NAME, "shared-differs", "decode_shared", format!("decode_with: {a}\ndecode_shared: {b}")));
    }
    Ok(())
}

/// The tight-limits outcome is the default one, or a limit error no later than it.
fn limits_only_cut(r: &Result<brine_codec::Decoded, brine_codec::Error>, tight: &Result<brine_codec::Decoded, brine_codec::Error>) -> Result<(), Finding> {
    let differ = |what: &str, at: usize| {
        Err(Finding::bug(NAME, what, format!("byte {at}"), format!("limits {:?}: {}\ndefault limits: {}", tight_limits(), json::result_to_json(tight), json::result_to_json(r))))
    };
    match (r, tight) {
        (_, Err(t)) if t.classify() == Category::Limit => match r {
            Err(e) if t.offset > e.offset => differ("limit-after-error", t.offset),
            _ => Ok(()),
        },
        (Ok(a), Ok(b)) if a.end == b.end => {
            if json::result_to_json(r) == json::result_to_json(tight) {
                Ok(())
            } else {
                differ("limit-changed-value", a.end)
            }
        }
        (Err(e), Err(t)) if e == t => Ok(()),
        (_, Err(t)) => differ("limit-changed-outcome", t.offset),
        (_, Ok(b)) => differ("limit-changed-outcome", b.end),
    }
}

/// The decoded value's size as the decoder charges it (see the module doc).
pub fn measure(heap: &Heap) -> usize {
    let mut n = heap.buffers.iter().map(Vec::len).sum::<usize>();
    for o in &heap.objs {
        n += match o {
            Obj::Str(s) => s.0.len(),
            Obj::Bytes(b) => b.len(),
            Obj::ByteArray(b) => b.len(),
            Obj::Int(i) => (i.bits() / 8) as usize,
            Obj::Float(_) | Obj::Buffer { .. } | Obj::View(_) => 0,
            Obj::Tuple(v) | Obj::List(v) => 16 * v.len(),
            Obj::Dict(d) => 32 * d.entries.len(),
            Obj::Set(s) | Obj::FrozenSet(s) => 16 * s.items.len(),
            Obj::Global(g) => g.module.0.len() + g.name.0.len(),
            Obj::Object(o) => {
                let (new, ops) = (&o.new, &o.ops);
                let args = match new {
                    Construction::Call { args, .. } => args.len(),
                    Construction::NewObj { args, kwargs, .. } => args.len() + 2 * kwargs.len(),
                    Construction::PersId(_) => 1,
                };
                16 * (args + ops.len())
            }
        };
    }
    n
}

/// The JSON text of a decoded value parses, reads back, and writes again to an equal
/// document.
fn json_reads_back(text: String) -> Result<(), Finding> {
    let doc = json::parse_deep(&text).map_err(|e| Finding::bug(NAME, "json-syntax", "/", format!("{e}: {}", clip(&text))))?;
    let (heap, root) = json::read::read(&doc).map_err(|e| Finding::bug(NAME, "json-read", "/", format!("{e}: {}", clip(&text))))?;
    let mut again = String::new();
    json::write_value(&mut again, &heap, root);
    let doc2 = json::parse_deep(&again).map_err(|e| Finding::bug(NAME, "json-syntax", "/", e.to_string()))?;
    compare(&doc, &doc2).map_err(|m| Finding::bug(NAME, "json-reread", m.path, format!("{}\nfirst: {}\nagain: {}", m.what, clip(&text), clip(&again))))
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(2000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
