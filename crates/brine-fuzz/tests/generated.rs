//! The generator-input targets (`roundtrip`, `differential`, `encode_exact`) over a few
//! hundred seeded inputs each (the seeds `cargo xtask fuzz` starts the fuzzer from).
//! Without CPython (BRINE_NO_CPYTHON=1) the CPython targets check nothing and pass.

use brine_fuzz::seeds::smith_seeds;

const N: usize = 300;

fn run_seeds(name: &str, check: fn(&[u8]) -> Result<(), brine_fuzz::Finding>) {
    let mut failures = vec![];
    for (i, s) in smith_seeds(name, N).iter().enumerate() {
        if let Err(f) = check(s) {
            failures.push(format!("seed {i}: {f}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} of {N} seeds break it; first:\n{}",
        failures.len(),
        failures.iter().take(3).map(|s| s.chars().take(3000).collect::<String>()).collect::<Vec<_>>().join("\n\n")
    );
}

#[test]
fn roundtrip_over_seeds() {
    run_seeds("roundtrip", brine_fuzz::roundtrip::check);
}

#[test]
fn differential_over_seeds() {
    run_seeds("differential", brine_fuzz::differential::check);
}

#[test]
fn encode_exact_over_seeds() {
    run_seeds("encode_exact", brine_fuzz::encode_exact::check);
}

#[test]
fn seeds_make_values_and_pickles() {
    // The seeds are worth starting from: most make a non-trivial document or pickle.
    let docs = smith_seeds("roundtrip", 50).iter().filter_map(|s| brine_fuzz::roundtrip::generate(s)).count();
    let pickles = smith_seeds("differential", 50).iter().filter_map(|s| brine_fuzz::differential::generate(s)).filter(|p| p.bytes.len() > 4).count();
    assert!(docs >= 40 && pickles >= 30, "{docs} documents, {pickles} pickles of 50");
}

#[test]
fn without_sets_keeps_small_sets_and_tags_frozensets() {
    let mut doc = serde_json::json!({"t":"list","items":[
        {"t":"set","items":[{"t":"int","v":"1"},{"t":"int","v":"2"}]},
        {"t":"set","items":[{"t":"int","v":"1"}]},
        {"t":"frozenset","items":[{"t":"int","v":"1"},{"t":"int","v":"2"}]}]});
    brine_fuzz::encode_exact::without_sets(&mut doc);
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items[0]["t"], "list");
    assert_eq!(items[1]["t"], "set");
    assert_eq!(items[2]["t"], "tuple");
    assert_eq!(items[2]["items"][0]["v"], brine_fuzz::encode_exact::FROZENSET_MARKER);
}

#[test]
fn findings_dedup_on_blurred_places() {
    let a = brine_fuzz::Finding::bug("differential", "values-differ", "/items/3/v: 1 vs 2", "");
    let b = brine_fuzz::Finding::bug("differential", "values-differ", "/items/17/v: 5 vs 6", "");
    assert_eq!(a.key(), b.key());
    assert_eq!(a.key(), "differential/codec-bug/values-differ//items/N/v");
}

#[test]
fn cpython_targets_really_compare() {
    // Without this, a missing interpreter would make the CPython targets pass vacuously.
    if std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty()) {
        return;
    }
    let checked = smith_seeds("differential", 50).iter().filter_map(|s| brine_fuzz::differential::observe(s)).count();
    assert!(checked >= 30, "only {checked} of 50 seeds reached CPython");
}
