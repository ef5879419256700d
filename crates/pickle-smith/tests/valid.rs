//! Valid by construction: every pickle generated without an invalidity knob decodes, with
//! the default config and with swarm configs; with the knobs on, nothing panics and every
//! pickle marked invalid is rejected.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use brine_codec::{decode_with, dis::genops};
use brine_codec::hex;
use common::Rng;
use pickle_smith::{Config, GeneratedPickle};

const COUNT: usize = 20_000;

/// Half default configs, half swarm configs, all from one seed.
fn generate(rng: &mut Rng, i: usize, base: impl Fn(Config) -> Config) -> (Config, GeneratedPickle) {
    let config = if i % 2 == 0 {
        Config::default()
    } else {
        let seed = rng.bytes(64, 256);
        Config::arbitrary(&mut Unstructured::new(&seed)).unwrap()
    };
    let config = base(config);
    let data = rng.bytes(0, 8192);
    let p = GeneratedPickle::new(&config, &mut Unstructured::new(&data)).unwrap();
    (config, p)
}

#[test]
fn every_generated_pickle_decodes() {
    let mut rng = Rng(0x5eed_0001);
    let mut failures = Vec::new();
    let (mut total_bytes, mut per_proto) = (0usize, [0usize; 6]);
    for i in 0..COUNT {
        let (config, p) = generate(&mut rng, i, |c| c);
        assert!(p.expect_valid);
        total_bytes += p.bytes.len();
        per_proto[p.protocol as usize] += 1;
        if let Err(e) = decode_with(&p.bytes, &p.decode_options()) {
            failures.push(format!(
                "#{i} protocol {} {e}\n  {}\n  config {config:?}",
                p.protocol,
                hex::encode(&p.bytes)
            ));
        }
        // genops reads every valid pickle to its STOP, or stops on a text form that
        // Python's int()/float() reads differently from the unpickler; never panics.
        let _ = genops(&p.bytes);
    }
    println!(
        "{COUNT} generated, {} valid; {total_bytes} bytes; per protocol {per_proto:?}",
        COUNT - failures.len()
    );
    for f in failures.iter().take(40) {
        println!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {COUNT} generated pickles were rejected",
        failures.len()
    );
}

#[test]
fn invalidity_knobs_never_panic_and_are_rejected() {
    let mut rng = Rng(0x5eed_0002);
    let all_on = Config::with_every_invalidity;
    let (mut invalid, mut accepted) = (0, Vec::new());
    let mut valid_rejected = Vec::new();
    for i in 0..COUNT {
        let (_, p) = generate(&mut rng, i, all_on);
        let r = decode_with(&p.bytes, &p.decode_options());
        let _ = genops(&p.bytes);
        if p.expect_valid {
            if let Err(e) = r {
                valid_rejected.push(format!("#{i} {e}: {}", hex::encode(&p.bytes)));
            }
        } else {
            invalid += 1;
            if r.is_ok() {
                accepted.push(format!("#{i}: {}", hex::encode(&p.bytes)));
            }
        }
    }
    println!(
        "{COUNT} generated with every knob on: {invalid} marked invalid, {} of them accepted",
        accepted.len()
    );
    for f in accepted.iter().chain(&valid_rejected).take(40) {
        println!("{f}");
    }
    assert!(invalid > COUNT / 3);
    assert!(accepted.is_empty() && valid_rejected.is_empty());
}
