//! `brine encode` end to end: the line mode and the file mode give the library's bytes.

use std::io::Write;
use std::process::{Command, Stdio};

fn docs() -> Vec<serde_json::Value> {
    vec![
        serde_json::json!({"t":"list","items":[{"t":"int","v":"1"},{"t":"str","v":"a"},{"t":"bytes","v":"00"}]}),
        serde_json::json!({"t":"set","items":[{"t":"int","v":"1"},{"t":"int","v":"2"}]}),
    ]
}

#[test]
fn line_mode_answers_each_line() {
    let mut input = String::new();
    for d in docs() {
        for proto in 0..=5 {
            input.push_str(&serde_json::json!({"value": d, "protocol": proto}).to_string());
            input.push('\n');
        }
    }
    input.push_str("{\"value\":{\"t\":\"none\"},\"protocol\":6}\nnot json\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_brine"))
        .arg("encode")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 14);
    let mut i = 0;
    for d in docs() {
        for proto in 0..=5 {
            let want = brine_codec::encode_document(&d, proto).unwrap();
            assert_eq!(lines[i]["pickle"], brine_codec::hex::encode(&want).as_str());
            i += 1;
        }
    }
    assert!(lines[12]["error"].as_str().unwrap().contains("protocol"));
    assert!(lines[13]["error"].as_str().unwrap().contains("JSON"));
}

#[test]
fn file_mode_writes_raw_bytes() {
    let dir = std::env::temp_dir().join(format!("brine-cli-encode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("doc.json");
    let d = &docs()[1];
    std::fs::write(&path, d.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_brine"))
        .args(["encode", "--protocol", "2", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, brine_codec::encode_document(d, 2).unwrap());
    let bad = Command::new(env!("CARGO_BIN_EXE_brine")).args(["encode", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
