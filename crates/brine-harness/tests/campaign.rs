//! A campaign against an adapter with a known bug must find that bug, minimized, confirmed
//! by live CPython, deduplicated, and reproducible from its files alone.
//!
//! The adapter under test (written here, in Python) accepts every pickle (printing no
//! value) except those holding the byte 0x95 (FRAME's opcode), which it rejects with
//! `NoFrames`: the way torch's weights_only unpickler treats every protocol 4 pickle. So
//! the campaign must report `should-accept` findings whose reproducers hold 0x95, and
//! `should-reject` ones for pickles CPython rejects.

use brine_harness::campaign::{self, CampaignOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

const ADAPTER: &str = r#"import json, os, sys

def answer(data):
    if b"\x95" in data:
        return 1, {"t": "error", "type": "NoFrames", "message": "frames are not supported"}
    return 0, None

if os.environ.get("BRINE_PERSISTENT") == "1":
    for line in sys.stdin:
        req = json.loads(line)
        code, node = answer(bytes.fromhex(req["pickle"]))
        out = {"case": req["case"], "exit": code}
        if node:
            out["node"] = node
        print(json.dumps(out), flush=True)
else:
    code, node = answer(sys.stdin.buffer.read())
    if node:
        print(json.dumps(node))
    sys.exit(code)
"#;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[test]
fn finds_minimizes_and_confirms_a_planted_bug() {
    if brine_oracle::CPython::c().is_none() {
        eprintln!("skipped: CPython cannot be embedded on this machine (see README set-up)");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("brine-campaign-test-{}", std::process::id()));
    let dir = tmp.join("adapters/noframes");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("adapter.py"), ADAPTER).unwrap();
    std::fs::write(dir.join("run"), format!("#!/bin/sh\nexec /usr/bin/python3.11 -I {}\n", dir.join("adapter.py").display())).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(dir.join("run")).status().unwrap();
    std::fs::write(
        dir.join("adapter.json"),
        r#"{"name": "noframes", "version": "0", "values": "none", "lenient": [], "persistent": true}"#,
    )
    .unwrap();
    let out = tmp.join("out");
    let o = CampaignOptions {
        adapter: "noframes".into(),
        time: Duration::from_secs(300),
        max_cases: Some(1536),
        seed: 7,
        per_kind: 4,
        out: Some(out.clone()),
        adapters_dir: Some(tmp.join("adapters")),
        progress: false,
        ..Default::default()
    };
    let r = brine_codec::with_big_stack(move || campaign::run(&root(), &o)).unwrap();
    assert!(r.brine_bugs.is_empty(), "codec vs CPython: {:?}", r.brine_bugs);
    assert_eq!(r.cases, 1536);
    let accept: Vec<_> = r.findings.iter().filter(|f| f.discrepancy.status == "should-accept").collect();
    assert!(!accept.is_empty(), "no should-accept finding: {:?}", r.kinds);
    for f in &accept {
        assert!(f.pickle.contains(&0x95), "{}: {:02x?}", f.signature, f.pickle);
        assert_eq!(f.discrepancy.class, "NoFrames");
        assert!(f.pickle.len() <= 24, "not minimized: {} bytes {:02x?}", f.pickle.len(), f.pickle);
        assert_ne!(f.cpython["t"], "error", "CPython must accept: {}", f.cpython);
        assert!(f.reproduced_alone, "{}", f.signature);
    }
    assert!(accept.iter().any(|f| f.signature.contains("FRAME")), "{:?}", accept.iter().map(|f| &f.signature).collect::<Vec<_>>());
    assert!(r.findings.iter().any(|f| f.discrepancy.status == "should-reject"));
    // Deduplicated: one finding per signature; each written with its JSON.
    let mut sigs: Vec<_> = r.findings.iter().map(|f| &f.signature).collect();
    sigs.sort();
    sigs.dedup();
    assert_eq!(sigs.len(), r.findings.len());
    for f in &r.findings {
        let pkl = std::fs::read(out.join("findings").join(format!("{}.pkl", f.key))).unwrap();
        assert_eq!(pkl, f.pickle);
        let j: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("findings").join(format!("{}.json", f.key))).unwrap()).unwrap();
        assert_eq!(j["signature"], f.signature.as_str());
    }
    assert!(out.join("report.md").is_file() && out.join("report.json").is_file());
    let _ = std::fs::remove_dir_all(&tmp);
}
