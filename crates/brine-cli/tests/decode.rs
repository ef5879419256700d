//! `brine decode` reads big files through a memory map and `decode_shared` (long strs and
//! bytes stay windows into the map): the documents must be the ones a plain read and an
//! owned decode give, and a pickle's bytes must come back whole.

use std::process::Command;

fn brine(args: &[&str], no_mmap: bool) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_brine"));
    cmd.args(args);
    if no_mmap {
        cmd.env("BRINE_NO_MMAP", "1");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Protocol 5: a list of a 300,000-byte BINBYTES, a 140,000-byte BINUNICODE and a
/// short one, then a truncated copy of the same (an error with an offset).
fn pickles(dir: &std::path::Path) -> (String, String) {
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let text = "é".repeat(70_000);
    let mut p = vec![0x80, 5, b']', b'('];
    p.push(b'B');
    p.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    p.extend_from_slice(&payload);
    p.push(b'X');
    p.extend_from_slice(&(text.len() as u32).to_le_bytes());
    p.extend_from_slice(text.as_bytes());
    p.extend_from_slice(b"\x8c\x02ab");
    p.extend_from_slice(b"e.");
    let good = dir.join("good.pkl");
    std::fs::write(&good, &p).unwrap();
    let bad = dir.join("bad.pkl");
    std::fs::write(&bad, &p[..p.len() - 100_000]).unwrap();
    (good.to_str().unwrap().to_string(), bad.to_str().unwrap().to_string())
}

#[test]
fn mapped_shared_decode_gives_the_owned_documents() {
    let dir = std::env::temp_dir().join(format!("brine-cli-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (good, bad) = pickles(&dir);
    let mapped = brine(&["decode", &good, &bad], false);
    let read = brine(&["decode", &good, &bad], true);
    assert_eq!(mapped, read);
    let lines: Vec<serde_json::Value> = mapped.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // The owned, in-process decode of the same bytes.
    for (line, path) in lines.iter().zip([&good, &bad]) {
        let data = std::fs::read(path).unwrap();
        let want: serde_json::Value =
            serde_json::from_str(&brine_codec::json::result_to_json(&brine_codec::decode(&data))).unwrap();
        assert_eq!(line["result"], want, "{path}");
    }
    assert!(lines[1]["result"].to_string().contains("truncated"), "{}", lines[1]);
    let quiet = brine(&["decode", "--quiet", &good], false);
    assert!(quiet.contains(": ok, 4 objects from "), "{quiet}");
    std::fs::remove_dir_all(&dir).unwrap();
}
