//! The sandbox holds: classic code-execution payloads never run through the CPython engines.
//!
//! Each payload tries to create a canary file (or, for shutil.rmtree, to delete one) in a
//! fresh temp dir, through a different path into CPython's unpicklers: GLOBAL, STACK_GLOBAL,
//! INST, OBJ, REDUCE, BUILD (the `__setstate__` trick), NEWOBJ, EXT (after
//! copyreg.add_extension in the embedded interpreter), PERSID/BINPERSID, reaching
//! os.system, builtins.eval/exec, subprocess.Popen and shutil.rmtree. The sandboxed C and
//! Python engines must leave the canary alone. Each payload also has a control: a plain
//! `pickle.loads` of the same bytes in the same embedded interpreter (a naive
//! persistent_load for PERSID) must fire the canary, which proves the payload is live and
//! the test would fail if find_class resolved the real global.
#![cfg(feature = "cpython")]

use brine_oracle::cpython::{interpreter, CPython};
use brine_oracle::{Engine, Outcome};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// BRINE_NO_CPYTHON=1 turns the engines off on purpose: nothing to test then.
fn no_cpython() -> bool {
    std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty())
}

/// BINUNICODE: works at every protocol the C and Python unpicklers read.
fn s(text: &str) -> Vec<u8> {
    let mut v = vec![b'X'];
    v.extend_from_slice(&(text.len() as u32).to_le_bytes());
    v.extend_from_slice(text.as_bytes());
    v
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A fresh directory for one payload.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("brine-sandbox-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs Python statements on the interpreter thread with `data` bound to the payload.
fn py_exec(code: &str, data: &[u8]) -> Result<(), String> {
    let code = CString::new(code).unwrap();
    let data = data.to_vec();
    interpreter().expect("CPython").run(move |py, _sb| {
        let locals = PyDict::new(py);
        locals.set_item("data", PyBytes::new(py, &data)).map_err(|e| e.to_string())?;
        py.run(&code, Some(&locals), None).map_err(|e| e.to_string())
    })
}

/// What a payload does to the scratch dir when it runs.
#[derive(Clone, Copy)]
enum Effect {
    /// Creates `dir/canary`.
    Creates,
    /// Removes `dir/victim` (which holds a file).
    Removes,
}

struct Payload {
    name: &'static str,
    bytes: Vec<u8>,
    effect: Effect,
    /// Python run before (setup) and after (teardown) each load, sandboxed or not.
    setup: &'static str,
    teardown: &'static str,
    /// The control load (default: plain pickle.loads).
    control: &'static str,
}

const PLAIN: &str = "import pickle\ntry:\n    r = pickle.loads(data)\n    getattr(r, 'wait', lambda: None)()\nexcept Exception:\n    pass\n";

fn payloads(dir: &Path) -> Vec<Payload> {
    let canary = dir.join("canary");
    let canary = canary.to_str().unwrap();
    let victim = dir.join("victim");
    let victim = victim.to_str().unwrap();
    let cmd = format!("touch {canary}");
    let eval_src = format!("__import__('os').system('touch {canary}')");
    let exec_src = format!("import os\nos.system('touch {canary}')");
    // (None, {'__setstate__': os.system}) then BUILD with the command: the instance's
    // __setstate__ attribute is os.system, and the second BUILD calls it.
    let setstate_trick = cat(&[b"N}", &s("__setstate__"), b"cos\nsystem\ns\x86b", &s(&cmd), b"b."]);
    let p = |name, bytes, effect| Payload { name, bytes, effect, setup: "", teardown: "", control: PLAIN };
    vec![
        p("global_reduce_os_system", cat(&[b"cos\nsystem\n(", &s(&cmd), b"tR."]), Effect::Creates),
        p("global_posix_system", cat(&[b"cposix\nsystem\n(", &s(&cmd), b"tR."]), Effect::Creates),
        p(
            "stack_global_builtins_eval",
            cat(&[b"\x80\x04", &s("builtins"), &s("eval"), b"\x93", &s(&eval_src), b"\x85R."]),
            Effect::Creates,
        ),
        p("global_fix_imports_exec", cat(&[b"\x80\x02c__builtin__\nexec\n", &s(&exec_src), b"\x85R."]), Effect::Creates),
        p("inst_os_system", cat(&[b"(", &s(&cmd), b"ios\nsystem\n."]), Effect::Creates),
        p("obj_os_system", cat(&[b"(cos\nsystem\n", &s(&cmd), b"o."]), Effect::Creates),
        p(
            "reduce_subprocess_popen",
            cat(&[b"csubprocess\nPopen\n((", &s("touch"), &s(canary), b"ttR."]),
            Effect::Creates,
        ),
        p("reduce_shutil_rmtree", cat(&[b"cshutil\nrmtree\n(", &s(victim), b"tR."]), Effect::Removes),
        p("build_setstate_trick", cat(&[b"ctypes\nSimpleNamespace\n)R", &setstate_trick]), Effect::Creates),
        p("newobj_then_build", cat(&[b"\x80\x02ctypes\nSimpleNamespace\n)\x81", &setstate_trick]), Effect::Creates),
        p(
            "newobj_ex_then_build",
            cat(&[b"\x80\x04", &s("types"), &s("SimpleNamespace"), b"\x93)}\x92", &setstate_trick]),
            Effect::Creates,
        ),
        Payload {
            name: "ext1_registered_os_system",
            bytes: cat(&[b"\x80\x02\x82\xf0", &s(&cmd), b"\x85R."]),
            effect: Effect::Creates,
            setup: "import copyreg\ncopyreg.add_extension('os', 'system', 240)\n",
            teardown: "import copyreg\ncopyreg.remove_extension('os', 'system', 240)\n",
            control: PLAIN,
        },
        Payload {
            name: "ext2_registered_builtins_eval",
            bytes: cat(&[b"\x80\x02\x83\x39\x30", &s(&eval_src), b"\x85R."]),
            effect: Effect::Creates,
            setup: "import copyreg\ncopyreg.add_extension('builtins', 'eval', 12345)\n",
            teardown: "import copyreg\ncopyreg.remove_extension('builtins', 'eval', 12345)\n",
            control: PLAIN,
        },
        // The pid is os.system's result: the call happens before persistent_load.
        p("binpersid_of_reduce", cat(&[b"cos\nsystem\n(", &s(&cmd), b"tRQ."]), Effect::Creates),
        // A text pid handed to a naive persistent_load that runs it.
        Payload {
            name: "persid_naive_persistent_load",
            bytes: format!("P{cmd}\n.").into_bytes(),
            effect: Effect::Creates,
            setup: "",
            teardown: "",
            control: "import pickle, io, os\nclass U(pickle.Unpickler):\n    def persistent_load(self, pid):\n        return os.system(pid)\nU(io.BytesIO(data)).load()\n",
        },
    ]
}

fn prepare(dir: &Path, effect: Effect) {
    let _ = std::fs::remove_file(dir.join("canary"));
    if let Effect::Removes = effect {
        std::fs::create_dir_all(dir.join("victim")).unwrap();
        std::fs::write(dir.join("victim/keep"), b"x").unwrap();
    }
}

/// Whether the payload's effect happened (waiting up to `wait` for an asynchronous one).
fn fired(dir: &Path, effect: Effect, wait: Duration) -> bool {
    let t = Instant::now();
    loop {
        let f = match effect {
            Effect::Creates => dir.join("canary").exists(),
            Effect::Removes => !dir.join("victim/keep").exists(),
        };
        if f || t.elapsed() >= wait {
            return f;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The tests share one interpreter and its copyreg registry: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn payloads_never_run_in_the_sandbox() {
    if no_cpython() {
        return;
    }
    let _g = serial();
    let engines = [CPython::c().expect("CPython C"), CPython::python().expect("CPython Python")];
    let dir = scratch("sandboxed");
    for p in payloads(&dir) {
        for e in &engines {
            prepare(&dir, p.effect);
            py_exec(p.setup, b"").unwrap();
            let out = e.decode(&p.bytes, None);
            py_exec(p.teardown, b"").unwrap();
            // A spawned process would need a moment; everything else is synchronous.
            let wait = Duration::from_millis(if p.name.contains("popen") { 500 } else { 20 });
            assert!(!fired(&dir, p.effect, wait), "{} ran through {}: {out:?}", p.name, e.name());
            // The call is recorded, not made.
            match &out {
                Outcome::Ok(_) => {}
                Outcome::Err { class, message } => {
                    panic!("{} through {}: {class}: {message}", p.name, e.name())
                }
                Outcome::Poisoned(x) => panic!("{} through {}: poisoned {x}", p.name, e.name()),
                other => panic!("{} through {}: {other:?}", p.name, e.name()),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sandboxed_documents_name_the_globals() {
    if no_cpython() {
        return;
    }
    let _g = serial();
    let c = CPython::c().unwrap();
    let dir = scratch("names");
    let ps = payloads(&dir);
    let doc = |name: &str| match c.decode(&ps.iter().find(|p| p.name == name).unwrap().bytes, None) {
        Outcome::Ok(d) => d.to_string(),
        o => panic!("{o:?}"),
    };
    assert!(doc("global_reduce_os_system").contains(r#"{"t":"global","module":"os","name":"system"}"#));
    assert!(doc("stack_global_builtins_eval").contains(r#""module":"builtins","name":"eval""#));
    assert!(doc("global_fix_imports_exec").contains(r#""module":"builtins","name":"exec""#));
    assert!(doc("reduce_subprocess_popen").contains(r#""module":"subprocess","name":"Popen""#));
    assert!(doc("persid_naive_persistent_load").contains(r#""persid""#));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn payloads_run_without_the_sandbox() {
    if no_cpython() {
        return;
    }
    let _g = serial();
    // Controls: the same bytes through a plain pickle.loads in the same interpreter.
    let dir = scratch("control");
    for p in payloads(&dir) {
        prepare(&dir, p.effect);
        py_exec(p.setup, b"").unwrap();
        let r = py_exec(p.control, &p.bytes);
        py_exec(p.teardown, b"").unwrap();
        assert!(fired(&dir, p.effect, Duration::from_secs(10)), "control {} did not fire ({r:?})", p.name);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
