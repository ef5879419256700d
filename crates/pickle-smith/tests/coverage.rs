//! The generator reaches every opcode in every protocol where the opcode exists (304
//! (opcode, protocol) pairs), counted by what the reference decoder actually executed.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use brine_codec::decode::decode_counted;
use brine_codec::opcodes::HIGHEST_PROTOCOL;
use brine_codec::OPCODES;
use common::Rng;
use pickle_smith::{Config, GeneratedPickle};

/// Pickles per protocol: two thirds with the default config, one third swarm.
const PER_PROTOCOL: usize = 1_000;

#[test]
fn every_opcode_is_generated_in_every_protocol() {
    let mut rng = Rng(0x5eed_c0de);
    // hits[opcode index][protocol]: pickles in which the decoder executed the opcode.
    let mut hits = vec![[0u32; 6]; OPCODES.len()];
    for i in 0..PER_PROTOCOL * 6 {
        let protocol = (i % 6) as u8;
        let base = if (i / 6) % 3 == 2 {
            let seed = rng.bytes(64, 256);
            Config::arbitrary(&mut Unstructured::new(&seed)).unwrap()
        } else {
            Config::default()
        };
        let config = Config {
            min_protocol: protocol,
            max_protocol: protocol,
            ..base
        };
        let data = rng.bytes(0, 8192);
        let p = GeneratedPickle::new(&config, &mut Unstructured::new(&data)).unwrap();
        assert_eq!(p.protocol, protocol);
        let (r, counts) = decode_counted(&p.bytes, &p.decode_options());
        assert!(r.is_ok(), "generated pickle rejected: {:?}", r.err());
        for (k, info) in OPCODES.iter().enumerate() {
            if counts[info.code.0 as usize] > 0 {
                assert!(
                    info.proto <= protocol,
                    "{} in a protocol {protocol} pickle",
                    info.name
                );
                hits[k][protocol as usize] += 1;
            }
        }
    }
    let mut missing = Vec::new();
    let mut pairs = 0;
    println!(
        "{:<16} proto  pickles using it, protocols 0..5 ({PER_PROTOCOL} pickles each)",
        "opcode"
    );
    for (k, info) in OPCODES.iter().enumerate() {
        let row: Vec<String> = (0..=HIGHEST_PROTOCOL)
            .map(|p| {
                if p < info.proto {
                    "-".into()
                } else {
                    hits[k][p as usize].to_string()
                }
            })
            .collect();
        println!("{:<16} {:>5}  {}", info.name, info.proto, row.join(" "));
        for p in info.proto..=HIGHEST_PROTOCOL {
            pairs += 1;
            if hits[k][p as usize] == 0 {
                missing.push(format!("{} in protocol {p}", info.name));
            }
        }
    }
    assert_eq!(pairs, 304); // pickletools' count (POP_MARK from protocol 1)
    assert!(missing.is_empty(), "never generated: {missing:?}");
}
