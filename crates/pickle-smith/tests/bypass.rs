//! The hidden-global generator without CPython: every technique is generated (as the one a
//! file is for and combined with others), brine's codec decodes each file with the outcome
//! CPython's `pickle.loads` has (tests/bypass_cpython.rs checks that one against CPython),
//! stops at the same STOP, resolves the target there, and sees only opcodes of the declared
//! protocol.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use brine_codec::decode::decode_counted;
use brine_codec::{decode_with, Decoded, Obj, OPCODES};
use brine_codec::hex;
use common::Rng;
use pickle_smith::{BypassConfig, HiddenGlobal, Technique};
use std::collections::BTreeMap;

const COUNT: usize = 4_000;

/// Half default configs, half swarm configs, all from one seed.
pub fn generate(rng: &mut Rng, i: usize) -> HiddenGlobal {
    let config = if i % 2 == 0 {
        BypassConfig::default()
    } else {
        let seed = rng.bytes(32, 128);
        BypassConfig::arbitrary(&mut Unstructured::new(&seed)).unwrap()
    };
    let data = rng.bytes(0, 2048);
    HiddenGlobal::new(&config, &mut Unstructured::new(&data)).expect("swarm configs are feasible")
}

/// The (module, name) the default find_class looks up: fix_imports maps the Python 2
/// spellings of the default config below protocol 3.
fn fixed(target: &(String, String), protocol: u8) -> (String, String) {
    let module = match target.0.as_str() {
        "__builtin__" if protocol < 3 => "builtins",
        "commands" if protocol < 3 => "subprocess",
        m => m,
    };
    (module.to_string(), target.1.clone())
}

fn has_global(d: &Decoded, want: &(String, String)) -> bool {
    d.heap.objs.iter().any(|o| match o {
        Obj::Global(g) => {
            g.module.as_bytes() == want.0.as_bytes() && g.name.as_bytes() == want.1.as_bytes()
        }
        _ => false,
    })
}

#[test]
fn every_technique_is_generated() {
    let mut rng = Rng(0x5eed_b1a5);
    let mut primary: BTreeMap<Technique, usize> = BTreeMap::new();
    let mut combined: BTreeMap<Technique, usize> = BTreeMap::new();
    let mut several = 0;
    for i in 0..COUNT {
        let h = generate(&mut rng, i);
        assert_eq!(h.techniques[0], h.technique);
        *primary.entry(h.technique).or_default() += 1;
        for &t in &h.techniques[1..] {
            *combined.entry(t).or_default() += 1;
        }
        several += (h.techniques.len() > 2) as usize;
    }
    println!("{:<20} {:>8} {:>9}", "technique", "primary", "combined");
    for t in Technique::ALL {
        println!(
            "{:<20} {:>8} {:>9}",
            t.name(),
            primary.get(&t).copied().unwrap_or(0),
            combined.get(&t).copied().unwrap_or(0)
        );
    }
    println!("{several} of {COUNT} files use three techniques or more");
    for t in Technique::ALL {
        assert!(
            primary.get(&t).is_some_and(|&n| n > 0),
            "{t} never generated"
        );
        let control = matches!(t, Technique::Global | Technique::StackGlobal);
        assert_eq!(combined.contains_key(&t), !control, "{t} combined?");
    }
    assert!(several > 0);
}

#[test]
fn brine_agrees_with_the_expected_outcome() {
    let mut rng = Rng(0x5eed_b1a6);
    let mut failures = Vec::new();
    for i in 0..COUNT {
        let h = generate(&mut rng, i);
        let opts = h.decode_options();
        let (r, counts) = decode_counted(&h.bytes, &opts);
        let mut fail = |why: String| {
            failures.push(format!(
                "#{i} {:?} {why}\n  {}",
                h.techniques,
                hex::encode(&h.bytes)
            ))
        };
        match (&r, h.loads_ok) {
            (Ok(d), true) => {
                if Some(d.end) != h.stop {
                    fail(format!("stops at {} not {:?}", d.end, h.stop));
                }
                if h.resolved_by_loads() && !has_global(d, &fixed(&h.target, h.protocol)) {
                    fail(format!("{:?} not resolved", h.target));
                }
            }
            (Err(e), false) => {
                // The payload's global was resolved before the break: the decoder got past it.
                if e.offset < 2 {
                    fail(format!("broke too early: {e}"));
                }
            }
            (r, _) => fail(format!(
                "expected loads_ok={}, brine {:?}",
                h.loads_ok,
                r.as_ref().err()
            )),
        }
        if h.resolved_by_loads() {
            for info in OPCODES {
                if counts[info.code.0 as usize] > 0 && info.proto > h.protocol {
                    fail(format!("{} in a protocol {} pickle", info.name, h.protocol));
                }
            }
        } else {
            // After STOP: a second pickle with the target, loaded from where the first ends.
            let stop = h.stop.expect("the first pickle loads");
            let tail = decode_with(&h.bytes[stop..], &opts);
            let payload_error = h.techniques.contains(&Technique::PayloadThenError);
            match tail {
                Ok(d) if !payload_error => {
                    if !has_global(&d, &fixed(&h.target, h.protocol)) {
                        fail(format!("tail: {:?} not resolved", h.target));
                    }
                }
                Err(_) if payload_error => {}
                r => fail(format!("tail: {:?}", r.err())),
            }
        }
    }
    for f in failures.iter().take(30) {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {COUNT} files disagree",
        failures.len()
    );
}

#[test]
fn exhausted_input_and_impossible_configs() {
    let h = HiddenGlobal::new(&BypassConfig::default(), &mut Unstructured::new(&[])).unwrap();
    assert!(decode_with(&h.bytes, &h.decode_options()).is_ok());
    assert_eq!(h.technique, Technique::Global);
    let only_frames_at_protocol_2 = BypassConfig {
        techniques: vec![Technique::FrameSplit],
        max_protocol: 2,
        ..BypassConfig::default()
    };
    let r = HiddenGlobal::new(&only_frames_at_protocol_2, &mut Unstructured::new(&[1; 64]));
    assert_eq!(r, Err(arbitrary::Error::IncorrectFormat));
    let mut rng = Rng(3);
    for _ in 0..200 {
        let data = rng.bytes(0, 1024);
        let h = HiddenGlobal::arbitrary(&mut Unstructured::new(&data)).unwrap();
        assert!(!h.bytes.is_empty());
    }
}
