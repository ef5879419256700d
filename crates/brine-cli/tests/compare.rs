//! `brine compare` end to end: JSON lines on stdout, a summary on stderr, the exit status.

use std::process::Command;

fn scratch() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("brine-cli-compare-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn compare_reports_each_file() {
    if std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty()) {
        return;
    }
    let d = scratch();
    let files = [
        ("list.pkl", &b"\x80\x04]\x94(K\x01\x8c\x01a\x94e."[..]),
        ("unknown_op.pkl", b"\xff"),      // C and Python raise different classes
        ("memo_bomb.pkl", b"N\x72\xff\xff\xff\x7f."), // poisoned, never run
    ];
    let mut args = vec!["compare".to_string()];
    for (name, bytes) in files {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        args.push(p.to_str().unwrap().to_string());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_brine")).args(&args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0]["interpreter"]["version"].as_str().unwrap().starts_with("3.11"));
    assert_eq!(lines[1]["codec_vs_c"]["verdict"], "same");
    assert_eq!(lines[2]["codec_vs_c"]["verdict"], "same-error");
    assert_eq!(lines[2]["c_vs_py"]["verdict"], "different-errors");
    assert!(lines[2]["c_vs_py"]["diff"].as_str().unwrap().contains("KeyError"));
    assert_eq!(lines[3]["codec_vs_c"]["verdict"], "poisoned");
    assert!(stderr.contains("C vs Python differences"), "{stderr}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn compare_needs_files() {
    let out = Command::new(env!("CARGO_BIN_EXE_brine")).arg("compare").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
