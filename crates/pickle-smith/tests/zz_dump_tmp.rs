mod common;
use arbitrary::{Arbitrary, Unstructured};
use common::{hex, Rng};
use pickle_smith::{Config, GeneratedPickle};
use std::io::Write;

#[test]
#[ignore]
fn dump() {
    let path = std::env::var("DUMP").unwrap();
    let n: usize = std::env::var("N").map(|s| s.parse().unwrap()).unwrap_or(20000);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut rng = Rng(std::env::var("SEED").map(|s| s.parse().unwrap()).unwrap_or(0x5eed_0777));
    for i in 0..n {
        let mut config = if i % 2 == 0 { Config::default() } else {
            let seed = rng.bytes(64, 256);
            Config::arbitrary(&mut Unstructured::new(&seed)).unwrap()
        };
        if i % 4 == 3 {
            config.invalid_truncation = true; config.invalid_stack_shape = true; config.invalid_missing_mark = true;
            config.invalid_memo_index = true; config.invalid_length = true; config.invalid_text = true; config.invalid_opcode = true;
        }
        let data = rng.bytes(0, 8192);
        let p = GeneratedPickle::new(&config, &mut Unstructured::new(&data)).unwrap();
        let r = brine_codec::decode_with(&p.bytes, &p.decode_options());
        let verdict = match &r { Ok(_) => "ok".to_string(), Err(e) => e.code.py_exception().to_string() };
        let ext: Vec<String> = p.extensions.iter().map(|(c, (m, n))| format!("{c}:{m}:{n}")).collect();
        writeln!(f, "{}\t{}\t{}\t{}\t{}\t{}", i, p.expect_valid, verdict, p.buffers.map_or(-1, |b| b as i64), ext.join(","), hex(&p.bytes)).unwrap();
    }
}

#[test]
#[ignore]
fn one() {
    let h = std::fs::read_to_string(std::env::var("HEX").unwrap()).unwrap();
    let h = h.trim();
    let b: Vec<u8> = (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap()).collect();
    let mut o = brine_codec::DecodeOptions::default();
    o.buffers = std::env::var("BUFS").ok().map(|s| s.parse().unwrap());
    if let Ok(e) = std::env::var("EXT") {
        for x in e.split(',').filter(|x| !x.is_empty()) {
            let v: Vec<&str> = x.split(':').collect();
            o.extensions.insert(v[0].parse().unwrap(), (v[1].to_string(), v[2].to_string()));
        }
    }
    println!("len {} result {:?}", b.len(), brine_codec::decode_with(&b, &o).map(|_| ()));
    println!("tail {:02x?}", &b[b.len().saturating_sub(20)..]);
}

#[test]
#[ignore]
fn dump_values() {
    let path = std::env::var("DUMP").unwrap();
    let n: usize = std::env::var("N").map(|s| s.parse().unwrap()).unwrap_or(20000);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut rng = Rng(99);
    for i in 0..n {
        let config = if i % 2 == 0 { pickle_smith::ValueConfig::default() } else {
            let seed = rng.bytes(16, 64);
            pickle_smith::ValueConfig::arbitrary(&mut Unstructured::new(&seed)).unwrap()
        };
        let data = rng.bytes(0, 4096);
        let v = pickle_smith::GeneratedValue::new(&config, &mut Unstructured::new(&data)).unwrap();
        writeln!(f, "{}", v.document).unwrap();
    }
}
