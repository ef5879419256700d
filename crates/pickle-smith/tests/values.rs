//! The value generator's documents follow the pickle JSON contract: well-formed nodes,
//! ids numbered in order of first occurrence and only where referred to, refs only to
//! earlier nodes, hashable keys and set items, bounded depth; and brine's own comparator
//! finds each equal to itself.

mod common;

use arbitrary::{Arbitrary, Unstructured};
use brine_codec::{hex, json::compare};
use common::Rng;
use pickle_smith::{GeneratedValue, ValueConfig};
use serde_json::Value as J;
use std::collections::HashMap;

const COUNT: usize = 5_000;

#[derive(Default, Debug)]
struct Stats {
    refs: usize,
    cycles: usize,
    surrogate_strs: usize,
    nans: usize,
    big_ints: usize,
    nodes: usize,
}

struct Checker {
    /// id -> (tag, hashable, finished)
    defs: HashMap<u64, (String, bool, bool)>,
    next_id: u64,
    stats: Stats,
}

impl Checker {
    /// Checks `v` and returns whether it is hashable. `hashable` says the place needs it.
    fn node(&mut self, v: &J, hashable: bool, depth: usize, max_depth: usize) -> bool {
        self.stats.nodes += 1;
        let m = v.as_object().expect("a node is an object");
        let t = m["t"].as_str().expect("a tag");
        if t == "ref" {
            let id = m["id"].as_u64().unwrap();
            let (_, h, done) = self.defs.get(&id).cloned().expect("ref to an earlier id");
            self.stats.refs += 1;
            if !done {
                self.stats.cycles += 1;
                assert!(!hashable, "cycle in a hashable place");
            }
            assert!(
                !hashable || h,
                "ref to an unhashable node in a hashable place"
            );
            return h;
        }
        if let Some(id) = m.get("id") {
            let id = id.as_u64().unwrap();
            assert_eq!(
                id, self.next_id,
                "ids numbered in order of first occurrence"
            );
            self.next_id += 1;
            self.defs.insert(id, (t.to_string(), false, false));
        }
        assert!(depth <= max_depth + 1, "too deep");
        let items = |m: &serde_json::Map<String, J>| m["items"].as_array().expect("items").clone();
        let h = match t {
            "none" | "bool" | "float" => true,
            "int" => {
                let s = m["v"].as_str().unwrap();
                assert!(s
                    .trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit()));
                if s.len() > 19 {
                    self.stats.big_ints += 1;
                }
                true
            }
            "str" => {
                if m.contains_key("hex") {
                    self.stats.surrogate_strs += 1;
                    assert!(std::str::from_utf8(&hex::decode(m["hex"].as_str().unwrap()).expect("a str's \"hex\" is hex")).is_err());
                }
                true
            }
            "bytes" => true,
            "bytearray" => {
                assert!(!hashable);
                false
            }
            "tuple" => {
                let mut all = true;
                for it in items(m) {
                    all &= self.node(&it, hashable, depth + 1, max_depth);
                }
                all
            }
            "frozenset" | "set" => {
                assert!(t == "frozenset" || !hashable);
                for it in items(m) {
                    assert!(self.node(&it, true, depth + 1, max_depth));
                }
                t == "frozenset"
            }
            "list" | "dict" => {
                assert!(!hashable);
                for it in items(m) {
                    if t == "dict" {
                        let kv = it.as_array().expect("a [key, value] pair");
                        assert_eq!(kv.len(), 2);
                        assert!(self.node(&kv[0], true, depth + 1, max_depth));
                        self.node(&kv[1], false, depth + 1, max_depth);
                    } else {
                        self.node(&it, false, depth + 1, max_depth);
                    }
                }
                false
            }
            other => panic!("unexpected tag {other}"),
        };
        if t == "float" && m["v"] == "nan" {
            self.stats.nans += 1;
        }
        if let Some(id) = m.get("id").and_then(J::as_u64) {
            self.defs.insert(id, (t.to_string(), h, true));
        }
        h
    }
}


#[test]
fn generated_values_follow_the_contract() {
    let mut rng = Rng(0x5eed_0003);
    let mut stats = Stats::default();
    for i in 0..COUNT {
        let config = if i % 2 == 0 {
            ValueConfig::default()
        } else {
            let seed = rng.bytes(16, 64);
            ValueConfig::arbitrary(&mut Unstructured::new(&seed)).unwrap()
        };
        let data = rng.bytes(0, 4096);
        let v = GeneratedValue::new(&config, &mut Unstructured::new(&data)).unwrap();
        let mut c = Checker {
            defs: HashMap::new(),
            next_id: 1,
            stats: Stats::default(),
        };
        c.node(&v.document, false, 0, config.max_depth);
        // Every id is referred to.
        let text = v.document.to_string();
        for id in c.defs.keys() {
            assert!(
                text.contains(&format!(r#"{{"t":"ref","id":{id}}}"#)),
                "id {id} never referred to"
            );
        }
        assert_eq!(compare(&v.document, &v.document.clone()), Ok(()));
        stats.refs += c.stats.refs;
        stats.cycles += c.stats.cycles;
        stats.surrogate_strs += c.stats.surrogate_strs;
        stats.nans += c.stats.nans;
        stats.big_ints += c.stats.big_ints;
        stats.nodes += c.stats.nodes;
    }
    println!("{COUNT} documents: {stats:?}");
    assert!(
        stats.refs > 0
            && stats.cycles > 0
            && stats.surrogate_strs > 0
            && stats.nans > 0
            && stats.big_ints > 0
    );
}
