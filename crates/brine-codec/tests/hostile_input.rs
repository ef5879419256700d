//! Hostile input: the decoder and disassembler on many mutated, truncated and
//! resource-exhausting streams must return (Ok or a typed error), never panic, hang or
//! allocate without bound. Agreement with CPython on mutations is checked separately
//! (decode_conformance.rs, against checked-in CPython results); this test covers far more
//! inputs than can be checked in, so it asserts only safety and bounded time.

use brine_codec::{decode, decode_with, DecodeOptions, Limits};
use std::time::{Duration, Instant};

/// A small deterministic PRNG (xorshift64*), so failures replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Seeds: pickles of each protocol covering most opcodes (bytes as CPython writes them).
fn seeds() -> Vec<Vec<u8>> {
    vec![
        b"(lp0\nI1\naF1.5\naS'abc'\np1\naVx\\u00e9\np2\na(dp3\ng1\nL12345678901234567890L\nsa(I1\nI2\ntp4\na.".to_vec(),
        b"]q\x00(K\x01M\x00\x01J\xff\xff\xff\xffG?\xf8\x00\x00\x00\x00\x00\x00U\x03abcq\x01X\x02\x00\x00\x00\xc3\xa9}q\x02(h\x01K\x01u)e.".to_vec(),
        b"\x80\x02]q\x00(\x88\x89N\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01K\x01\x85K\x02K\x03\x86K\x04K\x05K\x06\x87c__builtin__\nset\nq\x01]q\x02K\x01a\x85Rq\x03e.".to_vec(),
        b"\x80\x03C\x03abcq\x00B\x03\x00\x00\x00defq\x01\x86q\x02.".to_vec(),
        b"\x80\x04\x95#\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x01a\x94\x8f\x94(K\x01K\x02\x90(K\x03\x91\x94\x8c\x01b\x8c\x01c\x93\x94)\x81\x94e.".to_vec(),
        b"\x80\x05\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x96\x03\x00\x00\x00\x00\x00\x00\x00abc\x94\x8e\x01\x00\x00\x00\x00\x00\x00\x00x\x98\x86\x94.".to_vec(),
        b"(i__main__\nC\n(dS'x'\nI1\nsb(cfoo\nbar\nI1\nI2\no\x80\x02\x82\x01PABC\n.".to_vec(),
    ]
}

#[test]
fn mutated_streams_never_panic_and_stay_fast() {
    let mut rng = Rng(0x5eed_b1e5);
    let start = Instant::now();
    let mut n = 0usize;
    let mut slowest = Duration::ZERO;
    for seed in seeds() {
        for _ in 0..6_000 {
            let mut p = seed.clone();
            for _ in 0..1 + rng.below(4) {
                match rng.below(5) {
                    0 if !p.is_empty() => {
                        let i = rng.below(p.len());
                        p[i] = rng.next() as u8;
                    }
                    1 => {
                        let i = rng.below(p.len() + 1);
                        p.insert(i, rng.next() as u8);
                    }
                    2 if !p.is_empty() => {
                        let i = rng.below(p.len());
                        p.remove(i);
                    }
                    3 => {
                        let i = rng.below(p.len() + 1);
                        p.truncate(i);
                    }
                    _ => {
                        // Splice a slice of another seed in: reaches opcode combinations.
                        let other = &seeds()[rng.below(7)];
                        let a = rng.below(other.len());
                        let b = (a + rng.below(16)).min(other.len());
                        let i = rng.below(p.len() + 1);
                        p.splice(i..i, other[a..b].iter().copied());
                    }
                }
            }
            let t = Instant::now();
            let _ = decode(&p);
            let _ = decode_with(&p, &DecodeOptions { buffers: Some(2), ..Default::default() });
            let _ = brine_codec::dis::genops(&p);
            slowest = slowest.max(t.elapsed());
            n += 1;
        }
    }
    println!("{n} mutated streams in {:?}, slowest {:?}", start.elapsed(), slowest);
    assert!(slowest < Duration::from_secs(2), "one small input took {slowest:?}");
}

#[test]
fn resource_shapes_are_bounded() {
    // Huge memo index: CPython's C memo would grow to 32 GiB; brine stores it sparsely.
    let r = decode(b"N\x72\xff\xff\xff\x7fj\xff\xff\xff\x7f.").unwrap();
    assert_eq!(r.root, brine_codec::Value::None);
    // Declared lengths far beyond the input are truncation errors, allocated never.
    for p in [&b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\x00\x00."[..], b"B\xff\xff\xff\xff", b"X\xff\xff\xff\x7f"] {
        let e = decode(p).unwrap_err();
        assert!(matches!(e.code.py_exception(), "UnpicklingError" | "MemoryError" | "OverflowError"), "{e}");
    }
    // Deep nesting: 1,000,000 nested tuples decode iteratively; as a dict key the hash
    // walk hits the depth limit instead of the stack.
    let mut deep = b"N".to_vec();
    deep.extend(std::iter::repeat_n(0x85, 1_000_000));
    let mut p = deep.clone();
    p.push(b'.');
    assert!(decode(&p).is_ok());
    let mut p = b"}".to_vec();
    p.extend(&deep);
    p.extend(b"Ns.");
    let e = decode(&p).unwrap_err();
    assert_eq!(e.code, brine_codec::ErrorCode::DepthLimit(Limits::default().max_depth));
    // Exponential sharing: a tuple of 2^60 leaves by reference; hashing it as a key is
    // cut off by the work budget instead of hanging.
    let mut p = b"\x80\x02N".to_vec();
    for _ in 0..60 {
        p.extend(b"2\x86");
    }
    p.extend(b"q\x00}q\x01h\x00Ns");
    p.extend(b"\x80\x02N");
    for _ in 0..60 {
        p.extend(b"2\x86");
    }
    p.extend(b"Ns.");
    let t = Instant::now();
    let _ = decode(&p);
    assert!(t.elapsed() < Duration::from_secs(5));
    // Limits are configurable and typed.
    let opts = DecodeOptions { limits: Limits { max_memo: 2, ..Default::default() }, ..Default::default() };
    let e = decode_with(b"N\x94\x94\x94.", &opts).unwrap_err();
    assert_eq!(e.code, brine_codec::ErrorCode::MemoLimit(2));
    assert_eq!(e.offset, 3);
    let opts = DecodeOptions { limits: Limits { max_alloc: 1000, ..Default::default() }, ..Default::default() };
    let mut big = b"B\x00\x08\x00\x00".to_vec();
    big.extend(vec![0u8; 2048]);
    big.push(b'.');
    let e = decode_with(&big, &opts).unwrap_err();
    assert!(matches!(e.code, brine_codec::ErrorCode::SizeLimit(1000)));
}
