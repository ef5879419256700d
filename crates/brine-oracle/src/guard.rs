//! Keeping CPython alive: inputs that would make CPython allocate gigabytes or hang are
//! recognised before CPython sees them, and the check is [`Outcome::Poisoned`] instead.
//!
//! CPython's C unpickler trusts declared sizes (gh-111066): a LONG_BINPUT of 0x7fffffff
//! grows its memo array to 16+ GiB, and BINBYTES/BINBYTES8/BYTEARRAY8 allocate the declared
//! length before reading (the pure-Python BYTEARRAY8 even zero-fills it). Hashing an
//! exponentially shared tuple key never finishes (tuple hashes are not cached), ints that
//! share one hash make dict insertion quadratic, and turning a multi-megabyte int into
//! decimal (to write its JSON) is quadratic too. None of this can be interrupted: the C
//! code never returns to the eval loop, so a SIGALRM timeout does not help.
//!
//! Two checks, both conservative (a false poison loses a comparison, a miss loses the run):
//! - [`prescan`] walks the opcode stream with C semantics (FRAME boundaries ignored, stop
//!   at STOP or at the first byte the C unpickler could not read past) using the argument
//!   kinds of [`brine_codec::opcodes`]; it needs no decoding.
//! - [`heap_hazard`] looks at what the codec built: the cost CPython pays to hash every
//!   dict key and set item, counted without the caching the codec does.
//!
//! The codec's own [`brine_codec::Category::Limit`] errors (depth, memo, size, work) are the
//! third check. [`screen`] runs all three. A hazard at one opcode need not lose the case:
//! the prefix before it is safe, and an error CPython raises inside the prefix is its
//! answer for the whole input (fuzzed streams often fail long before a random
//! LONG_BINPUT index would have been used).

use crate::engine::{error_outcome, Codec, Outcome, Poison, PoisonKind};
use brine_codec::opcodes::{split_arg, ArgError, ArgKind, Layout, Opcode, Touches};
use brine_codec::{Category, Decoded, Error, Obj, Value};
use std::collections::HashMap;

/// Memo indices above this are a hazard (C grows its memo array to twice the index:
/// 2^23 pointers is 64 MiB).
pub const MAX_PUT_INDEX: u64 = 1 << 22;
/// A declared length above max(remaining input, this) is a hazard (allocated up front).
pub const MAX_PREALLOC: u64 = 64 << 20;
/// LONG4 payloads above this many bytes are a hazard: `str(int)` (for the JSON document)
/// is quadratic in CPython 3.11, 0.3 s at 64 KiB and a minute at 1 MiB.
pub const MAX_LONG_BYTES: u64 = 64 << 10;
/// Decimal text lines above this many bytes are a hazard for pickletools.genops, which
/// converts them with int() and no digit limit (quadratic).
pub const MAX_DECIMAL_LINE: usize = 100_000;
/// This many distinct ints sharing one Python hash is a hazard (dict insertion quadratic;
/// tuples of them multiply).
pub const MAX_SAME_HASH: usize = 16;
/// Tuple items CPython may visit hashing dict keys and set items (about a second).
pub const MAX_HASH_WORK: u128 = 200_000_000;

const P61: u64 = (1 << 61) - 1;

/// Scans `data` as the C unpickler reads it and returns the first hazard, if any.
///
/// With `genops`, checks what pickletools.genops suffers from instead (long decimal lines,
/// huge LONG4 ints); it has no memo and preallocates nothing.
pub fn prescan(data: &[u8], genops: bool) -> Option<Poison> {
    prescan_at(data, genops).map(|(_, p)| p)
}

/// [`prescan`], also giving the offset of the opcode that is the hazard (`None` for a
/// hazard of the whole stream, such as colliding int hashes). Everything before that
/// offset is safe to unpickle: see [`prefix_outcome`].
pub fn prescan_at(data: &[u8], genops: bool) -> Option<(Option<usize>, Poison)> {
    let mut pos = 0usize;
    let mut hashes: HashMap<u64, Vec<Vec<u8>>> = HashMap::new();
    let hazard = |at: usize, what: String| Some((Some(at), Poison::new(PoisonKind::Hazard, what)));
    let slow = |at: usize, what: String| Some((Some(at), Poison::new(PoisonKind::Time, what)));
    while pos < data.len() {
        let start = pos;
        let op = Opcode(data[pos]);
        pos += 1;
        let Some(info) = op.info() else { break }; // an unknown opcode: C stops here
        let layout = info.arg.layout();
        let arg = match split_arg(data, pos, layout) {
            Ok(a) => a,
            // A counted body the C unpickler allocates before reading it.
            Err(ArgError::Truncated { at, needed })
                if !genops
                    && at > pos
                    && matches!(op, Opcode::BINBYTES | Opcode::BINBYTES8 | Opcode::BYTEARRAY8)
                    && needed > ((data.len() - at) as u64).max(MAX_PREALLOC) =>
            {
                let rest = data.len() - at;
                return hazard(start, format!(
                    "{} declares {needed} bytes at byte {start} with {rest} left (allocated before reading)",
                    info.name
                ));
            }
            // Truncated, a negative length, no newline: C stops here.
            Err(_) => break,
        };
        pos = arg.end;
        match layout {
            Layout::None => {}
            Layout::Fixed { .. } => {
                if !genops && op == Opcode::LONG_BINPUT && layout.int_value(arg.bytes) > MAX_PUT_INDEX as i128 {
                    let v = layout.int_value(arg.bytes);
                    return hazard(start, format!("LONG_BINPUT {v} at byte {start} (C memo array growth)"));
                }
                if op == Opcode::BINFLOAT {
                    let f = f64::from_be_bytes(arg.bytes.try_into().expect("the table's width"));
                    if let Some(m) = float_int_mag(f) {
                        note_int(&mut hashes, m.0, &m.1);
                    }
                }
            }
            Layout::Counted { .. } => {
                let len = arg.bytes.len() as u64;
                if op == Opcode::LONG4 && len > MAX_LONG_BYTES {
                    return slow(
                        start,
                        format!("LONG4 of {len} bytes at byte {start} (decimal conversion is quadratic)"),
                    );
                }
                if matches!(op, Opcode::LONG1 | Opcode::LONG4) {
                    let (neg, mag) = twos_complement_mag(arg.bytes);
                    note_int(&mut hashes, neg, &mag);
                }
            }
            Layout::Lines(_) => {
                let first = &arg.bytes[..arg.bytes.len() - 1];
                let decimal = matches!(info.arg, ArgKind::DecimalNlShort | ArgKind::DecimalNlLong);
                if genops && decimal && first.len() > MAX_DECIMAL_LINE {
                    return slow(
                        start,
                        format!("{}-byte decimal line at byte {start} (genops' int() is quadratic)", first.len()),
                    );
                }
                if let Some((neg, mag)) = decimal.then(|| parse_decimal(first)).flatten() {
                    if !genops && op == Opcode::PUT && !neg && mag_exceeds(&mag, MAX_PUT_INDEX) {
                        return hazard(start, format!("PUT {} at byte {start} (C memo array growth)", String::from_utf8_lossy(first).trim()));
                    }
                    if matches!(op, Opcode::INT | Opcode::LONG) {
                        note_int(&mut hashes, neg, &mag);
                    }
                }
            }
        }
        if op == Opcode::STOP {
            break;
        }
    }
    if genops {
        return None;
    }
    if let Some((h, vs)) = hashes.iter().find(|(_, v)| v.len() >= MAX_SAME_HASH) {
        return Some((None, Poison::new(
            PoisonKind::Time,
            format!("{}+ distinct ints share the hash {h} (quadratic dict/set insertion)", vs.len()),
        )));
    }
    None
}

/// Whether and how CPython may see an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Safe to unpickle.
    Clear,
    /// Not to be unpickled at all.
    Poisoned(Poison),
    /// Not to be unpickled, but `data[..offset]` is safe, and an error CPython raises
    /// inside it is the answer for the whole input ([`prefix_outcome`]).
    Prefix(usize, Poison),
}

/// Screens an input for CPython, given the codec's decode of it (`raw`): the codec's limit
/// errors, then [`prescan_at`], then [`heap_hazard`] (of the heap just before the failing
/// opcode when the codec rejected the input). A hazard at an opcode leaves the
/// prefix before it to try, when that prefix passes the same screen.
pub fn screen(codec: &Codec, data: &[u8], buffers: Option<usize>, raw: &Result<Decoded, Error>) -> Screen {
    if let Err(e) = raw {
        if let Outcome::Poisoned(p) = error_outcome(e) {
            return Screen::Poisoned(p);
        }
    }
    if let Some((at, p)) = prescan_at(data, false) {
        let Some(at) = at else { return Screen::Poisoned(p) };
        let prefix = &data[..at];
        if prescan(prefix, false).is_some() {
            return Screen::Poisoned(p);
        }
        return match codec.decode_raw(prefix, buffers) {
            Err(e) if e.classify() == Category::Limit => Screen::Poisoned(p),
            Ok(d) if heap_hazard(&d, prefix.len(), count_repeats(prefix), false).is_some() => Screen::Poisoned(p),
            Err(e) if heap_before(codec, prefix, e.offset, buffers)
                .is_none_or(|d| heap_hazard(&d, prefix.len(), count_repeats(prefix), true).is_some()) =>
            {
                Screen::Poisoned(p)
            }
            _ => Screen::Prefix(at, p),
        };
    }
    // What CPython would hash: the codec's heap, or on an error the heap just before the
    // failing opcode (which may itself hash what is on the stack).
    let before;
    let (heap, failed) = match raw {
        Ok(d) => (d, false),
        Err(e) => match heap_before(codec, data, e.offset, buffers) {
            Some(d) => {
                before = d;
                (&before, true)
            }
            None => {
                return Screen::Poisoned(Poison::new(PoisonKind::Limit, format!("cannot rebuild the codec's heap before its error at byte {}", e.offset)))
            }
        },
    };
    if let Some(p) = heap_hazard(heap, data.len(), count_repeats(data), failed) {
        return Screen::Poisoned(p);
    }
    Screen::Clear
}

/// What an unpickler's outcome on `data[..offset]` (a prefix ending where a hazard starts)
/// says about the whole input: an error raised inside the prefix is the whole input's error
/// too, since both unpicklers read strictly forward and no opcode before `offset` looks past
/// its own argument. An error at the prefix's end (EOF, truncation, a frame running out)
/// says nothing, and the whole input stays poisoned.
pub fn prefix_outcome(on_prefix: Outcome, poison: &Poison) -> Outcome {
    let at_end = match &on_prefix {
        Outcome::Err { class, message } => {
            class == "EOFError"
                || class == "error" // struct.error: the Python unpickler reading short
                || (class == "UnpicklingError" && (message.contains("truncated") || message.contains("exhausted")))
        }
        _ => true,
    };
    if at_end {
        Outcome::Poisoned(poison.clone())
    } else {
        on_prefix
    }
}

/// How many values the stream pushes again rather than builds (GET, BINGET, LONG_BINGET,
/// DUP), walking it as the C unpickler does up to STOP: each is one more way to insert an
/// already built key. Unknown opcodes and truncated arguments end the walk.
pub fn count_repeats(data: &[u8]) -> usize {
    let mut pos = 0usize;
    let mut n = 0usize;
    while let Some(&b) = data.get(pos) {
        let op = Opcode(b);
        let Some(info) = op.info() else { break };
        pos += 1;
        let Ok(arg) = split_arg(data, pos, info.arg.layout()) else { break };
        pos = arg.end;
        if info.touches == Touches::MemoGet || op == Opcode::DUP {
            n += 1;
        }
        if op == Opcode::STOP {
            break;
        }
    }
    n
}

/// Records an int (sign, little-endian magnitude) by its Python hash. Only ints of at least
/// 2^61-1 can collide with another int (besides -1/-2), so smaller ones are skipped.
fn note_int(hashes: &mut HashMap<u64, Vec<Vec<u8>>>, neg: bool, mag_le: &[u8]) {
    let mut mag = mag_le.to_vec();
    while mag.last() == Some(&0) {
        mag.pop();
    }
    if !mag_exceeds(&mag, P61 - 1) {
        return;
    }
    let mut h: u128 = 0;
    for &b in mag.iter().rev() {
        h = ((h << 8) | b as u128) % P61 as u128;
    }
    let h = if neg { (P61 as u128 - h) % P61 as u128 } else { h } as u64;
    let key = if neg { h | 1 << 63 } else { h };
    let v = hashes.entry(key).or_default();
    if v.len() < MAX_SAME_HASH && !v.contains(&mag) {
        let mut m = mag;
        m.push(neg as u8);
        v.push(m);
    }
}

/// Whether a little-endian magnitude is greater than `limit`.
fn mag_exceeds(mag_le: &[u8], limit: u64) -> bool {
    let hi = mag_le.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if hi > 8 {
        return true;
    }
    let mut v = 0u64;
    for &b in mag_le[..hi].iter().rev() {
        v = (v << 8) | b as u64;
    }
    v > limit
}

/// (negative, little-endian magnitude) of a little-endian two's complement integer.
fn twos_complement_mag(b: &[u8]) -> (bool, Vec<u8>) {
    let neg = b.last().is_some_and(|&x| x & 0x80 != 0);
    if !neg {
        return (false, b.to_vec());
    }
    // magnitude = !b + 1
    let mut m: Vec<u8> = b.iter().map(|&x| !x).collect();
    for x in m.iter_mut() {
        let (y, carry) = x.overflowing_add(1);
        *x = y;
        if !carry {
            break;
        }
    }
    (true, m)
}

/// The magnitude of an integral float of at least 2^61, as (negative, little-endian bytes).
fn float_int_mag(f: f64) -> Option<(bool, Vec<u8>)> {
    if !f.is_finite() || f.fract() != 0.0 || f.abs() < (P61 as f64) {
        return None;
    }
    let bits = f.abs().to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mant = (bits & ((1 << 52) - 1)) | (1 << 52);
    // value = mant << exp (exp >= 9 here)
    let mut out = vec![0u8; (exp as usize / 8) + 9];
    let (byte, bit) = ((exp / 8) as usize, (exp % 8) as u32);
    let wide = (mant as u128) << bit;
    for i in 0..9 {
        out[byte + i] = (wide >> (8 * i)) as u8;
    }
    Some((f < 0.0, out))
}

/// CPython's `int(line, 10)` as far as the sign and magnitude go (whitespace around,
/// underscores between digits); `None` when it is not a plain decimal.
fn parse_decimal(line: &[u8]) -> Option<(bool, Vec<u8>)> {
    let s = std::str::from_utf8(line).ok()?.trim();
    let s = s.strip_suffix('L').unwrap_or(s);
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 5000 {
        return None;
    }
    // little-endian base-256 magnitude
    let mut mag: Vec<u8> = vec![];
    for c in digits.bytes() {
        if c == b'_' {
            continue;
        }
        if !c.is_ascii_digit() {
            return None;
        }
        let mut carry = (c - b'0') as u32;
        for x in mag.iter_mut() {
            let v = *x as u32 * 10 + carry;
            *x = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.push(carry as u8);
            carry >>= 8;
        }
    }
    Some((neg, mag))
}

/// What CPython pays to hash the dict keys and set items the codec built: each tuple is
/// hashed afresh (CPython does not cache tuple hashes), so an exponentially shared key costs
/// exponentially many steps even though the codec, which caches, finished at once.
///
/// Two rules. The hashing work of all insertions, bounded by the sum of the costs of the
/// keys the dicts and sets hold plus, for the insertions that merged into an existing key,
/// `repeats` (see [`count_repeats`]) times the costliest key, must stay under
/// [`MAX_HASH_WORK`]. And with `failed` (the heap is the one just before an opcode that
/// failed, which may have hashed stack items first), no tuple or frozenset, key or not, may
/// cost more than a tree could for an input this size: it is shared exponentially.
pub fn heap_hazard(d: &Decoded, input_len: usize, repeats: usize, failed: bool) -> Option<Poison> {
    let objs = &d.heap.objs;
    // Children of a tuple/frozenset always exist before it, so one forward pass suffices.
    let mut cost: Vec<u64> = Vec::with_capacity(objs.len());
    let c = |cost: &Vec<u64>, v: &Value| -> u64 {
        match v {
            Value::Obj(id) => cost.get(*id as usize).copied().unwrap_or(1),
            _ => 1,
        }
    };
    let tree_bound = 16 * input_len as u64 + 1_000_000;
    for o in objs {
        let k = match o {
            Obj::Tuple(items) => items.iter().fold(1u64, |a, v| a.saturating_add(c(&cost, v))),
            Obj::FrozenSet(s) => s.items.iter().fold(1u64, |a, v| a.saturating_add(c(&cost, v))),
            _ => 1,
        };
        if failed && k > tree_bound {
            return Some(Poison::new(
                PoisonKind::Time,
                format!("a tuple costs CPython {k} hash steps from {input_len} bytes (shared exponentially; tuple hashes are not cached)"),
            ));
        }
        cost.push(k);
    }
    let (mut worst, mut sum) = (0u64, 0u128);
    let mut key = |k: u64| {
        worst = worst.max(k);
        sum += k as u128;
    };
    for o in objs {
        match o {
            Obj::Dict(dd) => dd.entries.iter().for_each(|(k, _)| key(c(&cost, k))),
            Obj::Set(s) | Obj::FrozenSet(s) => s.items.iter().for_each(|v| key(c(&cost, v))),
            _ => {}
        }
    }
    let work = sum + worst as u128 * repeats as u128;
    if work > MAX_HASH_WORK {
        return Some(Poison::new(
            PoisonKind::Time,
            format!("hashing keys costs CPython up to {work} steps (costliest key {worst}, {repeats} repeats; tuple hashes are not cached)"),
        ));
    }
    None
}

/// The codec's heap as CPython holds it just before the opcode at `offset` (where the
/// codec's decode failed): `data[..offset]`, then NONE and STOP, padded to the input's
/// length so that a FRAME before `offset` still finds its bytes. `None` if that fails too.
fn heap_before(codec: &Codec, data: &[u8], offset: usize, buffers: Option<usize>) -> Option<Decoded> {
    let mut synth = Vec::with_capacity(data.len() + 2);
    synth.extend_from_slice(&data[..offset.min(data.len())]);
    synth.extend_from_slice(b"N.");
    synth.resize(data.len() + 2, 0);
    codec.decode_raw(&synth, buffers).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The opcode table's argument layouts are pickletools' ArgumentDescriptors, as the
    /// embedded CPython has them: `n` >= 0 is a fixed width (int4 the one signed), -1 a
    /// line (two for `stringnl_noescape_pair`, whose reader reads two), -2/-3/-4/-5 a
    /// length of 1 / 4 signed / 4 / 8 bytes.
    #[cfg(feature = "cpython")]
    #[test]
    fn layouts_are_pickletools_descriptors() {
        use pyo3::prelude::*;
        let Some(interp) = crate::cpython::interpreter() else { return };
        let descriptors: Vec<(String, Option<(String, i64)>)> = interp.run(|py, _sb| {
            let ops = py.import("pickletools").unwrap().getattr("opcodes").unwrap();
            ops.try_iter()
                .unwrap()
                .map(|op| {
                    let op = op.unwrap();
                    let name: String = op.getattr("name").unwrap().extract().unwrap();
                    let arg = op.getattr("arg").unwrap();
                    let arg = (!arg.is_none())
                        .then(|| (arg.getattr("name").unwrap().extract().unwrap(), arg.getattr("n").unwrap().extract().unwrap()));
                    (name, arg)
                })
                .collect()
        });
        assert_eq!(descriptors.len(), brine_codec::OPCODES.len());
        for (name, arg) in descriptors {
            let info = Opcode::from_name(&name).unwrap().info().unwrap();
            let expected = match &arg {
                None => Layout::None,
                Some((a, -1)) => Layout::Lines(if a == "stringnl_noescape_pair" { 2 } else { 1 }),
                Some((_, -2)) => Layout::Counted { width: 1, signed: false },
                Some((_, -3)) => Layout::Counted { width: 4, signed: true },
                Some((_, -4)) => Layout::Counted { width: 4, signed: false },
                Some((_, -5)) => Layout::Counted { width: 8, signed: false },
                Some((a, n)) => Layout::Fixed { width: *n as u8, signed: a.starts_with("int") },
            };
            assert_eq!(info.arg.layout(), expected, "{name}");
            assert_eq!(arg.map(|a| a.0).as_deref().unwrap_or("none"), info.arg.name(), "{name}");
        }
    }

    #[test]
    fn memo_and_prealloc_hazards() {
        assert!(prescan(b"N\x72\xff\xff\xff\x7f.", false).is_some());
        assert!(prescan(b"N\x72\x00\x00\x40\x00.", false).is_none());
        assert!(prescan(b"Np99999999\n.", false).is_some());
        assert!(prescan(b"Np4194304\n.", false).is_none());
        assert!(prescan(b"Np-99999999999\n.", false).is_none());
        // 1 GiB declared, 1 byte present.
        assert!(prescan(b"B\x00\x00\x00\x40x", false).is_some());
        assert!(prescan(b"\x8e\x00\x00\x00\x40\x00\x00\x00\x00x", false).is_some());
        assert!(prescan(b"\x96\x00\x00\x00\x40\x00\x00\x00\x00x", false).is_some());
        // Huge beyond isize: C raises OverflowError without allocating.
        assert!(prescan(b"\x8e\xff\xff\xff\xff\xff\xff\xff\xff", false).is_none());
        // 32 MiB declared: allowed.
        assert!(prescan(b"B\x00\x00\x00\x02x", false).is_none());
        // Unicode lengths are read, not preallocated.
        assert!(prescan(b"X\x00\x00\x00\x40x", false).is_none());
        // After STOP nothing counts; FRAME boundaries do not matter.
        assert!(prescan(b"N.\x72\xff\xff\xff\x7f", false).is_none());
        assert!(prescan(b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N\x72\xff\xff\xff\x7f.", false).is_some());
    }

    #[test]
    fn colliding_ints() {
        // k * (2^61 - 1) for k = 1..20 all hash to 0.
        let mut p = b"(".to_vec();
        for k in 1u128..20 {
            let v = k * P61 as u128;
            let b = v.to_le_bytes();
            let n = 9;
            p.push(0x8a);
            p.push(n as u8);
            p.extend_from_slice(&b[..n]);
        }
        p.extend_from_slice(b"l.");
        assert!(prescan(&p, false).is_some());
        let (neg, m) = float_int_mag(-(2f64.powi(70))).unwrap();
        assert!(neg && m[8] == 0x40 && m.iter().filter(|&&b| b != 0).count() == 1, "{m:?}");
        let (neg, m) = twos_complement_mag(&[0xff, 0xff]);
        assert!(neg && m == vec![1, 0]);
        assert_eq!(parse_decimal(b" 1_000 "), Some((false, vec![0xe8, 0x03])));
    }

    #[test]
    fn exponential_tuple_key() {
        // {t40: None} where t0 = () and t(i+1) = (ti, ti): 2^40 paths, 41 objects.
        let mut q = b"\x80\x04}".to_vec(); // dict first
        q.extend_from_slice(b")");
        for _ in 0..40 {
            q.extend_from_slice(b"2\x86");
        }
        q.extend_from_slice(b"Ns."); // SETITEM
        let d = brine_codec::decode(&q).unwrap();
        assert!(heap_hazard(&d, q.len(), count_repeats(&q), false).is_some());
        assert_eq!(count_repeats(&q), 40);
        // The same key, then an unknown opcode: the heap before the error shows it.
        let mut r = q.clone();
        r.pop();
        r.push(0xff);
        let raw = brine_codec::decode(&r);
        assert!(raw.is_err());
        assert!(matches!(screen(&Codec::new(), &r, None, &raw), Screen::Poisoned(_)));
        // A shared tuple that is no key yet (the failing DICT would hash it).
        let mut t = b"\x80\x04(".to_vec();
        t.extend_from_slice(b")");
        for _ in 0..40 {
            t.extend_from_slice(b"2\x86");
        }
        t.extend_from_slice(b"N]Nd."); // {t40: None, []: None}: unhashable list
        let raw = brine_codec::decode(&t);
        assert!(raw.is_err(), "{raw:?}");
        assert!(matches!(screen(&Codec::new(), &t, None, &raw), Screen::Poisoned(_)));
        let d = brine_codec::decode(b"\x80\x04}K\x01K\x02\x86Ns.").unwrap();
        assert!(heap_hazard(&d, 8, 0, false).is_none());
        // A shared tuple that no one hashes is harmless.
        let mut u = b"\x80\x04)".to_vec();
        for _ in 0..40 {
            u.extend_from_slice(b"2\x86");
        }
        u.push(b'.');
        let raw = brine_codec::decode(&u);
        assert_eq!(screen(&Codec::new(), &u, None, &raw), Screen::Clear);
    }
}
