//! The entry points: Arbitrary impls, exhausted input, configs that leave little to use,
//! and the proptest strategies.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use brine_codec::{decode_with, Opcode};
use common::Rng;
use pickle_smith::{Config, Family, GeneratedPickle, GeneratedValue, OpcodeSet, ValueConfig};

#[test]
fn exhausted_input_gives_the_smallest_pickle() {
    let p = GeneratedPickle::new(&Config::default(), &mut Unstructured::new(&[])).unwrap();
    assert_eq!(p.bytes, b"N.");
    assert!(p.expect_valid && p.protocol == 0 && p.buffers.is_none() && p.extensions.is_empty());
    let v = GeneratedValue::new(&ValueConfig::default(), &mut Unstructured::new(&[])).unwrap();
    assert_eq!(v.document, serde_json::json!({"t": "none"}));
}

#[test]
fn arbitrary_impls_generate_valid_output() {
    let mut rng = Rng(7);
    for _ in 0..500 {
        let data = rng.bytes(0, 4096);
        let mut u = Unstructured::new(&data);
        let p = GeneratedPickle::arbitrary(&mut u).unwrap();
        assert!(decode_with(&p.bytes, &p.decode_options()).is_ok());
        let c = Config::arbitrary(&mut u).unwrap();
        assert!(c.min_protocol <= c.max_protocol && c.max_protocol <= 5);
        assert!(!c.invalid_truncation && !c.invalid_opcode);
        let _ = GeneratedValue::arbitrary(&mut u).unwrap();
    }
}

/// With no opcode enabled but STOP, the generator still ends valid (NONE, STOP).
#[test]
fn a_config_with_almost_nothing_enabled_stays_valid() {
    let mut rng = Rng(8);
    let only = |ops: &[Opcode]| {
        let mut s = OpcodeSet::empty();
        ops.iter().for_each(|&o| s.insert(o));
        s
    };
    let configs = [
        Config {
            opcodes: OpcodeSet::empty(),
            ..Config::default()
        },
        Config {
            opcodes: only(&[Opcode::MARK]),
            ..Config::default()
        },
        Config {
            opcodes: only(&[Opcode::MARK, Opcode::POP_MARK, Opcode::BININT1]),
            ..Config::default()
        },
        Config {
            opcodes: OpcodeSet::family(Family::Memo).with(only(&[Opcode::NONE])),
            ..Config::default()
        },
        Config {
            opcodes: OpcodeSet::all().without(OpcodeSet::family(Family::Scalars)),
            ..Config::default()
        },
        Config {
            max_depth: 0,
            max_memo: 0,
            max_str_len: 0,
            max_bytes_len: 0,
            max_int_bytes: 0,
            ..Config::default()
        },
    ];
    for config in &configs {
        for _ in 0..200 {
            let data = rng.bytes(0, 2048);
            let p = GeneratedPickle::new(config, &mut Unstructured::new(&data)).unwrap();
            let r = decode_with(&p.bytes, &p.decode_options());
            assert!(r.is_ok(), "{config:?}\n{:02x?}: {r:?}", p.bytes);
        }
    }
}

#[test]
fn families_partition_the_opcodes() {
    let mut union = OpcodeSet::empty();
    for f in Family::ALL {
        let s = OpcodeSet::family(f);
        assert!(s.iter().next().is_some(), "{f:?} is empty");
        assert!(union.without(s) == union, "{f:?} overlaps another family");
        union = union.with(s);
    }
    assert_eq!(union, OpcodeSet::all());
    assert_eq!(OpcodeSet::all().iter().count(), 68);
}

#[cfg(feature = "proptest")]
mod strategies {
    use brine_codec::json::compare;
    use pickle_smith::strategies::{any_pickle, any_value};
    use pickle_smith::{Config, ValueConfig};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_pickle_decodes(p in any_pickle(Config::default())) {
            prop_assert!(p.expect_valid);
            prop_assert!(brine_codec::decode_with(&p.bytes, &p.decode_options()).is_ok());
        }

        #[test]
        fn any_value_equals_itself(v in any_value(ValueConfig::default())) {
            prop_assert_eq!(compare(&v.document, &v.document.clone()), Ok(()));
        }
    }
}
