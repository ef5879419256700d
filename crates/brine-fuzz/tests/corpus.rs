//! The pickle-input targets (`decode`, `dis`) over every committed corpus/*.pkl, exactly as
//! the fuzzer runs them.

use brine_fuzz::seeds::{corpus_dir, pickles};

fn run_over_corpus(name: &str, check: fn(&[u8]) -> Result<(), brine_fuzz::Finding>) {
    let files = pickles(&corpus_dir()).expect("corpus/ is readable");
    assert!(files.len() > 100, "corpus/ holds {} pickles", files.len());
    let mut failures = vec![];
    for f in &files {
        let data = std::fs::read(f).unwrap();
        if let Err(finding) = check(&data) {
            failures.push(format!("{}: {finding}", f.file_name().unwrap().to_string_lossy()));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {} corpus pickles break it; first:\n{}",
        failures.len(),
        files.len(),
        failures.iter().take(5).map(|s| s.chars().take(1500).collect::<String>()).collect::<Vec<_>>().join("\n\n")
    );
}

#[test]
fn decode_over_corpus() {
    run_over_corpus("decode", brine_fuzz::decode::check_all);
}

#[test]
fn dis_over_corpus() {
    run_over_corpus("dis", brine_fuzz::dis::check);
}

#[test]
fn every_target_is_a_fuzz_target() {
    let dir = corpus_dir().join("../fuzz/fuzz_targets");
    for t in brine_fuzz::TARGETS {
        let src = std::fs::read_to_string(dir.join(format!("{}.rs", t.name))).expect("fuzz/fuzz_targets/NAME.rs exists");
        assert!(src.contains(&format!("brine_fuzz::{}::run", t.name)), "{} calls brine_fuzz::{}::run", t.name, t.name);
        assert!(src.lines().count() <= 10, "{} stays a few lines", t.name);
    }
}
