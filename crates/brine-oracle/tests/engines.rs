//! The engines against each other on small known cases, and the guard on hostile ones.
#![cfg(feature = "cpython")]

use brine_oracle::cpython::interpreter;
use brine_oracle::{CPython, Differential, Engine, Outcome, PoisonKind, Verdict};
use serde_json::json;

/// BRINE_NO_CPYTHON=1 turns the engines off on purpose: nothing to test then.
fn no_cpython() -> bool {
    std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty())
}

fn diff() -> Differential {
    Differential::new().with_python()
}

#[test]
fn interpreter_is_cpython_311() {
    if no_cpython() {
        return;
    }
    let i = interpreter().expect("CPython 3.11 should start on this machine");
    let info = i.info();
    assert_eq!((info.version_info.0, info.version_info.1), (3, 11), "{info:?}");
    assert!(info.timeouts, "the interpreter thread should be Python's main thread: {info:?}");
    eprintln!("embedded: {}", info.to_json());
}

#[test]
fn agree_on_a_list() {
    if no_cpython() {
        return;
    }
    let d = diff();
    let c = d.check(b"\x80\x04]\x94(K\x01\x8c\x01a\x94C\x01\x00\x94e.", None);
    assert_eq!(c.codec_vs_c, Some(Verdict::Same), "{:?}", c);
    assert_eq!(c.c_vs_py, Some(Verdict::Same));
    assert_eq!(
        c.codec,
        Outcome::Ok(json!({"t":"list","items":[{"t":"int","v":"1"},{"t":"str","v":"a"},{"t":"bytes","v":"00"}]}))
    );
}

#[test]
fn c_and_python_differ_on_unknown_opcode() {
    if no_cpython() {
        return;
    }
    let c = diff().check(b"\xff", None);
    assert_eq!(c.codec_vs_c, Some(Verdict::SameError("UnpicklingError".into())));
    match c.c_vs_py {
        Some(Verdict::DifferentErrors { a, b, diff }) => {
            assert_eq!((a.as_str(), b.as_str()), ("UnpicklingError", "KeyError"));
            assert!(diff.text.contains("KeyError"), "{}", diff.text);
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn hostile_sizes_are_poisoned_not_run() {
    if no_cpython() {
        return;
    }
    let d = diff();
    for (name, p) in [
        ("LONG_BINPUT 0x7fffffff", &b"N\x72\xff\xff\xff\x7f."[..]),
        ("PUT 2^31", b"Np2147483647\n."),
        ("BINBYTES 4 GiB", b"B\xff\xff\xff\xffxx"),
        ("BINBYTES8 1 TiB", b"\x8e\x00\x00\x00\x00\x00\x01\x00\x00x"),
        ("BYTEARRAY8 16 GiB", b"\x96\x00\x00\x00\x00\x04\x00\x00\x00x"),
    ] {
        let c = d.check(p, None);
        assert!(matches!(c.codec_vs_c, Some(Verdict::Poisoned(_))), "{name}: {c:?}");
        assert!(!c.codec_disagrees());
        // The engine alone guards itself too.
        let e = CPython::c().unwrap();
        assert!(matches!(e.decode(p, None), Outcome::Poisoned(_)), "{name}");
    }
}

#[test]
fn exponential_key_is_poisoned() {
    if no_cpython() {
        return;
    }
    let mut p = b"\x80\x04})".to_vec();
    for _ in 0..60 {
        p.extend_from_slice(b"2\x86");
    }
    p.extend_from_slice(b"Ns.");
    let c = diff().check(&p, None);
    match &c.codec_vs_c {
        Some(Verdict::Poisoned(x)) => assert_eq!(x.kind, PoisonKind::Time),
        v => panic!("{v:?}"),
    }
}

#[test]
fn memory_and_recursion_errors_poison() {
    if no_cpython() {
        return;
    }
    // A memo index whose array size overflows: CPython raises MemoryError at once.
    let p = b"\x80\x04N\x72\xff\xff\xff\xff.";
    let c = diff().check(p, None);
    assert!(matches!(c.codec_vs_c, Some(Verdict::Poisoned(_))), "{c:?}");
}

#[test]
fn buffers_are_passed() {
    if no_cpython() {
        return;
    }
    let d = diff();
    let p = b"\x80\x05\x97\x98.";
    let none = d.check(p, None);
    assert_eq!(none.codec_vs_c, Some(Verdict::SameError("UnpicklingError".into())), "{none:?}");
    let one = d.check(p, Some(1));
    assert_eq!(one.codec_vs_c, Some(Verdict::Same), "{one:?}");
    assert!(matches!(one.c, Some(Outcome::Ok(ref j)) if j["t"] == "buffer" && j["readonly"] == true), "{one:?}");
}

#[test]
fn genops_pair() {
    if no_cpython() {
        return;
    }
    let d = diff();
    let (_, _, v) = d.check_genops(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86.").unwrap();
    assert_eq!(v, Verdict::Same);
    // genops rejects I0x10 (gh-126992) like brine's dis.
    let (_, theirs, v) = d.check_genops(b"I0x10\n.").unwrap();
    assert_eq!(v, Verdict::Same, "{theirs:?}");
}

#[test]
fn timeouts_poison() {
    if no_cpython() {
        return;
    }
    // 60,000 APPENDs: ~180 KB, tens of milliseconds in the pure-Python unpickler.
    let mut p = b"\x80\x02]".to_vec();
    for i in 0..60_000u32 {
        p.extend_from_slice(&[b'K', (i % 256) as u8, b'a']);
    }
    p.push(b'.');
    let mut e = CPython::python().unwrap();
    e.timeout = Some(std::time::Duration::from_micros(500));
    match e.decode(&p, None) {
        Outcome::Poisoned(x) => assert_eq!(x.kind, PoisonKind::Time, "{x}"),
        o => panic!("{:?}", o.poison()),
    }
    // Without the limit it loads.
    e.timeout = None;
    assert!(matches!(e.decode(&p, None), Outcome::Ok(_)));
}

#[test]
fn deep_nesting_survives() {
    if no_cpython() {
        return;
    }
    brine_codec::with_big_stack(|| {
        let d = diff();
        // 50,000 nested lists: [[[...]]] (serde_json, Python's json and the comparison
        // would all recurse that deep on a small stack).
        let n = 50_000;
        let mut p = b"\x80\x02".to_vec();
        p.extend(std::iter::repeat_n(b']', n));
        p.extend(std::iter::repeat_n(b'a', n - 1));
        p.push(b'.');
        let c = d.check(&p, None);
        assert!(!c.codec_disagrees(), "{:?}", c.codec_vs_c.map(|v| v.summary()));
        assert!(matches!(c.codec_vs_c, Some(Verdict::Same) | Some(Verdict::Poisoned(_))));
        // 50,000 nested tuples used as a dict key: hashing recurses in C.
        let mut p = b"\x80\x02}".to_vec();
        p.push(b')');
        p.extend(std::iter::repeat_n(b'\x85', n));
        p.extend_from_slice(b"Ns.");
        let c = d.check(&p, None);
        assert!(!c.codec_disagrees(), "{:?}", c.codec_vs_c.map(|v| v.summary()));
    })
}
