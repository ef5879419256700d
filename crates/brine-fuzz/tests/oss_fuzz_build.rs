//! scripts/oss-fuzz-build.sh produces everything it claims for every fuzz target.
//!
//! `dry_run_produces_every_target` runs on every `cargo test` (a few seconds: no compiling;
//! it uses this crate's own `brine-fuzz` helper). `full_build_produces_runnable_targets` is
//! `#[ignore]`d because it needs cargo-fuzz and builds every target (minutes):
//! `cargo test -p brine-fuzz --test oss_fuzz_build -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn build(out: &Path, dry_run: bool) -> String {
    let _ = std::fs::remove_dir_all(out);
    let mut c = Command::new("bash");
    c.arg(root().join("scripts/oss-fuzz-build.sh"));
    if dry_run {
        c.arg("--dry-run");
    }
    let o = c
        .env("OUT", out)
        .env("SRC", root().parent().unwrap())
        .env("BRINE_FUZZ_HELPER", env!("CARGO_BIN_EXE_brine-fuzz"))
        .output()
        .expect("bash runs");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "oss-fuzz-build.sh failed:\n{text}\n{}", String::from_utf8_lossy(&o.stderr));
    text
}

fn check_outputs(out: &Path, stdout: &str) {
    let claimed: Vec<&str> = stdout.lines().find_map(|l| l.strip_prefix("targets: ")).expect("prints its targets").split_whitespace().collect();
    let mut names: Vec<&str> = brine_fuzz::TARGETS.iter().map(|t| t.name).collect();
    names.sort();
    assert_eq!(claimed, names, "the script builds exactly brine_fuzz::TARGETS");
    for t in &claimed {
        let zip = out.join(format!("{t}_seed_corpus.zip"));
        assert!(std::fs::metadata(&zip).is_ok_and(|m| m.len() > 1000), "{} exists", zip.display());
        let opts = std::fs::read_to_string(out.join(format!("{t}.options"))).unwrap();
        assert!(opts.contains("[libfuzzer]"));
        let embeds = brine_fuzz::target(t).unwrap().needs_cpython;
        assert_eq!(opts.contains("detect_leaks = 0"), embeds, "{t}.options");
    }
    assert!(out.join("lib/libpython3.11.so.1.0").is_file());
    for f in ["os.py", "encodings/__init__.py", "pickle.py", "pickletools.py", "json/__init__.py", "copyreg.py"] {
        assert!(out.join("python/lib/python3.11").join(f).is_file(), "{f} carried");
    }
}

#[test]
fn dry_run_produces_every_target() {
    let out = root().join("target/oss-fuzz/dry-run-test");
    let stdout = build(&out, true);
    check_outputs(&out, &stdout);
}

#[test]
#[ignore = "needs cargo-fuzz (scripts/install-fuzz-tools.sh) and builds every target"]
fn full_build_produces_runnable_targets() {
    let out = root().join("target/oss-fuzz/out");
    let stdout = build(&out, false);
    check_outputs(&out, &stdout);
    for t in brine_fuzz::TARGETS {
        let bin = out.join(t.name);
        assert!(bin.is_file(), "{} built", bin.display());
        if t.needs_cpython {
            let ldd = Command::new("ldd").arg(&bin).output().unwrap();
            let ldd = String::from_utf8_lossy(&ldd.stdout);
            assert!(ldd.lines().any(|l| l.contains("libpython3.11") && l.contains(out.join("lib").to_str().unwrap())), "{} loads $OUT/lib's libpython:\n{ldd}", t.name);
        }
        // A short run from its seeds, in an environment as bare as a fuzzing machine's.
        let seeds = out.join(format!("{}_seeds", t.name));
        let _ = std::fs::remove_dir_all(&seeds);
        std::fs::create_dir_all(&seeds).unwrap();
        let unzip = Command::new("/usr/bin/python3.11")
            .args(["-m", "zipfile", "-e"])
            .arg(out.join(format!("{}_seed_corpus.zip", t.name)))
            .arg(&seeds)
            .status()
            .unwrap();
        assert!(unzip.success());
        let run = Command::new(&bin)
            .env_clear()
            .env("ASAN_OPTIONS", "detect_leaks=0")
            .args(["-runs=200", "-max_len=8192"])
            .arg(&seeds)
            .output()
            .unwrap();
        assert!(run.status.success(), "{} ran its seeds:\n{}", t.name, String::from_utf8_lossy(&run.stderr));
    }
}
