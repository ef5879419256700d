//! CPython 3.11 embedded through PyO3: the C unpickler (`_pickle`, the reference) and the
//! pure-Python `pickle._Unpickler` as engines, run inside scripts/brine_sandbox.py so that
//! nothing a pickle names is imported or called.
//!
//! The interpreter lives on one dedicated thread for the life of the process, and every
//! Python call is a job sent to it. That thread initializes the interpreter, so it is
//! Python's main thread and the sandbox's SIGALRM timeout works there (signals are only
//! handled on the main thread); it has a 1 GiB stack (reserved, not committed) because
//! CPython hashes nested tuples by plain C recursion; and it never contends for the GIL.
//! Initialization goes through `Py_InitializeFromConfig`, whose failure is a status rather
//! than an abort, so an interpreter that cannot start makes the engines `None`. The hash
//! seed is fixed at 0 (see [`initialize`]).
//!
//! Before CPython sees a pickle, [`crate::guard`] and the codec check it for inputs that
//! would make CPython allocate gigabytes or hang ([`CPython::decode`] does this itself;
//! [`CPython::decode_unguarded`] is for callers that already did).

use crate::engine::{parse_json, Codec, Engine, Outcome, PoisonKind};
use crate::guard::{self, Screen};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::ffi::CString;
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

const SANDBOX_SRC: &str = include_str!("../../../scripts/brine_sandbox.py");

/// The interpreter's identity, reported with every comparison.
#[derive(Clone, Debug)]
pub struct PythonInfo {
    /// `sys.version`.
    pub version: String,
    /// `sys.version_info[:3]`.
    pub version_info: (u32, u32, u32),
    /// `sys.executable` (what the embedded interpreter believes it is).
    pub executable: String,
    /// `sys.prefix`.
    pub prefix: String,
    /// `sys.base_prefix`.
    pub base_prefix: String,
    /// Where `_pickle` comes from (`"built-in"` when compiled in).
    pub c_pickle: String,
    /// Whether per-load timeouts work (the interpreter thread is Python's main thread).
    pub timeouts: bool,
    /// `sys.flags.hash_randomization == 0` (hash seed 0, as the conformance data was made).
    pub fixed_hash_seed: bool,
}

impl PythonInfo {
    /// As a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "version": self.version,
            "executable": self.executable,
            "prefix": self.prefix,
            "base_prefix": self.base_prefix,
            "_pickle": self.c_pickle,
            "timeouts": self.timeouts,
            "hash_seed_0": self.fixed_hash_seed,
        })
    }
}

/// The sandbox module's entry points, bound on the interpreter thread.
pub struct Sandbox {
    /// The `brine_sandbox` module.
    pub module: Py<PyModule>,
    loads_c: Py<PyAny>,
    loads_py: Py<PyAny>,
    genops_json: Py<PyAny>,
    dumps_json: Py<PyAny>,
}

type Job = Box<dyn for<'py> FnOnce(Python<'py>, &Sandbox) + Send>;

/// The embedded interpreter: a handle to its thread.
pub struct Interpreter {
    tx: mpsc::Sender<Job>,
    info: PythonInfo,
}

static INTERPRETER: OnceLock<Option<Interpreter>> = OnceLock::new();

/// The process's embedded interpreter, started on first use; `None` when it cannot start
/// (initialization failed, the sandbox did not load, or `BRINE_NO_CPYTHON` is set).
pub fn interpreter() -> Option<&'static Interpreter> {
    INTERPRETER.get_or_init(Interpreter::start).as_ref()
}

/// Initializes CPython on the current thread; false when it reported an error.
fn initialize() -> bool {
    use pyo3::ffi;
    // SAFETY: only called on the interpreter thread, once (guarded by INTERPRETER), before
    // any other use of the C API in this process; the config is initialized by CPython
    // and cleared after use. On success the thread state is released as PyO3 expects.
    unsafe {
        if ffi::Py_IsInitialized() != 0 {
            return true; // someone else embedded it: use theirs
        }
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::uninit();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        config.install_signal_handlers = 0;
        config.parse_argv = 0;
        // PYTHONHASHSEED=0, as scripts/gen_conformance.py runs CPython: set iteration order,
        // and so the bytes pickle.dumps writes for a set of strs, match the recorded data.
        config.use_hash_seed = 1;
        config.hash_seed = 0;
        // Path computation starts from the interpreter PyO3 was built against.
        if let Some(exe) = option_env!("PYO3_PYTHON").and_then(|p| CString::new(p).ok()) {
            let st = ffi::PyConfig_SetBytesString(&mut config, &mut config.program_name, exe.as_ptr());
            if ffi::PyStatus_Exception(st) != 0 {
                ffi::PyConfig_Clear(&mut config);
                return false;
            }
        }
        let st = ffi::Py_InitializeFromConfig(&config);
        ffi::PyConfig_Clear(&mut config);
        if ffi::PyStatus_Exception(st) != 0 {
            return false;
        }
        ffi::PyEval_SaveThread();
        true
    }
}

fn load_sandbox(py: Python<'_>) -> PyResult<(Sandbox, PythonInfo)> {
    let code = CString::new(SANDBOX_SRC).expect("sandbox source has no NUL");
    let module = PyModule::from_code(py, &code, c"brine_sandbox.py", c"brine_sandbox")?;
    let sys = py.import("sys")?;
    let vi: (u32, u32, u32, Bound<'_, PyAny>, Bound<'_, PyAny>) = sys.getattr("version_info")?.extract()?;
    let c_pickle = py.import("_pickle")?;
    let c_pickle = match c_pickle.getattr("__file__") {
        Ok(f) => f.extract::<String>()?,
        Err(_) => "built-in".to_string(),
    };
    // signal.signal only works on the main thread: probe it with a no-op re-install.
    let timeouts = py
        .run(c"import signal\nsignal.signal(signal.SIGALRM, signal.getsignal(signal.SIGALRM))", None, None)
        .is_ok();
    let info = PythonInfo {
        version: sys.getattr("version")?.extract()?,
        version_info: (vi.0, vi.1, vi.2),
        executable: sys.getattr("executable")?.extract()?,
        prefix: sys.getattr("prefix")?.extract()?,
        base_prefix: sys.getattr("base_prefix")?.extract()?,
        c_pickle,
        timeouts,
        fixed_hash_seed: sys.getattr("flags")?.getattr("hash_randomization")?.extract::<i64>()? == 0,
    };
    let f = |name: &str| module.getattr(name).map(|o| o.unbind());
    let sandbox = Sandbox {
        loads_c: f("loads_c")?,
        loads_py: f("loads_py")?,
        genops_json: f("genops_json")?,
        dumps_json: f("dumps_json")?,
        module: module.unbind(),
    };
    Ok((sandbox, info))
}

impl Interpreter {
    fn start() -> Option<Interpreter> {
        if std::env::var_os("BRINE_NO_CPYTHON").is_some_and(|v| !v.is_empty()) {
            return None;
        }
        let (tx, rx) = mpsc::channel::<Job>();
        let (info_tx, info_rx) = mpsc::sync_channel::<Option<PythonInfo>>(1);
        std::thread::Builder::new()
            .name("brine-cpython".into())
            .stack_size(1 << 30)
            .spawn(move || {
                if !initialize() {
                    let _ = info_tx.send(None);
                    return;
                }
                Python::attach(|py| {
                    let (sandbox, info) = match load_sandbox(py) {
                        Ok(x) => x,
                        Err(e) => {
                            eprintln!("brine-oracle: the CPython sandbox did not load: {e}");
                            let _ = info_tx.send(None);
                            return;
                        }
                    };
                    let _ = info_tx.send(Some(info));
                    // Hold the GIL for good; release it only while waiting for work.
                    let mut rx = rx;
                    loop {
                        // The receiver moves through detach: it is Send but not Sync.
                        let (back, job) = py.detach(move || {
                            let job = rx.recv();
                            (rx, job)
                        });
                        rx = back;
                        match job {
                            Ok(job) => job(py, &sandbox),
                            Err(_) => break,
                        }
                    }
                })
            })
            .ok()?;
        let info = info_rx.recv().ok()??;
        Some(Interpreter { tx, info })
    }

    /// Who the interpreter is.
    pub fn info(&self) -> &PythonInfo {
        &self.info
    }

    /// Registers copyreg extension codes (`copyreg.add_extension(module, name, code)`) in
    /// the embedded interpreter, so EXT1/2/4 resolve as they would after the same calls in
    /// a real program (the spec's default is an empty registry: call this only for runs
    /// whose codec side gets the same registry, `DecodeOptions::extensions`). A code already
    /// registered to the same pair is left alone.
    pub fn register_extensions(&self, ext: Vec<(i64, String, String)>) -> Result<(), String> {
        self.run(move |py, _sb| {
            let copyreg = py.import("copyreg").map_err(|e| e.to_string())?;
            for (code, module, name) in ext {
                copyreg.call_method1("add_extension", (module, name, code)).map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    }

    /// Runs `f` on the interpreter thread and returns its result. A panic in `f` is
    /// re-raised here; the interpreter thread survives it.
    pub fn run<R, F>(&self, f: F) -> R
    where
        R: Send + 'static,
        F: for<'py> FnOnce(Python<'py>, &Sandbox) -> R + Send + 'static,
    {
        let (rtx, rrx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |py, sb| {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(py, sb)));
            let _ = rtx.send(r);
        });
        self.tx.send(job).expect("the CPython thread is gone");
        match rrx.recv().expect("the CPython thread is gone") {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}

/// Which of CPython's unpicklers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unpickler {
    /// `_pickle.Unpickler`, what `pickle.loads` uses: the reference.
    C,
    /// `pickle._Unpickler`, the pure-Python one.
    Python,
}

impl Sandbox {
    /// Unpickles in the sandbox and converts the result (error nodes and exceptions
    /// included) to an [`Outcome`]. Runs on the interpreter thread: no guard here.
    pub fn loads(&self, py: Python<'_>, which: Unpickler, data: &[u8], buffers: Option<usize>, timeout: Option<f64>) -> Outcome {
        let f = match which {
            Unpickler::C => &self.loads_c,
            Unpickler::Python => &self.loads_py,
        };
        let r = f
            .bind(py)
            .call1((PyBytes::new(py, data), buffers.unwrap_or(0), timeout))
            .and_then(|node| self.dumps_json.bind(py).call1((node,)))
            .and_then(|s| s.extract::<String>());
        match r {
            Ok(text) => match parse_json(&text) {
                Ok(node) => Outcome::from_node(node),
                Err(e) => Outcome::Err { class: "brine-sandbox-json".into(), message: e },
            },
            Err(e) => exception_outcome(py, &e),
        }
    }

    /// pickletools.genops as pickle JSON.
    pub fn genops(&self, py: Python<'_>, data: &[u8]) -> Outcome {
        let r = self
            .genops_json
            .bind(py)
            .call1((PyBytes::new(py, data),))
            .and_then(|node| self.dumps_json.bind(py).call1((node,)))
            .and_then(|s| s.extract::<String>());
        match r {
            Ok(text) => match parse_json(&text) {
                Ok(j) => Outcome::Ok(j),
                Err(e) => Outcome::Err { class: "brine-sandbox-json".into(), message: e },
            },
            Err(e) => exception_outcome(py, &e),
        }
    }

    /// `dumps_json(node)` of any Python object the sandbox can convert, parsed.
    pub fn json_of(&self, py: Python<'_>, node: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
        let text: String = self.dumps_json.bind(py).call1((node,))?.extract()?;
        parse_json(&text).map_err(pyo3::exceptions::PyValueError::new_err)
    }
}

/// An exception escaping the sandbox itself: MemoryError and RecursionError are poisons;
/// anything else is a sandbox bug, reported under a class no unpickler raises so that it
/// shows up as a disagreement instead of hiding.
fn exception_outcome(py: Python<'_>, e: &PyErr) -> Outcome {
    let class = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    match Outcome::from_error_class(&class, &e.to_string()) {
        Outcome::Err { class, message } => Outcome::Err { class: format!("brine-sandbox {class}"), message },
        poison => poison,
    }
}

/// One of CPython's unpicklers as an engine.
pub struct CPython {
    interp: &'static Interpreter,
    which: Unpickler,
    guard: Codec,
    /// Per-load time limit (honoured when [`PythonInfo::timeouts`]) for inputs of at least
    /// [`TIMEOUT_MIN_INPUT`] bytes. Defaults to 20 s.
    pub timeout: Option<Duration>,
}

/// Inputs shorter than this load without a timeout. Once the guard has passed an input,
/// CPython's work is linear in it (the output graph is at most linear in the input, and the
/// superlinear cases are what the guard rejects), so a small input cannot approach any
/// timeout, and arming SIGALRM costs 6 us of a 35 us load.
pub const TIMEOUT_MIN_INPUT: usize = 16 << 10;

/// CPython's C unpickler (the reference) as an engine.
pub type CPythonC = CPython;
/// CPython's pure-Python unpickler as an engine.
pub type CPythonPy = CPython;

impl CPython {
    /// The C unpickler, or `None` when no interpreter can start.
    pub fn c() -> Option<CPython> {
        CPython::new(Unpickler::C)
    }

    /// The pure-Python unpickler, or `None` when no interpreter can start.
    pub fn python() -> Option<CPython> {
        CPython::new(Unpickler::Python)
    }

    /// The given unpickler, or `None` when no interpreter can start.
    pub fn new(which: Unpickler) -> Option<CPython> {
        Some(CPython { interp: interpreter()?, which, guard: Codec::new(), timeout: Some(Duration::from_secs(20)) })
    }

    /// Which unpickler.
    pub fn which(&self) -> Unpickler {
        self.which
    }

    /// The interpreter.
    pub fn interpreter(&self) -> &'static Interpreter {
        self.interp
    }

    fn timeout_secs(&self, len: usize) -> Option<f64> {
        self.timeout.filter(|_| self.interp.info.timeouts && len >= TIMEOUT_MIN_INPUT).map(|d| d.as_secs_f64())
    }

    /// Unpickles without the guard. The caller must have run [`crate::guard::prescan`] and
    /// the codec (see [`crate::differential::Differential`]), or CPython may allocate
    /// gigabytes or hang.
    pub fn decode_unguarded(&self, data: &[u8], buffers: Option<usize>) -> Outcome {
        let data = data.to_vec();
        let (which, timeout) = (self.which, self.timeout_secs(data.len()));
        self.interp.run(move |py, sb| sb.loads(py, which, &data, buffers, timeout))
    }

    /// Many loads in one trip to the interpreter thread (unguarded, as
    /// [`CPython::decode_unguarded`]): with `both`, the C and the Python unpickler each.
    /// A trip costs about 7 us, a fifth of a small load.
    pub fn decode_batch_unguarded(&self, inputs: Vec<(Vec<u8>, Option<usize>)>, both: bool) -> Vec<(Outcome, Option<Outcome>)> {
        let timeouts: Vec<Option<f64>> = inputs.iter().map(|(d, _)| self.timeout_secs(d.len())).collect();
        let first = if both { Unpickler::C } else { self.which };
        self.interp.run(move |py, sb| {
            inputs
                .iter()
                .zip(timeouts)
                .map(|((data, buffers), t)| {
                    let a = sb.loads(py, first, data, *buffers, t);
                    let b = both.then(|| sb.loads(py, Unpickler::Python, data, *buffers, t));
                    (a, b)
                })
                .collect()
        })
    }

    /// C and Python unpicklers in one trip to the interpreter thread (unguarded, as
    /// [`CPython::decode_unguarded`]).
    pub fn decode_both_unguarded(&self, data: &[u8], buffers: Option<usize>) -> (Outcome, Outcome) {
        let mut r = self.decode_batch_unguarded(vec![(data.to_vec(), buffers)], true);
        let (c, p) = r.pop().unwrap();
        (c, p.unwrap())
    }
}

impl Engine for CPython {
    fn name(&self) -> &'static str {
        match self.which {
            Unpickler::C => "cpython-c",
            Unpickler::Python => "cpython-py",
        }
    }

    fn decode(&self, data: &[u8], buffers: Option<usize>) -> Outcome {
        let raw = self.guard.decode_raw(data, buffers);
        match guard::screen(&self.guard, data, buffers, &raw) {
            Screen::Clear => self.decode_unguarded(data, buffers),
            Screen::Poisoned(p) => Outcome::Poisoned(p),
            Screen::Prefix(at, p) => guard::prefix_outcome(self.decode_unguarded(&data[..at], buffers), &p),
        }
    }

    fn genops(&self, data: &[u8]) -> Option<Outcome> {
        self.genops_batch(&[data]).pop()
    }
}

impl CPython {
    /// `pickletools.genops` of many pickles in one trip to the interpreter thread (a trip
    /// costs more than a small genops), with the same guard as [`Engine::genops`].
    pub fn genops_batch(&self, inputs: &[&[u8]]) -> Vec<Outcome> {
        let mut out: Vec<Option<Outcome>> = inputs
            .iter()
            .map(|d| guard::prescan(d, true).filter(|p| p.kind == PoisonKind::Time).map(Outcome::Poisoned))
            .collect();
        let todo: Vec<(usize, Vec<u8>)> =
            inputs.iter().enumerate().filter(|(i, _)| out[*i].is_none()).map(|(i, d)| (i, d.to_vec())).collect();
        let done = self.interp.run(move |py, sb| todo.into_iter().map(|(i, d)| (i, sb.genops(py, &d))).collect::<Vec<_>>());
        for (i, o) in done {
            out[i] = Some(o);
        }
        out.into_iter().map(|o| o.expect("every input answered")).collect()
    }
}
